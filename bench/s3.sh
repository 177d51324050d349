#!/usr/bin/env bash
# bench/s3.sh: parity-init's S3 data plane against the AWS CLI and a plain-curl ceiling, side
# by side in one run, on the SigV4-verifying S3 fake (tests/servers/s3.js) on 127.0.0.1:
#   download: one channel (one BIG_MIB object + SMALL_COUNT objects of SMALL_KIB) with
#             parity-init's input channel, `aws s3 cp --recursive`, and curl with many
#             parallel signed GETs (the big object as RANGE_MIB byte ranges);
#   upload:   a model folder (one MODEL_MIB file + a few small ones) with parity-init's
#             "output" (packed into model.tar.gz, then uploaded) and `aws s3 cp --recursive`,
#             plus tar | gzip -6 alone for the packing cost.
# See bench/README.md for what it measures and how to read the output.
#
# Environment (all optional):
#   BIG_MIB=512 SMALL_COUNT=512 SMALL_KIB=1024   the download channel
#   MODEL_MIB=512                the model folder's big file (plus 4 small files)
#   ROUNDS=3                     measured rounds; each round runs every client once, the
#                                order rotating; the table shows medians (peak RSS: maximum)
#   CURL_MODE=parallel           parallel: one `curl --parallel` process; xargs: one curl per
#                                object or range, `xargs -P CURL_PARALLEL`
#   CURL_PARALLEL=16 RANGE_MIB=8 curl's transfers at a time / byte-range size of the big object
#   PARITY_S3_CONCURRENCY=       passed to parity-init when set (its default is 16)
#   TIMEOUT_S=900                deadline for each timed transfer
#   PARITY_INIT=build/parity-init   the binary under test (copied to scratch first)
#   TARGET_CLI_RATIO=2 TARGET_CEILING=0.8 TARGET_RSS_MIB=64   the targets
#   OUT=bench/results/s3-<date>.txt   the report (the table, the configuration, the versions)
#
# Prints a table and PASS/FAIL against the targets; exits 0 whatever the verdicts,
# non-zero only if something could not be run, measured or verified.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

BENCH_NAME=bench/s3.sh
# shellcheck source=bench/lib.sh disable=SC1091 # (followed with shellcheck -x)
source bench/lib.sh

PARITY_INIT=${PARITY_INIT:-build/parity-init}
ensure_built PARITY_INIT

# Debian's AWS CLI, curl, GNU time and Node.js (the fake's npm packages: ci/node-deps.sh).
ensure_installed /usr/bin/aws=awscli /usr/bin/curl=curl /usr/bin/time=time \
    /usr/bin/python3=python3 /usr/bin/node=nodejs /usr/bin/npm=npm /usr/bin/timeout=coreutils

BIG_MIB=${BIG_MIB:-512} SMALL_COUNT=${SMALL_COUNT:-512} SMALL_KIB=${SMALL_KIB:-1024}
MODEL_MIB=${MODEL_MIB:-512} ROUNDS=${ROUNDS:-3} TIMEOUT_S=${TIMEOUT_S:-900}
CURL_MODE=${CURL_MODE:-parallel} CURL_PARALLEL=${CURL_PARALLEL:-16} RANGE_MIB=${RANGE_MIB:-8}
TARGET_CLI_RATIO=${TARGET_CLI_RATIO:-2} TARGET_CEILING=${TARGET_CEILING:-0.8}
TARGET_RSS_MIB=${TARGET_RSS_MIB:-64}
OUT=${OUT:-bench/results/s3-$(date +%Y%m%d-%H%M%S).txt}
CONCURRENCY=${PARITY_S3_CONCURRENCY:-}
BUCKET=parity-bench

for v in BIG_MIB SMALL_COUNT SMALL_KIB MODEL_MIB ROUNDS TIMEOUT_S CURL_PARALLEL RANGE_MIB; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v=${!v}: want a whole number"
done
((BIG_MIB + SMALL_COUNT * SMALL_KIB > 0)) || die "the channel is empty (BIG_MIB=0, SMALL_COUNT=0)"
((SMALL_COUNT <= 99999)) || die "SMALL_COUNT=$SMALL_COUNT: at most 99999"
((ROUNDS >= 1 && TIMEOUT_S >= 1 && CURL_PARALLEL >= 1 && RANGE_MIB >= 1)) ||
    die "ROUNDS, TIMEOUT_S, CURL_PARALLEL and RANGE_MIB must be at least 1"
[[ $CURL_MODE == parallel || $CURL_MODE == xargs ]] || die "CURL_MODE=$CURL_MODE: parallel or xargs"
[[ -z $CONCURRENCY || $CONCURRENCY =~ ^[0-9]+$ ]] ||
    die "PARITY_S3_CONCURRENCY=$CONCURRENCY: want a whole number"
mkdir -p "$(dirname "$OUT")"

# ------------------------------------------------------------------ scratch, server, cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/parity-s3bench.XXXXXX")
SRV_PID='' JOB_PID=''

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    # The running transfer: `timeout` leads its own process group.
    if [[ -n $JOB_PID ]] && kill -0 "$JOB_PID" 2>/dev/null; then
        kill -KILL -- "-$JOB_PID" 2>/dev/null || kill -KILL "$JOB_PID" 2>/dev/null || true
    fi
    if [[ -n $SRV_PID ]] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SRV_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A copy of the binary, so a rebuild during the run does not change what is measured.
cp "$PARITY_INIT" "$WORK/parity-init"
PARITY=$WORK/parity-init

NODE_MODULES=$(bash ci/node-deps.sh | tail -n 1) || die "ci/node-deps.sh failed"
[[ -d $NODE_MODULES/@20minutes/s3rver ]] || die "no s3rver under $NODE_MODULES"

# A static key pair the fake accepts (tests/servers/common.py static_keys()).
read -r AK SK < <(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import common
print(*common.static_keys())' "$ROOT/tests/servers") || true
[[ -n ${AK:-} && -n ${SK:-} ]] || die "could not derive a key pair from tests/servers/common.py"

mkdir -p "$WORK/s3data" "$WORK/home"
NODE_PATH=$NODE_MODULES node tests/servers/s3.js --dir "$WORK/s3data" --log "$WORK/s3.log" \
    --bucket "$BUCKET" >"$WORK/s3.out" 2>"$WORK/s3.err" </dev/null &
SRV_PID=$!
PORT=
for _ in $(seq 300); do
    PORT=$(sed -n 's/^ready port=\([0-9][0-9]*\)$/\1/p' "$WORK/s3.out")
    [[ -z $PORT ]] || break
    kill -0 "$SRV_PID" 2>/dev/null || die "the S3 fake exited: $(tail -c 2000 "$WORK/s3.err")"
    sleep 0.1
done
[[ -n $PORT ]] || die "the S3 fake did not say 'ready' within 30 s"
ENDPOINT=http://127.0.0.1:$PORT

CLK_TCK=$(getconf CLK_TCK)
BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The AWS CLI with nothing but these keys, no config file, no instance metadata: only loopback.
AWS=(env -i "PATH=$BASE_PATH" "HOME=$WORK/home" "AWS_ACCESS_KEY_ID=$AK"
    "AWS_SECRET_ACCESS_KEY=$SK" AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
    AWS_PAGER= /usr/bin/aws --endpoint-url "$ENDPOINT" --no-cli-pager)

# ------------------------------------------------------------------ helpers
# The server's CPU time so far, in seconds.
server_cpu() {
    local f
    read -ra f < <(sed 's/.*) //' "/proc/$SRV_PID/stat")
    awk -v u="${f[11]}" -v s="${f[12]}" -v t="$CLK_TCK" 'BEGIN { printf "%.3f", (u + s) / t }'
}

# measure NAME CMD...: runs CMD under timeout and GNU time, stdout and stderr to
# $WORK/NAME.out and .err; sets M_WALL M_CPU M_RSS_KIB M_SRV_CPU M_REQS. Dies if CMD fails.
measure() {
    local name=$1 t0 t1 s0 s1 r0 r1 rc=0 tf line
    shift
    tf=$WORK/$name.time
    kill -0 "$SRV_PID" 2>/dev/null || die "the S3 fake is gone: $(tail -c 2000 "$WORK/s3.err")"
    sync
    r0=$(wc -l <"$WORK/s3.log")
    s0=$(server_cpu)
    t0=$EPOCHREALTIME
    timeout --kill-after=10 "$TIMEOUT_S" /usr/bin/time -o "$tf" -f 'TIME %e %U %S %M' "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
    JOB_PID=$!
    wait "$JOB_PID" || rc=$?
    t1=$EPOCHREALTIME
    JOB_PID=
    s1=$(server_cpu)
    r1=$(wc -l <"$WORK/s3.log")
    if ((rc != 0)); then
        ((rc != 124)) || die "$name: still running after TIMEOUT_S=$TIMEOUT_S s"
        die "$name: exit status $rc: $*"$'\n'"$(tail -c 3000 "$WORK/$name.err")"
    fi
    line=$(grep '^TIME ' "$tf") || die "$name: no figures from /usr/bin/time"
    read -r M_CPU M_RSS_KIB < <(awk '{ printf "%.3f %s\n", $3 + $4, $5 }' <<<"$line")
    M_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    M_SRV_CPU=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", b - a }')
    M_REQS=$((r1 - r0))
}

# manifest DIR: "sha256  ./path" of every file under DIR, sorted.
manifest() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# record TOOL: appends the last measurement to $WORK/results (one line per run).
record() {
    printf '%s %s %s %s %s %s\n' "$1" "$M_WALL" "$M_CPU" "$M_RSS_KIB" "$M_SRV_CPU" "$M_REQS" \
        >>"$WORK/results"
}

# A fresh job root for parity-init, with the job config for this run.
parity_env() {
    local spec=$1
    PENV=(env -i "PATH=$BASE_PATH" "PARITY_JOB_CONFIG=$spec" "AWS_ACCESS_KEY_ID=$AK"
        "AWS_SECRET_ACCESS_KEY=$SK" AWS_REGION=us-east-1 "AWS_ENDPOINT_URL_S3=$ENDPOINT"
        PARITY_LOG_LEVEL=info)
    [[ -z $CONCURRENCY ]] || PENV+=("PARITY_S3_CONCURRENCY=$CONCURRENCY")
}

# ------------------------------------------------------------------ the data
MIB=1048576
SRC=$WORK/src/channel
mkdir -p "$SRC" "$WORK/dl"
echo "$BENCH_NAME: writing the channel ($BIG_MIB MiB + $SMALL_COUNT x $SMALL_KIB KiB of random bytes)" >&2
((BIG_MIB == 0)) || head -c $((BIG_MIB * MIB)) /dev/urandom >"$SRC/big.bin"
if ((SMALL_COUNT > 0)); then
    mkdir -p "$SRC/small"
    head -c $((SMALL_COUNT * SMALL_KIB * 1024)) /dev/urandom |
        split -b $((SMALL_KIB * 1024)) -a 5 -d --additional-suffix=.bin - "$SRC/small/part-"
fi
CHANNEL_BYTES=$(find "$SRC" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
CHANNEL_OBJECTS=$(find "$SRC" -type f | wc -l)
manifest "$SRC" >"$WORK/channel.manifest"
BIG_SHA256=$(sed -n 's|^\([0-9a-f]*\)  \./big\.bin$|\1|p' "$WORK/channel.manifest")

echo "$BENCH_NAME: uploading it to $ENDPOINT/$BUCKET/channel/ with the AWS CLI" >&2
measure setup-upload "${AWS[@]}" s3 cp --recursive --only-show-errors "$SRC" "s3://$BUCKET/channel/"
SETUP_WALL=$M_WALL

# The model folder: one big file and a few small ones, incompressible (gzip costs CPU, not size).
MODEL_ROOT=$WORK/up-root
MODEL=$MODEL_ROOT/model
mkdir -p "$MODEL/tokenizer"
head -c $((MODEL_MIB * MIB)) /dev/urandom >"$MODEL/weights.bin"
printf '{"architecture": "bench", "hidden": 4096, "layers": 32}\n' >"$MODEL/config.json"
head -c 65536 /dev/urandom >"$MODEL/tokenizer/vocab.bin"
head -c $MIB /dev/urandom >"$MODEL/tokenizer/merges.bin"
printf 'bench model\n' >"$MODEL/README"
MODEL_BYTES=$(find "$MODEL" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
MODEL_FILES=$(find "$MODEL" -type f | wc -l)

# curl's transfers: the big object in RANGE_MIB ranges (one part file each), every small object.
# Lines: RANGE|- URL FILE. Part files are named so that `cat big.bin.part-*` joins them in order.
CURL_JOBS=$WORK/curl.jobs
: >"$CURL_JOBS"
if ((BIG_MIB > 0)); then
    big=$((BIG_MIB * MIB)) step=$((RANGE_MIB * MIB)) i=0
    for ((off = 0; off < big; off += step)); do
        end=$((off + step - 1 < big - 1 ? off + step - 1 : big - 1))
        printf '%s-%s %s %s\n' "$off" "$end" "$ENDPOINT/$BUCKET/channel/big.bin" \
            "big.bin.part-$(printf '%06d' "$i")" >>"$CURL_JOBS"
        i=$((i + 1))
    done
fi
if ((SMALL_COUNT > 0)); then
    for f in "$SRC"/small/*; do
        printf -- '- %s %s\n' "$ENDPOINT/$BUCKET/channel/small/${f##*/}" "small/${f##*/}" \
            >>"$CURL_JOBS"
    done
fi
CURL_TRANSFERS=$(wc -l <"$CURL_JOBS")

# curl_run DEST: every transfer of CURL_JOBS into DEST (whose small/ folder exists).
CURL_OPTS=(--silent --show-error --fail --noproxy '*' --aws-sigv4 "aws:amz:us-east-1:s3"
    --user "$AK:$SK" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
write_curl_config() {
    local dest=$1 range url file first=1
    while read -r range url file; do
        ((first)) || echo next
        first=0
        printf 'url = "%s"\noutput = "%s"\n' "$url" "$dest/$file"
        [[ $range == - ]] || printf 'range = "%s"\n' "$range"
        printf 'aws-sigv4 = "aws:amz:us-east-1:s3"\nuser = "%s:%s"\n' "$AK" "$SK"
        printf 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\nfail\nnoproxy = "*"\n'
    done <"$CURL_JOBS"
}
cat >"$WORK/curl-one.sh" <<'SH'
#!/bin/sh
# curl-one.sh DEST RANGE|- URL FILE (the credentials in CURL_USER)
dest=$1 range=$2 url=$3 file=$4
set -- --silent --show-error --fail --noproxy '*' --aws-sigv4 aws:amz:us-east-1:s3 \
    --user "$CURL_USER" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -o "$dest/$file"
if [ "$range" = - ]; then exec curl "$@" "$url"; fi
exec curl "$@" -r "$range" "$url"
SH
chmod +x "$WORK/curl-one.sh"

# ------------------------------------------------------------------ the clients
download() {
    local tool=$1 round=$2 dest=$WORK/dl/$1
    rm -rf "$dest"
    case $tool in
    parity)
        mkdir -p "$dest"
        parity_env '{"apiVersion":"parity/v1","name":"bench","inputs":{"train":"s3://'"$BUCKET"'/channel/"}}'
        measure "dl-parity-$round" "${PENV[@]}" "$PARITY" --platform local --root "$dest" -- /bin/true
        grep -o 'materialize: done duration_ms=[0-9]*' "$WORK/dl-parity-$round.err" |
            sed 's/.*=//' >>"$WORK/materialize_ms" || true
        ;;
    aws)
        measure "dl-aws-$round" "${AWS[@]}" s3 cp --recursive --only-show-errors \
            "s3://$BUCKET/channel/" "$dest"
        ;;
    curl)
        mkdir -p "$dest"
        ((SMALL_COUNT == 0)) || mkdir -p "$dest/small"
        if [[ $CURL_MODE == parallel ]]; then
            write_curl_config "$dest" >"$WORK/curl.config"
            measure "dl-curl-$round" curl --parallel --parallel-max "$CURL_PARALLEL" \
                --silent --show-error -K "$WORK/curl.config"
        else
            measure "dl-curl-$round" env "CURL_USER=$AK:$SK" xargs -P "$CURL_PARALLEL" -L 1 \
                -a "$CURL_JOBS" "$WORK/curl-one.sh" "$dest"
        fi
        ;;
    esac
    if ((round > 0)); then
        record "dl-$tool"
        verify_download "$tool" "$dest"
    fi
    # Deleted at once, by every client: each timed download starts right after one was deleted
    # (see "Page cache" in bench/README.md for why that matters on this VM; measure syncs).
    rm -rf "$dest"
}

# The download must be the channel, byte for byte, and nothing else (no partial files either):
# its manifest is the channel's. Checksums instead of a kept reference copy, so that no client's
# download stays in the page cache to change the memory the next one starts with.
verify_download() {
    local tool=$1 dest=$2 got
    case $tool in
    parity) dest=$dest/input/data/train ;;
    curl)
        if ((BIG_MIB > 0)); then
            got=$(cat "$dest"/big.bin.part-* | sha256sum | cut -d' ' -f1)
            [[ $got == "$BIG_SHA256" ]] || die "curl's ranges of big.bin do not join into the object"
            rm -f "$dest"/big.bin.part-*
            printf '%s  ./big.bin\n' "$got" >"$WORK/big.manifest"
        fi
        ;;
    esac
    got=$(
        manifest "$dest"
        if [[ $tool == curl ]] && ((BIG_MIB > 0)); then cat "$WORK/big.manifest"; fi
    )
    [[ $(sort <<<"$got") == "$(sort "$WORK/channel.manifest")" ]] ||
        die "$tool's download is not the channel:"$'\n'"$(diff <(sort "$WORK/channel.manifest") <(sort <<<"$got") | head -n 20)"
}

upload() {
    local tool=$1 round=$2 obj
    case $tool in
    parity)
        rm -rf "$MODEL_ROOT/input" "$MODEL_ROOT/output"
        parity_env '{"apiVersion":"parity/v1","name":"bench-'"$round"'","inputs":{},"output":"s3://'"$BUCKET"'/out"}'
        measure "up-parity-$round" "${PENV[@]}" "$PARITY" --platform local --root "$MODEL_ROOT" -- /bin/true
        grep -q 'finish: uploaded' "$WORK/up-parity-$round.err" ||
            die "parity-init did not log its upload:"$'\n'"$(tail -c 2000 "$WORK/up-parity-$round.err")"
        record up-parity
        # What landed must unpack into the model folder.
        obj=$WORK/model-$round.tar.gz
        curl "${CURL_OPTS[@]}" -o "$obj" "$ENDPOINT/$BUCKET/out/bench-$round/output/model.tar.gz" ||
            die "could not fetch model.tar.gz back"
        stat -c %s "$obj" >>"$WORK/model_targz_bytes"
        rm -rf "$WORK/unpacked"
        mkdir -p "$WORK/unpacked"
        tar -xzf "$obj" -C "$WORK/unpacked" || die "model.tar.gz does not unpack"
        diff -rq "$MODEL" "$WORK/unpacked" >&2 || die "model.tar.gz does not hold the model folder"
        rm -rf "$WORK/unpacked" "$obj"
        ;;
    aws)
        measure "up-aws-$round" "${AWS[@]}" s3 cp --recursive --only-show-errors "$MODEL" \
            "s3://$BUCKET/cli-model-$round/"
        record up-aws
        ;;
    pack)
        # shellcheck disable=SC2016 # the inner shell expands them
        measure "up-pack-$round" sh -c 'tar -C "$1" -cf - . | gzip -6 >"$2"' sh "$MODEL" \
            "$WORK/pack.tar.gz"
        record up-pack
        rm -f "$WORK/pack.tar.gz"
        ;;
    esac
}

# ------------------------------------------------------------------ the runs
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$WORK/results"
: >"$WORK/materialize_ms"
: >"$WORK/model_targz_bytes"
DL_TOOLS=(aws parity curl)
UP_TOOLS=(parity aws pack)
# A warm-up download, not timed: the server's first requests, and the first downloaded bytes
# of the run, are paid by none of the clients.
echo "$BENCH_NAME: warm-up download with curl (not timed)" >&2
download curl 0
for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < 3; k++)); do
        t=${DL_TOOLS[$(((k + r - 1) % 3))]}
        echo "$BENCH_NAME: round $r/$ROUNDS: download with $t" >&2
        download "$t" "$r"
    done
    for ((k = 0; k < 3; k++)); do
        t=${UP_TOOLS[$(((k + r - 1) % 3))]}
        echo "$BENCH_NAME: round $r/$ROUNDS: upload with $t" >&2
        upload "$t" "$r"
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
PARITY_LOG_SAMPLE=$(grep -h 'materialize: done.*objects=\|finish: uploaded' "$WORK"/dl-parity-1.err \
    "$WORK"/up-parity-1.err || true)

# ------------------------------------------------------------------ the report
# stat_of TOOL FIELD: the median over the rounds (FIELD 2 wall, 3 CPU, 5 server CPU, 6 requests),
# or the maximum for FIELD 4 (peak RSS in KiB).
stat_of() {
    awk -v t="$1" -v f="$2" '$1 == t { print $f }' "$WORK/results" | sort -g |
        awk -v f="$2" '{ v[NR] = $1 } END {
            if (!NR) { print "nan"; exit }
            if (f == 4) { print v[NR]; exit }
            print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mibps() { awk -v b="$1" -v w="$2" 'BEGIN { printf "%.1f", (w > 0 ? b / 1048576 / w : 0) }'; }
row() { # LABEL TOOL BYTES
    local w
    w=$(stat_of "$2" 2)
    printf '  %-44s %8.2f %9s %8.2f %8.2f %9.1f %6.0f\n' "$1" "$w" "$(mibps "$3" "$w")" \
        "$(stat_of "$2" 3)" "$(stat_of "$2" 5)" \
        "$(awk -v k="$(stat_of "$2" 4)" 'BEGIN { print k / 1024 }')" "$(stat_of "$2" 6)"
}
verdict() { # OK LABEL
    if [[ $1 == 1 ]]; then printf '  PASS  %s\n' "$2"; else printf '  FAIL  %s\n' "$2"; fi
}
median_file() {
    sort -g "$1" | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else print v[int((NR + 1) / 2)] }'
}

PW=$(stat_of dl-parity 2) AW=$(stat_of dl-aws 2) CW=$(stat_of dl-curl 2)
CLI_RATIO=$(awk -v p="$PW" -v a="$AW" 'BEGIN { printf "%.2f", a / p }')
CEIL_RATIO=$(awk -v p="$PW" -v c="$CW" 'BEGIN { printf "%.2f", c / p }')
RSS_DL=$(awk -v k="$(stat_of dl-parity 4)" 'BEGIN { printf "%.1f", k / 1024 }')
RSS_UP=$(awk -v k="$(stat_of up-parity 4)" 'BEGIN { printf "%.1f", k / 1024 }')
ok() { awk "BEGIN { v = ($1) ? 1 : 0; print v }"; }
TARGZ=$(median_file "$WORK/model_targz_bytes")
header=$(printf '  %-44s %8s %9s %8s %8s %9s %6s' client 'wall s' 'MiB/s' 'cli CPU' 'srv CPU' \
    'peak RSS' 'reqs')

{
    printf '%s: %s, %s CPUs, load avg %s before, %s after\n' "$BENCH_NAME" "$(date -Is)" \
        "$(nproc)" "$LOAD_BEFORE" "$LOAD_AFTER"
    printf 'server: tests/servers/s3.js (@20minutes/s3rver 4.0.4, SigV4-verifying, node %s) on %s\n' \
        "$(node --version)" "$ENDPOINT"
    printf 'parity-init: %s (git %s)\n' "$("$PARITY" --version 2>&1 | head -n 1)" \
        "$(git describe --always --dirty 2>/dev/null || echo '?')"
    printf 'aws: %s\ncurl: %s\n' "$("${AWS[@]}" --version 2>&1 | head -n 1)" \
        "$(curl --version | head -n 1 | cut -d' ' -f1-2)"
    printf 'rounds: %s (medians; peak RSS is the maximum), CPU in seconds (user+sys), RSS in MiB\n' "$ROUNDS"
    echo
    printf 'download: %s objects, %.1f MiB (%s x %s MiB + %s x %s KiB); setup upload took %.1f s\n' \
        "$CHANNEL_OBJECTS" "$(awk -v b="$CHANNEL_BYTES" 'BEGIN { print b / 1048576 }')" \
        "$((BIG_MIB > 0 ? 1 : 0))" "$BIG_MIB" "$SMALL_COUNT" "$SMALL_KIB" "$SETUP_WALL"
    echo "$header"
    row "parity-init (PARITY_S3_CONCURRENCY=${CONCURRENCY:-default})" dl-parity "$CHANNEL_BYTES"
    row "aws s3 cp --recursive (CLI defaults)" dl-aws "$CHANNEL_BYTES"
    if [[ $CURL_MODE == parallel ]]; then
        row "curl --parallel-max $CURL_PARALLEL, $RANGE_MIB MiB ranges" dl-curl "$CHANNEL_BYTES"
    else
        row "xargs -P $CURL_PARALLEL curl, $RANGE_MIB MiB ranges" dl-curl "$CHANNEL_BYTES"
    fi
    printf '  parity-init materialize phase: %s ms (median); curl: %s transfers\n' \
        "$(median_file "$WORK/materialize_ms")" "$CURL_TRANSFERS"
    printf '  checks: every download (curl'"'"'s ranges joined) has the channel'"'"'s SHA-256 manifest\n'
    echo
    printf 'upload: model folder, %s files, %.1f MiB (one %s MiB file, random bytes); model.tar.gz %.1f MiB\n' \
        "$MODEL_FILES" "$(awk -v b="$MODEL_BYTES" 'BEGIN { print b / 1048576 }')" "$MODEL_MIB" \
        "$(awk -v b="$TARGZ" 'BEGIN { print b / 1048576 }')"
    echo "$header"
    row "parity-init output (pack + PUT model.tar.gz)" up-parity "$MODEL_BYTES"
    row "aws s3 cp --recursive (CLI defaults)" up-aws "$MODEL_BYTES"
    row "tar | gzip -6 alone, to local disk" up-pack "$MODEL_BYTES"
    printf '  MiB/s: of the folder'"'"'s bytes; checks: model.tar.gz fetched back unpacks to the folder\n'
    echo
    echo 'targets:'
    verdict "$(ok "$AW / $PW >= $TARGET_CLI_RATIO")" \
        "download: parity-init throughput / AWS CLI's: ${CLI_RATIO}x (target >= ${TARGET_CLI_RATIO}x)"
    verdict "$(ok "$CW / $PW >= $TARGET_CEILING")" \
        "download: parity-init throughput / curl ceiling: ${CEIL_RATIO} (target >= ${TARGET_CEILING})"
    verdict "$(ok "$RSS_DL < $TARGET_RSS_MIB")" \
        "parity-init peak RSS, download: ${RSS_DL} MiB (target < ${TARGET_RSS_MIB} MiB)"
    verdict "$(ok "$RSS_UP < $TARGET_RSS_MIB")" \
        "parity-init peak RSS, upload: ${RSS_UP} MiB (target < ${TARGET_RSS_MIB} MiB)"
    echo
    echo "parity-init's log (round 1):"
    # shellcheck disable=SC2001 # one sed over many lines
    sed 's/^/  /' <<<"$PARITY_LOG_SAMPLE"
    echo
    printf 'config: BIG_MIB=%s SMALL_COUNT=%s SMALL_KIB=%s MODEL_MIB=%s ROUNDS=%s CURL_MODE=%s CURL_PARALLEL=%s RANGE_MIB=%s\n' \
        "$BIG_MIB" "$SMALL_COUNT" "$SMALL_KIB" "$MODEL_MIB" "$ROUNDS" "$CURL_MODE" "$CURL_PARALLEL" "$RANGE_MIB"
    echo 'runs (tool wall_s cpu_s peak_rss_kib server_cpu_s requests):'
    sed 's/^/  /' "$WORK/results"
} >"$WORK/report"

cat "$WORK/report"
cp "$WORK/report" "$OUT"
echo "wrote $OUT"

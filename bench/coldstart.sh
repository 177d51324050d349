#!/usr/bin/env bash
# bench/coldstart.sh: cold start of the example training container under runc, from
# `runc create` to the first line the user's code prints, with parity-init as ENTRYPOINT (the
# image from Dockerfile.base + images/train-example) next to the same image with Debian's tini as
# ENTRYPOINT, side by side in one interleaved run. See bench/README.md.
#
# Uses the images `make e2e` builds (tests/e2e/build-images.sh; run here when missing). The tini
# variant is made from the train-example image with buildah: /usr/bin/tini from Debian's
# package copied in, ENTRYPOINT ["/usr/bin/tini", "--"], CMD ["python3", "/opt/program/train.py"].
#
# Environment (all optional):
#   RUNS=30 WARMUP=3 SEED=1           measured rounds (each starts both containers, shuffled)
#   PARITY_E2E_WORK=build/e2e         where build-images.sh left the OCI layouts and bundles
#   PARITY_E2E_CACHE=/var/cache/parity-e2e   buildah storage (as build-images.sh)
#   OUT=bench/results/coldstart.json  the machine-readable results
# Needs root. Exits 0 with the table; non-zero only if something could not be run or measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_NAME=bench/coldstart.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
((EUID == 0)) || die "needs root (runc, buildah)"
ensure_installed /usr/bin/tini=tini /usr/bin/python3=python3 /usr/sbin/runc=runc \
    /usr/bin/buildah=buildah /usr/bin/umoci=umoci

export RUNS=${RUNS:-30} WARMUP=${WARMUP:-3} SEED=${SEED:-1}
export OUT=${OUT:-bench/results/coldstart.json}
work=${PARITY_E2E_WORK:-build/e2e}
cache=${PARITY_E2E_CACHE:-/var/cache/parity-e2e}
# (its run-time state on tmpfs, one folder per cache folder)
buildah=(buildah --root "$cache/storage" --runroot "/run/parity-e2e/$(printf %s "$cache" | sha256sum | cut -c1-12)")
mkdir -p "$(dirname "$OUT")"

if [[ ! -f $work/bundles/train/config.json ]] ||
    ! "${buildah[@]}" inspect --type image localhost/parity-train-example:e2e >/dev/null 2>&1; then
    PARITY_E2E_WORK=$work PARITY_E2E_CACHE=$cache tests/e2e/build-images.sh >/dev/null
fi

# The same image, tini as ENTRYPOINT (rebuilt each run: it follows the current train image).
exec 8>"$cache/.lock-build"
flock 8
ctr=$("${buildah[@]}" from -q localhost/parity-train-example:e2e)
"${buildah[@]}" copy -q "$ctr" /usr/bin/tini /usr/bin/tini >/dev/null
"${buildah[@]}" config --entrypoint '["/usr/bin/tini", "--"]' \
    --cmd '["python3", "/opt/program/train.py"]' "$ctr"
"${buildah[@]}" commit --rm -q "$ctr" localhost/parity-train-example-tini:e2e >/dev/null
rm -rf "$work/bundles/train-tini"
"${buildah[@]}" push -q -D localhost/parity-train-example-tini:e2e "oci:$work/oci:train-tini" >/dev/null
umoci unpack --image "$work/oci:train-tini" "$work/bundles/train-tini" >/dev/null
flock -u 8

export BENCH_BUNDLES=$work/bundles BENCH_DATA=examples/data/train/data.csv
/usr/bin/python3 - <<'PY'
import json, os, random, select, shutil, statistics, subprocess, tempfile, time

E = os.environ
RUNS, WARMUP, RNG = int(E["RUNS"]), int(E["WARMUP"]), random.Random(int(E["SEED"]))
BUNDLES = os.path.abspath(E["BENCH_BUNDLES"])
work = tempfile.mkdtemp(prefix="parity-coldstart-")
state = os.path.join(work, "runc-state")

# /opt/ml as SageMaker prepares it: config files and the train channel.
opt_ml = os.path.join(work, "opt-ml")
os.makedirs(os.path.join(opt_ml, "input/config"))
os.makedirs(os.path.join(opt_ml, "input/data/train"))
kind = "ml.m5.large"
for name, doc in {
    "hyperparameters.json": {"epochs": "10", "lr": "0.05"},
    "resourceconfig.json": {"current_host": "algo-1", "current_instance_type": kind,
                            "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
                            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                                 "instance_type": kind, "hosts": ["algo-1"]}],
                            "network_interface_name": "eth0", "topology": None},
    "inputdataconfig.json": {"train": {"ContentType": "text/csv", "TrainingInputMode": "File"}},
}.items():
    with open(os.path.join(opt_ml, "input/config", name), "w") as f:
        json.dump(doc, f)
shutil.copy(E["BENCH_DATA"], os.path.join(opt_ml, "input/data/train/data.csv"))

# Both containers are started the way SageMaker starts training: `IMAGE train` for the parity
# image; the tini image runs its CMD (tini cannot take the role word). Same rootfs contents,
# same namespaces (the image's: a network namespace too), same /opt/ml bind mount.
VARIANTS = {"parity-init": ("train", ["train"]), "tini": ("train-tini", None)}


def bundle_for(name):
    image, args = VARIANTS[name]
    with open(os.path.join(BUNDLES, image, "config.json")) as f:
        config = json.load(f)
    if args is not None:
        config["process"]["args"] += args
    config["process"]["env"] += ["TRAINING_JOB_NAME=coldstart"]
    config["process"]["terminal"] = False
    config["root"] = {"path": os.path.join(BUNDLES, image, "rootfs"), "readonly": True}
    config["mounts"] += [{"destination": "/opt/ml", "type": "bind", "source": opt_ml,
                          "options": ["rbind", "rw"]},
                         {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                          "options": ["nosuid", "nodev", "mode=1777"]}]
    path = os.path.join(work, "bundle-" + name)
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


bundles = {name: bundle_for(name) for name in VARIANTS}
first_lines = {}


def runc(*args, **kw):
    return subprocess.run(["runc", "--root", state, *args], check=True, timeout=60, **kw)


def one(name, n):
    """Seconds from `runc create` to the first line on the container's stdout."""
    cid = "coldstart-%d-%s-%d" % (os.getpid(), name.replace("-", ""), n)
    r, w = os.pipe()
    try:
        t0 = time.perf_counter()
        runc("create", "--bundle", bundles[name], cid, stdin=subprocess.DEVNULL, stdout=w,
             stderr=subprocess.DEVNULL)
        os.close(w)
        w = -1
        runc("start", cid)
        buf = b""
        while b"\n" not in buf:
            ready, _, _ = select.select([r], [], [], 60)
            if not ready:
                raise SystemExit("bench/coldstart.sh: %s printed nothing within 60 s" % name)
            chunk = os.read(r, 4096)
            if not chunk:
                raise SystemExit("bench/coldstart.sh: %s exited before printing a line" % name)
            buf += chunk
        elapsed = time.perf_counter() - t0
        first_lines.setdefault(name, buf.split(b"\n", 1)[0].decode(errors="replace"))
        return elapsed
    finally:
        if w >= 0:
            os.close(w)
        os.close(r)
        subprocess.run(["runc", "--root", state, "delete", "-f", cid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


samples = {name: [] for name in VARIANTS}
for rnd in range(WARMUP + RUNS):
    order = list(VARIANTS)
    RNG.shuffle(order)
    for name in order:
        t = one(name, rnd)
        if rnd >= WARMUP:
            samples[name].append(t)


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]


rows = {}
print("cold start, runc create -> first line of train.py (%d rounds, %d warm-up, interleaved)" % (RUNS, WARMUP))
print("%-12s %10s %16s %10s" % ("entrypoint", "median ms", "IQR ms", "min ms"))
for name, xs in samples.items():
    med = statistics.median(xs)
    rows[name] = {"median_s": med, "p25_s": q(xs, 0.25), "p75_s": q(xs, 0.75), "min_s": min(xs),
                  "samples_s": xs, "first_line": first_lines.get(name)}
    print("%-12s %10.1f %7.1f - %6.1f %10.1f" % (name, med * 1e3, q(xs, 0.25) * 1e3, q(xs, 0.75) * 1e3,
                                              min(xs) * 1e3))
diff = rows["parity-init"]["median_s"] - rows["tini"]["median_s"]
ratio = rows["parity-init"]["median_s"] / rows["tini"]["median_s"]
print("parity-init - tini: %+.1f ms (ratio %.2f)" % (diff * 1e3, ratio))
for name in VARIANTS:
    print("first line (%s): %s" % (name, first_lines.get(name)))
with open(E["OUT"], "w") as f:
    json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": RUNS,
               "warmup": WARMUP, "variants": rows, "median_diff_s": diff, "median_ratio": ratio}, f,
              indent=1)
print("results: %s" % E["OUT"])
shutil.rmtree(work, ignore_errors=True)
PY

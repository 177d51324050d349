#!/usr/bin/env bash
# bench/credserver.sh: throughput and latency of parity-init's loopback credentials endpoint
# under wrk (64 keep-alive connections), side by side with the same JSON served as a static
# file by a tuned nginx on the same machine, plus how much slower signal forwarding gets
# under that load. See bench/README.md for what it measures and how to read the output.
#
# Environment (all optional):
#   DURATION=10       seconds of each measured wrk run
#   WARMUP=2          seconds of wrk warm-up before each measured run (0: none)
#   THREADS=nproc/2 CONNECTIONS=64   wrk -t / -c (one wrk thread per CPU the server does not need)
#   SIGNALS=50        SIGUSR1s sent idle, and as many again under load
#   SIG_GAP_MS=20     mean pause between signals (uniform in 0.5x..1.5x)
#   SIG_TIMEOUT_S=2   deadline for each forwarded signal to show up
#   RAMP_S=1          load time before the first signal of the loaded round
#   PIN=              1: servers on SERVER_CPUS, wrk and the harness on CLIENT_CPUS
#   SERVER_CPUS= CLIENT_CPUS=  taskset lists for PIN=1 (default: first half / second half)
#   NGINX=1           0 skips the nginx comparison
#   SEED=1            seed for the signal pauses
#   PARITY_INIT=build/parity-init  PROBE=build/probe   binaries under test
#   TARGET_RPS=20000 TARGET_P99_MS=2 TARGET_SIG_RATIO=2   the three targets
#   OUT=bench/results/credserver.json   the machine-readable results
#
# Prints a table and PASS/FAIL against the targets; exits 0 whatever the verdicts,
# non-zero only if something could not be run or measured.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PY=/usr/bin/python3

BENCH_NAME=bench/credserver.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

# Binaries under test, built if they are the default paths and missing.
export PARITY_INIT=${PARITY_INIT:-build/parity-init} PROBE=${PROBE:-build/probe}
ensure_built PARITY_INIT PROBE

# Debian's wrk and nginx (and python3, taskset), installed once if missing.
ensure_installed /usr/bin/wrk=wrk /usr/sbin/nginx=nginx /usr/bin/python3=python3 \
    /usr/bin/taskset=util-linux

# The server is one thread; wrk gets the other CPUs, one thread each. More wrk threads than
# CPUs only time-slice, and wrk's latency then measures its own waits for a CPU.
half=$(($(nproc) / 2))
export DURATION=${DURATION:-10} WARMUP=${WARMUP:-2} THREADS=${THREADS:-$((half > 0 ? half : 1))}
export CONNECTIONS=${CONNECTIONS:-64} SIGNALS=${SIGNALS:-50} SIG_GAP_MS=${SIG_GAP_MS:-20}
export SIG_TIMEOUT_S=${SIG_TIMEOUT_S:-2} RAMP_S=${RAMP_S:-1} NGINX=${NGINX:-1} SEED=${SEED:-1}
export TARGET_RPS=${TARGET_RPS:-20000} TARGET_P99_MS=${TARGET_P99_MS:-2}
export TARGET_SIG_RATIO=${TARGET_SIG_RATIO:-2}
export OUT=${OUT:-bench/results/credserver.json}
export PIN=${PIN:-} SERVER_CPUS=${SERVER_CPUS:-} CLIENT_CPUS=${CLIENT_CPUS:-}
if [[ $PIN == 1 ]]; then
    n=$(nproc)
    ((n >= 2)) || die "PIN=1 needs at least 2 CPUs (nproc says $n)"
    half=$((n / 2))
    [[ -n $SERVER_CPUS ]] || SERVER_CPUS=$([[ $half == 1 ]] && echo 0 || echo "0-$((half - 1))")
    [[ -n $CLIENT_CPUS ]] || CLIENT_CPUS=$([[ $((n - half)) == 1 ]] && echo "$half" || echo "$half-$((n - 1))")
elif [[ -n $PIN && $PIN != 0 ]]; then
    die "PIN=$PIN: use 1 (or leave it unset)"
fi
mkdir -p "$(dirname "$OUT")"

# Scratch space (nginx prefix, endpoint file, logs) and the list of every process the harness
# starts ("PID STARTTIME" lines), so that the trap can kill what the harness could not.
WORK=$(mktemp -d /tmp/parity-credserver.XXXXXX)
export WORK BENCH_ROOT=$ROOT PIDFILE=$WORK/pids
: >"$PIDFILE"
harness_pid=

cleanup() {
    local rc=$? pid st now
    trap - EXIT INT TERM HUP
    if [[ -n $harness_pid ]] && kill -0 "$harness_pid" 2>/dev/null; then
        kill -TERM "$harness_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$harness_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$harness_pid" 2>/dev/null || true
    fi
    # Whatever is still alive from the list, and is still the same process (same start time).
    while read -r pid st; do
        [[ -r /proc/$pid/stat ]] || continue
        now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20) || continue
        if [[ $now == "$st" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done <"$PIDFILE"
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

harness=("$PY" "$WORK/credserver.py")
[[ $PIN != 1 ]] || harness=(taskset -c "$CLIENT_CPUS" "${harness[@]}")

cat >"$WORK/credserver.py" <<'PY'
import datetime, hashlib, http.client, json, os, random, re, select, shutil, signal, socket
import statistics, subprocess, sys, time

E = os.environ
DURATION, WARMUP = int(E["DURATION"]), int(E["WARMUP"])
THREADS, CONNS = int(E["THREADS"]), int(E["CONNECTIONS"])
NSIG, GAP = int(E["SIGNALS"]), int(E["SIG_GAP_MS"]) / 1000
SIG_TIMEOUT, RAMP = float(E["SIG_TIMEOUT_S"]), float(E["RAMP_S"])
WITH_NGINX, SEED = E["NGINX"] != "0", int(E["SEED"])
TARGET_RPS, TARGET_P99 = float(E["TARGET_RPS"]), float(E["TARGET_P99_MS"])
TARGET_SIG = float(E["TARGET_SIG_RATIO"])
PIN, SERVER_CPUS, CLIENT_CPUS = E["PIN"] == "1", E["SERVER_CPUS"], E["CLIENT_CPUS"]
ROOT, OUT, WORK, PIDFILE = E["BENCH_ROOT"], E["OUT"], E["WORK"], E["PIDFILE"]
PARITY_SRC, PROBE_SRC = os.path.abspath(E["PARITY_INIT"]), os.path.abspath(E["PROBE"])
WRK, NGINX_BIN = "/usr/bin/wrk", "/usr/sbin/nginx"
TICK = os.sysconf("SC_CLK_TCK")
PROBE_LIFETIME_S = 300  # tests/helpers/probe.c: LIFETIME_S


def usage_error(msg):
    print(f"bench/credserver.sh: {msg}", file=sys.stderr)
    sys.exit(2)


if DURATION < 1 or THREADS < 1 or CONNS < THREADS or NSIG < 2 or WARMUP < 0:
    usage_error("need DURATION>=1, THREADS>=1, CONNECTIONS>=THREADS, SIGNALS>=2, WARMUP>=0")
# The probe (parity-init's child) lives at most 300 s; everything against parity-init must fit.
# Each round sends 2 signals per count (forwarded + control): 4 * SIGNALS pauses in all.
parity_phase_s = (WARMUP + DURATION + RAMP + 4 * NSIG * (GAP * 1.5 + 0.01) + 15)
if parity_phase_s > PROBE_LIFETIME_S - 20:
    usage_error(f"DURATION/WARMUP/SIGNALS too large: the parity-init phase "
                f"would take ~{parity_phase_s:.0f} s, and build/probe lives {PROBE_LIFETIME_S} s")

rng = random.Random(SEED)


def snapshot(src):
    """A private copy of a binary, so that a rebuild of build/ during the run cannot pull it
    out from under us."""
    dst = os.path.join(WORK, "bin", os.path.basename(src))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    for _ in range(50):
        try:
            shutil.copy2(src, dst)
            if subprocess.run([dst, "--version"] if src == PARITY_SRC else [dst, "exit", "0"],
                              stdin=subprocess.DEVNULL, capture_output=True).returncode == 0:
                with open(dst, "rb") as f:
                    return dst, hashlib.sha256(f.read()).hexdigest()
        except OSError:
            pass
        time.sleep(0.2)
    print(f"bench/credserver.sh: could not take a working copy of {src}", file=sys.stderr)
    sys.exit(2)


(PARITY, PARITY_SHA), (PROBE, _) = snapshot(PARITY_SRC), snapshot(PROBE_SRC)
errors, notes = [], []
devnull = os.open("/dev/null", os.O_RDWR)
server_pre = ["taskset", "-c", SERVER_CPUS] if PIN else []
client_pre = ["taskset", "-c", CLIENT_CPUS] if PIN else []
started = []  # Popen objects, stopped in reverse order at the end


# ------------------------------------------------------------------ process bookkeeping
def on_signal(sig, _frame):
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)  # cleanup below must not be interrupted again
    raise SystemExit(128 + sig)


for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, on_signal)


def starttime(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def track(pid):
    st = starttime(pid)
    if st is not None:
        with open(PIDFILE, "a") as f:
            f.write(f"{pid} {st}\n")


def spawn(argv, **kw):
    kw.setdefault("stdin", devnull)
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    started.append(p)
    track(p.pid)
    return p


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def stop(p, first=signal.SIGTERM, grace=5.0):
    if p.poll() is not None:
        return
    kill(p.pid, first)
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        kill(p.pid, signal.SIGKILL)
        p.wait(5)


def cpu_ticks(pids):
    t = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
            t += int(v[11]) + int(v[12])  # utime + stime, all threads
        except (OSError, IndexError, ValueError):
            pass
    return t


def cpu_list_len(spec):
    """Number of CPUs in a taskset -c list such as 0-3,6."""
    n = 0
    for part in spec.split(","):
        a, _, b = part.partition("-")
        n += int(b or a) - int(a) + 1
    return n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, deadline_s=10):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def http_get(port, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        c.close()


def q(xs, p):
    s = sorted(xs)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def cmd_out(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip()
    except Exception:
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# ------------------------------------------------------------------ wrk
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def ms(tok):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", tok)
    if not m:
        raise ValueError(f"wrk time '{tok}'")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_wrk(text):
    r = {}
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)%", text, re.M)
    if m:
        r["lat_mean_ms"], r["lat_stdev_ms"], r["lat_max_ms"] = (ms(m.group(i)) for i in (1, 2, 3))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s*{pct}%\s+(\S+)\s*$", text, re.M)
        if m:
            r[f"p{pct}_ms"] = ms(m.group(1))
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ", text, re.M)
    if m:
        r["requests"] = int(m.group(1))
        r["elapsed_s"] = float(m.group(2)) * UNIT_MS[m.group(3)] / 1000
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["socket_errors"] = ({k: int(v) for k, v in zip(("connect", "read", "write", "timeout"),
                                                      m.groups())} if m else {})
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        r["rps"] = float(m.group(1))
    return r


def wrk_argv(url, token, seconds):
    return client_pre + [WRK, f"-t{THREADS}", f"-c{CONNS}", f"-d{seconds}s", "--latency",
                         "-H", f"Authorization: {token}", url]


def wrk_run(label, url, token, seconds, cpu_pids):
    """One wrk run in the foreground; CPU of the server processes over the run."""
    argv = wrk_argv(url, token, seconds)
    c0, t0 = cpu_ticks(cpu_pids()), time.monotonic()
    p = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        stop(p, signal.SIGKILL)
        errors.append(f"{label}: wrk did not finish")
        return None
    c1, t1 = cpu_ticks(cpu_pids()), time.monotonic()
    if p.returncode != 0:
        errors.append(f"{label}: wrk exited {p.returncode}: {out.strip()[-300:]}")
        return None
    r = parse_wrk(out)
    r["argv"] = argv
    r["output"] = out
    r["server_cpu_s"] = (c1 - c0) / TICK
    r["server_cpu_util"] = r["server_cpu_s"] / (t1 - t0)
    if r.get("requests"):
        r["server_cpu_us_per_req"] = r["server_cpu_s"] * 1e6 / r["requests"]
    for k in ("rps", "p99_ms", "requests"):
        if k not in r:
            errors.append(f"{label}: could not parse '{k}' from wrk's output:\n{out}")
            return None
    if r["requests"] == 0:
        errors.append(f"{label}: wrk completed no requests")
        return None
    return r


# ------------------------------------------------------------------ probe's stdout
class Lines:
    def __init__(self, fd):
        self.fd, self.buf = fd, b""

    def next(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    raise EOFError("parity-init's stdout closed")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")


def signal_round(parity, probe_pid, lines, n, alive=None):
    """n SIGUSR1s to parity-init (forwarded to the child) and, interleaved in random order, n
    straight to the child (the control: same pipe, same reader, no forwarding hop). Latency in
    us from os.kill to the child's 'signal 10 from=SENDER' line read from its stdout pipe."""
    lat = {"fwd": [], "direct": []}
    timeouts, unloaded, other = 0, 0, []
    plan = [k for _ in range(n) for k in rng.sample(["fwd", "direct"], 2)]
    for kind in plan:
        time.sleep(GAP * (0.5 + rng.random()))
        if alive is not None and not alive():
            unloaded += 1
        target, sender = (parity.pid, parity.pid) if kind == "fwd" else (probe_pid, os.getpid())
        want = f"signal 10 from={sender}"
        t0 = time.perf_counter_ns()
        os.kill(target, signal.SIGUSR1)
        deadline = time.monotonic() + SIG_TIMEOUT
        while True:
            line = lines.next(deadline)
            if line is None:
                timeouts += 1
                break
            if line == want:
                lat[kind].append((time.perf_counter_ns() - t0) / 1000)
                break
            other.append(line)
        if line is None:  # a late line must not be taken for the next signal's
            while lines.next(time.monotonic() + 0.5) is not None:
                pass
    return lat, timeouts, unloaded, other


def lat_summary(xs):
    if not xs:
        return None
    return {"n": len(xs), "median_us": statistics.median(xs), "p90_us": q(xs, .9),
            "p10_us": q(xs, .1), "min_us": min(xs), "max_us": max(xs),
            "mean_us": statistics.fmean(xs)}


# ------------------------------------------------------------------ the run
result = {"meta": {}, "parity": {}, "nginx": None, "signals": {}, "targets": {}}
meta = result["meta"]
meta.update({
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "nproc": os.cpu_count(), "affinity": sorted(os.sched_getaffinity(0)),
    "kernel": os.uname().release, "loadavg_before": loadavg(),
    "wrk": cmd_out([WRK, "-v"]), "nginx": cmd_out([NGINX_BIN, "-v"]),
    "parity_init": cmd_out([PARITY, "--version"]), "parity_init_path": PARITY_SRC,
    "parity_init_sha256": PARITY_SHA,
    "git": cmd_out(["git", "-C", ROOT, "describe", "--always", "--dirty"]),
    "config": {"duration_s": DURATION, "warmup_s": WARMUP, "threads": THREADS,
               "connections": CONNS, "signals": NSIG, "sig_gap_ms": GAP * 1000,
               "ramp_s": RAMP, "pin": PIN, "server_cpus": SERVER_CPUS or None,
               "client_cpus": CLIENT_CPUS or None, "seed": SEED},
})
try:
    with open("/proc/cpuinfo") as f:
        meta["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                           None)
except OSError:
    pass

body = None
try:
    # ---- parity-init with static keys; its child writes the endpoint, then reports signals
    ep = os.path.join(WORK, "endpoint")
    child = ('echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI $AWS_CONTAINER_AUTHORIZATION_TOKEN" '
             '>"$1.tmp" && env >"$1.env" && mv "$1.tmp" "$1" && exec "$2" signals --count 0')
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           "AWS_REGION": "us-east-1"}
    plog = open(os.path.join(WORK, "parity-init.log"), "w+")
    parity = spawn(server_pre + [PARITY, "--", "/bin/sh", "-c", child, "sh", ep, PROBE],
                   env=env, stdout=subprocess.PIPE, stderr=plog)
    lines = Lines(parity.stdout.fileno())
    ready = lines.next(time.monotonic() + 15)
    m = re.match(r"ready pid=(\d+)", ready or "")
    if not m or not os.path.exists(ep):
        plog.seek(0)
        raise RuntimeError(f"parity-init's child did not come up (got {ready!r}); "
                           f"parity-init's log:\n{plog.read()}")
    probe_pid = int(m.group(1))
    track(probe_pid)
    with open(ep) as f:
        url, token = f.read().split()
    with open(ep + ".env") as f:
        child_env = f.read()
    if "AWS_SECRET_ACCESS_KEY=" in child_env or "AWS_ACCESS_KEY_ID=" in child_env:
        errors.append("the static keys are still in the child's environment")
    pm = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/\S*)", url)
    if not pm:
        raise RuntimeError(f"unexpected AWS_CONTAINER_CREDENTIALS_FULL_URI {url!r}")
    pport, path = int(pm.group(1)), pm.group(2)
    status, body, hdrs = http_get(pport, path, {"Authorization": token})
    if status != 200:
        raise RuntimeError(f"GET {url} with the token: HTTP {status}")
    json.loads(body)
    unauth, _, _ = http_get(pport, path, {})
    result["parity"].update({"url": url, "status": status, "body_bytes": len(body),
                             "content_type": hdrs.get("Content-Type"),
                             "status_without_token": unauth})
    # Only parity-init serves; the probe sleeps in sigtimedwait.
    parity_pids = lambda: [parity.pid]

    # ---- signal forwarding, idle (first half now, second half after the load runs)
    signal_round(parity, probe_pid, lines, 3)  # warm-up, discarded
    idle_a = signal_round(parity, probe_pid, lines, NSIG // 2)

    # ---- throughput and latency
    if WARMUP:
        wrk_run("parity-init warm-up", url, token, WARMUP, parity_pids)
    r = wrk_run("parity-init", url, token, DURATION, parity_pids)
    if r:
        result["parity"]["wrk"] = r

    # ---- signal forwarding under the same wrk load, stopped with SIGINT when done
    load_s = int(RAMP + 2 * NSIG * (GAP * 1.5 + SIG_TIMEOUT) + 10)  # a bound; SIGINT ends it
    lw = spawn(wrk_argv(url, token, load_s), stdout=subprocess.PIPE,
               stderr=subprocess.STDOUT, text=True)
    time.sleep(RAMP)
    if lw.poll() is not None:
        raise RuntimeError(f"wrk for the loaded signal round exited early: {lw.stdout.read()}")
    loaded = signal_round(parity, probe_pid, lines, NSIG, alive=lambda: lw.poll() is None)
    kill(lw.pid, signal.SIGINT)  # wrk stops and prints its summary
    try:
        lout, _ = lw.communicate(timeout=15)
        result["signals"]["load_wrk"] = parse_wrk(lout)
        result["signals"]["load_wrk"]["output"] = lout
    except subprocess.TimeoutExpired:
        stop(lw, signal.SIGKILL)
        errors.append("wrk for the loaded signal round did not stop on SIGINT")

    idle_b = signal_round(parity, probe_pid, lines, NSIG - NSIG // 2)

    # ---- done with parity-init: its child ignores everything but SIGKILL
    kill(probe_pid, signal.SIGKILL)
    try:
        parity.wait(10)
    except subprocess.TimeoutExpired:
        stop(parity, signal.SIGKILL)
    result["parity"]["exit_status"] = parity.returncode

    sig = result["signals"]
    for kind in ("fwd", "direct"):
        idle_lat = idle_a[0][kind] + idle_b[0][kind]
        sig[kind] = {"idle": lat_summary(idle_lat), "load": lat_summary(loaded[0][kind]),
                     "idle_us": idle_lat, "load_us": loaded[0][kind]}
        if len(idle_lat) < NSIG / 2 or len(loaded[0][kind]) < NSIG / 2:
            errors.append(f"too many signals ({kind}) timed out")
    sig["timeouts"] = {"idle": idle_a[1] + idle_b[1], "load": loaded[1]}
    sig["sent_without_load"] = loaded[2]
    sig["other_lines"] = idle_a[3] + loaded[3] + idle_b[3]
    if loaded[2]:
        notes.append(f"{loaded[2]} of the loaded round's signals were sent after wrk had ended")

    # ---- nginx: the same JSON as a static file, same wrk command
    if WITH_NGINX:
        os.chmod(WORK, 0o755)  # nginx workers run as nobody
        prefix = os.path.join(WORK, "nginx")
        docroot = os.path.join(prefix, "www")
        os.makedirs(os.path.join(docroot, path.lstrip("/").rsplit("/", 1)[0]), exist_ok=True)
        for d in (prefix, docroot):
            os.chmod(d, 0o755)
        with open(os.path.join(docroot, path.lstrip("/")), "wb") as f:
            f.write(body)
        nport = free_port()
        # One worker per CPU: nginx 1.22's "auto" counts online CPUs, not the affinity mask.
        workers = str(cpu_list_len(SERVER_CPUS)) if PIN else "auto"
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        conf = f"""
{user}
worker_processes {workers};
worker_rlimit_nofile 65536;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 4096;
    multi_accept on;
    use epoll;
}}
http {{
    access_log off;
    server_tokens off;
    etag off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{nport} reuseport backlog=4096;
        root {docroot};
        location = {path} {{
            default_type application/json;
            add_header Cache-Control no-store;
        }}
        location / {{
            return 404;
        }}
    }}
}}
"""
        cpath = os.path.join(prefix, "nginx.conf")
        with open(cpath, "w") as f:
            f.write(conf)
        nargv = [NGINX_BIN, "-p", prefix, "-c", cpath, "-e", f"{prefix}/error.log"]
        t = subprocess.run(nargv + ["-t", "-q"], capture_output=True, text=True)
        if t.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {t.stderr.strip()}")
        nlog = open(os.path.join(prefix, "stderr.log"), "w+")
        ngx = spawn(server_pre + nargv, stdout=nlog, stderr=subprocess.STDOUT)
        if not wait_port(nport, ngx):
            raise RuntimeError(f"nginx did not listen on 127.0.0.1:{nport}: "
                               f"{open(prefix + '/error.log').read()[-500:]}")
        time.sleep(0.2)
        nworkers = children(ngx.pid)
        for w in nworkers:
            track(w)
        nurl = f"http://127.0.0.1:{nport}{path}"
        status, nbody, nhdrs = http_get(nport, path, {"Authorization": token})
        if status != 200 or nbody != body:
            raise RuntimeError(f"nginx: GET {nurl}: HTTP {status}, "
                               f"{'same' if nbody == body else 'different'} body")
        result["nginx"] = {"url": nurl, "version": meta["nginx"], "workers": len(nworkers),
                           "worker_processes": workers, "content_type": nhdrs.get("Content-Type"),
                           "body_bytes": len(nbody), "config": conf}
        ngx_pids = lambda: [ngx.pid] + nworkers
        if WARMUP:
            wrk_run("nginx warm-up", nurl, token, WARMUP, ngx_pids)
        r = wrk_run("nginx", nurl, token, DURATION, ngx_pids)
        if r:
            result["nginx"]["wrk"] = r
        stop(ngx, signal.SIGTERM)  # fast shutdown; the workers go with the master
except (RuntimeError, EOFError, OSError, ValueError, subprocess.SubprocessError) as e:
    errors.append(f"{type(e).__name__}: {e}")
finally:
    # Normally all stopped by now; after an error or a signal, kill whatever is left
    # (the probe and nginx's workers are not our children: they are in PIDFILE).
    for p in started:
        if p.poll() is None:
            kill(p.pid, signal.SIGKILL)
    with open(PIDFILE) as f:
        for pid, st in (l.split() for l in f if l.strip()):
            if starttime(int(pid)) == st:
                kill(int(pid), signal.SIGKILL)
    for p in started:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            errors.append(f"pid {p.pid} ({p.args[0]}) did not die")

meta["loadavg_after"] = loadavg()

# ------------------------------------------------------------------ verdicts and report
pw = result["parity"].get("wrk")
nw = (result["nginx"] or {}).get("wrk")
SG = result["signals"]
fwd, direct = SG.get("fwd") or {}, SG.get("direct") or {}
si, sl = fwd.get("idle"), fwd.get("load")
T = result["targets"]


def target(name, value, limit, ok, unit):
    T[name] = {"value": value, "limit": limit, "unit": unit, "pass": ok}


if pw:
    clean = pw["non_2xx"] == 0 and not any(pw["socket_errors"].values())
    target("throughput", pw["rps"], TARGET_RPS, pw["rps"] >= TARGET_RPS and clean, "req/s, >=")
    target("p99", pw["p99_ms"], TARGET_P99, pw["p99_ms"] <= TARGET_P99 and clean, "ms, <=")
    if not clean:
        notes.append("parity-init had non-2xx responses or socket errors: "
                     "throughput and p99 count as FAIL")
if si and sl:
    ratio = sl["median_us"] / si["median_us"]
    SG["ratio_median"], SG["ratio_p90"] = ratio, sl["p90_us"] / si["p90_us"]
    no_loss = not any(SG["timeouts"].values())
    target("signal_ratio", ratio, TARGET_SIG, ratio <= TARGET_SIG and no_loss, "x idle, <=")
    if not no_loss:
        notes.append(f"signals timed out: {SG['timeouts']}")
    di, dl = direct.get("idle"), direct.get("load")
    if di and dl:
        # The control: what the same load does to signal -> child -> pipe -> harness without
        # parity-init in the path; the difference of medians approximates the forwarding hop.
        SG["direct_ratio_median"] = dl["median_us"] / di["median_us"]
        SG["hop_median_us"] = {"idle": si["median_us"] - di["median_us"],
                               "load": sl["median_us"] - dl["median_us"]}
if pw and nw:
    result["parity_over_nginx_rps"] = pw["rps"] / nw["rps"]
result["errors"], result["notes"] = errors, notes

with open(OUT, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")


def f_ms(v):
    return "-" if v is None else (f"{v * 1000:.0f}us" if v < 1 else f"{v:.2f}ms")


def f_us(v):
    return "-" if v is None else (f"{v:.0f}us" if v < 1000 else f"{v / 1000:.2f}ms")


pin = f"PIN=1 servers on CPUs {SERVER_CPUS}, wrk on {CLIENT_CPUS}" if PIN else "unpinned"
print(f"\ncredserver: wrk -t{THREADS} -c{CONNS} -d{DURATION}s --latency (keep-alive), "
      f"{os.cpu_count()} CPUs, {pin}, load avg before {meta['loadavg_before'][0]:.2f}")
print(f"  {'server':<26}{'req/s':>10}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>10}"
      f"{'errors':>8}{'srv CPU':>9}{'CPU/req':>9}")
for name, w in (("parity-init credserver", pw), ("nginx static file", nw)):
    if not w:
        print(f"  {name:<26}{'(not measured)' if WITH_NGINX or pw is w else '(NGINX=0)':>14}")
        continue
    errs = w["non_2xx"] + sum(w["socket_errors"].values())
    print(f"  {name:<26}{w['rps']:>10,.0f}{f_ms(w.get('p50_ms')):>9}{f_ms(w.get('p90_ms')):>9}"
          f"{f_ms(w.get('p99_ms')):>9}{f_ms(w.get('lat_max_ms')):>10}{errs:>8}"
          f"{w['server_cpu_util'] * 100:>8.0f}%{w.get('server_cpu_us_per_req', 0):>7.1f}us")
if "parity_over_nginx_rps" in result:
    print(f"  parity-init / nginx req/s: {result['parity_over_nginx_rps']:.2f}x")
lw_ = SG.get("load_wrk") or {}
print(f"\nsignal latency: os.kill(SIGUSR1) -> the child's 'signal 10' line read from its stdout; "
      f"load: the same wrk run, {lw_.get('rps', 0):,.0f} req/s")
print(f"  {'':<32}{'n':>5}{'median':>10}{'p90':>10}{'max':>10}")
for kind, label in (("fwd", "forwarded by parity-init"), ("direct", "control: straight to child")):
    for cond in ("idle", "load"):
        x = (SG.get(kind) or {}).get(cond)
        if x:
            print(f"  {label if cond == 'idle' else '':<27}{cond:<5}{x['n']:>5}"
                  f"{f_us(x['median_us']):>10}{f_us(x['p90_us']):>10}{f_us(x['max_us']):>10}")
if si and sl:
    print(f"  {'forwarded load / idle':<32}{'':>5}{SG['ratio_median']:>9.2f}x{SG['ratio_p90']:>9.2f}x")
if "direct_ratio_median" in SG:
    h = SG["hop_median_us"]
    print(f"  {'control load / idle':<32}{'':>5}{SG['direct_ratio_median']:>9.2f}x")
    print(f"  forwarding hop (median forwarded - median control): idle {f_us(h['idle'])}, "
          f"load {f_us(h['load'])}")

print("\ntargets:")
rows = [("throughput", "parity-init req/s", lambda v: f"{v:,.0f} req/s", "{:,.0f}", ">="),
        ("p99", "parity-init p99", lambda v: f"{v:.2f} ms", "{:g} ms", "<="),
        ("signal_ratio", "signal latency load/idle (median)", lambda v: f"{v:.2f}x", "{:g}x",
         "<=")]
for key, label, fv, fl, op in rows:
    t = T.get(key)
    if t:
        print(f"  {'PASS' if t['pass'] else 'FAIL'}  {label}: {fv(t['value'])} "
              f"(target {op} {fl.format(t['limit'])})")
    else:
        print(f"  ----  {label}: not measured")
for n in notes:
    print(f"  note: {n}")
for e in errors:
    print(f"  error: {e}", file=sys.stderr)
print(f"\nwrote {OUT}")
sys.exit(2 if errors else 0)
PY

# The harness runs in the background so that the traps above fire at once on a signal.
"${harness[@]}" &
harness_pid=$!
wait "$harness_pid"

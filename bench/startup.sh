#!/usr/bin/env bash
# bench/startup.sh: start-up cost, binary size and resident memory of parity-init
# next to Debian's tini, tini-static, dumb-init and catatonit, all in one run on one
# machine. See bench/README.md for what it measures and how to read the output.
#
# Environment (all optional):
#   RUNS=400         measured rounds; each round starts every command once, in a new
#                    random order (interleaved, so drift and noise hit all commands alike)
#   WARMUP=20        rounds run first and thrown away
#   RSS_RUNS=3       VmRSS samples per init and mode (the median is reported)
#   RSS_SETTLE_MS=100  wait after `sleep` appears before reading VmRSS
#   RSS_TIMEOUT_S=5  deadline for an init to start its `sleep` child
#   BOOT=1000        bootstrap resamples for the confidence interval of the ratio
#   SEED=1           seed for the round order and the bootstrap
#   PIN_CPU=         if set (e.g. 1), run the harness and everything it starts under
#                    `taskset -c $PIN_CPU`
#   PARITY_INIT=build/parity-init   the binary under test
#   TARGET_RATIO=1.3  TARGET_RSS_KIB=1024   the two targets
#   OUT=bench/results/startup.json  the machine-readable results
#
# Prints a table and PASS/FAIL against the targets; exits 0 whatever the verdicts,
# non-zero only if something could not be run or measured.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PY=/usr/bin/python3

BENCH_NAME=bench/startup.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

export PARITY_INIT=${PARITY_INIT:-build/parity-init}
ensure_built PARITY_INIT

# The inits to compare, and the tools the harness needs, from Debian's packages.
ensure_installed /usr/bin/tini=tini /usr/bin/tini-static=tini /usr/bin/dumb-init=dumb-init \
    /usr/bin/catatonit=catatonit /usr/bin/unshare=util-linux /usr/bin/strip=binutils \
    /usr/bin/python3=python3

export RUNS=${RUNS:-400} WARMUP=${WARMUP:-20} RSS_RUNS=${RSS_RUNS:-3}
export RSS_SETTLE_MS=${RSS_SETTLE_MS:-100} RSS_TIMEOUT_S=${RSS_TIMEOUT_S:-5}
export BOOT=${BOOT:-1000} SEED=${SEED:-1}
export TARGET_RATIO=${TARGET_RATIO:-1.3} TARGET_RSS_KIB=${TARGET_RSS_KIB:-1024}
export OUT=${OUT:-bench/results/startup.json}
export BENCH_ROOT=$ROOT PIN_CPU=${PIN_CPU:-}
mkdir -p "$(dirname "$OUT")"

harness=("$PY" -)
[[ -z $PIN_CPU ]] || harness=(taskset -c "$PIN_CPU" "${harness[@]}")

"${harness[@]}" <<'PY'
import datetime, gc, json, os, random, signal, statistics, struct, subprocess, sys, tempfile, time

E = os.environ
RUNS, WARMUP = int(E["RUNS"]), int(E["WARMUP"])
RSS_RUNS, SETTLE = int(E["RSS_RUNS"]), int(E["RSS_SETTLE_MS"]) / 1000
RSS_TIMEOUT, BOOT, SEED = float(E["RSS_TIMEOUT_S"]), int(E["BOOT"]), int(E["SEED"])
TARGET_RATIO, TARGET_RSS = float(E["TARGET_RATIO"]), int(E["TARGET_RSS_KIB"])
ROOT, OUT = E["BENCH_ROOT"], E["OUT"]
PARITY = os.path.abspath(E["PARITY_INIT"])
if RUNS < 1 or RSS_RUNS < 1:
    sys.exit("bench/startup.sh: RUNS and RSS_RUNS must be >= 1")

errors = []
rng = random.Random(SEED)
TRUE = "/bin/true"
# Same minimal environment for every command, so no init sees platform hints
# (KUBERNETES_*, SM_*, TINI_SUBREAPER, PARITY_*) from the caller's shell.
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

# name, binary, argv before COMMAND, extra environment. All five accept `--`.
INITS = [
    ("tini",               "/usr/bin/tini",        ["/usr/bin/tini", "--"], {}),
    ("tini-static",        "/usr/bin/tini-static", ["/usr/bin/tini-static", "--"], {}),
    ("dumb-init",          "/usr/bin/dumb-init",   ["/usr/bin/dumb-init", "--"], {}),
    ("catatonit",          "/usr/bin/catatonit",   ["/usr/bin/catatonit", "--"], {}),
    ("parity-init",        PARITY,                 [PARITY, "--"], {}),
    ("parity-init[error]", PARITY,                 [PARITY, "--"], {"PARITY_LOG_LEVEL": "error"}),
]
REF, SUT = "tini", "parity-init"


def env_of(extra):
    e = dict(BASE_ENV)
    e.update(extra)
    return e


def q(xs, p):
    """p-quantile (0..1) of xs, linear interpolation."""
    s = sorted(xs)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(xs):
    return {"median": statistics.median(xs), "p25": q(xs, .25), "p75": q(xs, .75),
            "min": min(xs), "max": max(xs), "mean": statistics.fmean(xs), "n": len(xs)}


def cmd_out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# ---------------------------------------------------------------- start-up time
commands = [("/bin/true", [TRUE], {})] + [(n, pre + [TRUE], x) for n, _, pre, x in INITS]
devnull = os.open("/dev/null", os.O_RDWR)
fa = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
      (os.POSIX_SPAWN_DUP2, devnull, 2)]
envs = [env_of(x) for _, _, x in commands]
wall = [[] for _ in commands]   # ns, whole process: spawn .. reaped
cpu = [[] for _ in commands]    # us, user+sys of the child and everything it reaped
maxrss = [[] for _ in commands]
fails = [0] * len(commands)
last_status = [None] * len(commands)


def run_once(i):
    argv = commands[i][1]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, envs[i], file_actions=fa)
    _, st, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    return t1 - t0, round((ru.ru_utime + ru.ru_stime) * 1e6), ru.ru_maxrss, os.waitstatus_to_exitcode(st)


load_start = loadavg()
t_start = time.monotonic()
order = list(range(len(commands)))
gc.disable()
for r in range(WARMUP + RUNS):
    rng.shuffle(order)
    for i in order:
        w, c, m, rc = run_once(i)
        if r < WARMUP:
            continue
        wall[i].append(w)
        cpu[i].append(c)
        maxrss[i].append(m)
        if rc != 0:
            fails[i] += 1
            last_status[i] = rc
gc.enable()
t_startup = time.monotonic() - t_start

idx = {n: i for i, (n, _, _) in enumerate(commands)}
wall_us = [[w / 1000 for w in ws] for ws in wall]
med_w = [statistics.median(ws) for ws in wall_us]
med_c = [statistics.median(cs) for cs in cpu]
for i, (n, _, _) in enumerate(commands):
    if fails[i]:
        errors.append(f"{n} -- /bin/true exited non-zero {fails[i]}/{RUNS} times (last {last_status[i]})")


def ratio(a, b):
    return a / b if b > 0 else None


def overhead_ratio(i, j, med):
    """(init i - /bin/true) / (init j - /bin/true)."""
    t = med[idx["/bin/true"]]
    return ratio(med[i] - t, med[j] - t)


def boot_ci(a, b, n=BOOT):
    """95% bootstrap CI of median(a)/median(b), resampling whole rounds (a, b paired)."""
    if n <= 0 or len(a) < 2:
        return None
    br = random.Random(SEED + 1)
    k = len(a)
    rs = []
    for _ in range(n):
        ix = [br.randrange(k) for _ in range(k)]
        mb = statistics.median([b[j] for j in ix])
        if mb > 0:
            rs.append(statistics.median([a[j] for j in ix]) / mb)
    return [q(rs, .025), q(rs, .975)] if rs else None


def compare(sut, ref):
    i, j = idx[sut], idx[ref]
    return {
        "wall_ratio": ratio(med_w[i], med_w[j]),
        "cpu_ratio": ratio(med_c[i], med_c[j]),
        "wall_ratio_ci95": boot_ci(wall_us[i], wall_us[j]),
        "cpu_ratio_ci95": boot_ci(cpu[i], cpu[j]),
        "wall_ratio_paired_median": statistics.median(
            [a / b for a, b in zip(wall_us[i], wall_us[j]) if b > 0]),
        "wall_overhead_ratio": overhead_ratio(i, j, med_w),
        "cpu_overhead_ratio": overhead_ratio(i, j, med_c),
    }


startup = {}
ti, ri = idx["/bin/true"], idx[REF]
for i, (n, argv, x) in enumerate(commands):
    startup[n] = {
        "argv": argv, "env": x, "runs": RUNS, "failures": fails[i],
        "wall_us": summary(wall_us[i]), "cpu_us": summary(cpu[i]),
        "maxrss_kib_median": statistics.median(maxrss[i]),
        "wall_x_true": ratio(med_w[i], med_w[ti]), "cpu_x_true": ratio(med_c[i], med_c[ti]),
        "wall_x_tini": ratio(med_w[i], med_w[ri]), "cpu_x_tini": ratio(med_c[i], med_c[ri]),
        "wall_overhead_us": med_w[i] - med_w[ti], "cpu_overhead_us": med_c[i] - med_c[ti],
    }

# ---------------------------------------------------------------- binary size
def elf_interp(path):
    """True if the ELF file has a PT_INTERP (dynamically linked), None if unreadable."""
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if h[:4] != b"\x7fELF" or h[4] != 2:
                return None
            end = "<" if h[5] == 1 else ">"
            phoff, = struct.unpack(end + "Q", h[32:40])
            phentsize, phnum = struct.unpack(end + "HH", h[54:58])
            f.seek(phoff)
            for _ in range(phnum):
                ph = f.read(phentsize)
                if struct.unpack(end + "I", ph[:4])[0] == 3:
                    return True
            return False
    except OSError:
        return None


sizes = {}
with tempfile.TemporaryDirectory(prefix="parity-bench-") as tmp:
    for n, path, _, _ in INITS:
        if n.endswith("]"):          # same binary as parity-init
            continue
        d = {"path": path, "bytes": os.stat(path).st_size}
        dst = os.path.join(tmp, n)
        p = subprocess.run(["strip", "-o", dst, path], capture_output=True, text=True)
        if p.returncode == 0:
            d["stripped_bytes"] = os.stat(dst).st_size
        else:
            d["stripped_bytes"] = None
            errors.append(f"strip {path}: {p.stderr.strip()}")
        dyn = elf_interp(path)
        d["linkage"] = None if dyn is None else ("dynamic" if dyn else "static")
        sizes[n] = d

# ---------------------------------------------------------------- VmRSS
def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    except OSError:
        return []
    out = []                                   # kernel without CONFIG_PROC_CHILDREN
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                if int(s[s.rindex(")") + 2:].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, ValueError):
                pass
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_status(pid):
    d = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                d[k] = int(v.split()[0])
            elif k == "NSpid":
                d[k] = [int(x) for x in v.split()]
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    d["Pss"] = int(line.split()[1])
    except OSError:
        pass
    return d


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def measure_rss(name, path, pre, extra, pidns):
    argv = (["unshare", "--pid", "--fork", "--mount-proc"] if pidns else []) + pre + ["sleep", "30"]
    p = subprocess.Popen(argv, env=env_of(extra), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + RSS_TIMEOUT
    init = sleeper = None
    exe = os.path.realpath(path)
    try:
        while time.monotonic() < deadline and p.poll() is None:
            cands = children(p.pid) if pidns else [p.pid]
            for c in cands:
                try:
                    if os.readlink(f"/proc/{c}/exe") != exe:
                        continue
                except OSError:
                    continue
                s = [k for k in children(c) if comm(k) == "sleep"]
                if s:
                    init, sleeper = c, s[0]
                    break
            if sleeper:
                break
            time.sleep(0.005)
        if not sleeper:
            raise RuntimeError(f"no `sleep` under {name} within {RSS_TIMEOUT:g}s "
                               f"(pidns={pidns}, exit={p.poll()})")
        time.sleep(SETTLE)
        st = proc_status(init)
        nspid = st.pop("NSpid", [init])
        st["pid_in_ns"] = nspid[-1]
        if pidns and nspid[-1] != 1:
            raise RuntimeError(f"{name} is pid {nspid[-1]} in its namespace, not 1")
        return st
    finally:
        if pidns and init:
            kill(init, signal.SIGKILL)       # PID 1 gone: the kernel kills the namespace
        if sleeper:
            kill(sleeper, signal.SIGKILL)    # without a namespace the init then exits itself
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            if init:
                kill(init, signal.SIGKILL)
            p.kill()
            p.wait()


rss_samples = {n: {"pidns": [], "no_pidns": []} for n, _, _, _ in INITS}
jobs = [(spec, ns) for spec in INITS for ns in (True, False)]
for _ in range(RSS_RUNS):
    rng.shuffle(jobs)
    for (n, path, pre, x), ns in jobs:
        try:
            rss_samples[n]["pidns" if ns else "no_pidns"].append(measure_rss(n, path, pre, x, ns))
        except Exception as e:   # noqa: BLE001 - report, keep going
            errors.append(f"VmRSS {n}: {e}")

rss = {}
for n, modes in rss_samples.items():
    rss[n] = {}
    for mode, ss in modes.items():
        if not ss:
            rss[n][mode] = None
            continue
        keys = sorted({k for s in ss for k in s if k != "pid_in_ns"})
        rss[n][mode] = {k + "_kib": statistics.median([s[k] for s in ss if k in s]) for k in keys}
        rss[n][mode]["VmRSS_kib_samples"] = [s.get("VmRSS") for s in ss]
        rss[n][mode]["pid_in_ns"] = ss[0]["pid_in_ns"]
load_end = loadavg()

# ---------------------------------------------------------------- verdicts
cmp = {f"{s}/{r}": compare(s, r) for s in (SUT, SUT + "[error]") for r in (REF, "tini-static")}
main = cmp[f"{SUT}/{REF}"]
start_ok = (main["wall_ratio"] is not None and main["cpu_ratio"] is not None
            and main["wall_ratio"] <= TARGET_RATIO and main["cpu_ratio"] <= TARGET_RATIO)
sut_rss = (rss[SUT]["pidns"] or {}).get("VmRSS_kib")
rss_ok = sut_rss is not None and sut_rss <= TARGET_RSS
targets = {
    "startup": {
        "definition": f"median whole-process wall time AND median whole-process CPU (user+sys) "
                      f"time of `{SUT} -- /bin/true` divided by those of `{REF} -- /bin/true`, "
                      f"each <= {TARGET_RATIO}",
        "limit": TARGET_RATIO, "wall_ratio": main["wall_ratio"], "cpu_ratio": main["cpu_ratio"],
        "pass": start_ok,
    },
    "rss": {
        "definition": f"median VmRSS of {SUT} as PID 1 of a new PID namespace supervising "
                      f"`sleep 30`, <= {TARGET_RSS} KiB",
        "limit_kib": TARGET_RSS, "vmrss_kib": sut_rss, "pass": rss_ok,
    },
}

# ---------------------------------------------------------------- report
def dpkg_ver(pkg):
    return cmd_out(["dpkg-query", "-W", "-f=${Version}", pkg])


cpu_model = None
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "kernel": os.uname().release, "cpu": cpu_model, "nproc": os.cpu_count(),
    "pin_cpu": E.get("PIN_CPU") or None,
    "loadavg_start": load_start, "loadavg_end": load_end,
    "runs": RUNS, "warmup": WARMUP, "rss_runs": RSS_RUNS, "rss_settle_ms": SETTLE * 1000,
    "seed": SEED, "bootstrap": BOOT, "startup_seconds": round(t_startup, 2),
    "python": sys.version.split()[0],
    "parity_init": PARITY,
    "parity_init_version": (cmd_out([PARITY, "--version"]) or "").splitlines()[:1],
    "git": cmd_out(["git", "-C", ROOT, "describe", "--always", "--dirty"]),
    "versions": {p: dpkg_ver(p) for p in ("tini", "dumb-init", "catatonit")},
    "method": "posix_spawn + wait4 per start, stdin/stdout/stderr -> /dev/null, same minimal "
              "env (PATH only) for all; rounds interleave all commands in a fresh random order; "
              "wall = perf_counter_ns around spawn..reap; cpu = wait4 ru_utime+ru_stime "
              "(child plus the children it reaped)",
}
result = {"meta": meta, "startup": startup, "comparisons": cmp, "size": sizes, "rss": rss,
          "targets": targets, "errors": errors}
with open(OUT, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")


def fx(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)


print(f"parity-init start-up benchmark  ({meta['date']}, {meta['cpu']}, {meta['nproc']} CPUs, "
      f"kernel {meta['kernel']}, load {load_start[0]:.2f} -> {load_end[0]:.2f})")
print(f"parity-init {PARITY} ({meta['git']}); tini {meta['versions']['tini']}, "
      f"dumb-init {meta['versions']['dumb-init']}, catatonit {meta['versions']['catatonit']}")
print()
print(f"Start-up: `INIT -- /bin/true`, {RUNS} interleaved rounds (+{WARMUP} warm-up), "
      f"stdio -> /dev/null, {t_startup:.1f}s; times are medians in microseconds")
hdr = (f"{'command':<19} {'wall':>7} {'p25-p75':>15} {'cpu':>6} {'x true':>7} "
       f"{'wall x tini':>11} {'cpu x tini':>10} {'ovh wall':>8} {'ovh cpu':>7} {'fail':>4}")
print(hdr)
print("-" * len(hdr))
for n, s in startup.items():
    w = s["wall_us"]
    print(f"{n:<19} {w['median']:>7.0f} {w['p25']:>7.0f}-{w['p75']:<7.0f} {s['cpu_us']['median']:>6.0f} "
          f"{fx(s['wall_x_true']):>7} {fx(s['wall_x_tini']):>11} {fx(s['cpu_x_tini']):>10} "
          f"{s['wall_overhead_us']:>8.0f} {s['cpu_overhead_us']:>7.0f} {s['failures']:>4}")
print("(x true / x tini: whole-process median ratios; ovh = median(INIT -- /bin/true) - "
      "median(/bin/true))")
print()
print("Binary size (bytes)")
print(f"{'init':<19} {'size':>10} {'stripped':>10}  linkage  path")
for n, d in sizes.items():
    print(f"{n:<19} {d['bytes']:>10} {fx(d['stripped_bytes'], '{}'):>10}  {d['linkage'] or '-':<7}  {d['path']}")
print("(dynamic binaries also map libc; their file size leaves it out)")
print()
print(f"VmRSS of the init supervising `sleep 30` (KiB, median of {RSS_RUNS})")
print(f"{'init':<19} {'PID 1 (pidns)':>13} {'RssAnon':>8} {'RssFile':>8} {'Pss':>6}   {'no pidns':>8}")
for n, m in rss.items():
    a, b = m["pidns"] or {}, m["no_pidns"] or {}
    print(f"{n:<19} {fx(a.get('VmRSS_kib'), '{:.0f}'):>13} {fx(a.get('RssAnon_kib'), '{:.0f}'):>8} "
          f"{fx(a.get('RssFile_kib'), '{:.0f}'):>8} {fx(a.get('Pss_kib'), '{:.0f}'):>6}   "
          f"{fx(b.get('VmRSS_kib'), '{:.0f}'):>8}")
print("(PID 1 = `unshare --pid --fork --mount-proc INIT -- sleep 30`; no pidns = `INIT -- sleep 30`)")
print()


def ci(c):
    return "-" if c is None else f"{c[0]:.2f}-{c[1]:.2f}"


print("Comparisons (whole-process median ratios, 95% bootstrap CI over rounds; "
      "overhead ratio = (INIT - /bin/true) / (ref - /bin/true))")
for k, c in cmp.items():
    print(f"  {k:<31} wall {fx(c['wall_ratio'])} [{ci(c['wall_ratio_ci95'])}]  "
          f"cpu {fx(c['cpu_ratio'])} [{ci(c['cpu_ratio_ci95'])}]  "
          f"overhead wall {fx(c['wall_overhead_ratio'])} cpu {fx(c['cpu_overhead_ratio'])}")
print()
print("Targets")
print(f"  start-up   {'PASS' if start_ok else 'FAIL'}  {SUT}/{REF} whole-process median ratio "
      f"must be <= {TARGET_RATIO:g} for wall and CPU: wall {fx(main['wall_ratio'])}, "
      f"cpu {fx(main['cpu_ratio'])}  (overhead-only ratio, informational: wall "
      f"{fx(main['wall_overhead_ratio'])}, cpu {fx(main['cpu_overhead_ratio'])})")
print(f"  VmRSS      {'PASS' if rss_ok else 'FAIL'}  {SUT} as PID 1 supervising sleep 30 must be "
      f"<= {TARGET_RSS} KiB: {fx(sut_rss, '{:.0f}')} KiB")
print()
print(f"Results: {os.path.relpath(os.path.abspath(OUT), ROOT)}")
if errors:
    print("\nErrors:", file=sys.stderr)
    for e in errors:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
PY

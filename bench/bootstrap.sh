#!/usr/bin/env bash
# bench/bootstrap.sh: parity-init's whole bootstrap (detect, read SageMaker's config files,
# derive the SM_* environment, spawn, reap) on a SageMaker training fixture running /bin/true,
# side by side with `tini -- /bin/true` and with /bin/true alone, in one interleaved run.
# Also the EKS/local path: a job config turned into the config files, then the same.
#
# Environment: RUNS=300 (rounds), WARMUP=20, SEED=1, PARITY_INIT=build/parity-init,
# TARGET_RATIO=1.3, OUT=bench/results/bootstrap.json. Exits 0 whatever the verdict.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_NAME=bench/bootstrap.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
export PARITY_INIT=${PARITY_INIT:-build/parity-init}
ensure_built PARITY_INIT
ensure_installed /usr/bin/tini=tini /usr/bin/python3=python3
export RUNS=${RUNS:-300} WARMUP=${WARMUP:-20} SEED=${SEED:-1} TARGET_RATIO=${TARGET_RATIO:-1.3}
export OUT=${OUT:-bench/results/bootstrap.json}
mkdir -p "$(dirname "$OUT")"

/usr/bin/python3 - <<'PY'
import json, os, random, statistics, subprocess, tempfile, time

E = os.environ
RUNS, WARMUP, RNG = int(E["RUNS"]), int(E["WARMUP"]), random.Random(int(E["SEED"]))
PARITY = os.path.abspath(E["PARITY_INIT"])
work = tempfile.mkdtemp(prefix="parity-bootstrap-")

# A realistic SageMaker training fixture: SDK-encoded hyperparameters, two hosts, two channels.
sm = os.path.join(work, "sm")
os.makedirs(os.path.join(sm, "input/config"))
files = {
    "hyperparameters.json": {"epochs": "10", "lr": "0.001", "batch-size": "64", "use_amp": "true",
                             "optimizer": "{\"name\": \"adamw\", \"betas\": [0.9, 0.999]}",
                             "sagemaker_program": "\"train.py\"", "sagemaker_region": "\"us-east-1\"",
                             "sagemaker_container_log_level": "20", "sagemaker_job_name": "\"bench\""},
    "resourceconfig.json": {"current_host": "algo-1", "current_instance_type": "ml.g5.2xlarge",
                            "current_group_name": "homogeneousCluster", "hosts": ["algo-1", "algo-2"],
                            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                                 "instance_type": "ml.g5.2xlarge", "hosts": ["algo-1", "algo-2"]}],
                            "network_interface_name": "eth0", "topology": None},
    "inputdataconfig.json": {c: {"ContentType": "text/csv", "TrainingInputMode": "File",
                                 "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
                             for c in ("train", "validation")},
}
for name, doc in files.items():
    with open(os.path.join(sm, "input/config", name), "w") as f:
        json.dump(doc, f)
data = os.path.join(work, "data")
os.makedirs(data)
spec = {"apiVersion": "parity/v1", "name": "bench", "hyperparameters": {"epochs": 10, "lr": 0.001},
        "inputs": {"train": "file://" + data}, "resources": {"instance_type": "ml.g5.2xlarge"}}

base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PARITY_LOG_LEVEL": "error"}
CMDS = [
    ("true", ["/bin/true"], base),
    ("tini", ["/usr/bin/tini", "--", "/bin/true"], base),
    ("parity-init sagemaker", [PARITY, "--root", sm, "--", "/bin/true"], dict(base, TRAINING_JOB_NAME="bench")),
    ("parity-init job-config", [PARITY, "--root", os.path.join(work, "local"), "--", "/bin/true"],
     dict(base, PARITY_JOB_CONFIG=json.dumps(spec))),
]
# The fixture must really go through the SageMaker path: check once that SM_* reach the child.
probe = subprocess.run([PARITY, "--root", sm, "--", "/usr/bin/env"], env=CMDS[2][2],
                       capture_output=True, text=True, check=True).stdout
assert "SM_HP_OPTIMIZER=" in probe and "SM_CURRENT_HOST=algo-1" in probe, probe

def once(argv, env):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1000
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit("bench/bootstrap.sh: %s exited %d" % (argv, p.returncode))
    return wall, (ru.ru_utime + ru.ru_stime) * 1e6

samples = {name: {"wall": [], "cpu": []} for name, _, _ in CMDS}
for r in range(WARMUP + RUNS):
    order = list(CMDS)
    RNG.shuffle(order)
    for name, argv, env in order:
        wall, cpu = once(argv, env)
        if r >= WARMUP:
            samples[name]["wall"].append(wall)
            samples[name]["cpu"].append(cpu)

med = {n: {k: statistics.median(v) for k, v in s.items()} for n, s in samples.items()}
tini = med["tini"]
print("bootstrap of INIT -- /bin/true, %d interleaved rounds (medians, microseconds)" % RUNS)
print("%-24s %10s %10s %10s %10s" % ("command", "wall", "cpu", "wall/tini", "cpu/tini"))
for name, _, _ in CMDS:
    m = med[name]
    print("%-24s %10.0f %10.0f %10.2f %10.2f" % (name, m["wall"], m["cpu"], m["wall"] / tini["wall"], m["cpu"] / tini["cpu"]))
target = float(E["TARGET_RATIO"])
ratio = med["parity-init sagemaker"]["wall"] / tini["wall"]
print("target: parity-init on the SageMaker fixture within %.1fx tini's whole-process time: %.2fx %s"
      % (target, ratio, "PASS" if ratio <= target else "FAIL"))
with open(E["OUT"], "w") as f:
    json.dump({"runs": RUNS, "medians_us": med, "ratio_wall": ratio, "target": target,
               "loadavg": open("/proc/loadavg").read().split()[:3]}, f, indent=1)
print("results: %s" % E["OUT"])
PY

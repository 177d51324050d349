# SPDX-License-Identifier: MIT
"""Black-box tests of parity-init's platform contract: platform detection and its evidence, the
job config (EKS/local) turned into SageMaker's /opt/ml files and environment, algo-N host
aliases on EKS, role commands (train/serve, image config, script mode), serving, failure
reports, --explain, and resource counts. parity-init runs the probe (tests/helpers/probe.c),
a shell or Python as its child; every run gets its own --root under tmp_path.

Nothing here sends traffic anywhere but 127.0.0.1: the host-alias tests, which make parity-init
resolve names, run it in a fresh network namespace (unshare --net) where no DNS server can be
reached. Nothing waits on time: tests wait for output, for exits, or poll with generous bounds.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EXIT_TIMEOUT, READY_TIMEOUT, REPO_ROOT, base_env, wait_until

EXIT_BOOT_FAILURE = 125
SERVE_EXAMPLE = REPO_ROOT / "images" / "serve-example" / "serve.py"
K8S_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
# (AWS's own key variables are consumed by the credentials phase; test_credentials.py covers them)
SECRET_VARS = {"WANDB_API_KEY": "wandb-not-a-real-key",
               "MY_API_TOKEN": "tok-5f1e2d3c", "DB_PASSWORD": "hunter2-pw"}
TERMLOG_MAX_BYTES = 4096  # Kubernetes keeps at most this much of a termination message
FAILURE_SHAPE = re.compile(
    r'\AExecuteUserScriptError:\nExitCode (?P<code>-?\d+)\nErrorMessage "(?P<message>.*?)"\n'
    # no final newline: the toolkit strips its message
    r'(?:ExtraInfo "(?P<extra>[^\n]*)"\n)?Command "(?P<command>[^\n]*)"\Z', re.S)


# --- helpers -------------------------------------------------------------------------------------
def spec(**fields):
    """A valid job spec (parity/v1) with fields added."""
    doc = {"apiVersion": "parity/v1", "name": "platform-test"}
    doc.update(fields)
    return doc


def job_env(doc, **extra):
    """Environment carrying doc inline as PARITY_JOB_CONFIG."""
    return {"PARITY_JOB_CONFIG": json.dumps(doc), **extra}


def child_env(result):
    """The probe's `env` output (a JSON array of KEY=VALUE) as a dict."""
    try:
        items = json.loads(result.out)
    except ValueError:
        pytest.fail(f"the child did not print its environment as JSON:\n{result}")
    return dict(item.split("=", 1) for item in items)


def records(result, phase):
    return [r for r in result.logs() if r["phase"] == phase]


def detect_record(result):
    found = [r for r in records(result, "detect") if "platform" in r["fields"]]
    assert len(found) == 1, f"expected one detect line with platform=:\n{result}"
    return found[0]


def error_lines(result):
    """parity-init's error messages: the whole line in text format, msg and fields in JSON."""
    lines = []
    for r in result.logs():
        if r["level"] != "error":
            continue
        if result.log_format == "json":
            lines.append(" ".join([str(r["msg"])] + [f"{k}={v}" for k, v in r["fields"].items()]))
        else:
            lines.append(r["raw"])
    return lines


def no_kubernetes_file():
    if os.path.exists(K8S_NAMESPACE_FILE):
        pytest.skip(f"{K8S_NAMESPACE_FILE} exists here: this machine is a Kubernetes pod")


def write_json(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def write_sagemaker_config(root, current_host="algo-1", hosts=("algo-1",)):
    """The three config files SageMaker writes before a training container starts."""
    conf = root / "input" / "config"
    write_json(conf / "hyperparameters.json", {"epochs": "2"})
    write_json(conf / "resourceconfig.json", {
        "current_host": current_host, "current_instance_type": "ml.m5.xlarge",
        "current_group_name": "homogeneousCluster", "hosts": list(hosts),
        "instance_groups": [{"instance_group_name": "homogeneousCluster",
                             "instance_type": "ml.m5.xlarge", "hosts": list(hosts)}],
        "network_interface_name": "eth0", "topology": None})
    write_json(conf / "inputdataconfig.json", {})


def read_json_pairs(path):
    """A JSON file's top-level object as a list of (key, value) pairs, in file order."""
    return json.loads(path.read_text(), object_pairs_hook=list)


def expected_num_gpus():
    """SM_NUM_GPUS as the training toolkit counts it: `nvidia-smi --list-gpus` lines, else 0."""
    try:
        out = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, check=True,
                             timeout=EXIT_TIMEOUT).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.split("\n") if line.startswith("GPU "))


def free_port():
    """A TCP port that nothing listens on right now (on any address, as serve.py binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def http_request(port, method, path, body=None, headers=None):
    """(status, body) of one request to 127.0.0.1:port (http.client: no proxy is ever used)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=READY_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_output(proc, stream, done, timeout=READY_TIMEOUT):
    """Waits (on the collector's condition, no polling) until done(bytes so far) holds, the
    stream closes, or timeout passes; returns the bytes collected by then."""
    deadline = time.monotonic() + timeout
    with proc.cond:
        while True:
            data = bytes(proc.buffers[stream])
            left = deadline - time.monotonic()
            if done(data) or stream not in proc.open_streams or left <= 0:
                return data
            proc.cond.wait(left)


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture
def pinit(spawn, init_cmd):
    """pinit(args, env=None, prefix=(), stdin=..., wait=True, log_format=None) runs
    PREFIX parity-init [--log-format FMT] ARGS with a minimal environment (PATH plus env) and
    returns its Result (or the Spawned if not wait). exe replaces parity-init's own path."""

    def run(args, env=None, prefix=(), stdin=subprocess.DEVNULL, wait=True, timeout=EXIT_TIMEOUT,
            exe=None, log_format=None):
        opts = ["--log-format", log_format] if log_format else []
        argv = [*prefix, *(init_cmd if exe is None else exe), *opts, *args]
        proc = spawn(argv, env=base_env(env), stdin=stdin, log_format=log_format or "text")
        return proc.wait(timeout=timeout) if wait else proc

    return run


@pytest.fixture
def root(tmp_path):
    """An ML root (the --root folder) that does not exist yet."""
    return tmp_path / "ml"


@pytest.fixture(scope="session")
def netns():
    """A prefix that runs a command in a fresh network namespace: only a (down) loopback, so
    a name lookup that misses /etc/hosts cannot send a DNS query anywhere."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private network namespace")
    if subprocess.run(["unshare", "--net", "true"], timeout=EXIT_TIMEOUT).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    return ["unshare", "--net"]


# --- 1. detection --------------------------------------------------------------------------------
def test_no_evidence_is_local(pinit, probe, root, log_format):
    no_kubernetes_file()
    r = pinit(["--root", root, "--", probe, "env"], log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["level"] == "info", r
    assert det["fields"]["platform"] == "local", r
    assert det["fields"]["evidence"] == "no platform evidence", r
    env = child_env(r)
    assert env["PARITY_PLATFORM"] == "local"
    assert env["PARITY_ROLE"] == "train"


def test_kubernetes_service_host_is_eks(pinit, probe, root, log_format):
    r = pinit(["--root", root, "--", probe, "env"], env={"KUBERNETES_SERVICE_HOST": "10.100.0.1"},
              log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["fields"]["platform"] == "eks", r
    assert "KUBERNETES_SERVICE_HOST" in det["fields"]["evidence"], r
    assert str(det["fields"]["grace_seconds"]) == "25", r  # Kubernetes kills 30 s after SIGTERM
    env = child_env(r)
    assert env["PARITY_PLATFORM"] == "eks"
    assert env["PARITY_ROLE"] == "train"


def test_job_config_without_kubernetes_is_local(pinit, probe, root, log_format):
    no_kubernetes_file()
    r = pinit(["--root", root, "--", probe, "env"], env=job_env(spec()), log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["fields"]["platform"] == "local", r
    assert "PARITY_JOB_CONFIG" in det["fields"]["evidence"], r
    assert child_env(r)["PARITY_PLATFORM"] == "local"


def test_training_job_name_with_config_files_is_sagemaker_training(pinit, probe, root,
                                                                  log_format):
    no_kubernetes_file()
    write_sagemaker_config(root, current_host="algo-2", hosts=("algo-1", "algo-2"))
    r = pinit(["--root", root, "--", probe, "env"], env={"TRAINING_JOB_NAME": "sm-job-1"},
              log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["fields"]["platform"] == "sagemaker-training", r
    assert "TRAINING_JOB_NAME" in det["fields"]["evidence"], r
    assert str(det["fields"]["grace_seconds"]) == "110", r  # SageMaker kills 120 s after SIGTERM
    env = child_env(r)
    assert env["PARITY_PLATFORM"] == "sagemaker-training"
    assert env["PARITY_ROLE"] == "train"
    # the job came from ROOT's files, not from anything parity-init made up
    assert env["SM_CURRENT_HOST"] == "algo-2"
    assert env["SM_HP_EPOCHS"] == "2"
    assert env["SM_MODEL_DIR"] == f"{root}/model"


def test_processing_job_config_file_is_sagemaker_processing(pinit, probe, root, log_format):
    no_kubernetes_file()
    write_json(root / "config" / "processingjobconfig.json", {"ProcessingJobName": "p-1"})
    r = pinit(["--root", root, "--", probe, "env"], log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["fields"]["platform"] == "sagemaker-processing", r
    assert "processingjobconfig.json" in det["fields"]["evidence"], r
    env = child_env(r)
    assert env["PARITY_PLATFORM"] == "sagemaker-processing"
    assert env["PARITY_ROLE"] == "process"


def test_argv_serve_is_sagemaker_hosting(pinit, probe, root, log_format):
    no_kubernetes_file()
    r = pinit(["--root", root, "serve"],
              env={"PARITY_SERVE_COMMAND": json.dumps([str(probe), "env"])}, log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["fields"]["platform"] == "sagemaker-hosting", r
    assert det["fields"]["evidence"] == "argv serve", r
    env = child_env(r)
    assert env["PARITY_PLATFORM"] == "sagemaker-hosting"
    assert env["PARITY_ROLE"] == "serve"


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("platform,role", [("eks", "train"), ("local", "train"),
                                           ("sagemaker-hosting", "serve"),
                                           ("sagemaker-processing", "process")])
def test_forced_platform_wins_over_evidence(pinit, probe, root, log_format, how, platform, role):
    # KUBERNETES_SERVICE_HOST would say eks; a forced local must beat it, and so on.
    env = {"KUBERNETES_SERVICE_HOST": "10.100.0.1"} if platform != "eks" else {}
    opts = ["--root", root]
    if how == "flag":
        opts += ["--platform", platform]
    else:
        env["PARITY_PLATFORM"] = platform
    r = pinit([*opts, "--", probe, "env"], env=env, log_format=log_format)
    assert r.returncode == 0, r
    det = detect_record(r)
    assert det["fields"]["platform"] == platform, r
    assert "forced" in det["fields"]["evidence"], r
    got = child_env(r)
    assert got["PARITY_PLATFORM"] == platform
    assert got["PARITY_ROLE"] == role


def test_platform_flag_wins_over_its_env_twin(pinit, probe, root):
    r = pinit(["--root", root, "--platform", "sagemaker-hosting", "--", probe, "env"],
              env={"PARITY_PLATFORM": "eks"})
    assert r.returncode == 0, r
    assert detect_record(r)["fields"]["platform"] == "sagemaker-hosting", r
    assert child_env(r)["PARITY_PLATFORM"] == "sagemaker-hosting"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_unknown_forced_platform_exits_125(pinit, root, log_format, tmp_path, how):
    marker = tmp_path / "ran"
    opts = ["--root", root] + (["--platform", "sagemaker-bogus"] if how == "flag" else [])
    env = {"PARITY_PLATFORM": "sagemaker-bogus"} if how == "env" else {}
    r = pinit([*opts, "--", "/bin/sh", "-c", f"echo ran > {marker}"], env=env,
              log_format=log_format)
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert not marker.exists(), "the command ran although the platform name is unknown"
    errors = error_lines(r)
    assert errors and "sagemaker-bogus" in errors[0], r
    # the message lists what is accepted
    for name in ("sagemaker-training", "sagemaker-processing", "sagemaker-hosting", "eks", "local"):
        assert name in errors[0], r


# --- 2. job config: the /opt/ml contract on EKS and locally ---------------------------------------
HYPERPARAMETERS = {
    "epochs": 10, "lr": 0.001, "tiny": 0.00001, "big": 100000000000000000000, "one": 1.0,
    "arch": "resnet50", "use_amp": True, "nothing": None, "betas": [0.9, 0.999],
    "opt": {"b": [0.9, 0.999], "name": "adam"}, "unicode": "caf\u00e9 \u2713",
    "quoted": "a \"b\" \\ c\n",
}
# JSON text with number spellings Python reads as floats (1E20 -> 1e+20, -0.0 stays -0.0).
HYPERPARAMETERS_TEXT = json.dumps(HYPERPARAMETERS)[:-1] + ', "exp": 1E20, "negzero": -0.0}'


def make_channels(tmp_path):
    train, val = tmp_path / "data-train", tmp_path / "data-validation"
    train.mkdir()
    val.mkdir()
    (train / "data.csv").write_text("1,2\n3,4\n")
    (val / "val.csv").write_text("5,6\n")
    return train, val


def full_spec_text(tmp_path):
    train, val = make_channels(tmp_path)
    doc = spec(resources={"instance_type": "ml.m5.xlarge", "instance_count": 1, "volume_gb": 30},
               inputs={"train": {"uri": f"file://{train}", "content_type": "text/csv",
                                 "mode": "Pipe", "distribution": "ShardedByS3Key"},
                       "validation": f"file://{val}"})
    text = json.dumps(doc)
    return text[:-1] + ', "hyperparameters": ' + HYPERPARAMETERS_TEXT + "}"


@pytest.mark.parametrize("source", ["inline", "file-uri"])
def test_job_config_writes_sagemaker_config_files(pinit, probe, root, tmp_path, source):
    text = full_spec_text(tmp_path)
    if source == "inline":
        env = {"PARITY_JOB_CONFIG": text}
    else:
        path = tmp_path / "job.json"
        path.write_text(text)
        env = {"PARITY_JOB_CONFIG_URI": f"file://{path}"}
    r = pinit(["--root", root, "--", probe, "exit", "0"], env=env)
    assert r.returncode == 0, r
    conf = root / "input" / "config"

    # hyperparameters.json: every value a string, json.dumps(value) as the SageMaker SDK sends it
    sent = json.loads(text)["hyperparameters"]
    assert read_json_pairs(conf / "hyperparameters.json") == \
        [(k, json.dumps(v)) for k, v in sent.items()]

    assert read_json_pairs(conf / "resourceconfig.json") == [
        ("current_host", "algo-1"),
        ("current_instance_type", "ml.m5.xlarge"),
        ("current_group_name", "homogeneousCluster"),
        ("hosts", ["algo-1"]),
        ("instance_groups", [[("instance_group_name", "homogeneousCluster"),
                              ("instance_type", "ml.m5.xlarge"), ("hosts", ["algo-1"])]]),
        ("network_interface_name", "eth0"),
        ("topology", None),
    ]

    # ContentType only for the channel that gave one; defaults File / FullyReplicated
    assert read_json_pairs(conf / "inputdataconfig.json") == [
        ("train", [("ContentType", "text/csv"), ("TrainingInputMode", "Pipe"),
                   ("S3DistributionType", "ShardedByS3Key"), ("RecordWrapperType", "None")]),
        ("validation", [("TrainingInputMode", "File"), ("S3DistributionType", "FullyReplicated"),
                        ("RecordWrapperType", "None")]),
    ]
    for d in ("model", "output/data", "output/intermediate", "code", "input/data/train",
              "input/data/validation"):
        assert (root / d).is_dir(), f"{root / d} is missing"
    # no checkpoints in the spec: no checkpointconfig.json, as on SageMaker
    assert not (conf / "checkpointconfig.json").exists()


def test_file_channel_is_read_through_sm_channel(pinit, root, tmp_path):
    train, val = make_channels(tmp_path)
    doc = spec(inputs={"train": f"file://{train}", "validation": {"uri": f"file://{val}"}})
    script = 'printf "%s|%s|" "$SM_CHANNEL_TRAIN" "$SM_CHANNEL_VALIDATION"; ' \
             'cat "$SM_CHANNEL_TRAIN/data.csv" "$SM_CHANNEL_VALIDATION/val.csv"'
    r = pinit(["--root", root, "--", "/bin/sh", "-c", script], env=job_env(doc))
    assert r.returncode == 0, r
    assert r.out == f"{root}/input/data/train|{root}/input/data/validation|1,2\n3,4\n5,6\n", r
    assert os.path.realpath(root / "input/data/train") == os.path.realpath(train)


@pytest.mark.parametrize("local_path,expected", [
    ("/opt/ml/checkpoints/run-1", "{root}/checkpoints/run-1"),
    (None, "{root}/checkpoints"),  # the spec's default, /opt/ml/checkpoints
    ("{tmp}/elsewhere/ck", "{tmp}/elsewhere/ck"),  # outside /opt/ml: taken as is
])
def test_checkpoint_local_path_follows_root(pinit, probe, root, tmp_path, local_path, expected):
    ck = {"uri": f"file://{tmp_path}/ck-store/"}
    if local_path:
        ck["local_path"] = local_path.format(tmp=tmp_path)
    existed = os.path.exists("/opt/ml/checkpoints")
    r = pinit(["--root", root, "--", probe, "exit", "0"], env=job_env(spec(checkpoints=ck)))
    assert r.returncode == 0, r
    want = expected.format(root=root, tmp=tmp_path)
    assert read_json_pairs(root / "input/config/checkpointconfig.json") == [("LocalPath", want)]
    assert os.path.isdir(want)
    assert os.path.exists("/opt/ml/checkpoints") == existed, "made a path in the real /opt/ml"


BAD_SPEC = {
    "apiVersion": "parity/v1",
    "name": "Bad_Name",
    "foo": 1,
    "inputs": {"train": {"uri": "file:///tmp", "mode": "Streaming"}},
    "resources": {"instance_count": 1.5},
}


@pytest.mark.parametrize("source", ["inline", "file-uri"])
def test_invalid_job_config_reports_every_problem(pinit, root, log_format, tmp_path, source):
    marker = tmp_path / "ran"
    if source == "inline":
        env = job_env(BAD_SPEC)
    else:
        write_json(tmp_path / "bad.json", BAD_SPEC)
        env = {"PARITY_JOB_CONFIG_URI": f"file://{tmp_path / 'bad.json'}"}
    r = pinit(["--root", root, "--", "/bin/sh", "-c", f"echo ran > {marker}"], env=env,
              log_format=log_format)
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert not marker.exists(), "the command ran despite an invalid job config"
    errors = error_lines(r)

    def reported(*needles):
        return any(all(n in line for n in needles) for line in errors)

    assert reported("$.foo", "unknown field"), r
    assert reported("$.name", "Bad_Name"), r
    assert reported("$.inputs.train", "mode", "Streaming"), r
    assert reported("$.resources.instance_count", "integer"), r
    assert not (root / "input" / "config").exists(), "config files were written for a bad spec"


def test_invalid_channel_mode_is_reported_at_its_own_path(pinit, root):
    doc = spec(inputs={"train": {"uri": "file:///tmp", "mode": "Streaming",
                                 "distribution": "Random"}})
    r = pinit(["--root", root, "--", "/bin/true"], env=job_env(doc))
    assert r.returncode == EXIT_BOOT_FAILURE, r
    errors = error_lines(r)
    assert any("$.inputs.train.mode:" in line for line in errors), r
    assert any("$.inputs.train.distribution:" in line for line in errors), r


def test_job_name_and_spec_environment_reach_the_child(pinit, probe, root):
    doc = spec(name="fraud-train-7", environment={"LOG_FORMAT": "json", "SHARED": "from-spec"})
    r = pinit(["--root", root, "--", probe, "env"], env=job_env(doc, SHARED="from-pod"))
    assert r.returncode == 0, r
    env = child_env(r)
    assert env["TRAINING_JOB_NAME"] == "fraud-train-7"
    assert env["PARITY_JOB_NAME"] == "fraud-train-7"
    assert env["LOG_FORMAT"] == "json"
    assert env["SHARED"] == "from-pod", "an inherited value must win over the spec's"


# --- 3. hosts on EKS -----------------------------------------------------------------------------
def eks_env(hosts_file, count, index, peers, **extra):
    return job_env(spec(resources={"instance_count": count}), KUBERNETES_SERVICE_HOST="10.100.0.1",
                   JOB_COMPLETION_INDEX=str(index), PARITY_HOSTS=peers,
                   PARITY_HOSTS_FILE=str(hosts_file), **extra)


HOSTS_BEFORE = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"


def test_eks_multi_host_gets_algo_aliases_and_rank(pinit, probe, root, tmp_path, netns):
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS_BEFORE)
    r = pinit(["--root", root, "--peer-wait-seconds", "30", "--", probe, "env"],
              env=eks_env(hosts, 2, 1, "localhost,localhost"), prefix=netns)
    assert r.returncode == 0, r
    text = hosts.read_text()
    assert text.startswith(HOSTS_BEFORE), "the hosts file lost its own lines"
    added = [line.split() for line in text[len(HOSTS_BEFORE):].splitlines() if line.strip()]
    assert sorted(name for _, name in added) == ["algo-1", "algo-2"], text
    assert all(ip in ("127.0.0.1", "::1") for ip, _ in added), text
    env = child_env(r)
    assert env["SM_CURRENT_HOST"] == "algo-2"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1", "algo-2"]
    assert env["NODE_RANK"] == "1"
    assert env["NNODES"] == "2"
    assert env["MASTER_ADDR"] == "algo-1"
    resourceconfig = read_json_pairs(root / "input/config/resourceconfig.json")
    assert resourceconfig[0] == ("current_host", "algo-2")


def test_eks_unresolvable_peer_exits_125(pinit, root, log_format, tmp_path, netns):
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS_BEFORE)
    marker = tmp_path / "ran"
    r = pinit(["--root", root, "--peer-wait-seconds", "1", "--", "/bin/sh", "-c",
               f"echo ran > {marker}"],
              env=eks_env(hosts, 2, 0, "localhost,nosuchhost.invalid"), prefix=netns,
              log_format=log_format)
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert not marker.exists()
    assert any("algo-2" in line and "nosuchhost.invalid" in line for line in error_lines(r)), r
    assert hosts.read_text() == HOSTS_BEFORE, "aliases were written although a peer is unknown"


def test_eks_single_host_needs_no_lookup(pinit, probe, root, tmp_path, netns):
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS_BEFORE)
    # were the name looked up, it would fail and parity-init would exit 125 after 1 s
    r = pinit(["--root", root, "--peer-wait-seconds", "1", "--", probe, "env"],
              env=eks_env(hosts, 1, 0, "nosuchhost.invalid"), prefix=netns)
    assert r.returncode == 0, r
    assert hosts.read_text() == HOSTS_BEFORE
    assert not records(r, "hosts"), r
    env = child_env(r)
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert env["NNODES"] == "1"


@pytest.mark.parametrize("index", ["2", "5"])
def test_job_completion_index_out_of_range_exits_125(pinit, root, tmp_path, netns, index):
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS_BEFORE)
    r = pinit(["--root", root, "--peer-wait-seconds", "1", "--", "/bin/true"],
              env=eks_env(hosts, 2, index, "localhost,localhost"), prefix=netns)
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert any("JOB_COMPLETION_INDEX" in line for line in error_lines(r)), r
    assert hosts.read_text() == HOSTS_BEFORE


# --- 4. roles and commands -----------------------------------------------------------------------
def test_train_runs_parity_train_command(pinit, probe, root):
    r = pinit(["--root", root, "train"],
              env={"PARITY_TRAIN_COMMAND": json.dumps([str(probe), "argv", "from env"])})
    assert r.returncode == 0, r
    assert json.loads(r.out) == [str(probe), "argv", "from env"]
    cmd = [x for x in records(r, "command") if "source" in x["fields"]]
    assert cmd and cmd[0]["fields"]["source"] == "PARITY_TRAIN_COMMAND", r


def test_extra_args_after_train_are_appended(pinit, probe, root):
    r = pinit(["--root", root, "train", "--epochs", "3", "x y"],
              env={"PARITY_TRAIN_COMMAND": json.dumps([str(probe), "argv", "base"])})
    assert r.returncode == 0, r
    assert json.loads(r.out) == [str(probe), "argv", "base", "--epochs", "3", "x y"]


@pytest.fixture
def image_config(tmp_path, probe):
    path = tmp_path / "image.json"
    write_json(path, {"train_command": [str(probe), "argv", "image-train"],
                      "serve_command": [str(probe), "argv", "image-serve"]})
    return path


@pytest.mark.parametrize("role", ["train", "serve"])
def test_image_config_names_the_role_command(pinit, probe, root, image_config, role):
    r = pinit(["--root", root, role], env={"PARITY_IMAGE_CONFIG": str(image_config)})
    assert r.returncode == 0, r
    assert json.loads(r.out) == [str(probe), "argv", f"image-{role}"]


@pytest.mark.parametrize("role", ["train", "serve"])
def test_command_variable_wins_over_image_config(pinit, probe, root, image_config, role):
    env = {"PARITY_IMAGE_CONFIG": str(image_config),
           f"PARITY_{role.upper()}_COMMAND": json.dumps([str(probe), "argv", "variable"])}
    r = pinit(["--root", root, role], env=env)
    assert r.returncode == 0, r
    assert json.loads(r.out) == [str(probe), "argv", "variable"]


def test_missing_image_config_file_exits_125(pinit, probe, root, tmp_path):
    missing = tmp_path / "no-such-image.json"
    r = pinit(["--root", root, "train"],
              env={"PARITY_IMAGE_CONFIG": str(missing),
                   "PARITY_TRAIN_COMMAND": json.dumps([str(probe), "exit", "0"])})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert any(str(missing) in line for line in error_lines(r)), r


@pytest.mark.parametrize("role", ["train", "serve"])
def test_symlink_named_after_role_runs_role_command(pinit, init_wrapper, parity_init, probe, root,
                                                    tmp_path, image_config, role):
    link = tmp_path / "bin" / role
    link.parent.mkdir()
    link.symlink_to(Path(parity_init).resolve())
    r = pinit(["--root", root], env={"PARITY_IMAGE_CONFIG": str(image_config)},
              exe=[*init_wrapper, str(link)])
    assert r.returncode == 0, r
    assert json.loads(r.out) == [str(probe), "argv", f"image-{role}"]
    # the same link gives its role to the child's environment
    r = pinit(["--root", root], exe=[*init_wrapper, str(link)],
              env={"PARITY_IMAGE_CONFIG": str(image_config),
                   f"PARITY_{role.upper()}_COMMAND": json.dumps([str(probe), "env"])})
    assert r.returncode == 0, r
    assert child_env(r)["PARITY_ROLE"] == role


SCRIPTS = {
    "train.py": ("import json, os, sys\n"
                 "print(json.dumps({'argv': sys.argv, 'cwd': os.getcwd()}))\n"),
    "train.sh": ("printf '%s\\n' \"$0\" \"$@\" | python3 -c "
                 "\"import json, os, sys; a = sys.stdin.read().splitlines(); "
                 "print(json.dumps({'argv': a, 'cwd': os.getcwd()}))\"\n"),
    "train-bin": ("#!/usr/bin/python3\nimport json, os, sys\n"
                  "print(json.dumps({'argv': sys.argv, 'cwd': os.getcwd()}))\n"),
}


@pytest.mark.parametrize("program,argv0", [("train.py", "train.py"), ("train.sh", "train.sh"),
                                           ("train-bin", "./train-bin")])
def test_script_mode_runs_sagemaker_program_in_code_dir(pinit, root, program, argv0):
    code = root / "code"
    code.mkdir(parents=True)
    (code / program).write_text(SCRIPTS[program])
    if program == "train-bin":
        (code / program).chmod(0o755)
    doc = spec(hyperparameters={"epochs": 3, "name": "a b", "lr": 0.1})
    r = pinit(["--root", root, "train"], env=job_env(doc, SAGEMAKER_PROGRAM=program))
    assert r.returncode == 0, r
    got = json.loads(r.out)
    # the toolkit's to_cmd_args: sorted keys, --key value, values as str()
    assert got["argv"] == [argv0, "--epochs", "3", "--lr", "0.1", "--name", "a b"], r
    assert os.path.realpath(got["cwd"]) == os.path.realpath(code)
    cmd = [x for x in records(r, "command") if "source" in x["fields"]]
    assert cmd and cmd[0]["fields"]["source"] == "script mode", r
    want_interpreter = {"train.py": "python3", "train.sh": "/bin/sh"}.get(program, argv0)
    assert cmd[0]["fields"]["command"] == want_interpreter, r


@pytest.fixture
def empty_image_config(tmp_path):
    return write_json(tmp_path / "empty-image.json", {})


def test_train_without_any_command_exits_125(pinit, root, tmp_path, empty_image_config):
    r = pinit(["--root", root, "train"], env={"PARITY_IMAGE_CONFIG": str(empty_image_config)})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    errors = error_lines(r)
    assert errors, r
    # it tells every way to give one
    for way in ("PARITY_TRAIN_COMMAND", "train_command", "SAGEMAKER_PROGRAM"):
        assert way in errors[0], r


def test_no_command_message_names_the_image_config_in_use(pinit, root, empty_image_config):
    r = pinit(["--root", root, "train"], env={"PARITY_IMAGE_CONFIG": str(empty_image_config)})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert str(empty_image_config) in error_lines(r)[0], r


def test_a_job_config_lets_the_image_config_give_the_command(pinit, probe, root, tmp_path):
    """An EKS pod as the launcher renders it for a spec without a command: `parity-init --` and
    nothing after; the job config's role picks the image config's command."""
    image = tmp_path / "image.json"
    image.write_text(json.dumps({"train_command": [str(probe), "exit", "7"]}))
    r = pinit(["--root", root, "--platform", "local", "--"],
              env={"PARITY_IMAGE_CONFIG": str(image), **job_env(spec())})
    assert r.returncode == 7, r
    # without a job config, no command is still a usage error
    r = pinit(["--root", root, "--platform", "local", "--"], env={"PARITY_IMAGE_CONFIG": str(image)})
    assert r.returncode == EXIT_BOOT_FAILURE and "no command given" in r.err, r


# --- 5. serving ----------------------------------------------------------------------------------
@pytest.mark.parametrize("given,expected", [(None, "8080"), ("9123", "9123")])
def test_serve_role_gets_sagemaker_bind_to_port(pinit, probe, root, given, expected):
    env = {"SAGEMAKER_BIND_TO_PORT": given} if given else {}
    r = pinit(["--root", root, "--platform", "sagemaker-hosting", "--", probe, "env"], env=env)
    assert r.returncode == 0, r
    got = child_env(r)
    assert got["PARITY_ROLE"] == "serve"
    assert got["SAGEMAKER_BIND_TO_PORT"] == expected


def test_train_role_gets_no_bind_port(pinit, probe, root):
    r = pinit(["--root", root, "--platform", "local", "--", probe, "env"])
    assert r.returncode == 0, r
    assert "SAGEMAKER_BIND_TO_PORT" not in child_env(r)


def test_serve_example_answers_ping_and_invocations(pinit, root):
    (root / "model").mkdir(parents=True)
    write_json(root / "model" / "model.json", {"w": 2.0, "b": 0.5})
    port = free_port()
    proc = pinit(["--root", root, "--platform", "sagemaker-hosting", "--",
                  "python3", SERVE_EXAMPLE], env={"SAGEMAKER_BIND_TO_PORT": str(port)},
                 wait=False)
    proc.wait_line(rf"^serve: listening on port {port}\b")

    def ping():
        try:
            return http_request(port, "GET", "/ping")[0] == 200
        except OSError:
            return False

    assert wait_until(ping, READY_TIMEOUT), f"GET /ping never answered 200:\n{proc.wait(10)}"
    status, body = http_request(port, "POST", "/invocations", body=b"1,2",
                                headers={"Content-Type": "text/csv"})
    assert status == 200, body
    assert [float(x) for x in body.decode().split()] == [2.5, 4.5]
    proc.send(signal.SIGTERM)
    r = proc.wait(timeout=20)  # well inside the 25 s grace: the server stops on SIGTERM itself
    assert r.returncode == 0, r
    # SAGEMAKER_BASE_DIR came from --root: the model was found there, not in /opt/ml
    assert "'w': 2.0" in r.out, r


# --- 6. failure reporting ------------------------------------------------------------------------
def run_failing(pinit, root, tmp_path, command, doc=None):
    termlog = tmp_path / "termination-log"
    env = job_env(doc or spec(), PARITY_TERMINATION_LOG=str(termlog))
    return pinit(["--root", root, "--", *command], env=env), termlog


def parse_failure(text):
    m = FAILURE_SHAPE.match(text)
    assert m, f"not the toolkit's failure shape:\n{text!r}"
    return m


def test_child_failure_writes_toolkit_failure_reason(pinit, root, tmp_path):
    script = ("echo 'Traceback (most recent call last):' >&2; "
              "echo 'ValueError: bad \"lr\"' >&2; exit 3")
    command = ["/bin/sh", "-c", script]
    r, termlog = run_failing(pinit, root, tmp_path, command)
    assert r.returncode == 3, r
    text = (root / "output" / "failure").read_text()
    m = parse_failure(text)
    assert m["code"] == "3"
    assert "Traceback (most recent call last):" in m["message"]
    assert 'ValueError: bad "lr"' in m["message"]
    assert m["extra"] is None
    assert m["command"] == " ".join(command)
    assert termlog.read_text() == text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_child_killed_by_signal_is_reported(pinit, probe, root, tmp_path, sig):
    r, termlog = run_failing(pinit, root, tmp_path, [probe, "kill-self", str(int(sig))])
    assert r.returncode == 128 + sig, r
    text = (root / "output" / "failure").read_text()
    m = parse_failure(text)
    assert m["extra"] == f"Process killed by {sig.name} (signal {int(sig)})", text
    assert termlog.read_text() == text


def test_long_stderr_is_cut_to_its_last_lines(pinit, root, tmp_path):
    lines = [f"line-{i:02d} " + "x" * 300 for i in range(40)]
    script = "".join(f"echo '{line}' >&2; " for line in lines) + "exit 9"
    r, termlog = run_failing(pinit, root, tmp_path, ["/bin/sh", "-c", script])
    assert r.returncode == 9, r
    text = (root / "output" / "failure").read_text()
    m = parse_failure(text)
    assert m["message"].endswith(lines[-1]), text
    assert "line-00" not in m["message"], "the excerpt should be the end of stderr"
    raw = termlog.read_bytes()
    assert len(raw) <= TERMLOG_MAX_BYTES
    assert raw.decode() == text


def test_failure_file_written_by_user_code_is_kept(pinit, root, tmp_path):
    failure = root / "output" / "failure"
    script = f"printf 'my own reason' > {failure}; echo oops >&2; exit 4"
    r, _ = run_failing(pinit, root, tmp_path, ["/bin/sh", "-c", script])
    assert r.returncode == 4, r
    assert failure.read_text() == "my own reason"


def test_bootstrap_failure_writes_one_line_to_both(pinit, root, tmp_path):
    root.mkdir()
    termlog = tmp_path / "termination-log"
    r = pinit(["--root", root, "--", "/bin/true"],
              env=job_env(spec(name="Not_A_Label"), PARITY_TERMINATION_LOG=str(termlog)))
    assert r.returncode == EXIT_BOOT_FAILURE, r
    text = (root / "output" / "failure").read_text()
    assert text.startswith("parity-init: "), text
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert "$.name" in text, text
    assert termlog.read_text() == text


def test_bootstrap_failure_with_fresh_root_still_writes_failure_file(pinit, root, tmp_path):
    termlog = tmp_path / "termination-log"
    r = pinit(["--root", root, "--", "/bin/true"],
              env=job_env(spec(name="Not_A_Label"), PARITY_TERMINATION_LOG=str(termlog)))
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert termlog.read_text().startswith("parity-init: ")
    assert (root / "output" / "failure").read_text() == termlog.read_text()


def test_missing_job_config_file_exits_125(pinit, root, tmp_path):
    missing = tmp_path / "no-such-job.json"
    termlog = tmp_path / "termination-log"
    r = pinit(["--root", root, "--", "/bin/true"],
              env={"PARITY_JOB_CONFIG_URI": f"file://{missing}",
                   "PARITY_TERMINATION_LOG": str(termlog)})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert any(str(missing) in line for line in error_lines(r)), r
    text = termlog.read_text()
    assert text.startswith("parity-init: ") and str(missing) in text, text


def test_success_writes_no_failure_reason(pinit, probe, root, tmp_path):
    r, termlog = run_failing(pinit, root, tmp_path, [probe, "exit", "0"])
    assert r.returncode == 0, r
    assert (root / "output").is_dir()
    assert not (root / "output" / "failure").exists()
    assert not termlog.exists()


def test_child_stderr_is_relayed_byte_for_byte(pinit, probe, root):
    data = (b"plain line\n\xff\xfe not utf-8 \x00 nul\r\ncarriage\r" + bytes(range(1, 256)) +
            b"\n" + b"y" * 40000 + b"\nno newline at the end")
    r = pinit(["--root", root, "--log-level", "error", "--", probe, "stdio", "", data.hex()])
    assert r.returncode == 0, r
    assert r.stderr == data


def test_partial_stderr_line_is_relayed_at_once(pinit, root):
    script = 'printf abc >&2; read line; printf "got:%s\\n" "$line"'
    proc = pinit(["--root", root, "--log-level", "error", "--", "/bin/sh", "-c", script],
                 stdin=subprocess.PIPE, wait=False)
    # the child now waits for stdin: "abc" can only arrive if parity-init relays it unbuffered
    got = wait_output(proc, "stderr", lambda data: data == b"abc" or len(data) > 3)
    assert got == b"abc" and proc.popen.poll() is None, proc.wait(10)
    assert proc.text("stdout") == ""
    proc.write_stdin(b"go\n")
    r = proc.wait()
    assert r.returncode == 0, r
    assert r.out == "got:go\n"
    assert r.stderr == b"abc"


# --- 7. --explain --------------------------------------------------------------------------------
EXPLAIN_KEYS = {"platform", "evidence", "role", "command", "command_source", "cwd", "ml_root",
                "job", "environment", "files"}


def explain_opts(how):
    return (["--explain"], {}) if how == "flag" else ([], {"PARITY_EXPLAIN": "1"})


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("root_exists", [True, False])
def test_explain_prints_the_plan_and_does_nothing(pinit, root, tmp_path, how, root_exists):
    no_kubernetes_file()
    if root_exists:
        root.mkdir()
    train, _ = make_channels(tmp_path)
    marker, termlog = tmp_path / "ran", tmp_path / "termination-log"
    doc = spec(hyperparameters={"epochs": 3}, inputs={"train": f"file://{train}"},
               checkpoints={"uri": "s3://bucket/ck/"})
    opts, env = explain_opts(how)
    command = ["/bin/sh", "-c", f"echo ran > {marker}; exit 3"]
    r = pinit(["--root", root, *opts, "--", *command],
              env=job_env(doc, PARITY_TERMINATION_LOG=str(termlog), **env))
    assert r.returncode == 0, r
    plan = json.loads(r.out)  # exactly one JSON document
    assert EXPLAIN_KEYS <= set(plan), plan.keys()
    assert plan["platform"] == "local"
    assert "PARITY_JOB_CONFIG" in plan["evidence"]
    assert plan["role"] == "train"
    assert plan["command"] == command
    assert plan["command_source"] == "command line"
    assert plan["ml_root"] == str(root)
    assert plan["job"]["current_host"] == "algo-1"
    assert plan["job"]["hyperparameters"] == {"epochs": "3"}
    assert plan["environment"]["SM_CHANNEL_TRAIN"] == f"{root}/input/data/train"
    for f in ("input/config/hyperparameters.json", "input/config/resourceconfig.json",
              "input/config/inputdataconfig.json", "input/config/checkpointconfig.json"):
        assert f"{root}/{f}" in plan["files"], plan["files"]
    # ran nothing, wrote nothing
    assert not marker.exists()
    assert not termlog.exists()
    if root_exists:
        assert list(root.iterdir()) == []
    else:
        assert not root.exists()


def test_explain_environment_is_what_the_child_gets(pinit, probe, root):
    doc = spec(hyperparameters={"lr": 0.1}, environment={"FROM_SPEC": "1"})
    plan_run = pinit(["--root", root, "--explain", "--", probe, "env"], env=job_env(doc))
    assert plan_run.returncode == 0, plan_run
    real = pinit(["--root", root, "--", probe, "env"], env=job_env(doc))
    assert real.returncode == 0, real
    assert json.loads(plan_run.out)["environment"] == child_env(real)


@pytest.mark.parametrize("how", ["flag", "env"])
def test_explain_redacts_secret_values(pinit, probe, root, how):
    opts, env = explain_opts(how)
    env.update(SECRET_VARS)
    env["ORDINARY_SETTING"] = "plain-value"
    r = pinit(["--root", root, *opts, "--", probe, "env"], env=env)
    assert r.returncode == 0, r
    shown = json.loads(r.out)["environment"]
    for name, value in SECRET_VARS.items():
        assert shown[name] == "<redacted>", name
        assert value not in r.out and value not in r.err
    assert shown["ORDINARY_SETTING"] == "plain-value"
    assert shown["PATH"] == base_env()["PATH"]


def test_explain_does_not_leak_secrets_from_the_job_config(pinit, probe, root):
    secret = SECRET_VARS["DB_PASSWORD"]
    doc = spec(environment={"DB_PASSWORD": secret})
    r = pinit(["--root", root, "--explain", "--", probe, "env"], env=job_env(doc))
    assert r.returncode == 0, r
    assert json.loads(r.out)["environment"]["DB_PASSWORD"] == "<redacted>"
    assert secret not in r.out


def test_explain_on_eks_resolves_and_writes_no_hosts(pinit, probe, root, tmp_path, netns):
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS_BEFORE)
    r = pinit(["--root", root, "--explain", "--peer-wait-seconds", "1", "--", probe, "env"],
              env=eks_env(hosts, 2, 1, "nosuchhost.invalid,nosuchhost.invalid"), prefix=netns)
    assert r.returncode == 0, r
    plan = json.loads(r.out)
    assert plan["platform"] == "eks"
    assert plan["job"]["current_host"] == "algo-2"
    assert hosts.read_text() == HOSTS_BEFORE
    assert not root.exists()


# --- 8. resources --------------------------------------------------------------------------------
def train_env(pinit, probe, root, prefix=(), **extra):
    r = pinit(["--root", root, "--", probe, "env"], env=job_env(spec(), **extra), prefix=prefix)
    assert r.returncode == 0, r
    return child_env(r)


def test_cpu_counts(pinit, probe, root):
    env = train_env(pinit, probe, root)
    assert int(env["SM_NUM_CPUS"]) == os.cpu_count()
    limit = int(env["PARITY_CPU_LIMIT"])
    assert 1 <= limit <= os.cpu_count()
    assert limit <= len(os.sched_getaffinity(0))
    assert json.loads(env["SM_TRAINING_ENV"])["num_cpus"] == os.cpu_count()


def test_cpu_affinity_limits_cpu_limit_not_num_cpus(pinit, probe, root):
    if shutil.which("taskset") is None:
        pytest.skip("taskset (util-linux) is not installed")
    env = train_env(pinit, probe, root, prefix=["taskset", "-c", "0"])
    assert env["PARITY_CPU_LIMIT"] == "1"
    assert int(env["SM_NUM_CPUS"]) == os.cpu_count()


@pytest.mark.parametrize("cuda_visible", [None, ""])
def test_num_gpus(pinit, probe, root, cuda_visible):
    extra = {} if cuda_visible is None else {"CUDA_VISIBLE_DEVICES": cuda_visible}
    env = train_env(pinit, probe, root, **extra)
    want = expected_num_gpus() if cuda_visible is None else 0
    assert env["SM_NUM_GPUS"] == str(want)
    assert json.loads(env["SM_TRAINING_ENV"])["num_gpus"] == want


# --- usage ---------------------------------------------------------------------------------------
def test_help_lists_every_platform_option(pinit):
    r = pinit(["--help"])
    assert r.returncode == 0, r
    for opt in ("--root", "--explain", "--master-port", "--peer-wait-seconds", "PARITY_ML_ROOT",
                "PARITY_EXPLAIN"):
        assert opt in r.out, opt

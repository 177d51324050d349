# SPDX-License-Identifier: MIT
"""End to end (issue #8): the images built from Dockerfile.base and images/*-example by buildah,
pushed to OCI layouts, unpacked by umoci and run by runc, started the way SageMaker and EKS
start containers. Credentials come from loopback fakes (tests/servers), S3 is the loopback S3
fake; nothing leaves 127.0.0.1. Run by `make e2e` after tests/e2e/build-images.sh."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import uuid

import pytest

from conftest import REPO_ROOT, bind, is_static_elf, sagemaker_config_files

BUCKET = "test-bucket"
DATA = REPO_ROOT / "examples" / "data" / "train" / "data.csv"
BUSYBOX = "/bin/busybox"
EXIT_TIMEOUT = 120
PY = "/usr/bin/python3"

SPEC = {
    "apiVersion": "parity/v1",
    "role": "train",
    "hyperparameters": {"epochs": 10, "lr": 0.05, "arch": "linear", "use_amp": True,
                        "betas": [0.9, 0.999]},
    "resources": {"instance_type": "ml.m5.large", "instance_count": 1},
}

# The parity probe: what a training script can see. Run in the train image on both platforms.
PROBE = r"""
import json, os
import boto3
from botocore.config import Config
out = {"env": dict(os.environ)}
dirs, files = [], []
for root, ds, fs in os.walk("/opt/ml", followlinks=True):
    dirs.append(root)
    files += [os.path.join(root, f) for f in fs]
out["dirs"], out["files"] = sorted(dirs), sorted(files)
session = boto3.Session()
creds = session.get_credentials()
out["credentials"] = {"method": creds.method if creds else None,
                      "has_token": bool(creds and creds.get_frozen_credentials().token),
                      "endpoint_is_loopback": os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
                          .startswith("http://127.0.0.1:"),
                      "authorization_token_len": len(os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", ""))}
s3 = session.client("s3", endpoint_url=os.environ["E2E_S3_URL"],
                    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
key = os.environ["E2E_S3_KEY"]
s3.put_object(Bucket="test-bucket", Key=key, Body=b"written by the probe")
out["credentials"]["s3_roundtrip"] = s3.get_object(Bucket="test-bucket", Key=key)["Body"].read().decode()
print(json.dumps(out))
"""

TRAP_TERM = """
import signal, sys, time
def on_term(signum, frame):
    print("got-term", flush=True)
    sys.exit(42)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(1)
"""

# The pod's args. `parity run --target eks` renders command ["/usr/local/bin/parity-init", "--"]
# and no args when the job spec has no command (shim/eks_manifest.c), but parity-init then stops
# with "no command given" (exit 125): test_eks_pod_without_args_uses_the_image_command, an
# expected failure until that is fixed. The role word is what SageMaker passes too.
EKS_TRAIN_ARGS = ["train"]
EKS_SERVE_ARGS = ["serve"]

IGNORE_TERM = """
import signal, time
signal.signal(signal.SIGTERM, lambda *a: print("ignoring-term", flush=True))
print("ready", flush=True)
while True:
    time.sleep(1)
"""


def sagemaker_root(tmp, spec, name, channel_files):
    """An /opt/ml as SageMaker prepares it before `docker run IMAGE train`: the config files
    (contract/sagemaker.md §1.3: JSON-encoded hyperparameters, one host, the channel) and the
    channel downloaded into input/data/train."""
    root = tmp / name
    (root / "input/config").mkdir(parents=True)
    for fname, doc in sagemaker_config_files(spec).items():
        (root / "input/config" / fname).write_text(json.dumps(doc))
    channel = root / "input/data/train"
    channel.mkdir(parents=True)
    for rel, data in channel_files.items():
        (channel / rel).parent.mkdir(parents=True, exist_ok=True)
        (channel / rel).write_bytes(data)
    for d in ("model", "output"):
        (root / d).mkdir()
    return root


@pytest.fixture
def creds(fakes):
    """The container-credentials fake (tests/servers/container_creds.py) on 127.0.0.1: as the
    SageMaker/ECS agent (a token in the environment) and as the EKS Pod Identity agent (a
    token file)."""
    token = "e2e-" + uuid.uuid4().hex
    fake = fakes("container_creds", "--token", token)
    fake.token = token
    return fake


def sagemaker_env(creds, job):
    # SageMaker's agent is AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2; the tests
    # never send traffic there, so the same agent protocol is given as a full loopback URI.
    return [f"TRAINING_JOB_NAME={job}", "AWS_REGION=us-east-1",
            f"AWS_CONTAINER_CREDENTIALS_FULL_URI={creds.url}/v1/credentials",
            f"AWS_CONTAINER_AUTHORIZATION_TOKEN={creds.token}"]


@pytest.fixture
def eks_pod(tmp_path, creds, s3):
    """What the kubelet gives an EKS pod: the service-account folder, the Pod Identity token
    file, a writable /etc/hosts, an emptyDir at /opt/ml, /dev/termination-log. Returns
    (env, mounts, paths) for a job config."""
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    for name, text in (("namespace", "ml"), ("token", "sa-token"), ("ca.crt", "")):
        (sa / name).write_text(text)
    pod_identity = tmp_path / "pod-identity"
    pod_identity.mkdir()
    (pod_identity / "eks-pod-identity-token").write_text(creds.token + "\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    opt_ml = tmp_path / "eks-opt-ml"
    opt_ml.mkdir()
    term = tmp_path / "termination-log"
    term.write_text("")
    env = ["KUBERNETES_SERVICE_HOST=10.100.0.1", "KUBERNETES_SERVICE_PORT=443",
           "AWS_REGION=us-east-1", f"AWS_ENDPOINT_URL_S3={s3.url}",
           f"AWS_CONTAINER_CREDENTIALS_FULL_URI={creds.url}/v1/credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="
           "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"]
    mounts = [bind(sa, "/var/run/secrets/kubernetes.io/serviceaccount", readonly=True),
              bind(pod_identity, "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount",
                   readonly=True),
              bind(hosts, "/etc/hosts"), bind(opt_ml, "/opt/ml"),
              bind(term, "/dev/termination-log")]
    return env, mounts, {"opt_ml": opt_ml, "termination_log": term, "hosts": hosts}


@pytest.fixture
def bucket(s3, boto3_available):
    """boto3 on the S3 fake with static keys the fake accepts (the test's own uploads/reads)."""
    import boto3
    from botocore.config import Config

    sys_path = str(REPO_ROOT / "tests" / "servers")
    if sys_path not in sys.path:
        sys.path.insert(0, sys_path)
    import common  # tests/servers/common.py: keys every fake accepts

    ak, sk = common.static_keys()
    return boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1",
                        aws_access_key_id=ak, aws_secret_access_key=sk,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def tar_members(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


# --- the images themselves -------------------------------------------------------------------


def test_base_image_config_and_contents(bundles):
    base = json.loads((bundles / "base" / "config.json").read_text())
    assert base["process"]["args"] == ["/usr/local/bin/parity-init", "--"], base["process"]
    rootfs = bundles / "base" / "rootfs"
    init = rootfs / "usr/local/bin/parity-init"
    assert is_static_elf(init), "parity-init in the image is not a static ELF"
    for link in ("train", "serve"):
        assert os.readlink(rootfs / "usr/local/bin" / link) == "parity-init", link
    assert isinstance(json.loads((rootfs / "etc/parity/image.json").read_text()), dict)
    inspect = json.loads((bundles.parent / "parity-base.inspect.json").read_text())
    oci = inspect["OCIv1"]["config"]
    assert oci["Entrypoint"] == ["/usr/local/bin/parity-init", "--"], oci
    assert oci["StopSignal"] == "SIGTERM", oci
    assert oci["Labels"]["org.opencontainers.image.title"] == "parity-base", oci["Labels"]
    assert "org.opencontainers.image.version" in oci["Labels"], oci["Labels"]


def test_team_images_keep_the_entrypoint_and_add_only_their_code(bundles):
    for name, role in (("train", "train_command"), ("serve", "serve_command")):
        config = json.loads((bundles / name / "config.json").read_text())
        assert config["process"]["args"] == ["/usr/local/bin/parity-init", "--"], name
        image_json = json.loads((bundles / name / "rootfs/etc/parity/image.json").read_text())
        assert image_json[role][0] == "python3", image_json
        script = bundles / name / "rootfs/opt/program" / f"{name}.py"
        source = REPO_ROOT / "images" / f"{name}-example" / f"{name}.py"
        assert script.read_bytes() == source.read_bytes(), "the team's code was changed"


# --- 1. as SageMaker starts a training container ---------------------------------------------


def test_sagemaker_training_job(container, bundles, tmp_path, creds):
    spec = dict(SPEC, name="e2e-sm-train")
    root = sagemaker_root(tmp_path, spec, "sm-opt-ml", {"data.csv": DATA.read_bytes()})
    box = container(bundles / "train", ["train"], env=sagemaker_env(creds, spec["name"]),
                    mounts=[bind(root, "/opt/ml")])
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    assert "platform=sagemaker-training" in r.err, r.err
    assert r.out_lines()[0].startswith("training on algo-1 of ['algo-1']"), r
    model = json.loads((root / "model/model.json").read_text())
    assert model["epochs"] == 10 and abs(model["w"]) > 0.1, model
    assert "loss" in json.loads((root / "output/data/metrics.json").read_text())
    assert not (root / "output/failure").exists()
    assert creds.issued(), "parity-init fetched no credentials from the agent"


def test_sagemaker_failing_job_writes_the_failure_file(container, bundles, tmp_path, creds):
    spec = dict(SPEC, name="e2e-sm-fail")
    root = sagemaker_root(tmp_path, spec, "sm-opt-ml", {})  # an empty channel: train.py fails
    box = container(bundles / "train", ["train"], env=sagemaker_env(creds, spec["name"]),
                    mounts=[bind(root, "/opt/ml")])
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 1, r
    failure = (root / "output/failure").read_text()
    print(failure)
    assert failure.startswith("ExecuteUserScriptError:"), failure
    assert "ExitCode 1" in failure and "no training data" in failure, failure


def test_sagemaker_stop_reaches_the_script(container, bundles, tmp_path, creds):
    spec = dict(SPEC, name="e2e-sm-stop")
    root = sagemaker_root(tmp_path, spec, "sm-opt-ml", {"data.csv": DATA.read_bytes()})
    env = sagemaker_env(creds, spec["name"]) + [
        "PARITY_TRAIN_COMMAND=" + json.dumps(["python3", "-c", TRAP_TERM])]
    box = container(bundles / "train", ["train"], env=env, mounts=[bind(root, "/opt/ml")])
    box.proc.wait_line(r"^ready$", timeout=EXIT_TIMEOUT)
    box.kill(signal.SIGTERM)  # what `docker stop` sends
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert "got-term" in r.out_lines(), r
    assert r.returncode == 42, r


def test_sagemaker_stop_escalates_after_the_grace_period(container, bundles, tmp_path, creds):
    spec = dict(SPEC, name="e2e-sm-grace")
    root = sagemaker_root(tmp_path, spec, "sm-opt-ml", {"data.csv": DATA.read_bytes()})
    env = sagemaker_env(creds, spec["name"]) + [
        "PARITY_GRACE_SECONDS=1", "PARITY_TRAIN_COMMAND=" + json.dumps(["python3", "-c", IGNORE_TERM])]
    box = container(bundles / "train", ["train"], env=env, mounts=[bind(root, "/opt/ml")])
    box.proc.wait_line(r"^ready$", timeout=EXIT_TIMEOUT)
    box.kill(signal.SIGTERM)
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert "ignoring-term" in r.out_lines(), r
    assert r.returncode == 137, r
    # The escalation came from PARITY_GRACE_SECONDS, not the platform's 110 s default.
    assert "grace period over; sending SIGKILL to the process group grace_seconds=1 " in r.err, r.err
    assert "ExitCode 137" in (root / "output/failure").read_text()


# --- 2. as EKS starts a pod --------------------------------------------------------------------


def test_eks_training_job_on_s3(container, bundles, tmp_path, creds, s3, bucket, eks_pod):
    prefix = "e2e-" + uuid.uuid4().hex[:10]
    bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/train/part-0.csv", Body=DATA.read_bytes())
    bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/train/more/part-1.csv", Body=b"1.0,2.0\n")
    spec = dict(SPEC, name="e2e-eks-train", output=f"s3://{BUCKET}/{prefix}/out",
                inputs={"train": {"uri": f"s3://{BUCKET}/{prefix}/train/", "content_type": "text/csv"}})
    env, mounts, paths = eks_pod
    box = container(bundles / "train", EKS_TRAIN_ARGS, env=env + ["PARITY_JOB_CONFIG=" + json.dumps(spec)],
                    mounts=mounts)
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    assert "platform=eks" in r.err, r.err
    channel = paths["opt_ml"] / "input/data/train"
    assert (channel / "part-0.csv").read_bytes() == DATA.read_bytes()
    assert (channel / "more/part-1.csv").read_bytes() == b"1.0,2.0\n"
    archive = bucket.get_object(Bucket=BUCKET, Key=f"{prefix}/out/e2e-eks-train/output/model.tar.gz")
    members = tar_members(archive["Body"].read())
    assert json.loads(members["model.json"])["epochs"] == 10, members
    assert paths["termination_log"].read_text() == ""
    assert creds.issued(), "no credentials were fetched with the Pod Identity token"


def test_eks_failing_job_writes_the_termination_message(container, bundles, tmp_path, eks_pod):
    empty = tmp_path / "empty-channel"
    empty.mkdir()
    spec = dict(SPEC, name="e2e-eks-fail",
                inputs={"train": {"uri": "file:///data/train", "content_type": "text/csv"}})
    env, mounts, paths = eks_pod
    box = container(bundles / "train", EKS_TRAIN_ARGS, env=env + ["PARITY_JOB_CONFIG=" + json.dumps(spec)],
                    mounts=mounts + [bind(empty, "/data/train", readonly=True)])
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 1, r
    message = paths["termination_log"].read_text()
    print(message)
    assert message.startswith("ExecuteUserScriptError:"), message
    assert "no training data" in message, message
    assert len(message.encode()) <= 4096


def test_eks_pod_without_args_uses_the_image_command(container, bundles, eks_pod):
    spec = dict(SPEC, name="e2e-eks-noargs", inputs={})
    env, mounts, paths = eks_pod
    env = [e for e in env if not e.startswith("AWS_CONTAINER")]
    box = container(bundles / "train", [], env=env + [
        "PARITY_JOB_CONFIG=" + json.dumps(spec),
        "PARITY_TRAIN_COMMAND=" + json.dumps(["python3", "-c", "print('image command ran')"])],
        mounts=mounts)
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    assert "image command ran" in r.out_lines(), r


# --- 3. the serving image ------------------------------------------------------------------------


def http_in_netns(pid, script):
    """Runs a Python snippet inside the container's network namespace (its own 127.0.0.1)."""
    r = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", PY, "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


CLIENT = """
import json, urllib.request
ping = urllib.request.urlopen("http://127.0.0.1:8080/ping", timeout=10)
req = urllib.request.Request("http://127.0.0.1:8080/invocations", data=b"1,2,3",
                             headers={"Content-Type": "text/csv"})
inv = urllib.request.urlopen(req, timeout=10)
print(json.dumps({"ping": ping.status, "status": inv.status, "body": inv.read().decode()}))
"""


def check_serving(box, model):
    box.proc.wait_line(r"^serve: listening on port 8080", timeout=EXIT_TIMEOUT)
    got = http_in_netns(box.pid(), CLIENT)
    assert got["ping"] == 200 and got["status"] == 200, got
    expected = ["%.6f" % (model["w"] * x + model["b"]) for x in (1, 2, 3)]
    assert got["body"].split() == expected, got
    box.kill(signal.SIGTERM)
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    return r


MODEL = {"w": 2.5, "b": -1.0, "epochs": 3}


def test_serving_as_sagemaker_hosting(container, bundles, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text(json.dumps(MODEL))  # SageMaker extracted it
    box = container(bundles / "serve", ["serve"], host_network=False,
                    mounts=[bind(model_dir, "/opt/ml/model", readonly=True)])
    r = check_serving(box, MODEL)
    assert "platform=sagemaker-hosting" in r.err, r.err


def test_serving_on_eks_extracts_the_model(container, bundles, tmp_path, eks_pod):
    models = tmp_path / "models"
    models.mkdir()
    with tarfile.open(models / "model.tar.gz", "w:gz") as t:
        data = json.dumps(MODEL).encode()
        info = tarfile.TarInfo("model.json")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    spec = {"apiVersion": "parity/v1", "name": "e2e-eks-serve", "role": "serve",
            "model": "file:///models/model.tar.gz"}
    env, mounts, paths = eks_pod
    env = [e for e in env if not e.startswith("AWS_CONTAINER")]  # no AWS access needed
    box = container(bundles / "serve", EKS_SERVE_ARGS, env=env + ["PARITY_JOB_CONFIG=" + json.dumps(spec)],
                    mounts=mounts + [bind(models, "/models", readonly=True)], host_network=False)
    r = check_serving(box, MODEL)
    assert "platform=eks" in r.err, r.err
    assert json.loads((paths["opt_ml"] / "model/model.json").read_text()) == MODEL


# --- 4. the static binary in a root filesystem with no libc -------------------------------------


def test_static_parity_init_runs_a_job_without_libc(container, bundles, tmp_path):
    if not os.path.exists(BUSYBOX) or not is_static_elf(BUSYBOX):
        pytest.fail(f"{BUSYBOX} is missing or not static: apt-get install busybox-static")
    rootfs = tmp_path / "nolibc"
    for d in ("bin", "usr/local/bin", "etc/parity", "proc", "dev", "sys", "tmp", "opt/ml",
              "data/train", "out"):
        (rootfs / d).mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin/busybox")
    for applet in ("sh", "cat", "echo", "mkdir", "wc"):
        os.symlink("busybox", rootfs / "bin" / applet)
    # The binary exactly as the base image carries it.
    shutil.copy(bundles / "base/rootfs/usr/local/bin/parity-init", rootfs / "usr/local/bin/parity-init")
    script = ('echo "training on $SM_CURRENT_HOST"; mkdir -p "$SM_MODEL_DIR"; '
              'echo "{\\"rows\\": $(cat "$SM_CHANNEL_TRAIN"/*.csv | wc -l)}" >"$SM_MODEL_DIR/model.json"')
    (rootfs / "etc/parity/image.json").write_text(json.dumps({"train_command": ["/bin/sh", "-c", script]}))
    names = [p.name for p in rootfs.rglob("*")]
    assert not [n for n in names if n.startswith(("ld-", "libc.", "libc-", "ld-musl"))], names
    channel = tmp_path / "channel"
    channel.mkdir()
    shutil.copy(DATA, channel / "data.csv")
    out = tmp_path / "out"
    out.mkdir()
    spec = dict(SPEC, name="e2e-nolibc", output="file:///out",
                inputs={"train": {"uri": "file:///data/train"}})
    opt_ml = tmp_path / "opt-ml"
    opt_ml.mkdir()
    hosts = tmp_path / "hosts"  # every container runtime provides one; runc alone does not
    hosts.write_text("127.0.0.1 localhost\n")
    box = container(bundles / "base", ["train"], rootfs=rootfs,
                    env=["PARITY_JOB_CONFIG=" + json.dumps(spec)],
                    mounts=[bind(opt_ml, "/opt/ml"), bind(channel, "/data/train", readonly=True),
                            bind(out, "/out"), bind(hosts, "/etc/hosts")])
    r = box.proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    assert "training on algo-1" in r.out_lines(), r
    rows = len(DATA.read_text().splitlines())
    archive = (out / "e2e-nolibc/output/model.tar.gz").read_bytes()
    assert json.loads(tar_members(archive)["model.json"]) == {"rows": rows}


# --- 5. the parity check: the same probe started by SageMaker and by EKS -------------------------


def test_parity_sagemaker_and_eks_see_the_same_contract(container, bundles, tmp_path, creds, s3,
                                                        bucket, eks_pod):
    prefix = "e2e-" + uuid.uuid4().hex[:10]
    files = {"a.csv": b"1,2\n", "sub/b.csv": b"3,4\n"}
    for rel, data in files.items():
        bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/train/{rel}", Body=data)
    spec = dict(SPEC, name="e2e-parity",
                inputs={"train": {"uri": f"s3://{BUCKET}/{prefix}/train/", "content_type": "text/csv"}})
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    (probe_dir / "probe.py").write_text(PROBE)
    common = ["PARITY_TRAIN_COMMAND=" + json.dumps(["python3", "/e2e/probe.py"]),
              f"E2E_S3_URL={s3.url}"]
    probe_mount = bind(probe_dir, "/e2e", readonly=True)

    sm_root = sagemaker_root(tmp_path, spec, "sm-opt-ml", files)
    sm = container(bundles / "train", ["train"],
                   env=sagemaker_env(creds, spec["name"]) + common + [f"E2E_S3_KEY={prefix}/sm"],
                   mounts=[bind(sm_root, "/opt/ml"), probe_mount]).proc.wait(timeout=EXIT_TIMEOUT)
    assert sm.returncode == 0, sm
    env, mounts, paths = eks_pod
    eks = container(bundles / "train", EKS_TRAIN_ARGS,
                    env=env + common + ["PARITY_JOB_CONFIG=" + json.dumps(spec), f"E2E_S3_KEY={prefix}/eks"],
                    mounts=mounts + [probe_mount]).proc.wait(timeout=EXIT_TIMEOUT)
    assert eks.returncode == 0, eks

    a, b = json.loads(sm.out_lines()[-1]), json.loads(eks.out_lines()[-1])
    assert a["env"]["PARITY_PLATFORM"] == "sagemaker-training", a["env"]
    assert b["env"]["PARITY_PLATFORM"] == "eks", b["env"]
    sm_vars = {k: v for k, v in a["env"].items() if k.startswith("SM_")}
    eks_vars = {k: v for k, v in b["env"].items() if k.startswith("SM_")}
    diff = ["%s: sagemaker=%r eks=%r" % (k, sm_vars.get(k), eks_vars.get(k))
            for k in sorted(set(sm_vars) | set(eks_vars)) if sm_vars.get(k) != eks_vars.get(k)]
    shape_diff = sorted(set(a["dirs"] + a["files"]) ^ set(b["dirs"] + b["files"]))
    print("SM_* variables: %d (SageMaker) vs %d (EKS); differences:\n  %s"
          % (len(sm_vars), len(eks_vars), "\n  ".join(diff) or "none"))
    print("/opt/ml entries only on one side:", shape_diff or "none")
    print("credentials: SageMaker %s / EKS %s" % (a["credentials"], b["credentials"]))
    assert len(sm_vars) > 30, sorted(sm_vars)
    assert not diff
    assert a["dirs"] == b["dirs"] and a["files"] == b["files"], shape_diff
    assert "/opt/ml/input/data/train/sub/b.csv" in a["files"], a["files"]
    for name in ("CURRENT_HOST", "TRAINING_JOB_NAME", "MASTER_ADDR", "NODE_RANK", "NNODES",
                 "PARITY_ROLE", "PARITY_JOB_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"):
        assert a["env"].get(name) == b["env"].get(name), name
    assert a["credentials"] == b["credentials"]
    assert a["credentials"]["method"] == "container-role", a["credentials"]
    assert a["credentials"]["endpoint_is_loopback"] and a["credentials"]["authorization_token_len"] == 64
    assert a["credentials"]["s3_roundtrip"] == "written by the probe"
    # parity-init consumed the platform's credential variables: the child sees only its endpoint.
    for consumed in ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",):
        assert consumed not in b["env"], consumed


def test_the_launcher_runs_the_train_image_locally(bundles, tmp_path):
    """`parity run --target local` (issue #7) with the example training image as the OCI layout
    build-images.sh pushed: two hosts, each in a runc container with parity-init as PID 1, a
    file:// channel and a file:// output; the model comes back as SageMaker packs it."""
    parity = REPO_ROOT / "build" / "parity"
    layout = bundles.parent / "oci"
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA, data / "data.csv")
    out = tmp_path / "out"
    spec = dict(SPEC, name="e2e-launcher", image=f"oci:{layout}:train",
                inputs={"train": f"file://{data}"}, output=f"file://{out}",
                resources={"instance_type": "ml.m5.large", "instance_count": 2})
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    r = subprocess.run([str(parity), "run", str(path), "--target", "local", "--root",
                        str(tmp_path / "ml")], capture_output=True, text=True, timeout=EXIT_TIMEOUT,
                       cwd=tmp_path, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                          "HOME": str(tmp_path)})
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert any(l.startswith("algo-1 | training on algo-1 of ['algo-1', 'algo-2']") for l in lines), r
    assert any(l.startswith("algo-2 | training on algo-2 of ['algo-1', 'algo-2']") for l in lines), r
    # each host packed its own model.tar.gz into the output folder (the last one written wins)
    archive = (out / "e2e-launcher" / "output" / "model.tar.gz").read_bytes()
    assert "model.json" in tar_members(archive), tar_members(archive)
    model = json.loads((tmp_path / "ml" / "algo-1" / "model" / "model.json").read_text())
    assert model["epochs"] == 10, model

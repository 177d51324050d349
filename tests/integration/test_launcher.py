# SPDX-License-Identifier: MIT
"""parity, the launcher, without a cloud: `validate` reports every problem of a spec for every
target at once, `render` prints exactly the CreateTrainingJob request or the Kubernetes
manifests a spec maps to, and `run --target local --no-container` runs each host of the job
through parity-init on this machine, its output prefixed algo-N, exiting with the job's code.
The SageMaker target against its fake is in test_launcher_sagemaker.py."""

import json
import os
import subprocess

import pytest

from conftest import EXIT_TIMEOUT, binary_path, is_static_elf

EXIT_INVALID = 1
EXIT_USAGE = 2

SPEC = {
    "apiVersion": "parity/v1",
    "name": "fraud-train-20261128",
    "role": "train",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:1.4",
    "command": ["python3", "train.py"],
    "hyperparameters": {"epochs": 10, "lr": 0.001, "arch": "resnet50", "use_amp": True,
                        "layers": [64, 32]},
    "inputs": {
        "train": {"uri": "s3://bucket/fraud/train/", "mode": "File",
                  "content_type": "text/csv", "distribution": "ShardedByS3Key"},
        "validation": "s3://bucket/fraud/validation/",
    },
    "output": "s3://bucket/fraud/output/",
    "checkpoints": {"uri": "s3://bucket/fraud/checkpoints/"},
    "resources": {"instance_type": "ml.g5.2xlarge", "instance_count": 2, "volume_gb": 100},
    "environment": {"LOG_FORMAT": "json"},
    "max_runtime_seconds": 3600,
    "spot": {"enabled": True, "max_wait_seconds": 7200},
    "aws": {"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/fraud-training"},
    "sagemaker": {"tags": {"team": "fraud"}},
    "eks": {"namespace": "ml-fraud", "service_account": "fraud-training"},
}


@pytest.fixture(scope="session")
def parity():
    path = binary_path("PARITY_BIN", "build/parity")
    if not os.access(path, os.X_OK):
        pytest.fail(f"parity binary not found at {path} (run make, or set PARITY_BIN)")
    return path


def launch(parity, *args, env=None, cwd=None):
    full_env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd or "/nonexistent"), **(env or {})}
    return subprocess.run([str(parity), *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=EXIT_TIMEOUT)


def write_spec(tmp_path, spec, name="spec.json"):
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return path


def test_a_complete_spec_is_valid_for_every_target(parity, tmp_path):
    r = launch(parity, "validate", write_spec(tmp_path, SPEC))
    assert r.returncode == 0, r
    assert "valid for local, sagemaker and eks" in r.stdout


def test_validate_reports_every_problem_with_its_path(parity, tmp_path):
    bad = {**SPEC, "name": "Bad_Name", "foo": 1,
           "inputs": {"train": {"uri": "s3://b/p", "mode": "Streaming"}},
           "resources": {"instance_count": 1.5}}
    r = launch(parity, "validate", write_spec(tmp_path, bad), "--output", "json")
    assert r.returncode == EXIT_INVALID, r
    out = json.loads(r.stdout)
    assert out["valid"] is False
    paths = {p.split(":")[0] for p in out["problems"]}
    assert {"$.name", "$.foo", "$.inputs.train.mode", "$.resources.instance_count"} <= paths, out


def test_target_rules_are_checked_too(parity, tmp_path):
    spec = {k: v for k, v in SPEC.items() if k not in ("image", "aws")}
    spec["name"] = "n" * 62  # fine for SageMaker; two hosts on EKS add "-1" to pod hostnames
    spec["inputs"] = {"train": "file:///data/train"}
    r = launch(parity, "validate", write_spec(tmp_path, spec))
    assert r.returncode == EXIT_INVALID, r
    lines = r.stderr.splitlines()
    assert "$.aws.role_arn: is required: the IAM role SageMaker runs the job as (sagemaker)" in lines
    assert any(l.startswith("$.image: is required") and l.endswith("(eks)") for l in lines), r
    assert any(l.startswith("$.name: is 62 characters") and l.endswith("(eks)") for l in lines)
    assert sum("file:///data/train" in l for l in lines) == 2, r  # both cloud targets
    # local runs take file:// channels and need no image
    r = launch(parity, "validate", write_spec(tmp_path, spec), "--target", "local")
    assert r.returncode == 0, r


def test_a_file_that_is_not_json_is_a_clear_error(parity, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = launch(parity, "validate", bad)
    assert r.returncode == EXIT_INVALID and "line 1" in r.stderr, r
    r = launch(parity, "validate", tmp_path / "missing.json")
    assert r.returncode == EXIT_INVALID and "missing.json" in r.stderr, r


def test_usage_errors(parity, tmp_path):
    assert launch(parity).returncode == EXIT_USAGE
    assert launch(parity, "frobnicate", "x").returncode == EXIT_USAGE
    r = launch(parity, "render", write_spec(tmp_path, SPEC))
    assert r.returncode == EXIT_USAGE and "--target" in r.stderr, r
    r = launch(parity, "run", write_spec(tmp_path, SPEC), "--target", "mars")
    assert r.returncode == EXIT_USAGE and "mars" in r.stderr, r
    r = launch(parity, "status", "never-launched", cwd=tmp_path)
    assert r.returncode == EXIT_USAGE and "--target" in r.stderr, r


def test_render_sagemaker_is_the_create_training_job_request(parity, tmp_path):
    path = write_spec(tmp_path, SPEC)
    r = launch(parity, "render", path, "--target", "sagemaker")
    assert r.returncode == 0, r
    req = json.loads(r.stdout)
    assert req["TrainingJobName"] == SPEC["name"]
    assert req["RoleArn"] == SPEC["aws"]["role_arn"]
    algo = req["AlgorithmSpecification"]
    assert algo == {"TrainingImage": SPEC["image"], "TrainingInputMode": "File",
                    "ContainerEntrypoint": ["/usr/local/bin/parity-init", "--"],
                    "ContainerArguments": ["python3", "train.py"]}
    # hyperparameters JSON-encoded, as the SageMaker Python SDK sends them
    assert req["HyperParameters"] == {"epochs": "10", "lr": "0.001", "arch": '"resnet50"',
                                      "use_amp": "true", "layers": "[64, 32]"}
    assert req["InputDataConfig"][0] == {
        "ChannelName": "train", "InputMode": "File", "ContentType": "text/csv",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                        "S3Uri": "s3://bucket/fraud/train/",
                                        "S3DataDistributionType": "ShardedByS3Key"}}}
    assert req["ResourceConfig"] == {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 2,
                                     "VolumeSizeInGB": 100}
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert req["EnableManagedSpotTraining"] is True
    assert req["CheckpointConfig"] == {"S3Uri": "s3://bucket/fraud/checkpoints/",
                                       "LocalPath": "/opt/ml/checkpoints"}
    assert req["OutputDataConfig"] == {"S3OutputPath": "s3://bucket/fraud/output/"}
    assert req["Tags"] == [{"Key": "team", "Value": "fraud"}]
    # the launch's id (for the check after a lost create answer) comes from the spec: the same
    # spec renders the same request
    assert req["Environment"]["LOG_FORMAT"] == "json"
    assert len(req["Environment"]["PARITY_REQUEST_ID"]) == 32
    assert launch(parity, "render", path, "--target", "sagemaker").stdout == r.stdout


def test_render_eks_is_an_indexed_job_and_a_headless_service(parity, tmp_path):
    r = launch(parity, "render", write_spec(tmp_path, SPEC), "--target", "eks")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    assert doc["kind"] == "List"
    job, svc = doc["items"]
    assert job["metadata"]["namespace"] == "ml-fraud"
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 2, 2)
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 3600
    assert spec["ttlSecondsAfterFinished"] > 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["subdomain"] == svc["metadata"]["name"]
    assert pod["serviceAccountName"] == "fraud-training"
    assert pod["terminationGracePeriodSeconds"] == 120
    assert pod["nodeSelector"] == {"node.kubernetes.io/instance-type": "g5.2xlarge"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    (main,) = pod["containers"]
    assert main["command"] == ["/usr/local/bin/parity-init", "--"]
    assert main["args"] == ["python3", "train.py"]
    assert main["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "1"  # GPUs only as limits
    assert "nvidia.com/gpu" not in main["resources"]["requests"]
    env = {e["name"]: e["value"] for e in main["env"]}
    assert json.loads(env["PARITY_JOB_CONFIG"]) == SPEC  # what parity-init reads on EKS
    assert env["AWS_REGION"] == "us-east-1"
    shm = [v for v in pod["volumes"] if v["name"] == "dshm"][0]
    assert shm["emptyDir"]["medium"] == "Memory"
    assert svc["spec"] == {"clusterIP": "None", "publishNotReadyAddresses": True,
                           "selector": {"job-name": SPEC["name"]}}


def test_render_eks_one_host_is_a_plain_job(parity, tmp_path):
    spec = {**SPEC, "resources": {"instance_type": "ml.m5.xlarge"}}
    r = launch(parity, "render", write_spec(tmp_path, spec), "--target", "eks",
               "--namespace", "other")
    doc = json.loads(r.stdout)
    assert len(doc["items"]) == 1, doc
    job = doc["items"][0]
    assert job["metadata"]["namespace"] == "other"
    assert "completionMode" not in job["spec"] and "subdomain" not in job["spec"]["template"]["spec"]
    assert "tolerations" not in job["spec"]["template"]["spec"]  # no GPUs, no GPU taint


LOCAL_JOB = r"""
import json, os, sys
print("host", os.environ["CURRENT_HOST"], "of", json.loads(os.environ["SM_HOSTS"]), flush=True)
print("epochs", json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json")))["epochs"], flush=True)
sys.exit(int(os.environ.get("EXIT_ON_" + os.environ["CURRENT_HOST"].replace("-", "_"), "0")))
"""


def test_run_local_runs_every_host_through_parity_init(parity, parity_init, tmp_path):
    spec = {"apiVersion": "parity/v1", "name": "local-two", "hyperparameters": {"epochs": 2},
            "command": ["/usr/bin/python3", "-c", LOCAL_JOB],
            "resources": {"instance_count": 2}, "environment": {"EXIT_ON_algo_2": "4"}}
    root = tmp_path / "ml"
    r = launch(parity, "run", write_spec(tmp_path, spec), "--target", "local", "--no-container",
               "--root", root, env={"PARITY_INIT": str(parity_init)}, cwd=tmp_path)
    # algo-2 failed with 4: that is the job's exit code
    assert r.returncode == 4, r
    lines = r.stdout.splitlines()
    assert "algo-1 | host algo-1 of ['algo-1', 'algo-2']" in lines, r
    assert "algo-2 | host algo-2 of ['algo-1', 'algo-2']" in lines, r
    assert "algo-1 | epochs 2" in lines and "algo-2 | epochs 2" in lines, r
    # each host has its own /opt/ml, as each SageMaker instance does
    assert (root / "algo-1" / "input" / "config" / "hyperparameters.json").exists()
    assert (root / "algo-2" / "input" / "config" / "resourceconfig.json").exists()
    # and status knows the job afterwards without --target
    assert json.loads((tmp_path / ".local/state/parity/jobs/local-two.json").read_text()) == {
        "target": "local", "root": str(root)}


def test_run_local_needs_an_image_it_can_run(parity, tmp_path):
    spec = {"apiVersion": "parity/v1", "name": "img", "image": "example:1"}
    r = launch(parity, "run", write_spec(tmp_path, spec), "--target", "local", cwd=tmp_path)
    assert r.returncode == 125 and "oci:/path" in r.stderr and "skopeo copy" in r.stderr, r


BUSYBOX = "/bin/busybox"


@pytest.fixture
def rootfs(tmp_path, parity_init):
    """A root filesystem folder: parity-init where parity-base puts it, and busybox."""
    import shutil

    if os.geteuid() != 0 or shutil.which("runc") is None:
        pytest.skip("runc as root is needed for containers")
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox-static is not installed")
    if not is_static_elf(parity_init):  # the ASan and valgrind builds need a libc
        pytest.skip(f"{parity_init} is not static: it cannot run in a rootfs without libc")
    root = tmp_path / "rootfs"
    for d in ("bin", "usr/local/bin", "etc", "proc", "dev", "sys", "tmp", "opt/ml"):
        (root / d).mkdir(parents=True)
    shutil.copy(parity_init, root / "usr/local/bin/parity-init")
    shutil.copy(BUSYBOX, root / "bin/busybox")
    for applet in ("sh", "cat", "ls", "echo", "hostname"):
        os.symlink("busybox", root / "bin" / applet)
    (root / "etc/hosts").touch()
    return root


CONTAINER_JOB = ("echo host $CURRENT_HOST on $(hostname); cat /opt/ml/input/config/resourceconfig.json;"
                 " echo; echo trained > $SM_MODEL_DIR/model.txt; exit $((${#CURRENT_HOST} - 3))")


def test_run_local_in_a_container_from_a_rootfs_folder(parity, rootfs, tmp_path):
    spec = {"apiVersion": "parity/v1", "name": "in-box", "image": str(rootfs),
            "command": ["/bin/sh", "-c", CONTAINER_JOB], "resources": {"instance_count": 2}}
    root = tmp_path / "ml"
    r = launch(parity, "run", write_spec(tmp_path, spec), "--target", "local", "--root", root,
               env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, cwd=tmp_path)
    # "algo-1" and "algo-2" are 6 characters: both hosts exit 3
    assert r.returncode == 3, r
    lines = r.stdout.splitlines()
    assert "algo-1 | host algo-1 on algo-1" in lines and "algo-2 | host algo-2 on algo-2" in lines
    # parity-init was PID 1 of each container and wrote SageMaker's files into its own /opt/ml
    assert any(l.startswith("algo-1 | parity-init[1]: ") for l in lines), r
    assert (root / "algo-1/model/model.txt").read_text() == "trained\n"
    assert (root / "algo-2/model/model.txt").read_text() == "trained\n"
    cfg = json.loads([l for l in lines if l.startswith("algo-2 | {")][0][len("algo-2 | "):])
    assert cfg["current_host"] == "algo-2" and cfg["hosts"] == ["algo-1", "algo-2"], cfg
    # the folder itself is left as it was (read-only root)
    assert not (rootfs / "opt/ml/model").exists()


def test_run_local_in_a_container_from_an_oci_layout(parity, rootfs, tmp_path):
    """The image as an OCI image layout (what `buildah push IMAGE oci:DIR:tag` writes),
    unpacked with umoci."""
    import shutil

    if shutil.which("umoci") is None:
        pytest.skip("umoci is not installed")
    layout = tmp_path / "layout"
    work = tmp_path / "work"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=120)  # noqa: E731
    run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", f"{layout}:v1")
    run("umoci", "unpack", "--image", f"{layout}:v1", str(work))
    shutil.rmtree(work / "rootfs")
    shutil.copytree(rootfs, work / "rootfs", symlinks=True)
    run("umoci", "repack", "--image", f"{layout}:v1", str(work))
    run("umoci", "config", "--image", f"{layout}:v1",
        "--config.entrypoint", "/usr/local/bin/parity-init", "--config.entrypoint", "--",
        "--config.cmd", "/bin/sh", "--config.cmd", "-c", "--config.cmd", "echo from the image cmd")
    spec = {"apiVersion": "parity/v1", "name": "from-layout", "image": f"oci:{layout}:v1"}
    r = launch(parity, "run", write_spec(tmp_path, spec), "--target", "local", "--root",
               tmp_path / "ml", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, cwd=tmp_path)
    assert r.returncode == 0, r
    assert "algo-1 | from the image cmd" in r.stdout.splitlines(), r  # the image's own command


def test_a_spec_that_breaks_every_target_rule_hears_of_each(parity, tmp_path):
    """One spec, every rule parity adds for a target broken once: each is reported, with its
    path and target, in one run."""
    spec = {"apiVersion": "parity/v1", "name": "x" * 62, "role": "serve",
            "command": ["a"] * 101,
            "inputs": {"train": "file:///data"}, "output": "file:///out",
            "checkpoints": {"uri": "file:///ck"}, "spot": {"enabled": True},
            "resources": {"instance_count": 2}}
    r = launch(parity, "validate", write_spec(tmp_path, spec), "--output", "json")
    assert r.returncode == EXIT_INVALID, r
    problems = set(json.loads(r.stdout)["problems"])
    want = [("$.image", "sagemaker"), ("$.image", "eks"), ("$.inputs", "sagemaker"),
            ("$.inputs", "eks"), ("$.checkpoints.uri", "sagemaker"), ("$.checkpoints.uri", "eks"),
            ("$.output", "sagemaker"), ("$.output", "eks"), ("$.aws.role_arn", "sagemaker"),
            ("$.resources.instance_type", "sagemaker"), ("$.role", "sagemaker"),
            ("$.spot.max_wait_seconds", "sagemaker"), ("$.command", "sagemaker"),
            ("$.name", "eks")]
    for path, target in want:
        assert any(p.startswith(path + ":") and p.endswith(f"({target})") for p in problems), \
            (path, target, sorted(problems))
    assert not any(p.endswith("(local)") for p in problems), problems  # all fine locally


GROUPS = [{"name": "gpu", "instance_type": "ml.g5.2xlarge", "instance_count": 2},
          {"name": "cpu", "instance_type": "ml.c5.4xlarge", "instance_count": 1}]


def test_instance_groups_are_a_sagemaker_heterogeneous_cluster(parity, tmp_path):
    spec = {**SPEC, "resources": {"instance_groups": GROUPS, "volume_gb": 50}}
    path = write_spec(tmp_path, spec)
    r = launch(parity, "render", path, "--target", "sagemaker")
    assert r.returncode == 0, r
    assert json.loads(r.stdout)["ResourceConfig"] == {
        "InstanceGroups": [
            {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 2, "InstanceGroupName": "gpu"},
            {"InstanceType": "ml.c5.4xlarge", "InstanceCount": 1, "InstanceGroupName": "cpu"}],
        "VolumeSizeInGB": 50}
    # EKS and local runs have one instance type: said, not guessed
    r = launch(parity, "validate", path)
    assert r.returncode == EXIT_INVALID, r
    lines = r.stderr.splitlines()
    for target in ("eks", "local"):
        assert any(l.startswith("$.resources.instance_groups: heterogeneous clusters run on "
                                "SageMaker only") and l.endswith(f"({target})") for l in lines), r
    assert launch(parity, "validate", path, "--target", "sagemaker").returncode == 0


@pytest.mark.parametrize("groups,message", [
    ([], "must hold 1 to 5 groups"),
    (GROUPS * 3, "must hold 1 to 5 groups"),
    ([{"name": "a b", "instance_type": "ml.m5.large", "instance_count": 1}], "name must be"),
    ([{"name": "a", "instance_type": "m5.large", "instance_count": 1}], "instance_type must be"),
    ([{"name": "a", "instance_type": "ml.m5.large", "instance_count": 0}], "instance_count must"),
    ([{"name": "a", "instance_type": "ml.m5.large"}], "must be {"),
])
def test_instance_groups_are_checked(parity, tmp_path, groups, message):
    spec = {**SPEC, "resources": {"instance_groups": groups}}
    r = launch(parity, "validate", write_spec(tmp_path, spec), "--target", "sagemaker")
    assert r.returncode == EXIT_INVALID and message in r.stderr, r
    spec = {**SPEC, "resources": {"instance_groups": GROUPS[:1], "instance_type": "ml.m5.large"}}
    r = launch(parity, "validate", write_spec(tmp_path, spec, "mixed.json"))
    assert r.returncode == EXIT_INVALID and "replaces instance_type" in r.stderr, r

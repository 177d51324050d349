# SPDX-License-Identifier: MIT
"""The parity check in real containers: one image (busybox-static, the static parity-init, an
image config), started the way SageMaker starts a training container and the way EKS starts a
pod. The same probe script runs in both; its SM_* variables and /opt/ml tree must be identical."""

import json
import os
import shutil
import subprocess
import uuid

import pytest

from conftest import sagemaker_config_files

RUNC_TIMEOUT = 120
BUSYBOX = "/bin/busybox"

SPEC = {
    "apiVersion": "parity/v1",
    "name": "parity-check",
    "role": "train",
    "command": ["/bin/sh", "/probe.sh"],
    "hyperparameters": {"epochs": 3, "lr": 0.001, "arch": "resnet50", "use_amp": True,
                        "betas": [0.9, 0.999], "optimizer": {"name": "adamw", "eps": 1e-08}},
    "inputs": {"train": {"uri": "file:///data/train", "content_type": "text/csv"}},
    "resources": {"instance_type": "ml.m5.large", "instance_count": 1},
}

# What the probe prints: the environment, then every folder and file under /opt/ml (following the
# channel link a file:// channel is, as an S3 download would be a real folder).
PROBE = """#!/bin/sh
env
echo '--- dirs'
find -L /opt/ml -type d | sort
echo '--- files'
find -L /opt/ml -type f | sort
"""


@pytest.fixture(scope="module")
def runc():
    path = shutil.which("runc")
    if path is None or os.geteuid() != 0:
        pytest.skip("needs runc and root")
    if not os.path.exists(BUSYBOX):
        pytest.skip("needs busybox-static")
    return path


def bind(source, dest, readonly=False):
    opts = ["rbind", "ro" if readonly else "rw"]
    return {"destination": dest, "type": "bind", "source": str(source), "options": opts}


def run_container(runc, probe, tmp, name, args, env, mounts):
    """Builds a bundle (busybox, parity-init, image config, probe script), runs it with runc in
    the foreground and returns (exit code, stdout, stderr)."""
    bundle = tmp / name
    rootfs = bundle / "rootfs"
    for d in ("bin", "etc/parity", "proc", "dev", "sys", "tmp", "opt/ml", "data/train"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, rootfs / "bin/busybox")
    for applet in ("sh", "env", "find", "sort", "echo", "cat"):
        os.symlink("busybox", rootfs / "bin" / applet)
    shutil.copy(os.environ.get("PARITY_INIT", "build/parity-init"), rootfs / "parity-init")
    (rootfs / "probe.sh").write_text(PROBE)
    (rootfs / "etc/parity/image.json").write_text(json.dumps({"train_command": ["/bin/sh", "/probe.sh"]}))
    subprocess.run([runc, "spec"], cwd=bundle, check=True, timeout=RUNC_TIMEOUT)
    config = json.loads((bundle / "config.json").read_text())
    config["process"].update(args=args, terminal=False, cwd="/", env=["PATH=/bin"] + env)
    config["root"] = {"path": "rootfs", "readonly": True}
    config["mounts"] += mounts
    (bundle / "config.json").write_text(json.dumps(config))
    cid = "parity-parity-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
    state = tmp / "runc-state"
    try:
        r = subprocess.run([probe, "exec", "--reset", "--", runc, "--root", str(state), "run",
                            "--bundle", str(bundle), cid],
                           capture_output=True, text=True, timeout=RUNC_TIMEOUT)
    finally:
        subprocess.run([runc, "--root", str(state), "delete", "-f", cid],
                       capture_output=True, timeout=RUNC_TIMEOUT)
    return r


def parse(stdout):
    env_part, rest = stdout.split("--- dirs\n")
    dirs, files = rest.split("--- files\n")
    env = dict(line.split("=", 1) for line in env_part.splitlines() if "=" in line)
    return env, dirs.split(), files.split()


@pytest.fixture
def channel(tmp_path):
    data = tmp_path / "channel"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("1,2\n")
    (data / "sub" / "b.csv").write_text("3,4\n")
    return data


def test_sagemaker_and_eks_starts_see_the_same_contract(runc, probe, tmp_path, channel):
    # 1. As SageMaker starts training: argv `train`, /opt/ml written by the platform and
    #    bind-mounted, TRAINING_JOB_NAME set, the channel downloaded into input/data/train.
    sm_root = tmp_path / "sm-opt-ml"
    (sm_root / "input/config").mkdir(parents=True)
    for name, doc in sagemaker_config_files(SPEC).items():
        (sm_root / "input/config" / name).write_text(json.dumps(doc))
    shutil.copytree(channel, sm_root / "input/data/train")
    sm = run_container(runc, probe, tmp_path, "sagemaker", ["/parity-init", "--", "train"],
                       ["TRAINING_JOB_NAME=parity-check"], [bind(sm_root, "/opt/ml")])
    assert sm.returncode == 0, sm
    assert "platform=sagemaker-training" in sm.stderr, sm.stderr

    # 2. As EKS starts the pod: the job config in the environment, the spec's command as args,
    #    an emptyDir at /opt/ml, the service-account folder and a writable /etc/hosts mounted.
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    for name, text in (("namespace", "ml"), ("token", "test-token"), ("ca.crt", "")):
        (sa / name).write_text(text)
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    eks_root = tmp_path / "eks-opt-ml"
    eks_root.mkdir()
    eks = run_container(
        runc, probe, tmp_path, "eks", ["/parity-init", "--"] + SPEC["command"],
        ["PARITY_JOB_CONFIG=" + json.dumps(SPEC), "KUBERNETES_SERVICE_HOST=10.100.0.1",
         "KUBERNETES_SERVICE_PORT=443"],
        [bind(eks_root, "/opt/ml"), bind(channel, "/data/train", readonly=True),
         bind(sa, "/var/run/secrets/kubernetes.io/serviceaccount", readonly=True),
         bind(hosts, "/etc/hosts")])
    assert eks.returncode == 0, eks
    assert "platform=eks" in eks.stderr, eks.stderr

    sm_env, sm_dirs, sm_files = parse(sm.stdout)
    eks_env, eks_dirs, eks_files = parse(eks.stdout)
    sm_vars = {k: v for k, v in sm_env.items() if k.startswith("SM_")}
    eks_vars = {k: v for k, v in eks_env.items() if k.startswith("SM_")}
    diff = ["%s: sagemaker=%r eks=%r" % (k, sm_vars.get(k), eks_vars.get(k))
            for k in sorted(set(sm_vars) | set(eks_vars)) if sm_vars.get(k) != eks_vars.get(k)]
    print("SM_* variables: %d on SageMaker, %d on EKS; differences:\n%s"
          % (len(sm_vars), len(eks_vars), "\n".join(diff) or "none"))
    assert not diff
    assert len(sm_vars) > 30
    for name in ("CURRENT_HOST", "SAGEMAKER_JOB_NAME", "MASTER_ADDR", "NODE_RANK", "NNODES",
                 "PARITY_ROLE", "PARITY_JOB_NAME", "TRAINING_JOB_NAME"):
        assert sm_env.get(name) == eks_env.get(name), name
    assert sm_env["PARITY_PLATFORM"] == "sagemaker-training" and eks_env["PARITY_PLATFORM"] == "eks"
    print("/opt/ml folders:", sm_dirs, "\n/opt/ml files:", sm_files)
    assert sm_dirs == eks_dirs
    assert sm_files == eks_files
    assert "/opt/ml/input/data/train/sub/b.csv" in sm_files
    for d in ("/opt/ml/model", "/opt/ml/output/data", "/opt/ml/output/intermediate", "/opt/ml/code"):
        assert d in sm_dirs, d
    # The config files SageMaker wrote and the ones parity-init wrote on EKS say the same.
    for name in ("hyperparameters.json", "resourceconfig.json", "inputdataconfig.json"):
        assert (json.loads((sm_root / "input/config" / name).read_text())
                == json.loads((eks_root / "input/config" / name).read_text())), name


def test_local_job_in_a_container_resolves_every_host_here(runc, probe, tmp_path):
    spec = dict(SPEC, inputs={}, resources={"instance_type": "ml.m5.large", "instance_count": 2},
                command=["/bin/sh", "-c", "cat /etc/hosts; env"])
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    r = run_container(runc, probe, tmp_path, "local", ["/parity-init", "--"] + spec["command"],
                      ["PARITY_JOB_CONFIG=" + json.dumps(spec)],
                      [bind(tmp_path, "/opt/ml"), bind(hosts, "/etc/hosts")])
    assert r.returncode == 0, r
    assert "platform=local" in r.stderr, r.stderr
    assert "127.0.0.1\talgo-1\n127.0.0.1\talgo-2\n" in hosts.read_text()
    assert "MASTER_ADDR=algo-1\n" in r.stdout and "NNODES=2\n" in r.stdout, r.stdout

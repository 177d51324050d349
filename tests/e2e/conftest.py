# SPDX-License-Identifier: MIT
"""Fixtures of the end-to-end image tests: the bundles tests/e2e/build-images.sh unpacked, a
runc container factory, and the loopback fakes shared with tests/integration (whose conftest is
loaded under another module name, so the two conftest files do not clash)."""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "parity_integration_conftest", REPO_ROOT / "tests" / "integration" / "conftest.py")
it = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = it
_spec.loader.exec_module(it)

# Shared fixtures, re-exported: process spawning, the S3 fake (node), the Python fakes.
spawn = it.spawn
node_modules = it.node_modules
s3 = it.s3
fakes = it.fakes
boto3_available = it.boto3_available
probe = it.probe
is_static_elf = it.is_static_elf
sagemaker_config_files = it.sagemaker_config_files
Fake = it.Fake
wait_until = it.wait_until

RUNC_TIMEOUT = 60
WORK = Path(os.environ.get("PARITY_E2E_WORK", REPO_ROOT / "build" / "e2e"))
if not WORK.is_absolute():
    WORK = REPO_ROOT / WORK


@pytest.fixture(scope="session")
def runc():
    path = shutil.which("runc")
    if path is None or os.geteuid() != 0:
        pytest.fail("the e2e tests need runc and root (make e2e installs runc)")
    return path


@pytest.fixture(scope="session")
def bundles():
    """WORK/bundles: {base,train,serve}/ unpacked by umoci (tests/e2e/build-images.sh)."""
    path = WORK / "bundles"
    for name in ("base", "train", "serve"):
        if not (path / name / "config.json").is_file():
            pytest.fail(f"{path / name} is missing: run tests/e2e/build-images.sh (make e2e does)")
    return path


def bind(source, dest, readonly=False):
    return {"destination": dest, "type": "bind", "source": str(source),
            "options": ["rbind", "ro" if readonly else "rw"]}


class Container:
    """One container run by runc in the foreground from an unpacked image: the image's own
    config.json (entrypoint, env, namespaces from the image config) with the test's args, env,
    mounts and network choice; the rootfs is shared read-only with the other tests."""

    def __init__(self, runc, spawn, probe, tmp, image_bundle, args, env=(), mounts=(),
                 host_network=True, rootfs=None):
        self.runc = runc
        self.id = f"parity-e2e-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        self.state = tmp / "runc-state"
        self.bundle = tmp / f"bundle-{self.id}"
        self.bundle.mkdir(parents=True)
        config = json.loads((image_bundle / "config.json").read_text())
        process = config["process"]
        # SageMaker and Kubernetes append CMD-style args to the image's ENTRYPOINT.
        if args is not None:
            process["args"] = [a for a in process["args"] if a] + list(args)
        process["env"] = [e for e in process["env"]] + list(env)
        process["terminal"] = False
        config["root"] = {"path": str(rootfs or (image_bundle / "rootfs")), "readonly": True}
        config["hostname"] = "algo-1"
        config["mounts"] += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                              "options": ["nosuid", "nodev", "mode=1777"]}] + list(mounts)
        if host_network:
            # The loopback fakes (credentials, S3) listen on the host's 127.0.0.1.
            config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                             if n["type"] != "network"]
        config.pop("annotations", None)
        (self.bundle / "config.json").write_text(json.dumps(config, indent=1))
        # runc passes on the signal dispositions it inherited: start it from a clean state.
        self.proc = spawn([probe, "exec", "--reset", "--", runc, "--root", self.state, "run",
                           "--bundle", self.bundle, self.id])

    def kill(self, sig):
        subprocess.run([self.runc, "--root", self.state, "kill", self.id,
                        signal.Signals(sig).name], check=True, timeout=RUNC_TIMEOUT)

    def pid(self):
        r = subprocess.run([self.runc, "--root", self.state, "state", self.id],
                           capture_output=True, text=True, check=True, timeout=RUNC_TIMEOUT)
        return json.loads(r.stdout)["pid"]

    def delete(self):
        subprocess.run([self.runc, "--root", self.state, "delete", "-f", self.id],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=RUNC_TIMEOUT)
        shutil.rmtree(self.bundle, ignore_errors=True)


@pytest.fixture
def container(runc, spawn, probe, tmp_path):
    """Factory: container(image_bundle, args, env=, mounts=, host_network=, rootfs=) ->
    Container, deleted at teardown."""
    made = []

    def factory(image_bundle, args, **kwargs):
        box = Container(runc, spawn, probe, tmp_path, image_bundle, args, **kwargs)
        made.append(box)
        return box

    yield factory
    for box in made:
        box.delete()

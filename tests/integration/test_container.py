# SPDX-License-Identifier: MIT
"""parity-init as PID 1 of a real OCI container run by runc: a rootfs holding nothing but the
static parity-init and the static probe (or busybox), signals sent with runc kill."""

import json
import os
import shutil
import signal
import subprocess
import uuid

import pytest

from conftest import is_static_elf

BUSYBOX = "/bin/busybox"
BUSYBOX_APPLETS = ("sh", "cat", "grep", "sleep", "echo")
RUNC_TIMEOUT = 60


@pytest.fixture(scope="module")
def runc():
    path = shutil.which("runc")
    if path is None:
        pytest.skip("runc is not installed")
    if os.geteuid() != 0:
        pytest.skip("runc needs root")
    return path


class Container:
    """One container: a bundle under tmp_path and `runc run` in the foreground, its stdout
    and stderr piped (process.terminal is false, so runc passes them straight through)."""

    def __init__(self, runc, spawn, tmp_path, files, symlinks, args, probe):
        self.runc = runc
        self.id = f"parity-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.state = tmp_path / "runc-state"
        self.bundle = tmp_path / "bundle"
        rootfs = self.bundle / "rootfs"
        for d in ("proc", "dev", "sys", "tmp", "bin"):
            (rootfs / d).mkdir(parents=True)
        for dest, src in files.items():
            shutil.copy(src, rootfs / dest)
            os.chmod(rootfs / dest, 0o755)
        for dest, target in symlinks.items():
            os.symlink(target, rootfs / dest)
        subprocess.run([runc, "spec"], cwd=self.bundle, check=True, timeout=RUNC_TIMEOUT)
        config_path = self.bundle / "config.json"
        config = json.loads(config_path.read_text())
        config["process"].update(args=[str(a) for a in args], terminal=False, cwd="/",
                                 env=["PATH=/bin:/", "HOME=/"])
        config["root"] = {"path": "rootfs", "readonly": True}
        config["hostname"] = "parity-test"
        config_path.write_text(json.dumps(config, indent=2))
        # runc passes on the signal dispositions it inherited: start it from a clean state.
        self.proc = spawn([probe, "exec", "--reset", "--", runc, "--root", self.state, "run",
                           "--bundle", self.bundle, self.id])

    def kill(self, sig):
        """runc kill: signals the container's PID 1."""
        name = signal.Signals(sig).name
        subprocess.run([self.runc, "--root", self.state, "kill", self.id, name], check=True,
                       timeout=RUNC_TIMEOUT)

    def delete(self):
        subprocess.run([self.runc, "--root", self.state, "delete", "-f", self.id],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=RUNC_TIMEOUT)


@pytest.fixture
def container(runc, spawn, tmp_path, parity_init, probe):
    """Factory: container(args, busybox=False) -> Container, always deleted at teardown."""
    made = []

    def factory(args, busybox=False):
        files = {"parity-init": parity_init, "probe": probe}
        symlinks = {}
        if busybox:
            if not os.path.exists(BUSYBOX) or not is_static_elf(BUSYBOX):
                pytest.skip(f"{BUSYBOX} is missing or not static (install busybox-static)")
            files = {"parity-init": parity_init, "bin/busybox": BUSYBOX}
            symlinks = {f"bin/{applet}": "busybox" for applet in BUSYBOX_APPLETS}
        box = Container(runc, spawn, tmp_path / f"c{len(made)}", files, symlinks, args, probe)
        made.append(box)
        return box

    yield factory
    for box in made:
        box.delete()


def test_parity_init_is_pid1(container):
    box = container(["/parity-init", "--", "/probe", "status"])
    r = box.proc.wait()
    assert r.returncode == 0, r
    status = json.loads(r.stdout)
    assert status["ppid"] == 1, status
    assert status["pid1_comm"] == "parity-init", status
    assert status["pgid"] == status["pid"], status
    assert int(status["sigblk"], 16) == 0 and int(status["sigign"], 16) == 0, status
    assert r.err_lines(), "parity-init logged nothing"
    assert all(line.startswith("parity-init[1]: ") for line in r.err_lines()), r


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1],
                         ids=lambda s: s.name)
def test_runc_kill_is_forwarded_and_exit_code_returns(container, sig):
    box = container(["/parity-init", "--", "/probe", "signals", "--code", "42"])
    box.proc.wait_line(r"^ready pid=\d+ ppid=1 pgid=\d+$")
    box.kill(sig)
    box.proc.wait_line(rf"^signal {int(sig)} ")
    r = box.proc.wait()
    assert r.returncode == 42, r


@pytest.mark.parametrize("args, code", [
    (["exit", "0"], 0), (["exit", "1"], 1), (["exit", "42"], 42), (["exit", "255"], 255),
    (["kill-self", "9"], 137), (["kill-self", "15"], 143), (["kill-self", "11"], 139),
], ids=lambda v: "-".join(v) if isinstance(v, list) else str(v))
def test_exit_status_propagates(container, args, code):
    r = container(["/parity-init", "--", "/probe", *args]).proc.wait()
    assert r.returncode == code, r


def test_orphans_are_reaped(container):
    r = container(["/parity-init", "--", "/probe", "orphans", "2000"]).proc.wait(timeout=240)
    assert r.returncode == 0, r
    assert r.out_lines()[-1:] == ["zombies 0 alive 0"], r


def test_grace_escalation(container):
    box = container(["/parity-init", "--grace-seconds", "1", "--", "/probe", "ignore", "15"])
    box.proc.wait_line(r"^ready ")
    box.kill(signal.SIGTERM)
    r = box.proc.wait()
    assert r.returncode == 137, r


# --- busybox rootfs: a shell as the child ----------------------------------------------------


def test_busybox_exit_code(container):
    r = container(["/parity-init", "--", "/bin/sh", "-c", "exit 7"], busybox=True).proc.wait()
    assert r.returncode == 7, r


def test_busybox_sees_parity_init_as_pid1(container):
    box = container(["/parity-init", "--", "/bin/sh", "-c", "cat /proc/1/comm; echo ppid=$PPID"],
                    busybox=True)
    r = box.proc.wait()
    assert r.returncode == 0, r
    assert r.out_lines() == ["parity-init", "ppid=1"], r


def test_busybox_trap_receives_runc_kill(container):
    script = 'trap "echo got-term; exit 42" TERM; echo ready; sleep 300 & wait'
    box = container(["/parity-init", "--", "/bin/sh", "-c", script], busybox=True)
    box.proc.wait_line(r"^ready$")
    box.kill(signal.SIGTERM)
    r = box.proc.wait()
    assert r.returncode == 42, r
    assert "got-term" in r.out_lines(), r


def test_busybox_orphans_are_reaped(container):
    # Each (sleep 0 &) leaves an orphan to PID 1; then poll /proc until no zombie is left.
    script = """
        i=0; while [ $i -lt 200 ]; do (sleep 0 &); i=$((i + 1)); done
        n=0
        while [ $n -lt 300 ]; do
            z=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')
            [ "$z" = 0 ] && break
            sleep 0.1; n=$((n + 1))
        done
        echo "zombies $z"
        [ "$z" = 0 ]
    """
    r = container(["/parity-init", "--", "/bin/sh", "-c", script], busybox=True).proc.wait()
    assert r.returncode == 0, r
    assert r.out_lines()[-1:] == ["zombies 0"], r

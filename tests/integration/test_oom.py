"""OOM evidence: when the child dies of SIGKILL, parity-init says whether its cgroup recorded an
OOM kill. The test makes a real memory cgroup (v1 or v2) with a small limit, moves parity-init
into it, and lets the child allocate past the limit."""
import os
import re
import subprocess

import pytest

LIMIT = 48 * 1024 * 1024


def own_memory_cgroup():
    """(version, folder) of this process's memory cgroup, or None."""
    with open("/proc/self/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, controllers, path in lines:
        if "memory" in controllers.split(","):
            return "v1", "/sys/fs/cgroup/memory" + path
    for hid, controllers, path in lines:
        if hid == "0" and not controllers:
            folder = "/sys/fs/cgroup" + path
            try:
                with open(os.path.join(folder, "cgroup.controllers")) as c:
                    if "memory" in c.read().split():
                        return "v2", folder
            except OSError:
                pass
    return None


@pytest.fixture
def oom_cgroup(tmp_path):
    found = own_memory_cgroup()
    if os.geteuid() != 0 or not found:
        pytest.skip("needs root and a memory cgroup")
    version, parent = found
    folder = os.path.join(parent, "parity-oom-%d" % os.getpid())
    try:
        os.mkdir(folder)
    except OSError as e:
        pytest.skip("cannot create a memory cgroup under %s: %s" % (parent, e))
    limits = (["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] if version == "v1"
              else ["memory.max", "memory.swap.max"])
    for name, value in zip(limits, [LIMIT, LIMIT if version == "v1" else 0]):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, "w") as f:
                f.write(str(value))
    yield folder
    os.rmdir(folder)


def run_in(folder, args, root):
    """parity-init ARGS as a child of this test, moved into the cgroup before it starts."""
    def enter():
        with open(os.path.join(folder, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    init = os.environ.get("PARITY_INIT", "build/parity-init")
    probe = os.path.abspath(os.environ.get("PARITY_PROBE", "build/probe"))
    return subprocess.run([init, "--root", str(root), "--", probe] + args, preexec_fn=enter,
                          capture_output=True, text=True, timeout=120)


def exit_line(stderr):
    lines = [line for line in stderr.splitlines() if "finish:" in line]
    assert lines, stderr
    return lines[-1]


def test_oom_kill_is_reported(oom_cgroup, tmp_path):
    (tmp_path / "output").mkdir()
    r = run_in(oom_cgroup, ["alloc", "1024"], tmp_path)
    assert r.returncode == 137, r
    assert "allocated" not in r.stdout
    line = exit_line(r.stderr)
    assert re.search(r"signal=9 signal_name=SIGKILL exit_code=137 oom_kill=yes", line), line
    failure = (tmp_path / "output" / "failure").read_text()
    assert 'ExitCode 137' in failure
    assert 'ExtraInfo "OutOfMemory: Process killed by SIGKILL (signal 9)"' in failure, failure


def test_plain_sigkill_is_not_called_oom(oom_cgroup, tmp_path):
    (tmp_path / "output").mkdir()
    r = run_in(oom_cgroup, ["kill-self", "9"], tmp_path)
    assert r.returncode == 137, r
    assert "oom_kill=no" in exit_line(r.stderr)
    failure = (tmp_path / "output" / "failure").read_text()
    assert 'ExtraInfo "Process killed by SIGKILL (signal 9)"' in failure, failure

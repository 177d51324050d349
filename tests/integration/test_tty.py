"""A terminal on stdin: the child's process group becomes the terminal's foreground group, so
terminal signals reach it and an interactive shell has job control."""
import os
import pty
import re
import select
import time

INIT = os.environ.get("PARITY_INIT", "build/parity-init")
DEADLINE_S = 30


def read_until(fd, pattern, buf=b""):
    """Reads the pty until pattern appears (bounded by a generous deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while not re.search(pattern, buf):
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for %r in %r" % (pattern, buf)
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, "terminal closed before %r; got %r" % (pattern, buf)
            buf += chunk
    return buf


def spawn_on_pty(argv):
    pid, fd = pty.fork()  # the child gets a new session with the pty as controlling terminal
    if pid == 0:
        os.execvp(argv[0], argv)
    return pid, fd


def test_child_group_is_terminal_foreground():
    code = "import os; print('pgrp=%d fg=%d' % (os.getpgrp(), os.tcgetpgrp(0)))"
    pid, fd = spawn_on_pty([INIT, "--", "/usr/bin/python3", "-c", code])
    out = read_until(fd, rb"pgrp=\d+ fg=\d+")
    m = re.search(rb"pgrp=(\d+) fg=(\d+)", out)
    assert m.group(1) == m.group(2), out
    assert os.waitpid(pid, 0)[1] == 0


def test_ctrl_c_reaches_the_foreground_job_of_an_interactive_shell():
    pid, fd = spawn_on_pty([INIT, "--", "/bin/sh", "-i"])
    read_until(fd, rb"[#$] ")
    # The job prints its marker from inside its own process group, so once the marker is on the
    # terminal the job is the foreground group, whether or not it has reached sleep yet.
    os.write(fd, b"sh -c 'echo started-$((40+2)); exec sleep 1000'\n")
    read_until(fd, rb"started-42")
    os.write(fd, b"\x03")  # ^C: the terminal sends SIGINT to its foreground group
    read_until(fd, rb"[#$] $")
    os.write(fd, b"echo alive-$((40+2))\n")
    read_until(fd, rb"alive-42")
    os.write(fd, b"exit 7\n")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7

# SPDX-License-Identifier: MIT
"""parity-init as PID 1 of a fresh PID namespace (unshare), and as a plain subreaper: exit
statuses, signal forwarding, reaping, grace and reap timeouts, exec failures, options, argv,
environment, stdio and logs. The probe (tests/helpers/probe.c) plays the child."""

import json
import re
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.usefixtures("root_required")

S = signal.Signals
LOG_LEVELS = ("debug", "info", "warn", "error")
RT_SIGNALS = [35, signal.SIGRTMIN + 3, 64]  # musl's SIGRTMIN, glibc's SIGRTMIN+3, SIGRTMAX


def sig_id(sig):
    try:
        return S(sig).name
    except ValueError:
        return f"SIG{int(sig)}"


def setting(how, option, env_name, value):
    """(opts, env) that set one parameter either by command-line option or by its env twin."""
    if how == "option":
        return [option, value], {}
    return [], {env_name: value}


def bit(*sigs):
    """A /proc/PID/status signal mask holding sigs."""
    return sum(1 << (int(s) - 1) for s in sigs)


def field(record, name):
    """A log record's field as a string ("" when absent), whatever the log format."""
    value = record["fields"].get(name, "")
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- exit statuses -------------------------------------------------------------------------


@pytest.mark.slow
def test_every_exit_code_propagates(run_init, log_format):
    wrong = []
    for code in range(256):
        r = run_init(["exit", str(code)], log_format=log_format)
        if r.returncode != code:
            wrong.append(f"exit {code} -> {r.returncode}\n{r}")
        elif field(r.exit_record(), "exit_code") != str(code):
            wrong.append(f"exit {code} logged as {r.exit_record()['raw']}")
    assert not wrong, "\n".join(wrong[:5]) + f"\n({len(wrong)} of 256 codes wrong)"


DEATH_SIGNALS = [S.SIGHUP, S.SIGINT, S.SIGQUIT, S.SIGILL, S.SIGTRAP, S.SIGABRT, S.SIGBUS,
                 S.SIGFPE, S.SIGKILL, S.SIGUSR1, S.SIGSEGV, S.SIGUSR2, S.SIGPIPE, S.SIGALRM,
                 S.SIGTERM, S.SIGXCPU, S.SIGSYS, 37]


@pytest.mark.parametrize("sig", DEATH_SIGNALS, ids=sig_id)
def test_child_killed_by_signal_gives_128_plus_n(run_init, log_format, sig):
    r = run_init(["kill-self", str(int(sig))], log_format=log_format)
    assert r.returncode == 128 + sig, r
    rec = r.exit_record()
    assert field(rec, "signal") == str(int(sig)), rec["raw"]
    assert field(rec, "oom_kill") in ("yes", "no", "unknown"), rec["raw"]


# --- signal forwarding ---------------------------------------------------------------------

FORWARDED = [S.SIGHUP, S.SIGINT, S.SIGQUIT, S.SIGUSR1, S.SIGUSR2, S.SIGPIPE, S.SIGALRM,
             S.SIGTERM, S.SIGCONT, S.SIGTSTP, S.SIGURG, S.SIGWINCH, S.SIGIO, S.SIGXCPU,
             S.SIGXFSZ, S.SIGVTALRM, S.SIGPROF, S.SIGPWR, *RT_SIGNALS]


@pytest.mark.parametrize("sig", FORWARDED, ids=sig_id)
def test_signal_is_forwarded_to_child(init, init_wrapper, log_format, sig):
    if sig == signal.SIGRTMAX and any("valgrind" in word for word in init_wrapper):
        pytest.skip("valgrind keeps SIGRTMAX for itself (VKI_SIGVGKILL)")
    p = init(["signals"], log_format=log_format)
    ready = p.wait_line(r"^ready pid=(\d+) ppid=(\d+) pgid=(\d+)$")
    assert ready.group(2) == "1", "the child's parent is not PID 1"
    assert ready.group(1) == ready.group(3), "the child is not leader of its own process group"
    p.send(sig)
    p.wait_line(rf"^signal {int(sig)} ")
    r = p.wait()
    assert r.returncode == 0, r
    assert re.findall(r"^signal (\d+)", r.out, re.M) == [str(int(sig))], r


@pytest.mark.parametrize("sig", [S.SIGTERM, S.SIGINT, S.SIGHUP, S.SIGUSR1, S.SIGWINCH, 37],
                         ids=sig_id)
def test_signal_is_forwarded_when_not_pid1(init, sig):
    p = init(["signals"], pid1=False)
    ready = p.wait_line(r"^ready pid=(\d+) ppid=(\d+) pgid=(\d+)$")
    assert int(ready.group(2)) == p.init_pid
    assert ready.group(1) == ready.group(3), "the child is not leader of its own process group"
    p.send(sig)
    p.wait_line(rf"^signal {int(sig)} ")
    assert p.wait().returncode == 0, p.result


@pytest.mark.parametrize("sig", [S.SIGTTIN, S.SIGTTOU, S.SIGCHLD], ids=sig_id)
def test_signal_is_not_forwarded(init, sig):
    # A real-time marker follows the signal: parity-init dequeues pending standard signals
    # before real-time ones, and so does the probe, so had sig been forwarded the probe would
    # report it before the marker (and exit on it, as it exits after one signal).
    marker = signal.SIGRTMIN + 3
    p = init(["signals"])
    p.wait_line(r"^ready ")
    p.send(sig)
    p.send(marker)
    r = p.wait()
    assert re.findall(r"^signal (\d+)", r.out, re.M) == [str(int(marker))], r
    assert r.returncode == 0, r


GROUP_SIGNALS = [S.SIGUSR1, S.SIGTERM, S.SIGINT, signal.SIGRTMIN + 3]


@pytest.mark.parametrize("sig", GROUP_SIGNALS, ids=sig_id)
def test_signal_reaches_whole_process_group(init, sig):
    p = init(["signals", "--fork"])
    child = p.wait_line(r"^child ready pid=(\d+) pgid=(\d+)$")
    ready = p.wait_line(r"^ready pid=(\d+) ppid=\d+ pgid=(\d+)$")
    assert child.group(2) == ready.group(2) == ready.group(1)
    p.send(sig)
    r = p.wait()
    assert r.returncode == 0, r
    assert re.findall(r"^signal (\d+)", r.out, re.M) == [str(int(sig))], r
    assert re.findall(r"^child signal (\d+)", r.out, re.M) == [str(int(sig))], r


@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("sig", GROUP_SIGNALS, ids=sig_id)
def test_single_child_signals_only_the_child(init, how, sig):
    opts, env = (["--single-child"], {}) if how == "option" else ([], {"PARITY_SINGLE_CHILD": "1"})
    p = init(["signals", "--fork"], opts=opts, env=env)
    p.wait_line(r"^ready ")
    p.send(sig)
    # The probe stops its child only after it got sig itself, and a group signal would be
    # pending in the child by then: a "child signal" line would show a group forward.
    r = p.wait()
    assert r.returncode == 0, r
    assert re.findall(r"^signal (\d+)", r.out, re.M) == [str(int(sig))], r
    assert not re.findall(r"^child signal", r.out, re.M), r


# --- reaping ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["exit", "sigterm"])
def test_a_closed_log_reader_changes_nothing(parity_init, tmp_path, ending):
    """parity-init's own writes to a closed stderr raise SIGPIPE at itself: that is not a signal
    for the child (forwarding it, and logging that, used to loop forever and starve SIGCHLD and
    SIGTERM). The child's status still comes back, and SIGTERM still works."""
    script = "sleep 0.3; echo late >&2; exit 3" if ending == "exit" else "sleep 60"
    p = subprocess.Popen([parity_init, "--log-level", "debug", "--", "sh", "-c", script],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
    for line in p.stderr:  # up to the child's start: signals are parity-init's from then on
        if b"spawn: done" in line:
            break
    p.stderr.close()  # the reader goes away
    if ending == "sigterm":
        p.send_signal(signal.SIGTERM)
    try:
        code = p.wait(timeout=60)
    finally:
        p.kill()
    assert code == (3 if ending == "exit" else 128 + signal.SIGTERM), code


def test_reaps_10000_orphans(run_init):
    r = run_init(["orphans", "10000", "--timeout", "120"], timeout=180)
    assert r.returncode == 0, r
    assert r.out_lines()[-1:] == ["zombies 0 alive 0"], r


def test_subreaper_when_not_pid1(init):
    p = init(["orphans", "3", "--verbose"], pid1=False)
    r = p.wait()
    assert r.returncode == 0, r
    ppids = re.findall(r"^orphan pid=\d+ ppid=(\d+)$", r.out, re.M)
    assert ppids == [str(p.init_pid)] * 3, f"orphans were not re-parented to parity-init\n{r}"
    assert r.out_lines()[-1:] == ["zombies 0 alive 0"], r


def test_subreaper_reaps_many_orphans(run_init):
    r = run_init(["orphans", "1000"], pid1=False)
    assert r.returncode == 0, r
    assert r.out_lines()[-1:] == ["zombies 0 alive 0"], r


# --- grace: SIGTERM/SIGINT escalate to SIGKILL ---------------------------------------------

ESCALATION = re.compile(r"escalat|sigkill|signal=9\b", re.I)


def escalation_records(result):
    """Log records that speak of SIGKILL, other than the line reporting the child's end."""
    return [rec for rec in result.logs() if ESCALATION.search(rec["raw"])
            and "exit_code" not in rec["fields"] and "oom_kill" not in rec["fields"]]


@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("sig", [S.SIGTERM, S.SIGINT], ids=sig_id)
def test_grace_escalates_to_sigkill(init, log_format, how, sig):
    opts, env = setting(how, "--grace-seconds", "PARITY_GRACE_SECONDS", "1")
    p = init(["ignore", str(int(sig))], opts=opts, env=env, log_format=log_format)
    p.wait_line(r"^ready ")
    sent = time.monotonic()
    p.send(sig)
    r = p.wait()
    waited = time.monotonic() - sent
    assert r.returncode == 137, r
    assert 0.8 <= waited < 30, f"SIGKILL came {waited:.2f}s after the signal, grace was 1s"
    assert escalation_records(r), f"no log line says it escalated to SIGKILL\n{r}"


@pytest.mark.parametrize("single", [False, True], ids=["group", "single-child"])
def test_grace_kills_the_whole_group(init, wait_gone, single):
    opts = ["--grace-seconds", "1"] + (["--single-child"] if single else [])
    p = init(["group", "2", "--ignore-term", "--stay"], opts=opts, pid1=False)
    members = [int(m) for m in p.wait_line(r"members=([\d,]+)$").group(1).split(",")]
    p.send(signal.SIGTERM)
    r = p.wait()
    assert r.returncode == 137, r
    assert wait_gone(members), f"group members {members} outlived the SIGKILL"


def test_child_exiting_on_term_is_not_escalated(init):
    p = init(["signals", "--code", "7"], opts=["--grace-seconds", "30"])
    p.wait_line(r"^ready ")
    p.send(signal.SIGTERM)
    r = p.wait()
    assert r.returncode == 7, r
    assert r.elapsed < 25, "parity-init waited out the grace period for an exited child"


# --- reap-seconds: leftover members of the child's group -----------------------------------


@pytest.mark.parametrize("single", [False, True], ids=["group", "single-child"])
@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
def test_leftover_group_members_get_sigterm(init, pid1, single):
    opts = ["--reap-seconds", "20"] + (["--single-child"] if single else [])
    p = init(["group", "3", "--code", "5"], opts=opts, pid1=pid1)
    members = p.wait_line(r"^ready pid=\d+ pgid=\d+ members=([\d,]+)$").group(1).split(",")
    r = p.wait()
    assert r.returncode == 5, r
    got = re.findall(r"^member (\d+) signal (\d+)$", r.out, re.M)
    assert sorted(got) == sorted((m, str(int(signal.SIGTERM))) for m in members), r
    assert r.elapsed < 15, "parity-init waited out reap-seconds though the group had exited"


@pytest.mark.parametrize("how", ["option", "env"])
def test_leftover_members_ignoring_sigterm_are_killed(init, wait_gone, how):
    opts, env = setting(how, "--reap-seconds", "PARITY_REAP_SECONDS", "1")
    p = init(["group", "3", "--ignore-term", "--code", "5"], opts=opts, env=env, pid1=False)
    members = [int(m) for m in p.wait_line(r"members=([\d,]+)$").group(1).split(",")]
    r = p.wait()
    assert r.returncode == 5, r
    assert 0.8 <= r.elapsed < 30, f"parity-init exited after {r.elapsed:.2f}s, reap-seconds=1"
    assert wait_gone(members), f"group members {members} outlived parity-init"
    assert r.eof, "a leftover process still holds the output pipes"


def test_leftover_members_ignoring_sigterm_are_killed_as_pid1(run_init):
    r = run_init(["group", "3", "--ignore-term", "--code", "5"], opts=["--reap-seconds", "1"])
    assert r.returncode == 5, r
    assert 0.8 <= r.elapsed < 30, f"parity-init exited after {r.elapsed:.2f}s, reap-seconds=1"


@pytest.mark.slow
def test_reap_seconds_defaults_to_5(init, wait_gone):
    p = init(["group", "1", "--ignore-term", "--code", "4"], pid1=False)
    member = int(p.wait_line(r"members=(\d+)$").group(1))
    r = p.wait()
    assert r.returncode == 4, r
    assert 4.5 <= r.elapsed < 40, f"parity-init exited after {r.elapsed:.2f}s, default is 5s"
    assert wait_gone([member]), f"group member {member} outlived parity-init"


# --- exec failures and bad usage -----------------------------------------------------------


def exec_failure_cases(tmp_path):
    not_executable = tmp_path / "not-executable"
    not_executable.write_text("#!/bin/sh\nexit 0\n")
    not_executable.chmod(0o644)
    directory = tmp_path / "a-directory"
    directory.mkdir()
    return {
        "missing-path": (str(tmp_path / "no-such-command"), 127, r"not found|no such file"),
        "missing-from-PATH": ("parity-test-no-such-command", 127, r"not found|no such file"),
        "not-executable": (str(not_executable), 126, r"permission denied|not executable"),
        "directory": (str(directory), 126, r"permission denied|not executable|directory"),
    }


@pytest.mark.parametrize("case", ["missing-path", "missing-from-PATH", "not-executable",
                                  "directory"])
def test_exec_failure(run_init, log_format, tmp_path, case):
    command, code, reason = exec_failure_cases(tmp_path)[case]
    r = run_init(command=[command, "arg"], log_format=log_format,
                 env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == code, r
    lines = r.err_lines()
    assert len(lines) == 1, f"want one line of reason on stderr\n{r}"
    assert command in lines[0] and re.search(reason, lines[0], re.I), r
    if log_format == "json":
        assert json.loads(lines[0])["level"] == "error", r


def test_exec_searches_path_like_execvp(run_init, tmp_path):
    """The child searches its PATH itself (it shares PID 1's memory until exec): a match that is
    not executable is skipped for a later one, and reported as 126 if nothing else matches."""
    first, second = tmp_path / "first", tmp_path / "second"
    for d in (first, second):
        d.mkdir()
    (first / "parity-test-cmd").write_text("#!/bin/sh\necho from-first\n")
    (first / "parity-test-cmd").chmod(0o644)
    (second / "parity-test-cmd").write_text("#!/bin/sh\necho from-second\n")
    (second / "parity-test-cmd").chmod(0o755)
    path = f"{first}:{second}:/usr/bin:/bin"
    r = run_init(command=["parity-test-cmd"], env={"PATH": path})
    assert r.returncode == 0 and r.out.strip() == "from-second", r
    r = run_init(command=["parity-test-cmd"], env={"PATH": f"{first}:/usr/bin:/bin",
                                                   "PARITY_LOG_LEVEL": "error"})
    assert r.returncode == 126 and re.search(r"permission denied", r.err, re.I), r


def test_exec_failure_at_default_log_level(run_init, tmp_path):
    r = run_init(command=[str(tmp_path / "no-such-command")])
    assert r.returncode == 127, r
    assert re.search(r"no-such-command.*(not found|no such file)", r.err, re.I), r


BAD_USAGE = {
    "grace-not-a-number": (["--grace-seconds", "abc"], {}),
    "grace-empty": (["--grace-seconds", ""], {}),
    "grace-trailing-junk": (["--grace-seconds", "1x"], {}),
    "grace-negative": (["--grace-seconds", "-1"], {}),
    "reap-not-a-number": (["--reap-seconds", "abc"], {}),
    "stop-not-a-number": (["--stop-seconds", "abc"], {}),
    "unknown-long-option": (["--bogus"], {}),
    "unknown-short-option": (["-Z"], {}),
    "bad-log-format": (["--log-format", "xml"], {}),
    "bad-platform": (["--platform", "nowhere"], {}),
    "env-grace": ([], {"PARITY_GRACE_SECONDS": "abc"}),
    "env-reap": ([], {"PARITY_REAP_SECONDS": "abc"}),
    "env-stop": ([], {"PARITY_STOP_SECONDS": "2 minutes"}),
    "env-log-format": ([], {"PARITY_LOG_FORMAT": "xml"}),
    "env-log-level": ([], {"PARITY_LOG_LEVEL": "loud"}),
    "env-platform": ([], {"PARITY_PLATFORM": "nowhere"}),
}


@pytest.mark.parametrize("case", sorted(BAD_USAGE))
def test_bad_usage_exits_125_without_running_the_child(run_init, case):
    opts, env = BAD_USAGE[case]
    r = run_init(["argv", "child-ran"], opts=opts, env=env)
    assert r.returncode == 125, r
    assert b"child-ran" not in r.stdout, r
    assert r.err_lines(), f"no diagnostic on stderr\n{r}"


@pytest.mark.parametrize("dashdash", [True, False], ids=["with-dashdash", "bare"])
def test_no_command_exits_125(run_init, dashdash):
    r = run_init(command=[], no_dashdash=not dashdash)
    assert r.returncode == 125, r
    assert r.err_lines(), r


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(spawn, init_cmd, flag):
    r = spawn([*init_cmd, flag]).wait()
    assert r.returncode == 0, r
    text = r.out + r.err
    assert re.search(r"usage", text, re.I), r
    for option in ("--grace-seconds", "--reap-seconds", "--single-child", "--log-format",
                   "--platform"):
        assert option in text, f"--help does not mention {option}\n{r}"


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(spawn, init_cmd, flag):
    r = spawn([*init_cmd, flag]).wait()
    assert r.returncode == 0, r
    assert "parity-init" in r.out + r.err, r


@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("platform", ["sagemaker-training", "sagemaker-processing",
                                      "sagemaker-hosting", "eks", "local"])
def test_platforms_are_accepted(run_init, platform, how, tmp_path):
    opts, env = setting(how, "--platform", "PARITY_PLATFORM", platform)
    # SageMaker training reads the config files the platform writes before the container starts.
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text("{}")
    (config / "resourceconfig.json").write_text('{"current_host": "algo-1", "hosts": ["algo-1"]}')
    (config / "inputdataconfig.json").write_text("{}")
    opts = list(opts) + ["--root", str(tmp_path)]
    for code in (0, 3):
        r = run_init(["exit", str(code)], opts=opts, env=env)
        assert r.returncode == code, r


# --- argv, environment, stdio ----------------------------------------------------------------

AWKWARD_ARGS = ["", "a b", "  leading", "trailing  ", 'double"quote', "single'quote",
                "back\\slash", "tab\there", "new\nline", "ünïcödé ✓ 日本語", "$HOME", "*", "-v",
                "--grace-seconds", "--", ""]


def test_argv_is_passed_intact(run_init, probe):
    r = run_init(["argv", *AWKWARD_ARGS])
    assert r.returncode == 0, r
    assert json.loads(r.stdout) == [str(probe), "argv", *AWKWARD_ARGS]


def test_options_stop_at_the_first_non_option(run_init, probe):
    args = ["--bogus", "-v", "--grace-seconds", "abc", "--single-child"]
    r = run_init(["argv", *args], opts=["--reap-seconds", "1"], no_dashdash=True)
    assert r.returncode == 0, r
    assert json.loads(r.stdout) == [str(probe), "argv", *args]


def test_environment_is_passed_intact(run_init):
    awkward = {"SPACES": "a b  c ", "EMPTY": "", "QUOTES": "\"double\" 'single'",
               "UTF8": "héllo wörld ✓ 日本語", "EQUALS": "a=b=c", "NEWLINE": "one\ntwo",
               "BACKSLASH": "C:\\path\\", "DOLLAR": "$PATH"}
    r = run_init(["env"], env=awkward)
    assert r.returncode == 0, r
    child_env = dict(entry.split("=", 1) for entry in json.loads(r.stdout))
    for key, value in awkward.items():
        assert child_env.get(key) == value, f"{key}: {child_env.get(key)!r} != {value!r}"


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
def test_stdout_and_stderr_bytes_pass_through(run_init, pid1):
    out = b"first line\n\x00\x01\x7f\x80\xff binary\r\nutf-8 \xc3\xa9 \xe2\x9c\x93\npartial"
    err = b"error line\n\xfe\xfd\x00 no newline at the end"
    r = run_init(["stdio", out.hex(), err.hex()], pid1=pid1)
    assert r.returncode == 0, r
    assert r.stdout == out, "stdout bytes changed (or parity-init wrote to stdout)"
    assert err in r.stderr, r


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
def test_stdin_passes_through(init, pid1):
    data = bytes(range(256)) * 4096 + b"tail without newline"
    p = init(["cat"], pid1=pid1, stdin=subprocess.PIPE)
    p.write_stdin(data)
    p.close_stdin()
    r = p.wait()
    assert r.returncode == 0, r
    assert r.stdout == data, f"{len(r.stdout)} bytes came back of {len(data)}"


# --- what the child inherits -----------------------------------------------------------------


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
def test_child_starts_with_clean_signal_state(init, init_wrapper, probe, pid1):
    # Whatever pytest inherited is reset first: parity-init passes inherited dispositions on.
    p = init(["status"], pid1=pid1, wrapper=[probe, "exec", "--reset", "--"])
    r = p.wait()
    assert r.returncode == 0, r
    status = json.loads(r.stdout)
    assert int(status["sigblk"], 16) == 0, f"child has signals blocked: {status}"
    assert int(status["sigign"], 16) == 0, f"child has signals ignored: {status}"
    assert status["pgid"] == status["pid"], f"child is not in its own process group: {status}"
    if pid1:
        assert status["ppid"] == 1, status
        if not init_wrapper:
            assert status["pid1_comm"] == "parity-init", status
    else:
        assert status["ppid"] == p.init_pid, status


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
def test_child_inherits_blocked_and_ignored_signals(run_init, probe, pid1):
    blocked, ignored = [S.SIGUSR1, 37], [S.SIGUSR2, S.SIGHUP]
    wrapper = [probe, "exec", "--reset", "--block", ",".join(str(int(s)) for s in blocked),
               "--ignore", ",".join(str(int(s)) for s in ignored), "--"]
    r = run_init(["status"], pid1=pid1, wrapper=wrapper)
    assert r.returncode == 0, r
    status = json.loads(r.stdout)
    assert int(status["sigblk"], 16) == bit(*blocked), status
    assert int(status["sigign"], 16) == bit(*ignored), status


# --- logs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
@pytest.mark.parametrize("how", ["option", "env"])
def test_json_log_lines(run_init, how, verbose):
    opts, env = setting(how, "--log-format", "PARITY_LOG_FORMAT", "json")
    r = run_init(["exit", "3"], opts=opts + (["-v"] if verbose else []), env=env)
    assert r.returncode == 3, r
    assert r.err_lines(), r
    for line in r.err_lines():
        record = json.loads(line)
        assert isinstance(record, dict), line
        for key in ("ts", "level", "prog", "pid", "phase", "msg"):
            assert key in record, f"{key} missing: {line}"
        assert record["prog"] == "parity-init", line
        assert record["pid"] == 1, line
        assert record["level"] in LOG_LEVELS, line
        assert isinstance(record["msg"], str) and isinstance(record["phase"], str), line
    assert field(r.exit_record("json"), "exit_code") == "3", r


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
def test_text_log_lines(init, pid1, verbose):
    p = init(["exit", "3"], opts=["-v"] if verbose else [], pid1=pid1)
    r = p.wait()
    assert r.returncode == 3, r
    assert r.err_lines(), r
    want_pid = 1 if pid1 else p.init_pid
    records = r.logs("text")
    assert len(records) == len(r.err_lines()), f"stderr holds lines that are not log lines\n{r}"
    for record in records:
        assert record["raw"].startswith(f"parity-init[{want_pid}]: "), record["raw"]
        assert record["level"] in LOG_LEVELS, record["raw"]
    assert field(r.exit_record(), "exit_code") == "3", r


@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("level", LOG_LEVELS)
def test_log_level_filters(run_init, log_format, level, how):
    opts, env = setting(how, "--log-level", "PARITY_LOG_LEVEL", level)
    r = run_init(["exit", "0"], opts=opts, env=env, log_format=log_format)
    assert r.returncode == 0, r
    records = r.logs()
    assert len(records) == len(r.err_lines()), f"stderr holds lines that are not log records\n{r}"
    rank = LOG_LEVELS.index(level)
    assert all(LOG_LEVELS.index(rec["level"]) >= rank for rec in records), r
    if level == "debug":
        assert any(rec["level"] == "debug" for rec in records), r
    if level == "error":
        assert r.stderr == b"", "a clean run logged errors"


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_verbose_flag_enables_debug(run_init, flag):
    r = run_init(["exit", "0"], opts=[flag])
    assert r.returncode == 0, r
    assert any(rec["level"] == "debug" for rec in r.logs()), r


def test_log_level_option_wins_over_env(run_init):
    r = run_init(["exit", "0"], opts=["--log-level", "error"], env={"PARITY_LOG_LEVEL": "debug"})
    assert r.returncode == 0, r
    assert r.stderr == b"", r


def proc_status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def test_supervising_keeps_few_pages_resident(init, init_wrapper, parity_init):
    """Booting (seccomp compile included) touches far more code than supervising needs; those
    pages are released once the child runs, which keeps VmRSS within the 1 MiB target
    (bench/startup.sh measures it next to tini)."""
    if init_wrapper or not str(parity_init).endswith("build/parity-init"):
        pytest.skip("measures the static release build only")
    p = init(["signals"], env={"PARITY_SECCOMP": "default"})
    p.wait_line(r"^ready pid=")
    rss = proc_status_kib(p.init_pid, "VmRSS")
    assert rss <= 1024, f"parity-init VmRSS {rss} KiB while supervising"
    p.send(signal.SIGTERM)
    p.wait_line(r"^signal 15 ")
    assert p.wait().returncode == 0

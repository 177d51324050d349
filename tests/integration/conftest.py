# SPDX-License-Identifier: MIT
"""Shared fixtures for parity-init's black-box tests: process spawning with live output, and
running parity-init (optionally as PID 1 of a fresh PID namespace) in front of the probe."""

import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Generous bounds: the tests wait on events, these only stop a broken run from hanging.
READY_TIMEOUT = 30.0
EXIT_TIMEOUT = 60.0

JSON_KEYS = ("ts", "level", "prog", "pid", "phase", "msg")
TEXT_LINE = re.compile(
    r"^parity-init\[(?P<pid>\d+)\]: (?P<level>[a-z]+): (?P<phase>[^:]+): (?P<rest>.*)$")
TEXT_FIELD = re.compile(r'(?:^|\s)(?P<key>[A-Za-z_][\w.-]*)=(?P<value>"(?:[^"\\]|\\.)*"|\S*)')


def binary_path(env_var, default):
    """The binary named by env_var (relative paths are taken from the repo root)."""
    path = Path(os.environ.get(env_var, default))
    return path if path.is_absolute() else REPO_ROOT / path


def read_proc_stat(pid):
    """(state, ppid, pgid, session) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3])


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def pid_is_gone(pid):
    """True when pid no longer exists or is a zombie (dead, awaiting its reaper)."""
    stat = read_proc_stat(pid)
    return stat is None or stat[0] in ("Z", "X")


def wait_until(predicate, timeout, interval=0.02):
    """Polls predicate until it holds or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def parse_log_line(line, log_format):
    """One parity-init log line as a dict (pid, level, phase, msg, fields, raw), or None."""
    if log_format == "json":
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if not isinstance(obj, dict) or obj.get("prog") != "parity-init":
            return None
        fields = {k: v for k, v in obj.items() if k not in JSON_KEYS}
        return {"pid": obj.get("pid"), "level": obj.get("level"), "phase": obj.get("phase"),
                "msg": obj.get("msg"), "fields": fields, "raw": line, "json": obj}
    m = TEXT_LINE.match(line)
    if m is None:
        return None
    rest = m.group("rest")
    fields = {}
    msg_end = len(rest)
    for f in TEXT_FIELD.finditer(rest):
        value = f.group("value")
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        fields[f.group("key")] = value
        msg_end = min(msg_end, f.start())
    return {"pid": int(m.group("pid")), "level": m.group("level"), "phase": m.group("phase"),
            "msg": rest[:msg_end].strip(), "fields": fields, "raw": line}


class Result:
    """The outcome of one finished process."""

    def __init__(self, argv, returncode, stdout, stderr, eof, elapsed, log_format):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.eof = eof  # False: something still held stdout/stderr open after the exit
        self.elapsed = elapsed
        self.log_format = log_format

    @property
    def out(self):
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self):
        return self.stderr.decode("utf-8", "replace")

    def out_lines(self):
        return self.out.splitlines()

    def err_lines(self):
        return [line for line in self.err.splitlines() if line.strip()]

    def logs(self, log_format=None):
        """parity-init's log records on stderr (lines that are not log records are skipped)."""
        fmt = log_format or self.log_format or "text"
        parsed = (parse_log_line(line, fmt) for line in self.err.splitlines())
        return [rec for rec in parsed if rec is not None]

    def exit_record(self, log_format=None):
        """The last log record that reports how the child ended (has exit_code or oom_kill)."""
        records = [r for r in self.logs(log_format)
                   if "exit_code" in r["fields"] or "oom_kill" in r["fields"]]
        assert records, f"no log line reports the child's exit:\n{self}"
        return records[-1]

    def __repr__(self):
        return (f"argv: {self.argv}\nreturncode: {self.returncode} (elapsed {self.elapsed:.2f}s,"
                f" eof {self.eof})\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}")


class Spawned:
    """A running process (in its own session) whose stdout and stderr are collected live."""

    def __init__(self, argv, env=None, stdin=subprocess.DEVNULL, log_format=None, init_exe=None,
                 pid1=False):
        self.argv = [str(a) for a in argv]
        self.log_format = log_format
        self.init_exe = init_exe
        self.pid1 = pid1
        self.started = time.monotonic()
        self.popen = subprocess.Popen(self.argv, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, start_new_session=True)
        self.cond = threading.Condition()
        self.buffers = {"stdout": bytearray(), "stderr": bytearray()}
        self.open_streams = {"stdout", "stderr"}
        self.readers = [threading.Thread(target=self._read, args=(name, getattr(self.popen, name)),
                                         daemon=True) for name in ("stdout", "stderr")]
        for reader in self.readers:
            reader.start()
        self._init_pid = None
        self.result = None

    def _read(self, name, pipe):
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.open_streams.discard(name)
                    self.cond.notify_all()
                    return
                self.buffers[name].extend(chunk)
                self.cond.notify_all()

    def text(self, stream="stdout"):
        with self.cond:
            return bytes(self.buffers[stream]).decode("utf-8", "replace")

    def wait_line(self, pattern, stream="stdout", timeout=READY_TIMEOUT):
        """Waits for a complete line matching pattern (re.search); returns the match."""
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                data = bytes(self.buffers[stream])
                complete = data[: data.rfind(b"\n") + 1].decode("utf-8", "replace")
                m = regex.search(complete)
                if m:
                    return m
                left = deadline - time.monotonic()
                if stream not in self.open_streams or left <= 0:
                    break
                self.cond.wait(min(left, 0.5))
        why = "timed out" if stream in self.open_streams else "stream closed"
        self.kill()
        pytest.fail(f"{why} waiting for /{pattern}/ on {stream}:\n{self.wait(timeout=10)}")

    @property
    def init_pid(self):
        """Host PID of parity-init: the process itself, or the child of unshare in PID-1 mode."""
        if self._init_pid is None:
            if not self.pid1:
                self._init_pid = self.popen.pid
            else:
                self._init_pid = wait_until(self._find_ns_init, READY_TIMEOUT)
                assert self._init_pid, f"parity-init (child of unshare {self.popen.pid}) not found"
        return self._init_pid

    def _find_ns_init(self):
        upid = self.popen.pid
        try:
            with open(f"/proc/{upid}/task/{upid}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            children = [p for p in all_pids() if (read_proc_stat(p) or (0, 0))[1] == upid]
        for pid in children:
            try:
                exe = os.path.realpath(f"/proc/{pid}/exe")
            except OSError:
                continue
            if self.init_exe is None or exe == os.path.realpath(self.init_exe):
                return pid
        return None

    def send(self, sig):
        """Sends sig to parity-init."""
        os.kill(self.init_pid, sig)

    def write_stdin(self, data):
        self.popen.stdin.write(data)
        self.popen.stdin.flush()

    def close_stdin(self):
        self.popen.stdin.close()

    def session_members(self):
        """Host PIDs of every process still in this run's session (the run and descendants)."""
        sid = self.popen.pid
        return [p for p in all_pids() if (read_proc_stat(p) or (0, 0, 0, 0))[3] == sid]

    def kill(self):
        """SIGKILLs the run and everything left in its session."""
        for _ in range(3):
            # Once reaped, the run's PID may belong to someone else: only its session counts.
            running = [self.popen.pid] if self.popen.poll() is None else []
            for pid in running + self.session_members():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def wait(self, timeout=EXIT_TIMEOUT):
        """Waits for the exit (killing everything on timeout) and for EOF on both streams."""
        if self.result is not None:
            return self.result
        try:
            returncode = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            returncode = self.popen.wait()
            returncode = f"timeout after {timeout}s (killed, status {returncode})"
        elapsed = time.monotonic() - self.started
        for reader in self.readers:
            reader.join(timeout=5)
        with self.cond:
            eof = not self.open_streams
            out, err = bytes(self.buffers["stdout"]), bytes(self.buffers["stderr"])
        self.result = Result(self.argv, returncode, out, err, eof, elapsed, self.log_format)
        if self.popen.stdin:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
        return self.result


def base_env(extra=None):
    """A minimal environment for parity-init: PATH only, plus extra."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def parity_init():
    path = binary_path("PARITY_INIT", "build/parity-init")
    if not os.access(path, os.X_OK):
        pytest.fail(f"parity-init binary not found at {path} (run make, or set PARITY_INIT)")
    return path


@pytest.fixture(scope="session")
def init_wrapper():
    """PARITY_INIT_WRAPPER (e.g. "valgrind -q ..."): a command put in front of parity-init."""
    return shlex.split(os.environ.get("PARITY_INIT_WRAPPER", ""))


@pytest.fixture(scope="session")
def init_cmd(parity_init, init_wrapper):
    """The command line that starts parity-init (its wrapper, if any, included)."""
    return [*init_wrapper, parity_init]


@pytest.fixture(scope="session")
def probe():
    path = binary_path("PARITY_PROBE", "build/probe")
    if not os.access(path, os.X_OK):
        pytest.fail(f"probe binary not found at {path} (run make, or set PARITY_PROBE)")
    return path


@pytest.fixture(scope="session")
def root_required():
    if os.geteuid() != 0:
        pytest.skip("needs root (PID namespaces via unshare, runc)")
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")


@pytest.fixture
def wait_gone():
    """wait_gone(pids, timeout=10): True once every host PID in pids is gone (or a zombie)."""

    def check(pids, timeout=10.0):
        return wait_until(lambda: all(pid_is_gone(pid) for pid in pids), timeout)

    return check


@pytest.fixture
def spawn():
    """Factory: spawn(argv, ...) -> Spawned; everything spawned is killed at teardown."""
    spawned = []

    def factory(argv, **kwargs):
        proc = Spawned(argv, **kwargs)
        spawned.append(proc)
        return proc

    yield factory
    for proc in spawned:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(params=["text", "json"])
def log_format(request):
    """Runs a test once per log format (passed as --log-format)."""
    return request.param


@pytest.fixture
def init(spawn, init_cmd, init_wrapper, parity_init, probe):
    """Factory: init(probe_args, opts=(), pid1=True, ...) -> Spawned running
    [unshare --pid --fork --mount-proc] parity-init OPTS -- PROBE PROBE_ARGS.

    command replaces "PROBE PROBE_ARGS"; no_dashdash leaves out the "--"; wrapper is put in
    front of everything (e.g. the probe's exec subcommand); env is added to a minimal one.
    PARITY_INIT_WRAPPER goes right before parity-init."""

    def factory(probe_args=(), opts=(), pid1=True, env=None, log_format=None, command=None,
                no_dashdash=False, wrapper=(), stdin=subprocess.DEVNULL):
        argv = list(wrapper)
        if pid1:
            argv += ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
        argv += [*init_cmd, *opts]
        if log_format:
            argv += ["--log-format", log_format]
        if not no_dashdash:
            argv.append("--")
        argv += list(command) if command is not None else [probe, *probe_args]
        # A wrapper (valgrind) may run parity-init under another executable's name.
        init_exe = None if init_wrapper else parity_init
        return spawn(argv, env=base_env(env), stdin=stdin, log_format=log_format,
                     init_exe=init_exe, pid1=pid1)

    return factory


@pytest.fixture
def run_init(init):
    """Like init, but waits for the exit and returns the Result."""

    def factory(*args, timeout=EXIT_TIMEOUT, **kwargs):
        return init(*args, **kwargs).wait(timeout=timeout)

    return factory


# --- the S3 fake (tests/servers/s3.js), shared by the credential and data-plane tests -----------
SERVERS = REPO_ROOT / "tests" / "servers"
BUCKET = "test-bucket"


@pytest.fixture(scope="session")
def node_modules():
    """The npm packages (s3rver, JS SDK) from ci/node-deps.sh, or PARITY_NODE_MODULES."""
    given = os.environ.get("PARITY_NODE_MODULES")
    if given:
        return Path(given)
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed (ci/deps.sh installs them): no S3 fake, no JS SDK")
    r = subprocess.run(["bash", str(REPO_ROOT / "ci" / "node-deps.sh")], capture_output=True,
                       text=True, timeout=600)
    if r.returncode == 3:
        pytest.skip(f"no usable Node.js: {r.stderr.strip()}")
    assert r.returncode == 0, f"ci/node-deps.sh failed:\n{r.stderr}"
    return Path(r.stdout.strip().splitlines()[-1])


class Fake:
    """A running fake from tests/servers: its port, control endpoint and request log (one JSON
    object per line)."""

    def __init__(self, proc, log_path):
        self.proc = proc
        self.log_path = log_path
        self.port = int(proc.wait_line(r"^ready port=(\d+)$").group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, **update):
        req = Request(self.url + "/_control", data=json.dumps(update).encode(), method="POST",
                      headers={"Content-Type": "application/json"})
        with urlopen(req, timeout=READY_TIMEOUT) as resp:
            return json.loads(resp.read())

    def snapshot(self):
        with urlopen(self.url + "/_control", timeout=READY_TIMEOUT) as resp:
            return json.loads(resp.read())

    def records(self):
        try:
            text = self.log_path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.endswith("}")]

    def issued(self):
        """Every key set this fake handed out, in order."""
        return [r["issued"] for r in self.records() if r.get("issued")]

    def wait_records(self, predicate, timeout=EXIT_TIMEOUT, what="a log record"):
        """Waits until predicate(records) holds; returns its value."""
        value = wait_until(lambda: predicate(self.records()), timeout, interval=0.05)
        assert value, f"timed out waiting for {what}; log:\n{self.log_path.read_text()[-4000:]}"
        return value


class S3(Fake):
    """The S3 fake: like the others, but its log records carry the URL."""

    def records(self, prefix):
        """The requests whose URL mentions prefix (each test uses its own)."""
        return [r for r in super().records() if prefix in r["url"]]


@pytest.fixture(scope="module")
def s3(node_modules, tmp_path_factory):
    """One SigV4-verifying S3 for the module; tests keep apart by key prefix."""
    work = tmp_path_factory.mktemp("s3")
    log = work / "requests.log"
    env = base_env({"NODE_PATH": str(node_modules)})
    proc = Spawned(["node", SERVERS / "s3.js", "--dir", work / "data", "--log", log,
                    "--bucket", BUCKET], env=env)
    server = S3(proc, log)
    yield server
    proc.popen.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def prefix(request):
    """A key prefix of this test's own in the shared bucket."""
    return "t-" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def boto3_available():
    r = subprocess.run(["/usr/bin/python3", "-c", "import boto3"], capture_output=True, timeout=EXIT_TIMEOUT)
    if r.returncode != 0:
        pytest.fail("/usr/bin/python3 has no boto3: apt-get install python3-boto3 (ci/deps.sh)")


class LoopbackHTTP:
    """A test's own HTTP handler served on 127.0.0.1 from a thread; a context manager."""

    def __init__(self, handler):
        from http.server import ThreadingHTTPServer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def fakes(spawn, tmp_path, boto3_available):
    """start(kind, *args, cls=Fake, **state) -> a running tests/servers/KIND.py (container_creds,
    sts, imds, awsjson) with its log in tmp_path and `state` as its --config."""
    count = [0]

    def start(kind, *args, cls=Fake, **state):
        count[0] += 1
        log = tmp_path / f"{kind}-{count[0]}.log"
        argv = ["/usr/bin/python3", SERVERS / f"{kind}.py", "--log", log, *args]
        if state:
            argv += ["--config", json.dumps(state)]
        proc = spawn(argv, env=base_env({"PYTHONDONTWRITEBYTECODE": "1"}))
        return cls(proc, log)

    return start


def is_static_elf(path):
    """True when path is a 64-bit ELF without a program interpreter (PT_INTERP): it runs in a
    root filesystem without libc."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * phentsize)[0] != 3
               for i in range(phnum))


def sagemaker_config_files(spec):
    """The config files SageMaker writes for this spec (contract/sagemaker.md §1.3): the SDK's
    JSON-encoded hyperparameters, a one-host resourceconfig, the channel's inputdataconfig."""
    kind = spec["resources"]["instance_type"]
    return {
        "hyperparameters.json": {k: json.dumps(v) for k, v in spec["hyperparameters"].items()},
        "resourceconfig.json": {
            "current_host": "algo-1", "current_instance_type": kind,
            "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                 "instance_type": kind, "hosts": ["algo-1"]}],
            "network_interface_name": "eth0", "topology": None},
        "inputdataconfig.json": {"train": {"ContentType": "text/csv", "TrainingInputMode": "File",
                                           "S3DistributionType": "FullyReplicated",
                                           "RecordWrapperType": "None"}},
    }

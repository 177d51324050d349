# SPDX-License-Identifier: MIT
"""The S3 data plane when things go wrong: 5xx answers, throttling and dropped connections on
the parts of a ranged download and of a multipart upload, a part that never goes through, a
disk that fills up, and a SIGTERM while the output is still on its way (docs/data.md).

S3 here is FakeS3, an in-memory loopback stand-in (it does not check signatures, but it does
check each body against its signed SHA-256, and keeps S3's multipart rules) that fails requests
on a script: what the s3rver fake of test_s3_e2e.py cannot be told to do. parity-init runs on
the local platform with a job config, as in test_s3_data.py."""

import hashlib
import json
import math
import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import pytest

from conftest import BUCKET, EXIT_TIMEOUT, READY_TIMEOUT, LoopbackHTTP, wait_until
from test_s3_data import WALK, keys  # noqa: F401  (keys: a fixture)
from test_s3_e2e import folder_files, tar_files

EXIT_BOOT_FAILURE = 125
JOB = "faults-test"
MIB = 1024 * 1024
RANGE_PART = 8 * MIB  # parity-init's part size for ranged downloads
# Multipart settings small enough for a test: a 16 MiB model makes four parts.
MULTIPART = {"PARITY_S3_MULTIPART_THRESHOLD": str(6 * MIB), "PARITY_S3_PART_SIZE": str(5 * MIB)}
# Retries back off; five tries of a part must fit in this with room to spare.
RETRY_TIMEOUT = 180.0

ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
}


def error_xml(code, message, **extra):
    more = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in extra.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message>{more}<RequestId>FAKE</RequestId></Error>"
            ).encode()


def etag_of(body):
    return f'"{hashlib.md5(body).hexdigest()}"'


class FakeS3(LoopbackHTTP):
    """An in-memory S3 on 127.0.0.1, path style, one bucket: ListObjectsV2 (one page), GET with
    Range and If-Match, HEAD, PUT, DELETE, and multipart uploads (POST ?uploads, PUT
    ?partNumber=&uploadId=, POST ?uploadId= to complete, DELETE ?uploadId= to abort).

    objects maps keys to bodies, and holds what was uploaded. faults maps a request kind (list,
    get, head, put, create, part, complete, abort, delete), "kind:detail" (detail: the key
    for get/head/put, the part number for part) or "get:KEY#N" (a ranged GET starting in the
    Nth 8 MiB part of KEY) to a list of what its next requests do, in order: "500"
    (InternalError), "503" (SlowDown throttling), "drop" (half the body, then the connection is
    closed: for a GET half the answer, for an upload half the request body, then no answer) or
    None (answer properly). The most specific list that has faults left is used.

    stall names a kind (get, put, part, complete) whose every request is held, after some of its
    body was read (complete: all of it) or half of the answer sent (get), until release is set;
    `stalled` is set when the first one is held. A held put or part is then dropped unstored (the
    sender went away mid-body); a held get sends the rest of its answer; a held complete goes on,
    and completes unless the upload was aborted meanwhile.

    requests: one dict per request (kind, method, key, query, headers in lower case, fault,
    status, and for GETs the range asked and the bytes sent). upload_started is set when the
    first PUT or POST ?uploads arrives. active counts the requests being handled."""

    UPLOAD_KINDS = ("put", "create", "part")

    def __init__(self, objects=None, faults=None, stall=None):
        self.objects = dict(objects or {})
        self.uploads = {}  # upload id -> {"key": key, "parts": {number: body}}
        self.aborted = []  # upload ids
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.stall = stall
        self.requests = []
        self.sha_mismatches = []
        self.lock = threading.Lock()
        self.upload_started = threading.Event()
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.active = 0
        self.next_upload = 0
        super().__init__(self._handler())

    # --- helpers for tests -------------------------------------------------------------------
    def of(self, kind, key=None):
        with self.lock:
            return [r for r in self.requests if r["kind"] == kind and key in (None, r["key"])]

    def faults_left(self):
        with self.lock:
            return {k: v for k, v in self.faults.items() if v}

    def settle(self):
        """Lets held requests go and waits until no request is being handled."""
        self.release.set()
        assert wait_until(lambda: self.active == 0, READY_TIMEOUT), "a request handler hangs"

    def close(self):
        self.release.set()
        super().close()

    # --- the server ----------------------------------------------------------------------------
    def _take_fault(self, kind, detail, part=None):
        with self.lock:
            names = ([f"{kind}:{detail}#{part}"] if part is not None else []) + \
                [f"{kind}:{detail}", kind]
            for name in names:
                if self.faults.get(name):
                    return self.faults[name].pop(0)
        return None

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # parity-init dropped the connection: what faults and stalls provoke

            # -- plumbing --
            def answer(self, status, body=b"", headers=(), head_only=False, half=False):
                """half: Content-Length says all of body, only its first half is written."""
                self.rec["status"] = status
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if not head_only:
                    self.wfile.write(body[: len(body) // 2] if half else body)

            def error(self, status, code, message, **extra):
                self.answer(status, error_xml(code, message, **extra),
                            [("Content-Type", "application/xml")])

            def drop(self):
                self.rec["status"] = "dropped"
                self.close_connection = True
                try:
                    self.wfile.flush()
                    self.connection.shutdown(2)
                except OSError:
                    pass

            def read_body(self, limit=None):
                """(body, complete): the request body, or its first `limit` bytes."""
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    out = bytearray()
                    while limit is None or len(out) < limit:
                        line = self.rfile.readline()
                        if not line:
                            return bytes(out), False
                        size = int(line.split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return bytes(out), True
                        chunk = self.rfile.read(size + 2)
                        out += chunk[:size]
                        if len(chunk) < size + 2:
                            return bytes(out), False
                    return bytes(out), False
                length = int(self.headers.get("Content-Length", "0"))
                want = length if limit is None else min(limit, length)
                body = self.rfile.read(want) if want else b""
                return body, len(body) == length

            def hold(self):
                outer.stalled.set()
                outer.release.wait()

            def sha_ok(self, body):
                signed = self.headers.get("x-amz-content-sha256", "")
                if re.fullmatch(r"[0-9a-f]{64}", signed) and \
                        signed != hashlib.sha256(body).hexdigest():
                    outer.sha_mismatches.append(self.rec)
                    self.error(400, "XAmzContentSHA256Mismatch",
                               "The provided 'x-amz-content-sha256' header does not match "
                               "what was computed.")
                    return False
                return True

            def dispatch(self, method):
                url = urlsplit(self.path)
                parts = url.path.split("/", 2)
                key = unquote(parts[2]) if len(parts) > 2 else ""
                query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                if method == "GET" and not key:
                    kind, detail = "list", ""
                elif method in ("GET", "HEAD", "DELETE") and "uploadId" not in query:
                    kind, detail = {"GET": "get", "HEAD": "head", "DELETE": "delete"}[method], key
                elif method == "PUT" and "uploadId" in query:
                    kind, detail = "part", query.get("partNumber", "")
                elif method == "PUT":
                    kind, detail = "put", key
                elif method == "POST" and "uploads" in query:
                    kind, detail = "create", key
                elif method == "POST" and "uploadId" in query:
                    kind, detail = "complete", key
                elif method == "DELETE":
                    kind, detail = "abort", key
                else:
                    kind, detail = "other", key
                self.rec = {"kind": kind, "method": method, "key": key, "query": query,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "fault": None, "status": None, "upload_id": query.get("uploadId")}
                if kind == "part":
                    self.rec["part"] = int(query.get("partNumber") or 0)
                with outer.lock:
                    outer.requests.append(self.rec)
                    outer.active += 1
                if kind in FakeS3.UPLOAD_KINDS:
                    outer.upload_started.set()
                try:
                    if parts[1] != BUCKET:
                        self.read_body()
                        return self.error(404, "NoSuchBucket", "The bucket does not exist.")
                    part = None
                    m = re.fullmatch(r"bytes=(\d+)-\d*", self.headers.get("Range", ""))
                    if kind == "get" and m:
                        part = int(m.group(1)) // RANGE_PART
                    fault = outer._take_fault(kind, detail, part)
                    self.rec["fault"] = fault
                    if fault in ERRORS:
                        self.read_body()
                        return self.error(*ERRORS[fault])
                    getattr(self, "do_" + kind)(key, query, fault)
                except (BrokenPipeError, ConnectionResetError):
                    self.rec["status"] = "sender gone"
                    self.close_connection = True
                finally:
                    with outer.lock:
                        outer.active -= 1

            def do_GET(self):
                self.dispatch("GET")

            def do_HEAD(self):
                self.dispatch("HEAD")

            def do_PUT(self):
                self.dispatch("PUT")

            def do_POST(self):
                self.dispatch("POST")

            def do_DELETE(self):
                self.dispatch("DELETE")

            # -- S3 --
            def do_other(self, key, query, fault):
                self.read_body()
                self.error(405, "MethodNotAllowed", "Not in this stand-in.")

            def do_list(self, key, query, fault):
                if fault == "drop":
                    return self.drop()
                prefix = query.get("prefix", "")
                with outer.lock:
                    items = sorted((k, v) for k, v in outer.objects.items() if k.startswith(prefix))
                contents = "".join(
                    f"<Contents><Key>{escape(k)}</Key><Size>{len(v)}</Size>"
                    f"<ETag>{escape(etag_of(v))}</ETag>"
                    f"<LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>"
                    for k, v in items)
                page = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>'
                        f"<Name>{BUCKET}</Name><Prefix>{escape(prefix)}</Prefix>"
                        f"<KeyCount>{len(items)}</KeyCount><MaxKeys>1000</MaxKeys>"
                        f"<IsTruncated>false</IsTruncated>{contents}</ListBucketResult>").encode()
                self.answer(200, page, [("Content-Type", "application/xml")])

            def do_head(self, key, query, fault):
                self.do_get(key, query, fault, head_only=True)

            def do_get(self, key, query, fault, head_only=False):
                with outer.lock:
                    body = outer.objects.get(key)
                if body is None:
                    return self.error(404, "NoSuchKey", "The specified key does not exist.",
                                      Key=key)
                etag = etag_of(body)
                match = self.headers.get("If-Match")
                if match is not None and match != etag:
                    return self.error(412, "PreconditionFailed",
                                      "At least one of the pre-conditions you specified did not "
                                      "hold", Condition="If-Match")
                start, end, status = 0, len(body), 200
                asked = self.headers.get("Range")
                self.rec["range"] = asked
                if asked:
                    m = re.fullmatch(r"bytes=(\d+)-(\d*)", asked)
                    assert m, f"unexpected Range {asked!r}"
                    start = int(m.group(1))
                    end = min(int(m.group(2)) + 1, len(body)) if m.group(2) else len(body)
                    if start >= len(body) or start >= end:
                        return self.error(416, "InvalidRange",
                                          "The requested range is not satisfiable")
                    status = 206
                headers = [("ETag", etag), ("Accept-Ranges", "bytes"),
                           ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")]
                if status == 206:
                    headers.append(("Content-Range", f"bytes {start}-{end - 1}/{len(body)}"))
                part = body[start:end]
                if fault == "drop" and not head_only:
                    self.answer(status, part, headers, half=True)
                    self.rec["sent"] = (start, start + len(part) // 2)
                    return self.drop()
                self.rec["sent"] = (start, end)
                if outer.stall == "get" and not head_only:
                    self.answer(status, part, headers, half=True)
                    self.wfile.flush()
                    self.hold()
                    self.wfile.write(part[len(part) // 2:])
                    return
                self.answer(status, part, headers, head_only=head_only)

            def upload_body(self, fault):
                """The request body, or None after a drop or a hold (the request is over)."""
                if fault == "drop":
                    self.read_body(limit=int(self.headers.get("Content-Length", "2")) // 2)
                    self.drop()
                    return None
                if outer.stall == self.rec["kind"] and self.rec["kind"] != "complete":
                    self.read_body(limit=64 * 1024)
                    self.hold()
                    self.drop()
                    return None
                body, complete = self.read_body()
                if not complete:
                    self.drop()
                    return None
                return body if self.sha_ok(body) else None

            def do_put(self, key, query, fault):
                body = self.upload_body(fault)
                if body is None:
                    return
                with outer.lock:
                    outer.objects[key] = body
                self.answer(200, b"", [("ETag", etag_of(body))])

            def do_delete(self, key, query, fault):
                with outer.lock:
                    outer.objects.pop(key, None)
                self.answer(204)

            def do_create(self, key, query, fault):
                self.read_body()
                if fault == "drop":
                    return self.drop()
                with outer.lock:
                    outer.next_upload += 1
                    upload_id = f"upload-{outer.next_upload}-{os.urandom(6).hex()}"
                    outer.uploads[upload_id] = {"key": key, "parts": {}}
                self.rec["upload_id"] = upload_id
                self.answer(200, (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>'
                    f"<Bucket>{BUCKET}</Bucket><Key>{escape(key)}</Key>"
                    f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>").encode(),
                    [("Content-Type", "application/xml")])

            def do_part(self, key, query, fault):
                upload_id, number = query["uploadId"], self.rec["part"]
                body = self.upload_body(fault)
                if body is None:
                    return
                with outer.lock:
                    upload = outer.uploads.get(upload_id)
                    if upload is not None and upload["key"] == key:
                        upload["parts"][number] = body
                if upload is None or upload["key"] != key or not 1 <= number <= 10000:
                    return self.error(404, "NoSuchUpload", "The specified upload does not exist.",
                                      UploadId=upload_id)
                self.answer(200, b"", [("ETag", etag_of(body))])

            def do_complete(self, key, query, fault):
                upload_id = query["uploadId"]
                body = self.upload_body(fault)
                if body is None:
                    return
                if outer.stall == "complete":
                    self.hold()
                listed = re.findall(rb"<Part>\s*<PartNumber>(\d+)</PartNumber>\s*"
                                    rb"<ETag>([^<]*)</ETag>\s*</Part>",
                                    body.replace(b"&quot;", b'"'))
                listed = [(int(n), e.decode()) for n, e in listed]
                self.rec["listed"] = listed
                with outer.lock:
                    upload = outer.uploads.get(upload_id)
                    if upload is None or upload["key"] != key:
                        problem = (404, "NoSuchUpload", "The specified upload does not exist.")
                    elif not listed or [n for n, _ in listed] != sorted({n for n, _ in listed}):
                        problem = (400, "InvalidPartOrder", "The list of parts was not in "
                                   "ascending order.")
                    elif any(n not in upload["parts"] or etag_of(upload["parts"][n]) != e
                             for n, e in listed):
                        problem = (400, "InvalidPart", "One or more of the specified parts "
                                   "could not be found.")
                    elif any(len(upload["parts"][n]) < 5 * MIB for n, _ in listed[:-1]):
                        problem = (400, "EntityTooSmall", "Your proposed upload is smaller "
                                   "than the minimum allowed object size.")
                    else:
                        problem = None
                        data = b"".join(upload["parts"][n] for n, _ in listed)
                        outer.objects[key] = data
                        del outer.uploads[upload_id]
                if problem:
                    return self.error(*problem)
                self.answer(200, (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>'
                    f"<Bucket>{BUCKET}</Bucket><Key>{escape(key)}</Key>"
                    f"<ETag>&quot;{hashlib.md5(data).hexdigest()}-{len(listed)}&quot;</ETag>"
                    "</CompleteMultipartUploadResult>").encode(),
                    [("Content-Type", "application/xml")])

            def do_abort(self, key, query, fault):
                upload_id = query["uploadId"]
                self.read_body()
                if fault == "drop":
                    return self.drop()
                with outer.lock:
                    upload = outer.uploads.pop(upload_id, None)
                    if upload is not None:
                        outer.aborted.append(upload_id)
                if upload is None:
                    return self.error(404, "NoSuchUpload", "The specified upload does not exist.",
                                      UploadId=upload_id)
                self.answer(204)

        return Handler


# --- running parity-init -----------------------------------------------------------------------
def start_job(init, root, fake, keys, inputs=None, output=None, command=None, env=None):
    """parity-init on the local platform with a job config, its S3 at fake; not waited for."""
    spec = {"apiVersion": "parity/v1", "name": JOB, "inputs": inputs or {}}
    if output:
        spec["output"] = output
    full_env = {"PARITY_JOB_CONFIG": json.dumps(spec), "AWS_ACCESS_KEY_ID": keys[0],
                "AWS_SECRET_ACCESS_KEY": keys[1], "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": fake.url, **(env or {})}
    command = command or ["/usr/bin/python3", "-c", WALK, str(root / "input" / "data")]
    return init(command=command, pid1=False, env=full_env,
                opts=["--platform", "local", "--root", str(root)])


# The child writes a model: big.bin of argv[1] random bytes (random, so the archive is as big),
# and a small file beside it. With argv[2] "wait-sigterm" it then says "ready" and exits 0 once
# a SIGTERM came.
WRITE_MODEL = r"""
import os, signal, sys, time
got = []
signal.signal(signal.SIGTERM, lambda *_: got.append(1))
m = os.environ["SM_MODEL_DIR"]
with open(os.path.join(m, "big.bin"), "wb") as f:
    left = int(sys.argv[1])
    while left:
        chunk = os.urandom(min(left, 1 << 20))
        f.write(chunk)
        left -= len(chunk)
open(os.path.join(m, "meta.json"), "w").write('{"epochs": 3}')
print("ready", flush=True)
if sys.argv[2:] == ["wait-sigterm"]:
    deadline = time.monotonic() + 120
    while not got and time.monotonic() < deadline:
        time.sleep(0.02)
    sys.exit(0 if got else 3)
"""


def write_model(size, *args):
    return ["/usr/bin/python3", "-c", WRITE_MODEL, str(size), *args]


def model_key(prefix="out"):
    return f"{prefix}/{JOB}/output/model.tar.gz"


def leftovers(root):
    return [str(p) for p in root.rglob("*") if ".parity-partial" in p.name]


# --- downloads -----------------------------------------------------------------------------------
def test_a_download_that_outlasts_five_seconds_logs_its_progress(init, tmp_path, keys):
    """The S3 answer stops halfway (held until the test lets it go): while it waits, parity-init
    logs how far the channel got, every five seconds; then the download ends whole."""
    root = tmp_path / "ml"
    body = os.urandom(MIB)
    with FakeS3({"data/a.bin": body}, stall="get") as fake:
        proc = start_job(init, root, fake, keys, inputs={"train": f"s3://{BUCKET}/data/"},
                         command=["/bin/true"])
        assert fake.stalled.wait(EXIT_TIMEOUT), f"the download never reached S3:\n{proc.wait(10)}"
        m = proc.wait_line(r"materialize: progress downloading channel=train .*$", stream="stderr",
                           timeout=60)
        fake.release.set()
        r = proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    line = m.group(0)
    assert f"bytes={MIB // 2} of={MIB} percent=50 " in line, line
    assert re.search(r" mib_s=\d+\.\d$", line), line
    assert (root / "input" / "data" / "train" / "a.bin").read_bytes() == body
    assert leftovers(root) == []


def test_a_failed_object_drops_the_downloads_in_flight(init, tmp_path, keys):
    """b.bin fails for good (five 500s) while a.bin is in flight, held halfway by S3 and never
    let go: the start stops with b.bin's error at once (a.bin is dropped, not waited for) and
    leaves no partial file of either."""
    root = tmp_path / "ml"
    with FakeS3({"data/a.bin": os.urandom(MIB), "data/b.bin": os.urandom(MIB)},
                faults={"get:data/b.bin": ["500"] * 5}, stall="get") as fake:
        proc = start_job(init, root, fake, keys, inputs={"train": f"s3://{BUCKET}/data/"},
                         command=["/bin/true"])
        r = proc.wait(timeout=EXIT_TIMEOUT)
        held = fake.stalled.is_set()
        tries = len(fake.of("get", "data/b.bin"))
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert held, "a.bin was not in flight when b.bin failed"
    assert tries == 5, tries
    assert "b.bin" in r.err and "InternalError" in r.err, r
    assert list((root / "input" / "data" / "train").rglob("*")) == [], "a partial file is left"


def test_failed_and_throttled_parts_of_a_ranged_download_are_retried(init, tmp_path, keys):
    """A large object comes down as parallel byte ranges bound to its ETag; a 500, SlowDown
    throttling and connections dropped mid-body on some of those parts are retried (a dropped
    part resumes from the last byte it got), and the file is byte-identical."""
    big = os.urandom(3 * RANGE_PART + 12345)
    small = b"small object\n"
    # at most two per part, so each part needs three of its five tries
    faults = {"get:data/big.bin#0": ["500", "drop"], "get:data/big.bin#1": ["503", "503"],
              "get:data/big.bin#2": ["drop", "500"], "get:data/big.bin#3": ["503", "drop"]}
    root = tmp_path / "ml"
    with FakeS3({"data/big.bin": big, "data/small.txt": small}, faults) as fake:
        r = start_job(init, root, fake, keys, {"train": f"s3://{BUCKET}/data/"},
                      env={"PARITY_S3_CONCURRENCY": "4"}).wait(timeout=RETRY_TIMEOUT)
        gets = fake.of("get", "data/big.bin")
        left = fake.faults_left()
    assert r.returncode == 0, r
    assert json.loads(r.out_lines()[-1]) == {"train": {
        "big.bin": hashlib.sha256(big).hexdigest(),
        "small.txt": hashlib.sha256(small).hexdigest()}}, r
    assert left == {}, f"faults not used: {left}"
    assert leftovers(root) == []
    ranged = [g for g in gets if g.get("range")]
    starts = {g["range"] for g in ranged if g["fault"] is None}
    assert len(starts) >= 4, f"{len(big)} bytes came down in {len(starts)} ranges: {ranged}"
    assert all(g["headers"].get("if-match") == etag_of(big) for g in ranged), \
        [g["headers"].get("if-match") for g in ranged]
    # every dropped part is taken up again where it stopped, not from its start
    for d in (g for g in gets if g["fault"] == "drop"):
        resumed = [g for g in gets if g.get("range", "") and
                   g["range"].startswith(f"bytes={d['sent'][1]}-")]
        assert resumed, f"no request resumed the part dropped at byte {d['sent'][1]}: {gets}"


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB tmpfs as the ML root (root only; skipped where mounting is not allowed)."""
    where = tmp_path / "small-disk"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", str(where)],
                       capture_output=True, text=True, timeout=READY_TIMEOUT)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield where
    if subprocess.run(["umount", str(where)], timeout=READY_TIMEOUT).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], timeout=READY_TIMEOUT)


@pytest.mark.parametrize("layout", ["one-large-object", "many-objects"])
def test_a_full_disk_stops_the_start_without_leaving_partial_files(init, small_disk, keys,
                                                                    layout):
    """A channel larger than the disk: the start stops with exit 125 and a message about the
    full disk, the child never runs, and no file is left half-written under any name."""
    if layout == "one-large-object":
        objects = {"data/big.bin": os.urandom(12 * MIB)}
    else:
        objects = {f"data/part-{i:02d}.bin": os.urandom(MIB) for i in range(12)}
    with FakeS3(objects) as fake:
        r = start_job(init, small_disk, fake, keys, {"train": f"s3://{BUCKET}/data/"},
                      env={"PARITY_S3_CONCURRENCY": "4"}).wait(timeout=RETRY_TIMEOUT)
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert re.search(r"no space|disk.*full", r.err, re.I), r
    assert "channel train" in r.err, r
    assert r.out == "", "the child must not run"
    assert leftovers(small_disk) == []
    got = folder_files(small_disk / "input" / "data" / "train")
    for name, data in got.items():
        assert data == objects["data/" + name], f"{name} has its final name but is truncated"


# --- uploads -------------------------------------------------------------------------------------
def test_failed_and_throttled_part_uploads_are_retried(init, tmp_path, keys):
    """model.tar.gz over PARITY_S3_MULTIPART_THRESHOLD goes up as a multipart upload of
    PARITY_S3_PART_SIZE parts, each signed with its SHA-256; a throttled create, 500s, SlowDown
    and dropped connections on parts, and a throttled complete are retried, and the object S3
    ends up with is exactly the packed model."""
    # 16 MiB of random bytes make four 5 MiB parts; at most two faults each
    faults = {"create": ["503"], "part:1": ["500"], "part:2": ["503", "drop"],
              "part:3": ["drop"], "part:4": ["503", "500"], "complete": ["503"]}
    root = tmp_path / "ml"
    with FakeS3(faults=faults) as fake:
        r = start_job(init, root, fake, keys, output=f"s3://{BUCKET}/out",
                      command=write_model(16 * MIB), env=MULTIPART).wait(timeout=RETRY_TIMEOUT)
        stored = fake.objects.get(model_key())
        parts = fake.of("part", model_key())
        creates = fake.of("create", model_key())
        left, open_uploads, mismatches = fake.faults_left(), dict(fake.uploads), fake.sha_mismatches
    assert r.returncode == 0, r
    assert stored is not None, "model.tar.gz was not stored"
    assert tar_files(stored) == folder_files(root / "model")
    assert left == {}, f"faults not used: {left}"
    assert mismatches == [], "a body did not match its signed SHA-256"
    assert open_uploads == {}, "every upload is completed or aborted"
    want_parts = math.ceil(len(stored) / (5 * MIB))
    assert want_parts >= 3, len(stored)
    stored_parts = {p["part"] for p in parts if p["status"] == 200}
    assert stored_parts == set(range(1, want_parts + 1)), parts
    assert len([c for c in creates if c["status"] == 200]) == 1, creates
    assert all(p["headers"].get("x-amz-content-sha256", "").isalnum() and
               len(p["headers"]["x-amz-content-sha256"]) == 64 for p in parts), \
        "every part is signed with its SHA-256"


def test_a_part_that_keeps_failing_aborts_the_upload_and_fails_the_run(init, tmp_path, keys):
    """When one part of model.tar.gz fails on every try, the multipart upload is aborted
    (nothing stored, no parts left behind) and parity-init exits 1 although the child exited
    0, naming the upload in its log and in the failure file."""
    root = tmp_path / "ml"
    with FakeS3(faults={"part:2": ["500"] * 100}) as fake:
        r = start_job(init, root, fake, keys, output=f"s3://{BUCKET}/out",
                      command=write_model(16 * MIB), env=MULTIPART).wait(timeout=RETRY_TIMEOUT)
        fake.settle()
        created = [c["upload_id"] for c in fake.of("create", model_key()) if c["status"] == 200]
        aborts = fake.of("abort", model_key())
        stored, open_uploads, aborted = fake.objects.get(model_key()), fake.uploads, fake.aborted
        part2 = [p for p in fake.of("part", model_key()) if p["part"] == 2]
    assert r.returncode == 1, r
    assert r.exit_record()["fields"]["exit_code"] == "0", r
    assert created, "no multipart upload was started"
    assert stored is None, "a failed multipart upload must not leave an object"
    assert aborts and set(aborted) == set(created), (aborts, created)
    assert open_uploads == {}, "parts were left behind"
    assert 2 <= len(part2) <= 10, f"part 2 was tried {len(part2)} times"
    assert "model.tar.gz" in r.err and "InternalError" in r.err, r
    failure = (root / "output" / "failure").read_text()
    assert failure.startswith("parity-init: finish:") and "model.tar.gz" in failure, failure


STOP_SECONDS = 3


@pytest.mark.parametrize("stall, env", [
    ("put", {}),
    ("part", MULTIPART),
    ("complete", MULTIPART),
], ids=["single-put", "multipart-part", "multipart-complete"])
@pytest.mark.parametrize("when", ["while-the-child-runs", "during-the-upload"])
def test_sigterm_ends_the_output_upload_within_the_stop_budget(init, tmp_path, keys, stall, env,
                                                               when):
    """model.tar.gz goes to an S3 that stops answering (a PUT or part whose body is never
    read, or a complete never answered) and a SIGTERM came: while the child ran (which then
    exits 0), or after it had exited, during the upload. The finish phase has
    PARITY_STOP_SECONDS from the SIGTERM: parity-init gives the upload up and exits 1 soon
    after, and S3 is left with no object under the key (or, for a complete it had already
    sent, the whole one) and no multipart upload open."""
    root = tmp_path / "ml"
    args = ["wait-sigterm"] if when == "while-the-child-runs" else []
    with FakeS3(stall=stall) as fake:
        proc = start_job(init, root, fake, keys, output=f"s3://{BUCKET}/out",
                         command=write_model(16 * MIB, *args),
                         env={"PARITY_STOP_SECONDS": str(STOP_SECONDS), **env})
        if args:
            proc.wait_line(r"^ready$")
            proc.send(signal.SIGTERM)
            sent = time.monotonic()
        assert fake.stalled.wait(EXIT_TIMEOUT), f"the upload never reached S3:\n{proc.wait(10)}"
        assert fake.upload_started.is_set()
        if not args:
            proc.send(signal.SIGTERM)
            sent = time.monotonic()
        r = proc.wait(timeout=STOP_SECONDS + 30)
        took = time.monotonic() - sent
        fake.settle()
        stored = fake.objects.get(model_key())
        created = [c["upload_id"] for c in fake.of("create", model_key()) if c["status"] == 200]
        open_uploads, aborted = dict(fake.uploads), list(fake.aborted)
    assert r.returncode == 1, r
    assert r.exit_record()["fields"]["exit_code"] == "0", r
    # the budget, plus time to abort and log: far less than the minute a stalled transfer waits
    assert took < STOP_SECONDS + 15, f"parity-init took {took:.1f}s after the SIGTERM"
    assert "model.tar.gz" in r.err, r
    if stall == "complete" and stored is not None:
        assert tar_files(stored) == folder_files(root / "model"), "a partial object"
    else:
        assert stored is None, "an abandoned upload left an object"
    if created:
        assert open_uploads == {}, "the multipart upload was left open"
        if stored is None:
            assert set(aborted) == set(created), (aborted, created)
    else:
        assert stall == "put", "a multipart upload was expected"

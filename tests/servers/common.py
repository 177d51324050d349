# SPDX-License-Identifier: MIT
"""What the loopback AWS fakes share: the credentials they issue, fault injection, the
control endpoint, the request log and the readiness line.

Credentials are derived, not stored, so every fake (and s3.js, which mirrors
secret_for() and check_session_token()) can verify keys another fake issued:

- AccessKeyId: ASIAPARITY + 10 random characters (temporary), AKIAPARITY... (static);
- SecretAccessKey = secret_for(AccessKeyId): base64 HMAC-SHA256 under MASTER_KEY;
- Token = session_token(AccessKeyId, expiry): PARITYTOK-<expiry epoch>-<HMAC>, which binds the
  token to its key and lets a verifier refuse expired or mixed-up credentials.

Control: GET /_control returns the state and counters; POST /_control with a JSON object
merges it into the state ("faults" replaces the fault list). --control-file FILE does the same
whenever FILE changes. Faults are a list of objects, the first one that matches a request and
is not used up applies:

  {"type": "status", "status": 500, "code": "InternalError", "count": 3}
  {"type": "throttle"}                        400 with the service's throttling code
  {"type": "hang", "seconds": 30}             read the request, never answer (seconds: null =
                                              until the next control change), then close
  {"type": "slow", "seconds": 2}              answer normally after a delay
  {"type": "truncate"}                        Content-Length of the whole body, half of it sent
  {"type": "malformed"}                       200 with a body that is neither JSON nor XML
  {"type": "close"}                           close the connection without an answer
  {"type": "lifetime", "seconds": -60}        the credentials issued are already expired (or
                                              short-lived)

Every fault also takes "count" (how many requests it applies to; absent or null: all),
"for_seconds" (active from the first request it hits for that long, then used up), "path"
(substring of the request path) and "method"; sts.py adds "action".

Request log (--log FILE): one JSON object per line: ts, method, path, headers, body, status,
fault, and "issued" (the credentials handed out, secrets included: this is the fake's own log).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import select
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Shared with s3.js; a test fixture, not a secret.
MASTER_KEY = b"parity-loopback-fake-aws-master-key"
KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TEMP_PREFIX = "ASIAPARITY"
STATIC_PREFIX = "AKIAPARITY"
TOKEN_PREFIX = "PARITYTOK-"


def _mac(message):
    return hmac.new(MASTER_KEY, message.encode(), hashlib.sha256).digest()


def new_access_key_id(prefix=TEMP_PREFIX):
    return prefix + "".join(secrets.choice(KEY_ALPHABET) for _ in range(20 - len(prefix)))


def secret_for(access_key_id):
    """The secret key of an access key this family of fakes issued (40 characters, with the
    '/' and '+' real secrets have)."""
    return base64.b64encode(_mac("secret:" + access_key_id)).decode()[:40]


def session_token(access_key_id, expiry):
    mac = base64.b64encode(_mac(f"token:{access_key_id}:{int(expiry)}")).decode()
    return f"{TOKEN_PREFIX}{int(expiry)}-{mac}"


def check_session_token(access_key_id, token, now=None):
    """None when token belongs to access_key_id and has not expired, else an error code."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return "InvalidClientTokenId"
    try:
        expiry = int(token[len(TOKEN_PREFIX):].split("-", 1)[0])
    except ValueError:
        return "InvalidClientTokenId"
    if not hmac.compare_digest(session_token(access_key_id, expiry), token):
        return "InvalidClientTokenId"
    if (time.time() if now is None else now) >= expiry:
        return "ExpiredToken"
    return None


def is_ours(access_key_id):
    return access_key_id.startswith((TEMP_PREFIX, STATIC_PREFIX)) and len(access_key_id) == 20


def static_keys():
    """A static key pair (AKIA..., no token) that every verifier accepts."""
    ak = new_access_key_id(STATIC_PREFIX)
    return ak, secret_for(ak)


def iso8601(epoch, nanos=None):
    """UTC, literal Z; with nanos, Go's RFC3339Nano form (a nine-digit fraction)."""
    text = datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{nanos:09d}Z" if nanos is not None else text + "Z"


def issue_credentials(lifetime, nanos=False):
    """A new temporary key set valid for lifetime seconds (negative: already expired).
    Returns (fields, expiry): fields holds AccessKeyId, SecretAccessKey, Token, Expiration."""
    ak = new_access_key_id()
    expiry = int(time.time() + lifetime)
    if nanos:
        # The printed expiry lies a fraction before the token's own, never after it.
        expiration = iso8601(expiry - 1, secrets.randbelow(999_999_998) + 1)
    else:
        expiration = iso8601(expiry)
    fields = {"AccessKeyId": ak, "SecretAccessKey": secret_for(ak),
              "Token": session_token(ak, expiry), "Expiration": expiration}
    return fields, expiry


class Response:
    """What a handler answers: status, headers and body (bytes)."""

    def __init__(self, status=200, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = {"Content-Type": content_type, **(headers or {})}


class Fake:
    """One fake service. Subclasses set NAME and DEFAULTS and implement handle(request)."""

    NAME = "fake"
    DEFAULTS = {}

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.generation = 0
        self.state = {"faults": [], **json.loads(json.dumps(self.DEFAULTS))}
        self._merge(self.state_from_args(args))
        if args.config:
            self._merge(json.loads(args.config))
        self.counters = {"requests": 0, "faults": 0, "hanging": 0, "issued": 0}
        self.log_file = open(args.log, "a", buffering=1) if args.log else None
        self.log_lock = threading.Lock()
        self.control_mtime = None
        self._poll_control_file()

    # --- state ------------------------------------------------------------------------------
    def _merge(self, update):
        """Merges update into the state (caller holds the lock, or no thread runs yet)."""
        for key, value in update.items():
            if key == "faults":
                value = [dict(f, _used=0, _since=None) for f in value]
            self.state[key] = value
        self.generation += 1

    def control(self, update):
        with self.lock:
            self._merge(update)
            self.changed.notify_all()
            return self.snapshot()

    def snapshot(self):
        return {"state": self.state, "counters": dict(self.counters), "generation": self.generation}

    def setting(self, key):
        with self.lock:
            return self.state.get(key)

    def _poll_control_file(self):
        path = self.args.control_file
        if not path:
            return
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return
        with self.lock:
            if mtime == self.control_mtime:
                return
            self.control_mtime = mtime
        try:
            with open(path) as f:
                update = json.load(f)
        except (OSError, ValueError):
            return  # half-written; the next request reads it again
        self.control(update)

    def pick_fault(self, request):
        """The fault that applies to request (a dict), or None; counts it as used."""
        self._poll_control_file()
        now = time.monotonic()
        with self.lock:
            for fault in self.state["faults"]:
                if not self._matches(fault, request):
                    continue
                count = fault.get("count")
                if count is not None and fault["_used"] >= count:
                    continue
                window = fault.get("for_seconds")
                if window is not None:
                    if fault["_since"] is None:
                        fault["_since"] = now
                    elif now - fault["_since"] >= window:
                        continue
                fault["_used"] += 1
                self.counters["faults"] += 1
                return {k: v for k, v in fault.items() if not k.startswith("_")}
        return None

    def _matches(self, fault, request):
        if "path" in fault and fault["path"] not in request.path:
            return False
        if "method" in fault and fault["method"] != request.command:
            return False
        return self.fault_matches(fault, request)

    def fault_matches(self, fault, request):
        return True

    def describe(self, request):
        """Fields every log record of request gets."""
        return {}

    # --- hooks ------------------------------------------------------------------------------
    def state_from_args(self, args):
        """The state that the fake's own command-line options set."""
        return {}

    def handle(self, request):
        raise NotImplementedError

    def error(self, status, code, message):
        """The service's error body (JSON by default)."""
        return Response(status, json.dumps({"Code": code, "Message": message}))

    def throttle(self):
        return self.error(400, "ThrottlingException", "Rate exceeded")

    def malformed(self):
        return Response(200, b'{"AccessKeyId": "ASIA<<<not json or xml', "application/json")

    # --- log --------------------------------------------------------------------------------
    def log(self, record):
        if self.log_file is None:
            return
        line = json.dumps({"ts": time.time(), "server": self.NAME, **record})
        with self.log_lock:
            self.log_file.write(line + "\n")

    def count_issue(self):
        with self.lock:
            self.counters["issued"] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs and parity use it
    server_version = "ParityFake/1"
    fake = None  # set by serve()

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        self.body = self._read_body()
        if self.path.split("?", 1)[0] == "/_control":
            return self._control()
        with self.fake.lock:
            self.fake.counters["requests"] += 1
        record = self._record()
        kind, resp = self._apply_fault(record)
        if kind in ("hang", "close"):
            return
        if resp is None:
            resp = self._call(record)
        self._answer(resp, record, truncate=(kind == "truncate"))

    # What a subclass may change: the log record, the fake's answer, how it is sent.
    def _record(self):
        return {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                "body": self.body.decode("utf-8", "replace")[:4096], **self.fake.describe(self)}

    def _call(self, record):
        """The fake's answer (no fault answered); what it logs goes into record."""
        self.issued = None
        self.log_extra = {}
        try:
            resp = self.fake.handle(self)
        except Exception as e:  # a bug in the fake: say so instead of dropping the line
            resp = self.fake.error(500, "FakeBug", f"{type(e).__name__}: {e}")
        record["issued"] = self.issued
        record.update(self.log_extra)
        return resp

    def _answer(self, resp, record, truncate):
        record["status"] = resp.status
        self.fake.log(record)
        self._send(resp, truncate=truncate)

    def _control(self):
        """/_control: POST merges a JSON object into the state, GET shows it."""
        if self.command != "POST":
            return self._send(self._control_view())
        try:
            update = json.loads(self.body or b"{}")
            assert isinstance(update, dict)
        except (ValueError, AssertionError):
            return self._send(Response(400, '{"error": "a JSON object, please"}'))
        return self._send(self._control_update(update))

    def _control_view(self):
        with self.fake.lock:
            return Response(200, json.dumps(self.fake.snapshot()))

    def _control_update(self, update):
        return Response(200, json.dumps(self.fake.control(update)))

    def _apply_fault(self, record):
        """Picks the fault for this request, puts it in record and applies it. Returns (kind,
        resp): resp is the fault's answer (status, throttle, malformed), None when the fake
        answers; kind "hang" or "close": logged, nothing to send, the connection closes."""
        fake = self.fake
        self.lifetime_override = None
        fault = fake.pick_fault(self)
        record["fault"] = fault
        kind = fault and fault.get("type")
        resp = None
        if kind == "hang":
            fake.log(dict(record, event="hang_start"))
            why = self._hang(fault.get("seconds"))
            fake.log(dict(record, event="hang_end", why=why))
            self.close_connection = True
        elif kind == "close":
            fake.log(dict(record, status=None))
            self.close_connection = True
        elif kind == "slow":
            time.sleep(float(fault.get("seconds", 1)))
        elif kind == "lifetime":
            self.lifetime_override = float(fault.get("seconds", -60))
        elif kind == "status":
            resp = fake.error(int(fault.get("status", 500)), fault.get("code", "InternalError"),
                              fault.get("message", "injected failure"))
        elif kind == "throttle":
            resp = fake.throttle()
            if "status" in fault:
                resp.status = int(fault["status"])
        elif kind == "malformed":
            resp = fake.malformed()
        return kind, resp

    def _hang(self, seconds):
        """Holds the request unanswered until seconds pass (None: until the next control
        change) or the client goes away; returns why it stopped."""
        fake = self.fake
        deadline = None if seconds is None else time.monotonic() + float(seconds)
        with fake.lock:
            fake.counters["hanging"] += 1
            start_gen = fake.generation
        try:
            while True:
                with fake.lock:
                    if seconds is None and fake.generation != start_gen:
                        return "released"
                if deadline is not None and time.monotonic() >= deadline:
                    return "timeout"
                if self._hang_client_gone():
                    return "client_closed"
        finally:
            with fake.lock:
                fake.counters["hanging"] -= 1

    def _hang_client_gone(self):
        """Waits for the client of a hanging request a moment (0.1 s or so); True once it has
        gone away."""
        readable, _, _ = select.select([self.connection], [], [], 0.1)
        if readable:
            try:
                data = self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                data = b""
            if not data:
                return True
            # a pipelined request: still hang, but don't spin on it
            time.sleep(0.1)
        return False

    def _send(self, resp, truncate=False):
        body = resp.body
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _dispatch


def arg_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free one)")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--control-file", help="JSON merged into the state whenever it changes")
    p.add_argument("--config", help="initial state, as a JSON object")
    return p


def serve(fake_class, args):
    """Serves fake_class on 127.0.0.1 and prints `ready port=N` once it accepts."""
    fake = fake_class(args)
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    ThreadingHTTPServer.request_queue_size = 256
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"ready port={server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


def main(fake_class, description, configure=None):
    """Entry point of each fake: parse arguments (configure(parser) adds the fake's own, which
    its state_from_args reads), then serve until SIGTERM."""
    p = arg_parser(description)
    if configure:
        configure(p)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return serve(fake_class, args)

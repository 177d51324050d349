#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Child program that calls parity's credentials endpoint directly, as named by
AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN.

  endpoint_client.py shape
      one JSON object: the status, Content-Type and JSON keys of requests without the token,
      with a wrong one, with 16 KiB of headers, with the right one, and to another path (all
      while another connection sits on half a request line); plus the right answer's
      AccessKeyId and Expiration (never its secret or token).
  endpoint_client.py hammer THREADS REQUESTS
      THREADS threads, each with one keep-alive connection, each GETting REQUESTS times; one
      JSON object: ok, failures, reconnects, access_keys.
  endpoint_client.py signal-wait
      prints `ready`, waits (bounded) for SIGUSR1, prints `got SIGUSR1 at=<epoch>`, exits 0.
"""

import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

TIMEOUT = 30


def target():
    url = urlsplit(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    return url.hostname, url.port, url.path, os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]


def get(conn, path, headers):
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.getheader("Content-Type"), resp.read()


def shape():
    host, port, path, token = target()
    out = {}
    # A peer that sent half a request line and then nothing: it must not hold up the others.
    stalled = socket.create_connection((host, port), timeout=TIMEOUT)
    stalled.sendall(b"GET /parity/cred")
    cases = {"no_token": (path, {}), "wrong_token": (path, {"Authorization": "0" * 64}),
             "wrong_token_prefix": (path, {"Authorization": token[:-1]}),
             "huge_headers": (path, {"Authorization": token, "X-Padding": "p" * 16384}),
             "right_token": (path, {"Authorization": token}),
             "other_path": ("/parity/other", {"Authorization": token})}
    for name, (p, headers) in cases.items():
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        try:
            status, ctype, body = get(conn, p, headers)
        except (OSError, http.client.HTTPException) as e:
            if name != "huge_headers":
                raise
            status, ctype, body = None, None, str(e).encode()
        conn.close()
        case = {"status": status, "content_type": ctype}
        if name == "right_token":
            doc = json.loads(body)
            case["keys"] = sorted(doc)
            case["types"] = {k: type(v).__name__ for k, v in doc.items()}
            case["AccessKeyId"] = doc.get("AccessKeyId")
            case["Expiration"] = doc.get("Expiration")
            case["RoleArn"] = doc.get("RoleArn")
            case["token_empty"] = not doc.get("Token")
        out[name] = case
    stalled.close()
    out["now"] = time.time()
    print(json.dumps(out), flush=True)
    return 0


def hammer(threads, requests):
    host, port, path, token = target()
    results = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker():
        ok = failures = reconnects = 0
        keys = set()
        errors = []
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        sock = None
        try:
            start.wait(TIMEOUT)
            for _ in range(requests):
                try:
                    status, _, body = get(conn, path, {"Authorization": token})
                    if sock is not None and conn.sock is not sock:
                        reconnects += 1
                    sock = conn.sock
                    if status == 200:
                        ok += 1
                        keys.add(json.loads(body)["AccessKeyId"])
                    else:
                        failures += 1
                        errors.append(f"HTTP {status}")
                except Exception as e:  # counted and reported
                    failures += 1
                    errors.append(f"{type(e).__name__}: {e}")
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
                    sock = None
        finally:
            conn.close()
        with lock:
            results.append((ok, failures, reconnects, keys, errors[:3]))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(json.dumps({"ok": sum(r[0] for r in results), "failures": sum(r[1] for r in results),
                      "reconnects": sum(r[2] for r in results),
                      "access_keys": sorted(set().union(*(r[3] for r in results))),
                      "errors": [e for r in results for e in r[4]][:10],
                      "threads": len(results)}), flush=True)
    return 0


def signal_wait():
    got = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: got.set())
    print("ready", flush=True)
    if not got.wait(120):
        print("no SIGUSR1", flush=True)
        return 1
    print(f"got SIGUSR1 at={time.time():.6f}", flush=True)
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "shape":
        sys.exit(shape())
    if cmd == "hammer":
        sys.exit(hammer(int(sys.argv[2]), int(sys.argv[3])))
    if cmd == "signal-wait":
        sys.exit(signal_wait())
    sys.exit(f"unknown command {cmd}")

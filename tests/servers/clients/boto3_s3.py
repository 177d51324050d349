#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Child program: unmodified boto3 (Debian's /usr/bin/python3) finds its credentials the usual
way, then makes signed S3 calls (PutObject, GetObject, ListObjectsV2) against the loopback S3.

  boto3_s3.py ENDPOINT BUCKET PREFIX [--loop SECONDS [--interval S]]

stdout, one JSON object a line: first {"event": "start", "method", "access_key", "region",
"env"} (env: the AWS_* variables it got), then one {"event": "call", "i", "ok",
"access_key", "error"} per round, then {"event": "done", "ok", "failures", "keys"}. Exit 0 when
every round succeeded. Nothing secret is printed, and nothing at all on stderr unless it fails.
Debian's botocore ignores AWS_ENDPOINT_URL_*, hence the explicit endpoint."""

import argparse
import json
import os
import sys
import time

import boto3
from botocore.config import Config


def emit(**record):
    print(json.dumps(record), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("endpoint")
    p.add_argument("bucket")
    p.add_argument("prefix")
    p.add_argument("--loop", type=float, default=0)
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args()

    session = boto3.Session()
    creds = session.get_credentials()
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    if creds is None:
        emit(event="start", method=None, access_key=None, region=session.region_name, env=env)
        emit(event="done", ok=False, failures=1, keys=[])
        return 2
    emit(event="start", method=creds.method, access_key=creds.get_frozen_credentials().access_key,
         region=session.region_name, env=env)

    s3 = session.client("s3", endpoint_url=args.endpoint,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1, "mode": "standard"}))
    deadline = time.monotonic() + args.loop
    failures, keys, i = 0, [], 0
    while True:
        key = f"{args.prefix}/boto3-{i}.txt"
        body = f"parity credentials round {i}".encode()
        try:
            s3.put_object(Bucket=args.bucket, Key=key, Body=body)
            got = s3.get_object(Bucket=args.bucket, Key=key)["Body"].read()
            listed = s3.list_objects_v2(Bucket=args.bucket, Prefix=key).get("Contents", [])
            ok = got == body and [o["Key"] for o in listed] == [key]
            error = None if ok else "read back something else"
        except Exception as e:  # any failure is a failed round, reported and counted
            ok, error = False, f"{type(e).__name__}: {e}"
        access_key = s3._request_signer._credentials.get_frozen_credentials().access_key
        if access_key not in keys:
            keys.append(access_key)
        failures += not ok
        emit(event="call", i=i, ok=ok, access_key=access_key, error=error)
        i += 1
        if time.monotonic() >= deadline:
            break
        time.sleep(args.interval)  # the job's own pace, not a wait for anything
    emit(event="done", ok=failures == 0, failures=failures, keys=keys)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

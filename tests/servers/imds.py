#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake EC2 instance metadata service, IMDSv2 only, on 127.0.0.1.

PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1..21600, else 400): a session
token, valid that long. Every GET needs X-aws-ec2-metadata-token with a live token, else 401:
  /latest/meta-data/iam/security-credentials/        the role name (404 when role is null)
  /latest/meta-data/iam/security-credentials/<role>  {"Code":"Success","LastUpdated","Type",
                                                      "AccessKeyId","SecretAccessKey","Token",
                                                      "Expiration"}, a new key set each time
  /latest/meta-data/placement/region                 region
  /latest/meta-data/placement/availability-zone      region + "a"
  /latest/dynamic/instance-identity/document         {"region": ..., ...}

State: role, region, lifetime, faults (see common.py).
"""

import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

CREDS = "/latest/meta-data/iam/security-credentials/"
MAX_TTL = 21600


class Imds(common.Fake):
    NAME = "imds"
    DEFAULTS = {"role": "parity-instance-role", "region": "eu-west-3", "lifetime": 21600}

    def __init__(self, args):
        super().__init__(args)
        self.tokens = {}

    def state_from_args(self, args):
        state = {}
        for key in ("role", "region", "lifetime"):
            if getattr(args, key) is not None:
                state[key] = getattr(args, key)
        return state

    def error(self, status, code, message):
        return common.Response(status, f"{code}: {message}\n", "text/plain")

    def throttle(self):
        return self.error(429, "TooManyRequests", "throttled")

    def handle(self, request):
        path = request.path.split("?", 1)[0]
        if request.command == "PUT" and path == "/latest/api/token":
            ttl = request.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TTL:
                return self.error(400, "BadRequest", "missing or invalid TTL")
            token = "IMDSTOK" + secrets.token_urlsafe(32)
            with self.lock:
                self.tokens[token] = time.time() + int(ttl)
            return common.Response(200, token, "text/plain",
                                   {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        if request.command != "GET":
            return self.error(405, "MethodNotAllowed", "GET or PUT the token")
        token = request.headers.get("X-aws-ec2-metadata-token")
        with self.lock:
            live = token is not None and self.tokens.get(token, 0) > time.time()
            role, region = self.state["role"], self.state["region"]
            lifetime = self.state["lifetime"]
        if not live:
            return self.error(401, "Unauthorized", "IMDSv2 session token missing or expired")
        if path == CREDS:
            if not role:
                return self.error(404, "NotFound", "no instance profile")
            return common.Response(200, role, "text/plain")
        if path.startswith(CREDS):
            if path[len(CREDS):] != role:
                return self.error(404, "NotFound", "no such role")
            if request.lifetime_override is not None:
                lifetime = request.lifetime_override
            fields, _ = common.issue_credentials(float(lifetime))
            doc = {"Code": "Success", "LastUpdated": common.iso8601(time.time()),
                   "Type": "AWS-HMAC", **fields}
            request.issued = fields
            self.count_issue()
            return common.Response(200, json.dumps(doc, indent=2), "text/plain")
        if path == "/latest/meta-data/placement/region":
            return common.Response(200, region, "text/plain")
        if path == "/latest/meta-data/placement/availability-zone":
            return common.Response(200, region + "a", "text/plain")
        if path == "/latest/dynamic/instance-identity/document":
            doc = {"region": region, "availabilityZone": region + "a",
                   "accountId": "123456789012", "instanceId": "i-0parity0fake00001"}
            return common.Response(200, json.dumps(doc), "text/plain")
        return self.error(404, "NotFound", "no such metadata")

    def malformed(self):
        return common.Response(200, b"{\"Code\": \"Success\", <<<not json", "text/plain")


def configure(p):
    p.add_argument("--role")
    p.add_argument("--region")
    p.add_argument("--lifetime", type=float)


if __name__ == "__main__":
    sys.exit(common.main(Imds, __doc__, configure))

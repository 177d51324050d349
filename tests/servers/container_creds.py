#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake container-credentials endpoint: the ECS/SageMaker agent (169.254.170.2) and the EKS Pod
Identity agent (169.254.170.23/v1/credentials), on 127.0.0.1.

GET <path> with `Authorization: <token>` (the token is --token, or the contents of
--token-file read at every request, a trailing newline stripped, as kubelet rotates it):
200 and {"AccessKeyId","SecretAccessKey","Token","Expiration","RoleArn"}, a new key set at each
request, valid for `lifetime` seconds. `nanos` gives Pod Identity's RFC3339Nano Expiration and
an AccountId. No Authorization header: 401; a wrong one: 403; another path: 404.

State (POST /_control or --config): token, token_file, path, lifetime, nanos, role_arn,
account_id, require_token, faults (see common.py).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


class ContainerCreds(common.Fake):
    NAME = "container"
    DEFAULTS = {"path": "/v1/credentials", "lifetime": 3600, "nanos": False,
                "role_arn": "arn:aws:iam::123456789012:role/parity-container-role",
                "account_id": "123456789012", "token": None, "token_file": None,
                "require_token": True}

    def state_from_args(self, args):
        state = {}
        for key in ("token", "token_file", "path", "lifetime", "role_arn"):
            value = getattr(args, key)
            if value is not None:
                state[key] = value
        if args.nanos:
            state["nanos"] = True
        return state

    def expected_token(self):
        with self.lock:
            token, token_file = self.state.get("token"), self.state.get("token_file")
        if token_file:
            try:
                return Path(token_file).read_text().rstrip("\r\n")
            except OSError:
                return None
        return token

    def handle(self, request):
        with self.lock:
            path, lifetime, nanos = self.state["path"], self.state["lifetime"], self.state["nanos"]
            role_arn, account = self.state["role_arn"], self.state.get("account_id")
            require = self.state["require_token"]
        if request.path.split("?", 1)[0] != path:
            return self.error(404, "NotFound", f"no such path; credentials are at {path}")
        if request.command != "GET":
            return self.error(405, "MethodNotAllowed", "GET only")
        if require:
            given = request.headers.get("Authorization")
            if given is None:
                return self.error(401, "Unauthorized", "no Authorization header")
            expected = self.expected_token()
            if expected is None or given != expected:
                return self.error(403, "AccessDenied", "wrong authorization token")
        if request.lifetime_override is not None:
            lifetime = request.lifetime_override
        fields, _ = common.issue_credentials(float(lifetime), nanos=nanos)
        if role_arn:
            fields["RoleArn"] = role_arn
        if nanos and account:
            fields["AccountId"] = account
        request.issued = fields
        self.count_issue()
        return common.Response(200, json.dumps(fields))


def configure(p):
    p.add_argument("--token", help="the Authorization value required (SageMaker/ECS style)")
    p.add_argument("--token-file", help="file whose contents are the token (Pod Identity)")
    p.add_argument("--path", help="credentials path (default /v1/credentials)")
    p.add_argument("--lifetime", type=float, help="seconds each key set lives (default 3600)")
    p.add_argument("--role-arn")
    p.add_argument("--nanos", action="store_true", help="Pod Identity: RFC3339Nano Expiration")


if __name__ == "__main__":
    sys.exit(common.main(ContainerCreds, __doc__, configure))

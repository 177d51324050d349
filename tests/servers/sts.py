#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake AWS STS (query protocol, XML answers) on 127.0.0.1.

- AssumeRoleWithWebIdentity: unsigned form POST (or GET query). WebIdentityToken must equal the
  current token (--token, or --token-file read at every request, whitespace stripped), else 400
  InvalidIdentityToken. RoleArn must equal role_arn when that is set.
- AssumeRole: SigV4-verified with botocore's own signer: the request is rebuilt from only the
  signed headers, the raw path and query and the raw body, its timestamp is X-Amz-Date, and
  SigV4Auth(Credentials(ak, secret, token), "sts", region).signature() must equal the one sent
  (else 403 SignatureDoesNotMatch). The secret is looked up in static_keys, then derived for keys
  this family of fakes issued (common.secret_for); a temporary key also needs its own unexpired
  X-Amz-Security-Token. Role chaining caps DurationSeconds at 3600 (400 ValidationError).
  external_id, when set, must match ExternalId (403 AccessDenied).

Credentials live `lifetime` seconds when that is set, else DurationSeconds (default 3600).
Errors are ErrorResponse XML. State: token, token_file, role_arn, external_id, region,
static_keys ({ak: secret}), lifetime, faults (see common.py; a fault may name an "action").
"""

import hashlib
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402  (Debian python3-botocore)
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.compat import HTTPHeaders  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACCOUNT = "123456789012"
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-f]{64})\s*$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
MAX_SKEW_S = 900


class SignedHeadersOnly(SigV4Auth):
    """botocore's SigV4 with its header blacklist off: the request already holds exactly the
    headers the client signed, so all of them go into the canonical request."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


class StsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def verify_sigv4(request, body, lookup_secret, want_region=None, now=None):
    """Verifies a SigV4 header-signed STS request; returns the access key id, raises StsError.
    lookup_secret(ak) returns the secret or None."""
    auth = request.headers.get("Authorization")
    if not auth:
        raise StsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    m = AUTH_RE.match(auth)
    if not m:
        raise StsError(400, "IncompleteSignature", f"cannot parse Authorization: {auth[:80]}")
    try:
        ak, date, region, service, terminator = m.group("cred").split("/")
    except ValueError:
        raise StsError(400, "IncompleteSignature", "bad Credential scope") from None
    signed = m.group("signed").split(";")
    amz_date = request.headers.get("X-Amz-Date", "")
    if "host" not in signed or "x-amz-date" not in signed:
        raise StsError(400, "IncompleteSignature", "host and x-amz-date must be signed")
    if request.headers.get("X-Amz-Security-Token") and "x-amz-security-token" not in signed:
        raise StsError(400, "IncompleteSignature", "x-amz-security-token must be signed")
    if signed != sorted(signed):
        raise StsError(400, "IncompleteSignature", "SignedHeaders not sorted")
    try:
        stamp = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise StsError(400, "IncompleteSignature", f"bad X-Amz-Date {amz_date!r}") from None
    if abs((now or time.time()) - stamp.timestamp()) > MAX_SKEW_S:
        raise StsError(403, "SignatureDoesNotMatch", "Signature expired: X-Amz-Date is skewed")
    if date != amz_date[:8] or service != "sts" or terminator != "aws4_request":
        raise StsError(403, "SignatureDoesNotMatch", f"bad credential scope {m.group('cred')}")
    if want_region and region != want_region:
        raise StsError(403, "SignatureDoesNotMatch",
                       f"credential scope region {region}, expected {want_region}")
    content_sha = request.headers.get("X-Amz-Content-SHA256")
    if content_sha and content_sha != hashlib.sha256(body).hexdigest():
        raise StsError(400, "XAmzContentSHA256Mismatch", "body does not match its hash")
    secret = lookup_secret(ak)
    if secret is None:
        raise StsError(403, "InvalidClientTokenId", f"unknown access key {ak}")
    token = request.headers.get("X-Amz-Security-Token")
    if ak.startswith("ASIA"):
        problem = common.check_session_token(ak, token)
        if problem == "ExpiredToken":
            raise StsError(400, "ExpiredToken",
                           "The security token included in the request is expired")
        if problem:
            raise StsError(403, "InvalidClientTokenId",
                           "The security token included in the request is invalid")

    host = request.headers.get("Host", "")
    rebuilt = AWSRequest(method=request.command, url=f"http://{host}{request.path}", data=body)
    rebuilt.headers = HTTPHeaders()
    for name, value in request.headers.items():
        if name.lower() in signed:
            rebuilt.headers[name] = value
    missing = set(signed) - {n.lower() for n in rebuilt.headers.keys()}
    if missing:
        raise StsError(400, "IncompleteSignature", f"signed headers not sent: {sorted(missing)}")
    rebuilt.context["timestamp"] = amz_date
    signer = SignedHeadersOnly(Credentials(ak, secret, token), "sts", region)
    want = signer.signature(signer.string_to_sign(rebuilt, signer.canonical_request(rebuilt)),
                            rebuilt)
    if want != m.group("sig"):
        raise StsError(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your AWS Secret Access Key and signing method.")
    return ak


def credentials_xml(fields):
    return ("<Credentials>"
            f"<AccessKeyId>{escape(fields['AccessKeyId'])}</AccessKeyId>"
            f"<SecretAccessKey>{escape(fields['SecretAccessKey'])}</SecretAccessKey>"
            f"<SessionToken>{escape(fields['Token'])}</SessionToken>"
            f"<Expiration>{escape(fields['Expiration'])}</Expiration>"
            "</Credentials>")


def assumed_role_xml(role_arn, session):
    role_name = role_arn.rsplit("/", 1)[-1]
    return ("<AssumedRoleUser>"
            f"<Arn>arn:aws:sts::{ACCOUNT}:assumed-role/{escape(role_name)}/{escape(session)}</Arn>"
            f"<AssumedRoleId>AROAPARITYFAKEROLEID:{escape(session)}</AssumedRoleId>"
            "</AssumedRoleUser>")


class Sts(common.Fake):
    NAME = "sts"
    DEFAULTS = {"token": None, "token_file": None, "role_arn": None, "external_id": None,
                "region": None, "static_keys": {}, "lifetime": None}

    def state_from_args(self, args):
        state = {}
        for key in ("token", "token_file", "role_arn", "region", "lifetime", "external_id"):
            if getattr(args, key) is not None:
                state[key] = getattr(args, key)
        return state

    def error(self, status, code, message):
        kind = "Receiver" if status >= 500 else "Sender"
        xml = (f'<ErrorResponse xmlns="{NS}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
               f"<Message>{escape(message)}</Message></Error>"
               f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
        return common.Response(status, xml, "text/xml")

    def throttle(self):
        return self.error(400, "Throttling", "Rate exceeded")

    def malformed(self):
        return common.Response(200, b"<AssumeRoleResponse><<<not xml", "text/xml")

    @staticmethod
    def params(request):
        if request.command == "POST":
            return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        return dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))

    def describe(self, request):
        return {"action": self.params(request).get("Action")}

    def fault_matches(self, fault, request):
        return "action" not in fault or self.params(request).get("Action") == fault["action"]

    def expected_token(self):
        with self.lock:
            token, token_file = self.state.get("token"), self.state.get("token_file")
        if token_file:
            try:
                return Path(token_file).read_text().strip()
            except OSError:
                return None
        return token

    def lookup_secret(self, ak):
        with self.lock:
            table = dict(self.state.get("static_keys") or {})
        if ak in table:
            return table[ak]
        return common.secret_for(ak) if common.is_ours(ak) else None

    def handle(self, request):
        if urlsplit(request.path).path != "/":
            return self.error(404, "NotFound", "STS answers on /")
        params = self.params(request)
        action = params.get("Action")
        request.log_extra = {"params": params}
        try:
            if params.get("Version") != "2011-06-15":
                raise StsError(400, "InvalidParameterValue", "Version must be 2011-06-15")
            if action == "AssumeRoleWithWebIdentity":
                return self.web_identity(request, params)
            if action == "AssumeRole":
                return self.assume_role(request, params)
            raise StsError(400, "InvalidAction", f"unknown action {action!r}")
        except StsError as e:
            request.log_extra["error"] = e.code
            return self.error(e.status, e.code, e.message)

    def _common_checks(self, params, max_duration):
        role_arn, session = params.get("RoleArn"), params.get("RoleSessionName")
        if not role_arn or not session:
            raise StsError(400, "MissingParameter", "RoleArn and RoleSessionName are required")
        if not SESSION_NAME_RE.match(session):
            raise StsError(400, "ValidationError", f"bad RoleSessionName {session!r}")
        with self.lock:
            want_role, lifetime = self.state.get("role_arn"), self.state.get("lifetime")
        if want_role and role_arn != want_role:
            raise StsError(403, "AccessDenied", f"not authorized to assume {role_arn}")
        duration = params.get("DurationSeconds", "3600")
        if not duration.isdigit() or not 900 <= int(duration) <= 43200:
            raise StsError(400, "ValidationError", f"DurationSeconds {duration!r} out of range")
        if int(duration) > max_duration:
            raise StsError(400, "ValidationError",
                           "The requested DurationSeconds exceeds the 1 hour session limit for "
                           "roles assumed by role chaining.")
        return role_arn, session, float(lifetime if lifetime is not None else duration)

    def _issue(self, request, lifetime):
        if request.lifetime_override is not None:
            lifetime = request.lifetime_override
        fields, _ = common.issue_credentials(lifetime)
        request.issued = fields
        self.count_issue()
        return fields

    def web_identity(self, request, params):
        token = params.get("WebIdentityToken")
        if not token:
            raise StsError(400, "MissingParameter", "WebIdentityToken is required")
        if request.headers.get("Authorization"):
            raise StsError(400, "InvalidRequest", "AssumeRoleWithWebIdentity is unsigned")
        role_arn, session, lifetime = self._common_checks(params, 43200)
        expected = self.expected_token()
        if expected is None or token != expected:
            raise StsError(400, "InvalidIdentityToken", "Couldn't verify the web identity token")
        fields = self._issue(request, lifetime)
        xml = (f'<AssumeRoleWithWebIdentityResponse xmlns="{NS}"><AssumeRoleWithWebIdentityResult>'
               "<SubjectFromWebIdentityToken>system:serviceaccount:ml:trainer"
               "</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>"
               f"{assumed_role_xml(role_arn, session)}{credentials_xml(fields)}"
               f"<Provider>arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.local/id/PARITY</Provider>"
               "</AssumeRoleWithWebIdentityResult>"
               f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
               "</AssumeRoleWithWebIdentityResponse>")
        return common.Response(200, xml, "text/xml")

    def assume_role(self, request, params):
        with self.lock:
            want_region, external_id = self.state.get("region"), self.state.get("external_id")
        ak = verify_sigv4(request, request.body, self.lookup_secret, want_region)
        request.log_extra["signed_by"] = ak
        role_arn, session, lifetime = self._common_checks(
            params, 3600 if ak.startswith("ASIA") else 43200)
        if external_id is not None and params.get("ExternalId") != external_id:
            raise StsError(403, "AccessDenied", "ExternalId does not match")
        fields = self._issue(request, lifetime)
        xml = (f'<AssumeRoleResponse xmlns="{NS}"><AssumeRoleResult>'
               f"{assumed_role_xml(role_arn, session)}{credentials_xml(fields)}"
               "</AssumeRoleResult>"
               f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
               "</AssumeRoleResponse>")
        return common.Response(200, xml, "text/xml")


def configure(p):
    p.add_argument("--token", help="the web identity token AssumeRoleWithWebIdentity requires")
    p.add_argument("--token-file", help="file holding it, read at every request")
    p.add_argument("--role-arn", help="the only role that may be assumed (default: any)")
    p.add_argument("--external-id")
    p.add_argument("--region", help="the signing region AssumeRole requires (default: any)")
    p.add_argument("--lifetime", type=float, help="seconds credentials live (default: "
                   "DurationSeconds)")


if __name__ == "__main__":
    sys.exit(common.main(Sts, __doc__, configure))

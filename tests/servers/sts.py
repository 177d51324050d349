#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake AWS STS (query protocol, XML answers) on 127.0.0.1.

- AssumeRoleWithWebIdentity: unsigned form POST (or GET query). WebIdentityToken must equal the
  current token (--token, or --token-file read at every request, whitespace stripped), else 400
  InvalidIdentityToken. RoleArn must equal role_arn when that is set.
- AssumeRole: SigV4-verified with botocore's own signer (sigv4_verify.py): the request is
  rebuilt from only the signed headers, the raw path and query and the raw body, its timestamp
  is X-Amz-Date, and SigV4Auth(Credentials(ak, secret, token), "sts", region).signature() must
  equal the one sent (else 403 SignatureDoesNotMatch). The secret is looked up in static_keys,
  then derived for keys this family of fakes issued (common.secret_for); a temporary key also
  needs its own unexpired X-Amz-Security-Token. Role chaining caps DurationSeconds at 3600
  (400 ValidationError). external_id, when set, must match ExternalId (403 AccessDenied).

Credentials live `lifetime` seconds when that is set, else DurationSeconds (default 3600).
Errors are ErrorResponse XML. State: token, token_file, role_arn, external_id, region,
static_keys ({ak: secret}), lifetime, faults (see common.py; a fault may name an "action").
"""

import re
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import sigv4_verify  # noqa: E402  (botocore's signer; Debian python3-botocore)

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACCOUNT = "123456789012"
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")


class StsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# sigv4_verify's problem kinds, as STS answers them.
SIGV4_ERRORS = {"missing": (403, "MissingAuthenticationToken"),
                "incomplete": (400, "IncompleteSignature"),
                "signature": (403, "SignatureDoesNotMatch"),
                "content_sha": (400, "XAmzContentSHA256Mismatch"),
                "unknown_key": (403, "InvalidClientTokenId"),
                "bad_token": (403, "InvalidClientTokenId"),
                "expired_token": (400, "ExpiredToken")}


def verify_sigv4(request, body, lookup_secret, want_region=None, now=None):
    """Verifies a SigV4 header-signed STS request (sigv4_verify.verify, service "sts"); returns
    the access key id, raises StsError. lookup_secret(ak) returns the secret or None."""
    try:
        return sigv4_verify.verify(request, body, lookup_secret, "sts", want_region,
                                   now).access_key
    except sigv4_verify.SigV4Error as e:
        status, code = SIGV4_ERRORS[e.kind]
        raise StsError(status, code, e.message) from None


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
        return sigv4_verify.lookup_secret(table, ak)

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

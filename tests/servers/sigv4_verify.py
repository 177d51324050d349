# SPDX-License-Identifier: MIT
"""SigV4 header-signature verification shared by the loopback fakes (sts.py, awsjson.py).

verify() rebuilds the request from only the headers the client signed, its raw path and query
and its raw body, takes X-Amz-Date as the timestamp, and recomputes the signature with
botocore's own signer (SigV4Auth(Credentials(ak, secret, token), service, region)); it must equal
the one sent. The secret comes from lookup_secret(ak) (see lookup_secret() below: the fake's
static_keys table, then common.secret_for for keys this family of fakes issued); a temporary
(ASIA...) key also needs its own unexpired X-Amz-Security-Token (common.check_session_token).

Problems raise SigV4Error with a kind; each fake maps kinds to its service's status and code:

  missing        no Authorization header
  incomplete     Authorization unparsable, required headers unsigned or not sent, bad X-Amz-Date
  signature      wrong signature, skewed clock, bad credential scope, unexpected service or region
  content_sha    X-Amz-Content-SHA256 does not match the body
  unknown_key    lookup_secret knows no secret for the access key
  bad_token      a temporary key whose session token is missing, forged or another key's
  expired_token  a temporary key whose session token has expired
"""

import hashlib
import re
import time
from collections import namedtuple
from datetime import datetime, timezone

import common

from botocore.auth import SigV4Auth  # Debian python3-botocore
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-f]{64})\s*$")
MAX_SKEW_S = 900

Signed = namedtuple("Signed", "access_key region service token")


class SigV4Error(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


class SignedHeadersOnly(SigV4Auth):
    """botocore's SigV4 with its header blacklist off: the request already holds exactly the
    headers the client signed, so all of them go into the canonical request."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


def lookup_secret(static_keys, access_key_id):
    """The secret of access_key_id: from static_keys ({ak: secret}, a fake's own table) first,
    else derived for keys this family of fakes issued (common.secret_for), else None."""
    table = dict(static_keys or {})
    if access_key_id in table:
        return table[access_key_id]
    return common.secret_for(access_key_id) if common.is_ours(access_key_id) else None


def verify(request, body, lookup_secret, service, want_region=None, now=None):
    """Verifies the SigV4 header signature of request (a BaseHTTPRequestHandler: command, path,
    headers) with raw body, signed for service (and want_region, when given). Returns Signed;
    raises SigV4Error."""
    auth = request.headers.get("Authorization")
    if not auth:
        raise SigV4Error("missing", "Request is missing Authentication Token")
    m = AUTH_RE.match(auth)
    if not m:
        raise SigV4Error("incomplete", f"cannot parse Authorization: {auth[:80]}")
    try:
        ak, date, region, scope_service, terminator = m.group("cred").split("/")
    except ValueError:
        raise SigV4Error("incomplete", "bad Credential scope") from None
    signed = m.group("signed").split(";")
    amz_date = request.headers.get("X-Amz-Date", "")
    if "host" not in signed or "x-amz-date" not in signed:
        raise SigV4Error("incomplete", "host and x-amz-date must be signed")
    if request.headers.get("X-Amz-Security-Token") and "x-amz-security-token" not in signed:
        raise SigV4Error("incomplete", "x-amz-security-token must be signed")
    if signed != sorted(signed):
        raise SigV4Error("incomplete", "SignedHeaders not sorted")
    try:
        stamp = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SigV4Error("incomplete", f"bad X-Amz-Date {amz_date!r}") from None
    if abs((now or time.time()) - stamp.timestamp()) > MAX_SKEW_S:
        raise SigV4Error("signature", "Signature expired: X-Amz-Date is skewed")
    if date != amz_date[:8] or scope_service != service or terminator != "aws4_request":
        raise SigV4Error("signature", f"bad credential scope {m.group('cred')}")
    if want_region and region != want_region:
        raise SigV4Error("signature", f"credential scope region {region}, expected {want_region}")
    content_sha = request.headers.get("X-Amz-Content-SHA256")
    if content_sha and content_sha != hashlib.sha256(body).hexdigest():
        raise SigV4Error("content_sha", "body does not match its hash")
    secret = lookup_secret(ak)
    if secret is None:
        raise SigV4Error("unknown_key", f"unknown access key {ak}")
    token = request.headers.get("X-Amz-Security-Token")
    if ak.startswith("ASIA"):
        problem = common.check_session_token(ak, token)
        if problem == "ExpiredToken":
            raise SigV4Error("expired_token",
                             "The security token included in the request is expired")
        if problem:
            raise SigV4Error("bad_token", "The security token included in the request is invalid")

    host = request.headers.get("Host", "")
    rebuilt = AWSRequest(method=request.command, url=f"http://{host}{request.path}", data=body)
    rebuilt.headers = HTTPHeaders()
    for name, value in request.headers.items():
        if name.lower() in signed:
            rebuilt.headers[name] = value
    missing = set(signed) - {n.lower() for n in rebuilt.headers.keys()}
    if missing:
        raise SigV4Error("incomplete", f"signed headers not sent: {sorted(missing)}")
    rebuilt.context["timestamp"] = amz_date
    signer = SignedHeadersOnly(Credentials(ak, secret, token), service, region)
    want = signer.signature(signer.string_to_sign(rebuilt, signer.canonical_request(rebuilt)),
                            rebuilt)
    if want != m.group("sig"):
        raise SigV4Error("signature",
                         "The request signature we calculated does not match the signature you "
                         "provided. Check your AWS Secret Access Key and signing method.")
    return Signed(ak, region, service, token)

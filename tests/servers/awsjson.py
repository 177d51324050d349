#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake AWS SSM GetParameter and Secrets Manager GetSecretValue (AWS JSON 1.1) on 127.0.0.1.

One server answers both services: POST / with Content-Type application/x-amz-json-1.1 and
X-Amz-Target AmazonSSM.GetParameter or secretsmanager.GetSecretValue. It checks what the real
services check, in their order:

- Routing: POST to / (else 404), Content-Type application/x-amz-json-1.1 (else 400
  SerializationException), a known X-Amz-Target (else 400 UnknownOperationException).
- SigV4 (sigv4_verify.py: botocore's own signer over the signed headers and the raw body). The
  credential scope names service ssm or secretsmanager, as the target says, and a region. The
  keys accepted are the static_keys table, then every key this family of fakes issued
  (common.secret_for), a temporary one only with its own unexpired session token. Bad signature,
  skew or scope: 400 InvalidSignatureException; unknown key or bad token: 400
  UnrecognizedClientException; expired token: 400 ExpiredTokenException.
- The body: a JSON object (else 400 SerializationException), checked against botocore's service
  model (the operation's input shape, with ParamValidator, plus the max lengths botocore leaves
  out): 400 ValidationException.
- An ARN in Name or SecretId must be of its service and of the signing region (else 400
  ValidationException).

Data (--data FILE, or POST /_control {"data": ...}, which replaces it):

  {"parameters": {"<name or ARN>": {"value": "...", "type": "String|StringList|SecureString",
                                    "version": 1}},
   "secrets": {"<full ARN>": {"string": "..."} or {"binary": "<base64>"}}}

A parameter keyed by name exists in every region of the account (state "account", default
123456789012); one keyed by ARN only in that ARN's region and account. GetParameter takes Name as
the name or the ARN, mapped to the name as SSM does: arn:aws:ssm:R:A:parameter/app/x is /app/x
(a name with a '/' is fully qualified, so it starts with '/'; the ARN doesn't repeat it), and
parameter/x is x, or /x if that is the parameter there is (a one-level name may carry a leading
'/', and its ARN is the same). A SecureString without WithDecryption answers a base64 ciphertext
placeholder, as SSM does. Unknown: 400 ParameterNotFound.

GetSecretValue takes SecretId as the full ARN, the ARN without its 6-character suffix, or the
secret's name (the ARN's name without the suffix, looked up in the signing region). VersionId
must be the secret's version (uuid5 of its ARN) and VersionStage AWSCURRENT, if given. Unknown:
400 ResourceNotFoundException.

"deny": a list of names, ARNs or secret ids answered with 400 AccessDeniedException. Errors
are {"__type": CODE, "message": ...} with x-amzn-ErrorType: CODE. Throttling is
ThrottlingException. Faults (common.py) may also name an "operation" (GetParameter or
GetSecretValue). The log records add operation, service, region, signed_by, params and error.

AwsJsonFake (below) is the AWS JSON 1.1 protocol part, which sagemaker.py shares: the routing,
the SigV4 check, the error and answer shapes, the "operation" of faults and log records.
"""

import base64
import binascii
import hashlib
import json
import re
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import sigv4_verify  # noqa: E402  (botocore's signer; Debian python3-botocore)

from botocore.loaders import Loader  # noqa: E402
from botocore.model import ServiceModel  # noqa: E402
from botocore.validate import ParamValidator  # noqa: E402

CONTENT_TYPE = "application/x-amz-json-1.1"
ACCOUNT = "123456789012"
# X-Amz-Target -> (signing service, model name, operation)
TARGETS = {"AmazonSSM.GetParameter": ("ssm", "ssm", "GetParameter"),
           "secretsmanager.GetSecretValue": ("secretsmanager", "secretsmanager", "GetSecretValue")}
ARN_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[^:]*):(?P<region>[^:]*):"
                    r"(?P<account>[^:]*):(?P<resource>.*)$")
SECRET_SUFFIX_RE = re.compile(r"^(?P<name>.+)-[A-Za-z0-9]{6}$")
SIGV4_ERRORS = {"missing": (400, "MissingAuthenticationTokenException"),
                "incomplete": (400, "IncompleteSignatureException"),
                "signature": (400, "InvalidSignatureException"),
                "content_sha": (400, "InvalidSignatureException"),
                "unknown_key": (400, "UnrecognizedClientException"),
                "bad_token": (400, "UnrecognizedClientException"),
                "expired_token": (400, "ExpiredTokenException")}
CREATED = 1_700_000_000.0  # a fixed creation/modification time: answers are reproducible


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AwsJsonFake(common.Fake):
    """A fake of AWS JSON 1.1 services on one port. A subclass sets TARGETS (X-Amz-Target ->
    (signing service, model name, operation)) and MALFORMED and implements call(); it may
    override signing_region() and admit()."""

    TARGETS = {}
    MALFORMED = b'{<<<not json'
    UNRECOGNIZED_MESSAGE = None  # replaces the message of UnrecognizedClientException

    # --- shapes -------------------------------------------------------------------------------
    def error(self, status, code, message):
        body = json.dumps({"__type": code, "message": message})
        return common.Response(status, body, CONTENT_TYPE,
                               {"x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())})

    def malformed(self):
        return common.Response(200, self.MALFORMED, CONTENT_TYPE)

    def ok(self, doc):
        return common.Response(200, json.dumps(doc), CONTENT_TYPE,
                               {"x-amzn-RequestId": str(uuid.uuid4())})

    def operation(self, request):
        target = request.headers.get("X-Amz-Target", "")
        return self.TARGETS[target][2] if target in self.TARGETS else target or None

    def describe(self, request):
        return {"operation": self.operation(request)}

    def fault_matches(self, fault, request):
        return "operation" not in fault or fault["operation"] == self.operation(request)

    # --- requests -----------------------------------------------------------------------------
    def handle(self, request):
        request.log_extra = {}
        try:
            return self._handle(request)
        except ApiError as e:
            request.log_extra["error"] = e.code
            return self.error(e.status, e.code, e.message)

    def _handle(self, request):
        if request.command != "POST" or request.path != "/":
            raise ApiError(404, "UnknownOperationException", "POST / only")
        ctype = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if ctype != CONTENT_TYPE:
            raise ApiError(400, "SerializationException",
                           f"Content-Type must be {CONTENT_TYPE}, not {ctype!r}")
        target = request.headers.get("X-Amz-Target", "")
        if target not in self.TARGETS:
            raise ApiError(400, "UnknownOperationException", f"unknown target {target!r}")
        service, _, operation = self.TARGETS[target]
        request.log_extra["service"] = service
        try:
            params = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            params = None
        request.log_extra["params"] = params
        with self.lock:
            keys = dict(self.state.get("static_keys") or {})
            region = self.signing_region()
        try:
            signed = sigv4_verify.verify(request, request.body,
                                         lambda ak: sigv4_verify.lookup_secret(keys, ak),
                                         service, region)
        except sigv4_verify.SigV4Error as e:
            status, code = SIGV4_ERRORS[e.kind]
            message = e.message
            if code == "UnrecognizedClientException" and self.UNRECOGNIZED_MESSAGE:
                message = self.UNRECOGNIZED_MESSAGE
            raise ApiError(status, code, message) from None
        request.log_extra.update(signed_by=signed.access_key, region=signed.region)
        self.admit(operation)
        if not isinstance(params, dict):
            raise ApiError(400, "SerializationException", "the body is not a JSON object")
        return self.call(request, target, operation, params, signed.region)

    # --- hooks --------------------------------------------------------------------------------
    def signing_region(self):
        """The region the credential scope must name, None for any (the caller holds the
        lock)."""
        return None

    def admit(self, operation):
        """Runs once the signature holds, before the body is looked at (raises ApiError)."""

    def call(self, request, target, operation, params, region):
        """The operation: params is a JSON object, region the signing region."""
        raise NotImplementedError


def parse_arn(text):
    m = ARN_RE.match(text or "")
    return m.groupdict() if m else None


def ssm_name_candidates(resource):
    """The parameter names an ARN's resource part (parameter/...) can stand for, in order."""
    if not resource.startswith("parameter/"):
        return []
    rest = resource[len("parameter/"):]
    if not rest:
        return []
    if "/" in rest:  # a hierarchy: the name is fully qualified, its leading '/' not repeated
        return [] if rest.startswith("/") else ["/" + rest]
    return [rest, "/" + rest]


def secret_name(arn):
    """The secret's name: the ARN's secret:NAME-XXXXXX without the random suffix."""
    resource = parse_arn(arn)["resource"]
    full = resource[len("secret:"):] if resource.startswith("secret:") else resource
    m = SECRET_SUFFIX_RE.match(full)
    return m.group("name") if m else full


def ciphertext_placeholder(name, value):
    """What SSM shows for a SecureString read without decryption: a KMS ciphertext blob."""
    blob = b"\x01\x02\x02\x00x" + hashlib.sha256(f"{name}\0{value}".encode()).digest() * 3
    return base64.b64encode(blob).decode()


class Models:
    """The two operations' input shapes, from botocore's own service models."""

    def __init__(self):
        loader = Loader()
        self.shapes = {}
        for target, (_, model, operation) in TARGETS.items():
            service = ServiceModel(loader.load_service_model(model, "service-2"), model)
            self.shapes[target] = service.operation_model(operation).input_shape

    def validate(self, target, params):
        shape = self.shapes[target]
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            raise ApiError(400, "ValidationException", report.generate_report())
        for name, member in shape.members.items():  # botocore checks min, not max
            value = params.get(name)
            limit = member.metadata.get("max")
            if isinstance(value, str) and limit is not None and len(value) > limit:
                raise ApiError(400, "ValidationException",
                               f"1 validation error detected: Value at '{name[0].lower()}"
                               f"{name[1:]}' failed to satisfy constraint: Member must have "
                               f"length less than or equal to {limit}")


class AwsJson(AwsJsonFake):
    NAME = "awsjson"
    TARGETS = TARGETS
    MALFORMED = b'{"Parameter": {"Value": <<<not json'
    DEFAULTS = {"data": {"parameters": {}, "secrets": {}}, "deny": [], "static_keys": {},
                "account": ACCOUNT}

    def __init__(self, args):
        self.models = Models()
        super().__init__(args)

    def state_from_args(self, args):
        if args.data:
            with open(args.data) as f:
                return {"data": json.load(f)}
        return {}

    def call(self, request, target, operation, params, region):
        self.models.validate(target, params)
        with self.lock:
            data = json.loads(json.dumps(self.state.get("data") or {}))
            deny = list(self.state.get("deny") or [])
            account = self.state.get("account") or ACCOUNT
        if operation == "GetParameter":
            return self.get_parameter(params, region, data, deny, account)
        return self.get_secret_value(params, region, data, deny)

    @staticmethod
    def _arn_in_region(arn, service, region):
        if arn["service"] != service:
            raise ApiError(400, "ValidationException", f"not an ARN of {service}")
        if arn["region"] != region:
            raise ApiError(400, "ValidationException",
                           f"the ARN's region {arn['region']} is not the request's region {region}")

    @staticmethod
    def _denied(deny, ids, action, resource):
        if any(i in deny for i in ids):
            raise ApiError(400, "AccessDeniedException",
                           f"User: arn:aws:iam::{ACCOUNT}:user/parity is not authorized to "
                           f"perform: {action} on resource: {resource} because no "
                           f"identity-based policy allows the {action} action")

    def get_parameter(self, params, region, data, deny, account):
        asked = params["Name"]
        arn = parse_arn(asked) if asked.startswith("arn:") else None
        if arn is not None:
            self._arn_in_region(arn, "ssm", region)
            names, want_account = ssm_name_candidates(arn["resource"]), arn["account"]
            partition = arn["partition"]
        else:
            names, want_account, partition = [asked], account, "aws"
        found = None
        for name in names:
            for key, entry in (data.get("parameters") or {}).items():
                if key.startswith("arn:"):
                    karn = parse_arn(key)
                    if (karn and karn["region"] == region and karn["account"] == want_account
                            and name in ssm_name_candidates(karn["resource"])[:1]):
                        found = (name, key, entry)
                elif key == name and want_account == account:
                    found = (name, None, entry)
                if found:
                    break
            if found:
                break
        if found is None:
            raise ApiError(400, "ParameterNotFound", f"Parameter {asked} not found.")
        name, key_arn, entry = found
        full_arn = key_arn or f"arn:{partition}:ssm:{region}:{want_account}:parameter/" \
                              f"{name.lstrip('/')}"
        self._denied(deny, [asked, name, full_arn], "ssm:GetParameter", full_arn)
        kind = entry.get("type", "String")
        value = entry.get("value", "")
        if kind == "SecureString" and not params.get("WithDecryption"):
            value = ciphertext_placeholder(name, value)
        return self.ok({"Parameter": {"Name": name, "Type": kind, "Value": value,
                                      "Version": int(entry.get("version", 1)),
                                      "LastModifiedDate": CREATED, "ARN": full_arn,
                                      "DataType": entry.get("data_type", "text")}})

    def get_secret_value(self, params, region, data, deny):
        asked = params["SecretId"]
        secrets = data.get("secrets") or {}
        found = None
        if asked.startswith("arn:"):
            arn = parse_arn(asked)
            if arn is None:
                raise ApiError(400, "ValidationException", f"malformed ARN {asked}")
            self._arn_in_region(arn, "secretsmanager", region)
            for key in secrets:
                if key == asked:
                    found = key
                    break
            else:  # a partial ARN: the full one without its random suffix
                for key in secrets:
                    m = SECRET_SUFFIX_RE.match(key)
                    if m and m.group("name") == asked:
                        found = key
                        break
        else:
            for key in secrets:
                karn = parse_arn(key)
                if karn and karn["region"] == region and secret_name(key) == asked:
                    found = key
                    break
        if found is None:
            raise ApiError(400, "ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret.")
        self._denied(deny, [asked, found, secret_name(found)], "secretsmanager:GetSecretValue",
                     found)
        version = str(uuid.uuid5(uuid.NAMESPACE_URL, found))
        if params.get("VersionId") not in (None, version) or \
                params.get("VersionStage") not in (None, "AWSCURRENT"):
            raise ApiError(400, "ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret value for "
                           "VersionId or VersionStage")
        entry = secrets[found]
        doc = {"ARN": found, "Name": secret_name(found), "VersionId": version,
               "VersionStages": ["AWSCURRENT"], "CreatedDate": CREATED}
        if "string" in entry:
            doc["SecretString"] = entry["string"]
        if "binary" in entry:
            try:
                base64.b64decode(entry["binary"], validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(500, "InternalServiceError", "the fake's binary is not base64")
            doc["SecretBinary"] = entry["binary"]
        return self.ok(doc)


def configure(p):
    p.add_argument("--data", help="JSON file with the parameters and secrets (see above)")


if __name__ == "__main__":
    sys.exit(common.main(AwsJson, __doc__, configure))

# SPDX-License-Identifier: MIT
"""Black-box tests of parity-init's secret references: before the child starts, an environment
value that is a whole SSM parameter ARN (arn:P:ssm:R:A:parameter/NAME) becomes the parameter's
value (GetParameter, Name = the ARN, WithDecryption), and one that is a Secrets Manager secret ARN
(arn:P:secretsmanager:R:A:secret:NAME[#KEY]) becomes its SecretString, or with #KEY that JSON
object's field (a string as is, anything else as compact JSON). Requests go to
AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_SECRETS_MANAGER, else AWS_ENDPOINT_URL, signed with
parity-init's own credentials for the ARN's region. PARITY_SECRETS=off turns it off. A reference
that can't be resolved stops the boot (exit 125, the variable, the ARN and the AWS error code on
stderr and in the failure file); throttling and 5xx are retried. Values never reach parity's log.

The services are tests/servers/awsjson.py, a loopback fake that verifies SigV4 with botocore's
signer and validates requests against botocore's service models; the first tests check the fake
itself with boto3. Everything listens on 127.0.0.1, and every run names loopback endpoints for
both services. Nothing waits on time: runs wait for readiness lines and exits, with generous
bounds.
"""

import base64
import http.client
import json
import re
import sys
import uuid

import pytest

from conftest import EXIT_TIMEOUT, READY_TIMEOUT, SERVERS, Fake, base_env

sys.path.insert(0, str(SERVERS))
import common  # noqa: E402  (tests/servers/common.py: the fakes' key derivation)

PY = "/usr/bin/python3"  # Debian's, with python3-boto3 (botocore 1.29)
EXIT_BOOT_FAILURE = 125
ACCOUNT = "123456789012"
REGION = "us-east-1"
JSON11 = "application/x-amz-json-1.1"
SSM_TARGET = "AmazonSSM.GetParameter"
SM_TARGET = "secretsmanager.GetSecretValue"
# The child: proves it ran (a marker file) and prints its environment as JSON on stdout.
CHILD = ("import json, os, sys; open(sys.argv[1], 'w').close(); "
         "print(json.dumps(dict(os.environ)))")


# --- ARNs and data -------------------------------------------------------------------------------
def ssm_arn(name, region=REGION, partition="aws"):
    """A parameter's ARN as SSM writes it: the name's leading '/' is not repeated."""
    return f"arn:{partition}:ssm:{region}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def secret_arn(name, region=REGION, partition="aws"):
    """A secret's full ARN: its name and a random 6-character suffix."""
    suffix = uuid.uuid4().hex[:6]
    return f"arn:{partition}:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{suffix}"


def token(tag="v"):
    """A distinctive secret value (so a leak can't hide behind a common word)."""
    return f"{tag}-{uuid.uuid4().hex}"


# --- the fake ------------------------------------------------------------------------------------
class AwsJson(Fake):
    """A running tests/servers/awsjson.py."""

    def records(self, operation=None):
        return [r for r in super().records()
                if operation is None or r.get("operation") == operation]

    def asked(self, operation):
        """The Name (GetParameter) or SecretId (GetSecretValue) of every request, in order."""
        field = "Name" if operation == "GetParameter" else "SecretId"
        return [(r.get("params") or {}).get(field) for r in self.records(operation)]


@pytest.fixture
def awsjson(fakes, tmp_path):
    """start(data, **state) -> AwsJson serving data (awsjson.py's --data format)."""
    count = [0]

    def start(data=None, **state):
        args = []
        if data is not None:
            count[0] += 1
            data_file = tmp_path / f"awsjson-data-{count[0]}.json"
            data_file.write_text(json.dumps(data))
            args = ["--data", data_file]
        return fakes("awsjson", *args, cls=AwsJson, **state)

    return start


@pytest.fixture
def keys():
    """parity-init's own credentials: a static key pair every fake accepts."""
    return common.static_keys()


def client(service, fake, ak, sk, tok=None, region=REGION):
    import boto3
    from botocore.config import Config
    # Debian's botocore ignores AWS_ENDPOINT_URL_*: the endpoint is passed explicitly.
    return boto3.client(service, endpoint_url=fake.url, region_name=region,
                        aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=tok,
                        config=Config(retries={"total_max_attempts": 1}))


def error_code(call):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def raw_post(fake, target, body, ak, sk, service, region=REGION, tok=None, content_type=JSON11,
             tamper=None):
    """POSTs body to the fake, signed by botocore for service/region; tamper(body) changes the
    body after signing. Returns (status, x-amzn-ErrorType, parsed body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = AWSRequest(method="POST", url=fake.url + "/", data=data,
                     headers={"Content-Type": content_type, "X-Amz-Target": target})
    SigV4Auth(Credentials(ak, sk, tok), service, region).add_auth(req)
    if tamper:
        data = tamper(data)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=READY_TIMEOUT)
    try:
        conn.request("POST", "/", body=data, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, resp.getheader("x-amzn-ErrorType"), json.loads(raw)
    finally:
        conn.close()


# --- 1. the fake itself, checked with boto3 ------------------------------------------------------
def fake_data():
    db = secret_arn("prod/db")
    blob = secret_arn("blob")
    east = ssm_arn("/only/in/eu", region="eu-west-1")
    data = {"parameters": {"/app/db/password": {"value": "pw-1", "type": "SecureString"},
                           "top": {"value": "top-value"},
                           "list": {"value": "a,b,c", "type": "StringList"},
                           east: {"value": "eu-value"}},
            "secrets": {db: {"string": '{"user": "admin"}'},
                        blob: {"binary": base64.b64encode(b"\0\1\2").decode()}}}
    return data, db, blob


def test_fake_awsjson_serves_boto3(awsjson, keys):
    data, db, blob = fake_data()
    fake = awsjson(data)
    ssm = client("ssm", fake, *keys)
    p = ssm.get_parameter(Name="/app/db/password", WithDecryption=True)["Parameter"]
    assert (p["Name"], p["Type"], p["Value"], p["Version"], p["DataType"]) == \
        ("/app/db/password", "SecureString", "pw-1", 1, "text")
    assert p["ARN"] == ssm_arn("/app/db/password") == \
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/db/password"
    assert p["LastModifiedDate"].year >= 2023
    # by ARN: parameter/app/db/password is /app/db/password, parameter/top is top
    by_arn = ssm.get_parameter(Name=ssm_arn("/app/db/password"), WithDecryption=True)
    assert by_arn["Parameter"]["Name"] == "/app/db/password"
    assert ssm.get_parameter(Name=ssm_arn("top"))["Parameter"]["Value"] == "top-value"
    assert ssm.get_parameter(Name="list")["Parameter"]["Type"] == "StringList"
    # a SecureString read without decryption is its ciphertext, as SSM answers
    hidden = ssm.get_parameter(Name="/app/db/password")["Parameter"]["Value"]
    assert hidden != "pw-1" and base64.b64decode(hidden)
    # regional: an ARN-keyed parameter exists in its region only
    eu = client("ssm", fake, *keys, region="eu-west-1")
    assert eu.get_parameter(Name="/only/in/eu")["Parameter"]["Value"] == "eu-value"
    assert error_code(lambda: ssm.get_parameter(Name="/only/in/eu")) == "ParameterNotFound"
    assert error_code(lambda: ssm.get_parameter(Name="/nope")) == "ParameterNotFound"
    # Secrets Manager: full ARN, partial ARN and name
    sm = client("secretsmanager", fake, *keys)
    got = sm.get_secret_value(SecretId=db)
    assert (got["ARN"], got["Name"], got["SecretString"], got["VersionStages"]) == \
        (db, "prod/db", '{"user": "admin"}', ["AWSCURRENT"])
    assert len(got["VersionId"]) >= 32 and got["CreatedDate"].year >= 2023
    assert sm.get_secret_value(SecretId=db[:-7])["ARN"] == db
    assert sm.get_secret_value(SecretId="prod/db")["ARN"] == db
    binary = sm.get_secret_value(SecretId=blob)
    assert binary["SecretBinary"] == b"\0\1\2" and "SecretString" not in binary
    assert error_code(lambda: sm.get_secret_value(SecretId=db + "x")) == \
        "ResourceNotFoundException"
    # a temporary key with its own token works too
    temp, _ = common.issue_credentials(600)
    tc = client("ssm", fake, temp["AccessKeyId"], temp["SecretAccessKey"], temp["Token"])
    assert tc.get_parameter(Name="top")["Parameter"]["Value"] == "top-value"
    # the data can be replaced; access can be denied; throttling has its code
    fake.control(data={"parameters": {"top": {"value": "changed"}}, "secrets": {}})
    assert ssm.get_parameter(Name="top")["Parameter"]["Value"] == "changed"
    assert error_code(lambda: sm.get_secret_value(SecretId=db)) == "ResourceNotFoundException"
    fake.control(deny=["top"])
    assert error_code(lambda: ssm.get_parameter(Name=ssm_arn("top"))) == "AccessDeniedException"
    fake.control(faults=[{"type": "throttle", "count": 1, "operation": "GetParameter"}])
    assert error_code(lambda: ssm.get_parameter(Name="/x")) == "ThrottlingException"
    recs = fake.records("GetParameter")
    assert recs[-1]["fault"]["type"] == "throttle"
    assert all(r["signed_by"] in (keys[0], temp["AccessKeyId"]) for r in recs if not r["fault"])


def test_fake_awsjson_refuses_bad_signatures(awsjson, keys):
    fake = awsjson({"parameters": {"top": {"value": "v"}}, "secrets": {}})
    ak, sk = keys
    body = {"Name": "top", "WithDecryption": True}
    status, code, doc = raw_post(fake, SSM_TARGET, body, ak, sk, "ssm")
    assert (status, code) == (200, None) and doc["Parameter"]["Value"] == "v"
    # the same request with its body changed after signing
    tampered = raw_post(fake, SSM_TARGET, body, ak, sk, "ssm",
                        tamper=lambda b: b.replace(b"top", b"tOp"))
    assert tampered[:2] == (400, "InvalidSignatureException"), tampered
    assert tampered[2]["__type"] == "InvalidSignatureException" and tampered[2]["message"]
    # the wrong secret, the wrong service in the scope, an unknown key, forged/expired tokens
    assert raw_post(fake, SSM_TARGET, body, ak, "x" * 40, "ssm")[1] == \
        "InvalidSignatureException"
    assert raw_post(fake, SSM_TARGET, body, ak, sk, "secretsmanager")[1] == \
        "InvalidSignatureException"
    assert raw_post(fake, SM_TARGET, {"SecretId": "x"}, ak, sk, "ssm")[1] == \
        "InvalidSignatureException"
    assert raw_post(fake, SSM_TARGET, body, "AKIAUNKNOWNKEY000000", "x" * 40, "ssm")[1] == \
        "UnrecognizedClientException"
    temp, _ = common.issue_credentials(600)
    assert raw_post(fake, SSM_TARGET, body, temp["AccessKeyId"], temp["SecretAccessKey"], "ssm",
                    tok="forged")[1] == "UnrecognizedClientException"
    expired, _ = common.issue_credentials(-10)
    assert raw_post(fake, SSM_TARGET, body, expired["AccessKeyId"], expired["SecretAccessKey"],
                    "ssm", tok=expired["Token"])[1] == "ExpiredTokenException"
    # boto3 with a wrong secret gets the same answer
    assert error_code(lambda: client("ssm", fake, ak, "y" * 40).get_parameter(Name="top")) == \
        "InvalidSignatureException"
    refused = [r for r in fake.records() if r["status"] != 200]
    assert refused and all(r["status"] == 400 for r in refused)


def test_fake_awsjson_validates_requests(awsjson, keys):
    fake = awsjson({"parameters": {"top": {"value": "v"}},
                    "secrets": {secret_arn("s"): {"string": "x"}}})
    ak, sk = keys

    def code(target, body, service="ssm", **kw):
        return raw_post(fake, target, body, ak, sk, service, **kw)[1]

    assert code(SSM_TARGET, {"Name": "top"}) is None
    assert code(SSM_TARGET, {}) == "ValidationException"  # Name is required
    assert code(SSM_TARGET, {"Name": 5}) == "ValidationException"
    assert code(SSM_TARGET, {"Name": "top", "WithDecryption": "yes"}) == "ValidationException"
    assert code(SSM_TARGET, {"Name": "top", "Bogus": 1}) == "ValidationException"
    assert code(SSM_TARGET, {"Name": ""}) == "ValidationException"
    assert code(SSM_TARGET, {"Name": "x" * 2049}) == "ValidationException"
    assert code(SM_TARGET, {"SecretId": "s", "VersionId": "short"},
                "secretsmanager") == "ValidationException"
    assert code(SSM_TARGET, {"Name": "top"}, content_type="application/json") == \
        "SerializationException"
    assert code(SSM_TARGET, b"not json") == "SerializationException"
    assert code("AmazonSSM.PutParameter", {"Name": "top"}) == "UnknownOperationException"
    # an ARN must be of the service and of the signing region
    assert code(SSM_TARGET, {"Name": ssm_arn("top", region="eu-west-1")}) == \
        "ValidationException"
    assert code(SSM_TARGET, {"Name": ssm_arn("top", region="eu-west-1")},
                region="eu-west-1") is None


# --- running parity-init -------------------------------------------------------------------------
@pytest.fixture
def parity(spawn, init_cmd, tmp_path, keys):
    """parity(env, opts=(), log_format=None, child=None) runs parity-init --platform local --root
    ROOT OPTS -- CHILD (or the argv given as child), with a minimal environment (PATH, an empty HOME, static keys, AWS_REGION, a
    termination log under tmp_path) plus env. Returns the Result; CHILD prints its environment
    as JSON and touches tmp_path/child-ran."""
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "ml"
    (root / "output").mkdir(parents=True)

    def run(env, opts=(), log_format=None, child=None):
        argv = [*init_cmd, "--platform", "local", "--root", root, *opts]
        if log_format:
            argv += ["--log-format", log_format]
        argv += ["--", *(child or [PY, "-c", CHILD, tmp_path / "child-ran"])]
        full = base_env({"HOME": str(home), "AWS_ACCESS_KEY_ID": keys[0],
                         "AWS_SECRET_ACCESS_KEY": keys[1], "AWS_REGION": REGION,
                         "PARITY_TERMINATION_LOG": str(tmp_path / "termination-log"), **env})
        return spawn(argv, env=full, log_format=log_format or "text").wait(timeout=EXIT_TIMEOUT)

    return run


def endpoints(fake):
    return {"AWS_ENDPOINT_URL_SSM": fake.url, "AWS_ENDPOINT_URL_SECRETS_MANAGER": fake.url}


def child_env(r, tmp_path):
    assert r.returncode == 0, r
    assert (tmp_path / "child-ran").exists(), f"the child did not run:\n{r}"
    return json.loads(r.out_lines()[-1])


def asked_id(rec):
    """The Name or SecretId a logged request asked for."""
    params = rec.get("params") or {}
    return params.get("Name", params.get("SecretId"))


def boot_failure(r, tmp_path):
    """Exit 125 before the child ran; returns the failure file's text (also the termination
    log's)."""
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert not (tmp_path / "child-ran").exists(), f"the child ran:\n{r}"
    text = (tmp_path / "ml" / "output" / "failure").read_text()
    assert text.startswith("parity-init: "), text
    assert (tmp_path / "termination-log").read_text() == text
    return text


def done_line(r, log_format="text"):
    """parity-init's `secrets: done` log record."""
    found = [rec for rec in r.logs(log_format)
             if rec["phase"] == "secrets" and (rec["msg"] or "").startswith("done")]
    assert len(found) == 1, f"expected one `secrets: done` line:\n{r}"
    return found[0]


# --- 2. resolution -------------------------------------------------------------------------------
def test_references_are_replaced_by_their_values(parity, awsjson, keys, tmp_path):
    db = secret_arn("prod/db")
    api = secret_arn("api-token")
    fields = {"user": "admin", "port": 5432, "tls": True, "ratio": 0.25,
              "nested": {"hosts": ["a", "b"], "n": 1}, "quoted": 'p\u00e4ss "q"\n'}
    multiline = "line 1\nline 2 = \u00fc\t$HOME"
    api_token = token("api")
    data = {"parameters": {"/app/db/password": {"value": multiline, "type": "SecureString"},
                           "plain-name": {"value": "plain-value"},
                           "/app/hosts": {"value": "h1,h2,h3", "type": "StringList"}},
            "secrets": {db: {"string": json.dumps(fields)}, api: {"string": api_token}}}
    fake = awsjson(data)
    not_refs = {"ROLE": f"arn:aws:iam::{ACCOUNT}:role/r", "BUCKET": "arn:aws:s3:::bucket",
                "SENTENCE": "see " + ssm_arn("plain-name"), "NOT_ARN": "plain-name"}
    refs = {"DB_PASSWORD": ssm_arn("/app/db/password"), "PLAIN": ssm_arn("plain-name"),
            "HOSTS": ssm_arn("/app/hosts"), "API_TOKEN": api, "DB_JSON": db,
            "DB_USER": db + "#user", "DB_PORT": db + "#port", "DB_TLS": db + "#tls",
            "DB_RATIO": db + "#ratio", "DB_NESTED": db + "#nested", "DB_QUOTED": db + "#quoted"}
    env = child_env(parity({**endpoints(fake), **refs, **not_refs}), tmp_path)
    assert env["DB_PASSWORD"] == multiline
    assert env["PLAIN"] == "plain-value"
    assert env["HOSTS"] == "h1,h2,h3"
    assert env["API_TOKEN"] == api_token
    assert env["DB_JSON"] == json.dumps(fields)  # the SecretString verbatim
    assert env["DB_USER"] == "admin"
    assert env["DB_QUOTED"] == 'p\u00e4ss "q"\n'  # a JSON string, unescaped
    assert env["DB_PORT"] == "5432"
    assert env["DB_TLS"] == "true"
    assert json.loads(env["DB_RATIO"]) == 0.25
    assert json.loads(env["DB_NESTED"]) == fields["nested"]
    assert not re.search(r"\s", env["DB_NESTED"]), f"not compact JSON: {env['DB_NESTED']!r}"
    for name, value in not_refs.items():
        assert env[name] == value, f"{name} is not a reference and must stay as it was"
    # what parity asked: the ARN as Name with decryption; the ARN without #key as SecretId
    params = [r["params"] for r in fake.records("GetParameter")]
    assert {p["Name"] for p in params} == {refs["DB_PASSWORD"], refs["PLAIN"], refs["HOSTS"]}
    assert all(p.get("WithDecryption") is True for p in params), params
    assert set(fake.asked("GetSecretValue")) == {db, api}
    for rec in fake.records():
        assert rec["status"] == 200, rec
        assert (rec.get("signed_by"), rec.get("region")) == (keys[0], REGION), rec


def test_each_reference_is_signed_for_its_own_region(parity, awsjson, keys, tmp_path):
    eu_param = ssm_arn("/eu/param", region="eu-west-1")
    ap_secret = secret_arn("ap-secret", region="ap-southeast-2")
    cn_param = ssm_arn("/cn/param", region="cn-north-1", partition="aws-cn")
    data = {"parameters": {eu_param: {"value": "from-eu"}, cn_param: {"value": "from-cn"}},
            "secrets": {ap_secret: {"string": '{"k": "from-ap"}'}}}
    fake = awsjson(data)
    env = child_env(parity({**endpoints(fake), "EU": eu_param, "AP": ap_secret + "#k",
                            "CN": cn_param}), tmp_path)
    assert (env["EU"], env["AP"], env["CN"]) == ("from-eu", "from-ap", "from-cn")
    regions = {(r["operation"], r.get("region")) for r in fake.records() if r["status"] == 200}
    assert regions == {("GetParameter", "eu-west-1"), ("GetSecretValue", "ap-southeast-2"),
                       ("GetParameter", "cn-north-1")}, fake.records()
    services = {(r["operation"], r.get("service")) for r in fake.records()}
    assert services == {("GetParameter", "ssm"), ("GetSecretValue", "secretsmanager")}


@pytest.mark.parametrize("layout", ["both-specific", "ssm-specific", "secrets-specific",
                                    "general-only"])
def test_endpoint_variables_take_precedence(parity, awsjson, tmp_path, layout):
    param, secret = ssm_arn("/p"), secret_arn("s")

    def served(tag):
        return awsjson({"parameters": {"/p": {"value": f"param-from-{tag}"}},
                        "secrets": {secret: {"string": f"secret-from-{tag}"}}})

    ssm_fake, sm_fake, general = served("ssm"), served("sm"), served("general")
    env = {"AWS_ENDPOINT_URL": general.url}
    if layout in ("both-specific", "ssm-specific"):
        env["AWS_ENDPOINT_URL_SSM"] = ssm_fake.url
    if layout in ("both-specific", "secrets-specific"):
        env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sm_fake.url
    want_ssm = "ssm" if "AWS_ENDPOINT_URL_SSM" in env else "general"
    want_sm = "sm" if "AWS_ENDPOINT_URL_SECRETS_MANAGER" in env else "general"
    got = child_env(parity({**env, "P": param, "S": secret}), tmp_path)
    assert got["P"] == f"param-from-{want_ssm}"
    assert got["S"] == f"secret-from-{want_sm}"
    fakes = {"ssm": ssm_fake, "sm": sm_fake, "general": general}
    for tag, fake in fakes.items():
        ops = {r["operation"] for r in fake.records()}
        want = {op for op, where in (("GetParameter", want_ssm), ("GetSecretValue", want_sm))
                if where == tag}
        assert ops == want, f"{tag} fake served {ops}, expected {want}"


def test_secrets_off_leaves_values_and_asks_nothing(parity, awsjson, tmp_path):
    secret = secret_arn("s")
    fake = awsjson({"parameters": {"/p": {"value": "resolved"}},
                    "secrets": {secret: {"string": '{"k": "resolved"}'}}})
    refs = {"P": ssm_arn("/p"), "S": secret + "#k",
            "BROKEN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/"}
    env = child_env(parity({**endpoints(fake), **refs, "PARITY_SECRETS": "off"}), tmp_path)
    for name, value in refs.items():
        assert env[name] == value
    assert fake.snapshot()["counters"]["requests"] == 0
    assert fake.records() == []


# --- 3. failures ---------------------------------------------------------------------------------
FAILURES = {
    # case: (reference, AWS error code or None)
    "unknown-parameter": (lambda d: ssm_arn("/missing/param"), "ParameterNotFound"),
    "unknown-secret": (lambda d: secret_arn("missing"), "ResourceNotFoundException"),
    "denied-parameter": (lambda d: ssm_arn("/denied"), "AccessDeniedException"),
    "denied-secret": (lambda d: d["denied_secret"], "AccessDeniedException"),
    "missing-json-key": (lambda d: d["json_secret"] + "#no_such_key", None),
    "secret-not-json": (lambda d: d["text_secret"] + "#user", None),
    "binary-only-secret": (lambda d: d["binary_secret"], None),
    "empty-parameter-name": (lambda d: f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/", None),
    "empty-secret-name": (lambda d: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:", None),
    "empty-json-key": (lambda d: d["json_secret"] + "#", None),
    "short-account": (lambda d: f"arn:aws:ssm:{REGION}:12345:parameter/good", None),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_unresolvable_reference_stops_the_boot(parity, awsjson, keys, tmp_path, case):
    values = {"good": token("good"), "user": token("user"), "password": token("password"),
              "text": token("text")}
    arns = {"json_secret": secret_arn("json"), "text_secret": secret_arn("text"),
            "binary_secret": secret_arn("binary"), "denied_secret": secret_arn("denied")}
    good = ssm_arn("/good")
    data = {"parameters": {"/good": {"value": values["good"], "type": "SecureString"},
                           "/denied": {"value": token("denied")}},
            "secrets": {arns["json_secret"]: {"string": json.dumps(
                            {"user": values["user"], "password": values["password"]})},
                        arns["text_secret"]: {"string": values["text"]},
                        arns["binary_secret"]: {"binary": base64.b64encode(b"k\0").decode()},
                        arns["denied_secret"]: {"string": token("denied")}}}
    fake = awsjson(data, deny=[ssm_arn("/denied"), arns["denied_secret"]])
    make_ref, code = FAILURES[case]
    ref = make_ref(arns)
    var = "TEST_BROKEN_REF"
    r = parity({**endpoints(fake), "GOOD_REF": good, var: ref, "PARITY_LOG_LEVEL": "debug"})
    text = boot_failure(r, tmp_path)
    arn = ref.split("#", 1)[0]
    assert var in r.err and arn in r.err, f"stderr must name {var} and {arn}:\n{r}"
    assert var in text, text
    if code:
        assert code in r.err, f"stderr must name the AWS error code {code}:\n{r}"
        assert code in text, text
        refused = [rec for rec in fake.records() if rec.get("error") == code]
        assert any(asked_id(rec) == arn for rec in refused), \
            f"no request for {arn} was refused with {code}: {fake.records()}"
    for value in [*values.values(), keys[1]]:
        assert value not in r.err, f"a secret value ({value[:8]}...) is on stderr"
        assert value not in text, f"a secret value ({value[:8]}...) is in the failure file"


@pytest.mark.parametrize("operation", ["GetParameter", "GetSecretValue"])
@pytest.mark.parametrize("fault", [
    {"type": "throttle", "count": 2},
    {"type": "status", "status": 500, "code": "InternalServerError", "count": 2},
], ids=["throttle", "500"])
def test_throttling_and_server_errors_are_retried(parity, awsjson, tmp_path, operation, fault):
    secret = secret_arn("s")
    fake = awsjson({"parameters": {"/p": {"value": "param-value"}},
                    "secrets": {secret: {"string": "secret-value"}}})
    fake.control(faults=[dict(fault, operation=operation)])
    env = child_env(parity({**endpoints(fake), "P": ssm_arn("/p"), "S": secret}), tmp_path)
    assert (env["P"], env["S"]) == ("param-value", "secret-value")
    recs = fake.records(operation)
    assert [r["status"] for r in recs] == [fault.get("status", 400)] * 2 + [200], recs
    assert [(r["fault"] or {}).get("type") for r in recs] == [fault["type"]] * 2 + [None]


# --- 4. logs -------------------------------------------------------------------------------------
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_values_never_reach_the_log_and_done_names_the_variables(parity, awsjson, keys,
                                                                  tmp_path, log_format):
    secret = secret_arn("app")
    values = {"pw": token("pw"), "api": token("api"), "whole": token("whole"),
              "field": token("field")}
    fake = awsjson({"parameters": {"/app/pw": {"value": values["pw"], "type": "SecureString"},
                                   "api": {"value": values["api"]}},
                    "secrets": {secret: {"string": json.dumps({"field": values["field"],
                                                               "other": values["whole"]})}}})
    refs = {"APP_PASSWORD": ssm_arn("/app/pw"), "APP_API_KEY": ssm_arn("api"),
            "APP_FIELD": secret + "#field", "APP_WHOLE": secret}
    r = parity({**endpoints(fake), **refs, "PARITY_LOG_LEVEL": "debug", "UNRELATED": "x"},
               log_format=log_format)
    env = child_env(r, tmp_path)
    assert env["APP_PASSWORD"] == values["pw"] and env["APP_FIELD"] == values["field"]
    assert any(rec["level"] == "debug" for rec in r.logs()), "not a debug-level run"
    for value in [*values.values(), keys[1], json.loads(env["APP_WHOLE"])["other"]]:
        assert value not in r.err, f"a secret value ({value[:8]}...) is on parity's stderr"
    done = done_line(r, log_format)
    for name in refs:
        assert name in done["raw"], f"`secrets: done` does not name {name}: {done['raw']}"
    assert "UNRELATED" not in done["raw"], done["raw"]


# --- the runtime config's remote layer from SSM and Secrets Manager ------------------------------
@pytest.mark.parametrize("where", ["ssm", "secret-field"])
def test_remote_config_from_an_arn(parity, awsjson, tmp_path, where):
    """PARITY_CONFIG_URI may name a parameter, or a JSON field of a secret, holding the remote
    config: fetched with parity-init's credentials, laid over the image config."""
    image = tmp_path / "image.json"
    image.write_text(json.dumps({"umask": "0022", "user": "root"}))
    remote = json.dumps({"umask": "0077"})
    config_secret = secret_arn("ml-config")
    fake = awsjson({"parameters": {"/ml/parity-config": {"value": remote}},
                    "secrets": {config_secret: {"string": json.dumps({"config": remote})}}})
    uri = ssm_arn("ml/parity-config") if where == "ssm" else config_secret + "#config"
    r = parity({**endpoints(fake), "PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": uri},
               child=["sh", "-c", "umask"])
    assert r.returncode == 0, r
    assert r.out.strip() == "0077", r
    # PARITY_* variables are parity-init's settings, not secret references: the URI reaches
    # the config phase (and the child) as written
    assert "secrets: done" in r.err and "PARITY_CONFIG_URI" not in done_line(r)["fields"].get(
        "vars", ""), r
    r = parity({**endpoints(fake), "PARITY_IMAGE_CONFIG": str(image),
                "PARITY_CONFIG_URI": ssm_arn("ml/missing"), "PARITY_LOG_LEVEL": "error"},
               child=["sh", "-c", "umask"])
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert "PARITY_CONFIG_URI" in r.err and "ParameterNotFound" in r.err, r


def test_a_bad_parity_secrets_value_is_a_clear_error(parity, awsjson, tmp_path):
    fake = awsjson({"parameters": {"/x": {"value": "v"}}, "secrets": {}})
    r = parity({**endpoints(fake), "REF": ssm_arn("/x"), "PARITY_SECRETS": "maybe",
                "PARITY_LOG_LEVEL": "error"})
    boot_failure(r, tmp_path)
    assert "PARITY_SECRETS must be on or off, not 'maybe'" in r.err, r
    assert fake.records() == [], "nothing was asked"

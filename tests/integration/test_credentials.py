# SPDX-License-Identifier: MIT
"""Black-box tests of parity-init's AWS credentials (docs/credentials.md): every source the
platforms use (static keys, SageMaker/ECS and EKS Pod Identity container credentials, IRSA web
identity, IMDSv2, role chaining), served to unmodified SDKs (Debian's boto3 and AWS CLI, the JS
SDK v3) through parity's loopback endpoint, and proven by signed S3 calls to an S3 that verifies
SigV4 (@20minutes/s3rver through tests/servers/s3.js). Also: the endpoint itself, refresh and
rotation, credential_process, failures, passthrough/off, secrets, signals during a hung refresh,
and a minutes-long job (marked slow).

The upstream services are the loopback fakes in tests/servers/, which log every request and
take faults through POST /_control. Everything listens on 127.0.0.1. Runs where a bug could make
parity-init reach a link-local AWS address (169.254.x.x) run in a private network namespace
that has only loopback, so no packet can leave the machine.

Nothing here waits on time: tests wait for readiness lines, log records and exits, with generous
bounds. The long-job test runs for minutes by its nature.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from conftest import BUCKET, EXIT_TIMEOUT, READY_TIMEOUT, SERVERS, base_env, wait_until

CLIENTS = SERVERS / "clients"
sys.path.insert(0, str(SERVERS))
import common  # noqa: E402  (tests/servers/common.py: the fakes' key derivation)

PY = "/usr/bin/python3"  # Debian's, with python3-boto3 (botocore 1.29)
AWS_CLI = "/usr/bin/aws"  # Debian's awscli 2.9; the pyenv one on PATH is another program
EXIT_BOOT_FAILURE = 125
ENDPOINT_PATH = "/parity/credentials"
ENDPOINT_URI = re.compile(r"^http://127\.0\.0\.1:(\d+)/parity/credentials$")
ENDPOINT_TOKEN = re.compile(r"^[0-9a-f]{64}$")
EXPIRATION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
# Everything parity consumes must be gone from the child's environment.
CONSUMED = ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "PARITY_ASSUME_ROLE_ARN", "PARITY_ASSUME_ROLE_EXTERNAL_ID",
            "PARITY_ASSUME_ROLE_SESSION_NAME", "PARITY_ASSUME_ROLE_DURATION_SECONDS")
ROLE_ARN = "arn:aws:iam::123456789012:role/parity-role"
CHAINED_ROLE_ARN = "arn:aws:iam::210987654321:role/parity-chained"
# A short first-fetch budget for the runs that are meant to fail.
FAIL_FAST = {"PARITY_CREDENTIALS_TIMEOUT_SECONDS": "4"}

# --- fakes ---------------------------------------------------------------------------------------
# --- running parity-init -------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path):
    """An empty HOME (no ~/.aws), with the AWS CLI set to path-style S3."""
    h = tmp_path / "home"
    (h / ".aws").mkdir(parents=True)
    (h / ".aws" / "config").write_text("[default]\ns3 =\n    addressing_style = path\n")
    return h


@pytest.fixture(scope="session")
def netns():
    """A prefix running a command in a fresh network namespace with only loopback up: parity's
    own endpoint works, and a connection to 169.254.x.x fails at once without a packet out."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs root, unshare and ip for a private network namespace")
    prefix = ["unshare", "--net", "/bin/sh", "-c", 'ip link set lo up && exec "$@"', "netns"]
    if subprocess.run([*prefix, "true"], timeout=EXIT_TIMEOUT).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    return prefix


@pytest.fixture
def parity(spawn, init_cmd, tmp_path, home):
    """parity(command, env, opts=(), prefix=(), wait=True) runs
    PREFIX parity-init --platform local --root ROOT OPTS -- COMMAND with a minimal environment
    (PATH, HOME) plus env; returns the Result (or the Spawned when not wait)."""

    def run(command, env=None, opts=(), prefix=(), wait=True, timeout=EXIT_TIMEOUT):
        root = tmp_path / "ml"
        argv = [*prefix, *init_cmd, "--platform", "local", "--root", root, *opts, "--", *command]
        full_env = base_env({"HOME": str(home), **(env or {})})
        proc = spawn(argv, env=full_env, log_format="text")
        return proc.wait(timeout=timeout) if wait else proc

    return run


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def event(result_or_text, name):
    text = result_or_text if isinstance(result_or_text, str) else result_or_text.out
    found = [r for r in json_lines(text) if r.get("event") == name]
    assert found, f"no {name!r} line from the child:\n{result_or_text}"
    return found


def parse_time(text):
    stamp = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    return stamp.replace(tzinfo=timezone.utc).timestamp()


# --- sources -------------------------------------------------------------------------------------
class Source:
    """A platform's way of providing credentials: the environment parity-init starts with, the
    fake that issues the keys, and the secrets that must never show up in parity's output."""

    def __init__(self, name, env, fake=None, keys=None, secrets=(), sts=None):
        self.name = name
        self.env = env
        self.fake = fake  # the fake whose issued keys the child must end up with
        self.static = keys  # (ak, secret) for static keys
        self.sts = sts
        self.secrets = list(secrets)

    def issued_keys(self):
        if self.fake is None:
            return [self.static[0]]
        return [c["AccessKeyId"] for c in self.fake.issued()]

    def all_secrets(self):
        """Every secret value involved: the platform's tokens and every key set issued."""
        out = list(self.secrets)
        if self.static:
            out.append(self.static[1])
        for fake in (self.fake, self.sts):
            if fake is not None:
                for c in fake.issued():
                    out += [c["SecretAccessKey"], c["Token"]]
        return [s for s in out if s]


def make_source(name, fakes, tmp_path):
    token = "tok-" + uuid.uuid4().hex  # the platform's secrets
    if name == "static":
        ak, sk = common.static_keys()
        return Source(name, {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
                             "AWS_REGION": "eu-north-1"}, keys=(ak, sk))
    if name == "sagemaker":
        path = f"/v2/credentials/{uuid.uuid4()}"
        fake = fakes("container_creds", "--token", token, "--path", path)
        return Source(name, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + path,
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
                             "AWS_DEFAULT_REGION": "eu-west-1"}, fake=fake, secrets=[token])
    if name == "pod-identity":
        token_file = tmp_path / "eks-pod-identity-token"
        token_file.write_text(token + "\n")  # parity strips the newline (the SDKs choke on it)
        fake = fakes("container_creds", "--token-file", str(token_file), "--nanos")
        return Source(name, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
                             "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-2"},
                      fake=fake, secrets=[token])
    if name == "irsa":
        token_file = tmp_path / "irsa-token"
        token_file.write_text(token)
        fake = fakes("sts", "--token-file", str(token_file), "--role-arn", ROLE_ARN)
        return Source(name, {"AWS_ROLE_ARN": ROLE_ARN,
                             "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                             "AWS_ENDPOINT_URL_STS": fake.url,
                             "AWS_STS_REGIONAL_ENDPOINTS": "regional",
                             "AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1"},
                      fake=fake, secrets=[token])
    if name == "imds":
        fake = fakes("imds", "--region", "ap-southeast-2")
        return Source(name, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url + "/",
                             "PARITY_CREDENTIALS_IMDS": "1"}, fake=fake)
    if name == "chained":
        ak, sk = common.static_keys()
        sts = fakes("sts", "--region", "eu-central-1", "--role-arn", CHAINED_ROLE_ARN,
                    "--external-id", "ext-42")
        return Source(name, {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
                             "AWS_REGION": "eu-central-1", "AWS_ENDPOINT_URL_STS": sts.url,
                             "PARITY_ASSUME_ROLE_ARN": CHAINED_ROLE_ARN,
                             "PARITY_ASSUME_ROLE_EXTERNAL_ID": "ext-42"},
                      fake=sts, keys=(ak, sk), secrets=[sk], sts=None)
    raise ValueError(name)


SOURCES = ["static", "sagemaker", "pod-identity", "irsa", "imds", "chained"]
EXPECTED_REGION = {"static": "eu-north-1", "sagemaker": "eu-west-1", "pod-identity": "us-west-2",
                   "irsa": "eu-central-1", "imds": "ap-southeast-2", "chained": "eu-central-1"}


def child_command(client, s3, prefix, tmp_path, node_modules=None, loop=None):
    """(command, extra env) for one SDK child making signed S3 calls under prefix."""
    loop_args = ["--loop", str(loop)] if loop else []
    if client == "boto3":
        return [PY, CLIENTS / "boto3_s3.py", s3.url, BUCKET, prefix, *loop_args], {}
    if client == "js":
        return (["node", CLIENTS / "sdk_s3.js", s3.url, BUCKET, prefix, *loop_args],
                {"NODE_PATH": str(node_modules)})
    if client == "awscli":
        work = tmp_path / "cli-work"
        work.mkdir(exist_ok=True)
        return ["/bin/sh", CLIENTS / "awscli_s3.sh", s3.url, BUCKET, prefix, work], {}
    raise ValueError(client)


def child_result(client, result):
    """(access key the child used, its credential method, its AWS_* environment or None)."""
    if client == "awscli":
        fields = dict(line.split("=", 1) for line in result.out_lines() if "=" in line)
        return fields.get("access_key"), fields.get("method"), None, fields
    start = event(result, "start")[0]
    done = event(result, "done")[-1]
    assert done["ok"], f"the {client} child's S3 calls failed:\n{result}"
    return start["access_key"], start["method"], start["env"], done


def assert_endpoint_env(env, region):
    """The child was pointed at parity's endpoint, and nothing else."""
    assert ENDPOINT_URI.match(env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")), env
    assert ENDPOINT_TOKEN.match(env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")), env
    for name in CONSUMED:
        assert name not in env, f"{name} reached the child"
    assert env.get("AWS_REGION") == region, env
    assert env.get("AWS_DEFAULT_REGION") == region, env


def assert_signed_by(s3, prefix, keys):
    """Every S3 request under prefix was signed with one of keys and succeeded."""
    recs = s3.records(prefix)
    assert recs, "the child made no S3 request"
    for r in recs:
        assert r["access_key"] in keys, f"S3 request signed by {r['access_key']}, not {keys}: {r}"
        assert r["status"] == 200, r


def probe_env(parity, command_env=None, **kw):
    """Runs parity-init with env and a Python child printing its environment as JSON."""
    r = parity([PY, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
               env=command_env, **kw)
    return r


def child_env_of(result):
    return json.loads(result.out_lines()[-1])


# --- 1. the fakes themselves, checked with boto3 directly ---------------------------------------
def test_fake_container_credentials_serve_botocore(fakes):
    from botocore.credentials import ContainerProvider
    fake = fakes("container_creds", "--token", "sm-token", "--lifetime", "60")
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "sm-token"}
    first = ContainerProvider(environ=env).load()
    frozen = first.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIAPARITY")
    assert frozen.secret_key == common.secret_for(frozen.access_key)
    assert common.check_session_token(frozen.access_key, frozen.token) is None
    second = ContainerProvider(environ=env).load().get_frozen_credentials()
    assert second.access_key != frozen.access_key, "keys rotate at every issue"
    for headers, status in (({}, 401), ({"Authorization": "nope"}, 403)):
        req = Request(fake.url + "/v1/credentials", headers=headers)
        with pytest.raises(Exception) as e:
            urlopen(req, timeout=READY_TIMEOUT)
        assert e.value.code == status


def test_fake_pod_identity_reads_token_file_and_sends_nanoseconds(fakes, tmp_path):
    from botocore.credentials import ContainerProvider
    token_file = tmp_path / "token"
    token_file.write_text("jwt-1\n")
    fake = fakes("container_creds", "--token-file", str(token_file), "--nanos")
    with urlopen(Request(fake.url + "/v1/credentials", headers={"Authorization": "jwt-1"}),
                 timeout=READY_TIMEOUT) as resp:
        doc = json.loads(resp.read())
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", doc["Expiration"]), doc
    assert doc["AccountId"] == "123456789012"
    token_file.write_text("jwt-2")  # rotated: the old token is refused
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/v1/credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "jwt-2"}
    assert ContainerProvider(environ=env).load().get_frozen_credentials().access_key
    with pytest.raises(Exception) as e:
        urlopen(Request(fake.url + "/v1/credentials", headers={"Authorization": "jwt-1"}),
                timeout=READY_TIMEOUT)
    assert e.value.code == 403


def sts_client(fake, **kw):
    import boto3
    from botocore.config import Config
    return boto3.client("sts", endpoint_url=fake.url, region_name="eu-central-1",
                        config=Config(retries={"max_attempts": 1}), **kw)


def test_fake_sts_web_identity_with_boto3(fakes, tmp_path):
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import ClientError
    token_file = tmp_path / "token"
    token_file.write_text("eyJhbGciOi.web.identity")
    fake = fakes("sts", "--token-file", str(token_file), "--role-arn", ROLE_ARN, "--lifetime", "90")
    import boto3
    client = boto3.client("sts", endpoint_url=fake.url, region_name="eu-central-1",
                          config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    resp = client.assume_role_with_web_identity(RoleArn=ROLE_ARN, RoleSessionName="parity-x",
                                                WebIdentityToken="eyJhbGciOi.web.identity")
    creds = resp["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIAPARITY")
    left = creds["Expiration"].timestamp() - time.time()
    assert 60 < left <= 91, left
    assert resp["AssumedRoleUser"]["Arn"].endswith(":assumed-role/parity-role/parity-x")
    with pytest.raises(ClientError) as e:
        client.assume_role_with_web_identity(RoleArn=ROLE_ARN, RoleSessionName="parity-x",
                                             WebIdentityToken="stale")
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_fake_sts_assume_role_verifies_sigv4(fakes):
    from botocore.exceptions import ClientError
    fake = fakes("sts", "--region", "eu-central-1")
    base, _ = common.issue_credentials(600)
    ok = sts_client(fake, aws_access_key_id=base["AccessKeyId"],
                    aws_secret_access_key=base["SecretAccessKey"],
                    aws_session_token=base["Token"])
    resp = ok.assume_role(RoleArn=CHAINED_ROLE_ARN, RoleSessionName="chained", ExternalId="ext-1")
    assert resp["Credentials"]["AccessKeyId"].startswith("ASIAPARITY")
    assert fake.records()[-1]["signed_by"] == base["AccessKeyId"]

    def code(**kw):
        with pytest.raises(ClientError) as e:
            sts_client(fake, **kw).assume_role(RoleArn=CHAINED_ROLE_ARN, RoleSessionName="cc")
        return e.value.response["Error"]["Code"]

    assert code(aws_access_key_id=base["AccessKeyId"], aws_secret_access_key="x" * 40,
                aws_session_token=base["Token"]) == "SignatureDoesNotMatch"
    assert code(aws_access_key_id=base["AccessKeyId"],
                aws_secret_access_key=base["SecretAccessKey"],
                aws_session_token="forged") == "InvalidClientTokenId"
    expired, _ = common.issue_credentials(-10)
    assert code(aws_access_key_id=expired["AccessKeyId"],
                aws_secret_access_key=expired["SecretAccessKey"],
                aws_session_token=expired["Token"]) == "ExpiredToken"
    with pytest.raises(ClientError) as e:  # role chaining: one hour at most
        ok.assume_role(RoleArn=CHAINED_ROLE_ARN, RoleSessionName="cc", DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    # a static key with the wrong secret in the fake's table; then the right one
    ak, sk = common.static_keys()
    fake.control(static_keys={ak: "not-" + sk})
    assert code(aws_access_key_id=ak, aws_secret_access_key=sk) == "SignatureDoesNotMatch"
    fake.control(static_keys={ak: sk})
    sts_client(fake, aws_access_key_id=ak, aws_secret_access_key=sk).assume_role(
        RoleArn=CHAINED_ROLE_ARN, RoleSessionName="cc", DurationSeconds=7200)


def test_fake_sts_rejects_a_tampered_body(fakes):
    """A captured, correctly signed request replayed with one byte changed is refused."""
    fake = fakes("sts")
    base, _ = common.issue_credentials(600)
    client = sts_client(fake, aws_access_key_id=base["AccessKeyId"],
                        aws_secret_access_key=base["SecretAccessKey"],
                        aws_session_token=base["Token"])
    client.assume_role(RoleArn=CHAINED_ROLE_ARN, RoleSessionName="tamper")
    rec = fake.records()[-1]
    headers = {k: v for k, v in rec["headers"].items() if k.lower() not in ("content-length",)}
    for body, status in ((rec["body"], 200), (rec["body"].replace("tamper", "tampeR"), 403)):
        req = Request(fake.url + "/", data=body.encode(), headers=headers, method="POST")
        try:
            with urlopen(req, timeout=READY_TIMEOUT) as resp:
                got = resp.status
        except Exception as e:  # HTTPError
            got = e.code
        assert got == status, (body, got)


def test_fake_imds_with_botocore(fakes):
    from botocore.credentials import InstanceMetadataProvider
    from botocore.utils import InstanceMetadataFetcher
    fake = fakes("imds", "--region", "ap-southeast-2", "--lifetime", "120")
    fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=1,
                                      base_url=fake.url)
    creds = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
    assert creds.get_frozen_credentials().access_key.startswith("ASIAPARITY")
    paths = [(r["method"], r["path"], r["status"]) for r in fake.records()]
    assert ("PUT", "/latest/api/token", 200) in paths
    assert ("GET", "/latest/meta-data/iam/security-credentials/parity-instance-role", 200) in paths
    with pytest.raises(Exception) as e:  # IMDSv2 only
        urlopen(fake.url + "/latest/meta-data/placement/region", timeout=READY_TIMEOUT)
    assert e.value.code == 401


def raw_get(url, headers=None):
    """(status, body) or (None, error text) for one GET, never raising."""
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=READY_TIMEOUT)
    try:
        conn.request("GET", u.path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def test_fake_faults(fakes, tmp_path):
    fake = fakes("container_creds", "--token", "t")
    url, auth = fake.url + "/v1/credentials", {"Authorization": "t"}
    fake.control(faults=[{"type": "status", "status": 500, "count": 2},
                         {"type": "throttle", "count": 1},
                         {"type": "malformed", "count": 1},
                         {"type": "truncate", "count": 1},
                         {"type": "close", "count": 1},
                         {"type": "lifetime", "seconds": -30, "count": 1}])
    assert raw_get(url, auth)[0] == 500
    assert raw_get(url, auth)[0] == 500
    status, body = raw_get(url, auth)
    assert status == 400 and b"ThrottlingException" in body
    status, body = raw_get(url, auth)
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    status, body = raw_get(url, auth)
    assert status is None and "IncompleteRead" in body, body
    assert raw_get(url, auth)[0] is None
    status, body = raw_get(url, auth)
    doc = json.loads(body)
    assert parse_time(doc["Expiration"]) < time.time()
    assert common.check_session_token(doc["AccessKeyId"], doc["Token"]) == "ExpiredToken"
    assert raw_get(url, auth)[0] == 200  # all used up
    # hang until released by the next control change; the log says when it started
    fake.control(faults=[{"type": "hang", "seconds": None}])
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(r=raw_get(url, auth)))
    t.start()
    fake.wait_records(lambda recs: any(r.get("event") == "hang_start" for r in recs))
    assert fake.snapshot()["counters"]["hanging"] == 1
    fake.control(faults=[])
    t.join(READY_TIMEOUT)
    assert result["r"][0] is None
    assert any(r.get("why") == "released" for r in fake.records())
    # a window of failures that starts at the first request it hits
    fake.control(faults=[{"type": "status", "status": 503, "for_seconds": 0.5}])
    assert raw_get(url, auth)[0] == 503
    assert wait_until(lambda: raw_get(url, auth)[0] == 200, READY_TIMEOUT)
    # the control file does what POST /_control does
    control = tmp_path / "control.json"
    fake2 = fakes("container_creds", "--token", "t", "--control-file", str(control))
    control.write_text(json.dumps({"faults": [{"type": "status", "status": 502, "count": 1}]}))
    assert raw_get(fake2.url + "/v1/credentials", auth)[0] == 502
    assert raw_get(fake2.url + "/v1/credentials", auth)[0] == 200


def test_s3_fake_verifies_signatures_and_tokens(s3, boto3_available):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    def client(ak, sk, tok=None):
        return boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1",
                            aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=tok,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    good, _ = common.issue_credentials(300)
    c = client(good["AccessKeyId"], good["SecretAccessKey"], good["Token"])
    c.put_object(Bucket=BUCKET, Key="fake-check/a b+c", Body=b"x")
    assert c.get_object(Bucket=BUCKET, Key="fake-check/a b+c")["Body"].read() == b"x"
    expired, _ = common.issue_credentials(-5)
    other, _ = common.issue_credentials(300)
    for args, code in (((good["AccessKeyId"], "x" * 40, good["Token"]), "SignatureDoesNotMatch"),
                       ((good["AccessKeyId"], good["SecretAccessKey"], other["Token"]),
                        "InvalidToken"),
                       ((expired["AccessKeyId"], expired["SecretAccessKey"], expired["Token"]),
                        "ExpiredToken"),
                       (("AKIAUNKNOWNKEY000000", "x" * 40), "InvalidAccessKeyId")):
        with pytest.raises(ClientError) as e:
            client(*args).list_objects_v2(Bucket=BUCKET, Prefix="fake-check")
        assert e.value.response["Error"]["Code"] == code


# --- 2. every source, every SDK ------------------------------------------------------------------
@pytest.mark.parametrize("client", ["boto3", "awscli", "js"])
@pytest.mark.parametrize("source_name", SOURCES)
def test_sdk_child_uses_parity_endpoint(request, parity, fakes, s3, prefix, tmp_path,
                                        node_modules, source_name, client):
    source = make_source(source_name, fakes, tmp_path)
    command, extra = child_command(client, s3, prefix, tmp_path, node_modules)
    r = parity(command, env={**source.env, **extra})
    assert r.returncode == 0, r
    access_key, method, env, _ = child_result(client, r)
    issued = source.issued_keys()
    assert access_key in issued, f"the child used {access_key}, the source issued {issued}"
    if client == "boto3":
        assert method == "container-role", r
    if client == "awscli":
        assert method == "container-role", r
        assert r.out_lines()[-2] == "content=hello from the aws cli", r
        assert r.out_lines()[-1] == "listed=cli.txt", r
    if env is not None:
        assert_endpoint_env(env, EXPECTED_REGION[source_name])
    assert_signed_by(s3, prefix, issued)


@pytest.mark.parametrize("source_name", SOURCES)
def test_child_environment_names_only_the_endpoint(request, parity, fakes, tmp_path,
                                                   source_name):
    source = make_source(source_name, fakes, tmp_path)
    r = probe_env(parity, source.env)
    assert r.returncode == 0, r
    env = child_env_of(r)
    assert_endpoint_env(env, EXPECTED_REGION[source_name])
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"):
        if name in source.env:
            assert env[name] != source.env[name], f"the platform's {name} reached the child"


def test_lower_ranked_platform_variables_are_removed_too(parity, netns, tmp_path):
    """Static keys win, yet the container variables must go as well: every SDK ranks
    RELATIVE_URI above FULL_URI, and the token file above the token, so a leftover one would
    take the child past parity's endpoint. (In a network namespace: nothing can leave.)"""
    ak, sk = common.static_keys()
    token_file = tmp_path / "pod-token"
    token_file.write_text("jwt")
    env = {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": "eu-west-1",
           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/would-bypass-parity",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)}
    r = probe_env(parity, env, prefix=netns)
    assert r.returncode == 0, r
    assert_endpoint_env(child_env_of(r), "eu-west-1")


def test_static_keys_are_served_with_one_hour_and_no_token(parity, fakes, tmp_path):
    source = make_source("static", fakes, tmp_path)
    r = parity([PY, CLIENTS / "endpoint_client.py", "shape"], env=source.env)
    assert r.returncode == 0, r
    shape = json.loads(r.out_lines()[-1])["right_token"]
    assert shape["AccessKeyId"] == source.static[0]
    left = parse_time(shape["Expiration"]) - time.time()
    assert 3300 < left <= 3600 + 5, shape


def test_static_keys_with_session_token_reach_s3(parity, s3, prefix, tmp_path):
    creds, _ = common.issue_credentials(3600)  # e.g. a developer's exported SSO session
    env = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
           "AWS_SESSION_TOKEN": creds["Token"], "AWS_DEFAULT_REGION": "eu-west-1"}
    command, _ = child_command("boto3", s3, prefix, tmp_path)
    r = parity(command, env=env)
    assert r.returncode == 0, r
    access_key, method, child, _ = child_result("boto3", r)
    assert (access_key, method) == (creds["AccessKeyId"], "container-role")
    assert_endpoint_env(child, "eu-west-1")
    assert_signed_by(s3, prefix, [creds["AccessKeyId"]])


def test_irsa_request_and_default_session_name(parity, fakes, tmp_path):
    source = make_source("irsa", fakes, tmp_path)
    job = {"apiVersion": "parity/v1", "name": "cred-job"}
    r = probe_env(parity, {**source.env, "PARITY_JOB_CONFIG": json.dumps(job)})
    assert r.returncode == 0, r
    calls = [x for x in source.fake.records() if x.get("action") == "AssumeRoleWithWebIdentity"]
    assert calls and calls[0]["status"] == 200, calls
    call = calls[0]
    assert call["method"] == "POST"
    assert "Authorization" not in call["headers"]
    assert call["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert call["params"]["RoleArn"] == ROLE_ARN
    assert call["params"]["RoleSessionName"] == "parity-cred-job"
    assert child_env_of(r)["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")


def test_irsa_session_name_from_the_environment(parity, fakes, tmp_path):
    source = make_source("irsa", fakes, tmp_path)
    r = probe_env(parity, {**source.env, "AWS_ROLE_SESSION_NAME": "my-session"})
    assert r.returncode == 0, r
    call = [x for x in source.fake.records() if x.get("issued")][0]
    assert call["params"]["RoleSessionName"] == "my-session"
    assert "AWS_ROLE_SESSION_NAME" not in child_env_of(r)


POLL_KEYS = r"""
import calendar, json, os, sys, time, urllib.request
want = int(sys.argv[1])
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                             headers={"Authorization": token})
seen = []
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            doc = json.loads(resp.read())
            status = resp.status
    except urllib.error.HTTPError as e:
        doc, status = {}, e.code
    key = doc.get("AccessKeyId")
    now = time.time()
    expired = status == 200 and calendar.timegm(
        time.strptime(doc["Expiration"][:19], "%Y-%m-%dT%H:%M:%S")) <= now - 1
    if status != 200 or key not in seen or expired:
        print(json.dumps({"status": status, "key": key, "exp": doc.get("Expiration"),
                          "now": now, "expired": expired}), flush=True)
    if status == 200 and key not in seen:
        seen.append(key)
    if len(seen) >= want or (status != 200 and "--until-error" in sys.argv):
        break
    time.sleep(0.05)  # polling pace; the bound is the deadline
print(json.dumps({"done": True, "keys": seen}), flush=True)
"""


@pytest.mark.parametrize("source_name", ["pod-identity", "irsa"])
def test_token_file_is_read_again_at_every_refresh(parity, fakes, tmp_path, source_name):
    """kubelet rotates the projected token: after the rotation, refreshes send the new one."""
    source = make_source(source_name, fakes, tmp_path)
    source.fake.control(lifetime=8)  # refresh after about 4 s
    token_file = Path(source.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
                      or source.env["AWS_WEB_IDENTITY_TOKEN_FILE"])
    proc = parity([PY, "-c", POLL_KEYS, "3", "120"], env=source.env, wait=False)
    proc.wait_line(r'"key": "ASIA')
    rotated = "rotated-" + uuid.uuid4().hex
    # as kubelet does it: the new token replaces the file in one step
    new = token_file.with_name(token_file.name + ".new")
    new.write_text(rotated + ("\n" if source_name == "pod-identity" else ""))
    os.replace(new, token_file)
    r = proc.wait(timeout=180)
    assert r.returncode == 0, r
    done = json_lines(r.out)[-1]
    assert len(done["keys"]) == 3, r
    recs = [x for x in source.fake.records() if x.get("issued")]
    if source_name == "irsa":
        tokens = [x["params"]["WebIdentityToken"] for x in recs]
    else:
        tokens = [x["headers"]["Authorization"] for x in recs]
    assert tokens[-1] == rotated, tokens
    assert all(x["status"] == 200 for x in source.fake.records() if not x.get("fault")), \
        "a refresh was refused: the old token was sent after the rotation"


def test_imds_region_and_token_flow(parity, fakes, tmp_path):
    source = make_source("imds", fakes, tmp_path)
    r = probe_env(parity, source.env)
    assert r.returncode == 0, r
    env = child_env_of(r)
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-southeast-2"
    recs = source.fake.records()
    put = [x for x in recs if x["method"] == "PUT"]
    assert put and put[0]["headers"].get("X-aws-ec2-metadata-token-ttl-seconds") == "21600", put
    assert all(x["status"] == 200 for x in recs), recs


def test_imds_endpoint_variable_alone_opts_in(parity, fakes, tmp_path):
    source = make_source("imds", fakes, tmp_path)
    env = dict(source.env)
    del env["PARITY_CREDENTIALS_IMDS"]
    r = probe_env(parity, env)
    assert r.returncode == 0, r
    assert source.fake.issued(), "AWS_EC2_METADATA_SERVICE_ENDPOINT alone did not opt in"
    assert_endpoint_env(child_env_of(r), "ap-southeast-2")


def test_imds_disabled_is_respected(parity, fakes, tmp_path):
    source = make_source("imds", fakes, tmp_path)
    env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": source.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"],
           "AWS_EC2_METADATA_DISABLED": "true"}
    r = probe_env(parity, env)
    assert r.returncode == 0, r
    assert source.fake.records() == [], "IMDS was asked although AWS_EC2_METADATA_DISABLED=true"
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in child_env_of(r)


def test_role_chaining_signs_assume_role_with_the_base_keys(parity, fakes, tmp_path):
    source = make_source("chained", fakes, tmp_path)
    env = {**source.env, "PARITY_ASSUME_ROLE_SESSION_NAME": "chain-sess"}
    r = probe_env(parity, env)
    assert r.returncode == 0, r
    call = [x for x in source.fake.records() if x.get("action") == "AssumeRole"][0]
    assert call["status"] == 200, call
    assert call["signed_by"] == source.static[0]
    assert call["params"]["RoleArn"] == CHAINED_ROLE_ARN
    assert call["params"]["ExternalId"] == "ext-42"
    assert call["params"]["RoleSessionName"] == "chain-sess"
    assert int(call["params"].get("DurationSeconds", "3600")) <= 3600
    child = child_env_of(r)
    assert_endpoint_env(child, "eu-central-1")


def test_role_chaining_on_top_of_container_credentials(parity, fakes, s3, prefix, tmp_path):
    base = make_source("sagemaker", fakes, tmp_path)
    sts = fakes("sts", "--region", "eu-west-1")
    env = {**base.env, "AWS_ENDPOINT_URL_STS": sts.url, "PARITY_ASSUME_ROLE_ARN": CHAINED_ROLE_ARN,
           "PARITY_ASSUME_ROLE_DURATION_SECONDS": "1800"}
    command, _ = child_command("boto3", s3, prefix, tmp_path)
    r = parity(command, env=env)
    assert r.returncode == 0, r
    call = [x for x in sts.records() if x.get("action") == "AssumeRole"][0]
    assert call["signed_by"] in base.issued_keys()
    assert call["headers"].get("X-Amz-Security-Token"), "temporary base keys need their token"
    assert call["params"]["DurationSeconds"] == "1800"
    chained = [c["AccessKeyId"] for c in sts.issued()]
    access_key, _, _, _ = child_result("boto3", r)
    assert access_key in chained
    assert_signed_by(s3, prefix, chained)


def test_region_from_the_job_config(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    env = {k: v for k, v in source.env.items() if "REGION" not in k}
    job = {"apiVersion": "parity/v1", "name": "region-job", "aws": {"region": "sa-east-1"}}
    r = probe_env(parity, {**env, "PARITY_JOB_CONFIG": json.dumps(job)})
    assert r.returncode == 0, r
    child = child_env_of(r)
    assert child["AWS_REGION"] == child["AWS_DEFAULT_REGION"] == "sa-east-1"


# --- 3. the endpoint ------------------------------------------------------------------------------
@pytest.mark.parametrize("source_name", ["sagemaker", "pod-identity"])
def test_endpoint_answers_401_403_404_and_the_json_shape(parity, fakes, tmp_path, source_name):
    source = make_source(source_name, fakes, tmp_path)
    r = parity([PY, CLIENTS / "endpoint_client.py", "shape"], env=source.env)
    assert r.returncode == 0, r
    shape = json.loads(r.out_lines()[-1])
    assert shape["no_token"]["status"] == 401, shape
    assert shape["wrong_token"]["status"] == 403, shape
    assert shape["wrong_token_prefix"]["status"] == 403, shape
    assert shape["other_path"]["status"] == 404, shape
    # headers are bounded (8 KiB): refused, or the connection dropped; never served
    assert shape["huge_headers"]["status"] in (None, 400, 413, 431), shape
    ok = shape["right_token"]
    assert ok["status"] == 200, shape
    assert ok["content_type"].split(";")[0].strip() == "application/json", ok
    assert {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} <= set(ok["keys"]), ok
    assert all(ok["types"][k] == "str" for k in ("AccessKeyId", "SecretAccessKey", "Token",
                                                  "Expiration")), ok
    assert EXPIRATION.match(ok["Expiration"]), ok  # Z, never +00:00 (JS rejects it)
    assert ok["AccessKeyId"] in source.issued_keys()
    assert not ok["token_empty"]
    # the upstream Expiration is passed on (a fraction may be dropped, never time added)
    upstream = [c for c in source.fake.issued() if c["AccessKeyId"] == ok["AccessKeyId"]][0]
    assert abs(parse_time(ok["Expiration"]) - parse_time(upstream["Expiration"])) <= 1


def test_many_clients_at_once_with_keep_alive(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    r = parity([PY, CLIENTS / "endpoint_client.py", "hammer", "64", "50"], env=source.env,
               timeout=300)
    assert r.returncode == 0, r
    out = json.loads(r.out_lines()[-1])
    assert out["threads"] == 64, out
    assert out["failures"] == 0, out
    assert out["ok"] == 64 * 50, out
    assert out["reconnects"] == 0, f"connections were not kept alive: {out}"
    assert set(out["access_keys"]) <= set(source.issued_keys()), out
    # served from parity's cache, not one upstream call per request
    assert len(source.fake.issued()) < 10, len(source.fake.issued())


# --- 4. credential_process ------------------------------------------------------------------------
def test_credential_process_prints_version_1_json(parity, parity_init, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    r = parity([parity_init, "credential-process"], env=source.env)
    assert r.returncode == 0, r
    doc = json.loads(r.out)
    assert doc["Version"] == 1
    assert {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} <= set(doc), doc
    assert doc["AccessKeyId"] in source.issued_keys()
    assert doc["SecretAccessKey"] == common.secret_for(doc["AccessKeyId"])
    assert common.check_session_token(doc["AccessKeyId"], doc["SessionToken"]) is None
    assert EXPIRATION.match(doc["Expiration"]), doc


def test_credential_process_without_endpoint_fails(parity_init, tmp_path):
    r = subprocess.run([parity_init, "credential-process"], env=base_env({"HOME": str(tmp_path)}),
                       capture_output=True, timeout=EXIT_TIMEOUT)
    assert r.returncode != 0, r
    assert r.stdout == b"", r


def test_boto3_through_credential_process_in_aws_config(parity, parity_init, fakes, s3, prefix,
                                                        tmp_path, home):
    (home / ".aws" / "config").write_text(
        f"[default]\ncredential_process = {parity_init} credential-process\n")
    source = make_source("pod-identity", fakes, tmp_path)
    command, _ = child_command("boto3", s3, prefix, tmp_path)
    r = parity(command, env=source.env)
    assert r.returncode == 0, r
    access_key, method, _, _ = child_result("boto3", r)
    assert method == "custom-process", r
    assert access_key in source.issued_keys()
    assert_signed_by(s3, prefix, source.issued_keys())


# --- 5. failures and faults ---------------------------------------------------------------------
def boot_failure(r, root):
    assert r.returncode == EXIT_BOOT_FAILURE, r
    text = (root / "output" / "failure").read_text()
    assert text.startswith("parity-init: "), text
    assert "credential" in text.lower(), text
    return text


def test_first_fetch_failing_exits_125_with_the_reason(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    source.fake.control(faults=[{"type": "status", "status": 500}])
    root = tmp_path / "ml"
    (root / "output").mkdir(parents=True)
    termlog = tmp_path / "termination-log"
    marker = tmp_path / "child-ran"
    r = parity(["/bin/sh", "-c", f"touch {marker}"],
               env={**source.env, **FAIL_FAST, "PARITY_TERMINATION_LOG": str(termlog)})
    text = boot_failure(r, root)
    assert re.search(r"\b500\b", text), text
    assert re.search(r"\b500\b", r.err), r
    assert termlog.read_text() == text
    assert not marker.exists()
    faulted = [x for x in source.fake.records() if x.get("fault")]
    assert len(faulted) >= 2, "the first fetch was not retried"


@pytest.mark.parametrize("problem", ["wrong-token", "sts-signature", "web-identity-token",
                                     "malformed-always",
                                     pytest.param("expired-always"),
                                     "no-role"])
def test_upstream_refusal_exits_125(parity, fakes, tmp_path, problem):
    if problem == "wrong-token":
        source = make_source("pod-identity", fakes, tmp_path)
        source.fake.control(token_file=None, token="something-else")
    elif problem == "sts-signature":
        source = make_source("chained", fakes, tmp_path)
        source.fake.control(static_keys={source.static[0]: "not-the-secret"})
    elif problem == "web-identity-token":
        source = make_source("irsa", fakes, tmp_path)
        source.fake.control(token_file=None, token="another-jwt")
    elif problem == "malformed-always":
        source = make_source("sagemaker", fakes, tmp_path)
        source.fake.control(faults=[{"type": "malformed"}])
    elif problem == "expired-always":
        source = make_source("sagemaker", fakes, tmp_path)
        source.fake.control(lifetime=-120)
    else:
        source = make_source("imds", fakes, tmp_path)
        source.fake.control(role=None)
    root = tmp_path / "ml"
    (root / "output").mkdir(parents=True)
    r = parity(["/bin/true"], env={**source.env, **FAIL_FAST})
    boot_failure(r, root)


@pytest.mark.parametrize("fault", [
    {"type": "status", "status": 500, "count": 2},
    {"type": "status", "status": 503, "count": 1},
    {"type": "throttle", "count": 2},
    {"type": "truncate", "count": 1},
    {"type": "malformed", "count": 1},
    {"type": "close", "count": 1},
    {"type": "slow", "seconds": 1.5, "count": 1},
    {"type": "lifetime", "seconds": -60, "count": 1},
    {"type": "hang", "seconds": 60, "count": 1},
], ids=lambda f: f["type"] + (str(f.get("status", "")) if "status" in f else ""))
@pytest.mark.parametrize("source_name", ["sagemaker", "irsa"])
def test_transient_upstream_faults_at_start_are_retried(parity, fakes, s3, prefix, tmp_path,
                                                        source_name, fault):
    source = make_source(source_name, fakes, tmp_path)
    source.fake.control(faults=[fault])
    command, _ = child_command("boto3", s3, prefix, tmp_path)
    r = parity(command, env=source.env, timeout=120)
    assert r.returncode == 0, r
    access_key, _, _, _ = child_result("boto3", r)
    good = [c["AccessKeyId"] for c in source.fake.issued()
            if common.check_session_token(c["AccessKeyId"], c["Token"]) is None]
    assert access_key in good, "the child got credentials that were already expired"
    assert [x for x in source.fake.records() if x.get("fault")], "the fault never fired"
    assert_signed_by(s3, prefix, good)


def test_no_source_runs_the_child_without_credentials(parity, netns, tmp_path):
    r = probe_env(parity, {}, prefix=netns)
    assert r.returncode == 0, r
    env = child_env_of(r)
    assert not [k for k in env if k.startswith("AWS_")], env
    lines = [ln for ln in r.err_lines() if "credential" in ln.lower()]
    assert len(lines) == 1, f"expected one line saying there are no credentials:\n{r}"


@pytest.mark.parametrize("mode", ["passthrough", "off"])
@pytest.mark.parametrize("platform_env", ["relative", "pod-identity", "irsa", "static"])
def test_passthrough_and_off_leave_the_platform_variables(parity, netns, tmp_path, mode,
                                                          platform_env):
    token_file = tmp_path / "token"
    token_file.write_text("jwt")
    env = {"relative": {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"},
           "pod-identity": {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
                            "http://169.254.170.23/v1/credentials",
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)},
           "irsa": {"AWS_ROLE_ARN": ROLE_ARN, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file)},
           "static": {"AWS_ACCESS_KEY_ID": "AKIAPARITYPASSTHRU00",
                      "AWS_SECRET_ACCESS_KEY": "passthrough-secret-value"}}[platform_env]
    env = {**env, "AWS_REGION": "eu-west-1", "PARITY_CREDENTIALS": mode}
    # in a network namespace: were 169.254.x.x contacted after all, nothing would leave
    r = probe_env(parity, env, prefix=netns)
    assert r.returncode == 0, r
    child = child_env_of(r)
    for name, value in env.items():
        if name != "PARITY_CREDENTIALS":
            assert child.get(name) == value, name
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in child
    assert not child.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "").startswith("http://127.0.0.1")
    assert "passthrough-secret-value" not in r.err


def test_relative_uri_targets_the_ecs_address_in_explain(parity, netns, tmp_path):
    env = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/sm-job",
           "AWS_DEFAULT_REGION": "eu-west-1"}
    r = parity(["/bin/true"], env=env, opts=["--explain"], prefix=netns)
    assert r.returncode == 0, r
    plan = json.loads(r.out)
    shown = plan["environment"]
    assert "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" not in shown, shown
    # parity's own endpoint instead (explain redacts every *CREDENTIAL* name, this one too)
    full = shown.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    assert full == "<redacted>" or full.startswith("http://127.0.0.1:"), shown
    assert shown.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") == "<redacted>", shown


def test_relative_uri_goes_to_169_254_170_2(parity, netns, tmp_path):
    """Run where 169.254.170.2 is unreachable (no route in the namespace): the start fails
    fast and the reason names the ECS address, so that is where parity went."""
    env = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/sm-job",
           "AWS_DEFAULT_REGION": "eu-west-1", **FAIL_FAST}
    root = tmp_path / "ml"
    (root / "output").mkdir(parents=True)
    r = parity(["/bin/true"], env=env, prefix=netns)
    text = boot_failure(r, root)
    assert "169.254.170.2" in text or "169.254.170.2" in r.err, r


# --- 6. refresh -----------------------------------------------------------------------------------
def test_refresh_rotates_keys_before_expiry(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    source.fake.control(lifetime=10)
    r = parity([PY, "-c", POLL_KEYS, "3", "120"], env=source.env, timeout=180)
    assert r.returncode == 0, r
    seen = json_lines(r.out)
    assert len(seen[-1]["keys"]) == 3, r
    for rec in seen[:-1]:
        assert rec["status"] == 200, rec
        assert not rec["expired"], f"served expired credentials: {rec}"


def test_outage_keeps_last_good_then_503_never_expired(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    source.fake.control(lifetime=12)
    proc = parity([PY, "-c", POLL_KEYS, "99", "120", "--until-error"], env=source.env, wait=False)
    proc.wait_line(r'"key": "ASIA')
    source.fake.control(faults=[{"type": "status", "status": 500}])
    r = proc.wait(timeout=180)
    assert r.returncode == 0, r
    recs = json_lines(r.out)[:-1]
    assert recs[-1]["status"] == 503, f"after expiry the endpoint must answer 503:\n{r}"
    for rec in recs[:-1]:
        assert rec["status"] == 200, rec
        assert not rec["expired"], f"served expired credentials: {rec}"
    assert len(json_lines(r.out)[-1]["keys"]) == 1, "no new key can exist during the outage"


def test_expired_answer_is_a_failed_refresh(parity, fakes, tmp_path):
    """An upstream that starts handing out already-expired keys is failing: parity keeps the
    last good set until it expires, then answers 503, and retries with backoff meanwhile."""
    source = make_source("sagemaker", fakes, tmp_path)
    source.fake.control(lifetime=12)
    proc = parity([PY, "-c", POLL_KEYS, "99", "120", "--until-error"], env=source.env, wait=False)
    proc.wait_line(r'"key": "ASIA')
    source.fake.control(lifetime=-60)
    r = proc.wait(timeout=180)
    assert r.returncode == 0, r
    recs = json_lines(r.out)[:-1]
    assert recs[-1]["status"] == 503, r
    assert not [x for x in recs if x.get("expired")], f"served expired credentials:\n{r}"
    good_until = parse_time(recs[0]["exp"])
    assert recs[-1]["now"] >= good_until - 1, \
        f"503 while the last good credentials had {good_until - recs[-1]['now']:.0f} s left:\n{r}"
    # a handful of retries over those seconds, not a busy loop
    assert len(source.fake.records()) < 100, len(source.fake.records())


# --- 7. secrets -----------------------------------------------------------------------------------
@pytest.mark.parametrize("source_name", SOURCES)
def test_secrets_never_reach_logs_or_explain(parity, fakes, tmp_path, source_name):
    source = make_source(source_name, fakes, tmp_path)
    # a debug-level run, a refused refresh, an --explain and a failing start
    run = parity([PY, CLIENTS / "endpoint_client.py", "shape"], env=source.env,
                 opts=["--log-level", "debug"])
    assert run.returncode == 0, run
    child = json.loads(run.out_lines()[-1])
    assert child["right_token"]["status"] == 200
    explain = parity(["/bin/true"], env=source.env, opts=["--explain", "--log-level", "debug"])
    assert explain.returncode == 0, explain
    shown = json.loads(explain.out)["environment"]
    if "AWS_CONTAINER_AUTHORIZATION_TOKEN" in shown:
        assert shown["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == "<redacted>"
    if source.fake is not None:
        source.fake.control(faults=[{"type": "status", "status": 403, "code": "AccessDenied"}])
    fail = parity(["/bin/true"], env={**source.env, **FAIL_FAST}, opts=["--log-level", "debug"])
    secrets = source.all_secrets()
    assert secrets
    for secret in secrets:
        for what, text in (("stderr", run.err), ("explain stdout", explain.out),
                           ("explain stderr", explain.err), ("failing run's stderr", fail.err)):
            assert secret not in text, f"a secret ({secret[:6]}...) is in the {what}"
    failure = tmp_path / "ml" / "output" / "failure"
    if failure.exists():
        assert not any(s in failure.read_text() for s in secrets)


def test_endpoint_token_is_not_logged(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    r = parity([PY, "-c", "import os; print(os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN'])"],
               env=source.env, opts=["--log-level", "debug"])
    assert r.returncode == 0, r
    token = r.out_lines()[-1]
    assert ENDPOINT_TOKEN.match(token)
    assert token not in r.err


# --- 8. signals while the upstream hangs ---------------------------------------------------------
def test_signals_are_forwarded_while_a_refresh_hangs(parity, fakes, tmp_path):
    source = make_source("sagemaker", fakes, tmp_path)
    source.fake.control(lifetime=16)  # the refresh comes after about 8 s
    proc = parity([PY, CLIENTS / "endpoint_client.py", "signal-wait"], env=source.env, wait=False)
    proc.wait_line(r"^ready$")
    source.fake.control(faults=[{"type": "hang", "seconds": None}])
    source.fake.wait_records(lambda recs: any(x.get("event") == "hang_start" for x in recs),
                             timeout=EXIT_TIMEOUT, what="parity's refresh to hang")
    proc.send(signal.SIGUSR1)
    got = float(proc.wait_line(r"^got SIGUSR1 at=([\d.]+)$", timeout=READY_TIMEOUT).group(1))
    r = proc.wait(timeout=EXIT_TIMEOUT)
    assert r.returncode == 0, r
    recs = source.fake.records()
    started = sum(1 for x in recs if x.get("event") == "hang_start" and x["ts"] <= got)
    ended = sum(1 for x in recs if x.get("event") == "hang_end" and x["ts"] <= got)
    assert started > ended, "the signal only arrived after the hung refresh had given up"
    source.fake.control(faults=[])


# --- 9. a long job --------------------------------------------------------------------------------
LONG_JOB_SECONDS = 180
OUTAGE_SECONDS = 20


@pytest.mark.slow
def test_long_job_rotates_keys_and_rides_out_an_outage(parity, fakes, s3, prefix, tmp_path,
                                                       node_modules):
    """Upstream keys live 60 s; boto3 and the JS SDK call S3 every second for three minutes
    while a 20 s upstream outage hits a refresh: every call succeeds, and keys rotate."""
    source = make_source("sagemaker", fakes, tmp_path)
    source.fake.control(lifetime=60)
    py_cmd, _ = child_command("boto3", s3, prefix, tmp_path, loop=LONG_JOB_SECONDS)
    js_cmd, js_env = child_command("js", s3, prefix, tmp_path, node_modules, loop=LONG_JOB_SECONDS)
    script = ('"$@" & a=$!; ' + " ".join(f"'{c}'" for c in map(str, js_cmd)) + ' & b=$!; '
              'wait $a; ra=$?; wait $b; rb=$?; exit $((ra | rb))')
    proc = parity(["/bin/sh", "-c", script, "sh", *map(str, py_cmd)],
                  env={**source.env, **js_env}, wait=False)
    # mid-run (after a minute of calls), the upstream fails for 20 s from its next request on
    proc.wait_line(r'"event": "call", "i": 60,', timeout=LONG_JOB_SECONDS)
    outage_set = time.time()
    source.fake.control(faults=[{"type": "status", "status": 500, "code": "ServiceUnavailable",
                                 "for_seconds": OUTAGE_SECONDS}])
    r = proc.wait(timeout=LONG_JOB_SECONDS + 240)
    assert r.returncode == 0, r
    calls = event(r, "call")
    failed = [c for c in calls if not c["ok"]]
    assert not failed, failed[:5]
    dones = event(r, "done")
    assert len(dones) == 2 and all(d["ok"] for d in dones), dones
    for d in dones:
        assert len(d["keys"]) > 1, f"keys never rotated: {d}"
    faulted = [x for x in source.fake.records() if x.get("fault")]
    assert faulted, "the outage never met a refresh"
    after = [x for x in source.fake.records() if x.get("issued") and x["ts"] > outage_set + 1
             and x["ts"] > max(f["ts"] for f in faulted)]
    assert after, "no refresh succeeded after the outage"
    issued = source.issued_keys()
    assert_signed_by(s3, prefix, issued)
    assert len(s3.records(prefix)) >= 2 * 3 * (LONG_JOB_SECONDS // 2)

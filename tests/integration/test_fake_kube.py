# SPDX-License-Identifier: MIT
"""The fake kube-apiserver (tests/servers/kube_apiserver.py), proven with real clients before
parity's launcher is tested against it: kubectl (skipped when absent), python3-kubernetes, the
Debian AWS CLI's `eks get-token` as an exec plugin, and EKS tokens presigned with botocore.

Covers: TLS only (plain http refused, no credentials sent over it), bearer, client-certificate,
exec-plugin and EKS authentication (tampered, other-cluster, expired tokens refused; the
contract's golden vectors accepted with the clock pinned), discovery, Job/Service create with
fieldValidation and the three validators (kubernetes-models 5.1.0 schemas, the python3-kubernetes
round trip, hand rules), the simulated Job controller (exit codes per index, termination
messages, OOMKilled, evictions, ImagePullBackOff, restarts, podFailurePolicy), pod logs (follow,
timestamps, sinceTime, tailLines, previous), watches (resourceVersion, 410, timeoutSeconds,
bookmarks), delete propagation and the request log.

Everything listens on 127.0.0.1. Nothing waits on time: the fake advances its jobs when clients
read them (or on POST /_control {"advance": ...}), and the tests wait for answers.
"""

import base64
import contextlib
import copy
import http.client
import importlib.util
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock
from urllib.parse import quote
from urllib.request import Request, urlopen

import pytest

from conftest import EXIT_TIMEOUT, READY_TIMEOUT, REPO_ROOT, SERVERS, Fake, base_env

sys.path.insert(0, str(SERVERS))
import common  # noqa: E402  (tests/servers/common.py: the fakes' key derivation)

# The reference Job and headless Service (launcher-apis.md §2.1) from shared/testdata/launcher
# (PARITY_LAUNCHER_TESTDATA overrides the folder). The tests use the copies below, which
# test_reference_copies_match_the_shared_files checks against the files when they are there.
TESTDATA = Path(os.environ.get("PARITY_LAUNCHER_TESTDATA",
                               REPO_ROOT.parent / "shared" / "testdata" / "launcher"))
REF_JOB_BODY = json.loads('''{"apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "demo-job-1", "namespace": "ml",
    "labels": {"app.kubernetes.io/managed-by": "parity", "parity/job": "demo-job-1"}},
    "spec": {"completionMode": "Indexed", "completions": 2, "parallelism": 2,
    "backoffLimit": 0, "activeDeadlineSeconds": 3600, "ttlSecondsAfterFinished": 86400,
    "podFailurePolicy": {"rules": [{"action": "Ignore",
    "onPodConditions": [{"type": "DisruptionTarget"}]}, {"action": "FailJob",
    "onExitCodes": {"containerName": "main", "operator": "NotIn", "values": [0]}}]},
    "template": {"metadata": {"labels": {"parity/job": "demo-job-1"}},
    "spec": {"restartPolicy": "Never", "subdomain": "demo-job-1",
    "serviceAccountName": "parity-trainer", "terminationGracePeriodSeconds": 120,
    "nodeSelector": {"node.kubernetes.io/instance-type": "g5.xlarge"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "containers": [{"name": "main",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/parity:latest",
    "command": ["/parity-init"], "args": ["python", "train.py"],
    "env": [{"name": "TRAINING_JOB_NAME", "value": "demo-job-1"}, {"name": "PARITY_HOSTS",
    "value": "demo-job-1-0.demo-job-1,demo-job-1-1.demo-job-1"}],
    "resources": {"limits": {"nvidia.com/gpu": "1", "memory": "16Gi"}, "requests": {"cpu": "3",
    "memory": "16Gi"}}, "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "FallbackToLogsOnError", "volumeMounts": [{"name": "opt-ml",
    "mountPath": "/opt/ml"}, {"name": "dshm", "mountPath": "/dev/shm"}]}],
    "volumes": [{"name": "opt-ml", "emptyDir": {"sizeLimit": "50Gi"}}, {"name": "dshm",
    "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}}]}}}}''')
REF_SVC_BODY = json.loads('''{"apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "demo-job-1", "namespace": "ml",
    "labels": {"app.kubernetes.io/managed-by": "parity"}}, "spec": {"clusterIP": "None",
    "publishNotReadyAddresses": true, "selector": {"job-name": "demo-job-1"}}}''')
KUBECTL = shutil.which("kubectl")
AWS_CLI = "/usr/bin/aws"  # Debian's awscli (the pyenv one on PATH is another program)
TOKEN = "parity-test-token"
TOKEN_USER = "alice"
EXEC_TOKEN = "exec-plugin-token"
EXEC_USER = "exec-user"
NS = "ml"
# The contract's example key (launcher-apis.md §1.1, §2.4) and its golden EKS tokens.
AK, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CLUSTER = "my-cluster"
GOLDEN_US_EAST_1 = (
    "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-east-1%2Fsts"
    "%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3B"
    "x-k8s-aws-id&X-Amz-Signature=b9c52540c7aed8adbc93935c90eca6cf36a27e75841b841bf1c08dffb059c2b5")
GOLDEN_TOKEN = (
    "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0"
    "eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlh"
    "bD1BS0lERVhBTVBMRSUyRjIwMjQwMTAyJTJGdXMtZWFzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9"
    "MjAyNDAxMDJUMDMwNDA1WiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3"
    "cy1pZCZYLUFtei1TaWduYXR1cmU9YjljNTI1NDBjN2FlZDhhZGJjOTM5MzVjOTBlY2E2Y2YzNmEyN2U3NTg0MWI4NDFi"
    "ZjFjMDhkZmZiMDU5YzJiNQ")
GOLDEN_NOW = "20240102T030900Z"  # 4 minutes after the vectors' X-Amz-Date
EKS_CONFIG = {"cluster": CLUSTER, "keys": {AK: SECRET}, "users": {AK: "eks-admin"}}


# --- the fake and its clients --------------------------------------------------------------------
class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.text = body.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.text)

    def warnings(self):
        return [v for k, v in self.headers if k.lower() == "warning"]

    def __repr__(self):
        return f"{self.status} {self.text[:2000]}"


class KubeServer(Fake):
    """The running fake: https URL, its CA, control calls and raw API calls over TLS."""

    def __init__(self, proc, log_path):
        super().__init__(proc, log_path)
        self.cert_dir = Path(proc.argv[proc.argv.index("--cert-dir") + 1])
        self.ca = self.cert_dir / "ca.crt"
        self.url = f"https://127.0.0.1:{self.port}"
        self.ssl = ssl.create_default_context(cafile=str(self.ca))

    def control(self, **update):
        req = Request(self.url + "/_control", data=json.dumps(update).encode(), method="POST",
                      headers={"Content-Type": "application/json"})
        with urlopen(req, timeout=READY_TIMEOUT, context=self.ssl) as resp:
            return json.loads(resp.read())

    def snapshot(self):
        with urlopen(self.url + "/_control", timeout=READY_TIMEOUT, context=self.ssl) as resp:
            return json.loads(resp.read())

    def connect(self, cert=False):
        ctx = self.ssl
        if cert:
            ctx = ssl.create_default_context(cafile=str(self.ca))
            ctx.load_cert_chain(self.cert_dir / "client.crt", self.cert_dir / "client.key")
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx,
                                           timeout=EXIT_TIMEOUT)

    def call(self, method, path, body=None, token=TOKEN, headers=None, cert=False):
        conn = self.connect(cert)
        hdrs = {"Accept": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return Reply(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def open_stream(self, path, token=TOKEN):
        """A streaming GET: (connection, response) for reading line by line."""
        conn = self.connect()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        return conn, conn.getresponse()

    def create(self, resource, obj, query="fieldValidation=Strict", **kw):
        base = "/apis/batch/v1" if resource == "jobs" else "/api/v1"
        return self.call("POST", f"{base}/namespaces/{NS}/{resource}?{query}", obj, **kw)

    def get(self, path, **kw):
        reply = self.call("GET", path, **kw)
        assert reply.status == 200, reply
        return reply.json

    def job(self, name):
        return self.get(f"/apis/batch/v1/namespaces/{NS}/jobs/{name}")

    def pods(self, job_name=None, selector=None):
        sel = selector or f"batch.kubernetes.io/job-name={job_name}"
        return self.get(f"/api/v1/namespaces/{NS}/pods?labelSelector={quote(sel)}")["items"]

    def pod_by_index(self, job_name, index):
        pods = [p for p in self.pods(job_name) if p["metadata"]["labels"].get(
            "batch.kubernetes.io/job-completion-index") == str(index)]
        return pods

    def finish(self, name):
        """Steps the job to its end; returns the Job."""
        self.control(advance={"job": f"{NS}/{name}", "until": "terminal"})
        return self.job(name)

    def requests(self):
        """The request records (not the stream_end/tls_refused event lines)."""
        return [r for r in self.records() if "method" in r]


@pytest.fixture(scope="session")
def kube_node_modules(request):
    """node_modules with kubernetes-models 5.1.0, or None (the schema check is then off)."""
    try:
        return request.getfixturevalue("node_modules")
    except pytest.skip.Exception:
        return None


@pytest.fixture
def kube(fakes, tmp_path, kube_node_modules):
    """start(**state) -> a running fake kube-apiserver (tokens, EKS key and user preset)."""

    def start(**state):
        config = {"tokens": {TOKEN: TOKEN_USER, EXEC_TOKEN: EXEC_USER}, "eks": EKS_CONFIG}
        config.update(state)
        args = ["--cert-dir", str(tmp_path / f"pki-{len(list(tmp_path.glob('pki-*')))}")]
        if kube_node_modules:
            args += ["--node-modules", str(kube_node_modules)]
        return fakes("kube_apiserver", *args, cls=KubeServer, **config)

    return start


def ref_svc():
    return copy.deepcopy(REF_SVC_BODY)


def ref_file(tmp_path, name, body):
    """The shared file when it is there (kubectl reads the real thing), else the copy."""
    if (TESTDATA / name).is_file():
        return TESTDATA / name
    path = tmp_path / name
    path.write_text(json.dumps(body, indent=1))
    return path


def test_reference_copies_match_the_shared_files():
    for name, body in (("ref_job.json", REF_JOB_BODY), ("ref_svc.json", REF_SVC_BODY)):
        if not (TESTDATA / name).is_file():
            pytest.skip(f"no {TESTDATA / name}")
        assert json.loads((TESTDATA / name).read_text()) == body, name


def ref_job(name="demo-job-1", script=None, **spec_changes):
    job = copy.deepcopy(REF_JOB_BODY)
    job["metadata"]["name"] = name
    job["metadata"]["labels"]["parity/job"] = name
    job["spec"]["template"]["metadata"]["labels"]["parity/job"] = name
    job["spec"]["template"]["spec"]["subdomain"] = name
    job["spec"].update(spec_changes)
    if script is not None:
        job["spec"]["template"]["spec"]["containers"][0]["env"].append(
            {"name": "FAKE_KUBE_SCRIPT", "value": json.dumps(script)})
    return job


def main_state(pod):
    cs = [c for c in pod["status"].get("containerStatuses") or [] if c["name"] == "main"]
    return cs[0] if cs else None


def conditions(job):
    return {c["type"]: c for c in job.get("status", {}).get("conditions", [])
            if c["status"] == "True"}


# --- kubeconfig -----------------------------------------------------------------------------------
EXEC_PLUGIN = """#!/bin/sh
# A kubeconfig exec credential plugin: records what the client passed, prints a token.
printf '%s' "$KUBERNETES_EXEC_INFO" > "$EXEC_INFO_OUT"
cat <<EOF
{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1", "spec": {},
 "status": {"expirationTimestamp": "2099-01-01T00:00:00Z", "token": "$PLUGIN_TOKEN"}}
EOF
"""


def write_kubeconfig(server, tmp_path, extra_users=None):
    """A kubeconfig for the fake: cluster "fake" (CA data), contexts token, cert, exec (the plugin
    above) and bad-token, each with its user; namespace ml. Returns (path, exec info file)."""
    b64 = lambda p: base64.b64encode(Path(p).read_bytes()).decode()  # noqa: E731
    plugin = tmp_path / "exec-plugin.sh"
    plugin.write_text(EXEC_PLUGIN)
    plugin.chmod(0o755)
    info = tmp_path / "exec-info.json"
    users = {
        "token": {"token": TOKEN},
        "cert": {"client-certificate-data": b64(server.cert_dir / "client.crt"),
                 "client-key-data": b64(server.cert_dir / "client.key")},
        "exec": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                          "command": str(plugin), "args": [], "interactiveMode": "Never",
                          "env": [{"name": "EXEC_INFO_OUT", "value": str(info)},
                                  {"name": "PLUGIN_TOKEN", "value": EXEC_TOKEN}]}},
        "bad-token": {"token": "not-a-known-token"},
        **(extra_users or {}),
    }
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "fake", "cluster": {
            "server": server.url, "certificate-authority-data": b64(server.ca)}}],
        "users": [{"name": name, "user": user} for name, user in users.items()],
        "contexts": [{"name": name, "context": {"cluster": "fake", "user": name, "namespace": NS}}
                     for name in users],
        "current-context": "token",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config, indent=1))
    return path, info


_KUBECTL_MINOR = []


def kubectl_minor():
    """kubectl's client minor version (Debian's kubernetes-client is 1.20)."""
    if not _KUBECTL_MINOR:
        r = subprocess.run([KUBECTL, "version", "--client", "-o", "json"], capture_output=True,
                           text=True, timeout=EXIT_TIMEOUT)
        minor = json.loads(r.stdout)["clientVersion"]["minor"] if r.returncode == 0 else "0"
        _KUBECTL_MINOR.append(int("".join(ch for ch in minor if ch.isdigit()) or 0))
    return _KUBECTL_MINOR[0]


def kubectl(kubeconfig, *args, context="token", timeout=EXIT_TIMEOUT, stdin=None):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    args = list(args)
    if args and args[0] == "create" and kubectl_minor() < 27:
        # Before server-side field validation kubectl validates against /openapi/v2 (protobuf),
        # which the fake does not serve.
        args.insert(1, "--validate=false")
    cache = Path(kubeconfig).parent / "kube-cache"
    env = base_env({"HOME": str(Path(kubeconfig).parent), "KUBECONFIG": str(kubeconfig)})
    return subprocess.run([KUBECTL, "--context", context, "--cache-dir", str(cache), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, input=stdin)


# --- EKS tokens -----------------------------------------------------------------------------------
def eks_token(cluster, ak=AK, secret=SECRET, region="us-east-1", session_token=None, when=None,
              regional=False):
    """`aws eks get-token` as aws-cli's get_token.py does it, with Debian's botocore: presign STS
    GetCallerIdentity (GET, 60 s) with the x-k8s-aws-id header signed; when= freezes the clock.
    Debian's botocore 1.29 defaults to the legacy global endpoint (sts.amazonaws.com, scope
    us-east-1) for the older regions; regional=True asks for sts.<region>.amazonaws.com."""
    import botocore.session

    session = botocore.session.Session()
    session.set_config_variable("config_file", "/dev/null")
    session.set_config_variable("credentials_file", "/dev/null")
    if regional:
        session.set_config_variable("sts_regional_endpoints", "regional")
    client = session.create_client("sts", region_name=region, aws_access_key_id=ak,
                                   aws_secret_access_key=secret, aws_session_token=session_token)

    def retrieve(params, context, **kwargs):
        if "x-k8s-aws-id" in params:
            context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def inject(request, **kwargs):
        if "x-k8s-aws-id" in request.context:
            request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    client.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve)
    client.meta.events.register("before-sign.sts.GetCallerIdentity", inject)
    # With python3-awscrt installed (the Debian AWS CLI needs it), botocore signs with the CRT
    # (botocore.crt.auth), which is not the pure-python signer the fake verifies with.
    clocks = ["botocore.auth.datetime"]
    if importlib.util.find_spec("botocore.crt") and importlib.util.find_spec("awscrt"):
        clocks.append("botocore.crt.auth.datetime")
    with contextlib.ExitStack() as stack:
        for target in clocks:
            clock = stack.enter_context(mock.patch(target))
            clock.datetime.utcnow.return_value = when or datetime.utcnow()
            clock.timezone = timezone
        url = client.generate_presigned_url("get_caller_identity",
                                            Params={"x-k8s-aws-id": cluster}, ExpiresIn=60,
                                            HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def token_of(url):
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def url_of(token):
    data = token[len("k8s-aws-v1."):]
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()


# === TLS, authentication, discovery ===============================================================
def test_tls_only_and_authentication(kube):
    fake = kube()
    # Plain http on the port: Go's TLS server's answer, no API.
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as s:
        s.sendall(b"GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                  + b"\r\n\r\n")
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.0 400 Bad Request")
    assert b"Client sent an HTTP request to an HTTPS server." in answer
    fake.wait_records(lambda recs: any(r.get("event") == "tls_refused" and r["why"] == "plain_http"
                                       for r in recs), what="the tls_refused record")

    # Anonymous: /version yes, the API no (a Status, as the apiserver answers).
    assert fake.call("GET", "/version", token=None).json["gitVersion"].startswith("v1.32")
    reply = fake.call("GET", "/api/v1/namespaces/ml/pods", token=None)
    assert reply.status == 401
    assert reply.json == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": "Unauthorized",
                          "reason": "Unauthorized", "code": 401}
    assert fake.call("GET", "/api", token="wrong").status == 401
    assert fake.call("GET", "/version", token="wrong").status == 401  # bad creds: never anonymous
    assert fake.call("GET", "/api", token=TOKEN).json["versions"] == ["v1"]
    assert fake.call("GET", "/api", token=None, cert=True).status == 200

    auths = [(r["path"], r["auth"]["kind"], r["auth"].get("user"), r["status"])
             for r in fake.requests()]
    assert ("/api/v1/namespaces/ml/pods", "none", "system:anonymous", 401) in auths
    assert ("/api", "invalid", None, 401) in auths
    assert ("/api", "token", TOKEN_USER, 200) in auths
    assert ("/api", "cert", "parity-admin", 200) in auths
    cert_record = [r for r in fake.requests() if r["auth"]["kind"] == "cert"][0]
    assert cert_record["auth"]["groups"] == ["system:masters"]

    # A client certificate from another CA fails the handshake.
    other = Path(fake.cert_dir.parent / "other-ca")
    subprocess.run(["/usr/bin/python3", "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]); import kube_apiserver as k; "
        "k.make_pki(sys.argv[2], 'intruder')"), str(SERVERS), str(other)], check=True,
        timeout=EXIT_TIMEOUT)
    ctx = ssl.create_default_context(cafile=str(fake.ca))
    ctx.load_cert_chain(other / "client.crt", other / "client.key")
    conn = http.client.HTTPSConnection("127.0.0.1", fake.port, context=ctx, timeout=10)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        conn.request("GET", "/api")
        conn.getresponse().read()
    conn.close()

    # deny rules: 403 with the apiserver's message.
    fake.control(deny=[{"user": TOKEN_USER, "verb": "create", "resource": "jobs"}])
    reply = fake.create("jobs", ref_job())
    assert reply.status == 403, reply
    assert reply.json["message"] == ('jobs.batch is forbidden: User "alice" cannot create '
                                     'resource "jobs" in API group "batch" in the namespace "ml"')
    # Namespaces, when listed, must exist.
    fake.control(deny=[], namespaces=["default"])
    reply = fake.create("jobs", ref_job())
    assert reply.status == 404 and reply.json["message"] == 'namespaces "ml" not found', reply


def test_discovery_documents(kube):
    fake = kube()
    assert fake.get("/apis")["groups"][0]["preferredVersion"]["groupVersion"] == "batch/v1"
    batch = {r["name"]: r for r in fake.get("/apis/batch/v1")["resources"]}
    assert batch["jobs"]["namespaced"] and "watch" in batch["jobs"]["verbs"]
    core = {r["name"] for r in fake.get("/api/v1")["resources"]}
    assert {"pods", "pods/log", "services", "namespaces"} <= core
    assert fake.call("GET", "/openapi/v2").status == 404
    root = fake.get("/openapi/v3")["paths"]
    doc = fake.get(root["apis/batch/v1"]["serverRelativeURL"])
    patch = doc["paths"]["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"]["patch"]
    assert patch["parameters"][0]["name"] == "fieldValidation"


# === EKS tokens ===================================================================================
def flip_hex_digit(c):
    """Another hex digit than c."""
    return "0" if c != "0" else "1"


def test_eks_tokens_botocore(kube):
    fake = kube()

    def status(token):
        return fake.call("GET", "/api/v1/namespaces/ml/pods", token=token).status

    good = eks_token(CLUSTER)
    assert "=" not in good and len(good) <= 4096
    assert status(good) == 200
    assert url_of(good).startswith("https://sts.amazonaws.com/?")
    regional = eks_token(CLUSTER, region="eu-west-1", regional=True)
    assert url_of(regional).startswith("https://sts.eu-west-1.amazonaws.com/?")
    assert status(regional) == 200
    session = common.session_token("ASIAPARITYKUBE000000", 2**31)
    temporary = eks_token(CLUSTER, ak="ASIAPARITYKUBE000000",
                          secret=common.secret_for("ASIAPARITYKUBE000000"),
                          session_token=session)
    assert "X-Amz-Security-Token=" in url_of(temporary)
    assert status(temporary) == 200  # a key the STS fake issued: its derived secret and token
    eks = [r["auth"] for r in fake.requests()]
    assert eks[0] == {"kind": "eks", "user": "eks-admin", "access_key": AK}
    assert eks[2] == {"kind": "eks", "user": "eks:ASIAPARITYKUBE000000",
                      "access_key": "ASIAPARITYKUBE000000"}

    refused = {
        "another cluster": eks_token("other-cluster"),
        "another secret": eks_token(CLUSTER, secret=SECRET[:-1] + "X"),
        "expired": eks_token(CLUSTER, when=datetime.utcnow() - timedelta(minutes=16)),
        "unknown key": eks_token(CLUSTER, ak="AKIDUNKNOWN0000000"),
        "forged session token": eks_token(CLUSTER, ak="ASIAPARITYKUBE000000",
                                          secret=common.secret_for("ASIAPARITYKUBE000000"),
                                          session_token=session[:-2] + "xx"),
        "region not the host's": token_of(url_of(regional).replace("sts.eu-west-1.",
                                                                   "sts.eu-west-2.")),
        # the signature's last hex digit, changed (testing the token's last character instead
        # turned a 0 into a 0 once in 16 runs)
        "tampered signature": token_of(url_of(good)[:-1] + flip_hex_digit(url_of(good)[-1])),
        "tampered action": token_of(url_of(good).replace("GetCallerIdentity", "AssumeRole")),
        "extra parameter": token_of(url_of(good) + "&X-Amz-Foo=1"),
        "http scheme": token_of(url_of(good).replace("https://", "http://")),
        "foreign host": token_of(url_of(good).replace("amazonaws.com", "amazonaws.example")),
        "padded base64": "k8s-aws-v1." + base64.urlsafe_b64encode(url_of(good).encode()).decode()
        + ("=" if len(url_of(good)) % 3 == 0 else ""),
        "standard base64": "k8s-aws-v1." + base64.b64encode(b"\xfb\xff" + url_of(good).encode())
        .decode().rstrip("="),
        "too long": token_of(url_of(good) + "&Version=" + "x" * 4000),
        "no prefix": good[len("k8s-aws-v1."):],
    }
    for why, token in refused.items():
        assert status(token) == 401, why
    errors = [r["auth"].get("error") for r in fake.requests() if r["auth"]["kind"] == "invalid"]
    assert len(errors) == len(refused)
    assert any("SignatureDoesNotMatch" in e for e in errors)
    assert any("expired" in e for e in errors)
    assert any("non-whitelisted" in e for e in errors)
    # Unpadded tokens whose length is a multiple of 4 have nothing to strip: the padded variant
    # only differs when there was padding.
    with_padding = [t for w, t in refused.items() if w == "padded base64" and t.endswith("=")]
    assert with_padding or len(url_of(good)) % 3 == 0


def test_eks_golden_vectors_from_the_contract(kube):
    assert url_of(GOLDEN_TOKEN) == GOLDEN_US_EAST_1
    fake = kube(eks=dict(EKS_CONFIG, now=GOLDEN_NOW))
    assert fake.call("GET", "/api", token=GOLDEN_TOKEN).status == 200
    signed_part = GOLDEN_US_EAST_1.split("&X-Amz-Signature=")[0]
    global_url = signed_part.replace("sts.us-east-1.", "sts.") + "&X-Amz-Signature=" + \
        "1b99ca65d791fa1e13f0981fdbbe487dcde7724174e39abfd7cb3da9a6383bd5"
    assert fake.call("GET", "/api", token=token_of(global_url)).status == 200
    eu = (signed_part.replace("us-east-1", "eu-west-1") + "&X-Amz-Security-Token="
          + quote("SESSIONTOKEN/EXAMPLE+=", safe="") + "&X-Amz-Signature="
          + "6ae4eba01d075a720a8d5eaa7cfa8215e549130bbb1ce1d3a93ed873eb3dc90e")
    assert fake.call("GET", "/api", token=token_of(eu)).status == 200
    # The same tokens for another cluster name, or at the real time, are refused.
    fake.control(eks=dict(EKS_CONFIG, now=GOLDEN_NOW, cluster="other"))
    assert fake.call("GET", "/api", token=GOLDEN_TOKEN).status == 401
    fake.control(eks=EKS_CONFIG)
    assert fake.call("GET", "/api", token=GOLDEN_TOKEN).status == 401
    assert "expired" in fake.requests()[-1]["auth"]["error"]


# === create: field validation and the validators ==================================================
def test_create_field_validation(kube):
    fake = kube()
    job = ref_job("typo")
    job["spec"]["backofLimit"] = 3  # the classic typo
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    reply = fake.create("jobs", job, "fieldValidation=Strict")
    assert reply.status == 400, reply
    assert reply.json["reason"] == "BadRequest"
    assert reply.json["message"] == (
        'Job in version "v1" cannot be handled as a Job: strict decoding error: unknown field '
        '"spec.backofLimit", unknown field "spec.template.spec.containers[0].imagePullPolcy"'
        ) or set(reply.json["message"].split(": strict decoding error: ")[1].split(", ")) == {
        'unknown field "spec.backofLimit"',
        'unknown field "spec.template.spec.containers[0].imagePullPolcy"'}

    reply = fake.create("jobs", job, "fieldValidation=Warn")
    assert reply.status == 201, reply
    assert 'unknown field \\"spec.backofLimit\\"' in " ".join(reply.warnings())
    assert "backofLimit" not in reply.json["spec"]
    assert reply.json["spec"]["backoffLimit"] == 0

    job2 = ref_job("typo-ignored")
    job2["spec"]["backofLimit"] = 3
    reply = fake.create("jobs", job2, "fieldValidation=Ignore")
    assert reply.status == 201 and not reply.warnings(), reply
    assert "backofLimit" not in fake.job("typo-ignored")["spec"]

    # Duplicate fields, in raw JSON.
    raw = json.dumps(ref_job("dup")).replace('"backoffLimit": 0', '"backoffLimit": 0, "backoffLimit": 1')
    reply = fake.call("POST", f"/apis/batch/v1/namespaces/{NS}/jobs?fieldValidation=Strict", raw,
                      headers={"Content-Type": "application/json"})
    assert reply.status == 400 and 'duplicate field "backoffLimit"' in reply.json["message"], reply

    # 409 for an existing name; defaults as the apiserver sets them.
    ok = fake.create("jobs", ref_job())
    assert ok.status == 201, ok
    again = fake.create("jobs", ref_job())
    assert again.status == 409, again
    assert again.json["reason"] == "AlreadyExists"
    assert again.json["message"] == 'jobs.batch "demo-job-1" already exists'
    assert again.json["details"] == {"name": "demo-job-1", "group": "batch", "kind": "jobs"}
    stored = ok.json
    uid = stored["metadata"]["uid"]
    assert stored["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = stored["spec"]["template"]["metadata"]["labels"]
    assert labels["job-name"] == labels["batch.kubernetes.io/job-name"] == "demo-job-1"
    assert labels["controller-uid"] == uid
    container = stored["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "Always"  # :latest
    assert stored["spec"]["podFailurePolicy"]["rules"][1]["action"] == "FailJob"  # newer than 22.6
    dry = fake.create("jobs", ref_job("dry"), "fieldValidation=Strict&dryRun=All")
    assert dry.status == 201 and dry.json["metadata"]["uid"], dry
    assert fake.call("GET", f"/apis/batch/v1/namespaces/{NS}/jobs/dry").status == 404
    assert fake.create("jobs", ref_job(), "dryRun=All").status == 409
    generated = ref_job("ignored")
    del generated["metadata"]["name"]
    generated["metadata"]["generateName"] = "gen-"
    reply = fake.create("jobs", generated)
    assert reply.status == 201 and reply.json["metadata"]["name"].startswith("gen-"), reply
    svc = fake.create("services", ref_svc())
    assert svc.status == 201, svc
    assert svc.json["spec"]["clusterIP"] == "None" and svc.json["spec"]["type"] == "ClusterIP"

    post = [r for r in fake.requests() if r["method"] == "POST" and r["status"] == 201
            and "dryRun" not in r["query"] and "gen-" not in r["body"]]
    report = post[-2]["validation"]
    assert report["unknown"] == [] and report["rules"] == []
    assert report["roundtrip"]["coerced"] == []
    if fake.snapshot()["validators"]["schema"].startswith("on"):
        assert report["newer_than_python_models"] == ["spec.podFailurePolicy"]
    assert json.loads(post[-2]["body"])["metadata"]["name"] == "demo-job-1"


INVALID = {
    # name: (change, status, field, validators that must flag it)
    "restartPolicy Always": (lambda j: j["spec"]["template"]["spec"].update(restartPolicy="Always"),
                             422, "spec.template.spec.restartPolicy", {"rules"}),
    "uppercase name": (lambda j: j["metadata"].update(name="Demo-Job"), 422, "metadata.name",
                       {"rules"}),
    "name over 63": (lambda j: j["metadata"].update(name="a" * 64), 422, "metadata.name", {"rules"}),
    "string for int": (lambda j: j["spec"].update(backoffLimit="6"), 400, "spec.backoffLimit",
                       {"schema", "roundtrip"}),
    "string for list": (lambda j: j["spec"]["template"]["spec"]["containers"][0].update(
        command="/parity-init"), 400, "spec.template.spec.containers[0].command",
        {"schema", "roundtrip"}),
    "enum": (lambda j: j["spec"]["template"]["spec"]["containers"][0].update(
        terminationMessagePolicy="Bogus"), 422,
        "spec.template.spec.containers[0].terminationMessagePolicy", {"schema"}),
    "bad quantity": (lambda j: j["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
                     .update(memory="16Gx"), 400,
                     "spec.template.spec.containers[0].resources.limits[memory]", {"schema"}),
    "Indexed without completions": (lambda j: j["spec"].pop("completions"), 422, "spec.completions",
                                    {"rules"}),
    "podFailurePolicy with OnFailure": (
        lambda j: j["spec"]["template"]["spec"].update(restartPolicy="OnFailure"), 422,
        "spec.template.spec.restartPolicy", {"rules"}),
    "GPU request above limit": (
        lambda j: j["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
        .update({"nvidia.com/gpu": "2"}), 422,
        "spec.template.spec.containers[0].resources.requests[nvidia.com/gpu]", {"rules"}),
    "fractional GPU": (
        lambda j: j["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        .update({"nvidia.com/gpu": "0.5"}), 422,
        "spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]", {"rules"}),
    "missing container name": (lambda j: j["spec"]["template"]["spec"]["containers"][0].pop("name"),
                               422, "spec.template.spec.containers[0].name", {"schema"}),
    "mount of no volume": (lambda j: j["spec"]["template"]["spec"].update(volumes=[]), 422,
                           "spec.template.spec.containers[0].volumeMounts[0].name", {"rules"}),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_job_rejected(kube, case):
    change, status, field, flagged_by = INVALID[case]
    fake = kube()
    schema_on = fake.snapshot()["validators"]["schema"].startswith("on")
    if not schema_on and flagged_by == {"schema"}:
        pytest.skip("only the kubernetes-models schemas catch this (no node/kubernetes-models)")
    job = ref_job("bad-job")
    change(job)
    reply = fake.create("jobs", job)
    assert reply.status == status, reply
    body = reply.json
    assert body["kind"] == "Status" and body["code"] == status
    assert field in body["message"], body
    if status == 422:
        assert body["reason"] == "Invalid"
        assert field in [c["field"] for c in body["details"]["causes"]]
        assert body["message"].startswith(f'Job.batch "{job["metadata"]["name"]}" is invalid: ')
    else:
        assert body["reason"] == "BadRequest"
        assert body["message"].startswith('Job in version "v1" cannot be handled as a Job: ')
    assert fake.call("GET", f"/apis/batch/v1/namespaces/{NS}/jobs/bad-job").status == 404
    report = fake.requests()[-2]["validation"]  # the POST (the GET above came after it)
    flagged = set()
    if schema_on and any(e["field"] == field for e in report["schema"]["errors"]):
        flagged.add("schema")
    if isinstance(report["roundtrip"], dict) and any(
            c["field"] == field for c in report["roundtrip"]["coerced"]):
        flagged.add("roundtrip")
    if any(r.startswith(field + ":") for r in report.get("rules", [])):
        flagged.add("rules")
    want = flagged_by if schema_on else flagged_by - {"schema"}
    assert want <= flagged, (report, flagged)


def test_each_validator_alone(kube):
    """Each check rejects on its own: the other two switched off."""
    fake = kube()
    schema_on = fake.snapshot()["validators"]["schema"].startswith("on")

    def only(name):
        fake.control(validate={k: k == name for k in ("schema", "roundtrip", "rules")})

    only("roundtrip")
    job = ref_job("rt")
    job["spec"]["template"]["spec"]["containers"][0]["args"] = "train.py"  # string for a list
    reply = fake.create("jobs", job)
    assert reply.status == 400 and "python3-kubernetes 22.6" in reply.json["message"], reply
    job = ref_job("rt2")
    job["spec"]["template"]["metadata"]["labels"]["tier"] = 1  # int label value
    assert fake.create("jobs", job).status == 400
    job = ref_job("rt3")
    job["spec"]["backofLimit"] = 1  # unknown to 22.6 and not a newer field
    reply = fake.create("jobs", job)
    assert reply.status == 400 and 'unknown field "spec.backofLimit"' in reply.json["message"]

    only("rules")
    job = ref_job("rules")
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    reply = fake.create("jobs", job)
    assert reply.status == 422, reply
    assert reply.json["details"]["causes"] == [{
        "reason": "FieldValueNotSupported", "field": "spec.template.spec.restartPolicy",
        "message": 'Unsupported value: "Always": supported values: "OnFailure", "Never"'}]

    if schema_on:
        only("schema")
        job = ref_job("schema")
        job["spec"]["completionMode"] = "indexed"
        reply = fake.create("jobs", job)
        assert reply.status == 422, reply
        assert reply.json["details"]["causes"][0]["field"] == "spec.completionMode"
        job = ref_job("schema2")
        job["spec"]["template"]["spec"]["containers"][0]["resources"]["limitz"] = {}
        reply = fake.create("jobs", job)
        assert reply.status == 400
        assert 'unknown field "spec.template.spec.containers[0].resources.limitz"' in \
            reply.json["message"]

    only("nothing")
    job = ref_job("anything-goes")
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert fake.create("jobs", job).status == 201


def test_invalid_service_rejected(kube):
    fake = kube()
    svc = ref_svc()
    svc["metadata"]["name"] = "1-svc"  # DNS-1035: must start with a letter
    reply = fake.create("services", svc)
    assert reply.status == 422 and reply.json["message"].startswith('Service "1-svc" is invalid: ')
    svc = ref_svc()
    del svc["spec"]["clusterIP"]  # not headless: ports needed
    reply = fake.create("services", svc)
    assert reply.status == 422, reply
    assert reply.json["details"]["causes"][0]["field"] == "spec.ports"


# === the Job controller simulation ================================================================
def test_job_lifecycle_exit_codes_and_messages(kube):
    fake = kube(progress="manual")
    script = {"exit_codes": [0, 3], "logs": ["hello from {index}", "{pod} says bye"],
              "pods": {"1": {"message": "rank 1: CUDA error"}}}
    job = ref_job("codes", script)
    del job["spec"]["podFailurePolicy"]
    job["spec"]["backoffLimit"] = 0
    assert fake.create("jobs", job).status == 201
    assert fake.job("codes")["status"] == {}
    assert fake.pods("codes") == []

    fake.control(advance={"job": "ml/codes"})
    status = fake.job("codes")["status"]
    assert status["active"] == 2 and "startTime" in status
    pods = fake.pods("codes")
    assert len(pods) == 2
    for pod in pods:
        index = pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"]
        assert pod["metadata"]["name"].startswith(f"codes-{index}-")
        assert len(pod["metadata"]["name"]) == len(f"codes-{index}-") + 5
        assert pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == index
        assert pod["spec"]["hostname"] == f"codes-{index}"
        assert pod["metadata"]["labels"]["controller-uid"] == \
            pod["metadata"]["ownerReferences"][0]["uid"]
        assert pod["status"]["phase"] == "Pending"
        assert main_state(pod)["state"] == {"waiting": {"reason": "ContainerCreating"}}
        env = {e["name"] for e in pod["spec"]["containers"][0]["env"]}
        assert "JOB_COMPLETION_INDEX" in env

    fake.control(advance={"job": "ml/codes"})
    assert {p["status"]["phase"] for p in fake.pods("codes")} == {"Running"}
    assert fake.job("codes")["status"]["ready"] == 2

    job = fake.finish("codes")
    conds = conditions(job)
    assert set(conds) == {"FailureTarget", "Failed"}
    assert conds["Failed"]["reason"] == "BackoffLimitExceeded"
    assert job["status"]["succeeded"] == 1 and job["status"]["failed"] == 1
    assert job["status"]["completedIndexes"] == "0"
    [p0], [p1] = fake.pod_by_index("codes", 0), fake.pod_by_index("codes", 1)
    t0, t1 = main_state(p0)["state"]["terminated"], main_state(p1)["state"]["terminated"]
    assert (p0["status"]["phase"], t0["exitCode"], t0["reason"]) == ("Succeeded", 0, "Completed")
    assert (p1["status"]["phase"], t1["exitCode"], t1["reason"]) == ("Failed", 3, "Error")
    assert t1["message"] == "rank 1: CUDA error"
    assert "message" not in t0
    log = fake.call("GET", f"/api/v1/namespaces/{NS}/pods/{p1['metadata']['name']}/log").text
    assert log == f"hello from 1\n{p1['metadata']['name']} says bye\n"


def test_job_failure_kinds(kube):
    """OOMKilled, eviction (ignored by podFailurePolicy, then replaced), FailJob on an exit code,
    a signal, FallbackToLogsOnError, ImagePullBackOff, Unschedulable and DeadlineExceeded."""
    fake = kube(progress="manual")
    script = {"pods": {"0": [{"evicted": True}, {"exit_code": 0}],
                       "1": {"signal": 9, "steps": 10},
                       "2": {"oom": True, "steps": 3}}}
    assert fake.create("jobs", ref_job("kinds", script, completions=3, parallelism=3)).status == 201
    job = fake.finish("kinds")
    failed = conditions(job)["Failed"]
    assert failed["reason"] == "PodFailurePolicy"
    [oom] = fake.pod_by_index("kinds", 2)
    assert failed["message"] == (f"Container main for pod ml/{oom['metadata']['name']} failed with "
                                 "exit code 137 matching FailJob rule at index 2")
    term = main_state(oom)["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "OOMKilled")
    assert "reason" not in oom["status"]  # OOMKilled is only on the container
    evicted, replacement = sorted(fake.pod_by_index("kinds", 0),
                                  key=lambda p: int(p["metadata"]["resourceVersion"]))
    assert evicted["status"]["phase"] == "Failed" and evicted["status"]["reason"] == "Evicted"
    assert "containerStatuses" not in evicted["status"]
    assert {"DisruptionTarget"} <= {c["type"] for c in evicted["status"]["conditions"]
                                    if c["status"] == "True"}
    assert replacement["status"]["phase"] == "Succeeded"  # Ignore: not counted, replaced
    [killed] = fake.pod_by_index("kinds", 1)  # still running when the job failed
    assert main_state(killed)["state"]["terminated"]["exitCode"] == 143
    assert job["status"]["failed"] == 2

    # A signal; FallbackToLogsOnError (the ref job's policy) fills the message from the logs.
    script = {"pods": {"0": {"signal": 9, "logs": [f"line {i}" for i in range(100)]}}}
    sig = ref_job("sig", script, completions=1, parallelism=1)
    del sig["spec"]["podFailurePolicy"]
    assert fake.create("jobs", sig).status == 201
    fake.finish("sig")
    [pod] = fake.pods("sig")
    term = main_state(pod)["state"]["terminated"]
    assert (term["exitCode"], term["signal"], term["reason"]) == (137, 9, "Error")
    assert term["message"].splitlines() == [f"line {i}" for i in range(20, 100)]  # last 80

    # ImagePullBackOff (forever), Unschedulable: the Job stays active; logs refuse politely.
    script = {"pods": {"0": {"waiting": "ImagePullBackOff"}, "1": {"unschedulable": True}}}
    assert fake.create("jobs", ref_job("stuck", script)).status == 201
    fake.control(advance={"job": "ml/stuck", "steps": 5})
    [waiting], [unsched] = fake.pod_by_index("stuck", 0), fake.pod_by_index("stuck", 1)
    state = main_state(waiting)["state"]["waiting"]
    assert state["reason"] == "ImagePullBackOff"
    assert state["message"] == ('Back-off pulling image '
                                '"123456789012.dkr.ecr.us-east-1.amazonaws.com/parity:latest"')
    reply = fake.call("GET", f"/api/v1/namespaces/{NS}/pods/{waiting['metadata']['name']}/log")
    assert reply.status == 400
    assert reply.json["message"] == (f'container "main" in pod "{waiting["metadata"]["name"]}" '
                                     'is waiting to start: ImagePullBackOff')
    assert unsched["status"]["phase"] == "Pending" and "containerStatuses" not in unsched["status"]
    sched = [c for c in unsched["status"]["conditions"] if c["type"] == "PodScheduled"][0]
    assert (sched["status"], sched["reason"]) == ("False", "Unschedulable")
    assert conditions(fake.job("stuck")) == {}
    assert fake.snapshot()["simulation"]["ml/stuck"]["state"] == "Active"

    # waiting_steps: an image that arrives after a while.
    script = {"pods": {"*": {"waiting": "ErrImagePull", "waiting_steps": 3}}}
    assert fake.create("jobs", ref_job("late", script, completions=1, parallelism=1)).status == 201
    assert "Complete" in conditions(fake.finish("late"))

    # NonIndexed: a retry is a new pod that takes the next attempt of the same script entry.
    script = {"pods": {"0": [{"exit_code": 1}, {"exit_code": 0}]}}
    plain = ref_job("plain", script, completionMode="NonIndexed", completions=1, parallelism=1,
                    backoffLimit=1)
    del plain["spec"]["podFailurePolicy"]
    assert fake.create("jobs", plain).status == 201
    job = fake.finish("plain")
    assert "Complete" in conditions(job) and job["status"]["failed"] == 1
    pods = sorted(fake.pods("plain"), key=lambda p: int(p["metadata"]["resourceVersion"]))
    assert [p["status"]["phase"] for p in pods] == ["Failed", "Succeeded"]
    assert all(len(p["metadata"]["name"]) == len("plain-") + 5 for p in pods)
    assert all("batch.kubernetes.io/job-completion-index" not in p["metadata"]["labels"]
               for p in pods)

    script = {"deadline_exceeded": True}
    assert fake.create("jobs", ref_job("slow", script)).status == 201
    failed = conditions(fake.finish("slow"))["Failed"]
    assert (failed["reason"], failed["message"]) == (
        "DeadlineExceeded", "Job was active longer than specified deadline")


def test_on_failure_restarts_and_previous_logs(kube):
    fake = kube(progress="manual")
    script = {"pods": {"0": [{"exit_code": 1, "logs": ["first run failed"]},
                             {"exit_code": 0, "logs": ["second run ok"]}]}}
    job = ref_job("restarts", script, completions=1, parallelism=1, backoffLimit=2)
    del job["spec"]["podFailurePolicy"]
    job["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert fake.create("jobs", job).status == 201
    fake.control(advance={"job": "ml/restarts", "steps": 3})  # pods, running, first exit
    [pod] = fake.pods("restarts")
    name = pod["metadata"]["name"]
    cs = main_state(pod)
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["restartCount"] == 1 and cs["lastState"]["terminated"]["exitCode"] == 1
    path = f"/api/v1/namespaces/{NS}/pods/{name}/log"
    assert fake.call("GET", path + "?previous=true").text == "first run failed\n"
    assert fake.call("GET", path).text == "first run failed\n"  # crash-looping: the last run
    job = fake.finish("restarts")
    assert "Complete" in conditions(job)
    assert fake.call("GET", path).text == "second run ok\n"
    assert fake.call("GET", path + "?previous=true").text == "first run failed\n"
    [pod] = fake.pods("restarts")
    assert pod["status"]["phase"] == "Succeeded" and main_state(pod)["restartCount"] == 1


# === logs =========================================================================================
def read_stream(resp):
    out = []
    while True:
        line = resp.readline()
        if not line:
            return out
        out.append(line.decode())


def test_pod_log_options(kube):
    fake = kube(progress="manual", clock="steps", lines_per_step=2)
    lines = [f"step line {i}" for i in range(6)]
    assert fake.create("jobs", ref_job("logs", {"logs": lines}, completions=1,
                                       parallelism=1)).status == 201
    fake.finish("logs")
    [pod] = fake.pods("logs")
    base = f"/api/v1/namespaces/{NS}/pods/{pod['metadata']['name']}/log"
    assert fake.call("GET", base + "?container=main").text == "".join(l + "\n" for l in lines)
    stamped = fake.call("GET", base + "?timestamps=true").text.splitlines()
    stamps = [s.split(" ", 1)[0] for s in stamped]
    assert [s.split(" ", 1)[1] for s in stamped] == lines
    # The step clock: two lines a step, one second apart, a millisecond between lines.
    assert stamps[:3] == ["2024-01-02T03:04:07Z", "2024-01-02T03:04:07.001Z",
                          "2024-01-02T03:04:08Z"]
    since = fake.call("GET", base + "?sinceTime=" + quote(stamps[2])).text.splitlines()
    assert since == lines[2:]
    assert fake.call("GET", base + "?tailLines=2").text.splitlines() == lines[-2:]
    assert fake.call("GET", base + "?tailLines=0").text == ""
    assert fake.call("GET", base + "?limitBytes=5").text == "step "
    assert fake.call("GET", base + "?previous=true").status == 400
    reply = fake.call("GET", base + "?container=sidecar")
    assert reply.status == 400 and "not valid for pod" in reply.json["message"]
    assert fake.call("GET", f"/api/v1/namespaces/{NS}/pods/nope/log").status == 404


def test_pod_log_follow_streams_until_the_container_ends(kube):
    fake = kube()  # progress=reads: the follow stream itself moves the job on
    lines = [f"epoch {i}" for i in range(25)]
    assert fake.create("jobs", ref_job("follow", {"logs": lines, "lines_per_step": 3},
                                       completions=1, parallelism=1)).status == 201
    [pod] = fake.pods("follow")  # Pending
    fake.pods("follow")  # Running, first lines out
    conn, resp = fake.open_stream(f"/api/v1/namespaces/{NS}/pods/{pod['metadata']['name']}"
                                  "/log?container=main&follow=true&timestamps=true")
    try:
        assert resp.status == 200
        assert resp.getheader("Transfer-Encoding") == "chunked"
        got = read_stream(resp)
    finally:
        conn.close()
    assert [g.split(" ", 1)[1].rstrip("\n") for g in got] == lines
    assert main_state(fake.pods("follow")[0])["state"]["terminated"]["exitCode"] == 0
    ends = [r for r in fake.records() if r.get("event") == "stream_end" and "/log" in r["path"]]
    assert ends and ends[-1]["why"] == "end" and ends[-1]["chunks"] > 1


# === watches ======================================================================================
def watch_events(fake, path):
    conn, resp = fake.open_stream(path)
    try:
        assert resp.status == 200
        assert resp.getheader("Transfer-Encoding") == "chunked"
        return [json.loads(line) for line in read_stream(resp)]
    finally:
        conn.close()


def test_watch_semantics(kube):
    fake = kube()
    jobs = f"/apis/batch/v1/namespaces/{NS}/jobs"
    listed = fake.get(jobs + "?limit=500")
    rv = listed["metadata"]["resourceVersion"]
    assert fake.create("jobs", ref_job("w1", {"exit_codes": [0, 0]})).status == 201
    events = watch_events(fake, f"{jobs}?resourceVersion={rv}&watch=true&timeoutSeconds=3"
                          "&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dw1")
    types = [e["type"] for e in events]
    assert types[0] == "ADDED" and types[-1] == "BOOKMARK" and "MODIFIED" in types
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)
    finals = [e["object"] for e in events if e["type"] == "MODIFIED"]
    assert "Complete" in conditions(finals[-1])  # the watch itself advanced the job

    # No resourceVersion: the current state as ADDED first.
    events = watch_events(fake, f"{jobs}?watch=true&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED"]
    # Pods of one job, by label.
    pods = watch_events(fake, f"/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1&"
                        "labelSelector=" + quote("job-name=w1"))
    assert len(pods) == 2 and {e["object"]["status"]["phase"] for e in pods} == {"Succeeded"}
    assert fake.get(f"/api/v1/namespaces/{NS}/pods?labelSelector=" +
                    quote("job-name in (w1,w2),!nope"))["items"]
    assert not fake.get(f"/api/v1/namespaces/{NS}/pods?labelSelector=" +
                        quote("job-name notin (w1)"))["items"]
    # Too old: 200, one ERROR event with a 410 Status, the end.
    fake.control(compact=True)
    events = watch_events(fake, f"{jobs}?resourceVersion={rv}&watch=true")
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"
    assert events[0]["object"]["message"].startswith(f"too old resource version: {rv} (")
    # limit/continue.
    assert fake.create("jobs", ref_job("w2")).status == 201
    page = fake.get(jobs + "?limit=1")
    assert len(page["items"]) == 1 and page["metadata"]["remainingItemCount"] == 1
    rest = fake.get(jobs + "?limit=1&continue=" + quote(page["metadata"]["continue"]))
    assert [j["metadata"]["name"] for j in page["items"] + rest["items"]] == ["w1", "w2"]


# === delete ======================================================================================
def test_delete_propagation(kube):
    fake = kube()
    for name in ("orphan-default", "orphan", "background", "foreground"):
        assert fake.create("jobs", ref_job(name)).status == 201
        fake.pods(name)  # pods exist
    path = f"/apis/batch/v1/namespaces/{NS}/jobs"

    reply = fake.call("DELETE", f"{path}/orphan-default")
    assert reply.status == 200 and reply.json["status"] == "Success"
    assert reply.json["details"]["kind"] == "jobs"
    assert reply.warnings() == [
        '299 - "child pods are preserved by default when jobs are deleted; set '
        'propagationPolicy=Background to remove them or set propagationPolicy=Orphan to '
        'suppress this warning"']
    orphans = fake.pods("orphan-default")
    assert len(orphans) == 2 and all("ownerReferences" not in p["metadata"] for p in orphans)
    assert fake.call("GET", f"{path}/orphan-default").status == 404

    reply = fake.call("DELETE", f"{path}/orphan", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                   "propagationPolicy": "Orphan"})
    assert reply.status == 200 and not reply.warnings()
    assert len(fake.pods("orphan")) == 2

    jobs_rv = fake.get(path)["metadata"]["resourceVersion"]
    reply = fake.call("DELETE", f"{path}/background?propagationPolicy=Background")
    assert reply.status == 200 and not reply.warnings()
    assert fake.pods("background") == []
    events = watch_events(fake, f"/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1&"
                          f"resourceVersion={jobs_rv}&labelSelector=" + quote("job-name=background"))
    assert [e["type"] for e in events] == ["DELETED", "DELETED"]

    reply = fake.call("DELETE", f"{path}/foreground", {"propagationPolicy": "Foreground"})
    assert reply.status == 200, reply
    assert reply.json["kind"] == "Job" and reply.json["metadata"]["deletionTimestamp"]
    assert reply.json["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert fake.call("GET", f"{path}/foreground").status == 404
    assert fake.pods("foreground") == []

    assert fake.call("DELETE", f"{path}/foreground").status == 404
    svc = f"/api/v1/namespaces/{NS}/services"
    assert fake.create("services", ref_svc()).status == 201
    assert fake.call("DELETE", f"{svc}/demo-job-1").json["status"] == "Success"
    # A re-created job of the same name is a new job (new uid, new pods).
    assert fake.create("jobs", ref_job("background")).status == 201
    assert len(fake.pods("background")) == 2
    policies = [(r["path"].rsplit("/", 1)[-1], r.get("propagationPolicy"))
                for r in fake.requests() if r["method"] == "DELETE" and r["status"] == 200]
    assert policies[:4] == [("orphan-default", None), ("orphan", "Orphan"),
                            ("background", "Background"), ("foreground", "Foreground")]


# === real clients ================================================================================
def test_kubectl_against_the_fake(kube, tmp_path):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    # The reference files as they are; the job's script comes through /_control.
    fake = kube(watch_timeout=3, jobs={"ml/demo-job-1": {
        "exit_codes": [0, 0], "logs": ["hello {index}", "bye {index}"]}})
    kc, exec_info = write_kubeconfig(fake, tmp_path)
    job_file = ref_file(tmp_path, "ref_job.json", REF_JOB_BODY)

    r = kubectl(kc, "create", "-f", str(job_file))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "job.batch/demo-job-1 created"
    r = kubectl(kc, "create", "-f", str(ref_file(tmp_path, "ref_svc.json", REF_SVC_BODY)))
    assert r.returncode == 0 and r.stdout.strip() == "service/demo-job-1 created", r.stderr
    post = [r for r in fake.requests() if r["method"] == "POST"]
    assert post[0]["path"] == "/apis/batch/v1/namespaces/ml/jobs"
    assert post[0]["auth"] == {"kind": "token", "user": TOKEN_USER}
    modern = kubectl_minor() >= 27
    if modern:  # kubectl found fieldValidation in /openapi/v3 and left the check to the server
        assert post[0]["query"]["fieldValidation"] == "Strict"

    r = kubectl(kc, "create", "-f", str(job_file))
    assert r.returncode != 0 and 'jobs.batch "demo-job-1" already exists' in r.stderr
    bad = ref_job()
    bad["metadata"]["name"] = "typo"
    bad["spec"]["backofLimit"] = 1
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    if modern:
        r = kubectl(kc, "create", "-f", str(tmp_path / "bad.json"))
        assert r.returncode != 0 and 'unknown field "spec.backofLimit"' in r.stderr, r.stderr
    bad = ref_job("Bad-Name")
    (tmp_path / "bad2.json").write_text(json.dumps(bad))
    r = kubectl(kc, "create", "-f", str(tmp_path / "bad2.json"))
    # kubectl rebuilt its message from details.causes, as it does for the real apiserver's.
    assert r.returncode != 0, r.stderr
    assert r.stderr.startswith('The Job "Bad-Name" is invalid: \n* metadata.name: Invalid value: '
                               '"Bad-Name": a lowercase RFC 1123 label'), r.stderr

    r = kubectl(kc, "get", "job", "demo-job-1", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["spec"]["completionMode"] == "Indexed"
    # get -w: ends when the fake closes the watch (watch_timeout 3 s); the watch moves the job on.
    r = kubectl(kc, "get", "job", "demo-job-1", "-w", "-o", "jsonpath={.status.succeeded}{\"\\n\"}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "2"
    r = kubectl(kc, "get", "jobs")
    assert r.returncode == 0 and "Complete" in r.stdout and "2/2" in r.stdout, r.stdout
    r = kubectl(kc, "get", "pods", "-l", "job-name=demo-job-1", "-o", "name")
    pods = sorted(r.stdout.split())
    assert len(pods) == 2 and all(p.startswith("pod/demo-job-1-") for p in pods)
    r = kubectl(kc, "logs", "-f", "job/demo-job-1")
    assert r.returncode == 0 and r.stdout == "hello 0\nbye 0\n", r.stderr
    r = kubectl(kc, "logs", "-f", "-l", "job-name=demo-job-1", "--prefix", "--timestamps")
    assert r.returncode == 0, r.stderr
    assert sorted(line.split(" ", 2)[2] for line in r.stdout.splitlines()) == \
        ["bye 0", "bye 1", "hello 0", "hello 1"]
    r = kubectl(kc, "logs", pods[1], "--previous")
    assert r.returncode != 0 and "previous terminated container" in r.stderr

    # Other users: client certificate, exec plugin; a bad token is refused.
    r = kubectl(kc, "get", "pods", "-o", "name", context="cert")
    assert r.returncode == 0 and len(r.stdout.split()) == 2, r.stderr
    r = kubectl(kc, "get", "jobs", "-o", "name", context="exec")
    assert r.returncode == 0 and r.stdout.strip() == "job.batch/demo-job-1", r.stderr
    assert json.loads(exec_info.read_text()) == {
        "kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {"interactive": False}}
    r = kubectl(kc, "get", "jobs", context="bad-token")
    assert r.returncode != 0 and "Unauthorized" in r.stderr
    users = {(r["auth"]["kind"], r["auth"].get("user")) for r in fake.requests()}
    assert {("cert", "parity-admin"), ("token", EXEC_USER), ("invalid", None)} <= users

    r = kubectl(kc, "delete", "job", "demo-job-1", "--cascade=background")
    assert r.returncode == 0 and 'job.batch "demo-job-1" deleted' in r.stdout, r.stderr
    delete = [r for r in fake.requests() if r["method"] == "DELETE"][-1]
    assert json.loads(delete["body"])["propagationPolicy"] == "Background"
    r = kubectl(kc, "get", "pods", "-o", "name")
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout
    r = kubectl(kc, "delete", "service", "demo-job-1")
    assert r.returncode == 0, r.stderr


def test_kubectl_with_aws_eks_get_token(kube, tmp_path):
    """The kubeconfig `aws eks update-kubeconfig` writes, with Debian's AWS CLI as the plugin."""
    if KUBECTL is None or not os.access(AWS_CLI, os.X_OK):
        pytest.skip("needs kubectl and the Debian AWS CLI (/usr/bin/aws)")
    fake = kube()
    aws_env = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SECRET,
               "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
               "AWS_EC2_METADATA_DISABLED": "true"}
    users = {region: {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": AWS_CLI,
        "args": ["--region", region, "eks", "get-token", "--cluster-name", cluster,
                 "--output", "json"],
        "env": [{"name": k, "value": v} for k, v in aws_env.items()],
        "interactiveMode": "Never"}} for region, cluster in
        (("eu-west-1", CLUSTER), ("us-east-1", CLUSTER), ("us-west-2", "other-cluster"))}
    kc, _ = write_kubeconfig(fake, tmp_path, users)
    for region in ("eu-west-1", "us-east-1"):
        r = kubectl(kc, "get", "pods", context=region)
        assert r.returncode == 0, r.stderr
    r = kubectl(kc, "get", "pods", context="us-west-2")
    assert r.returncode != 0 and "Unauthorized" in r.stderr
    eks = [r["auth"] for r in fake.requests() if r["auth"]["kind"] == "eks"]
    assert eks and all(a["user"] == "eks-admin" for a in eks)
    refused = [r["auth"] for r in fake.requests() if r["auth"]["kind"] == "invalid"]
    assert refused and "SignatureDoesNotMatch" in refused[0]["error"]


def test_python_kubernetes_client(kube, tmp_path):
    kubernetes = pytest.importorskip("kubernetes", reason="python3-kubernetes (ci/deps.sh)")
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException

    fake = kube()
    kc, exec_info = write_kubeconfig(fake, tmp_path)
    api = config.new_client_from_config(config_file=str(kc), context="token")
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)

    job = ref_job("py-job", {"exit_codes": [0, 0], "logs": ["py {index}"]})
    created = batch.create_namespaced_job(NS, job)
    assert created.metadata.name == "py-job" and created.metadata.uid
    uid = created.metadata.uid
    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_job(NS, job)
    assert exc.value.status == 409 and json.loads(exc.value.body)["reason"] == "AlreadyExists"
    assert core.create_namespaced_service(NS, ref_svc()).spec.cluster_ip == "None"

    listed = batch.list_namespaced_job(NS, label_selector="parity/job=py-job")
    assert [j.metadata.name for j in listed.items] == ["py-job"]
    seen = []
    for event in watch.Watch().stream(batch.list_namespaced_job, NS,
                                      field_selector="metadata.name=py-job",
                                      resource_version=listed.metadata.resource_version,
                                      timeout_seconds=20):
        seen.append(event["type"])
        st = event["object"].status
        if any(c.type == "Complete" and c.status == "True" for c in st.conditions or []):
            break
    assert seen[0] == "MODIFIED" and st.succeeded == 2

    pods = core.list_namespaced_pod(NS, label_selector=f"controller-uid={uid}").items
    assert len(pods) == 2
    for pod in pods:
        index = pod.metadata.labels["batch.kubernetes.io/job-completion-index"]
        term = [c for c in pod.status.container_statuses if c.name == "main"][0].state.terminated
        assert term.exit_code == 0 and term.reason == "Completed"
        log = core.read_namespaced_pod_log(pod.metadata.name, NS, container="main")
        assert log == f"py {index}\n"
        stream = core.read_namespaced_pod_log(pod.metadata.name, NS, container="main",
                                              follow=True, _preload_content=False)
        assert stream.read() == f"py {index}\n".encode()

    # 410: the python client retries once, then raises.
    fake.control(compact=True)
    with pytest.raises(ApiException) as exc:
        for _ in watch.Watch().stream(batch.list_namespaced_job, NS,
                                      resource_version=listed.metadata.resource_version,
                                      timeout_seconds=5):
            pass
    assert exc.value.status == 410

    status = batch.delete_namespaced_job("py-job", NS, propagation_policy="Background")
    assert status.status == "Success"
    delete = [r for r in fake.requests() if r["method"] == "DELETE"][-1]
    assert delete["query"]["propagationPolicy"] == "Background"  # the query form
    assert core.list_namespaced_pod(NS, label_selector=f"controller-uid={uid}").items == []
    core.delete_namespaced_service("demo-job-1", NS)

    # The exec plugin, through python3-kubernetes' ExecProvider.
    exec_api = config.new_client_from_config(config_file=str(kc), context="exec")
    assert client.BatchV1Api(exec_api).list_namespaced_job(NS).items == []
    assert json.loads(exec_info.read_text())["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert fake.requests()[-1]["auth"] == {"kind": "token", "user": EXEC_USER}

    # Validation errors arrive as ApiException with the Status.
    bad = ref_job("py-bad")
    bad["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_job(NS, bad)
    assert exc.value.status == 422
    assert json.loads(exc.value.body)["details"]["causes"][0]["field"] == \
        "spec.template.spec.restartPolicy"
    del kubernetes


def test_request_log_and_control(kube):
    fake = kube()
    fake.control(faults=[{"type": "status", "status": 503, "code": "ServiceUnavailable",
                          "count": 1, "path": "/apis/batch"}, {"type": "throttle", "count": 1,
                                                              "path": "/api/v1"}])
    reply = fake.call("GET", "/apis/batch/v1/namespaces/ml/jobs")
    assert reply.status == 503 and reply.json["reason"] == "ServiceUnavailable"
    reply = fake.call("GET", "/api/v1/namespaces/ml/pods")
    assert reply.status == 429 and dict(reply.headers)["Retry-After"] == "1"
    assert fake.create("jobs", ref_job("logged")).status == 201
    record = [r for r in fake.requests() if r["method"] == "POST"][-1]
    assert record["path"] == "/apis/batch/v1/namespaces/ml/jobs"
    assert record["query"] == {"fieldValidation": "Strict"}
    assert record["auth"] == {"kind": "token", "user": TOKEN_USER}
    assert record["status"] == 201
    assert json.loads(record["body"])["metadata"]["name"] == "logged"
    assert record["validation"]["fieldValidation"] == "Strict"
    snap = fake.snapshot()
    assert snap["simulation"]["ml/logged"]["script_source"] == "builtin"
    assert snap["validators"]["roundtrip"].startswith(("on", "off"))
    fake.control(reset=True)
    assert fake.get("/apis/batch/v1/namespaces/ml/jobs")["items"] == []
    # Concurrent followers and watchers do not deadlock the fake.
    assert fake.create("jobs", ref_job("busy", {"logs": [str(i) for i in range(40)],
                                                "lines_per_step": 1})).status == 201
    fake.pods("busy")
    fake.pods("busy")
    followed, watched = [], []

    def follow(pod):
        conn, resp = fake.open_stream(f"/api/v1/namespaces/{NS}/pods/{pod}/log?follow=true")
        followed.append(len(read_stream(resp)))
        conn.close()

    threads = [threading.Thread(target=follow, args=(p["metadata"]["name"],))
               for p in fake.pods("busy")]
    threads.append(threading.Thread(target=lambda: watched.extend(watch_events(
        fake, f"/apis/batch/v1/namespaces/{NS}/jobs?watch=true&timeoutSeconds=2"))))
    for t in threads:
        t.start()
    for t in threads:
        t.join(EXIT_TIMEOUT)
    assert followed == [40, 40]
    assert watched[0]["type"] == "ADDED" and "Complete" in conditions(watched[-1]["object"])

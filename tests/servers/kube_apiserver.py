#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake kube-apiserver (an EKS control plane, as far as parity needs one) on 127.0.0.1, TLS only.

Start:  kube_apiserver.py --cert-dir DIR [--node-modules DIR] [--log LOG] [--config JSON]
        [--client-cn NAME] [--port N]
It makes a throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate
(CN --client-cn, default parity-admin, O system:masters) and writes into DIR: ca.crt, ca.key,
server.crt, server.key, client.crt, client.key, and once the port is known, `kubeconfig` (cluster
"fake", users "token" (the first static token, if any) and "cert", contexts of the same names,
namespace ml). Then it prints `ready port=N`. A plain-http request on the port is answered the
way Go's TLS server answers it (400 "Client sent an HTTP request to an HTTPS server.").

Authentication (401 Status "Unauthorized" otherwise; no credentials are anonymous and only get
/version, /healthz, /livez, /readyz):
- a client certificate signed by the CA (optional in the handshake): user = CN, groups = O;
- `Authorization: Bearer T`, T in `tokens` ({token: user} or {token: {"user", "groups"}});
- EKS tokens `k8s-aws-v1.<base64url, unpadded, presigned STS GetCallerIdentity URL>`, checked
  like aws-iam-authenticator's server (size <= 4096, prefix, raw base64url, https, an STS host
  of the partition (sts.amazonaws.com only in aws; a regional host must match the credential
  scope's region), path /, whitelisted query parameters each once, Action=GetCallerIdentity,
  x-k8s-aws-id signed, 0 <= X-Amz-Expires <= 900, X-Amz-Date less than 15 minutes old), then
  instead of calling STS the signature is recomputed with botocore's SigV4QueryAuth for the
  configured cluster name and the key's secret (eks.keys, or common.secret_for for keys the
  other fakes issued; a temporary key needs its own session token). user = eks.users[AKID], or
  "eks:AKID". State `eks`: {"cluster": "my-cluster", "keys": {AKID: secret}, "users": {AKID:
  user}, "partition": "aws" | "aws-cn", "now": "20240102T030500Z" (pins the clock, for the
  contract's golden vectors)}.
Authorization: everything is allowed except the `deny` rules: [{"user", "verb", "resource",
"namespace"}] (missing keys match anything) -> 403 Forbidden Status.

API: discovery (/api, /api/v1, /apis, /apis/batch, /apis/batch/v1, /version, /openapi/v3 with
just enough for kubectl to trust server-side field validation; /openapi/v2 is 404), namespaces
(GET), batch/v1 jobs and v1 services (POST, GET, list, watch, DELETE), v1 pods (GET, list,
watch, DELETE, /log). Lists take labelSelector (=, ==, !=, in, notin, exists, !exists),
fieldSelector (metadata.name, metadata.namespace, status.phase, spec.nodeName), limit and
continue. `Accept: ...;as=Table` gets a meta.k8s.io/v1 Table, as kubectl asks for it.
Watch (?watch=true): chunked, one {"type","object"} JSON per line (ADDED, MODIFIED, DELETED,
BOOKMARK, ERROR); no resourceVersion or "0": ADDED for what exists, then changes; N: changes
after N, or one ERROR event with a 410 Expired Status when N is older than the history kept
(`history` events; POST /_control {"compact": true} forgets all of it); the stream ends after
timeoutSeconds (default `watch_timeout`, 300), with a BOOKMARK first when allowWatchBookmarks.

Create (POST): the body is checked as the real apiserver would, in its order:
1. decoding: JSON (or YAML), apiVersion/kind/namespace agree with the URL, unknown and duplicate
   fields per fieldValidation (Strict: 400 "strict decoding error: unknown field \"spec.x\"";
   Warn, the default: dropped with a `Warning: 299 - "unknown field ..."` header; Ignore:
   dropped), wrong JSON types (400 BadRequest naming the field);
2. validation (422 Invalid, details.causes name each field): the kubernetes-models 5.1.0 JSON
   schemas (kube_validate.mjs, a node child; unknown fields come from its .d.ts field tables),
   a round trip through python3-kubernetes 22.6 models (ApiClient deserialize, then
   sanitize_for_serialization: a changed value is a type coercion (400), a dropped field is
   unknown unless the 5.1.0 tables know it (a field newer than 1.22)), and hand rules: names
   DNS-1123 labels <= 63 (services DNS-1035), restartPolicy Never|OnFailure, Indexed needs
   completions, podFailurePolicy needs restartPolicy Never, extended resources (nvidia.com/gpu)
   integral and in limits (requests, when given, equal to them), containers named uniquely with
   an image, volumeMounts naming volumes, env names, label values, a service's ports unless it
   is headless. `validate`: {"schema", "roundtrip", "rules"} (all true) turns each off. Without
   --node-modules (or PARITY_NODE_MODULES) or node the schema check is off (GET /_control shows
   why) and a short list of post-1.22 fields stands in for the field tables.
3. defaults as the apiserver sets them (uid, resourceVersion, selector and controller-uid/job-name
   labels, backoffLimit 6, completions/parallelism 1, container defaults, requests from limits,
   a service's clusterIP and port defaults) -> 201 with the object; 409 AlreadyExists;
   dryRun=All stores nothing.
Each request's log record has `validation`: what each check found.

Delete: propagationPolicy from the DeleteOptions body or the query. Jobs: none given -> Orphan
plus the apiserver's Warning header ("child pods are preserved by default ..."); Orphan: the
pods stay, their ownerReferences removed (and they stop advancing); Background: the Job, then
its pods, are deleted; Foreground: the Job gets deletionTimestamp and the foregroundDeletion
finalizer (that is the answer), then pods and Job are deleted. Jobs and services answer a
Success Status, pods the pod. preconditions.uid is honoured (409 Conflict).

The Job controller is simulated, step by step, with no timing of its own:
- step 1: startTime, pods for the first `parallelism` indexes (Indexed: <job>-<i>-<5 chars>,
  hostname <job>-<i>, label and annotation batch.kubernetes.io/job-completion-index, env
  JOB_COMPLETION_INDEX; else <job>-<5 chars>), labels job-name, controller-uid,
  batch.kubernetes.io/job-name, batch.kubernetes.io/controller-uid, the template's own, an
  ownerReference to the Job; phase Pending, container waiting ContainerCreating.
- then each step moves every active pod on: Pending -> (waiting: the scripted reason, for
  waiting_steps steps or forever) -> Running (logs appear, lines_per_step lines a step) ->
  terminated (Succeeded/Failed, containerStatuses[].state.terminated {exitCode, reason,
  message, signal, startedAt, finishedAt}); evicted pods end Failed/Evicted with a
  DisruptionTarget condition and no containerStatuses; unschedulable ones stay Pending with
  PodScheduled=False/Unschedulable. Failed pods go through podFailurePolicy (FailJob, Ignore,
  Count) and backoffLimit; a retry is a new pod (restartPolicy Never) or a container restart in
  the same pod (OnFailure: CrashLoopBackOff for a step, restartCount, lastState.terminated,
  logs of the previous run via previous=true). The Job gets active/ready/succeeded/failed/
  completedIndexes and, at the end, conditions SuccessCriteriaMet+Complete (CompletionsReached)
  or FailureTarget+Failed (BackoffLimitExceeded, PodFailurePolicy, DeadlineExceeded); pods still
  active then end Failed with exit code 143 (the fake keeps them so they can be read).
- When a step happens (`progress`): "reads" (default): every GET or list of jobs or pods and
  every pod log request first advances the jobs concerned by one step (for pods: the jobs whose
  pods the selector would match), a watch or log follow that has nothing to send advances its
  jobs one step (then waits up to 0.5 s for other changes before the next step); "manual": only
  POST /_control {"advance": ...} does. Either way POST /_control {"advance": {"job":
  "ns/name" | "name" | "*", "steps": N | "until": "terminal"}} steps on demand.
- `clock`: "real" (default) or "steps": timestamps are 2024-01-02T03:04:05Z plus one second a
  step (log lines a millisecond apart), so sinceTime can be tested exactly.

The script of a Job, read when it is created: state `jobs` {"ns/name" or "name": SCRIPT}, else
the JSON value of env FAKE_KUBE_SCRIPT in the Job's containers, else state `default_script`,
else all exit 0.
  SCRIPT = {"exit_codes": [0, 3],            # shorthand: pods[i].exit_code
            "logs": ["line", ...],           # shorthand: defaults.logs
            "defaults": POD, "pods": {"<index>": POD | [POD, ...], "*": POD},  # a list: attempts
            "lines_per_step": 10, "deadline_exceeded": false}
  POD = {"exit_code": 0, "signal": null, "reason": null, "message": null, "logs": [...],
         "oom": false, "evicted": false, "unschedulable": false, "waiting": "ImagePullBackOff",
         "waiting_message": null, "waiting_steps": null (forever) | N, "steps": 0}
Log lines may use {pod}, {index}, {attempt}, {job}, {exit_code}. Default logs: "{pod}: started",
"{pod}: exit {exit_code}". oom: reason OOMKilled, exit 137; signal N: exit 128+N;
message: the termination message (with FallbackToLogsOnError a failed pod without one gets the
last 80 lines / 2048 bytes of its log). deadline_exceeded: once the pods run, the Job fails
with DeadlineExceeded.

Pod logs: GET /api/v1/namespaces/NS/pods/NAME/log with container (needed when the pod has
several), follow (chunked, ends when the container ends or the pod goes), timestamps
(RFC3339Nano prefix), sinceTime, sinceSeconds, tailLines, limitBytes, previous (400 when there
is no previous run). A pod whose container has not started: 400 BadRequest "container \"main\"
in pod \"P\" is waiting to start: ContainerCreating", as the kubelet answers.

Control: GET /_control: state, counters, rv, validators, and `simulation` (every job's steps,
script source and pods: state, outcome, restarts, exit code). POST
/_control: JSON merged into the state (tokens, eks, deny, namespaces (null: any), jobs,
default_script, progress, clock, lines_per_step, watch_timeout, history, validate, faults as in
common.py: a Status body, throttle = 429), plus the actions advance, compact and reset (drop all
objects). /_control is on the TLS port and needs no credentials.

Log (--log): one JSON line per request: method, path, query ({name: value}), auth {kind:
cert|token|eks|none|invalid, user, groups, error}, headers, body, status, fault, validation,
warnings; streams add a second line {"event": "stream_end", "path", "chunks", "why"}.
"""

import base64
import bisect
import copy
import hashlib
import hmac
import importlib.util
import ipaddress
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve().parent
BODY_LOG_LIMIT = 65536
STEP_CLOCK_BASE = 1704164645  # 2024-01-02T03:04:05Z
SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-parity-fake",
                  "gitCommit": "0000000000000000000000000000000000000000",
                  "gitTreeState": "clean", "buildDate": "2024-01-02T03:04:05Z",
                  "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"}
ORPHAN_WARNING = ("child pods are preserved by default when jobs are deleted; set "
                  "propagationPolicy=Background to remove them or set propagationPolicy=Orphan "
                  "to suppress this warning")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
DNS1123_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                     "or '-', and must start and end with an alphanumeric character (e.g. "
                     "'my-name',  or '123-abc', regex used for validation is "
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_LABEL_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                     "start with an alphabetic character, and end with an alphanumeric character "
                     "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
                     "'[a-z]([-a-z0-9]*[a-z0-9])?')")
POD_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Fields python3-kubernetes 22.6 (Kubernetes 1.22) does not know; used only when the 5.1.0
# field tables (node) are not there to tell a newer field from a typo.
NEWER_FIELDS = {"podFailurePolicy", "successPolicy", "managedBy", "backoffLimitPerIndex",
                "maxFailedIndexes", "podReplacementPolicy", "hostUsers", "schedulingGates",
                "resourceClaims", "resizePolicy", "restartPolicyRules", "os", "claims",
                "trafficDistribution", "internalTrafficPolicy", "allocateLoadBalancerNodePorts",
                "loadBalancerClass", "appProtocol", "matchLabelKeys", "mismatchLabelKeys",
                "nodeAffinityPolicy", "nodeTaintsPolicy", "minDomains", "setHostnameAsFQDN",
                "appArmorProfile", "hostnameOverride", "resources", "ephemeralContainers"}
QUANTITY_MAPS = {"limits", "requests", "overhead", "capacity", "allocatable", "hard"}
EKS_WHITELIST = {"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                 "x-amz-expires", "x-amz-security-token", "x-amz-signature",
                 "x-amz-signedheaders"}
EKS_HOSTS = {"aws": re.compile(r"^sts(\.[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d)?\.amazonaws\.com$"),
             "aws-cn": re.compile(r"^sts\.cn-[a-z]+-\d\.amazonaws\.com\.cn$")}


# --- small helpers -------------------------------------------------------------------------------
def rfc3339(epoch):
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339nano(epoch_ns):
    """Go's time.RFC3339Nano (fraction with trailing zeros trimmed) of integer nanoseconds."""
    whole, nanos = divmod(int(epoch_ns), 1_000_000_000)
    text = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{nanos:09d}".rstrip("0")
    return text + ("." + frac if frac else "") + "Z"


def parse_time(text):
    """RFC3339 (with or without a fraction, Z or an offset) -> epoch seconds, or None."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text or "")
    if not m:
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = timezone.utc if m.group(3) == "Z" else timezone(
        timedelta(hours=int(m.group(3)[1:3]), minutes=int(m.group(3)[4:6]))
        * (1 if m.group(3)[0] == "+" else -1))
    return base.replace(tzinfo=tz).timestamp() + (float(m.group(2)) if m.group(2) else 0.0)


def human_age(seconds):
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    return f"{h // 24}d"


def go_bool(text):
    """A query flag as Go's strconv.ParseBool reads it (python3-kubernetes sends "True")."""
    return text in ("1", "t", "T", "TRUE", "true", "True")


def compress_indexes(indexes):
    """Sorted ints -> "0-2,4" (the completedIndexes form)."""
    out, run = [], []
    for i in sorted(indexes):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def field_path(segs):
    """Pointer segments -> the apiserver's field path (a.b[0].c, maps as labels[key])."""
    out = ""
    for i, seg in enumerate(segs):
        parent = segs[i - 1] if i else None
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif parent in ("labels", "annotations", "nodeSelector", "matchLabels", "selector",
                        "data") or parent in QUANTITY_MAPS:
            out += f"[{seg}]"
        else:
            out += ("." if out else "") + seg
    return out


def pointer(segs):
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segs)


def delete_pointer(obj, ptr):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]
    cur = obj
    for part in parts[:-1]:
        if isinstance(cur, list):
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            cur = cur.get(part)
        if cur is None:
            return
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


class ApiError(Exception):
    """An answer that is a Status (raised anywhere in request handling)."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details, headers or {}


def warning_header(text):
    """A Warning header value as the apiserver sends it (RFC 7234 quoted string)."""
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details:
        body["details"] = details
    body["code"] = code
    return body


# --- resources ---------------------------------------------------------------------------------
class Resource:
    def __init__(self, name, group, version, kind, short=(), verbs=()):
        self.name, self.group, self.version, self.kind = name, group, version, kind
        self.short, self.verbs = list(short), list(verbs)

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self):
        return f"{self.name}.{self.group}" if self.group else self.name

    def details(self, name=None, uid=None):
        d = {"name": name, "group": self.group, "kind": self.name}
        if uid:
            d["uid"] = uid
        return {k: v for k, v in d.items() if v is not None and (k != "group" or v)}


RESOURCES = {
    "jobs": Resource("jobs", "batch", "v1", "Job",
                     verbs=["create", "delete", "get", "list", "watch"]),
    "pods": Resource("pods", "", "v1", "Pod", short=["po"],
                     verbs=["delete", "get", "list", "watch"]),
    "services": Resource("services", "", "v1", "Service", short=["svc"],
                         verbs=["create", "delete", "get", "list", "watch"]),
}


# --- PKI ---------------------------------------------------------------------------------------
def make_pki(cert_dir, client_cn):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    from cryptography import x509  # Debian python3-cryptography
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    cert_dir = Path(cert_dir)
    cert_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)

    def name(cn, org=None):
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    def build(subject, key, issuer, issuer_key, ca=False, usage=None, san=None):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=7))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=False, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                          encipher_only=False, decipher_only=False), True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
        if not ca:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), False)
            b = b.add_extension(x509.ExtendedKeyUsage([usage]), False)
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), False)
        return b.sign(issuer_key, hashes.SHA256())

    def write(stem, cert, key):
        (cert_dir / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        path = cert_dir / f"{stem}.key"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("parity-fake-kube-ca")
    ca = build(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = build(name("kube-apiserver"), server_key, ca_name, ca_key,
                   usage=ExtendedKeyUsageOID.SERVER_AUTH,
                   san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.DNSName("localhost"), x509.DNSName("kubernetes")])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = build(name(client_cn, "system:masters"), client_key, ca_name, ca_key,
                   usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    write("ca", ca, ca_key)
    write("server", server, server_key)
    write("client", client, client_key)
    return cert_dir


def write_kubeconfig(cert_dir, port, tokens):
    """DIR/kubeconfig: cluster "fake"; users "cert" and (with a static token) "token"."""
    b64 = lambda p: base64.b64encode((cert_dir / p).read_bytes()).decode()  # noqa: E731
    users = [{"name": "cert", "user": {"client-certificate-data": b64("client.crt"),
                                       "client-key-data": b64("client.key")}}]
    contexts = [{"name": "cert", "context": {"cluster": "fake", "user": "cert", "namespace": "ml"}}]
    current = "cert"
    if tokens:
        users.insert(0, {"name": "token", "user": {"token": next(iter(tokens))}})
        contexts.insert(0, {"name": "token",
                            "context": {"cluster": "fake", "user": "token", "namespace": "ml"}})
        current = "token"
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
              "clusters": [{"name": "fake", "cluster": {
                  "server": f"https://127.0.0.1:{port}",
                  "certificate-authority-data": b64("ca.crt")}}],
              "users": users, "contexts": contexts, "current-context": current}
    path = cert_dir / "kubeconfig"
    path.write_text(json.dumps(config, indent=1) + "\n")
    path.chmod(0o600)


# --- EKS token verification --------------------------------------------------------------------
class EksError(Exception):
    pass


def verify_eks_token(token, cfg, now=None):
    """aws-iam-authenticator's server checks, then the signature recomputed with botocore for
    cfg["cluster"]; returns (access key id, user). Raises EksError."""
    from botocore.auth import SigV4QueryAuth  # Debian python3-botocore
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    prefix = "k8s-aws-v1."
    if len(token) > 4096:
        raise EksError("token is too large")
    if not token.startswith(prefix):
        raise EksError("token is missing expected \"k8s-aws-v1.\" prefix")
    data = token[len(prefix):]
    if not re.fullmatch(r"[A-Za-z0-9_-]*", data) or len(data) % 4 == 1:
        raise EksError("illegal base64 data")  # Go's RawURLEncoding: no padding, URL alphabet
    try:
        url = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise EksError("illegal base64 data") from None
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise EksError(f"unexpected scheme {parts.scheme!r} in pre-signed URL")
    partition = cfg.get("partition", "aws")
    host = parts.netloc
    pattern = EKS_HOSTS.get(partition)
    if pattern is None or not pattern.match(host):
        raise EksError(f"unexpected hostname {host!r} in pre-signed URL")
    if parts.path != "/":
        raise EksError("unexpected path in pre-signed URL")
    try:
        params = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise EksError("input token was not properly formatted: malformed query parameters") from None
    lower = {}
    for key, values in params.items():
        if key.lower() not in EKS_WHITELIST:
            raise EksError(f"non-whitelisted query parameter {key!r}")
        if len(values) != 1 or key.lower() in lower:
            raise EksError("query parameter with multiple values not supported")
        lower[key.lower()] = values[0]
    if lower.get("action") != "GetCallerIdentity":
        raise EksError("unexpected action parameter in pre-signed URL")
    if "x-k8s-aws-id" not in lower.get("x-amz-signedheaders", "").split(";"):
        raise EksError("client did not sign the x-k8s-aws-id header in the pre-signed URL")
    try:
        expires = int(lower.get("x-amz-expires", ""))
    except ValueError:
        expires = -1
    if not 0 <= expires <= 900:
        raise EksError(f"invalid X-Amz-Expires parameter in pre-signed URL: {expires}")
    date = lower.get("x-amz-date")
    if not date:
        raise EksError("X-Amz-Date parameter must be present in pre-signed URL")
    try:
        stamp = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise EksError(f"error parsing X-Amz-Date parameter {date!r}") from None
    if cfg.get("now"):
        now = datetime.strptime(cfg["now"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=timezone.utc).timestamp()
    now = time.time() if now is None else now
    if now > stamp + 900:
        raise EksError(f"X-Amz-Date parameter is expired (15 minute expiration) {date}")
    # What STS then checks when the authenticator sends it the request.
    if stamp > now + 900:
        raise EksError("STS: Signature not yet current")
    cred = lower.get("x-amz-credential", "").split("/")
    if len(cred) != 5 or cred[3] != "sts" or cred[4] != "aws4_request" or cred[1] != date[:8]:
        raise EksError("STS: bad X-Amz-Credential scope")
    ak, region = cred[0], cred[2]
    if host == "sts.amazonaws.com":
        if region != "us-east-1":
            raise EksError(f"STS: credential scope region {region} for the global endpoint")
    elif not host.startswith(f"sts.{region}."):
        raise EksError(f"STS: credential scope region {region} does not match host {host}")
    keys = cfg.get("keys") or {}
    secret = keys.get(ak) or (common.secret_for(ak) if common.is_ours(ak) else None)
    if secret is None:
        raise EksError("STS: InvalidClientTokenId: the security token included in the request "
                       "is invalid")
    session = lower.get("x-amz-security-token")
    if ak.startswith("ASIA") and common.is_ours(ak):
        problem = common.check_session_token(ak, session)
        if problem:
            raise EksError(f"STS: {problem}")
    cluster = cfg.get("cluster", "")
    operation = [(k, v[0]) for k, v in params.items() if not k.lower().startswith("x-amz-")]
    request = AWSRequest(method="GET",
                         url=f"https://{host}/?" + urlencode(operation, quote_via=quote),
                         headers={"x-k8s-aws-id": cluster})
    request.context["timestamp"] = date
    signer = SigV4QueryAuth(Credentials(ak, secret, session), "sts", region, expires=expires)
    signer._modify_request_before_signing(request)
    want = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)),
                            request)
    if not hmac.compare_digest(want, lower.get("x-amz-signature", "")):
        raise EksError("STS: SignatureDoesNotMatch: the request signature we calculated does not "
                       f"match (signed for another cluster than {cluster!r}, another key or "
                       "another request)")
    return ak, (cfg.get("users") or {}).get(ak, f"eks:{ak}")


# --- validation --------------------------------------------------------------------------------
class SchemaValidator:
    """kube_validate.mjs as a long-lived node child (one request line, one answer line)."""

    def __init__(self, node_modules):
        self.node_modules = node_modules
        self.lock = threading.Lock()
        self.proc = None
        self.status = "off"
        self.next_id = 0

    def start(self):
        if not self.node_modules:
            self.status = "off: no --node-modules (or PARITY_NODE_MODULES)"
            return
        node = shutil.which("node")
        if node is None:
            self.status = "off: node not found"
            return
        if not (Path(self.node_modules) / "kubernetes-models").is_dir():
            self.status = f"off: no kubernetes-models in {self.node_modules}"
            return
        argv = [node, str(HERE / "kube_validate.mjs"), str(self.node_modules)]
        # stderr: the fake's own (a crash of the child shows up there)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        line = self._readline(60)
        try:
            hello = json.loads(line) if line else {}
        except ValueError:
            hello = {}
        if hello.get("ready"):
            self.status = f"on: kubernetes-models {hello.get('models')}"
        else:
            err = hello.get("error") or ("the node child exited (its stderr is the fake's)"
                                         if self.proc.poll() is not None else "no answer")
            self.status = f"off: {err}"
            self.proc.kill()
            self.proc = None

    def _readline(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else ""

    def check(self, kind, obj):
        """{"errors": [...], "unknown": [...]} or None when the check is off."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                return None
            self.next_id += 1
            try:
                self.proc.stdin.write(json.dumps({"id": self.next_id, "kind": kind,
                                                  "object": obj}) + "\n")
                self.proc.stdin.flush()
                line = self._readline(30)
                answer = json.loads(line)
            except (OSError, ValueError):
                self.status = "off: the node child stopped answering"
                self.proc.kill()
                self.proc = None
                return None
            if answer.get("id") != self.next_id or "error" in answer:
                return {"errors": [], "unknown": [], "problem": answer.get("error", "id mismatch")}
            return answer


_API_CLIENT = None
_API_LOCK = threading.Lock()


def roundtrip(kind, obj):
    """python3-kubernetes 22.6 round trip: deserialize into V1Job/V1Service and sanitize again.
    Returns {"dropped": [{field, pointer}], "coerced": [...], "error": str|None} or None when
    python3-kubernetes is not installed."""
    global _API_CLIENT
    try:
        from kubernetes.client import ApiClient
    except ImportError:
        return None
    with _API_LOCK:
        if _API_CLIENT is None:
            _API_CLIENT = ApiClient()
        api = _API_CLIENT
        result = {"dropped": [], "coerced": [], "error": None}
        try:
            model = api._ApiClient__deserialize(copy.deepcopy(obj), "V1" + kind)
            back = api.sanitize_for_serialization(model)
        except ValueError as e:
            result["error"] = ("invalid", str(e))
            return result
        except Exception as e:  # TypeError, AttributeError...: data of the wrong shape
            result["error"] = ("decode", f"{type(e).__name__}: {e}")
            return result
    _diff(obj, back, [], result)
    return result


def _same_time(a, b):
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    ta = parse_time(a)
    try:
        tb = datetime.fromisoformat(b).timestamp()
    except ValueError:
        tb = parse_time(b)
    return ta is not None and tb is not None and abs(ta - tb) < 1e-6


def _diff(orig, back, segs, result):
    def note(kind, detail):
        result[kind].append({"field": field_path(segs), "pointer": pointer(segs), **detail})

    if orig is None:
        return
    if isinstance(orig, dict):
        if not isinstance(back, dict):
            return note("coerced", {"value": orig, "became": back})
        for key, value in orig.items():
            if value is None:
                continue
            if key not in back:
                result["dropped"].append({"field": field_path(segs + [key]),
                                          "pointer": pointer(segs + [key])})
            else:
                _diff(value, back[key], segs + [key], result)
        return
    if isinstance(orig, list):
        if not isinstance(back, list) or len(back) != len(orig):
            return note("coerced", {"value": orig, "became": back})
        for i, (a, b) in enumerate(zip(orig, back)):
            _diff(a, b, segs + [i], result)
        return
    if type(orig) is type(back) and orig == back:
        return
    if _same_time(orig, back):
        return
    in_quantity = (len(segs) >= 2 and segs[-2] in QUANTITY_MAPS) or \
        (segs and segs[-1] == "sizeLimit")
    if in_quantity and isinstance(orig, (int, float)) and not isinstance(orig, bool) \
            and back == str(orig):
        return  # the apiserver takes numbers for quantities
    note("coerced", {"value": orig, "became": back})


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _dig(obj, *keys):
    for key in keys:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _label_errors(labels, field):
    errs = []
    if not isinstance(labels, dict):
        return errs
    for key, value in labels.items():
        name = key.rsplit("/", 1)[-1]
        if not LABEL_NAME.match(name) or len(name) > 63:
            errs.append((f"{field}", "FieldValueInvalid",
                         f"Invalid value: {json.dumps(key)}: name part must consist of alphanumeric "
                         "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                         "character"))
        if isinstance(value, str) and (len(value) > 63 or not LABEL_VALUE.match(value)):
            errs.append((f"{field}", "FieldValueInvalid",
                         f"Invalid value: {json.dumps(value)}: "
                         + ("must be no more than 63 characters" if len(value) > 63 else
                            "a valid label must be an empty string or consist of alphanumeric "
                            "characters, '-', '_' or '.', and must start and end with an "
                            "alphanumeric character")))
    return errs


def _is_extended(resource):
    if "/" not in resource:
        return False
    domain = resource.split("/", 1)[0]
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io")
                or resource.startswith("hugepages-"))


def rules_pod_spec(spec, base, restart_allowed):
    errs = []
    if not isinstance(spec, dict):
        return [(base, "FieldValueRequired", "Required value")]
    rp = spec.get("restartPolicy")
    shown = rp if rp is not None else "Always"  # the apiserver defaults it, then validates
    if shown not in restart_allowed:
        allowed = ", ".join(json.dumps(v) for v in restart_allowed)
        errs.append((f"{base}.restartPolicy", "FieldValueNotSupported",
                     f"Unsupported value: {json.dumps(shown)}: supported values: {allowed}"))
    for key in ("subdomain", "hostname"):
        value = spec.get(key)
        if isinstance(value, str) and value and (len(value) > 63 or not DNS1123_LABEL.match(value)):
            errs.append((f"{base}.{key}", "FieldValueInvalid",
                         f"Invalid value: {json.dumps(value)}: {DNS1123_LABEL_MSG}"))
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        errs.append((f"{base}.containers", "FieldValueRequired", "Required value"))
        return errs
    seen = set()
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            continue
        cbase = f"{base}.containers[{i}]"
        name = c.get("name")
        if isinstance(name, str):
            if not DNS1123_LABEL.match(name) or len(name) > 63:
                errs.append((f"{cbase}.name", "FieldValueInvalid",
                             f"Invalid value: {json.dumps(name)}: {DNS1123_LABEL_MSG}"))
            if name in seen:
                errs.append((f"{cbase}.name", "FieldValueDuplicate",
                             f"Duplicate value: {json.dumps(name)}"))
            seen.add(name)
        if not c.get("image"):
            errs.append((f"{cbase}.image", "FieldValueRequired", "Required value"))
        for j, env in enumerate(c.get("env") or []):
            ename = env.get("name") if isinstance(env, dict) else None
            if isinstance(ename, str) and not ENV_NAME.match(ename):
                errs.append((f"{cbase}.env[{j}].name", "FieldValueInvalid",
                             f"Invalid value: {json.dumps(ename)}: a valid environment variable "
                             "name must consist of alphabetic characters, digits, '_', '-', or "
                             "'.', and must not start with a digit"))
        for j, mount in enumerate(c.get("volumeMounts") or []):
            mname = mount.get("name") if isinstance(mount, dict) else None
            if mname is not None and mname not in volumes:
                errs.append((f"{cbase}.volumeMounts[{j}].name", "FieldValueNotFound",
                             f"Not found: {json.dumps(mname)}"))
        resources = c.get("resources") if isinstance(c.get("resources"), dict) else {}
        limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
        requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
        for res in sorted(set(limits) | set(requests)):
            if not _is_extended(res):
                continue
            for where, table in (("limits", limits), ("requests", requests)):
                if res in table and not re.fullmatch(r"\d+", str(table[res])):
                    errs.append((f"{cbase}.resources.{where}[{res}]", "FieldValueInvalid",
                                 f"Invalid value: {json.dumps(table[res])}: must be an integer"))
            if res in requests and res not in limits:
                errs.append((f"{cbase}.resources.limits", "FieldValueRequired",
                             "Required value: Limit must be set for non overcommitable resources"))
            elif res in requests and str(requests[res]) != str(limits[res]):
                errs.append((f"{cbase}.resources.requests[{res}]", "FieldValueInvalid",
                             f"Invalid value: {json.dumps(requests[res])}: must be equal to {res} "
                             "limit"))
    return errs


def rules_job(job):
    errs = []
    meta = job.get("metadata") if isinstance(job.get("metadata"), dict) else {}
    errs += _name_rules(meta, DNS1123_LABEL, DNS1123_LABEL_MSG)
    errs += _label_errors(meta.get("labels"), "metadata.labels")
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return errs + [("spec", "FieldValueRequired", "Required value")]
    for key in ("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            errs.append((f"spec.{key}", "FieldValueInvalid",
                         f"Invalid value: {value}: must be greater than or equal to 0"))
    ads = spec.get("activeDeadlineSeconds")
    if isinstance(ads, int) and ads <= 0:
        errs.append(("spec.activeDeadlineSeconds", "FieldValueInvalid",
                     f"Invalid value: {ads}: must be greater than 0"))
    if spec.get("completionMode") == "Indexed":
        if spec.get("completions") is None:
            errs.append(("spec.completions", "FieldValueRequired",
                         "Required value: when completion mode is Indexed"))
        for key in ("completions", "parallelism"):
            if isinstance(spec.get(key), int) and spec[key] > 100000:
                errs.append((f"spec.{key}", "FieldValueInvalid",
                             f"Invalid value: {spec[key]}: must be less than or equal to 100000 "
                             "when completion mode is Indexed"))
    if spec.get("selector") is not None and not spec.get("manualSelector"):
        errs.append(("spec.selector", "FieldValueInvalid",
                     "Invalid value: ...: `selector` will be auto-generated"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return errs + [("spec.template", "FieldValueRequired", "Required value")]
    errs += _label_errors(_dig(template, "metadata", "labels"), "spec.template.metadata.labels")
    tspec = template.get("spec")
    errs += rules_pod_spec(tspec, "spec.template.spec", ("OnFailure", "Never"))
    rp = _dig(tspec, "restartPolicy")
    if spec.get("podFailurePolicy") is not None and rp in ("OnFailure",):
        errs.append(("spec.template.spec.restartPolicy", "FieldValueInvalid",
                     f"Invalid value: {json.dumps(rp)}: only \"Never\" is supported when "
                     "podFailurePolicy is specified"))
    return errs


def rules_service(svc):
    errs = []
    meta = svc.get("metadata") if isinstance(svc.get("metadata"), dict) else {}
    errs += _name_rules(meta, DNS1035_LABEL, DNS1035_LABEL_MSG)
    errs += _label_errors(meta.get("labels"), "metadata.labels")
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        return errs + [("spec", "FieldValueRequired", "Required value")]
    cip = spec.get("clusterIP")
    if isinstance(cip, str) and cip not in ("", "None"):
        try:
            ipaddress.ip_address(cip)
        except ValueError:
            errs.append(("spec.clusterIPs[0]", "FieldValueInvalid",
                         f"Invalid value: {json.dumps(cip)}: must be a valid IP address, (e.g. "
                         "10.9.8.7 or 2001:db8::ffff) or \"None\""))
    ports = spec.get("ports") or []
    if cip != "None" and not ports and spec.get("type", "ClusterIP") != "ExternalName":
        errs.append(("spec.ports", "FieldValueRequired", "Required value"))
    names = set()
    for i, port in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(port, dict):
            continue
        p = port.get("port")
        if isinstance(p, int) and not 1 <= p <= 65535:
            errs.append((f"spec.ports[{i}].port", "FieldValueInvalid",
                         f"Invalid value: {p}: must be between 1 and 65535, inclusive"))
        if len(ports) > 1 and not port.get("name"):
            errs.append((f"spec.ports[{i}].name", "FieldValueRequired", "Required value"))
        if port.get("name") in names:
            errs.append((f"spec.ports[{i}].name", "FieldValueDuplicate",
                         f"Duplicate value: {json.dumps(port.get('name'))}"))
        names.add(port.get("name"))
    errs += _label_errors(spec.get("selector"), "spec.selector")
    return errs


def _name_rules(meta, regex, regex_msg):
    name = meta.get("name")
    if not name:
        if not meta.get("generateName"):
            return [("metadata.name", "FieldValueRequired", "Required value: name or generateName "
                     "is required")]
        return []
    if not isinstance(name, str):
        return []
    errs = []
    if len(name) > 63:
        errs.append(("metadata.name", "FieldValueInvalid",
                     f"Invalid value: {json.dumps(name)}: must be no more than 63 characters"))
    if not regex.match(name):
        errs.append(("metadata.name", "FieldValueInvalid",
                     f"Invalid value: {json.dumps(name)}: {regex_msg}"))
    return errs


# --- selectors ---------------------------------------------------------------------------------
def parse_label_selector(text):
    if not text:
        return []
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    reqs = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$", part)
        if m:
            reqs.append((m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}))
            continue
        m = re.match(r"^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$", part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, {m.group(3)}))
            continue
        m = re.match(r"^(!?)([\w./-]+)$", part)
        if m:
            reqs.append((m.group(2), "!exists" if m.group(1) else "exists", set()))
            continue
        raise ApiError(400, "BadRequest", f"unable to parse requirement: {part!r}")
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        if op == "=" and not (present and labels[key] in values):
            return False
        if op == "in" and not (present and labels[key] in values):
            return False
        if op == "!=" and present and labels[key] in values:
            return False
        if op == "notin" and present and labels[key] in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


FIELD_GETTERS = {
    "metadata.name": lambda o: _dig(o, "metadata", "name"),
    "metadata.namespace": lambda o: _dig(o, "metadata", "namespace"),
    "status.phase": lambda o: _dig(o, "status", "phase"),
    "spec.nodeName": lambda o: _dig(o, "spec", "nodeName") or "",
}


def parse_field_selector(text):
    reqs = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        m = re.match(r"^([\w.]+)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector: {part!r}")
        if m.group(1) not in FIELD_GETTERS:
            raise ApiError(400, "BadRequest",
                           f"\"{m.group(1)}\" is not a known field selector: only "
                           "\"metadata.name\", \"metadata.namespace\"")
        reqs.append((m.group(1), m.group(2) == "!=", m.group(3)))
    return reqs


def fields_match(reqs, obj):
    for key, negate, value in reqs:
        if (FIELD_GETTERS[key](obj) == value) == negate:
            return False
    return True


# --- the Job controller simulation -------------------------------------------------------------
DEFAULT_LOGS = ["{pod}: started", "{pod}: exit {exit_code}"]
POD_KEYS = {"exit_code", "signal", "reason", "message", "logs", "oom", "evicted", "unschedulable",
            "waiting", "waiting_message", "waiting_steps", "steps"}
WAITING_MESSAGES = {
    "ImagePullBackOff": "Back-off pulling image \"{image}\"",
    "ErrImagePull": "rpc error: code = NotFound desc = failed to pull and unpack image "
                    "\"{image}\": not found",
    "CreateContainerConfigError": "secret \"missing\" not found",
    "InvalidImageName": "Failed to apply default image tag \"{image}\": invalid reference format",
}


class PodSim:
    def __init__(self, name, index, attempt, script):
        self.name, self.index, self.attempt, self.script = name, index, attempt, script
        self.state = "pending"  # pending, waiting, running, crashloop, done
        self.waited = 0
        self.extra = int(script.get("steps") or 0)
        self.lines = []  # (epoch, text) revealed so far, current run
        self.pending_lines = []
        self.previous = None  # lines of the run before (OnFailure restarts)
        self.restarts = 0
        self.outcome = None  # succeeded, failed
        self.counted = False
        self.started_at = None
        self.frozen = False  # orphaned or deleted: no more steps
        self.unschedulable_marked = False


class JobSim:
    def __init__(self, cluster, job, script, script_source):
        spec = job["spec"]
        self.cluster = cluster
        self.ns, self.name = job["metadata"]["namespace"], job["metadata"]["name"]
        self.uid = job["metadata"]["uid"]
        self.script, self.script_source = script, script_source
        self.indexed = spec.get("completionMode") == "Indexed"
        self.completions = spec.get("completions") or 1
        self.parallelism = spec.get("parallelism")
        if self.parallelism is None:
            self.parallelism = 1
        self.backoff_limit = spec.get("backoffLimit", 6)
        self.restart_policy = spec["template"]["spec"].get("restartPolicy", "Never")
        self.pfp = spec.get("podFailurePolicy") or {}
        self.started = False
        self.terminal = None
        self.deleted = False
        self.failed = 0
        self.succeeded = 0
        self.succeeded_indexes = set()
        self.attempts = {}
        self.pods = []
        self.steps = 0
        self.seq = 0
        self.next_index = 0
        self.retry_indexes = []

    # -- script --
    def pod_script(self, index, attempt):
        s = self.script
        pod = {"exit_code": 0, "logs": list(DEFAULT_LOGS)}
        pod.update(s.get("defaults") or {})
        if "logs" in s:
            pod["logs"] = list(s["logs"])
        codes = s.get("exit_codes")
        if isinstance(codes, list) and index < len(codes):
            pod["exit_code"] = codes[index]
        per = (s.get("pods") or {})
        entry = per.get(str(index), per.get("*"))
        if isinstance(entry, list):
            entry = entry[min(attempt, len(entry) - 1)] if entry else {}
        pod.update(entry or {})
        if pod.get("oom") and "exit_code" not in (entry or {}) and not pod.get("exit_code"):
            pod["exit_code"] = 137
        if pod.get("signal") and not pod.get("exit_code"):
            pod["exit_code"] = 128 + int(pod["signal"])
        return pod

    def active(self):
        return [p for p in self.pods if p.outcome is None and not p.frozen]

    # -- steps --
    def step(self):
        """One controller/kubelet step; returns True when anything changed."""
        if self.terminal or self.deleted:
            return False
        self.steps += 1
        self.cluster.clock_tick()
        if not self.started:
            self.started = True
            self._fill_slots()
            self._update_job_status(startTime=self.cluster.now_rfc())
            return True
        changed = False
        for pod in self.active():
            changed |= self._advance_pod(pod)
        changed |= self._reconcile()
        if changed and not self.terminal:
            self._update_job_status()
        return changed

    def _fill_slots(self):
        """Creates pods until `parallelism` are active (or no completion is left to do).
        Indexed: the lowest indexes neither active nor succeeded. NonIndexed: a failed pod's
        replacement keeps its index (its script's next attempt), else the next fresh index."""
        active = self.active()
        busy = {p.index for p in active}
        done = len(self.succeeded_indexes) if self.indexed else self.succeeded
        slots = min(self.parallelism, self.completions - done) - len(active)
        if self.indexed:
            index = 0
            while slots > 0 and index < self.completions:
                if index not in busy and index not in self.succeeded_indexes:
                    self._create_pod(index)
                    slots -= 1
                index += 1
            return
        while slots > 0:
            if self.retry_indexes:
                index = self.retry_indexes.pop(0)
            else:
                index = self.next_index
                self.next_index += 1
            self._create_pod(index)
            slots -= 1

    def _create_pod(self, index):
        attempt = self.attempts.get(index, 0)
        self.attempts[index] = attempt + 1
        self.seq += 1
        digest = hashlib.sha256(f"{self.uid}/{index}/{attempt}".encode()).digest()
        suffix = "".join(POD_SUFFIX_ALPHABET[b % len(POD_SUFFIX_ALPHABET)] for b in digest[:5])
        prefix = f"{self.name}-{index}-" if self.indexed else f"{self.name}-"
        name = prefix + suffix
        sim = PodSim(name, index, attempt, self.pod_script(index, attempt))
        self.pods.append(sim)
        job = self.cluster.get_obj("jobs", self.ns, self.name)
        template = copy.deepcopy(job["spec"]["template"])
        labels = dict(_dig(template, "metadata", "labels") or {})
        annotations = dict(_dig(template, "metadata", "annotations") or {})
        if self.indexed:
            labels["batch.kubernetes.io/job-completion-index"] = str(index)
            annotations["batch.kubernetes.io/job-completion-index"] = str(index)
        spec = template["spec"]
        if self.indexed:
            spec["hostname"] = f"{self.name}-{index}"
            for c in spec.get("containers", []):
                env = c.setdefault("env", [])
                env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1",
                    "fieldPath":
                        "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}})
        if not sim.script.get("unschedulable"):
            spec["nodeName"] = f"fake-node-{index % 3}"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "generateName": prefix, "namespace": self.ns,
                            "uid": str(uuid.uuid4()),
                            "creationTimestamp": self.cluster.now_rfc(),
                            "labels": labels, "annotations": annotations,
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                                                 "name": self.name, "uid": self.uid,
                                                 "controller": True, "blockOwnerDeletion": True}]},
               "spec": spec,
               "status": {"phase": "Pending", "qosClass": self._qos(spec)}}
        if not annotations:
            del pod["metadata"]["annotations"]
        now = self.cluster.now_rfc()
        if sim.script.get("unschedulable"):
            pod["status"]["conditions"] = [{
                "type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": now, "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: "
                           "0/3 nodes are available: 3 No preemption victims found for incoming "
                           "pod."}]
        else:
            pod["status"].update({
                "hostIP": f"10.0.0.{10 + index % 3}",
                "hostIPs": [{"ip": f"10.0.0.{10 + index % 3}"}],
                "startTime": now,
                "conditions": [
                    {"type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": None,
                     "lastTransitionTime": now},
                    {"type": "Initialized", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": now},
                    {"type": "Ready", "status": "False", "lastProbeTime": None,
                     "lastTransitionTime": now, "reason": "ContainersNotReady",
                     "message": "containers with unready status: [main]"},
                    {"type": "ContainersReady", "status": "False", "lastProbeTime": None,
                     "lastTransitionTime": now, "reason": "ContainersNotReady",
                     "message": "containers with unready status: [main]"},
                    {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": now}],
                "containerStatuses": [self._cstatus(c, {"waiting": {"reason": "ContainerCreating"}})
                                      for c in spec.get("containers", [])]})
        self.cluster.put("pods", pod, "ADDED")

    @staticmethod
    def _qos(spec):
        res = [c.get("resources") or {} for c in spec.get("containers", [])]
        if not any(r.get("limits") or r.get("requests") for r in res):
            return "BestEffort"
        for r in res:
            limits, requests = r.get("limits") or {}, r.get("requests") or {}
            for k in ("cpu", "memory"):
                if limits.get(k) is None or str(requests.get(k, limits[k])) != str(limits[k]):
                    return "Burstable"
        return "Guaranteed"

    @staticmethod
    def _cstatus(container, state, ready=False, restarts=0, last=None, started=False, cid=None):
        s = {"name": container.get("name"), "image": container.get("image"), "imageID": "",
             "ready": ready, "restartCount": restarts, "started": started, "state": state,
             "lastState": last or {}}
        if "running" in state or "terminated" in state:
            digest = hashlib.sha256(str(container.get("image")).encode()).hexdigest()
            s["imageID"] = "sha256:" + digest
            s["containerID"] = cid or "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex
        return s

    def _pod_obj(self, sim):
        return self.cluster.get_obj("pods", self.ns, sim.name)

    def _main_index(self, pod):
        containers = pod["spec"].get("containers", [])
        for i, c in enumerate(containers):
            if c.get("name") == "main":
                return i
        return 0

    def _set_conditions(self, pod, ready, now, reason=None):
        for cond in pod["status"].get("conditions", []):
            if cond["type"] in ("Ready", "ContainersReady"):
                cond["status"] = "True" if ready else "False"
                cond["lastTransitionTime"] = now
                cond.pop("message", None)
                cond.pop("reason", None)
                if not ready and reason:
                    cond["reason"] = reason
            if cond["type"] == "PodReadyToStartContainers" and ready:
                cond["status"] = "True"
                cond["lastTransitionTime"] = now

    def _advance_pod(self, sim):
        pod = self._pod_obj(sim)
        if pod is None:
            sim.frozen = True
            return False
        sc = sim.script
        if sim.state == "pending":
            if sc.get("unschedulable"):
                return False
            if sc.get("waiting"):
                sim.state = "waiting"
                image = pod["spec"]["containers"][self._main_index(pod)].get("image")
                message = sc.get("waiting_message") or WAITING_MESSAGES.get(
                    sc["waiting"], "{reason}").format(image=image, reason=sc["waiting"])
                cs = pod["status"]["containerStatuses"][self._main_index(pod)]
                cs["state"] = {"waiting": {"reason": sc["waiting"], "message": message}}
                self.cluster.put("pods", pod)
                return True
            self._start_running(sim, pod)
            return True
        if sim.state == "waiting":
            sim.waited += 1
            limit = sc.get("waiting_steps")
            if limit is not None and sim.waited >= int(limit):
                self._start_running(sim, pod)
                return True
            return False
        if sim.state == "crashloop":
            self._start_running(sim, pod)
            return True
        if sim.state == "running":
            if sim.pending_lines:
                self._reveal(sim)
                self.cluster.touch_logs()
                return True
            if sim.extra > 0:
                sim.extra -= 1
                return False
            self._terminate(sim, pod)
            return True
        return False

    def _start_running(self, sim, pod):
        now = self.cluster.now_rfc()
        sim.state = "running"
        sim.started_at = now
        ctx = {"pod": sim.name, "index": sim.index, "attempt": sim.attempt + sim.restarts,
               "job": self.name, "exit_code": sim.script.get("exit_code", 0)}
        sim.lines = []
        sim.pending_lines = [str(line).format(**ctx) if "{" in str(line) else str(line)
                             for line in sim.script.get("logs") or []]
        pod["status"]["phase"] = "Running"
        pod["status"]["podIP"] = f"10.244.0.{10 + self.seq % 240}"
        pod["status"]["podIPs"] = [{"ip": pod["status"]["podIP"]}]
        self._set_conditions(pod, True, now)
        statuses = pod["status"]["containerStatuses"]
        for i, c in enumerate(pod["spec"].get("containers", [])):
            old = statuses[i]
            statuses[i] = self._cstatus(c, {"running": {"startedAt": now}}, ready=True,
                                        restarts=old.get("restartCount", 0),
                                        last=old.get("lastState"), started=True)
        self._reveal(sim)
        self.cluster.put("pods", pod)
        self.cluster.touch_logs()

    def _reveal(self, sim):
        per = int(self.script.get("lines_per_step") or self.cluster.setting("lines_per_step") or 10)
        batch, sim.pending_lines = sim.pending_lines[:per], sim.pending_lines[per:]
        base = self.cluster.now_ns()
        for i, text in enumerate(batch):
            sim.lines.append((base + i * 1_000_000, text))

    def _terminate(self, sim, pod, forced=None):
        """Ends the pod's container (forced: (exit code, reason) from the controller)."""
        sc = sim.script
        now = self.cluster.now_rfc()
        base = self.cluster.now_ns()
        sim.lines.extend((base + i * 1_000_000, t) for i, t in enumerate(sim.pending_lines))
        sim.pending_lines = []
        main = self._main_index(pod)
        if forced is None and sc.get("evicted"):
            pod["status"].update({"phase": "Failed", "reason": "Evicted",
                                  "message": "The node was low on resource: memory. Threshold "
                                             "quantity: 100Mi, available: 51200Ki. "})
            pod["status"].pop("containerStatuses", None)
            self._set_conditions(pod, False, now, "PodFailed")
            pod["status"]["conditions"].append({
                "type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                "lastTransitionTime": now, "reason": "TerminationByKubelet",
                "message": "The node was low on resource: memory."})
            sim.state, sim.outcome = "done", "failed"
            self.cluster.put("pods", pod)
            self.cluster.touch_logs()
            return
        if forced:
            exit_code, reason, message, sig = forced[0], forced[1], None, None
        else:
            exit_code = int(sc.get("exit_code") or 0)
            sig = sc.get("signal")
            reason = sc.get("reason") or ("OOMKilled" if sc.get("oom") else
                                          "Completed" if exit_code == 0 else "Error")
            message = sc.get("message")
        container = pod["spec"]["containers"][main]
        if message is None and exit_code != 0 and \
                container.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            tail = "\n".join(t for _, t in sim.lines[-80:])
            message = tail.encode()[-2048:].decode("utf-8", "ignore") if tail else None
        if message is not None:
            message = str(message).encode()[:4096].decode("utf-8", "ignore")
        terminated = {"exitCode": exit_code, "reason": reason, "startedAt": sim.started_at or now,
                      "finishedAt": now}
        if message:
            terminated["message"] = message
        if sig:
            terminated["signal"] = int(sig)
        statuses = pod["status"]["containerStatuses"]
        old = statuses[main]
        terminated["containerID"] = old.get("containerID") or "containerd://" + uuid.uuid4().hex
        failed = exit_code != 0
        if failed and forced is None and self.restart_policy == "OnFailure" \
                and sim.restarts < self.backoff_limit:
            # The kubelet restarts the container in the same pod.
            sim.restarts += 1
            sim.previous = sim.lines
            sim.lines = []
            sim.script = self.pod_script(sim.index, sim.attempt + sim.restarts)
            sim.extra = int(sim.script.get("steps") or 0)
            sim.state = "crashloop"
            statuses[main] = self._cstatus(container, {"waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 10s restarting failed container={container.get('name')} "
                           f"pod={sim.name}_{self.ns}({pod['metadata']['uid']})"}},
                restarts=sim.restarts, last={"terminated": terminated})
            self._set_conditions(pod, False, now, "ContainersNotReady")
            self.cluster.put("pods", pod)
            self.cluster.touch_logs()
            return
        for i, c in enumerate(pod["spec"]["containers"]):
            state = terminated if i == main else {
                "exitCode": 0 if not forced else forced[0], "reason": "Completed" if not forced
                else forced[1], "startedAt": sim.started_at or now, "finishedAt": now}
            cid = statuses[i].get("containerID")
            statuses[i] = self._cstatus(c, {"terminated": state}, restarts=statuses[i].get(
                "restartCount", 0), last=statuses[i].get("lastState"), cid=cid)
            state.setdefault("containerID", statuses[i]["containerID"])
        pod["status"]["phase"] = "Failed" if failed else "Succeeded"
        self._set_conditions(pod, False, now, "PodFailed" if failed else "PodCompleted")
        for cond in pod["status"]["conditions"]:
            if cond["type"] == "PodReadyToStartContainers":
                cond["status"] = "False"
        sim.state, sim.outcome = "done", ("failed" if failed else "succeeded")
        self.cluster.put("pods", pod)
        self.cluster.touch_logs()

    def _pfp_action(self, sim):
        pod = self._pod_obj(sim)
        for rule in self.pfp.get("rules") or []:
            on_codes, on_conds = rule.get("onExitCodes"), rule.get("onPodConditions")
            if on_conds and pod:
                conds = {(c["type"], c["status"]) for c in pod["status"].get("conditions", [])}
                if any((c.get("type"), c.get("status", "True")) in conds for c in on_conds):
                    return rule.get("action"), None
            if on_codes and pod:
                for cs in pod["status"].get("containerStatuses") or []:
                    if on_codes.get("containerName") not in (None, cs.get("name")):
                        continue
                    code = _dig(cs, "state", "terminated", "exitCode")
                    if code is None or code == 0:
                        continue
                    values = set(on_codes.get("values") or [])
                    hit = code in values if on_codes.get("operator") == "In" else code not in values
                    if hit:
                        return rule.get("action"), (cs.get("name"), code)
        return None, None

    def _reconcile(self):
        changed = False
        for sim in self.pods:
            if sim.outcome is None or sim.counted or self.terminal:
                continue
            sim.counted = True
            changed = True
            if sim.outcome == "succeeded":
                self.succeeded += 1
                self.succeeded_indexes.add(sim.index)
                continue
            action, detail = self._pfp_action(sim)
            if action == "FailJob":
                container, code = detail or ("main", "?")
                where = f" at index {sim.index}" if self.indexed else ""
                self.failed += 1
                self._fail("PodFailurePolicy",
                           f"Container {container} for pod {self.ns}/{sim.name} failed with exit "
                           f"code {code} matching FailJob rule{where}")
                return True
            if not self.indexed:
                self.retry_indexes.append(sim.index)
            if action == "Ignore":
                continue
            self.failed += 1
            if self.failed > self.backoff_limit:
                self._fail("BackoffLimitExceeded", "Job has reached the specified backoff limit")
                return True
        if self.script.get("deadline_exceeded") and self.active() and \
                all(p.state == "running" for p in self.active()):
            self._fail("DeadlineExceeded", "Job was active longer than specified deadline")
            return True
        done = len(self.succeeded_indexes) if self.indexed else self.succeeded
        if done >= self.completions and not self.active():
            self._complete()
            return True
        before = len(self.pods)
        self._fill_slots()
        return changed or len(self.pods) != before

    def _condition(self, ctype, reason, message):
        now = self.cluster.now_rfc()
        return {"type": ctype, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    def _complete(self):
        self.terminal = "Complete"
        msg = "Reached expected number of succeeded pods"
        self._update_job_status(
            conditions=[self._condition("SuccessCriteriaMet", "CompletionsReached", msg),
                        self._condition("Complete", "CompletionsReached", msg)],
            completionTime=self.cluster.now_rfc())

    def _fail(self, reason, message):
        self.terminal = "Failed"
        for sim in self.active():
            pod = self._pod_obj(sim)
            if pod is None:
                continue
            if "containerStatuses" in pod["status"] and sim.state in ("running", "crashloop"):
                self._terminate(sim, pod, forced=(143, "Error"))
            else:
                pod["status"]["phase"] = "Failed"
                pod["status"]["reason"] = "DeadlineExceeded" if reason == "DeadlineExceeded" \
                    else pod["status"].get("reason")
                if pod["status"]["reason"] is None:
                    pod["status"].pop("reason")
                sim.state, sim.outcome = "done", "failed"
                self.cluster.put("pods", pod)
            sim.counted = True
            self.failed += 1
        self._update_job_status(conditions=[self._condition("FailureTarget", reason, message),
                                            self._condition("Failed", reason, message)])

    def _update_job_status(self, conditions=None, **extra):
        job = self.cluster.get_obj("jobs", self.ns, self.name)
        if job is None:
            return
        st = job.setdefault("status", {})
        before = copy.deepcopy(st)
        active = self.active()
        st["active"] = len(active)
        st["ready"] = sum(1 for p in active if p.state == "running")
        st["terminating"] = 0
        st["uncountedTerminatedPods"] = {}
        if self.succeeded:
            st["succeeded"] = self.succeeded
        if self.failed:
            st["failed"] = self.failed
        if self.indexed and self.succeeded_indexes:
            st["completedIndexes"] = compress_indexes(self.succeeded_indexes)
        if conditions:
            st["conditions"] = st.get("conditions", []) + conditions
        if st["active"] == 0:
            del st["active"]
        st.update(extra)
        if st != before:
            self.cluster.put("jobs", job)

    def summary(self):
        return {"state": self.terminal or ("Active" if self.started else "Created"),
                "steps": self.steps, "script_source": self.script_source,
                "pods": [{"name": p.name, "index": p.index, "state": p.state,
                          "outcome": p.outcome, "restarts": p.restarts,
                          "exit_code": p.script.get("exit_code"), "frozen": p.frozen}
                         for p in self.pods]}


# --- the store ---------------------------------------------------------------------------------
class Event:
    __slots__ = ("rv", "resource", "ns", "type", "obj")

    def __init__(self, rv, resource, ns, etype, obj):
        self.rv, self.resource, self.ns, self.type, self.obj = rv, resource, ns, etype, obj


class Cluster:
    """Objects, resourceVersions, the event history and the job simulations. Everything runs
    under self.cond (a Condition on an RLock); waiters are woken on every change."""

    def __init__(self, fake):
        self.fake = fake
        self.cond = threading.Condition(threading.RLock())
        self.objects = {name: {} for name in RESOURCES}
        self.events = []
        self.event_rvs = []
        self.rv = 100
        self.oldest_rv = 100
        self.sims = {}
        self.retired = []  # sims of deleted jobs whose (orphaned) pods are still readable
        self.total_steps = 0
        self.log_generation = 0

    def setting(self, key):
        return self.fake.setting(key)

    # -- time --
    def clock_tick(self):
        self.total_steps += 1

    def now(self):
        if self.setting("clock") == "steps":
            return float(STEP_CLOCK_BASE + self.total_steps)
        return time.time()

    def now_ns(self):
        if self.setting("clock") == "steps":
            return (STEP_CLOCK_BASE + self.total_steps) * 1_000_000_000
        return time.time_ns()

    def now_rfc(self):
        return rfc3339(self.now())

    # -- objects --
    def get_obj(self, resource, ns, name):
        return self.objects[resource].get((ns, name))

    def put(self, resource, obj, etype="MODIFIED"):
        with self.cond:
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            key = (obj["metadata"].get("namespace"), obj["metadata"]["name"])
            if etype == "DELETED":
                self.objects[resource].pop(key, None)
            else:
                self.objects[resource][key] = obj
            self._record(resource, key[0], etype, copy.deepcopy(obj))

    def _record(self, resource, ns, etype, obj):
        self.events.append(Event(self.rv, resource, ns, etype, obj))
        self.event_rvs.append(self.rv)
        limit = int(self.setting("history") or 10000)
        if len(self.events) > limit:
            drop = len(self.events) - limit
            self.oldest_rv = self.events[drop - 1].rv
            del self.events[:drop]
            del self.event_rvs[:drop]
        self.cond.notify_all()

    def touch_logs(self):
        with self.cond:
            self.log_generation += 1
            self.cond.notify_all()

    def compact(self):
        with self.cond:
            self.oldest_rv = self.rv
            self.events.clear()
            self.event_rvs.clear()

    def reset(self):
        with self.cond:
            for table in self.objects.values():
                table.clear()
            self.sims.clear()
            self.retired.clear()
            self.compact()
            self.cond.notify_all()

    def events_after(self, rv):
        i = bisect.bisect_right(self.event_rvs, rv)
        return self.events[i:]

    # -- the simulation --
    def script_for(self, job):
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        scripts = self.setting("jobs") or {}
        for key in (f"{ns}/{name}", name):
            if key in scripts:
                return scripts[key], f"control:{key}"
        for c in _dig(job, "spec", "template", "spec", "containers") or []:
            for env in c.get("env") or []:
                if env.get("name") == "FAKE_KUBE_SCRIPT" and env.get("value"):
                    try:
                        script = json.loads(env["value"])
                        if isinstance(script, dict):
                            return script, f"env:{c.get('name')}"
                    except ValueError:
                        return {}, "env:unparsable"
        default = self.setting("default_script")
        if default:
            return default, "control:default_script"
        return {}, "builtin"

    def start_job(self, job):
        script, source = self.script_for(job)
        sim = JobSim(self, job, copy.deepcopy(script), source)
        self.sims[(sim.ns, sim.name)] = sim

    def advance(self, keys, steps=1):
        """Steps the given jobs; returns True when anything changed."""
        changed = False
        idle = 0
        with self.cond:
            for _ in range(steps):
                any_step = False
                for key in keys:
                    sim = self.sims.get(key)
                    if sim is not None and not sim.deleted:
                        any_step |= sim.step()
                changed |= any_step
                idle = 0 if any_step else idle + 1
                if not any_step and all(self.sims.get(k) is None or self.sims[k].terminal
                                        for k in keys):
                    break
                if idle >= 1000:  # stuck (waiting forever, unschedulable)
                    break
        return changed

    def related_jobs(self, resource, ns, lsel, fsel, name=None):
        """The jobs a read of resource concerns (for pods: the jobs whose pods the selectors
        would match)."""
        keys = []
        with self.cond:
            for key, sim in self.sims.items():
                if sim.terminal or sim.deleted or (ns and key[0] != ns):
                    continue
                job = self.get_obj("jobs", *key)
                if job is None:
                    continue
                if resource == "jobs":
                    if (name is None or key[1] == name) and labels_match(
                            lsel, job["metadata"].get("labels")) and fields_match(fsel, job):
                        keys.append(key)
                elif resource == "pods":
                    if name is not None:
                        if any(p.name == name for p in sim.pods):
                            keys.append(key)
                        continue
                    labels = dict(_dig(job, "spec", "template", "metadata", "labels") or {})
                    pods = [self.get_obj("pods", key[0], p.name) for p in sim.pods]
                    candidates = [labels] + [p["metadata"].get("labels") for p in pods if p]
                    if any(labels_match(lsel, lab) for lab in candidates) and (
                            not fsel or any(fields_match(fsel, p) for p in pods if p)
                            or not sim.pods):
                        keys.append(key)
        return keys

    def summary(self):
        with self.cond:
            return {f"{ns}/{name}": sim.summary() for (ns, name), sim in self.sims.items()}


# --- the fake ----------------------------------------------------------------------------------
class Stream:
    """A chunked answer: chunks is an iterator of bytes."""

    def __init__(self, status, chunks, content_type="application/json", headers=None):
        self.status = status
        self.chunks = chunks
        self.headers = {"Content-Type": content_type, "Cache-Control": "no-cache, private",
                        **(headers or {})}


class KubeFake(common.Fake):
    NAME = "kube"
    DEFAULTS = {"tokens": {}, "eks": {"cluster": "my-cluster", "keys": {}, "users": {},
                                      "partition": "aws"},
                "deny": [], "namespaces": None, "jobs": {}, "default_script": None,
                "progress": "reads", "clock": "real", "lines_per_step": 10,
                "watch_timeout": 300, "history": 10000,
                "validate": {"schema": True, "roundtrip": True, "rules": True}}

    def __init__(self, args):
        super().__init__(args)
        self.cluster = Cluster(self)
        self.schema = SchemaValidator(args.node_modules or os.environ.get("PARITY_NODE_MODULES"))
        self.port = None

    # -- control --
    def control(self, update):
        update = dict(update)
        actions = {k: update.pop(k) for k in ("advance", "compact", "reset") if k in update}
        if update:
            super().control(update)
        if actions.get("reset"):
            self.cluster.reset()
        if actions.get("compact"):
            self.cluster.compact()
        adv = actions.get("advance")
        if adv is not None:
            if not isinstance(adv, dict):
                adv = {"job": "*", "steps": adv if isinstance(adv, int) else 1}
            target = adv.get("job", "*")
            with self.cluster.cond:
                if target == "*":
                    keys = list(self.cluster.sims)
                elif "/" in str(target):
                    keys = [tuple(target.split("/", 1))]
                else:
                    keys = [k for k in self.cluster.sims if k[1] == target]
            steps = 100000 if adv.get("until") == "terminal" else int(adv.get("steps", 1))
            self.cluster.advance(keys, steps)
        return self.full_snapshot()

    def full_snapshot(self):
        """common's snapshot plus the cluster's (taken outside self.lock: the cluster's lock
        is always taken first)."""
        with self.lock:
            snap = json.loads(json.dumps(self.snapshot()))
        snap["validators"] = {"schema": self.schema.status,
                              "roundtrip": "on: python3-kubernetes" if _has_kubernetes() else
                              "off: python3-kubernetes not installed"}
        with self.cluster.cond:
            snap["rv"], snap["oldest_rv"] = self.cluster.rv, self.cluster.oldest_rv
        snap["simulation"] = self.cluster.summary()
        return snap

    def error(self, status, code, message):
        return common.Response(status, json.dumps(status_body(status, code, message)))

    def throttle(self):
        return common.Response(429, json.dumps(status_body(
            429, "TooManyRequests", "Too many requests, please try again later.",
            {"retryAfterSeconds": 1})), headers={"Retry-After": "1"})

    # -- authentication --
    def authenticate(self, request):
        try:
            cert = request.connection.getpeercert()
        except (AttributeError, ValueError, ssl.SSLError):
            cert = None
        if cert and cert.get("subject"):
            fields = [attr for rdn in cert["subject"] for attr in rdn]
            cn = next((v for k, v in fields if k == "commonName"), None)
            orgs = [v for k, v in fields if k == "organizationName"]
            return {"kind": "cert", "user": cn, "groups": orgs}
        header = request.headers.get("Authorization")
        if not header:
            return {"kind": "none", "user": "system:anonymous"}
        if not header.startswith("Bearer "):
            return {"kind": "invalid", "error": "unsupported Authorization scheme"}
        token = header[len("Bearer "):].strip()
        if token.startswith("k8s-aws-v1."):
            try:
                ak, user = verify_eks_token(token, self.setting("eks") or {})
            except EksError as e:
                return {"kind": "invalid", "via": "eks", "error": str(e)}
            return {"kind": "eks", "user": user, "access_key": ak}
        tokens = self.setting("tokens") or {}
        if token in tokens:
            entry = tokens[token]
            if isinstance(entry, dict):
                return {"kind": "token", "user": entry.get("user"),
                        "groups": entry.get("groups", [])}
            return {"kind": "token", "user": entry}
        return {"kind": "invalid", "error": "unknown bearer token"}

    def authorize(self, auth, verb, resource, ns):
        for rule in self.setting("deny") or []:
            if all(rule.get(k) in (None, v) for k, v in
                   (("user", auth.get("user")), ("verb", verb), ("resource", resource.name),
                    ("namespace", ns))):
                scope = f" in the namespace \"{ns}\"" if ns else " at the cluster scope"
                raise ApiError(403, "Forbidden",
                               f"{resource.qualified} is forbidden: User \"{auth.get('user')}\" "
                               f"cannot {verb} resource \"{resource.name}\" in API group "
                               f"\"{resource.group}\"{scope}", resource.details())

    # -- routing --
    def handle(self, request):
        url = urlsplit(request.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request.log_extra["query"] = query
        auth = request.auth
        public = path in ("/version", "/healthz", "/livez", "/readyz")
        if auth["kind"] == "invalid" or (auth["kind"] == "none" and not public):
            return self.status(401, "Unauthorized", "Unauthorized")
        try:
            return self.route(request, path, query, auth)
        except ApiError as e:
            resp = self.status(e.code, e.reason, e.message, e.details)
            resp.headers.update(e.headers)
            return resp

    def status(self, code, reason, message, details=None):
        return common.Response(code, json.dumps(status_body(code, reason, message, details)))

    def reply(self, obj, status=200, headers=None):
        return common.Response(status, json.dumps(obj), headers=headers)

    def route(self, request, path, query, auth):
        method = request.command
        if path in ("/healthz", "/livez", "/readyz"):
            return common.Response(200, "ok", "text/plain; charset=utf-8")
        if method == "GET" and path in DISCOVERY_PATHS:
            return self.reply(self.discovery(path))
        if path == "/openapi/v2":
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and path.startswith("/openapi/v3"):
            doc = openapi_v3(path)
            if doc is None:
                return self.status(404, "NotFound", "the server could not find the requested resource")
            return self.reply(doc)
        m = re.match(r"^/api/v1/namespaces(?:/([^/]+))?$", path)
        if m:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource")
            return self.reply(self.namespace_obj(m.group(1)) if m.group(1) else {
                "kind": "NamespaceList", "apiVersion": "v1",
                "metadata": {"resourceVersion": str(self.cluster.rv)},
                "items": [self.namespace_obj(n) for n in self.namespace_names()]})
        m = re.match(r"^/(?:api/v1|apis/batch/v1)(/watch)?(?:/namespaces/([^/]+))?/([a-z]+)"
                     r"(?:/([^/]+))?(?:/(log|status))?$", path)
        if not m:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        watch_path, ns, rname, name, sub = m.groups()
        group = "batch" if path.startswith("/apis/batch/v1") else ""
        resource = RESOURCES.get(rname)
        if resource is None or resource.group != group:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if watch_path:
            query["watch"] = "true"
        if sub == "log":
            if resource.name != "pods" or not name or method != "GET":
                return self.status(404, "NotFound", "the server could not find the requested resource")
            self.authorize(auth, "get", RESOURCES["pods"], ns)
            return self.pod_log(ns, name, query)
        if method == "POST" and not name:
            if ns is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            self.authorize(auth, "create", resource, ns)
            return self.create(request, resource, ns, query)
        if method == "GET" and name:
            self.authorize(auth, "get", resource, ns)
            return self.get(request, resource, ns, name)
        if method == "GET":
            watching = go_bool(query.get("watch"))
            self.authorize(auth, "watch" if watching else "list", resource, ns)
            if watching:
                return self.watch(request, resource, ns, query)
            return self.list(request, resource, ns, query)
        if method == "DELETE" and name and not sub:
            self.authorize(auth, "delete", resource, ns)
            return self.delete(request, resource, ns, name, query)
        raise ApiError(405, "MethodNotAllowed",
                       "the server does not allow this method on the requested resource")

    # -- discovery --
    def discovery(self, path):
        if path == "/version":
            return SERVER_VERSION
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}]}
        if path in ("/apis", "/apis/batch"):
            group = {"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
                     "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}
            if path == "/apis/batch":
                return {"kind": "APIGroup", "apiVersion": "v1", **group}
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}
        gv = "batch/v1" if path == "/apis/batch/v1" else "v1"
        out = []
        for res in RESOURCES.values():
            if res.api_version != gv:
                continue
            out.append({"name": res.name, "singularName": res.kind.lower(), "namespaced": True,
                        "kind": res.kind, "verbs": res.verbs, "shortNames": res.short or None,
                        "categories": ["all"], "storageVersionHash": hashlib.sha256(
                            res.name.encode()).hexdigest()[:12]})
            out.append({"name": f"{res.name}/status", "singularName": "", "namespaced": True,
                        "kind": res.kind, "verbs": ["get"]})
            if res.name == "pods":
                out.append({"name": "pods/log", "singularName": "", "namespaced": True,
                            "kind": "Pod", "verbs": ["get"]})
        if gv == "v1":
            out.append({"name": "namespaces", "singularName": "namespace", "namespaced": False,
                        "kind": "Namespace", "verbs": ["get", "list"], "shortNames": ["ns"]})
        for r in out:
            if r.get("shortNames") is None:
                r.pop("shortNames", None)
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}

    def namespace_names(self):
        allowed = self.setting("namespaces")
        if allowed is not None:
            return list(allowed)
        with self.cluster.cond:
            names = {key[0] for table in self.cluster.objects.values() for key in table}
        return sorted(names | {"default"})

    def check_namespace(self, ns):
        allowed = self.setting("namespaces")
        if allowed is not None and ns not in allowed:
            raise ApiError(404, "NotFound", f"namespaces \"{ns}\" not found",
                           {"name": ns, "kind": "namespaces"})

    def namespace_obj(self, ns):
        self.check_namespace(ns)
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, ns)),
                             "resourceVersion": "1", "creationTimestamp": rfc3339(STEP_CLOCK_BASE),
                             "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    # -- reads --
    def advance_for(self, resource, ns, lsel, fsel, name=None):
        if self.setting("progress") != "reads" or resource.name not in ("jobs", "pods"):
            return False
        keys = self.cluster.related_jobs(resource.name, ns, lsel, fsel, name)
        return self.cluster.advance(keys) if keys else False

    def get(self, request, resource, ns, name):
        self.advance_for(resource, ns, [], [], name)
        with self.cluster.cond:
            obj = self.cluster.get_obj(resource.name, ns, name)
            obj = copy.deepcopy(obj) if obj else None
        if obj is None:
            raise ApiError(404, "NotFound", f"{resource.qualified} \"{name}\" not found",
                           resource.details(name))
        if wants_table(request):
            return self.reply(self.table(resource, [obj], request, str(self.cluster.rv)))
        return self.reply(obj)

    def select(self, resource, ns, lsel, fsel):
        with self.cluster.cond:
            table = sorted(self.cluster.objects[resource.name].items())
            items = [copy.deepcopy(o) for (ons, _), o in table
                     if (ns is None or ons == ns)
                     and labels_match(lsel, o["metadata"].get("labels")) and fields_match(fsel, o)]
            return items, self.cluster.rv

    def list(self, request, resource, ns, query):
        lsel = parse_label_selector(query.get("labelSelector"))
        fsel = parse_field_selector(query.get("fieldSelector"))
        self.advance_for(resource, ns, lsel, fsel)
        items, rv = self.select(resource, ns, lsel, fsel)
        meta = {"resourceVersion": str(rv)}
        cont = query.get("continue")
        if cont:
            try:
                start = json.loads(base64.urlsafe_b64decode(cont.encode()))
                items = [o for o in items if [o["metadata"].get("namespace"),
                                              o["metadata"]["name"]] > start["after"]]
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "BadRequest", "continue key is not valid") from None
        limit = int(query.get("limit") or 0)
        if limit and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            last = items[-1]["metadata"]
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"after": [last.get("namespace"), last["name"]], "rv": rv}).encode()).decode()
            meta["remainingItemCount"] = rest
        if wants_table(request):
            table = self.table(resource, items, request, str(rv))
            table["metadata"].update({k: v for k, v in meta.items() if k != "resourceVersion"})
            return self.reply(table)
        return self.reply({"kind": resource.kind + "List", "apiVersion": resource.api_version,
                          "metadata": meta, "items": items})

    def watch(self, request, resource, ns, query):
        lsel = parse_label_selector(query.get("labelSelector"))
        fsel = parse_field_selector(query.get("fieldSelector"))
        rv_text = query.get("resourceVersion", "")
        try:
            timeout = float(query.get("timeoutSeconds") or self.setting("watch_timeout") or 300)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid timeoutSeconds") from None
        bookmarks = go_bool(query.get("allowWatchBookmarks"))
        table = wants_table(request)
        cluster = self.cluster
        fake = self
        first_table = [True]

        def encode(etype, obj):
            if table and etype in ("ADDED", "MODIFIED", "DELETED"):
                obj = fake.table(resource, [obj], request, obj["metadata"].get("resourceVersion"),
                                 with_columns=first_table[0])
                first_table[0] = False
            return json.dumps({"type": etype, "object": obj}).encode() + b"\n"

        def gone(rv):
            body = status_body(410, "Expired",
                               f"too old resource version: {rv} ({cluster.oldest_rv + 1})")
            return json.dumps({"type": "ERROR", "object": body}).encode() + b"\n"

        with cluster.cond:
            if rv_text in ("", "0"):
                initial = [encode("ADDED", o) for o in self.select(resource, ns, lsel, fsel)[0]]
                start = cluster.rv
            else:
                try:
                    start = int(rv_text)
                except ValueError:
                    raise ApiError(400, "BadRequest",
                                   f"invalid resource version: {rv_text}") from None
                if start < cluster.oldest_rv:
                    # As the watch cache answers: 200, then one ERROR event, then the end.
                    return Stream(200, iter([gone(start)]))
                initial = []
        deadline = time.monotonic() + timeout

        def chunks():
            pos = start
            if initial:
                yield b"".join(initial)
            while True:
                out, expired, idle = [], None, False
                with cluster.cond:
                    if pos < cluster.oldest_rv:
                        expired = gone(pos)
                    else:
                        for ev in cluster.events_after(pos):
                            if ev.resource == resource.name and (ns is None or ev.ns == ns) and \
                                    labels_match(lsel, ev.obj["metadata"].get("labels")) and \
                                    fields_match(fsel, ev.obj):
                                out.append(encode(ev.type, ev.obj))
                        pos = cluster.rv
                        if not out and not fake.advance_for(resource, ns, lsel, fsel):
                            left = deadline - time.monotonic()
                            if left > 0:
                                cluster.cond.wait(min(left, 0.5))
                            idle = True
                if expired:
                    yield expired
                    return
                if out:
                    yield b"".join(out)
                elif idle:
                    yield b""  # the handler looks whether the client went away
                if time.monotonic() >= deadline:
                    if bookmarks:
                        with cluster.cond:
                            rv = cluster.rv
                        yield json.dumps({"type": "BOOKMARK", "object": {
                            "kind": resource.kind, "apiVersion": resource.api_version,
                            "metadata": {"resourceVersion": str(rv)}}}).encode() + b"\n"
                    return

        return Stream(200, chunks())

    # -- pod logs --
    def pod_log(self, ns, name, query):
        cluster = self.cluster
        follow = go_bool(query.get("follow"))
        previous = go_bool(query.get("previous"))
        self.advance_for(RESOURCES["pods"], ns, [], [], name)
        timestamps = go_bool(query.get("timestamps"))
        since = None
        try:
            if query.get("sinceTime"):
                since = parse_time(query["sinceTime"])
                if since is None:
                    raise ValueError(query["sinceTime"])
                since = int(round(since * 1e9))
            elif query.get("sinceSeconds"):
                since = cluster.now_ns() - int(query["sinceSeconds"]) * 1_000_000_000
            tail = int(query["tailLines"]) if query.get("tailLines") not in (None, "") else None
            limit_bytes = int(query["limitBytes"]) if query.get("limitBytes") else None
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"invalid log options: {e}") from None
        with cluster.cond:
            pod = cluster.get_obj("pods", ns, name)
            if pod is None:
                raise ApiError(404, "NotFound", f"pods \"{name}\" not found",
                               RESOURCES["pods"].details(name))
            containers = [c.get("name") for c in pod["spec"].get("containers", [])]
            container = query.get("container")
            if not container:
                if len(containers) != 1:
                    raise ApiError(400, "BadRequest", f"a container name must be specified for pod "
                                   f"{name}, choose one of: [{' '.join(containers)}]")
                container = containers[0]
            if container not in containers:
                raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
            sim, job_key = self.pod_sim(ns, name)
            is_main = sim is not None and container == self.main_container(pod)
            if previous and (not is_main or sim.previous is None):
                raise ApiError(400, "BadRequest", f"previous terminated container \"{container}\" "
                               f"in pod \"{name}\" not found")
            cs = next((c for c in pod["status"].get("containerStatuses") or []
                       if c.get("name") == container), None)
            waiting = _dig(cs, "state", "waiting", "reason")
            if not previous and waiting != "CrashLoopBackOff" and (
                    waiting or (cs is None and pod["status"].get("phase") == "Pending")):
                raise ApiError(400, "BadRequest", f"container \"{container}\" in pod \"{name}\" "
                               f"is waiting to start: {waiting or 'ContainerCreating'}")

        def current_lines():
            if not is_main:
                return []
            if previous or sim.state == "crashloop":  # a crash-looping container: its last run
                return list(sim.previous or [])
            return list(sim.lines)

        def render(lines):
            return [(rfc3339nano(ts) + " " if timestamps else "") + text + "\n"
                    for ts, text in lines if since is None or ts >= since]

        with cluster.cond:
            now_lines = current_lines()
            sent = len(now_lines)
            lines = render(now_lines)
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        if not follow or previous:
            body = "".join(lines).encode()
            if limit_bytes is not None:
                body = body[:limit_bytes]
            return common.Response(200, body, "text/plain")
        fake = self
        budget = [limit_bytes]

        def cap(data):
            if budget[0] is None:
                return data
            data = data[:budget[0]]
            budget[0] -= len(data)
            return data

        def chunks():
            nonlocal sent
            first = cap("".join(lines).encode())
            if first:
                yield first
            while budget[0] is None or budget[0] > 0:
                data, finished = b"", False
                with cluster.cond:
                    now_lines = current_lines()
                    if len(now_lines) > sent:
                        data = "".join(render(now_lines[sent:])).encode()
                        sent = len(now_lines)
                    elif cluster.get_obj("pods", ns, name) is None or not is_main or \
                            sim.frozen or sim.state in ("done", "crashloop"):
                        finished = True
                    elif not (fake.setting("progress") == "reads" and job_key
                              and cluster.advance([job_key])):
                        cluster.cond.wait(0.5)
                if finished:
                    return
                yield cap(data)  # b"" when idle: the handler looks whether the client went away

        return Stream(200, chunks(), "text/plain")

    def pod_sim(self, ns, name):
        """(PodSim, job key) of a pod the simulation made, or (None, None)."""
        for sim in list(self.cluster.sims.values()) + self.cluster.retired:
            if sim.ns != ns:
                continue
            for p in sim.pods:
                if p.name == name:
                    return p, (sim.ns, sim.name)
        return None, None

    @staticmethod
    def main_container(pod):
        names = [c.get("name") for c in pod["spec"].get("containers", [])]
        return "main" if "main" in names else (names[0] if names else None)

    # -- create --
    def create(self, request, resource, ns, query):
        if resource.name == "pods":
            raise ApiError(405, "MethodNotAllowed",
                           "this fake creates pods only through its Job controller")
        self.check_namespace(ns)
        obj, warnings, _ = self.admit(request, resource, ns, query)
        headers = {"Warning": [warning_header(w) for w in warnings]} if warnings else {}
        with self.cluster.cond:
            name = obj["metadata"].get("name")
            if not name:
                name = obj["metadata"]["generateName"] + "".join(
                    random.choice(POD_SUFFIX_ALPHABET) for _ in range(5))
                obj["metadata"]["name"] = name
            if self.cluster.get_obj(resource.name, ns, name) is not None:
                raise ApiError(409, "AlreadyExists", f"{resource.qualified} \"{name}\" already exists",
                               resource.details(name), headers)
            self.apply_defaults(resource, obj)
            if query.get("dryRun") == "All":
                return self.reply(obj, 201, headers)
            self.cluster.put(resource.name, obj, "ADDED")
            if resource.name == "jobs":
                self.cluster.start_job(obj)
            stored = copy.deepcopy(obj)
        return self.reply(stored, 201, headers)

    def decode_body(self, request, resource):
        raw = request.body
        dups = []

        def pairs_hook(pairs):
            out = {}
            for k, v in pairs:
                if k in out:
                    dups.append(k)
                out[k] = v
            return out

        ctype = request.headers.get("Content-Type", "application/json")
        try:
            if "yaml" in ctype:
                import yaml  # Debian python3-yaml
                obj = yaml.safe_load(raw.decode())
            else:
                obj = json.loads(raw.decode() or "null", object_pairs_hook=pairs_hook)
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, "BadRequest", f"couldn't get version/kind; json parse error: {e}") \
                from None
        except Exception as e:  # yaml errors
            raise ApiError(400, "BadRequest", f"error converting YAML to JSON: {e}") from None
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "Object 'Kind' is missing in '" +
                           raw.decode("utf-8", "replace")[:200] + "'")
        return obj, dups

    def admit(self, request, resource, ns, query):
        """Decoding, field validation and validation; returns (object, warnings, report)."""
        obj, dups = self.decode_body(request, resource)
        kind_text = f"{resource.kind} in version \"{resource.version}\" cannot be handled as a " \
                    f"{resource.kind}"
        if "kind" not in obj:
            raise ApiError(400, "BadRequest", "Object 'Kind' is missing in '" +
                           json.dumps(obj)[:200] + "'")
        if obj.get("kind") != resource.kind or obj.get("apiVersion", resource.api_version) != \
                resource.api_version:
            raise ApiError(400, "BadRequest",
                           f"the API version in the data ({obj.get('apiVersion')}) does not match "
                           f"the expected API version ({resource.api_version})"
                           if obj.get("kind") == resource.kind else
                           f"{kind_text}: no kind \"{obj.get('kind')}\" is registered for version "
                           f"\"{obj.get('apiVersion')}\"")
        meta = obj.get("metadata")
        if isinstance(meta, dict) and meta.get("namespace") not in (None, "", ns):
            raise ApiError(400, "BadRequest", "the namespace of the provided object does not "
                           "match the namespace sent on the request")
        mode = query.get("fieldValidation") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise ApiError(400, "BadRequest", f"fieldValidation parameter unsupported: {mode!r}")
        enabled = self.setting("validate") or {}
        report = {"fieldValidation": mode}
        request.log_extra["validation"] = report  # filled in as the checks run
        schema = self.schema.check(resource.kind, obj) if enabled.get("schema", True) else None
        report["schema"] = schema if schema is not None else self.schema.status
        rt = roundtrip(resource.kind, obj) if enabled.get("roundtrip", True) else None
        report["roundtrip"] = rt if rt is not None else "off"
        # Unknown fields: the 5.1.0 field tables, else python3-kubernetes' dropped fields that
        # are not known newer fields.
        if schema is not None:
            unknown = schema.get("unknown", [])
            if rt:
                report["newer_than_python_models"] = [d["field"] for d in rt["dropped"]
                                                      if d["field"] not in
                                                      {u["field"] for u in unknown}]
        elif rt:
            unknown = [d for d in rt["dropped"]
                       if d["pointer"].rsplit("/", 1)[-1] not in NEWER_FIELDS]
        else:
            unknown = []
        report["unknown"] = [u["field"] for u in unknown]
        problems = [f"unknown field \"{u['field']}\"" for u in unknown] + \
                   [f"duplicate field \"{d}\"" for d in dups]
        warnings = []
        if problems and mode == "Strict":
            raise ApiError(400, "BadRequest", f"{kind_text}: strict decoding error: "
                           + ", ".join(problems))
        if problems and mode == "Warn":
            warnings = problems
        for u in unknown:
            delete_pointer(obj, u["pointer"])
        unknown_ptrs = {u["pointer"] for u in unknown}
        # Decoding: JSON types.
        decode = []
        if schema is not None:
            decode += [e["message"] for e in schema.get("errors", []) if e["stage"] == "decode"]
        if rt:
            for c in rt["coerced"]:
                if c["pointer"] in unknown_ptrs:
                    continue
                if schema is not None and any(e["pointer"] == c["pointer"]
                                              for e in schema.get("errors", [])):
                    continue
                decode.append(f"json: cannot unmarshal {json_type(c['value'])} into Go struct "
                              f"field {c['field']} (python3-kubernetes 22.6 turned "
                              f"{json.dumps(c['value'])[:80]} into {json.dumps(c['became'])[:80]})")
            if rt["error"] and rt["error"][0] == "decode" and not decode:
                decode.append(f"python3-kubernetes 22.6 could not read it: {rt['error'][1]}")
        if decode:
            raise ApiError(400, "BadRequest", f"{kind_text}: " + ", ".join(decode))
        # Validation.
        causes = []
        if schema is not None:
            causes += [(e["field"], e["reason"], e["message"]) for e in schema.get("errors", [])
                       if e["stage"] == "invalid"]
        if rt and rt["error"] and rt["error"][0] == "invalid" and not causes:
            causes.append(("", "FieldValueInvalid",
                           f"python3-kubernetes 22.6: {rt['error'][1]}"))
        if enabled.get("rules", True):
            rules = rules_job(obj) if resource.name == "jobs" else rules_service(obj)
            report["rules"] = [f"{f}: {m}" for f, _, m in rules]
            seen = {(f, m) for f, _, m in causes}
            causes += [c for c in rules if (c[0], c[2]) not in seen]
        if causes:
            name = _dig(obj, "metadata", "name") or _dig(obj, "metadata", "generateName") or ""
            texts = [f"{f}: {m}" if f else m for f, _, m in causes]
            qualified = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
            message = f"{qualified} \"{name}\" is invalid: " + \
                (texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]")
            details = {"name": name, "group": resource.group, "kind": resource.kind,
                       "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes]}
            if not resource.group:
                del details["group"]
            raise ApiError(422, "Invalid", message, details)
        obj.setdefault("metadata", {})["namespace"] = ns
        return obj, warnings, report

    def apply_defaults(self, resource, obj):
        meta = obj["metadata"]
        for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                    "generation", "selfLink", "managedFields"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.cluster.now_rfc()
        if resource.name == "jobs":
            meta["generation"] = 1
            spec = obj["spec"]
            uid, name = meta["uid"], meta.get("name", "")
            tmeta = spec["template"].setdefault("metadata", {})
            labels = tmeta.setdefault("labels", {})
            labels.update({"batch.kubernetes.io/controller-uid": uid,
                           "batch.kubernetes.io/job-name": name, "controller-uid": uid,
                           "job-name": name})
            if not meta.get("labels"):
                meta["labels"] = dict(labels)
            spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
            if spec.get("completions") is None and spec.get("parallelism") is None:
                spec["completions"] = spec["parallelism"] = 1
            elif spec.get("parallelism") is None:
                spec["parallelism"] = 1
            spec.setdefault("backoffLimit", 2147483647 if spec.get("backoffLimitPerIndex")
                            is not None else 6)
            spec.setdefault("completionMode", "NonIndexed")
            spec.setdefault("suspend", False)
            spec.setdefault("manualSelector", None)
            if spec["manualSelector"] is None:
                del spec["manualSelector"]
            spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy")
                            else "TerminatingOrFailed")
            pspec = spec["template"]["spec"]
            pspec.setdefault("dnsPolicy", "ClusterFirst")
            pspec.setdefault("schedulerName", "default-scheduler")
            pspec.setdefault("securityContext", {})
            pspec.setdefault("terminationGracePeriodSeconds", 30)
            for c in pspec.get("containers", []):
                image = str(c.get("image", ""))
                tag = image.rsplit("/", 1)[-1]
                c.setdefault("imagePullPolicy", "Always" if ":" not in tag or tag.endswith(":latest")
                             else "IfNotPresent")
                c.setdefault("terminationMessagePath", "/dev/termination-log")
                c.setdefault("terminationMessagePolicy", "File")
                res = c.setdefault("resources", {})
                limits = res.get("limits") or {}
                if limits:
                    req = res.setdefault("requests", {})
                    for k, v in limits.items():
                        req.setdefault(k, v)
            obj["status"] = {}
        elif resource.name == "services":
            spec = obj["spec"]
            spec.setdefault("type", "ClusterIP")
            if not spec.get("clusterIP"):
                n = int(hashlib.sha256(meta["uid"].encode()).hexdigest()[:4], 16)
                spec["clusterIP"] = f"10.96.{n >> 8}.{(n & 0xff) or 1}"
            spec["clusterIPs"] = [spec["clusterIP"]]
            spec.setdefault("sessionAffinity", "None")
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
            obj["status"] = {"loadBalancer": {}}

    # -- delete --
    def delete(self, request, resource, ns, name, query):
        opts = {}
        if request.body.strip():
            try:
                opts = json.loads(request.body)
            except ValueError:
                raise ApiError(400, "BadRequest", "invalid DeleteOptions body") from None
            if not isinstance(opts, dict):
                raise ApiError(400, "BadRequest", "invalid DeleteOptions body")
        policy = opts.get("propagationPolicy") or query.get("propagationPolicy")
        if policy is None and opts.get("orphanDependents") is not None:
            policy = "Orphan" if opts["orphanDependents"] else "Background"
        if policy is None and query.get("orphanDependents") is not None:
            policy = "Orphan" if go_bool(query["orphanDependents"]) else "Background"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError(422, "Invalid", f"DeleteOptions.meta.k8s.io \"\" is invalid: "
                           f"propagationPolicy: Unsupported value: \"{policy}\": supported values: "
                           "\"Foreground\", \"Background\", \"Orphan\", \"nil\"")
        request.log_extra["propagationPolicy"] = policy
        headers = {}
        dry_run = query.get("dryRun") == "All" or opts.get("dryRun") == ["All"]
        cluster = self.cluster
        with cluster.cond:
            obj = cluster.get_obj(resource.name, ns, name)
            if obj is None:
                raise ApiError(404, "NotFound", f"{resource.qualified} \"{name}\" not found",
                               resource.details(name))
            want_uid = _dig(opts, "preconditions", "uid")
            if want_uid and want_uid != obj["metadata"]["uid"]:
                raise ApiError(409, "Conflict", f"Operation cannot be fulfilled on "
                               f"{resource.qualified} \"{name}\": Precondition failed: UID in "
                               f"precondition: {want_uid}, UID in object meta: "
                               f"{obj['metadata']['uid']}", resource.details(name))
            uid = obj["metadata"]["uid"]
            if dry_run:
                return self.reply(copy.deepcopy(obj))
            now = cluster.now_rfc()
            if resource.name == "pods":
                obj["metadata"]["deletionTimestamp"] = now
                obj["metadata"]["deletionGracePeriodSeconds"] = 0
                answer = copy.deepcopy(obj)
                cluster.put("pods", obj, "DELETED")
                sim, key = self.pod_sim(ns, name)
                if sim is not None and sim.outcome is None:
                    sim.outcome, sim.state, sim.frozen = "failed", "done", True
                    job = cluster.sims.get(key)
                    if job is not None:
                        job._reconcile()
                cluster.touch_logs()
                return self.reply(answer)
            if resource.name == "services":
                cluster.put("services", obj, "DELETED")
                return self.reply(self.success(resource, name, uid))
            sim = cluster.sims.get((ns, name))
            pods = [cluster.get_obj("pods", ns, p.name) for p in (sim.pods if sim else [])]
            pods = [p for p in pods if p is not None]
            if policy is None:
                headers["Warning"] = [warning_header(ORPHAN_WARNING)]
            if policy in (None, "Orphan"):
                for pod in pods:
                    pod["metadata"].pop("ownerReferences", None)
                    cluster.put("pods", pod)
                if sim:
                    sim.deleted = True
                    for p in sim.pods:
                        p.frozen = True
                    cluster.retired.append(sim)
                cluster.put("jobs", obj, "DELETED")
                cluster.sims.pop((ns, name), None)
                cluster.touch_logs()
                return self.reply(self.success(resource, name, uid), headers=headers)
            answer = None
            if policy == "Foreground":
                obj["metadata"]["deletionTimestamp"] = now
                obj["metadata"]["deletionGracePeriodSeconds"] = 0
                obj["metadata"]["finalizers"] = ["foregroundDeletion"]
                cluster.put("jobs", obj)
                answer = copy.deepcopy(obj)
            if sim:
                sim.deleted = True
            if policy == "Background":
                cluster.put("jobs", obj, "DELETED")
            for pod in pods:
                pod["metadata"]["deletionTimestamp"] = now
                pod["metadata"]["deletionGracePeriodSeconds"] = 0
                cluster.put("pods", pod, "DELETED")
            if policy == "Foreground":
                obj["metadata"]["finalizers"] = []
                cluster.put("jobs", obj, "DELETED")
            cluster.sims.pop((ns, name), None)
            cluster.touch_logs()
            return self.reply(answer or self.success(resource, name, uid), headers=headers)

    @staticmethod
    def success(resource, name, uid):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": resource.details(name, uid)}

    # -- tables --
    def table(self, resource, items, request, rv, with_columns=True):
        include = parse_qs(urlsplit(request.path).query).get("includeObject", ["Metadata"])[-1]
        now = self.cluster.now()
        cols, rows = TABLE_COLUMNS[resource.name], []
        for obj in items:
            cells = table_cells(resource.name, obj, now)
            row = {"cells": cells}
            if include == "Object":
                row["object"] = obj
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": rv},
                "columnDefinitions": [{"name": n, "type": t, "format": f, "description": n,
                                       "priority": 0} for n, t, f in cols] if with_columns else [],
                "rows": rows}


def _has_kubernetes():
    return importlib.util.find_spec("kubernetes") is not None  # Debian python3-kubernetes


def wants_table(request):
    return "as=Table" in (request.headers.get("Accept") or "")


TABLE_COLUMNS = {
    "jobs": [("Name", "string", "name"), ("Status", "string", ""), ("Completions", "string", ""),
             ("Duration", "string", ""), ("Age", "date", "")],
    "pods": [("Name", "string", "name"), ("Ready", "string", ""), ("Status", "string", ""),
             ("Restarts", "string", ""), ("Age", "string", "")],
    "services": [("Name", "string", "name"), ("Type", "string", ""), ("Cluster-IP", "string", ""),
                 ("External-IP", "string", ""), ("Port(s)", "string", ""), ("Age", "string", "")],
}


def table_cells(resource, obj, now):
    created = parse_time(_dig(obj, "metadata", "creationTimestamp") or "") or now
    age = human_age(now - created)
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if resource == "jobs":
        conds = {c["type"] for c in status.get("conditions", []) if c.get("status") == "True"}
        state = "Complete" if "Complete" in conds else "Failed" if "Failed" in conds else \
            "Running" if status.get("active") else "Pending"
        start = parse_time(status.get("startTime") or "")
        end = parse_time(status.get("completionTime") or "") or now
        duration = human_age(end - start) if start else ""
        return [obj["metadata"]["name"], state,
                f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}", duration, age]
    if resource == "pods":
        statuses = status.get("containerStatuses") or []
        ready = sum(1 for c in statuses if c.get("ready"))
        reason = status.get("reason") or status.get("phase", "Unknown")
        for cs in statuses:
            st = cs.get("state") or {}
            if st.get("waiting", {}).get("reason"):
                reason = st["waiting"]["reason"]
            elif "terminated" in st:
                t = st["terminated"]
                reason = t.get("reason") or (f"Signal:{t['signal']}" if t.get("signal")
                                             else f"ExitCode:{t.get('exitCode')}")
        restarts = sum(c.get("restartCount", 0) for c in statuses)
        return [obj["metadata"]["name"], f"{ready}/{len(spec.get('containers', []))}", reason,
                restarts, age]
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [obj["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP", ""),
            "<none>", ports or "<none>", age]


DISCOVERY_PATHS = {"/version", "/api", "/api/v1", "/apis", "/apis/batch", "/apis/batch/v1"}


def openapi_v3(path):
    """Just enough OpenAPI v3 for kubectl's --validate=strict to trust the server's field
    validation (it looks for a fieldValidation parameter on the PATCH of the kind)."""
    groups = {"api/v1": [("/api/v1/namespaces/{namespace}/services/{name}", "", "Service"),
                         ("/api/v1/namespaces/{namespace}/pods/{name}", "", "Pod")],
              "apis/batch/v1": [("/apis/batch/v1/namespaces/{namespace}/jobs/{name}", "batch",
                                 "Job")]}
    if path == "/openapi/v3":
        return {"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash="
                               + hashlib.sha256(gv.encode()).hexdigest()[:16].upper()}
                          for gv in groups}}
    gv = path[len("/openapi/v3/"):]
    if gv not in groups:
        return None
    paths = {}
    for p, group, kind in groups[gv]:
        gvk = {"group": group, "kind": kind, "version": "v1"}
        param = {"name": "fieldValidation", "in": "query", "schema": {"type": "string",
                                                                       "uniqueItems": True}}
        paths[p] = {"patch": {"operationId": f"patch{kind}", "parameters": [param],
                              "x-kubernetes-action": "patch",
                              "x-kubernetes-group-version-kind": gvk,
                              "responses": {"200": {"description": "OK"}}},
                    "get": {"operationId": f"read{kind}", "x-kubernetes-action": "get",
                            "x-kubernetes-group-version-kind": gvk,
                            "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": {}}}


# --- HTTP over TLS -----------------------------------------------------------------------------
class KubeHandler(common.Handler):
    server_version = "ParityFakeKube/1"
    tls_context = None
    timeout = None

    def setup(self):
        raw = self.request
        self.tls_failed = None
        raw.settimeout(30)
        try:
            head = raw.recv(8, socket.MSG_PEEK)
            if head and head[:1] != b"\x16":
                # Not a TLS handshake: answer like Go's net/http TLS server, then close.
                raw.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n"
                            b"Client sent an HTTP request to an HTTPS server.\n")
                self.tls_failed = "plain_http"
            elif not head:
                self.tls_failed = "closed"
            else:
                self.request = self.tls_context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.tls_failed = f"handshake: {e}"
        if self.tls_failed:
            self.fake.log({"event": "tls_refused", "why": self.tls_failed,
                           "peer": self.client_address[0]})
            self.request = raw
        self.request.settimeout(None)
        super().setup()

    def handle(self):
        if self.tls_failed:
            self.close_connection = True
            return
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, OSError):
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except (ssl.SSLError, OSError):
            pass

    # common.Handler._dispatch runs these (control, faults, the fake, the answer)
    def _record(self):
        self.auth = self.fake.authenticate(self)
        self.log_extra = {}
        return {"method": self.command, "path": self.path.split("?", 1)[0],
                "query": {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query,
                                                        keep_blank_values=True).items()},
                "auth": self.auth, "headers": dict(self.headers.items()),
                "body": self.body.decode("utf-8", "replace")[:BODY_LOG_LIMIT]}

    def _call(self, record):
        try:
            resp = self.fake.handle(self)
        except Exception as e:  # a bug in the fake: say so instead of dropping the line
            import traceback
            traceback.print_exc()
            resp = self.fake.error(500, "InternalError", f"fake bug: {type(e).__name__}: {e}")
        record.update(self.log_extra)
        return resp

    def _answer(self, resp, record, truncate):
        record["status"] = resp.status
        warnings = resp.headers.get("Warning")
        if warnings:
            record["warnings"] = warnings
        self.fake.log(record)
        if isinstance(resp, Stream):
            self._send_stream(resp, record["path"])
        else:
            self._send_multi(resp, truncate=truncate)

    def _control_view(self):
        return common.Response(200, json.dumps(self.fake.full_snapshot()))

    def _control_update(self, update):
        try:
            answer = self.fake.control(update)
        except Exception as e:  # a bug in the fake, or a script it cannot run
            import traceback
            traceback.print_exc()
            return common.Response(500, json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return common.Response(200, json.dumps(answer))

    def _hang_client_gone(self):
        """common's check, for a TLS socket (which cannot peek): any readability counts as the
        client going away."""
        if self._client_gone():
            return True
        time.sleep(0.1)
        return False

    def _send_multi(self, resp, truncate=False):
        """common.Handler._send, with list-valued headers sent as repeated headers."""
        body = resp.body
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            for v in value if isinstance(value, list) else [value]:
                self.send_header(name, v)
        self.send_header("Content-Length", str(len(body) // 2 if truncate else len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.close_connection = True

    def _client_gone(self):
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _send_stream(self, stream, path):
        self.send_response(stream.status)
        for name, value in stream.headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks, why = 0, "end"
        try:
            for data in stream.chunks:
                if data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    chunks += 1
                elif self._client_gone():
                    why = "client_gone"
                    break
            else:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, ssl.SSLError):
            why = "client_gone"
        finally:
            close = getattr(stream.chunks, "close", None)
            if close:
                close()
        if why != "end":
            self.close_connection = True
        self.fake.log({"event": "stream_end", "path": path, "chunks": chunks, "why": why})

    do_PATCH = common.Handler._dispatch  # GET, PUT, POST, DELETE, HEAD: common.Handler


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    p = common.arg_parser(__doc__.split("\n", 1)[0])
    p.add_argument("--cert-dir", required=True,
                   help="where the CA, server and client certificates and the kubeconfig go")
    p.add_argument("--client-cn", default="parity-admin", help="CN of the client certificate")
    p.add_argument("--node-modules",
                   help="node_modules with kubernetes-models 5.1.0 (ci/node-deps.sh prints it)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cert_dir = make_pki(args.cert_dir, args.client_cn)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_dir / "server.crt", cert_dir / "server.key")
    ctx.load_verify_locations(cert_dir / "ca.crt")
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    fake = KubeFake(args)
    fake.schema.start()
    handler = type("BoundKubeHandler", (KubeHandler,), {"fake": fake, "tls_context": ctx})
    server = TLSServer(("127.0.0.1", args.port), handler)
    fake.port = server.server_address[1]
    write_kubeconfig(cert_dir, fake.port, fake.setting("tokens") or {})
    print(f"ready port={fake.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake Amazon SageMaker training jobs and CloudWatch Logs (AWS JSON 1.1) on 127.0.0.1.

One port serves both services: POST / with Content-Type application/x-amz-json-1.1 and
X-Amz-Target SageMaker.<Op> (CreateTrainingJob, DescribeTrainingJob, StopTrainingJob,
ListTrainingJobs) or Logs_20140328.<Op> (DescribeLogStreams, GetLogEvents, FilterLogEvents).
Facts: shared/contract/launcher-apis.md §1. Each request is checked in the real services'
order:

- Routing: POST to / (else 404), Content-Type application/x-amz-json-1.1 (else 400
  SerializationException), a known X-Amz-Target (else 400 UnknownOperationException).
- SigV4 (sigv4_verify.py: botocore's own signer over the signed headers and the raw body). The
  credential scope must name service "sagemaker" (SageMaker.*) or "logs" (Logs_20140328.*) and
  the configured region. Keys: the static_keys table, then every key this family of fakes
  issued (common.secret_for); a temporary key only with its own unexpired session token. Bad
  signature, skew, scope or region: 400 InvalidSignatureException; unknown key or bad token:
  400 UnrecognizedClientException; expired token: 400 ExpiredTokenException.
- Throttling (state "throttle"): 400 ThrottlingException "Rate exceeded", after the signature
  check, as AWS does.
- The body: a JSON object (else 400 SerializationException), checked by a STRICT walker over
  botocore's service model (StrictModel below): required members, unknown members, JSON types,
  min/max (string length in UTF-16 units as Java counts them, list and map sizes, numbers),
  pattern (whole-value match, as the service's Java validator does) and enum. botocore's own
  ParamValidator skips max, pattern and enum, so boto3 sends what the service refuses; this
  walker does not. It runs once per botocore model found (Debian's python3-botocore, which the
  fake runs under, plus any other botocore's data dir, see model_dirs()) and the union of the
  violations wins: the stricter model decides (Environment <= 48 entries in 1.29.27, <= 100
  later). Enums are the exception: a value passes when some model lists it, as enum lists only
  grow (1.29.27 lacks ml.p5.48xlarge). Any violation: 400 ValidationException,
  "N validation error(s) detected: Value 'x' at 'trainingJobName' failed to satisfy
  constraint: Member must have length less than or equal to 63; ...". Unknown members and
  wrong JSON types are ValidationException here too (the real service may answer those with
  SerializationException or ignore an unknown member [U]: the fake is the stricter).
- Semantic checks the model cannot express (launcher-apis.md §1.2): MaxWaitTimeInSeconds only
  with EnableManagedSpotTraining, and then >= MaxRuntimeInSeconds; InstanceGroups excludes
  InstanceType/InstanceCount. 400 ValidationException.

Training jobs. CreateTrainingJob stores the job (a second create with the same name,
case-insensitively [U]: 400 ResourceInUse) and answers its ARN (lowercased, as SageMaker's
ARNs are [U]). The job then plays a script, one step per DescribeTrainingJob call: each
describe answers the current step and then advances, so a client that polls sees every state
and no wall clock is involved. The steps (TrainingJobStatus/SecondaryStatus):

  Completed:          InProgress/Starting, InProgress/Downloading, InProgress/Training,
                      InProgress/Uploading, Completed/Completed
  Failed:             ... up to fail_at (default Training), then Failed/Failed with
                      FailureReason "AlgorithmError: <failure>, exit code: <exit_code>"
  MaxRuntimeExceeded: ... Training, then Stopped/MaxRuntimeExceeded
  StopTrainingJob:    the rest is replaced by Stopping/Stopping, Stopped/Stopped (a stop of a
                      job that has ended: 400 ValidationException)

SecondaryStatusTransitions lists every step so far (StartTime, EndTime, StatusMessage). Times
run on a per-job virtual clock: CreationTime is the wall clock at create, and step i starts
step_seconds * i later. DescribeTrainingJob or StopTrainingJob of an unknown job: 400
ValidationException "Requested resource not found." (what SageMaker answers, not the modeled
ResourceNotFound).

A job's script is merged from, in increasing priority: the built-in defaults, state
"default_script", the job's Environment["PARITY_FAKE_SM"] (a JSON object), and state
"scripts"[name] (an exact name, else the first fnmatch pattern that matches). Fields:

  outcome         "Completed" (default) | "Failed" | "MaxRuntimeExceeded"
  exit_code       Failed: the N in "exit code: N" (default 1)
  failure         Failed: the text in the FailureReason (default "ExecuteUserScriptError")
  failure_reason  Failed: the whole FailureReason, verbatim (e.g. "ClientError: ...")
  fail_at         the SecondaryStatus in which it fails (Starting, Downloading, Training)
  hold            {"Training": 3}: how many describes answer that SecondaryStatus (default 1)
  step_seconds    the virtual time between steps (default 1)
  hosts           the number of log streams (default: the instances of the create request)
  log_lines       the lines each stream gets: a list for every host, or {"1": [...], ...} per
                  host number; "{host}" (algo-N), "{n}" (N) and "{job}" are substituted.
                  Default: four lines per host, plus the failure text for a Failed job.

Logs. Log group /aws/sagemaker/TrainingJobs; one stream per host, "<job>/algo-<n>-<epoch>"
(epoch: the job's CreationTime), created when the job enters Training. Its lines appear as the
job advances: the first share on entering Training, one more share per describe that answers
Training (hold["Training"] shares in all), and the rest when the job leaves Training.

- DescribeLogStreams: logStreamNamePrefix, orderBy LogStreamName (default; byte order) or
  LastEventTime (not with a prefix: 400 InvalidParameterException), descending, limit (<= 50,
  default 50) and nextToken (absent on the last page). Unknown group: 400
  ResourceNotFoundException.
- GetLogEvents: tokens "f/<56 digits>" and "b/<56 digits>" (positions in the stream). Without
  a token, startFromHead true reads from the first event, false (the default) the last `limit`
  events. nextForwardToken at the end of the stream is the token passed in. A forward token
  needs startFromHead true, as the documentation says (state "require_start_from_head", default
  true, makes a missing one 400 InvalidParameterException: stricter than the service is known
  to be [U]). startTime and endTime (ms, endTime exclusive) filter. Unknown stream: 400
  ResourceNotFoundException.
- FilterLogEvents: logStreamNames or logStreamNamePrefix (not both), startTime, endTime,
  filterPattern (plain terms and "quoted phrases", all of which must occur; anything else: 400
  InvalidParameterException), limit; events interleaved by timestamp, each with logStreamName
  and eventId; nextToken absent at the end.
- "logs_page_size": at most this many events per GetLogEvents/FilterLogEvents page (partial
  pages while more data exists, as the service may return).

State (--config JSON or POST /_control; each top-level key replaces the one before):

  region          the signing region required in the credential scope (default us-east-1)
  account         the account in ARNs (default 123456789012)
  static_keys     {access key id: secret} accepted besides the fakes' own keys
  scripts, default_script, require_start_from_head, logs_page_size   (above)
  throttle        {"DescribeTrainingJob": 2, "*": 1}: the next N calls of that operation (or
                  of any, "*") answer 400 ThrottlingException; counts down, shown by GET
  create_hang     {"count": 1, "seconds": 5}: the next CreateTrainingJob(s) create the job and
                  then never answer (for `seconds`, null: until the next control change), then
                  close the connection: a client's timeout then retry sees ResourceInUse
  models          null (every botocore model found) or a list of labels ("botocore-1.29.27")
  faults          common.py's faults, before anything else; a fault may name an "operation"

POST /_control also takes actions, which are not stored: {"advance": {"<job or glob>": N or
"end"}} moves jobs N steps (ignoring hold) or to their end; {"reset_jobs": true} forgets every
job. GET /_control adds "jobs" (status, step, hosts, lines shown per stream) and "models"
(labels, and the patterns no checker could compile).

Errors are {"__type": CODE, "message": ...} with x-amzn-ErrorType and x-amzn-RequestId. The log
records add operation, target, service, region, access_key (from the Authorization header, even
when refused), signed_by (once verified), params, error, violations (each model's, as text) and job.
"""

import base64
import binascii
import fnmatch
import glob
import gzip
import hashlib
import json
import math
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awsjson  # noqa: E402  (the AWS JSON 1.1 protocol, shared with the SSM/Secrets fake)
import common  # noqa: E402
from awsjson import ApiError  # noqa: E402  (tests catch fake_sagemaker.ApiError)

import botocore  # noqa: E402
from botocore.loaders import Loader  # noqa: E402

try:  # Debian python3-regex: Unicode property classes (\p{L}) in patterns
    import regex as unicode_regex
except ImportError:  # pragma: no cover - depends on the machine
    unicode_regex = None

ACCOUNT = "123456789012"
REGION = "us-east-1"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
ENV_SCRIPT = "PARITY_FAKE_SM"
# X-Amz-Target -> (signing service, model name, operation)
TARGETS = {f"SageMaker.{op}": ("sagemaker", "sagemaker", op)
           for op in ("CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob",
                      "ListTrainingJobs")}
TARGETS.update({f"Logs_20140328.{op}": ("logs", "logs", op)
                for op in ("DescribeLogStreams", "GetLogEvents", "FilterLogEvents")})
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/")

STATUS_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped: the maximum run time was exceeded",
}
RUNNING = ("Starting", "Downloading", "Training")
TERMINAL = ("Completed", "Failed", "Stopped")
DEFAULT_SCRIPT = {"outcome": "Completed", "exit_code": 1, "failure": "ExecuteUserScriptError",
                  "fail_at": "Training", "hold": {}, "step_seconds": 1}
DEFAULT_LINES = ["{host}: parity fake training job {job}", "{host}: epoch 1/3",
                 "{host}: epoch 2/3", "{host}: epoch 3/3"]
TOKEN_DIGITS = 56


def validation_error(message):
    return ApiError(400, "ValidationException", message)


def logs_invalid(message):
    return ApiError(400, "InvalidParameterException", message)


# --- the strict walker ----------------------------------------------------------------------------
JAVA_POSIX_CLASSES = {"Alnum": "A-Za-z0-9", "Alpha": "A-Za-z", "Digit": "0-9", "Upper": "A-Z",
                      "Lower": "a-z", "XDigit": "0-9A-Fa-f"}


def translate_java_posix(pattern):
    """Java's ASCII POSIX classes (\\p{Alnum} ...) as Python ranges, inside a [...] class or as
    one of their own; other \\p{...} (Unicode properties) are left for the regex module."""
    out, i, depth = [], 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            m = re.match(r"\\p\{(\w+)\}", pattern[i:])
            if m and m.group(1) in JAVA_POSIX_CLASSES:
                ranges = JAVA_POSIX_CLASSES[m.group(1)]
                out.append(ranges if depth else f"[{ranges}]")
                i += len(m.group(0))
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


def compile_pattern(pattern):
    """A compiled whole-value matcher for a model pattern (Java syntax), or None when neither
    Python's re nor (for \\p{...}) the regex module can compile it."""
    translated = translate_java_posix(pattern)
    if "\\p{" not in translated and "\\P{" not in translated:
        try:
            return re.compile(translated)
        except re.error:
            pass
    if unicode_regex is not None:
        try:
            return unicode_regex.compile(pattern)
        except unicode_regex.error:
            return None
    return None


def java_length(text):
    """A string's length as the service (Java) counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def render(value):
    """A value as the service's messages show it (Java's toString forms)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render(v)}" for k, v in value.items()) + "}"
    return str(value)


def member_path(path, name):
    """The service's path for a member: lowerCamelCase names joined by dots."""
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


class Violation:
    """One failed constraint: `key` (path, kind) deduplicates across models."""

    def __init__(self, path, value, constraint, kind):
        self.path, self.value, self.constraint, self.kind = path, value, constraint, kind

    @property
    def key(self):
        return (self.path, self.kind)

    def text(self):
        shown = "null" if self.value is None else f"'{render(self.value)}'"
        return f"Value {shown} at '{self.path}' failed to satisfy constraint: {self.constraint}"


INT_RANGES = {"integer": (-2 ** 31, 2 ** 31 - 1), "long": (-2 ** 63, 2 ** 63 - 1)}


def type_ok(kind, value):
    """Whether value is a JSON value of the model type kind (a bool is not a number)."""
    if kind == "structure" or kind == "map":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in INT_RANGES:
        lo, hi = INT_RANGES[kind]
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if kind in ("float", "double", "timestamp"):  # JSON 1.1 timestamps: epoch seconds
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True  # document: anything


class StrictModel:
    """One botocore service model (the raw service-2 dict) and a strict walker over its shapes.
    label names its botocore version; patterns it could not compile land in `skipped`."""

    def __init__(self, label, service_dict):
        self.label = label
        self.shapes = service_dict["shapes"]
        self.operations = service_dict["operations"]
        self.patterns = {}
        self.skipped = set()

    def input_shape(self, operation):
        op = self.operations.get(operation)
        return op["input"]["shape"] if op and "input" in op else None

    def output_shape(self, operation):
        op = self.operations.get(operation)
        return op["output"]["shape"] if op and "output" in op else None

    def matcher(self, pattern):
        if pattern not in self.patterns:
            self.patterns[pattern] = compile_pattern(pattern)
            if self.patterns[pattern] is None:
                self.skipped.add(pattern)
        return self.patterns[pattern]

    def check(self, shape_name, value, path=""):
        """Every violation of value against shape_name, as Violations."""
        out = []
        self._walk(shape_name, value, path, out)
        return out

    def _walk(self, shape_name, value, path, out):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if not type_ok(kind, value):
            out.append(Violation(path, value, f"Member must be of type {kind} "
                                 f"({shape_name})", "type"))
            return
        if kind == "structure":
            self._structure(shape_name, shape, value, path, out)
        elif kind == "list":
            self._list(shape, value, path, out)
        elif kind == "map":
            self._map(shape, value, path, out)
        else:
            out.extend(Violation(path, value, c, k) for k, c in self.scalar(shape, value))

    def _structure(self, shape_name, shape, value, path, out):
        for name in shape.get("required", []):
            if value.get(name) is None:
                out.append(Violation(member_path(path, name), None, "Member must not be null",
                                     "required"))
        members = shape.get("members", {})
        for name, item in value.items():
            if name not in members:
                out.append(Violation(member_path(path, name), item,
                                     f"Member is not defined in {shape_name}", "unknown"))
            elif item is not None:  # null is absent, as the service reads it
                self._walk(members[name]["shape"], item, member_path(path, name), out)

    def _list(self, shape, value, path, out):
        out.extend(Violation(path, value, c, k) for k, c in self.size(shape, len(value)))
        member = shape["member"]["shape"]
        if self.shapes[member]["type"] in ("structure", "list", "map"):
            for i, item in enumerate(value, 1):
                self._walk(member, item, f"{path}.{i}.member", out)
            return
        failed = []
        for item in value:
            failed += [c for _, c in self.scalar_or_type(member, item) if c not in failed]
        if failed:
            out.append(Violation(path, value, "Member must satisfy constraint: ["
                                 + ", ".join(failed) + "]", "member"))

    def _map(self, shape, value, path, out):
        out.extend(Violation(path, value, c, k) for k, c in self.size(shape, len(value)))
        key_shape, value_shape = shape["key"]["shape"], shape["value"]["shape"]
        failed_keys, failed_values = [], []
        for key, item in value.items():
            failed_keys += [c for _, c in self.scalar_or_type(key_shape, key)
                            if c not in failed_keys]
            if self.shapes[value_shape]["type"] in ("structure", "list", "map"):
                self._walk(value_shape, item, f"{path}.{key}", out)
            else:
                failed_values += [c for _, c in self.scalar_or_type(value_shape, item)
                                  if c not in failed_values]
        if failed_keys:
            out.append(Violation(path, value, "Map keys must satisfy constraint: ["
                                 + ", ".join(failed_keys) + "]", "keys"))
        if failed_values:
            out.append(Violation(path, value, "Map value must satisfy constraint: ["
                                 + ", ".join(failed_values) + "]", "values"))

    def scalar_or_type(self, shape_name, value):
        shape = self.shapes[shape_name]
        if not type_ok(shape["type"], value):
            return [("type", f"Member must be of type {shape['type']} ({shape_name})")]
        return self.scalar(shape, value)

    @staticmethod
    def size(shape, n, unit="length"):
        """min/max of a length or size n: [(kind, constraint)]."""
        found = []
        if "min" in shape and n < shape["min"]:
            found.append(("min", f"Member must have {unit} greater than or equal to "
                                 f"{shape['min']}"))
        if "max" in shape and n > shape["max"]:
            found.append(("max", f"Member must have {unit} less than or equal to "
                                 f"{shape['max']}"))
        return found

    def scalar(self, shape, value):
        """A string, number, blob or boolean's failed constraints: [(kind, constraint)]."""
        kind = shape["type"]
        if kind == "string":
            found = self.size(shape, java_length(value))
            if "enum" in shape and value not in shape["enum"]:
                found.append(("enum", "Member must satisfy enum value set: ["
                              + ", ".join(shape["enum"]) + "]"))
            pattern = shape.get("pattern")
            if pattern is not None:
                matcher = self.matcher(pattern)
                if matcher is not None and not matcher.fullmatch(value):
                    found.append(("pattern", "Member must satisfy regular expression pattern: "
                                  + pattern))
            return found
        if kind == "blob":
            try:
                return self.size(shape, len(base64.b64decode(value, validate=True)))
            except (binascii.Error, ValueError):
                return [("type", "Member must be base64-encoded binary data")]
        if kind in ("integer", "long", "float", "double"):
            return self.size(shape, value, unit="value")
        return []


def botocore_version(data_dir):
    """The version of the botocore that owns data_dir (its __init__.py), or "?"."""
    try:
        text = (Path(data_dir).parent / "__init__.py").read_text()
    except OSError:
        return "?"
    m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return m.group(1) if m else "?"


SEARCHED_DATA_DIRS = ("/root/.pyenv/versions/*/lib/python3*/site-packages/botocore/data",
                     "~/.pyenv/versions/*/lib/python3*/site-packages/botocore/data",
                     "/usr/local/lib/python3*/*-packages/botocore/data",
                     "~/.local/lib/python3*/site-packages/botocore/data")


def model_dirs():
    """Other botocores' data dirs: those in $PARITY_FAKE_BOTOCORE_DATA (os.pathsep-separated)
    when it is set (set and empty: none, Debian's model only), else those SEARCHED_DATA_DIRS
    finds. Debian's own is not listed."""
    given = os.environ.get("PARITY_FAKE_BOTOCORE_DATA")
    if given is not None:
        found = [d for d in given.split(os.pathsep) if d]
    else:
        found = [d for pattern in SEARCHED_DATA_DIRS
                 for d in sorted(glob.glob(os.path.expanduser(pattern)))]
    own = os.path.realpath(os.path.join(os.path.dirname(botocore.__file__), "data"))
    unique = []
    for d in found:
        real = os.path.realpath(d)
        if real != own and real not in unique and os.path.isdir(real):
            unique.append(real)
    return unique


def load_service_file(data_dir, service):
    """The newest API version's service-2.json(.gz) of service in data_dir, or None."""
    versions = sorted(glob.glob(os.path.join(data_dir, service, "*")))
    for version in reversed(versions):
        for name, opener in (("service-2.json", open), ("service-2.json.gz", gzip.open)):
            path = os.path.join(version, name)
            if os.path.exists(path):
                with opener(path, "rt", encoding="utf-8") as f:
                    return json.load(f)
    return None


class Models:
    """The strict models of both services, one set per botocore found: Debian's first."""

    def __init__(self):
        loader = Loader()
        self.sets = [(f"botocore-{botocore.__version__}",
                      {s: StrictModel(f"botocore-{botocore.__version__}",
                                      loader.load_service_model(s, "service-2"))
                       for s in ("sagemaker", "logs")})]
        for data_dir in model_dirs():
            label = f"botocore-{botocore_version(data_dir)}"
            if any(label == have for have, _ in self.sets):
                continue
            try:
                loaded = {s: load_service_file(data_dir, s) for s in ("sagemaker", "logs")}
            except (OSError, ValueError):
                continue
            if all(loaded.values()):
                self.sets.append((label, {s: StrictModel(label, d) for s, d in loaded.items()}))

    @staticmethod
    def _listed(path, keys):
        """Whether a model that knows the member at path found its value in the enum."""
        return any((path, "enum") not in k and (path, "unknown") not in k for k in keys)

    def labels(self):
        return [label for label, _ in self.sets]

    def skipped(self):
        return sorted({p for _, m in self.sets for s in m.values() for p in s.skipped})

    def violations(self, service, operation, params, use=None, output=False):
        """{label: [Violation]} for params as operation's input (or output) in each model
        (those in `use`, a list of labels, when given)."""
        found = {}
        for label, models in self.sets:
            if use and label not in use:
                continue
            model = models[service]
            shape = model.output_shape(operation) if output else model.input_shape(operation)
            if shape is None:
                continue
            found[label] = model.check(shape, params)
        return found

    def validate(self, service, operation, params, use=None, report=None):
        """Raises ValidationException (the union of every model's violations: the stricter
        wins), except for enums: a value that some model's enum lists passes (enum lists only
        grow; ml.p5.48xlarge is missing from 1.29.27's). report (a dict), when given, gets each
        model's findings as text, for the log."""
        found = self.violations(service, operation, params, use)
        if report is not None:
            report.update({label: [v.text() for v in vs] for label, vs in found.items()})
        keys = [{v.key for v in violations} for violations in found.values()]
        union, seen = [], set()
        for violations in found.values():
            for v in violations:
                if v.key in seen or (v.kind == "enum" and self._listed(v.path, keys)):
                    continue
                seen.add(v.key)
                union.append(v)
        if union:
            n = len(union)
            raise validation_error(f"{n} validation error{'s' if n > 1 else ''} detected: "
                                   + "; ".join(v.text() for v in union))


# --- training job semantics -----------------------------------------------------------------------
def semantic_checks(params):
    """CreateTrainingJob rules the model cannot express (launcher-apis.md §1.2)."""
    stopping = params.get("StoppingCondition") or {}
    spot = params.get("EnableManagedSpotTraining") is True
    wait = stopping.get("MaxWaitTimeInSeconds")
    if wait is not None and not spot:
        raise validation_error("Invalid MaxWaitTimeInSeconds. It is only supported when "
                               "EnableManagedSpotTraining is set to true")
    if spot and wait is None:
        raise validation_error("Invalid MaxWaitTimeInSeconds. It is required when "
                               "EnableManagedSpotTraining is set to true")
    runtime = stopping.get("MaxRuntimeInSeconds")
    if spot and runtime is not None and wait < runtime:
        raise validation_error("Invalid MaxWaitTimeInSeconds. It must be greater than or equal "
                               "to MaxRuntimeInSeconds")
    resources = params.get("ResourceConfig") or {}
    if resources.get("InstanceGroups") and ("InstanceType" in resources
                                            or "InstanceCount" in resources):
        raise validation_error("InstanceGroups cannot be used with InstanceType or "
                               "InstanceCount in ResourceConfig")


def instance_count(params):
    resources = params.get("ResourceConfig") or {}
    groups = resources.get("InstanceGroups")
    if groups:
        return sum(int(g.get("InstanceCount", 0)) for g in groups)
    return int(resources.get("InstanceCount", 1))


def find_script(scripts, name):
    """The scripts entry for name: an exact key, else the first fnmatch pattern."""
    scripts = scripts or {}
    if name in scripts:
        return scripts[name]
    for pattern, script in scripts.items():
        if fnmatch.fnmatchcase(name, pattern):
            return script
    return None


def merge_script(layers):
    """The job's script: later layers override earlier ones (hold merges key by key)."""
    script = json.loads(json.dumps(DEFAULT_SCRIPT))
    for layer in layers:
        for key, value in (layer or {}).items():
            if key == "hold" and isinstance(value, dict):
                script["hold"].update(value)
            else:
                script[key] = value
    return script


def env_script(params):
    """The job's own Environment["PARITY_FAKE_SM"] script, or None (bad JSON: a validation
    error, so a test that meant it cannot pass silently)."""
    text = (params.get("Environment") or {}).get(ENV_SCRIPT)
    if text is None:
        return None
    try:
        script = json.loads(text)
        assert isinstance(script, dict)
    except (ValueError, AssertionError):
        raise validation_error(f"the fake's Environment {ENV_SCRIPT} is not a JSON object")
    return script


def plan_steps(script):
    """The job's steps: [(TrainingJobStatus, SecondaryStatus)]."""
    outcome = script.get("outcome", "Completed")
    if outcome == "Completed":
        return [("InProgress", s) for s in (*RUNNING, "Uploading")] + [("Completed", "Completed")]
    if outcome == "MaxRuntimeExceeded":
        return [("InProgress", s) for s in RUNNING] + [("Stopped", "MaxRuntimeExceeded")]
    if outcome == "Failed":
        fail_at = script.get("fail_at", "Training")
        if fail_at not in RUNNING:
            raise validation_error(f"the fake's fail_at must be one of {list(RUNNING)}")
        upto = RUNNING[:RUNNING.index(fail_at) + 1]
        return [("InProgress", s) for s in upto] + [("Failed", "Failed")]
    raise validation_error(f"the fake's outcome {outcome!r} is not Completed, Failed or "
                           "MaxRuntimeExceeded")


def failure_reason(script):
    if script.get("failure_reason"):
        return str(script["failure_reason"])
    return f"AlgorithmError: {script.get('failure')}, exit code: {int(script.get('exit_code', 1))}"


def host_lines(script, job_name, n):
    """The lines host algo-n writes, substituted."""
    lines = script.get("log_lines")
    if isinstance(lines, dict):
        lines = lines.get(str(n), [])
    elif lines is None:
        lines = list(DEFAULT_LINES)
        if script.get("outcome") == "Failed":
            lines.append("{host}: " + str(script.get("failure")))
    host = f"algo-{n}"
    return [str(line).replace("{host}", host).replace("{n}", str(n)).replace("{job}", job_name)
            for line in lines]


def token_digits(n):
    return str(n).zfill(TOKEN_DIGITS)


class Job:
    """One training job: its request, script, steps, cursor and log streams. The fake's lock
    guards every method."""

    def __init__(self, params, script, region, account, now):
        self.name = params["TrainingJobName"]
        self.params = params
        self.script = script
        self.arn = f"arn:aws:sagemaker:{region}:{account}:training-job/{self.name.lower()}"
        self.created = now
        self.steps = plan_steps(script)
        self.cursor = 0      # the step the next describe answers
        self.seen = 0        # describes that answered the current step
        self.describes = 0
        self.hosts = int(script.get("hosts") or max(instance_count(params), 1))
        self.streams = []    # [{"name", "events": [(ts_ms, message)], "shown": n, "created"}]

    # --- the clock and the steps ------------------------------------------------------------------
    def step_time(self, i):
        return round(self.created + float(self.script.get("step_seconds", 1)) * i, 3)

    @property
    def status(self):
        return self.steps[self.cursor]

    def terminal(self):
        return self.status[0] in TERMINAL

    def hold(self, secondary):
        return max(int((self.script.get("hold") or {}).get(secondary, 1)), 1)

    def advance(self):
        """One step further (a no-op at the end); opens or fills the log streams."""
        if self.terminal():
            return
        self.cursor += 1
        self.seen = 0
        self._update_logs()

    def on_describe(self):
        """After a describe answered the current step: count it, and advance once the step has
        been answered hold(...) times."""
        self.describes += 1
        if self.terminal():
            return
        self.seen += 1
        if self.seen >= self.hold(self.status[1]):
            self.advance()
        else:
            self._update_logs()

    def stop(self):
        status, secondary = self.status
        if status in TERMINAL:
            raise validation_error("The request was rejected because the training job is in "
                                   f"status {status}.")
        if status == "Stopping":
            return
        self.steps = self.steps[:self.cursor + 1] + [("Stopping", "Stopping"),
                                                     ("Stopped", "Stopped")]
        self.advance()

    # --- logs -------------------------------------------------------------------------------------
    def _open_streams(self):
        start = self.step_time(self.cursor)
        epoch = int(self.created)
        for n in range(1, self.hosts + 1):
            base = int(start * 1000)
            events = [(base + 10 * i + n, line)
                      for i, line in enumerate(host_lines(self.script, self.name, n))]
            self.streams.append({"name": f"{self.name}/algo-{n}-{epoch}", "events": events,
                                 "shown": 0, "created": base})

    def _update_logs(self):
        secondary = self.status[1]
        if not self.streams and (secondary == "Training" or self._past_training()):
            self._open_streams()
        if not self.streams:
            return
        if secondary == "Training":
            hold = self.hold("Training")
            for s in self.streams:
                total = len(s["events"])
                s["shown"] = max(s["shown"], min(total, math.ceil(total * (self.seen + 1) / hold)))
        elif secondary not in ("Stopping", "Stopped"):
            for s in self.streams:
                s["shown"] = len(s["events"])

    def _past_training(self):
        done = [sec for _, sec in self.steps[:self.cursor + 1]]
        return "Training" in done and self.status[1] not in ("Stopping", "Stopped")

    # --- answers ----------------------------------------------------------------------------------
    def transitions(self):
        out = []
        for i in range(self.cursor + 1):
            secondary = self.steps[i][1]
            entry = {"Status": secondary, "StartTime": self.step_time(i),
                     "StatusMessage": STATUS_MESSAGES[secondary]}
            if i < self.cursor:
                entry["EndTime"] = self.step_time(i + 1)
            elif self.terminal():
                entry["EndTime"] = self.step_time(i)
            out.append(entry)
        return out

    def describe(self):
        status, secondary = self.status
        p = self.params
        output = (p.get("OutputDataConfig") or {}).get("S3OutputPath", "").rstrip("/")
        doc = {"TrainingJobName": self.name, "TrainingJobArn": self.arn,
               "ModelArtifacts": {"S3ModelArtifacts": f"{output}/{self.name}/output/"
                                                     "model.tar.gz"},
               "TrainingJobStatus": status, "SecondaryStatus": secondary,
               "CreationTime": self.created, "LastModifiedTime": self.step_time(self.cursor),
               "SecondaryStatusTransitions": self.transitions(),
               "EnableNetworkIsolation": bool(p.get("EnableNetworkIsolation", False)),
               "EnableInterContainerTrafficEncryption":
                   bool(p.get("EnableInterContainerTrafficEncryption", False)),
               "EnableManagedSpotTraining": bool(p.get("EnableManagedSpotTraining", False))}
        for key in ("HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                    "OutputDataConfig", "ResourceConfig", "VpcConfig", "StoppingCondition",
                    "CheckpointConfig", "Environment", "RetryStrategy"):
            if key in p:
                doc[key] = p[key]
        secondaries = [sec for _, sec in self.steps[:self.cursor + 1]]
        if "Downloading" in secondaries:
            doc["TrainingStartTime"] = self.step_time(secondaries.index("Downloading"))
        if self.terminal():
            end = self.step_time(self.cursor)
            doc["TrainingEndTime"] = end
            seconds = int(end - doc.get("TrainingStartTime", end))
            doc["TrainingTimeInSeconds"] = seconds
            doc["BillableTimeInSeconds"] = seconds
        if status == "Failed":
            doc["FailureReason"] = failure_reason(self.script)
        return doc

    def summary(self):
        doc = {"TrainingJobName": self.name, "TrainingJobArn": self.arn,
               "CreationTime": self.created, "LastModifiedTime": self.step_time(self.cursor),
               "TrainingJobStatus": self.status[0]}
        if self.terminal():
            doc["TrainingEndTime"] = self.step_time(self.cursor)
        return doc

    def state(self):
        """The job as GET /_control shows it."""
        return {"status": self.status[0], "secondary": self.status[1], "step": self.cursor,
                "steps": [sec for _, sec in self.steps], "describes": self.describes,
                "hosts": self.hosts,
                "streams": {s["name"]: {"shown": s["shown"], "total": len(s["events"])}
                            for s in self.streams}}


# --- log helpers ----------------------------------------------------------------------------------
def encode_token(doc):
    return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def decode_token(token, query):
    """A pagination token of ours for this same query, else InvalidParameterException."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode()))
        assert isinstance(doc, dict) and doc.get("q") == query
        return doc
    except (ValueError, AssertionError, binascii.Error, UnicodeDecodeError):
        raise logs_invalid("The specified nextToken is invalid.") from None


def query_key(params, *names):
    return hashlib.sha256(json.dumps([params.get(n) for n in names]).encode()).hexdigest()[:16]


def group_name(params):
    """The log group a Logs request names (logGroupName, or logGroupIdentifier: a name or an
    ARN)."""
    name = params.get("logGroupName")
    ident = params.get("logGroupIdentifier")
    if name is not None and ident is not None:
        raise logs_invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if ident is not None:
        name = ident.split(":log-group:", 1)[1].split(":", 1)[0] if ":log-group:" in ident \
            else ident
    if name is None:
        raise logs_invalid("Either logGroupName or logGroupIdentifier must be given.")
    if name != LOG_GROUP:
        raise ApiError(400, "ResourceNotFoundException", "The specified log group does not "
                                                         "exist.")
    return name


def parse_position(token, prefix):
    m = re.fullmatch(prefix + r"/(\d{%d})" % TOKEN_DIGITS, token or "")
    return int(m.group(1)) if m else None


def filter_terms(pattern):
    """The terms of a plain filterPattern (words and "quoted phrases"), or None when it uses
    the JSON, space-delimited or metric syntax the fake does not implement."""
    pattern = (pattern or "").strip()
    if not pattern:
        return []
    if pattern[0] in "{[" or any(c in pattern for c in "?$%"):
        return None
    terms = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', pattern)
    return [quoted or bare for quoted, bare in terms]


def event_id(stream, index, ts):
    digest = int(hashlib.sha256(f"{stream}\0{index}".encode()).hexdigest(), 16)
    return (str(ts) + str(digest))[:TOKEN_DIGITS]


# --- the server -----------------------------------------------------------------------------------
class SageMaker(awsjson.AwsJsonFake):
    NAME = "sagemaker"
    TARGETS = TARGETS
    MALFORMED = b'{"TrainingJobStatus": <<<not json'
    UNRECOGNIZED_MESSAGE = "The security token included in the request is invalid."
    DEFAULTS = {"region": REGION, "account": ACCOUNT, "static_keys": {}, "scripts": {},
                "default_script": {}, "throttle": {}, "create_hang": None,
                "require_start_from_head": True, "logs_page_size": None, "models": None}
    ACTIONS = ("advance", "reset_jobs")

    def __init__(self, args):
        self.models = Models()
        self.jobs = {}   # lowercased name -> Job, in creation order
        super().__init__(args)

    # --- control ----------------------------------------------------------------------------------
    def control(self, update):
        update = dict(update)
        actions = {k: update.pop(k) for k in self.ACTIONS if k in update}
        with self.lock:
            if actions.get("reset_jobs"):
                self.jobs.clear()
            for pattern, steps in (actions.get("advance") or {}).items():
                for job in self.jobs.values():
                    if fnmatch.fnmatchcase(job.name, pattern):
                        for _ in range(len(job.steps) if steps == "end" else int(steps)):
                            job.advance()
        return super().control(update)

    def snapshot(self):  # the caller holds the lock
        snap = super().snapshot()
        snap["jobs"] = {job.name: job.state() for job in self.jobs.values()}
        snap["models"] = {"labels": self.models.labels(), "skipped_patterns":
                          self.models.skipped(), "unicode_regex": unicode_regex is not None}
        return snap

    # --- shapes -----------------------------------------------------------------------------------
    def describe(self, request):
        m = CREDENTIAL_RE.search(request.headers.get("Authorization", ""))
        return {**super().describe(request),
                "target": request.headers.get("X-Amz-Target"),
                "access_key": m.group(1) if m else None}

    # --- requests ---------------------------------------------------------------------------------
    def signing_region(self):
        return self.state.get("region") or REGION

    def admit(self, operation):
        """Counts down state "throttle" for operation (or "*"); raises ThrottlingException."""
        with self.lock:
            table = self.state.get("throttle") or {}
            for key in (operation, "*"):
                if int(table.get(key) or 0) > 0:
                    table[key] = int(table[key]) - 1
                    raise ApiError(400, "ThrottlingException", "Rate exceeded")

    def call(self, request, target, operation, params, region):
        request.log_extra["violations"] = {}
        self.models.validate(self.TARGETS[target][0], operation, params, self.setting("models"),
                             request.log_extra["violations"])
        return getattr(self, "op_" + operation)(request, params)

    def _job(self, name):
        job = self.jobs.get(name.lower())
        if job is None or job.name != name:
            raise validation_error("Requested resource not found.")
        return job

    # --- SageMaker --------------------------------------------------------------------------------
    def op_CreateTrainingJob(self, request, params):
        semantic_checks(params)
        name = params["TrainingJobName"]
        with self.lock:
            layers = [self.state.get("default_script"), env_script(params),
                      find_script(self.state.get("scripts"), name)]
            script = merge_script(layers)
            existing = self.jobs.get(name.lower())
            if existing is not None:
                raise ApiError(400, "ResourceInUse",
                               "Training job names must be unique within an AWS account and "
                               "region, and a training job with this name already exists ("
                               f"{existing.arn})")
            job = Job(params, script, self.state.get("region") or REGION,
                      self.state.get("account") or ACCOUNT, round(time.time(), 3))
            self.jobs[name.lower()] = job
            hang = self._take_create_hang()
        request.log_extra["job"] = job.state()
        if hang is not None:
            self._hang_after_create(request, hang)
        return self.ok({"TrainingJobArn": job.arn})

    def _take_create_hang(self):
        """State "create_hang" (caller holds the lock): counts it down; its settings or None."""
        hang = self.state.get("create_hang")
        if not hang or int(hang.get("count", 1)) <= 0:
            return None
        hang["count"] = int(hang.get("count", 1)) - 1
        return dict(hang)

    @staticmethod
    def _hang_after_create(request, hang):
        """The job exists; the answer never comes: hold the request, then close the connection
        with nothing written (the response goes to a sink)."""
        request.log_extra["hang"] = request._hang(hang.get("seconds"))
        request.close_connection = True
        request.wfile = _Sink()

    def op_DescribeTrainingJob(self, request, params):
        with self.lock:
            job = self._job(params["TrainingJobName"])
            doc = job.describe()
            job.on_describe()
            request.log_extra["job"] = job.state()
        return self.ok(doc)

    def op_StopTrainingJob(self, request, params):
        with self.lock:
            job = self._job(params["TrainingJobName"])
            job.stop()
            request.log_extra["job"] = job.state()
        return self.ok({})

    def op_ListTrainingJobs(self, request, params):
        with self.lock:
            jobs = [j.summary() for j in self.jobs.values()]
        contains = (params.get("NameContains") or "").lower()
        jobs = [j for j in jobs if contains in j["TrainingJobName"].lower()]
        if params.get("StatusEquals"):
            jobs = [j for j in jobs if j["TrainingJobStatus"] == params["StatusEquals"]]
        for key, field, keep in (("CreationTimeAfter", "CreationTime", lambda a, b: a > b),
                                 ("CreationTimeBefore", "CreationTime", lambda a, b: a < b),
                                 ("LastModifiedTimeAfter", "LastModifiedTime",
                                  lambda a, b: a > b),
                                 ("LastModifiedTimeBefore", "LastModifiedTime",
                                  lambda a, b: a < b)):
            if params.get(key) is not None:
                jobs = [j for j in jobs if keep(j[field], params[key])]
        sort_field = {"Name": "TrainingJobName", "Status": "TrainingJobStatus"}.get(
            params.get("SortBy"), "CreationTime")
        jobs.sort(key=lambda j: (j[sort_field], j["TrainingJobName"]),
                  reverse=params.get("SortOrder", "Descending") == "Descending")
        query = query_key(params, "NameContains", "StatusEquals", "SortBy", "SortOrder")
        offset = decode_token(params["NextToken"], query)["o"] if params.get("NextToken") \
            else 0
        size = int(params.get("MaxResults") or 10)
        doc = {"TrainingJobSummaries": jobs[offset:offset + size]}
        if offset + size < len(jobs):
            doc["NextToken"] = encode_token({"o": offset + size, "q": query})
        return self.ok(doc)

    # --- CloudWatch Logs --------------------------------------------------------------------------
    def _streams(self):
        """Every open stream of every job (caller holds the lock)."""
        return [s for job in self.jobs.values() for s in job.streams]

    def _page_limit(self, asked, default):
        size = int(asked or default)
        cap = self.state.get("logs_page_size")
        return min(size, int(cap)) if cap else size

    @staticmethod
    def _stream_entry(s, region, account):
        shown = s["events"][:s["shown"]]
        entry = {"logStreamName": s["name"], "creationTime": s["created"],
                 "arn": f"arn:aws:logs:{region}:{account}:log-group:{LOG_GROUP}:"
                        f"log-stream:{s['name']}",
                 "storedBytes": 0}
        if shown:
            entry.update(firstEventTimestamp=shown[0][0], lastEventTimestamp=shown[-1][0],
                         lastIngestionTime=shown[-1][0] + 5,
                         uploadSequenceToken=token_digits(len(shown)))
        return entry

    def op_DescribeLogStreams(self, request, params):
        group_name(params)
        prefix = params.get("logStreamNamePrefix")
        order = params.get("orderBy", "LogStreamName")
        if prefix is not None and order == "LastEventTime":
            raise logs_invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        query = query_key(params, "logGroupName", "logGroupIdentifier", "logStreamNamePrefix",
                          "orderBy", "descending")
        with self.lock:
            region = self.state.get("region") or REGION
            account = self.state.get("account") or ACCOUNT
            entries = [self._stream_entry(s, region, account) for s in self._streams()
                       if prefix is None or s["name"].startswith(prefix)]
        if order == "LastEventTime":
            entries.sort(key=lambda e: (e.get("lastEventTimestamp", 0), e["logStreamName"]))
        else:
            entries.sort(key=lambda e: e["logStreamName"].encode())
        if params.get("descending"):
            entries.reverse()
        offset = decode_token(params["nextToken"], query)["o"] if params.get("nextToken") else 0
        size = int(params.get("limit") or 50)
        doc = {"logStreams": entries[offset:offset + size]}
        if offset + size < len(entries):
            doc["nextToken"] = encode_token({"o": offset + size, "q": query})
        return self.ok(doc)

    def _stream(self, name):
        for s in self._streams():
            if s["name"] == name:
                return s
        raise ApiError(400, "ResourceNotFoundException", "The specified log stream does not "
                                                         "exist.")

    def op_GetLogEvents(self, request, params):
        group_name(params)
        head = params.get("startFromHead") is True
        token = params.get("nextToken")
        with self.lock:
            s = self._stream(params["logStreamName"])
            shown = s["events"][:s["shown"]]
            limit = self._page_limit(params.get("limit"), 10000)
            strict_head = self.state.get("require_start_from_head", True)
        start, end = params.get("startTime"), params.get("endTime")

        def wanted(ts):
            return (start is None or ts >= start) and (end is None or ts < end)

        forward = parse_position(token, "f") if token else None
        backward = parse_position(token, "b") if token else None
        if token and forward is None and backward is None:
            raise logs_invalid("The specified nextToken is invalid.")
        if forward is not None and strict_head and not head:
            raise logs_invalid("A nextForwardToken needs startFromHead: true (the fake is "
                               "strict here, as the documentation asks).")
        if forward is not None or (token is None and head):
            pos = min(forward or 0, len(shown))
            picked = []
            while pos < len(shown) and len(picked) < limit:
                if wanted(shown[pos][0]):
                    picked.append(pos)
                pos += 1
            first = picked[0] if picked else pos
            f_pos, b_pos = pos, first
        else:  # backward: the latest `limit` events before the position
            pos = len(shown) if backward is None else min(backward, len(shown))
            picked = []
            while pos > 0 and len(picked) < limit:
                pos -= 1
                if wanted(shown[pos][0]):
                    picked.insert(0, pos)
            f_pos = picked[-1] + 1 if picked else (len(shown) if backward is None else pos)
            b_pos = pos
        events = [{"timestamp": shown[i][0], "message": shown[i][1],
                   "ingestionTime": shown[i][0] + 5} for i in picked]
        return self.ok({"events": events, "nextForwardToken": "f/" + token_digits(f_pos),
                        "nextBackwardToken": "b/" + token_digits(b_pos)})

    def op_FilterLogEvents(self, request, params):
        group_name(params)
        names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise logs_invalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
        terms = filter_terms(params.get("filterPattern"))
        if terms is None:
            raise logs_invalid("Invalid filter pattern (the fake supports terms and quoted "
                               "phrases only)")
        start, end = params.get("startTime"), params.get("endTime")
        query = query_key(params, "logGroupName", "logStreamNames", "logStreamNamePrefix",
                          "startTime", "endTime", "filterPattern")
        after = decode_token(params["nextToken"], query)["k"] if params.get("nextToken") \
            else None
        with self.lock:
            limit = self._page_limit(params.get("limit"), 10000)
            streams = [s for s in self._streams()
                       if (names is None or s["name"] in names)
                       and (prefix is None or s["name"].startswith(prefix))]
            events = [(ts, s["name"], i, msg) for s in streams
                      for i, (ts, msg) in enumerate(s["events"][:s["shown"]])
                      if (start is None or ts >= start) and (end is None or ts <= end)
                      and all(t in msg for t in terms)]
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        if after is not None:
            events = [e for e in events if [e[0], e[1], e[2]] > after]
        page = events[:limit]
        doc = {"events": [{"logStreamName": name, "timestamp": ts, "message": msg,
                           "ingestionTime": ts + 5, "eventId": event_id(name, i, ts)}
                          for ts, name, i, msg in page],
               "searchedLogStreams": [{"logStreamName": s["name"], "searchedCompletely": True}
                                      for s in streams]}
        if len(events) > limit:
            last = page[-1]
            doc["nextToken"] = encode_token({"k": [last[0], last[1], last[2]], "q": query})
        return self.ok(doc)


class _Sink:
    """A wfile that swallows the answer of a request that must look unanswered."""

    closed = False

    def write(self, data):
        return len(data)

    def flush(self):
        pass

    def close(self):
        pass


if __name__ == "__main__":
    sys.exit(common.main(SageMaker, __doc__))

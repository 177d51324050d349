# SPDX-License-Identifier: MIT
"""The SageMaker + CloudWatch Logs fake (tests/servers/sagemaker.py), checked with real clients.

boto3 (Debian's python3-boto3, botocore 1.29) talks to the fake over loopback, retries off
unless a test says otherwise: job lifecycles to Completed, Failed and Stopped, duplicate and
missing jobs, throttling, refused signatures, log streams and their pagination. Bodies that
botocore's own ParamValidator lets through (it skips max, pattern and enum) are sent signed by
botocore and must come back as ValidationException from the fake's strict walker, which also
passes the golden CreateTrainingJob body (shared/testdata/launcher). The launcher (parity, in
shim/) is tested against this same fake elsewhere; here the fake itself is on trial.
"""

import datetime
import http.client
import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import READY_TIMEOUT, REPO_ROOT, SERVERS, Fake

sys.path.insert(0, str(SERVERS))
import common  # noqa: E402  (tests/servers/common.py: the fakes' key derivation)

# The golden CreateTrainingJob body (launcher-apis.md §1.1), from shared/testdata/launcher
# (PARITY_LAUNCHER_TESTDATA overrides the folder). The tests build their bodies from the copy
# below, which test_golden_body_passes_every_model checks against the file when it is there.
GOLDEN = Path(os.environ.get("PARITY_LAUNCHER_TESTDATA",
                             REPO_ROOT.parent / "shared" / "testdata" / "launcher")) / \
    "golden_create_training_job_body.json"
GOLDEN_BODY = {
    "TrainingJobName": "demo-job-1",
    "AlgorithmSpecification": {
        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/parity:latest",
        "TrainingInputMode": "File", "ContainerEntrypoint": ["/parity-init"],
        "ContainerArguments": ["python", "train.py"]},
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "HyperParameters": {"epochs": "3", "lr": "0.01"},
    "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/",
        "S3DataDistributionType": "FullyReplicated"}}}],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/output/"},
    "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
    "EnableManagedSpotTraining": True,
    "CheckpointConfig": {"S3Uri": "s3://bucket/ckpt/", "LocalPath": "/opt/ml/checkpoints"},
    "Environment": {"FOO": "bar"},
    "Tags": [{"Key": "project", "Value": "parity"}]}
REGION = "us-east-1"
JSON11 = "application/x-amz-json-1.1"
GROUP = "/aws/sagemaker/TrainingJobs"
# 64 characters that satisfy the name pattern [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: only the length
# is wrong (64 "x"s would break the pattern too, and get two errors)
LONG_NAME = "a" + "-" * 61 + "bc"
COMPLETED = [("InProgress", "Starting"), ("InProgress", "Downloading"),
             ("InProgress", "Training"), ("InProgress", "Uploading"), ("Completed", "Completed")]


def load_fake_module():
    """tests/servers/sagemaker.py, imported under a name no SDK uses."""
    spec = importlib.util.spec_from_file_location("fake_sagemaker", SERVERS / "sagemaker.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def walker():
    return load_fake_module()


@pytest.fixture(scope="module")
def models(walker):
    return walker.Models()


class SageMakerFake(Fake):
    def records(self, operation=None):
        return [r for r in super().records()
                if operation is None or r.get("operation") == operation]

    def jobs(self):
        return self.snapshot()["jobs"]


@pytest.fixture
def sm(fakes):
    """start(**state) -> a running tests/servers/sagemaker.py."""
    return lambda **state: fakes("sagemaker", cls=SageMakerFake, **state)


@pytest.fixture
def keys():
    return common.static_keys()


def golden():
    return json.loads(json.dumps(GOLDEN_BODY))


def job_body(name, **changes):
    body = golden()
    body["TrainingJobName"] = name
    body.update(changes)
    return body


def client(service, fake, ak, sk, region=REGION, **config):
    import boto3
    from botocore.config import Config
    config.setdefault("retries", {"total_max_attempts": 1})
    return boto3.client(service, endpoint_url=fake.url, region_name=region,
                        aws_access_key_id=ak, aws_secret_access_key=sk,
                        config=Config(**config))


def error_of(call):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def raw_post(fake, target, body, ak, sk, service, region=REGION):
    """POSTs body signed by botocore's SigV4 for service/region, without botocore's parameter
    validation. Returns (status, x-amzn-ErrorType, parsed body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url=fake.url + "/", data=data,
                     headers={"Content-Type": JSON11, "X-Amz-Target": target})
    SigV4Auth(Credentials(ak, sk), service, region).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=READY_TIMEOUT)
    try:
        conn.request("POST", "/", body=data, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        return resp.status, resp.getheader("x-amzn-ErrorType"), json.loads(resp.read())
    finally:
        conn.close()


def poll(smc, name, limit=20):
    """Describes name until it ends; returns every describe answer."""
    seen = []
    for _ in range(limit):
        doc = smc.describe_training_job(TrainingJobName=name)
        seen.append(doc)
        if doc["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return seen
    raise AssertionError(f"{name} did not end: {[d['SecondaryStatus'] for d in seen]}")


def states(docs):
    return [(d["TrainingJobStatus"], d["SecondaryStatus"]) for d in docs]


def botocore_accepts(operation, params):
    """Whether botocore's own client-side ParamValidator passes params."""
    import botocore.session
    from botocore.validate import ParamValidator
    model = botocore.session.get_session().get_service_model("sagemaker")
    return not ParamValidator().validate(params, model.operation_model(operation).input_shape) \
        .has_errors()


# --- the strict walker ----------------------------------------------------------------------------
def test_golden_body_passes_every_model(models):
    labels = models.labels()
    assert labels[0].startswith("botocore-1.29"), labels  # Debian's, which the fake runs under
    if not GOLDEN.exists():
        pytest.skip(f"{GOLDEN} is not there (set PARITY_LAUNCHER_TESTDATA)")
    body = json.loads(GOLDEN.read_text())
    assert body == GOLDEN_BODY  # the copy the other tests use
    found = models.violations("sagemaker", "CreateTrainingJob", body)
    assert set(found) == set(labels)
    assert all(v == [] for v in found.values()), \
        {k: [x.text() for x in v] for k, v in found.items()}
    models.validate("sagemaker", "CreateTrainingJob", body)  # raises on any violation
    assert botocore_accepts("CreateTrainingJob", body)


@pytest.mark.parametrize("change, path, constraint", [
    (lambda b: b.update(TrainingJobName=LONG_NAME), "trainingJobName",
     "Member must have length less than or equal to 63"),
    (lambda b: b.update(TrainingJobName="bad_name"), "trainingJobName",
     "Member must satisfy regular expression pattern"),
    (lambda b: b["ResourceConfig"].update(InstanceType="ml.bogus"),
     "resourceConfig.instanceType", "Member must satisfy enum value set"),
    (lambda b: b.update(HyperParameters={f"k{i}": "v" for i in range(101)}), "hyperParameters",
     "Member must have length less than or equal to 100"),
    (lambda b: b.update(HyperParameters={"lr": "1" * 3000}), "hyperParameters",
     "Map value must satisfy constraint: [Member must have length less than or equal to 2500"),
    (lambda b: b.update(Environment={"1BAD-KEY": "v"}), "environment",
     "Map keys must satisfy constraint: [Member must satisfy regular expression pattern"),
    (lambda b: b.update(Environment={f"K{i}": "v" for i in range(60)}), "environment",
     "Member must have length less than or equal to 48"),  # 1.29.27's limit: the stricter
    (lambda b: b["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(S3Uri="gs://b/x"),
     "inputDataConfig.1.member.dataSource.s3DataSource.s3Uri",
     "Member must satisfy regular expression pattern"),
    (lambda b: b["AlgorithmSpecification"].update(ContainerEntrypoint=["x"] * 11),
     "algorithmSpecification.containerEntrypoint",
     "Member must have length less than or equal to 10"),
    (lambda b: b.update(RoleArn="arn:aws:iam::12345:role/x"), "roleArn",
     "Member must satisfy regular expression pattern"),
])
def test_walker_catches_what_botocore_lets_through(models, walker, change, path, constraint):
    body = golden()
    change(body)
    assert botocore_accepts("CreateTrainingJob", body)
    with pytest.raises(walker.ApiError) as e:
        models.validate("sagemaker", "CreateTrainingJob", body)
    assert e.value.code == "ValidationException"
    assert re.match(r"^1 validation error detected: Value '", e.value.message), e.value.message
    assert f"' at '{path}' failed to satisfy constraint: {constraint}" in e.value.message


@pytest.mark.parametrize("change, path, constraint", [
    (lambda b: b.pop("RoleArn"), "roleArn", "Member must not be null"),
    (lambda b: b["ResourceConfig"].update(Bogus=1), "resourceConfig.bogus",
     "Member is not defined in ResourceConfig"),
    (lambda b: b.update(EnableManagedSpotTraining="true"), "enableManagedSpotTraining",
     "Member must be of type boolean"),
    (lambda b: b["ResourceConfig"].update(InstanceCount="1"), "resourceConfig.instanceCount",
     "Member must be of type integer"),
    (lambda b: b["StoppingCondition"].update(MaxRuntimeInSeconds=0),
     "stoppingCondition.maxRuntimeInSeconds", "Member must have value greater than or equal"),
])
def test_walker_catches_what_botocore_also_catches(models, walker, change, path, constraint):
    body = golden()
    change(body)
    assert not botocore_accepts("CreateTrainingJob", body)
    with pytest.raises(walker.ApiError) as e:
        models.validate("sagemaker", "CreateTrainingJob", body)
    assert f"at '{path}' failed to satisfy constraint: {constraint}" in e.value.message


def test_walker_counts_several_errors(models, walker):
    body = golden()
    body.update(TrainingJobName="bad_name", Bogus=True)
    with pytest.raises(walker.ApiError) as e:
        models.validate("sagemaker", "CreateTrainingJob", body)
    assert e.value.message.startswith("2 validation errors detected: Value 'bad_name' at "
                                      "'trainingJobName'")


def test_walker_enums_accept_what_any_model_lists(models, walker):
    body = golden()
    body["ResourceConfig"]["InstanceType"] = "ml.p5.48xlarge"  # not in 1.29.27's enum
    if len(models.labels()) == 1:
        pytest.skip("only Debian's botocore is installed: no newer enum to accept it")
    models.validate("sagemaker", "CreateTrainingJob", body)


# --- lifecycles -----------------------------------------------------------------------------------
def test_lifecycle_to_completed(sm, keys, models):
    fake = sm()
    smc = client("sagemaker", fake, *keys)
    arn = smc.create_training_job(**golden())["TrainingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:training-job/demo-job-1"
    docs = poll(smc, "demo-job-1")
    assert states(docs) == COMPLETED  # one step per describe: every state is seen
    last = docs[-1]
    transitions = last["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions] == [s for _, s in COMPLETED]
    assert all(t["StartTime"] <= t["EndTime"] for t in transitions)
    assert all(a["EndTime"] == b["StartTime"] for a, b in zip(transitions, transitions[1:]))
    assert isinstance(last["CreationTime"], datetime.datetime)
    assert last["ModelArtifacts"]["S3ModelArtifacts"] == \
        "s3://bucket/output/demo-job-1/output/model.tar.gz"
    assert last["ResourceConfig"]["InstanceCount"] == 1 and "FailureReason" not in last
    assert last["TrainingEndTime"] >= last["TrainingStartTime"]
    # it stays Completed; the raw answer fits every model's output shape
    status, code, raw = raw_post(fake, "SageMaker.DescribeTrainingJob",
                                 {"TrainingJobName": "demo-job-1"}, *keys, "sagemaker")
    assert (status, code, raw["TrainingJobStatus"]) == (200, None, "Completed")
    found = models.violations("sagemaker", "DescribeTrainingJob", raw, output=True)
    assert all(v == [] for v in found.values()), \
        {k: [x.text() for x in v] for k, v in found.items()}
    assert fake.jobs()["demo-job-1"]["describes"] == len(COMPLETED) + 1


def test_lifecycle_to_failed_from_control_script(sm, keys):
    fake = sm()
    fake.control(scripts={"fail-*": {"outcome": "Failed", "exit_code": 3, "failure": "boom"}})
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**job_body("fail-1"))
    docs = poll(smc, "fail-1")
    assert states(docs) == [*COMPLETED[:3], ("Failed", "Failed")]
    reason = docs[-1]["FailureReason"]
    assert reason == "AlgorithmError: boom, exit code: 3"
    assert re.search(r"exit code: (\d+)$", reason).group(1) == "3"
    # a name no script matches plays the default
    smc.create_training_job(**job_body("ok-1"))
    assert states(poll(smc, "ok-1")) == COMPLETED


def test_lifecycle_from_the_jobs_environment(sm, keys):
    fake = sm(default_script={"hold": {"Training": 2}})
    smc = client("sagemaker", fake, *keys)
    script = {"outcome": "Failed", "exit_code": 7, "fail_at": "Downloading"}
    smc.create_training_job(**job_body("env-1", Environment={
        "PARITY_FAKE_SM": json.dumps(script)}))
    docs = poll(smc, "env-1")
    assert states(docs) == [*COMPLETED[:2], ("Failed", "Failed")]
    assert docs[-1]["FailureReason"].endswith(", exit code: 7")
    assert fake.jobs()["env-1"]["streams"] == {}  # it never trained: no log streams
    # default_script holds Training for two describes
    smc.create_training_job(**job_body("held-1", Environment={}))
    assert [s for _, s in states(poll(smc, "held-1"))] == \
        ["Starting", "Downloading", "Training", "Training", "Uploading", "Completed"]
    # a bad script is refused, not ignored
    code, message = error_of(lambda: smc.create_training_job(**job_body(
        "env-2", Environment={"PARITY_FAKE_SM": "{not json"})))
    assert code == "ValidationException" and "PARITY_FAKE_SM" in message


def test_lifecycle_max_runtime_and_control_advance(sm, keys):
    fake = sm(scripts={"slow-1": {"outcome": "MaxRuntimeExceeded"}})
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**job_body("slow-1"))
    smc.create_training_job(**job_body("other-1"))
    snap = fake.control(advance={"slow-*": "end", "other-1": 2})
    assert snap["jobs"]["slow-1"]["secondary"] == "MaxRuntimeExceeded"
    assert snap["jobs"]["other-1"]["secondary"] == "Training"
    doc = smc.describe_training_job(TrainingJobName="slow-1")
    assert (doc["TrainingJobStatus"], doc["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert fake.control(reset_jobs=True)["jobs"] == {}


def test_stop(sm, keys):
    fake = sm()
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**job_body("stop-1"))
    first = smc.describe_training_job(TrainingJobName="stop-1")
    assert first["SecondaryStatus"] == "Starting"
    smc.stop_training_job(TrainingJobName="stop-1")
    smc.stop_training_job(TrainingJobName="stop-1")  # again while Stopping: fine
    docs = poll(smc, "stop-1")
    assert states(docs) == [("Stopping", "Stopping"), ("Stopped", "Stopped")]
    assert [t["Status"] for t in docs[-1]["SecondaryStatusTransitions"]] == \
        ["Starting", "Downloading", "Stopping", "Stopped"]
    code, message = error_of(lambda: smc.stop_training_job(TrainingJobName="stop-1"))
    assert code == "ValidationException" and "status Stopped" in message


def test_duplicate_and_missing_jobs(sm, keys):
    fake = sm()
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**golden())
    code, message = error_of(lambda: smc.create_training_job(**golden()))
    assert code == "ResourceInUse" and "training-job/demo-job-1" in message
    assert error_of(lambda: smc.describe_training_job(TrainingJobName="nope")) == \
        ("ValidationException", "Requested resource not found.")
    assert error_of(lambda: smc.stop_training_job(TrainingJobName="nope")) == \
        ("ValidationException", "Requested resource not found.")
    # ListTrainingJobs, paged
    smc.create_training_job(**job_body("demo-job-2"))
    page = smc.list_training_jobs(NameContains="demo", SortBy="Name", SortOrder="Ascending",
                                  MaxResults=1)
    assert [j["TrainingJobName"] for j in page["TrainingJobSummaries"]] == ["demo-job-1"]
    rest = smc.list_training_jobs(NameContains="demo", SortBy="Name", SortOrder="Ascending",
                                  MaxResults=1, NextToken=page["NextToken"])
    assert [j["TrainingJobName"] for j in rest["TrainingJobSummaries"]] == ["demo-job-2"]
    assert "NextToken" not in rest


def test_create_that_hangs_then_retry_sees_resource_in_use(sm, keys):
    from botocore.exceptions import ReadTimeoutError
    fake = sm(create_hang={"count": 1, "seconds": None})
    slow = client("sagemaker", fake, *keys, read_timeout=1, connect_timeout=5)
    with pytest.raises(ReadTimeoutError):
        slow.create_training_job(**golden())
    smc = client("sagemaker", fake, *keys)
    code, _ = error_of(lambda: smc.create_training_job(**golden()))
    assert code == "ResourceInUse"  # the first create did happen
    doc = smc.describe_training_job(TrainingJobName="demo-job-1")
    assert doc["Environment"] == golden()["Environment"]  # what a launcher compares
    snap = fake.control(note="release the hung request")
    assert snap["state"]["create_hang"]["count"] == 0
    fake.wait_records(lambda rs: any(r.get("hang") for r in rs), what="the hang's end")


# --- throttling, signatures, the log --------------------------------------------------------------
def test_throttling(sm, keys):
    fake = sm()
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**golden())
    fake.control(throttle={"DescribeTrainingJob": 2})
    for _ in range(2):
        assert error_of(lambda: smc.describe_training_job(TrainingJobName="demo-job-1")) == \
            ("ThrottlingException", "Rate exceeded")
    assert smc.describe_training_job(TrainingJobName="demo-job-1")["SecondaryStatus"] == \
        "Starting"  # a throttled describe does not advance the job
    assert fake.snapshot()["state"]["throttle"] == {"DescribeTrainingJob": 0}
    # botocore's standard retry mode rides over two throttles
    fake.control(throttle={"DescribeTrainingJob": 2})
    retrying = client("sagemaker", fake, *keys,
                      retries={"mode": "standard", "total_max_attempts": 3})
    assert retrying.describe_training_job(TrainingJobName="demo-job-1")["SecondaryStatus"] == \
        "Downloading"
    statuses = [r["status"] for r in fake.records("DescribeTrainingJob")]
    assert statuses == [400, 400, 200, 400, 400, 200]
    # every operation, through "*"
    fake.control(throttle={"*": 1})
    logs = client("logs", fake, *keys)
    assert error_of(lambda: logs.describe_log_streams(logGroupName=GROUP))[0] == \
        "ThrottlingException"


def test_signatures_are_checked(sm, keys):
    fake = sm()
    ak, sk = keys
    body = {"TrainingJobName": "demo-job-1"}
    target = "SageMaker.DescribeTrainingJob"
    assert raw_post(fake, target, body, ak, sk, "sagemaker")[1] == "ValidationException"
    status, code, doc = raw_post(fake, target, body, ak, "y" * 40, "sagemaker")
    assert (status, code, doc["__type"]) == (400, "InvalidSignatureException",
                                             "InvalidSignatureException")
    assert "signature" in doc["message"]
    assert raw_post(fake, target, body, ak, sk, "logs")[1] == "InvalidSignatureException"
    assert raw_post(fake, "Logs_20140328.DescribeLogStreams", {"logGroupName": GROUP}, ak, sk,
                    "sagemaker")[1] == "InvalidSignatureException"
    assert raw_post(fake, target, body, ak, sk, "sagemaker", region="eu-west-1")[1] == \
        "InvalidSignatureException"
    assert raw_post(fake, target, body, "AKIAUNKNOWNKEY000000", sk, "sagemaker")[:2] == \
        (400, "UnrecognizedClientException")
    # boto3 with a wrong secret, or in another region
    assert error_of(lambda: client("sagemaker", fake, ak, "y" * 40).describe_training_job(
        TrainingJobName="x"))[0] == "InvalidSignatureException"
    assert error_of(lambda: client("logs", fake, ak, sk, region="eu-west-1")
                    .describe_log_streams(logGroupName=GROUP))[0] == "InvalidSignatureException"
    # a fake configured for another region accepts that one
    other = sm(region="eu-west-1")
    assert client("sagemaker", other, ak, sk, region="eu-west-1").list_training_jobs()[
        "TrainingJobSummaries"] == []
    # static_keys: the documentation's example key
    example = sm(static_keys={"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
    assert client("logs", example, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") \
        .describe_log_streams(logGroupName=GROUP)["logStreams"] == []
    refused = [r for r in fake.records() if r["status"] != 200]
    assert refused and all(r["status"] == 400 for r in refused)


def test_strict_validation_on_the_wire(sm, keys):
    fake = sm()
    ak, sk = keys
    smc = client("sagemaker", fake, ak, sk)
    # boto3 itself sends a 64-character name: its validator has no max
    code, message = error_of(lambda: smc.create_training_job(**job_body(LONG_NAME)))
    assert code == "ValidationException"
    assert message == (f"1 validation error detected: Value '{LONG_NAME}' at 'trainingJobName' "
                       "failed to satisfy constraint: Member must have length less than or "
                       "equal to 63")
    bogus = golden()
    bogus["ResourceConfig"]["InstanceType"] = "ml.bogus"
    many = job_body("many-hps", HyperParameters={f"k{i}": str(i) for i in range(101)})
    for body, path in ((bogus, "resourceConfig.instanceType"), (many, "hyperParameters")):
        assert botocore_accepts("CreateTrainingJob", body)
        status, code, doc = raw_post(fake, "SageMaker.CreateTrainingJob", body, ak, sk,
                                     "sagemaker")
        assert (status, code, doc["__type"]) == (400, "ValidationException",
                                                 "ValidationException")
        assert f"at '{path}' failed to satisfy constraint" in doc["message"], doc
    # the Logs model too: limit <= 50
    logs = client("logs", fake, ak, sk)
    code, message = error_of(lambda: logs.describe_log_streams(logGroupName=GROUP, limit=51))
    assert code == "ValidationException" and "at 'limit'" in message
    # semantic rules: spot needs MaxWaitTimeInSeconds >= MaxRuntimeInSeconds
    spot = job_body("spot-1", StoppingCondition={"MaxRuntimeInSeconds": 3600,
                                                 "MaxWaitTimeInSeconds": 60})
    assert error_of(lambda: smc.create_training_job(**spot))[0] == "ValidationException"
    assert fake.jobs() == {}  # nothing refused was created
    rec = [r for r in fake.records("CreateTrainingJob") if r["status"] == 400][0]
    assert rec["error"] == "ValidationException"
    assert any("at 'trainingJobName'" in v for vs in rec["violations"].values() for v in vs)


def test_request_log(sm, keys):
    fake = sm()
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**golden())
    rec = fake.records("CreateTrainingJob")[0]
    assert rec["target"] == "SageMaker.CreateTrainingJob" and rec["status"] == 200
    assert rec["access_key"] == rec["signed_by"] == keys[0] and rec["service"] == "sagemaker"
    assert rec["region"] == REGION and json.loads(rec["body"]) == golden() == rec["params"]
    assert rec["job"]["secondary"] == "Starting"


# --- logs -----------------------------------------------------------------------------------------
LINES = [f"{{host}}: line {i}" for i in range(6)]


def start_three_host_job(fake, keys, name="logs-1"):
    fake.control(scripts={name: {"hold": {"Training": 3}, "log_lines": LINES}})
    smc = client("sagemaker", fake, *keys)
    body = job_body(name)
    body["ResourceConfig"]["InstanceCount"] = 3
    smc.create_training_job(**body)
    return smc


def test_log_streams_across_three_hosts(sm, keys):
    fake = sm()
    smc = start_three_host_job(fake, keys)
    logs = client("logs", fake, *keys)
    assert logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="logs-1/")[
        "logStreams"] == []  # no stream before the job trains
    assert [smc.describe_training_job(TrainingJobName="logs-1")["SecondaryStatus"]
            for _ in range(3)] == ["Starting", "Downloading", "Training"]
    first = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="logs-1/",
                                      orderBy="LogStreamName", limit=2)
    rest = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="logs-1/",
                                     orderBy="LogStreamName", limit=2,
                                     nextToken=first["nextToken"])
    assert "nextToken" not in rest
    names = [s["logStreamName"] for s in first["logStreams"] + rest["logStreams"]]
    assert len(names) == 3 and all(re.fullmatch(rf"logs-1/algo-{n}-\d{{10}}", name)
                                   for n, name in zip((1, 2, 3), names)), names
    # GetLogEvents with forward tokens: the lines appear as the job advances
    stream = names[1]
    got, token, calls = [], None, 0
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName=GROUP, logStreamName=stream,
                                   startFromHead=True, **kwargs)
        got += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:  # the end, for now: same token back
            status = smc.describe_training_job(TrainingJobName="logs-1")["TrainingJobStatus"]
            if status == "Completed":
                break
        token = page["nextForwardToken"]
        calls += 1
        assert calls < 30
    assert got == [f"algo-2: line {i}" for i in range(6)]
    again = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True,
                                nextToken=token)
    assert again["events"] == [] and again["nextForwardToken"] == token
    # FilterLogEvents interleaves the three streams by time, pages, no token at the end
    merged, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix="logs-1/",
                                      limit=4, **kwargs)
        merged += page["events"]
        token = page.get("nextToken")
        if token is None:
            break
    assert len(merged) == 18 and len({e["eventId"] for e in merged}) == 18
    assert [e["timestamp"] for e in merged] == sorted(e["timestamp"] for e in merged)
    assert [e["message"] for e in merged[:3]] == ["algo-1: line 0", "algo-2: line 0",
                                                  "algo-3: line 0"]
    only = logs.filter_log_events(logGroupName=GROUP, logStreamNames=[names[2]],
                                  filterPattern='"line 5"')["events"]
    assert [e["message"] for e in only] == ["algo-3: line 5"]


def test_lines_appear_in_shares_while_training(sm, keys):
    fake = sm()
    smc = start_three_host_job(fake, keys, name="share-1")
    logs = client("logs", fake, *keys)
    shown = []
    for _ in range(6):
        smc.describe_training_job(TrainingJobName="share-1")
        stream = fake.jobs()["share-1"]["streams"]
        shown.append(sorted({s["shown"] for s in stream.values()}))
    # entering Training: 2 of 6; each describe answering Training: 2 more; then all
    assert shown == [[], [2], [4], [6], [6], [6]]
    name = sorted(fake.jobs()["share-1"]["streams"])[0]
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=2)
    assert [e["message"] for e in tail["events"]] == ["algo-1: line 4", "algo-1: line 5"]
    back = logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=2,
                               nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["algo-1: line 2", "algo-1: line 3"]
    window = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True,
                                 startTime=tail["events"][0]["timestamp"])
    assert [e["message"] for e in window["events"]] == ["algo-1: line 4", "algo-1: line 5"]


def test_more_than_50_streams_page_with_next_token(sm, keys):
    fake = sm(scripts={"wide-1": {"hosts": 60, "log_lines": ["{host} says hi"]}})
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**job_body("wide-1"))
    fake.control(advance={"wide-1": "end"})
    logs = client("logs", fake, *keys)
    first = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="wide-1/")
    assert len(first["logStreams"]) == 50 and first["nextToken"]
    second = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="wide-1/",
                                       nextToken=first["nextToken"])
    assert len(second["logStreams"]) == 10 and "nextToken" not in second
    names = [s["logStreamName"] for s in first["logStreams"] + second["logStreams"]]
    assert names == sorted(names) and len(set(names)) == 60  # byte order: algo-1, algo-10, ...
    assert names[:3] == [n for n in names if re.match(r"wide-1/algo-(1|10|11)-", n)]
    # botocore's own paginator agrees
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=GROUP, logStreamNamePrefix="wide-1/")
    assert [s["logStreamName"] for p in pages for s in p["logStreams"]] == names
    # a token is only good for its own query
    code, _ = error_of(lambda: logs.describe_log_streams(
        logGroupName=GROUP, logStreamNamePrefix="other/", nextToken=first["nextToken"]))
    assert code == "InvalidParameterException"


def test_logs_errors(sm, keys):
    fake = sm(scripts={"err-1": {"log_lines": ["a", "b"]}})
    smc = client("sagemaker", fake, *keys)
    smc.create_training_job(**job_body("err-1"))
    fake.control(advance={"err-1": "end"})
    logs = client("logs", fake, *keys)
    name = next(iter(fake.jobs()["err-1"]["streams"]))
    head = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)
    assert [e["message"] for e in head["events"]] == ["a", "b"]
    assert re.fullmatch(r"f/\d{56}", head["nextForwardToken"])
    # a forward token without startFromHead, a made-up token
    for bad in ({"nextToken": head["nextForwardToken"]}, {"nextToken": "f/12",
                                                          "startFromHead": True}):
        assert error_of(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName=name,
                                                    **bad))[0] == "InvalidParameterException"
    assert error_of(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName="err-1/x"))[
        0] == "ResourceNotFoundException"
    assert error_of(lambda: logs.describe_log_streams(logGroupName="/aws/other"))[0] == \
        "ResourceNotFoundException"
    assert error_of(lambda: logs.describe_log_streams(
        logGroupName=GROUP, logStreamNamePrefix="err-1/", orderBy="LastEventTime"))[0] == \
        "InvalidParameterException"
    assert error_of(lambda: logs.filter_log_events(
        logGroupName=GROUP, logStreamNames=[name], logStreamNamePrefix="err-1/"))[0] == \
        "InvalidParameterException"
    # the knob for partial pages
    fake.control(logs_page_size=1)
    page = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)
    assert [e["message"] for e in page["events"]] == ["a"]
    # the relaxed startFromHead rule
    fake.control(require_start_from_head=False)
    rest = logs.get_log_events(logGroupName=GROUP, logStreamName=name,
                               nextToken=page["nextForwardToken"])
    assert [e["message"] for e in rest["events"]] == ["b"]


def test_fault_before_anything(sm, keys):
    """common.py's faults work too, filtered by operation (here: one 503)."""
    fake = sm(faults=[{"type": "status", "status": 503, "code": "ServiceUnavailable",
                       "operation": "GetLogEvents", "count": 1}])
    logs = client("logs", fake, *keys)
    assert logs.describe_log_streams(logGroupName=GROUP)["logStreams"] == []
    code, _ = error_of(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName="x"))
    assert code == "ServiceUnavailable"
    assert error_of(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName="x"))[0] == \
        "ResourceNotFoundException"

# SPDX-License-Identifier: MIT
"""parity run --target sagemaker against the SageMaker + CloudWatch Logs fake
(tests/servers/sagemaker.py), which verifies every signature with botocore's signer and checks
every request body against botocore's service models (Debian's and the newer one when present)
with a strict walker: the job's whole life as the launcher follows it (every status transition,
the logs of every host prefixed algo-N, the job's exit code read back from its FailureReason),
throttling, a create whose answer is lost, --detach then status / logs / stop by name."""

import json
import sys

import pytest

from conftest import SERVERS
from test_launcher import SPEC, launch, parity, write_spec  # noqa: F401  (parity: fixture)

sys.path.insert(0, str(SERVERS))
import common  # noqa: E402

JOB_SPEC = {**SPEC, "name": "sm-job-1"}
KEYS = common.static_keys()  # random, but the same for the whole module


@pytest.fixture
def sagemaker(fakes):
    return fakes("sagemaker")


def env_for(sm, tmp_path, **extra):
    ak, secret = KEYS
    return {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_SAGEMAKER": sm.url, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": sm.url,
            "PARITY_POLL_MS": "0", "HOME": str(tmp_path), **extra}


def spec_with(tmp_path, name, script=None, hosts=2):
    spec = {**JOB_SPEC, "name": name,
            "resources": {**JOB_SPEC["resources"], "instance_count": hosts}}
    if script is not None:  # what the fake plays for this job
        spec["environment"] = {**spec["environment"], "PARITY_FAKE_SM": json.dumps(script)}
    return write_spec(tmp_path, spec, f"{name}.json")


def creates(sm):
    return [r for r in sm.records() if r.get("operation") == "CreateTrainingJob"]


def test_a_job_is_followed_to_completion_with_every_hosts_logs(parity, sagemaker, tmp_path):
    script = {"log_lines": ["epoch {n} on {host}"]}
    r = launch(parity, "run", spec_with(tmp_path, "sm-ok", script), "--target", "sagemaker",
               env=env_for(sagemaker, tmp_path))
    assert r.returncode == 0, r
    out = r.stdout.splitlines()
    # every transition, in order, as the SDK prints them
    statuses = [l.split()[1] for l in out if l.startswith("==> ") and "sm-ok" not in l]
    assert statuses[:1] == ["Created"] and statuses[1:] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"], out
    assert any(l.startswith("algo-1 | epoch") and "algo-1" in l.split("|")[1] for l in out), out
    assert any(l.startswith("algo-2 | epoch") and "algo-2" in l.split("|")[1] for l in out), out
    assert out[-1] == "==> sm-ok Completed: exit code 0", out
    # the create went through both models' strict checks and was signed with our key
    (create,) = creates(sagemaker)
    assert create["status"] == 200, create
    assert create["access_key"] == KEYS[0]
    body = create["body"] if isinstance(create["body"], dict) else json.loads(create["body"])
    assert body["HyperParameters"]["arch"] == '"resnet50"'
    assert body["ResourceConfig"]["InstanceCount"] == 2


def test_a_failed_job_exits_with_its_own_code_and_reason(parity, sagemaker, tmp_path):
    script = {"outcome": "Failed", "exit_code": 3, "failure": "ZeroDivisionError: boom"}
    r = launch(parity, "run", spec_with(tmp_path, "sm-fail", script), "--target", "sagemaker",
               "--output", "json", env=env_for(sagemaker, tmp_path))
    assert r.returncode == 3, r
    events = [json.loads(l) for l in r.stdout.splitlines()]
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "Failed" and end["exit_code"] == 3, end
    assert "ZeroDivisionError: boom" in end["reason"], end


def test_throttling_is_ridden_out(parity, sagemaker, tmp_path):
    sagemaker.control(throttle={"CreateTrainingJob": 2, "DescribeTrainingJob": 2,
                                "GetLogEvents": 1})
    r = launch(parity, "run", spec_with(tmp_path, "sm-throttled", {}), "--target", "sagemaker",
               env=env_for(sagemaker, tmp_path))
    assert r.returncode == 0, r
    codes = [c.get("status") for c in creates(sagemaker)]
    assert codes == [400, 400, 200], codes  # throttled twice, created once


def test_a_create_whose_answer_is_lost_is_checked_not_repeated(parity, sagemaker, tmp_path):
    """CreateTrainingJob has no idempotency token: the fake creates the job and never answers;
    parity must find the job with DescribeTrainingJob (its request id in the environment) and
    follow it, instead of failing on ResourceInUse or creating twice."""
    sagemaker.control(create_hang={"count": 1, "seconds": None})
    r = launch(parity, "run", spec_with(tmp_path, "sm-lost", {}), "--target", "sagemaker",
               env=env_for(sagemaker, tmp_path))
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[-1] == "==> sm-lost Completed: exit code 0", r
    ops = [x.get("operation") for x in sagemaker.records()]
    assert ops.count("CreateTrainingJob") == 1, ops  # the lost one only


def test_someone_elses_job_of_the_same_name_is_not_taken_over(parity, sagemaker, tmp_path):
    path = spec_with(tmp_path, "sm-taken", {})
    assert launch(parity, "run", path, "--target", "sagemaker", "--detach",
                  env=env_for(sagemaker, tmp_path)).returncode == 0
    other = {**json.loads(path.read_text()), "command": ["python3", "other.py"]}
    r = launch(parity, "run", write_spec(tmp_path, other, "other.json"), "--target", "sagemaker",
               env=env_for(sagemaker, tmp_path))
    assert r.returncode == 125 and "exists already" in r.stderr, r


def test_detach_then_status_logs_and_stop_by_name(parity, sagemaker, tmp_path):
    env = env_for(sagemaker, tmp_path)
    r = launch(parity, "run", spec_with(tmp_path, "sm-bg", {"hold": {"Training": 100}}),
               "--target", "sagemaker", "--detach", env=env)
    assert r.returncode == 0 and r.stdout.strip() == "sm-bg", r
    # status finds the job from this machine's launch record: no --target needed
    r = launch(parity, "status", "sm-bg", "--output", "json", env=env)
    assert r.returncode == 0, r
    st = json.loads(r.stdout)
    assert st["job"] == "sm-bg" and st["target"] == "sagemaker" and st["status"] == "InProgress"
    r = launch(parity, "stop", "sm-bg", env=env)
    assert r.returncode == 0 and "stopping" in r.stdout, r
    r = launch(parity, "logs", "sm-bg", "--follow", env=env)
    assert r.returncode == 143, r  # stopped: SIGTERM, as the container saw it
    assert r.stdout.splitlines()[-1] == "==> sm-bg Stopped: exit code 143", r
    ops = [x.get("operation") for x in sagemaker.records()]
    assert "StopTrainingJob" in ops


def test_a_missing_job_and_a_refused_signature_are_clear_errors(parity, sagemaker, tmp_path):
    env = env_for(sagemaker, tmp_path)
    r = launch(parity, "status", "no-such-job", "--target", "sagemaker", env=env)
    assert r.returncode != 0 and "no training job no-such-job" in r.stderr, r
    r = launch(parity, "run", spec_with(tmp_path, "sm-badkey", {}), "--target", "sagemaker",
               env={**env, "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert r.returncode == 125 and "InvalidSignatureException" in r.stderr, r
    r = launch(parity, "run", spec_with(tmp_path, "sm-noregion", {}), "--target", "sagemaker",
               env={k: v for k, v in env.items() if k != "AWS_REGION"})
    # the spec names its region, so AWS_REGION is not needed
    assert r.returncode == 0, r


def test_ctrl_c_stops_following_not_the_job(parity, sagemaker, tmp_path):
    import signal
    import subprocess

    env = {"PATH": "/usr/bin:/bin", **env_for(sagemaker, tmp_path, PARITY_POLL_MS="50")}
    spec = spec_with(tmp_path, "sm-ctrlc", {"hold": {"Training": 100000}})
    proc = subprocess.Popen([str(parity), "run", str(spec), "--target", "sagemaker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # following: the job is training
        if line.startswith("==> Training"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "parity logs sm-ctrlc --follow" in err and "parity stop sm-ctrlc" in err, err
    ops = [x.get("operation") for x in sagemaker.records()]
    assert "StopTrainingJob" not in ops  # the job runs on


def test_a_heterogeneous_cluster_passes_both_models_and_logs_every_host(parity, sagemaker,
                                                                         tmp_path):
    from test_launcher import GROUPS

    spec = {**JOB_SPEC, "name": "sm-groups", "resources": {"instance_groups": GROUPS},
            "environment": {"PARITY_FAKE_SM": json.dumps({"log_lines": ["hi from {host}"]})}}
    r = launch(parity, "run", write_spec(tmp_path, spec, "groups.json"), "--target", "sagemaker",
               env=env_for(sagemaker, tmp_path))
    assert r.returncode == 0, r
    (create,) = creates(sagemaker)
    assert create["status"] == 200, create
    hosts = {l.split(" | ")[0] for l in r.stdout.splitlines() if " | " in l}
    assert hosts == {"algo-1", "algo-2", "algo-3"}, r.stdout  # 2 + 1 instances

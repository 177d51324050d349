# SPDX-License-Identifier: MIT
"""A training job end to end on the S3 data plane, as on EKS: channels downloaded before the
child starts, checkpoints restored at start and synced back (on SIGTERM and after the child
exits, deletions included), model.tar.gz uploaded after; large objects downloaded as parallel
byte ranges, large archives uploaded as multipart uploads, and the job config itself read from
S3 (docs/data.md). Everything goes through the SigV4-verifying S3 fake (tests/servers/s3.js),
and what parity-init uploaded is read back with other clients (Debian's AWS CLI, boto3).

parity-init runs on the local platform with a job config; the child is a Python script that
reads what a SageMaker training script reads (SM_CHANNEL_*, SM_MODEL_DIR, SM_INPUT_CONFIG_DIR/
checkpointconfig.json) and reports what it found as JSON on its last stdout line."""

import hashlib
import io
import json
import math
import os
import re
import signal
import subprocess
import tarfile

import pytest

from conftest import BUCKET, EXIT_TIMEOUT, READY_TIMEOUT, wait_until
from test_s3_data import WALK, bucket, keys, put  # noqa: F401  (bucket, keys: fixtures)

JOB = "e2e-train"
MIB = 1024 * 1024
AWS_CLI = "/usr/bin/aws"  # Debian's awscli 2.x; the pyenv one on PATH is another program
PY = "/usr/bin/python3"


# --- running a job ---------------------------------------------------------------------------
def job_spec(inputs=None, **fields):
    return {"apiVersion": "parity/v1", "name": JOB, "inputs": inputs or {},
            "resources": {"instance_count": 1}, **fields}


def start_job(init, root, s3, keys, spec, command, env=None):
    """parity-init on the local platform running command, with spec as PARITY_JOB_CONFIG (or,
    when spec is None, whatever env says); not waited for."""
    root.mkdir()
    full_env = {"AWS_ACCESS_KEY_ID": keys[0], "AWS_SECRET_ACCESS_KEY": keys[1],
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": s3.url, **(env or {})}
    if spec is not None:
        full_env["PARITY_JOB_CONFIG"] = json.dumps(spec)
    return init(command=command, pid1=False, env=full_env,
                opts=["--platform", "local", "--root", str(root)])


def last_json(r):
    lines = r.out_lines()
    assert lines, f"the child printed nothing:\n{r}"
    return json.loads(lines[-1])


def listing(client, prefix):
    """{key relative to prefix: body} of every object under prefix."""
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            out[obj["Key"][len(prefix):]] = body
    return out


def tar_files(data):
    """{name: bytes} of the files in a .tar.gz given as bytes."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def folder_files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def aws_cp(s3, keys, tmp_path):
    """aws_cp(key) -> bytes: the object downloaded with Debian's AWS CLI (`aws s3 cp`), path
    style, from an empty HOME."""
    if not os.access(AWS_CLI, os.X_OK):
        pytest.fail(f"{AWS_CLI} not found: apt-get install awscli (ci/deps.sh)")
    home = tmp_path / "aws-home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\ns3 =\n    addressing_style = path\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "AWS_ACCESS_KEY_ID": keys[0],
           "AWS_SECRET_ACCESS_KEY": keys[1], "AWS_REGION": "us-east-1", "AWS_PAGER": "",
           "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials")}
    count = [0]

    def download(key):
        count[0] += 1
        dest = tmp_path / f"aws-cp-{count[0]}"
        r = subprocess.run([AWS_CLI, "s3", "cp", "--only-show-errors", f"s3://{BUCKET}/{key}",
                            str(dest), "--endpoint-url", s3.url], env=env, capture_output=True,
                           text=True, timeout=EXIT_TIMEOUT)
        assert r.returncode == 0, f"aws s3 cp s3://{BUCKET}/{key} failed:\n{r.stderr}"
        return dest.read_bytes()

    return download


# --- 1. a training job that resumes from its checkpoints -----------------------------------
# argv: the channels' expected {name: {file: sha256}}, and how many epochs to train. Checks the
# channels, restores from the last epoch-NNN.ckpt in the checkpoint folder (LocalPath of
# checkpointconfig.json), trains, writes a checkpoint per epoch and the model.
TRAIN = r"""
import hashlib, json, os, re, sys
want, epochs = json.loads(sys.argv[1]), int(sys.argv[2])
def tree(d):
    return {os.path.relpath(os.path.join(p, n), d):
            hashlib.sha256(open(os.path.join(p, n), "rb").read()).hexdigest()
            for p, _, ns in os.walk(d) for n in ns}
for ch, files in want.items():
    got = tree(os.environ["SM_CHANNEL_" + ch.upper()])
    if got != files:
        print(json.dumps({"bad_channel": ch, "got": got}))
        sys.exit(2)
cfg = json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "checkpointconfig.json")))
ck = cfg["LocalPath"]
restored = tree(ck) if os.path.isdir(ck) else {}
done = sorted(int(n[6:9]) for n in restored if re.fullmatch(r"epoch-\d{3}\.ckpt", n))
start = done[-1] + 1 if done else 1
state = open(os.path.join(ck, "epoch-%03d.ckpt" % done[-1]), "rb").read() if done else b"init"
os.makedirs(os.path.join(ck, "optimizer"), exist_ok=True)
for e in range(start, start + epochs):
    state = hashlib.sha256(state + str(e).encode()).hexdigest().encode() * 100
    open(os.path.join(ck, "epoch-%03d.ckpt" % e), "wb").write(state)
    open(os.path.join(ck, "optimizer", "state.bin"), "wb").write(b"optimizer after epoch %d" % e)
m = os.environ["SM_MODEL_DIR"]
open(os.path.join(m, "model.bin"), "wb").write(state)
os.makedirs(os.path.join(m, "meta"), exist_ok=True)
metrics = {"last_epoch": e, "resumed_from": start - 1}
open(os.path.join(m, "meta", "metrics.json"), "w").write(json.dumps(metrics))
print(json.dumps({"checkpoint_dir": ck, "restored": restored, "start": start, "last": e}))
"""


def epoch_states(last):
    """{epoch: checkpoint bytes} as TRAIN computes them, epochs 1..last."""
    states, state = {}, b"init"
    for e in range(1, last + 1):
        state = hashlib.sha256(state + str(e).encode()).hexdigest().encode() * 100
        states[e] = state
    return states


def test_a_training_job_runs_end_to_end_and_resumes_from_its_checkpoints(
        init, tmp_path, s3, keys, bucket, prefix, aws_cp):
    """Run 1: both channels arrive as uploaded, the checkpoint folder (ROOT/checkpoints, as
    checkpointconfig.json says) starts empty, every checkpoint the script writes ends up under
    the checkpoint URI, and model.tar.gz (read back with the AWS CLI) holds exactly the model
    folder. Run 2, same job on a fresh root: the checkpoints of run 1 are restored before the
    script starts, so it continues from epoch 4, and its new checkpoints and model are
    uploaded."""
    want = {
        "train": {"a.csv": put(bucket, f"{prefix}/data/train/a.csv", b"1,2\n3,4\n"),
                  "sub/b.csv": put(bucket, f"{prefix}/data/train/sub/b.csv", b"5,6\n"),
                  "blob.bin": put(bucket, f"{prefix}/data/train/blob.bin", os.urandom(MIB + 7))},
        "validation": {"v.csv": put(bucket, f"{prefix}/data/validation/v.csv", b"7,8\n")},
    }
    spec = job_spec({"train": f"s3://{BUCKET}/{prefix}/data/train/",
                     "validation": f"s3://{BUCKET}/{prefix}/data/validation"},
                    output=f"s3://{BUCKET}/{prefix}/out",
                    checkpoints={"uri": f"s3://{BUCKET}/{prefix}/ckpt/"})
    command = [PY, "-c", TRAIN, json.dumps(want), "3"]
    env = {"PARITY_CHECKPOINT_SECONDS": "0"}
    model_key = f"{prefix}/out/{JOB}/output/model.tar.gz"
    states = epoch_states(6)
    optimizer = {e: b"optimizer after epoch %d" % e for e in (3, 6)}

    root1 = tmp_path / "run1"
    r = start_job(init, root1, s3, keys, spec, command, env).wait()
    assert r.returncode == 0, r
    got = last_json(r)
    assert got["checkpoint_dir"] == str(root1 / "checkpoints"), got
    assert got["restored"] == {} and got["start"] == 1 and got["last"] == 3, got
    ckpt = listing(bucket, f"{prefix}/ckpt/")
    assert ckpt == {**{f"epoch-{e:03d}.ckpt": states[e] for e in (1, 2, 3)},
                    "optimizer/state.bin": optimizer[3]}, sorted(ckpt)
    model = tar_files(aws_cp(model_key))
    assert model == folder_files(root1 / "model"), sorted(model)
    assert model["model.bin"] == states[3]
    assert json.loads(model["meta/metrics.json"]) == {"last_epoch": 3, "resumed_from": 0}

    root2 = tmp_path / "run2"
    r = start_job(init, root2, s3, keys, spec, command, env).wait()
    assert r.returncode == 0, r
    got = last_json(r)
    assert got["restored"] == {**{f"epoch-{e:03d}.ckpt": sha(states[e]) for e in (1, 2, 3)},
                               "optimizer/state.bin": sha(optimizer[3])}, got
    assert got["start"] == 4 and got["last"] == 6, got
    ckpt = listing(bucket, f"{prefix}/ckpt/")
    assert ckpt == {**{f"epoch-{e:03d}.ckpt": states[e] for e in range(1, 7)},
                    "optimizer/state.bin": optimizer[6]}, sorted(ckpt)
    model = tar_files(aws_cp(model_key))
    assert model == folder_files(root2 / "model"), sorted(model)
    assert model["model.bin"] == states[6]
    assert json.loads(model["meta/metrics.json"]) == {"last_epoch": 6, "resumed_from": 3}
    assert not list(tmp_path.rglob("*.parity-partial"))


# --- 2. deletions ------------------------------------------------------------------------------
# Reports the restored checkpoint folder, deletes two files from it, writes a new one.
PRUNE = r"""
import json, os, sys
cfg = os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "checkpointconfig.json")
ck = json.load(open(cfg))["LocalPath"]
found = sorted(os.path.relpath(os.path.join(p, n), ck) for p, _, ns in os.walk(ck) for n in ns)
os.remove(os.path.join(ck, "b.ckpt"))
os.remove(os.path.join(ck, "sub", "c.ckpt"))
open(os.path.join(ck, "d.ckpt"), "w").write("new")
print(json.dumps(found))
"""


def test_a_checkpoint_deleted_by_the_job_is_deleted_in_s3(init, tmp_path, s3, keys, bucket,
                                                          prefix):
    """Checkpoints in S3 are restored at start; the files the job deletes from its checkpoint
    folder are gone from S3 after the final sync, the one it adds is there, and the one it
    left alone is unchanged."""
    base = f"{prefix}/ckpt/"
    for name, body in (("a.ckpt", b"a"), ("b.ckpt", b"b"), ("sub/c.ckpt", b"c")):
        put(bucket, base + name, body)
    spec = job_spec(checkpoints={"uri": f"s3://{BUCKET}/{base}"})
    r = start_job(init, tmp_path / "ml", s3, keys, spec, [PY, "-c", PRUNE],
                  {"PARITY_CHECKPOINT_SECONDS": "0"}).wait()
    assert r.returncode == 0, r
    assert last_json(r) == ["a.ckpt", "b.ckpt", "sub/c.ckpt"], r
    assert listing(bucket, base) == {"a.ckpt": b"a", "d.ckpt": b"new"}
    deletes = [rec for rec in s3.records(base) if rec["method"] == "DELETE"]
    assert deletes and all(rec["access_key"] == keys[0] for rec in deletes), deletes


# --- 3. SIGTERM ------------------------------------------------------------------------------
# Writes before.ckpt, says "ready", waits for SIGTERM, says "sigterm", waits until the test
# creates argv[1] (the test checks S3 in between), writes after.ckpt and exits 0.
ON_SIGTERM = r"""
import json, os, signal, sys, time
cfg = os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "checkpointconfig.json")
ck = json.load(open(cfg))["LocalPath"]
go, got = sys.argv[1], []
signal.signal(signal.SIGTERM, lambda *_: got.append(1))
open(os.path.join(ck, "before.ckpt"), "w").write("written before SIGTERM")
print("ready", flush=True)
deadline = time.monotonic() + 120
while not got and time.monotonic() < deadline:
    time.sleep(0.02)
print("sigterm" if got else "no sigterm", flush=True)
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
open(os.path.join(ck, "after.ckpt"), "w").write("written after SIGTERM")
sys.exit(0 if got else 3)
"""


def test_sigterm_syncs_the_checkpoints_while_the_child_still_runs(init, tmp_path, s3, keys,
                                                                  bucket, prefix):
    """With interval syncs off, a SIGTERM to parity-init uploads the checkpoints at once,
    while the child (which traps SIGTERM) is still running; what the child writes after it is
    uploaded by the final sync once it exits 0. The child is forwarded the SIGTERM and is not
    killed before it is done."""
    base = f"{prefix}/ckpt/"
    go = tmp_path / "go"
    spec = job_spec(checkpoints={"uri": f"s3://{BUCKET}/{base}"})
    proc = start_job(init, tmp_path / "ml", s3, keys, spec, [PY, "-c", ON_SIGTERM, str(go)],
                     {"PARITY_CHECKPOINT_SECONDS": "0", "PARITY_GRACE_SECONDS": "300"})
    proc.wait_line(r"^ready$")
    assert listing(bucket, base) == {}, "no checkpoint sync before the SIGTERM"
    proc.send(signal.SIGTERM)
    proc.wait_line(r"^sigterm$")
    synced = wait_until(lambda: "before.ckpt" in listing(bucket, base), READY_TIMEOUT,
                        interval=0.1)
    go.write_text("")
    r = proc.wait()
    assert r.returncode == 0, r
    assert synced, f"the SIGTERM did not sync before.ckpt while the child ran:\n{r}"
    assert listing(bucket, base) == {"before.ckpt": b"written before SIGTERM",
                                     "after.ckpt": b"written after SIGTERM"}


# --- 4. large objects ----------------------------------------------------------------------------
def test_a_large_object_comes_down_as_parallel_byte_ranges(init, tmp_path, s3, keys, bucket,
                                                           prefix):
    """A 40 MiB object arrives byte-identical, fetched as several ranged GETs that together
    cover it exactly once, all signed with the job's key; no partial file is left."""
    big = os.urandom(40 * MIB + 4321)
    want = {"big.bin": put(bucket, f"{prefix}/train/big.bin", big),
            "small.txt": put(bucket, f"{prefix}/train/small.txt", b"small\n")}
    root = tmp_path / "ml"
    r = start_job(init, root, s3, keys, job_spec({"train": f"s3://{BUCKET}/{prefix}/train/"}),
                  [PY, "-c", WALK, str(root / "input" / "data")],
                  {"PARITY_S3_CONCURRENCY": "4"}).wait()
    assert r.returncode == 0, r
    assert last_json(r) == {"train": want}, r
    gets = [rec for rec in s3.records(f"{prefix}/train/big.bin") if rec["method"] == "GET"]
    assert all(rec["status"] in (200, 206) for rec in gets), gets
    assert all(rec["access_key"] == keys[0] for rec in gets), gets
    spans = []
    for rec in gets:
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", rec.get("range", ""))
        assert m, f"a GET of the large object without a closed Range: {rec}"
        spans.append((int(m.group(1)), int(m.group(2)) + 1))
    assert len(spans) >= 5, spans
    spans.sort()
    assert spans[0][0] == 0 and spans[-1][1] == len(big), spans
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), f"gaps or overlaps: {spans}"
    assert not list(root.rglob("*.parity-partial"))


# --- 5. multipart upload -------------------------------------------------------------------------
BIG_MODEL = r"""
import os
m = os.environ["SM_MODEL_DIR"]
open(os.path.join(m, "weights.bin"), "wb").write(os.urandom(12 * 1024 * 1024))
open(os.path.join(m, "config.json"), "w").write('{"layers": 2}')
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "log.txt"), "w").write("done\n")
"""


def test_a_large_model_goes_up_as_a_multipart_upload(init, tmp_path, s3, keys, bucket, prefix):
    """model.tar.gz over PARITY_S3_MULTIPART_THRESHOLD is uploaded as a multipart upload of
    PARITY_S3_PART_SIZE parts (create, one PUT per part, complete), and the object S3 assembles
    holds exactly the model folder; the small output.tar.gz stays a single PUT."""
    root = tmp_path / "ml"
    r = start_job(init, root, s3, keys, job_spec(output=f"s3://{BUCKET}/{prefix}/out"),
                  [PY, "-c", BIG_MODEL],
                  {"PARITY_S3_MULTIPART_THRESHOLD": "6291456",
                   "PARITY_S3_PART_SIZE": "5242880"}).wait()
    assert r.returncode == 0, r
    base = f"{prefix}/out/{JOB}/output/"
    recs, out_recs = s3.records(base + "model.tar.gz"), s3.records(base + "output.tar.gz")
    model = bucket.get_object(Bucket=BUCKET, Key=base + "model.tar.gz")["Body"].read()
    assert tar_files(model) == folder_files(root / "model")
    output = bucket.get_object(Bucket=BUCKET, Key=base + "output.tar.gz")["Body"].read()
    assert tar_files(output) == {"log.txt": b"done\n"}

    assert all(rec["access_key"] == keys[0] for rec in recs), recs
    creates = [rec for rec in recs
               if rec["method"] == "POST" and re.search(r"[?&]uploads", rec["url"])]
    parts = [rec for rec in recs if rec["method"] == "PUT" and "partNumber=" in rec["url"]
             and "uploadId=" in rec["url"]]
    completes = [rec for rec in recs if rec["method"] == "POST" and "uploadId=" in rec["url"]]
    assert len(creates) == 1 and creates[0]["status"] == 200, recs
    numbers = {int(re.search(r"partNumber=(\d+)", rec["url"]).group(1))
               for rec in parts if rec["status"] == 200}
    assert numbers == set(range(1, math.ceil(len(model) / 5242880) + 1)), parts
    assert len(numbers) >= 3, numbers
    assert len(completes) == 1 and completes[0]["status"] == 200, recs
    assert [rec["method"] for rec in out_recs] == ["PUT"], out_recs
    assert "partNumber=" not in out_recs[0]["url"], out_recs


# --- 6. the job config in S3 -------------------------------------------------------------------
def test_the_job_config_is_read_from_s3(init, tmp_path, s3, keys, bucket, prefix):
    """PARITY_JOB_CONFIG_URI=s3://bucket/key: the job config is fetched from S3, signed with
    parity-init's credentials, and the job runs as it says (its channel, from the same S3,
    arrives)."""
    want = {"x.csv": put(bucket, f"{prefix}/train/x.csv", b"x,y\n")}
    spec = job_spec({"train": f"s3://{BUCKET}/{prefix}/train/"})
    bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/job.json", Body=json.dumps(spec).encode())
    root = tmp_path / "ml"
    r = start_job(init, root, s3, keys, None, [PY, "-c", WALK, str(root / "input" / "data")],
                  {"PARITY_JOB_CONFIG_URI": f"s3://{BUCKET}/{prefix}/job.json"}).wait()
    assert r.returncode == 0, r
    assert last_json(r) == {"train": want}, r
    fetched = [rec for rec in s3.records(f"{prefix}/job.json") if rec["method"] == "GET"]
    assert fetched and fetched[0]["status"] == 200, fetched
    assert all(rec["access_key"] == keys[0] for rec in fetched), fetched

# SPDX-License-Identifier: MIT
"""The S3 data plane on EKS and locally, as SageMaker behaves: s3:// input channels listed and
downloaded into /opt/ml/input/data/<channel>/<key relative to the prefix> before the child
starts, and /opt/ml/model and /opt/ml/output/data packed and uploaded as model.tar.gz and
output.tar.gz to <output>/<job>/output/ after it ends. Against the SigV4-verifying S3 fake
(tests/servers/s3.js), signed with parity-init's own credentials, and a scripted stand-in for
what that fake cannot do (hostile keys, dropped connections).

parity-init runs on the local platform with a job config; the child reports what it finds
under the channel folders as JSON, or writes a model."""

import hashlib
import json
import os
import sys

import pytest

from conftest import BUCKET, SERVERS, LoopbackHTTP

sys.path.insert(0, str(SERVERS))
import common  # noqa: E402  (tests/servers/common.py: keys every fake accepts)

EXIT_BOOT_FAILURE = 125

# The child: every file under each channel folder with its sha256, and leftovers of any kind.
WALK = r"""
import hashlib, json, os, sys
root = sys.argv[1]
out = {}
for ch in sorted(os.listdir(root)):
    files = {}
    for d, _, names in os.walk(os.path.join(root, ch)):
        for n in names:
            p = os.path.join(d, n)
            files[os.path.relpath(p, os.path.join(root, ch))] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    out[ch] = files
print(json.dumps(out))
"""


@pytest.fixture
def keys():
    return common.static_keys()


@pytest.fixture
def bucket(s3, keys, boto3_available):
    """A boto3 S3 client on the fake, path style (Debian botocore needs the endpoint given)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1",
                        aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def put(client, key, body):
    client.put_object(Bucket=BUCKET, Key=key, Body=body)
    return hashlib.sha256(body).hexdigest()


def run_job(run_init, tmp_path, s3, keys, inputs, extra_env=None, host_index=None, hosts=1,
            output=None, command=None, **spec_fields):
    root = tmp_path / f"ml-{host_index or 0}"
    root.mkdir()
    spec = {"apiVersion": "parity/v1", "name": "channels-test", "inputs": inputs,
            "resources": {"instance_count": hosts}, **spec_fields}
    if output:
        spec["output"] = output
    env = {"PARITY_JOB_CONFIG": json.dumps(spec), "AWS_ACCESS_KEY_ID": keys[0],
           "AWS_SECRET_ACCESS_KEY": keys[1], "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_S3": s3.url if s3 else "http://127.0.0.1:9", **(extra_env or {})}
    if host_index is not None:
        env["PARITY_HOST_INDEX"] = str(host_index)
    r = run_init(command=command or ["/usr/bin/python3", "-c", WALK, str(root / "input" / "data")],
                 pid1=False, env=env, opts=["--platform", "local", "--root", str(root)])
    return r, root


def test_channels_land_where_sagemaker_puts_them(run_init, tmp_path, s3, keys, bucket, prefix):
    big = os.urandom(5 * 1024 * 1024 + 123)
    want = {
        "train": {
            "a.csv": put(bucket, f"{prefix}/train/a.csv", b"1,2,3\n"),
            "sub/b.csv": put(bucket, f"{prefix}/train/sub/b.csv", b"4,5,6\n"),
            "big.bin": put(bucket, f"{prefix}/train/big.bin", big),
            # space, '+', '=' and non-ASCII need encoding in the URL and the signature ('&' is
            # left out: s3rver escapes it twice in listings, which even boto3 reads wrongly)
            "odd name+=,é.txt": put(bucket, f"{prefix}/train/odd name+=,é.txt", b"odd"),
            "empty": put(bucket, f"{prefix}/train/empty", b""),
        },
        "validation": {"v.csv": put(bucket, f"{prefix}/validation/v.csv", b"v\n")},
    }
    put(bucket, f"{prefix}/train/folder/", b"")  # a folder marker: no file
    r, root = run_job(run_init, tmp_path, s3, keys,
                      {"train": f"s3://{BUCKET}/{prefix}/train/",
                       "validation": f"s3://{BUCKET}/{prefix}/validation"})
    assert r.returncode == 0, r
    assert json.loads(r.out_lines()[-1]) == want, r
    assert "objects=6" in r.err and f"bytes={len(big) + 6 + 6 + 3 + 2}" in r.err, r
    # every request was signed with the job's key (the fake lets unsigned ones through)
    recs = s3.records(prefix)
    assert recs and all(rec["access_key"] == keys[0] for rec in recs), recs
    partial = [p for p in root.rglob("*.parity-partial")]
    assert partial == [], partial


def test_sharded_by_s3_key_splits_objects_between_hosts(run_init, tmp_path, s3, keys, bucket,
                                                        prefix):
    names = [f"part-{i:02d}" for i in range(7)]
    for n in names:
        put(bucket, f"{prefix}/{n}", n.encode())
    got = []
    for host in range(2):
        r, _ = run_job(run_init, tmp_path, s3, keys,
                       {"train": {"uri": f"s3://{BUCKET}/{prefix}/",
                                  "distribution": "ShardedByS3Key"}},
                       host_index=host, hosts=2)
        assert r.returncode == 0, r
        got.append(sorted(json.loads(r.out_lines()[-1])["train"]))
    assert got[0] == names[0::2] and got[1] == names[1::2], got


class ScriptedS3(LoopbackHTTP):
    """A loopback S3 stand-in for what s3rver cannot do: keys that real S3 stores as written but
    s3rver normalises away ("a/../b"), and faults in the middle of a GET. objects maps keys to
    bodies; faults is a list of what the next object GETs do: "drop" (send half, then close),
    "500", or None (answer properly, honouring Range). Every object GET's headers are kept,
    names in lower case."""

    def __init__(self, objects, faults=()):
        from http.server import BaseHTTPRequestHandler
        from xml.sax.saxutils import escape

        contents = "".join(
            f"<Contents><Key>{escape(k)}</Key><Size>{len(v)}</Size>"
            f"<ETag>&quot;{hashlib.md5(v).hexdigest()}&quot;</ETag></Contents>"
            for k, v in objects.items())
        page = ("<ListBucketResult><IsTruncated>false</IsTruncated>" + contents +
                "</ListBucketResult>").encode()
        self.gets = []
        faults = list(faults)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body, headers=()):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if "list-type=2" in self.path:
                    return self.answer(200, page)
                outer.gets.append({k.lower(): v for k, v in self.headers.items()})
                key = self.path.split("/", 2)[2]
                body = objects[key.replace("%20", " ")]
                etag = f'"{hashlib.md5(body).hexdigest()}"'
                fault = faults.pop(0) if faults else None
                if fault == "500":
                    return self.answer(500, b"<Error><Code>InternalError</Code></Error>")
                first, _, last = self.headers.get("Range", "bytes=0-")[6:].partition("-")
                start = int(first)
                part = body[start:int(last) + 1 if last else None]
                status = 206 if start else 200
                if fault == "drop":
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(part)))
                    self.send_header("ETag", etag)
                    self.end_headers()
                    self.wfile.write(part[:len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.answer(status, part, [("ETag", etag)])

        super().__init__(Handler)


def test_a_dropped_download_resumes_where_it_stopped(run_init, tmp_path, keys):
    body = os.urandom(3 * 1024 * 1024)
    with ScriptedS3({"data/model.bin": body}, faults=["500", "drop", "drop", None]) as fake:
        r, root = run_job(run_init, tmp_path, fake, keys, {"train": f"s3://{BUCKET}/data/"})
    assert r.returncode == 0, r
    got = json.loads(r.out_lines()[-1])["train"]
    assert got == {"model.bin": hashlib.sha256(body).hexdigest()}, r
    ranges = [g.get("range") for g in fake.gets]
    # 500: start over; each drop: resume from the bytes already written, bound to the ETag
    assert len(fake.gets) == 4 and ranges[0] is None and ranges[1] is None, ranges
    end = len(body) - 1
    assert ranges[2] == f"bytes={len(body) // 2}-{end}", ranges
    assert ranges[3] == f"bytes={len(body) // 2 + (len(body) - len(body) // 2) // 2}-{end}", ranges
    assert all(g.get("if-match") for g in fake.gets[1:]), fake.gets


def test_a_download_that_keeps_failing_leaves_no_partial_file(run_init, tmp_path, keys):
    with ScriptedS3({"data/a.bin": b"x" * 4096}, faults=["drop"] * 10) as fake:
        r, root = run_job(run_init, tmp_path, fake, keys, {"train": f"s3://{BUCKET}/data/"},
                          extra_env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert "channel train" in r.err and "a.bin" in r.err, r
    assert list((root / "input" / "data" / "train").iterdir()) == [], "no partial file is left"


@pytest.mark.parametrize("hostile", ["../escape", "a//b", "./dot", "sub/../../x", "a/./b"])
def test_a_key_that_would_escape_stops_the_start(run_init, tmp_path, keys, hostile):
    with ScriptedS3({"data/fine.csv": b"fine", "data/" + hostile: b"evil"}) as fake:
        r, root = run_job(run_init, tmp_path, fake, keys, {"train": f"s3://{BUCKET}/data/"},
                          extra_env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert "channel train" in r.err and hostile in r.err, r
    # refused before any download: nothing fetched or written, not even the good object
    assert fake.gets == []
    assert list((root / "input" / "data" / "train").iterdir()) == []
    assert not (tmp_path / "escape").exists()


def test_a_missing_bucket_or_bad_key_is_a_clear_error(run_init, tmp_path, s3, keys, prefix):
    r, _ = run_job(run_init, tmp_path, s3, keys, {"train": f"s3://no-such-bucket-x/{prefix}/"},
                   extra_env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert "NoSuchBucket" in r.err and "channel train" in r.err, r
    other = tmp_path / "wrong-secret"
    other.mkdir()
    r, _ = run_job(run_init, other, s3, keys[:1] + ("wrong" * 8,),
                   {"train": f"s3://{BUCKET}/{prefix}/"}, extra_env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert "InvalidAccessKeyId" in r.err or "SignatureDoesNotMatch" in r.err, r


@pytest.mark.parametrize("env, reason", [
    ({"PARITY_S3_CONCURRENCY": "many"}, "PARITY_S3_CONCURRENCY"),
    ({"PARITY_S3_CONCURRENCY": "0"}, "PARITY_S3_CONCURRENCY"),
    ({"PARITY_S3_CONCURRENCY": "65"}, "PARITY_S3_CONCURRENCY"),
    ({"PARITY_CREDENTIALS": "off"}, "S3 needs AWS credentials"),
])
def test_bad_transfer_settings_are_clear_errors(run_init, tmp_path, s3, keys, prefix, env, reason):
    r, root = run_job(run_init, tmp_path, s3, keys, {"train": f"s3://{BUCKET}/{prefix}/"},
                      extra_env={"PARITY_LOG_LEVEL": "error", **env})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert reason in r.err, r
    assert not s3.records(prefix), "nothing was asked of S3"


def test_pipe_mode_is_refused_off_sagemaker(run_init, tmp_path, s3, keys, prefix):
    r, _ = run_job(run_init, tmp_path, s3, keys,
                   {"train": {"uri": f"s3://{BUCKET}/{prefix}/", "mode": "Pipe"}},
                   extra_env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == EXIT_BOOT_FAILURE and "Pipe mode" in r.err, r


# --- outputs ---------------------------------------------------------------------------------
# The child writes a model (a nested folder, a long name, a link) and output data, then exits.
WRITE_MODEL = r"""
import os, sys
m, o = os.environ["SM_MODEL_DIR"], os.environ["SM_OUTPUT_DATA_DIR"]
os.makedirs(os.path.join(m, "sub"), exist_ok=True)
open(os.path.join(m, "model.json"), "w").write('{"w": 3}')
open(os.path.join(m, "sub", "weights.bin"), "wb").write(bytes(range(256)) * 4000)
open(os.path.join(m, "n" * 120 + ".txt"), "w").write("long name")
os.symlink("model.json", os.path.join(m, "latest"))
open(os.path.join(o, "metrics.csv"), "w").write("epoch,loss\n1,0.5\n")
sys.exit(int(sys.argv[1]))
"""


def members(data):
    """{name: content or link target} of a .tar.gz given as bytes."""
    import io
    import tarfile

    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        for m in t.getmembers():
            out[m.name] = (m.linkname if m.issym() else
                           "<dir>" if m.isdir() else t.extractfile(m).read())
    return out


WANT_MODEL = {"model.json": b'{"w": 3}', "sub/": "<dir>", "sub/weights.bin": bytes(range(256)) * 4000,
              "n" * 120 + ".txt": b"long name", "latest": "model.json"}


@pytest.mark.parametrize("child_code", [0, 3])
def test_model_and_output_archives_are_uploaded(run_init, tmp_path, s3, keys, bucket, prefix,
                                                child_code):
    r, _ = run_job(run_init, tmp_path, s3, keys, {}, output=f"s3://{BUCKET}/{prefix}/out/",
                   command=["/usr/bin/python3", "-c", WRITE_MODEL, str(child_code)])
    assert r.returncode == child_code, r
    base = f"{prefix}/out/channels-test/output"
    model = bucket.get_object(Bucket=BUCKET, Key=f"{base}/model.tar.gz")["Body"].read()
    got = {k.rstrip("/") + ("/" if v == "<dir>" else ""): v for k, v in members(model).items()}
    assert got == WANT_MODEL, sorted(got)
    output = bucket.get_object(Bucket=BUCKET, Key=f"{base}/output.tar.gz")["Body"].read()
    assert members(output) == {"metrics.csv": b"epoch,loss\n1,0.5\n"}
    puts = [rec for rec in s3.records(base) if rec["method"] == "PUT"]
    assert len(puts) == 2 and all(rec["access_key"] == keys[0] for rec in puts), puts
    # the archives were packed beside the ML root and removed after the upload
    assert not list(tmp_path.rglob(".parity-*")), list(tmp_path.rglob(".parity-*"))


def test_a_local_folder_output_gets_the_same_archives(run_init, tmp_path, keys):
    out = tmp_path / "out"
    r, _ = run_job(run_init, tmp_path, None, keys, {}, output=f"file://{out}",
                   command=["/usr/bin/python3", "-c", WRITE_MODEL, "0"])
    assert r.returncode == 0, r
    model = (out / "channels-test" / "output" / "model.tar.gz").read_bytes()
    got = {k.rstrip("/") + ("/" if v == "<dir>" else ""): v for k, v in members(model).items()}
    assert got == WANT_MODEL
    assert sorted(p.name for p in (out / "channels-test" / "output").iterdir()) == \
        ["model.tar.gz", "output.tar.gz"]


def test_a_failed_upload_fails_a_successful_run(run_init, tmp_path, s3, keys, prefix):
    r, root = run_job(run_init, tmp_path, s3, keys, {},
                      output=f"s3://no-such-bucket-x/{prefix}/",
                      command=["/usr/bin/python3", "-c", WRITE_MODEL, "0"])
    assert r.returncode == 1, r
    assert "NoSuchBucket" in r.err, r
    failure = (root / "output" / "failure").read_text()
    assert failure.startswith("parity-init: finish:") and "NoSuchBucket" in failure, failure


# --- archives the job names: the model to serve, script mode's source -----------------------
def targz(entries):
    """A .tar.gz (pax format) of (name, bytes) files, ("name/", None) folders and
    ("name", "->target") symbolic links."""
    import io
    import tarfile

    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name.rstrip("/"))
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif isinstance(data, str):
                ti.type, ti.linkname = tarfile.SYMTYPE, data[2:]
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


LIST_MODEL = r"""
import os, json, sys
m = sys.argv[1]
print(json.dumps(sorted(os.path.relpath(os.path.join(d, n), m)
                        for d, ds, ns in os.walk(m) for n in ds + ns)))
"""


def test_the_model_to_serve_is_extracted_into_the_model_dir(run_init, tmp_path, s3, keys,
                                                            bucket, prefix):
    bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/model.tar.gz",
                      Body=targz([("model.json", b"{}"), ("code/", None),
                                  ("code/inference.py", b"print(1)"), ("latest", "->model.json")]))
    r, root = run_job(run_init, tmp_path, s3, keys, {}, role="serve",
                      model=f"s3://{BUCKET}/{prefix}/model.tar.gz",
                      command=["/usr/bin/python3", "-c", LIST_MODEL,
                               str(tmp_path / "ml-0" / "model")])
    assert r.returncode == 0, r
    assert json.loads(r.out_lines()[-1]) == ["code", "code/inference.py", "latest", "model.json"]
    assert "model extracted" in r.err and "entries=4" in r.err, r
    assert not list(root.rglob(".parity-*")), "the downloaded archive is removed"


def test_script_mode_source_comes_from_the_submit_directory(run_init, tmp_path, s3, keys,
                                                            bucket, prefix):
    script = b"import os, sys; print('hello from', os.path.basename(sys.argv[0]), sys.argv[1:])"
    bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/sourcedir.tar.gz",
                      Body=targz([("train.py", script), ("lib/", None), ("lib/util.py", b"")]))
    r, root = run_job(run_init, tmp_path, s3, keys, {},
                      hyperparameters={"sagemaker_program": "train.py",
                                       "sagemaker_submit_directory":
                                           f"s3://{BUCKET}/{prefix}/sourcedir.tar.gz",
                                       "epochs": 3},
                      command=["train"])
    assert r.returncode == 0, r
    assert r.out_lines()[-1] == "hello from train.py ['--epochs', '3']", r
    assert (root / "code" / "lib" / "util.py").exists()


@pytest.mark.parametrize("entries, reason", [
    ([("ok.py", b""), ("../evil.py", b"x")], "'..' segment"),
    ([("/etc/evil.py", b"x")], "absolute"),
    ([("up", "->../../outside")], "outside the destination"),
    ([("d/", None), ("alias", "->d"), ("alias/evil.py", b"x")], "through a link"),
])
def test_a_hostile_source_archive_stops_the_start(run_init, tmp_path, s3, keys, bucket, prefix,
                                                   entries, reason):
    bucket.put_object(Bucket=BUCKET, Key=f"{prefix}/sourcedir.tar.gz", Body=targz(entries))
    r, root = run_job(run_init, tmp_path, s3, keys, {},
                      hyperparameters={"sagemaker_program": "ok.py",
                                       "sagemaker_submit_directory":
                                           f"s3://{BUCKET}/{prefix}/sourcedir.tar.gz"},
                      command=["train"], extra_env={"PARITY_LOG_LEVEL": "error"})
    assert r.returncode == EXIT_BOOT_FAILURE, r
    assert reason in r.err and "sagemaker_submit_directory" in r.err, r
    assert not (root / "evil.py").exists() and not (root / "code" / "d" / "evil.py").exists()
    assert not (tmp_path / "evil.py").exists()

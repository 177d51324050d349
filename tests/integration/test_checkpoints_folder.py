# SPDX-License-Identifier: MIT
"""Checkpoints with a file:// URI, for local runs: a folder plays S3's part and is kept exactly
as SageMaker keeps an S3 checkpoint prefix (docs/data.md). Restored into the local folder
before the child starts; new and changed files copied back, deleted ones deleted, on an interval
and after the child exits; a file in the store is whole or absent, never half-copied."""

import json
import signal

from conftest import READY_TIMEOUT, wait_until

PY = "/usr/bin/python3"

# The child: reports what it found in the checkpoint folder, then edits it as argv says:
# "write NAME TEXT", "delete NAME", "wait-file PATH" (until PATH exists), "exit N".
CHILD = r"""
import json, os, sys, time
ck = json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "checkpointconfig.json")))["LocalPath"]
found = {}
for d, _, names in os.walk(ck):
    for n in names:
        p = os.path.join(d, n)
        found[os.path.relpath(p, ck)] = open(p).read()
print(json.dumps(found), flush=True)
args = sys.argv[1:]
while args:
    op = args.pop(0)
    if op == "write":
        name, text = args.pop(0), args.pop(0)
        os.makedirs(os.path.dirname(os.path.join(ck, name)), exist_ok=True)
        open(os.path.join(ck, name), "w").write(text)
    elif op == "delete":
        os.unlink(os.path.join(ck, args.pop(0)))
    elif op == "wait-file":
        path = args.pop(0)
        while not os.path.exists(path):
            time.sleep(0.05)
    elif op == "exit":
        sys.exit(int(args.pop(0)))
"""


def files(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def start(init, tmp_path, store, ops, env=None, name="ml"):
    root = tmp_path / name
    root.mkdir()
    spec = {"apiVersion": "parity/v1", "name": "ckpt-local", "inputs": {},
            "checkpoints": {"uri": f"file://{store}/"}}
    return init(command=[PY, "-c", CHILD, *ops], pid1=False,
                env={"PARITY_JOB_CONFIG": json.dumps(spec), **(env or {})},
                opts=["--platform", "local", "--root", str(root)])


def test_a_restart_finds_its_checkpoints_and_changes_go_back(init, tmp_path):
    store = tmp_path / "store"
    (store / "sub").mkdir(parents=True)
    (store / "epoch-1.ckpt").write_text("one")
    (store / "sub" / "state.json").write_text("{}")
    (store / "stale.ckpt").write_text("old")
    r = start(init, tmp_path, store, ["write", "epoch-2.ckpt", "two", "write", "sub/state.json",
                                      '{"epoch": 2}', "delete", "stale.ckpt"]).wait()
    assert r.returncode == 0, r
    assert json.loads(r.out_lines()[0]) == {"epoch-1.ckpt": "one", "sub/state.json": "{}",
                                            "stale.ckpt": "old"}, r
    # after the exit: new and changed files copied, the deleted one gone, nothing partial
    assert files(store) == {"epoch-1.ckpt": "one", "epoch-2.ckpt": "two",
                            "sub/state.json": '{"epoch": 2}'}, r
    assert "synced reason=exit uploaded=2 deleted=1" in r.err, r
    # a second run (a restart) starts from there
    r2 = start(init, tmp_path, store, [], name="ml2").wait()
    assert r2.returncode == 0, r2
    assert json.loads(r2.out_lines()[0]) == files(store), r2


def test_a_failed_job_still_keeps_its_checkpoints(init, tmp_path):
    store = tmp_path / "store"
    r = start(init, tmp_path, store, ["write", "last.ckpt", "x", "exit", "3"]).wait()
    assert r.returncode == 3, r
    assert files(store) == {"last.ckpt": "x"}, r


def test_interval_syncs_run_while_the_child_runs(init, tmp_path):
    store, go = tmp_path / "store", tmp_path / "go"
    proc = start(init, tmp_path, store, ["write", "early.ckpt", "e", "wait-file", str(go)],
                 env={"PARITY_CHECKPOINT_SECONDS": "1"})
    # the child is still waiting: only an interval sync can have copied the file
    assert wait_until(lambda: files(store) == {"early.ckpt": "e"}, READY_TIMEOUT), files(store)
    go.touch()
    r = proc.wait()
    assert r.returncode == 0 and "synced reason=interval uploaded=1" in r.err, r


def test_a_job_stopped_by_sigterm_keeps_its_checkpoints(init, tmp_path):
    store, go = tmp_path / "store", tmp_path / "go"
    proc = start(init, tmp_path, store, ["write", "a.ckpt", "a", "wait-file", str(go)],
                 env={"PARITY_CHECKPOINT_SECONDS": "0"})
    proc.wait_line(r"^\{\}$")
    assert wait_until(lambda: (tmp_path / "ml" / "checkpoints" / "a.ckpt").exists(),
                      READY_TIMEOUT)
    proc.send(signal.SIGTERM)  # forwarded: the child dies of it
    r = proc.wait()
    assert r.returncode == 128 + signal.SIGTERM, r
    assert files(store) == {"a.ckpt": "a"}, r


def test_a_bad_interval_is_a_usage_error(init, tmp_path):
    r = start(init, tmp_path, tmp_path / "store", [],
              env={"PARITY_CHECKPOINT_SECONDS": "soon"}).wait()
    assert r.returncode == 125 and "PARITY_CHECKPOINT_SECONDS" in r.err, r


def test_an_unwritable_store_fails_a_successful_job(init, tmp_path):
    store, go = tmp_path / "store", tmp_path / "go"
    store.mkdir()
    proc = start(init, tmp_path, store, ["write", "sub/x.ckpt", "x", "wait-file", str(go)],
                 env={"PARITY_CHECKPOINT_SECONDS": "0"})
    proc.wait_line(r"^\{\}$")
    (store / "sub").write_text("a file where the sync needs a folder")
    go.touch()
    r = proc.wait()
    assert r.returncode == 1, r
    assert "checkpoint sync (exit)" in r.err and "sub" in r.err, r
    assert not any(p.name.endswith(".parity-partial") for p in store.rglob("*")), r
    assert (store / "sub").read_text() == "a file where the sync needs a folder"

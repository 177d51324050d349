# SPDX-License-Identifier: MIT
"""Conformance: on sagemaker-training, parity-init gives its child exactly the SM_* environment
(plus CURRENT_HOST, SAGEMAKER_JOB_NAME, SAGEMAKER_REGION) that AWS's sagemaker-training-toolkit
exports, byte for byte. Expected values come from sm_oracle.py (contract/sagemaker.md §2).

Each folder under fixtures/sagemaker/ is one case: the config files SageMaker writes
(hyperparameters.json, resourceconfig.json, inputdataconfig.json, optionally
checkpointconfig.json), copied byte for byte to ROOT/input/config/, an optional env.json with
extra environment for parity-init, and, for cases parity-init must reject, expect_error.json
({"file": name that stderr and the failure file must mention, "line": optional line number}).

Run as: PARITY_INIT --platform sagemaker-training --root ROOT -- PROBE env
(PARITY_INIT defaults to build/parity-init, PARITY_PROBE to build/probe; the probe's `env`
subcommand prints its environment as a JSON array of "KEY=VALUE" strings.)
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sm_oracle  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sagemaker"
CONFIG_FILES = ("hyperparameters.json", "resourceconfig.json", "inputdataconfig.json",
                "checkpointconfig.json")
BASE_ENV = {"PATH": "/usr/bin:/bin"}
RUN_TIMEOUT = 120  # only stops a hung run; nothing here waits on time
EXIT_CONFIG_ERROR = 125  # parity-init failed before starting the child
FAILURE_REASON_CHARS = 1024  # SageMaker's FailureReason is the failure file's first 1024 chars

ALL_CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
ENV_CASES = [c for c in ALL_CASES if not (FIXTURES / c / "expect_error.json").exists()]
ERROR_CASES = [c for c in ALL_CASES if (FIXTURES / c / "expect_error.json").exists()]


# --- running parity-init --------------------------------------------------------------------------
def _binary(env_var, default):
    path = Path(os.environ.get(env_var, default))
    return path if path.is_absolute() else REPO_ROOT / path


@pytest.fixture(scope="module")
def sm_init():
    """parity-init's path (an unknown --root shows up in each failure's stderr)."""
    path = _binary("PARITY_INIT", "build/parity-init")
    if not os.access(path, os.X_OK):
        pytest.fail(f"parity-init binary not found at {path} (run make, or set PARITY_INIT)")
    return path


@pytest.fixture(scope="module")
def env_command():
    """The child command that prints its environment: `probe env`, or a Python fallback that
    prints the same JSON array of "KEY=VALUE" strings when the probe is not built."""
    probe = _binary("PARITY_PROBE", "build/probe")
    if os.access(probe, os.X_OK):
        return [str(probe), "env"]
    return ["/usr/bin/python3", "-c",
            "import json,os;print(json.dumps(['%s=%s' % (k, v) for k, v in os.environ.items()]))"]


def host_num_gpus():
    """SM_NUM_GPUS as TK computes it on this machine: lines starting "GPU " in
    `nvidia-smi --list-gpus`, 0 if that fails (contract §2.3)."""
    try:
        out = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, check=True,
                             timeout=RUN_TIMEOUT).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.split("\n") if line.startswith("GPU "))


def make_root(tmp_path, case):
    """ROOT with input/config/ holding the case's config files, byte for byte."""
    root = tmp_path / "ml"
    config = root / "input" / "config"
    config.mkdir(parents=True)
    for name in CONFIG_FILES:
        src = FIXTURES / case / name
        if src.exists():
            shutil.copyfile(src, config / name)
    return root


def case_env(case):
    env = dict(BASE_ENV)
    extra = FIXTURES / case / "env.json"
    if extra.exists():
        env.update(json.loads(extra.read_text(encoding="utf-8")))
    return env


def run_parity_init(init, root, env, command):
    argv = [str(init), "--platform", "sagemaker-training", "--root", str(root), "--", *command]
    return subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT)


def describe(proc):
    return (f"argv: {proc.args}\nexit: {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout.decode('utf-8', 'replace')[:4000]}\n"
            f"--- stderr ---\n{proc.stderr.decode('utf-8', 'replace')[-4000:]}")


def parse_child_env(stdout):
    """The child's environment from the probe's JSON (an array of "K=V", or an object). Invalid
    UTF-8 is kept as surrogate escapes so that it shows up as a difference, not an error."""
    doc = json.loads(stdout.decode("utf-8", "surrogateescape"))
    if isinstance(doc, dict):
        return doc, []
    env, dups = {}, []
    for entry in doc:
        name, sep, value = entry.partition("=")
        assert sep, f"environment entry without '=': {entry!r}"
        if name in env:
            dups.append(name)
        env[name] = value
    return env, dups


# --- readable differences -----------------------------------------------------------------------
def _show(value, limit=300):
    return "<absent>" if value is None else repr(value if len(value) <= limit
                                                 else value[:limit] + "...")


def _first_difference(want, got):
    n = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    lo = max(0, n - 60)
    return (f"      first difference at character {n}:\n"
            f"        expected ...{want[lo:n + 60]!r}\n"
            f"        actual   ...{got[lo:n + 60]!r}")


def env_diff(expected, actual):
    """Lines describing every missing, unexpected and different variable."""
    lines = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want == got:
            continue
        if got is None:
            lines.append(f"  missing    {name} (expected {_show(want)})")
        elif want is None:
            lines.append(f"  unexpected {name}={_show(got)}")
        else:
            lines.append(f"  different  {name}\n      expected {_show(want)}\n"
                         f"      actual   {_show(got)}")
            if len(want) > 80 or len(got) > 80:
                lines.append(_first_difference(want, got))
    return lines


def checked_vars(env):
    return {k: v for k, v in env.items() if k.startswith("SM_") or k in sm_oracle.PLAIN_VARS}


# --- the contract tests ------------------------------------------------------------------------
@pytest.mark.parametrize("case", ENV_CASES)
def test_env_parity(case, tmp_path, sm_init, env_command):
    """Every SM_* variable and CURRENT_HOST/SAGEMAKER_JOB_NAME/SAGEMAKER_REGION equals TK's."""
    root = make_root(tmp_path, case)
    env = case_env(case)
    config = root / "input" / "config"
    expected = sm_oracle.expected_env(
        root,
        (config / "hyperparameters.json").read_bytes(),
        (config / "resourceconfig.json").read_bytes(),
        (config / "inputdataconfig.json").read_bytes(),
        env, num_cpus=os.cpu_count(), num_gpus=host_num_gpus())

    proc = run_parity_init(sm_init, root, env, env_command)
    assert proc.returncode == 0, f"the child did not run cleanly:\n{describe(proc)}"
    try:
        child, dups = parse_child_env(proc.stdout)
    except ValueError as e:
        pytest.fail(f"cannot parse the child's environment ({e}):\n{describe(proc)}")
    assert not dups, f"variables set more than once in the child's environ: {sorted(set(dups))}"

    actual = checked_vars(child)
    diff = env_diff(expected, actual)
    count = sum(1 for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
    assert not diff, (f"case {case}: the child's environment differs from the toolkit's "
                      f"({count} variables):\n" + "\n".join(diff))

    # TK puts the code directory first on sys.path, hence on PYTHONPATH (contract §2.1 step 4).
    code_dir = str(root / "code")
    pythonpath = child.get("PYTHONPATH")
    assert pythonpath is not None and (pythonpath == code_dir
                                       or pythonpath.startswith(code_dir + ":")), \
        f"PYTHONPATH {pythonpath!r} does not start with {code_dir!r}"
    # ... and an inherited PYTHONPATH stays on it (Python puts its entries on sys.path).
    lost = [p for p in env.get("PYTHONPATH", "").split(":") if p and p not in pythonpath.split(":")]
    assert not lost, f"PYTHONPATH {pythonpath!r} lost the inherited entries {lost}"


_LINE_COL = (re.compile(r"line\s*(\d+)\D{0,4}col(?:umn)?\s*(\d+)", re.I),
             re.compile(r"\.json:(\d+):(\d+)"))


def _assert_failed_before_child(proc, root, file_name, extra_pattern=None):
    """Exit 125, the reason on stderr, and ROOT/output/failure naming the problem."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == EXIT_CONFIG_ERROR, \
        f"expected exit {EXIT_CONFIG_ERROR}:\n{describe(proc)}"
    assert not proc.stdout.lstrip().startswith(b"["), f"the child ran:\n{describe(proc)}"
    assert file_name in err, f"stderr does not name {file_name}:\n{describe(proc)}"
    if extra_pattern is not None:
        assert re.search(extra_pattern, err, re.I), \
            f"stderr does not match /{extra_pattern}/:\n{describe(proc)}"
    failure = root / "output" / "failure"
    assert failure.is_file(), f"{failure} was not written:\n{describe(proc)}"
    reason = failure.read_text(encoding="utf-8", errors="replace")
    assert file_name in reason[:FAILURE_REASON_CHARS], \
        f"the failure reason does not name {file_name} in its first {FAILURE_REASON_CHARS} " \
        f"characters: {reason[:FAILURE_REASON_CHARS]!r}"
    return err


@pytest.mark.parametrize("case", ERROR_CASES)
def test_config_error(case, tmp_path, sm_init, env_command):
    """Missing or malformed config files: exit 125 before the child starts, with the file (and
    for a JSON syntax error the line and column) on stderr and in ROOT/output/failure."""
    expect = json.loads((FIXTURES / case / "expect_error.json").read_text(encoding="utf-8"))
    root = make_root(tmp_path, case)
    proc = run_parity_init(sm_init, root, case_env(case), env_command)
    err = _assert_failed_before_child(proc, root, expect["file"])
    if "line" in expect:
        found = [m for rx in _LINE_COL for m in rx.finditer(err)]
        assert found, f"stderr gives no line/column for the JSON error:\n{describe(proc)}"
        lines = {int(m.group(1)) for m in found}
        assert expect["line"] in lines, \
            f"the error is on line {expect['line']}, stderr says line(s) {sorted(lines)}:\n" \
            f"{describe(proc)}"


def test_oversized_hyperparameters(tmp_path, sm_init, env_command):
    """A ~20 MiB hyperparameters.json (valid JSON) exceeds the read bound: a clear 125."""
    root = make_root(tmp_path, "empty-hyperparameters")
    big = '{"blob": "' + "x" * (20 << 20) + '"}\n'
    (root / "input" / "config" / "hyperparameters.json").write_text(big, encoding="ascii")
    proc = run_parity_init(sm_init, root, dict(BASE_ENV), env_command)
    _assert_failed_before_child(
        proc, root, "hyperparameters.json",
        extra_pattern=r"too (large|big)|exceed|limit|bound|larger than|size|[KMG]i?B\b|bytes")


# --- the oracle against values worked out by hand from the contract ----------------------------
def _oracle(hps, rc=None, idc=None, env=None, root="/R"):
    rc = rc or {"current_host": "algo-1", "current_instance_type": "ml.m5.xlarge",
                "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
                "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                     "instance_type": "ml.m5.xlarge", "hosts": ["algo-1"]}],
                "network_interface_name": "eth0", "topology": None}
    return sm_oracle.expected_env(root, json.dumps(hps), json.dumps(rc),
                                  json.dumps({} if idc is None else idc),
                                  dict(BASE_ENV, **(env or {})), num_cpus=4, num_gpus=0)


def test_oracle_self_check():
    """sm_oracle reproduces values derived by hand from contract §2.3/§2.4 (not by Python)."""
    # 1. Contract §2.3's SM_USER_ARGS example (SDK-style JSON-encoded values, §1.3).
    got = _oracle({"epochs": "10", "k": "5", "learning-rate": "0.001",
                   "optimizer": '{"name": "adamw", "betas": [0.9, 0.999], "eps": 1e-08}',
                   "seed": "null", "tags": '["nlp", "demo"]', "use_amp": "true"})
    assert got["SM_USER_ARGS"] == (
        '["--epochs","10","-k","5","--learning-rate","0.001","--optimizer",'
        '"betas=[0.9, 0.999],eps=1e-08,name=adamw","--seed","","--tags","[\'nlp\', \'demo\']",'
        '"--use_amp","True"]')
    assert got["SM_HP_LEARNING-RATE"] == "0.001"
    assert got["SM_HP_OPTIMIZER"] == '{"betas":[0.9,0.999],"eps":1e-08,"name":"adamw"}'
    assert got["SM_HP_SEED"] == "" and got["SM_HP_USE_AMP"] == "true" and got["SM_HP_K"] == "5"
    assert got["SM_HP_TAGS"] == '["nlp","demo"]'
    assert got["SM_HPS"] == ('{"epochs":10,"k":5,"learning-rate":0.001,"optimizer":{"betas":'
                             '[0.9,0.999],"eps":1e-08,"name":"adamw"},"seed":null,'
                             '"tags":["nlp","demo"],"use_amp":true}')

    # 2. Decoding and formatting rules (§2.3 bullets 1, 3, 4, 5).
    got = _oracle({"a": "1E3", "b": "1e-05", "c": "1e16", "d": "NaN", "e": "Infinity",
                   "f": "-Infinity", "g": "123456789012345678901234567890", "h": "-0",
                   "i": "hello world", "j": "True", "l": "010", "m": "+1", "n": "1.", "o": "",
                   "learning-rate": "0.1", "x y": "\"sp\"", "ß": "[\"é\"]"},
                  idc={"dummy-input-channel": {"TrainingInputMode": "File"}})
    assert {k: got["SM_HP_" + k.upper()] for k in "abcdefghijlmno"} == {
        "a": "1000.0", "b": "1e-05", "c": "1e+16", "d": "NaN", "e": "Infinity",
        "f": "-Infinity", "g": "123456789012345678901234567890", "h": "0",
        "i": "hello world", "j": "True", "l": "010", "m": "+1", "n": "1.", "o": ""}
    assert got["SM_HP_X Y"] == "sp" and got["SM_HP_SS"] == '["\\u00e9"]'
    assert got["SM_CHANNEL_DUMMY-INPUT-CHANNEL"] == "/R/input/data/dummy-input-channel"
    assert got["SM_CHANNELS"] == '["dummy-input-channel"]'
    args = json.loads(got["SM_USER_ARGS"])
    assert args[args.index("-a") + 1] == "1000.0" and args[args.index("-d") + 1] == "nan"
    assert args[args.index("-e") + 1] == "inf" and args[args.index("-ß") + 1] == "['é']"
    assert args[args.index("-o") + 1] == "" and args[args.index("--x y") + 1] == "sp"

    # 3. Everything else at its default (§2.2, §2.4): the 31 fixed names, nothing more.
    got = _oracle({})
    fixed = {"SM_" + n for n in (
        "HOSTS NETWORK_INTERFACE_NAME CURRENT_INSTANCE_TYPE CURRENT_INSTANCE_GROUP "
        "CURRENT_INSTANCE_GROUP_HOSTS INSTANCE_GROUPS INSTANCE_GROUPS_DICT "
        "DISTRIBUTION_INSTANCE_GROUPS IS_HETERO HPS USER_ARGS FRAMEWORK_PARAMS CHANNELS "
        "INPUT_DATA_CONFIG RESOURCE_CONFIG USER_ENTRY_POINT MODULE_NAME MODULE_DIR "
        "FRAMEWORK_MODULE LOG_LEVEL NUM_CPUS NUM_GPUS NUM_NEURONS MODEL_DIR INPUT_DIR "
        "INPUT_CONFIG_DIR OUTPUT_DIR OUTPUT_DATA_DIR OUTPUT_INTERMEDIATE_DIR TRAINING_ENV "
        "CURRENT_HOST").split()}
    assert len(fixed) == 31
    assert set(got) == fixed | {"CURRENT_HOST", "SAGEMAKER_JOB_NAME", "SAGEMAKER_REGION"}
    assert (got["SM_MODULE_NAME"], got["SM_USER_ENTRY_POINT"], got["SM_LOG_LEVEL"]) == \
        ("None", "", "20")
    assert (got["SM_MODULE_DIR"], got["SM_FRAMEWORK_MODULE"], got["SM_NUM_NEURONS"]) == \
        ("/R/code", "", "0")
    assert (got["SM_HPS"], got["SM_USER_ARGS"], got["SM_FRAMEWORK_PARAMS"]) == ("{}", "[]", "{}")
    assert (got["SM_DISTRIBUTION_INSTANCE_GROUPS"], got["SM_IS_HETERO"]) == ("[]", "false")
    assert (got["SM_OUTPUT_DATA_DIR"], got["SM_INPUT_CONFIG_DIR"]) == \
        ("/R/output/data", "/R/input/config")
    assert (got["SAGEMAKER_REGION"], got["SAGEMAKER_JOB_NAME"], got["CURRENT_HOST"]) == \
        ("", "", "algo-1")
    training_env = json.loads(got["SM_TRAINING_ENV"])
    assert sorted(training_env) == sorted(
        "additional_framework_parameters channel_input_dirs current_host current_instance_group "
        "current_instance_group_hosts current_instance_type distribution_hosts "
        "distribution_instance_groups framework_module hosts hyperparameters input_config_dir "
        "input_data_config input_dir instance_groups instance_groups_dict is_hetero is_master "
        "is_modelparallel_enabled is_smddpmprun_installed is_smddprun_installed job_name "
        "log_level master_hostname model_dir module_dir module_name network_interface_name "
        "num_cpus num_gpus num_neurons output_data_dir output_dir output_intermediate_dir "
        "resource_config topology user_entry_point".split())
    assert training_env["is_modelparallel_enabled"] is None and training_env["job_name"] is None
    assert training_env["topology"] is None and training_env["user_entry_point"] is None

    # 4. The heterogeneous example of §1.3, plain and with MPI (§2.3 "Distribution").
    hetero = {"current_host": "algo-1", "current_instance_type": "ml.p3dn.24xlarge",
              "current_group_name": "instance_group_2", "hosts": ["algo-1", "algo-2", "algo-3"],
              "instance_groups": [
                  {"instance_group_name": "instance_group_1", "instance_type": "ml.c5.18xlarge",
                   "hosts": ["algo-2"]},
                  {"instance_group_name": "instance_group_2",
                   "instance_type": "ml.p3dn.24xlarge", "hosts": ["algo-3", "algo-1"]}],
              "network_interface_name": "eth0"}
    got = _oracle({}, rc=hetero)
    assert got["SM_CURRENT_INSTANCE_GROUP_HOSTS"] == '["algo-3","algo-1"]'
    assert got["SM_INSTANCE_GROUPS"] == '["instance_group_1","instance_group_2"]'
    assert (got["SM_IS_HETERO"], got["SM_DISTRIBUTION_INSTANCE_GROUPS"]) == ("true", "[]")
    training_env = json.loads(got["SM_TRAINING_ENV"])
    assert (training_env["master_hostname"], training_env["is_master"]) == ("algo-1", True)
    assert training_env["topology"] == []  # key absent -> [] (null only when written as null)
    got = _oracle({"sagemaker_mpi_enabled": "true", "sagemaker_region": "\"eu-west-1\"",
                   "sagemaker_job_name": "\"j1\""}, rc=hetero,
                  env={"AWS_DEFAULT_REGION": "us-east-1", "SM_HP_MP_PARAMETERS": "{}"})
    assert got["SM_DISTRIBUTION_INSTANCE_GROUPS"] == '["instance_group_2"]'
    assert got["SM_FRAMEWORK_PARAMS"] == '{"sagemaker_mpi_enabled":true}'
    assert (got["SAGEMAKER_REGION"], got["SAGEMAKER_JOB_NAME"]) == ("eu-west-1", "j1")
    assert got["SM_HP_MP_PARAMETERS"] == "{}"  # inherited, TK does not touch it
    training_env = json.loads(got["SM_TRAINING_ENV"])
    assert training_env["distribution_hosts"] == ["algo-3", "algo-1"]
    assert (training_env["master_hostname"], training_env["is_master"]) == ("algo-3", False)
    assert training_env["is_modelparallel_enabled"] is False

    # 5. SAGEMAKER_PROGRAM beats the hyperparameter; ".py" is stripped (§2.2).
    got = _oracle({"sagemaker_program": "\"train.py\""}, env={"SAGEMAKER_PROGRAM": "run.py"})
    assert (got["SM_USER_ENTRY_POINT"], got["SM_MODULE_NAME"]) == ("run.py", "run")


@pytest.mark.parametrize("case", ENV_CASES)
def test_fixture_is_supported_by_oracle(case, tmp_path):
    """Every fixture is an input TK accepts (the oracle raises UnsupportedInput otherwise)."""
    root = make_root(tmp_path, case)
    config = root / "input" / "config"
    sm_oracle.expected_env(root, *((config / n).read_bytes() for n in CONFIG_FILES[:3]),
                           case_env(case), num_cpus=1)

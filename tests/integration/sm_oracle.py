# SPDX-License-Identifier: MIT
"""Test oracle: the environment AWS's sagemaker-training-toolkit (TK) gives a training child.

parity-init must export to its child exactly what TK's ``Environment().to_env_vars()`` exports,
plus the three variables TK's ``Environment()`` writes into ``os.environ`` (CURRENT_HOST,
SAGEMAKER_JOB_NAME, SAGEMAKER_REGION). This module recomputes that in plain Python, from the
facts in ../shared/contract/sagemaker.md ("the contract"), §1.2, §1.3, §2.1-§2.4, which were
read from TK @ 33839372 (src/sagemaker_training/environment.py, mapping.py, params.py).

It is written independently of TK's code, but every text form it produces comes from Python
itself -- ``json.loads``, ``json.dumps``, ``str()`` and ``str.upper()`` -- because TK produces
them that way, and reproducing Python's float repr or Unicode case mapping by hand is exactly the
kind of thing that goes wrong.

Deliberate deviations from TK (parity-init has no Python toolkit and no /opt/ml):
  * every path is under ``ml_root`` (TK's ``SAGEMAKER_BASE_DIR``/``base_dir``), not /opt/ml;
  * ``num_neurons`` is 64 for a trn2.48xlarge instance type, as TK hard-codes, else 0 (TK runs
    ``neuron-ls``, which a static PID 1 does not);
  * ``num_cpus``/``num_gpus`` are inputs: what ``os.cpu_count()`` and ``nvidia-smi --list-gpus``
    give on the machine running the test (contract §2.3);
  * ``is_smddprun_installed``/``is_smddpmprun_installed``: whether ``smddprun``/``smddpmprun``
    is found on the child's PATH (TK runs ``which``);
  * SAGEMAKER_REGION: hp ``sagemaker_region`` (decoded) if the key is present, else env
    ``AWS_DEFAULT_REGION``, else "" (TK asks boto3, which also reads ~/.aws/config; §2.1);
  * the distribution flags are those of the newest TK, including
    ``sagemaker_torch_distributed_enabled``.

Inputs TK would crash on (a non-string ``sagemaker_job_name``/``sagemaker_region``, names that
cannot be environment variable names) raise ``UnsupportedInput`` here: there is nothing to be
byte-for-byte equal to.
"""

import json
import os
import shutil

# --- contract §2.3 "Split" (TK params.SAGEMAKER_HYPERPARAMETERS) --------------------------------
# Reserved hyperparameters: removed from the user hyperparameters and NOT framework params.
RESERVED_HYPERPARAMETERS = frozenset({
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "default_user_module_name",
    "_tuning_objective_metric",
    "sagemaker_s3_output",
})
SAGEMAKER_PREFIX = "sagemaker_"  # every key with this (case-sensitive) prefix leaves the user hps

# --- contract §2.3 "Distribution" -------------------------------------------------------------
# Any of these framework params being truthy (Python bool()) puts the current instance group into
# distribution_instance_groups, unless sagemaker_distribution_instance_groups is given.
DISTRIBUTION_FLAGS = (
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
    "sagemaker_torch_distributed_enabled",
)
DISTRIBUTION_GROUPS_PARAM = "sagemaker_distribution_instance_groups"

# Defaults for keys missing from resourceconfig.json (contract §2.3, §2.4).
DEFAULT_INSTANCE_TYPE = "local"
DEFAULT_GROUP_NAME = "homogeneousCluster"
DEFAULT_INTERFACE = "eth0"
DEFAULT_LOG_LEVEL = 20  # logging.INFO

# The variables TK writes into os.environ itself (contract §2.1 step 1), besides SM_*.
PLAIN_VARS = ("CURRENT_HOST", "SAGEMAKER_JOB_NAME", "SAGEMAKER_REGION")


class UnsupportedInput(ValueError):
    """An input on which TK itself raises, so there is no expected environment."""


def _load(doc):
    """A config document: JSON text (str/bytes, parsed like TK's json.load) or an already
    parsed object. Parsing here keeps Python's dict semantics for duplicate member names: the
    first occurrence's position, the last occurrence's value."""
    if isinstance(doc, (str, bytes, bytearray)):
        return json.loads(doc)
    return doc


# --- contract §2.3 first bullet: each hyperparameter value is json.loads-ed ---------------------
def decode_hyperparameters(raw):
    """{key: json.loads(value)}, keeping the raw value where json.loads fails.

    json.loads raises ValueError (JSONDecodeError) for text that is not one JSON document --
    "hello world", "True", "010", "+1", "1.", "" -- and TypeError for values that are not text
    at all (a number or list written directly into hyperparameters.json); both keep the value
    as it is. Note Python's extensions: "NaN", "Infinity", "-Infinity" decode to floats, and
    surrounding JSON whitespace is allowed (" 7 " -> 7)."""
    decoded = {}
    for key, value in raw.items():
        try:
            value = json.loads(value)
        except (ValueError, TypeError):
            pass
        decoded[key] = value
    return decoded


def split_hyperparameters(decoded):
    """(user hyperparameters, sagemaker hyperparameters, additional framework parameters).

    Contract §2.3 "Split": a key is a sagemaker one if it is in the reserved set or starts with
    "sagemaker_" (so "_tuning_objective_metric" and "default_user_module_name" are removed too,
    while "Sagemaker_x" stays a user hyperparameter). Framework params are the sagemaker ones
    not in the reserved set. Dict order (= file order) is kept everywhere."""
    sagemaker = {k: v for k, v in decoded.items()
                 if k in RESERVED_HYPERPARAMETERS or k.startswith(SAGEMAKER_PREFIX)}
    user = {k: v for k, v in decoded.items() if k not in sagemaker}
    framework = {k: v for k, v in sagemaker.items() if k not in RESERVED_HYPERPARAMETERS}
    return user, sagemaker, framework


# --- contract §2.3 "Env name" / "Env value" --------------------------------------------------
def env_name(key):
    """"SM_" + str(key).upper(): Python's full Unicode upper-casing, no sanitising at all
    ("learning-rate" -> SM_..._LEARNING-RATE, "x y" -> "X Y", "ß" -> "SS")."""
    name = "SM_%s" % str(key).upper()
    if "=" in name or "\0" in name:
        raise UnsupportedInput(f"{name!r} cannot be an environment variable name (TK fails)")
    return name


def env_value(value):
    """str as it is; None -> ""; anything else compact, key-sorted, ASCII-only JSON.

    json.dumps writes floats with Python's repr (1e-05, 1000.0, 1e+16), non-finite floats as
    NaN/Infinity/-Infinity, integers of any size exactly, and non-ASCII characters as \\uXXXX
    (surrogate pairs above the BMP)."""
    if isinstance(value, bytes):  # not reachable from JSON input; kept for completeness
        return value.decode("latin1")
    if value is None:
        return ""
    if isinstance(value, str):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def to_env_vars(mapping):
    """{"SM_" + KEY.upper(): env_value(v)}; on a name collision the later entry wins, as in
    the dict comprehension TK uses (so for hyperparameters: the later key in file order)."""
    out = {}
    for key, value in mapping.items():
        if not key:  # TK maps an empty key to the name "" (unreachable: keys carry a prefix)
            raise UnsupportedInput("empty variable name")
        out[env_name(key)] = env_value(value)
    if "" in out or any(not isinstance(v, str) for v in out.values()):
        raise UnsupportedInput("not representable as an environment")
    return out


# --- contract §2.3 "CLI args" (SM_USER_ARGS) ----------------------------------------------------
def _arg_text(value):
    """A value as TK's _decode writes it: None -> "", else str(value) -- Python's own text,
    so True, 1e-05, nan, inf, ['a', 'b'] (repr of the elements), {'k': 1}."""
    if value is None:
        return ""
    return str(value)


def to_cmd_args(hyperparameters):
    """The user hyperparameters as argv: keys sorted by code point; "--key", or "-k" for a
    one-character key ("" for an empty key); dict values become "k=v,k2=v2" over the sorted
    items with "%s" (str()) of each value -- so a None inside a dict is "None", not "" --
    everything else str(), None -> ""."""
    args = []
    for key in sorted(hyperparameters):
        name = _arg_text(key)
        if name:
            name = ("--%s" if len(name) > 1 else "-%s") % name
        value = hyperparameters[key]
        if hasattr(value, "items"):
            text = ",".join("%s=%s" % (k, v) for k, v in sorted(value.items()))
        else:
            text = _arg_text(value)
        args += [name, text]
    return args


def _on_path(program, env):
    """Whether `which program` succeeds with the child's PATH (TK: validate_smddprun)."""
    path = env.get("PATH")
    if path is None:
        return False
    return shutil.which(program, path=path) is not None


def training_environment(ml_root, hyperparameters, resourceconfig, inputdataconfig, env,
                         num_cpus, num_gpus=0):
    """The 37 properties of TK's Environment (contract §2.4, SM_TRAINING_ENV), as a dict,
    plus the private values needed for the exports (returned under keys starting with "_")."""
    join = os.path.join
    root = str(ml_root)
    code_dir = join(root, "code")
    input_dir = join(root, "input")
    output_dir = join(root, "output")

    rc = _load(resourceconfig)
    idc = _load(inputdataconfig)
    decoded = decode_hyperparameters(_load(hyperparameters))
    user_hps, sm_hps, framework = split_hyperparameters(decoded)

    # resourceconfig.json (contract §1.3; defaults §2.3). hosts/current_host are required.
    hosts = rc["hosts"]
    current_host = rc["current_host"]
    instance_type = rc.get("current_instance_type", DEFAULT_INSTANCE_TYPE)
    if not isinstance(instance_type, str):  # TK tests `"trn2.48xlarge" in instance_type`
        raise UnsupportedInput(f"current_instance_type {instance_type!r} (TK fails)")
    group = rc.get("current_group_name", DEFAULT_GROUP_NAME)
    interface = rc.get("network_interface_name", DEFAULT_INTERFACE)
    topology = rc.get("topology", [])  # present-but-null stays None (exported as null)

    # Instance groups (contract §2.3 "Distribution", §2.4). Group hosts keep file order.
    groups_cfg = rc.get("instance_groups", [])
    instance_groups = [g["instance_group_name"] for g in groups_cfg]
    instance_groups_dict = {g["instance_group_name"]: g for g in groups_cfg}  # later wins
    group_hosts = next((g["hosts"] for g in groups_cfg if g["instance_group_name"] == group), [])

    if DISTRIBUTION_GROUPS_PARAM in framework:  # given explicitly: used as decoded, any type
        dist_groups = framework[DISTRIBUTION_GROUPS_PARAM]
    elif any(framework.get(flag, False) for flag in DISTRIBUTION_FLAGS):  # Python truthiness
        dist_groups = [group]
    else:
        dist_groups = []
    if groups_cfg:
        # Membership is Python's `in`: list equality, but a substring test if the explicit
        # value decoded to a string -- TK's behaviour, reproduced on purpose.
        dist_hosts = [h for g in groups_cfg if g["instance_group_name"] in dist_groups
                      for h in g["hosts"]]
    else:  # no (or an empty) instance_groups: every host takes part
        dist_hosts = list(hosts)
    master = dist_hosts[0] if dist_hosts else list(hosts)[0]

    # Entry point (contract §2.2): env SAGEMAKER_PROGRAM wins over hp sagemaker_program, even
    # when it is empty ("" is not None); module_name is str() of the hp, so "None" if absent.
    program_env = env.get("SAGEMAKER_PROGRAM")
    module_name = program_env if program_env is not None else str(
        sm_hps.get("sagemaker_program", None))
    user_entry_point = program_env or sm_hps.get("sagemaker_program")
    if module_name and module_name.endswith(".py"):
        module_name = module_name[:-3]

    # SM_HP_MP_PARAMETERS from the *incoming* environment: `mp and mp != "{}"` -> None when
    # unset, "" when empty, else a bool (contract §2.2).
    mp = env.get("SM_HP_MP_PARAMETERS")
    modelparallel = mp and mp != "{}"

    props = {
        "additional_framework_parameters": framework,
        "channel_input_dirs": {c: join(input_dir, "data", c) for c in idc},
        "current_host": current_host,
        "current_instance_group": group,
        "current_instance_group_hosts": group_hosts,
        "current_instance_type": instance_type,
        "distribution_hosts": dist_hosts,
        "distribution_instance_groups": dist_groups,
        "framework_module": env.get("SAGEMAKER_TRAINING_MODULE"),
        "hosts": hosts,
        "hyperparameters": user_hps,
        "input_config_dir": join(input_dir, "config"),
        "input_data_config": idc,
        "input_dir": input_dir,
        "instance_groups": instance_groups,
        "instance_groups_dict": instance_groups_dict,
        "is_hetero": len(instance_groups) > 1,
        "is_master": current_host == master,
        "is_modelparallel_enabled": modelparallel,
        "is_smddpmprun_installed": _on_path("smddpmprun", env),
        "is_smddprun_installed": _on_path("smddprun", env),
        "job_name": env.get("TRAINING_JOB_NAME"),
        # hp as decoded ("10" -> 10; "\"10\"" -> "10"); env SAGEMAKER_CONTAINER_LOG_LEVEL ignored
        "log_level": sm_hps.get("sagemaker_container_log_level", DEFAULT_LOG_LEVEL),
        "master_hostname": master,
        "model_dir": join(root, "model"),
        # str() of the decoded hp; env SAGEMAKER_SUBMIT_DIRECTORY is ignored (contract §2.2)
        "module_dir": str(sm_hps.get("sagemaker_submit_directory", code_dir)),
        "module_name": module_name,
        "network_interface_name": interface,
        "num_cpus": num_cpus,
        "num_gpus": num_gpus,
        "num_neurons": 64 if isinstance(instance_type, str) and "trn2.48xlarge" in instance_type else 0,
        "output_data_dir": join(output_dir, "data"),
        "output_dir": output_dir,
        "output_intermediate_dir": join(output_dir, "intermediate"),
        "resource_config": rc,
        "topology": topology,
        "user_entry_point": user_entry_point,
    }
    assert len(props) == 37
    props["_sagemaker_hps"] = sm_hps
    return props


def expected_env(ml_root, hyperparameters, resourceconfig, inputdataconfig, env, num_cpus,
                 num_gpus=0):
    """Every variable named SM_* plus CURRENT_HOST, SAGEMAKER_JOB_NAME and SAGEMAKER_REGION in
    the child's environment when TK would launch it with the incoming environment `env`.

    The three config documents are JSON text (as in the files) or parsed objects. SM_* variables
    already in `env` are inherited unless TK overwrites them (TK's child gets all of os.environ,
    contract §2.1 step 4)."""
    props = training_environment(ml_root, hyperparameters, resourceconfig, inputdataconfig, env,
                                 num_cpus, num_gpus)
    sm_hps = props.pop("_sagemaker_hps")

    # Contract §2.4, in TK's to_env_vars order (it only matters for name collisions: fixed
    # names first, then topology, channels, hyperparameters).
    mapping = {
        "hosts": props["hosts"],
        "network_interface_name": props["network_interface_name"],
        "hps": props["hyperparameters"],
        "user_entry_point": props["user_entry_point"],
        "framework_params": props["additional_framework_parameters"],
        "resource_config": props["resource_config"],
        "input_data_config": props["input_data_config"],
        "output_data_dir": props["output_data_dir"],
        "channels": sorted(props["channel_input_dirs"]),
        "current_host": props["current_host"],
        "current_instance_type": props["current_instance_type"],
        "current_instance_group": props["current_instance_group"],
        "current_instance_group_hosts": props["current_instance_group_hosts"],
        "instance_groups": props["instance_groups"],
        "instance_groups_dict": props["instance_groups_dict"],
        "distribution_instance_groups": props["distribution_instance_groups"],
        "is_hetero": props["is_hetero"],
        "module_name": props["module_name"],
        "log_level": props["log_level"],
        "framework_module": props["framework_module"],
        "input_dir": props["input_dir"],
        "input_config_dir": props["input_config_dir"],
        "output_dir": props["output_dir"],
        "num_cpus": props["num_cpus"],
        "num_gpus": props["num_gpus"],
        "num_neurons": props["num_neurons"],
        "model_dir": props["model_dir"],
        "module_dir": props["module_dir"],
        "training_env": props,  # all 37 properties, key-sorted JSON
        "user_args": to_cmd_args(props["hyperparameters"]),
        "output_intermediate_dir": props["output_intermediate_dir"],
    }
    if props["topology"]:  # SM_TOPOLOGY only when non-empty (null and [] give none)
        mapping["topology"] = props["topology"]
    for channel, path in props["channel_input_dirs"].items():
        mapping["channel_%s" % channel] = path
    for key, value in props["hyperparameters"].items():
        mapping["hp_%s" % key] = value
    exported = to_env_vars(mapping)

    # Contract §2.1 step 1: written into os.environ by Environment() before the export.
    job_name = sm_hps.get("sagemaker_job_name", "")
    region = sm_hps["sagemaker_region"] if "sagemaker_region" in sm_hps \
        else env.get("AWS_DEFAULT_REGION")
    region = region or ""
    for what, value in (("sagemaker_job_name", job_name), ("sagemaker_region", region),
                        ("current_host", props["current_host"])):
        if not isinstance(value, str):
            raise UnsupportedInput(f"{what} {value!r} is not a string (TK fails)")

    result = {k: v for k, v in env.items() if k.startswith("SM_") or k in PLAIN_VARS}
    result["SAGEMAKER_JOB_NAME"] = job_name
    result["CURRENT_HOST"] = props["current_host"]
    result["SAGEMAKER_REGION"] = region
    result.update(exported)
    return result

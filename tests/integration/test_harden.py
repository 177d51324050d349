# SPDX-License-Identifier: MIT
"""Hardening before exec, seen from the child: capabilities (bounding, effective, permitted,
inheritable, ambient), no_new_privs, seccomp (the built-in profile, OCI/Docker JSON profiles),
user and groups, umask and rlimits, configured by an image config file (PARITY_IMAGE_CONFIG) or
the PARITY_* twins. The child reports what it got with `probe caps` (/proc/self/status) or with
a small Python program that tries the system calls itself. Run as root: parity-init is PID 1 of
a fresh PID namespace (unshare), or of a real runc container at the end."""

import ctypes
import grp
import json
import os
import platform
import pwd
import resource
import shutil
import socket
import struct
import subprocess
import types
import uuid
from pathlib import Path

import pytest

from conftest import is_static_elf

pytestmark = pytest.mark.usefixtures("root_required")

PY = "/usr/bin/python3"
DOCKER_PROFILE = Path("/usr/share/containers/seccomp.json")
BUSYBOX = "/bin/busybox"
RUNC_TIMEOUT = 60
X86_64 = platform.machine() == "x86_64"
needs_x86_64 = pytest.mark.skipif(not X86_64, reason="raw system call numbers are x86_64's")

# Linux capability numbers, as libcap names them (without the cap_ prefix).
CAP_NAMES = [
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
    "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
    "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
    "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
    "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
    "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
]
CAP = {name: bit for bit, name in enumerate(CAP_NAMES)}

# Docker's and runc's default set: what parity-init keeps when the image says nothing.
DEFAULT_CAPS = ("chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid",
                "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
                "audit_write")
DEFAULT_MASK = 0xA80425FB

CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def mask(*names):
    """The capability mask of names ("chown", "CAP_KILL", ...)."""
    bits = 0
    for name in names:
        bits |= 1 << CAP[name.lower().removeprefix("cap_")]
    return bits


def names_of(bits):
    return sorted(CAP_NAMES[b] for b in range(len(CAP_NAMES)) if bits >> b & 1)


def own_status():
    """This test process's /proc/self/status (parity-init inherits its capabilities)."""
    with open("/proc/self/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def own_caps(field="CapPrm"):
    return int(own_status()[field], 16)


def own_cap_names():
    """Every capability this process (and so parity-init) has in its bounding set, CAP_ names."""
    return [f"CAP_{n.upper()}" for n in names_of(own_caps("CapBnd"))]


def parse_caps(result):
    """The JSON line of `probe caps`, with the masks as ints, Uid/Gid as their real id, Groups
    as a set, Umask as an int."""
    assert result.returncode == 0, result
    lines = [line for line in result.out_lines() if line.startswith("{")]
    assert lines, f"the probe printed nothing\n{result}"
    raw = json.loads(lines[-1])
    st = dict(raw)
    for key in CAP_SETS:
        st[key] = int(raw[key], 16)
    st["Uid"] = [int(v) for v in raw["Uid"].split()]
    st["Gid"] = [int(v) for v in raw["Gid"].split()]
    st["Groups"] = {int(v) for v in raw["Groups"].split()}
    st["Umask"] = int(raw["Umask"], 8)
    st["NoNewPrivs"] = int(raw["NoNewPrivs"])
    st["Seccomp"] = int(raw["Seccomp"])
    return st


def init_caps():
    """What parity-init has: a root exec gives it this process's bounding set as permitted,
    effective and bounding set."""
    return own_caps("CapBnd")


def assert_caps(st, keep, ambient=False, have=None):
    """The capability sets parity-init promises for the kept mask `keep` when it has `have`
    (by default init_caps()): keep & have in permitted, effective, inheritable and bounding,
    and in ambient too for a non-root user."""
    kept = keep & (init_caps() if have is None else have)
    got = {k: hex(st[k]) for k in CAP_SETS}
    want = {"CapInh": hex(kept), "CapPrm": hex(kept), "CapEff": hex(kept), "CapBnd": hex(kept),
            "CapAmb": hex(kept if ambient else 0)}
    assert got == want, f"capability sets differ: got {got}, want {want}"


def json_out(result):
    """The last stdout line of a Python child, as JSON."""
    assert result.returncode == 0, result
    assert result.out_lines(), f"no output\n{result}"
    return json.loads(result.out_lines()[-1])


# A Python child's toolbox: err(fn) -> errno of fn() (0 when it worked), sc(nr, ...) -> errno of
# a raw system call (0 when it worked); bytes are passed as pointers, ints as longs.
PRELUDE = r"""
import ctypes, json, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def err(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno
def sc(nr, *args):
    conv = [ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *conv)
    return ctypes.get_errno() if r == -1 else 0
out = {}
"""


def py(body):
    """A Python child running body after PRELUDE and printing `out` as one JSON line."""
    return [PY, "-c", PRELUDE + body + "\nprint(json.dumps(out))\n"]


@pytest.fixture
def harden(run_init, tmp_path):
    """Factory: harden(config=None, env=None, command=None, probe_args=("caps",), ...) -> Result.
    config (a dict, or text) is written to a file named by PARITY_IMAGE_CONFIG."""
    count = [0]

    def factory(config=None, env=None, command=None, probe_args=("caps",), **kwargs):
        env = dict(env or {})
        if config is not None:
            count[0] += 1
            path = tmp_path / f"image-{count[0]}.json"
            path.write_text(config if isinstance(config, str) else json.dumps(config))
            env.setdefault("PARITY_IMAGE_CONFIG", str(path))
        return run_init(list(probe_args), env=env, command=command, **kwargs)

    return factory


def fresh_ns(*kinds):
    """A wrapper that puts parity-init in fresh namespaces of kinds ("uts", "net")."""
    return ["unshare", *(f"--{k}" for k in kinds)]


def etc_wrapper(tmp_path, passwd, group):
    """A wrapper that runs parity-init in a mount namespace where /etc/passwd and /etc/group
    are the given texts (the machine's own files stay untouched)."""
    pw, gr = tmp_path / "passwd", tmp_path / "group"
    pw.write_text(passwd)
    gr.write_text(group)
    pw.chmod(0o644)
    gr.chmod(0o644)
    script = ('mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && '
              'exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", pw, gr]


def free_ids(count, taken, start=42000):
    ids, i = [], start
    while len(ids) < count:
        if i not in taken:
            ids.append(i)
        i += 1
    return ids


@pytest.fixture(scope="module")
def test_user(root_required):
    """A user in the machine's /etc (useradd) with a primary group of its own and two
    supplementary groups; removed afterwards."""
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        pytest.skip("useradd/groupadd (passwd package) are not installed")
    tag = f"{os.getpid() % 100000}"
    uid, = free_ids(1, {p.pw_uid for p in pwd.getpwall()})
    gid, sup_a, sup_b = free_ids(3, {g.gr_gid for g in grp.getgrall()} | {uid}, start=uid)
    user = types.SimpleNamespace(
        name=f"phuser{tag}", uid=uid, gid=gid, home=f"/home/phuser{tag}",
        group=f"phprim{tag}", sup=((f"phgrpa{tag}", sup_a), (f"phgrpb{tag}", sup_b)))
    made = []
    try:
        for name, g in ((user.group, gid), *user.sup):
            subprocess.run(["groupadd", "-g", str(g), name], check=True, capture_output=True)
            made.append(("groupdel", name))
        subprocess.run(["useradd", "-u", str(uid), "-g", user.group, "-G",
                        ",".join(n for n, _ in user.sup), "-d", user.home, "-M", "-s",
                        "/usr/sbin/nologin", user.name], check=True, capture_output=True)
        made.append(("userdel", user.name))
        yield user
    finally:
        for cmd, name in reversed(made):
            subprocess.run([cmd, name], capture_output=True)


# --- 1. what the child gets ----------------------------------------------------------------


def test_defaults_keep_the_runtime_set_and_load_the_builtin_profile(harden):
    st = parse_caps(harden())
    assert_caps(st, DEFAULT_MASK)
    if init_caps() & DEFAULT_MASK == DEFAULT_MASK:
        assert st["CapEff"] == st["CapBnd"] == 0xA80425FB, st
    assert st["NoNewPrivs"] == 1, st
    assert st["Seccomp"] == 2, st
    assert st["Uid"] == [0, 0, 0, 0] and st["Gid"] == [0, 0, 0, 0], st


def test_defaults_keep_only_what_parity_init_has(harden):
    """A runtime that gave parity-init less than the default set: the child gets the
    intersection, and nothing fails."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    wrapper = ["setpriv", "--bounding-set", "-chown,-sys_chroot"]
    st = parse_caps(harden(wrapper=wrapper))
    assert_caps(st, DEFAULT_MASK, have=init_caps() & ~mask("chown", "sys_chroot"))
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2, st


@pytest.mark.parametrize("value", ["on", "1", "true"])
def test_harden_on_values_apply_the_defaults(harden, value):
    st = parse_caps(harden(env={"PARITY_HARDEN": value}))
    assert_caps(st, DEFAULT_MASK)
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2, st


@pytest.mark.parametrize("value", ["off", "0", "false"])
def test_harden_off_leaves_the_child_as_parity_init_is(harden, value):
    config = {"user": "nobody", "capabilities": ["CHOWN"], "no_new_privs": True,
              "seccomp": "default", "umask": "0077",
              "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 64, "hard": 64}]}
    env = {"PARITY_HARDEN": value, "PARITY_USER": "daemon", "PARITY_CAPABILITIES": "KILL",
           "PARITY_SECCOMP": "default", "PARITY_UMASK": "0007"}
    st = parse_caps(harden(config=config, env=env))
    own = own_status()
    assert st["CapBnd"] == st["CapPrm"] == st["CapEff"] == init_caps(), st
    assert st["CapInh"] == int(own["CapInh"], 16) and st["CapAmb"] == 0, st
    assert st["NoNewPrivs"] == 0 and st["Seccomp"] == 0, st
    assert st["Uid"] == [0, 0, 0, 0] and st["Gid"] == [0, 0, 0, 0], st
    assert st["Umask"] == int(own["Umask"], 8), st
    assert st["HOME"] is None, st
    r = harden(config=config, env=env, command=[PY, "-c", "import resource; print("
                                                "resource.getrlimit(resource.RLIMIT_NOFILE))"])
    assert r.returncode == 0, r
    assert r.out_lines() == [str(resource.getrlimit(resource.RLIMIT_NOFILE))], r


EXPLICIT_CAPS = {
    "json-list": ({"capabilities": ["CAP_CHOWN", "kill", "Net_Bind_Service"]}, {}),
    "json-string": ({"capabilities": "chown,CAP_KILL,NET_BIND_SERVICE"}, {}),
    "env": (None, {"PARITY_CAPABILITIES": "chown,CAP_KILL,net_bind_service"}),
    "env-empty-items": (None, {"PARITY_CAPABILITIES": "CAP_CHOWN,,KILL,NET_BIND_SERVICE,"}),
    "env-wins-over-file": ({"capabilities": ["SYS_ADMIN", "SYS_PTRACE"]},
                           {"PARITY_CAPABILITIES": "cap_chown,cap_kill,cap_net_bind_service"}),
}


@pytest.mark.parametrize("case", EXPLICIT_CAPS)
def test_explicit_capabilities_are_exactly_what_is_kept(harden, case):
    config, env = EXPLICIT_CAPS[case]
    st = parse_caps(harden(config=config, env=env))
    assert_caps(st, mask("chown", "kill", "net_bind_service"))
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2, st


def test_explicit_capabilities_outside_the_default_set(harden):
    st = parse_caps(harden(config={"capabilities": ["SYS_ADMIN", "sys_ptrace", "CAP_KILL"]}))
    assert_caps(st, mask("sys_admin", "sys_ptrace", "kill"))


def test_empty_capability_list_drops_everything(harden):
    st = parse_caps(harden(config={"capabilities": []}))
    assert_caps(st, 0)
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2 and st["Uid"][0] == 0, st


@pytest.mark.parametrize("how", ["file", "env"])
def test_no_new_privs_off_with_seccomp_unconfined_and_all_capabilities(harden, how):
    caps = own_cap_names()
    if how == "file":
        st = parse_caps(harden(config={"no_new_privs": False, "seccomp": "unconfined",
                                       "capabilities": caps}))
    else:
        st = parse_caps(harden(env={"PARITY_NO_NEW_PRIVS": "false", "PARITY_SECCOMP": "unconfined",
                                    "PARITY_CAPABILITIES": ",".join(caps)}))
    assert_caps(st, init_caps())
    assert st["NoNewPrivs"] == 0, st
    assert st["Seccomp"] == 0, st


def test_no_new_privs_can_be_forced_on_when_nothing_is_dropped(harden):
    st = parse_caps(harden(config={"no_new_privs": True, "seccomp": "unconfined",
                                   "capabilities": own_cap_names()}))
    assert_caps(st, init_caps())
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 0, st


def test_seccomp_unconfined_keeps_no_new_privs_by_default(harden):
    st = parse_caps(harden(env={"PARITY_SECCOMP": "unconfined"}))
    assert st["Seccomp"] == 0 and st["NoNewPrivs"] == 1, st
    assert_caps(st, DEFAULT_MASK)


@pytest.mark.parametrize("how", ["file", "env"])
def test_no_new_privs_off_with_the_default_profile(harden, tmp_path, how):
    """Either applied (no_new_privs 0 under the filter) or refused up front, never a config
    that is accepted and then fails in the child."""
    marker = tmp_path / "child-ran"
    config, env = ({"no_new_privs": False}, {}) if how == "file" else \
        (None, {"PARITY_NO_NEW_PRIVS": "0"})
    r = harden(config=config, env=env, command=["/usr/bin/touch", str(marker)])
    if r.returncode == 125:
        assert not any("exit_code" in rec["fields"] for rec in r.logs()), \
            f"accepted, then the child failed\n{r}"
        assert "no_new_privs" in r.err, r
        return
    assert r.returncode == 0 and marker.exists(), r
    st = parse_caps(harden(config=config, env=env))
    assert st["NoNewPrivs"] == 0, st
    assert st["Seccomp"] == 2, st
    assert_caps(st, DEFAULT_MASK)


def test_user_by_name_gets_its_groups_home_and_ambient_capabilities(harden, test_user):
    st = parse_caps(harden(config={"user": test_user.name}))
    u = test_user
    assert st["Uid"] == [u.uid] * 4, st
    assert st["Gid"] == [u.gid] * 4, st
    assert st["Groups"] == {u.gid, *(g for _, g in u.sup)}, st
    assert st["HOME"] == u.home, st
    assert_caps(st, DEFAULT_MASK, ambient=True)
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2, st


@pytest.mark.parametrize("spec", ["uid", "name:group", "uid:gid", "name:gid", "env"])
def test_user_spec_forms(harden, test_user, spec):
    u = test_user
    sup_a = u.sup[0]
    config, env, gid = {
        "uid": ({"user": str(u.uid)}, {}, u.gid),
        "name:group": ({"user": f"{u.name}:{sup_a[0]}"}, {}, sup_a[1]),
        "uid:gid": ({"user": f"{u.uid}:{sup_a[1]}"}, {}, sup_a[1]),
        "name:gid": ({"user": f"{u.name}:{u.gid}"}, {}, u.gid),
        "env": ({"user": "nobody"}, {"PARITY_USER": u.name}, u.gid),
    }[spec]
    st = parse_caps(harden(config=config, env=env))
    assert st["Uid"] == [u.uid] * 4, st
    assert st["Gid"] == [gid] * 4, st
    # The primary group, then every group that lists the user.
    assert st["Groups"] == {gid, *(g for _, g in u.sup)}, st
    assert st["HOME"] == u.home, st


def test_user_existing_system_accounts(harden):
    daemon, nobody = pwd.getpwnam("daemon"), pwd.getpwnam("nobody")
    st = parse_caps(harden(env={"PARITY_USER": "daemon"}))
    assert st["Uid"] == [daemon.pw_uid] * 4 and st["Gid"] == [daemon.pw_gid] * 4, st
    assert st["HOME"] == daemon.pw_dir, st
    st = parse_caps(harden(env={"PARITY_USER": f"nobody:{grp.getgrgid(daemon.pw_gid).gr_name}"}))
    assert st["Uid"] == [nobody.pw_uid] * 4 and st["Gid"] == [daemon.pw_gid] * 4, st
    assert st["HOME"] == nobody.pw_dir, st


def test_bare_uid_and_gid_not_in_passwd(harden):
    taken_u = {p.pw_uid for p in pwd.getpwall()}
    taken_g = {g.gr_gid for g in grp.getgrall()}
    uid, = free_ids(1, taken_u, start=47000)
    gid, = free_ids(1, taken_g, start=47100)
    st = parse_caps(harden(env={"PARITY_USER": f"{uid}:{gid}"}))
    assert st["Uid"] == [uid] * 4 and st["Gid"] == [gid] * 4, st
    assert st["Groups"] == {gid}, st
    assert st["HOME"] == "/", st
    st = parse_caps(harden(env={"PARITY_USER": str(uid)}))
    assert st["Uid"] == [uid] * 4 and st["Gid"] == [0] * 4, st  # Docker's gid 0 for a bare uid


def test_non_root_user_keeps_a_listed_capability_in_the_ambient_set(harden):
    st = parse_caps(harden(config={"user": "nobody", "capabilities": ["NET_BIND_SERVICE"]}))
    bit = mask("net_bind_service")
    assert st["Uid"][0] == pwd.getpwnam("nobody").pw_uid, st
    assert_caps(st, bit, ambient=True)


def test_non_root_user_ambient_skips_capabilities_parity_init_lacks(harden):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    r = harden(config={"user": "nobody", "capabilities": ["CHOWN", "KILL"]},
               wrapper=["setpriv", "--bounding-set", "-chown"])
    st = parse_caps(r)
    assert_caps(st, mask("chown", "kill"), ambient=True, have=init_caps() & ~mask("chown"))


def test_non_root_user_without_capabilities(harden):
    st = parse_caps(harden(config={"user": "nobody", "capabilities": []}))
    assert st["Uid"][0] == pwd.getpwnam("nobody").pw_uid, st
    assert_caps(st, 0)
    assert st["NoNewPrivs"] == 1, st


def test_root_user_with_another_group_gets_no_ambient_set(harden):
    daemon_gid = pwd.getpwnam("daemon").pw_gid
    st = parse_caps(harden(env={"PARITY_USER": f"0:{daemon_gid}"}))
    assert st["Uid"] == [0] * 4 and st["Gid"] == [daemon_gid] * 4, st
    assert_caps(st, DEFAULT_MASK)


def test_short_passwd_and_group_lines(harden, tmp_path):
    passwd = ("root:x:0:0:root:/root:/bin/sh\n"
              "before:x:4599:4599::/home/before-line:/bin/sh\n"
              "shortuser:x:4600:4600\n")
    group = "root:x:0:\ncrew:x:4610:shortuser\nsolo:x:4611\n"
    r = harden(env={"PARITY_USER": "shortuser"}, wrapper=etc_wrapper(tmp_path, passwd, group))
    st = parse_caps(r)
    assert st["Uid"] == [4600] * 4 and st["Gid"] == [4600] * 4, st
    assert st["Groups"] == {4600, 4610}, st
    assert st["HOME"] == "/", st


def test_users_and_groups_come_from_etc(harden, tmp_path):
    """/etc/passwd and /etc/group are read at start: a user only they know works."""
    passwd = ("root:x:0:0:root:/root:/bin/sh\n"
              "parity-trainer:x:4700:4701:Trainer:/srv/trainer:/bin/sh\n")
    group = ("root:x:0:\nparity-main:x:4701:\nparity-data:x:4702:someone,parity-trainer\n"
             "parity-other:x:4703:someone\nparity-gpu:x:4704:parity-trainer\n")
    r = harden(env={"PARITY_USER": "parity-trainer"}, wrapper=etc_wrapper(tmp_path, passwd, group))
    st = parse_caps(r)
    assert st["Uid"] == [4700] * 4 and st["Gid"] == [4701] * 4, st
    assert st["Groups"] == {4701, 4702, 4704}, st
    assert st["HOME"] == "/srv/trainer", st


UMASKS = {
    "file-string": ({"umask": "0027"}, {}, 0o027),
    "file-number-as-octal-digits": ({"umask": 77}, {}, 0o077),
    "file-zero": ({"umask": "0"}, {}, 0),
    "env": (None, {"PARITY_UMASK": "0007"}, 0o007),
    "env-wins-over-file": ({"umask": "0077"}, {"PARITY_UMASK": "022"}, 0o022),
}


@pytest.mark.parametrize("case", UMASKS)
def test_umask(harden, case):
    config, env, want = UMASKS[case]
    st = parse_caps(harden(config=config, env=env))
    assert st["Umask"] == want, st
    r = harden(config=config, env=env, command=py("out['umask'] = os.umask(0)"))
    assert json_out(r)["umask"] == want, r


def test_umask_is_inherited_when_not_set(harden):
    st = parse_caps(harden())
    assert st["Umask"] == int(own_status()["Umask"], 8), st


def test_rlimits(harden):
    soft_core, hard_core = resource.getrlimit(resource.RLIMIT_CORE)
    rlimits = [{"type": "RLIMIT_NOFILE", "soft": 200, "hard": 300},
               {"type": "RLIMIT_FSIZE", "soft": 1 << 30, "hard": 1 << 31}]
    want = {"nofile": [200, 300], "fsize": [1 << 30, 1 << 31]}
    if hard_core == resource.RLIM_INFINITY:
        rlimits.append({"type": "RLIMIT_CORE", "soft": 0, "hard": "unlimited"})
        want["core"] = [0, resource.RLIM_INFINITY]
    body = ("import resource\n"
            "for k in ('nofile', 'fsize', 'core'):\n"
            "    out[k] = resource.getrlimit(getattr(resource, 'RLIMIT_' + k.upper()))\n")
    got = json_out(harden(config={"rlimits": rlimits}, command=py(body)))
    for key, value in want.items():
        assert got[key] == value, (key, got)
    if "core" not in want:
        assert got["core"] == [soft_core, hard_core], got


def test_rlimits_apply_to_a_non_root_user(harden):
    body = "import resource\nout['nofile'] = resource.getrlimit(resource.RLIMIT_NOFILE)\n" \
           "out['uid'] = os.getuid()\n"
    got = json_out(harden(config={"user": "nobody", "rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": 128, "hard": 256}]}, command=py(body)))
    assert got == {"nofile": [128, 256], "uid": pwd.getpwnam("nobody").pw_uid}, got


@pytest.mark.parametrize("step, config, dropped, reason", [
    ("rlimit", {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 16,
                             "hard": resource.getrlimit(resource.RLIMIT_NOFILE)[1] + 1}]},
     "sys_resource", "setting rlimits"),
    ("user", {"user": "nobody"}, "setuid", "switching user"),
])
def test_a_step_failing_in_the_child_exits_125(harden, tmp_path, step, config, dropped, reason):
    """parity-init without the privilege a step needs (raising a hard limit, setuid): the
    child exits 125 before exec, and the log and termination log name the step."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] == resource.RLIM_INFINITY:
        pytest.skip("RLIMIT_NOFILE has no hard limit to raise")
    marker = tmp_path / "child-ran"
    r = harden(config=config, env={"PARITY_TERMINATION_LOG": str(tmp_path / "termination-log")},
               command=["/usr/bin/touch", str(marker)],
               wrapper=["setpriv", "--bounding-set", f"-{dropped}"])
    assert r.returncode == 125, r
    assert not marker.exists(), r
    errors = [rec for rec in r.logs() if rec["level"] == "error"]
    assert errors and errors[0]["phase"] == "harden" and reason in errors[0]["raw"], r
    assert "Operation not permitted" in errors[0]["raw"], r
    assert reason in (tmp_path / "termination-log").read_text()


# --- 2. denied actions ---------------------------------------------------------------------

MKDIR_PROFILE = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}


@pytest.mark.parametrize("how", ["inline", "file-path", "env-path"])
def test_profile_errno_is_what_the_call_returns(harden, tmp_path, how):
    target = tmp_path / "made-by-child"
    body = f"out['mkdir'] = err(lambda: os.mkdir({str(target)!r}))\n" \
           f"out['open'] = err(lambda: open({str(tmp_path / 'file')!r}, 'w').close())\n"
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(MKDIR_PROFILE))
    config, env = {
        "inline": ({"seccomp": MKDIR_PROFILE}, {}),
        "file-path": ({"seccomp": str(profile)}, {}),
        "env-path": (None, {"PARITY_SECCOMP": str(profile)}),
    }[how]
    got = json_out(harden(config=config, env=env, command=py(body)))
    assert got == {"mkdir": 13, "open": 0}, got
    assert not target.exists()
    assert (tmp_path / "file").exists()
    # Without the profile the same child makes the directory.
    got = json_out(harden(command=py(body)))
    assert got == {"mkdir": 0, "open": 0}, got
    assert target.is_dir()


def test_profile_errno_by_name(harden, tmp_path):
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errno": "EROFS"}]}
    got = json_out(harden(config={"seccomp": profile}, command=py(
        f"out['mkdir'] = err(lambda: os.mkdir({str(tmp_path / 'd')!r}))")))
    assert got == {"mkdir": 30}, got


@needs_x86_64
def test_profile_errno_is_seccomp_not_the_kernel(harden):
    """sethostname with CAP_SYS_ADMIN kept, in a UTS namespace of its own: unconfined it works;
    the built-in profile answers EPERM, a custom one its own errno."""
    body = ("out['sethostname'] = sc(170, b'parity-test', 11)\n"
            "out['mount'] = sc(165, 0, 0, 0, 0, 0)\n")
    caps = ["SYS_ADMIN", *DEFAULT_CAPS]
    custom = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["sethostname", "mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
    runs = {
        "unconfined": {"capabilities": caps, "seccomp": "unconfined"},
        "default": {"capabilities": caps},
        "custom": {"capabilities": caps, "seccomp": custom},
    }
    got = {name: json_out(harden(config=config, command=py(body), wrapper=fresh_ns("uts")))
           for name, config in runs.items()}
    assert got["unconfined"] == {"sethostname": 0, "mount": 14}, got  # EFAULT: null arguments
    assert got["default"] == {"sethostname": 1, "mount": 1}, got
    assert got["custom"] == {"sethostname": 38, "mount": 38}, got


# System calls the built-in profile refuses, with arguments that do nothing harmful when they
# are allowed (bad pointers, missing files, bad magic, a fresh UTS namespace).
BUILTIN_DENIED = {
    "mount": (165, 0, 0, 0, 0, 0), "umount2": (166, b"/parity-no-such-dir", 0),
    "swapon": (167, b"/parity-no-such-file", 0), "swapoff": (168, b"/parity-no-such-file"),
    "reboot": (169, 0, 0, 0, 0), "sethostname": (170, b"parity-test", 11),
    "setdomainname": (171, b"parity-test", 11), "init_module": (175, 0, 0, b""),
    "delete_module": (176, b"parity_no_such_module", 0o4000), "finit_module": (313, -1, b"", 0),
    "settimeofday": (164, 0, 0), "clock_settime": (227, 0, 0), "clock_adjtime": (305, 0, 0),
    "pivot_root": (155, 0, 0), "syslog": (103, 10, 0, 0), "keyctl": (250, 9999, 0, 0, 0, 0),
    "add_key": (248, 0, 0, 0, 0, 0), "request_key": (249, 0, 0, 0, 0),
    "open_by_handle_at": (304, -1, 0, 0), "userfaultfd": (323, 1), "fsopen": (430, 0, 0),
    "open_tree": (428, -1, 0, 0), "move_mount": (429, -1, 0, -1, 0, 0), "fspick": (433, -1, 0, 0),
    "fsmount": (432, -1, 0, 0), "fsconfig": (431, -1, 0, 0, 0, 0), "quotactl": (179, 0, 0, 0, 0),
    "ioperm": (173, 0, 0, 0), "iopl": (172, 0), "uselib": (134, 0), "ustat": (136, 0, 0),
    "lookup_dcookie": (212, 0, 0, 0),
}


@needs_x86_64
def test_builtin_profile_refuses_its_list_with_eperm(harden):
    body = f"for name, call in {BUILTIN_DENIED!r}.items():\n    out[name] = sc(*call)\n"
    caps = own_cap_names()  # so that the kernel itself would allow every call
    allowed = json_out(harden(config={"capabilities": caps, "seccomp": "unconfined"},
                              command=py(body), wrapper=fresh_ns("uts")))
    denied = json_out(harden(config={"capabilities": caps}, command=py(body),
                             wrapper=fresh_ns("uts")))
    assert {k: v for k, v in allowed.items() if v == 1} == {}, allowed
    assert denied == {name: 1 for name in BUILTIN_DENIED}, denied


@needs_x86_64
def test_builtin_profile_leaves_ordinary_calls_alone(harden, tmp_path):
    body = (f"out['mkdir'] = err(lambda: os.mkdir({str(tmp_path / 'd')!r}))\n"
            "out['getpid'] = sc(39)\nout['uname'] = err(os.uname)\n"
            "out['socket'] = err(lambda: socket.socket().close())\n"
            "out['personality'] = sc(135, 0xffffffff)\n")
    assert json_out(harden(command=py(body))) == {"mkdir": 0, "getpid": 0, "uname": 0,
                                                  "socket": 0, "personality": 0}


@needs_x86_64
def test_builtin_profile_keeps_debuggers_and_profilers_working(harden):
    """ptrace, perf_event_open and unshare are not on the built-in list: they answer as they do
    without a filter (ptrace on a process not traced: ESRCH)."""
    body = ("import struct\n"
            "out['ptrace'] = sc(101, 3, os.getpid(), 0, 0)\n"
            "attr = bytearray(112)\n"
            "struct.pack_into('IIQ', attr, 0, 1, 112, 1)\n"
            "struct.pack_into('Q', attr, 40, 1 | 1 << 5 | 1 << 6)\n"
            "out['perf_event_open'] = sc(298, bytes(attr), 0, -1, -1, 0)\n"
            "out['unshare'] = sc(272, 0x10000000)\n")  # CLONE_NEWUSER
    filtered = json_out(harden(command=py(body)))
    unfiltered = json_out(harden(env={"PARITY_SECCOMP": "unconfined"}, command=py(body)))
    assert filtered == unfiltered, (filtered, unfiltered)
    assert filtered["ptrace"] == 3, filtered
    if perf_works_here():
        assert filtered["perf_event_open"] == 0, filtered


def test_dropped_chown_capability_makes_chown_fail(harden, tmp_path):
    f = tmp_path / "owned"
    f.write_text("")
    body = f"out['chown'] = err(lambda: os.chown({str(f)!r}, 4321, 4321))\n"
    got = json_out(harden(config={"capabilities": ["KILL"], "seccomp": "unconfined"},
                          command=py(body)))
    assert got == {"chown": 1}, got
    assert f.stat().st_uid == 0
    got = json_out(harden(config={"capabilities": ["CHOWN"], "seccomp": "unconfined"},
                          command=py(body)))
    assert got == {"chown": 0}, got
    assert f.stat().st_uid == 4321


BIND_CASES = {
    "root-default-set": ({}, 0),
    "root-without-net-bind-service": ({"capabilities": ["CHOWN", "KILL"]}, 13),
    "user-with-net-bind-service": ({"user": "nobody", "capabilities": ["NET_BIND_SERVICE"]}, 0),
    "user-default-set": ({"user": "nobody"}, 0),
    "user-without-capabilities": ({"user": "nobody", "capabilities": []}, 13),
}


@pytest.mark.parametrize("case", BIND_CASES)
def test_binding_a_privileged_port(harden, case):
    """Port 80 in a network namespace of its own: CAP_NET_BIND_SERVICE decides (EACCES)."""
    config, want = BIND_CASES[case]
    body = ("s = socket.socket()\n"
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "out['bind'] = err(lambda: s.bind(('0.0.0.0', 80)))\n")
    got = json_out(harden(config=config, command=py(body), wrapper=fresh_ns("net")))
    assert got == {"bind": want}, got


# --- 3. includes / excludes, args, actions ---------------------------------------------------

CAP_RULES = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["setpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 16,
     "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_CHOWN"]}},
]}
PRIORITY_BODY = ("out['get'] = err(lambda: os.getpriority(os.PRIO_PROCESS, 0))\n"
                 "out['set'] = err(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1))\n")


@pytest.mark.parametrize("caps, want", [
    (["CHOWN"], {"get": 22, "set": 0}),
    (["CHOWN", "SYS_ADMIN"], {"get": 0, "set": 16}),
    (["SYS_ADMIN"], {"get": 0, "set": 0}),
    ([], {"get": 22, "set": 0}),
], ids=["sys_admin-dropped", "sys_admin-and-chown-kept", "only-sys_admin-kept", "nothing-kept"])
def test_rules_by_kept_capabilities(harden, caps, want):
    got = json_out(harden(config={"capabilities": caps, "seccomp": CAP_RULES},
                          command=py(PRIORITY_BODY)))
    assert got == want, got


def test_includes_and_excludes_follow_the_env_capabilities(harden):
    got = json_out(harden(config={"capabilities": ["SYS_ADMIN", "CHOWN"], "seccomp": CAP_RULES},
                          env={"PARITY_CAPABILITIES": "CHOWN"}, command=py(PRIORITY_BODY)))
    assert got == {"get": 22, "set": 0}, got


def test_rules_by_architecture_and_kernel(harden, tmp_path):
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine())
    if arch is None:
        pytest.skip(f"no Go architecture name for {platform.machine()}")
    other = "s390x" if arch != "s390x" else "ppc64le"
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
    body = f"out['probe'] = err(lambda: os.mkdir({str(tmp_path / 'probe')!r}))\n"
    cases = {
        "includes-this-arch": ({"includes": {"arches": [arch]}}, 38),
        "includes-other-arch": ({"includes": {"arches": [other]}}, 0),
        "excludes-this-arch": ({"excludes": {"arches": [arch]}}, 0),
        "excludes-other-arch": ({"excludes": {"arches": [other]}}, 38),
        "min-kernel-met": ({"includes": {"minKernel": "3.0"}}, 38),
        "min-kernel-future": ({"includes": {"minKernel": "99.0"}}, 0),
    }
    got = {}
    for name, (cond, _) in cases.items():
        profile = {"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{**rule, **cond, "errnoRet": 38}]}
        got[name] = json_out(harden(config={"seccomp": profile}, command=py(body)))["probe"]
        if got[name] == 0:
            (tmp_path / "probe").rmdir()
    assert got == {name: want for name, (_, want) in cases.items()}, got


def test_rule_arguments(harden):
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
         "args": [{"index": 0, "value": int(socket.AF_INET6), "op": "SCMP_CMP_EQ"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 93,
         "args": [{"index": 1, "value": 0xF, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]}]}
    body = ("out['inet'] = err(lambda: socket.socket(socket.AF_INET).close())\n"
            "out['inet6'] = err(lambda: socket.socket(socket.AF_INET6).close())\n"
            "out['udp'] = err(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())\n")
    got = json_out(harden(config={"seccomp": profile}, command=py(body)))
    assert got == {"inet": 0, "inet6": 97, "udp": 93}, got


def test_kill_process_action(harden):
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]}
    r = harden(config={"seccomp": profile},
               command=[PY, "-c", "import os; print('before', flush=True); os.getppid(); "
                                  "print('after', flush=True)"])
    assert r.returncode == 128 + 31, r  # SIGSYS
    assert r.out_lines() == ["before"], r


def test_default_errno_of_an_errno_default_action(harden, tmp_path):
    """A deny-by-default profile: what it allows works, the rest gets defaultErrnoRet. The allow
    list is taken from Docker's profile (every unconditional allow rule), less mkdir."""
    if not DOCKER_PROFILE.exists():
        pytest.skip(f"{DOCKER_PROFILE} is absent (Debian package golang-github-containers-common)")
    allow = set()
    for rule in json.loads(DOCKER_PROFILE.read_text())["syscalls"]:
        if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args"):
            allow.update(rule["names"])
    allow -= {"mkdir", "mkdirat"}
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 39,
               "syscalls": [{"names": sorted(allow), "action": "SCMP_ACT_ALLOW"}]}
    body = (f"out['mkdir'] = err(lambda: os.mkdir({str(tmp_path / 'd')!r}))\n"
            f"out['open'] = err(lambda: open({str(tmp_path / 'f')!r}, 'w').close())\n")
    got = json_out(harden(config={"seccomp": profile}, command=py(body)))
    assert got == {"mkdir": 39, "open": 0}, got


# --- 4. Docker's own profile -----------------------------------------------------------------

WORKLOAD = r"""
import hashlib, subprocess, tempfile, threading
digests = []
def work(i):
    digests.append(hashlib.sha256(b'%d' % i).hexdigest())
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
out['threads'] = len(digests)
echo = subprocess.run(['/bin/echo', 'hi'], capture_output=True, check=True)
out['subprocess'] = echo.stdout.decode()
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, 'f.json')
    with open(path, 'w') as f:
        json.dump({'a': 1}, f)
    with open(path) as f:
        out['file'] = json.load(f)
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen()
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
cli.sendall(b'ping')
out['socket'] = conn.recv(4).decode()
# Refused by the profile: personality with a flag it does not list (its default errno, ENOSYS),
# kcmp without CAP_SYS_PTRACE and perf_event_open without CAP_SYS_ADMIN (EPERM).
out['personality_query'] = sc(135, 0xffffffff)
out['personality_norandom'] = sc(135, 0x0040000)
out['kcmp'] = sc(312, os.getpid(), os.getpid(), 0, 0, 0)
import struct
attr = bytearray(112)
struct.pack_into('IIQ', attr, 0, 1, 112, 1)  # PERF_TYPE_SOFTWARE, size, TASK_CLOCK
struct.pack_into('Q', attr, 40, 1 | 1 << 5 | 1 << 6)  # disabled, exclude_kernel, exclude_hv
out['perf_event_open'] = sc(298, bytes(attr), 0, -1, -1, 0)
"""


def perf_works_here():
    """Whether this kernel lets the test process open a self-monitoring software counter."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    attr = bytearray(112)
    struct.pack_into("IIQ", attr, 0, 1, 112, 1)
    struct.pack_into("Q", attr, 40, 1 | 1 << 5 | 1 << 6)
    fd = libc.syscall(ctypes.c_long(298), ctypes.c_char_p(bytes(attr)), ctypes.c_long(0),
                      ctypes.c_long(-1), ctypes.c_long(-1), ctypes.c_long(0))
    if fd >= 0:
        os.close(fd)
    return fd >= 0


@pytest.fixture
def docker_profile(tmp_path):
    """docker_profile(as_shipped) -> path of containers-common's default profile: the file
    itself, or a copy without the empty "args": [] lists."""
    if not DOCKER_PROFILE.exists():
        pytest.skip(f"{DOCKER_PROFILE} is absent (Debian package golang-github-containers-common)")

    def get(as_shipped):
        if as_shipped:
            return DOCKER_PROFILE
        profile = json.loads(DOCKER_PROFILE.read_text())
        for rule in profile["syscalls"]:
            if rule.get("args") == []:
                del rule["args"]
        path = tmp_path / "docker-default.json"
        path.write_text(json.dumps(profile))
        return path

    return get


@needs_x86_64
@pytest.mark.parametrize("as_shipped", [
    pytest.param(True, id="as-shipped"),
    pytest.param(False, id="without-empty-args"),
])
def test_docker_default_profile_runs_a_normal_workload(harden, docker_profile, as_shipped):
    path = docker_profile(as_shipped)
    r = harden(env={"PARITY_SECCOMP": str(path)}, command=py(WORKLOAD))
    got = json_out(r)
    assert got["threads"] == 4 and got["subprocess"] == "hi\n", got
    assert got["file"] == {"a": 1} and got["socket"] == "ping", got
    assert got["personality_query"] == 0, got  # allowed by its args rule
    assert got["personality_norandom"] == 38, got  # defaultErrnoRet: ENOSYS
    assert got["kcmp"] == 1, got
    if perf_works_here():
        assert got["perf_event_open"] == 1, got
    st = parse_caps(harden(env={"PARITY_SECCOMP": str(path)}))
    assert st["Seccomp"] == 2 and st["NoNewPrivs"] == 1, st


@needs_x86_64
@pytest.mark.parametrize("as_shipped", [
    pytest.param(True, id="as-shipped"),
    pytest.param(False, id="without-empty-args"),
])
def test_docker_default_profile_follows_kept_capabilities(harden, docker_profile, as_shipped):
    """Its CAP_SYS_ADMIN and CAP_SYS_PTRACE rules: allowed when kept, refused when dropped."""
    path = docker_profile(as_shipped)
    body = ("out['sethostname'] = sc(170, b'parity-test', 11)\n"
            "out['kcmp'] = sc(312, os.getpid(), os.getpid(), 0, 0, 0)\n")
    dropped = json_out(harden(env={"PARITY_SECCOMP": str(path)}, command=py(body),
                              wrapper=fresh_ns("uts")))
    kept = json_out(harden(config={"capabilities": ["SYS_ADMIN", "SYS_PTRACE", *DEFAULT_CAPS]},
                           env={"PARITY_SECCOMP": str(path)}, command=py(body),
                           wrapper=fresh_ns("uts")))
    assert dropped == {"sethostname": 1, "kcmp": 1}, dropped
    assert kept == {"sethostname": 0, "kcmp": 0}, kept


# --- 6. bad configuration --------------------------------------------------------------------

BAD_CONFIGS = {
    "capability-unknown-file": ({"capabilities": ["CHOWN", "CAP_FROB"]}, {}, ["capabilities",
                                                                              "CAP_FROB"]),
    "capability-unknown-env": (None, {"PARITY_CAPABILITIES": "chown,bogus"}, ["capabilities",
                                                                              "bogus"]),
    "capability-not-a-list": ({"capabilities": 5}, {}, ["capabilities"]),
    "capability-item-not-a-string": ({"capabilities": ["CHOWN", 3]}, {}, ["capabilities"]),
    "seccomp-unknown-syscall": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid", "frobnicate"], "action": "SCMP_ACT_ERRNO"}]}}, {},
        ["seccomp", "frobnicate"]),
    "seccomp-malformed-file": ({"seccomp": "{tmp}/malformed.json"}, {}, ["seccomp"]),
    "seccomp-malformed-file-env": (None, {"PARITY_SECCOMP": "{tmp}/malformed.json"}, ["seccomp"]),
    "seccomp-missing-file": (None, {"PARITY_SECCOMP": "{tmp}/no-such-profile.json"},
                             ["seccomp", "no-such-profile.json"]),
    "seccomp-not-an-object": ({"seccomp": 42}, {}, ["seccomp"]),
    "seccomp-profile-a-list": (None, {"PARITY_SECCOMP": "{tmp}/list.json"}, ["seccomp"]),
    "seccomp-unknown-action": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid"], "action": "SCMP_ACT_EXPLODE"}]}}, {},
        ["seccomp", "SCMP_ACT_EXPLODE"]),
    "seccomp-unknown-default-action": ({"seccomp": {"defaultAction": "SCMP_ACT_MAYBE"}}, {},
                                       ["seccomp", "SCMP_ACT_MAYBE"]),
    "seccomp-missing-action": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid"]}]}}, {}, ["seccomp", "action"]),
    "seccomp-unknown-operator": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_ROUGHLY"}]}]}}, {},
        ["seccomp", "SCMP_CMP_ROUGHLY"]),
    "seccomp-bad-arg-index": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 9, "value": 10, "op": "SCMP_CMP_EQ"}]}]}}, {}, ["seccomp", "index"]),
    "seccomp-unknown-errno-name": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errno": "EWHATEVER"}]}}, {},
        ["seccomp", "EWHATEVER"]),
    "seccomp-unknown-capability": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid"], "action": "SCMP_ACT_ERRNO",
         "includes": {"caps": ["CAP_TELEPORT"]}}]}}, {}, ["seccomp", "CAP_TELEPORT"]),
    "seccomp-unknown-architecture": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                                                  "architectures": ["SCMP_ARCH_VAX"]}}, {},
                                     ["seccomp", "SCMP_ARCH_VAX"]),
    "seccomp-denies-execve": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid", "execve"], "action": "SCMP_ACT_ERRNO"}]}}, {}, ["seccomp", "execve"]),
    "seccomp-kills-on-execve": ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_KILL_PROCESS"}]}}, {}, ["seccomp", "execve"]),
    "seccomp-default-denies-execve": ({"seccomp": {"defaultAction": "SCMP_ACT_ERRNO",
                                                   "syscalls": [{"names": ["getpid"],
                                                                 "action": "SCMP_ACT_ALLOW"}]}},
                                      {}, ["seccomp", "execve"]),
    "user-unknown": ({"user": "parity-no-such-user"}, {}, ["user", "parity-no-such-user"]),
    "user-unknown-env": (None, {"PARITY_USER": "parity-no-such-user"}, ["user"]),
    "user-unknown-group": ({"user": "nobody:parity-no-such-group"}, {},
                           ["user", "parity-no-such-group"]),
    "user-empty-group": ({"user": "nobody:"}, {}, ["user"]),
    "user-not-a-string": ({"user": 1000}, {}, ["user"]),
    "umask-not-octal": ({"umask": "0999"}, {}, ["umask"]),
    "umask-too-big": ({"umask": "1777"}, {}, ["umask"]),
    "umask-word": (None, {"PARITY_UMASK": "strict"}, ["umask"]),
    "umask-negative": (None, {"PARITY_UMASK": "-1"}, ["umask"]),
    "umask-number-not-octal": ({"umask": 18}, {}, ["umask"]),
    "umask-bool": ({"umask": True}, {}, ["umask"]),
    "no-new-privs-word": (None, {"PARITY_NO_NEW_PRIVS": "maybe"}, ["no_new_privs"]),
    "no-new-privs-number": ({"no_new_privs": 3}, {}, ["no_new_privs"]),
    "rlimit-unknown-type": ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                                         {"type": "RLIMIT_FROB", "soft": 1, "hard": 1}]}, {},
                            ["rlimits", "RLIMIT_FROB"]),
    "rlimit-not-a-list": ({"rlimits": {"RLIMIT_NOFILE": 5}}, {}, ["rlimits"]),
    "rlimit-soft-above-hard": ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}]},
                               {}, ["rlimits"]),
    "rlimit-negative": ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": -1, "hard": 5}]}, {},
                        ["rlimits"]),
    "rlimit-missing-hard": ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 5}]}, {}, ["rlimits"]),
    "rlimit-too-many": ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 5, "hard": 5}] * 17}, {},
                        ["rlimits"]),
    "harden-word": (None, {"PARITY_HARDEN": "perhaps"}, ["PARITY_HARDEN"]),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_config_exits_125_before_the_child_starts(harden, tmp_path, case):
    config, env, needles = BAD_CONFIGS[case]
    (tmp_path / "malformed.json").write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [')
    (tmp_path / "list.json").write_text('[{"defaultAction": "SCMP_ACT_ALLOW"}]')

    def fill(v):
        return v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v

    if config is not None:
        config = {k: fill(v) for k, v in config.items()}
    env = {k: fill(v) for k, v in env.items()}
    env["PARITY_TERMINATION_LOG"] = str(tmp_path / "termination-log")
    marker = tmp_path / "child-ran"
    r = harden(config=config, env=env, command=["/usr/bin/touch", str(marker)])
    assert r.returncode == 125, r
    assert not marker.exists(), f"the child ran\n{r}"
    errors = [rec for rec in r.logs() if rec["level"] == "error"]
    assert errors, f"no error logged\n{r}"
    assert errors[0]["phase"] == "harden", r
    for needle in needles:
        assert needle in errors[0]["raw"], f"{needle!r} not in the error\n{r}"
    assert not any("exit_code" in rec["fields"] for rec in r.logs()), f"a child was reaped\n{r}"
    reason = (tmp_path / "termination-log").read_text()
    assert reason.startswith("parity-init: harden: ") and needles[0] in reason, reason


def test_bad_config_is_not_checked_when_hardening_is_off(harden, tmp_path):
    r = harden(config={"capabilities": ["CAP_FROB"], "user": "parity-no-such-user"},
               env={"PARITY_HARDEN": "off"})
    st = parse_caps(r)
    assert st["Seccomp"] == 0, st


# --- 7. --explain ----------------------------------------------------------------------------


def explain(harden, tmp_path, config=None, env=None):
    marker = tmp_path / "child-ran"
    r = harden(config=config, env=env, opts=["--explain"], command=["/usr/bin/touch", str(marker)])
    assert r.returncode == 0, r
    assert not marker.exists(), f"--explain ran the child\n{r}"
    return json.loads(r.out)["hardening"]


def test_explain_defaults(harden, tmp_path):
    h = explain(harden, tmp_path)
    assert h == {"enabled": True, "capabilities": h["capabilities"], "no_new_privs": True,
                 "seccomp": "built-in default", "rlimits": 0}, h
    assert sorted(c.lower().removeprefix("cap_") for c in h["capabilities"]) == \
        sorted(DEFAULT_CAPS), h


def test_explain_a_full_config(harden, tmp_path):
    config = {"user": "nobody:daemon", "capabilities": ["NET_BIND_SERVICE", "chown"],
              "umask": 77, "no_new_privs": True,
              "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                  {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]},
              "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100},
                          {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]}
    h = explain(harden, tmp_path, config=config)
    umask = h.pop("umask")
    assert umask == 0o77 or (isinstance(umask, str) and int(umask, 8) == 0o77), umask
    caps = sorted(c.lower().removeprefix("cap_") for c in h.pop("capabilities"))
    assert caps == ["chown", "net_bind_service"], caps
    assert h == {"enabled": True, "user": "nobody", "uid": pwd.getpwnam("nobody").pw_uid,
                 "gid": pwd.getpwnam("daemon").pw_gid, "no_new_privs": True,
                 "seccomp": "inline", "rlimits": 2}, h


def test_explain_env_twins(harden, tmp_path):
    h = explain(harden, tmp_path, config={"user": "daemon", "capabilities": ["SYS_ADMIN"]},
                env={"PARITY_USER": "nobody", "PARITY_CAPABILITIES": "kill",
                     "PARITY_NO_NEW_PRIVS": "false", "PARITY_SECCOMP": "unconfined",
                     "PARITY_UMASK": "0027"})
    assert h["user"] == "nobody" and h["uid"] == pwd.getpwnam("nobody").pw_uid, h
    assert [c.lower() for c in h["capabilities"]] == ["cap_kill"], h
    assert h["no_new_privs"] is False and h["seccomp"] == "unconfined", h
    assert h["umask"] == 0o27 or h["umask"] == "0027", h


def test_explain_hardening_off(harden, tmp_path):
    h = explain(harden, tmp_path, config={"user": "nobody"}, env={"PARITY_HARDEN": "off"})
    assert h == {"enabled": False}, h


@pytest.fixture
def short_profile_path():
    """A profile in a file whose path is short (under 64 bytes, unlike tmp_path's)."""
    path = Path(f"/tmp/parity-{uuid.uuid4().hex[:12]}.json")
    path.write_text(json.dumps(MKDIR_PROFILE))
    yield path
    path.unlink()


@pytest.mark.parametrize("source", ["default", "unconfined", "path"])
def test_explain_seccomp_source(harden, tmp_path, short_profile_path, source):
    profile = short_profile_path
    value = str(profile) if source == "path" else source
    want = {"default": "built-in default", "unconfined": "unconfined", "path": str(profile)}
    h = explain(harden, tmp_path, env={"PARITY_SECCOMP": value})
    assert h["seccomp"] == want[source], h


def test_explain_shows_a_long_profile_path_whole(harden, tmp_path):
    d = tmp_path / ("profiles-" + "x" * 40) / "team-defaults"
    d.mkdir(parents=True)
    profile = d / "seccomp-profile.json"
    profile.write_text(json.dumps(MKDIR_PROFILE))
    assert len(str(profile)) > 64
    h = explain(harden, tmp_path, env={"PARITY_SECCOMP": str(profile)})
    assert h["seccomp"] == str(profile), h


def test_explain_with_a_bad_config_exits_125(harden, tmp_path):
    marker = tmp_path / "child-ran"
    r = harden(config={"capabilities": ["CAP_FROB"]}, opts=["--explain"],
               command=["/usr/bin/touch", str(marker)])
    assert r.returncode == 125, r
    assert r.out == "", r
    assert "capabilities" in r.err and not marker.exists(), r


# --- 5. in a real runc container -------------------------------------------------------------


CONTAINER_PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
                    "parity-trainer:x:1234:1234:Trainer:/home/trainer:/bin/sh\n")
CONTAINER_GROUP = ("root:x:0:\nparity-trainer:x:1234:\n"
                   "parity-datasets:x:2345:someone,parity-trainer\nparity-other:x:3456:someone\n")


@pytest.fixture
def hardened_container(spawn, tmp_path, parity_init, probe):
    """Factory: hardened_container(args, image=None, env=(), busybox=False) -> Result of
    `runc run` on a rootfs with the static parity-init and probe, /etc/passwd and /etc/group
    with a user of its own, and image (a dict) as /etc/parity/image.json. The container process
    gets every capability this test has and no_new_privs off, so what is dropped is
    parity-init's doing."""
    runc = shutil.which("runc")
    if runc is None:
        pytest.skip("runc is not installed")
    made = []

    def factory(args, image=None, env=(), busybox=False):
        bundle = tmp_path / f"bundle{len(made)}"
        rootfs = bundle / "rootfs"
        for d in ("proc", "dev", "sys", "tmp", "bin", "etc/parity", "home/trainer"):
            (rootfs / d).mkdir(parents=True)
        for dest, src in (("parity-init", parity_init), ("probe", probe)):
            shutil.copy(src, rootfs / dest)
            os.chmod(rootfs / dest, 0o755)
        if busybox:
            if not os.path.exists(BUSYBOX) or not is_static_elf(BUSYBOX):
                pytest.skip(f"{BUSYBOX} is missing or not static (install busybox-static)")
            shutil.copy(BUSYBOX, rootfs / "bin/busybox")
            for applet in ("sh", "mkdir", "touch", "cat", "id"):
                os.symlink("busybox", rootfs / "bin" / applet)
        (rootfs / "etc/passwd").write_text(CONTAINER_PASSWD)
        (rootfs / "etc/group").write_text(CONTAINER_GROUP)
        if image is not None:
            (rootfs / "etc/parity/image.json").write_text(json.dumps(image))
        subprocess.run([runc, "spec"], cwd=bundle, check=True, timeout=RUNC_TIMEOUT)
        config = json.loads((bundle / "config.json").read_text())
        caps = own_cap_names()
        config["process"].update(
            args=[str(a) for a in args], terminal=False, cwd="/", noNewPrivileges=False,
            env=["PATH=/bin:/", "HOME=/", *env],
            capabilities={"bounding": caps, "effective": caps, "permitted": caps})
        config["root"] = {"path": "rootfs", "readonly": True}
        config["hostname"] = "parity-test"
        (bundle / "config.json").write_text(json.dumps(config, indent=2))
        cid = f"parity-harden-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        state = tmp_path / "runc-state"
        made.append((state, cid))
        proc = spawn([probe, "exec", "--reset", "--", runc, "--root", state, "run", "--bundle",
                      bundle, cid])
        return proc.wait()

    yield factory
    for state, cid in made:
        subprocess.run([runc, "--root", state, "delete", "-f", cid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=RUNC_TIMEOUT)


def test_container_defaults(hardened_container):
    given = parse_caps(hardened_container(["/parity-init", "--", "/probe", "caps"],
                                          env=["PARITY_HARDEN=off"]))
    # What runc handed parity-init: more than the default set, no no_new_privs, no filter.
    assert given["CapBnd"] == own_caps("CapBnd"), given
    assert given["CapBnd"] & ~DEFAULT_MASK, "runc gave no more than the default set"
    assert given["NoNewPrivs"] == 0 and given["Seccomp"] == 0, given
    st = parse_caps(hardened_container(["/parity-init", "--", "/probe", "caps"]))
    assert_caps(st, DEFAULT_MASK, have=given["CapBnd"])
    assert st["CapBnd"] < given["CapBnd"], st
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2, st
    assert st["Uid"] == [0] * 4, st


def test_container_user_from_the_image(hardened_container):
    st = parse_caps(hardened_container(["/parity-init", "--", "/probe", "caps"],
                                       image={"user": "parity-trainer"}))
    assert st["Uid"] == [1234] * 4 and st["Gid"] == [1234] * 4, st
    assert st["Groups"] == {1234, 2345}, st
    assert st["HOME"] == "/home/trainer", st
    assert_caps(st, DEFAULT_MASK, ambient=True)
    assert st["NoNewPrivs"] == 1 and st["Seccomp"] == 2, st


def test_container_image_config_with_env_twins(hardened_container):
    st = parse_caps(hardened_container(
        ["/parity-init", "--", "/probe", "caps"],
        image={"user": "root", "capabilities": ["SYS_ADMIN"], "umask": "0077"},
        env=["PARITY_USER=parity-trainer:parity-datasets", "PARITY_CAPABILITIES=NET_BIND_SERVICE"]))
    bit = mask("net_bind_service")
    assert st["Uid"] == [1234] * 4 and st["Gid"] == [2345] * 4, st
    assert_caps(st, bit, ambient=True)
    assert st["Umask"] == 0o077, st


@pytest.mark.parametrize("image, needles", [
    ({"capabilities": ["CAP_FROB"]}, ["capabilities", "CAP_FROB"]),
    ({"user": "parity-ghost"}, ["user", "parity-ghost"]),
    ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["frobnicate"], "action": "SCMP_ACT_ERRNO"}]}}, ["seccomp", "frobnicate"]),
], ids=["capability", "user", "seccomp"])
def test_container_config_error_exits_125(hardened_container, image, needles):
    r = hardened_container(["/parity-init", "--", "/probe", "caps"], image=image)
    assert r.returncode == 125, r
    assert r.out == "", f"the child ran\n{r}"
    for needle in needles:
        assert needle in r.err, f"{needle!r} not in runc run's stderr\n{r}"


def test_container_seccomp_profile_from_the_image(hardened_container):
    script = "mkdir /dev/shm/denied; echo mkdir=$?; touch /dev/shm/file; echo touch=$?"
    r = hardened_container(["/parity-init", "--", "/bin/sh", "-c", script],
                           image={"seccomp": MKDIR_PROFILE}, busybox=True)
    assert r.returncode == 0, r
    assert r.out_lines() == ["mkdir=1", "touch=0"], r
    assert "Permission denied" in r.err, r
    r = hardened_container(["/parity-init", "--", "/bin/sh", "-c", script], busybox=True)
    assert r.out_lines() == ["mkdir=0", "touch=0"], r

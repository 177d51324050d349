# SPDX-License-Identifier: MIT
"""parity run --target eks against the fake kube-apiserver (tests/servers/kube_apiserver.py: TLS
only, tokens, client certificates and EKS tokens checked; manifests validated against the
Kubernetes Python client's models, kubernetes-models' schemas and hand rules; a deterministic Job
controller). The launcher reads a kubeconfig (YAML or JSON), creates the headless Service and the
Indexed Job, watches the Job, follows every pod's log prefixed algo-N, and exits with the first
failing container's exit code; status, logs and stop work on the name afterwards, and kubectl
sees what parity created."""

import json
import subprocess

import pytest

from test_fake_kube import (AK, CLUSTER, KUBECTL, NS, SECRET, kube, kube_node_modules,  # noqa: F401
                            write_kubeconfig)
from test_launcher import SPEC, launch, parity, write_spec  # noqa: F401  (fixtures)


def job_spec(tmp_path, name, hosts=2):
    spec = {**SPEC, "name": name, "eks": {"namespace": NS, "service_account": "trainer"},
            "resources": {"instance_type": "ml.g5.2xlarge", "instance_count": hosts}}
    return write_spec(tmp_path, spec, f"{name}.json")


def run_env(tmp_path, kubeconfig, **extra):
    return {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), **extra}


def test_a_two_host_job_runs_to_its_exit_code(parity, kube, tmp_path):
    server = kube()
    server.control(jobs={f"{NS}/eks-two": {"exit_codes": [0, 3], "logs": ["step {index}"],
                                           "pods": {"1": {"message": "CUDA error"}}}})
    config, _ = write_kubeconfig(server, tmp_path)
    r = launch(parity, "run", job_spec(tmp_path, "eks-two"), "--target", "eks",
               env=run_env(tmp_path, config))
    assert r.returncode == 3, r  # index 1 failed with 3: the job's exit code
    out = r.stdout.splitlines()
    assert "algo-1 | step 0" in out and "algo-2 | step 1" in out, r
    assert out[-2] == "==> eks-two Failed: exit code 3", r
    assert out[-1].strip() == "algo-2: Error: CUDA error", r  # the termination message
    reqs = [x for x in server.requests() if x["method"] == "POST"]
    # the Service before the Job (names resolve as pods start), both strictly validated
    assert [x["path"].rsplit("/", 1)[-1].split("?")[0] for x in reqs] == ["services", "jobs"]
    assert all(x["query"].get("fieldValidation") in ("Strict", ["Strict"]) for x in reqs), reqs
    assert all(x["status"] == 201 for x in reqs), reqs
    job = server.job("eks-two")
    assert job["spec"]["completionMode"] == "Indexed"
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["PARITY_JOB_CONFIG"])["name"] == "eks-two"
    # the watch was a watch, not polling
    watches = [x for x in server.requests() if x["query"].get("watch") in ("true", ["true"])]
    assert watches, [x["query"] for x in server.requests()]


def test_success_and_what_kubectl_sees(parity, kube, tmp_path):
    server = kube()
    server.control(jobs={f"{NS}/eks-ok": {"exit_codes": [0], "logs": ["done"]}})
    config, _ = write_kubeconfig(server, tmp_path)
    r = launch(parity, "run", job_spec(tmp_path, "eks-ok", hosts=1), "--target", "eks",
               env=run_env(tmp_path, config))
    assert r.returncode == 0, r
    assert "algo-1 | done" in r.stdout.splitlines(), r
    if not KUBECTL:
        pytest.skip("kubectl is not installed")
    k = subprocess.run([KUBECTL, "--kubeconfig", str(config), "get", "job", "eks-ok", "-o", "json"],
                       capture_output=True, text=True, timeout=60)
    assert k.returncode == 0, k
    assert json.loads(k.stdout)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "parity"


def yaml_kubeconfig(server, tmp_path, user_yaml):
    ca = __import__("base64").b64encode(server.ca.read_bytes()).decode()
    path = tmp_path / "config.yaml"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {server.url}
    certificate-authority-data: {ca}
contexts:
- name: main
  context: {{cluster: fake, user: me, namespace: {NS}}}
current-context: main
users:
- name: me
  user:
{user_yaml}
""")
    return path


@pytest.mark.parametrize("how", ["client-certificate", "exec-plugin", "eks-token"])
def test_every_way_to_authenticate(parity, kube, tmp_path, how):
    server = kube()
    name = f"eks-auth-{how}"[:40]
    server.control(jobs={f"{NS}/{name}": {"exit_codes": [0]}})
    env = {}
    if how == "client-certificate":
        user = (f"    client-certificate: {server.cert_dir / 'client.crt'}\n"
                f"    client-key: {server.cert_dir / 'client.key'}")
    elif how == "exec-plugin":
        plugin = tmp_path / "plugin.sh"
        plugin.write_text('#!/bin/sh\nprintf \'{"kind":"ExecCredential","apiVersion":'
                          '"client.authentication.k8s.io/v1beta1","status":{"token":"%s"}}\' '
                          '"$PLUGIN_TOKEN"\n')
        plugin.chmod(0o755)
        user = ("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                f"      command: {plugin}\n      env:\n      - name: PLUGIN_TOKEN\n"
                "        value: exec-plugin-token")
    else:
        # what `aws eks update-kubeconfig` writes; parity makes the token itself (no AWS CLI)
        user = ("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                "      command: aws\n      args: [--region, us-east-1, eks, get-token, "
                f"--cluster-name, {CLUSTER}, --output, json]")
        env = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SECRET, "PATH": "/nonexistent"}
    config = yaml_kubeconfig(server, tmp_path, user)
    r = launch(parity, "run", job_spec(tmp_path, name, hosts=1), "--target", "eks",
               env=run_env(tmp_path, config, **env))
    assert r.returncode == 0, r
    want = {"client-certificate": "parity-admin", "exec-plugin": "exec-user",
            "eks-token": "eks-admin"}[how]
    users = {(x.get("auth") or {}).get("user") for x in server.requests()}
    assert users == {want}, users  # every request, as that user


def test_detach_status_and_stop_with_propagation(parity, kube, tmp_path):
    server = kube(progress="manual")
    server.control(jobs={f"{NS}/eks-bg": {"exit_codes": [0, 0]}})
    config, _ = write_kubeconfig(server, tmp_path)
    env = run_env(tmp_path, config)
    r = launch(parity, "run", job_spec(tmp_path, "eks-bg"), "--target", "eks", "--detach", env=env)
    assert r.returncode == 0 and r.stdout.strip() == "eks-bg", r
    r = launch(parity, "status", "eks-bg", "--output", "json", env=env)
    assert r.returncode == 0, r
    st = json.loads(r.stdout)
    assert st["job"] == "eks-bg" and st["target"] == "eks" and st["namespace"] == NS
    r = launch(parity, "stop", "eks-bg", env=env)
    assert r.returncode == 0, r
    deletes = [x for x in server.requests() if x["method"] == "DELETE"]
    assert len(deletes) == 2, deletes  # the Job and its Service
    assert all(x.get("propagationPolicy") == "Background" for x in deletes[:1]), deletes
    assert server.call("GET", f"/apis/batch/v1/namespaces/{NS}/jobs/eks-bg").status == 404
    # stopping it again says it is not there
    r = launch(parity, "stop", "eks-bg", env=env)
    assert r.returncode == 2 and "no job eks-bg" in r.stderr, r


def test_a_name_in_use_and_a_bad_kubeconfig_are_clear_errors(parity, kube, tmp_path):
    server = kube(progress="manual")
    config, _ = write_kubeconfig(server, tmp_path)
    env = run_env(tmp_path, config)
    path = job_spec(tmp_path, "eks-twice", hosts=1)
    assert launch(parity, "run", path, "--target", "eks", "--detach", env=env).returncode == 0
    r = launch(parity, "run", path, "--target", "eks", env=env)
    assert r.returncode == 2 and "already exists" in r.stderr, r
    r = launch(parity, "run", path, "--target", "eks", "--context", "nope", env=env)
    assert r.returncode == 2 and "no context 'nope'" in r.stderr, r
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters:\n  - name: x\n   broken: indentation\n")
    r = launch(parity, "run", path, "--target", "eks", env={**env, "KUBECONFIG": str(bad)})
    assert r.returncode == 125 and "line 3" in r.stderr and "bad.yaml" in r.stderr, r
    r = launch(parity, "run", path, "--target", "eks", "--context", "bad-token", env=env)
    assert r.returncode == 125 and "401" in r.stderr, r


def test_in_cluster_config(parity, kube, tmp_path):
    """No kubeconfig, inside a pod: the service account's token, CA and namespace."""
    from test_fake_kube import TOKEN

    server = kube()
    server.control(jobs={f"{NS}/eks-incluster": {"exit_codes": [0], "logs": ["inside"]}})
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(TOKEN + "\n")
    (sa / "ca.crt").write_bytes(server.ca.read_bytes())
    (sa / "namespace").write_text(NS)
    spec = {**SPEC, "name": "eks-incluster", "eks": {}, "resources": {"instance_count": 1}}
    env = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": str(server.port), "PARITY_SERVICEACCOUNT_DIR": str(sa)}
    r = launch(parity, "run", write_spec(tmp_path, spec), "--target", "eks", env=env)
    assert r.returncode == 0, r
    assert "algo-1 | inside" in r.stdout.splitlines(), r
    posts = [x for x in server.requests() if x["method"] == "POST"]
    assert posts and all(x["path"].startswith(f"/apis/batch/v1/namespaces/{NS}/") for x in posts)


def test_exec_plugin_v1_needs_interactive_mode(parity, kube, tmp_path):
    server = kube()
    server.control(jobs={f"{NS}/eks-execv1": {"exit_codes": [0]}})
    plugin = tmp_path / "plugin.sh"
    plugin.write_text('#!/bin/sh\ncase "$KUBERNETES_EXEC_INFO" in *"/v1\\""*) ;; *) exit 9;; esac\n'
                      'printf \'{"kind":"ExecCredential","apiVersion":'
                      '"client.authentication.k8s.io/v1","status":{"token":"exec-plugin-token"}}\'\n')
    plugin.chmod(0o755)
    user = ("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
            f"      command: {plugin}\n")
    spec = job_spec(tmp_path, "eks-execv1", hosts=1)
    config = yaml_kubeconfig(server, tmp_path, user)
    r = launch(parity, "run", spec, "--target", "eks", env=run_env(tmp_path, config))
    assert r.returncode == 125 and "interactiveMode must be specified" in r.stderr, r
    config = yaml_kubeconfig(server, tmp_path, user + "      interactiveMode: Never\n")
    r = launch(parity, "run", spec, "--target", "eks", env=run_env(tmp_path, config))
    assert r.returncode == 0, r


def test_the_job_and_its_pods_are_watched(parity, kube, tmp_path):
    """Watched, not polled: a watch on the Job and one on its pods (a waiting reason such as
    ImagePullBackOff changes the pod, not the Job)."""
    server = kube()
    server.control(jobs={f"{NS}/eks-watched": {"exit_codes": [0], "logs": ["ok"]}})
    config, _ = write_kubeconfig(server, tmp_path)
    r = launch(parity, "run", job_spec(tmp_path, "eks-watched", hosts=1), "--target", "eks",
               env=run_env(tmp_path, config))
    assert r.returncode == 0, r
    watches = {x["path"].rsplit("/", 1)[-1] for x in server.requests()
               if x["query"].get("watch") in ("true", ["true"])}
    assert watches == {"jobs", "pods"}, watches


def test_a_waiting_reason_of_a_pod_is_said(parity, kube, tmp_path):
    """A bad image looks like a hang unless said: ImagePullBackOff, which changes the pod and
    not the Job, reaches the output through the pods' watch. The fake moves only when told, once
    parity watches the pods."""
    from conftest import READY_TIMEOUT, wait_until

    server = kube(progress="manual")
    server.control(jobs={f"{NS}/eks-pull": {"exit_codes": [0], "pods": {
        "*": {"waiting": "ImagePullBackOff", "waiting_steps": 2}}}})
    config, _ = write_kubeconfig(server, tmp_path)
    env = {"PATH": "/usr/bin:/bin", **run_env(tmp_path, config)}
    proc = subprocess.Popen([str(parity), "run", str(job_spec(tmp_path, "eks-pull", hosts=1)),
                             "--target", "eks"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_until(lambda: any(x["path"].endswith("/pods") and x["query"].get("watch")
                                      in ("true", ["true"]) for x in server.requests()),
                          READY_TIMEOUT)
        for _ in range(8):  # pending, waiting x2, running, done, and the Job's conditions
            server.control(advance={"job": f"{NS}/eks-pull", "steps": 1})
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert any(l.startswith("==> Waiting") and "ImagePullBackOff" in l for l in out.splitlines()), out

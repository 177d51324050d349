# SPDX-License-Identifier: MIT
"""The runtime config layers: image config < remote config (PARITY_CONFIG_URI) < environment.

Each test runs build/parity-init (not as PID 1) on the local platform with a private ML root;
the child is `train`, whose command comes from whichever layer wins."""

import json
import re
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import LoopbackHTTP

IMAGE = {"train_command": ["echo", "from-image"], "umask": "0022", "user": "root"}
REMOTE = {"train_command": ["echo", "from-remote"], "umask": "0077", "not_a_field": 1}


@pytest.fixture
def layers(tmp_path):
    image = tmp_path / "image.json"
    image.write_text(json.dumps(IMAGE))
    remote = tmp_path / "remote.json"
    remote.write_text(json.dumps(REMOTE))
    return image, remote


def run_train(run_init, tmp_path, env, opts=()):
    root = tmp_path / "ml"
    root.mkdir(exist_ok=True)
    return run_init(command=["train"], pid1=False, env=env,
                    opts=["--platform", "local", "--root", str(root), *opts])


def explain(run_init, tmp_path, env):
    r = run_train(run_init, tmp_path, env, opts=["--explain"])
    assert r.returncode == 0, r
    return json.loads(r.out)


def test_remote_config_wins_over_the_image_field_by_field(run_init, tmp_path, layers):
    image, remote = layers
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": f"file://{remote}"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 0 and r.out.strip() == "from-remote", r
    assert "not_a_field" in r.err, "an unknown remote field is reported"
    doc = explain(run_init, tmp_path, env)
    assert doc["command"] == ["echo", "from-remote"], doc
    assert doc["command_source"] == "remote config", doc
    assert doc["config_sources"] == {
        "train_command": f"remote config file://{remote}",
        "umask": f"remote config file://{remote}",
        "user": f"image config {image}",
    }, doc
    assert doc["hardening"]["umask"] == 0o077, doc


def test_environment_wins_over_both_layers(run_init, tmp_path, layers):
    image, remote = layers
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": f"file://{remote}",
           "PARITY_TRAIN_COMMAND": json.dumps(["echo", "from-env"]), "PARITY_UMASK": "0027"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 0 and r.out.strip() == "from-env", r
    doc = explain(run_init, tmp_path, env)
    assert doc["config_sources"]["train_command"] == "PARITY_TRAIN_COMMAND", doc
    assert doc["config_sources"]["umask"] == "PARITY_UMASK", doc
    assert doc["hardening"]["umask"] == 0o027, doc


class ConfigServer(LoopbackHTTP):
    """A loopback HTTP server with fixed answers per path."""

    def __init__(self, routes):
        routes = dict(routes)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                status, body = routes.get(self.path, (404, b"no such config"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)


@pytest.fixture
def config_server():
    with ConfigServer({"/config.json": (200, json.dumps(REMOTE).encode()),
                       "/broken.json": (200, b'{"train_command": ["echo",')}) as s:
        yield s


def test_remote_config_over_loopback_http(run_init, tmp_path, layers, config_server):
    image, _ = layers
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": config_server.url + "/config.json"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 0 and r.out.strip() == "from-remote", r


@pytest.mark.parametrize("path, reason", [("/missing.json", r"HTTP 404"),
                                          ("/broken.json", r"remote config .*broken.json")])
def test_a_bad_remote_config_stops_the_start(run_init, tmp_path, layers, config_server, path,
                                             reason):
    image, _ = layers
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": config_server.url + path,
           "PARITY_LOG_LEVEL": "error"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 125, r
    assert "from-" not in r.out, "the child must not run"
    assert re.search(reason, r.err), r
    assert "PARITY_CONFIG_URI" in r.err, r


@pytest.mark.parametrize("uri", ["ftp://example.invalid/c.json", "http://example.invalid/c.json",
                                 "http://127.0.0.1:80@example.invalid/c.json",
                                 "http://localhost.example.invalid/c.json",
                                 "/etc/parity/remote.json"])
def test_unsupported_or_unsafe_uris_are_refused(run_init, tmp_path, layers, uri):
    image, _ = layers
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": uri, "PARITY_LOG_LEVEL": "error"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 125, r
    assert uri in r.err and "file://, s3://, https://" in r.err, r


def test_an_s3_config_needs_credentials(run_init, tmp_path, layers):
    image, _ = layers
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": "s3://bucket/config.json",
           "PARITY_LOG_LEVEL": "error"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 125, r
    assert "s3://bucket/config.json" in r.err and "needs AWS credentials" in r.err, r


def test_a_missing_remote_file_names_it(run_init, tmp_path, layers):
    image, _ = layers
    missing = tmp_path / "nope.json"
    env = {"PARITY_IMAGE_CONFIG": str(image), "PARITY_CONFIG_URI": f"file://{missing}",
           "PARITY_LOG_LEVEL": "error"}
    r = run_train(run_init, tmp_path, env)
    assert r.returncode == 125 and str(missing) in r.err, r

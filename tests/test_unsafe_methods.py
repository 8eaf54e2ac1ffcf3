"""The method policy on a remote target, proved by a server that records every request: safe
methods (GET, HEAD, OPTIONS, PROPFIND, REPORT, SEARCH, QUERY) are always sent; unsafe ones only for
endpoints declared ``safe: true``, or with ``--unsafe`` naming the target — then exactly the
declared ones, each with its declared headers and body. TRACE is never sent."""

from __future__ import annotations

import json

import pytest

from catalog.definitions.loader import load_all
from catalog.engine.runner import RunOptions, probe_all
from catalog.hooks.manager import Hooks
from tests.servers.recording import RecordingServer
from tests.support.project import make_project, remote_target, role_env, run_cli

SECRET, IDENTITY = "unsafe-test-secret~+/=", "me@example.test"
ENDPOINTS: list[dict[str, object]] = [
    {"id": "list", "method": "GET", "path": "/things", "collection": "/values"},
    {"id": "props", "method": "PROPFIND", "path": "/dav/", "headers": {"Depth": "0"},
     "body": {"xml": '<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>'}},
    {"id": "query", "method": "QUERY", "path": "/query", "body": {"json": {"q": "all"}}},
    {"id": "create", "method": "POST", "path": "/things", "body": {"json": {"name": "a thing", "n": 2}}},
    {"id": "edit", "method": "PATCH", "path": "/things/1", "body": {"form": {"name": "renamed"}}},
    {"id": "delete", "method": "DELETE", "path": "/things/1"},
    {"id": "search", "method": "POST", "path": "/search", "safe": True, "body": {"json": {"jql": "x"}}},
    {"id": "trace", "method": "TRACE", "path": "/trace"},
]
ENV = role_env("UNSAFE", SECRET, IDENTITY)
SAFE = {("GET", "/things"), ("PROPFIND", "/dav/"), ("QUERY", "/query"), ("POST", "/search")}
UNSAFE = {("POST", "/things"), ("PATCH", "/things/1"), ("DELETE", "/things/1")}


@pytest.fixture()
def recorded(tmp_path, monkeypatch):
    with RecordingServer(IDENTITY, SECRET) as server:
        root = make_project(tmp_path / "proj", "unsafe", ENDPOINTS, remote_target("remote", "UNSAFE_URL", "UNSAFE"))
        env = {**ENV, "UNSAFE_URL": server.url, "AUTHCAT_ALLOWED_ORIGINS": server.url}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        yield root, server, env


def run(root, unsafe: frozenset[str] = frozenset()):
    apis = load_all(root / "endpoints")
    return probe_all(apis, root / "endpoints", root / "site" / "data", Hooks(),
                     RunOptions(unsafe_targets=unsafe, refresh=True, log=lambda m: None))[0]


def sent(server) -> set[tuple[str, str]]:
    return {(a.method, a.path) for a in server.sent()}


def test_a_remote_target_gets_no_unsafe_method_without_the_flag(recorded):
    root, server, _ = recorded
    result = run(root)
    assert sent(server) == SAFE, "only safe methods and the endpoint declared safe reach a remote target"
    states = [s for s, info in result.states.items() if info["available"]]
    assert len(server.sent("PROPFIND")) == len(states)
    for endpoint_id in ("create", "edit", "delete"):
        assert result.endpoints[endpoint_id].verdict == "not-probed"
        assert "--unsafe remote" in result.endpoints[endpoint_id].reason
    assert "RFC 9110" in result.endpoints["trace"].reason
    assert result.endpoints["props"].cells["valid"].outcome == "as-valid"
    assert result.endpoints["props"].cells["unknown-token"].outcome == "rejected"


def test_with_the_flag_exactly_the_declared_requests_arrive(recorded):
    root, server, _ = recorded
    result = run(root, frozenset({"remote"}))
    assert sent(server) == SAFE | UNSAFE, "TRACE is never sent; everything else declared is"
    states = [s for s, info in result.states.items() if info["available"]]
    for method, path in UNSAFE:
        assert len([a for a in server.sent(method) if a.path == path]) == len(states)
    valid = next(a for a in server.sent("POST") if a.path == "/things" and a.headers.get("authorization"))
    assert json.loads(valid.body) == {"name": "a thing", "n": 2}
    assert valid.headers["content-type"] == "application/json"
    patch = server.sent("PATCH")[0]
    assert patch.body == b"name=renamed" and patch.headers["content-type"] == "application/x-www-form-urlencoded"
    props = server.sent("PROPFIND")[0]
    assert props.headers["depth"] == "0" and props.body.startswith(b"<propfind")
    assert props.headers["content-type"].startswith("application/xml")
    assert not [a for a in server.sent("DELETE") if a.body], "no body where none is declared"
    assert result.endpoints["create"].cells["valid"].outcome == "as-valid"
    assert result.endpoints["create"].cells["malformed"].outcome == "rejected"
    # The flag names a target: another name sends nothing unsafe.
    server.arrivals.clear()
    run(root, frozenset({"elsewhere"}))
    assert sent(server) == SAFE


def test_cli_flag_and_what_lint_and_targets_say(recorded):
    root, server, env = recorded
    done = run_cli(root, "lint", env=env)
    assert done.returncode == 0, done.stderr
    assert "unsafe/remote: 4 not sent (DELETE 1, PATCH 1, POST 1, TRACE 1)" in done.stdout
    assert "--unsafe remote" in done.stdout
    done = run_cli(root, "targets", env=env)
    assert done.returncode == 0, done.stderr
    assert "4 not sent" in " ".join(done.stdout.split())
    done = run_cli(root, "probe", "--refresh", env=env)
    assert done.returncode == 0, done.stderr
    assert sent(server) == SAFE
    server.arrivals.clear()
    done = run_cli(root, "probe", "--refresh", "--unsafe", "unsafe/remote", env=env)
    assert done.returncode == 0, done.stderr
    assert sent(server) == SAFE | UNSAFE

"""Non-GET operations reach the server only when the endpoint declares ``read_only: true`` AND
the run passes ``--allow-unsafe``: a counting server proves it."""

from __future__ import annotations

import pytest

from catalog.definitions.loader import load_all
from catalog.engine.runner import RunOptions, probe_all
from catalog.hooks.manager import Hooks
from tests.servers.fault_server import FaultServer
from tests.support.project import make_project, remote_target, role_env, run_cli

ENDPOINTS: list[dict[str, object]] = [
    {"id": "list", "method": "GET", "path": "/ok", "collection": "/values"},
    {"id": "create", "method": "POST", "path": "/post-plain"},
    {"id": "delete", "method": "DELETE", "path": "/delete-plain"},
    {"id": "search", "method": "POST", "path": "/post-ro", "read_only": True},
    {"id": "put-declared-not", "method": "PUT", "path": "/put-not", "read_only": False},
]
ENV = role_env("UNSAFE", "unsafe-test-secret", "me@example.test")


@pytest.fixture()
def unsafe_project(tmp_path, monkeypatch):
    with FaultServer() as server:
        root = make_project(tmp_path / "proj", "unsafe", ENDPOINTS, remote_target("counting", "UNSAFE_URL", "UNSAFE"))
        monkeypatch.setenv("UNSAFE_URL", server.url)
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)
        yield root, server


def run(root, allow_unsafe: bool):
    apis = load_all(root / "endpoints")
    return probe_all(apis, root / "endpoints", root / "site" / "data", Hooks(),
                     RunOptions(allow_unsafe=allow_unsafe, log=lambda m: None))[0]


def unsafe_hits(server):
    return [a for a in server.arrivals if a.method != "GET"]


def test_unsafe_methods_need_declaration_and_flag(unsafe_project):
    root, server = unsafe_project
    # Neither the declaration alone nor nothing at all sends a non-GET request.
    result = run(root, allow_unsafe=False)
    assert unsafe_hits(server) == []
    assert len(server.hits("/ok", "GET")) >= 10, "the safe endpoint was probed"
    assert result.endpoints["search"].verdict == "not-probed"
    assert not {"create", "delete", "put-declared-not"} & set(result.endpoints), "documented-only ops are not observed"

    # Declaration AND flag: only the read-only-declared POST is sent, once per available state.
    result = run(root, allow_unsafe=True)
    hits = unsafe_hits(server)
    states = [s for s, info in result.states.items() if info["available"]]
    assert {(a.method, a.path) for a in hits} == {("POST", "/post-ro")}
    assert len(hits) == len(states)
    assert result.endpoints["search"].cells["valid"].outcome == "as-valid"


def test_cli_flag_alone_does_not_send_undeclared(unsafe_project):
    root, server = unsafe_project
    done = run_cli(root, "probe", "--allow-unsafe", env=ENV)
    assert done.returncode == 0, done.stderr
    assert {(a.method, a.path) for a in unsafe_hits(server)} == {("POST", "/post-ro")}
    server.arrivals.clear()
    done = run_cli(root, "probe", "--refresh", env=ENV)
    assert done.returncode == 0, done.stderr
    assert unsafe_hits(server) == [] and server.hits("/ok")

"""A WebDAV server described from outside: Radicale (CalDAV/CardDAV, from PyPI) with PROPFIND and
REPORT endpoints (tests/apis/radicale), started on 127.0.0.1 with htpasswd users by a launcher
plugin registered like any third-party one. Lint accepts the YAML, the run completes, and every
cell is what the server really answers (checked by hand with curl: see the expectations)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("radicale")

from catalog.answers.reproduce import cell_snippet
from catalog.definitions.loader import load_all, plugin_problems
from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks, get_plugin_manager
from catalog.pipeline import Project, probe
from tests.servers.radicale_target import RadicaleTarget
from tests.support.project import make_project

API = Path(__file__).parent / "apis" / "radicale"


@pytest.fixture(scope="module")
def webdav(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("webdav") / "proj", "placeholder", [], {"name": "none"})
    shutil.rmtree(root / "endpoints" / "placeholder")
    shutil.copytree(API, root / "endpoints" / "radicale")
    pm = get_plugin_manager(load_external=False)
    pm.register(RadicaleTarget(), name="radicale-target")
    hooks = Hooks(pm)
    apis = load_all(root / "endpoints", lint=True)
    problems = [p for a in apis.values() for p in plugin_problems(a, hooks)]
    logs: list[str] = []
    (run,), _ = probe(Project(root), hooks, RunOptions(log=logs.append, cache_root=root / "cache"))
    return apis, problems, run, logs


def outcomes(run, endpoint_id):
    return {s: c.outcome for s, c in run.endpoints[endpoint_id].cells.items()}


def statuses(run, endpoint_id):
    return {s: c.observation.status for s, c in run.endpoints[endpoint_id].cells.items() if c.observation}


READS = ("currentUserPrincipal", "principal", "calendarMembers", "calendarQuery", "event")


def test_lint_accepts_the_webdav_yaml(webdav):
    apis, problems, _, _ = webdav
    assert problems == []
    methods = {e.method for e in apis["radicale"].endpoints}
    assert {"PROPFIND", "REPORT", "OPTIONS", "PUT", "DELETE"} <= methods


def test_every_cell_is_what_the_server_answers(webdav):
    # By hand, with curl against the same Radicale 3.9 config: alice's PROPFIND on / answers 207
    # naming /alice/; no credential, a never-issued password or another user name with alice's
    # password 401; `basic` in lower case 401 (Radicale reads the scheme word case-sensitively);
    # `Basic !!!` 500 (an unpacking error in its log); bob on alice's collections 403.
    _, _, run, logs = webdav
    assert all("failed" not in line for line in logs)
    for endpoint_id in READS:
        got = outcomes(run, endpoint_id)
        assert got["valid"] == "as-valid" and got["anonymous"] == "rejected", endpoint_id
        assert got["unknown-token"] == got["wrong-identity"] == "rejected", endpoint_id
        assert got["malformed"] == "server-error" and statuses(run, endpoint_id)["malformed"] == 500
        assert got["scheme-case"] == "rejected" and got["wrong-scheme"] == "rejected"
        assert run.endpoints[endpoint_id].verdict == "fails-closed"
    assert statuses(run, "currentUserPrincipal")["valid"] == 207
    # bob has a principal of his own (/bob/): another answer, not a refusal.
    assert outcomes(run, "currentUserPrincipal")["unprivileged"] == "partial"
    for endpoint_id in ("principal", "calendarMembers", "calendarQuery", "event"):
        assert outcomes(run, endpoint_id)["unprivileged"] == "forbidden"
    # OPTIONS serves everybody, yet a wrong password still gets 401 there.
    discover = outcomes(run, "discover")
    assert run.endpoints["discover"].verdict == "public"
    assert discover["anonymous"] == "as-valid"
    assert discover["wrong-scheme"] == "ignored", "served like everyone: the Bearer header is not read"
    assert discover["unknown-token"] == "rejected"
    for state in ("expired", "revoked", "forged", "deactivated"):
        assert discover[state] == "n/a"


def test_writes_meet_the_same_world_in_every_state(webdav):
    # Each state's PUT creates its own event and each DELETE removes one its setup made: valid
    # gets 201 and 200 (204 would mean the event was there already, or gone before).
    _, _, run, _ = webdav
    assert statuses(run, "putEvent")["valid"] == 201
    assert statuses(run, "deleteEvent")["valid"] == 200
    for endpoint_id in ("putEvent", "deleteEvent"):
        assert outcomes(run, endpoint_id)["unprivileged"] == "forbidden"
        assert run.endpoints[endpoint_id].verdict == "fails-closed"


def test_the_request_record_and_snippet_carry_the_method_headers_and_body(webdav):
    _, _, run, _ = webdav
    cell = run.endpoints["currentUserPrincipal"].cells["valid"]
    record = cell.observation.request
    assert record["method"] == "PROPFIND" and ["Depth", "0"] in record["headers"]
    assert record["body"].startswith("<?xml") and "current-user-principal" in record["body"]
    got = cell_snippet(cell)
    assert "-X PROPFIND" in got.curl and "-H 'Depth: 0'" in got.curl
    assert "--data-binary '<?xml" in got.curl
    assert "'PROPFIND'" in got.python and "'Depth': '0'" in got.python and "content=" in got.python
    compile(got.python, "snippet", "exec")
    # A write's setup values are placeholders in the record: each state's event has its own name.
    put = run.endpoints["putEvent"].cells["valid"].observation.request
    assert "{newEvent}" in put["url"] and "UID:{probe}" in put["body"]

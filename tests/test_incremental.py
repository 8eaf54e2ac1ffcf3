"""Start only what is needed, start it all at once, and say why a cell changed.

A small purpose-built server (``ToyServer``, in-process, 127.0.0.1) answers an API whose auth
failures come back as ``200 {"ok": false}``; a test launcher plugin "starts" it and counts the
starts. The runs go through the real pipeline (``catalog.pipeline.probe``): the cache key covers
the endpoint, the API file (envelope, volatile fields), the profile and the classifier; a run
whose cells are all current starts nothing; stored observations are re-judged without a request
when only the classifier changed; the change log attributes every moved cell.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks, get_plugin_manager
from catalog.hooks.specs import hookimpl
from catalog.model.credentials import Credential, Credentials
from catalog.model.errors import TargetError
from catalog.model.judgement import Judgement
from catalog.pipeline import Project, load_publication, probe, read_changes
from catalog.site.build import render_pages
from catalog.targets.launchers import LaunchContext, Launched, Launcher
from catalog.targets.profiles import TargetPool
from tests.servers.base import serve_in_thread
from tests.support.project import make_project, run_cli

IDENTITY = "Me+Toy@Example.test"
SECRET = "s3cr~t@+/=Toy"  # encoded forms differ from the raw one
GOOD = "Basic " + base64.b64encode(f"{IDENTITY}:{SECRET}".encode()).decode()


class ToyServer:
    """``/items`` lists two items for the valid credential, none for anonymous callers, and answers
    any other credential ``200 {"ok": false, "error": "invalid_auth"}`` — or ``401`` once
    ``strict`` is set (a server that changed its behaviour). ``/first`` names an item id that
    ``/items/{item}`` serves (a discovered parameter)."""

    def __init__(self) -> None:
        self.strict = False
        self.requests = 0
        toy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                toy.requests += 1
                auth = self.headers.get("Authorization")
                if auth is None:
                    body, status = {"ok": True, "items": [], "now": "x"}, 200
                elif auth == GOOD:
                    body, status = {"ok": True, "items": [1, 2], "now": "y"}, 200
                elif toy.strict:
                    body, status = {"error": "invalid_auth"}, 401
                else:
                    body, status = {"ok": False, "error": "invalid_auth", "now": "z"}, 200
                if self.path == "/first" and auth == GOOD:
                    body = {"id": "it~em/1"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="toy"')
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ToyServer:
        serve_in_thread(self.httpd)
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ToyLauncher:
    """A target plugin: "starting" hands out the toy server and counts how often it was started."""

    def __init__(self, server: ToyServer, version: str = "toy-1.0"):
        self.server, self.version, self.starts = server, version, 0

    @contextlib.contextmanager
    def start(self, ctx: LaunchContext):
        self.starts += 1
        yield Launched(base_url=self.server.url, version=self.version,
                       credentials=Credentials({"valid": Credential(SECRET, IDENTITY)}))

    @hookimpl
    def authcat_register_targets(self, register):
        register("toy", Launcher(start=self.start, version=lambda ctx: self.version))


ENDPOINTS = [
    {"id": "items", "method": "GET", "path": "/items", "collection": "/items"},
    {"id": "first", "method": "GET", "path": "/first"},
    {"id": "item", "method": "GET", "path": "/items/{item}", "collection": "/items"},
]
STATES = ["valid", "anonymous", "malformed", "unknown-token", "wrong-identity"]


@pytest.fixture()
def toy(tmp_path):
    with ToyServer() as server:
        launcher = ToyLauncher(server)
        pm = get_plugin_manager(load_external=False)
        pm.register(launcher, name="toy-target")
        target = {"name": "local", "launcher": "toy",
                  "parameters": {"item": {"from": {"endpoint": "first", "pointer": "/id"}}}}
        root = make_project(tmp_path / "proj", "toy", ENDPOINTS, target,
                            {"states": STATES, "volatile_fields": ["now"]})
        yield Project(root), Hooks(pm), launcher, server


def run(project: Project, hooks: Hooks, refresh: bool = False):
    options = RunOptions(refresh=refresh, log=lambda message: None, cache_root=project.root / "cache")
    (run_,), changes = probe(project, hooks, options)
    return run_, changes


def edit_api(project: Project, **fields) -> None:
    path = project.endpoints / "toy" / "api.yaml"
    doc = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**doc, **fields}, sort_keys=False))


def test_a_run_whose_cells_are_current_starts_no_server(toy):
    project, hooks, launcher, server = toy
    first, _ = run(project, hooks)
    assert launcher.starts == 1 and first.meta["probes"] == 3 * len(STATES)
    # The discovered parameter is kept with the run (it lets the next run compute its keys).
    assert first.meta["params"] == {"item": "it~em/1"}
    assert first.endpoints["item"].verdict != "not-probed"
    requests = server.requests
    stored = project.root / "site" / "data" / "observations" / "toy" / "local.json"
    written = stored.read_bytes()

    second, changes = run(project, hooks)
    assert launcher.starts == 1, "every cell was current: the target must not be started"
    assert server.requests == requests
    assert second.meta["target_started"] is False and second.meta["probes"] == 0 and second.meta["reused"] == 3
    assert second.meta["params"] == {"item": "it~em/1"}
    assert {k: v.to_dict() for k, v in second.endpoints.items()} == {k: v.to_dict() for k, v in first.endpoints.items()}
    assert changes == []
    # Nothing was observed anew: the file keeps the date and figures of the run that observed it.
    assert stored.read_bytes() == written


def test_editing_one_endpoint_starts_the_target_and_probes_only_it(toy):
    project, hooks, launcher, _ = toy
    run(project, hooks)
    group = project.endpoints / "toy" / "things.yaml"
    doc = yaml.safe_load(group.read_text())
    doc["endpoints"][0]["query"] = {"limit": "5"}
    group.write_text(yaml.safe_dump(doc, sort_keys=False))
    again, _ = run(project, hooks)
    assert launcher.starts == 2
    assert again.meta["probes"] == len(STATES) and again.meta["reused"] == 2


def test_a_summary_edit_changes_no_key(toy):
    project, hooks, launcher, _ = toy
    first, _ = run(project, hooks)
    edit_api(project, title="A new title", description="Documentation only.")
    profile = project.endpoints / "toy" / "targets" / "local.yaml"  # every line moves down
    profile.write_text("# A comment.\n\ndescription: Documentation only.\n" + profile.read_text())
    second, _ = run(project, hooks)
    assert launcher.starts == 1 and second.meta["probes"] == 0
    assert {k: e.definition_key for k, e in second.endpoints.items()} == {k: e.definition_key for k, e in first.endpoints.items()}


def test_editing_the_envelope_invalidates_cells_and_is_not_drift(toy):
    """On the old main the envelope was not in the cache key: the edit re-probed nothing and the
    cells kept their old outcomes."""
    project, hooks, launcher, _ = toy
    before, _ = run(project, hooks)
    assert before.endpoints["items"].cells["unknown-token"].outcome != "rejected-in-body"

    edit_api(project, auth_failure=[{"pointer": "/ok", "equals": False}])
    after, changes = run(project, hooks)
    assert launcher.starts == 2 and after.meta["probes"] == 3 * len(STATES)
    assert after.endpoints["items"].cells["unknown-token"].outcome == "rejected-in-body"
    assert changes and {c.cause for c in changes} == {"definition"}
    assert {e["cause"] for e in read_changes(project)} == {"definition"}
    page = {page.path: page.text for page in render_pages(load_publication(project, hooks), project.site, hooks)}["changes.md"]
    drift, definition = page.split("## Definition or classifier changes")
    assert "No server has changed its behaviour" in drift and "unknown\\-token" not in drift
    assert "<code>unknown-token</code>" in definition

    # `authcat diff` keeps the two apart too.
    shown = run_cli(project.root, "diff")
    assert shown.returncode == 0, shown.stderr
    assert "definition or classifier changed:" in shown.stdout and "drift" not in shown.stdout.split("\n", 1)[1]


def test_editing_volatile_fields_invalidates_cells(toy):
    project, hooks, launcher, _ = toy
    run(project, hooks)
    edit_api(project, volatile_fields=["now", "error"])
    again, _ = run(project, hooks)
    assert launcher.starts == 2 and again.meta["probes"] == 3 * len(STATES)


class StrictMalformed:
    """A classifier plugin (a new version of the judgement): a malformed header's 2xx is an error."""

    @hookimpl(tryfirst=True)
    def authcat_classify(self, state, observation, valid, anonymous, endpoint, api):
        if state == "malformed" and observation.ok:
            return Judgement("client-error", "judged by the strict plugin")
        return None


def test_a_new_classifier_rejudges_stored_observations_without_probing(toy):
    project, hooks, launcher, server = toy
    run(project, hooks)
    requests = server.requests
    pm = get_plugin_manager(load_external=False)
    pm.register(launcher, name="toy-target")
    pm.register(StrictMalformed(), name="strict-malformed")
    again, changes = run(project, Hooks(pm))
    assert launcher.starts == 1 and server.requests == requests, "re-judging needs no request"
    assert again.meta["probes"] == 0 and again.meta["rejudged"] == 3
    assert again.endpoints["items"].cells["malformed"].outcome == "client-error"
    assert changes and {c.cause for c in changes} == {"definition"}


def test_a_server_that_changed_is_drift(toy):
    project, hooks, _launcher, server = toy
    run(project, hooks)
    server.strict = True
    after, changes = run(project, hooks, refresh=True)
    assert after.endpoints["items"].cells["unknown-token"].outcome == "rejected"
    assert changes and {c.cause for c in changes} == {"server"}
    page = {page.path: page.text for page in render_pages(load_publication(project, hooks), project.site, hooks)}["changes.md"]
    drift, definition = page.split("## Definition or classifier changes")
    assert "<code>unknown-token</code>" in drift and "No cell has moved" in definition


def _profile(name: str, launcher: str):
    from catalog.model.definition import TargetProfile
    return TargetProfile(api="toy", name=name, launcher=launcher)


def test_launchers_start_concurrently_and_one_failure_stops_none_of_the_others(tmp_path):
    """Two launchers that each wait for the other inside ``start`` can only both start if the
    pool starts them at the same time (one after the other, the barrier breaks)."""
    barrier = threading.Barrier(2, timeout=30)
    stopped: list[str] = []

    def waiting(name):
        @contextlib.contextmanager
        def start(ctx):
            barrier.wait()
            try:
                yield Launched(base_url="http://127.0.0.1:9", version=name, credentials=Credentials())
            finally:
                stopped.append(name)
        return Launcher(start=start, version=lambda ctx: name)

    @contextlib.contextmanager
    def broken(ctx):
        raise TargetError("broken: would not start")
        yield  # pragma: no cover

    launchers = {"a": waiting("a"), "b": waiting("b"), "broken": broken}
    profiles = [_profile("one", "a"), _profile("two", "b"), _profile("three", "broken")]
    with TargetPool(launchers, tmp_path / "cache", tmp_path / "scratch", log=lambda m: None) as pool:
        assert pool.version(profiles[0]) == "a" and pool.version(profiles[2]) is None
        pool.start(profiles)
        assert {pool.running(p, tmp_path).version for p in profiles[:2]} == {"a", "b"}
        with pytest.raises(TargetError, match="would not start"):
            pool.running(profiles[2], tmp_path)
        assert set(pool.timings) == {"a {}", "b {}"}
        assert stopped == []
    assert sorted(stopped) == ["a", "b"]


def test_the_bundled_launchers_state_their_version_without_starting(tmp_path):
    from importlib import metadata

    launchers = Hooks().launchers
    ctx = LaunchContext(name="x", cache_dir=tmp_path / "c", scratch_dir=tmp_path / "s")
    for name, distribution in (("backlot", "backlot"), ("datasette", "datasette"), ("jupyter-server", "jupyter-server"),
                               ("synapse", "matrix-synapse")):
        version = launchers[name].version
        assert version is not None and version(ctx) == metadata.version(distribution)
    assert not Path(tmp_path / "c").exists() and not Path(tmp_path / "s").exists()

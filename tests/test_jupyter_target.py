"""The ``jupyter-server`` target plugin and API against a real Jupyter Server (PyPI
``jupyter-server``, pinned in the ``targets`` extra): the token scheme, the matrix, verdicts,
signals and token check authcat computes, and teardown on every exit."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

import authcat_plugins.jupyter_target as plugin
from catalog.engine.runner import RunOptions
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, load_publication, probe
from catalog.targets.launchers import LaunchContext
from tests.support.project import copy_project

NO_TOKEN_NEEDED = {"version"}
BAD_REFUSED = ("anonymous", "malformed", "unknown-token")
# Presentations of the valid token: Jupyter accepts `Bearer`, any case, and `?token=` too.
PRESENTATIONS = ("wrong-scheme", "scheme-case", "query-parameter")


def _pid(lines: list[str]) -> int:
    for line in lines:
        if m := re.search(r"\(pid (\d+)\)", line):
            return int(m.group(1))
    raise AssertionError(lines)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_launcher_token_scheme_and_teardown(tmp_path):
    lines: list[str] = []
    ctx = LaunchContext("jupyter-server", tmp_path / "cache", tmp_path / "scratch", {}, lines.append)
    with pytest.raises(RuntimeError, match="boom"), plugin.launch_jupyter(ctx) as launched:
        pid = _pid(lines)
        token = launched.credentials.get("valid").secret
        assert launched.version == "2.21.1"
        assert set(launched.unavailable) == {"expired", "revoked", "forged", "unprivileged", "deactivated"}
        base = launched.base_url
        assert base.startswith("http://127.0.0.1:")
        ok = httpx.get(base + "/api/me", headers={"Authorization": f"token {token}"})
        assert ok.status_code == 200 and ok.json()["identity"]["username"]
        assert httpx.get(base + "/api/me", params={"token": token}).status_code == 200  # ?token= too
        assert httpx.get(base + "/api/me", headers={"Authorization": "token nope"}).status_code == 403
        assert httpx.get(base + "/api").json() == {"version": "2.21.1"}  # no token needed
        # The token never reaches the command line (ps) nor the launcher's log lines.
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        assert token not in cmdline and not any(token in line for line in lines)
        raise RuntimeError("boom")  # an error inside the run: the server is still stopped
    assert not _alive(pid)


@pytest.fixture(scope="module")
def jupyter_run(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("jupyter"), with_data=False)
    project, hooks = Project(root), Hooks()
    lines: list[str] = []
    runs, _ = probe(project, hooks, RunOptions(apis=["jupyter-server"], refresh=True, log=lines.append))
    return project, runs[0], load_publication(project, hooks).answers["jupyter-server"], lines


def test_jupyter_matrix_and_verdicts(jupyter_run):
    _project, run, _answers, _lines = jupyter_run
    assert run.version == "2.21.1" and run.meta["version_source"] == "launcher jupyter-server"
    assert run.states["wrong-identity"]["available"] is False  # a token carries no separate identity
    for state in ("expired", "revoked", "forged", "unprivileged", "deactivated"):
        assert run.states[state]["available"] is False
        assert run.states[state]["reason"] == plugin.UNAVAILABLE[state]
    for endpoint_id, result in run.endpoints.items():
        cells = {s: c.outcome for s, c in result.cells.items()}
        assert cells["valid"] == "as-valid", endpoint_id
        if endpoint_id in NO_TOKEN_NEEDED:
            # Served like everyone: the bad credentials and presentations are ignored there.
            assert result.verdict == "public" and cells["anonymous"] == "as-valid"
            assert {o for s, o in cells.items() if s not in ("valid", "anonymous")} <= {"ignored", "n/a"}
        elif endpoint_id == "spec":  # a page handler: a refused token is sent to the login page
            assert {cells[s] for s in BAD_REFUSED} == {"redirect"}
            assert result.verdict == "inconclusive"
        else:
            # Every bad credential and no credential at all: 403.
            assert {cells[s] for s in BAD_REFUSED} == {"forbidden"}, (endpoint_id, cells)
            assert result.verdict == "fails-closed", endpoint_id
        if endpoint_id not in NO_TOKEN_NEEDED:
            assert {cells[s] for s in PRESENTATIONS} == {"as-valid"}, (endpoint_id, cells)
    me = run.endpoints["me"].cells
    assert me["valid"].observation.fields == {"/identity": "present"}
    assert me["anonymous"].observation.status == 403


def test_jupyter_signals_and_no_token_in_the_data(jupyter_run):
    project, _run, answers, _lines = jupyter_run
    local = answers.target("local")
    assert local is not None and local.recognition.recognised
    labels = {(s.meaning, s.label()) for s in local.recommended}
    # Jupyter sets its username cookie only on a request whose token it accepted.
    assert ("credential accepted", "set-cookie present") in labels
    # Every endpoint but /api and the spec page checks a token.
    candidates = [c.path for c in local.token_check.candidates]
    assert set(candidates) == {"/api/status", "/api/me", "/api/contents", "/api/contents/{path}",
                               "/api/contents/{file}/checkpoints", "/api/kernels", "/api/kernelspecs",
                               "/api/sessions", "/api/terminals", "/api/config/{section_name}"}
    # Most useful first: every one refuses with 403 (no unprivileged user to tell it from "no
    # rights"); those needing no fixture value come first, and of those the one naming the caller.
    best = local.token_check.candidates[0]
    assert (best.method, best.path, best.identity, best.parameters) == ("GET", "/api/me", True, ())
    assert "malformed" in best.refusals and "→ 403" in best.refusals  # what every bad state gets there
    data = (project.data / "observations" / "jupyter-server" / "local.json").read_text()
    assert "Jt~" not in data  # every generated token starts so (plugin.make_token)


def test_recipe_in_the_token_scheme_runs_against_jupyter(jupyter_run, tmp_path):
    """The guide's script and curl line present the token as `Authorization: token …` and, run
    as pasted against a real Jupyter Server, tell its token from a made-up one."""
    import html
    import subprocess
    import sys

    from catalog.site.build import render_pages

    project = jupyter_run[0]
    hooks = Hooks()
    page = {p.path: p.text for p in render_pages(load_publication(project, hooks), project.site, hooks)}["apis/jupyter-server/guide.md"]
    script = re.search(r'<code class="language-python authcat-recipe" data-target="local">(.*?)</code>', page, re.S)
    curl = re.search(r'<code class="language-shell authcat-curl" data-target="local">(.*?)</code>', page, re.S)
    assert script and curl
    code, line = html.unescape(script.group(1)), html.unescape(curl.group(1))
    assert "'Authorization': 'token ' + TOKEN" in code and "-H 'Authorization: token '" in line
    path = tmp_path / "recipe.py"
    path.write_text(code)
    ctx = LaunchContext("jupyter-server", tmp_path / "cache", tmp_path / "scratch", {}, lambda m: None)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("API_")}
    with plugin.launch_jupyter(ctx) as launched:
        token = launched.credentials.get("valid").secret

        def run(secret: str) -> str:
            env = {**clean, "API_BASE_URL": launched.base_url, "API_TOKEN": secret}
            done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, env=env)
            assert done.returncode == 0, done.stderr
            return done.stdout

        assert "token check: accepted" in run(token)
        assert "token check: rejected" in run("Jt~made+up/AB=")
        env = {**clean, "API_BASE_URL": launched.base_url, "API_TOKEN": token}
        shown = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60, env=env)
        assert shown.returncode == 0 and shown.stdout.startswith("HTTP/1.1 200")

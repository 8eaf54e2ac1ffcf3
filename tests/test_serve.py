"""``authcat serve``: the live preview builds, serves on 127.0.0.1, rebuilds on a change, and keeps
serving the last good build when a rebuild fails. Run as a real subprocess on a free port."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from catalog.commands.serve import BUILD_ID_PATH, watched
from catalog.runs.lock import project_lock
from catalog.targets.process import free_port
from tests.support.browser import copy_project
from tests.support.project import make_project, start_cli

DEADLINE_S = 90  # a build takes a few seconds; a loaded CI machine gets a generous bound


def wait_for(what: str, check, proc: subprocess.Popen, log: Path, timeout: float = DEADLINE_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"authcat serve exited ({proc.returncode}) while waiting for {what}:\n{log.read_text()}")
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout} s waiting for {what}:\n{log.read_text()}")


def _serve(root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with log.open("w") as out:
        proc = start_cli(root, "serve", "--port", str(port), "--interval", "0.5", env={"PYTHONUNBUFFERED": "1"}, stdout=out)
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def served(tmp_path):
    # The two APIs the test reads or edits: each of its four builds renders theirs alone.
    root = copy_project(tmp_path / "project", apis=["jira-cloud", "datasette"])
    log = tmp_path / "serve.log"
    proc, base = _serve(root, log)
    try:
        yield root, base, proc, log
    finally:
        _stop(proc)


def get(base: str, path: str) -> httpx.Response:
    return httpx.get(base + path, timeout=5)


@pytest.mark.slow
def test_serve_rebuilds_on_change_and_keeps_the_last_good_build(served):
    root, base, proc, log = served
    home = wait_for("the first page", lambda: (r := get(base, "/")).status_code == 200 and r, proc, log)
    assert "authcat" in home.text
    assert BUILD_ID_PATH in home.text  # pages poll the build number and reload after a rebuild
    assert get(base, BUILD_ID_PATH).text == "1"
    assert get(base, "/apis/jira-cloud/index.html").status_code == 200
    assert home.headers["cache-control"] == "no-store"

    # A template edit is served after the rebuild.
    template = root / "site" / "templates" / "home.md.j2"
    original = template.read_text()
    template.write_text(original + "\n<p>preview-marker-one</p>\n")
    wait_for("the edited template", lambda: "preview-marker-one" in get(base, "/").text, proc, log)
    # The new build is swapped in a moment before its number is bumped: wait for the number too.
    wait_for("build number 2", lambda: get(base, BUILD_ID_PATH).text == "2", proc, log)

    # A broken template: the error is printed, the last good build is still served.
    template.write_text(original + "\n<p>preview-marker-one</p>\n{% if %}\n")
    wait_for("the rebuild error", lambda: "rebuild failed" in log.read_text(), proc, log)
    assert "home.md.j2" in log.read_text()
    page = get(base, "/")
    assert page.status_code == 200 and "preview-marker-one" in page.text
    assert get(base, BUILD_ID_PATH).text == "2"

    # A definition edit (endpoints/) is picked up too, once the template is fixed.
    template.write_text(original)
    api_yaml = root / "endpoints" / "datasette" / "api.yaml"
    api_yaml.write_text(api_yaml.read_text().replace("title:", "title: Previewed", 1))
    wait_for("the edited definition", lambda: "Previewed" in get(base, "/apis/datasette/index.html").text, proc, log)
    assert "preview-marker-one" not in get(base, "/").text

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert "stopped" in log.read_text()


def test_only_the_sources_of_the_site_are_watched(tmp_path):
    sources = ["endpoints/a/api.yaml", "site/templates/x.j2", "site/docs/p.md", "site/data/o.json"]
    ignored = ["site/build/index.html", "site/generated/index.md", "site/templates/.x.j2.swp", "site/docs/p.md~",
               "site/docs/#p.md#", "site/docs/p.md.tmp", "README.md", "../elsewhere/endpoints/a.yaml"]
    assert [rel for rel in sources + ignored if watched(tmp_path, str(tmp_path / rel))] == sources


def test_serve_builds_only_while_it_holds_the_project_lock(tmp_path):
    """A build or run in progress holds the lock: the preview's first build waits for it, and a
    rebuild triggered meanwhile waits for the next poll instead of sharing the staging folder."""
    root = make_project(tmp_path / "project", "lk", [{"id": "ok", "method": "GET", "path": "/ok"}],
                        {"name": "remote", "base_url_env": "LK_URL"})
    log = tmp_path / "serve.log"
    built = root / "site" / "build" / "index.html"
    with project_lock(root, "build"):  # another command holds the project when serve starts
        proc, base = _serve(root, log)
        try:
            wait_for("the busy message", lambda: "is busy" in log.read_text(), proc, log)
            time.sleep(1.5)
            assert not built.exists() and "built " not in log.read_text()
        except BaseException:
            _stop(proc)
            raise
    try:
        wait_for("the first build", lambda: get(base, BUILD_ID_PATH).text == "1", proc, log)
        assert "is busy: `authcat build` (pid " in log.read_text()  # the busy message names the holder
        assert "--wait" not in log.read_text()  # serve has no --wait: it waits on its own
        page = root / "site" / "templates" / "home.md.j2"
        with project_lock(root, "run"):
            page.write_text(page.read_text() + "\n\nlock-marker-two\n")
            wait_for("the second busy message", lambda: log.read_text().count("is busy") == 2, proc, log)
            time.sleep(1.5)  # three polls: none rebuilds while the lock is held
            assert get(base, BUILD_ID_PATH).text == "1" and log.read_text().count("built ") == 1
        wait_for("the rebuild after the lock", lambda: get(base, BUILD_ID_PATH).text == "2", proc, log)
        assert "lock-marker-two" in get(base, "/").text
    finally:
        _stop(proc)

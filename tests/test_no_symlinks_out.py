"""No symlinks out (site/docs/security.md, rule 5): a contributed symlink that leaves the project —
in site/docs, site/templates, site/data or endpoints — is an error naming it; nothing it points at
is read, copied or published, and the previous site stays as it was. In the site's sources a link
inside the project is refused too (it could name .git/config: tests/test_build_isolation.py); in
endpoints/ it is followed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.canary import Canary
from tests.support.project import make_project, run_cli

ENDPOINTS = [{"id": "ok", "method": "GET", "path": "/ok", "summary": "ok"}]


@pytest.fixture(scope="module")
def built_once(tmp_path_factory) -> Path:
    """A project with a built site: built once, copied for each test (a build takes seconds)."""
    root = make_project(tmp_path_factory.mktemp("links") / "p", "links", ENDPOINTS, {"name": "t", "base_url_env": "T_URL"})
    first = run_cli(root, "build")
    assert first.returncode == 0, first.stderr
    return root


@pytest.fixture()
def built(built_once, tmp_path):
    """A copy of the built project, and a file outside it holding a canary (the machine's secret)."""
    canary = Canary.new()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "netrc").write_text(f"machine example.test login {canary.identity} password {canary.secret}\n")
    (outside / "folder").mkdir()
    (outside / "folder" / "page.md").write_text(f"# Leaked\n\n{canary.secret}\n")
    root = tmp_path / "p"
    shutil.copytree(built_once, root, symlinks=True)
    return root, outside, canary


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where, target", [
    ("site/docs/leak.md", "netrc"),
    ("site/docs/assets/leak.css", "netrc"),
    ("site/docs/sub", "folder"),
    ("site/templates/_leak.j2", "netrc"),
    ("site/data/observations/links/t.json", "netrc"),
    ("site/docs/dangling.md", "missing"),
])
def test_a_link_out_of_the_site_sources_fails_the_build_and_keeps_the_old_site(built, where, target):
    root, outside, canary = built
    before = snapshot(root / "site" / "build")
    link = root / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside / target)
    result = run_cli(root, "build")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{where}:0: (file): is a symlink to something outside the project" in result.stderr
    assert snapshot(root / "site" / "build") == before, "the previous site is untouched"
    assert canary.find(result.stdout + result.stderr) == []
    assert canary.find_in_tree(root / "site" / "build") == {}


def test_a_link_out_of_endpoints_is_a_lint_error(built):
    root, outside, canary = built
    (root / "endpoints" / "links" / "stolen.yaml").symlink_to(outside / "netrc")
    (root / "endpoints" / "links" / "targets" / "x.yaml").symlink_to(outside / "netrc")
    for command in ("lint", "run", "build"):
        result = run_cli(root, command, env={"T_URL": "http://127.0.0.1:9"})
        assert result.returncode == 2 and "Traceback" not in result.stderr, (command, result.stderr)
        assert "endpoints/links/stolen.yaml:0: (file): is a symlink" in result.stderr
        assert "endpoints/links/targets/x.yaml:0: (file): is a symlink" in result.stderr
        assert canary.find(result.stdout + result.stderr) == []


def test_a_link_inside_the_project_is_refused_in_the_site_sources(built):
    root, _, _ = built
    before = sorted(p.name for p in (root / "site" / "build").iterdir())
    (root / "site" / "docs" / "again.md").symlink_to(root / "site" / "docs" / "contributing.md")
    result = run_cli(root, "build")
    assert result.returncode == 2 and "site/docs/again.md:0: (file): is a symlink" in result.stderr, result.stderr
    assert sorted(p.name for p in (root / "site" / "build").iterdir()) == before  # the previous site stays

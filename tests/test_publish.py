"""The site swap (``catalog.site.publish``): the published folder is the old build or the new one, and
what is swapped in already holds ``catalog.json``."""

from __future__ import annotations

import pytest

import catalog.site.build
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, build
from catalog.site import publish as pub
from tests.support.project import make_project


def _site(folder, text):
    folder.mkdir()
    (folder / "index.html").write_text(text)
    (folder / "catalog.json").write_text("{}")
    return folder


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    live, staging = _site(tmp_path / "build", "old"), _site(tmp_path / "staging", "new")
    if not pub.exchange(staging, live):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here; the two-rename path is tested below")
    assert (live / "index.html").read_text() == "new" and (staging / "index.html").read_text() == "old"


def test_publish_replaces_the_site_and_leaves_nothing_behind(tmp_path):
    live, staging = _site(tmp_path / "build", "old"), _site(tmp_path / "staging", "new")
    pub.publish(staging, live)
    assert (live / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]


def test_two_rename_fallback_cut_in_the_middle_is_recovered(tmp_path, monkeypatch):
    """Where the exchange is not available: a kill between ``build → .build-old`` and
    ``staging → build`` leaves only the old copy, which the next build puts back first."""
    monkeypatch.setattr(pub, "exchange", lambda a, b: False)
    live = tmp_path / "build"
    _site(pub.old_copy(live), "old")  # the state a kill between the two renames leaves
    pub.recover(live)
    assert (live / "index.html").read_text() == "old" and not pub.old_copy(live).exists()
    pub.publish(_site(tmp_path / "staging", "new"), live)
    assert (live / "index.html").read_text() == "new" and not pub.old_copy(live).exists()


def test_the_build_swaps_in_a_folder_that_already_holds_the_export(tmp_path, monkeypatch):
    seen = []
    real = catalog.site.build.publish

    def spy(staging, live):
        seen.append(sorted(p.name for p in staging.iterdir() if p.name.startswith("catalog")))
        real(staging, live)

    monkeypatch.setattr(catalog.site.build, "publish", spy)
    root = make_project(tmp_path / "proj", "swapped", [{"id": "ok", "method": "GET", "path": "/ok"}],
                        {"name": "remote", "base_url_env": "SWAPPED_URL"})
    project = Project(root)
    build(project, Hooks())
    assert seen == [["catalog.json", "catalog.schema.json"]]
    assert (project.site.build / "catalog.json").is_file()

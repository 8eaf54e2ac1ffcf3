"""``catalog.json`` written by a second process while MkDocs runs (``catalog.site.export_beside``):
the same files as written in the build's own process; a failure on either side stops the build
with no process and no folder left behind and the previous site whole."""

from __future__ import annotations

import multiprocessing
import os
import re

import pytest

from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, build
from catalog.site import export_beside
from catalog.site.export_beside import ExportBeside
from tests.support.project import fail_each_page, make_project

ENDPOINTS = [{"id": f"op{i}", "method": "GET", "path": f"/things/{i}", "summary": f"Thing {i}."} for i in range(6)]


@pytest.fixture()
def root(tmp_path):
    return make_project(tmp_path / "p", "besidex", ENDPOINTS, {"name": "remote", "base_url_env": "BESIDEX_URL"})


def _files(root):
    built = root / "site" / "build"
    return {name: (built / name).read_bytes() for name in ("catalog.json", "catalog.schema.json")}


def _undated(data: bytes) -> bytes:
    return re.sub(rb'"generated":"[^"]*"', b'"generated":"(time)"', data)


def _leftovers(root) -> list[str]:
    return [p.name for p in (root / "site").iterdir() if p.name.startswith(".build")]


def test_the_export_written_beside_is_the_one_written_in_process(root, monkeypatch):
    workers = []
    real = ExportBeside.start

    def start(self):
        real(self)
        workers.append(self.worker.pid)

    monkeypatch.setattr(ExportBeside, "start", start)
    build(Project(root), Hooks())
    beside = _files(root)
    assert workers and workers[0] != os.getpid()
    assert (root / "site" / "build" / "catalog.json").stat().st_mode & 0o777 == 0o644

    monkeypatch.setattr(ExportBeside, "start", lambda self: None)  # written here, after MkDocs
    build(Project(root), Hooks())
    alone = _files(root)
    assert b'"id":"op5"' in alone["catalog.json"]
    assert _undated(beside["catalog.json"]) == _undated(alone["catalog.json"])
    assert beside["catalog.schema.json"] == alone["catalog.schema.json"]
    assert multiprocessing.active_children() == [] and _leftovers(root) == []


def test_a_failed_mkdocs_build_leaves_no_export_process(root, monkeypatch):
    build(Project(root), Hooks())
    before = _files(root)

    fail_each_page(monkeypatch)
    with pytest.raises(OSError):
        build(Project(root), Hooks())
    assert multiprocessing.active_children() == []
    assert _files(root) == before and _leftovers(root) == []


def test_a_failed_export_names_its_file_and_keeps_the_previous_site(root, monkeypatch):
    build(Project(root), Hooks())
    before = _files(root)

    def full(publication, folder):
        raise OSError(28, "No space left on device", str(folder / "catalog.json"))

    monkeypatch.setattr(export_beside, "write_export", full)  # runs in the worker
    with pytest.raises(OSError) as caught:
        build(Project(root), Hooks())
    assert caught.value.errno == 28
    assert caught.value.filename == str(root / "site" / ".build-staging" / "catalog.json")
    assert multiprocessing.active_children() == []
    assert _files(root) == before and _leftovers(root) == []

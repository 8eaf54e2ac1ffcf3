"""The search index parsed in a second process (``catalog.site.search_beside``): the same index the
search plugin builds by itself, and no process left behind by a failed build."""

from __future__ import annotations

import multiprocessing
import re

import pytest

from catalog.hooks.manager import Hooks
from catalog.pipeline import Project, build
from catalog.site.search_beside import SearchBeside
from tests.support.project import fail_each_page, make_project

ENDPOINTS = [{"id": f"op{i}", "method": "GET", "path": f"/things/{i}/items", "summary": f"Lists the items of thing {i}."}
             for i in range(12)]


@pytest.fixture()
def root(tmp_path):
    return make_project(tmp_path / "p", "beside", ENDPOINTS, {"name": "remote", "base_url_env": "BESIDE_URL"})


def test_the_index_built_beside_is_the_one_the_plugin_builds(root, monkeypatch):
    sent = []
    real = SearchBeside._send

    def send(self, page):
        sent.append(page.url)
        real(self, page)

    monkeypatch.setattr(SearchBeside, "_send", send)
    build(Project(root), Hooks())
    beside = (root / "site" / "build" / "search" / "search_index.json").read_bytes()
    assert "apis/beside/things.html" in sent, sent  # the worker indexed the pages

    monkeypatch.setattr(SearchBeside, "on_pre_build", lambda self, config: None)  # the plugin alone
    build(Project(root), Hooks())
    alone = (root / "site" / "build" / "search" / "search_index.json").read_bytes()
    assert b'"location":"apis/beside/things.html#op1"' in alone
    assert _undated(beside) == _undated(alone)


def _undated(index: bytes) -> bytes:
    """The index without the home page's "Generated <time>" (two builds, two times)."""
    return re.sub(rb"Generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"Generated (time)", index)


def test_a_failed_build_leaves_no_index_process(root, monkeypatch):
    fail_each_page(monkeypatch)
    with pytest.raises(OSError):
        build(Project(root), Hooks())
    assert multiprocessing.active_children() == []
    assert not (root / "site" / "build").exists()

"""``serve``'s watch: an edit made before the file events begin (during the first build, or while
the preview server starts) still rebuilds. The real watchfiles watch, on a real folder."""

from __future__ import annotations

import threading
from pathlib import Path

from catalog.commands.serve import files, watch


def _project(root: Path) -> Path:
    for rel in ("endpoints/a/api.yaml", "site/templates/home.md.j2", "site/docs/p.md", "site/build/index.html"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("one\n")
    return root


def _watch_once(root: Path, since: dict | None) -> list[list[str]]:
    """The rebuilds the watch asks for within its first few intervals."""
    asked: list[list[str]] = []
    stop = threading.Event()

    def rebuild(changed: list[str]) -> bool:
        asked.append(changed)
        stop.set()
        return True

    thread = threading.Thread(target=watch, args=(root, rebuild, stop, 0.2), kwargs={"since": since}, daemon=True)
    thread.start()
    thread.join(timeout=2)  # no event comes: the watch times out each 0.2 s until stopped
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    return asked


def test_an_edit_before_the_watch_begins_is_rebuilt(tmp_path):
    root = _project(tmp_path)
    before = files(root)
    (root / "site/templates/home.md.j2").write_text("two, and longer\n")  # as if during the first build
    (root / "site/docs/new.md").write_text("new\n")
    (root / "site/build/index.html").write_text("the build's own output\n")  # not a source: no rebuild
    assert _watch_once(root, before) == [["site/docs/new.md", "site/templates/home.md.j2"]]


def test_without_an_edit_nothing_is_rebuilt(tmp_path):
    root = _project(tmp_path)
    assert _watch_once(root, files(root)) == []


def test_files_lists_only_the_sources(tmp_path):
    root = _project(tmp_path)
    (root / "site/docs/.p.md.swp").write_text("editor\n")
    assert sorted(files(root)) == ["endpoints/a/api.yaml", "site/docs/p.md", "site/templates/home.md.j2"]

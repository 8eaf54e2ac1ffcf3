"""A MkDocs plugin for the kill tests: SIGKILLs its own process at a named point of a site build
(``SITEKILL_AT`` = ``page`` or ``post-build``), so a test knows exactly where the build
died instead of racing it with a timer. Registered through a throw-away ``.dist-info``."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from mkdocs.plugins import BasePlugin


class KillPlugin(BasePlugin):
    def _maybe_die(self, point: str) -> None:
        if os.environ.get("SITEKILL_AT") == point:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_page_content(self, html, **kwargs):
        self._maybe_die("page")
        return html

    def on_post_build(self, config, **kwargs):
        self._maybe_die("post-build")  # every page is written to staging; nothing is swapped yet


def install(folder: Path) -> Path:
    """Write a distribution whose ``mkdocs.plugins`` entry point is :class:`KillPlugin`."""
    dist = folder / "authcat_test_killplugin-0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: authcat-test-killplugin\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[mkdocs.plugins]\nauthcat-test-kill = tests.servers.kill_plugin:KillPlugin\n")
    return folder

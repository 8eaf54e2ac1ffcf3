"""Every snippet of every bundled local target, run against the very server it was observed on,
gets the status of its cell: the curl command through bash, the httpx snippet in this process
(tests/support/snippets.py). Matrix's are replayed in tests/test_synapse.py, on that module's
Synapse before its run's writes: one Synapse start fewer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from catalog.hooks.manager import Hooks
from catalog.targets.profiles import TargetPool
from tests.support.project import CACHE, copy_project
from tests.support.snippets import HAS_CURL, replay_reads

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAS_CURL, reason="needs curl")]

BUNDLED = [("jupyter-server", "local"), ("datasette", "local"), ("jira-cloud", "backlot"),
           ("confluence-cloud", "backlot")]


@pytest.fixture(scope="module")
def pool():
    """One pool for the module, as one `authcat run` has: Jira and Confluence are served by the
    same Backlot (one start instead of two); each server starts when its first API is replayed."""
    with tempfile.TemporaryDirectory() as scratch, \
            TargetPool(Hooks().launchers, CACHE, Path(scratch), log=lambda m: None) as pool:
        yield pool


@pytest.mark.timeout(600)
@pytest.mark.parametrize("api,target_name", BUNDLED)
def test_every_snippet_reproduces_its_cell(api, target_name, tmp_path, pool):
    root = copy_project(tmp_path / "project", with_data=False)
    got = replay_reads(api, target_name, root, pool)
    assert got.checked > 0
    assert not got.problems, (f"{len(got.problems)} of {got.checked} snippets differ from their cells:\n"
                              + "\n".join(got.problems[:30]))

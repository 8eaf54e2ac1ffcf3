"""Shared fixtures: copies of the project to run authcat in, and one real bundled run per session.

Tests never touch the repository's own ``site/data``: they work on copies in tmp folders. The
launchers' caches (Backlot's imported corpus) live in the repo's ``.cache/authcat`` so a prepared
corpus is reused between tests and runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.engine.runner import CACHE_ENV, RunOptions
from catalog.hooks.manager import Hooks
from catalog.pipeline import Project
from tests.support.project import CACHE, copy_project

UNIT = Path(__file__).parent / "unit"


# Modules that share a session fixture run on one pytest-xdist worker, so its servers start once.
SHARED_SESSION = {"test_backlot_catalog": "bundled_run", "test_export": "bundled_run",
                  # tests/support/runs.py: both Datasette releases probed once per process
                  "test_check": "datasette_versions", "test_drift": "datasette_versions"}


def group_of(module: str) -> str:
    """The xdist group of a test module (its path relative to tests/)."""
    return SHARED_SESSION.get(Path(module).stem, module)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` by :func:`group_of`, the longest groups first (tests/support/schedule.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.support.schedule import make_scheduler

    return make_scheduler(group_of, config.rootpath / ".cache" / "last-test-run.xml")(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marked by folder: ``tests/unit`` is the fast layer (``-m unit``), everything else runs the
    real thing (servers, processes, the built site) and is ``e2e``.

    Each test also gets an ``xdist_group``: its module, so a module's fixtures (a browser, a
    server, a built site) are set up once on the worker that runs the whole module
    (``scripts/run-tests`` runs ``-n auto --dist loadgroup``, scheduled by
    :func:`pytest_xdist_make_scheduler`); modules sharing a session fixture share a group.
    """
    for item in items:
        item.add_marker(pytest.mark.unit if item.path.is_relative_to(UNIT) else pytest.mark.e2e)
        item.add_marker(pytest.mark.xdist_group(group_of(str(item.path.relative_to(UNIT.parent)))))


@pytest.fixture(autouse=True, scope="session")
def _shared_cache():
    os.environ.setdefault(CACHE_ENV, str(CACHE))
    yield


@pytest.fixture
def project(tmp_path) -> Project:
    """A fresh copy of the project with the committed observations."""
    return Project(copy_project(tmp_path / "project"))


@pytest.fixture
def empty_project(tmp_path) -> Project:
    """A copy of the project without any observations."""
    return Project(copy_project(tmp_path / "project", with_data=False))


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory):
    """One real probe run of the bundled Atlassian APIs on Backlot, shared by the session.

    Returns the project (observations written) and the runs.
    """
    from catalog.pipeline import probe

    root = copy_project(tmp_path_factory.mktemp("bundled"), with_data=False)
    project = Project(root)
    options = RunOptions(apis=["jira-cloud", "confluence-cloud"], refresh=True, log=lambda m: None)
    runs, _ = probe(project, Hooks(), options)
    return project, {(r.api, r.target): r for r in runs}


@pytest.fixture(scope="session")
def committed_site(tmp_path_factory) -> Path:
    """A copy of the project with the committed catalog built once per run and shared by every
    worker (tests/support/browser.py): read it, never change it."""
    from tests.support.browser import committed_site, run_folder

    return committed_site(run_folder(tmp_path_factory))


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per test module (tests/support/browser.py). Not per session:
    Playwright's sync API keeps an event loop running in the thread while it is open, and every
    later test of that worker that calls ``asyncio.run`` (the engine's, most of the suite) fails."""
    from tests.support.browser import chromium  # Playwright is loaded only by the tests that use it

    with chromium() as b:
        yield b

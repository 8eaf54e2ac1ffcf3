"""The repository stands alone: a clone in an empty folder, away from anything that happens to sit
beside this checkout, lints, builds its catalog from the committed data and passes the tests that
read the vendor specs — with the clone's own code, not this checkout's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.project import REPO, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A ``git clone`` of this repository (committed files only) and an environment whose imports
    resolve to the clone: ``catalog`` from its root, ``authcat_plugins`` from its ``plugins/``."""
    where = tmp_path_factory.mktemp("elsewhere")
    root = where / "authcat"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(root)], check=True, timeout=120,
                   stdin=subprocess.DEVNULL)
    shim = where / "import-shim"
    shim.mkdir()
    (shim / "authcat_plugins").symlink_to(root / "plugins", target_is_directory=True)
    env = {"PYTHONPATH": os.pathsep.join([str(root), str(shim)]), "AUTHCAT_CACHE_DIR": str(where / "cache")}
    return root, env


def test_nothing_refers_outside_the_repository(clone):
    root, _ = clone
    found = subprocess.run(["git", "grep", "-nIE", r"\.\./shared|/work/shared", "--", ".",
                            ":(exclude)tests/test_standalone.py"], cwd=root,
                           capture_output=True, text=True, check=False)
    assert found.returncode == 1 and found.stdout == "", found.stdout
    assert "shared" not in {p.name for p in root.parent.iterdir()}  # nothing to lean on beside the clone


def test_the_clone_runs_its_own_code(clone):
    root, env = clone
    code = "import catalog, authcat_plugins; print(catalog.__file__); print(authcat_plugins.__file__)"
    probe = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                           cwd=root, capture_output=True, text=True, check=True)
    files = [Path(line).resolve() for line in probe.stdout.split()]
    assert len(files) == 2 and all(f.is_relative_to(root) for f in files), probe.stdout


def test_make_catalog_in_the_clone_builds_from_the_committed_data(clone):
    """``make catalog`` is ``authcat run``: with the committed observations current, it starts no
    server, probes nothing, leaves site/data as committed and publishes the site and export."""
    root, env = clone
    lint = run_cli(root, "lint", env=env)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    result = run_cli(root, "run", env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert " 0 probes" in out and "probes, 0 endpoints reused" not in out, out
    export = json.loads((root / "site" / "build" / "catalog.json").read_text())
    assert {api["name"] for api in export["apis"]} >= {"jira-cloud", "confluence-cloud", "datasette",
                                                       "jupyter-server", "matrix"}
    status = subprocess.run(["git", "status", "--porcelain", "--", "site/data", "endpoints"], cwd=root,
                            capture_output=True, text=True, check=True)
    assert status.stdout == "", f"a current run changed committed files:\n{status.stdout}"


def test_the_spec_tests_pass_in_the_clone(clone):
    root, env = clone
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_openapi_import.py",
         "tests/test_matrix_import.py"],
        cwd=root, env={**os.environ, **env}, capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout

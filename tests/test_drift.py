"""``authcat diff``: what moved between two runs — on synthetic runs, then between two real
Datasette releases (1.0a35 serves a token failing verification as anonymous; 1.0a41 answers 401).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.commands.drift import pair_runs
from catalog.model.judgement import SERVED_2XX
from catalog.runs.store import Store
from tests.support.runs import authcat, clone, datasette_versions, make_run, outcomes, write_run

DATE1, DATE2 = "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"


def _pair(tmp_path: Path):
    old = make_run("demo", "local", "1.0", DATE1, {
        "a": {"valid": ("as-valid", 200), "expired": ("as-anonymous", 200), "forged": ("rejected", 401)},
        "b": {"valid": ("as-valid", 200), "expired": ("rejected", 401)},
    })
    new = make_run("demo", "local", "2.0", DATE2, {
        "a": {"valid": ("as-valid", 200), "expired": ("rejected", 401), "forged": ("as-anonymous", 200)},
        "b": {"valid": ("as-valid", 200), "expired": ("rejected", 401)},
    })
    return write_run(tmp_path / "old", old), write_run(tmp_path / "new", new)


def test_diff_prints_only_cells_that_moved(project, tmp_path):
    old, new = _pair(tmp_path)
    done = authcat("diff", str(old), str(new), cwd=project.root)
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert lines == [
        "GET /a  expired: as-anonymous → rejected",
        "GET /a  forged: rejected → as-anonymous   [regression]",
    ]
    assert "local (1.0, 2025-01-01T00:00:00Z) → local (2.0, 2025-02-01T00:00:00Z): 2 of 5 cells moved" in done.stdout


def test_diff_json_and_folders(project, tmp_path):
    _pair(tmp_path)
    done = authcat("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--json", cwd=project.root)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (comparison,) = data["comparisons"]
    assert comparison["old"]["target_version"] == "1.0" and comparison["new"]["target_version"] == "2.0"
    assert comparison["compared"] == 5
    moved = {(c["endpoint"], c["state"]): (c["before"], c["after"], c["regression"]) for c in comparison["changes"]}
    assert moved == {("a", "expired"): ("as-anonymous", "rejected", False), ("a", "forged"): ("rejected", "as-anonymous", True)}


def test_diff_defaults_to_previous_and_current(empty_project):
    project = empty_project
    store = Store(project.data)
    store.write(make_run("demo", "local", "1.0", DATE1, {"a": {"expired": ("as-anonymous", 200)}}))
    store.write(make_run("demo", "local", "2.0", DATE2, {"a": {"expired": ("rejected", 401)}}))
    assert store.path("demo", "local", previous=True).exists()
    done = authcat("diff", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert "GET /a  expired: as-anonymous → rejected" in done.stdout


def test_folders_skip_replaced_and_interrupted_runs(project, tmp_path):
    old, _new = _pair(tmp_path)
    stale = make_run("demo", "local", "0.9", DATE1, {"a": {"expired": ("partial", 200)}})
    for suffix in (".previous.json", ".partial.json"):
        (old.parent / f"local{suffix}").write_text(json.dumps(stale.to_dict()))
    (tmp_path / "old" / "changes.json").write_text("[]")
    done = authcat("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--json", cwd=project.root)
    assert done.returncode == 0, done.stderr
    (comparison,) = json.loads(done.stdout)["comparisons"]
    assert comparison["old"]["target_version"] == "1.0" and len(comparison["changes"]) == 2


def test_diff_without_previous_run_says_so(empty_project):
    done = authcat("diff", cwd=empty_project.root)
    assert done.returncode == 0
    assert "nothing to compare" in done.stdout


def test_diff_bad_input_is_a_clear_error(project, tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"not": "observations"}')
    done = authcat("diff", str(bogus), str(bogus), cwd=project.root)
    assert done.returncode == 2 and "bogus.json" in done.stderr and "not an authcat observation file" in done.stderr
    done = authcat("diff", str(bogus), cwd=project.root)
    assert done.returncode == 2 and "give both OLD and NEW" in done.stderr


def test_pairing_by_target_then_by_api():
    a_local = make_run("a", "local", "1", DATE1, {})
    a_old = make_run("a", "old", "0", DATE1, {})
    b_x, b_y, b_z = (make_run("b", t, "1", DATE1, {}) for t in ("x", "y", "z"))
    pairs, unpaired = pair_runs([a_local, b_x, b_y], [a_old, b_x, b_z])
    # Same target first (b/x), then the single leftover of each side per API (a: local/old, b: y/z).
    assert [(o.target, n.target) for o, n in pairs] == [("local", "old"), ("x", "x"), ("y", "z")]
    assert unpaired == []
    # Several leftovers of one API: which pairs with which is unknown, so nothing is guessed.
    pairs, unpaired = pair_runs([b_x, b_y], [b_z, make_run("b", "w", "1", DATE1, {})])
    assert pairs == [] and sorted(r.target for r in unpaired) == ["w", "z"]


# --- two real Datasette releases ---------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    return datasette_versions(tmp_path_factory)


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run builds the 1.0a35 venv with pip
def test_diff_between_datasette_1_0a35_and_1_0a41(versions):
    old_file, new_file = versions.observations("old"), versions.observations("new")
    done = authcat("diff", str(old_file), str(new_file), "--json", cwd=versions.new)
    assert done.returncode == 0, done.stderr
    (comparison,) = json.loads(done.stdout)["comparisons"]
    assert (comparison["old"]["target_version"], comparison["new"]["target_version"]) == ("1.0a35", "1.0a41")
    reported = {(c["endpoint"], c["state"]): (c["before"], c["after"]) for c in comparison["changes"]}

    # Exactly the cells whose outcomes differ in the two files, read without authcat.
    before, after = outcomes(old_file), outcomes(new_file)
    assert set(before) == set(after)
    differ = {k for k in before if before[k] != after[k]}
    assert set(reported) == differ
    assert all(reported[k] == (before[k], after[k]) for k in differ)

    # Every expired and forged cell moved, to rejected; from a 2xx wherever 1.0a35 served it.
    bad = {k for k in before if k[1] in ("expired", "forged")}
    assert len(bad) == 2 * len({e for e, _ in before}) and bad <= differ
    assert all(after[k] == "rejected" for k in bad)
    served = {k for k in bad if before[k] in SERVED_2XX}
    assert {("actor", "expired"), ("actor", "forged"), ("instance", "expired")} <= served
    assert all(before[k] == "forbidden" for k in bad - served)  # root-only data: 403 then, 401 now

    text = authcat("diff", str(old_file), str(new_file), cwd=versions.new).stdout
    assert "GET /-/actor.json  expired: as-anonymous → rejected" in text
    assert "GET /-/actor.json  forged: as-anonymous → rejected" in text
    assert "GET /-/actor.json  valid:" not in text  # unchanged cells are not printed
    print(f"\n{text}\ntimings: {versions.seconds}")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_run_on_another_release_logs_the_changes(versions, tmp_path):
    """Same target, new server version: the run appends what moved to the change log."""
    root = clone(versions.new, tmp_path / "project")
    local = root / "endpoints" / "datasette" / "targets" / "local.yaml"
    local.write_text(local.read_text().replace(
        "launcher: datasette\n", f"launcher: datasette\noptions:\n  python: {json.dumps(str(versions.old_python))}\n"))
    done = authcat("probe", "--api", "datasette", "--target", "local", cwd=root)
    assert done.returncode == 0, done.stderr
    data = root / "site" / "data"
    current = data / "observations" / "datasette" / "local.json"
    previous = data / "observations" / "datasette" / "local.previous.json"
    assert previous.read_bytes() == versions.observations("new").read_bytes()
    log = json.loads((data / "changes.json").read_text())
    before, after = outcomes(previous), outcomes(current)
    assert {(e["endpoint"], e["state"]) for e in log} == {k for k in before if before[k] != after[k]}
    date = json.loads(current.read_text())["run"]["date"]
    for entry in log:
        assert (entry["api"], entry["target"], entry["date"]) == ("datasette", "local", date)
        assert (entry["previous_version"], entry["target_version"]) == ("1.0a41", "1.0a35")
        assert entry["before"] == before[(entry["endpoint"], entry["state"])]
    assert any(e["endpoint"] == "actor" and e["state"] == "expired" and e["regression"] for e in log)
    # `authcat diff` with no arguments compares the same two files.
    assert "GET /-/actor.json  expired: rejected → as-anonymous" in authcat("diff", cwd=root).stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_scheme_case_is_observed_and_shown(versions):
    """A lower-cased `bearer` with the valid token: observed, and the cell shows its outcome."""
    from catalog.hooks.manager import Hooks
    from catalog.pipeline import Project, load_publication
    from catalog.site.build import render_pages

    cells = json.loads(versions.observations("new").read_text())["endpoints"]
    actor = cells["actor"]["states"]["scheme-case"]
    assert actor["status"] == 200 and actor["outcome"] != "n/a"
    # Datasette reads only `Bearer ` (capital B): the valid token is ignored, the caller anonymous.
    assert actor["outcome"] == "as-anonymous"
    project = Project(versions.new)
    hooks = Hooks()
    pages = {page.path: page.text for page in render_pages(load_publication(project, hooks), project.site, hooks)}
    assert "<code>scheme-case</code>" in pages["methodology.md"] and "lower-cased" in pages["methodology.md"]
    assert 'aria-label="scheme-case: 200 as-anonymous' in pages["apis/datasette/index.md"]

"""``authcat check``: exit non-zero when a bad state that was rejected is now served; JUnit and
SARIF reports that name the endpoints and states. Synthetic runs first, then real Datasette runs:
1.0a35 checked against a 1.0a41 baseline fails; 1.0a41 against itself passes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from catalog.definitions.loader import load_api
from catalog.model.judgement import REJECTING, SERVED_2XX
from catalog.model.vocabulary import LEGITIMATE_STATES
from tests.support.runs import authcat, datasette_versions, make_run, outcomes, snapshot, write_run

DATE1, DATE2 = "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"


def junit_cases(path: Path) -> dict[tuple[str, str], ET.Element]:
    """(classname, name) -> testcase, after checking the counts the suites declare."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    cases = {}
    for suite in root.iter("testsuite"):
        found = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(found)
        assert int(suite.get("failures", "")) == sum(1 for c in found if c.find("failure") is not None)
        cases.update({(c.get("classname", ""), c.get("name", "")): c for c in found})
    assert int(root.get("tests", "")) == len(cases)
    return cases


def sarif_results(path: Path) -> list[dict]:
    """The results of a SARIF 2.1.0 log, after checking the structure every consumer relies on."""
    log = json.loads(path.read_text())
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "authcat" and driver["version"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["defaultConfiguration"]["level"] == "error"
    for result in run["results"]:
        assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] == "error" and result["message"]["text"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] and physical["region"]["startLine"] >= 1
    assert {r["ruleId"] for r in run["results"]} == set(rule_ids)  # a rule per kind used, no more
    return run["results"]


# --- synthetic runs ---------------------------------------------------------------------------


def _sets(tmp_path: Path, after_expired: str, status: int):
    base = make_run("datasette", "local", "2.0", DATE1, {
        "actor": {"valid": ("as-valid", 200), "expired": ("rejected", 401), "revoked": ("n/a", None)},
    }, path_of=lambda e: "/-/actor.json")
    new = make_run("datasette", "local", "1.0", DATE2, {
        "actor": {"valid": ("as-valid", 200), "expired": (after_expired, status), "revoked": ("n/a", None)},
    }, path_of=lambda e: "/-/actor.json")
    return write_run(tmp_path / "baseline", base).parents[2], write_run(tmp_path / "new", new).parents[2]


def test_check_fails_on_a_regression_and_writes_both_reports(project, tmp_path):
    baseline, new = _sets(tmp_path, "as-anonymous", 200)
    junit, sarif = tmp_path / "out" / "junit.xml", tmp_path / "out" / "check.sarif"
    done = authcat("check", "--baseline", str(baseline), "--new", str(new), "--junit", str(junit),
                   "--sarif", str(sarif), cwd=project.root)
    assert done.returncode == 1, done.stderr
    assert "GET /-/actor.json  expired: rejected → as-anonymous" in done.stdout
    assert "1 regression(s)" in done.stderr
    cases = junit_cases(junit)
    assert set(cases) == {("datasette.actor", "GET /-/actor.json [valid]"), ("datasette.actor", "GET /-/actor.json [expired]")}
    failure = cases[("datasette.actor", "GET /-/actor.json [expired]")].find("failure")
    assert failure is not None and failure.get("type") == "regression/as-anonymous"
    for word in ("actor", "GET", "/-/actor.json", "expired", "rejected (401)", "as-anonymous (200)"):
        assert word in failure.get("message", "")
    (result,) = sarif_results(sarif)
    source = load_api(project.endpoints / "datasette").endpoint("actor").source
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "endpoints/datasette/instance.yaml"
    assert location["region"]["startLine"] == source.line
    assert result["properties"]["state"] == "expired"


def test_check_passes_without_regression_and_still_writes_reports(project, tmp_path):
    baseline, new = _sets(tmp_path, "forbidden", 403)  # moved, but still refused: not a regression
    junit, sarif = tmp_path / "junit.xml", tmp_path / "check.sarif"
    done = authcat("check", "--baseline", str(baseline), "--new", str(new), "--junit", str(junit),
                   "--sarif", str(sarif), cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert "0 regressions" in done.stdout and "ok: no regression" in done.stdout
    cases = junit_cases(junit)
    assert len(cases) == 2 and not any(c.find("failure") is not None for c in cases.values())
    assert "rejected (401) on local" in cases[("datasette.actor", "GET /-/actor.json [expired]")].findtext("system-out", "")
    assert sarif_results(sarif) == []


def test_check_with_nothing_to_compare_is_an_error(empty_project, tmp_path):
    _, new = _sets(tmp_path, "as-anonymous", 200)
    done = authcat("check", "--new", str(new), cwd=empty_project.root)  # no observations at all
    assert done.returncode == 2
    assert "nothing to compare" in done.stderr and "datasette" in done.stderr


# --- real Datasette releases ------------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    return datasette_versions(tmp_path_factory)


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run builds the 1.0a35 venv with pip
def test_check_1_0a35_against_a_1_0a41_baseline_fails(versions, tmp_path):
    before = snapshot(versions.old / "site" / "data")
    junit, sarif, kept = tmp_path / "junit.xml", tmp_path / "check.sarif", tmp_path / "kept"
    baseline = versions.new / "site" / "data"
    done = authcat("check", "--api", "datasette", "--target", "old", "--baseline", str(baseline),
                   "--junit", str(junit), "--sarif", str(sarif), "--out", str(kept), cwd=versions.old)
    assert done.returncode == 1, done.stdout + done.stderr
    assert snapshot(versions.old / "site" / "data") == before  # probed into a temp folder

    # What should regress, read without authcat from the baseline and what the check observed
    # (kept with --out: Datasette's /.json table counts have a 10 ms limit, so two runs under load
    # may differ in which 2xx outcome a cell gets).
    was, now = outcomes(versions.observations("new")), outcomes(kept / "observations" / "datasette" / "old.json")
    expected = {
        k for k in was
        if k[1] not in LEGITIMATE_STATES and was[k] in REJECTING and now.get(k) in SERVED_2XX
    }
    assert {("actor", "expired"), ("actor", "forged"), ("instance", "expired"), ("instance", "forged")} <= expected

    definition = load_api(versions.old / "endpoints" / "datasette")
    cases = junit_cases(junit)
    assert len(cases) == sum(1 for k in was if was[k] != "n/a")  # one per endpoint × state compared
    failed = {}
    for (classname, name), case in cases.items():
        if (failure := case.find("failure")) is not None:
            endpoint = definition.endpoint(classname.split(".", 1)[1])
            state = name.rsplit("[", 1)[1].rstrip("]")
            message = failure.get("message", "")
            for word in (endpoint.id, endpoint.method, endpoint.path, state, was[(endpoint.id, state)], now[(endpoint.id, state)]):
                assert word in message, (word, message)
            failed[(endpoint.id, state)] = case
    assert set(failed) == expected

    results = sarif_results(sarif)
    assert {(r["properties"]["endpoint"], r["properties"]["state"]) for r in results} == expected
    for result in results:
        endpoint = definition.endpoint(result["properties"]["endpoint"])
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == Path(endpoint.source.file).as_posix()
        assert location["artifactLocation"]["uri"].startswith("endpoints/datasette/")
        assert location["region"]["startLine"] == endpoint.source.line
        assert result["properties"]["state"] in result["message"]["text"]
        assert endpoint.path in result["message"]["text"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_check_1_0a41_against_itself_passes(versions, tmp_path):
    data = versions.new / "site" / "data"
    before = snapshot(data)
    junit, sarif = tmp_path / "junit.xml", tmp_path / "check.sarif"
    done = authcat("check", "--api", "datasette", "--target", "local", "--junit", str(junit),
                   "--sarif", str(sarif), cwd=versions.new)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", 0 regressions" in done.stdout and "ok: no regression" in done.stdout
    assert snapshot(data) == before
    cases = junit_cases(junit)
    assert len(cases) == sum(1 for o in outcomes(versions.observations("new")).values() if o != "n/a")
    assert not any(c.find("failure") is not None for c in cases.values())
    assert sarif_results(sarif) == []

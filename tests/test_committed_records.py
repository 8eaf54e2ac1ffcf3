"""The committed catalog data says what issue 19's "done when" asks of it: every observed cell has
its request record and no n/a cell has one; Jupyter's query-parameter record uses its own
``token=``; the scheme-case record differs from the valid one; public endpoints serve bad
credentials as ``ignored`` (never ``as-valid`` where valid equals anonymous); the Synapse launcher's
switch is part of the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.model.vocabulary import StateFamily, family_of

DATA = Path(__file__).resolve().parents[1] / "site" / "data" / "observations"
RUNS = sorted(p for p in DATA.glob("*/*.json") if not p.name.endswith((".previous.json", ".partial.json")))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", RUNS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_observed_cell_has_its_request_and_no_na_cell_has_one(path):
    run = load(path)
    for endpoint_id, endpoint in run["endpoints"].items():
        for state, cell in (endpoint.get("states") or {}).items():
            if cell["outcome"] == "n/a":
                assert "request" not in cell, (endpoint_id, state)
            else:
                request = cell.get("request")
                assert request and request["url"].startswith("{API_BASE_URL}"), (endpoint_id, state)


@pytest.mark.parametrize("path", RUNS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_bad_credential_is_as_valid_where_valid_equals_anonymous(path):
    run = load(path)
    families = {s: family_of(s, info.get("family")) for s, info in run["states"].items()}
    for endpoint_id, endpoint in run["endpoints"].items():
        cells = endpoint.get("states") or {}
        valid, anonymous = cells.get("valid"), cells.get("anonymous")
        if not valid or not anonymous or valid.get("body_sha256") != anonymous.get("body_sha256") \
                or valid.get("status") != anonymous.get("status") or not 200 <= (valid.get("status") or 0) < 300:
            continue
        for state, cell in cells.items():
            if families.get(state) is StateFamily.BAD:
                assert cell["outcome"] != "as-valid", (endpoint_id, state)


def test_jupyter_query_parameter_and_scheme_case_records():
    me = load(DATA / "jupyter-server" / "local.json")["endpoints"]["me"]["states"]
    assert me["query-parameter"]["request"]["url"].endswith("/api/me?token={API_TOKEN}")
    assert me["scheme-case"]["request"]["headers"] != me["valid"]["request"]["headers"]
    assert me["malformed"]["request"]["headers"] == [["Authorization", "token !!!"]]  # the literal sent


def test_the_synapse_switch_travels_with_the_run():
    run = load(DATA / "matrix" / "synapse.json")
    assert "allow_public_rooms_without_auth" in run["run"]["settings"]
    rooms = run["endpoints"]["getPublicRooms"]["states"]
    assert {rooms[s]["outcome"] for s in ("revoked", "expired", "deactivated", "unknown-token")} == {"ignored"}


def test_the_new_outcome_is_attributed_to_the_classifier_never_to_drift():
    changes = json.loads((DATA.parent / "changes.json").read_text(encoding="utf-8"))
    moved = [c for c in changes if (c["before"], c["after"]) == ("as-valid", "ignored")]
    assert moved and all(c["cause"] == "definition" for c in moved)
    # A cell that was 429 (the prober's pace) is never drift, however old its entry.
    from catalog.pipeline import Project, read_changes

    logged = read_changes(Project(DATA.parent.parent.parent))
    limited = [c for c in logged if "rate-limited" in (c["before"], c["after"])]
    assert limited and all(c["cause"] == "not-judged" for c in limited)

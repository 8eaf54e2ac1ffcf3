"""The export and the guide pages, from the run's one build of the committed observations (the
``committed_site`` fixture): catalog.json validates against the published schema and carries every
answer."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.support.project import REPO


@pytest.fixture(scope="module")
def built(committed_site):
    return committed_site


def test_catalog_json_validates_against_the_published_schema(built):
    build = built / "site" / "build"
    schema = json.loads((build / "catalog.schema.json").read_text())
    source = json.loads((REPO / "catalog" / "schemas" / "catalog.schema.json").read_text())
    # The published schema is the source one, with the catalog's states as an enum.
    states = schema["$defs"]["state"].pop("enum")
    assert schema == source
    assert {"valid", "anonymous", "revoked", "unknown-token"} <= set(states)
    jsonschema.Draft202012Validator.check_schema(schema)
    schema["$defs"]["state"]["enum"] = states
    data = json.loads((build / "catalog.json").read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{e.json_path}: {e.message[:200]}" for e in errors[:5]]
    assert {a["name"] for a in data["apis"]} == {"jira-cloud", "confluence-cloud", "datasette", "jupyter-server", "matrix"}


def test_export_carries_cells_explanations_signals_and_provenance(built):
    data = json.loads((built / "site" / "build" / "catalog.json").read_text())
    jira = next(a for a in data["apis"] if a["name"] == "jira-cloud")
    search = next(e for e in jira["endpoints"] if e["id"] == "searchProjects")
    assert search["documented"]["anonymous"] is True
    observed = search["observed"][0]
    assert observed["target"] == "backlot" and observed["target_version"] and observed["date"] and observed["authcat_version"]
    assert observed["verdict"] == "falls-open"
    assert "cannot tell a dead token from an empty result" in observed["explanation"]
    assert "wrong-identity" in observed["unprivileged_like"]
    assert observed["cells"]["wrong-identity"]["outcome"] == "empty"
    labels = {(s["meaning"], s["label"]): s for s in jira["signals"] if s["recommended"]}
    assert ("credential accepted", "x-aaccountid present") in labels
    assert ("credential read and rejected", "x-seraph-loginreason: AUTHENTICATED_FAILED") in labels
    # Only bad credentials judge (wrong-scheme and scheme-case are presentations): on Backlot the issue
    # and comment endpoints refuse every one with 404, the cheapest first.
    check = jira["token_check"][0]
    assert check["found"] is True and check["target"] == "backlot"
    first = check["candidates"][0]
    assert first["endpoint"] in {"getComments", "getCommentsV2"} and first["refusals"].endswith("404")
    assert [c["body_bytes"] for c in check["candidates"]] == sorted(c["body_bytes"] for c in check["candidates"])
    datasette = next(a for a in data["apis"] if a["name"] == "datasette")
    assert datasette["token_check"][0]["candidates"][0]["method"] == "GET"
    # An endpoint the emulator does not serve (most of Jira's writes) is exported with that verdict
    # and no cell: every endpoint of the API is there, served or not.
    unserved = [o for e in jira["endpoints"] if e["method"] != "GET" for o in e["observed"]]
    assert unserved and any(o["verdict"] == "not-served" and not o["cells"] for o in unserved)
    assert len(jira["endpoints"]) == 621


def test_no_secret_or_identity_value_in_the_export(built, bundled_run):
    # bundled_run: a real Backlot run in this session, so its corpus (and tokens) exist to search for.
    text = (built / "site" / "build" / "catalog.json").read_text()
    assert "@acme.com" not in text and "@northwind" not in text
    import yaml

    tokens = [u["token"] for f in (REPO / ".cache" / "authcat" / "backlot").glob("data-*/tokens.yaml")
              for u in yaml.safe_load(f.read_text())["users"]]
    assert tokens, "the Backlot corpus is prepared by the run that made the observations"
    assert not [t for t in tokens if t in text]


def test_guide_pages_are_built_linked_and_in_the_nav(built):
    build = built / "site" / "build"
    for api in ("jira-cloud", "confluence-cloud", "datasette"):
        assert (build / "apis" / api / "guide.html").exists()
    api_page = (built / "site" / "generated" / "apis" / "jira-cloud" / "index.md").read_text()
    assert 'href="guide.html"' in api_page
    home = (build / "index.html").read_text()
    assert "Dead token or empty result?" in home


def test_confluence_guide_names_status_codes_and_invents_no_header(built):
    # The built page: the guide's body is finished HTML put in after MkDocs (not in guide.md).
    page = (built / "site" / "build" / "apis" / "confluence-cloud" / "guide.html").read_text()
    separation = page.split('id="what-separates-backlot"')[1].split("</ul>")[0]
    assert "the status code is enough" in separation
    assert "401" in separation and "403" in separation
    assert "x-aaccountid" not in page and "x-seraph-loginreason" not in page


def test_group_page_shows_the_explanation(built):
    # The built page: a group's table this big is rendered apart and put in after MkDocs.
    page = (built / "site" / "build" / "apis" / "jira-cloud" / "projects.html").read_text()
    assert 'class="verdict-explanation"' in page and "cannot tell a dead token from an empty result" in page


def test_the_published_schema_refuses_unknown_state_keys(built):
    build = built / "site" / "build"
    schema = json.loads((build / "catalog.schema.json").read_text())
    data = json.loads((build / "catalog.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    jira = next(a for a in data["apis"] if a["name"] == "jira-cloud")
    observed = next(o for e in jira["endpoints"] for o in e["observed"] if o["cells"])
    observed["cells"]["revokd"] = observed["cells"]["valid"]  # a typo'd state key
    assert any("revokd" in e.message for e in validator.iter_errors(data))
    del observed["cells"]["revokd"]
    claim = next(r for e in jira["endpoints"] for r in e["reported"] if r["state"])
    claim["state"] = "no-such-state"
    assert any(e.json_path.endswith(".state") for e in validator.iter_errors(data))


def test_reported_claims_are_queryable_cells_in_the_export(built):
    data = json.loads((built / "site" / "build" / "catalog.json").read_text())
    jira = next(a for a in data["apis"] if a["name"] == "jira-cloud")
    by_id = {e["id"]: e for e in jira["endpoints"]}
    # R5: a revoked token served as anonymous on GET /rest/api/3/project, with source and date.
    revoked = [r for r in by_id["getAllProjects"]["reported"] if r["state"] == "revoked"]
    assert revoked == [{
        "kind": "reported", "claim": revoked[0]["claim"], "ref": "R5", "state": "revoked", "status": 200,
        "outcome": "as-anonymous", "date": "2019-12", "signal": None,
        "source": "https://community.atlassian.com/t5/Jira-questions/API-Token-expiry-and-error-handling/qaq-p/1246938",
    }]
    myself = [(r["state"], r["status"], r["outcome"]) for r in by_id["getCurrentUser"]["reported"]]
    assert ("unknown-token", 401, "rejected") in myself
    # The targets say what they are.
    assert jira["targets"][0]["kind"] == "emulator" and "Jira Cloud" in jira["targets"][0]["models"]
    datasette = next(a for a in data["apis"] if a["name"] == "datasette")
    assert datasette["targets"][0]["kind"] == "local-server"
    # The three answers travel with their evidence labels.
    q = jira["questions"]
    revoked_lines = q["bad-credentials"]["by_state"]["revoked"]
    assert {x["kind"] for x in revoked_lines} == {"observed", "reported"}
    assert any("as-anonymous" in x["text"] and x["label"].startswith("R5") for x in revoked_lines)
    assert any(x["kind"] == "reported" and "GET /rest/api/3/myself" in x["text"] for x in q["token-check"]["lines"])
    assert any(x["kind"] == "observed" and "x-aaccountid" in x["text"] for x in q["fallback-signal"]["lines"])

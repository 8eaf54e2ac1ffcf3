"""Reported and documented claims as data: lint names file:line: field for a bad one, the committed
ones are structured cells, and the API page shows them as marked cells linked to their source."""

from __future__ import annotations

import textwrap

from catalog.definitions.evidence import API_WIDE, claimed_cells
from catalog.definitions.loader import load_all
from catalog.hooks.manager import Hooks
from catalog.pipeline import load_catalog, load_publication
from catalog.site.build import render_pages
from tests.support.project import REPO, run_cli

R5 = "https://community.atlassian.com/t5/Jira-questions/API-Token-expiry-and-error-handling/qaq-p/1246938"


def write_group(project, text: str):
    path = project.endpoints / "jira-cloud" / "claims.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def lint(project):
    return run_cli(project.root, "lint")


def test_an_unknown_state_in_a_claim_names_file_line_and_field(project):
    write_group(project, """\
        group: Claims
        endpoints:
          - id: claimed
            method: GET
            path: /rest/api/3/claimed
            reported:
              - claim: A revoked token was served.
                source: https://example.org/report
                date: 2024-01
                state: revokd
                status: 200
                outcome: as-anonymous
        """)
    result = lint(project)
    assert result.returncode != 0
    assert ("endpoints/jira-cloud/claims.yaml:10: endpoints[0].reported[0].state: unknown token state 'revokd', "
            "did you mean 'revoked'?") in result.output
    assert "Traceback" not in result.output


def test_an_outcome_its_status_cannot_have_is_refused(project):
    write_group(project, """\
        endpoints:
          - id: claimed
            method: GET
            path: /rest/api/3/claimed
            documented:
              claims:
                - claim: The spec says 401.
                  source: spec
                  state: expired
                  status: 401
                  outcome: as-anonymous
        """)
    result = lint(project)
    assert result.returncode != 0
    assert ("endpoints/jira-cloud/claims.yaml:11: endpoints[0].documented.claims[0].outcome: outcome "
            "'as-anonymous' cannot come with status 401") in result.output


def test_schema_checks_status_outcome_and_date(project):
    write_group(project, """\
        endpoints:
          - id: claimed
            method: GET
            path: /rest/api/3/claimed
            reported:
              - claim: x
                source: https://example.org/
                date: last spring
                state: expired
                status: 999
                outcome: served
        """)
    output = lint(project).output
    assert "claims.yaml:8: endpoints[0].reported[0].date" in output
    assert "claims.yaml:10: endpoints[0].reported[0].status" in output
    assert "claims.yaml:11: endpoints[0].reported[0].outcome" in output


def test_the_committed_claims_are_structured_cells():
    jira = load_all(REPO / "endpoints")["jira-cloud"]
    cells = claimed_cells(jira)
    revoked = cells["getAllProjects"]["revoked"]
    assert (revoked.status, revoked.outcome, revoked.kinds) == (200, "as-anonymous", ["reported"])
    assert revoked.claims[0].source == R5 and revoked.claims[0].date == "2019-12"
    assert cells["getCurrentUser"]["unknown-token"].outcome == "rejected"
    assert cells[API_WIDE]["deactivated"].status == 401
    # Two sources disagree on searchProjects' unknown token (R5: 401, R11: 200 empty): both kept.
    assert {c.status for c in cells["searchProjects"]["unknown-token"].claims} == {401, 200}
    confluence = claimed_cells(load_all(REPO / "endpoints")["confluence-cloud"])
    assert confluence[API_WIDE]["unknown-token"].outcome == "forbidden"


def test_the_api_page_marks_claimed_cells_and_links_their_source(project):
    hooks = Hooks()
    pages = {page.path: page.text for page in render_pages(load_publication(project, hooks), project.site, hooks)}
    page = pages["apis/jira-cloud/index.md"]
    block = page.split('id="evidence-matrix"')[1]
    row = block.split('id="claims-getallprojects"')[1].split("</tr>")[0]
    assert 'data-evidence="reported"' in row
    assert f'href="{R5}"' in row and "R5" in row and "as-anonymous" in row
    # The name starts with what the cell shows (WCAG 2.5.3 Label in Name), then whose claim it is.
    assert 'aria-label="200 as-anonymous R5: revoked, reported 2019-12"' in row


def test_history_says_since_when_a_cell_is_what_it_is(project):
    import json

    from catalog.runs.history import cell_history

    hooks = Hooks()
    catalog = load_catalog(project, hooks)
    run = catalog.apis["jira-cloud"].runs[0]
    endpoint_id, result = next((k, r) for k, r in run.endpoints.items() if "unknown-token" in r.cells)
    now = str(result.cells["unknown-token"].outcome)
    extra = {"method": result.method, "path": result.path, "target_version": run.version, "previous_version": run.version,
             "before_status": None, "after_status": None, "regression": False, "cause": "server"}
    log = [
        {"date": "2026-01-05T00:00:00Z", "previous_date": "2026-01-01T00:00:00Z", "api": "jira-cloud", "target": run.target,
         "endpoint": endpoint_id, "state": "unknown-token", "before": "rejected", "after": now, **extra},
        {"date": "2026-01-03T00:00:00Z", "previous_date": "2026-01-01T00:00:00Z", "api": "jira-cloud", "target": run.target,
         "endpoint": endpoint_id, "state": "valid", "before": "as-valid", "after": "no-longer-this", **extra},
    ]
    history = cell_history(log, "jira-cloud", run, endpoint_id)
    assert history["unknown-token"] == {"since": "2026-01-05T00:00:00Z", "at_least": False, "before": "rejected", "changes": 1}
    # The valid cell's last logged change led elsewhere; it has been what it is at least since the oldest run.
    assert history["valid"]["at_least"] is True and history["valid"]["since"] == "2026-01-01T00:00:00Z"
    # The export carries it, from the committed change log.
    project.changes_file.write_text(json.dumps(log))
    from catalog.site.export import export_data

    publication = load_publication(project, hooks)
    data = export_data(publication)
    jira = next(a for a in data["apis"] if a["name"] == "jira-cloud")
    observed = next(o for e in jira["endpoints"] if e["id"] == endpoint_id for o in e["observed"])
    assert observed["history"]["unknown-token"]["since"] == "2026-01-05T00:00:00Z"
    # And the endpoint's page shows it.
    pages = {page.path: page.text for page in render_pages(publication, project.site, hooks)}
    assert any("2026-01-05 (was rejected)" in text for text in pages.values())

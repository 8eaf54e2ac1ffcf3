"""The built-in site pages: home, one matrix per API, endpoint group pages, methodology, changes.

Pages are computed from the catalog (definitions + observations), never hand-written: the
templates (the API and group pages' in ``catalog/site/templates``, the others in
``site/templates``) only lay out what this module hands them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.answers.columns import bad_state_order, state_columns, state_order
from catalog.answers.documented import disagreements
from catalog.answers.presentations import api_presentations, scheme_words
from catalog.answers.publication import Publication
from catalog.answers.questions import targets_for
from catalog.answers.reproduce import Snippet, cell_snippet
from catalog.answers.sentences import InShort, in_short
from catalog.definitions.evidence import API_WIDE, claimed_cells
from catalog.hooks.specs import hookimpl
from catalog.model.definition import Endpoint
from catalog.model.judgement import OUTCOMES, UNJUDGED, VERDICTS
from catalog.model.vocabulary import Outcome, Verdict, slug
from catalog.runs.history import ChangeIndex
from catalog.runs.results import ApiCatalog, CatalogData, EndpointResult, TargetRun
from catalog.site.pages.guide_pages import separation

REPORT_URL = "https://github.com/authcat/authcat/issues/new"


@dataclass
class Row:
    """One endpoint on one target, ready for a template."""

    endpoint: Endpoint
    result: EndpointResult | None
    run: TargetRun | None
    href: str  # the endpoint's section on its group page, relative to the API folder

    @property
    def verdict(self) -> str:
        return self.result.verdict if self.result else "documented-only"


@dataclass
class GroupView:
    name: str
    slug: str
    endpoints: list[Endpoint] = field(default_factory=list)


def group_views(api: ApiCatalog) -> list[GroupView]:
    groups: dict[str, GroupView] = {}
    for endpoint in api.definition.endpoints:
        view = groups.setdefault(endpoint.group, GroupView(endpoint.group, slug(endpoint.group)))
        view.endpoints.append(endpoint)
    return sorted(groups.values(), key=lambda g: g.name.lower())


def matrix_rows(api: ApiCatalog, run: TargetRun) -> list[Row]:
    by_id = {e.id: e for e in api.definition.endpoints}
    rows = []
    for endpoint_id, result in run.endpoints.items():
        endpoint = by_id.get(endpoint_id)
        if endpoint is None:  # observed once, since removed from the definitions
            continue
        rows.append(Row(endpoint, result, run, f"{slug(endpoint.group)}.html#{slug(endpoint.id)}"))
    order: dict[str, int] = {Verdict.NOT_SERVED: 2, Verdict.NOT_PROBED: 3}
    return sorted(rows, key=lambda r: (order.get(r.verdict, 0), r.endpoint.path, r.endpoint.method))


def outcomes_used(data: CatalogData, api: str | None = None) -> list[str]:
    """The outcomes that occur in the data (one API's, or the whole catalog's): a legend lists only these."""
    apis = [data.apis[api]] if api else data.apis.values()
    used = {c.outcome for a in apis for r in a.runs for e in r.endpoints.values() for c in e.cells.values()}
    return [o for o in OUTCOMES if o in used]


def api_summary(api: ApiCatalog) -> dict[str, Any]:
    endpoints = api.definition.endpoints
    verdicts: Counter[str] = Counter()
    cells = 0
    for run in api.runs:
        for result in run.endpoints.values():
            verdicts[result.verdict] += 1
            cells += sum(1 for c in result.cells.values() if c.outcome != Outcome.NOT_AVAILABLE)
    observed = {eid for run in api.runs for eid, r in run.endpoints.items() if r.verdict not in UNJUDGED}
    claimed = claimed_cells(api.definition)
    return {
        "endpoints": len(endpoints),
        "gets": sum(1 for e in endpoints if e.method == "GET"),
        "documented_anonymous": sum(1 for e in endpoints if e.documented.anonymous),
        # Per method: a write documented "anonymous" only through an empty security requirement
        # is a spec artefact more than an invitation; the split keeps it from reading as one.
        "anonymous_get": sum(1 for e in endpoints if e.documented.anonymous and e.method in ("GET", "HEAD")),
        "anonymous_writes": sum(1 for e in endpoints if e.documented.anonymous and e.method not in ("GET", "HEAD")),
        "observed_endpoints": len(observed & {e.id for e in endpoints}),
        "claimed_endpoints": len([k for k in claimed if k != API_WIDE]),
        "reported": sum(1 for e in endpoints if e.reported),
        "observed_cells": cells,
        "verdicts": dict(sorted(verdicts.items())),
        "targets": [(r.target, r.version, r.meta.get("date")) for r in api.runs],
    }


def _presentations(data: CatalogData, api: ApiCatalog) -> dict[str, Any]:
    scheme = api.definition.api.auth or data.schemes.get(api.definition.api.scheme)
    return {"rows": api_presentations(api, scheme).rows, "scheme": scheme_words(scheme)}


def _endpoint_results(api: ApiCatalog) -> dict[str, list[tuple[TargetRun, EndpointResult]]]:
    out: dict[str, list] = defaultdict(list)
    for run in api.runs:
        for endpoint_id, result in run.endpoints.items():
            out[endpoint_id].append((run, result))
    return out


def _reproduce(data: CatalogData, api: ApiCatalog, results: dict) -> dict[str, list[tuple[str, list[Snippet]]]]:
    """Per observed endpoint and target, each state's snippet from its request record (column
    order); an n/a cell carries its reason instead."""
    order = state_order(data)
    out = {}
    for e in api.definition.endpoints:
        per_target = []
        for run, result in results.get(e.id, []):
            if not result.cells:
                continue
            states = sorted(result.cells, key=lambda st: order.index(st) if st in order else len(order))
            per_target.append((run.target, [cell_snippet(result.cells[st], run.target) for st in states]))
        if per_target:
            out[e.id] = per_target
    return out


def _claims_row_order(item: tuple[str, dict]) -> tuple[bool, str]:
    """API-wide claims first, then by path."""
    key, row = item
    endpoint = next(iter(row.values())).endpoint
    return (key != API_WIDE, endpoint.path if endpoint else "")


def _separations(publication: Publication, api: ApiCatalog) -> list[tuple[str, list[str]]]:
    """Per target whose valid credential was recognised, the guide's plain sentences on what tells
    the states apart: the API page says them too, so a reader need not open the guide for them."""
    answers = publication.answers.get(api.name)
    runs = {run.target: run for run in api.runs}
    return [(mine.target, separation(runs[mine.target], mine.signals)) for mine in (answers.targets if answers else ())
            if mine.recognition.recognised and mine.target in runs]


@hookimpl(trylast=True)
def authcat_site_pages(publication: Publication, render: Callable[..., str]) -> list[tuple[str, str]]:
    data = publication.data
    legend = [(o, *OUTCOMES[o]) for o in outcomes_used(data)]
    common = {"publication": publication, "outcomes": OUTCOMES, "verdicts": VERDICTS, "report_url": REPORT_URL}
    summaries = {name: api_summary(api) for name, api in data.apis.items()}
    targets = {name: targets_for(api) for name, api in data.apis.items()}
    # The days the observations were made, beside "generated" (a build is not an observation).
    observed_on = sorted({date[:10] for s in summaries.values() for _, _, date in s["targets"] if date})
    bad_order = bad_state_order(data)
    # Computed once with the publication; a publication made without them (a plugin's test) gets them here.
    short: dict[str, InShort] = {
        name: publication.in_short.get(name) or in_short(api, bad_order, publication.answers.get(name))
        for name, api in data.apis.items()}
    grid_states = [st for st in bad_order if any(x.state == st for r in short.values() for x in r.sentences)]
    grid_outcomes = {x.headline for r in short.values() for x in r.sentences}
    grid_legend = [(o, *OUTCOMES[o]) for o in OUTCOMES if o in grid_outcomes]
    pages = [("index.md", render("home.md.j2", legend=legend, summaries=summaries, targets=targets,
                                 observed_on=observed_on, in_short=short, grid_states=grid_states,
                                 grid_legend=grid_legend, grid_extra=sorted(grid_outcomes - set(OUTCOMES)), **common))]
    changes = ChangeIndex(data.changes)  # indexed once: one lookup per endpoint page section
    # The API and group pages, most of the rendering: rendered together, by render.many where the
    # build offers it (two processes, catalog.site.parallel), each weighed by its endpoints.
    jobs: list[tuple[str, str, dict[str, Any]]] = []
    weights: list[int] = []
    for name, api in sorted(data.apis.items()):
        groups = group_views(api)
        results = _endpoint_results(api)
        matrices = [(run, matrix_rows(api, run), state_columns(data, set(run.states))) for run in api.runs]
        claimed = claimed_cells(api.definition)
        claim_states = {st for row in claimed.values() for st in row}
        evidence = {"rows": sorted(claimed.items(), key=_claims_row_order), "columns": state_columns(data, claim_states)}
        jobs.append((f"apis/{name}/index.md", "api.md.j2", dict(
            api=api, groups=groups, matrices=matrices, summary=summaries[name],
            questions=publication.questions.get(name, ()), targets=targets_for(api),
            legend=[(o, *OUTCOMES[o]) for o in outcomes_used(data, name)],
            disagreements=disagreements(api), presentations=_presentations(data, api), evidence=evidence,
            in_short=short[name], separations=_separations(publication, api), **common,
        )))
        weights.append(len(api.definition.endpoints) * max(1, len(api.runs)))
        reproduce = _reproduce(data, api, results)
        for group in groups:
            jobs.append((f"apis/{name}/{group.slug}.md", "group.md.j2", dict(
                api=api, group=group, results=results, reproduce=reproduce,
                history=lambda run, eid, name=name: changes.history(name, run, eid), **common,
            )))
            # An endpoint costs about as much on its group page as on its API page (a profile of
            # one API with 20,000 endpoints: 13 % and 11 % of the build).
            weights.append(len(group.endpoints) * max(1, len(api.runs)))
    many = getattr(render, "many", None)
    page_jobs = [(template, context) for _, template, context in jobs]
    texts = many(page_jobs, weights) if many else [render(template, **context) for template, context in page_jobs]
    pages += [(path, text) for (path, _, _), text in zip(jobs, texts, strict=True)]
    pages.append(("methodology.md", render("methodology.md.j2", states=list(data.states.values()), **common)))
    pages.append(("changes.md", render("changes.md.j2", changes=list(reversed(data.changes)), **common)))
    return pages


"""The guide page per API, "How to tell a dead token from an empty result", built from the answers
(``catalog.answers.publication``), one section per target — answers are computed per target and never pooled
— after a summary of where the targets agree and differ: what separates the states, the token
check, the signal table with its track record, the verdict explanations and a tested client-side
recipe with its curl equivalent (``catalog.answers.recipe``). Every sentence is computed from the data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from catalog.answers.fallback import find_fallback
from catalog.answers.per_target import TargetAnswers
from catalog.answers.publication import Publication
from catalog.answers.questions import targets_for
from catalog.answers.recipe import Recipe, client_auth, recipe_script
from catalog.answers.signals import ACCEPTED, REJECTED, Signal
from catalog.hooks.specs import hookimpl
from catalog.model.judgement import REJECTING
from catalog.model.observation import is_2xx, same_answer
from catalog.model.vocabulary import Outcome, State, Verdict, slug
from catalog.runs.results import ApiCatalog, CatalogData, Cell, SitePage, TargetRun

GUIDE_TITLE = "How to tell a dead token from an empty result"
GUIDE_NAV = "Dead token or empty result?"
SHOWN_UNRELIABLE = 6  # rules checked and found wanting, shown so readers know not to use them


def _bad_cells(run: TargetRun) -> Iterator[tuple[str, Cell]]:
    """(state, cell) of bad credentials where the valid credential was served and the cell was not
    the valid answer again (a presentation the server accepted is no bad credential's answer)."""
    for result in run.endpoints.values():
        valid = result.cells.get(State.VALID)
        if valid is None or valid.observation is None or not valid.observation.ok or result.verdict == Verdict.PUBLIC:
            continue
        for state, cell in result.cells.items():
            if not result.is_bad(state) or cell.status is None or cell.observation is None:
                continue
            if same_answer(cell.observation, valid.observation):
                continue
            yield state, cell


def bad_state_statuses(run: TargetRun) -> str:
    """Which statuses each bad state got on this target where the valid credential was served."""
    seen: dict[str, set[int]] = defaultdict(set)
    for state, cell in _bad_cells(run):
        assert cell.status is not None
        seen[state].add(cell.status)
    groups: dict[str, list[str]] = defaultdict(list)
    for state, statuses in seen.items():
        groups["/".join(str(s) for s in sorted(statuses))].append(state)
    return "; ".join(f"{', '.join(states)} → {statuses}" for statuses, states in groups.items())


def separation(run: TargetRun, signals: Sequence[Signal]) -> list[str]:
    """What tells the states apart on one target, in sentences (plain text, escaped by the template)."""
    best = {m: [s for s in signals if s.recommended and s.meaning == m] for m in (ACCEPTED, REJECTED)}
    out = []
    headers = [s for s in best[ACCEPTED] if s.kind.startswith("header")]
    if headers:
        s = headers[0]
        out.append(
            f"A served (2xx) answer carries “{s.label()}” exactly when the server accepted the credential: "
            f"right on {s.correct} of {s.checked} served answers"
            + (f" and on {s.non_2xx[0]} of {s.non_2xx[1]} other answers" if s.non_2xx and s.non_2xx[1] else "")
            + ". A 2xx without it is a silent fallback."
        )
    for s in (s for s in best[ACCEPTED] if s.kind == "body-field"):
        where = ", ".join(f"{m} {p}" for m, p in s.endpoints)
        out.append(f"On {where}, “{s.label()}” exactly when the credential was accepted (right on {s.correct} of {s.checked}).")
    for s in (s for s in best[REJECTED] if s.kind != "status"):
        out.append(
            f"“{s.label()}” appears only when the server read the credential and refused it ({', '.join(s.states)}); "
            f"never on accepted answers nor on answers to no credential (right on {s.correct} of {s.checked})."
        )
    status = next((s for s in best[ACCEPTED] if s.kind == "status"), None)
    if status is not None:
        statuses = bad_state_statuses(run)
        out.append(
            f"Here the status code is enough: only accepted credentials got a 2xx (right on {status.correct} of "
            f"{status.checked} answers)" + (f"; the bad credentials got {statuses}." if statuses else ".")
        )
    if not out:
        out.append(
            "No header, body field or status code separated an accepted credential from every rejected-but-served one "
            "in these observations: use the token check below before trusting an empty result."
        )
    if (fallback := find_fallback(run)) is not None:  # the pair a client must know, in one sentence
        out.insert(0, fallback.sentence(run.target))
    return out


def bad_states_seen(run: TargetRun) -> dict[str, int]:
    """How many cells each outcome family got among the bad credentials: for the honest sentences."""
    counts = {"available": 0, "refused": 0, "served": 0}
    for result in run.endpoints.values():
        for state, cell in result.cells.items():
            if not result.is_bad(state) or cell.outcome == Outcome.NOT_AVAILABLE:
                continue
            counts["available"] += 1
            if cell.outcome in REJECTING:
                counts["refused"] += 1
            elif is_2xx(cell.status):
                counts["served"] += 1
    return counts


def _param_free(path: str) -> bool:
    return "{" not in path


def scheme_of(data: CatalogData, api: ApiCatalog) -> Any:
    """The API's auth scheme object: declared in api.yaml, or the plugin scheme it names."""
    declared = api.definition.api.auth
    if declared is not None:
        return declared
    return data.schemes.get(api.definition.api.scheme)


def target_recipe(data: CatalogData, api: ApiCatalog, run: TargetRun, mine: TargetAnswers) -> Recipe:
    """The script for one target: its own signals and its own token check, in the API's scheme."""
    auth = client_auth(scheme_of(data, api))
    check = next((c for c in mine.token_check.candidates if _param_free(c.path)), None)
    refusals: set[int] = set()
    if check is not None:
        result = run.endpoints.get(check.endpoint_id)
        refusals = {c.status for s, c in result.cells.items() if result.is_bad(s)
                    and c.outcome in REJECTING and c.status is not None} if result else set()
    fields = [s for s in mine.recommended if s.kind == "body-field"]
    # Where the recipe matters most: an endpoint that serves some bad credential a 2xx.
    order: dict[str, int] = {Verdict.FALLS_OPEN: 0, Verdict.MIXED: 1, Verdict.FAILS_CLOSED: 2}
    served = sorted(
        (r for r in run.endpoints.values() if r.method == "GET" and r.verdict in order),
        key=lambda r: (order[r.verdict], r.path),
    )
    paths = [p for s in fields for _, p in s.endpoints] or [r.path for r in served]
    signal_path = next((p for p in paths if _param_free(p)), None)
    profile = api.definition.targets.get(run.target)
    by_path = {(e.method, e.path): e for e in api.definition.endpoints}

    def with_query(path: str | None) -> str | None:
        """The request as the target was probed: the endpoint's and the profile's query values."""
        endpoint = by_path.get(("GET", path)) if path else None
        if path is None or endpoint is None:
            return path
        query = {**endpoint.query, **(profile.queries.get(endpoint.id, {}) if profile else {})}
        return path + ("?" + urlencode(sorted(query.items())) if query else "")

    return recipe_script(
        api.definition.api.title, run.target, mine.signals, auth,
        with_query(check.path) if check else None, refusals, with_query(signal_path),
        envelope=api.definition.api.envelope,
    )


@dataclass
class TargetGuide:
    run: TargetRun
    answers: TargetAnswers
    separation: list[str]
    recommended: list[Signal]
    unreliable: list[Signal]
    unreliable_total: int
    recipe: Recipe
    bad: dict[str, int]


def guide_context(publication: Publication, api: ApiCatalog) -> dict[str, Any]:
    """What guide.md.j2 shows for one API, from the answers the publication computed once."""
    answers = publication.answers[api.name]
    results = {(run.target, eid): r for run in api.runs for eid, r in run.endpoints.items()}
    risky = []
    for key, text in sorted(answers.explanations.items()):
        target, eid = key.split("/", 1)
        result = results[(target, eid)]
        if result.verdict in (Verdict.FALLS_OPEN, Verdict.MIXED) or key in answers.unprivileged:
            anchor = f"{slug(result.endpoint.group)}.html#{slug(eid)}" if result.endpoint else ""
            risky.append((target, result, text, anchor))
    targets = []
    for run in api.runs:
        mine = answers.target(run.target)
        if mine is None:
            continue
        targets.append(TargetGuide(
            run=run, answers=mine, separation=separation(run, mine.signals) if mine.recognition.recognised else [],
            recommended=mine.recommended,
            unreliable=[s for s in mine.signals if not s.recommended][:SHOWN_UNRELIABLE],
            unreliable_total=sum(1 for s in mine.signals if not s.recommended),
            recipe=target_recipe(publication.data, api, run, mine), bad=bad_states_seen(run),
        ))
    documented = sum(1 for e in api.definition.endpoints if e.documented.anonymous is not None)
    return {
        "answers": answers, "targets": targets, "risky": risky, "title": GUIDE_TITLE,
        "documented_endpoints": documented,
        "questions": publication.questions.get(api.name, ()), "question_targets": targets_for(api),
    }


@hookimpl(trylast=True)
def authcat_site_pages(publication: Publication, render: Callable[..., str]) -> list[SitePage]:
    pages = []
    for name, api in sorted(publication.data.apis.items()):
        if not api.runs:
            continue
        text = render("guide.md.j2", api=api, **guide_context(publication, api))
        pages.append(SitePage(f"apis/{name}/guide.md", text, nav=(GUIDE_NAV, api.definition.api.title)))
    return pages

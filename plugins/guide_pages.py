"""The guide page per API, "How to tell a dead token from an empty result", built from the answers
(``catalog.answers``): what separates the states, the token check, the signal table with its
track record, the verdict explanations and a tested client-side recipe (``catalog.recipe``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from catalog.answers import ApiAnswers, api_answers
from catalog.hookspecs import hookimpl
from catalog.model import LEGITIMATE_STATES
from catalog.recipe import recipe_code
from catalog.results import ApiCatalog, Catalog
from catalog.signals import ACCEPTED, REJECTED, Signal, find_signals
from catalog.site import slug

GUIDE_TITLE = "How to tell a dead token from an empty result"
SHOWN_UNRELIABLE = 6  # rules checked and found wanting, shown so readers know not to use them


def answers_for(catalog: Catalog, api: ApiCatalog) -> ApiAnswers:
    """The answers ``build_site`` computed, or (when pages are rendered on their own) fresh ones."""
    found = catalog.extras.get("answers", {}).get(api.name)
    if found is None:
        found = api_answers(api, find_signals(r for run in api.runs for r in run.endpoints.values()))
    return found


def bad_state_statuses(api: ApiCatalog) -> str:
    """Which statuses each bad state got where the valid credential was served and it was not."""
    seen: dict[str, set[int]] = defaultdict(set)
    for run in api.runs:
        for result in run.endpoints.values():
            valid = result.cells.get("valid")
            if valid is None or valid.status is None or not 200 <= valid.status < 300 or result.verdict == "public":
                continue
            for state, cell in result.cells.items():
                if state in LEGITIMATE_STATES or cell.status is None or cell.observation is None:
                    continue
                if (cell.status == valid.status and valid.observation is not None
                        and cell.observation.body_sha256 == valid.observation.body_sha256):
                    continue  # this presentation was accepted: it is not a bad credential's answer
                seen[state].add(cell.status)
    groups: dict[str, list[str]] = defaultdict(list)
    for state, statuses in seen.items():
        groups["/".join(str(s) for s in sorted(statuses))].append(state)
    return "; ".join(f"{', '.join(states)} → {statuses}" for statuses, states in groups.items())


def separation(api: ApiCatalog, signals: list[Signal]) -> list[str]:
    """What tells the states apart on this API, in sentences (plain text, escaped by the template)."""
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
    if any(s.kind == "status" for s in best[ACCEPTED]):
        s = next(s for s in best[ACCEPTED] if s.kind == "status")
        out.append(
            f"Here the status code is enough: only accepted credentials got a 2xx (right on {s.correct} of "
            f"{s.checked} answers); the bad states got {bad_state_statuses(api) or 'no answer'}."
        )
    if not out:
        out.append(
            "No header, body field or status code separated an accepted credential from every rejected-but-served one "
            "in these observations: use the token check below before trusting an empty result."
        )
    return out


def guide_context(catalog: Catalog, api: ApiCatalog) -> dict[str, Any]:
    answers = answers_for(catalog, api)
    signals = answers.signals
    results = {(run.target, eid): r for run in api.runs for eid, r in run.endpoints.items()}
    risky = []
    for key, text in sorted(answers.explanations.items()):
        target, eid = key.split("/", 1)
        result = results[(target, eid)]
        if result.verdict in ("falls-open", "mixed") or key in answers.unprivileged:
            anchor = f"{slug(result.endpoint.group)}.html#{slug(eid)}" if result.endpoint else ""
            risky.append((target, result, text, anchor))
    return {
        "answers": answers,
        "separation": separation(api, signals),
        "recommended": [s for s in signals if s.recommended],
        "unreliable": [s for s in signals if not s.recommended][:SHOWN_UNRELIABLE],
        "unreliable_total": sum(1 for s in signals if not s.recommended),
        "recipe": recipe_code(api.definition.api.title, signals),
        "risky": risky,
        "title": GUIDE_TITLE,
    }


@hookimpl(trylast=True)
def authcat_site_pages(catalog: Catalog, render):
    pages = []
    nav = []
    for name, api in sorted(catalog.apis.items()):
        if not api.runs:
            continue
        path = f"apis/{name}/guide.md"
        pages.append((path, render("guide.md.j2", api=api, catalog=catalog, **guide_context(catalog, api))))
        nav.append({api.definition.api.title: path})
    if nav:
        catalog.extras.setdefault("nav", []).append({"Dead token or empty result?": nav})
    return pages

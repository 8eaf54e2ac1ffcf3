"""The integrator's three questions, answered per API from all three kinds of evidence.

1. What does each bad credential get (per state, per endpoint)?
2. Which endpoint do I call to check a token?
3. Which header or field gives a silent fallback away?

Each line of an answer is labelled with its kind of evidence: *observed* (target, what the target
is, its version, the run date), *reported* (reference, source, date) or *documented* (the spec).
Observed parts come from ``catalog.answers.per_target`` (token checks, signals), never recomputed here;
reported and documented parts from the claims in the YAML (``catalog.definitions.evidence``). Where nothing
answers, the answer says what would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from catalog.answers.per_target import TargetAnswers
from catalog.answers.signals import ACCEPTED
from catalog.answers.token_check import IDENTITY_PATH, CheckCandidate
from catalog.definitions.evidence import API_WIDE, ClaimedCell, claimed_cells, signal_label
from catalog.model.definition import Reported, TargetProfile
from catalog.model.judgement import REFUSED, UNJUDGED
from catalog.model.vocabulary import Outcome, State
from catalog.runs.results import ApiCatalog, TargetRun

KIND_WORDS = {
    "emulator": "an emulator",
    "local-server": "a real server run locally",
    "vendor-site": "the vendor's own service",
    "vendor tenant": "a vendor tenant, submitted by a user",
}


@dataclass
class Line:
    """One piece of an answer and the evidence behind it."""

    kind: str  # observed | reported | documented
    text: str
    label: str  # "backlot (an emulator of …) 0.1.0, 2026-11-20" / "R5, community.atlassian.com, 2019-12"
    href: str | None = None  # the source (reported) or where to look on the site (observed)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "label": self.label, "href": self.href}


@dataclass
class Answer:
    key: str  # bad-credentials | token-check | fallback-signal (also the anchor)
    question: str
    lines: list[Line] = field(default_factory=list)
    missing: str | None = None  # what would answer it, when nothing does
    by_state: list[tuple[str, list[Line]]] = field(default_factory=list)  # question 1 only

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "lines": [x.to_dict() for x in self.lines], "missing": self.missing,
            "by_state": {state: [x.to_dict() for x in lines] for state, lines in self.by_state},
        }


@dataclass
class TargetInfo:
    name: str
    kind: str | None
    words: str  # "an emulator (Backlot) of Jira Cloud's REST API …"
    version: str | None
    date: str | None
    # The launcher's non-default settings that change what is observed: name -> "value: why".
    settings: dict[str, str] = field(default_factory=dict)


def target_info(api: ApiCatalog, run: TargetRun) -> TargetInfo:
    profile: TargetProfile | None = api.definition.targets.get(run.target)
    kind = profile.kind if profile else run.meta.get("kind")  # a submission says its own kind
    words = KIND_WORDS.get(kind or "", "a target of unstated kind")
    if profile and profile.models:
        words += f" — models {profile.models.rstrip('.')}"
    return TargetInfo(run.target, kind, words, run.version, run.meta.get("date"), dict(run.meta.get("settings") or {}))


def observed_label(info: TargetInfo) -> str:
    kind = KIND_WORDS.get(info.kind or "", "target")
    label = f"{info.name} ({kind}){' ' + info.version if info.version else ''}, {(info.date or 'undated')[:10]}"
    if info.settings:  # what the launcher changed that the answer depends on travels with it
        label += "; non-default: " + ", ".join(info.settings)
    return label


def claim_label(claim: Reported) -> str:
    url = urlparse(claim.source)
    where = f"{url.hostname}{url.path.rstrip('/')}" if url.hostname else claim.source
    if len(where) > 60:
        where = where[:59] + "…"
    return ", ".join(p for p in (claim.ref, where, claim.date) if p)


def _claim_href(claim: Reported) -> str | None:
    return claim.source if claim.source.startswith("https://") else None


def _cell_words(status: int | None, outcome: str | None) -> str:
    if outcome == Outcome.IGNORED:  # the public endpoint's silent fallback: say what it means
        return f"{status or '2xx'} served like everyone"
    return " ".join(str(p) for p in (status, outcome) if p) or "an answer"


def _where(cell: ClaimedCell) -> str:
    return "every endpoint" if cell.endpoint is None else f"{cell.endpoint.method} {cell.endpoint.path}"


# ---- 1. what does each bad credential get -------------------------------------------------------

def bad_states(api: ApiCatalog, order: list[str]) -> list[str]:
    """The bad-credential states (``order``: the catalog's, in column order) probed or claimed here."""
    seen = {s for run in api.runs for s in run.states}
    claimed = {s for row in claimed_cells(api.definition).values() for s in row}
    return [s for s in order if s in seen | claimed]


def sent_by(run: TargetRun, state: str) -> str:
    """What ``state`` sent on this target, from its request records: the headers and query values
    it adds to the anonymous request (``Authorization: Bearer !!!``), placeholders as recorded."""
    for result in run.endpoints.values():
        cell, anonymous = result.cells.get(state), result.cells.get(State.ANONYMOUS)
        mine = cell.observation.request if cell and cell.observation else None
        base = anonymous.observation.request if anonymous and anonymous.observation else None
        if not mine or not base:
            continue
        plain = {tuple(h) for h in base.get("headers") or []}
        added = [f"{k}: {v}" for k, v in mine.get("headers") or [] if (k, v) not in plain]
        url, plain_url = str(mine.get("url") or ""), str(base.get("url") or "")
        if url != plain_url and url.startswith(plain_url):
            added.append(url[len(plain_url):].lstrip("&?"))
        return "; ".join(added) or "nothing"
    return ""


def _observed_for_state(api: ApiCatalog, run: TargetRun, state: str, info: TargetInfo) -> Line | None:
    avail = run.states.get(state)
    if avail is None:
        return None
    if not avail.get("available", True):
        return Line("observed", f"not available on {run.target}: {avail.get('reason') or 'the target cannot make it'}",
                    observed_label(info), f"#matrix-{run.target}")
    counts: Counter[tuple[int | None, str]] = Counter()
    for result in run.endpoints.values():
        cell = result.cells.get(state)
        if result.verdict in UNJUDGED or cell is None or cell.outcome == Outcome.NOT_AVAILABLE:
            continue
        counts[(cell.status, cell.outcome)] += 1
    if not counts:
        return None
    total = sum(counts.values())
    parts = [f"{_cell_words(st, oc)} on {n}" for (st, oc), n in counts.most_common()]
    sent = sent_by(run, state)
    said = f"sent `{sent}`: " if sent and sent != "nothing" else ""
    return Line("observed", f"{said}{'; '.join(parts)} of {total} endpoints probed", observed_label(info),
                f"?state={state}#matrix-{run.target}")


def answer_bad_credentials(api: ApiCatalog, order: list[str]) -> Answer:
    ans = Answer("bad-credentials", "What does each bad credential get?")
    claimed = claimed_cells(api.definition)
    infos = {run.target: target_info(api, run) for run in api.runs}
    for state in bad_states(api, order):
        lines: list[Line] = []
        for run in api.runs:
            line = _observed_for_state(api, run, state, infos[run.target])
            if line:
                lines.append(line)
        for row in claimed.values():
            cell = row.get(state)
            if cell is None:
                continue
            for claim in cell.claims:
                # An API-wide claim's cell says little alone ("as-valid on every endpoint"): quote it.
                said = f" — “{claim.claim}”" if cell.endpoint is None else ""
                lines.append(Line(claim.kind, f"{_cell_words(claim.status, claim.outcome)} on {_where(cell)}{said}",
                                  claim_label(claim), _claim_href(claim)))
        if not any(x.kind != "observed" or "not available" not in x.text for x in lines):
            lines.append(Line("missing", "nothing answers this yet: probe a target that can make this state "
                                         "(see the n/a reason), or add a reported claim with its source", ""))
        ans.by_state.append((state, lines))
    if not ans.by_state:
        ans.missing = "No bad credential was probed or reported for this API: probe a target, or add reported claims."
    return ans


# ---- 2. which endpoint checks a token -------------------------------------------------------------

def candidate_words(c: CheckCandidate) -> str:
    """One token-check line: where to call, what to read, what every bad state gets there."""
    where = f"`{c.method} {c.path}`"
    if c.reads:
        text = f"call {where}, read `{c.reads}` (there only when the credential was accepted): {c.refusals}"
    else:
        text = f"{where}{' (names the caller)' if c.identity else ''}: {c.refusals}"
    if c.parameters:
        text += f" — needs a value of this target's for {', '.join('{' + p + '}' for p in c.parameters)}"
    if c.ambiguous:
        text += f" — flagged: {c.unprivileged}, so a refusal may mean “no rights”, not “dead token”"
    elif c.unprivileged:
        text += f" — but {c.unprivileged}"
    return text


def answer_token_check(api: ApiCatalog, targets: Sequence[TargetAnswers], bad_order: list[str]) -> Answer:
    ans = Answer("token-check", "Which endpoint do I call to check a token?")
    infos = {run.target: target_info(api, run) for run in api.runs}
    weak: dict[str, str] = {}  # target -> why its best observed check is not the one readers want
    for check in (t.token_check for t in targets):
        info = infos.get(check.target)
        label = observed_label(info) if info else check.target
        if check.candidates:
            best = check.candidates[0]
            if best.ambiguous or best.refusal == "403/404" or not best.identity:
                weak[check.target] = ("its best observed check refuses with a status the unprivileged caller gets too"
                                      if best.ambiguous else "its best observed check names no caller"
                                      if not best.identity else "its best observed check refuses with 403/404")
            for c in check.candidates[:3]:
                ans.lines.append(Line("observed", candidate_words(c), label, f"#matrix-{check.target}"))
        else:
            weak[check.target] = "no observed check"
            reason = (check.reason or "").removeprefix("none found on this target: ")
            ans.lines.append(Line("observed", f"none found on {check.target}: {reason}", label, f"#matrix-{check.target}"))
    claimed_lines: list[Line] = []
    first: list[Line] = []
    for key, row in claimed_cells(api.definition).items():
        if key == API_WIDE:
            continue
        bad = {s: c for s, c in row.items() if s in bad_order}
        if not bad:
            continue
        # A 404 cannot tell a missing item from a dead token: only 401/403 answers make a check.
        refused = all(c.outcome in REFUSED
                      or (c.outcome is None and c.status in (401, 403)) for c in bad.values())
        if refused:
            cell = next(iter(bad.values()))
            claims = [cl for c in bad.values() for cl in c.claims]
            refusals = "; ".join(f"{s} → {_cell_words(c.status, c.outcome)}" for s, c in bad.items())
            unsaid = [s for s in bad_states(api, bad_order) if s not in bad]
            if unsaid:  # every bad state is accounted for, the ones no evidence speaks of too
                refusals += f"; not {claims[0].kind}: {', '.join(unsaid)}"
            endpoint = cell.endpoint
            unserved = [run.target for run in api.runs if endpoint is not None and run.target in weak
                        and (r := run.endpoints.get(endpoint.id)) is not None and r.verdict in UNJUDGED]
            if endpoint is not None and unserved and IDENTITY_PATH.search(endpoint.path):
                # The check readers want, which these targets do not serve: it comes first, labelled.
                why = "; ".join(f"not served by {t} ({weak[t]})" for t in unserved)
                first.append(Line(claims[0].kind, f"{_where(cell)} (names the caller; {why}): {refusals}",
                                  claim_label(claims[0]), _claim_href(claims[0])))
            else:
                claimed_lines.append(Line(claims[0].kind, f"{_where(cell)}: {refusals}", claim_label(claims[0]),
                                          _claim_href(claims[0])))
    ans.lines = [*first, *ans.lines, *claimed_lines]
    documented = [e for e in api.definition.endpoints
                  if e.method == "GET" and e.documented.anonymous is False and e.documented.documents_401]
    if documented:
        spec = documented[0].documented.source or "the vendor's spec"
        ans.lines.append(Line(
            "documented",
            f"{len(documented)} GET endpoints are documented as needing a credential and as answering 401 to a "
            "missing or incorrect one; the documentation does not say what a revoked or expired token gets",
            spec.split(" ")[0],
        ))
    if not any(x.kind == "observed" and not x.text.startswith("none found") for x in ans.lines) and not any(
            x.kind == "reported" for x in ans.lines):
        ans.missing = ("No endpoint is known to refuse every bad credential. What would answer it: a target "
                       "that can make the revoked and expired states (probe your own site), or a report of an "
                       "endpoint that answers 401 to them.")
    return ans


# ---- 3. which header or field gives a fallback away ----------------------------------------------

def answer_fallback_signal(api: ApiCatalog, targets: Sequence[TargetAnswers]) -> Answer:
    ans = Answer("fallback-signal", "Which header or field gives a silent fallback away?")
    infos = {run.target: target_info(api, run) for run in api.runs}
    for mine in targets:  # each target's own signals, never pooled
        label = observed_label(infos[mine.target]) if mine.target in infos else mine.target
        if not mine.recognition.recognised:
            ans.lines.append(Line("observed", f"none on {mine.target}: the valid credential was never recognised "
                                              f"there ({mine.recognition.reason})", label, f"#matrix-{mine.target}"))
            continue
        pooled = [s for s in mine.recommended if s.one_endpoint is None][:4]
        alone = [s for s in mine.recommended if s.one_endpoint is not None][:max(1, 4 - len(pooled))]
        for s in [*pooled, *alone]:
            meaning = "the credential was accepted" if s.meaning == ACCEPTED else "the credential was read and refused"
            if s.one_endpoint is not None:  # holds on that endpoint only: say where to read it
                method, path = s.one_endpoint
                text = (f"call `{method} {path}`, read `{s.label()}`: {meaning} there "
                        f"(right on {s.correct} of {s.checked} {s.scope})")
            else:
                text = f"{s.label()}: {meaning} (right on {s.correct} of {s.checked} {s.scope})"
            ans.lines.append(Line("observed", text, label, f"guide.html#target-{mine.target}"))
    grouped: dict[tuple[str, str, str], list[Reported]] = {}
    claims = [*api.definition.api.reported]
    for e in api.definition.endpoints:
        claims += [*e.reported, *e.documented.claims]
    for claim in claims:
        if claim.signal:
            grouped.setdefault((claim.kind, signal_label(claim.signal), claim.signal["meaning"]), []).append(claim)
    for (kind, label, meaning), cs in grouped.items():
        said = ("present only when the credential was accepted" if meaning == "accepted"
                else "on an answer served although the credential was refused")
        refs = "; ".join(dict.fromkeys(claim_label(c) for c in cs))
        ans.lines.append(Line(kind, f"{label}: {said}", refs, _claim_href(cs[0])))
    if not ans.lines:
        ans.missing = ("No header or body field is known to separate an accepted credential from a refused but "
                       "served one. What would answer it: observations of a bad state served a 2xx on an endpoint "
                       "whose valid and anonymous answers differ (the signals are found by comparing those with "
                       "accepted answers; a 2xx on a public endpoint, `ignored`, says nothing about the "
                       "credential), or a report naming one.")
    return ans


def api_questions(api: ApiCatalog, targets: Sequence[TargetAnswers], state_order: list[str]) -> list[Answer]:
    """The three questions for one API; ``targets``: its per-target answers (computed once)."""
    return [answer_bad_credentials(api, state_order), answer_token_check(api, targets, state_order),
            answer_fallback_signal(api, targets)]



def targets_for(api: ApiCatalog) -> list[TargetInfo]:
    return [target_info(api, run) for run in api.runs]

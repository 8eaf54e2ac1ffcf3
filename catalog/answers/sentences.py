"""The reader's summary: one sentence per API × bad credential, and where the evidence kinds disagree.

Each sentence joins the three kinds of evidence for one bad state — what each target was observed
to answer (never pooled across targets), what reports and the documentation say — with numbered
notes naming each source, as caniuse's support table numbers its notes. The home page shows every
API × bad state as one grid cell (the sentence's headline outcome) linking to its sentence.

Words come from the data: an outcome this module has no plain phrase for is named as itself, so a
new outcome in the vocabulary (or a plugin's) still reads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from catalog.answers.questions import KIND_WORDS, bad_states, claim_label, observed_label, sent_by, target_info
from catalog.answers.signals import ACCEPTED
from catalog.definitions.evidence import API_WIDE, all_claims, claimed_cells, signal_label
from catalog.model.definition import Reported
from catalog.model.judgement import SERVED_2XX
from catalog.model.observation import is_2xx
from catalog.model.vocabulary import Outcome, Verdict, slug
from catalog.runs.results import ApiCatalog, TargetRun

# What a bad credential "gets", in plain words (the outcome word stays beside it on the page).
PHRASES = {
    "rejected": "refused with 401",
    "rejected-in-body": "refused in the body (the API's error envelope)",
    "forbidden": "refused with 403",
    "hidden": "answered 404, as if the item did not exist",
    "empty": "served an empty result",
    "as-anonymous": "served as anonymous",
    "ignored": "served like everybody (the endpoint does not check credentials)",
    "as-valid": "accepted as if valid (it keeps working)",
    "partial": "served a different answer",
    "redirect": "redirected",
    "client-error": "refused with another 4xx",
    "rate-limited": "rate-limited",
    "server-error": "crashed the server",
    "error": "got no answer",
    "inconclusive": "could not be judged",
}
# Outcomes that serve data to a bad credential: where a signal tells the fallback apart.
_SERVED = SERVED_2XX
_UNJUDGED = frozenset({Verdict.NOT_SERVED, Verdict.NOT_PROBED})
_SKIP = frozenset({Outcome.NOT_AVAILABLE})
OBSERVED_VS_REPORTED = "observed vs reported"
REPORT_VS_REPORT = "report vs report"


def phrase(outcome: str | None, status: int | None = None) -> str:
    """``outcome`` in plain words; a status the phrase does not already say is added."""
    if outcome is None:
        return f"answered {status}" if status is not None else "an answer"
    words = PHRASES.get(outcome, f"got {outcome}")
    if status is not None and str(status) not in words and not (outcome in _SERVED and is_2xx(status)):
        words += f" ({status})"
    return words


@dataclass(frozen=True)
class Note:
    number: int
    kind: str  # observed | reported | documented
    label: str  # the source: target + kind + version + date, or reference + where + date
    text: str  # what it says
    href: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "kind": self.kind, "label": self.label, "text": self.text, "href": self.href}


@dataclass(frozen=True)
class Clause:
    """One part of a sentence and the notes it rests on."""

    kind: str  # observed | reported | documented | signal | missing
    text: str
    notes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Sentence:
    api: str
    title: str
    state: str
    clauses: tuple[Clause, ...]
    headline: str  # the grid cell's outcome ("n/a": only unavailable; "unknown": no evidence)
    headline_kind: str  # which evidence the headline rests on: observed | reported | documented | none
    share: tuple[int, int] | None  # observed: (endpoints with the headline, endpoints judged) when not all
    disagree: bool  # the evidence kinds (or two reports) contradict each other on this state

    @property
    def anchor(self) -> str:
        return f"in-short-{self.state}"

    def text(self) -> str:
        """The sentence as plain text, note numbers in brackets."""
        parts = [c.text + "".join(f" [{n}]" for n in c.notes) for c in self.clauses]
        return f"{self.title}, {self.state}: " + "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "text": self.text(), "headline": self.headline,
                "headline_kind": self.headline_kind, "disagree": self.disagree,
                "clauses": [{"kind": c.kind, "text": c.text, "notes": list(c.notes)} for c in self.clauses]}


@dataclass(frozen=True)
class Contradiction:
    """Two kinds of evidence (or two reports) saying different things about one state."""

    kind: str  # OBSERVED_VS_REPORTED | REPORT_VS_REPORT
    state: str
    where: str  # "GET /path" or "every endpoint"
    href: str | None  # the endpoint's section, relative to the API folder
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "state": self.state, "where": self.where, "detail": self.detail}


@dataclass
class InShort:
    """One API's sentences (bad-state order) and the notes they share, numbered once."""

    sentences: list[Sentence] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)

    def by_state(self) -> dict[str, Sentence]:
        return {x.state: x for x in self.sentences}

    def to_dict(self) -> dict[str, Any]:
        return {"sentences": [s.to_dict() for s in self.sentences], "notes": [n.to_dict() for n in self.notes],
                "contradictions": [c.to_dict() for c in self.contradictions]}


class _Notes:
    def __init__(self) -> None:
        self.by_key: dict[tuple, Note] = {}

    def add(self, kind: str, label: str, text: str, href: str | None = None) -> int:
        key = (kind, label, text)
        if key not in self.by_key:
            self.by_key[key] = Note(len(self.by_key) + 1, kind, label, text, href)
        return self.by_key[key].number


def _claim_href(claim: Reported) -> str | None:
    return claim.source if claim.source.startswith("https://") else None


def _judged(run: TargetRun, state: str) -> tuple[Counter[str], Counter[str], dict[str, set[int]]]:
    """Outcome counts of ``state`` on ``run``: endpoints that need a credential, public ones; statuses."""
    needs: Counter[str] = Counter()
    public: Counter[str] = Counter()
    statuses: dict[str, set[int]] = {}
    for result in run.endpoints.values():
        cell = result.cells.get(state)
        if result.verdict in _UNJUDGED or cell is None or cell.outcome in _SKIP:
            continue
        (public if result.verdict == Verdict.PUBLIC else needs)[cell.outcome] += 1
        if cell.status is not None:
            statuses.setdefault(cell.outcome, set()).add(cell.status)
    return needs, public, statuses


def _with_statuses(outcome: str, statuses: dict[str, set[int]]) -> str:
    found = sorted(statuses.get(outcome, ()))
    if len(found) == 1:
        return phrase(outcome, found[0])
    words = phrase(outcome)
    return words + (f" ({', '.join(map(str, found))})" if len(found) > 1 else "")


def _observed_clause(api: ApiCatalog, run: TargetRun, state: str, notes: _Notes) -> tuple[Clause | None, Counter[str]]:
    info = target_info(api, run)
    kind_words = KIND_WORDS.get(info.kind or "", "a target")
    avail = run.states.get(state)
    if avail is None:
        return None, Counter()
    label = observed_label(info)
    if not avail.get("available", True):
        reason = avail.get("reason") or "the target cannot make it"
        n = notes.add("observed", label, f"{state} is not available on {run.target}: {reason}", f"#na-{slug(run.target)}-{state}")
        return Clause("observed", f"not observable on {run.target} ({kind_words})", (n,)), Counter()
    needs, public, statuses = _judged(run, state)
    if not needs and not public:
        return None, Counter()
    parts = []
    total = sum(needs.values())
    for i, (outcome, count) in enumerate(needs.most_common(3)):
        of = f" of {total}" if i == 0 else ""
        parts.append(f"{_with_statuses(outcome, statuses)} on {count}{of}")
    if len(needs) > 3:
        parts.append(f"other answers on {sum(c for _, c in needs.most_common()[3:])}")
    words = ", ".join(parts) + (" endpoints that need a credential" if needs else "")
    if public:
        # A public endpoint serves everybody alike: a 2xx there says nothing about the credential.
        kinds = []
        for i, (top, count) in enumerate(public.most_common(2)):
            what = PHRASES["ignored"].split(" (")[0] if top in _SERVED else _with_statuses(top, statuses)
            kinds.append(f"{what} on {count}" + (f" public endpoint{'s' if count > 1 else ''}" if i == 0 else ""))
        served = ", ".join(kinds)
        words = f"{words}; {served}" if words else served
    summary = "; ".join(f"{o} on {c}" for o, c in (needs + public).most_common())
    sent = sent_by(run, state)
    said = f"; it sent {sent}" if sent and sent != "nothing" else ""
    # A literal (malformed's "Bearer !!!") is what the sentence generalises from: say it there too.
    if sent and sent != "nothing" and "{" not in sent:
        words = f"sent “{sent}”, {words}"
    n = notes.add("observed", label, f"{state}: {summary} (of {sum((needs + public).values())} endpoints probed){said}",
                  f"?state={state}#matrix-{slug(run.target)}")
    return Clause("observed", f"observed on {run.target} ({kind_words}): {words}", (n,)), needs or public


def _claims_for(api: ApiCatalog, state: str) -> list[tuple[str, Reported]]:
    """(where, claim) of every claim about ``state``: API-wide first, then by path."""
    out: list[tuple[str, Reported]] = []
    for key, row in claimed_cells(api.definition).items():
        cell = row.get(state)
        if cell is None:
            continue
        where = "every endpoint" if key == API_WIDE or cell.endpoint is None else f"{cell.endpoint.method} {cell.endpoint.path}"
        out += [(where, c) for c in cell.claims]
    out.sort(key=lambda wc: (wc[0] != "every endpoint", wc[0]))
    return out


def _remarks_for(api: ApiCatalog, state: str) -> list[Reported]:
    """Claims that name the state but say no status or outcome (a remark, e.g. how long tokens live)."""
    return [c for c in all_claims(api.definition) if c.state == state and not c.is_cell and not c.signal]


def _signals_for(api: ApiCatalog, state: str, answers: Any) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """Header or field names that give a fallback of ``state`` away (observed on a target, then
    reported or documented), and the notes they rest on."""
    names: list[str] = []
    sources: list[tuple[str, str, str, str]] = []  # kind, label, text, name
    for mine in (answers.targets if answers else []):
        if not mine.recognition.recognised:
            continue
        useful = [s for s in mine.recommended if s.kind != "status"
                  and (s.meaning == ACCEPTED or not s.states or state in s.states)]
        for s in useful[:2]:
            if s.name not in names:
                names.append(s.name)
            sources.append(("observed", mine.target, f"{s.label()}: right on {s.correct} of {s.checked} {s.scope}", s.name))
    for c in all_claims(api.definition):
        if c.signal and c.state in (None, state):
            name = c.signal.get("header") or c.signal.get("field") or ""
            if name and name not in names:
                names.append(name)
            sources.append((c.kind, claim_label(c), f"{signal_label(c.signal)}: {c.claim}", name))
    # The names more sources agree on first (observed and reported beats one of them).
    support = Counter(name for *_, name in sources)
    return sorted(names, key=lambda n: -support[n]), sources


def in_short(api: ApiCatalog, bad_order: list[str], answers: Any = None) -> InShort:
    """One sentence per bad state of ``api`` (observed, reported, documented), notes numbered once."""
    notes = _Notes()
    summary = InShort(contradictions=contradictions(api, bad_order))
    disputed = {c.state for c in summary.contradictions}
    title = api.definition.api.title
    for state in bad_states(api, bad_order):
        clauses: list[Clause] = []
        observed: Counter[str] = Counter()
        for run in api.runs:
            clause, counts = _observed_clause(api, run, state, notes)
            if clause:
                clauses.append(clause)
                observed.update(counts)
        claimed: Counter[str] = Counter()
        groups: dict[tuple[str, str | None, int | None, str], list[tuple[Reported, int]]] = {}
        for where, claim in _claims_for(api, state):
            said = claim.claim if where == "every endpoint" else f"{where}: {claim.claim}"
            n = notes.add(claim.kind, claim_label(claim), said, _claim_href(claim))
            groups.setdefault((claim.kind, claim.outcome, claim.status, where), []).append((claim, n))
            if claim.outcome:  # a claim about every endpoint outweighs one about a single endpoint
                claimed[claim.outcome] += 3 if where == "every endpoint" else 1
        # One clause per answer a kind of evidence claims: its endpoints named when few.
        merged: dict[tuple[str, str | None, int | None], list[tuple[str, Reported, int]]] = {}
        for (kind, outcome, status, where), cs in groups.items():
            merged.setdefault((kind, outcome, status), []).extend((where, c, n) for c, n in cs)
        cited: set[str] = set()
        for (kind, outcome, status), items in merged.items():
            wheres = list(dict.fromkeys(w for w, _, _ in items))
            on = " and ".join(wheres) if len(wheres) <= 2 else f"{len(wheres)} endpoints"
            refs = list(dict.fromkeys(c.ref or c.kind for _, c, _ in items))
            cited.update(refs)
            clauses.append(Clause(kind, f"{phrase(outcome, status)} on {on} ({kind} {', '.join(refs)})",
                                  tuple(sorted({n for _, _, n in items}))))
        for remark in _remarks_for(api, state):
            if (remark.ref or "") in cited:
                continue
            n = notes.add(remark.kind, claim_label(remark), remark.claim, _claim_href(remark))
            clauses.append(Clause(remark.kind, f"see also {remark.ref or remark.kind}", (n,)))
        served = any(o in _SERVED for o in (*observed, *claimed))
        if served:
            names, signal_notes = _signals_for(api, state, answers)
            if names:
                named = names[:2]
                numbers = tuple(sorted({notes.add(k, label, text) for k, label, text, name in signal_notes
                                        if name in named}))
                clauses.append(Clause("signal", "watch " + " and ".join(named), numbers))
        if not any(c.kind != "observed" or not c.text.startswith("not observable") for c in clauses):
            clauses.append(Clause("missing", "nothing answers this yet (no target could make it and nobody reported it)"))
        headline, kind, share = _headline(observed, claimed, clauses)
        summary.sentences.append(Sentence(api.name, title, state, tuple(clauses), headline, kind, share, state in disputed))
    summary.notes = sorted(notes.by_key.values(), key=lambda n: n.number)
    return summary


def _headline(observed: Counter[str], claimed: Counter[str], clauses: list[Clause]) -> tuple[str, str, tuple[int, int] | None]:
    if observed:
        top, count = observed.most_common(1)[0]
        total = sum(observed.values())
        return top, "observed", (count, total) if count < total else None
    if claimed:
        kinds = {c.kind for c in clauses}
        return claimed.most_common(1)[0][0], "reported" if "reported" in kinds else "documented", None
    if any(c.text.startswith("not observable") for c in clauses):
        return "n/a", "none", None
    return "unknown", "none", None


# ---- where the evidence kinds contradict each other -------------------------------------------------

def _says(status: int | None, outcome: str | None) -> str:
    return " ".join(str(p) for p in (status, outcome) if p) or "an answer"


def _agrees(claim: Reported, status: int | None, outcome: str | None) -> bool:
    if claim.outcome is not None and outcome is not None and claim.outcome != outcome:
        # An outcome name sharpened since the claim was written (a public endpoint's fallback is
        # now "ignored", not "as-valid") is the same answer if the status agrees.
        served = {claim.outcome, outcome} <= _SERVED and (claim.status is None or claim.status == status)
        return served and "ignored" in (claim.outcome, outcome)
    return claim.status is None or status is None or claim.status == status


def contradictions(api: ApiCatalog, bad_order: list[str]) -> list[Contradiction]:
    """Observed vs reported (same endpoint and state, one target at a time) and report vs report."""
    found: list[Contradiction] = []
    bad = set(bad_order)
    for row in claimed_cells(api.definition).values():
        for state, cell in row.items():
            if state not in bad:
                continue
            endpoint = cell.endpoint
            where = "every endpoint" if endpoint is None else f"{endpoint.method} {endpoint.path}"
            href = None if endpoint is None else f"{slug(endpoint.group)}.html#{slug(endpoint.id)}"
            said = {(c.status, c.outcome) for c in cell.claims if c.status is not None or c.outcome is not None}
            if len(said) > 1:
                parts = "; ".join(f"{c.kind} ({claim_label(c)}): {_says(c.status, c.outcome)}" for c in cell.claims)
                found.append(Contradiction(REPORT_VS_REPORT, state, where, href, parts))
            if endpoint is None:
                continue
            for run in api.runs:
                result = run.endpoints.get(endpoint.id)
                got = result.cells.get(state) if result else None
                if result is None or result.verdict in _UNJUDGED or got is None or got.outcome in _SKIP:
                    continue
                for claim in cell.claims:
                    if claim.is_cell and not _agrees(claim, got.status, got.outcome):
                        info = target_info(api, run)
                        found.append(Contradiction(
                            OBSERVED_VS_REPORTED, state, where, href,
                            f"{claim.kind} ({claim_label(claim)}): {_says(claim.status, claim.outcome)}; "
                            f"observed on {observed_label(info)}: {_says(got.status, got.outcome)}",
                        ))
    order = {s: i for i, s in enumerate(bad_order)}
    found.sort(key=lambda c: (c.kind != OBSERVED_VS_REPORTED, order.get(c.state, 99), c.where))
    return found

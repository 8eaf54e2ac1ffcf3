"""Presentations of the valid secret, summarised per target and per API.

A presentation (the scheme word in another case, the secret under another scheme, the secret in
a query parameter) sends a *genuine* secret: accepting it is no fallback, so it never decides a
verdict. What a client needs to know is which presentations a server takes — and a server that
refuses the scheme word in lower case breaks RFC 7235 §2.1 (the scheme is case-insensitive),
which is the finding.

Only endpoints where the valid credential was served (2xx) and anonymous callers were not given
the same answer count: elsewhere accepting and ignoring a credential look alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.model.credentials import AuthScheme, Location
from catalog.model.judgement import REJECTING, UNJUDGED
from catalog.model.vocabulary import Outcome, State, StateFamily, Verdict
from catalog.runs.results import ApiCatalog, TargetRun

ACCEPTED = frozenset({Outcome.AS_VALID})
RFC_7235 = "https://www.rfc-editor.org/rfc/rfc7235#section-2.1"


@dataclass
class PresentationFinding:
    """One presentation state on one target: how many judgeable endpoints accepted or refused it."""

    state: str
    target: str
    accepted: list[str] = field(default_factory=list)  # endpoint ids
    refused: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # any other outcome (partial, error, …)
    unavailable: str | None = None  # why the state is n/a on this target

    @property
    def verdict(self) -> str:
        """``accepts``, ``refuses``, ``varies`` (endpoints differ), ``n/a`` or ``unjudged``."""
        if self.unavailable is not None:
            return Outcome.NOT_AVAILABLE
        if not (self.accepted or self.refused or self.other):
            return "unjudged"
        if self.accepted and not (self.refused or self.other):
            return "accepts"
        if self.refused and not (self.accepted or self.other):
            return "refuses"
        return "varies"


    def to_dict(self) -> dict[str, object]:
        return {"state": self.state, "verdict": self.verdict, "accepted": self.accepted,
                "refused": self.refused, "other": self.other, "reason": self.unavailable}


def what_is_sent(state: str, scheme: AuthScheme | None) -> str:
    """The presentation in words, from the API's scheme (``the secret under Bearer``)."""
    if state == State.SCHEME_CASE:
        word = scheme.keyword if scheme and scheme.keyword else "the scheme word"
        other = word.lower() if word != word.lower() else word.upper()
        return f'the scheme word in another case ("{other}" for "{word}")'
    if state == State.WRONG_SCHEME:
        bearer = scheme is not None and scheme.uses_keyword and (scheme.keyword or "").lower() == "bearer"
        return "the secret under Basic too" if bearer else "the secret under Bearer too"
    if state == State.QUERY_PARAMETER:
        name = scheme.query_parameter if scheme and scheme.query_parameter else "a query parameter"
        return f"the secret as ?{name}="
    return f"the {state} presentation"


def sentence(finding: PresentationFinding, scheme: AuthScheme | None) -> str:
    sent = what_is_sent(finding.state, scheme)
    verdict = finding.verdict
    if verdict == Outcome.NOT_AVAILABLE:
        return f"{sent}: not probed ({finding.unavailable})"
    if verdict == "unjudged":
        return f"{sent}: no endpoint where the valid credential was served to judge it on"
    n = len(finding.accepted) + len(finding.refused) + len(finding.other)
    if verdict == "accepts":
        text = f"accepts {sent} (on all {n} judged endpoints)"
    elif verdict == "refuses":
        text = f"refuses {sent} (on all {n} judged endpoints)"
    else:
        text = (f"varies for {sent}: accepted on {len(finding.accepted)}, refused on {len(finding.refused)}, "
                f"other answers on {len(finding.other)} of {n} endpoints")
    if finding.state == State.SCHEME_CASE and finding.refused:
        text += f" — RFC 7235 §2.1 makes the scheme word case-insensitive, so refusing it is a defect ({RFC_7235})"
    return text


def target_findings(run: TargetRun) -> list[PresentationFinding]:
    """Every presentation state of one target, judged on the endpoints where it can be judged."""
    findings = []
    for state, info in run.states.items():
        if run.family(state) is not StateFamily.PRESENTATION:
            continue
        finding = PresentationFinding(state, run.target)
        if not info.get("available"):
            finding.unavailable = str(info.get("reason") or "not available")
            findings.append(finding)
            continue
        for endpoint_id, result in sorted(run.endpoints.items()):
            valid, anonymous, cell = result.cells.get(State.VALID), result.cells.get(State.ANONYMOUS), result.cells.get(state)
            if valid is None or valid.observation is None or not valid.observation.ok or cell is None:
                continue
            if result.verdict in (Verdict.PUBLIC, Verdict.INCONCLUSIVE, *UNJUDGED) or (
                    anonymous is not None and anonymous.outcome == Outcome.AS_VALID):
                continue  # accepting and ignoring the secret would look alike here
            if cell.outcome in ACCEPTED:
                finding.accepted.append(endpoint_id)
            elif cell.outcome in REJECTING:
                finding.refused.append(endpoint_id)
            elif cell.outcome != Outcome.NOT_AVAILABLE:
                finding.other.append(endpoint_id)
        findings.append(finding)
    return findings


@dataclass
class ApiPresentations:
    """Per state: one sentence when every target agrees, else one per target."""

    rows: list[tuple[str, str, list[tuple[str, str]]]]  # (state, agreed sentence or "", [(target, sentence)])


def api_presentations(api: ApiCatalog, scheme: AuthScheme | None = None) -> ApiPresentations:
    scheme = scheme or api.definition.api.auth
    per_state: dict[str, list[PresentationFinding]] = {}
    for run in api.runs:
        for finding in target_findings(run):
            per_state.setdefault(finding.state, []).append(finding)
    rows = []
    for state, findings in per_state.items():
        sentences = [(f.target, sentence(f, scheme)) for f in findings]
        verdicts = {f.verdict for f in findings}
        agreed = ""
        if len(findings) == 1:
            agreed = sentences[0][1]
        elif verdicts in ({"accepts"}, {"refuses"}):
            verb = verdicts.pop()[:-1]  # "accept" / "refuse"
            agreed = f"every target {verb}s {what_is_sent(state, scheme)}"
            if state == State.SCHEME_CASE and verb == "refuse":
                agreed += f" — RFC 7235 §2.1 makes the scheme word case-insensitive, so refusing it is a defect ({RFC_7235})"
        rows.append((state, agreed, sentences))
    return ApiPresentations(rows)


def scheme_words(scheme: AuthScheme | None) -> str:
    """How the API's credential is sent, for the page that summarises its presentations."""
    if scheme is None:
        return "its auth scheme"
    if scheme.uses_keyword:
        return f'the "{scheme.keyword}" keyword in the Authorization header'
    if scheme.location is Location.QUERY:
        return f'the "{scheme.parameter}" query parameter'
    return f'the "{scheme.parameter}" {scheme.location.value}'

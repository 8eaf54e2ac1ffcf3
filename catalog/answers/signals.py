"""Auth signals: headers, body fields and status codes that give a credential's fate away.

Pure functions over classified results. Every answered cell of an API gets a *label* — what
really happened to the credential it carried — and every feature of the answers (a header's
presence, a header's kept value, an actor body field, a status code) is tested as a rule:

* ``credential accepted``: the feature is there exactly when the credential was accepted. Checked
  on served (2xx) answers, where a status code cannot tell "dead token" from "empty result".
* ``credential read and rejected``: the feature appears only on answers to bad credentials, never
  on accepted ones or on answers to no credential at all; it *covers* the bad states it appears on
  and must appear on every answer of those states.

A rule is recommended only when it classified every observation it was checked on correctly.
Nothing here knows any vendor: the rules come out of the observations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from catalog.model.observation import is_2xx, same_answer
from catalog.model.vocabulary import Outcome, State
from catalog.runs.results import EndpointResult

Feature = tuple[str, str, str | None]  # (kind, name, value): a header, a status or a body field


class SignalMeaning(StrEnum):
    """What a :class:`Signal` gives away: the credential was accepted, or it was read and
    rejected (the value is the JSON word)."""

    ACCEPTED = "credential accepted"
    REJECTED = "credential read and rejected"


ACCEPTED, REJECTED = SignalMeaning.ACCEPTED, SignalMeaning.REJECTED
KINDS = ("header-present", "header-value", "body-value", "body-field", "status")
# What an actor field's entry says (catalog.model.observation); anything else in ``fields`` is the value of
# a field the API names in ``signal_fields`` (an error code such as M_UNKNOWN_TOKEN).
_FIELD_STATES = frozenset({"null", "present", "absent", "other"})

# Legitimate credentials: whatever the server answers, it authenticated them (unless it says 401).
_LEGIT_CREDENTIALS = frozenset({State.VALID, State.UNPRIVILEGED})
# Names that suggest the caller's identity rank first among equally good signals.
_IDENTITY_NAME = re.compile(r"account|user|actor|principal|identity|subject|login|auth|session|whoami|owner")


@dataclass(frozen=True)
class Sample:
    """One answered cell, with the label of what happened to its credential."""

    endpoint_id: str
    method: str
    path: str
    state: str
    status: int
    headers: Mapping[str, str]
    fields: Mapping[str, str]
    label: str | None  # "accepted" | "rejected" | "anonymous" | None (cannot tell)

    @property
    def ok(self) -> bool:
        return is_2xx(self.status)

    def features(self) -> frozenset[Feature]:
        return self._features

    @cached_property
    def _features(self) -> frozenset[Feature]:
        # Computed once: every rule asks every sample, for every feature (at 20,000 endpoints the
        # same sets were built some millions of times, a tenth of the build).
        found: set[tuple[str, str, str | None]] = set()
        for name, value in self.headers.items():
            found.add(("header-present", name, None))
            if value != "(present)":
                found.add(("header-value", name, value))
        for pointer, state in self.fields.items():
            if pointer == "auth-failure" or state in _FIELD_STATES:
                found.add(("body-field", pointer, state))
            else:
                found.add(("body-value", pointer, state))
        found.add(("status", "2xx" if self.ok else str(self.status), None))
        return frozenset(found)


@dataclass(frozen=True)
class Signal:
    """A rule that tells an accepted credential from a rejected one, with its track record."""

    kind: str  # one of KINDS
    name: str  # header name, JSON pointer, or status ("2xx", "401")
    value: str | None  # the header's value, or the field's state ("present"); None for presence
    meaning: str  # ACCEPTED | REJECTED
    checked: int  # observations the rule was checked on
    correct: int  # of those, how many it classified correctly
    carried: int  # observations that carry the feature
    states: tuple[str, ...] = ()  # states whose answers carried it (for REJECTED: the states covered)
    endpoints: tuple[tuple[str, str], ...] = ()  # body fields: the (method, path) they were read on
    scope: str = "2xx answers"
    misclassified: tuple[str, ...] = ()  # a few "endpoint · state" where the rule was wrong
    non_2xx: tuple[int, int] | None = None  # ACCEPTED header rules: (correct, checked) on other answers
    refused_with: tuple[int, ...] = ()  # the ACCEPTED "status 2xx" rule: statuses of the answers it refused

    @property
    def recommended(self) -> bool:
        return self.checked > 0 and self.correct == self.checked and self.carried > 0

    @property
    def one_endpoint(self) -> tuple[str, str] | None:
        """``(method, path)`` when the rule was scored on that endpoint alone."""
        return self.endpoints[0] if self.scope.startswith("answers of ") and self.endpoints else None

    @property
    def misses(self) -> int:
        return self.checked - self.correct

    def label(self) -> str:
        if self.kind == "header-present":
            return f"{self.name} present"
        if self.kind == "header-value":
            return f"{self.name}: {self.value}"
        if self.kind == "body-field":
            return f"{self.name} is {'not null' if self.value == 'present' else self.value}"
        if self.kind == "body-value":
            return f"body {self.name}: {self.value}"
        return f"status {self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "value": self.value, "meaning": self.meaning,
            "label": self.label(), "recommended": self.recommended, "checked": self.checked,
            "correct": self.correct, "carried": self.carried, "states": list(self.states),
            "endpoints": [f"{m} {p}" for m, p in self.endpoints], "scope": self.scope,
            "misclassified": list(self.misclassified),
            "non_2xx": {"correct": self.non_2xx[0], "checked": self.non_2xx[1]} if self.non_2xx else None,
            "refused_with": list(self.refused_with),
        }


def label_cells(results: Iterable[EndpointResult]) -> list[Sample]:
    """Every answered cell with what happened to its credential.

    ``valid``/``unprivileged`` were accepted (a 401 or a failed valid request cannot be told),
    ``anonymous`` carried none. Any other state is judged on endpoints where the credential makes
    a difference (valid 2xx, anonymous answers otherwise): the valid answer means accepted,
    anything else rejected. On the other endpoints a state takes the judgement it got everywhere
    else, or no label when that judgement is split.
    """
    results = list(results)
    per_cell: list[tuple[EndpointResult, str, Any, str | None]] = []
    verdicts: dict[str, set[str]] = defaultdict(set)
    for result in results:
        valid = result.cells.get(State.VALID)
        anon = result.cells.get(State.ANONYMOUS)
        v_obs = valid.observation if valid else None
        a_obs = anon.observation if anon else None
        sensitive = v_obs is not None and v_obs.ok and not same_answer(v_obs, a_obs)
        for state, cell in result.cells.items():
            obs = cell.observation
            if obs is None or obs.status is None:
                continue
            if state == State.ANONYMOUS:
                label: str | None = "anonymous"
            elif state in _LEGIT_CREDENTIALS:
                label = "accepted" if obs.ok or (state == State.UNPRIVILEGED and obs.status != 401) else None
            elif sensitive:
                label = "accepted" if same_answer(obs, v_obs) else Outcome.REJECTED
                verdicts[state].add(label)
            else:
                label = "?"
            per_cell.append((result, state, obs, label))
    samples = []
    # Answers of the same shape (headers, fields, status) share one feature set, built once: most
    # cells of an API answer alike, and every rule asks every sample for its features.
    shapes: dict[tuple[Any, ...], frozenset[Feature]] = {}
    for result, state, obs, label in per_cell:
        if label == "?":
            seen = verdicts.get(state, set())
            label = next(iter(seen)) if len(seen) == 1 else None
        sample = Sample(
            result.endpoint_id, result.method, result.path, state, obs.status,
            dict(obs.headers), dict(obs.fields), label,
        )
        shape = (tuple(sample.headers.items()), tuple(sample.fields.items()), sample.status)
        features = shapes.get(shape)
        if features is None:
            features = shapes[shape] = sample.features()
        else:
            sample.__dict__["_features"] = features  # as the cached property would have stored it
        samples.append(sample)
    return samples


def _where(sample: Sample) -> str:
    return f"{sample.method} {sample.path} · {sample.state}"


def _accepted_rule(feature: Feature, samples: list[Sample], one_endpoint: bool = False) -> Signal | None:
    kind, name, value = feature
    if kind == "status":
        if name != "2xx":
            return None
        pool = [s for s in samples if s.label]  # a status rule is judged on every answer
        scope = "all answers"
    elif kind == "body-field":
        if value != "present":
            return None
        pool = [s for s in samples if s.ok and s.label and name in s.fields]
        scope = "2xx answers of the endpoints that return the field"
    elif kind == "body-value":
        if not one_endpoint:
            return None  # across endpoints a code in the body (errcode) names a refusal
        # On one endpoint a value may say the caller was authenticated (`authstatus: ok`).
        pool = [s for s in samples if s.ok and s.label]
        scope = "2xx answers"
    else:
        pool = [s for s in samples if s.ok and s.label]
        scope = "2xx answers"
    hits = [s for s in pool if feature in s.features()]
    if not hits or all(s.label == "accepted" for s in pool):
        return None  # nothing to tell apart here: a rule is only tested against rejected answers
    wrong = [s for s in pool if (feature in s.features()) != (s.label == "accepted")]
    negatives = [s for s in pool if s.label != "accepted"]
    if len(wrong) * 2 >= len(pool) or all(feature in s.features() for s in negatives):
        return None  # no better than chance, or on every answer alike: not worth showing
    non_2xx = None
    if kind in ("header-present", "header-value"):
        rest = [s for s in samples if not s.ok and s.label]
        bad = [s for s in rest if (feature in s.features()) != (s.label == "accepted")]
        non_2xx = (len(rest) - len(bad), len(rest))
    return Signal(
        kind, name, value, ACCEPTED, len(pool), len(pool) - len(wrong), len(hits),
        states=tuple(sorted({s.state for s in hits})),
        endpoints=tuple(sorted({(s.method, s.path) for s in hits})) if kind == "body-field" else (),
        scope=scope, misclassified=tuple(_where(s) for s in wrong[:5]), non_2xx=non_2xx,
        refused_with=tuple(sorted({s.status for s in pool if not s.ok})) if kind == "status" else (),
    )


def _rejected_rule(feature: Feature, samples: list[Sample]) -> Signal | None:
    kind, name, value = feature
    if (kind == "status" and name == "2xx") or kind == "body-field":
        return None
    hits = [s for s in samples if s.label and feature in s.features()]
    covered = {s.state for s in hits if s.label == Outcome.REJECTED}
    if not covered:
        return None
    pool = [s for s in samples if s.label in ("accepted", "anonymous") or (s.label and s.state in covered)]
    if all(s.label == Outcome.REJECTED for s in pool):
        return None
    wrong = [s for s in pool if (feature in s.features()) != (s.label == Outcome.REJECTED)]
    legit = [s for s in pool if s.label != Outcome.REJECTED]
    if len(wrong) * 2 >= len(pool) or all(feature in s.features() for s in legit):
        return None
    return Signal(
        kind, name, value, REJECTED, len(pool), len(pool) - len(wrong), len(hits),
        states=tuple(sorted(covered)), scope="all answers of accepted, anonymous and covered states",
        misclassified=tuple(_where(s) for s in wrong[:5]),
    )


def _rank(signal: Signal) -> tuple:
    return (
        not signal.recommended,
        signal.one_endpoint is not None,  # a rule that holds across endpoints travels further
        signal.kind == "status",  # a header or field says more than a status code
        not _IDENTITY_NAME.search(signal.name),
        -signal.correct / signal.checked,
        -signal.checked,
        KINDS.index(signal.kind),
        signal.name,
        signal.value or "",
    )


def _dedupe(signals: list[Signal]) -> list[Signal]:
    """A header's presence and its value that classify alike are one rule: keep one.

    For acceptance the presence is kept (an accepting header's value is per-account data, such as
    an id or a quota); for rejection the value is kept (it is the server's reason code).
    """
    by_key = {(s.kind, s.name, s.value, s.meaning): s for s in signals}
    drop = set()
    for s in signals:
        if s.kind != "header-value":
            continue
        twin = by_key.get(("header-present", s.name, None, s.meaning))
        if twin is None or (twin.checked, twin.correct, twin.carried) != (s.checked, s.correct, s.carried):
            continue
        # A value naming the server's own origin differs per host: presence travels better.
        keep_value = s.meaning == REJECTED and "{origin}" not in (s.value or "")
        drop.add(id(twin) if keep_value else id(s))
    return [s for s in signals if id(s) not in drop]


MIN_ENDPOINT_CHECKED = 3  # a rule scored on one endpoint needs at least this many answers there


def find_signals(results: Iterable[EndpointResult]) -> list[Signal]:
    """Every informative rule over one target's results, best first (never pool two targets).

    Each rule is scored over every endpoint pooled, and also on each endpoint alone where a bad
    credential is served a 2xx (the status cannot tell there): a field one status endpoint returns
    (``/result/authstatus/0: ok`` only when the credential was accepted) is absent everywhere else
    and would never hold pooled. A rule that holds on one endpoint is kept with that endpoint as
    its scope ("call GET X, read Y") and its own counts.
    """
    samples = label_cells(results)
    # Shared among samples of one shape: each distinct set joined once.
    features = set().union(*{id(f): f for f in (s.features() for s in samples)}.values()) if samples else set()
    found: list[Signal] = []
    for feature in sorted(features, key=lambda f: (f[0], f[1], f[2] or "")):
        for rule in (_accepted_rule, _rejected_rule):
            signal = rule(feature, samples)
            if signal is not None:
                found.append(signal)
    # A header or field that already holds across endpoints needs no per-endpoint rule.
    pooled = {s.name for s in found if s.recommended}
    found += [s for s in per_endpoint_signals(samples) if s.name not in pooled]
    return sorted(_dedupe(found), key=_rank)


def per_endpoint_signals(samples: list[Sample]) -> list[Signal]:
    """Rules that hold on one endpoint, scored on that endpoint's answers alone (headers and body
    fields only: a status is already the verdict). Only endpoints that serve a bad credential a
    2xx are looked at, and only rules right on every answer there are kept."""
    by_endpoint: dict[tuple[str, str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        by_endpoint[(sample.endpoint_id, sample.method, sample.path)].append(sample)
    found: list[Signal] = []
    for (_eid, method, path), mine in sorted(by_endpoint.items()):
        if not any(s.ok and s.label == Outcome.REJECTED for s in mine) or not any(s.label == "accepted" for s in mine):
            continue
        features = set().union(*(s.features() for s in mine))
        for feature in sorted(features, key=lambda f: (f[0], f[1], f[2] or "")):
            if feature[0] == "status":
                continue
            for signal in (_accepted_rule(feature, mine, one_endpoint=True), _rejected_rule(feature, mine)):
                if signal is not None and signal.recommended and signal.checked >= MIN_ENDPOINT_CHECKED:
                    found.append(replace(signal, scope=f"answers of {method} {path}", endpoints=((method, path),)))
    return found


def recommended(signals: Iterable[Signal], meaning: str | None = None) -> list[Signal]:
    return [s for s in signals if s.recommended and (meaning is None or s.meaning == meaning)]

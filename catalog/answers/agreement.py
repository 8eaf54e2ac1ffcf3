"""Where an API's targets agree and where they differ (design.md, "What the catalog answers").

Every answer is first computed per target (``catalog.answers.per_target.TargetAnswers``); this module lines
the targets up, answer by answer: an endpoint that checks a token on one target and not on the
other, a signal that holds on one only, a disagreement with the documentation seen on some
targets. Nothing here re-judges observations: it compares per-target answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from catalog.answers.per_target import TargetAnswers

TOKEN_CHECK = "token check"
SIGNAL = "signal"
DISAGREEMENT = "documented vs observed"


@dataclass(frozen=True)
class Agreement:
    """One answer across targets: where it holds, and what each other target said instead."""

    topic: str  # TOKEN_CHECK | SIGNAL | DISAGREEMENT
    subject: str  # "GET /path", "x-user present (credential accepted)", …
    holds_on: tuple[str, ...]
    differs_on: dict[str, str] = field(default_factory=dict)  # target -> what it said instead

    @property
    def agree(self) -> bool:
        return not self.differs_on

    def sentence(self) -> str:
        on = ", ".join(self.holds_on)
        if self.agree:
            lead = "every target" if len(self.holds_on) > 1 else on
            return f"{self.topic}: {self.subject} on {lead}" + (f" ({on})" if len(self.holds_on) > 1 else "") + "."
        other = "; ".join(f"on {t}: {why}" for t, why in self.differs_on.items())
        return f"{self.topic}: {self.subject} on {on} only; {other}."

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "subject": self.subject, "agree": self.agree,
                "holds_on": list(self.holds_on), "differs_on": dict(self.differs_on)}


@dataclass(frozen=True)
class ApiSummary:
    """The per-API summary the site shows first: agreements and differences, topic by topic."""

    targets: tuple[str, ...]
    checks: tuple[Agreement, ...]
    signals: tuple[Agreement, ...]
    disagreements: tuple[Agreement, ...]
    unrecognised: Mapping[str, str]  # target -> why its valid credential was never recognised

    @property
    def single_target(self) -> bool:
        return len(self.targets) <= 1

    def agreements(self) -> list[Agreement]:
        return [a for a in (*self.checks, *self.signals, *self.disagreements) if a.agree]

    def differences(self) -> list[Agreement]:
        return [a for a in (*self.checks, *self.signals, *self.disagreements) if not a.agree]

    def sentences(self) -> list[str]:
        """Plain sentences, differences first; every one computed from the per-target answers."""
        out = [f"On {t} the valid credential was never recognised: its answers are left out of the "
               "token check and the signals." for t in self.unrecognised]
        if self.single_target:
            return out
        differences = self.differences()
        out += [a.sentence() for a in differences]
        if not differences and not self.unrecognised:
            out.append(f"The {len(self.targets)} targets ({', '.join(self.targets)}) agree on every answer below.")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets), "unrecognised": dict(self.unrecognised),
            "checks": [a.to_dict() for a in self.checks], "signals": [a.to_dict() for a in self.signals],
            "disagreements": [a.to_dict() for a in self.disagreements],
        }


def _line_up(topic: str, per_target: dict[str, dict[str, str]], targets: tuple[str, ...],
             otherwise: dict[str, dict[str, str]] | None = None) -> tuple[Agreement, ...]:
    """``per_target[target][subject]``: the subject holds there. ``otherwise[target][subject]``:
    what that target said instead (default: "not found")."""
    subjects: dict[str, None] = {}  # in first-seen order (a dict: a list's `in` made this quadratic)
    for target in targets:
        subjects.update(dict.fromkeys(per_target.get(target, {})))
    found = []
    for subject in subjects:
        holds = tuple(t for t in targets if subject in per_target.get(t, {}))
        differs = {
            t: (otherwise or {}).get(t, {}).get(subject, "not found")
            for t in targets if t not in holds
        }
        found.append(Agreement(topic, subject, holds, differs))
    return tuple(found)


def summarise(targets: Sequence[TargetAnswers]) -> ApiSummary:
    """Line up the targets' answers (each computed on its target alone), topic by topic."""
    judged = [t for t in targets if t.recognition.recognised]
    names = tuple(t.target for t in judged)
    checks = {t.target: {f"{c.method} {c.path} checks a token": "" for c in t.token_check.candidates} for t in judged}
    check_else = {
        t.target: {f"{key} checks a token": f"{key} is {verdict}" for key, verdict in t.verdicts.items()}
        for t in judged
    }
    signals = {
        t.target: {f"{s.label()} ({s.meaning})": "" for s in t.recommended} for t in judged
    }
    signal_else = {
        t.target: {f"{s.label()} ({s.meaning})": f"right on {s.correct} of {s.checked} only"
                   for s in t.signals if not s.recommended}
        for t in judged
    }
    disagreements = {
        t.target: {f"{d.endpoint.method} {d.endpoint.path}: {d.kind}": "" for d in t.disagreements}
        for t in targets
    }
    return ApiSummary(
        targets=tuple(t.target for t in targets),
        checks=_line_up(TOKEN_CHECK, checks, names, check_else),
        signals=_line_up(SIGNAL, signals, names, signal_else),
        disagreements=_line_up(DISAGREEMENT, disagreements, tuple(t.target for t in targets)),
        unrecognised=MappingProxyType({t.target: t.recognition.reason for t in targets if not t.recognition.recognised}),
    )

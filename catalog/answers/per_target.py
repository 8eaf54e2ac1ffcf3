"""Everything the catalog answers from ONE target's observations (design.md: every answer is
computed per target, never pooled): its signals, token check, disagreements with the
documentation and whether its valid credential was recognised at all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from catalog.answers.documented import Disagreement, observed_disagreements
from catalog.answers.recognition import Recognition, recognition
from catalog.answers.signals import Signal
from catalog.answers.token_check import TokenCheck, token_check
from catalog.runs.results import ApiCatalog, EndpointResult, TargetRun


@dataclass(frozen=True)
class TargetAnswers:
    """The answers computed from ONE target's observations (never pooled with another's)."""

    target: str
    version: str | None
    version_source: str | None  # where the version came from ("header x-version", "launcher", …)
    date: str | None
    signals: tuple[Signal, ...]
    token_check: TokenCheck
    disagreements: tuple[Disagreement, ...]
    recognition: Recognition
    verdicts: Mapping[str, str] = field(default_factory=dict)  # "METHOD /path" -> verdict on this target

    @property
    def recommended(self) -> list[Signal]:
        return [s for s in self.signals if s.recommended]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "target_version": self.version, "version_source": self.version_source,
            "date": self.date, "credential_recognised": self.recognition.recognised,
            "recognition": self.recognition.to_dict(),
            "signals": [s.to_dict() for s in self.signals], "token_check": self.token_check.to_dict(),
            "disagreements": [d.to_dict() for d in self.disagreements],
        }


def target_answers(api: ApiCatalog, run: TargetRun, signals: list[Signal]) -> TargetAnswers:
    recognised = recognition(run)
    return TargetAnswers(
        target=run.target, version=run.version, version_source=run.meta.get("version_source"),
        date=run.meta.get("date"), signals=tuple(signals) if recognised.recognised else (),
        token_check=token_check(run, recognised, signals if recognised.recognised else []),
        disagreements=tuple(observed_disagreements(api, run)),
        recognition=recognised,
        verdicts=MappingProxyType({f"{r.method} {r.path}": r.verdict for r in run.endpoints.values()}),
    )


def signals_per_target(api: ApiCatalog, find: Callable[[list[EndpointResult]], list[Signal]]) -> dict[str, list[Signal]]:
    """``find(results)`` on each target's results separately: a rule is never checked across targets."""
    return {run.target: (find(list(run.endpoints.values())) if run.endpoints else []) for run in api.runs}

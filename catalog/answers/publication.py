"""What the site and the export publish: the catalog's data with every API's answers, computed once.

:func:`publication_of` computes each API's :class:`ApiAnswers` (signals from every
``authcat_auth_signals`` plugin, third-party ones included, per target) and the three questions;
the result is a frozen :class:`Publication` handed as it is to every ``authcat_site_pages``
plugin and to the export. Nothing fills it in later and nothing recomputes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

from catalog.answers.agreement import ApiSummary, summarise
from catalog.answers.columns import bad_state_order
from catalog.answers.documented import Disagreement, marker_disagreements
from catalog.answers.per_target import TargetAnswers, signals_per_target, target_answers
from catalog.answers.questions import Answer, api_questions
from catalog.answers.sentences import InShort, in_short
from catalog.answers.signals import Signal
from catalog.answers.token_check import TokenCheck, explain, unprivileged_like
from catalog.model.definition import Api
from catalog.runs.results import ApiCatalog, CatalogData, EndpointResult

# How signals are found: ``find(api, one target's results)`` (the authcat_auth_signals hook).
FindSignals = Callable[[Api, list[EndpointResult]], list[Signal]]


@dataclass(frozen=True)
class ApiAnswers:
    """An API's answers: one :class:`TargetAnswers` per target, and where the targets agree."""

    api: str
    targets: tuple[TargetAnswers, ...]
    explanations: Mapping[str, str]  # "<target>/<endpoint id>" -> sentence
    unprivileged: Mapping[str, tuple[str, ...]]  # "<target>/<endpoint id>" -> bad states it answers like
    documentation: tuple[Disagreement, ...]  # the documentation disagreeing with itself (no target)
    summary: ApiSummary

    def explanation(self, target: str, endpoint_id: str) -> str:
        return self.explanations.get(f"{target}/{endpoint_id}", "")

    def target(self, name: str) -> TargetAnswers | None:
        return next((t for t in self.targets if t.target == name), None)

    @property
    def token_checks(self) -> list[TokenCheck]:
        return [t.token_check for t in self.targets]

    @property
    def disagreements(self) -> list[Disagreement]:
        return [*self.documentation, *(d for t in self.targets for d in t.disagreements)]

    @property
    def signals(self) -> list[Signal]:
        """Every target's signals, target after target (each :class:`Signal` judged on one target)."""
        return [s for t in self.targets for s in t.signals]


def api_answers(api: ApiCatalog, signals_by_target: Mapping[str, list[Signal]]) -> ApiAnswers:
    """``signals_by_target``: each target's signals, found on that target's results alone."""
    explanations: dict[str, str] = {}
    alike: dict[str, tuple[str, ...]] = {}
    by_id = {e.id: e for e in api.definition.endpoints}
    for run in api.runs:
        for endpoint_id, result in run.endpoints.items():
            key = f"{run.target}/{endpoint_id}"
            explanations[key] = explain(result, by_id.get(endpoint_id))
            like = unprivileged_like(result)
            if like:
                alike[key] = tuple(like)
    targets = tuple(target_answers(api, run, list(signals_by_target.get(run.target, []))) for run in api.runs)
    return ApiAnswers(
        api=api.name, targets=targets,
        # Read-only views: the value handed to every page plugin cannot be changed by one of them.
        explanations=MappingProxyType(explanations), unprivileged=MappingProxyType(alike),
        documentation=tuple(marker_disagreements(api)), summary=summarise(targets),
    )


@dataclass(frozen=True)
class Publication:
    """The catalog as published: its data and every API's answers, computed once.

    Handed to every ``authcat_site_pages`` plugin. ``data`` holds the definitions and stored runs
    of every API (``data.apis``), the change log, the registered states and schemes, and
    ``data.data_dir`` (the project's ``site/data``, for plugins that publish data of their own);
    ``answers``, ``questions`` and ``in_short`` are by API name.
    """

    data: CatalogData
    answers: Mapping[str, ApiAnswers]
    questions: Mapping[str, tuple[Answer, ...]]  # the three questions, answered from all evidence
    # One sentence per bad credential with numbered notes, and the contradictions between evidence kinds.
    in_short: Mapping[str, InShort] = field(default_factory=lambda: MappingProxyType({}))


def publication_of(data: CatalogData, find_signals: FindSignals) -> Publication:
    """Every API's answers and questions; signals from ``find_signals`` (every signal plugin), per target."""
    answers = {}
    for name, api in sorted(data.apis.items()):
        found = signals_per_target(api, partial(find_signals, api.definition.api))
        answers[name] = api_answers(api, found)
    order = bad_state_order(data)
    questions = {name: tuple(api_questions(api, answers[name].targets, order)) for name, api in data.apis.items()}
    short = {name: in_short(api, order, answers[name]) for name, api in data.apis.items()}
    return Publication(data, MappingProxyType(answers), MappingProxyType(questions), MappingProxyType(short))

"""Classified results: cells, endpoint results, target runs, and the catalog data that holds them.

A :class:`TargetRun` is what one observation file holds: one API probed on one target. Its JSON
form (``to_dict``) is the committed data under ``site/data/observations/`` — stable key order,
no credential, no latency in the entries (latency varies run to run; it lives in ``run``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.definitions.loader import ApiDefinition
from catalog.model.credentials import AuthScheme
from catalog.model.definition import Endpoint
from catalog.model.observation import Observation
from catalog.model.vocabulary import StateFamily, family_of


@dataclass
class Cell:
    state: str
    outcome: str
    note: str = ""
    observation: Observation | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"outcome": self.outcome}
        if self.note:
            d["note"] = self.note
        if self.observation is not None:
            obs = self.observation.to_dict()
            obs.pop("latency_ms", None)
            d["status"] = obs.pop("status", None)
            d.update(obs)
        return d

    @classmethod
    def from_dict(cls, state: str, d: dict[str, Any]) -> Cell:
        obs_fields = {k: v for k, v in d.items() if k not in ("outcome", "note")}
        observation = Observation.from_dict(obs_fields) if "status" in d or "error" in d else None
        return cls(state=state, outcome=d["outcome"], note=d.get("note", ""), observation=observation)

    @property
    def status(self) -> int | None:
        return self.observation.status if self.observation else None


@dataclass
class EndpointResult:
    """One endpoint probed on one target: its cells (state -> :class:`Cell`: outcome, note,
    observation) and the verdict over its bad-credential states, with the reason."""

    endpoint_id: str
    method: str
    path: str
    verdict: str
    reason: str = ""
    definition_key: str = ""  # hash of what was probed (catalog.engine.cache): a changed definition invalidates the cache
    cells: dict[str, Cell] = field(default_factory=dict)
    endpoint: Endpoint | None = None  # attached when the definitions are loaded
    families: dict[str, StateFamily] = field(default_factory=dict)  # attached by the run that holds it

    def is_bad(self, state: str) -> bool:
        """Whether ``state`` is a bad credential: only those decide verdicts and token checks."""
        return (self.families.get(state) or family_of(state)) is StateFamily.BAD
    judged: str = ""  # key of what the cells were judged with (see catalog.engine.cache)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "verdict": self.verdict,
            "reason": self.reason,
            "definition": self.definition_key,
        }
        if self.judged:
            d["judged"] = self.judged
        if self.cells:
            d["states"] = {s: c.to_dict() for s, c in self.cells.items()}
        return d

    @classmethod
    def from_dict(cls, endpoint_id: str, d: dict[str, Any]) -> EndpointResult:
        return cls(
            endpoint_id=endpoint_id,
            method=d["method"],
            path=d["path"],
            verdict=d["verdict"],
            reason=d.get("reason", ""),
            definition_key=d.get("definition", ""),
            judged=d.get("judged", ""),
            cells={s: Cell.from_dict(s, c) for s, c in (d.get("states") or {}).items()},
        )

    def cell(self, state: str) -> Cell | None:
        return self.cells.get(state)


@dataclass
class TargetRun:
    """One API probed on one target, as its observation file holds it: the run's metadata (target
    version, date, authcat version), the states (available or why not) and every endpoint's result."""

    api: str
    target: str
    meta: dict[str, Any]  # the JSON key "run": target_version, date, authcat_version, duration, latency summary
    states: dict[str, dict[str, Any]]  # state -> {"available": bool, "reason": str}
    endpoints: dict[str, EndpointResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "target": self.target,
            "run": self.meta,  # the JSON key stays "run"
            "states": self.states,
            "endpoints": {k: self.endpoints[k].to_dict() for k in sorted(self.endpoints)},
        }

    def __post_init__(self) -> None:
        families = {s: self.family(s) for s in self.states}
        for result in self.endpoints.values():
            result.families = families

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetRun:
        return cls(
            api=d["api"],
            target=d["target"],
            meta=d.get("run", {}),
            states=d.get("states", {}),
            endpoints={k: EndpointResult.from_dict(k, v) for k, v in d.get("endpoints", {}).items()},
        )

    @property
    def version(self) -> str | None:
        return self.meta.get("target_version")

    def family(self, state: str) -> StateFamily:
        """The state's family as recorded by the run (files from before families: the built-ins')."""
        return family_of(state, self.states.get(state, {}).get("family"))


@dataclass
class ApiCatalog:
    """One API in the catalog: its definition (api.yaml, endpoints, target profiles) and the
    stored runs of its targets, one :class:`TargetRun` per target."""

    definition: ApiDefinition
    runs: list[TargetRun] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.definition.api.name

    def results_for(self, endpoint_id: str) -> list[tuple[TargetRun, EndpointResult]]:
        return [(run, run.endpoints[endpoint_id]) for run in self.runs if endpoint_id in run.endpoints]


@dataclass
class CatalogData:
    """The catalog's data as loaded for a build: every API's definition with its stored runs, the
    change log, and the registered token states and auth schemes. The answers computed from it
    are not here: they are a :class:`catalog.answers.publication.Publication`, computed once."""

    apis: dict[str, ApiCatalog]
    generated: str
    authcat_version: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    states: dict[str, Any] = field(default_factory=dict)  # registered token states, by name
    schemes: dict[str, AuthScheme] = field(default_factory=dict)  # registered auth schemes, by name
    data_dir: Path | None = None  # the project's site/data, for plugins that publish data of their own


@dataclass(frozen=True)
class SitePage:
    """A page a ``authcat_site_pages`` plugin adds to the site.

    ``nav`` = ``(section, title)`` lists the page in the site's nav under that section (sections
    appear after "APIs", in the order plugins first name them); None keeps it out of the nav.
    A plugin may also return a plain ``(path, text)`` pair: a page outside the nav.
    """

    path: str
    text: str
    nav: tuple[str, str] | None = None

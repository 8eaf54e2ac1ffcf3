"""The machine-readable export: ``catalog.json`` and its JSON Schema, written beside the site.

Everything the site shows, as data: every API, every endpoint (documented + reported + observed
per target), every cell, verdict and its explanation, the auth signals, the token check and the
provenance of each observation (target, target version, run date, authcat version). The schema
lives in ``catalog/schemas/catalog.schema.json`` and is published next to the export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from catalog.answers.presentations import target_findings
from catalog.answers.publication import ApiAnswers, Publication
from catalog.answers.questions import Answer
from catalog.answers.sentences import InShort
from catalog.answers.tenants import TenantCell, tenant_cells
from catalog.definitions.evidence import claim_to_dict
from catalog.model.definition import Endpoint, Reported
from catalog.model.judgement import OUTCOMES, VERDICTS
from catalog.runs.history import ChangeIndex
from catalog.runs.results import ApiCatalog, EndpointResult, TargetRun
from catalog.runs.store import atomic_write

SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "catalog.schema.json"
EXPORT_NAME = "catalog.json"
SCHEMA_NAME = "catalog.schema.json"
FORMAT_VERSION = 1


def _documented(endpoint: Endpoint) -> dict[str, Any]:
    d = endpoint.documented
    return {
        "anonymous": d.anonymous, "anonymous_sentence": d.anonymous_sentence,
        "security_optional": d.security_optional, "markers_disagree": d.markers_disagree,
        "documents_401": d.documents_401, "deprecated": d.deprecated, "scopes": list(d.scopes),
        "source": d.source, "claims": _reported(d.claims),
    }


def _reported(items: Iterable[Reported]) -> list[dict[str, Any]]:
    return [claim_to_dict(r) for r in items]


def _provenance(run: TargetRun) -> dict[str, Any]:
    return {
        "target": run.target, "target_version": run.version,
        "version_source": run.meta.get("version_source"),
        "date": run.meta.get("date"), "authcat_version": run.meta.get("authcat_version"),
        "settings": dict(run.meta.get("settings") or {}),
    }


def _target(run: TargetRun, answers: ApiAnswers | None) -> dict[str, Any]:
    """One target with its own answers: signals, token check and disagreements never pooled."""
    mine = answers.target(run.target) if answers else None
    return {
        **_provenance(run), "states": run.states,
        "credential": mine.recognition.to_dict() if mine else None,
        "signals": [s.to_dict() for s in mine.signals] if mine else [],
        "token_check": mine.token_check.to_dict() if mine else None,
        "disagreements": [d.to_dict() for d in mine.disagreements] if mine else [],
        "presentations": [f.to_dict() for f in target_findings(run)],
    }


def _observed(run: TargetRun, result: EndpointResult, answers: ApiAnswers | None,
              history: dict[str, dict[str, Any]]) -> dict[str, Any]:
    key = f"{run.target}/{result.endpoint_id}"
    return {
        **_provenance(run),
        "verdict": result.verdict,
        "reason": result.reason,
        "explanation": answers.explanations.get(key, "") if answers else "",
        "unprivileged_like": answers.unprivileged.get(key, []) if answers else [],
        "cells": {state: cell.to_dict() for state, cell in result.cells.items()},
        "history": history,
    }


def _endpoint(api: ApiCatalog, endpoint: Endpoint, answers: ApiAnswers | None, changes: ChangeIndex,
              tenants: Mapping[str, Mapping[str, TenantCell]]) -> dict[str, Any]:
    mine = tenants.get(endpoint.id)
    return {
        "id": endpoint.id, "method": endpoint.method, "path": endpoint.path, "group": endpoint.group,
        "summary": endpoint.summary, "docs": endpoint.docs, "collection": endpoint.collection,
        "removed": endpoint.removed,
        "documented": _documented(endpoint),
        "reported": _reported(endpoint.reported),
        "observed": [_observed(run, result, answers, changes.history(api.name, run, endpoint.id))
                     for run, result in api.results_for(endpoint.id)],
        # Per state, the vendor tenants that observed it (submissions): how many, when, agreeing or split.
        **({"tenants": {state: cell.to_dict() for state, cell in mine.items()}} if mine else {}),
    }


def _api(api: ApiCatalog, answers: ApiAnswers | None, questions: Sequence[Answer], changes: ChangeIndex,
         short: InShort | None) -> dict[str, Any]:
    a = api.definition.api
    tenants = tenant_cells(api)
    return {
        "name": api.name, "title": a.title, "docs": a.docs, "description": a.description,
        "reported": _reported(a.reported),
        "targets": [{**_target(run, answers), **_target_kind(api, run)} for run in api.runs],
        "endpoints": [_endpoint(api, e, answers, changes, tenants) for e in api.definition.endpoints],
        # The same per-target answers flattened, each naming its target (format 1 readers).
        "signals": [{**s.to_dict(), "target": t.target} for t in answers.targets for s in t.signals] if answers else [],
        "token_check": [c.to_dict() for c in answers.token_checks] if answers else [],
        "disagreements": [d.to_dict() for d in answers.disagreements] if answers else [],
        "summary": answers.summary.to_dict() if answers and answers.summary else None,
        "questions": {q.key: q.to_dict() for q in questions},
        "in_short": short.to_dict() if short else None,
    }


def _target_kind(api: ApiCatalog, run: TargetRun) -> dict[str, Any]:
    profile = api.definition.targets.get(run.target)
    if profile is None:  # a submission (catalog.runs.submissions) says its own kind: "vendor tenant"
        return {"kind": run.meta.get("kind"), "models": ""}
    return {"kind": profile.kind, "models": profile.models}


def export_data(publication: Publication) -> dict[str, Any]:
    catalog, answers = publication.data, publication.answers
    changes = ChangeIndex(catalog.changes)
    return {
        "$schema": SCHEMA_NAME,
        "format": FORMAT_VERSION,
        "generated": catalog.generated,
        "authcat_version": catalog.authcat_version,
        "outcomes": {name: meaning for name, (meaning, _) in OUTCOMES.items()},
        "verdicts": dict(VERDICTS),
        "states": {name: {"description": s.description, "needs": s.needs} for name, s in catalog.states.items()},
        "apis": [_api(api, answers.get(name), publication.questions.get(name, ()), changes, publication.in_short.get(name))
                 for name, api in sorted(catalog.apis.items())],
    }


def published_schema(states: Iterable[str]) -> dict[str, Any]:
    """The export's schema with the catalog's token states as an enum: unknown state keys are refused."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["$defs"]["state"] = {**schema["$defs"]["state"], "enum": sorted(states)}
    return schema


def export_chunks(data: dict[str, Any]) -> Iterator[str]:
    """``catalog.json`` in pieces: one line per top-level key, one line per API.

    Each piece is encoded by json's C encoder (compact: an indented document goes through the
    pure-Python encoder, a fifth of a 2,000-endpoint build), and one API at a time, so the whole
    document is never held in memory at once.
    """
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    yield "{"
    for n, (key, value) in enumerate(data.items()):
        yield ("\n" if not n else ",\n") + encode(key) + ":"
        if key == "apis" and isinstance(value, list):
            yield "["
            for i, api in enumerate(value):
                yield ("\n" if not i else ",\n") + encode(api)
            yield "\n]"
        else:
            yield encode(value)
    yield "\n}\n"


def write_export(publication: Publication, build_dir: Path) -> Path:
    """Write ``catalog.json`` and ``catalog.schema.json`` into the built site, each atomically."""
    data = export_data(publication)
    atomic_write(build_dir / SCHEMA_NAME, json.dumps(published_schema(publication.data.states), indent=2, ensure_ascii=False) + "\n")
    atomic_write(build_dir / EXPORT_NAME, export_chunks(data))
    for name in (SCHEMA_NAME, EXPORT_NAME):
        (build_dir / name).chmod(0o644)  # published files: mkstemp makes them private
    return build_dir / EXPORT_NAME

"""Swagger 2.0 (OpenAPI 2) read as OpenAPI 3: the importer's other modules see one shape.

Only what the importer uses is converted: ``basePath`` becomes the first server's path (endpoint
paths stay relative to a target's origin; ``host`` and ``schemes`` are never used, a file cannot
point a credential anywhere), ``securityDefinitions`` become ``components.securitySchemes``
(``basic`` → ``http``/``basic``), and each response's ``schema`` moves under
``content.application/json``. ``$ref``s into ``#/definitions/…`` keep working because
``definitions`` stays where it was. Operation ``security``, ``tags``, ``summary``,
``description``, ``deprecated`` and ``operationId`` mean the same in both versions.
"""

from __future__ import annotations

from typing import Any

from catalog.importers.openapi.methods import HTTP_METHODS


def is_swagger2(data: Any) -> bool:
    return isinstance(data, dict) and "openapi" not in data and str(data.get("swagger", "")).startswith("2")


def _security_scheme(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    if raw.get("type") == "basic":
        return {**{k: v for k, v in raw.items() if k != "type"}, "type": "http", "scheme": "basic"}
    return raw  # apiKey (name, in) and oauth2 read the same for the importer


def _response(raw: Any) -> Any:
    if not isinstance(raw, dict) or "schema" not in raw:
        return raw
    rest = {k: v for k, v in raw.items() if k != "schema"}
    return {**rest, "content": {"application/json": {"schema": raw["schema"]}}}


def _operation(op: Any) -> Any:
    if not isinstance(op, dict) or not isinstance(op.get("responses"), dict):
        return op
    return {**op, "responses": {code: _response(r) for code, r in op["responses"].items()}}


def to_openapi3(data: dict) -> dict:
    """A shallow OpenAPI 3.0 view of a Swagger 2.0 document (the input is not changed)."""
    out = {k: v for k, v in data.items() if k not in ("swagger", "basePath", "securityDefinitions", "host")}
    out["openapi"] = "3.0.0"
    out["x-converted-from"] = f"swagger {data.get('swagger')}"
    base = data.get("basePath")
    if isinstance(base, str) and base.startswith("/") and base.rstrip("/"):
        out["servers"] = [{"url": base}]
    schemes = data.get("securityDefinitions")
    if isinstance(schemes, dict):
        components = dict(out.get("components") or {})
        components["securitySchemes"] = {name: _security_scheme(s) for name, s in schemes.items()}
        out["components"] = components
    if isinstance(data.get("responses"), dict):  # reusable responses, referenced as #/responses/…
        out["responses"] = {name: _response(r) for name, r in data["responses"].items()}
    paths = data.get("paths")
    if isinstance(paths, dict):
        out["paths"] = {
            path: ({m: _operation(op) if m in HTTP_METHODS else op for m, op in item.items()}
                   if isinstance(item, dict) else item)
            for path, item in paths.items()
        }
    return out

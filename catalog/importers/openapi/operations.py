"""Spec → endpoint entries: one fresh entry per operation, with only what the spec says.

Ids, paths (with the server's path prefix), summaries, docs links, the documented anonymous
markers and scopes, and a guessed collection pointer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from catalog.importers.openapi.methods import HTTP_METHODS
from catalog.importers.openapi.spec import resolve
from catalog.model.vocabulary import slug

# Atlassian's documentation convention; specs of other vendors simply never contain it.
ANONYMOUS_SENTENCE = "This operation can be accessed anonymously."

# Array properties that conventionally hold a page's items, most specific first.
COLLECTION_NAMES = (
    "values", "results", "issues", "items", "data", "records", "entries", "elements", "chunk",  # Matrix pages
)
# Properties that mark an object as one page of a paged list.
PAGE_MARKERS = frozenset({"startAt", "maxResults", "total", "isLast", "nextPage", "_links", "cursor", "next"})

# Atlassian's REST reference: one page per tag, one anchor per operation.
ATLASSIAN_DOCS_ROOT = re.compile(r"^https://developer\.atlassian\.com/cloud/(?:[a-z-]+/)+rest/v\d+")


@dataclass
class Operation:
    entry: dict[str, Any]
    tag: str | None


@dataclass(frozen=True)
class Markers:
    """Which anonymous-access markers the spec uses at all.

    A spec that never uses a marker says nothing by its absence, so the field is written as
    null (unknown) rather than false.
    """

    sentence: bool
    empty_security: bool
    # Some operations need a credential and others need none or make it optional: only then does
    # an operation's `security` say anything about anonymous access (Confluence v2 requires one
    # everywhere, which documents nothing about anonymous callers).
    security_varies: bool = False


def spec_operations(spec: dict, spec_name: str, docs_root: str | None,
                    ids: set[str] | None = None, others: tuple[dict, ...] = ()) -> Iterator[Operation]:
    """Every operation in spec order, as a fresh endpoint entry (spec-derived fields only).

    ``ids`` holds the ids already given and ``others`` the other documents of a multi-file spec.
    """
    prefix = server_prefix(spec)
    markers = find_markers(spec, others)
    source = f"{spec_name} {spec.get('info', {}).get('version', '')}".strip()
    ids = set() if ids is None else ids
    for raw_path, item in spec["paths"].items():
        # Matrix's spec writes "/events " once: a vendor's stray space is not part of any URL.
        path = str(raw_path).strip()
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            tags = [str(t) for t in as_list(op.get("tags"))]
            entry: dict[str, Any] = {
                "id": _unique(endpoint_id(op, method, path), ids),
                "method": method.upper(),
                "path": prefix + path,
            }
            if op.get("summary"):
                entry["summary"] = " ".join(str(op["summary"]).split())
            if docs_root and tags:
                entry["docs"] = f"{docs_root}/api-group-{docs_slug(tags[0])}/#api-{path_slug(path)}-{method}"
            if tags:
                entry["tags"] = tags
            if op.get("operationId"):
                entry["operation_id"] = str(op["operationId"])
            if (pointer := guess_collection(spec, op)) is not None:
                entry["collection"], entry["collection_guessed"] = pointer, True
            if (example := request_example(spec, op)) is not None:
                entry["example"] = example
            entry["documented"] = documented(spec, op, markers, source)
            yield Operation(entry, tags[0] if tags else None)


def as_list(value: Any) -> list:
    # Hand-made specs sometimes write a single tag as a bare string.
    return value if isinstance(value, list) else [] if value is None else [value]


def _unique(candidate: str, seen: set[str]) -> str:
    # A spec may repeat an operationId (invalid but seen in the wild); ids must stay unique.
    name, n = candidate, 2
    while name in seen:
        name, n = f"{candidate}-{n}", n + 1
    seen.add(name)
    return name


def endpoint_id(op: dict, method: str, path: str) -> str:
    raw = str(op.get("operationId") or f"{method}-{path_slug(path)}")
    return re.sub(r"[^A-Za-z0-9_.:-]", "-", raw).lstrip("_.:-")[:200] or f"{method}-root"


def path_slug(path: str) -> str:
    """``/rest/api/3/issue/{issueIdOrKey}`` → ``rest-api-3-issue-issueidorkey`` (Atlassian's anchors)."""
    return "-".join(s for s in (slug(seg, empty="") for seg in path.split("/")) if s)


def docs_slug(tag: str) -> str:
    """Atlassian replaces every other character one for one: ``Issue (apps)`` → ``issue--apps-``."""
    return re.sub(r"[^a-z0-9]", "-", tag.lower())


def file_slug(tag: str) -> str:
    return slug(tag, empty="untagged")


def server_prefix(spec: dict) -> str:
    """The path part of the first server URL: endpoint paths are relative to a target's origin.

    Confluence v2 serves ``/pages`` under ``https://{site}/wiki/api/v2``; the catalog needs
    ``/wiki/api/v2/pages``. Server variables take their defaults.
    """
    servers = spec.get("servers") or []
    if not servers or not isinstance(servers[0], dict) or not servers[0].get("url"):
        return ""
    server = servers[0]
    defaults = {k: str(v.get("default", "")) for k, v in (server.get("variables") or {}).items() if isinstance(v, dict)}
    url = re.sub(r"{([^}]+)}", lambda m: defaults.get(m.group(1), m.group(0)), str(server["url"]))
    prefix = urlsplit(url).path.rstrip("/")
    return prefix if prefix.startswith("/") and "{" not in prefix else ""


def find_docs_root(spec: dict, api_docs: str | None) -> str | None:
    """A docs root in Atlassian's REST reference layout, or None (then no links are written).

    The spec's own ``externalDocs`` wins (Confluence v2 points at its v2 reference); the API's
    ``docs`` comes next (Jira's spec only links to atlassian.com).
    """
    candidates = [(spec.get("externalDocs") or {}).get("url"), api_docs]
    for url in candidates:
        if isinstance(url, str) and (match := ATLASSIAN_DOCS_ROOT.match(url)):
            return match.group(0)
    return None


def find_markers(spec: dict, others: tuple[dict, ...] = ()) -> Markers:
    """The markers of ``spec``; ``others`` are the other documents of a multi-file spec."""
    ops = [op for item in spec["paths"].values() for m, op in item.items() if m in HTTP_METHODS]
    kinds = {
        security_kind(op["security"] if "security" in op else doc.get("security"))
        for doc in (spec, *others) for item in doc["paths"].values()
        for m, op in item.items() if m in HTTP_METHODS
    }
    return Markers(
        sentence=any(ANONYMOUS_SENTENCE in str(op.get("description") or "") for op in ops),
        empty_security={} in (spec.get("security") or []) or any({} in (op.get("security") or []) for op in ops),
        security_varies="required" in kinds and len(kinds) > 1,
    )


def documented(spec: dict, op: dict, markers: Markers, source: str) -> dict[str, Any]:
    security = op["security"] if "security" in op else spec.get("security")
    return {
        "anonymous_sentence": ANONYMOUS_SENTENCE in str(op.get("description") or "") if markers.sentence else None,
        "security_optional": {} in (security or []) if markers.empty_security else None,
        **({"security": security_kind(security)} if markers.security_varies else {}),
        "documents_401": "401" in (op.get("responses") or {}),
        "deprecated": bool(op.get("deprecated", False)),
        **({"scopes": scopes} if (scopes := oauth_scopes(spec, op, security or [])) else {}),
        "source": source,
    }


def security_kind(security: Any) -> str:
    """What the operation's security requirements say about a credential.

    ``none``: no requirement at all (absent, or ``[]``: OpenAPI's "no authentication");
    ``optional``: an empty requirement ``{}`` among others (any one requirement suffices);
    ``required``: every requirement names a scheme.
    """
    requirements = security if isinstance(security, list) else []
    if not requirements:
        return "none"
    return "optional" if any(not r for r in requirements) else "required"


def oauth_scopes(spec: dict, op: dict, security: list) -> list[str]:
    """Scopes from OAuth2 security requirements, then Atlassian's ``x-atlassian-oauth2-scopes``."""
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    found: list[str] = []
    for requirement in security:
        for name, scopes in (requirement or {}).items():
            if (resolve(spec, schemes.get(name)) or {}).get("type") == "oauth2":
                found += [str(s) for s in scopes or ()]
    for block in op.get("x-atlassian-oauth2-scopes") or ():
        found += [str(s) for s in (block or {}).get("scopes") or ()]
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------------------------
# The request body's example
# --------------------------------------------------------------------------------------------

# The media types whose examples become bodies, with the kind of body each is.
EXAMPLE_KINDS = (("application/json", "json"), ("application/x-www-form-urlencoded", "form"),
                 ("application/xml", "xml"), ("text/xml", "xml"), ("text/plain", "text"))
MAX_EXAMPLE_CHARS = 20_000  # a larger example is left out (the YAML would be mostly example)


def request_example(spec: dict, op: dict) -> dict[str, Any] | None:
    """The request body's example as an ``example:`` entry (``{json: …}``, ``{form: …}``, …), from
    the media type's ``example``, its first ``examples`` value, or its schema's ``example``; None
    when the spec gives none."""
    body = resolve(spec, op.get("requestBody"))
    content = (body or {}).get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return None
    for media_type, kind in EXAMPLE_KINDS:
        media = resolve(spec, content.get(media_type))
        if not isinstance(media, dict):
            continue
        value = _example_of(spec, media)
        if value is None:
            continue
        if kind == "form" and not (isinstance(value, dict) and all(
                isinstance(v, (str, int, bool)) for v in value.values())):
            continue
        if kind in ("xml", "text") and not isinstance(value, str):
            continue
        if len(json.dumps(value, default=str)) > MAX_EXAMPLE_CHARS:
            continue
        return {kind: value, "content_type": media_type}
    return None


def _example_of(spec: dict, media: dict) -> Any:
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        example = resolve(spec, example)
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    schema = resolve(spec, media.get("schema"))
    if isinstance(schema, dict) and "example" in schema:
        return schema["example"]
    return None


# --------------------------------------------------------------------------------------------
# Guessing the collection pointer
# --------------------------------------------------------------------------------------------


def _success_schema(spec: dict, op: dict) -> dict | None:
    response = resolve(spec, (op.get("responses") or {}).get("200"))
    content = (response or {}).get("content") or {}
    media = content.get("application/json") or next((v for k, v in content.items() if "json" in k), None)
    schema = resolve(spec, (media or {}).get("schema"))
    return schema if isinstance(schema, dict) else None


def _properties(spec: dict, schema: dict, depth: int = 0) -> dict[str, Any]:
    """The schema's properties, including those of ``allOf`` parts (Confluence wraps its pages)."""
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or () if depth < 8 else ():
        if isinstance(part := resolve(spec, part), dict):
            props = {**_properties(spec, part, depth + 1), **props}
    return props


def _is_array(spec: dict, schema: Any) -> bool:
    schema = resolve(spec, schema)
    return isinstance(schema, dict) and (schema.get("type") == "array" or "items" in schema)


def guess_collection(spec: dict, op: dict) -> str | None:
    """A JSON pointer to the list a 200 answer holds: ``""`` for a bare array, ``/values`` for a page.

    Only guesses when the shape says "list": a bare array, a conventionally named array
    property, or the only array in an object with paging fields. Anything else: no guess.
    """
    schema = _success_schema(spec, op)
    if schema is None:
        return None
    if _is_array(spec, schema):
        return ""
    props = _properties(spec, schema)
    arrays = [name for name, sub in props.items() if _is_array(spec, sub)]
    named = [name for name in COLLECTION_NAMES if name in arrays]
    if named:
        return "/" + named[0]
    if len(arrays) == 1 and PAGE_MARKERS & props.keys():
        return "/" + arrays[0].replace("~", "~0").replace("/", "~1")
    return None


"""The field reference of the contributor-facing files, generated from their JSON Schemas.

``fields(kind)`` walks ``catalog/schemas/<kind>.schema.json`` (properties, list items, mappings
of free keys, ``$ref``, ``oneOf``/``anyOf`` alternatives) and yields one :class:`Field` per field
that a contributor can write, with its type and constraints as the schema says. The words and
an example for each field come from the schema's own ``description``/``examples`` or, where the
schema has none, from ``catalog/schemas/reference.yaml``. A field the schema gains without words
or an example is caught by the test suite, so the site's reference never falls behind the schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

# The files a contributor writes, by schema name: (title on the site, where the file lives).
FILES = {
    "api": ("api.yaml", "endpoints/<api>/api.yaml"),
    "endpoints": ("Group files", "endpoints/<api>/<group>.yaml"),
    "target": ("Target profiles", "endpoints/<api>/targets/<name>.yaml"),
}
FREE_KEY = "<name>"


@dataclass(frozen=True)
class Field:
    kind: str  # schema name: api | endpoints | target
    path: str  # dotted, "[]" for list items, "<name>" for a free key: "scheme.keyword"
    type: str  # "string", "boolean", "one of: GET, HEAD, …", "mapping", …
    constraints: str  # "required; pattern ^https://; at most 200 characters"
    description: str
    example: str  # YAML text of the field with its example value

    @property
    def depth(self) -> int:
        return self.path.count(".") + self.path.count("[]")


@cache
def schema(kind: str) -> dict[str, Any]:
    return json.loads(resources.files("catalog").joinpath("schemas", f"{kind}.schema.json").read_text())


@cache
def words() -> dict[str, dict[str, dict[str, Any]]]:
    """``reference.yaml``: {kind: {path: {description, example}}} for fields the schema leaves bare."""
    text = resources.files("catalog").joinpath("schemas", "reference.yaml").read_text()
    # libyaml's loader (as catalog.definitions.yamlfile): every build reads this file for its
    # reference page, and the pure-Python one took ~0.04 CPU s of a small build for it.
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def _resolve(node: dict[str, Any], kind: str) -> tuple[dict[str, Any], str]:
    """Follow ``$ref`` (same file or another schema file); return the node and its file's kind."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        ref = node["$ref"]
        target, _, pointer = ref.partition("#")
        if target:
            kind = target.split(".schema.json")[0].rsplit("/", 1)[-1]
        doc: Any = schema(kind)
        for part in filter(None, pointer.split("/")):
            doc = doc[part]
        node = {**doc, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node, kind


def _alternatives(node: dict[str, Any], kind: str) -> list[tuple[dict[str, Any], str]]:
    alts = node.get("oneOf") or node.get("anyOf")
    if not alts:
        return [(node, kind)]
    return [_resolve(a, kind) for a in alts]


def _type(node: dict[str, Any], kind: str) -> str:
    names = []
    for alt, alt_kind in _alternatives(node, kind):
        if "enum" in alt:
            names.append("one of: " + ", ".join(json.dumps(v) for v in alt["enum"]))
            continue
        if "const" in alt:
            names.append(json.dumps(alt["const"]))
            continue
        types = alt.get("type")
        if types is None and "properties" in alt:
            types = "object"
        if types is None and isinstance(alt.get("not"), dict):
            types = "any value but a mapping"
        for t in types if isinstance(types, list) else [types] if types else []:
            if t == "array":
                inner, inner_kind = _resolve(alt.get("items", {}), alt_kind)
                names.append(f"list of {_type(inner, inner_kind) if inner else 'values'}")
            else:
                names.append({"object": "mapping"}.get(str(t), str(t)))
    seen: list[str] = []
    for n in names or ["any value"]:
        if n not in seen:
            seen.append(n)
    return " or ".join(seen)


def _constraints(node: dict[str, Any], required: bool) -> str:
    parts = ["required" if required else "optional"]
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    for key, text in (("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
                      ("minimum", "≥ {}"), ("maximum", "≤ {}"), ("exclusiveMinimum", "> {}"),
                      ("maxProperties", "at most {} entries"), ("minProperties", "at least {} entries")):
        if key in node:
            parts.append(text.format(node[key]))
    if node.get("uniqueItems"):
        parts.append("no duplicates")
    return "; ".join(parts)


def _example(kind: str, path: str, node: dict[str, Any]) -> str:
    given = words().get(kind, {}).get(path, {}).get("example")
    if given is None and node.get("examples"):
        given = node["examples"][0]
    if given is None:
        return ""
    leaf = path.rsplit(".", 1)[-1].replace("[]", "")
    if leaf == FREE_KEY or not leaf:
        return yaml.safe_dump(given, sort_keys=False, allow_unicode=True).strip()
    return yaml.safe_dump({leaf: given}, sort_keys=False, allow_unicode=True, width=100).strip()


def _walk(kind: str, node: dict[str, Any], node_kind: str, prefix: str, required: bool,
          depth: int = 0) -> Iterator[Field]:
    node, node_kind = _resolve(node, node_kind)
    if prefix:
        mine = words().get(kind, {}).get(prefix, {})
        yield Field(kind, prefix, _type(node, node_kind), _constraints(node, required),
                    node.get("description") or mine.get("description", ""), _example(kind, prefix, node))
    if depth > 6:
        return
    for alt, alt_kind in _alternatives(node, node_kind):
        needed = set(alt.get("required", ()))
        for name, child in (alt.get("properties") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            yield from _walk(kind, child, alt_kind, path, name in needed, depth + 1)
        extra = alt.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            resolved, extra_kind = _resolve(extra, alt_kind)
            if any(a.get("properties") for a, _ in _alternatives(resolved, extra_kind)):
                yield from _walk(kind, extra, alt_kind, f"{prefix}.{FREE_KEY}" if prefix else FREE_KEY, False, depth + 1)
        items = alt.get("items")
        if isinstance(items, dict) and items:
            resolved, items_kind = _resolve(items, alt_kind)
            if any(a.get("properties") for a, _ in _alternatives(resolved, items_kind)):
                for sub in _walk(kind, items, alt_kind, f"{prefix}[]", False, depth + 1):
                    if sub.path != f"{prefix}[]":
                        yield sub


def fields(kind: str) -> list[Field]:
    """Every field of one contributor file, in the schema's order, each path once."""
    found: dict[str, Field] = {}
    for f in _walk(kind, schema(kind), kind, "", True):
        found.setdefault(f.path, f)
    return list(found.values())


def full_example(kind: str) -> str:
    """A whole example file for ``kind`` (``reference.yaml``: ``<kind>.(file)``), as YAML text."""
    return str(words().get(kind, {}).get("(file)", {}).get("example", ""))

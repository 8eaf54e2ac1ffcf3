"""The schema's fast path (catalog.definitions.loader.passes): jsonschema-rs says whether a
submission passes, jsonschema (the reference) is asked for the errors of one that does not. The fast
path may refuse what the reference accepts (the reference then decides), never the other way round:
every leaf of a complete submission is replaced by values on the edges of its schema (types that
Python confuses, lengths at the limit, patterns with a final newline or other digits), and every
object gets a field too many and loses each of its own."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

from catalog.definitions.loader import passes, schema
from catalog.pipeline import _validator, lint_submissions

CELL: dict[str, Any] = {
    "outcome": "rejected", "note": "401 with WWW-Authenticate", "status": 401, "content_type": "application/json",
    "body_bytes": 12, "body_sha256": "0123456789abcdef", "shape": "object", "count": None,
    "headers": {"www-authenticate": "Basic", "x-request-id": "(present)"}, "fields": {"/error": "M_UNKNOWN_TOKEN"},
    "location_origin": "{API_BASE_URL}", "attempts": 1, "truncated": False, "error": "",
    "request": {"url": "{API_BASE_URL}/rest/api/3/myself", "method": "GET", "headers": [["Authorization", "{valid}"]]},
}
SUBMISSION: dict[str, Any] = {
    "submission": 1, "api": "jira-cloud", "target": "tenant-0123456789abcdef", "kind": "vendor tenant",
    "run": {"vendor": "Jira Cloud", "target_version": "1001.0.0", "version_source": "serverInfo",
            "date": "2026-12-07T08:00:00Z", "authcat_version": "0.1.0", "tenant": "0123456789abcdef", "probes": 10,
            "duration_s": 1.5, "stale": ["getThing"]},
    "states": {"revoked": {"available": False, "reason": "set JIRA_REVOKED_TOKEN", "family": "bad"}},
    "endpoints": {"getMyself": {"method": "GET", "path": "/rest/api/3/myself", "verdict": "rejects", "reason": "",
                                "definition": "fedcba9876543210", "states": {"expired": CELL}}},
}  # one of each schema's objects: a second state or cell would repeat the same checks

# Values on the edges: bool against integer and const 1, integral floats, the limits of maxLength
# (astral characters and lone surrogates count one each), a final newline after a pattern's $,
# digits of another script for \d, and the types JSON has.
EDGES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 1.5, float("inf"), 10**30, "", "x", [], {}, ["x"], {"x": "y"},
    "vendor tenant", "0123456789abcdef\n", "tenant-0123456789abcdef\n", "2026-12-07T08:00:00Z\n",
    "٢٠٢٦-١٢-٠٧T٠٨:٠٠:٠٠Z", "GET\n", "/\n", "{API_BASE_URL}\n", "M_UNKNOWN\n", "abcdef0123456789",
]
LENGTHS = [c * n for c in ("a", "é", "😀", "\ud800") for n in (50, 51, 200, 201, 500, 501, 2000, 2001)]  # for strings


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))


def at(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def mutations() -> Iterator[tuple[str, Any]]:
    """Each mutated document in turn (one document changed in place and restored: yielded, not kept)."""
    doc = copy.deepcopy(SUBMISSION)
    for path in leaves(SUBMISSION):
        if not path:
            continue
        parent, last = at(doc, path[:-1]), path[-1]
        kept = parent[last]
        for value in [*EDGES, *(LENGTHS if isinstance(kept, str) else ())]:
            parent[last] = value
            yield f"{path}={value!r:.40}", doc
        parent[last] = kept
        if isinstance(kept, dict):
            kept["unexpected"] = "x"
            yield f"{path}+unexpected", doc
            del kept["unexpected"]
            for key in list(kept):
                value = kept.pop(key)
                yield f"{path}-{key}", doc
                kept[key] = value
    assert doc == SUBMISSION


def test_a_complete_submission_passes_both():
    assert passes("submission", SUBMISSION)
    assert _validator().is_valid(SUBMISSION)


def test_the_fast_path_passes_nothing_the_reference_refuses():
    passed_wrongly, refused, agreed = [], [], 0
    for name, doc in mutations():
        fast, reference = passes("submission", doc), _validator().is_valid(doc)
        if fast and not reference:
            passed_wrongly.append(name)
        elif reference and not fast:
            refused.append(name)
        else:
            agreed += 1
    assert passed_wrongly == []
    # A fast path, not a second opinion: it is stricter only on a pattern's final newline, on digits
    # of other scripts for \d (ECMA-262's are ASCII), and on an infinite number (no JSON has one).
    assert refused and all(name.endswith(("\\n'", "=inf")) or "٢" in name for name in refused), refused
    assert agreed > 20 * len(refused)


def test_where_the_fast_path_refuses_the_reference_decides(tmp_path):
    """Python's ``$`` matches before a final newline: the reference accepts this key, so lint does
    (its only problem here: no API of that name in an empty project)."""
    doc = copy.deepcopy(SUBMISSION)
    doc["endpoints"]["getMyself"]["definition"] = "0123456789abcdef\n"
    assert not passes("submission", doc) and _validator().is_valid(doc)
    folder = tmp_path / "submissions" / "jira-cloud"
    folder.mkdir(parents=True)
    (folder / "tenant-0123456789abcdef.json").write_text(json.dumps(doc))
    problems = [str(p) for p in lint_submissions(tmp_path, {})]
    assert len(problems) == 1 and "no API 'jira-cloud'" in problems[0], problems


def test_the_schema_uses_no_pattern_class_where_the_two_dialects_differ_the_wrong_way():
    """Python's ``\\s`` also matches U+001C–U+001F, its ``\\w``, ``\\b`` and ``\\d`` any script's
    letters and digits: under ECMA-262's narrower classes a negated one (``\\S``, ``[^\\d]``) lets
    through what Python refuses, which the edge values above would not show. Such a class in the
    submission schema needs edges of its own first (a plain ``\\d`` is the stricter way round)."""
    patterns: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            patterns.extend(k for k in node.get("patternProperties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema("submission"))
    assert patterns
    assert [p for p in patterns if re.search(r"\\[sSwWbBD]|\(\?|\[\^[^\]]*\\d", p)] == []

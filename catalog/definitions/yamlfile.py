"""Read YAML safely and remember where every value came from.

Contributed YAML is untrusted input: it is size-capped, aliases are refused (a "billion laughs"
file is rejected before it is expanded), and every mapping key keeps its line so errors can name
``file:line: field``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog.model.errors import DefinitionError, Problem

try:  # the C loader is ~10x faster on the imported Jira files
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 40


@dataclass
class Located:
    """Parsed YAML plus a map from a field path (tuple of keys/indexes) to its line."""

    data: Any
    lines: dict[tuple, int]
    file: str

    def line(self, path: tuple) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def load(path: Path, display: str | None = None) -> Located:
    name = display or str(path)
    return loads(decode(read(path, name)), name)


def read(path: Path, name: str) -> bytes:
    """The file's bytes, within the size limit (``name``: how problems name the file)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DefinitionError([Problem(name, 0, "", f"cannot read: {exc.strerror}")]) from None
    if size > MAX_BYTES:
        raise DefinitionError([Problem(name, 1, "", f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")])
    return path.read_bytes()


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def loads(text: str, name: str) -> Located:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise DefinitionError([_syntax_problem(exc, text, name)]) from None
    lines: dict[tuple, int] = {}
    if node is None:
        return Located(None, {(): 1}, name)
    data = _build(node, (), lines, name, 0, set())
    return Located(data, lines, name)


_KEY_ON_LINE = re.compile(r"^\s*(?:-\s+)?([^\s:#][^:#]*?)\s*:(?:\s|$)")


def _syntax_problem(exc: yaml.YAMLError, text: str, name: str) -> Problem:
    """Name the line where the broken construct starts (``context_mark``) and the key on it."""
    problem_mark = getattr(exc, "problem_mark", None)
    mark = getattr(exc, "context_mark", None) or problem_mark
    line = mark.line + 1 if mark else 1
    position = getattr(exc, "position", None)
    if mark is None and isinstance(position, int):
        # A reader error (a NUL or other control character) has a character offset, not a mark.
        line = text.count("\n", 0, position) + 1
    lines = text.splitlines()
    key = _KEY_ON_LINE.match(lines[line - 1]) if 0 < line <= len(lines) else None
    message = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if problem_mark is not None and mark is not problem_mark:
        message += f" (noticed on line {problem_mark.line + 1})"
    return Problem(name, line, key.group(1) if key else "", f"YAML syntax error: {message}")


def _build(node: yaml.Node, path: tuple, lines: dict, name: str, depth: int, seen: set) -> Any:
    # An alias composes to a node already seen; refusing it stops "billion laughs" expansion.
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if id(node) in seen:  # name the line using the alias (its key's line), not the anchor's
            line = lines.get(path) or lines.get(path[:-1]) or node.start_mark.line + 1
            raise DefinitionError([Problem(name, line, _dotted(path), "YAML aliases are not allowed")])
        seen.add(id(node))
    if depth > MAX_DEPTH:
        raise DefinitionError([Problem(name, node.start_mark.line + 1, _dotted(path), "nested too deeply")])
    lines.setdefault(path, node.start_mark.line + 1)
    if node.tag not in _COLLECTION_TAGS and not isinstance(node, yaml.ScalarNode):
        # e.g. !!python/object/apply on a list: never constructed, but never silently accepted.
        raise DefinitionError([Problem(name, node.start_mark.line + 1, _dotted(path), f"unsupported YAML tag {node.tag}")])
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise DefinitionError(
                    [Problem(name, key_node.start_mark.line + 1, _dotted(path), "merge keys (<<) are not allowed")]
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise DefinitionError([Problem(name, key_node.start_mark.line + 1, _dotted(path), "keys must be plain strings")])
            key = _scalar(key_node, name, path)
            if not isinstance(key, (str, int)):
                raise DefinitionError([Problem(name, key_node.start_mark.line + 1, _dotted(path), "keys must be plain strings")])
            key = str(key)
            if key in out:
                raise DefinitionError(
                    [Problem(name, key_node.start_mark.line + 1, _dotted(path + (key,)), "duplicate key")]
                )
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, path + (key,), lines, name, depth + 1, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path + (i,), lines, name, depth + 1, seen) for i, child in enumerate(node.value)]
    return _scalar(node, name, path)


_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def _scalar(node: yaml.Node, name: str, path: tuple) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise DefinitionError([Problem(name, node.start_mark.line + 1, _dotted(path), "expected a scalar")])
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    # The safe constructor resolves ints, bools, nulls, floats and timestamps.
    construct = _CONSTRUCTOR.yaml_constructors.get(node.tag)
    if construct is None:
        raise DefinitionError([Problem(name, node.start_mark.line + 1, _dotted(path), f"unsupported YAML tag {node.tag}")])
    value = construct(_CONSTRUCTOR, node)
    return value.isoformat() if hasattr(value, "isoformat") else value


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted

"""``$ref`` across the files of a multi-file spec, never outside the spec's folder.

A spec such as Matrix's Client-Server API is one OpenAPI document per area plus shared files
(``definitions/security.yaml#/accessTokenBearer``). A :class:`SpecDoc` is a parsed document that
knows its file and the :class:`RefLoader` of its folder; :func:`resolve` follows ``$ref`` chains
through other files of that folder, loading each at most once.

Files are only read where a ``$ref`` is followed, and a followed ``$ref`` that names a URL, an
absolute path, or a file outside the spec's folder (``../../etc/passwd``, a symlink out), or a
file that does not exist, is an error naming the file, line and field: a spec must not make the
importer read anything else. Such a ``$ref`` is never read. Only the operator can choose, with
``skip_refused=True`` (``authcat import-openapi --skip-outside-refs``), to import anyway: each
refused ``$ref`` is then treated as unresolvable (no collection guess there) and listed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from catalog.model.errors import DefinitionError, Problem

MAX_FILES = 2000  # a spec that references more files than this is refused, not followed
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Where the loader notes, on every `$ref` node of a file it loaded, which file the node came from.
FILE_KEY = "x-authcat-file"


class RefRefused(DefinitionError):
    """A ``$ref`` the loader will not follow (outside the folder, absolute, a URL, missing)."""


class SpecDoc(dict):
    """A parsed OpenAPI document: a dict that knows its file (relative to the spec's folder)."""

    file: str = "?"
    loader: RefLoader | None = None


class RefLoader:
    """Reads the files of one spec folder for ``$ref``s; each file once, each checked first."""

    def __init__(self, root: Path, parse, skip_refused: bool = False):
        """``parse(path, name)`` reads one file (size-bounded) and returns its data and text."""
        self.root = root.resolve()
        self.skip_refused = skip_refused
        self.skipped: list[str] = []  # "file:line: $ref: why", when skip_refused
        self._parse = parse
        self._files: dict[str, Any] = {}
        self._texts: dict[str, str] = {}

    def adopt(self, doc: SpecDoc, name: str, text: str) -> SpecDoc:
        """Register a document read by the caller as the file ``name`` of this folder."""
        doc.file, doc.loader = name, self
        self._files[name], self._texts[name] = doc, text
        return doc

    def target(self, ref: str, base: str) -> tuple[str, str]:
        """``(file, pointer)`` for ``ref`` written in file ``base``; an error if it leaves the folder."""
        file_part, _, pointer = ref.partition("#")
        if not file_part:
            return base, pointer
        if _SCHEME.match(file_part) or file_part.startswith(("/", "\\", "//")) or "\\" in file_part:
            raise self._refused(base, ref, "names a URL or an absolute path; only files in the spec's folder are read")
        path = (self.root / base).parent / file_part
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            raise self._refused(base, ref, "cannot be resolved") from None
        if not resolved.is_relative_to(self.root):
            raise self._refused(base, ref, f"points outside the spec's folder ({self.root.name}/)")
        return resolved.relative_to(self.root).as_posix(), pointer

    def load(self, file: str, referrer: str, ref: str) -> Any:
        if file in self._files:
            return self._files[file]
        if len(self._files) >= MAX_FILES:
            raise self._refused(referrer, ref, f"the spec references more than {MAX_FILES} files")
        path = self.root / file
        if not path.is_file():
            raise self._refused(referrer, ref, f"{file} does not exist in the spec's folder")
        data, text = self._parse(path, file)
        _mark(data, file)
        self._files[file], self._texts[file] = data, text
        return data

    def _refused(self, file: str, ref: str, why: str) -> RefRefused:
        return RefRefused([Problem(f"{self.root.name}/{file}", _line_of_ref(self._texts.get(file, ""), ref), "$ref", f"{ref!r} {why}")])


def _mark(node: Any, file: str, depth: int = 0) -> None:
    """Note the file on every ``$ref`` node, so a chain continues relative to the right file."""
    if depth > 200:
        return
    if isinstance(node, dict):
        if "$ref" in node:
            node[FILE_KEY] = file
        for value in node.values():
            _mark(value, file, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _mark(value, file, depth + 1)


def _line_of_ref(text: str, ref: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if "$ref" in line and ref in line:
            return number
    return 1


def _walk(node: Any, pointer: str) -> Any:
    for part in pointer.lstrip("/").split("/") if pointer.strip("/") else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def resolve(spec: dict, node: Any, hops: int = 32) -> Any:
    """Follow ``$ref`` chains, local or into other files of the spec's folder.

    None for broken local refs and cycles (a guess is skipped, nothing else). A ref into another
    file needs ``spec`` to be a :class:`SpecDoc`; without one (a bare dict) only local refs are
    followed. Raises :class:`DefinitionError` for a ref that would leave the folder.
    """
    loader = spec.loader if isinstance(spec, SpecDoc) else None
    base_file = spec.file if isinstance(spec, SpecDoc) else "?"
    while isinstance(node, dict) and "$ref" in node:
        if hops == 0:
            return None
        hops -= 1
        ref = str(node["$ref"])
        here = str(node.get(FILE_KEY, base_file))
        if ref.startswith("#"):
            doc = loader.load(here, here, ref) if loader and here != base_file else spec
            node = _walk(doc, ref[1:])
            continue
        if loader is None:
            return None
        try:
            file, pointer = loader.target(ref, here)
            node = _walk(loader.load(file, here, ref), pointer)
        except RefRefused as refused:
            if not loader.skip_refused:
                raise
            if (line := str(refused.problems[0])) not in loader.skipped:
                loader.skipped.append(line)
            return None
    return node

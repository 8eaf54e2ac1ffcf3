"""``$ref`` across the files of a multi-file spec, never outside the spec's folder.

A spec such as Matrix's Client-Server API is one OpenAPI document per area plus shared files
(``definitions/security.yaml#/accessTokenBearer``). A :class:`SpecDoc` is a parsed document that
knows its file and the :class:`RefLoader` of its folder; :func:`resolve` follows ``$ref`` chains
through other files of that folder with the ``referencing`` library (URI joining, JSON pointers,
one registry per folder), loading each file at most once.

The rule lives in the registry's retrieve function (:meth:`RefLoader.retrieve`): files are only
read where a ``$ref`` is followed, and a followed ``$ref`` that names a URL, an absolute path, or a
file outside the spec's folder (``../../etc/passwd``, a symlink out), or a file that does not
exist, is an error naming the file, line and field: a spec must not make the importer read
anything else. Such a ``$ref`` is never read. Only the operator can choose, with
``skip_refused=True`` (``authcat import-openapi --skip-outside-refs``), to import anyway: each
refused ``$ref`` is then treated as unresolvable (no collection guess there) and listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

from catalog.model.errors import DefinitionError, Problem

if TYPE_CHECKING:  # imported when a spec is read: the importer plugin loads at every `authcat` start
    from referencing import Registry, Resource

MAX_FILES = 2000  # a spec that references more files than this is refused, not followed
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Where the loader notes, on every `$ref` node of a file it loaded, which file the node came from:
# the importer hands nodes around without their document, and a chain continues from their file.
FILE_KEY = "x-authcat-file"
Parse = Callable[[Path, str], tuple[Any, str]]


class RefRefused(DefinitionError):
    """A ``$ref`` the loader will not follow (outside the folder, absolute, a URL, missing)."""


class _NotRead(Exception):
    """Why the retrieve function read nothing (becomes a :class:`RefRefused` naming the ``$ref``)."""


class SpecDoc(dict):
    """A parsed OpenAPI document: a dict that knows its file (relative to the spec's folder)."""

    file: str = "?"
    loader: RefLoader | None = None


class RefLoader:
    """The ``referencing`` registry of one spec folder: each file read once, each checked first."""

    def __init__(self, root: Path, parse: Parse, skip_refused: bool = False):
        """``parse(path, name)`` reads one file (size-bounded) and returns its data and text."""
        self.root = root.resolve()
        self.skip_refused = skip_refused
        self.skipped: list[str] = []  # "file:line: $ref: why", when skip_refused
        self._parse = parse
        from referencing import Registry

        self._files: dict[str, Resource[Any]] = {}
        self._texts: dict[str, str] = {}
        self.registry: Registry[Any] = Registry(retrieve=self.retrieve)  # type: ignore[call-arg]

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def adopt(self, doc: SpecDoc, name: str, text: str) -> SpecDoc:
        """Register a document read by the caller as the file ``name`` of this folder."""
        from referencing import Resource

        doc.file, doc.loader = name, self
        self._files[name], self._texts[name] = Resource.opaque(doc), text
        self.registry = self.registry.with_resource(self.uri(name), self._files[name])
        return doc

    def retrieve(self, uri: str) -> Resource[Any]:
        from referencing import Resource

        """The file at ``uri`` if it is in the spec's folder (symlinks resolved) and exists."""
        parts = urlsplit(uri)
        if parts.scheme != "file" or parts.netloc:
            raise _NotRead("names a URL or an absolute path; only files in the spec's folder are read")
        try:
            resolved = Path(url2pathname(parts.path)).resolve()
        except (OSError, RuntimeError):
            raise _NotRead("cannot be resolved") from None
        if not resolved.is_relative_to(self.root):
            raise _NotRead(f"points outside the spec's folder ({self.root.name}/)")
        file = resolved.relative_to(self.root).as_posix()
        if file in self._files:
            return self._files[file]
        if len(self._files) >= MAX_FILES:
            raise _NotRead(f"the spec references more than {MAX_FILES} files")
        if not resolved.is_file():
            raise _NotRead(f"{file} does not exist in the spec's folder")
        data, text = self._parse(self.root / file, file)
        _mark(data, file)
        self._files[file], self._texts[file] = Resource.opaque(data), text
        return self._files[file]

    def refused(self, file: str, ref: str, why: str) -> RefRefused:
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


def _not_read(exc: BaseException) -> _NotRead | None:
    """The retrieve function's refusal behind ``referencing``'s Unresolvable, if that is why."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, _NotRead):
        cause = cause.__cause__
    return cause


def resolve(spec: dict, node: Any, hops: int = 32) -> Any:
    """Follow ``$ref`` chains, local or into other files of the spec's folder.

    None for broken local refs and cycles (a guess is skipped, nothing else). A ref into another
    file needs ``spec`` to be a :class:`SpecDoc`; without one (a bare dict) only local refs are
    followed. Raises :class:`DefinitionError` for a ref that would leave the folder.
    """
    if not (isinstance(node, dict) and "$ref" in node):
        return node
    from referencing import Registry, Resource
    from referencing.exceptions import Unresolvable

    loader = spec.loader if isinstance(spec, SpecDoc) else None
    if loader is None:
        base = "urn:authcat:spec"
        resolver = Registry().with_resource(base, Resource.opaque(spec)).resolver(base)
    else:
        base = loader.uri(str(node.get(FILE_KEY, getattr(spec, "file", "?"))))
        resolver = loader.registry.resolver(base)
    while isinstance(node, dict) and "$ref" in node:
        if hops == 0:
            return None
        hops -= 1
        ref = str(node["$ref"])
        if not ref.startswith("#"):
            if loader is None:
                return None
            file_part = ref.partition("#")[0]
            # Caught before URI joining would turn them into paths of this machine.
            if _SCHEME.match(file_part) or file_part.startswith(("/", "\\")) or "\\" in file_part:
                return _refuse(loader, base, ref, "names a URL or an absolute path; only files in the spec's folder are read")
        try:
            resolved = resolver.lookup(ref)
        except Unresolvable as exc:
            why = _not_read(exc)
            if why is None or loader is None:
                return None  # a broken pointer: no guess there
            return _refuse(loader, base, ref, str(why))
        except (ValueError, TypeError):  # a pointer walking into a string or with a non-number index
            return None
        if not ref.startswith("#"):
            base = urldefrag(urljoin(base, ref)).url  # as referencing joins it: the file the chain is in
        node, resolver = resolved.contents, resolved.resolver
    return node


def _refuse(loader: RefLoader, base: str, ref: str, why: str) -> None:
    """Raise the refusal naming the file the ``$ref`` is written in, or list it when skipping."""
    here = Path(url2pathname(urlsplit(base).path)).relative_to(loader.root).as_posix()
    refused = loader.refused(here, ref, why)
    if not loader.skip_refused:
        raise refused
    if (line := str(refused.problems[0])) not in loader.skipped:
        loader.skipped.append(line)

"""Definition files already accepted, remembered between ``authcat`` starts.

Every start reads every definition file, parses its YAML (keeping each key's line) and checks it
against its JSON Schema: about half a CPU second on the bundled project, paid again by every
command although the files rarely change. This remembers, for a file that parsed and passed its
schema, its parse: the next start that reads the same bytes takes the parse from here and skips
both steps. The checks after the schema (duplicate ids, unsafe paths, plugin names) run every time.

What an entry can and cannot do:

- It is found only by a digest this process computes itself of everything acceptance depends on:
  the file's exact bytes, its kind (``api``/``endpoints``/``target``), the three schema texts, the
  parser's and the loader's source, and the versions of authcat, PyYAML, jsonschema and referencing. An edited
  file, schema, parser or loader finds no entry and is parsed and checked again.
- Only an accepted file gets one. A file with a problem is checked on every start, so its messages
  (``file:line: field: message``) are exactly those of a check.
- Entries are named and sealed with an HMAC under a random key made on first use. A forged,
  copied, truncated or corrupt entry does not verify and counts as absent: without the key, no
  one can write an entry that makes a file skip its check. Only a verified entry's body is read
  (with ``marshal``, the fastest way back to the parse).
- The folder is the user's own cache (``$XDG_CACHE_HOME/authcat/definitions``, by default
  ``~/.cache/authcat/definitions``), never inside a project: no file of the repository, which a
  contributor can change, can reach it, and nothing in it is ever published. A folder or key that
  others could write is not used. Any failure to read or write it just means checking again.
"""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import sys
from collections.abc import Mapping
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from catalog import __version__
from catalog.definitions.sealed import folder_key, read_sealed, user_folder, write_sealed

# What an entry's body is: marshal's format changes with Python's version.
FORMAT = f"authcat accepted definitions 2, marshal {marshal.version}, Python {sys.version}".encode()
SCHEMA_FILES = ("api", "endpoints", "target")
MAX_ENTRIES = 50_000  # per generation; beyond it the oldest half goes (a pruning pass, now and then)


def folder(env: Mapping[str, str] | None = None) -> Path | None:
    """Where accepted definitions are kept: the user's cache folder, never a project's."""
    return user_folder("definitions", env)


@cache
def _generation(code: tuple[Path, ...]) -> bytes:
    """A digest of everything that decides whether a text is accepted, but the text and its kind:
    ``code`` are the source files whose rules decide it (the parser's, the loader's)."""
    h = hashlib.sha256(FORMAT)
    for part in (__version__, *(_version(d) for d in ("PyYAML", "jsonschema", "referencing"))):
        h.update(b"\0" + part.encode())
    for name in SCHEMA_FILES:
        h.update(b"\0" + resources.files("catalog").joinpath("schemas", f"{name}.schema.json").read_bytes())
    for source in code:
        h.update(b"\0" + source.read_bytes())
    return h.digest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "-"


class Accepted:
    """The accepted-definitions store of one folder (``None``: remember nothing); ``code``: the
    source files whose rules decide what is accepted (an edit to one makes every entry stale)."""

    def __init__(self, where: Path | None, code: tuple[Path, ...] = ()) -> None:
        self._key = b""
        self._dir: Path | None = None  # None: remember nothing
        self._made = False
        if where is None:
            return
        try:
            generation = _generation(code)
            key = folder_key(where)
        except OSError:
            return
        if key is not None:
            self._key, self._generation = key, generation
            self._dir = where / generation.hex()[:32]

    def _name(self, kind: str, raw: bytes) -> str:
        text = hashlib.sha256(raw).digest()
        return hmac.new(self._key, self._generation + b"\0" + kind.encode() + b"\0" + text, "sha256").hexdigest()

    def get(self, kind: str, raw: bytes) -> tuple[Any, dict[tuple, int]] | None:
        """The parse (data, lines) of ``raw`` if it was accepted as a ``kind`` file, else None."""
        if self._dir is None:
            return None
        body = read_sealed(self._dir, self._key, self._name(kind, raw))
        if body is None:
            return None
        try:  # marshal: the fastest to read back, and only bytes sealed with this key get here
            data, lines = marshal.loads(body)
        except (ValueError, TypeError, EOFError):
            return None
        return (data, lines) if isinstance(lines, dict) else None

    def remember(self, kind: str, raw: bytes, data: Any, lines: dict[tuple, int]) -> None:
        """Keep the parse of ``raw``, which was just accepted as a ``kind`` file."""
        if self._dir is None:
            return
        name = self._name(kind, raw)
        try:
            body = marshal.dumps((data, lines))
        except ValueError:
            return
        try:
            if not self._made:
                self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._made = True
            write_sealed(self._dir, self._key, name, body)
            if name.startswith("00"):  # about one write in 256 looks at the folder's size
                _prune(self._dir)
        except OSError:
            pass


def _prune(generation_dir: Path) -> None:
    """Keep a generation below :data:`MAX_ENTRIES` (oldest written first out), and drop other
    generations (an older authcat or schema) untouched for a month."""
    import time

    entries = [e for e in os.scandir(generation_dir) if not e.name.startswith(".")]
    if len(entries) > MAX_ENTRIES:
        entries.sort(key=lambda e: e.stat().st_mtime)
        for e in entries[: len(entries) // 2]:
            os.unlink(e.path)
    month_ago = time.time() - 30 * 86400
    for other in os.scandir(generation_dir.parent):
        if other.is_dir(follow_symlinks=False) and other.path != str(generation_dir) and other.stat().st_mtime < month_ago:
            for e in os.scandir(other.path):
                os.unlink(e.path)
            os.rmdir(other.path)

"""Files in the user's own cache folder, each sealed with an HMAC under the folder's random key.

What accepted definitions (:mod:`catalog.definitions.accepted`) and compiled templates
(:mod:`catalog.site.compiled`) are kept in between ``authcat`` starts. Both read back something
that decides what runs or what is checked, so both rest on the same rules:

- the folder is the user's own cache (``$XDG_CACHE_HOME/authcat/<name>``, by default
  ``~/.cache/authcat/<name>``), never inside a project, which a contributor can change;
- a folder or key file others could write is not used;
- an entry is read back only if its seal verifies under this folder's key: a forged, copied, cut
  short or corrupt one counts as absent;
- every write is whole (a name of its own beside it, then renamed or linked into place).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path


def user_folder(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """``name``'s folder in the user's cache (the XDG rule), never a project's; None without a home."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG rule: a relative value is ignored
        home = env.get("HOME") or os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "authcat" / name


def owned(path: Path) -> bool:
    """Whether only this user can change ``path`` (a folder or key others could write is not trusted)."""
    st = path.stat()
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def folder_key(where: Path) -> bytes | None:
    """This folder's secret key, made on first use; None when the folder is not the user's own."""
    key_file = where / "key"
    try:
        raw = key_file.read_bytes()
    except FileNotFoundError:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not owned(where):
            return None
        # Written whole beside it, then linked into place: no reader sees half a key. If another
        # start made it first, that one is used.
        with contextlib.suppress(FileExistsError):
            write_whole(key_file, secrets.token_hex(32).encode(), exclusive=True)
        raw = key_file.read_bytes()
    if not owned(where) or not owned(key_file) or key_file.stat().st_mode & 0o077:
        return None
    return raw if len(raw) == 64 else None


def write_whole(path: Path, content: bytes, exclusive: bool = False) -> None:
    """``content`` at ``path``, never seen half-written; ``exclusive``: fail if ``path`` exists."""
    # A name of its own beside it (tempfile.mkstemp's random names cost more than the write).
    temp = str(path.parent / f".tmp-{os.getpid()}-{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        if exclusive:
            os.link(temp, path)
        else:
            os.replace(temp, path)
            temp = ""
    finally:
        if temp:
            os.unlink(temp)


def seal(key: bytes, name: str, body: bytes) -> bytes:
    """The seal of entry ``name`` holding ``body``: binds the body to its name and the folder's key."""
    return hmac.new(key, name.encode() + b"\0" + body, "sha256").hexdigest().encode()


def read_sealed(folder: Path, key: bytes, name: str) -> bytes | None:
    """The body of entry ``name``, if it is there and its seal verifies; else None."""
    try:
        sealed = (folder / name).read_bytes()
    except OSError:
        return None
    found, _, body = sealed.partition(b"\n")
    if not hmac.compare_digest(found, seal(key, name, body)):
        return None  # not written with this key: forged, copied, cut short or corrupt
    return body


def write_sealed(folder: Path, key: bytes, name: str, body: bytes) -> None:
    """Entry ``name`` holding ``body``, sealed (raises OSError when the disk refuses)."""
    write_whole(folder / name, seal(key, name, body) + b"\n" + body)

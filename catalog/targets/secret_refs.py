"""Credential references: the value behind ``{env: NAME}`` or ``{file: path}`` in a target
profile, read only from where a secret may live (a regular file outside the repository, not a
symlink, not a device, size-bounded), and a profile's credentials resolved from them."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from catalog.model.credentials import Credential, Credentials
from catalog.model.definition import TargetProfile


class SecretRefError(ValueError):
    """A secret reference that may not be read (symlink, device, inside the repository, too big)."""


MAX_SECRET_BYTES = 64 * 1024
_FORBIDDEN_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def ref_path(ref: Mapping[str, str], base: Path) -> Path:
    path = Path(os.path.expanduser(ref["file"]))
    return path if path.is_absolute() else base / path


def static_ref_problem(ref: Mapping[str, str], base: Path) -> str | None:
    """What is wrong with a ``{file: …}`` reference whatever is on disk (for the lint), or None."""
    path = Path(os.path.normpath(ref_path(ref, base)))
    if any(path == r or r in path.parents for r in _FORBIDDEN_ROOTS):
        return f"{ref['file']} is under /proc, /sys or /dev: a secret is a regular file"
    resolved_base = base.resolve()
    for candidate in (path, Path(os.path.realpath(path))):
        if candidate == resolved_base or resolved_base in candidate.parents or base in candidate.parents:
            return (f"{ref['file']} is inside the repository: a secret file lives outside it "
                    "(the checkout is contributed, untrusted content)")
    return None


def _read_secret_file(ref: Mapping[str, str], base: Path) -> str | None:
    """A regular file outside the repository, read with a size bound; None when it is missing."""
    if why := static_ref_problem(ref, base):
        raise SecretRefError(why)
    path = ref_path(ref, base)
    try:
        # O_NOFOLLOW: a symlink is refused by the kernel, not by a check that could race;
        # O_NONBLOCK: opening a FIFO does not hang (it is then refused as not a regular file).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SecretRefError(f"{ref['file']} is a symlink: point at the file itself") from None
        raise SecretRefError(f"{ref['file']} cannot be read: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SecretRefError(f"{ref['file']} is not a regular file (a device, FIFO or folder)")
        data = os.read(fd, MAX_SECRET_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_SECRET_BYTES:
        raise SecretRefError(f"{ref['file']} is larger than {MAX_SECRET_BYTES:,} bytes: not a secret")
    return data.decode("utf-8", errors="replace").strip() or None


def resolve_ref(ref: Mapping[str, str] | None, base: Path) -> str | None:
    """The value behind ``{env: NAME}`` or ``{file: path}``, or None when it is unset or missing.

    Raises :class:`SecretRefError` for a file that may not be read (see ``_read_secret_file``).
    """
    if not ref:
        return None
    if "env" in ref:
        return os.environ.get(ref["env"]) or None
    return _read_secret_file(ref, base)


def unsendable(value: str | None, secret: bool) -> bool:
    """A value that cannot go into a header: a control character, or (for a secret) non-ASCII."""
    return value is not None and any(ord(c) < 32 or ord(c) == 127 or (secret and ord(c) > 126) for c in value)


def profile_credentials(profile: TargetProfile, base: Path) -> tuple[Credentials, dict[str, str]]:
    """The credentials a profile's references resolve to, and for each unresolved role, why.

    A reason never shows a character of a secret. Raises :class:`SecretRefError` naming the
    profile's file, line and field for a file reference that may not be read.
    """
    creds = Credentials()
    missing: dict[str, str] = {}
    for role, refs in profile.credentials.items():
        values: dict[str, str | None] = {}
        for part in ("secret", "identity"):
            try:
                values[part] = resolve_ref(refs.get(part), base)
            except SecretRefError as exc:
                where = f"credentials.{role}.{part}"
                raise SecretRefError(f"{profile.source.file}:{profile.lines.get(where, 1)}: {where}: {exc}") from None
        secret = values["secret"] if "secret" in refs else ""
        identity = values["identity"]
        if secret is None or ("secret" not in refs and identity is None):
            unset = [_describe(refs[p]) for p in ("secret", "identity") if refs.get(p) and values[p] is None]
            missing[role] = f"set {' and '.join(unset)}"
            continue
        bad = [_describe(refs[p]) for p in ("secret", "identity") if refs.get(p) and unsendable(values[p], p == "secret")]
        if bad:
            missing[role] = (f"the value of {' and '.join(bad)} has a control or non-ASCII character: "
                             "it cannot be sent in a header")
            continue
        creds.roles[role] = Credential(secret=secret, identity=identity)
    return creds, missing


def _describe(ref: Mapping[str, str]) -> str:
    return ref["env"] if "env" in ref else f"the file {ref['file']}"

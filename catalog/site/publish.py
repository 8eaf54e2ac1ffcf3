"""Swap a finished site build in, whole: after a SIGKILL at any moment ``site/build`` is the old
site or the new one — ``catalog.json`` included, since the export is written into the staging
folder before the swap — never a mix, never nothing.

On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call: the kernel exchanges the two folder
names atomically, and the staging name is then left holding the old build, which is removed.
Where that call does not exist (other systems, some file systems) the build is swapped with two
renames, ``build → .build-old`` and ``staging → build``; a kill between them leaves no
``build`` but a whole ``.build-old``, which :func:`recover` (run at the start of every build)
and readers of the site put back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from pathlib import Path
from typing import Any

_AT_FDCWD = -100
_RENAME_EXCHANGE = 1 << 1


def _renameat2() -> Any:
    with contextlib.suppress(OSError, AttributeError, TypeError):
        fn = ctypes.CDLL(None, use_errno=True).renameat2
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        return fn
    return None


_RENAMEAT2 = _renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the names of two existing folders; False when the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # the file system or kernel does not support it: use the two renames
    raise OSError(code, os.strerror(code), str(b))


def old_copy(live: Path) -> Path:
    return live.parent / f".{live.name}-old"


def recover(live: Path) -> None:
    """Put back the previous build if a two-rename swap was cut between its renames."""
    old = old_copy(live)
    if not live.exists() and old.is_dir():
        old.rename(live)


def publish(staging: Path, live: Path) -> None:
    """Make the finished folder ``staging`` the site at ``live``, in one step."""
    recover(live)
    if live.is_dir() and exchange(staging, live):
        shutil.rmtree(staging)  # now the previous build
        return
    old = old_copy(live)
    if old.exists():
        shutil.rmtree(old)
    if live.exists():
        live.rename(old)
    staging.rename(live)
    shutil.rmtree(old, ignore_errors=True)

"""One writer per project: ``run``, ``probe`` and ``build`` hold ``<project>/.authcat.lock``.

Two runs at once used to lose change-log entries (both read the log, both appended, the second
replace won) and one could delete the other's ``site/build`` mid-swap. The lock is an advisory
``flock`` on a file in the project root: the kernel drops it when the holder exits, however it
exits (SIGKILL included), so there is never a stale lock to clean up by hand. By default a second
command does not queue behind the first: it exits at once (code 75, EX_TEMPFAIL) naming the
holder; ``--wait`` makes it wait instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from catalog.model.errors import ProjectBusy

LOCK_NAME = ".authcat.lock"
BUSY_EXIT = ProjectBusy.exit_code


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another authcat process"


@contextlib.contextmanager
def project_lock(root: Path, command: str, wait: bool = False) -> Iterator[None]:
    """Hold the project's lock for the body; :class:`ProjectBusy` when taken and ``wait`` is off."""
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            busy = ProjectBusy(f"{root} is busy: {_holder(path)} holds {LOCK_NAME}; wait for it to finish, "
                               "or pass --wait to queue behind it")
            busy.holder = _holder(path)
            raise busy from None
        # Who holds it, for the message a second command prints (informative only: the lock is
        # the flock, not this text).
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`authcat {command}` (pid {os.getpid()}, since {started})\n".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


"""The build's forked helper processes (pages rendered in two, the search index, the export): how
one is started, waited for and stopped, in one place."""

from __future__ import annotations

import gc
import queue
from collections.abc import Callable
from typing import Any

from catalog.model.errors import AuthcatError

POLL_S = 2.0  # how often a waiting side checks that the other is still there


def start(ctx: Any, target: Callable[..., None], args: tuple, name: str) -> Any:
    """A daemon process of ``ctx`` (a ``fork`` context) running ``target(*args)``, started."""
    # Frozen: the worker's garbage collector leaves the parent's objects alone, so the fork shares
    # their memory instead of copying it page by page.
    gc.freeze()
    try:
        worker = ctx.Process(target=target, args=args, name=name, daemon=True)
        worker.start()
    finally:
        gc.unfreeze()
    return worker


def result(worker: Any, results: Any, what: str) -> Any:
    """The worker's one message on ``results``; an error naming ``what`` if it died without one."""
    while True:
        try:
            return results.get(timeout=POLL_S)
        except queue.Empty:
            if not worker.is_alive():
                raise AuthcatError(f"{what} stopped (exit code {worker.exitcode})") from None


def kill(worker: Any) -> None:
    """Stop a worker whose work is not wanted (the build failed), and reap it."""
    if worker.is_alive():
        worker.kill()
    worker.join()

"""``catalog.json`` written by a forked process while the pages render and MkDocs builds the site.

The export needs nothing but the publication, which is complete (and frozen) once computed;
neither the pages nor MkDocs read the export. So :class:`ExportBeside` forks a worker as soon as
the publication exists — the second core is idle while this process prepares the pages — the
worker writes both export files into a folder of its own beside the site
(``.build-export``: MkDocs empties its own build folder as it starts), and once MkDocs is done they
are moved into the finished build, before the swap (``catalog.site.publish``), as before. The
files are the ones :func:`catalog.site.export.write_export` writes, by that same function.

The worker dies with the build: the kernel kills it if the build process dies
(``PR_SET_PDEATHSIG``), and a failed build kills it and removes its folder. One core, or no
``fork``: the export is written in this process, after MkDocs, as it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from catalog.answers.publication import Publication
from catalog.model.errors import AuthcatError
from catalog.site import forked
from catalog.site.export import EXPORT_NAME, SCHEMA_NAME, write_export

FOLDER = ".build-export"  # beside site/build, like MkDocs' staging folder
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    # Not Linux: no parent-death signal, and the build's own failure path still kills the worker.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the build died between the fork and the prctl
        os._exit(1)


def _write(publication: Publication, folder: Path, results: Any, parent: int) -> None:
    _die_with(parent)
    try:
        write_export(publication, folder)
        results.put(("ok", None))
    except OSError as exc:  # the parent raises it again, naming the file in the build
        results.put(("oserror", (exc.errno, exc.strerror, exc.filename and Path(exc.filename).name)))
    except BaseException as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))


class ExportBeside:
    """``start()`` once the publication exists, ``finish(built)`` after MkDocs, ``stop()`` if the build fails."""

    def __init__(self, publication: Publication, site_root: Path) -> None:
        self.publication = publication
        self.folder = site_root / FOLDER
        self.worker: Any = None
        self.results: Any = None

    def start(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)  # a killed build's
        if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return
        self.folder.mkdir(parents=True)
        ctx = multiprocessing.get_context("fork")
        self.results = ctx.Queue()
        self.worker = forked.start(ctx, _write, (self.publication, self.folder, self.results, os.getpid()), "authcat-export")

    def finish(self, built: Path) -> None:
        """The export files in ``built``: the worker's, moved there, or written here without one."""
        if self.worker is None:
            write_export(self.publication, built)
            return
        status, payload = forked.result(self.worker, self.results, "the export process")
        self.worker.join()
        self.worker = None
        if status == "oserror":
            errno, strerror, name = payload
            raise OSError(errno, strerror, str(built / (name or EXPORT_NAME)))
        if status != "ok":
            raise AuthcatError(f"writing {EXPORT_NAME} failed: {payload}")
        for name in (SCHEMA_NAME, EXPORT_NAME):
            try:
                os.replace(self.folder / name, built / name)  # the same file system: a rename
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(built / name)) from exc
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop(self) -> None:
        if self.worker is not None:
            forked.kill(self.worker)
            self.worker = None
        shutil.rmtree(self.folder, ignore_errors=True)

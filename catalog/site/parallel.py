"""authcat's own pages rendered in two processes.

The API pages and group pages are most of the rendering, and each is a pure function of the
publication: so a forked process renders about half of them (by endpoint count) while this one
renders the rest, and sends back the finished texts with the fragments they deferred
(``catalog.site.deferred``, keyed apart with a prefix, so the two sets merge as they are).
Only authcat's own templates go there (``catalog.site.build.core_env``); contributed ones render
in this process, in their sandbox. One core, or no ``fork``: everything renders here, in order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

from catalog.model.errors import AuthcatError
from catalog.site import forked
from catalog.site.deferred import Deferred

Job = tuple[str, dict[str, Any]]  # a template's name and its context
WORKER_PREFIX = "w"  # the worker's deferred fragments: w0, w1 … beside this process's 0, 1 …


def split(weights: Sequence[int]) -> tuple[list[int], list[int]]:
    """Two lists of job indexes of about equal weight (heaviest first, each to the lighter side)."""
    mine: list[int] = []
    theirs: list[int] = []
    load = [0, 0]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        side = 0 if load[0] <= load[1] else 1
        (mine, theirs)[side].append(i)
        load[side] += weights[i]
    return sorted(mine), sorted(theirs)


def _render_theirs(render: Callable[[str, dict[str, Any]], str], jobs: Sequence[Job], indexes: list[int],
                   deferred: Deferred, results: Any) -> None:
    try:
        # The filters hold this very object (copied by the fork): start it empty, with the prefix.
        deferred.prefix, deferred.parts, deferred.html_parts = WORKER_PREFIX, {}, {}
        texts = {i: render(*jobs[i]) for i in indexes}
        results.put(("ok", (texts, deferred.parts, deferred.html_parts)))
    except BaseException as exc:  # reported to the parent, which raises it
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def render_in_two(render: Callable[[str, dict[str, Any]], str], jobs: Sequence[Job], weights: Sequence[int],
                  deferred: Deferred) -> list[str]:
    """Every job's text, in order; about half of them (by weight) rendered by a forked process."""
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [render(*job) for job in jobs]
    mine, theirs = split(weights)
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    worker = forked.start(ctx, _render_theirs, (render, jobs, theirs, deferred, results), "authcat-render")
    try:
        texts = {i: render(*jobs[i]) for i in mine}
        status, payload = forked.result(worker, results, "the second rendering process")
        if status != "ok":
            raise AuthcatError(f"rendering a page failed: {payload}")
        their_texts, parts, html_parts = payload
        worker.join()
    finally:
        if worker.is_alive():  # this side failed: the worker's pages are not wanted
            forked.kill(worker)
    texts.update(their_texts)
    deferred.parts.update(parts)
    deferred.html_parts.update(html_parts)
    return [texts[i] for i in range(len(jobs))]

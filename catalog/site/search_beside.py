"""The search index parsed in a second process, beside the rest of the build.

Material's search plugin indexes a page by feeding its HTML through ``html.parser`` — a quarter of
the build of one API with 20,000 endpoints (its group pages are mostly endpoint sections, all of
them searchable). The parse needs nothing but the page's HTML, table of contents, address, front
matter and title, so :class:`SearchBeside` hands those to a forked worker as MkDocs finishes each
page, and the worker runs Material's own ``add_entry_from_context`` on them, in page order: the
same entries as before, built while the main process renders the theme and writes the pages. The
entries come back before the search plugin writes ``search_index.json``.

Where it cannot fork (no ``fork`` start method) or search is off, nothing changes.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from types import SimpleNamespace
from typing import Any

from mkdocs.plugins import BasePlugin, event_priority

from catalog.site import forked


def _index_pages(index: Any, pages: Any, results: Any, parent: int) -> None:
    """The worker: index each page sent (None ends the list), then send the entries back."""
    index.entries = []
    add = type(index).add_entry_from_context  # the plugin's own method, not the parent's stand-in
    while True:
        try:
            page = pages.get(timeout=forked.POLL_S)
        except queue.Empty:
            if os.getppid() != parent:  # the build died: nobody will read the entries
                return
            continue
        if page is None:
            break
        add(index, page)
    results.put(index.entries)


class SearchBeside(BasePlugin):
    """An MkDocs plugin (added by ``catalog.site.build``, not configured by users)."""

    def __init__(self) -> None:
        super().__init__()
        self.index: Any = None
        self.worker: Any = None
        self.pages: Any = None
        self.results: Any = None

    @event_priority(-100)  # after the search plugin made its index
    def on_pre_build(self, config: Any) -> None:
        search: Any = next((p for p in config.plugins.values()
                            if type(p).__module__ == "material.plugins.search.plugin"), None)
        index = getattr(search, "search_index", None)
        if index is None or not search.config.enabled or "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        self.pages, self.results = ctx.Queue(), ctx.Queue()
        self.worker = forked.start(ctx, _index_pages, (index, self.pages, self.results, os.getpid()),
                                   "authcat-search-index")
        self.index = index
        index.add_entry_from_context = self._send  # the plugin calls this on every page

    def _send(self, page: Any) -> None:
        search = page.meta.get("search") or {}
        if search.get("exclude"):
            return
        # What the plugin reads of the page, as it is now (the worker cannot ask MkDocs later).
        self.pages.put(SimpleNamespace(content=page.content, toc=page.toc, url=page.url, meta=page.meta,
                                       title=page.title))

    @event_priority(100)  # before the search plugin writes the index
    def on_post_build(self, config: Any) -> None:
        if self.worker is None:
            return
        self.pages.put(None)
        self.index.entries = forked.result(self.worker, self.results, "the search index process")
        self.worker.join()
        self.worker = None

    def on_shutdown(self) -> None:
        if self.worker is not None:  # the build failed before the index was written
            forked.kill(self.worker)
            self.worker = None

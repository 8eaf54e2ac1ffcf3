"""Big generated HTML (the matrix, the per-endpoint state tables) kept out of Markdown and search.

Measured (benchmarks/b3_site.py, 1,000 endpoints × 12 states): of a 26 s build, MkDocs spent
most of its time parsing the same HTML twice — Python-Markdown's raw-HTML block scanner, then
Material's search plugin, which feeds every page through ``html.parser`` to index it. The tables
hold ~90 % of the tags and nothing worth searching (status codes, outcome names; paths and
summaries stay in the page). So a template wraps them in ``{% filter defer %}…{% endfilter %}``:
the page carries an HTML comment placeholder through Markdown and indexing, and the finished
page gets the table back in MkDocs' ``on_post_page`` event.

Rendering pages on their own (tests, previews) gets the HTML inline: no store, no placeholder.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from mkdocs.plugins import BasePlugin

_PLACEHOLDER = re.compile(r"<!--authcat-deferred:(\d+)-->")


class Deferred:
    """The deferred fragments of one build, by number."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def __call__(self, fragment: str) -> Markup:
        self.parts.append(str(fragment))
        return Markup(f"<!--authcat-deferred:{len(self.parts) - 1}-->")

    def put_back(self, output: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.parts[int(m.group(1))], output)


def inline(fragment: str) -> Markup:
    """The ``defer`` filter outside a build: the fragment stays where it is (already escaped)."""
    return Markup(fragment)


class PutBack(BasePlugin):
    """An MkDocs plugin (added by ``catalog.site.build``, not configured by users) restoring fragments."""

    def __init__(self, deferred: Deferred):
        super().__init__()
        self.deferred = deferred

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        return self.deferred.put_back(output)

"""Big generated HTML (the matrix, the per-endpoint state tables) kept out of Markdown and search.

Measured (benchmarks/b3_site.py, 1,000 endpoints × 12 states): of a 26 s build, MkDocs spent
most of its time parsing the same HTML twice — Python-Markdown's raw-HTML block scanner, then
Material's search plugin, which feeds every page through ``html.parser`` to index it. The tables
hold ~90 % of the tags and nothing worth searching (status codes, outcome names; paths and
summaries stay in the page). So a template wraps them in ``{% filter defer %}…{% endfilter %}``:
the page carries an HTML comment placeholder through Markdown and indexing, and the finished
page gets the table back in MkDocs' ``on_post_page`` event.

A page's finished HTML that search must still see (a group page's endpoints: paths, summaries,
verdict explanations) goes through ``{% filter skip_markdown %}`` instead: Markdown gets a
placeholder, and the HTML is put back as soon as Markdown is done (``on_page_content``, before
the search plugin reads the page). Python-Markdown's raw-HTML scanner parsed every group page
for nothing: the HTML sits in a ``markdown="0"`` block and comes out as it went in.

Rendering pages on their own (tests, previews) gets the HTML inline: no store, no placeholder.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from mkdocs.plugins import BasePlugin

_PLACEHOLDER = re.compile(r"<!--authcat-deferred:(\w+)-->")
_HTML = re.compile(r"<!--authcat-html:(\w+)-->")


class Deferred:
    """The deferred fragments of one build, by key: ``parts`` skip Markdown and search,
    ``html_parts`` skip Markdown only. A second rendering process (``catalog.site.parallel``)
    keys its own fragments with ``prefix``, so both sets merge without renumbering."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.parts: dict[str, str] = {}
        self.html_parts: dict[str, str] = {}

    def __call__(self, fragment: str) -> Markup:
        key = f"{self.prefix}{len(self.parts)}"
        self.parts[key] = str(fragment)
        return Markup(f"<!--authcat-deferred:{key}-->")

    def skip_markdown(self, fragment: str) -> Markup:
        key = f"{self.prefix}{len(self.html_parts)}"
        self.html_parts[key] = str(fragment).rstrip("\n")  # as Markdown would have kept the block
        # On a line of its own: Markdown keeps a comment alone on its line as it is.
        return Markup(f"\n\n<!--authcat-html:{key}-->\n")

    def merge(self, other: Deferred) -> None:
        self.parts.update(other.parts)
        self.html_parts.update(other.html_parts)

    def put_back_html(self, content: str) -> str:
        return _HTML.sub(lambda m: self.html_parts[m.group(1)], content)

    def put_back(self, output: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.parts[m.group(1)], output)


def inline(fragment: str) -> Markup:
    """The ``defer`` filter outside a build: the fragment stays where it is (already escaped)."""
    return Markup(fragment)


class PutBack(BasePlugin):
    """An MkDocs plugin (added by ``catalog.site.build``, not configured by users) restoring fragments."""

    def __init__(self, deferred: Deferred):
        super().__init__()
        self.deferred = deferred

    def on_page_content(self, html: str, page: Any, config: Any, files: Any) -> str:
        return self.deferred.put_back_html(html)

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        return self.deferred.put_back(output)

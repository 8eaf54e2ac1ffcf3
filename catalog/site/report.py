"""What a site build reports: a module apart from ``catalog.site.build``, so that the ``build``
command's parent process, which only waits for the isolated build child and prints its report,
imports neither MkDocs nor the template engine (about 0.2 CPU s of every ``authcat build``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BuildReport:
    pages: int
    render_s: float
    mkdocs_s: float
    extra: dict[str, Any] = field(default_factory=dict)

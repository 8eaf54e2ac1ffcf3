"""Where the site's parts live under ``site/``: a name for each folder, importing nothing heavy
(every command finds its project through it; the build itself is ``catalog.site.build``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SitePaths:
    root: Path  # the site/ folder

    @property
    def config(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def generated(self) -> Path:
        return self.root / "generated"

    @property
    def build(self) -> Path:
        return self.root / "build"

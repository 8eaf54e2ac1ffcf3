"""Build the static site: plugins render pages from Jinja templates, MkDocs turns them into HTML.

Hand-written pages live in ``site/docs``; generated pages are written beside copies of them in
``site/generated`` (never committed), and MkDocs builds that folder into ``site/build``. The nav
lists the overview pages only: endpoint groups stay out of it, which keeps MkDocs fast as the
catalog grows (design.md: 53 s for 1,000 pages in the nav, 11 s out of it).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .answers import compute_answers
from .deferred import Deferred, PutBack, inline
from .errors import AuthcatError
from .export import write_export
from .plugins import Hooks
from .results import Catalog, SitePage


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


@dataclass
class BuildReport:
    pages: int
    render_s: float
    mkdocs_s: float
    extra: dict[str, Any] = field(default_factory=dict)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_text(value: Any) -> str:
    """Escape text for a Markdown context: HTML-escaped and with Markdown syntax neutralised."""
    # Markup: already escaped, so autoescape must not escape it again ("&lt;" shown as text).
    return Markup(_MD_SPECIAL.sub(r"\\\1", html.escape(str(value if value is not None else ""), quote=True)))


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "x"


def jinja_env(paths: SitePaths, hooks: Hooks, deferred: Deferred | None = None) -> jinja2.Environment:
    search = [str(paths.templates), *hooks.template_dirs()]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=True,  # every contributed string is escaped unless a template says otherwise
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_text
    env.filters["slug"] = slug
    env.filters["defer"] = deferred or inline  # see catalog.deferred: big tables skip Markdown
    return env


def render_pages(catalog: Catalog, paths: SitePaths, hooks: Hooks,
                 deferred: Deferred | None = None) -> list[SitePage]:
    env = jinja_env(paths, hooks, deferred)

    def render(template: str, **context: Any) -> str:
        return env.get_template(template).render(**context)

    pages = [p if isinstance(p, SitePage) else SitePage(*p) for p in hooks.site_pages(catalog, render)]
    seen: set[str] = set()
    for page in pages:
        rel = page.path
        if rel in seen or rel.startswith(("/", "..")) or "/../" in rel:
            raise AuthcatError(f"a site_pages plugin gave the page path {rel!r}, which is duplicated or unsafe")
        seen.add(rel)
    return pages


def plugin_nav(pages: list[SitePage]) -> list[dict[str, list[dict[str, str]]]]:
    """The nav sections plugin pages asked for (``SitePage.nav``), in the order first named."""
    sections: dict[str, list[dict[str, str]]] = {}
    for page in pages:
        if page.nav is not None:
            section, title = page.nav
            sections.setdefault(section, []).append({title: page.path})
    return [{section: entries} for section, entries in sections.items()]


def build_site(catalog: Catalog, paths: SitePaths, hooks: Hooks, nav: list | None = None,
               site_url: str | None = None) -> BuildReport:
    """Render every page, then run MkDocs from Python. The previous build is replaced whole.

    ``site_url`` (the published address, e.g. under a sub-path) overrides mkdocs.yml's.
    """
    t0 = time.perf_counter()
    # The answers feed the pages (guide, explanations) and the export alike: computed once.
    answers = compute_answers(catalog, hooks)
    catalog.answers = answers
    catalog.schemes = dict(hooks.schemes)  # an API's scheme by name, for its pages
    deferred = Deferred()
    pages = render_pages(catalog, paths, hooks, deferred)
    staging = paths.generated
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(paths.docs, staging)
    for page in pages:
        target = staging / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.text, encoding="utf-8")
    t1 = time.perf_counter()
    _run_mkdocs(paths, staging, nav or default_nav(catalog, plugin_nav(pages)), deferred, site_url)
    t2 = time.perf_counter()
    write_export(catalog, answers, paths.build)
    return BuildReport(pages=len(pages), render_s=t1 - t0, mkdocs_s=t2 - t1)


def default_nav(catalog: Catalog, sections: list | None = None) -> list:
    apis = [{c.definition.api.title: f"apis/{name}/index.md"} for name, c in sorted(catalog.apis.items())]
    return [
        {"Home": "index.md"},
        {"APIs": apis},
        *(sections or []),
        {"Methodology": "methodology.md"},
        {"Security": "security.md"},
        {"Probe your own Jira site": "probe-your-own-jira.md"},
        {"Changes": "changes.md"},
        {"Contributing": "contributing.md"},
        {"Writing plugins": "plugins.md"},
        {"Performance": "performance.md"},
    ]


def _run_mkdocs(paths: SitePaths, docs_dir: Path, nav: list, deferred: Deferred | None = None,
                site_url: str | None = None) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    # MkDocs logs every page left out of the nav at INFO; that is by design here.
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    staging_build = paths.root / ".build-staging"
    if staging_build.exists():
        shutil.rmtree(staging_build)
    overrides: dict[str, Any] = {"docs_dir": str(docs_dir), "site_dir": str(staging_build), "nav": nav}
    if site_url is not None:
        overrides["site_url"] = site_url
    cfg = load_config(config_file=str(paths.config), **overrides)
    if deferred is not None:
        cfg.plugins["authcat-deferred"] = PutBack(deferred)
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    finally:
        cfg.plugins.on_shutdown()
    # Swap the finished build in, so a failed build leaves the previous site as it was.
    old = paths.root / ".build-old"
    if old.exists():
        shutil.rmtree(old)
    if paths.build.exists():
        paths.build.rename(old)
    staging_build.rename(paths.build)
    if old.exists():
        shutil.rmtree(old)

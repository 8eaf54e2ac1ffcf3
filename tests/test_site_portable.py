"""The built site is self-contained and portable: every page loads with no console error and no
request off its origin, no link is broken, it browses and searches from ``file://``, and a
``--site-url`` under a sub-path gives a right sitemap and 404 page.

The run's one build of the committed observations (the ``committed_site`` fixture); the sub-path
build is made in a copy of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html.parser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from tests.support.browser import async_chromium, chromium_path, copy_project, serve_dir, watch_origin
from tests.support.project import run_cli

SUB_PATH_URL = "https://example.org/docs/authcat/"


@pytest.fixture(scope="module")
def build(committed_site) -> Path:
    return committed_site / "site" / "build"


def pages(build: Path) -> list[Path]:
    return sorted(p for p in build.rglob("*.html"))


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for name in ("href", "src"):
            if a.get(name) and not (tag == "a" and name == "src"):
                self.links.append(a[name])


def _parse(path: Path, cache: dict) -> _Links:
    if path not in cache:
        p = _Links()
        p.feed(path.read_text(encoding="utf-8"))
        cache[path] = p
    return cache[path]


def test_no_link_or_resource_is_broken(build):
    cache: dict = {}
    broken = []
    checked = 0
    for page in pages(build):
        for link in _parse(page, cache).links:
            url = urlparse(link)
            if url.scheme or link.startswith("//"):
                continue  # a link to another site (vendor docs): a link, not a request
            if not url.path:
                target = page
            else:
                # Only the 404 page links from the root (it is served at any depth).
                base = build if url.path.startswith("/") else page.parent
                target = (base / unquote(url.path.lstrip("/"))).resolve()
                if target.is_dir():
                    broken.append(f"{page.relative_to(build)}: {link} is a folder (a directory listing from file://)")
                    continue
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(build)}: {link}")
            elif url.fragment and target.suffix == ".html" and url.fragment not in _parse(target, cache).ids:
                broken.append(f"{page.relative_to(build)}: {link} (no such anchor)")
    assert checked > 500
    assert broken == []


def test_no_page_has_a_console_error_or_a_request_off_its_origin(build):
    pytest.importorskip("playwright.sync_api")
    if chromium_path() is None:
        pytest.skip("chromium is not installed (scripts/ensure-system-deps)")
    off_origin: set[str] = set()
    errors: list[str] = []
    paths = [p.relative_to(build).as_posix() for p in pages(build) if p.name != "404.html"]
    with serve_dir(build) as base, concurrent.futures.ThreadPoolExecutor(1) as thread:
        # Its own thread: while the module's browser (conftest.py) is open, Playwright's sync API
        # runs an event loop in this one, and asyncio.run refuses to start beside a running loop.
        crawled = thread.submit(asyncio.run, _crawl(base, paths, errors, off_origin)).result()
    assert sorted(crawled) == sorted(paths) and len(paths) == len(pages(build)) - 1 > 100
    assert errors == []
    assert off_origin == set()


TABS = 4  # pages load at once: a page's load waits on its server and scripts as much as on the CPU


async def _crawl(base: str, paths: list[str], errors: list[str], off_origin: set[str]) -> list[str]:
    """Load every page in ``paths`` once, ``TABS`` tabs at a time in one browser context, recording
    console errors, uncaught exceptions and responses of 400 and above in ``errors`` (with the page
    they happened on) and every request off the origin in ``off_origin``. Returns the pages loaded."""
    queue = list(paths)
    crawled: list[str] = []
    async with async_chromium() as browser:
        context = await browser.new_context()  # type: ignore[attr-defined]
        watch_origin(context, base, off_origin)

        async def new_page():
            page = await context.new_page()
            page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: uncaught {exc}"))
            page.on("response", lambda r: errors.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
            return page

        async def tab() -> None:
            page = await new_page()
            while queue:
                path = queue.pop(0)
                await page.goto(f"{base}/{path}", wait_until="load")
                crawled.append(path)
            await page.close()

        await asyncio.gather(*(tab() for _ in range(TABS)))
        # The search index and its worker load after the first keystroke: exercise them once.
        page = await new_page()
        await page.goto(f"{base}/index.html", wait_until="networkidle")
        await context.close()
    return crawled


@pytest.fixture
def browser_or_skip(request):
    """The module's browser (conftest.py), or a skip where Playwright or Chromium is missing."""
    pytest.importorskip("playwright.sync_api")
    if chromium_path() is None:
        pytest.skip("chromium is not installed (scripts/ensure-system-deps)")
    return request.getfixturevalue("browser")


def test_the_site_browses_and_searches_from_the_file_system(build, browser_or_skip):
    off_origin: list[str] = []
    errors: list[str] = []

    def block(route):
        off_origin.append(route.request.url)
        route.abort()

    context = browser_or_skip.new_context()
    try:
        context.route(lambda url: not url.startswith("file://"), block)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((build / "index.html").as_uri(), wait_until="load")
        # The first nav click (the old bug: a directory listing) lands on the API page.
        page.get_by_role("navigation", name="Navigation").get_by_role("link", name="Jira Cloud").first.click()
        page.wait_for_load_state("load")
        assert page.url.startswith("file://") and page.url.endswith("/apis/jira-cloud/index.html")
        assert "Jira Cloud" in page.locator("h1").inner_text()
        # Search works without a server (the index is inlined in a script, the worker shimmed).
        page.wait_for_load_state("networkidle")
        page.keyboard.press("/")
        page.locator("input.md-search__input").press_sequentially("myself", delay=30)
        first = page.locator("a.md-search-result__link").first
        first.wait_for(timeout=15_000)
        assert "myself" in first.get_attribute("href")
    finally:
        context.close()
    assert off_origin == []
    assert errors == []


def test_a_sub_path_site_url_gives_a_right_sitemap_and_404_page(tmp_path):
    root = copy_project(tmp_path / "project")
    done = run_cli(root, "build", "--site-url", SUB_PATH_URL, timeout=300)
    assert done.returncode == 0, done.stderr
    build = root / "site" / "build"
    sitemap = (build / "sitemap.xml").read_text()
    locs = [line.strip()[5:-6] for line in sitemap.splitlines() if line.strip().startswith("<loc>")]
    assert f"{SUB_PATH_URL}apis/jira-cloud/index.html" in locs
    assert locs and all(loc.startswith(SUB_PATH_URL) for loc in locs)
    for loc in locs:  # every listed page exists at that place in the build
        assert (build / loc[len(SUB_PATH_URL):]).is_file(), loc
    parser = _Links()
    parser.feed((build / "404.html").read_text())
    local = [u for u in parser.links if not urlparse(u).scheme]
    assert local and all(u.startswith("/docs/authcat/") for u in local), local
    for u in local:  # the 404 page's styles, scripts and nav resolve from any depth
        assert (build / unquote(urljoin(u, "")[len("/docs/authcat/"):].split("#")[0])).exists(), u

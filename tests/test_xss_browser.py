"""Contributed text is inert on the site, checked in a real browser: a summary, notes, group name,
path, API description and observed header values carrying ``<script>`` and ``onerror=`` payloads
are shown as text and never run (headless Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.runs.store import Store
from catalog.site.build import slug
from tests.support.browser import chromium_path, serve_dir
from tests.support.project import make_project, run_cli

HOSTILE = Path(__file__).parent / "hostile" / "html-in-text.yaml"  # the corpus's text case
SCRIPT = "<script>window.__pwned = 1; document.title = 'pwned'</script>"
PATH_PAYLOAD = "/x/<img/src=x/onerror=window.__pwned=7>"
HEADER_PAYLOAD = '<img src=x onerror="window.__pwned=8">'

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-system-deps)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("xss")
    group = yaml.safe_load(HOSTILE.read_text())
    group["endpoints"].append({"id": "xss-path", "method": "GET", "path": PATH_PAYLOAD, "summary": "path payload"})
    make_project(root, "xss", group["endpoints"], {"name": "local", "base_url": "http://127.0.0.1:9"},
                 api_extra={"description": f"API {SCRIPT} <img src=x onerror=\"window.__pwned=9\">"})
    (root / "endpoints" / "xss" / "things.yaml").write_text(yaml.safe_dump(group, sort_keys=False))
    # An observation whose echoed header values and note carry payloads too (a server controls them).
    cells = {s: Cell(s, "rejected", f"note {HEADER_PAYLOAD}",
                     Observation(status=401, headers={"www-authenticate": f"Bearer realm=\"{HEADER_PAYLOAD}\""}))
             for s in ("valid", "anonymous")}
    results = {eid: EndpointResult(eid, "GET", path, "inconclusive", f"reason {HEADER_PAYLOAD}", "x", dict(cells))
               for eid, path in (("xss", "/xss"), ("xss-path", PATH_PAYLOAD))}
    states = {"valid": {"available": True}, "anonymous": {"available": True}}
    run = {"date": "2025-01-01T00:00:00Z", "authcat_version": "0.1.0", "target_version": None}
    Store(root / "site" / "data").write(TargetRun("xss", "local", run, states, results))
    built = run_cli(root, "build")
    assert built.returncode == 0, built.stderr
    build = root / "site" / "build"
    with serve_dir(build) as url:
        yield url, build


def group_page(build: Path) -> str:
    name = slug(yaml.safe_load(HOSTILE.read_text())["group"])
    assert (build / "apis" / "xss" / f"{name}.html").exists()
    return f"apis/xss/{name}.html"


def check_inert(page, url: str) -> str:
    dialogs: list[str] = []
    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)  # give an onerror handler (a broken image) time to fire
    assert page.evaluate("window.__pwned") is None, f"a payload ran on {url}"
    assert "pwned" not in page.title() and dialogs == []
    assert page.evaluate("document.querySelectorAll('[onerror], iframe, a[href^=\"javascript:\"]').length") == 0
    assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('__pwned')).length") == 0
    return page.inner_text("body")


def test_group_page_shows_payloads_as_text(site, browser):
    base, build = site
    page = browser.new_page()
    text = check_inert(page, f"{base}/{group_page(build)}")
    assert SCRIPT in text, "the summary is visible as text"
    assert 'Notes <img src=x onerror="window.__pwned = 3">' in text
    assert page.inner_text("article h1").rstrip("¶") == "Things <b>bold</b>"  # shown once-escaped, as text
    assert PATH_PAYLOAD in text
    assert HEADER_PAYLOAD in text
    page.close()


def test_api_page_and_its_filter_stay_inert(site, browser):
    base, _build = site
    page = browser.new_page()
    text = check_inert(page, f"{base}/apis/xss/index.html")
    assert SCRIPT in text
    search = page.locator("input[data-filter=search]")
    if search.count():  # the matrix filter re-renders rows from data: still inert
        search.first.fill("<img")
        page.wait_for_timeout(200)
        assert page.evaluate("window.__pwned") is None
    page.close()

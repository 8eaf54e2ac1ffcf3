"""Inert everywhere (site/docs/security.md, rule 4), in headless Chromium: a payload in every
contributed text field — the API's title included, which MkDocs puts in nav labels and page
titles as HTML — and in every server-derived value of an observation. Every page of the built
site is visited, and the search box is used with the payload: no script runs anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.runs.store import Store
from tests.support.browser import chromium_path, serve_dir
from tests.support.project import make_project, run_cli

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-system-deps)")


def payload(n: int) -> str:
    """Breaks out of a <title>, an attribute and a <script> string; each sets its own marker."""
    return (f"P{n}</title></script>\"'><script>window.__pwned={n}</script>"
            f"<img src=x onerror=\"window.__pwned={n}\"><svg onload=\"window.__pwned={n}\">")


def hostile_project(root: Path) -> Path:
    api_extra = {
        "title": "API " + payload(1),
        "description": "Described " + payload(2),
        "reported": [{"claim": "Claimed " + payload(3), "source": "https://example.test/" + payload(4)}],
    }
    endpoints = [{
        "id": "xss", "method": "GET", "path": "/ok", "summary": "Summary " + payload(5),
        "notes": "Notes " + payload(6) + " [link](javascript:window.__pwned=7)",
        "docs": "https://example.test/\"onmouseover=\"window.__pwned=8",
        "documented": {"anonymous_sentence": True, "source": "Doc " + payload(9)},
        "reported": [{"claim": "Endpoint claim " + payload(10), "source": "Forum " + payload(11), "state": "revoked"}],
        "collection": "/values",
    }]
    make_project(root, "xss", endpoints, {"name": "local", "base_url_env": "XSS_URL",
                                          "description": "Target " + payload(12)}, api_extra)
    group = root / "endpoints" / "xss" / "things.yaml"
    doc = yaml.safe_load(group.read_text())
    doc["group"] = "Group " + payload(13)
    group.write_text(yaml.safe_dump(doc, sort_keys=False))
    # What a hostile server controls, as a run would store it (the site must escape it anyway).
    obs = Observation(status=401, content_type="text/html" + payload(14), shape="{" + payload(15) + ":str}",
                      headers={"www-authenticate": "Bearer " + payload(16), payload(17).lower(): "(present)"},
                      location_origin="https://" + payload(18), error=None)
    cells = {s: Cell(s, "rejected", "note " + payload(19), obs) for s in ("valid", "anonymous", "revoked")}
    result = EndpointResult("xss", "GET", "/ok", "inconclusive", "reason " + payload(20), "x", cells)
    states: dict[str, dict] = {"valid": {"available": True}, "anonymous": {"available": True}, "revoked": {"available": True},
              "expired": {"available": False, "reason": "n/a " + payload(21)}}
    meta = {"date": "2025-01-01T00:00:00Z", "authcat_version": "0.1.0", "target_version": "v" + payload(22)}
    Store(root / "site" / "data").write(TargetRun("xss", "local", meta, states, {"xss": result}))
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = hostile_project(tmp_path_factory.mktemp("xss-everywhere"))
    built = run_cli(root, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    build = root / "site" / "build"
    with serve_dir(build) as url:
        yield url, build


def check_inert(page, url: str) -> None:
    dialogs: list[str] = []
    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(150)  # an onerror/onload handler fires after load
    assert page.evaluate("window.__pwned") is None, f"payload {page.evaluate('window.__pwned')} ran on {url}"
    assert dialogs == []
    injected = page.evaluate("""() => document.querySelectorAll(
        '[onerror], [onload], [onmouseover], svg[onload], iframe, a[href^="javascript:"]').length""")
    assert injected == 0, f"an injected element is in the DOM of {url}"


def test_every_page_is_inert(site, browser):
    base, build = site
    pages = sorted(p.relative_to(build).as_posix() for p in build.rglob("*.html"))
    assert len(pages) >= 8 and any(p.startswith("apis/xss/") for p in pages)
    page = browser.new_page()
    for rel in pages:
        check_inert(page, f"{base}/{rel}")
    # The payloads are shown, as text: the title in the nav and the page title, once-escaped.
    page.goto(f"{base}/apis/xss/index.html", wait_until="load")
    assert "API P1</title>" in page.title()
    assert "API P1</title>" in page.inner_text("nav")
    assert "Described P2</title>" in page.inner_text("body")
    page.close()


def test_search_and_its_results_are_inert(site, browser):
    base, build = site
    index = (build / "search" / "search_index.json").read_text()
    assert "P1" in index and "<script>window.__pwned" not in index.replace("\\u003c", "<").replace("&lt;", "")
    page = browser.new_page()
    check_inert(page, f"{base}/index.html")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("/")  # Material's search: the results are built from the index
    box = page.locator("input.md-search__input")
    for query in ("P1", "Summary P5", "Group", "script"):
        box.fill("")
        box.press_sequentially(query, delay=20)
        page.locator("a.md-search-result__link").first.wait_for(timeout=15_000)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None, query
        assert page.evaluate("document.querySelectorAll('[onerror], [onload], iframe').length") == 0, query
        # The payload is found and shown as text (the search index holds it as text).
        assert "window.__pwned=" in page.locator(".md-search-result").inner_text(), query
    page.close()


def test_the_export_keeps_text_as_data(site):
    _, build = site
    export = (build / "catalog.json").read_text()
    assert "API P1</title>" in export  # as data: it is JSON, a consumer escapes where it renders

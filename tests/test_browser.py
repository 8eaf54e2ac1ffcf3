"""The published site in a real browser: the Jira matrix loads cleanly, filters, links each cell to
its endpoint's section, shows a legend of the outcomes in the data, and stays usable on a phone.

The site is the run's one build of the committed observations (the ``committed_site`` fixture),
served by a threaded ``http.server`` on 127.0.0.1. The browser never leaves 127.0.0.1: every
other request is aborted and recorded, and the test says which hosts may be asked at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from catalog.definitions.loader import load_all
from catalog.site.build import slug
from tests.support.browser import Tab, chromium_path, serve_dir

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-system-deps)")

API, TARGET = "jira-cloud", "backlot"
MATRIX = f"/apis/{API}/index.html"
# No request leaves the site's origin: no repository widget, system fonts, vendored scripts.
THIRD_PARTY_ALLOWED: set[str] = set()
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


# ---- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built_copy(committed_site) -> Path:
    return committed_site


@pytest.fixture(scope="module")
def base_url(built_copy):
    with serve_dir(built_copy / "site" / "build") as url:
        yield url


@pytest.fixture(scope="module")
def observed(built_copy) -> dict:
    """What the matrix must show, read from the observation JSON (endpoints still defined only)."""
    data = json.loads((built_copy / "site/data/observations" / API / f"{TARGET}.json").read_text())
    defined = {e.id: e for e in load_all(built_copy / "endpoints")[API].endpoints}
    endpoints = {k: v for k, v in data["endpoints"].items() if k in defined}
    outcomes = {c["outcome"] for e in endpoints.values() for c in (e.get("states") or {}).values()}
    return {"endpoints": endpoints, "outcomes": outcomes, "defined": defined}


class Visit:
    """A page plus everything that went wrong while it loaded."""

    def __init__(self, tab: Tab, page, viewport: dict):
        self.base = tab.base
        self.page = page
        self.third_party: set[str] = set()
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.off_origin = tab.off_origin  # emptied when the test took the tab
        self.listening = [("console", self._console),
                          ("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}")),
                          ("requestfailed", self._request_failed), ("response", self._response)]
        for event, listener in self.listening:
            page.on(event, listener)
        page.set_viewport_size(viewport)

    def stop(self) -> None:
        for event, listener in self.listening:
            self.page.remove_listener(event, listener)

    def _is_local(self, url: str) -> bool:
        return url.startswith(self.base)

    def _console(self, msg):
        # A blocked third-party request logs "Failed to load resource" located at its own URL.
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and (self._is_local(url) or not url):
            self.console_errors.append(msg.text)

    def _request_failed(self, request):
        if self._is_local(request.url):
            self.failed.append(f"{request.url}: {request.failure}")

    def _response(self, response):
        if self._is_local(response.url) and response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def goto(self, path: str, settle: bool):
        # Only the clean-load checks wait for the network to go quiet (the search index loads
        # after the page); the others start once the page's scripts have run.
        self.page.goto(self.base + path, wait_until="networkidle" if settle else "load")
        return self.page

    def assert_clean(self):
        assert self.console_errors == []
        assert self.failed == []
        self.third_party = {urlparse(url).hostname or url for url in self.off_origin}
        assert self.third_party <= THIRD_PARTY_ALLOWED, self.third_party - THIRD_PARTY_ALLOWED


@pytest.fixture(scope="module")
def shared_tab(browser, base_url):
    """The module's one page (tests/support/browser.py: a page per test cost ~1 CPU s more)."""
    tab = Tab(browser, base_url, DESKTOP)
    yield tab
    tab.close()


@pytest.fixture
def visit(shared_tab):
    """Opens one page of the site for the test (at a viewport; ``settle``: until the network is
    quiet), in the module's tab, which starts on about:blank with the site's storage empty."""
    made: list[Visit] = []

    def open_(path: str, viewport: dict = DESKTOP, settle: bool = False) -> Visit:
        assert not made, "one visit per test: the module's tests share one page"
        v = Visit(shared_tab, page, viewport)
        made.append(v)
        v.goto(path, settle)
        if path == MATRIX:
            v.page.wait_for_selector("[data-authcat-matrix][data-ready]", state="attached", timeout=10_000)
        return v

    with shared_tab.use() as page:
        yield open_
        for v in made:
            v.stop()


def matrix(page):
    """The target's matrix block on the API page."""
    return page.locator("[data-authcat-matrix]").filter(has=page.locator(".provenance strong", has_text=TARGET)).first


def visible_rows(page) -> int:
    return matrix(page).locator("tbody tr:not([hidden])").count()


# ---- tests --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [MATRIX, "/", f"/apis/{API}/issues.html", "/methodology.html", "/changes.html"])
def test_pages_load_without_console_errors_or_failed_requests(visit, path):
    v = visit(path, settle=True)
    assert v.page.locator("h1").count() == 1
    v.assert_clean()


UNOBSERVED = ("not-served", "not-probed")


def test_matrix_shows_observed_endpoints_and_folds_the_rest(visit, observed):
    page = visit(MATRIX).page
    n = len(observed["endpoints"])
    seen = sum(1 for e in observed["endpoints"].values() if e["verdict"] not in UNOBSERVED)
    assert 0 < seen < n
    assert visible_rows(page) == seen
    assert matrix(page).locator("[data-count]").inner_text().startswith(f"{seen} of {n} rows shown")
    total = len(observed["defined"])
    assert f"{seen} of {total} endpoints observed" in matrix(page).locator(".authcat-counts").inner_text()
    matrix(page).locator("input[data-filter=unobserved]").check()
    assert visible_rows(page) == n
    assert "unobserved=1" in page.url  # the filter is kept in the URL


def test_search_finds_an_endpoint_by_its_path(visit, observed):
    page = visit(MATRIX).page
    live = {k: e for k, e in observed["endpoints"].items() if e["verdict"] not in UNOBSERVED}
    paths = [e["path"] for e in live.values()]
    path = next(p for p in paths if paths.count(p) == 1)
    box = matrix(page).locator("input[data-filter=q]")
    box.fill(path)
    rows = matrix(page).locator("tbody tr:not([hidden])")
    expected = sum(1 for p in paths if path.lower() in p.lower())  # a path is a prefix of longer ones
    assert rows.count() == expected >= 1
    assert rows.first.locator("th.endpoint code").inner_text() == path
    box.fill("no endpoint has this path")
    assert visible_rows(page) == 0
    box.fill("")
    assert visible_rows(page) == len(live)


def test_verdict_filter_hides_and_shows_rows(visit, observed):
    page = visit(MATRIX).page
    select = matrix(page).locator("select[data-filter=verdict]")
    counts: dict[str, int] = {}
    for e in observed["endpoints"].values():
        counts[e["verdict"]] = counts.get(e["verdict"], 0) + 1
    offered = [o for o in select.locator("option").evaluate_all("os => os.map(o => o.value)") if o]
    assert set(offered) == set(counts)  # only verdicts that occur are offered
    for verdict, n in counts.items():
        select.select_option(verdict)
        assert visible_rows(page) == n, verdict
        shown = matrix(page).locator("tbody tr:not([hidden])").evaluate_all("rs => rs.map(r => r.dataset.verdict)")
        assert set(shown) == {verdict}
    select.select_option("")
    assert visible_rows(page) == sum(1 for e in observed["endpoints"].values() if e["verdict"] not in UNOBSERVED)


def test_legend_lists_only_the_outcomes_in_the_data(visit, observed):
    page = visit(MATRIX).page
    inline = matrix(page).locator(".authcat-legend-inline li").evaluate_all("ls => ls.map(l => l.dataset.outcome)")
    table = page.locator("table.authcat-legend tbody .legend-swatch").all_inner_texts()
    assert set(inline) == observed["outcomes"]
    assert set(table) == observed["outcomes"]
    assert len(inline) == len(set(inline))
    # Every outcome shown in a cell has its colour: the class matches the legend's swatch.
    cell_outcomes = set(matrix(page).locator("td.cell[data-outcome]").evaluate_all("cs => cs.map(c => c.dataset.outcome)"))
    assert cell_outcomes == observed["outcomes"]
    colours = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.authcat-legend-inline .legend-swatch')]
        .map(s => [s.textContent, getComputedStyle(s).backgroundColor]))""")
    assert len(set(colours.values())) == len(colours)  # one colour per outcome


def test_a_cell_leads_to_its_endpoints_section(visit, observed):
    page = visit(MATRIX).page
    endpoint_id, _data = next((k, e) for k, e in observed["endpoints"].items() if e["verdict"] == "falls-open")
    endpoint = observed["defined"][endpoint_id]
    row = page.locator(f"tr#row-{slug(endpoint_id)}")
    state = row.locator("td.cell").nth(2).get_attribute("id").rsplit("--", 1)[1]
    row.locator("td.cell").nth(2).click()
    page.wait_for_url(f"**/apis/{API}/{slug(endpoint.group)}.html#{slug(endpoint_id)}--{TARGET}--{state}")
    section = page.locator(f"section:has(h2#{slug(endpoint_id)})")
    assert section.count() == 1
    assert f"{endpoint.method} {endpoint.path}" in section.locator("h2").inner_text()
    assert section.locator(f"tr#{slug(endpoint_id)}--{TARGET}--{state}").is_visible()  # the cell's full answer
    # The "report a problem" link is prefilled with this endpoint.
    link = section.get_by_role("link", name="Report a problem with this data")
    query = parse_qs(urlparse(link.get_attribute("href")).query)
    assert endpoint.path in query["title"][0] and endpoint.method in query["title"][0]
    assert f"{API}/{endpoint_id}" in query["body"][0]


def test_every_endpoint_section_has_a_prefilled_report_link(visit):
    page = visit(f"/apis/{API}/issues.html").page
    found = page.locator("section.authcat-endpoint").evaluate_all("""ss => ss.map(s => {
        const a = [...s.querySelectorAll('a')].find(a => a.textContent.trim() === 'Report a problem with this data');
        return [s.dataset.endpoint, s.querySelector('h2 code').textContent.trim(), a ? a.href : null];
    })""")
    assert found
    for section_id, heading, href in found:
        assert href, f"section {section_id} has no report link"
        query = parse_qs(urlparse(href).query)
        assert query["title"][0].endswith(heading), (heading, query["title"])  # "... GET /rest/api/..."
        assert "/" in query["body"][0] and "File: endpoints/" in query["body"][0]


# Short windows: the box's height comes from the viewport (max-height in vh), so a dozen rows
# overflow it whatever fonts and line heights the browser picks. At 900 px they overflowed by
# less than one row (759 px in a 700 px box), and a Chromium with other fonts fitted them all.
SHORT_WINDOWS = {"desktop": {"width": 1280, "height": 360}, "phone": {"width": 390, "height": 420}}


@pytest.mark.parametrize("window", SHORT_WINDOWS.values(), ids=SHORT_WINDOWS.keys())
def test_matrix_header_sticks_while_rows_scroll(visit, window):
    page = visit(MATRIX, window).page
    box = matrix(page).locator(".matrix-scroll")
    header = box.locator("thead th.endpoint").first
    last_row = box.locator("tbody tr:not([hidden]) th.endpoint").last
    sizes = box.evaluate("b => [b.scrollHeight, b.clientHeight]")
    assert sizes[0] > sizes[1], f"the rows must overflow the box for this test to mean anything: {sizes}"
    # Bring the whole box into the window, just under the site's own sticky bar.
    box.evaluate("""b => { const bar = document.querySelector('.md-header');
        window.scrollBy(0, b.getBoundingClientRect().top - (bar ? bar.getBoundingClientRect().bottom : 0)); }""")
    box_top = box.bounding_box()["y"]
    assert 0 <= box_top < window["height"] / 4, box_top
    row_before = last_row.bounding_box()["y"]
    scrolled = box.evaluate("b => (b.scrollTop = b.scrollHeight, b.scrollTop)")
    assert scrolled > 0  # the rows scroll inside the box...
    assert abs(row_before - last_row.bounding_box()["y"] - scrolled) < 1
    # ...and the header stays at the top of the box, on top of the rows that pass under it.
    head = header.bounding_box()
    assert abs(head["y"] - box_top) < 2, (head, box_top)
    on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('thead th') !== null",
                           [head["x"] + head["width"] / 2, head["y"] + head["height"] / 2])
    assert on_top, "a row covers the header"


PAGES = [MATRIX, "/", f"/apis/{API}/issues.html", "/apis/datasette/index.html", "/methodology.html", "/changes.html"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_fit_a_phone(visit, path):
    page = visit(path, PHONE).page
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]")
    assert max(overflow[:2]) <= overflow[2], overflow


def shown_states(page) -> list[str]:
    return matrix(page).locator("thead th.state").evaluate_all(
        "ths => ths.filter(th => getComputedStyle(th).display !== 'none').map(th => th.dataset.state)")


def test_matrix_is_usable_on_a_phone(visit):
    v = visit(MATRIX, PHONE, settle=True)
    page = v.page
    box = matrix(page).locator(".matrix-scroll")
    # One state's column at a time, a bad credential first (not only the legitimate callers' columns
    # that fit on the left), and a picker for any other.
    picker = matrix(page).locator("select[data-view=state]")
    assert picker.is_visible()
    assert shown_states(page) == ["malformed"]
    cells = matrix(page).locator("tbody tr:not([hidden]) td.cell").evaluate_all(
        "tds => tds.filter(td => getComputedStyle(td).display !== 'none').map(td => td.dataset.state)")
    assert cells and set(cells) == {"malformed"}
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth"), "one column fits the phone's width"
    picker.select_option("anonymous")
    assert shown_states(page) == ["anonymous"]
    # Every state at once is still there: the matrix then scrolls sideways inside its box.
    picker.select_option("")
    assert len(shown_states(page)) > 5
    widths = box.evaluate("b => [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX]")
    assert widths[0] > widths[1] and widths[2] == "auto", widths  # the matrix scrolls inside its box
    for control in ("input[data-filter=q]", "select[data-filter=verdict]"):
        el = matrix(page).locator(control)
        el.scroll_into_view_if_needed()
        assert el.is_visible()
        b = el.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], (control, b)
    # The filters work at this width too.
    matrix(page).locator("select[data-filter=verdict]").select_option("falls-open")
    assert 0 < visible_rows(page) < matrix(page).locator("tbody tr").count()
    v.assert_clean()

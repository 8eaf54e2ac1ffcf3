"""The integrator's three questions, answered in a real browser from the home page in at most two
clicks, with each answer's evidence label; search by path fragment or operation id lands on the
endpoint; axe-core finds no accessibility violation on any page type.

axe-core is vendored in tests/vendor/axe-core (its version pinned below, its license beside it): no
npm, no network at test time. The site is the run's one build of the committed observations (the
``committed_site`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import Tab, chromium_path, serve_dir, watch_origin

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-system-deps)")

QUESTIONS = {
    "bad credentials": "bad-credentials",
    "token check": "token-check",
    "fallback signals": "fallback-signal",
}


@pytest.fixture(scope="module")
def base_url(committed_site):
    with serve_dir(committed_site / "site" / "build") as url:
        yield url


@pytest.fixture(scope="module")
def shared_tab(browser, base_url):
    """The module's one page (tests/support/browser.py: a page per test cost ~1 CPU s more)."""
    tab = Tab(browser, base_url, {"width": 1440, "height": 900})
    yield tab
    tab.close()


@pytest.fixture
def tab(shared_tab):
    """A page at 1440 px, on no page yet, with the site's storage empty; no request may leave the
    origin."""
    with shared_tab.use() as page:
        yield page
    assert shared_tab.off_origin == set()


@pytest.fixture
def page(tab, base_url):
    """:func:`tab` on the home page, where a reader starts."""
    tab.goto(base_url + "/index.html", wait_until="load")
    return tab


def ask(page, api_title: str, question: str):
    """From the home page: one click on the question's link for this API. Returns the answer."""
    page.get_by_role("link", name=f"{question} on {api_title}").click()
    page.wait_for_load_state("load")
    answer = page.locator(f"section#{QUESTIONS[question]}")
    answer.wait_for()
    assert answer.is_visible()
    return answer


def lines(section, kind: str) -> list[str]:
    return section.locator(f"li.answer-line[data-evidence={kind}]").all_inner_texts()


def test_jira_what_each_bad_credential_gets(page):
    answer = ask(page, "Jira Cloud platform REST API", "bad credentials")
    revoked = answer.locator("tr#bad-credentials-revoked")
    # Only reported on Jira Cloud: the emulator cannot revoke, and the answer says so, labelled.
    observed = lines(revoked, "observed")
    assert any("not available on backlot" in t and "backlot (an emulator) 0.1.0" in t for t in observed), observed
    reported = lines(revoked, "reported")
    assert any("200 as-anonymous on GET /rest/api/3/project" in t and "R5, community.atlassian.com" in t
               and "2019-12" in t for t in reported), reported
    unknown = lines(answer.locator("tr#bad-credentials-unknown-token"), "reported")
    assert any("401 rejected on GET /rest/api/3/myself" in t and "R11" in t for t in unknown), unknown
    # A reported line links to its source.
    link = revoked.locator("li.answer-line[data-evidence=reported] a.evidence-label").first
    assert link.get_attribute("href").startswith("https://community.atlassian.com/")


def test_jira_which_endpoint_checks_a_token(page):
    answer = ask(page, "Jira Cloud platform REST API", "token check")
    reported = lines(answer, "reported")
    # The emulator does not serve /myself, the check readers want: the reported one comes first,
    # labelled, and says which bad states no report speaks of (malformed among them).
    first = answer.locator("li.answer-line").first
    assert first.get_attribute("data-evidence") == "reported"
    assert any("GET /rest/api/3/myself (names the caller; not served by backlot" in t
               and "unknown-token → 401 rejected" in t and "not reported: malformed" in t and "R11, github.com" in t
               for t in reported), reported
    observed = lines(answer, "observed")
    # Observed on the emulator: the comment endpoint refuses every bad credential with 404 — flagged:
    # a valid credential without rights gets 404 too — and says what malformed gets there.
    assert any(t.startswith("observed backlot (an emulator)") and "/rest/api/2/issue/{issueIdOrKey}/comment" in t
               and "malformed" in t and "→ 404" in t and "flagged: a valid credential without rights gets 404 too" in t
               for t in observed), observed
    assert lines(answer, "documented"), "the spec's 401 documentation is shown, labelled documented"
    # The targets are explained next to the answers.
    assert "an emulator" in page.locator(".authcat-targets").first.inner_text()


def test_jira_which_header_gives_a_fallback_away(page):
    answer = ask(page, "Jira Cloud platform REST API", "fallback signals")
    observed = lines(answer, "observed")
    assert any("x-seraph-loginreason: AUTHENTICATED_FAILED" in t and "right on" in t for t in observed), observed
    reported = lines(answer, "reported")
    assert any("x-seraph-loginreason: AUTHENTICATED_FAILED" in t and "R8" in t for t in reported), reported


def test_datasette_three_answers(page, base_url):
    answer = ask(page, "Datasette JSON API", "bad credentials")
    forged = lines(answer.locator("tr#bad-credentials-forged"), "observed")
    assert any("401 rejected on" in t and "local (a real server run locally) 1.0a41" in t for t in forged), forged
    revoked = answer.locator("tr#bad-credentials-revoked")
    assert "nothing answers this yet" in revoked.inner_text()  # says what would answer it
    page.goto(base_url + "/index.html", wait_until="load")
    check = ask(page, "Datasette JSON API", "token check")
    assert any(t.startswith("observed local (a real server run locally)") and "GET /" in t for t in lines(check, "observed"))
    page.goto(base_url + "/index.html", wait_until="load")
    signal = ask(page, "Datasette JSON API", "fallback signals")
    assert any('www-authenticate: Bearer error="invalid_token"' in t for t in lines(signal, "observed"))


def test_the_matrix_filters_by_state_and_outcome_from_the_answer(page):
    answer = ask(page, "Jira Cloud platform REST API", "bad credentials")
    row = answer.locator("tr#bad-credentials-unknown-token")
    row.get_by_role("link", name="see the matrix").first.click()  # the second click
    page.wait_for_selector("[data-authcat-matrix][data-ready]", state="attached")
    assert "state=unknown-token" in page.url
    assert page.locator("select[data-filter=state]").first.input_value() == "unknown-token"
    page.locator("select[data-filter=outcome]").first.select_option("empty")
    assert "outcome=empty" in page.url
    shown = page.locator("[data-authcat-matrix] tbody tr:not([hidden])")
    assert shown.count() >= 1
    for cells in shown.evaluate_all("rs => rs.map(r => r.dataset.cells)"):
        assert "unknown-token=empty" in cells


@pytest.fixture(scope="module")
def search_page(browser, base_url):
    """The home page with search open, shared by the search cases: the index loads and the search
    worker builds it once, not once per query. No request may leave the origin."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    off_origin: set[str] = set()
    watch_origin(context, base_url, off_origin)
    page = context.new_page()
    page.goto(base_url + "/index.html", wait_until="load")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("/")
    yield page
    context.close()
    assert off_origin == set()


@pytest.mark.parametrize("query, expected", [
    ("project/search", "projects.html#searchprojects"),
    ("myself", "myself.html#getcurrentuser"),
    ("serverInfo", "server-info.html#getserverinfo"),
    ("getCurrentUser", "myself.html#getcurrentuser"),
])
def test_search_finds_an_endpoint_by_a_path_fragment_or_operation_id(search_page, query, expected):
    page = search_page
    box = page.locator("input.md-search__input")
    results = page.locator("a.md-search-result__link")
    # The theme searches on each key released. With the index already loaded, typing the query
    # key by key would show a prefix's results for a moment: the box gets the whole query, then one
    # key (End) sends it; the previous case's query is cleared the same way first.
    box.fill("")
    box.press("End")
    results.first.wait_for(state="detached", timeout=15_000)
    box.fill(query)
    box.press("End")
    results.first.wait_for(timeout=15_000)
    # Material adds ?h=<query> (highlighting) before the anchor: compare page and anchor.
    found = results.evaluate_all("as => as.map(a => { const u = new URL(a.href); return u.pathname + u.hash; })")
    # The first hit lands on the endpoint's own section, not on the top of its group page.
    assert found[0].endswith("/" + expected), found[:8]


def test_the_search_index_loads_on_first_use_only(browser, base_url):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    asked: list[str] = []
    context.on("request", lambda r: asked.append(r.url))
    page = context.new_page()
    try:
        for path in ("/index.html", "/apis/jira-cloud/index.html", "/apis/jira-cloud/projects.html"):
            page.goto(base_url + path, wait_until="load")
            page.wait_for_load_state("networkidle")
        assert not [u for u in asked if "search_index" in u], "the index was loaded before anyone searched"
        page.keyboard.press("/")
        page.locator("input.md-search__input").press_sequentially("myself", delay=20)
        page.locator("a.md-search-result__link").first.wait_for(timeout=15_000)
        assert [u for u in asked if u.endswith("/search/search_index.json")]
    finally:
        context.close()


AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
# 4.14 made label-content-name-mismatch (WCAG 2.5.3 Label in Name) a default rule; older axe missed it.
AXE_VERSION = "4.14.1"
PAGE_TYPES = ["/index.html", "/apis/jira-cloud/index.html", "/apis/datasette/index.html", "/apis/matrix/index.html",
              "/apis/jira-cloud/guide.html", "/apis/jira-cloud/projects.html", "/methodology.html", "/changes.html",
              "/contributing.html", "/reference.html", "/revocation.html", "/apis/matrix/revocation.html", "/404.html"]


def test_the_vendored_axe_core_is_the_pinned_version(tab):
    tab.add_script_tag(path=str(AXE))
    assert tab.evaluate("axe.version") == AXE_VERSION
    assert (AXE.parent / "LICENSE").read_text().startswith("Mozilla Public License")


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_axe_core_finds_no_violation(tab, base_url, path):
    """axe-core's default rules (every WCAG A/AA rule and best practices) at desktop and phone widths.

    One load per page: axe runs at 1440 px, then the window narrows to 390 px in place (the site's
    layout is CSS media queries, and its script re-checks on resize) and axe runs again. axe itself
    is most of the time (its colour-contrast rule on a matrix of thousands of cells), not the load.
    """
    tab.goto(base_url + path, wait_until="load")
    tab.wait_for_load_state("networkidle")
    tab.add_script_tag(path=str(AXE))
    found = {}
    for width in (1440, 390):
        tab.set_viewport_size({"width": width, "height": 900})
        # Two frames, then every CSS transition the resize started has ended (the theme slides
        # its navigation into the phone's drawer; axe mid-slide measures colours half-faded).
        tab.evaluate("""async () => {
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            await Promise.all(document.getAnimations().map(a => a.finished));
        }""")
        assert tab.evaluate("innerWidth") == width
        result = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        found[width] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in result["violations"]]
    assert found == {1440: [], 390: []}


@pytest.mark.parametrize("path, api", [("/apis/jira-cloud/index.html", "Jira Cloud"), ("/apis/datasette/index.html", "Datasette"),
                                       ("/apis/jira-cloud/guide.html", "Jira Cloud"), ("/apis/jira-cloud/projects.html", "Jira Cloud")])
def test_page_titles_name_the_api(tab, base_url, path, api):
    tab.goto(base_url + path, wait_until="load")
    assert api in tab.title()


def test_the_matrix_fits_1440_px_and_has_a_skip_link_permalinks_and_reachable_notes(tab, base_url):
    tab.goto(base_url + "/apis/jira-cloud/index.html", wait_until="load")
    tab.wait_for_selector("[data-authcat-matrix][data-ready]", state="attached")
    box = tab.locator(".matrix-scroll").first
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth"), box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    # Every state's column at this width: the one-state picker is for phones.
    assert not tab.locator("select[data-view=state]").first.is_visible()
    assert tab.locator("[data-authcat-matrix] thead th.state").first.evaluate(
        "th => [...th.parentElement.querySelectorAll('th.state')].every(h => getComputedStyle(h).display !== 'none')")
    # The skip link jumps past the matrix: keyboard users need not tab through every cell.
    skip = tab.get_by_role("link", name="Skip the matrix").first
    target = skip.get_attribute("href")
    skip.focus()
    tab.keyboard.press("Enter")
    assert tab.url.endswith(target)
    assert tab.locator(target).count() == 1
    # A visible permalink per row.
    permalink = tab.locator("[data-authcat-matrix] tbody tr:not([hidden]) a.permalink").first
    assert permalink.is_visible() and permalink.get_attribute("href").startswith("#row-")
    # A state the target cannot make: its header links to the reason, reachable by keyboard and tap.
    header = tab.locator("th.state.unavailable a").first
    note_id = header.get_attribute("href")
    header.focus()
    tab.keyboard.press("Enter")
    note = tab.locator(note_id)
    assert note.is_visible() and "n/a on backlot" in note.inner_text()


def test_anonymous_counts_are_per_method_and_writes_are_not_shown_as_anonymous(tab, base_url):
    tab.goto(base_url + "/apis/jira-cloud/index.html", wait_until="load")
    counts = tab.locator(".authcat-counts").first.inner_text()
    assert "documented as accessible anonymously:" in counts and " GET, " in counts and "other methods" in counts
    assert __import__("re").search(r"\b\d+ of \d+ endpoints observed", counts), counts
    tab.goto(base_url + "/apis/jira-cloud/projects.html#createproject", wait_until="load")
    section = tab.locator("section:has(h2#createproject)")
    documented = section.locator(".evidence-documented p").first
    assert "accessible anonymously" not in documented.locator("strong").all_inner_texts()


def test_the_home_grid_links_every_api_and_bad_state_to_its_sentence(page):
    grid = page.locator("table.authcat-grid")
    assert grid.locator("tbody tr").count() == 5  # every bundled API
    headers = grid.locator("thead th.state").all_inner_texts()
    assert {"malformed", "unknown-token", "revoked"} <= set(headers)
    # One colour per answer, and a legend of the answers the grid uses.
    used = set(grid.locator("td.grid-cell").evaluate_all("cs => cs.map(c => c.dataset.outcome)"))
    legend = set(page.locator(".authcat-grid-block .legend-swatch").all_inner_texts())
    assert used <= legend, (used, legend)
    row = grid.locator("tbody tr", has=page.get_by_role("link", name="Jira Cloud platform REST API"))
    revoked = row.locator("td.grid-cell").nth(headers.index("revoked"))
    assert "as-valid" in revoked.inner_text() and "reported" in revoked.inner_text()
    revoked.locator("a").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("#in-short-revoked")
    sentence = page.locator("li#in-short-revoked")
    assert sentence.is_visible()
    text = sentence.inner_text()
    assert "(reported R1, R4)" in text and "not observable on backlot (an emulator)" in text and "watch " in text
    # A note number leads to its note, which links to the report.
    first_note = sentence.locator("sup a").first
    note = page.locator(first_note.get_attribute("href"))
    assert note.is_visible() and note.locator(".badge").inner_text() in {"observed", "reported", "documented"}


def test_contradictions_lead_the_disagreements_and_documentation_noise_is_folded(tab, base_url):
    tab.goto(base_url + "/apis/jira-cloud/index.html", wait_until="load")
    block = tab.locator(".authcat-disagreements")
    assert block.locator("h3").first.inner_text().startswith("Observed vs reported, and report vs report")
    rows = block.locator(".authcat-contradictions tbody tr").all_inner_texts()
    assert any("report vs report" in r and "401 rejected" in r and "200 empty" in r for r in rows), rows
    noise = block.locator("details.authcat-marker-noise")
    assert noise.count() == 1 and noise.get_attribute("open") is None
    assert not noise.locator("table").is_visible()
    assert "disagrees with itself on" in noise.locator("summary").inner_text()


@pytest.mark.parametrize("path, selector", [("/index.html", "table.authcat-summary td:first-child a, table.authcat-summary th a"),
                                            ("/revocation.html", "table.authcat-revocation td:first-child a")])
def test_api_names_in_tables_break_between_words_only(tab, base_url, path, selector):
    tab.goto(base_url + path, wait_until="load")
    links = tab.locator(selector)
    assert links.count() >= 3
    # An inline link gets one box per line: never more lines than words.
    lines_and_words = links.evaluate_all(
        "as => as.map(a => [a.getClientRects().length, a.textContent.trim().split(/[\\s-]+/).length, a.textContent])")
    assert all(n <= words for n, words, _ in lines_and_words), lines_and_words


def test_the_home_page_dates_the_observations_beside_the_build(page):
    dates = page.locator(".authcat-dates").inner_text()
    assert dates.startswith("Generated ") and "from observations made " in dates
    assert __import__("re").search(r"observations made (on|between) \d{4}-\d\d-\d\d", dates), dates

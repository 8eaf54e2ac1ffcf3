"""The guide's recipe is real code: taken from the generated page, run against a real Backlot, it
tells a valid credential from the wrong-identity presentation (both answered 200) correctly."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from catalog.hooks.manager import Hooks
from catalog.model.credentials import Presentation
from catalog.pipeline import load_publication
from catalog.site.build import render_pages
from catalog.targets.launchers import LaunchContext
from tests.support.project import REPO
from tests.support.recipe import load_recipe

RECIPE = re.compile(r'<code class="language-python authcat-recipe" data-target="backlot">(.*?)</code>', re.S)
PATH = "/atlassian/rest/api/3/project/search"


def recipe_from_page(project, api: str) -> str:
    hooks = Hooks()
    pages = {page.path: page.text for page in render_pages(load_publication(project, hooks), project.site, hooks)}
    found = RECIPE.search(pages[f"apis/{api}/guide.md"])
    assert found, "the guide page shows the recipe"
    return html.unescape(found.group(1))


@pytest.fixture(scope="module")
def backlot(tmp_path_factory):
    hooks = Hooks()
    ctx = LaunchContext(name="backlot", cache_dir=REPO / ".cache" / "authcat" / "backlot",
                        scratch_dir=tmp_path_factory.mktemp("backlot-scratch"))
    with hooks.launchers["backlot"](ctx) as launched:
        yield hooks, launched


def presented(hooks, launched, state: str) -> dict[str, str]:
    presentation = hooks.states[state].present(hooks.schemes["basic"], launched.credentials)
    assert isinstance(presentation, Presentation), f"{state} is available on Backlot"
    return dict(presentation.headers)


@pytest.mark.backlot
def test_jira_recipe_tells_valid_from_wrong_identity_on_backlot(project, backlot):
    code = recipe_from_page(project, "jira-cloud")
    credential_state = load_recipe(code)
    hooks, launched = backlot
    with httpx.Client(base_url=launched.base_url, timeout=20) as client:
        answers = {s: client.get(PATH, headers=presented(hooks, launched, s))
                   for s in ("valid", "wrong-identity", "unprivileged", "anonymous")}
    # The status code cannot tell them apart: every one of these is a 200.
    assert {s: r.status_code for s, r in answers.items()} == dict.fromkeys(answers, 200)
    assert credential_state(answers["valid"]) == "accepted"
    assert credential_state(answers["wrong-identity"]) == "rejected"
    # The integrator's question: a user who simply has no projects is not a dead token.
    assert credential_state(answers["unprivileged"]) == "accepted"
    assert answers["unprivileged"].json()["values"] == answers["wrong-identity"].json()["values"] == []


@pytest.mark.backlot
def test_confluence_recipe_uses_status_codes_on_backlot(project, backlot):
    credential_state = load_recipe(recipe_from_page(project, "confluence-cloud"))
    hooks, launched = backlot
    with httpx.Client(base_url=launched.base_url, timeout=20) as client:
        valid = client.get("/atlassian/wiki/rest/api/space", headers=presented(hooks, launched, "valid"))
        wrong = client.get("/atlassian/wiki/rest/api/space", headers=presented(hooks, launched, "wrong-identity"))
    assert credential_state(valid) == "accepted"
    # 403 there is never an accepted credential's answer: the status rule was checked on every answer.
    assert wrong.status_code == 403 and credential_state(wrong) == "rejected"


CURL = re.compile(r'<code class="language-shell authcat-curl" data-target="backlot">(.*?)</code>', re.S)
SCRIPT = re.compile(r'<code class="language-python authcat-recipe" data-target="backlot">(.*?)</code>', re.S)


def _page(project, api: str) -> str:
    hooks = Hooks()
    pages = render_pages(load_publication(project, hooks), project.site, hooks)
    return next(p.text for p in pages if p.path == f"apis/{api}/guide.md")


@pytest.mark.backlot
def test_jira_recipe_runs_as_pasted_and_its_curl_matches(project, backlot, tmp_path):
    """The whole script, pasted into a file: placeholders read from the environment, Basic auth
    as the scheme says. Run against real Backlot it says "accepted" for the valid credential and
    "rejected" for the same token under another user's email (both answered 200)."""
    import os
    import subprocess
    import sys

    page = _page(project, "jira-cloud")
    script = tmp_path / "recipe.py"
    script.write_text(html.unescape(SCRIPT.search(page).group(1)))
    _hooks, launched = backlot
    valid = launched.credentials.get("valid")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("API_")}
    # As pasted, with the placeholders untouched: no NameError, a clear message and exit 2.
    pasted = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=clean)
    assert pasted.returncode == 2 and "set API_BASE_URL" in pasted.stderr and "Error" not in pasted.stderr
    base = launched.base_url + "/atlassian"

    def run(user: str) -> str:
        env = {**clean, "API_BASE_URL": base, "API_TOKEN": valid.secret, "API_USER": user}
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert run(valid.identity).rstrip().endswith("200 accepted")
    assert run("nobody-else@example.com").rstrip().endswith("200 rejected")
    # The curl equivalent sends the same request: Basic auth of the same user and token.
    curl = html.unescape(CURL.search(page).group(1))
    assert '-u "$API_USER:$API_TOKEN"' in curl
    env = {**clean, "API_BASE_URL": base, "API_TOKEN": valid.secret, "API_USER": valid.identity}
    shown = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=60, env=env)
    assert shown.returncode == 0 and " 200" in shown.stdout.splitlines()[0]
    assert "x-aaccountid" in shown.stdout.lower()  # the acceptance header the recipe looks for

"""The scrubber on its own: every credential part, in every encoding a server could echo it in,
is found and the value holding it redacted whole; ``seal`` catches what the prober did not see."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.secrets.scrub import REDACTED, Scrubber, seal
from tests.canary import Canary

CANARY = Canary.new()
SCRUB = Scrubber([CANARY.secret, CANARY.header], [CANARY.identity])


def spellings(part: str) -> dict[str, str]:
    return {
        "raw": part, "url": quote(part, safe=""), "url-plus": quote_plus(part), "url-lower": quote(part, safe="").lower(),
        "url-twice": quote(quote(part, safe=""), safe=""), "plus-as-space": part.replace("+", " "),
        "json-u": "".join(f"\\u{ord(c):04x}" for c in part), "json-slash": part.replace("/", "\\/"),
        "html": "".join(f"&#{ord(c)};" for c in part), "upper": part.upper(), "lower": part.lower(),
        "base64": base64.b64encode(part.encode()).decode(), "base64url": base64.urlsafe_b64encode(part.encode()).decode(),
        "mixed": quote(part[:6], safe="") + part[6:12].upper() + "".join(f"\\u{ord(c):04x}" for c in part[12:]),
    }


@pytest.mark.parametrize("part", ["secret", "identity", "pair", "header"])
@pytest.mark.parametrize("form", list(spellings("x")))
def test_every_part_in_every_form_is_redacted_whole(part, form):
    value = {"secret": CANARY.secret, "identity": CANARY.identity, "header": CANARY.header,
             "pair": f"{CANARY.identity}:{CANARY.secret}"}[part]
    text = f'realm="{"r" * 190}{spellings(value)[form]}" and more'
    assert SCRUB(text) == REDACTED, (part, form)


def test_ordinary_text_is_kept_and_partial_prefixes_are_not_hidden():
    for text in ("application/json; charset=utf-8", 'Basic realm="Jira"', "AUTHENTICATED_FAILED", "<redacted>"):
        assert SCRUB(text) == text
    assert SCRUB("Authorization: Basic abcdef") == REDACTED  # an echoed Authorization, whatever it holds


def test_a_kept_body_keeps_its_shape():
    body = json.dumps({"ok": "fine", CANARY.secret: 1, "who": CANARY.identity.upper(), "list": [quote(CANARY.secret)]})
    kept = json.loads(SCRUB.body(body))
    assert kept == {"ok": "fine", REDACTED: 1, "who": REDACTED, "list": [REDACTED]}
    text = f"line one\nsecret {quote_plus(CANARY.secret)} here\nline three"
    assert SCRUB.body(text) == f"line one\nsecret {REDACTED} here\nline three"


def _run(header_value: str, note: str = "") -> TargetRun:
    obs = Observation(status=401, headers={"www-authenticate": header_value}, content_type="application/json")
    cells = {"valid": Cell("valid", "rejected", note, obs)}
    return TargetRun("a", "t", {"target_version": "1"}, {"valid": {"available": True}},
                     {"e": EndpointResult("e", "GET", "/e", "fails-closed", "", "k", cells)})


def test_seal_redacts_what_reaches_it_and_bounds_after_scrubbing():
    echoed = _run("x" * 300 + CANARY.secret, note=f"saw {CANARY.identity}")
    sealed = seal(echoed, SCRUB).to_dict()
    cell = sealed["endpoints"]["e"]["states"]["valid"]
    assert cell["headers"]["www-authenticate"] == REDACTED and cell["note"] == REDACTED
    long_clean = seal(_run("y" * 300), SCRUB).to_dict()["endpoints"]["e"]["states"]["valid"]
    assert long_clean["headers"]["www-authenticate"] == "y" * 300  # nothing to redact: left as it was
    assert CANARY.find(json.dumps(sealed)) == []


def test_seal_memo_reuses_only_the_same_result():
    memo: dict = {}
    clean = _run("fine")
    first = seal(clean, SCRUB, memo)
    assert seal(clean, SCRUB, memo).endpoints["e"] is first.endpoints["e"]
    changed = _run(quote(CANARY.secret, safe=""))  # a new result object under the same id
    assert seal(changed, SCRUB, memo).to_dict()["endpoints"]["e"]["states"]["valid"]["headers"]["www-authenticate"] == REDACTED


@pytest.mark.parametrize("location, stored", [
    ("http://Ca~na:Sk~x%2B@127.0.0.1:8080/landing?token=Sk~x", "http://127.0.0.1:8080"),
    ("//evil.test:81/x?t=1", "https://evil.test:81"),
    ("/relative/path?t=1", "https://me.test:443"),
    ("data:text/html,<script>x</script>", "data:"),
    ("JavaScript:alert(1)", "javascript:"),
    ("http://h.test:99999/", "(invalid location)"),
])
def test_a_redirect_target_is_stored_as_its_origin_only(location, stored):
    from catalog.model.observation import location_origin

    assert location_origin(location, "https://me.test:443") == stored

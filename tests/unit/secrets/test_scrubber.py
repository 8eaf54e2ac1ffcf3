"""The scrubber on its own: every credential part, in every encoding a server could echo it in,
is found and the value holding it redacted whole; ``seal`` catches what the prober did not see."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from catalog.model.observation import Observation
from catalog.runs.results import Cell, EndpointResult, TargetRun
from catalog.secrets.scrub import REDACTED, Scrubber, seal, seal_value
from tests import encodings
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


# --- Generic redaction: every spelling in tests/encodings.py, of every part ----------------------

GENERIC_PARTS = {"secret": CANARY.secret, "identity": CANARY.identity, "pair": f"{CANARY.identity}:{CANARY.secret}"}


@pytest.mark.parametrize("part", list(GENERIC_PARTS))
@pytest.mark.parametrize("form", list(encodings.forms("x" * 20)))
def test_every_part_in_every_generic_form_is_redacted(part, form):
    spelled = encodings.forms(GENERIC_PARTS[part], CANARY.identity)[form]
    assert CANARY.secret not in spelled and CANARY.identity not in spelled, "not an encoded form"
    for text in (spelled, f'realm="{"r" * 190}{spelled}" more', json.dumps({"v": spelled})):
        assert SCRUB(text) == REDACTED, (part, form, text)
    assert seal_value({"a": {"b": [spelled]}}, SCRUB) == {"a": {"b": [REDACTED]}}, (part, form)


def test_a_jwt_whose_payload_carries_the_identity_only_is_redacted():
    token = encodings.jwt({"sub": CANARY.identity, "iat": 1700000000})
    assert SCRUB(f"Bearer {token}") == REDACTED
    assert SCRUB(encodings.jwt({"sub": "someone-else@example.test", "iat": 1})) != REDACTED


def test_opaque_runs_that_hold_nothing_are_kept():
    import hashlib
    import uuid
    kept = [hashlib.sha256(b"x").hexdigest(), str(uuid.uuid4()), base64.b64encode(b"an ordinary payload, no secret").decode(),
            encodings.jwt({"sub": "fixture-user", "scope": "read"}), "max-age=0, private", "a+b=c; d=e",
            "W/\"5e3f-1a2b3c4d5e6f7a8b9c0d\"", "text/html; charset=ISO-8859-1", "\\path\\to\\thing", "x%2Fy%20z"]
    for text in kept:
        assert SCRUB(text) == text, text


def test_decodings_that_do_not_settle_are_redacted_not_trusted():
    from catalog.secrets.scrub import MAX_VIEWS, views

    # Each layer is undone by a different decoder: far more combinations than the bound.
    layered = "%25" * 3 + "\\\\2B " * 3 + "&amp;" * 3 + "=3D" * 3 + "+AC4-" * 3 + "\\u005c" * 3
    assert views(layered) is None or len(views(layered) or ()) <= MAX_VIEWS + 1
    if views(layered) is None:
        assert SCRUB(layered) == REDACTED


def test_a_kept_text_body_loses_only_the_words_that_hold_a_part():
    spelled = encodings.forms(CANARY.secret)["b64-offset1"]
    text = f"line one\ntoken {spelled} here\nline three"
    assert SCRUB.body(text) == f"line one\ntoken {REDACTED} here\nline three"


def test_the_parts_replace_spans_as_one_alternation_of_them_would():
    """Spans are replaced part by part (each part compiled once per process, shared by the
    scrubbers ``plus`` makes): exactly what one alternation of every part, longest first, replaced."""
    import random
    import re

    from catalog.secrets.scrub import _pattern, _replace_parts

    scrub = SCRUB.plus(["Bearer " + CANARY.secret[::-1]])
    parts = scrub._parts
    alternation = re.compile("|".join(_pattern(p) for p in parts), re.IGNORECASE)
    each = [re.compile(_pattern(p), re.IGNORECASE) for p in parts]
    rng = random.Random(8)
    for _ in range(200):
        pieces = []
        for _ in range(rng.randint(1, 12)):
            part, pick = rng.choice(parts), rng.random()
            if pick < 0.3:
                pieces.append(part)
            elif pick < 0.5:  # a part cut short, or overlapping the next piece
                pieces.append(part[:rng.randint(1, len(part))])
            elif pick < 0.65:
                pieces.append("".join(quote(c, safe="") if rng.random() < 0.3 else c for c in part))
            else:
                pieces.append("".join(rng.choice("abc :/+%=&#xX019sStTe-") for _ in range(rng.randint(0, 30))))
        text = "".join(pieces)
        assert _replace_parts(each, text) == alternation.sub(REDACTED, text), text

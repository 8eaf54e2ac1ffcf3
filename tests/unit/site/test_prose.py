"""Contributed prose (an API's description, a state's, a field's) shows its `code spans` as code
and nothing else as markup: the spans are made from the already escaped text."""

from __future__ import annotations

from catalog.site.build import prose


def test_code_spans_become_code():
    assert prose("answers `M_UNKNOWN_TOKEN` when") == "answers <code>M_UNKNOWN_TOKEN</code> when"


def test_markup_stays_text_inside_and_outside_spans():
    out = prose('<img src=x onerror=alert(1)> `<script>alert("x")</script>` & "q"')
    assert "<img" not in out and "<script" not in out
    assert out.startswith("&lt;img src=x onerror=alert(1)&gt; <code>&lt;script&gt;")
    assert "&amp; &quot;q&quot;" in out


def test_an_unclosed_backtick_is_text():
    assert prose("a ` b") == "a ` b"

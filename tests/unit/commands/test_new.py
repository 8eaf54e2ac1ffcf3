"""``authcat new`` appends to a group file by a YAML round trip: anywhere the list is, comments
kept, the file's own indentation followed."""

from __future__ import annotations

import pytest

from catalog.commands.contribute import NewError, append_entry

ENTRY = {"id": "b", "method": "GET", "path": "/b"}


def test_the_list_need_not_be_the_last_key_and_comments_stay():
    text = ("group: G  # shown as the page title\nendpoints:\n  # the first one\n  - id: a\n    method: GET\n"
            "    path: /a\nnotes: kept after the list\n")
    assert append_entry(text, ENTRY) == (
        "group: G  # shown as the page title\nendpoints:\n  # the first one\n  - id: a\n    method: GET\n"
        "    path: /a\n  - id: b\n    method: GET\n    path: /b\nnotes: kept after the list\n")


def test_an_empty_or_flow_list_becomes_a_block_list():
    assert append_entry("group: G\nendpoints:\n", ENTRY) == "group: G\nendpoints:\n  - id: b\n    method: GET\n    path: /b\n"
    assert append_entry("endpoints: []\n", ENTRY) == "endpoints:\n  - id: b\n    method: GET\n    path: /b\n"


@pytest.mark.parametrize("text", ["group: G\n", "endpoints: {a: 1}\n", "- just a list\n"])
def test_a_file_without_an_endpoints_list_is_refused(text):
    with pytest.raises(NewError):
        append_entry(text, ENTRY)

"""JSON pointers (RFC 6901, by the jsonpointer library): what they find, and that every pointer
that finds nothing is a KeyError, the one exception the callers catch."""

from __future__ import annotations

import pytest

from catalog.definitions.apifile import match_envelope
from catalog.model.definition import Envelope, EnvelopeRule, FieldCondition
from catalog.model.observation import resolve_pointer, signal_value, summarise

DOC = {"values": [{"id": 7}, {"id": 8}], "a/b": 1, "m~n": 2, "": 3, "err": {"code": "M_UNKNOWN_TOKEN"}}


def test_a_pointer_finds_what_rfc_6901_says():
    assert resolve_pointer(DOC, "/values/1/id") == 8
    assert resolve_pointer(DOC, "/a~1b") == 1
    assert resolve_pointer(DOC, "/m~0n") == 2
    assert resolve_pointer(DOC, "/err/code") == "M_UNKNOWN_TOKEN"
    assert resolve_pointer(DOC, "") is DOC
    assert resolve_pointer(DOC, "/") is DOC  # the whole document, as definitions have always written it


@pytest.mark.parametrize("pointer", [
    "/values/01",  # a leading zero is no array index (it used to find item 1)
    "/values/²",  # nor is a superscript digit (it used to raise ValueError past the callers)
    "/values/-",  # the item after the last one does not exist
    "/values/2", "/missing", "/err/code/deeper", "/values/0/id/x", "values",
])
def test_a_pointer_that_finds_nothing_is_a_key_error(pointer):
    with pytest.raises(KeyError):
        resolve_pointer(DOC, pointer)


def test_the_error_never_quotes_the_document():
    with pytest.raises(KeyError) as caught:
        resolve_pointer({"secret": "Sk~hunter2"}, "/missing")
    assert "hunter2" not in str(caught.value)


def test_callers_see_a_bad_index_as_absent():
    assert signal_value(DOC, "/values/²") == "absent"
    assert signal_value(DOC, "/values/01") == "absent"
    obs = summarise(status=200, headers=[], body=b'{"values": [1, 2]}', truncated=False,
                    collection="/values/01", actor_fields=("/values/²",))
    assert obs.count is None and obs.fields == {"/values/²": "absent"}
    envelope = Envelope(errors=(EnvelopeRule("gone", (FieldCondition("/values/²", present=False),)),))
    assert match_envelope(DOC, envelope) == ("error", "gone")

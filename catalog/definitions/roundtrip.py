"""Editing a YAML file a person wrote, keeping what they wrote.

ruamel.yaml's round trip keeps comments, key order, quotes and the file's list indentation
(read from its first list item); only what is added is new text. Lines are not re-wrapped: a
scalar a person folded over several lines comes back on one line (ruamel keeps no folds), every
other line of a definition file comes back byte for byte. Callers load the file with the
project's own loader first (size cap, no aliases) and validate the result before it is written.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter

__all__ = ["CommentedMap", "CommentedSeq", "RoundTrip"]

_ITEM = re.compile(r"^( *)- ", re.M)


def _null(representer: RoundTripRepresenter, _data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")  # as written: `null`, not empty


def _list_offset(text: str) -> int:
    """How far the file's first list item sits in from its key (``endpoints:`` then ``  - id: …``
    is 2): measured from the key's own indentation, so a list nested under an indented key counts
    the same as one at the top. A new file's lists get 2."""
    found = _ITEM.search(text)
    if not found:
        return 2
    before = [line for line in text[: found.start()].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    key_indent = len(before[-1]) - len(before[-1].lstrip()) if before else 0
    return max(len(found.group(1)) - key_indent, 0)


class RoundTrip:
    """One YAML document to edit (``doc``) and write back (:meth:`dump`)."""

    def __init__(self, text: str):
        offset = _list_offset(text)
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096  # never re-wrap a person's long line
        self.yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
        self.yaml.representer.add_representer(type(None), _null)
        self.doc: Any = self.yaml.load(text) if text.strip() else CommentedMap()

    def dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.doc, out)
        return out.getvalue()

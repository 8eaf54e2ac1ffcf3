"""authcat: a catalog of how API endpoints treat bad credentials."""

import sys

__version__ = "0.1.0"

# jsonschema imports ``rfc3987_syntax`` whenever it is installed (Jupyter Server's dependencies
# bring it into the same environment), and that module compiles a grammar at import: 1.6 CPU s
# on every start of the CLI, measured. authcat checks no IRI formats, so the import is refused.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

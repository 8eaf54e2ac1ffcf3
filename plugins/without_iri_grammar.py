"""``python -m <module>`` for a launched server, without jsonschema's optional rfc3987-syntax.

jupyter-events (a Jupyter Server dependency) installs rfc3987-syntax, and it is then beside Synapse
as well. Importing it builds two Earley grammars for the "iri" formats, which no schema of Synapse,
Jupyter Server or jupyter-events uses: about 2 CPU s of each server's start (40 % of Synapse's).
jsonschema skips a format whose checker cannot be imported, so the server starts as it would where
it is installed alone.
"""

from __future__ import annotations


def run_module(module: str) -> str:
    """The ``python -c`` code that runs ``module`` as ``python -m module`` does, arguments and all."""
    return ("import runpy, sys; sys.modules['rfc3987_syntax'] = None; "
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")

"""Built-in auth schemes, as declarative presets: ``basic``, ``bearer`` and ``token``.

An API may instead declare its own scheme in ``api.yaml`` (``scheme:`` as a mapping): another
``Authorization`` keyword, or a key in a named header, query parameter or cookie.
"""

from __future__ import annotations

from catalog.api import (
    AuthScheme,
    hookimpl,
)

BASIC = AuthScheme(name="basic", keyword="Basic", template="{identity}:{secret}", encoding="base64")
BEARER = AuthScheme(name="bearer", keyword="Bearer")
TOKEN = AuthScheme(name="token", keyword="token")  # GitHub's classic form, Jupyter Server


@hookimpl(trylast=True)
def authcat_register_schemes(register):
    register(BASIC)
    register(BEARER)
    register(TOKEN)

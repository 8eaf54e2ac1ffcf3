"""Built-in auth schemes: HTTP Basic (``user:secret``) and Bearer tokens."""

from __future__ import annotations

import base64

from catalog.hookspecs import hookimpl
from catalog.model import AuthScheme, Credential


def _basic(cred: Credential) -> str:
    return base64.b64encode(f"{cred.identity or ''}:{cred.secret}".encode()).decode()


def _bearer(cred: Credential) -> str:
    return cred.secret


BASIC = AuthScheme(name="basic", keyword="Basic", encode=_basic)
BEARER = AuthScheme(name="bearer", keyword="Bearer", encode=_bearer)


@hookimpl(trylast=True)
def authcat_register_schemes(register):
    register(BASIC)
    register(BEARER)

"""The default auth-signal finder: compares every observation of one target of an API
(see ``catalog.answers.signals``); called once per target.

Registered ``trylast`` like every built-in, so a plugin that knows better about an API can add
its own signals; the facade concatenates all of them.
"""

from __future__ import annotations

from catalog.api import (
    find_signals,
    hookimpl,
)


@hookimpl(trylast=True)
def authcat_auth_signals(api, endpoints):
    return find_signals(endpoints)

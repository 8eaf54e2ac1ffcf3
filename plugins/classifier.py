"""The default classifier: the outcome rules of ``design.md``, run after any plugin's."""

from __future__ import annotations

from catalog.api import (
    default_judge,
    hookimpl,
)


@hookimpl(trylast=True)
def authcat_classify(state, observation, valid, anonymous, endpoint, api):
    return default_judge(state, observation, valid, anonymous, endpoint, api)

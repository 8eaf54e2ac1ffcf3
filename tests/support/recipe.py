"""Running a generated client recipe (``catalog.answers.recipe.recipe_script``) the way its user would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def load_recipe(code: str) -> Callable[[Any], str]:
    """Exec a generated recipe as a module (its ``main`` does not run) and return its
    ``credential_state`` function."""
    namespace: dict[str, Any] = {"__name__": "authcat_recipe"}
    exec(compile(code, "<authcat recipe>", "exec"), namespace)
    return namespace["credential_state"]

"""Whether a target profile can be probed now: its base URL, the binding and secret-reference
rules it breaks (``authcat lint``), and its readiness with the reason (``authcat targets``)."""

from __future__ import annotations

import os
from pathlib import Path

from catalog.model.definition import TargetProfile
from catalog.model.errors import Problem
from catalog.model.vocabulary import State
from catalog.secrets import binding
from catalog.targets.secret_refs import SecretRefError, profile_credentials, static_ref_problem


def profile_base_url(profile: TargetProfile) -> str | None:
    if profile.base_url_env:
        return os.environ.get(profile.base_url_env) or None
    return profile.base_url


def profile_lint(profile: TargetProfile, base: Path) -> list[Problem]:
    """Every binding or secret-reference rule the profile breaks (``authcat lint`` reports them)."""
    problems = binding.profile_problems(profile, profile.lines)
    for role, part, _ in binding.credential_refs(profile):
        ref = profile.credentials[role][part]
        if "file" in ref and (why := static_ref_problem(ref, base)):
            where = f"credentials.{role}.{part}"
            problems.append(Problem(profile.source.file, profile.lines.get(where, 1), where, why))
    return problems


def profile_problem(profile: TargetProfile, base: Path) -> str | None:
    """The first problem of :func:`profile_lint` as ``file:line: field: message``, or None."""
    problems = profile_lint(profile, base)
    return str(problems[0]) if problems else None


def is_ready(profile: TargetProfile, base: Path) -> tuple[bool, str]:
    """Whether a profile can be probed now, and if not, why (shown by ``authcat targets``)."""
    if problem := profile_problem(profile, base):
        return False, problem
    if profile.launcher:
        return True, f"started locally by the {profile.launcher!r} plugin"
    url = profile_base_url(profile)
    if not url:
        return False, f"set {profile.base_url_env} to the server's URL" if profile.base_url_env else "no base_url"
    if why := binding.runtime_problem(profile, url):
        return False, why
    try:
        creds, missing = profile_credentials(profile, base)
    except SecretRefError as exc:
        return False, str(exc)
    if State.VALID not in creds.roles:
        ref = profile.credentials.get(State.VALID, {}).get("secret", {})
        return False, missing.get(State.VALID) or f"set {ref.get('env') or ref.get('file') or 'a valid credential'}"
    return True, "configured from the environment"

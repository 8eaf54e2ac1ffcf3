"""Credential binding: a credential goes only to an origin the operator named outside the repository.

Trusted: the operator (environment variables, CLI flags). Untrusted: every file a contributor can
change, target profiles included. So a profile may *reference* credentials (env var names, files)
but never choose where they are sent:

* a launched target (``launcher:``) gets its credentials from its launcher only, and its URL too;
* a remote target's URL comes from the variable its ``base_url_env`` names (the operator sets
  its value) or, for a literal ``base_url``, its origin must be in the operator's allow-list
  ``AUTHCAT_ALLOWED_ORIGINS`` (comma- or space-separated ``scheme://host[:port]``);
* when the allow-list is set, every credentialed remote origin must be in it, ``base_url_env``
  values included: the strict mode for CI, where a variable like ``GITHUB_API_URL`` is also set;
  set but empty, it allows nothing (and says so);
* a URL with ``user:pass@`` is refused, and no error ever repeats a URL's text (an operator
  could have put a secret in it).

Profiles that break a rule are lint errors (``file:line: field: message``), shown as not ready by
``authcat targets`` and never probed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from catalog.model.definition import TargetProfile
from catalog.model.errors import Problem

ALLOW_ENV = "AUTHCAT_ALLOWED_ORIGINS"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlError(ValueError):
    """A base URL that cannot be used; the message never contains the URL itself."""


def origin_of(url: str) -> str:
    """``scheme://host:port`` in a canonical form (lower case, explicit port), or raise UrlError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UrlError("is not a valid URL") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise UrlError("must start with http:// or https://")
    if "@" in parts.netloc:
        raise UrlError("contains a user name or password (user:pass@): credentials belong in the "
                       "profile's credential references, never in a URL")
    if not parts.hostname:
        raise UrlError("has no host")
    if parts.query or parts.fragment or any(ord(c) < 33 or ord(c) > 126 for c in url.strip()):
        raise UrlError("must not have a query, a fragment, spaces or control characters")
    return f"{parts.scheme}://{parts.hostname.lower()}:{port or _DEFAULT_PORTS[parts.scheme]}"


def allowed_origins(environ: Mapping[str, str] | None = None) -> frozenset[str] | None:
    """The operator's allow-list, or None when it is not set. Invalid entries are an error.

    Set but empty (``AUTHCAT_ALLOWED_ORIGINS=""``, what CI gives when the secret it is read from
    is missing) is an allow-list of nothing: no credential goes anywhere."""
    value = (os.environ if environ is None else environ).get(ALLOW_ENV)
    if value is None:
        return None
    raw = value.replace(",", " ").split()
    origins = set()
    for i, entry in enumerate(raw, 1):
        try:
            origins.add(origin_of(entry))
        except UrlError as exc:
            raise UrlError(f"{ALLOW_ENV}: entry {i} {exc}") from None
    return frozenset(origins)


def credential_refs(profile: TargetProfile) -> list[tuple[str, str, str]]:
    """Every (role, part, "env NAME" | "file PATH") reference of a profile."""
    return [(role, part, f"{kind} {ref[kind]}")
            for role, refs in profile.credentials.items() for part, ref in refs.items()
            for kind in ("env", "file") if isinstance(ref, Mapping) and kind in ref]


def profile_problems(profile: TargetProfile, line: Mapping[str, int],
                     environ: Mapping[str, str] | None = None) -> list[Problem]:
    """The binding rules a profile breaks, as lint problems. ``line`` maps a field to its line."""
    file = profile.source.file
    problems: list[Problem] = []

    def problem(fieldname: str, message: str) -> None:
        problems.append(Problem(file, line.get(fieldname, 1), fieldname, message))

    refs = credential_refs(profile)
    if profile.launcher:
        if profile.credentials:
            problem("credentials", f"a launched target gets its credentials from its launcher "
                    f"({profile.launcher!r}) only; remove the references")
        for name in ("base_url", "base_url_env"):
            if getattr(profile, name):
                problem(name, f"a launched target's URL comes from its launcher ({profile.launcher!r})")
        return problems
    if profile.base_url is not None:
        try:
            origin = origin_of(profile.base_url)
        except UrlError as exc:
            problem("base_url", str(exc))
        else:
            try:
                allowed = allowed_origins(environ)
            except UrlError as exc:
                problem("base_url", str(exc))
                allowed = frozenset()
            if refs and allowed is not None and not allowed:
                problem("base_url", f"{ALLOW_ENV} is set but empty: it allows no origin, so no "
                        "credential is sent anywhere")
            elif refs and origin not in (allowed or ()):
                problem("base_url", f"a literal base_url would send the credentials of the environment "
                        f"and files to {origin}, an origin no operator named: use base_url_env (its "
                        f"value is set by the operator) or add the origin to {ALLOW_ENV}")
        if profile.base_url_env:
            problem("base_url_env", "give base_url or base_url_env, not both")
    if profile.base_url_env and any(ref == f"env {profile.base_url_env}" for _, _, ref in refs):
        problem("base_url_env", f"{profile.base_url_env} is also a credential reference: a secret "
                "must never become a URL (a DNS lookup would carry it)")
    return problems


def runtime_problem(profile: TargetProfile, url: str, environ: Mapping[str, str] | None = None,
                    credentialed: bool | None = None) -> str | None:
    """Why the credentials of a remote profile may not go to ``url`` now, or None.

    The URL is the operator's (``base_url_env``) or a literal the lint allowed; checked again at
    run time because the environment may differ from the lint's. ``credentialed`` says whether a
    credential will be sent (default: whether the profile references one).
    """
    what = f"the value of {profile.base_url_env}" if profile.base_url_env else "base_url"
    try:
        origin = origin_of(url)
        allowed = allowed_origins(environ)
    except UrlError as exc:
        return f"{what} {exc}" if not str(exc).startswith(ALLOW_ENV) else str(exc)
    if not (credential_refs(profile) if credentialed is None else credentialed):
        return None
    if allowed is not None and not allowed:
        return f"{ALLOW_ENV} is set but empty: it allows no origin, so no credential is sent anywhere"
    if allowed is not None and origin not in allowed:
        return f"{origin} ({what}) is not in {ALLOW_ENV}: no credential is sent there"
    if allowed is None and not profile.base_url_env:
        return f"{origin} is a literal base_url: name it in {ALLOW_ENV} or use base_url_env"
    return None


_LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (127.0.0.0/8, ::1, localhost): a local server."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    return host in _LOOPBACK_HOSTS or (host.startswith("127.") and all(p.isdigit() for p in host.split(".")) and host.count(".") == 3)


def identities_public(profile: TargetProfile, url: str) -> bool:
    """Whether the profile's identities are public fixture users (kept) rather than personal data
    (redacted). A launched target's are public unless the profile says ``identities: personal``;
    a contributed ``identities: public`` counts only on a loopback origin, so no pull request can
    publish the operator's account name on a vendor site."""
    if profile.identities == "personal":
        return False
    if profile.launcher:
        return True
    return profile.identities == "public" and is_loopback(url)


def same_origin(base: str, url: str) -> bool:
    """Whether ``url`` stays on ``base``'s origin (a launched target's prefix cannot move it)."""
    try:
        return origin_of(base) == origin_of(url)
    except UrlError:
        return False

"""Outcomes and verdicts: the one stable vocabulary, and the default rules that apply it.

An outcome describes one answer compared with the ``valid`` (V) and ``anonymous`` (A) baselines;
a verdict summarises one endpoint across its *bad* states. The rules follow ``design.md``: when
several outcomes apply, the first in :data:`OUTCOMES` wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from catalog.model.definition import Api, Endpoint
from catalog.model.observation import Observation, is_2xx, resolve_pointer, same_answer  # noqa: F401  (re-exported for plugins)
from catalog.model.vocabulary import Outcome, State, StateFamily, Verdict, family_of

# name -> (meaning, colour). Order is precedence.
OUTCOMES: dict[str, tuple[str, str]] = {
    Outcome.REJECTED: ("401: the credential was refused (WWW-Authenticate recorded).", "#2e7d32"),
    Outcome.REJECTED_IN_BODY: ("2xx whose body is the API's declared auth-failure envelope.", "#558b2f"),
    Outcome.FORBIDDEN: ("403.", "#7cb342"),
    Outcome.HIDDEN: ("404 while the valid credential gets 2xx.", "#9e9d24"),
    Outcome.EMPTY: ("2xx with an empty collection where the valid credential sees items: the silent 200-empty.", "#c62828"),
    Outcome.AS_ANONYMOUS: ("2xx, the same answer anonymous callers get, different from the valid one.", "#ef6c00"),
    Outcome.IGNORED: (("2xx, the valid answer, which anonymous callers get too: the endpoint serves everybody "
                       "the same, so the credential was never checked (a bad credential is served like everyone)."),
                      "#006064"),
    Outcome.AS_VALID: (("2xx, the valid answer where anonymous callers get another: a bad credential is "
                        "accepted as if it were valid."), "#1565c0"),
    Outcome.PARTIAL: ("2xx that differs from both the valid and the anonymous answer.", "#6a1b9a"),
    Outcome.REDIRECT: ("3xx (only the Location's origin is recorded).", "#5d4037"),
    Outcome.CLIENT_ERROR: ("Another 4xx.", "#795548"),
    Outcome.RATE_LIMITED: ("429 after retries.", "#f9a825"),
    Outcome.SERVER_ERROR: ("5xx.", "#b71c1c"),
    Outcome.ERROR: (("Transport error or timeout, or an answer not kept as unsafe (a decompression bomb, "
                     "JSON nested too deep, a redirect to a non-http URL)."), "#424242"),
    Outcome.INCONCLUSIVE: ("The baseline needed to judge is missing or failed.", "#9e9e9e"),
    Outcome.NOT_AVAILABLE: ("The state is not available on this target.", "#e0e0e0"),
}

# The outcome sets every part of the catalog judges with (one definition each; nothing else spells them).
# Refused: the server read the credential and said no (401, its declared auth-failure body, 403).
REFUSED = frozenset({Outcome.REJECTED, Outcome.REJECTED_IN_BODY, Outcome.FORBIDDEN})
# Hidden: a 404 where the valid credential is served: refused by pretending there is nothing.
HIDDEN = frozenset({Outcome.HIDDEN})
# Closed with an error: another 4xx or a 5xx: no data served, but not a refusal either (a server
# crashing on a malformed header is worth knowing: a verdict's reason names it).
CLOSED_WITH_ERROR = frozenset({Outcome.CLIENT_ERROR, Outcome.SERVER_ERROR})
# What a verdict counts as rejected, and a token check as a refusal: refused or hidden.
REJECTING = REFUSED | HIDDEN
# Verdicts that say nothing about how an endpoint treats a bad credential (it was not served or not probed).
UNJUDGED = frozenset({Verdict.NOT_SERVED, Verdict.NOT_PROBED})
# Served: a 2xx with data, whatever the data was.
SERVED_2XX = frozenset({Outcome.EMPTY, Outcome.AS_ANONYMOUS, Outcome.IGNORED, Outcome.AS_VALID, Outcome.PARTIAL})
# The baselines: their own cells never get ``ignored`` (anonymous equal to valid is what makes an
# endpoint public, and the verdict reads it as ``as-valid``).
BASELINES = frozenset({State.VALID, State.ANONYMOUS})


def outcome_words(outcomes: frozenset[str]) -> str:
    """``a, b or c`` in precedence order: the published definitions name the classifier's own sets."""
    names = [str(o) for o in OUTCOMES if o in outcomes]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


# Written from the sets :func:`verdict` uses, so the methodology page and catalog.json cannot say
# something the classifier does not do.
VERDICTS: dict[str, str] = {
    Verdict.FAILS_CLOSED: (f"Every available bad credential is refused ({outcome_words(REJECTING)}) or served no "
                           f"data ({outcome_words(CLOSED_WITH_ERROR)}: the reason names the odd status, e.g. a 5xx "
                           "to a malformed header)."),
    Verdict.FALLS_OPEN: f"Every available bad credential gets a 2xx ({outcome_words(SERVED_2XX)}): it is served.",
    Verdict.MIXED: (f"Some bad credentials are refused or served no data, others get a 2xx "
                    f"({outcome_words(SERVED_2XX)}): a client cannot rely on the status code."),
    Verdict.PUBLIC: "The valid and the anonymous answers are the same (anonymous is as-valid): no credential is needed.",
    Verdict.INCONCLUSIVE: "The baselines do not allow a judgement (see the cells).",
    Verdict.NOT_SERVED: "The target answers the valid request with 404: it does not serve this endpoint.",
    Verdict.NOT_PROBED: "Catalogued from documentation only (unsafe method, or no value for a path parameter).",
}


@dataclass(frozen=True)
class Judgement:
    """A classifier's answer for one observation: its ``outcome`` (an :class:`Outcome`) and a short
    ``note`` saying why (the ``WWW-Authenticate`` value, the envelope rule, the counts)."""

    outcome: str
    note: str = ""


def default_judge(
    state: str,
    obs: Observation,
    valid: Observation | None,
    anonymous: Observation | None,
    endpoint: Endpoint,
    api: Api,
) -> Judgement:
    """The built-in classifier (registered ``trylast`` by ``authcat_plugins.classifier``)."""
    status = obs.status
    if status is None:
        return Judgement(Outcome.ERROR, obs.error or "no answer")
    if status == 401:
        return Judgement(Outcome.REJECTED, obs.headers.get("www-authenticate", ""))
    v_ok = valid is not None and valid.ok
    if is_2xx(status):
        rule = obs.fields.get("auth-failure")
        if rule not in (None, "no"):
            named = "" if rule == "yes" else f" (rule {rule})"  # "yes": observed before rules had names
            return Judgement(Outcome.REJECTED_IN_BODY, f"the body is the API's auth-failure envelope{named}")
        if other := obs.fields.get("error-envelope"):
            # An error in the same envelope that is not about the credential: no data was served.
            return Judgement(Outcome.CLIENT_ERROR, f"{status} whose body is a non-auth error (rule {other})")
        if valid is None and state != State.ANONYMOUS and same_answer(obs, anonymous):
            # What can be said without a valid baseline: the credential was not read here.
            return Judgement(Outcome.INCONCLUSIVE, "no valid credential on this target; the answer is the anonymous "
                             "one (the credential was not recognised): a valid credential would tell whether "
                             "this is a fallback")
        if not v_ok:
            why = "no valid baseline" if valid is None else f"the valid request got {valid.status}"
            return Judgement(Outcome.INCONCLUSIVE, why)
        assert valid is not None
        if state == State.VALID:
            return Judgement(Outcome.AS_VALID)
        if endpoint.collection is not None and valid.count == 0 and obs.count == 0:
            return Judgement(
                Outcome.INCONCLUSIVE,
                f"the valid caller's {endpoint.collection} is empty too: "
                "a fixture where the valid user sees at least one item would make it judgeable",
            )
        if obs.count == 0 and (valid.count or 0) > 0:
            return Judgement(Outcome.EMPTY, f"{endpoint.collection or 'the body'} is empty where valid sees {valid.count}")
        same_as_valid = same_answer(obs, valid)
        if not same_as_valid and anonymous is not None and anonymous.ok and same_answer(obs, anonymous):
            return Judgement(Outcome.AS_ANONYMOUS)
        if same_as_valid:
            if state not in BASELINES and anonymous is not None and anonymous.ok and same_answer(anonymous, valid):
                return Judgement(Outcome.IGNORED)
            return Judgement(Outcome.AS_VALID)
        return Judgement(Outcome.PARTIAL, _count_note(obs, valid))
    if status == 403:
        return Judgement(Outcome.FORBIDDEN)
    if status == 404 and v_ok:
        return Judgement(Outcome.HIDDEN)
    if 300 <= status < 400:
        return Judgement(Outcome.REDIRECT, obs.location_origin or "")
    if status == 429:
        return Judgement(Outcome.RATE_LIMITED, obs.headers.get("retry-after", ""))
    if 400 <= status < 500:
        return Judgement(Outcome.CLIENT_ERROR, str(status))
    if status >= 500:
        return Judgement(Outcome.SERVER_ERROR, str(status))
    return Judgement(Outcome.INCONCLUSIVE, f"unexpected status {status}")


def _count_note(obs: Observation, valid: Observation) -> str:
    if obs.count is not None and valid.count is not None:
        return f"{obs.count} items where valid sees {valid.count}"
    return ""


def verdict(outcomes: Mapping[str, str], valid: Observation | None,
            families: Mapping[str, StateFamily | str | None] | None = None) -> tuple[str, str]:
    """An endpoint's verdict from its per-state outcomes, with a short reason.

    Only the *bad credential* family is judged (``families`` maps a state to its family; states
    not in it take the built-in family, unknown ones count as bad). Presentations of the valid
    secret and legitimate callers never decide a verdict.
    """
    if valid is None:
        return Verdict.INCONCLUSIVE, ("no valid credential on this target (valid is n/a): a valid baseline would "
                                      "tell whether the bad credentials fall back")
    if valid.status == 404:
        return Verdict.NOT_SERVED, "the valid request got 404"
    if not valid.ok:
        return Verdict.INCONCLUSIVE, f"the valid request got {valid.status or valid.error}"
    if rule := valid.fields.get("error-envelope"):
        return Verdict.INCONCLUSIVE, f"the valid request got a non-auth error in the body (rule {rule})"
    if valid.fields.get("auth-failure") not in (None, "no"):
        return Verdict.INCONCLUSIVE, "the valid credential was refused in the body (the API's auth-failure envelope)"
    fams = families or {}
    if outcomes.get(State.ANONYMOUS) == Outcome.RATE_LIMITED:
        return Verdict.INCONCLUSIVE, "the anonymous baseline was not judged: 429 after backing off"
    # A cell still 429 after backing off is not judged: it says how fast the prober asked.
    unjudged = sorted(s for s, o in outcomes.items()
                      if family_of(s, fams.get(s)) is StateFamily.BAD and o == Outcome.RATE_LIMITED)
    bad = {s: o for s, o in outcomes.items() if family_of(s, fams.get(s)) is StateFamily.BAD
           and o not in (Outcome.NOT_AVAILABLE, Outcome.RATE_LIMITED)}
    if outcomes.get(State.ANONYMOUS) == Outcome.AS_VALID:
        return Verdict.PUBLIC, "anonymous gets the same answer as valid"
    if not bad:
        return Verdict.INCONCLUSIVE, ("no bad credential state is available on this target" if not unjudged
                                      else f"{', '.join(unjudged)} not judged: 429 after backing off")
    found, why = _bad_verdict(bad)
    if unjudged and found != Verdict.INCONCLUSIVE:
        why += f" ({', '.join(unjudged)} not judged: 429 after backing off)"
    return found, why


def _bad_verdict(bad: Mapping[str, str]) -> tuple[str, str]:
    rejected = [s for s, o in bad.items() if o in REJECTING]
    odd = [s for s, o in bad.items() if o in CLOSED_WITH_ERROR]
    served = [s for s, o in bad.items() if o in SERVED_2XX]
    odd_note = "; ".join(f"{s} got {'a 5xx' if o == Outcome.SERVER_ERROR else 'another 4xx'} ({o})"
                         for s, o in bad.items() if o in CLOSED_WITH_ERROR)
    if len(rejected) + len(odd) == len(bad):
        why = "every bad credential is rejected"
        return Verdict.FAILS_CLOSED, f"{why}, though {odd_note}: no data served" if odd else why
    if len(served) == len(bad):
        return Verdict.FALLS_OPEN, "every bad credential gets a 2xx"
    if (rejected or odd) and served:
        closed = ", ".join(rejected + odd)
        return Verdict.MIXED, f"{closed} rejected; {', '.join(served)} served" + (f"; {odd_note}" if odd else "")
    unjudged = [s for s, o in bad.items() if o == Outcome.INCONCLUSIVE]
    if unjudged:
        return Verdict.INCONCLUSIVE, f"{', '.join(unjudged)} could not be judged against the valid baseline"
    return Verdict.INCONCLUSIVE, "some bad credentials got neither a rejection nor a 2xx"

"""From one HTTP answer to the :class:`Observation` the run keeps.

The answer is summarised (``catalog.model.observation.summarise``), scrubbed of the request's own
credentials — even when the run's scrubber does not know them — and matched against the API's
declared error envelope. Everything else an answer gave is scrubbed again where the run leaves
the runner (``catalog.secrets.scrub.seal``); here it is done early so a plugin never classifies
an echo.
"""

from __future__ import annotations

from catalog.definitions.apifile import match_envelope
from catalog.engine.request import ProbeRequest
from catalog.model.definition import Envelope
from catalog.model.observation import Observation, parse_json, summarise
from catalog.secrets.scrub import Scrubber, bound

# Request headers whose values are credentials: never kept in what an answer echoes back.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"})


class Observer:
    """Summarises answers for one run (``scrub`` is the run's scrubber)."""

    def __init__(self, scrub: Scrubber, keep_bodies: bool = False):
        self.scrub = scrub
        self.keep_bodies = keep_bodies
        self._scrubbers: dict[tuple[str, ...], Scrubber] = {}

    def observe(self, req: ProbeRequest, *, status: int, headers: list[tuple[str, str]], body: bytes,
                truncated: bool, latency_ms: int, request_origin: str) -> Observation:
        """The answer's observation; raises ``UnreadableAnswer`` for one the catalog will not summarise."""
        obs = summarise(
            status=status, headers=headers, body=body, truncated=truncated,
            collection=req.collection, actor_fields=req.actor_fields, signal_fields=req.signal_fields,
            volatile=req.volatile, latency_ms=latency_ms, request_origin=request_origin,
        )
        scrub = self.scrubber_for(req)
        obs.headers = {k: bound(v) or "" for k, v in scrub.deep(obs.headers).items()}  # scrubbed, then cut
        obs.content_type = bound(scrub(obs.content_type)) or None
        obs.shape = scrub(obs.shape) or None
        if req.envelope and obs.ok and not truncated:
            # The matched rule's name is kept on the cell: the site says which rule matched.
            kind, rule = _match_envelope(body, req.envelope) or ("", "")
            obs.fields["auth-failure"] = rule if kind == "auth" else "no"
            if kind == "error":
                obs.fields["error-envelope"] = rule
        if self.keep_bodies:
            obs.body = scrub.body(body.decode("utf-8", errors="replace"))
        return obs

    def scrubber_for(self, req: ProbeRequest) -> Scrubber:
        """The run's scrubber plus this request's own credentials, built once per presentation
        (a target has a dozen; building one per probe was a measurable share of B1's CPU)."""
        sent = tuple(v for k, v in req.headers.items() if k.lower() in SENSITIVE_HEADERS)
        scrub = self._scrubbers.get(sent)
        if scrub is None:
            if len(self._scrubbers) >= 256:  # bounded, whatever a caller sends
                self._scrubbers.clear()
            scrub = self._scrubbers[sent] = self.scrub.plus(sent)
        return scrub


def _match_envelope(body: bytes, envelope: Envelope) -> tuple[str, str] | None:
    try:
        doc = parse_json(body)
    except ValueError:
        return None
    return match_envelope(doc, envelope)

"""The per-request observer: metrics and the request log line around one :class:`~ugc_guard.UGCGuard` call.

Built once per guard (:meth:`Observer.build`), and only when a policy asks for metrics, logs or
webhooks; without one, the guard's per-request cost is one attribute check. Refusals are counted
by the code :class:`~ugc_guard.problems.Problem` notes in the scope's :class:`Observed` as it is sent.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from ..ledger import LedgerUnavailable
from .events import start_events
from .logs import REQUEST_LOGGER, enable_request_log, install_json_handler, loggable, printable, request_id, subject_hash
from .metrics import GuardMetrics

__all__ = ["OBSERVED", "Observed", "Observer", "screening_done"]

OBSERVED = "ugc_guard.observed"
"""The scope key of the request's :class:`Observed` (set only while an observer runs)."""
APPENDS = ("record_", "settle_", "erase_", "withdraw_", "mark_")
"""Ledger calls that append entries (their time is ``ugc_guard_ledger_append_seconds``)."""
logger = logging.getLogger(REQUEST_LOGGER)


class Observed:
    """What the stages note about one request for the observer."""

    __slots__ = ("code", "ctx", "instance", "screening")

    def __init__(self, instance: str | None = None) -> None:
        self.instance = instance
        """The problem ``instance`` of a refusal: ``urn:ugc-guard:request:`` and the request id (when logs are on)."""
        self.code: str | None = None
        self.ctx: Any = None
        self.screening: float | None = None


def screening_done(scope: Scope, started: float) -> None:
    """Note the screening time of an upload (the screening stage calls it; nothing without an observer)."""
    observed = scope.get(OBSERVED)
    if observed is not None:
        observed.screening = time.perf_counter() - started


class Observer:
    """Metrics and logs of one guard. ``logs`` maps campaign ids to their ``observe.log`` mode."""

    def __init__(self, guard: Any, metrics: GuardMetrics | None, logs: dict[str, str]) -> None:
        self.guard = guard
        self.metrics = metrics
        self.logs = logs

    @classmethod
    def build(cls, guard: Any, registry: Any = None) -> Observer | None:
        """Return the observer the guard's policies ask for, or None; starts each site's webhook worker."""
        metrics = None
        for site in guard.sites:
            if site.policy.observe.webhooks:
                start_events(site, site.ledger.sync)
        if any(site.policy.observe.metrics for site in guard.sites):
            metrics = GuardMetrics(registry)
            for site in guard.sites:
                if site.policy.observe.metrics:
                    _instrument(site.ledger, metrics, site.campaign)
        logs = {site.campaign: site.policy.observe.log for site in guard.sites if site.policy.observe.log != "off"}
        if "json" in logs.values():
            install_json_handler()
        elif logs:
            enable_request_log()
        return cls(guard, metrics, logs) if metrics is not None or logs else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status: list[int] = []
        rid = request_id(_header(scope, b"x-request-id"), uuid.uuid4) if self.logs else None
        observed = scope[OBSERVED] = Observed(f"urn:ugc-guard:request:{rid}" if rid is not None else None)

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if rid is not None:
                    message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.guard(scope, receive, observed_send)
        finally:
            self._account(scope, observed, status[0] if status else None, time.perf_counter() - started, rid)

    def _account(self, scope: Scope, observed: Observed, status: int | None, seconds: float, rid: str | None) -> None:
        ctx = observed.ctx
        if ctx is not None:
            campaign = ctx.site.campaign
        else:
            site = self.guard.router.select(scope)
            campaign = getattr(site, "campaign", "")
        metrics = self.metrics
        if metrics is not None:
            if observed.code is not None:
                metrics.child("refused", campaign, observed.code).inc()
            if observed.screening is not None:
                metrics.child("screening", campaign).observe(observed.screening)
            submission = scope.get("state", {}).get("ugc")
            if submission is not None and status is not None and 200 <= status < 300 and observed.code is None:
                metrics.child("accepted", campaign, str(submission.type).partition("/")[0]).inc()
        mode = self.logs.get(campaign) or (next(iter(self.logs.values())) if self.logs and not campaign else None)
        if mode is not None and logger.isEnabledFor(logging.INFO):
            fields = {
                "request_id": rid, "method": loggable(scope.get("method")), "path": loggable(scope.get("path")), "status": status,
                "code": observed.code, "campaign": campaign or None,
                "subject_hash": subject_hash(ctx.subject if ctx is not None else None), "duration_ms": round(seconds * 1000, 3),
            }
            logger.info("%s %s %s%s", printable(str(fields["method"])), printable(str(fields["path"])), status,
                        f" {observed.code}" if observed.code else "", extra={"ugc": fields})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def _instrument(ledger: Any, metrics: GuardMetrics, campaign: str) -> None:
    """Time the ledger's appends and note its availability: wraps the async ledger's one worker-thread call."""
    run = ledger._run

    async def timed(function: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await run(function, *args, **kwargs)
        except LedgerUnavailable:
            metrics.child("ledger_available", campaign).set(0)
            raise
        metrics.child("ledger_available", campaign).set(1)
        if getattr(function, "__name__", "").startswith(APPENDS):
            metrics.child("ledger_append", campaign).observe(time.perf_counter() - started)
        return result

    ledger._run = timed

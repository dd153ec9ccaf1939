"""The rate-limit stage: count the request, send the RateLimit headers, refuse with 429 when over."""

from __future__ import annotations

import math

from starlette.types import ASGIApp, Message, Receive

from ..context import RequestContext
from ..problems import Problem
from .headers import retry_after
from .health import ThrottledLog
from .limiter import Limit, Limiter, Outcome, client_key

__all__ = ["RateLimitStage"]


class RateLimitStage:
    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self.report_only = limiter.settings.report_only
        self.fail_open = limiter.settings.fail == "open"
        self._report = ThrottledLog(interval=10.0)

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        limiter = self.limiter
        health = limiter.health
        if not health.available:
            return self._unavailable()
        client = client_key(ctx.client)
        upload = ctx.upload_route is not None
        try:
            flags = limiter.flags
            flagged = ctx.unverified_bot or (flags.maybe_any and await flags.is_flagged(client))
            chosen = limiter.limits_for(upload, flagged)
            if not chosen.limits:
                return None
            declared = _content_length(ctx) if chosen.counts_bytes else 0
            outcomes: list[Outcome] = []
            allowed = True
            for limit in chosen.limits:
                key = self._key(limit, ctx, client)
                cost = declared if limit.bytes else 1
                outcome = limiter.charge_now(limit, key, cost) or await limiter.charge(limit, key, cost)
                allowed = allowed and outcome.allowed
                outcomes.append(outcome)
        except limiter.errors as error:
            health.failed(error, limiter.settings.fail)
            return self._unavailable()
        health.succeeded()
        state = _state_item(outcomes[0]) if len(outcomes) == 1 else ", ".join([_state_item(outcome) for outcome in outcomes])
        ctx.response_headers += ((b"ratelimit-policy", chosen.policy_header), (b"ratelimit", state.encode("latin-1")))
        if not allowed:
            refusal = self._refusal([outcome for outcome in outcomes if not outcome.allowed], client)
            if refusal is not None:
                return refusal
        if chosen.counts_bytes and upload:
            ctx.receive = self._counting_receive(ctx, list(chosen.byte_limits), client, declared)
        return None

    @staticmethod
    def _key(limit: Limit, ctx: RequestContext, client: str) -> str:
        if limit.scope == "client":
            return "c:" + client
        if limit.scope == "subject":
            return "s:" + ctx.subject if ctx.subject else "c:" + client
        return "r:" + (ctx.upload_route.path if ctx.upload_route is not None else ctx.path)

    def _refusal(self, refused: list[Outcome], client: str) -> Problem | None:
        names = ", ".join(outcome.limit.name for outcome in refused)
        if self.report_only:
            self._report.log(
                "ugc_guard: campaign %s: client %s is over the rate limit(s) %s (report_only: not refused)", self.limiter.campaign, client, names
            )
            return None
        wait = max(outcome.reset_in for outcome in refused)
        return Problem(
            "rate-limited", f"over the rate limit {names}; retry in {retry_after(wait)} seconds", headers={"retry-after": retry_after(wait)}
        )

    def _unavailable(self) -> Problem | None:
        if self.fail_open:
            return None
        retry = retry_after(self.limiter.health.retry)
        return Problem("rate-limit-unavailable", "the rate-limit storage is not answering", headers={"retry-after": retry})

    def _counting_receive(self, ctx: RequestContext, limits: list[Limit], client: str, declared: int) -> Receive:
        """Charge body bytes beyond the declared Content-Length as they arrive (chunked or lying clients)."""
        receive = ctx.receive
        received = 0
        charged = declared

        async def counting() -> Message:
            nonlocal received, charged
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > charged:
                    extra, charged = received - charged, received
                    await self._charge_extra(ctx, limits, client, extra)
            return message

        return counting

    async def _charge_extra(self, ctx: RequestContext, limits: list[Limit], client: str, extra: int) -> None:
        limiter = self.limiter
        try:
            outcomes = [await limiter.charge(limit, self._key(limit, ctx, client), extra) for limit in limits]
        except limiter.errors as error:
            limiter.health.failed(error, limiter.settings.fail)
            refusal = self._unavailable()
            if refusal is not None:
                raise refusal from None
            return
        refused = [outcome for outcome in outcomes if not outcome.allowed]
        if refused:
            refusal = self._refusal(refused, client)
            if refusal is not None:
                raise refusal


def _state_item(outcome: Outcome) -> str:
    """:func:`.headers.state_item` with the name part precomputed: ``"name";r=117;t=42``."""
    reset_in = outcome.reset_in
    remaining = outcome.remaining
    return f"{outcome.limit.state_prefix}{remaining if remaining > 0 else 0};t={math.ceil(reset_in) if reset_in > 0 else 0}"


def _content_length(ctx: RequestContext) -> int:
    value = ctx.header(b"content-length")
    if value is None or not value.isdigit() or len(value) > 15:
        return 0
    return int(value)

"""The rate-limit stage: count the request, send the RateLimit headers, refuse with 429 when over."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive

from ..context import RequestContext
from ..problems import Problem
from ..scraping.agents import UNVERIFIED_BOT
from .headers import join, retry_after, state_item
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
        if not limiter.health.available:
            return self._unavailable()
        client = client_key(ctx.client)
        upload = ctx.upload_route is not None
        try:
            flags = limiter.flags
            flagged = UNVERIFIED_BOT in ctx.state or (flags.maybe_any and await flags.is_flagged(client))
            limits = limiter.limits_for(upload, flagged)
            if not limits:
                return None
            counts_bytes = limiter.counts_bytes[limits]
            declared = _content_length(ctx) if counts_bytes else 0
            outcomes = [
                await limiter.charge(limit, self._key(limit, ctx, client), declared if limit.bytes else 1) for limit in limits
            ]
        except limiter.errors as error:
            limiter.health.failed(error, limiter.settings.fail)
            return self._unavailable()
        limiter.health.succeeded()
        ctx.response_headers.append((b"ratelimit-policy", limiter.policy_headers[limits]))
        state = join(state_item(o.limit.name, o.remaining, o.reset_in) for o in outcomes)
        ctx.response_headers.append((b"ratelimit", state.encode("latin-1")))
        if not all(outcome.allowed for outcome in outcomes):
            refusal = self._refusal([outcome for outcome in outcomes if not outcome.allowed], client)
            if refusal is not None:
                return refusal
        if counts_bytes and upload:
            ctx.receive = self._counting_receive(ctx, [limit for limit in limits if limit.bytes], client, declared)
        return None

    def _key(self, limit: Limit, ctx: RequestContext, client: str) -> str:
        if limit.scope == "client":
            return "c:" + client
        if limit.scope == "subject":
            return "s:" + ctx.subject if ctx.subject else "c:" + client
        return "r:" + (ctx.upload_route.path if ctx.upload_route is not None else ctx.path)

    def _refusal(self, refused: list[Outcome], client: str) -> Problem | None:
        names = ", ".join(outcome.limit.name for outcome in refused)
        if self.report_only:
            self._report.log("ugc_guard: campaign %s: client %s is over the rate limit(s) %s (report_only: not refused)",
                             self.limiter.campaign, client, names)
            return None
        wait = max(outcome.reset_in for outcome in refused)
        return Problem("rate-limited", f"over the rate limit {names}; retry in {retry_after(wait)} seconds",
                       headers={"retry-after": retry_after(wait)})

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


def _content_length(ctx: RequestContext) -> int:
    value = ctx.headers.get("content-length")
    if value is None or not value.isdigit() or len(value) > 15:
        return 0
    return int(value)

"""UGCGuard: the one ASGI entry point. It composes the stages and owns no policy logic."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .context import RequestContext
from .pipeline import build_stages
from .policy import Policy, load_policies, load_policy
from .problems import Problem
from .sites import Site, SiteRouter, host_of

__all__ = ["UGCGuard"]

PolicySource = str | os.PathLike[str] | Policy


class UGCGuard:
    """Gate a Starlette or FastAPI app's upload routes behind a campaign policy.

    ``policy`` is one policy file (or a loaded :class:`Policy`); ``policies`` a folder of them, or a
    list, to serve several campaign sites chosen by Host header. ``ledger`` and
    ``rate_limit_storage`` override the policies' URLs. A request for a host no policy serves gets
    421 ``unknown-host``, unless ``unknown_host`` names the campaign id to serve it instead.
    ``development`` allows a missing secret (with a warning). ``notifier`` delivers guardian links
    (an object with ``async send_guardian_link(message)``); default: the policy's ``age.notifier``.

    Raises :class:`~ugc_guard.policy.PolicyError` when a policy cannot be used.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: PolicySource | None = None,
        policies: str | os.PathLike[str] | Sequence[PolicySource] | None = None,
        ledger: str | None = None,
        rate_limit_storage: str | None = None,
        unknown_host: str = "reject",
        development: bool = False,
        notifier: Any = None,
    ) -> None:
        if (policy is None) == (policies is None):
            raise TypeError("UGCGuard needs policy= (one policy file) or policies= (a folder or list), not both")
        loaded = _load([policy] if policy is not None else policies)  # type: ignore[list-item]
        self.app = app
        self.sites = [
            Site.build(item, ledger=ledger, rate_limit_storage=rate_limit_storage, development=development, notifier=notifier)
            for item in loaded
        ]
        for site in self.sites:
            site.stages = build_stages(site)
        fallback = None
        if unknown_host != "reject":
            fallback = next((site for site in self.sites if site.campaign == unknown_host), None)
            if fallback is None:
                raise ValueError(f"unknown_host={unknown_host!r} is neither 'reject' nor the id of a loaded campaign")
        self.router = SiteRouter(self.sites, fallback)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        site = self.router.select(scope)
        if site is None:
            refusal = Problem("unknown-host", f"no campaign policy serves the host {host_of(scope)!r}")
            await refusal(scope, receive, send)
            return
        ctx = RequestContext.from_scope(scope, receive, site)
        try:
            for stage in site.stages:
                answer = await stage(ctx)
                if answer is not None:
                    await answer(ctx.scope, ctx.receive, ctx.wrap_send(send))
                    return
        except Problem as refusal:
            await refusal(ctx.scope, ctx.receive, ctx.wrap_send(send))
            return
        await self._call_app(ctx, send)

    async def _call_app(self, ctx: RequestContext, send: Send) -> None:
        if not ctx.after_response:
            await self.app(ctx.scope, ctx.receive, ctx.wrap_send(send) if ctx.response_headers else send)
            return
        status: list[int] = []
        try:
            await self.app(ctx.scope, ctx.receive, ctx.wrap_send(send, status.append))
        except BaseException:
            for callback in ctx.after_response:
                await callback(None)
            raise
        for callback in ctx.after_response:
            await callback(status[0] if status else None)


def _load(sources: str | os.PathLike[str] | Sequence[PolicySource]) -> list[Policy]:
    if isinstance(sources, str | os.PathLike):
        path = Path(sources)
        return load_policies(path) if path.is_dir() else [load_policy(path)]
    return [source if isinstance(source, Policy) else load_policy(source) for source in sources]

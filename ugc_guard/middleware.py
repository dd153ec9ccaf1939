"""UGCGuard: the one ASGI entry point. It composes the stages and owns no policy logic."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from .context import RequestContext, Stage, app_path
from .observe import OBSERVED, Observer, flush_events
from .pipeline import build_stages
from .policy import Policy, PolicyError, load_policies, load_policy
from .policy.uploads import UploadRoute
from .problems import Problem
from .routing import SAFE_METHODS, PathVerdict, RouteTable
from .sites import Site, SiteRouter
from .startup import NotConfigured, Readiness, run_lifespan

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

    A policy or setting that cannot be used does not raise here (Starlette and FastAPI build their
    middleware inside the server's first ASGI call, where uvicorn would swallow it): the middleware
    answers ``lifespan.startup.failed`` with the one-line error, so the server does not start, or 503
    ``guard-not-configured`` on a server without lifespan (see :mod:`ugc_guard.startup`).
    :meth:`check` raises that error (a :class:`~ugc_guard.policy.PolicyError` for a policy or secret).
    Every site's ledger gets ready at startup: a SQLite file creates or migrates its tables, a
    PostgreSQL ledger must be at the newest schema (``ugc-guard db upgrade``).
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
        self.app = app
        self.not_configured: NotConfigured | None = None
        """Why this middleware cannot serve (a policy or setting that cannot be used), or None."""
        try:
            self._configure(policy, policies, ledger, rate_limit_storage, unknown_host, development, notifier)
        except (PolicyError, ValueError, TypeError) as error:
            self.not_configured = NotConfigured(error)

    def _configure(
        self,
        policy: PolicySource | None,
        policies: str | os.PathLike[str] | Sequence[PolicySource] | None,
        ledger: str | None,
        rate_limit_storage: str | None,
        unknown_host: str,
        development: bool,
        notifier: Any,
    ) -> None:
        if policy is not None and policies is None:
            loaded = _load([policy])
        elif policies is not None and policy is None:
            loaded = _load(policies)
        else:
            raise TypeError("UGCGuard needs policy= (one policy file) or policies= (a folder or list), not both")
        self.sites = [
            Site.build(item, ledger=ledger, rate_limit_storage=rate_limit_storage, development=development, notifier=notifier) for item in loaded
        ]
        self.stages: dict[Site, list[Stage]] = {site: build_stages(site) for site in self.sites}
        """Each site's stages in flow order (see :mod:`ugc_guard.pipeline`), built once."""
        fallback = None
        if unknown_host != "reject":
            fallback = next((site for site in self.sites if site.campaign == unknown_host), None)
            if fallback is None:
                raise ValueError(f"unknown_host={unknown_host!r} is neither 'reject' nor the id of a loaded campaign")
        self.router = SiteRouter(self.sites, fallback)
        self.all_routes = RouteTable([route for site in self.sites for route in site.routes]) if len(self.sites) > 1 else None
        """Every campaign's upload routes: a host that does not own one still never lets it through."""
        self.readiness = Readiness(self.sites)
        self.observer = Observer.build(self)
        """Metrics, request logs and webhooks when a policy's ``observe:`` asks for them, else None."""

    async def _shutdown(self) -> None:
        """At ``lifespan.shutdown``: webhook events still queued in memory go to the ledger's outbox."""
        if any(site.policy.observe.webhooks for site in self.sites):
            await anyio.to_thread.run_sync(flush_events, self.sites)

    def check(self) -> None:
        """Raise the error that keeps this middleware from serving, if there is one."""
        if self.not_configured is not None:
            raise self.not_configured.error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.not_configured is not None:
            await self.not_configured(scope, receive, send)
            return
        if self.observer is not None and scope["type"] == "http" and OBSERVED not in scope:
            await self.observer(scope, receive, send)  # comes back here with the scope marked
            return
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await run_lifespan(self.app, self.readiness, scope, receive, send, self._shutdown)
                return
            if scope["type"] == "websocket" and self._refuses_websocket(scope):
                await send({"type": "websocket.close", "code": 1008, "reason": "uploads are not taken over WebSocket here"})
                return
            await self.app(scope, receive, send)
            return
        site = self.router.select(scope)
        if isinstance(site, Problem):
            await site(scope, receive, send)
            return
        route = None
        if scope["method"] not in SAFE_METHODS or _may_carry_body(scope):
            try:
                route = self._upload_route(scope, site)
            except Problem as refusal:
                await refusal(scope, receive, send)
                return
        ctx = RequestContext.from_scope(scope, receive, site, route)
        if not self.readiness.ready and self.readiness.concerns(ctx.path, site, route):
            not_ready = await self.readiness.check(ctx.path, site, route)
            if not_ready is not None:
                await not_ready(scope, receive, send)
                return
        if (observed := scope.get(OBSERVED)) is not None:
            observed.ctx = ctx
        try:
            for stage in self.stages[site]:
                answer = await stage(ctx)
                if answer is not None:
                    await answer(ctx.scope, ctx.receive, ctx.wrap_send(send))
                    return
        except Problem as refusal:
            await refusal(ctx.scope, ctx.receive, ctx.wrap_send(send))
            return
        await self._call_app(ctx, send)

    def _upload_route(self, scope: Scope, site: Site) -> UploadRoute | None:
        """Return the upload route this request reaches in the app, or None; raises the refusal.

        400 ``bad-path`` for an ambiguous spelling on any campaign's upload prefix, 421 ``wrong-host``
        for another campaign's upload route, 400 ``invalid-request`` for a safe method that carries a
        body (or asks for another method) on an upload route.
        """
        path, raw_path = app_path(scope), scope.get("raw_path")
        verdict, route = site.routes.classify(path, raw_path)
        if verdict is PathVerdict.other and self.all_routes is not None:
            verdict, _ = self.all_routes.classify(path, raw_path)
            if verdict is PathVerdict.upload:
                raise Problem("wrong-host", f"{path!r} is an upload route of another campaign; send it to that campaign's host")
        if verdict is PathVerdict.ambiguous:
            raise Problem("bad-path", "the path is spelled ambiguously (dot or empty segments, backslashes, ';' or encoded separators)")
        if route is not None and scope["method"] in SAFE_METHODS:
            raise Problem("invalid-request", f"{scope['method']} cannot carry an upload; use {', '.join(route.methods)}")
        return route

    def _refuses_websocket(self, scope: Scope) -> bool:
        site = self.router.select(scope)
        if isinstance(site, Site) and site.policy.uploads.websocket == "pass":
            return False
        routes = self.all_routes or self.sites[0].routes
        return routes.classify(app_path(scope), scope.get("raw_path"))[0] is not PathVerdict.other

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


_OVERRIDES = frozenset({b"x-http-method-override", b"x-http-method", b"x-method-override"})
_BODY_HEADERS = _OVERRIDES | {b"content-length", b"transfer-encoding"}
"""One set lookup per header on a plain GET (a non-empty content-length, transfer-encoding or an override means a body)."""


def _may_carry_body(scope: Scope) -> bool:
    """Return whether a safe-method request carries a body or asks to be treated as another method."""
    for name, value in scope["headers"]:
        if name in _BODY_HEADERS and (name != b"content-length" or value.strip() not in (b"0", b"")):
            return True
    return b"_method=" in scope.get("query_string", b"")

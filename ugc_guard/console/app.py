"""The console's ASGI app: :func:`console_app` builds it for one campaign policy, to mount inside the
operator's own application (``Mount("/console", console_app(policy))``)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..ledger import Ledger
from ..policy import Policy, load_policy
from ..problems import Problem
from .auth import BasicLogin, ConsoleAuth, UpstreamAuth
from .data import ConsoleData
from .login import login_form, login_post, logout
from .views import Views

__all__ = ["SECURITY_HEADERS", "console_app"]

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # not no-referrer: Chromium then sends "Origin: null" with form posts
    "cache-control": "no-store",
}
"""Sent with every console response: nothing inline runs, nothing is framed, nothing is cached."""


def console_app(policy: Policy | str | Path, *, database: str | None = None, secret: bytes | str | None = None,
                auth: ConsoleAuth | None = None, ledger: Ledger | None = None) -> ASGIApp:
    """Return the read-only console of the policy's campaign as an ASGI app to mount.

    ``policy`` is a loaded :class:`Policy` or the path of its YAML file; ``database`` overrides its
    ``ledger.url`` (or pass an open ``ledger``). Personal fields (names, e-mail addresses, network
    evidence) are opened only when ``secret`` (the site secret) is given; otherwise they show
    ``[sealed]``. ``auth`` is :class:`UpstreamAuth` by default (the surrounding app's
    ``scope["user"]``) or :class:`BasicLogin` for the built-in login.

    Raises :class:`~ugc_guard.policy.PolicyError` for a policy that does not load and
    :class:`~ugc_guard.ledger.LedgerUnavailable` for a SQLite ledger file that does not exist.
    """
    from ..ledger.location import require_existing

    loaded = policy if isinstance(policy, Policy) else load_policy(policy)
    if ledger is None:
        url = database or loaded.ledger.url
        require_existing(url)
        ledger = Ledger(url, secret=secret, connect_timeout=loaded.ledger.connect_timeout)
    key = _session_key(loaded)
    if auth is None:
        auth = UpstreamAuth(key)
    elif isinstance(auth, BasicLogin) and auth.key_is_random:
        auth.use_key(key)
    data = ConsoleData(ledger, loaded)
    views = Views(data, auth, personal=ledger.can_open_personal)
    routes = [
        Route("/", views.search, methods=["GET"]),
        Route("/submissions/{submission_id:int}", views.submission, methods=["GET"]),
        Route("/receipt", views.receipt_form, methods=["GET"]),
        Route("/receipt", views.receipt_check, methods=["POST"]),
        Route("/takedowns", views.takedowns, methods=["GET"]),
        Route("/requests", views.requests_due, methods=["GET"]),
        Route("/console.css", views.stylesheet, methods=["GET"]),
    ]
    if isinstance(auth, BasicLogin):
        routes += [
            Route("/login", login_form(views), methods=["GET"]),
            Route("/login", login_post(views, auth), methods=["POST"]),
            Route("/logout", logout(views), methods=["POST"]),
        ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    return _Headers(app)


def _session_key(policy: Policy) -> bytes | None:
    secrets = policy.secrets() if policy.secret is not None else ()
    if not secrets:
        return None
    # one key per campaign: a session (or form token) of one campaign's console is no use on another's
    return hmac.new(secrets[0], b"ugc-guard console session\0" + policy.campaign.id.encode(), hashlib.sha256).digest()


async def _not_found(request: Any, _error: Exception) -> Any:
    return Problem("not-found", "no such console page")


async def _not_allowed(request: Any, _error: Exception) -> Any:
    return Problem("method-not-allowed", "the console is read-only: GET pages; POST only to check a receipt or sign in")


class _Headers:
    """Add :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
                         if name.encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

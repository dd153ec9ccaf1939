"""The built-in login's pages (:class:`~ugc_guard.console.auth.BasicLogin`): the form, the POST that
signs in, and signing out. The login form's token is a random value in a short-lived SameSite=Strict
cookie that the form must repeat (double submit), so another site cannot post a login."""

from __future__ import annotations

import hmac
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ..problems import Problem
from .auth import SESSION_COOKIE, BasicLogin

if TYPE_CHECKING:
    from .views import Answer, Views

__all__ = ["login_form", "login_post", "logout"]

LOGIN_COOKIE = "ugc_console_login"
Handler = Callable[[Request], Awaitable["Answer"]]


def _next(views: Views, request: Request, value: str | None) -> str:
    """Return where to go after signing in: a path inside the console, never another site."""
    base = views.base(request)
    path = urllib.parse.unquote(value.split("?", 1)[0]) if value else ""
    # "/console/../x" and "/console/%2e%2e/x" leave the console once a browser resolves them
    if value and value.startswith(f"{base}/") and not value.startswith("//") and "\\" not in path and not {".", ".."} & set(path.split("/")):
        return value
    return f"{base}/"


def _secure(request: Request, auth: BasicLogin | None = None) -> bool:
    if auth is not None and auth.secure_cookie is not None:
        return auth.secure_cookie
    return request.url.scheme == "https"


async def _show(views: Views, request: Request, *, error: str | None = None, status: int = 200,
                target: str | None = None) -> Answer:
    token = secrets.token_urlsafe(24)
    response = views.render(request, "login.html", None, csrf=token, error=error, status=status,
                            next=_next(views, request, target or request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, max_age=900, path=views.base(request) or "/", httponly=True,
                        samesite="strict", secure=_secure(request))
    return response


def login_form(views: Views) -> Handler:
    async def handler(request: Request) -> Answer:
        return await _show(views, request)

    return handler


def login_post(views: Views, auth: BasicLogin) -> Handler:
    async def handler(request: Request) -> Answer:
        if (views.declared_length(request) or 0) > 4096:
            return Problem("form-too-large", "a login form is a user name and a password")
        try:
            form = await request.form(max_files=0, max_fields=4, max_part_size=4096)
        except Exception:  # python-multipart's errors for a malformed body: a client error, never a 500
            return Problem("invalid-request", "the login form could not be read")
        token, cookie = form.get("csrf"), request.cookies.get(LOGIN_COOKIE)
        if not isinstance(token, str) or not cookie or not hmac.compare_digest(token, cookie) or not views.same_origin(request):
            return Problem("csrf-failed", "open the login page again and sign in from there")
        client = request.client.host if request.client else "unknown"
        if auth.locked(client):
            return Problem("rate-limited", "too many wrong passwords; wait 15 minutes", headers={"Retry-After": str(int(auth.lockout))})
        username, password, target = form.get("username"), form.get("password"), form.get("next")
        target = target if isinstance(target, str) else None
        if not isinstance(username, str) or not isinstance(password, str):
            return await _show(views, request, error="enter the user name and the password", status=401, target=target)
        good = await anyio.to_thread.run_sync(auth.check, client, username[:200], password[:1000])
        if not good:
            return await _show(views, request, error="wrong user name or password", status=401, target=target)
        value, _session = auth.new_session()
        response = RedirectResponse(_next(views, request, target), 303)
        response.set_cookie(SESSION_COOKIE, value, max_age=auth.max_age, path=views.base(request) or "/", httponly=True,
                            samesite="strict", secure=_secure(request, auth))
        response.delete_cookie(LOGIN_COOKIE, path=views.base(request) or "/")
        return response

    return handler


def logout(views: Views) -> Handler:
    async def handler(request: Request) -> Answer:
        if not views.same_origin(request):  # another site must not sign the operator out either
            return Problem("csrf-failed", "sign out from a console page")
        session = views.auth.session(request)
        if session is not None:
            try:
                form = await request.form(max_files=0, max_fields=2, max_part_size=1024)
            except Exception:  # python-multipart's errors for a malformed body: a client error, never a 500
                return Problem("invalid-request", "the form could not be read; sign out from a console page")
            token = form.get("csrf")
            if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
                return Problem("csrf-failed", "sign out from a console page")
            if isinstance(views.auth, BasicLogin):
                views.auth.end_session(session)
        response = RedirectResponse(f"{views.base(request)}/login", 303)
        response.delete_cookie(SESSION_COOKIE, path=views.base(request) or "/")
        return response

    return handler

"""Per-request state handed from stage to stage, and the stage protocol.

A request flows one way through the site's stages (see :mod:`ugc_guard.pipeline`). A stage
reads and adds to the context, and either returns ``None`` (go on) or an ASGI app that answers
the request instead of the app (a page, a refusal). Stages never call the app themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .identity import client_address
from .routing import normalise_path, relative_path
from .rules.standing import Standing

if TYPE_CHECKING:
    from .policy.uploads import UploadRoute
    from .sites import Site

__all__ = ["AfterResponse", "RequestContext", "SendFilter", "Stage", "app_path"]

AfterResponse = Callable[[int | None], Awaitable[None]]
"""Called once the app has answered, with its status (None if it raised or sent nothing)."""
SendFilter = Callable[[Send], Send]
"""Wraps the ``send`` the app is given: sees (and may hold back or replace) the app's answer first."""


def app_path(scope: Scope) -> str:
    """Return the once-decoded request path relative to the mount (``root_path``): what the app's router matches."""
    root_path = scope.get("root_path")
    path: str = scope["path"]
    return relative_path(path, root_path) if root_path else path


class Stage(Protocol):
    async def __call__(self, ctx: RequestContext) -> ASGIApp | None: ...


@dataclass(slots=True, eq=False)
class RequestContext:
    scope: Scope
    receive: Receive
    site: Site
    method: str
    path: str
    """The normalised path relative to ``root_path``, for matching (lowercase)."""
    client: str | None
    upload_route: UploadRoute | None
    """The upload route when the path is one and the method can carry a body."""
    subject: str | None = None
    """Pseudonymous subject id, once the identity stage found or made one."""
    unverified_bot: bool = False
    """A claimed search-engine bot failed verification (scraping): it gets the flagged rate limits."""
    standing: Standing | None = None
    """The subject's standing when the upload gate admitted the upload (its ``receipt_id`` is the acceptance)."""
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    after_response: list[AfterResponse] = field(default_factory=list)
    send_filters: list[SendFilter] = field(default_factory=list)
    _headers: Headers | None = None

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, site: Site, upload_route: UploadRoute | None = None) -> RequestContext:
        """Build the context of one request; ``upload_route`` is the route the middleware matched, if any."""
        method = scope["method"]
        path = normalise_path(app_path(scope))
        peer = scope.get("client")
        trusted = site.policy.rate_limits.trusted_proxies
        if trusted:
            headers = Headers(scope=scope)
            client = client_address(peer[0] if peer else None, trusted, headers.get("forwarded"), headers.get("x-forwarded-for"))
        else:  # no proxy is believed: the socket peer is the client
            client = peer[0] if peer else None
        return cls(scope, receive, site, method, path, client, upload_route)

    @property
    def headers(self) -> Headers:
        """The request headers (built on first use; most requests never need all of them)."""
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    def header(self, name: bytes) -> str | None:
        """Return the first value of one header (``name`` in lowercase bytes), without building all headers."""
        for key, value in self.scope["headers"]:
            if key == name:
                return value.decode("latin-1")  # type: ignore[no-any-return]
        return None

    @property
    def user_agent(self) -> str:
        return self.header(b"user-agent") or ""

    def add_header(self, name: str, value: str) -> None:
        """Add a header to whatever response this request gets (app's, page or refusal)."""
        self.response_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))

    def wrap_send(self, send: Send, on_start: Callable[[int], None] | None = None) -> Send:
        """Return a ``send`` that adds :attr:`response_headers` to the response start, inside :attr:`send_filters`."""
        extra = self.response_headers

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                if extra:
                    # A new list in the same message, as Starlette's MutableHeaders(scope=message) does:
                    # the sender's own header list (a shared Response's) is never changed.
                    message["headers"] = [*message.get("headers", ()), *extra]
                if on_start is not None:
                    on_start(message["status"])
            await send(message)

        app_send: Send = wrapped
        for wrap in self.send_filters:
            app_send = wrap(app_send)
        return app_send

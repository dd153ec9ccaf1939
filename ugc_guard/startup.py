"""Starting the middleware: settings that cannot be used, and a ledger that is not ready yet.

Starlette and FastAPI build their middleware when the first ASGI call arrives, which under uvicorn is
the ``lifespan`` scope. An exception raised there is taken by uvicorn's default ``--lifespan auto``
as "lifespan unsupported": the server keeps running and every request becomes a bare 500. So
:class:`~ugc_guard.middleware.UGCGuard` never raises for a setting while it is built; it keeps the
error in :class:`NotConfigured`, which

- answers ``lifespan.startup`` with ``lifespan.startup.failed`` and the one-line message (uvicorn
  logs it and exits with a non-zero status);
- on a server that runs no lifespan, answers every request 503 ``guard-not-configured`` naming the
  setting, and logs one error line.

Every site's ledger gets ready (:func:`ugc_guard.ledger.readiness.prepare`: a SQLite file creates or
migrates its tables, PostgreSQL must be at the newest schema) at lifespan startup, or, when no
lifespan ran, on the first request that needs the ledger (:class:`Readiness`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, guard_not_configured, ledger_not_ready

if TYPE_CHECKING:
    from .policy.uploads import UploadRoute
    from .sites import Site

__all__ = ["NotConfigured", "Readiness", "run_lifespan"]

logger = logging.getLogger("ugc_guard")

RETRY_AFTER = 1.0
"""Seconds before a ledger that was not ready (or not reachable) is checked again."""


def one_line(error: BaseException) -> str:
    """Return an error's message on one line (a :class:`PolicyError` has one line per problem)."""
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


class NotConfigured:
    """The ASGI app that stands in for a UGCGuard whose settings cannot be used (see the module doc)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.message = one_line(error)
        self._logged = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _refuse_startup(receive, send, self.message)
            return
        if not self._logged:
            self._logged = True
            logger.error("ugc_guard: not serving, every request gets 503 guard-not-configured: %s", self.message)
        if scope["type"] == "http":
            await guard_not_configured(self.message)(scope, receive, send)
        elif scope["type"] == "websocket":
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send({"type": "websocket.close", "code": 1011, "reason": "the upload guard is not configured"})
                return

            async def as_denial(message: Message) -> None:  # the WebSocket Denial Response extension: the same 503
                await send({**message, "type": f"websocket.{message['type']}"})

            await guard_not_configured(self.message)(scope, receive, as_denial)


async def _refuse_startup(receive: Receive, send: Send, message: str) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed", "message": message})
            return
        if event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def run_lifespan(
    app: ASGIApp,
    readiness: Readiness,
    scope: Scope,
    receive: Receive,
    send: Send,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Get every ledger ready at ``lifespan.startup``, then hand the lifespan to ``app``; at
    ``lifespan.shutdown`` await ``on_shutdown`` (webhook events still in memory go to the outbox)
    before ``app`` hears of it.

    A ledger that cannot be made ready answers ``lifespan.startup.failed`` and ``app`` never starts.
    """
    first = await receive()
    if first["type"] == "lifespan.startup":
        failure = await readiness.startup()
        if failure is not None:
            await send({"type": "lifespan.startup.failed", "message": failure})
            return
    pending: list[Message] = [first]

    async def replay() -> Message:
        event = pending.pop() if pending else await receive()
        if event["type"] == "lifespan.shutdown" and on_shutdown is not None:
            await on_shutdown()
        return event

    await app(scope, replay, send)


class Readiness:
    """Which sites' ledgers are ready; ``ready`` is True once all are (the per-request check is then one attribute)."""

    def __init__(self, sites: Sequence[Site]) -> None:
        self._waiting: dict[Site, float] = dict.fromkeys(sites, 0.0)
        """Sites not ready yet -> when (``time.monotonic``) to check again."""
        self._refusals: dict[Site, Problem] = {}
        self._pages: dict[Site, tuple[str, str]] = {site: (site.prefix, site.prefix.rstrip("/") + "/") for site in sites}
        """Each site's prefix, and the start of every path under it."""
        self.ready = not self._waiting

    def concerns(self, path: str, site: Site, route: UploadRoute | None) -> bool:
        """Whether a request (its normalised ``path``, its upload ``route``) needs the site's ledger
        while that is not ready yet: only then is :meth:`check` awaited (a plain GET costs a lookup)."""
        if site not in self._waiting:
            return False
        if route is not None:
            return True
        prefix, under = self._pages[site]
        return path == prefix or path.startswith(under)

    async def startup(self) -> str | None:
        """Prepare every site's ledger; return the one-line reason the app must not start, or None.

        A ledger that cannot be reached does not stop the start (requests that need it get 503
        ``ledger-unavailable`` and it is tried again); one without the newest schema (PostgreSQL) or
        with an unusable URL does.
        """
        from .ledger import LedgerError, LedgerUnavailable

        for site in list(self._waiting):
            try:
                await self._prepare(site)
            except LedgerUnavailable as error:
                logger.warning("ugc_guard: campaign %s: %s; the ledger is tried again when a request needs it", site.campaign, error)
            except LedgerError as error:
                return f"campaign {site.campaign}: ledger: {one_line(error)}"
            except Exception as error:  # fail closed: raised here, uvicorn would take it for "lifespan unsupported"
                logger.exception("ugc_guard: campaign %s: the ledger could not be made ready", site.campaign)
                return f"campaign {site.campaign}: ledger: {one_line(error)}"
        return None

    async def check(self, path: str, site: Site, route: UploadRoute | None) -> Problem | None:
        """Return 503 ``ledger-not-ready`` if this request needs the site's ledger and it cannot be made ready.

        Only requests that use the ledger make it ready (upload routes and the pages under the
        prefix: ``path`` is the request's normalised path, as the pages match it); an unreachable
        ledger lets the request go on, to meet ``ledger-unavailable``.
        """
        if not self.concerns(path, site, route):
            return None
        now = time.monotonic()
        if now < self._waiting[site]:
            return self._refusals.get(site)
        from .ledger import LedgerError, LedgerUnavailable

        try:
            await self._prepare(site)
        except LedgerUnavailable:
            self._waiting[site] = now + RETRY_AFTER
            self._refusals.pop(site, None)
            return None
        except Exception as error:  # a schema that is behind, a URL naming no supported database: never a 500
            self._waiting[site] = now + RETRY_AFTER
            if site not in self._refusals:
                logger.error("ugc_guard: campaign %s: requests that need the ledger get 503 ledger-not-ready: %s", site.campaign, one_line(error),
                             exc_info=not isinstance(error, LedgerError))
            self._refusals[site] = ledger_not_ready(f"campaign {site.campaign}: {one_line(error)}")
            return self._refusals[site]
        return None

    async def _prepare(self, site: Site) -> None:
        from .ledger.readiness import prepare

        ledger = site.ledger  # raises LedgerError for a URL that names no supported database
        await anyio.to_thread.run_sync(prepare, ledger.sync)
        self._waiting.pop(site, None)
        self._refusals.pop(site, None)
        self.ready = not self._waiting

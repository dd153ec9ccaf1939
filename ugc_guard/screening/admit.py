"""The upload gate: no body-carrying request on an upload route without current acceptance and age.

Browsers (``Accept: text/html``) are sent to the terms page (303) with ``next`` set to the page
they came from; API clients get 403 problem+json naming the first missing step, with
``accept_url``. A ledger that cannot be read fails closed (503 ``ledger-unavailable``). The
subject's standing comes from the site's :class:`~ugc_guard.standing.Standings` (shared with the pages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp

from ..ledger import LedgerError
from ..problems import Problem, ledger_unavailable
from ..rules.redirect import safe_next
from ..rules.standing import Standing, refusal_code

if TYPE_CHECKING:
    from ..context import RequestContext
    from ..standing import Standings

__all__ = ["UploadGate"]


class UploadGate:
    """Stage: refuse uploads of subjects who still miss something; note the acceptance otherwise."""

    def __init__(self, standings: Standings) -> None:
        self.standings = standings
        policy = standings.site.policy
        self.prefix = policy.prefix
        self.base_url = policy.campaign.base_url

    def _url(self, ctx: RequestContext, page: str) -> str:
        """Return the site-relative URL of one of the built-in pages, with the mount's ``root_path``."""
        root_path: str = ctx.scope.get("root_path", "")
        return root_path.rstrip("/") + self.prefix + page

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        if ctx.upload_route is None:
            return None
        if ctx.subject is None:
            status = Standing()
        else:
            try:
                status = await self.standings.status(ctx.subject)
            except LedgerError:
                return ledger_unavailable("the acceptance ledger cannot be reached, so no upload is accepted; try again later")
        needs = self.standings.missing(status)
        code = refusal_code(needs)
        if code is None:
            ctx.standing = status
            return None
        if "text/html" in ctx.headers.get("accept", ""):
            target = self._url(ctx, "/terms") + "?next=" + quote(self._came_from(ctx), safe="/")
            return RedirectResponse(target, status_code=303, headers={"cache-control": "no-store"})
        return Problem(
            code,
            f"before uploading: {', '.join(needs)}",
            accept_url=self.base_url + self._url(ctx, "/terms"),
            status_url=self.base_url + self._url(ctx, "/status"),
            missing=needs,
        )

    def _came_from(self, ctx: RequestContext) -> str:
        """Return the same-site page the upload form was on (from Referer), else the site root."""
        root_path: str = ctx.scope.get("root_path", "")
        root = root_path.rstrip("/") + "/"
        referer = ctx.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            if parts.netloc.lower() == ctx.headers.get("host", "").lower():
                candidate = parts.path + ("?" + parts.query if parts.query else "")
                return safe_next(candidate, root)
        return root

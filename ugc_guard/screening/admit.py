"""The upload gate: no body-carrying request on an upload route without current acceptance and age.

Browsers (``Accept: text/html``) are sent to the terms page (303) with ``next`` set to the page
they came from; API clients get 403 problem+json naming the first missing step, with
``accept_url``. A ledger that cannot be read fails closed (503 ``ledger-unavailable``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp

from ..pages.redirect import safe_next
from ..pages.store import StoreUnavailable
from ..problems import Problem, ledger_unavailable
from ..rules.standing import Standing, missing, refusal_code

if TYPE_CHECKING:
    from ..context import RequestContext
    from ..pages.service import Gate

__all__ = ["UploadGate"]


class UploadGate:
    """Stage: refuse uploads of subjects who still miss something; note the acceptance otherwise."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        if ctx.upload_route is None:
            return None
        gate = self.gate
        if ctx.subject is None:
            status = Standing()
        else:
            try:
                status = await gate.status(ctx.subject)
            except StoreUnavailable:
                return ledger_unavailable("the acceptance ledger cannot be reached, so no upload is accepted; try again later")
        needs = missing(status, gate.terms_rule, gate.age_rule, gate.guardians_required)
        code = refusal_code(needs)
        if code is None:
            ctx.standing = status
            return None
        if "text/html" in ctx.headers.get("accept", ""):
            target = gate.url(ctx, "/terms") + "?next=" + quote(self._came_from(ctx), safe="/")
            return RedirectResponse(target, status_code=303, headers={"cache-control": "no-store"})
        return Problem(
            code,
            f"before uploading: {', '.join(needs)}",
            accept_url=gate.absolute_url(ctx, "/terms"),
            status_url=gate.absolute_url(ctx, "/status"),
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

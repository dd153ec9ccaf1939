"""The one stage for everything under the policy prefix: one route table for the terms step
(terms, status, accept, guardian confirmation, Proof of Age) and the subject's own pages (me, export,
withdraw). Every other path under ``{prefix}/me/`` is 404; any other request goes on.

Handlers return an answer or raise :class:`~ugc_guard.problems.Problem`; what the ledger cannot do
becomes ``ledger-unavailable`` here, in one place.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from ..ledger import LedgerError, SubjectErased
from ..policy.age import AgeMethod
from ..problems import Problem, ledger_unavailable
from .accept import handle_accept
from .age_proof import age_proof_routes
from .evidence import evidence_routes
from .guardian import handle_guardian
from .me import MePages
from .routes import Route
from .terms import TermsPages

if TYPE_CHECKING:
    from ..context import RequestContext
    from .service import Gate

__all__ = ["PagesStage"]

logger = logging.getLogger("ugc_guard.pages")


class PagesStage:
    """Serves the built-in pages of one site."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        me = MePages(gate)
        self.me_prefix = me.prefix
        prefix = gate.prefix.casefold()
        self.routes: dict[str, Route] = {
            **TermsPages(gate).routes,
            prefix + "/accept": (("POST",), lambda ctx: handle_accept(gate, ctx)),
            prefix + "/guardian/confirm": (("GET", "HEAD", "POST"), lambda ctx: handle_guardian(gate, ctx)),
            **(age_proof_routes(gate) if gate.policy.age.method == AgeMethod.eu_age_verification else {}),
            **me.routes,
            **evidence_routes(gate),
        }

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        route = self.routes.get(ctx.path)
        if route is None:
            return Problem("not-found", f"{ctx.path} is not a page of yours") if ctx.path.startswith(self.me_prefix) else None
        methods, handler = route
        if ctx.method not in methods:
            return Problem("method-not-allowed", f"{ctx.path} accepts {', '.join(methods)}", headers={"allow": ", ".join(methods)})
        try:
            return await handler(ctx)
        except Problem as problem:
            return problem
        except SubjectErased:  # nothing more can be recorded under an erased pseudonym
            return Problem("subject-erased", "the data recorded under this pseudonym was erased; there is nothing left to withdraw")
        except LedgerError:
            logger.warning("ugc_guard: the ledger failed while serving %s", ctx.path, exc_info=True)
            return ledger_unavailable()

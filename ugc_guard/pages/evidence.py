"""The log's public endpoints under the prefix: ``checkpoint``, ``keys``, ``proof/inclusion`` and
``proof/consistency`` (hashes only, never entry contents); the handlers are in :mod:`ugc_guard.transparency`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from ..problems import Problem
from ..transparency import checkpoint_response, consistency_response, inclusion_response, keys_response, single_values
from .routes import Route

if TYPE_CHECKING:
    from ..context import RequestContext
    from .service import Gate

__all__ = ["evidence_routes"]


def _query(ctx: RequestContext) -> dict[str, str]:
    try:
        pairs = parse_qsl(ctx.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True, max_num_fields=10)
    except ValueError:
        raise Problem("invalid-request", "too many query parameters") from None
    try:
        return single_values(pairs)
    except ValueError as error:
        raise Problem("invalid-request", str(error)) from None


def evidence_routes(gate: Gate) -> dict[str, Route]:
    """Return the routes of the campaign's signed log for the pages stage."""
    prefix = gate.prefix.casefold()
    return {
        prefix + "/checkpoint": (("GET", "HEAD"), lambda ctx: checkpoint_response(gate.proof_log)),
        prefix + "/keys": (("GET", "HEAD"), lambda ctx: keys_response(gate.proof_log)),
        prefix + "/proof/inclusion": (("GET", "HEAD"), lambda ctx: inclusion_response(gate.proof_log, _query(ctx))),
        prefix + "/proof/consistency": (("GET", "HEAD"), lambda ctx: consistency_response(gate.proof_log, _query(ctx))),
    }

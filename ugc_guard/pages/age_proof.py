"""``{prefix}/age/*``: the Proof of Age endpoints of a campaign with ``age.method: eu-age-verification``.

The verifier and the endpoints are :mod:`ugc_guard.agecheck`; this module hands them the site's
parts: the subject (made on the request when the cookie is the subject, required on the response),
the campaign's origin (the page's origin as the browser gives it to the wallet; a post whose
``Origin`` or ``Sec-Fetch-Site`` says it comes from elsewhere is refused), the capped JSON body, the
site's nonce store, and the recording of a verified result in the ledger.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from ..agecheck import AgeProof
from ..agecheck.handlers import RESPONSE_LIMIT, age_request, age_response, age_script
from ..ledger import AgeResult
from ..problems import Problem
from ..rules.age import AgeJudgement, AgeOutcome, reconfirm_due
from ..rules.redeclare import Declared, contradicts, strength
from ..subject import ensure_subject
from .forms import body_kind, read_body
from .routes import Route

if TYPE_CHECKING:

    from ..context import RequestContext
    from .service import Gate

__all__ = ["age_proof_routes"]

logger = logging.getLogger("ugc_guard.pages")

REQUEST_LIMIT = 1024
"""The request post carries nothing the server reads (``{}``)."""



def age_proof_routes(gate: Gate) -> dict[str, Route]:
    """Return the pages stage's routes for the Proof of Age: the request, the response and the page's script."""
    prefix = gate.prefix.casefold()
    return {
        prefix + "/age/request": (("POST",), lambda ctx: _request(gate, ctx)),
        prefix + "/age/response": (("POST",), lambda ctx: _response(gate, ctx)),
        prefix + "/age/age-proof.js": (("GET", "HEAD"), lambda ctx: age_script()),
    }


def _page_origin(gate: Gate, ctx: RequestContext, *, body: bool = True) -> str:
    """Return the campaign's origin, the one the wallet signs; raise Problem ``csrf-failed`` for a post
    the browser says comes from another site, ``unsupported-media-type`` for a body that is not JSON."""
    origin = gate.policy.campaign.base_url
    sent, fetch_site = ctx.headers.get("origin"), ctx.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in ("same-origin", "none"):
        raise Problem("csrf-failed", f"age proof posts must come from the campaign's own pages (Sec-Fetch-Site: {fetch_site[:20]})")
    if sent is not None and sent.strip().rstrip("/").lower() != origin.lower():
        raise Problem("csrf-failed", f"age proof posts are taken from pages of {origin} only, not from {sent[:80]}")
    if body and body_kind(ctx.headers) != "json":
        raise Problem("unsupported-media-type", "post application/json to the age proof endpoints")
    return origin


async def _request(gate: Gate, ctx: RequestContext) -> ASGIApp:
    # the request's body is never read, so a bare POST (no body, no Content-Type) is fine; a body must be JSON
    bare = ctx.headers.get("content-length", "0").strip() == "0" and "transfer-encoding" not in ctx.headers
    origin = _page_origin(gate, ctx, body=not bare)
    await read_body(ctx.receive, ctx.headers, limit=REQUEST_LIMIT)  # nothing in it is used: the request is the server's own
    subject = ensure_subject(ctx, gate.subjects)
    if subject is None:
        raise Problem("subject-required", "sign in to the site first; this campaign identifies people by their account")
    return await age_request(gate.policy, subject, origin, gate.nonces, root_path=ctx.scope.get("root_path", "").rstrip("/"))


async def _response(gate: Gate, ctx: RequestContext) -> ASGIApp:
    origin = _page_origin(gate, ctx)
    body = await read_body(ctx.receive, ctx.headers, limit=RESPONSE_LIMIT)
    if ctx.subject is None:
        raise Problem("subject-required", "the answer must come from the browser that asked for the request (its subject cookie)")

    async def record(subject: str, proof: AgeProof) -> Mapping[str, Any]:
        return await record_attestation(gate, subject, proof, _dt.date.today())

    return await age_response(gate.policy, ctx.subject, origin, body, gate.nonces, record)


async def record_attestation(gate: Gate, subject: str, proof: AgeProof, today: _dt.date) -> Mapping[str, Any]:
    """Record a verified attestation's age result for ``subject``; return the receipt fields shown.

    The band is held against the one recorded before, as every declaration is (an attestation outranks
    any other method; one attestation cannot raise another's band before that one's re-confirmation
    day). A minor's result gets the re-confirmation day of :func:`ugc_guard.rules.age.reconfirm_due`.
    Raises Problem ``subject-erased`` and ``age-redeclared``, and the ledger's ``LedgerError``.
    """
    standing = await gate.standings.read(subject)
    if standing.erased:
        raise Problem("subject-erased", "the data recorded under this pseudonym was erased; open the terms page again")
    if standing.age_band is not None:
        due = _dt.date.fromisoformat(standing.reconfirm_due) if standing.reconfirm_due else None
        before = Declared(standing.age_band, strength(None, standing.age_assurance), due)
        if contradicts(before, proof.band, strength(proof.method, proof.assurance), today):
            raise Problem(
                "age-redeclared",
                f"an earlier attestation proved the age band {standing.age_band}; a new one cannot raise it yet. "
                f"If that is wrong, write to {gate.policy.controller.contact}",
                band=standing.age_band,
            )
    result = AgeJudgement(proof.band, AgeOutcome(proof.outcome), proof.years_to_majority)
    due = reconfirm_due(today, result) if gate.policy.age.reconfirm_at_majority else None
    age = AgeResult(proof.band, proof.method, proof.assurance, due, proof.issuer, proof.attestation_expires)
    receipt = await gate.ledger.record_age_result(gate.campaign, subject, age)
    gate.forget(subject)
    recorded_at = _dt.datetime.fromisoformat(receipt.recorded_at).isoformat(timespec="seconds")
    return {"entry_id": str(receipt.entry_id), "entry_hash": receipt.hash, "recorded_at": recorded_at}

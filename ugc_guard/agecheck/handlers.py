"""Ready-to-mount endpoints under the policy prefix: the request, the response, and the page's script.

Each takes plain inputs (the policy, the subject, the page's origin, the body, a nonce store, a
recording callable) and returns a Starlette response; routing, reading the capped body, the subject
cookie and the same-origin check stay with the pages stage that mounts them. Every refusal of a
presentation is 400 ``age-proof-invalid`` with the failed check in ``reason`` and ``detail``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import anyio.to_thread
from starlette.responses import JSONResponse, Response

from ..policy import Policy
from ..policy.age import AgeMethod
from ..problems import Problem
from .errors import AgeProofError, Reason
from .nonces import NonceStore
from .request import browser_request, close_session, open_session, read_response
from .trust import TrustList
from .verify import AgeProof, verify_presentation

__all__ = ["RESPONSE_LIMIT", "RecordAge", "age_request", "age_response", "age_script", "problem_response", "trust_list"]

logger = logging.getLogger("ugc_guard.agecheck")

RESPONSE_LIMIT = 64 * 1024
"""Bytes a response post may have: a DeviceResponse with a three-certificate chain is under 8 KiB."""

RecordAge = Callable[[str, AgeProof], Awaitable[Mapping[str, Any] | None]]
"""Records a verified result for a subject; returns receipt fields to show, or None. May raise :class:`Problem`."""

_NO_STORE = {"cache-control": "no-store"}


def problem_response(problem: Problem) -> Response:
    """Return ``problem`` as an ``application/problem+json`` response."""
    return JSONResponse(problem.body(), problem.status, {**problem.headers, **_NO_STORE}, media_type="application/problem+json")


@cache
def _trust(pems: tuple[str, ...]) -> TrustList:
    return TrustList.from_pem(pems)


def trust_list(policy: Policy) -> TrustList:
    """Return the trust list of ``policy.age.trusted_issuers`` (built once per set of certificates)."""
    return _trust(tuple(issuer.pem for issuer in policy.age.trusted_issuers))


def _not_offered(policy: Policy) -> Problem | None:
    if policy.age.method != AgeMethod.eu_age_verification:
        return Problem("not-found", "this campaign does not ask for an age attestation")
    return None


async def age_request(
    policy: Policy, subject: str, origin: str, store: NonceStore, *, root_path: str = "", now: _dt.datetime | None = None
) -> Response:
    """``POST {prefix}/age/request``: return the request for ``navigator.credentials.get`` with a fresh nonce.

    ``origin`` is the page's origin (``https://host[:port]``) as the browser will give it to the wallet;
    ``root_path`` the ASGI ``root_path`` of a mounted app (it prefixes the ``response_url`` handed back).
    Returns 404 ``not-found`` when the policy's method is not ``eu-age-verification``, 400
    ``invalid-request`` for an origin that is not one, and the :class:`Problem` the store raises when
    it cannot keep the request.
    """
    if refusal := _not_offered(policy):
        return problem_response(refusal)
    try:
        session = await open_session(
            store, subject=subject, origin=origin, minimum=policy.age.minimum, guardian_minimum=policy.age.guardian_minimum,
            now=now or _dt.datetime.now(_dt.UTC),
        )  # fmt: skip
    except ValueError as error:
        return problem_response(Problem("invalid-request", f"the page's origin is not usable: {error}"))
    except Problem as problem:  # the nonce store could not keep the request (e.g. age-proof-unavailable)
        return problem_response(problem)
    return JSONResponse(browser_request(session, f"{root_path}{policy.prefix}/age/response"), headers=_NO_STORE)


async def age_response(
    policy: Policy, subject: str, origin: str, body: bytes, store: NonceStore, record: RecordAge, *, now: _dt.datetime | None = None
) -> Response:
    """``POST {prefix}/age/response``: verify the wallet's presentation and record the age result.

    Returns 200 with the result (band, outcome, method, assurance, issuer, attestation expiry and the
    recording's receipt fields) after ``record`` ran; 400 ``age-proof-invalid`` (``reason`` names the
    check) for any presentation that proves nothing, 413 ``form-too-large`` over :data:`RESPONSE_LIMIT`,
    and whatever :class:`Problem` ``store`` or ``record`` raises (e.g. ``ledger-unavailable``). Never records on a refusal.
    """
    if refusal := _not_offered(policy):
        return problem_response(refusal)
    if len(body) > RESPONSE_LIMIT:
        return problem_response(Problem("form-too-large", f"an age proof post is limited to {RESPONSE_LIMIT // 1024} KiB"))
    moment = now or _dt.datetime.now(_dt.UTC)
    try:
        nonce, presentation = read_response(body)
        session = await close_session(store, subject=subject, nonce=nonce, origin=origin, now=moment)
        proof = await anyio.to_thread.run_sync(verify_presentation, presentation, session, trust_list(policy), moment)
    except AgeProofError as error:
        return problem_response(Problem("age-proof-invalid", str(error), reason=str(error.reason)))
    except Problem as problem:  # the nonce store could not be asked: nothing was verified, nothing recorded
        return problem_response(problem)
    except Exception:  # a check that crashed proves nothing either: refuse (fail closed), and log the bug
        logger.exception("ugc_guard: the age proof verifier failed on a presentation for campaign %s", policy.campaign.id)
        return problem_response(
            Problem("age-proof-invalid", f"{Reason.malformed}: the presentation could not be processed", reason=str(Reason.malformed))
        )
    try:
        receipt = await record(subject, proof)
    except Problem as problem:
        return problem_response(problem)
    result: dict[str, Any] = {
        "band": proof.band, "outcome": proof.outcome, "method": proof.method, "assurance": proof.assurance, "issuer": proof.issuer,
        "attestation_expires": proof.attestation_expires.isoformat(timespec="seconds"),
    }  # fmt: skip
    if receipt is not None:
        result["receipt"] = dict(receipt)
    return JSONResponse(result, headers=_NO_STORE)


@cache
def _script() -> bytes:
    return files("ugc_guard.agecheck").joinpath("static/age-proof.js").read_bytes()


async def age_script() -> Response:
    """``GET {prefix}/age/age-proof.js``: the terms page's script (served from the site, so ``script-src 'self'`` suffices)."""
    return Response(_script(), media_type="text/javascript; charset=utf-8", headers={"cache-control": "public, max-age=3600"})

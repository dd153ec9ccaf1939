"""The request the page hands to the browser's Digital Credentials API, and the post that comes back.

The request is OpenID4VP 1.0 over the Digital Credentials API (appendix A), unsigned
(``openid4vp-v1-unsigned``), response mode ``dc_api``, with a DCQL query for one ``mso_mdoc`` of
doctype ``eu.europa.ec.av.1`` and its ``age_over_NN`` claims: the policy's ``minimum``, and
``guardian_minimum`` too when the campaign admits minors with a guardian (an adult's wallet then
shows both, a minor's tells which band applies). Each request has a fresh nonce, bound to the
subject and the page's origin and kept in a :class:`~.nonces.NonceStore` until it is answered once.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from .errors import AgeProofError, Reason
from .mdoc import AV_DOCTYPE, AV_NAMESPACE
from .nonces import NonceStore

__all__ = [
    "CREDENTIAL_ID", "PROTOCOL", "REQUEST_TTL", "Session", "browser_request", "close_session", "open_session", "read_response",
]  # fmt: skip

PROTOCOL = "openid4vp-v1-unsigned"
CREDENTIAL_ID = "proof_of_age"
REQUEST_TTL = 300
"""Seconds a request can be answered: time to pick the wallet, unlock it and agree."""
ALGORITHMS = [-7, -35, -36, -8]
MAX_TOKEN = 48 * 1024
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", re.ASCII)
_NONCE = re.compile(r"[A-Za-z0-9_-]{32,128}", re.ASCII)
_TOKEN = re.compile(r"[A-Za-z0-9_-]+={0,2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Session:
    """What one request promised: who asked, from which origin, with which nonce, for which ages."""

    subject: str
    origin: str
    nonce: str
    ages: tuple[int, ...]
    """The ``age_over_NN`` thresholds asked for, oldest first: ``(18,)`` or ``(18, 16)``."""
    expires_at: _dt.datetime

    def dumps(self) -> str:
        return json.dumps({"subject": self.subject, "origin": self.origin, "nonce": self.nonce, "ages": list(self.ages),
                           "expires_at": self.expires_at.isoformat()})  # fmt: skip

    @classmethod
    def loads(cls, text: str) -> Session:
        data = json.loads(text)
        return cls(data["subject"], data["origin"], data["nonce"], tuple(data["ages"]), _dt.datetime.fromisoformat(data["expires_at"]))


def _key(subject: str, nonce: str) -> str:
    return hashlib.sha256(f"{subject}\x00{nonce}".encode()).hexdigest()


async def open_session(store: NonceStore, *, subject: str, origin: str, minimum: int, guardian_minimum: int | None, now: _dt.datetime) -> Session:
    """Return a new session with a fresh nonce, kept in ``store`` for :data:`REQUEST_TTL` seconds.

    Raises ValueError when ``origin`` is not a bare ``http(s)://host[:port]`` origin.
    """
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(f"{origin[:80]!r} is not an origin (scheme://host[:port])")
    ages = (minimum,) if guardian_minimum is None else (minimum, guardian_minimum)
    session = Session(subject, origin, secrets.token_urlsafe(32), ages, now + _dt.timedelta(seconds=REQUEST_TTL))
    await store.put(_key(subject, session.nonce), session.dumps(), REQUEST_TTL)
    return session


async def close_session(store: NonceStore, *, subject: str, nonce: str, origin: str, now: _dt.datetime) -> Session:
    """Return the session of ``nonce`` and use it up, whatever the verification finds afterwards.

    Raises :class:`AgeProofError` ``replayed`` for a nonce answered before, and ``nonce`` for one
    never issued to ``subject``, expired, or issued to a page of another origin.
    """
    taken = await store.take(_key(subject, nonce))
    if taken.state == "used":
        raise AgeProofError(Reason.replayed, "this request was answered before; each request is good for one presentation")
    if taken.state == "unknown" or taken.value is None:
        raise AgeProofError(Reason.nonce, "this nonce was not issued to you here, or it expired; ask for a new request")
    session = Session.loads(taken.value)
    if now > session.expires_at:
        raise AgeProofError(Reason.nonce, f"the request expired at {session.expires_at:%H:%M:%S}Z; ask for a new one")
    if origin != session.origin:
        raise AgeProofError(Reason.nonce, f"the request was made for {session.origin}, not {origin[:80]}")
    return session


def browser_request(session: Session, response_url: str) -> dict[str, Any]:
    """Return the JSON for the page: the nonce, where to post the answer, and ``digital`` for ``navigator.credentials.get``."""
    claims = [{"id": f"age_over_{age}", "path": [AV_NAMESPACE, f"age_over_{age}"], "intent_to_retain": False} for age in session.ages]
    query = {"credentials": [{"id": CREDENTIAL_ID, "format": "mso_mdoc", "meta": {"doctype_value": AV_DOCTYPE}, "claims": claims}]}
    data = {
        "response_type": "vp_token",
        "response_mode": "dc_api",
        "nonce": session.nonce,
        "dcql_query": query,
        "client_metadata": {"vp_formats_supported": {"mso_mdoc": {"issuerauth_alg_values": ALGORITHMS, "deviceauth_alg_values": ALGORITHMS}}},
    }
    return {
        "nonce": session.nonce,
        "expires_at": session.expires_at.isoformat(timespec="seconds"),
        "response_url": response_url,
        "claims": [claim["id"] for claim in claims],
        "digital": {"requests": [{"protocol": PROTOCOL, "data": data}]},
    }


def read_response(body: bytes) -> tuple[str, str]:
    """Return the nonce and the base64url DeviceResponse from the page's post.

    The post is ``{"nonce": …, "protocol": "openid4vp-v1-unsigned", "data": {"vp_token": {"proof_of_age": ["…"]}}}``
    (``data`` is what the wallet returned through the browser). Raises :class:`AgeProofError`:
    ``wallet-error`` when ``data`` holds an OpenID4VP error, ``malformed`` for any other shape.
    """
    try:
        post = json.loads(body, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise AgeProofError(Reason.malformed, "the body is not a JSON object (UTF-8, no repeated keys)") from None
    if not isinstance(post, dict):
        raise AgeProofError(Reason.malformed, "the body must be a JSON object with nonce, protocol and data")
    nonce, protocol, data = post.get("nonce"), post.get("protocol"), post.get("data")
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise AgeProofError(Reason.malformed, "nonce must be the nonce of the request this answers")
    if protocol != PROTOCOL:
        raise AgeProofError(Reason.malformed, f"protocol must be {PROTOCOL!r}")
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise AgeProofError(Reason.wallet_error, f"the wallet answered with the error {data['error'][:60]!r}")
    token = data.get("vp_token") if isinstance(data, dict) else None
    presentations = token.get(CREDENTIAL_ID) if isinstance(token, dict) else None
    if not isinstance(presentations, list) or len(presentations) != 1 or not isinstance(presentations[0], str):
        raise AgeProofError(Reason.malformed, f"data.vp_token.{CREDENTIAL_ID} must be a list of one base64url DeviceResponse")
    presentation = presentations[0]
    if len(presentation) > MAX_TOKEN or not _TOKEN.fullmatch(presentation):
        raise AgeProofError(Reason.malformed, f"the presentation must be base64url text of at most {MAX_TOKEN} characters")
    return nonce, presentation


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key is repeated")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")

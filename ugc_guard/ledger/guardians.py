"""Guardian consent: a guardian request (its one-time token kept only as a hash), the guardian's
confirmation and withdrawal; each appended atomically with the subject's derived guardian status."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..evidence import derive_key
from .canonical import utc_text
from .chain import Draft, Stored, subject_key
from .core import LedgerCore
from .crypto import Sealer, seal_context
from .errors import EntryNotFound, LedgerError
from .inputs import ClientInfo, LicenceShown, TermsShown
from .models import Entry
from .receipts import Receipt, receipt_for
from .status import guardian_changed

__all__ = ["GuardianRequest", "GuardianRequestUsed", "address_hash", "find_guardian_request", "record_guardian_confirmation",
           "record_guardian_request", "record_guardian_withdrawal"]


class GuardianRequestUsed(LedgerError):
    """The guardian request was already confirmed or withdrawn (its one-time token is spent)."""


@dataclass(frozen=True, slots=True)
class GuardianRequest:
    """A guardian request found by its token hash."""

    request_id: int
    campaign: str
    subject: str
    acceptance_id: int | None
    terms_version: str | None
    expires_at: dt.datetime
    guardian_index: int
    language: str | None
    used: bool
    """Confirmed or withdrawn already: the token may not be used again."""


def record_guardian_request(
    core: LedgerCore, campaign: str, subject: str, *, acceptance_id: int, token_sha256: str, expires_at: dt.datetime,
    guardian_email: str, guardian_index: int = 1, language: str | None = None, client: ClientInfo | None = None,
    checks: Mapping[str, Any] | None = None,
) -> Stored:
    """Append a guardian request (token only as its SHA-256; e-mail sealed); return the stored entry.

    ``checks`` (public, no personal data) says what was checked when the address was given, e.g.
    ``{"address_differs_from_minor": true}``; the confirmation repeats it. The channel is ``e-mail``.
    """
    payload = {"token_sha256": token_sha256, "expires_at": utc_text(expires_at), "guardian_index": guardian_index,
               "acceptance_entry": acceptance_id, "language": language, "channel": "e-mail", "checks": dict(checks or {})}
    draft = Draft("guardian_requested", subject, payload, {**core.evidence(client), "guardian_email": guardian_email},
                  ref=acceptance_id, content_sha256=token_sha256)

    def after(connection: Connection, stored: list[Stored]) -> None:
        guardian_changed(connection, campaign, subject, acceptance_id, stored[0].recorded_at, "pending", 0)

    return core.append(campaign, [draft], after)[0]


def find_guardian_request(connection: Connection, campaign: str, token_sha256: str) -> GuardianRequest | None:
    """Return the request with this token hash in ``campaign`` (one indexed lookup), or None."""
    row = connection.execute(
        select(Entry.id, Entry.subject, Entry.ref, Entry.body).where(
            Entry.content_sha256 == token_sha256, Entry.campaign == campaign, Entry.kind == "guardian_requested")
    ).first()
    if row is None:
        return None
    payload = json.loads(row.body)
    used = connection.execute(
        select(Entry.id).where(Entry.campaign == campaign, Entry.ref == row.id,
                               Entry.kind.in_(("guardian_confirmed", "guardian_withdrawn"))).limit(1)
    ).first() is not None
    terms_version = connection.execute(select(Entry.terms_version).where(Entry.id == row.ref)).scalar_one_or_none()
    return GuardianRequest(
        row.id, campaign, row.subject or "", row.ref, terms_version, dt.datetime.fromisoformat(payload["expires_at"]),
        payload.get("guardian_index", 1), payload.get("language"), used,
    )


def _request(connection: Connection, campaign: str, request_id: int) -> Any:
    row = connection.execute(
        select(Entry.id, Entry.subject, Entry.ref, Entry.body).where(
            Entry.id == request_id, Entry.campaign == campaign, Entry.kind == "guardian_requested")
    ).one_or_none()
    if row is None:
        raise EntryNotFound(f"no guardian request {request_id} in campaign {campaign!r}")
    return row


def _unused(campaign: str, request_id: int) -> Any:
    def guard(connection: Connection) -> None:
        spent = connection.execute(
            select(Entry.id).where(Entry.campaign == campaign, Entry.ref == request_id,
                                   Entry.kind.in_(("guardian_confirmed", "guardian_withdrawn"))).limit(1)
        ).first()
        if spent is not None:
            raise GuardianRequestUsed(f"guardian request {request_id} was already answered (entry {spent[0]})")

    return guard


def _opened(connection: Connection, core: LedgerCore, campaign: str, subject: str, kind: str, body: str) -> dict[str, Any]:
    """Return the personal fields sealed in an entry body, or {} when they cannot be opened (no secret, erased)."""
    sealed = json.loads(body).get("sealed")
    if not sealed or not core.sealer.can_open:
        return {}
    try:
        key = subject_key(connection, core.sealer, campaign, subject, create=False)
        return Sealer.open(key, seal_context(campaign, subject, kind), sealed)
    except LedgerError:
        return {}


def _same(mine: Sequence[str | None], theirs: Any) -> bool | None:
    # ``mine`` holds the confirming client's evidence keyed with each listed secret (rotation)
    known = [value for value in mine if value is not None]
    return None if not known or not isinstance(theirs, str) else theirs in known


def address_hash(secret: bytes | None, address: str) -> str | None:
    """Return the keyed hash of an e-mail address kept with a guardian's confirmation (``hmac-sha256:<hex>``
    of the address in lower case, under a key of its own), or None without the site secret."""
    if not secret or not address:
        return None
    digest = hmac.new(derive_key(secret, "guardian-address"), address.strip().casefold().encode(), hashlib.sha256)
    return "hmac-sha256:" + digest.hexdigest()


def _guardian_checks(connection: Connection, core: LedgerCore, campaign: str, request: Any,
                     evidence: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Return the request's payload, what the ledger can check about the confirming client against the
    minor's acceptance (same network evidence or not; None when either side kept none), and the keyed
    hash of the address the link was sent to."""
    payload: dict[str, Any] = json.loads(request.body)
    personal = _opened(connection, core, campaign, request.subject, "guardian_requested", request.body)
    accepted: dict[str, Any] = {}
    if request.ref is not None:
        body = connection.execute(select(Entry.body).where(Entry.id == request.ref, Entry.campaign == campaign)).scalar_one_or_none()
        if body is not None:
            accepted = _opened(connection, core, campaign, request.subject, "terms_acceptance", body)
    compared = {
        "client_address_matches_minor": _same([one.get("client_address") for one in evidence], accepted.get("client_address")),
        "user_agent_matches_minor": _same([one.get("user_agent") for one in evidence], accepted.get("user_agent")),
    }
    return payload, compared, address_hash(core.secret, str(personal.get("guardian_email") or ""))


def record_guardian_confirmation(
    core: LedgerCore, campaign: str, request_id: int, *, guardian_name: str, relationship: str, terms: TermsShown,
    licence: LicenceShown, policy_digest: str, client: ClientInfo | None = None, checks: Mapping[str, Any] | None = None,
) -> Receipt:
    """Append a guardian's confirmation of terms and licence for the minor; return its receipt.

    Recorded with it: how the guardian was reached (``channel``; the address only as a keyed hash, sealed
    like every personal field) and ``checks``: what the caller checked (e.g. token possession, not the
    minor's session), what was checked when the address was given, and whether the confirming client's
    network evidence equals the minor's acceptance (recorded, never refused: families share networks).
    Raises :class:`EntryNotFound` for an unknown request and :class:`GuardianRequestUsed` when the
    request was confirmed or withdrawn before (checked under the chain lock, so a token works once).
    """
    evidence = core.evidence(client)
    with core.connect() as connection:
        request = _request(connection, campaign, request_id)
        variants = [core.evidence(client, secret=secret) for secret in core.secrets] or [evidence]
        requested, compared, address = _guardian_checks(connection, core, campaign, request, variants)
    recorded_checks = {**dict(checks or {}), **dict(requested.get("checks") or {}), **compared}
    payload = {
        "request_entry": request_id, "covers": ["terms", "licence"], "terms_version": terms.version,
        "terms_sha256": terms.text_sha256, "language": terms.language, "licence_id": licence.licence_id,
        "licence_version": licence.version, "licence_sha256": licence.text_sha256, "policy_digest": policy_digest,
        "channel": requested.get("channel", "e-mail"), "checks": recorded_checks,
    }
    personal = {**evidence, "guardian_name": guardian_name, "relationship": relationship}
    if address is not None:
        personal["guardian_address"] = address
    draft = Draft("guardian_confirmed", request.subject, payload, personal, ref=request_id, terms_version=terms.version)

    def after(connection: Connection, stored: list[Stored]) -> None:
        guardian_changed(connection, campaign, request.subject, request.ref, stored[0].recorded_at, "confirmed", 1)

    return receipt_for(core.append(campaign, [draft], after, _unused(campaign, request_id)))


def record_guardian_withdrawal(
    core: LedgerCore, campaign: str, request_id: int, *, reason: str | None = None, client: ClientInfo | None = None,
) -> Receipt:
    """Append a guardian's withdrawal of consent; return its receipt. Raises :class:`EntryNotFound`."""
    with core.connect() as connection:
        request = _request(connection, campaign, request_id)
    draft = Draft("guardian_withdrawn", request.subject, {"request_entry": request_id, "reason": reason},
                  core.evidence(client), ref=request_id)

    def after(connection: Connection, stored: list[Stored]) -> None:
        guardian_changed(connection, campaign, request.subject, request.ref, stored[0].recorded_at, "withdrawn", -1)

    return receipt_for(core.append(campaign, [draft], after))

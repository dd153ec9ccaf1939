"""The privacy-request log: requests that arrived by e-mail, with regime, received date and outcome.

Operational data, deliberately kept out of the hash chain (table ``ledger_requests``, migration
0004): a request is worked on (extended, answered) and its row changes, and a request may come from
someone who is not a subject yet. What answers it — an export, a withdrawal, an erasure — is recorded
in the chain as entries. Deadlines come from :func:`ugc_guard.rules.deadlines.deadlines`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.engine import Connection

from .errors import EntryNotFound, LedgerError
from .models import UTCDateTime

__all__ = ["REGIMES", "REQUEST_KINDS", "RightsRequest", "add_request", "close_request", "extend_request", "list_requests"]

REGIMES = ("gdpr", "ccpa")
REQUEST_KINDS = ("access", "portability", "erasure", "rectification", "restriction", "objection", "withdrawal",
                 "opt-out", "other")

_metadata = MetaData()
requests_table = Table(
    "ledger_requests", _metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("campaign", String(63)), Column("subject", String(128)), Column("regime", String(10)),
    Column("kind", String(20)), Column("received", Date), Column("reference", String(200)),
    Column("extended", Boolean), Column("closed_on", Date), Column("outcome", String(200)),
    Column("created_at", UTCDateTime),
)


@dataclass(frozen=True, slots=True)
class RightsRequest:
    """One logged request. ``reference`` is the operator's ticket or mail id, never the e-mail address."""

    id: int
    campaign: str | None
    subject: str | None
    regime: str
    kind: str
    received: dt.date
    reference: str | None
    extended: bool
    closed_on: dt.date | None
    outcome: str | None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _of(row: Any) -> RightsRequest:
    return RightsRequest(row.id, row.campaign, row.subject, row.regime, row.kind, row.received, row.reference,
                         bool(row.extended), row.closed_on, row.outcome)


def add_request(connection: Connection, *, regime: str, kind: str, received: dt.date, campaign: str | None = None,
                subject: str | None = None, reference: str | None = None) -> RightsRequest:
    """Log a request; return it. Raises :class:`LedgerError` for an unknown regime or kind or a future date."""
    if regime not in REGIMES:
        raise LedgerError(f"regime {regime!r} is not one of {', '.join(REGIMES)}")
    if kind not in REQUEST_KINDS:
        raise LedgerError(f"request kind {kind!r} is not one of {', '.join(REQUEST_KINDS)}")
    if received > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise LedgerError(f"received date {received.isoformat()} is in the future")
    result = connection.execute(insert(requests_table).values(
        campaign=campaign, subject=subject, regime=regime, kind=kind, received=received, reference=reference,
        extended=False, closed_on=None, outcome=None, created_at=dt.datetime.now(dt.UTC),
    ))
    new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    return _get(connection, int(new_id or 0))


def _get(connection: Connection, request_id: int) -> RightsRequest:
    row = connection.execute(select(requests_table).where(requests_table.c.id == request_id)).one_or_none()
    if row is None:
        raise EntryNotFound(f"no request with id {request_id}")
    return _of(row)


def extend_request(connection: Connection, request_id: int) -> RightsRequest:
    """Mark that the requester was told the answer needs the extension; return the request."""
    _get(connection, request_id)
    connection.execute(update(requests_table).where(requests_table.c.id == request_id).values(extended=True))
    return _get(connection, request_id)


def close_request(connection: Connection, request_id: int, *, outcome: str, on: dt.date) -> RightsRequest:
    """Mark a request answered on ``on`` with ``outcome``; return it. Raises :class:`EntryNotFound`."""
    _get(connection, request_id)
    connection.execute(update(requests_table).where(requests_table.c.id == request_id).values(closed_on=on, outcome=outcome))
    return _get(connection, request_id)


def list_requests(connection: Connection, *, open_only: bool = True) -> list[RightsRequest]:
    """Return logged requests (the open ones by default), oldest received first."""
    statement = select(requests_table).order_by(requests_table.c.received, requests_table.c.id)
    if open_only:
        statement = statement.where(requests_table.c.closed_on.is_(None))
    return [_of(row) for row in connection.execute(statement)]

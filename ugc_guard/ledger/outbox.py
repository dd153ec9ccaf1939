"""The webhook outbox (migration 0007): events waiting for delivery, one row per event and endpoint.

Rows are operational, not evidence. A delivery worker :meth:`Outbox.claim` s due rows (a lease, so
two workers never send the same row at once), then marks each ``delivered``, or failed with the time
of the next attempt, or ``dead`` after the last one. :meth:`Outbox.retry` puts dead rows back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Index, Integer, String, Text, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, Id, UTCDateTime

__all__ = ["OUTBOX_STATUSES", "Outbox", "OutboxEvent", "OutboxRow"]

OUTBOX_STATUSES = ("pending", "delivered", "dead")


class OutboxRow(Base):
    """One event for one endpoint, until it is delivered or dead."""

    __tablename__ = "ugc_guard_outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(63))
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    endpoint: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[str] = mapped_column(Text)
    """The JSON body exactly as it is signed and sent."""
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event to deliver to one endpoint; ``payload`` is the JSON body."""

    campaign: str
    event_id: str
    type: str
    endpoint: str
    payload: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A row as the worker and the CLI see it."""

    id: int
    campaign: str
    event_id: str
    type: str
    endpoint: str
    payload: str
    status: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_error: str | None


_COLUMNS = [getattr(OutboxRow, name) for name in Delivery.__slots__]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Outbox:
    """The outbox of one ledger database (any object with the ledger's ``_core``, i.e. a :class:`Ledger`).

    Every method raises :class:`LedgerUnavailable` when the database cannot be reached and
    :class:`SchemaOutdated` before migration 0007.
    """

    def __init__(self, ledger: object) -> None:
        self._core = ledger._core  # type: ignore[attr-defined]

    def add(self, events: Sequence[OutboxEvent], *, now: dt.datetime | None = None) -> list[int]:
        """Store events as ``pending``, due now; return their row ids."""
        moment = now or _now()
        ids: list[int] = []
        with self._core.connect() as connection:
            for event in events:
                result = connection.execute(insert(OutboxRow).values(
                    campaign=event.campaign, event_id=event.event_id, type=event.type, endpoint=event.endpoint,
                    payload=event.payload, status="pending", attempts=0, created_at=moment, next_attempt_at=moment,
                ))
                ids.append(int(result.inserted_primary_key[0]))
        return ids

    def claim(self, *, campaign: str | None = None, limit: int = 50, lease: float = 60.0,
              now: dt.datetime | None = None) -> list[Delivery]:
        """Lease up to ``limit`` due ``pending`` rows (of one campaign) for ``lease`` seconds; return them, oldest first."""
        moment = now or _now()
        free = or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < moment)
        due = and_(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= moment, free)
        if campaign is not None:
            due = and_(due, OutboxRow.campaign == campaign)
        claimed: list[Delivery] = []
        with self._core.connect() as connection:
            rows = connection.execute(select(*_COLUMNS).where(due).order_by(OutboxRow.id).limit(limit)).all()
            until = moment + dt.timedelta(seconds=lease)
            for row in rows:
                won = connection.execute(update(OutboxRow).where(OutboxRow.id == row.id, due).values(lease_until=until))
                if won.rowcount == 1:
                    claimed.append(Delivery(*row))
        return claimed

    def delivered(self, row_id: int, *, now: dt.datetime | None = None) -> None:
        """Mark a row delivered (one more attempt)."""
        with self._core.connect() as connection:
            connection.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
                status="delivered", attempts=OutboxRow.attempts + 1, delivered_at=now or _now(), lease_until=None,
                last_error=None))

    def failed(self, row_id: int, error: str, *, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt: due again at ``retry_at``, or ``dead`` when it is None."""
        values = {"attempts": OutboxRow.attempts + 1, "lease_until": None, "last_error": error[:500]}
        with self._core.connect() as connection:
            connection.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
                **values, **({"status": "dead"} if retry_at is None else {"next_attempt_at": retry_at})))

    def list(self, *, status: str | None = None, campaign: str | None = None, ids: Sequence[int] = (), limit: int = 100) -> list[Delivery]:
        """Return rows (newest first), optionally of one status and campaign, or only these ``ids``."""
        query = select(*_COLUMNS).order_by(OutboxRow.id.desc()).limit(limit)
        if ids:
            query = query.where(OutboxRow.id.in_(list(ids)))
        if status is not None:
            query = query.where(OutboxRow.status == status)
        if campaign is not None:
            query = query.where(OutboxRow.campaign == campaign)
        with self._core.connect() as connection:
            return [Delivery(*row) for row in connection.execute(query).all()]

    def retry(self, ids: Sequence[int] = (), *, campaign: str | None = None, now: dt.datetime | None = None) -> int:
        """Put ``dead`` rows (these ``ids``, or all of the campaign's) back to ``pending`` with fresh attempts; return how many."""
        query = update(OutboxRow).where(OutboxRow.status == "dead")
        if ids:
            query = query.where(OutboxRow.id.in_(list(ids)))
        if campaign is not None:
            query = query.where(OutboxRow.campaign == campaign)
        with self._core.connect() as connection:
            return int(connection.execute(query.values(status="pending", attempts=0, next_attempt_at=now or _now(),
                                                       lease_until=None)).rowcount)

    def next_due(self, *, campaign: str | None = None) -> dt.datetime | None:
        """Return when the earliest ``pending`` row is due, or None when nothing is pending."""
        query = select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
        if campaign is not None:
            query = query.where(OutboxRow.campaign == campaign)
        with self._core.connect() as connection:
            value = connection.execute(query).scalar()
        if not isinstance(value, dt.datetime):
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

    def purge_delivered(self, *, before: dt.datetime) -> int:
        """Delete rows delivered before ``before``; return how many."""
        with self._core.connect() as connection:
            query = delete(OutboxRow).where(OutboxRow.status == "delivered", OutboxRow.delivered_at < before)
            return int(connection.execute(query).rowcount)

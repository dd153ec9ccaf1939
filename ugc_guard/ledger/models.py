"""SQLAlchemy models: the entry chain (evidence), chain heads (the append lock), subject keys
(personal data apart from the chain) and two derived status tables (indexes, not evidence).

Only ``ledger_entries`` is evidence. Rows there are inserted, never updated or deleted; the other
tables may change and can be rebuilt from the entries (keys excepted: destroying one is erasure).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "ChainHead", "Entry", "SubjectKey", "SubjectStatusRow", "SubmissionStatusRow", "UTCDateTime"]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite only auto-increments INTEGER PRIMARY KEY


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("ledger times must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = value
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Entry(Base):
    """One ledger entry: a link in its campaign's hash chain (see :mod:`ugc_guard.ledger.canonical`)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("campaign", "position"),
        Index(None, "subject", "id"),
        Index(None, "content_sha256"),
        Index(None, "campaign", "kind", "id"),
        Index(None, "ref"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ref: Mapped[int | None] = mapped_column(BigInteger)
    """The entry this one is about: the acceptance a submission relies on, the submission of a grant…"""
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    terms_version: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    """Canonical JSON payload, stored verbatim; personal fields only as ciphertext."""
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The last position and hash of a campaign's chain; appenders lock this row."""

    __tablename__ = "ledger_chain_heads"

    campaign: Mapped[str] = mapped_column(String(63), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SubjectKey(Base):
    """A subject's data key, wrapped with a key derived from the site secret; erasure deletes it."""

    __tablename__ = "ledger_subject_keys"

    campaign: Mapped[str] = mapped_column(String(63), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SubjectStatusRow(Base):
    """Latest status of a subject in a campaign, updated in the append transaction (a derived index)."""

    __tablename__ = "ledger_subject_status"
    __table_args__ = (Index(None, "campaign", "reconfirm_due"),)

    campaign: Mapped[str] = mapped_column(String(63), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    terms_version: Mapped[str | None] = mapped_column(String(64))
    acceptance_id: Mapped[int | None] = mapped_column(BigInteger)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    capacity: Mapped[str | None] = mapped_column(String(20))
    age_band: Mapped[str | None] = mapped_column(String(20))
    age_assurance: Mapped[str | None] = mapped_column(String(40))
    guardian_status: Mapped[str] = mapped_column(String(20), default="none")
    guardians_confirmed: Mapped[int] = mapped_column(Integer, default=0)
    reconfirm: Mapped[bool] = mapped_column(Boolean, default=False)
    reconfirm_due: Mapped[dt.date | None] = mapped_column(Date)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SubmissionStatusRow(Base):
    """Current status of each submission (the latest status entry), for cheap status filters."""

    __tablename__ = "ledger_submission_status"
    __table_args__ = (Index(None, "campaign", "status", "submission_id"),)

    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(63))
    subject: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(80))
    """The worker that recorded a ``received`` submission (see :mod:`ugc_guard.ledger.unconfirmed`)."""

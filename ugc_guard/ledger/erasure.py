"""Erasure: an ``erasure`` entry and the destruction of the subject's key, in one transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .models import SubjectKey
from .receipts import Receipt, receipt_for
from .status import upsert_subject

__all__ = ["erase_subject"]


def erase_subject(core: LedgerCore, campaign: str, subject: str, *, reason: str, requested_by: str = "subject") -> Receipt:
    """Erase the subject's personal data: append an ``erasure`` entry and destroy their key in the same
    transaction. The chain still verifies; their entries then read ``[erased]`` where personal data
    was. On SQLite the write-ahead log is checkpointed so the old key page is overwritten on disk."""

    def after(connection: Connection, stored: list[Stored]) -> None:
        now = stored[0].recorded_at
        connection.execute(
            update(SubjectKey).where(SubjectKey.campaign == campaign, SubjectKey.subject == subject)
            .values(wrapped_key=None, erased_at=now)
        )
        upsert_subject(connection, campaign, subject, now, erased=True)

    stored = core.append(campaign, [Draft("erasure", subject, {"reason": reason, "requested_by": requested_by})], after)
    if core.engine.dialect.name == "sqlite":
        with core.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return receipt_for(stored)

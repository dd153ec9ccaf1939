"""Entries as read back: the public payload plus the personal fields, opened with the subject key,
or shown as ``[erased]`` (key destroyed) or ``[sealed]`` (opened without the site secret)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .crypto import ERASED, SEALED, Sealer, seal_context
from .errors import LedgerError
from .kinds import kind as kind_of
from .models import Entry, SubjectKey

__all__ = ["ENTRY_COLUMNS", "EntryView", "Opener"]

ENTRY_COLUMNS = (
    Entry.id, Entry.campaign, Entry.position, Entry.kind, Entry.subject, Entry.recorded_at, Entry.ref,
    Entry.content_sha256, Entry.terms_version, Entry.status, Entry.body, Entry.previous_hash, Entry.hash,
)


@dataclass(frozen=True, slots=True)
class EntryView:
    """One entry for reading: its columns and ``data`` (payload with personal fields resolved)."""

    id: int
    campaign: str
    position: int
    kind: str
    subject: str | None
    recorded_at: dt.datetime
    ref: int | None
    content_sha256: str | None
    terms_version: str | None
    status: str | None
    data: dict[str, Any]
    hash: str
    previous_hash: str
    current_status: str | None = None
    """For a submission listed with its current status: the latest status entry's (``status`` is the one it
    was recorded with, which the hash covers)."""

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as a JSON-ready dict (times as ISO 8601 UTC); ``current_status`` only when known."""
        row = {
            "id": self.id, "campaign": self.campaign, "position": self.position, "kind": self.kind,
            "subject": self.subject, "recorded_at": self.recorded_at.isoformat(), "ref": self.ref,
            "content_sha256": self.content_sha256, "terms_version": self.terms_version, "status": self.status,
            "data": self.data, "hash": self.hash,
        }
        if self.current_status is not None:
            row["current_status"] = self.current_status
        return row


class Opener:
    """Builds :class:`EntryView` objects, fetching each subject's key once per connection."""

    def __init__(self, connection: Connection, sealer: Sealer) -> None:
        self.connection = connection
        self.sealer = sealer
        self._keys: dict[tuple[str, str], bytes | None] = {}

    def view(self, row: Any) -> EntryView:
        """Return the entry of a row of :data:`ENTRY_COLUMNS`, personal fields opened where possible."""
        payload: dict[str, Any] = json.loads(row.body)
        sealed = payload.pop("sealed", None)
        if sealed is not None and row.subject is not None:
            payload.update(self._open(row.campaign, row.subject, row.kind, sealed))
        return EntryView(
            row.id, row.campaign, row.position, row.kind, row.subject, row.recorded_at, row.ref, row.content_sha256,
            row.terms_version, row.status, payload, row.hash, row.previous_hash, getattr(row, "current_status", None),
        )

    def _open(self, campaign: str, subject: str, kind: str, sealed: str) -> dict[str, Any]:
        names = sorted(kind_of(kind).personal)
        if not self.sealer.can_open:
            return dict.fromkeys(names, SEALED)
        key = self._key(campaign, subject)
        if key is None:
            return dict.fromkeys(names, ERASED)
        try:
            return Sealer.open(key, seal_context(campaign, subject, kind), sealed)
        except LedgerError:
            return dict.fromkeys(names, "[altered]")

    def _key(self, campaign: str, subject: str) -> bytes | None:
        if (campaign, subject) not in self._keys:
            wrapped = self.connection.execute(
                select(SubjectKey.wrapped_key).where(SubjectKey.campaign == campaign, SubjectKey.subject == subject)
            ).scalar_one_or_none()
            self._keys[campaign, subject] = self.sealer.unwrap(campaign, subject, wrapped) if wrapped else None
        return self._keys[campaign, subject]

"""What an append is made of: the drafts a caller hands in, the entries as stored, and the per-subject
keys that seal personal fields (shared by the SQLite and PostgreSQL append paths)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from .canonical import body_json
from .crypto import Sealer, seal_context
from .errors import LedgerError, SubjectErased
from .rawsql import Raw, Upsert

__all__ = ["AfterAppend", "CommittedButWrong", "DerivedRows", "Draft", "Stored", "keys_for", "prepare", "subject_key"]


@dataclass(slots=True)
class Draft:
    """An entry to append. ``ref`` is an entry id, or ``-(i + 1)`` for the i-th draft of the same batch."""

    kind: str
    subject: str | None
    payload: dict[str, Any]
    personal: dict[str, Any] = field(default_factory=dict)
    ref: int | None = None
    content_sha256: str | None = None
    terms_version: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """An appended entry as written (public payload only)."""

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
    payload: dict[str, Any]
    previous_hash: str
    hash: str


AfterAppend = Callable[[Connection, list[Stored]], None]


class DerivedRows:
    """An ``after`` that only upserts rows computed from the stored entries (it reads nothing and
    writes nothing else). Called, it writes its rows; group commit instead writes the rows of
    consecutive such callers of one batch together, one statement per table, as if one after another."""

    __slots__ = ("rows",)

    def __init__(self, rows: Callable[[list[Stored]], list[Upsert]]) -> None:
        self.rows = rows

    def __call__(self, connection: Connection, stored: list[Stored]) -> None:
        Raw(connection).upsert_rows(self.rows(stored))


class CommittedButWrong(LedgerError):
    """Raised after the append committed (the database's hash differs from the canonical encoding):
    never retried, since the entries are recorded; ``ugc-guard ledger verify`` shows them."""


def keys_for(connection: Connection, sealer: Sealer, campaign: str, drafts: Sequence[Draft]) -> dict[str, bytes]:
    """Return the key of every subject with personal fields in ``drafts`` (created on first use).
    Raises :class:`SubjectErased`. Taken before the chain lock, so no writer holds the head while
    waiting for a key row."""
    return {d.subject: subject_key(connection, sealer, campaign, d.subject) for d in drafts if d.personal and d.subject}


def prepare(
    campaign: str, drafts: Sequence[Draft], ids: list[int], keys: dict[str, bytes]
) -> list[tuple[Draft, int, int | None, dict[str, Any], str]]:
    """Return each draft with its id, resolved ref, payload (personal fields sealed) and canonical body."""
    prepared = []
    for entry_id, draft in zip(ids, drafts, strict=True):
        ref = ids[-draft.ref - 1] if draft.ref is not None and draft.ref < 0 else draft.ref
        payload = dict(draft.payload)
        if draft.personal and draft.subject:
            payload["sealed"] = Sealer.seal(keys[draft.subject], seal_context(campaign, draft.subject, draft.kind), draft.personal)
        prepared.append((draft, entry_id, ref, payload, body_json(payload)))
    return prepared


def subject_key(connection: Connection, sealer: Sealer, campaign: str, subject: str, *, create: bool = True) -> bytes:
    """Return the subject's key, creating it on first use. Raises :class:`SubjectErased` after erasure."""
    raw = Raw(connection)
    select_key = "SELECT wrapped_key FROM ledger_subject_keys WHERE campaign = ? AND subject = ?"
    row = raw.execute(select_key, (campaign, subject)).fetchone()
    if row is None and create:
        key, wrapped = sealer.new_key(campaign, subject)
        raw.execute("INSERT INTO ledger_subject_keys (campaign, subject, wrapped_key, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (campaign, subject) DO NOTHING", (campaign, subject, wrapped, raw.time(dt.datetime.now(dt.UTC))))
        if raw.cursor.rowcount == 1:
            return key
        row = raw.execute(select_key, (campaign, subject)).fetchone()
    if row is None or row[0] is None:
        raise SubjectErased(f"subject {subject!r} in campaign {campaign!r} was erased; record under a new pseudonym")
    return sealer.unwrap(campaign, subject, bytes(row[0]))

"""Appending to a campaign's hash chain: one serialised transaction per batch of entries.

The campaign's row in ``ledger_chain_heads`` is the lock: ``SELECT … FOR UPDATE`` on PostgreSQL,
the database write lock taken by ``BEGIN IMMEDIATE`` on SQLite. Under it the batch gets the next
positions and ids, each entry's hash covers the previous one, and the head moves on — all in the one
transaction, so a writer killed half-way leaves nothing. The unique (campaign, position) constraint is
the last line of defence; a clash or a busy database is retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from . import tree
from .canonical import entry_hash, header_json, utc_text
from .crypto import Sealer
from .drafting import AfterAppend, Draft, Stored, keys_for, prepare, subject_key
from .engine import WRITE, first_line, translate_errors
from .errors import LedgerUnavailable
from .pgappend import append_postgres
from .rawsql import Raw

__all__ = ["AfterAppend", "Draft", "Stored", "append", "subject_key"]

MAX_ATTEMPTS = 50
_RETRYABLE = ("database is locked", "database is busy", "deadlock detected", "could not serialize", "lock timeout")


def append(
    engine: Engine,
    url: str,
    sealer: Sealer,
    campaign: str,
    drafts: Sequence[Draft],
    after: AfterAppend | None = None,
    guard: Callable[[Connection], None] | None = None,
    *,
    durable: bool = True,
    retry_for: float = 15.0,
    defer_flush: bool = False,
) -> list[Stored]:
    """Append ``drafts`` to ``campaign``'s chain in one transaction at consecutive positions.

    ``guard`` runs once the chain is locked and may raise to refuse (e.g. a guardian token already
    spent); ``after`` runs in the same transaction (derived status tables). ``durable=False`` lets
    PostgreSQL acknowledge the commit before its WAL reaches disk (``synchronous_commit off``): a
    server crash may then lose the newest entries, never break the chain. ``defer_flush`` (group commit)
    has PostgreSQL commit without waiting for the WAL flush: the caller runs :func:`pgappend.flush_wal`
    before it acknowledges anything. Returns the stored entries.
    Raises :class:`SubjectErased` for personal data of an erased subject and
    :class:`LedgerUnavailable` when the database cannot be reached or stays busy for ``retry_for`` seconds.
    """
    deadline = time.monotonic() + retry_for
    for attempt in range(MAX_ATTEMPTS):
        try:
            with translate_errors(url), engine.connect().execution_options(**WRITE) as connection, connection.begin():
                if guard is None and connection.dialect.name == "postgresql":
                    return append_postgres(connection, sealer, campaign, drafts, after, durable, defer_flush=defer_flush)
                stored = _append_once(connection, sealer, campaign, drafts, guard, durable)
                if after is not None:
                    after(connection, stored)
                return stored
        except LedgerUnavailable as error:
            cause = error.__cause__
            if not _retryable(cause) or attempt == MAX_ATTEMPTS - 1 or time.monotonic() > deadline:
                raise
        except IntegrityError:
            if attempt == MAX_ATTEMPTS - 1 or time.monotonic() > deadline:
                raise
        time.sleep(min(0.2, 0.002 * 2 ** min(attempt, 7)) * random.random())
    raise AssertionError("unreachable")  # pragma: no cover


def _retryable(error: BaseException | None) -> bool:
    if not isinstance(error, OperationalError | DBAPIError) or error.connection_invalidated:
        return False
    message = first_line(error).lower()
    return any(fragment in message for fragment in _RETRYABLE)


def _append_once(
    connection: Connection, sealer: Sealer, campaign: str, drafts: Sequence[Draft], guard: Callable[[Connection], None] | None,
    durable: bool,
) -> list[Stored]:
    raw = Raw(connection)
    if raw.postgres and not durable:
        raw.execute("SET LOCAL synchronous_commit TO OFF")
    keys = keys_for(connection, sealer, campaign, drafts)
    position, previous, ids = _lock_head(raw, campaign, len(drafts))
    if guard is not None:
        guard(connection)
    now = dt.datetime.now(dt.UTC)
    moment, bound_now = utc_text(now), raw.time(now)
    rows: list[tuple[Any, ...]] = []
    stored: list[Stored] = []
    size = position
    for draft, entry_id, ref, payload, body in prepare(campaign, drafts, ids, keys):
        position += 1
        header = header_json(entry_id, campaign, position, previous, draft.kind, draft.subject, moment, ref,
                             draft.content_sha256, draft.terms_version, draft.status)
        digest = entry_hash(header, body)
        rows.append((entry_id, campaign, position, draft.kind, draft.subject, bound_now, ref, draft.content_sha256,
                     draft.terms_version, draft.status, body, previous, digest))
        stored.append(Stored(entry_id, campaign, position, draft.kind, draft.subject, now, ref, draft.content_sha256,
                             draft.terms_version, draft.status, payload, previous, digest))
        previous = digest
    raw.insert_entries(rows)
    tree.extend(raw, campaign, size, [entry.hash for entry in stored])
    raw.execute("UPDATE ledger_chain_heads SET position = ?, hash = ?, updated_at = ? WHERE campaign = ?",
                (position, previous, bound_now, campaign))
    return stored


_LOCK_PG = ("SELECT position, hash, (SELECT array_agg(nextval('ledger_entries_id_seq')) FROM generate_series(1, ?)) "
            "FROM ledger_chain_heads WHERE campaign = ? FOR UPDATE")
_LOCK_SQLITE = "SELECT position, hash, (SELECT coalesce(max(id), 0) FROM ledger_entries) FROM ledger_chain_heads WHERE campaign = ?"


def _lock_head(raw: Raw, campaign: str, count: int) -> tuple[int, str, list[int]]:
    """Lock the campaign's chain head; return its position and hash and ``count`` new ids, ascending.

    PostgreSQL locks the head row (FOR UPDATE); SQLite already holds the database write lock
    (BEGIN IMMEDIATE), under which the next ids are simply the largest id + 1, + 2…
    """
    for _ in range(2):
        if raw.postgres:
            row = raw.execute(_LOCK_PG, (count, campaign)).fetchone()
            if row is not None:
                return row[0], row[1], sorted(row[2])
        else:
            row = raw.execute(_LOCK_SQLITE, (campaign,)).fetchone()
            if row is not None:
                return row[0], row[1], list(range(row[2] + 1, row[2] + 1 + count))
        raw.execute("INSERT INTO ledger_chain_heads (campaign, position, hash, updated_at) VALUES (?, 0, '', ?) "
                    "ON CONFLICT (campaign) DO NOTHING", (campaign, raw.time(dt.datetime.now(dt.UTC))))
    raise AssertionError("the chain head row vanished")  # pragma: no cover

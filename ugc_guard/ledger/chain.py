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
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from . import tree
from .canonical import body_json, entry_hash, header_json, header_pieces, utc_text
from .crypto import Sealer, seal_context
from .engine import WRITE, first_line, translate_errors
from .errors import LedgerError, LedgerUnavailable, SubjectErased
from .rawsql import Raw

__all__ = ["Draft", "Stored", "append", "subject_key"]

MAX_ATTEMPTS = 50
_RETRYABLE = ("database is locked", "database is busy", "deadlock detected", "could not serialize", "lock timeout")


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
) -> list[Stored]:
    """Append ``drafts`` to ``campaign``'s chain in one transaction at consecutive positions.

    ``guard`` runs once the chain is locked and may raise to refuse (e.g. a guardian token already
    spent); ``after`` runs in the same transaction (derived status tables). ``durable=False`` lets
    PostgreSQL acknowledge the commit before its WAL reaches disk (``synchronous_commit off``): a
    server crash may then lose the newest entries, never break the chain. Returns the stored entries.
    Raises :class:`SubjectErased` for personal data of an erased subject and
    :class:`LedgerUnavailable` when the database cannot be reached or stays busy for ``retry_for`` seconds.
    """
    deadline = time.monotonic() + retry_for
    for attempt in range(MAX_ATTEMPTS):
        try:
            with translate_errors(url), engine.connect().execution_options(**WRITE) as connection, connection.begin():
                if guard is None and connection.dialect.name == "postgresql":
                    return _append_postgres(connection, sealer, campaign, drafts, after, durable)
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
    keys = _keys(connection, sealer, campaign, drafts)
    position, previous, ids = _lock_head(raw, campaign, len(drafts))
    if guard is not None:
        guard(connection)
    now = dt.datetime.now(dt.UTC)
    moment, bound_now = utc_text(now), raw.time(now)
    rows: list[tuple[Any, ...]] = []
    stored: list[Stored] = []
    size = position
    for draft, entry_id, ref, payload, body in _prepare(campaign, drafts, ids, keys):
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


def _keys(connection: Connection, sealer: Sealer, campaign: str, drafts: Sequence[Draft]) -> dict[str, bytes]:
    # taken before the chain lock, so no writer holds the head while waiting for a key row
    return {d.subject: subject_key(connection, sealer, campaign, d.subject) for d in drafts if d.personal and d.subject}


def _prepare(
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


def _append_postgres(
    connection: Connection, sealer: Sealer, campaign: str, drafts: Sequence[Draft], after: AfterAppend | None, durable: bool
) -> list[Stored]:
    """PostgreSQL: everything but position and previous hash is computed before the lock; then one
    pipelined round trip calls ``ugc_ledger_append`` (lock, hash, insert), the derived-status updates
    and COMMIT, so no client scheduling delay ever happens while the chain head is locked.

    Two round trips in all: the first (BEGIN, new ids, the subject's wrapped key) takes no lock; a
    subject's first key is created, and an erased one refused, by :func:`subject_key` as before."""
    raw = Raw(connection)
    driver = connection.connection.driver_connection
    # one round trip before the lock: BEGIN, the ids, the subject's key (when one subject has personal
    # fields) and, for durability=normal, synchronous_commit, all in one pipeline sync
    subjects = {draft.subject for draft in drafts if draft.personal and draft.subject}
    one = next(iter(subjects)) if len(subjects) == 1 else None
    statement = _START_PG[(one is not None, durable)]
    with raw.wrapped(statement), driver.pipeline():  # type: ignore[union-attr]
        raw.cursor.execute(statement, (len(drafts), campaign, one) if one is not None else (len(drafts),))
        entry_ids, wrapped = raw.cursor.fetchone()[:2]
    entry_ids = sorted(entry_ids)
    if one is not None and wrapped is not None:  # b"" is an erased key: subject_key reads it again and refuses
        keys = {one: sealer.unwrap(campaign, one, bytes(wrapped))} if wrapped else _keys(connection, sealer, campaign, drafts)
    else:
        keys = _keys(connection, sealer, campaign, drafts)
    now = dt.datetime.now(dt.UTC)
    moment = utc_text(now)
    prepared = _prepare(campaign, drafts, entry_ids, keys)
    columns: list[list[Any]] = [[] for _ in range(10)]
    for draft, entry_id, ref, _payload, body in prepared:
        prefix, suffix = header_pieces(entry_id, campaign, draft.kind, draft.subject, moment, ref, draft.content_sha256,
                                       draft.terms_version, draft.status)
        values = (entry_id, draft.kind, draft.subject, ref, draft.content_sha256, draft.terms_version, draft.status, body,
                  prefix, suffix)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    provisional = [Stored(entry_id, campaign, 0, draft.kind, draft.subject, now, ref, draft.content_sha256,
                          draft.terms_version, draft.status, payload, "", "")
                   for draft, entry_id, ref, payload, _body in prepared]
    with raw.wrapped("SELECT ugc_ledger_append(...)"):
        with driver.pipeline():  # type: ignore[union-attr]
            raw.cursor.execute(
                "SELECT entry_position, entry_previous, entry_hash FROM ugc_ledger_append("
                "%s, %s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
                "%s::text[], %s)", (campaign, *[_array_literal(column) for column in columns], now),
            )
            results = raw.cursor
            if after is not None:
                after(connection, provisional)
            driver.commit()  # type: ignore[union-attr]
        rows = results.fetchall()
    stored = []
    for (draft, entry_id, ref, payload, body), (position, previous, digest) in zip(prepared, rows, strict=True):
        header = header_json(entry_id, campaign, position, previous, draft.kind, draft.subject, moment, ref,
                             draft.content_sha256, draft.terms_version, draft.status)
        if entry_hash(header, body) != digest:
            raise LedgerError(f"entry {entry_id}: the database hashed it differently from the canonical encoding")
        stored.append(Stored(entry_id, campaign, position, draft.kind, draft.subject, now, ref, draft.content_sha256,
                             draft.terms_version, draft.status, payload, previous, digest))
    return stored


def _array_literal(values: list[Any]) -> str:
    """Return a PostgreSQL array literal of strings, integers and None: one text parameter that the
    server parses, instead of psycopg's per-element array adaptation in Python (about a fifth of an append's
    client CPU)."""
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif isinstance(value, int):
            items.append(str(value))
        else:
            items.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


_IDS_PG = "SELECT array(SELECT nextval('ledger_entries_id_seq') FROM generate_series(1, %s))"
_KEY_PG = ", (SELECT coalesce(wrapped_key, ''::bytea) FROM ledger_subject_keys WHERE campaign = %s AND subject = %s)"
_START_PG = {
    (with_key, durable): _IDS_PG + (_KEY_PG if with_key else ", NULL::bytea")
    + ("" if durable else ", set_config('synchronous_commit', 'off', true)")
    for with_key in (False, True) for durable in (False, True)
}
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

"""The PostgreSQL append path: two round trips per batch, the chain lock held only inside the second.

Everything but position and previous hash is computed before the lock; then one pipelined round trip
(BEGIN with it) calls ``ugc_ledger_append`` (lock, hash, insert, tree tiles; migrations 0003 and 0006), the derived
status updates and COMMIT, so no client scheduling delay ever happens while the chain head is locked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from .canonical import entry_hash, header_json, header_pieces, utc_text
from .crypto import Sealer
from .drafting import AfterAppend, CommittedButWrong, Draft, Stored, prepare, subject_key
from .rawsql import Raw

__all__ = ["append_postgres", "array_literal", "flush_wal"]


def append_postgres(
    connection: Connection, sealer: Sealer, campaign: str, drafts: Sequence[Draft], after: AfterAppend | None, durable: bool,
    *, defer_flush: bool = False,
) -> list[Stored]:
    """Append ``drafts`` on PostgreSQL in the connection's transaction and commit; return the stored entries.

    ``defer_flush`` commits without waiting for the WAL flush, so the chain lock is released at once;
    the caller must then run :func:`flush_wal` before it tells anyone the entries are recorded.

    The first round trip (new ids, the wrapped keys of the subjects with personal fields) takes no lock
    and runs before the transaction (autocommit: nextval is not transactional, and one read needs no
    BEGIN of its own, nor the client CPU of a pipeline to send one with it); a subject's first key is
    created, in the transaction, and an erased one refused with :class:`SubjectErased`, by
    :func:`subject_key`. The connection must have no transaction open yet."""
    raw = Raw(connection)
    driver = connection.connection.driver_connection
    subjects = sorted({draft.subject for draft in drafts if draft.personal and draft.subject})
    statement = _START[bool(subjects)]
    params: tuple[Any, ...] = (len(drafts),)
    if subjects:
        params += (array_literal(list(subjects)), campaign) * 2
    with raw.wrapped(statement):
        driver.autocommit = True  # type: ignore[union-attr]
        try:
            # planned with its values each time: a generic plan made while the keys table was small would
            # scan the campaign's keys instead of looking each subject up
            raw.cursor.execute(statement, params, prepare=False if subjects else None)
            entry_ids, names, wrapped = raw.cursor.fetchone()
        finally:
            driver.autocommit = False  # type: ignore[union-attr]
    entry_ids = sorted(entry_ids)
    keys = _keys(connection, sealer, campaign, subjects, dict(zip(names or [], wrapped or [], strict=True)))
    now = dt.datetime.now(dt.UTC)
    moment = utc_text(now)
    prepared = prepare(campaign, drafts, entry_ids, keys)
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
            raw.cursor.execute(_APPEND[durable and not defer_flush], (campaign, *[array_literal(column) for column in columns], now))
            results = raw.cursor
            if after is not None:
                after(connection, provisional)
            driver.commit()  # type: ignore[union-attr]
        rows = results.fetchall()
    stored = []
    for (draft, entry_id, ref, payload, body), (position, previous, digest, *_) in zip(prepared, rows, strict=True):
        header = header_json(entry_id, campaign, position, previous, draft.kind, draft.subject, moment, ref,
                             draft.content_sha256, draft.terms_version, draft.status)
        if entry_hash(header, body) != digest:
            raise CommittedButWrong(f"entry {entry_id}: the database hashed it differently from the canonical encoding")
        stored.append(Stored(entry_id, campaign, position, draft.kind, draft.subject, now, ref, draft.content_sha256,
                             draft.terms_version, draft.status, payload, previous, digest))
    return stored


def flush_wal(connection: Connection) -> None:
    """Return once the WAL up to now is on disk: a durable commit of a transaction that wrote to
    ``ledger_flush_seq`` (migration 0008) waits for the flush up to its own commit record, which every
    commit this process made before lies below. Raises what the driver raises (connection lost…).

    ``connection`` must have no transaction open: the statement runs as its own transaction (autocommit,
    one round trip), committed with the session's ``synchronous_commit`` (on)."""
    raw = Raw(connection)
    driver = connection.connection.driver_connection
    with raw.wrapped(_FLUSH):
        driver.autocommit = True  # type: ignore[union-attr]
        try:
            raw.cursor.execute(_FLUSH)
        finally:
            driver.autocommit = False  # type: ignore[union-attr]


def _keys(connection: Connection, sealer: Sealer, campaign: str, subjects: list[str], wrapped: dict[str, bytes]) -> dict[str, bytes]:
    """Unwrap the keys read in the first round trip; a missing one is created and an erased one (b"")
    refused by :func:`subject_key`, one query each."""
    keys = {}
    for subject in subjects:
        found = wrapped.get(subject)
        if found:
            keys[subject] = sealer.unwrap(campaign, subject, bytes(found))
        else:
            keys[subject] = subject_key(connection, sealer, campaign, subject)
    return keys


def array_literal(values: list[Any]) -> str:
    """Return a PostgreSQL array literal of strings, integers and None: one text parameter that the
    server parses, instead of psycopg's per-element array adaptation in Python (about a fifth of an append's
    client CPU)."""
    return "{" + ",".join([
        "NULL" if value is None else str(value) if isinstance(value, int)
        else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values
    ]) + "}"


_FLUSH = "SELECT setval('ledger_flush_seq', 1)"
_IDS = "SELECT array(SELECT nextval('ledger_entries_id_seq') FROM generate_series(1, %s))"
# one primary-key lookup per subject (a join on the unnested names, not a filter over the campaign's keys)
_KEY_ROWS = ("FROM unnest(%s::text[]) AS wanted(subject) JOIN ledger_subject_keys k "
             "ON k.campaign = %s AND k.subject = wanted.subject")
_KEYS = (f", (SELECT array_agg(k.subject ORDER BY k.subject) {_KEY_ROWS})"
         f", (SELECT array_agg(coalesce(k.wrapped_key, ''::bytea) ORDER BY k.subject) {_KEY_ROWS})")
_START = {with_keys: _IDS + (_KEYS if with_keys else ", NULL::text[], NULL::bytea[]") for with_keys in (False, True)}
# durability=normal, or a batch whose flush its caller awaits: this transaction commits without waiting for
# its WAL flush (set_config in the select list runs for every row returned, and a batch returns at least one)
_APPEND = {
    durable: "SELECT entry_position, entry_previous, entry_hash"
    + ("" if durable else ", set_config('synchronous_commit', 'off', true)")
    + " FROM ugc_ledger_append(%s, %s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[], %s::text[], %s)"
    for durable in (False, True)
}

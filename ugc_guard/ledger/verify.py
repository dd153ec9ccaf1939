"""Recompute the hash chains, streaming, and check receipts against the stored entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .canonical import PREFIX, header_json, utc_text
from .models import ChainHead, Entry
from .rawsql import Raw
from .receipts import Receipt, ReceiptCheck, summarise
from .views import ENTRY_COLUMNS

__all__ = ["Finding", "Verification", "check_receipt", "row_hash", "verify_chains"]

_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Finding:
    """The first entry of a campaign that does not verify, and why."""

    campaign: str
    entry_id: int | None
    position: int
    reason: str

    def __str__(self) -> str:
        entry = f"entry {self.entry_id}" if self.entry_id is not None else "the chain"
        return f"campaign {self.campaign}: {entry} at position {self.position}: {self.reason}"


@dataclass(slots=True)
class Verification:
    """What :func:`verify_chains` found: entries and campaigns checked, and the first finding per campaign."""

    entries: int = 0
    campaigns: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def row_hash(row: Any) -> str:
    """Return the hash an entry row should have, recomputed from its stored columns."""
    header = header_json(
        row.id, row.campaign, row.position, row.previous_hash, row.kind, row.subject, utc_text(row.recorded_at), row.ref,
        row.content_sha256, row.terms_version, row.status,
    )
    return hashlib.sha256(PREFIX + header.encode() + b"\n" + row.body.encode()).hexdigest()


_TIME_SQL = {
    "postgresql": "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "sqlite": "substr(recorded_at, 1, 10) || 'T' || substr(recorded_at, 12) || 'Z'",
}


def verify_chains(connection: Connection, campaign: str | None = None,
                  progress: Callable[[int], None] | None = None) -> Verification:
    """Recompute every chain (or one campaign's), in position order, in constant memory.

    Returns a :class:`Verification` naming, per campaign, the first entry whose position, previous
    hash or own hash does not match, and a chain head that disagrees with the last entry (entries
    removed from the end). Rows are read straight from the driver (times as canonical UTC text made
    by the database), so the loop does one JSON encode and one SHA-256 per entry.
    """
    result = Verification()
    heads = {row.campaign: (row.position, row.hash) for row in connection.execute(select(ChainHead))}
    statement = (
        f"SELECT id, campaign, position, previous_hash, kind, subject, {_TIME_SQL[connection.dialect.name]}, ref, "
        "content_sha256, terms_version, status, body, hash FROM ledger_entries"
        + (" WHERE campaign = ?" if campaign is not None else "") + " ORDER BY campaign, position"
    )
    raw = Raw(connection)
    cursor = connection.connection.driver_connection.cursor(name="ugc_ledger_verify") if raw.postgres else raw.cursor  # type: ignore[union-attr]
    with raw.wrapped(statement):
        cursor.execute(raw.sql(statement), (campaign,) if campaign is not None else ())
    current: str | None = None
    seen: set[str] = set()
    expected_position, expected_previous, broken = 0, "", False
    sha256, encode, prefix = hashlib.sha256, json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode, PREFIX.decode()
    while rows := cursor.fetchmany(_BATCH):
        for row in rows:
            if row[1] != current:
                if current is not None:
                    _check_head(result, current, heads, expected_position, expected_previous, broken)
                current, expected_position, expected_previous, broken = row[1], 0, "", False
                seen.add(current)
                result.campaigns += 1
            result.entries += 1
            if broken:
                continue
            expected_position += 1
            reason = None
            if row[2] != expected_position:
                reason = f"expected position {expected_position} (an entry is missing or was moved)"
            elif row[3] != expected_previous:
                reason = "its previous-hash does not match the entry before it (an entry was removed or replaced)"
            elif sha256(f"{prefix}{encode(row[:11])}\n{row[11]}".encode()).hexdigest() != row[12]:
                reason = "its hash does not match its content (the row was changed)"
            if reason is not None:
                result.findings.append(Finding(row[1], row[0], row[2], reason))
                broken = True
            expected_previous = row[12]
        if progress is not None:
            progress(len(rows))
    cursor.close()
    if current is not None:
        _check_head(result, current, heads, expected_position, expected_previous, broken)
    for name in sorted(seen.symmetric_difference(heads) if campaign is None else {campaign} - seen):
        if heads.get(name, (0, ""))[0] > 0:
            result.findings.append(Finding(name, None, 1, "the chain head records entries but none exist"))
    return result


def _check_head(result: Verification, campaign: str, heads: dict[str, tuple[int, str]], position: int, last: str,
                broken: bool) -> None:
    if broken:
        return
    head = heads.get(campaign)
    if head is None:
        result.findings.append(Finding(campaign, None, position, "the campaign has no chain head row"))
    elif head != (position, last):
        result.findings.append(Finding(
            campaign, None, head[0], f"the chain head says position {head[0]} but the last entry is at {position} "
            "(entries were removed from the end, or the head was changed)",
        ))


def check_receipt(connection: Connection, receipt: Receipt) -> ReceiptCheck:
    """Check every entry a receipt names against the ledger; return the mismatches found."""
    problems: list[str] = []
    for item in receipt.entries():
        name = f"entry {item['entry_id']}"
        row = connection.execute(select(*ENTRY_COLUMNS).where(Entry.id == item["entry_id"])).one_or_none()
        if row is None:
            problems.append(f"{name}: not in the ledger")
            continue
        stored = {
            "campaign": row.campaign, "position": row.position, "kind": row.kind, "subject": row.subject,
            "recorded_at": utc_text(row.recorded_at), "hash": row.hash,
            "summary": summarise(row.kind, json.loads(row.body)),
        }
        for key, value in stored.items():
            if item.get(key) != value:
                problems.append(f"{name}: {key} differs from the ledger")
        if row_hash(row) != row.hash:
            problems.append(f"{name}: the ledger row no longer matches its hash (run ugc-guard ledger verify)")
        follower = connection.execute(
            select(Entry.previous_hash).where(Entry.campaign == row.campaign, Entry.position == row.position + 1)
        ).scalar_one_or_none()
        if follower is not None and follower != row.hash:
            problems.append(f"{name}: the next entry in the chain does not link to it (run ugc-guard ledger verify)")
    return ReceiptCheck(not problems, problems)

"""Reading the ledger: filtered, keyset-paginated listings (by entry id), a subject's history,
the grants of a submission, "who granted what for this file", a streaming export and statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from .models import ChainHead, Entry, SubjectKey, SubmissionStatusRow
from .status import submission_statuses
from .views import ENTRY_COLUMNS, EntryView, Opener

__all__ = ["Filters", "Page", "by_content", "grants", "list_entries", "stats"]

MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Filters:
    """Filters shared by the listings; ``after`` is the keyset cursor (the last id of the previous page)."""

    campaign: str | None = None
    subject: str | None = None
    terms_version: str | None = None
    status: str | None = None
    content_sha256: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: int | None = None
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of entries; ``next`` is the cursor for the following page, or None at the end."""

    items: list[EntryView] = field(default_factory=list)
    next: int | None = None


def _statement(filters: Filters) -> Any:  # Select[...] of the entry columns
    statement: Any = select(*ENTRY_COLUMNS)
    if filters.kinds == ("submission",) or filters.subject is not None:
        # a listing of submissions (or a subject's history) shows each submission's current status: the
        # ``status`` column is the one it was recorded with, always ``received``
        statement = statement.add_columns(SubmissionStatusRow.status.label("current_status")).outerjoin(
            SubmissionStatusRow, SubmissionStatusRow.submission_id == Entry.id)
    if filters.kinds:
        statement = statement.where(Entry.kind == filters.kinds[0] if len(filters.kinds) == 1 else Entry.kind.in_(filters.kinds))
    if filters.campaign is not None:
        statement = statement.where(Entry.campaign == filters.campaign)
    if filters.subject is not None:
        statement = statement.where(Entry.subject == filters.subject)
    if filters.terms_version is not None:
        statement = statement.where(Entry.terms_version == filters.terms_version)
    if filters.content_sha256 is not None:
        statement = statement.where(Entry.content_sha256 == filters.content_sha256)
    if filters.since is not None:
        statement = statement.where(Entry.recorded_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(Entry.recorded_at < filters.until)
    if filters.after is not None:
        statement = statement.where(Entry.id > filters.after)
    if filters.status is not None:
        current = select(SubmissionStatusRow.submission_id).where(SubmissionStatusRow.status == filters.status)
        statement = statement.where(Entry.id.in_(current))
    return statement.order_by(Entry.id)


def list_entries(connection: Connection, opener: Opener, filters: Filters, limit: int) -> Page:
    """Return one page of entries matching ``filters``, oldest first."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = connection.execute(_statement(filters).limit(limit + 1)).all()
    items = [opener.view(row) for row in rows[:limit]]
    return Page(items, items[-1].id if len(rows) > limit else None)


def iter_entries(connection: Connection, opener: Opener, filters: Filters, batch: int = 2_000) -> Iterator[EntryView]:
    """Yield every matching entry, oldest first, in constant memory (streamed from the database)."""
    stream = connection.execution_options(stream_results=True, yield_per=batch).execute(_statement(filters))
    for rows in stream.partitions():
        for row in rows:
            yield opener.view(row)


def current_status(connection: Connection, submission_ids: list[int]) -> dict[int, str]:
    """Return each submission's current status."""
    return submission_statuses(connection, submission_ids)


def grants(connection: Connection, opener: Opener, submission_id: int) -> list[EntryView]:
    """Return the submission entry followed by every entry about it (grants, statuses, withdrawals, use)."""
    rows = connection.execute(
        select(*ENTRY_COLUMNS).where(or_(Entry.id == submission_id, Entry.ref == submission_id)).order_by(Entry.id)
    ).all()
    views = [opener.view(row) for row in rows]
    if not views or views[0].kind != "submission":
        return []
    campaign = views[0].campaign
    return [view for view in views if view.campaign == campaign]


def by_content(connection: Connection, opener: Opener, content_sha256: str) -> list[dict[str, Any]]:
    """Return, per submission of this file (original or re-encoded SHA-256), who granted what:
    the submission, the acceptance it relies on, its grants and later entries, and its current status."""
    rows = connection.execute(
        select(Entry.id, Entry.kind, Entry.ref).where(Entry.content_sha256 == content_sha256)
    ).all()
    ids = sorted({row.id if row.kind == "submission" else row.ref for row in rows if row.kind != "guardian_requested"} - {None})
    statuses = current_status(connection, ids)
    found = []
    for submission_id in ids:
        entries = grants(connection, opener, submission_id)
        if not entries:
            continue
        acceptance = None
        if entries[0].ref is not None:
            row = connection.execute(select(*ENTRY_COLUMNS).where(Entry.id == entries[0].ref)).one_or_none()
            acceptance = opener.view(row) if row is not None else None
        found.append({"submission": entries[0], "acceptance": acceptance, "entries": entries[1:],
                      "status": statuses.get(submission_id) or entries[0].status})
    return found


def stats(connection: Connection, campaign: str | None = None) -> dict[str, Any]:
    """Return counts per campaign and kind, chain lengths, current submission statuses and erased subjects."""
    kinds = select(Entry.campaign, Entry.kind, func.count()).group_by(Entry.campaign, Entry.kind)
    heads = select(ChainHead.campaign, ChainHead.position, ChainHead.updated_at)
    statuses = select(SubmissionStatusRow.campaign, SubmissionStatusRow.status, func.count()).group_by(
        SubmissionStatusRow.campaign, SubmissionStatusRow.status)
    keys = select(SubjectKey.campaign, func.count(), func.count(SubjectKey.erased_at)).group_by(SubjectKey.campaign)
    if campaign is not None:
        kinds = kinds.where(Entry.campaign == campaign)
        heads = heads.where(ChainHead.campaign == campaign)
        statuses = statuses.where(SubmissionStatusRow.campaign == campaign)
        keys = keys.where(SubjectKey.campaign == campaign)
    result: dict[str, dict[str, Any]] = {}
    for name, position, updated in connection.execute(heads):
        result[name] = {"campaign": name, "entries": position, "last_entry_at": updated.isoformat(), "kinds": {},
                        "submission_status": {}, "subjects_with_keys": 0, "subjects_erased": 0}
    for name, kind, count in connection.execute(kinds):
        result.setdefault(name, {"campaign": name, "kinds": {}, "submission_status": {}})["kinds"][kind] = count
    for name, status, count in connection.execute(statuses):
        result[name]["submission_status"][status] = count
    for name, total, erased in connection.execute(keys):
        if name in result:
            result[name]["subjects_with_keys"], result[name]["subjects_erased"] = total, erased
    return {"campaigns": [result[name] for name in sorted(result)]}

"""One submission as a case file, for people who answer for it (the console): the submission, the
terms acceptance it relies on, its grants and every later entry, and its current status. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from . import queries
from .models import Entry
from .status import submission_statuses
from .views import ENTRY_COLUMNS, EntryView, Opener

if TYPE_CHECKING:
    from .ledger import Ledger

__all__ = ["Case", "submission_case", "submission_of_entry"]


@dataclass(frozen=True, slots=True)
class Case:
    """A submission with what it relies on and what happened to it since, oldest first."""

    submission: EntryView
    status: str
    """The current status (``received``, ``stored``, ``not stored``, ``withdrawn``…), not the recorded one."""
    acceptance: EntryView | None = None
    age: EntryView | None = None
    entries: list[EntryView] = field(default_factory=list)
    """Grants, statuses, withdrawals, use, retention: every entry that refers to the submission."""


def submission_case(ledger: Ledger, submission_id: int, *, campaign: str | None = None) -> Case | None:
    """Return the case of submission ``submission_id`` (None when there is none, or it belongs to
    another campaign than ``campaign``). Raises :class:`LedgerUnavailable`."""
    core = ledger._core
    with core.connect() as connection:
        opener = Opener(connection, core.sealer)
        found = queries.grants(connection, opener, submission_id)
        if not found or (campaign is not None and found[0].campaign != campaign):
            return None
        submission = found[0]
        acceptance = age = None
        if submission.ref is not None:
            rows = connection.execute(
                select(*ENTRY_COLUMNS).where(Entry.id <= submission.ref, Entry.campaign == submission.campaign,
                                             Entry.subject == submission.subject)
                .order_by(Entry.id.desc()).limit(2)
            ).all()
            views = [opener.view(row) for row in rows]
            acceptance = next((view for view in views if view.id == submission.ref), None)
            age = next((view for view in views if view.kind == "age_result"), None)
        status = submission_statuses(connection, [submission_id]).get(submission_id) or submission.status or "received"
    return Case(submission, status, acceptance, age, found[1:])


def submission_of_entry(ledger: Ledger, entry_id: int, *, campaign: str | None = None) -> int | None:
    """Return the submission an entry belongs to: the entry itself when it is a submission, else the
    submission it refers to (a grant, status, withdrawal…); None otherwise."""
    with ledger._core.connect() as connection:
        row = connection.execute(select(Entry.kind, Entry.ref, Entry.campaign).where(Entry.id == entry_id)).one_or_none()
        if row is None or (campaign is not None and row.campaign != campaign):
            return None
        if row.kind == "submission":
            return entry_id
        if row.ref is None:
            return None
        target = connection.execute(select(Entry.kind).where(Entry.id == row.ref)).scalar_one_or_none()
        return int(row.ref) if target == "submission" else None

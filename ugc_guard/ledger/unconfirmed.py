"""Sweeping submissions nobody confirmed to ``not stored (unconfirmed)``.

A submission stays ``received`` when its request ended without the app's answer being settled: the
worker was killed, the server stopped mid-request, or the ledger failed at the confirmation. A
sweep claims such a submission only when no live request can still own it: the worker that
recorded it is gone (a process on this node, see :mod:`.workers`), or it was recorded longer ago
than any request may take (``older_than``). The claim is appended as a ``submission_status``
entry, checked under the chain lock, so several workers sweeping at once append it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..policy.types import duration_seconds
from .core import LedgerCore
from .models import SubmissionStatusRow
from .submissions import RECEIVED, settle_submissions
from .workers import WorkerState, worker_state

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["APP_TIME", "UNCONFIRMED", "Pending", "claim_reason", "pending_submissions", "sweep_unconfirmed", "unconfirmed_after"]

UNCONFIRMED = "not stored (unconfirmed)"
APP_TIME = dt.timedelta(minutes=15)
"""How long the app may take to answer an upload, on top of the upload's own deadline."""


def unconfirmed_after(policy: Policy) -> dt.timedelta:
    """Return how old a ``received`` submission of ``policy``'s campaign must be before any sweep may claim it:
    the longest upload deadline of its routes plus :data:`APP_TIME`."""
    deadline = max(duration_seconds(route.limits.deadline) for route in policy.uploads.routes)
    return dt.timedelta(seconds=deadline) + APP_TIME


@dataclass(frozen=True, slots=True)
class Pending:
    """A ``received`` submission: who recorded it and when."""

    submission_id: int
    subject: str | None
    owner: str | None
    recorded_at: dt.datetime


def pending_submissions(connection: Connection, campaign: str, *, limit: int = 1000) -> list[Pending]:
    """Return up to ``limit`` of the campaign's ``received`` submissions, oldest first (an index seek)."""
    rows = connection.execute(
        select(SubmissionStatusRow.submission_id, SubmissionStatusRow.subject, SubmissionStatusRow.owner, SubmissionStatusRow.updated_at)
        .where(SubmissionStatusRow.campaign == campaign, SubmissionStatusRow.status == RECEIVED)
        .order_by(SubmissionStatusRow.submission_id)
        .limit(limit)
    )
    return [Pending(*row) for row in rows]


def claim_reason(item: Pending, now: dt.datetime, older_than: dt.timedelta, state: Callable[[str | None], WorkerState] = worker_state) -> str | None:
    """Return why ``item`` may be marked unconfirmed, or None while a live request may still settle it."""
    if state(item.owner) == "dead":
        return "the worker process that recorded it stopped before the app's answer was confirmed"
    if item.recorded_at <= now - older_than:
        return f"no answer from the app was confirmed within {_human(older_than)} of recording"
    return None


def sweep_unconfirmed(
    core: LedgerCore, campaign: str, *, older_than: dt.timedelta, now: dt.datetime | None = None, limit: int = 1000,
    dry_run: bool = False,
) -> list[int]:
    """Mark the campaign's claimable ``received`` submissions ``not stored (unconfirmed)``; return their ids
    (with ``dry_run``, only the ids it would mark).

    ``older_than`` must exceed the longest time a request may take from recording to the app's answer.
    Raises :class:`LedgerUnavailable`.
    """
    with core.connect() as connection:
        pending = pending_submissions(connection, campaign, limit=limit)
    moment = now or dt.datetime.now(dt.UTC)
    targets = {}
    for item in pending:
        reason = claim_reason(item, moment, older_than)
        if reason is not None:
            targets[item.submission_id] = (item.subject, reason)
    if not targets or dry_run:
        return sorted(targets)
    return settle_submissions(core, campaign, targets, UNCONFIRMED, only_from=(RECEIVED,))


def _human(period: dt.timedelta) -> str:
    seconds = int(period.total_seconds())
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"

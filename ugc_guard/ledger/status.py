"""Derived status tables, updated in the append transaction: a subject's latest standing in a
campaign (one primary-key lookup for the gate) and each submission's current status.

They are indexes, not evidence: everything here can be recomputed from the entries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from .models import SubjectStatusRow, SubmissionStatusRow
from .rawsql import Raw, Upsert

__all__ = [
    "GuardianState", "SubjectStatus", "read_status", "set_submission_status", "subject_row", "submission_status_row",
    "submission_statuses", "upsert_subject",
]

GuardianState = Literal["none", "pending", "confirmed", "withdrawn"]


@dataclass(frozen=True, slots=True)
class SubjectStatus:
    """A subject's latest standing in a campaign. ``terms_version`` is None when they never accepted."""

    campaign: str
    subject: str
    terms_version: str | None = None
    acceptance_id: int | None = None
    accepted_at: dt.datetime | None = None
    capacity: str | None = None
    age_band: str | None = None
    age_assurance: str | None = None
    guardian_status: GuardianState = "none"
    guardians_confirmed: int = 0
    reconfirm: bool = False
    """Flagged: accepted as a minor, to be asked again at majority."""
    reconfirm_due: dt.date | None = None
    erased: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def read_status(connection: Connection, campaign: str, subject: str) -> SubjectStatus:
    """Return the subject's status (one primary-key lookup); a blank status when they have none."""
    row = connection.execute(
        select(SubjectStatusRow).where(SubjectStatusRow.campaign == campaign, SubjectStatusRow.subject == subject)
    ).one_or_none()
    if row is None:
        return SubjectStatus(campaign, subject)
    return status_of(row)


def status_of(row: Any) -> SubjectStatus:
    """Return the :class:`SubjectStatus` of a ``ledger_subject_status`` row."""
    return SubjectStatus(
        row.campaign, row.subject, row.terms_version, row.acceptance_id, row.accepted_at, row.capacity, row.age_band,
        row.age_assurance, row.guardian_status, row.guardians_confirmed, row.reconfirm, row.reconfirm_due, row.erased,
    )


def subject_row(campaign: str, subject: str, now: dt.datetime, **values: Any) -> Upsert:
    """Return the upsert of the subject's status row that sets only the columns in ``values``."""
    row = {"campaign": campaign, "subject": subject, **_SUBJECT_DEFAULTS, **values, "updated_at": now}
    return Upsert("ledger_subject_status", ("campaign", "subject"), row, (*values, "updated_at"))


_SUBJECT_DEFAULTS: dict[str, Any] = {"guardian_status": "none", "guardians_confirmed": 0, "reconfirm": False, "erased": False}


def upsert_subject(connection: Connection, campaign: str, subject: str, now: dt.datetime, **values: Any) -> None:
    """Insert or update the subject's status row, setting only the columns in ``values``."""
    Raw(connection).upsert_rows([subject_row(campaign, subject, now, **values)])


def guardian_changed(connection: Connection, campaign: str, subject: str, acceptance_id: int | None, now: dt.datetime,
                     state: GuardianState, delta: int) -> None:
    """Apply a guardian request/confirmation/withdrawal to the status, if it concerns the current acceptance."""
    column = SubjectStatusRow.guardians_confirmed
    values: dict[str, Any] = {"guardian_status": state, "updated_at": now}
    if delta:
        values["guardians_confirmed"] = column + delta if delta > 0 else _at_least_zero(column + delta)
    statement = update(SubjectStatusRow).where(SubjectStatusRow.campaign == campaign, SubjectStatusRow.subject == subject)
    if acceptance_id is not None:
        statement = statement.where(SubjectStatusRow.acceptance_id == acceptance_id)
    if state == "pending":  # asking a second guardian keeps a first confirmation standing
        statement = statement.where(SubjectStatusRow.guardian_status != "confirmed")
    connection.execute(statement.values(**values))


def _at_least_zero(expression: Any) -> Any:
    from sqlalchemy import case

    return case((expression < 0, 0), else_=expression)


def submission_status_row(submission_id: int, campaign: str, subject: str | None, status: str, now: dt.datetime,
                          owner: str | None = None) -> Upsert:
    """Return the upsert that records a submission's current status (insert on first status, update
    afterwards); ``owner`` names the worker process that recorded a ``received`` submission."""
    row = {"submission_id": submission_id, "campaign": campaign, "subject": subject, "status": status, "updated_at": now,
           "owner": owner}
    return Upsert("ledger_submission_status", ("submission_id",), row, ("status", "updated_at"))


def set_submission_status(connection: Connection, submission_id: int, campaign: str, subject: str | None, status: str,
                          now: dt.datetime, owner: str | None = None) -> None:
    """Record a submission's current status (see :func:`submission_status_row`)."""
    Raw(connection).upsert_rows([submission_status_row(submission_id, campaign, subject, status, now, owner)])


_STATUSES = select(SubmissionStatusRow.submission_id, SubmissionStatusRow.status).where(
    SubmissionStatusRow.submission_id.in_(bindparam("ids", expanding=True))
)  # built once: building it per call cost more than running it


def submission_statuses(connection: Connection, submission_ids: list[int]) -> dict[int, str]:
    """Return the current status of each of ``submission_ids`` that has one."""
    if not submission_ids:
        return {}
    rows = connection.execute(_STATUSES, {"ids": list(submission_ids)})
    return {row[0]: row[1] for row in rows}

"""Retention runs: expire submissions and erase personal data when the policy's periods have passed.

``run_retention`` walks the campaign's submissions that still have a file, in batches by id. For each
batch, the due ones (:func:`ugc_guard.rules.retention.submission_due`: ISO 8601 period from an explicit
anchor; a submission marked used in a production is exempt from the unused-footage rule, seed 001)
go to the content-deletion hook, and only when the hook succeeded is the batch recorded: per
submission a ``retention_action`` entry and the status ``expired``, in one transaction. A failing
hook leaves its batch unrecorded, reported, and retried by the next run; the run carries on. An
interrupted run leaves whole batches done or not, and a re-run skips what is ``expired`` already.

A run first marks uploads nobody confirmed ``not stored (unconfirmed)`` (:meth:`Ledger.sweep_unconfirmed`:
recorded by a worker that is gone, or older than the longest upload deadline plus the app's time; always
by the real clock, never ``now``). A database lock (:meth:`Ledger.job_lock`) keeps two runs from acting at once. ``personal_data``
destroys the keys of subjects whose last acceptance or upload (or last use) is older than the period;
their files follow the submission rules. ugc_guard keeps no request logs; rate-limit counters expire
on their own (see :data:`LOGS_NOTE`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .hooks import HookFailed
from .ledger.expiry import LIVE
from .ledger.unconfirmed import unconfirmed_after
from .observe.events import record_events
from .pages.withdraw import deletion_event
from .rules.retention import RetentionFacts, due_at, submission_due

if TYPE_CHECKING:
    from .ledger import Ledger
    from .ledger.expiry import Candidate
    from .policy import Policy
    from .policy.models import RetentionRule

__all__ = ["LOCK_NAME", "LOGS_NOTE", "Due", "RetentionReport", "run_retention"]

LOCK_NAME = "retention run"
LOGS_NOTE = ("ugc_guard keeps no request logs; rate-limit counters live in memory or Redis only for their window "
             "and expire by themselves; the scraper trap remembers a client for scraping.trap_ttl. "
             "retention.logs applies to your own server logs.")
Deliver = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Due:
    """One thing the run acts on (or lists, in a dry run)."""

    kind: str
    """``submission`` (expire the file) or ``subject`` (erase personal data)."""
    target: int | str
    subject: str | None
    rule: str
    due_at: dt.datetime


@dataclass
class RetentionReport:
    """What a run found and did. ``failed`` holds (submission ids, error) per batch the hook refused."""

    campaign: str
    dry_run: bool
    checked: int = 0
    due: list[Due] = field(default_factory=list)
    expired: int = 0
    subjects_erased: int = 0
    unconfirmed: list[int] = field(default_factory=list)
    """Submissions marked ``not stored (unconfirmed)`` (in a dry run: that would be)."""
    failed: list[tuple[list[int], str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def _facts(candidate: Candidate) -> RetentionFacts:
    return RetentionFacts(candidate.uploaded_at, candidate.used, candidate.last_used_at)


def _files(candidates: list[Candidate]) -> list[dict[str, Any]]:
    return [{"submission_id": c.submission_id, "content_sha256": c.content_sha256, "canonical_sha256": c.canonical_sha256}
            for c in candidates]


def run_retention(
    ledger: Ledger, policy: Policy, *, now: dt.datetime | None = None, dry_run: bool = False,
    deliver: Deliver | None = None, batch: int = 500, wait: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> RetentionReport:
    """Apply ``policy.retention`` to its campaign's ledger; return the report.

    ``deliver`` receives each batch's content-deletion event (raise :class:`HookFailed` to refuse it);
    None records expiries without telling anyone. ``progress`` is called with the number of
    submissions checked per batch. Raises :class:`~ugc_guard.ledger.JobLocked` when another run holds
    the lock for longer than ``wait`` seconds.
    """
    moment = now or dt.datetime.now(dt.UTC)
    report = RetentionReport(policy.campaign.id, dry_run)
    grace = unconfirmed_after(policy)
    if dry_run:
        report.unconfirmed = ledger.sweep_unconfirmed(policy.campaign.id, older_than=grace, dry_run=True)
        _walk(ledger, policy, moment, report, None, batch, progress, act=False)
        return report
    with ledger.job_lock(LOCK_NAME, wait=wait) as lock:
        report.unconfirmed = ledger.sweep_unconfirmed(policy.campaign.id, older_than=grace)
        _walk(ledger, policy, moment, report, deliver, batch, progress, act=True, beat=lock.beat)
    return report


def _walk(ledger: Ledger, policy: Policy, now: dt.datetime, report: RetentionReport, deliver: Deliver | None,
          batch: int, progress: Callable[[int], None] | None, *, act: bool, beat: Callable[[], None] | None = None) -> None:
    retention, campaign, ends = policy.retention, policy.campaign.id, policy.campaign.ends
    if retention.submissions is not None or retention.unused_submissions is not None:
        for status in LIVE:
            after: int | None = None
            while True:
                page = ledger.retention_candidates(campaign, status, after=after, limit=batch)
                if not page:
                    break
                after = page[-1].submission_id
                report.checked += len(page)
                groups: dict[str, list[Candidate]] = {}
                for candidate in page:
                    due = submission_due(retention, _facts(candidate), ends)
                    if due is not None and due.at <= now:
                        groups.setdefault(due.rule, []).append(candidate)
                        report.due.append(Due("submission", candidate.submission_id, candidate.subject, due.rule, due.at))
                if act:
                    for rule_name, members in groups.items():
                        _expire(ledger, policy, rule_name, members, deliver, report)
                    if beat is not None:
                        beat()
                if progress is not None:
                    progress(len(page))
    if retention.personal_data is not None:
        _personal_data(ledger, policy, retention.personal_data, now, report, act=act)


def _expire(ledger: Ledger, policy: Policy, rule_name: str, members: list[Candidate], deliver: Deliver | None,
            report: RetentionReport) -> None:
    rule: RetentionRule = getattr(policy.retention, rule_name)
    ids = [c.submission_id for c in members]
    if deliver is not None:
        try:
            deliver(deletion_event(policy.campaign.id, "retention", _files(members)))
        except HookFailed as error:
            report.failed.append((ids, str(error)))
            return
    ledger.record_submission_ends(policy.campaign.id, [(c.submission_id, c.subject) for c in members],
                                  status="expired", action="deleted", rule=rule_name, period=rule.period,
                                  anchor=rule.anchor)
    record_events(ledger, policy, "retention.deleted", rule=rule_name, files=_files(members))
    report.expired += len(members)


def _personal_data(ledger: Ledger, policy: Policy, rule: RetentionRule, now: dt.datetime, report: RetentionReport,
                   *, act: bool) -> None:
    campaign = policy.campaign.id
    for activity in ledger.subject_activity(campaign):
        at = due_at(rule, uploaded_at=activity.last_active_at, campaign_end=policy.campaign.ends,
                    last_used_at=activity.last_used_at)
        if at is None or at > now:
            continue
        report.due.append(Due("subject", activity.subject, activity.subject, "personal_data", at))
        if act:
            ledger.erase_subject(campaign, activity.subject, requested_by="retention",
                                 reason=f"retention personal_data {rule.period} from {rule.anchor}")
            record_events(ledger, policy, "subject.erased", subject=activity.subject, requested_by="retention", files=[])
            report.subjects_erased += 1

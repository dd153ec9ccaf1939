"""``Ledger``: the synchronous API over one ledger database (the CLI and :class:`AsyncLedger` use it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..evidence import AddressMode, UserAgentMode
from . import acceptances, erasure, expiry, guardians, requests, retention, rotation, submissions, takedowns, unconfirmed, withdrawals
from .chain import Draft
from .core import LedgerCore
from .crypto import Secrets, secret_list
from .engine import translate_errors
from .expiry import Candidate, SubjectActivity
from .inputs import AgeResult, ClientInfo, LicenceGrant, LicenceShown, PortraitGrant, SubmissionFacts, TermsShown
from .locks import JobLock, job_lock
from .models import Entry, SubjectStatusRow
from .reading import LedgerReading
from .receipts import Receipt, receipt_for
from .requests import RightsRequest
from .schema import current_revision, head_revision, upgrade
from .status import SubjectStatus, read_status, status_of
from .views import EntryView

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["Ledger"]


class Ledger(LedgerReading):
    """The acceptance ledger at ``url``: append-only entries in one hash chain per campaign.

    ``secret`` (the site secret, or a list newest first) wraps the per-subject keys that seal personal fields and keys the
    client-address hash; without it the ledger can verify and list entries but shows personal fields
    as ``[sealed]`` and cannot record them. ``client_address``/``user_agent`` follow
    ``policy.privacy``. ``durability="full"`` (default) makes every append durable on disk before it
    returns; ``"normal"`` (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit off``) is
    faster, and an OS or database crash may lose the newest entries but never breaks a chain. Every
    method raises :class:`LedgerUnavailable` when the database cannot be reached within
    ``connect_timeout`` seconds, and :class:`SchemaOutdated` until :meth:`upgrade` ran. Appends to one
    campaign from concurrent threads (and :class:`AsyncLedger` tasks) share transactions (group
    commit; each returns once its transaction committed); ``group_commit=False`` gives each its own.
    """

    def __init__(
        self,
        url: str = "sqlite:///ugc-ledger.sqlite3",
        *,
        secret: Secrets = None,
        connect_timeout: float = 5.0,
        client_address: AddressMode = "keyed-hash",
        user_agent: UserAgentMode = "hash",
        durability: str = "full",
        group_commit: bool = True,
    ) -> None:
        self._core = LedgerCore(url, secret=secret_list(secret), connect_timeout=connect_timeout, client_address=client_address,
                                user_agent=user_agent, durability=durability, group_commit=group_commit)

    @classmethod
    def from_policy(cls, policy: Policy, *, url: str | None = None, secret: Secrets = None) -> Ledger:
        """Return the ledger a campaign policy names (``ledger.url``, its secrets, connect timeout and privacy modes)."""
        if secret is None:
            secret = policy.secrets()
        return cls(url or policy.ledger.url, secret=secret, connect_timeout=policy.ledger.connect_timeout,
                   client_address=policy.privacy.client_address, user_agent=policy.privacy.user_agent)

    @property
    def url(self) -> str:
        return self._core.url

    @property
    def can_open_personal(self) -> bool:
        """Whether this ledger has the site secret, so personal fields can be opened and recorded."""
        return self._core.sealer.can_open

    def close(self) -> None:
        """Close the connection pool."""
        self._core.engine.dispose()

    # -- schema -------------------------------------------------------------------------------
    def upgrade(self, revision: str = "head") -> str | None:
        """Create or migrate the ledger tables; return the revision reached. Raises :class:`LedgerUnavailable`."""
        with translate_errors(self._core.url):
            reached = upgrade(self._core.engine, revision)
        self._core.schema_checked = False
        return reached

    def current_revision(self) -> str | None:
        """Return the database's schema revision (None before the first upgrade)."""
        with self._core.connect(check=False) as connection:
            return current_revision(connection)

    @staticmethod
    def head_revision() -> str:
        """Return the newest schema revision this ugc_guard ships."""
        return head_revision()

    # -- the gate ------------------------------------------------------------------------------
    def record_acceptance(self, campaign: str, subject: str, terms: TermsShown, age: AgeResult | None = None, *,
                          collection_method: str, policy_digest: str, capacity: str = "self",
                          licence: LicenceShown | None = None, guardian_entries: Sequence[int] = (),
                          client: ClientInfo | None = None) -> Receipt:
        """Record a terms acceptance with its age result; return the receipt (see :func:`acceptances.record_acceptance`)."""
        return acceptances.record_acceptance(self._core, campaign, subject, terms, age, collection_method=collection_method,
                                      policy_digest=policy_digest, capacity=capacity, licence=licence,
                                      guardian_entries=guardian_entries, client=client)

    def record_age_result(self, campaign: str, subject: str, age: AgeResult) -> Receipt:
        """Record an age result on its own (e.g. from the app's verification); it becomes the current band."""
        return acceptances.record_age_result(self._core, campaign, subject, age)

    def record_guardian_request(self, campaign: str, subject: str, *, acceptance_id: int, token_sha256: str,
                                expires_at: dt.datetime, guardian_email: str, guardian_index: int = 1,
                                language: str | None = None, client: ClientInfo | None = None,
                                checks: Mapping[str, Any] | None = None) -> int:
        """Record a guardian request (token hash, expiry, sealed e-mail, what was checked); return its entry id."""
        return guardians.record_guardian_request(self._core, campaign, subject, acceptance_id=acceptance_id,
                                            token_sha256=token_sha256, expires_at=expires_at,
                                            guardian_email=guardian_email, guardian_index=guardian_index,
                                            language=language, client=client, checks=checks).id

    def find_guardian_request(self, campaign: str, token_sha256: str) -> guardians.GuardianRequest | None:
        """Return the guardian request with this token hash in ``campaign``, or None."""
        with self._core.connect() as connection:
            return guardians.find_guardian_request(connection, campaign, token_sha256)

    def record_guardian_confirmation(self, campaign: str, request_id: int, *, guardian_name: str, relationship: str,
                                     terms: TermsShown, licence: LicenceShown, policy_digest: str,
                                     client: ClientInfo | None = None, checks: Mapping[str, Any] | None = None) -> Receipt:
        """Record a guardian's confirmation and what was checked; raises :class:`GuardianRequestUsed` if already answered."""
        return guardians.record_guardian_confirmation(self._core, campaign, request_id, guardian_name=guardian_name,
                                                 relationship=relationship, terms=terms, licence=licence,
                                                 policy_digest=policy_digest, client=client, checks=checks)

    def record_guardian_withdrawal(self, campaign: str, request_id: int, *, reason: str | None = None,
                                   client: ClientInfo | None = None) -> Receipt:
        """Record a guardian's withdrawal of consent; return its receipt."""
        return guardians.record_guardian_withdrawal(self._core, campaign, request_id, reason=reason, client=client)

    def subject_status(self, campaign: str, subject: str) -> SubjectStatus:
        """Return the subject's current standing in ``campaign`` (one primary-key lookup)."""
        with self._core.connect() as connection:
            return read_status(connection, campaign, subject)

    def due_reconfirmations(self, campaign: str, on: dt.date) -> list[SubjectStatus]:
        """Return the minors' acceptances flagged for re-confirmation whose due date is on or before ``on``."""
        statement = select(SubjectStatusRow).where(
            SubjectStatusRow.campaign == campaign, SubjectStatusRow.reconfirm_due <= on,
            SubjectStatusRow.reconfirm.is_(True), SubjectStatusRow.erased.is_(False),
        ).order_by(SubjectStatusRow.reconfirm_due, SubjectStatusRow.subject)
        with self._core.connect() as connection:
            return [status_of(row) for row in connection.execute(statement)]

    # -- upload screening ----------------------------------------------------------------------
    def record_submission(self, campaign: str, subject: str, facts: SubmissionFacts, licence: LicenceGrant,
                          portrait: PortraitGrant, *, acceptance_id: int | None,
                          client: ClientInfo | None = None) -> submissions.SubmissionReceipt:
        """Record a submission with its licence and portrait grants atomically; return id and receipt."""
        return submissions.record_submission(self._core, campaign, subject, facts, licence, portrait,
                                             acceptance_id=acceptance_id, client=client)

    def record_submission_status(self, submission_id: int, status: str, reason: str | None = None) -> Receipt:
        """Record a submission's new status (stored, not stored, withdrawn, expired, erased)."""
        return submissions.record_submission_status(self._core, submission_id, status, reason)

    def settle_submissions(self, campaign: str, targets: Mapping[int, tuple[str | None, str]], status: str, *,
                           only_from: Collection[str] = ("received",)) -> list[int]:
        """Append ``status`` for each ``id -> (subject, reason)`` still in ``only_from``; return those ids."""
        return submissions.settle_submissions(self._core, campaign, targets, status, only_from=only_from)

    def sweep_unconfirmed(self, campaign: str, *, older_than: dt.timedelta, dry_run: bool = False) -> list[int]:
        """Mark ``received`` submissions of a dead worker, or older than ``older_than``, ``not stored
        (unconfirmed)``; return their ids (``dry_run``: only list them)."""
        return unconfirmed.sweep_unconfirmed(self._core, campaign, older_than=older_than, dry_run=dry_run)

    # -- rights and retention ------------------------------------------------------------------
    def record_withdrawal(self, campaign: str, subject: str, scope: str, *, target_entry: int | None = None,
                          reason: str | None = None, client: ClientInfo | None = None) -> Receipt:
        """Record the subject's withdrawal of a consent; return its receipt."""
        return withdrawals.record_withdrawal(self._core, campaign, subject, scope, target_entry=target_entry,
                                        reason=reason, client=client)

    def rewrap_subject_keys(self, *, campaign: str | None = None, batch: int = rotation.BATCH) -> rotation.Rotation:
        """Re-wrap subject keys wrapped with an older secret under the newest one; see :mod:`.rotation`."""
        return rotation.rewrap_subject_keys(self._core, campaign=campaign, batch=batch)

    def erase_subject(self, campaign: str, subject: str, *, reason: str, requested_by: str = "subject") -> Receipt:
        """Destroy the subject's key (their personal fields become unreadable); return the erasure receipt."""
        return erasure.erase_subject(self._core, campaign, subject, reason=reason, requested_by=requested_by)

    def record_retention_action(self, campaign: str, action: str, *, target_entry: int | None = None,
                                rule: str | None = None, period: str | None = None, anchor: str | None = None,
                                subject: str | None = None) -> Receipt:
        """Record a retention action; ``deleted`` on a submission also sets its status to ``expired``."""
        return retention.record_retention_action(self._core, campaign, action, target_entry=target_entry, rule=rule,
                                              period=period, anchor=anchor, subject=subject)

    def mark_used(self, submission_id: int, *, production: str | None = None, used_on: dt.date | None = None) -> Receipt:
        """Record that a submission was used in a production."""
        return retention.mark_used(self._core, submission_id, production=production, used_on=used_on)

    def withdraw_consent(self, campaign: str, subject: str, scope: str, submission_ids: Sequence[int], *,
                         reason: str | None = None, client: ClientInfo | None = None) -> Receipt:
        """Withdraw ``portrait`` or ``processing`` consent for the subject's ``submission_ids`` (they go on the
        takedown list; the licence grant stays recorded as irrevocable). Returns the receipt."""
        return takedowns.record_consent_withdrawal(self._core, campaign, subject, scope, submission_ids,
                                                   reason=reason, client=client)

    def subject_submissions(self, campaign: str, subject: str) -> dict[int, dict[str, Any]]:
        """Return the subject's submissions in ``campaign``: id -> status, content_sha256, canonical_sha256."""
        with self._core.connect() as connection:
            return takedowns.subject_submissions(connection, campaign, subject)

    def subject_campaigns(self, subject: str) -> list[str]:
        """Return the campaigns in which ``subject`` has entries (a pseudonym is per campaign)."""
        with self._core.connect() as connection:
            return sorted(connection.execute(select(Entry.campaign).where(Entry.subject == subject).distinct()).scalars())

    def find_by_guardian_email(self, email: str, *, campaign: str | None = None) -> list[EntryView]:
        """Return the guardian requests sent to ``email`` (compared case-insensitively). The addresses are
        sealed, so this opens every guardian request (needs the secret; a scan, for operators)."""
        wanted = email.strip().casefold()
        return [view for view in self.iter_entries(campaign=campaign, kinds=("guardian_requested",))
                if str(view.data.get("guardian_email", "")).strip().casefold() == wanted]

    def takedowns(self, *, campaign: str | None = None, after: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Return a page of the takedown list: submissions whose current status is ``withdrawn``."""
        with self._core.connect() as connection:
            return takedowns.takedowns(connection, campaign=campaign, after=after, limit=limit)

    def count_retention_candidates(self, campaign: str) -> int:
        """Return how many of the campaign's submissions are neither expired nor erased."""
        with self._core.connect() as connection:
            return expiry.count_candidates(connection, campaign)

    def retention_candidates(self, campaign: str, status: str, *, after: int | None = None, limit: int = 500) -> list[Candidate]:
        """Return the next page of submissions in ``status`` (one of ``expiry.LIVE``), with upload and last-use times."""
        with self._core.connect() as connection:
            return expiry.retention_candidates(connection, campaign, status, after=after, limit=limit)

    def subject_activity(self, campaign: str) -> list[SubjectActivity]:
        """Return the campaign's not-erased subjects with their last acceptance/upload and last use."""
        with self._core.connect() as connection:
            return expiry.subject_activity(connection, campaign)

    def record_submission_ends(self, campaign: str, items: Sequence[tuple[int, str | None]], *, status: str,
                               action: str | None, rule: str | None = None, period: str | None = None,
                               anchor: str | None = None, reason: str | None = None) -> Receipt | None:
        """Record in one transaction that ``(submission_id, subject)`` items ended (``expired`` / ``erased``),
        each with a retention action when ``action`` is given. Returns the receipt, or None for no items."""
        stored = expiry.record_ends(self._core, campaign, items, status=status, action=action, rule=rule,
                                    period=period, anchor=anchor, reason=reason)
        return receipt_for(stored) if stored else None

    def job_lock(self, name: str, *, wait: float = 0.0) -> AbstractContextManager[JobLock]:
        """Return a context manager holding the database-wide lock ``name`` (raises :class:`JobLocked`)."""
        return job_lock(self._core, name, wait=wait)

    # -- the privacy-request log (operational, outside the chain) -------------------------------
    def add_request(self, *, regime: str, kind: str, received: dt.date, campaign: str | None = None,
                    subject: str | None = None, reference: str | None = None) -> RightsRequest:
        """Log a privacy request that arrived by e-mail or letter; return it."""
        with self._core.connect() as connection:
            return requests.add_request(connection, regime=regime, kind=kind, received=received, campaign=campaign,
                                        subject=subject, reference=reference)

    def extend_request(self, request_id: int) -> RightsRequest:
        """Note that the requester was told the answer takes the extended period; return the request."""
        with self._core.connect() as connection:
            return requests.extend_request(connection, request_id)

    def close_request(self, request_id: int, *, outcome: str, on: dt.date | None = None) -> RightsRequest:
        """Mark a request answered (today unless ``on``); return it."""
        with self._core.connect() as connection:
            return requests.close_request(connection, request_id, outcome=outcome,
                                          on=on or dt.datetime.now(dt.UTC).date())

    def rights_requests(self, *, open_only: bool = True) -> list[RightsRequest]:
        """Return the logged requests (open ones by default), oldest received first."""
        with self._core.connect() as connection:
            return requests.list_requests(connection, open_only=open_only)

    def append_entry(self, campaign: str, kind: str, payload: dict[str, Any], *, subject: str | None = None,
                     personal: dict[str, Any] | None = None, ref: int | None = None,
                     content_sha256: str | None = None, status: str | None = None) -> Receipt:
        """Append one entry of any registered kind (see :func:`ugc_guard.ledger.register`); ``personal``
        fields are sealed with the subject's key. Returns its receipt."""
        draft = Draft(kind, subject, dict(payload), dict(personal or {}), ref=ref, content_sha256=content_sha256,
                      status=status)
        return receipt_for(self._core.append(campaign, [draft]))

"""The acceptance ledger: append-only, hash-chained evidence of acceptances, grants and rights actions.

Start with :class:`Ledger` (sync; the CLI) or :class:`AsyncLedger` (the middleware). See docs/ledger.md.
"""

from __future__ import annotations

from .aio import AsyncLedger
from .canonical import entry_hash
from .crypto import ERASED, SEALED
from .errors import EntryNotFound, LedgerError, LedgerUnavailable, ReceiptInvalid, SchemaOutdated, SubjectErased
from .guardians import GuardianRequest, GuardianRequestUsed
from .inputs import (
    SUBMISSION_STATUSES,
    AgeResult,
    ClientInfo,
    LicenceGrant,
    LicenceShown,
    PortraitGrant,
    SubmissionFacts,
    TermsShown,
)
from .kinds import KINDS, Kind, register
from .ledger import Ledger
from .locks import JobLocked
from .queries import Page
from .receipts import Receipt, ReceiptCheck
from .status import SubjectStatus
from .submissions import SubmissionReceipt
from .verify import Finding, Verification
from .views import EntryView

__all__ = [
    "ERASED", "KINDS", "SEALED", "SUBMISSION_STATUSES", "AgeResult", "AsyncLedger", "ClientInfo", "EntryNotFound",
    "EntryView", "Finding", "GuardianRequest", "GuardianRequestUsed", "JobLocked", "Kind", "Ledger", "LedgerError",
    "LedgerUnavailable", "LicenceGrant", "LicenceShown", "Page", "PortraitGrant", "Receipt", "ReceiptCheck",
    "ReceiptInvalid", "SchemaOutdated", "SubjectErased", "SubjectStatus", "SubmissionFacts", "SubmissionReceipt",
    "TermsShown", "Verification", "entry_hash", "register",
]

"""The gate's view of the ledger: a small protocol, so the decision code is testable on its own.

:class:`LedgerGateStore` implements it on :class:`ugc_guard.ledger.Ledger`. Every method may raise
:class:`StoreUnavailable` when the database cannot be reached; the gate then fails closed (503).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any, Protocol

from ..agecheck import AgeProof
from ..rules.standing import Standing
from .records import AcceptanceRecord, GuardianConfirmation, GuardianRequestRecord, PendingGuardian, Recorded

__all__ = ["GateStore", "StoreUnavailable", "TokenSpent"]


class GateStore(Protocol):
    async def status(self, subject: str) -> Standing:
        """Return the subject's current status in the campaign (one indexed query)."""
        ...

    async def record_acceptance(self, record: AcceptanceRecord) -> Recorded: ...

    async def record_age_result(self, subject: str, band: str, method: str, assurance: str) -> Recorded:
        """Record an age band on its own (a lower band declared after an acceptance); it becomes the current band."""
        ...

    async def record_attested_age(self, subject: str, proof: AgeProof, reconfirm_due: _dt.date | None) -> Recorded:
        """Record the result of a verified age attestation (band, method, assurance, issuer, expiry; never the
        attestation) with a minor's re-confirmation day; it becomes the current band."""
        ...

    async def request_guardian(self, request: GuardianRequestRecord) -> None: ...

    async def find_guardian_request(self, token_hash: str) -> PendingGuardian | None:
        """Return the request with this token hash in this campaign, used or not, or None."""
        ...

    async def confirm_guardian(self, confirmation: GuardianConfirmation) -> Recorded:
        """Record the confirmation and spend the token; raises :class:`TokenSpent` if it was used meanwhile."""
        ...

    async def reconfirmations(self, today: _dt.date) -> Sequence[dict[str, Any]]:
        """Return minors' acceptances due for re-confirmation on or before ``today``."""
        ...


class TokenSpent(Exception):
    """The guardian token was used by another request between lookup and confirmation."""


class StoreUnavailable(Exception):
    """The store's database cannot be reached: the gate answers 503 ``ledger-unavailable``."""

"""An in-memory GateStore for the gate's decision tests (the real one is tested in test_ledger_store)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
from collections.abc import Sequence
from typing import Any

from ugc_guard.pages.records import AcceptanceRecord, GuardianConfirmation, GuardianRequestRecord, PendingGuardian, Recorded
from ugc_guard.pages.store import StoreUnavailable, TokenSpent
from ugc_guard.rules.standing import Standing


class MemoryStore:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.acceptances: list[AcceptanceRecord] = []
        self.requests: dict[str, tuple[str, GuardianRequestRecord]] = {}
        self.confirmations: list[GuardianConfirmation] = []
        self.statuses: dict[str, Standing] = {}
        self.used: set[str] = set()
        self.down = False
        self.status_calls = 0

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("database down (test)")

    async def status(self, subject: str) -> Standing:
        self._check()
        self.status_calls += 1
        return self.statuses.get(subject, Standing())

    async def record_acceptance(self, record: AcceptanceRecord) -> Recorded:
        self._check()
        entry = str(next(self.ids))
        self.acceptances.append(record)
        self.statuses[record.subject] = Standing(
            accepted_terms_version=record.terms_version,
            age_band=record.age_band,
            guardian_status="pending" if record.guardian_required else "not-required",
            reconfirm=record.reconfirm_due is not None,
            reconfirm_due=record.reconfirm_due.isoformat() if record.reconfirm_due else None,
            receipt_id=entry,
            receipt_hash="f" * 64,
            accepted_at=record.accepted_at.isoformat(),
        )
        return Recorded(entry, "f" * 64, record.accepted_at)

    async def record_age_result(self, subject: str, band: str, method: str, assurance: str) -> Recorded:
        self._check()
        self.statuses[subject] = dataclasses.replace(self.statuses.get(subject, Standing()), age_band=band, age_assurance=assurance)
        return Recorded(str(next(self.ids)), "a" * 64, _dt.datetime.now(_dt.UTC), "age_result")

    async def request_guardian(self, request: GuardianRequestRecord) -> None:
        self._check()
        self.requests[request.token_hash] = (str(next(self.ids)), request)

    async def find_guardian_request(self, token_hash: str) -> PendingGuardian | None:
        self._check()
        found = self.requests.get(token_hash)
        if found is None:
            return None
        request_id, request = found
        version = next(a.terms_version for a in self.acceptances if a.subject == request.subject)
        return PendingGuardian(request_id, request.subject, request.acceptance_id, version, request.expires_at, request_id in self.used)

    async def confirm_guardian(self, confirmation: GuardianConfirmation) -> Recorded:
        self._check()
        if confirmation.request_id in self.used:
            raise TokenSpent(confirmation.request_id)
        self.used.add(confirmation.request_id)
        self.confirmations.append(confirmation)
        status = self.statuses[confirmation.subject]
        self.statuses[confirmation.subject] = dataclasses.replace(
            status, guardian_status="confirmed", guardians_confirmed=status.guardians_confirmed + 1
        )
        return Recorded(str(next(self.ids)), "e" * 64, _dt.datetime.now(_dt.UTC), "guardian_confirmed")

    async def reconfirmations(self, today: _dt.date) -> Sequence[dict[str, Any]]:
        return [
            {"subject": a.subject, "reconfirm_due": a.reconfirm_due}
            for a in self.acceptances
            if a.reconfirm_due is not None and a.reconfirm_due <= today
        ]

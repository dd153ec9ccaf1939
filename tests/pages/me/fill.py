"""Filling a ledger quickly through the real Ledger API (acceptances, submissions, guardians)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

from tests.ledger.conftest import accept, submit
from ugc_guard.ledger import Ledger

CAMPAIGN = "test-campaign"  # the campaign of tests.conftest.BASE_POLICY
SECRET = os.environ["UGC_GUARD_SECRET"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def person(ledger: Ledger, subject: str, files: int, *, guardian_email: str | None = None) -> list[int]:
    """Record an acceptance (and a guardian request) and ``files`` submissions; return the submission ids."""
    acceptance = accept(ledger, subject, campaign=CAMPAIGN).entry_id
    if guardian_email:
        ledger.record_guardian_request(CAMPAIGN, subject, acceptance_id=acceptance, token_sha256=sha(subject + "token"),
                                       expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7), guardian_email=guardian_email)
    return [submit(ledger, subject, acceptance, f"{subject}-{n}", campaign=CAMPAIGN, name=f"{subject} {n}.jpg").submission_id
            for n in range(files)]

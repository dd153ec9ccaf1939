"""Ledger fixtures: an upgraded ledger on each database (``ledger_url`` runs SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from ugc_guard.ledger import (
    AgeResult,
    ClientInfo,
    Ledger,
    LicenceGrant,
    PortraitGrant,
    Receipt,
    SubmissionFacts,
    SubmissionReceipt,
    TermsShown,
)

SECRET = "ledger-test-secret-" + "k" * 16
CAMPAIGN = "summer"
TERMS = TermsShown("summer-terms", "2", hashlib.sha256(b"terms v2").hexdigest(), "nl")
LICENCE = LicenceGrant("LicenseRef-summer-ugc", "1", hashlib.sha256(b"licence").hexdigest(),
                       ("modify", "publish", "sublicense"), ("owns_rights_or_permission", "content_lawful"))
ADULT = AgeResult("18+", "birth_date", "self-declared")
CLIENT = ClientInfo("203.0.113.77", "Mozilla/5.0 (X11; Linux x86_64)")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = Ledger(ledger_url, secret=SECRET)
    opened.upgrade()
    yield opened
    opened.close()


def accept(ledger: Ledger, subject: str, *, campaign: str = CAMPAIGN, terms: TermsShown = TERMS,
           age: AgeResult | None = ADULT) -> Receipt:
    return ledger.record_acceptance(campaign, subject, terms, age, collection_method="click-wrap:unticked-checkbox",
                                    policy_digest=sha("policy"), client=CLIENT)


def submit(ledger: Ledger, subject: str, acceptance: int, content: str, *, campaign: str = CAMPAIGN,
           name: str | None = "holiday.jpg", canonical: str | None = None) -> SubmissionReceipt:
    facts = SubmissionFacts(sha(content), len(content), "image/jpeg", "image/jpeg", canonical, name)
    return ledger.record_submission(campaign, subject, facts, LICENCE, PortraitGrant(True, True), acceptance_id=acceptance,
                                    client=CLIENT)

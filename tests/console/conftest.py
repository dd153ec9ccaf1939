"""A campaign ledger filled through the ledger API with the policy's own texts, and the console over it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ugc_guard.console import BasicLogin, hash_password
from ugc_guard.ledger import AgeResult, ClientInfo, Ledger, LicenceGrant, PortraitGrant, SubmissionFacts, TermsShown
from ugc_guard.ledger.prooflog import ProofLog
from ugc_guard.policy import Policy

SECRET = "console-test-secret-" + "c" * 24
PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD, n=2**10)
CLIENT = ClientInfo("198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64)")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Filled:
    """What the fixture recorded: ids, hashes and one signed and one plain receipt."""

    url: str
    policy: Policy
    stored: int
    refused: int
    withdrawn: int
    other: int
    signed_receipt: str
    plain_receipt: str
    request_id: int


def fill(url: str, policy: Policy) -> Filled:
    ledger = Ledger.from_policy(policy, url=url, secret=SECRET)
    ledger.upgrade()
    campaign = policy.campaign.id
    terms = TermsShown.from_policy(policy, "en")
    licence = LicenceGrant(policy.licence.id, policy.licence.version, policy.licence.texts["en"].sha256,
                           ("modify", "publish"), ("owns_rights_or_permission",))
    ids: dict[str, int] = {}
    receipts = {}
    for subject, content in (("alice", "alice-photo"), ("alice", "alice-refused"), ("bob", "bob-photo"),
                             ("carol", "carol-<script>alert(1)</script>")):
        acceptance = ledger.record_acceptance(campaign, subject, terms, AgeResult("18+", "birth_date", "self-declared"),
                                              collection_method="click-wrap:unticked-checkbox", policy_digest=sha("p"),
                                              client=CLIENT)
        facts = SubmissionFacts(sha(content), len(content), "image/jpeg", "image/jpeg", None,
                                f"{content}.jpg")
        receipt = ledger.record_submission(campaign, subject, facts, licence, PortraitGrant(True, True),
                                           acceptance_id=acceptance.entry_id, client=CLIENT)
        ids[content] = receipt.submission_id
        receipts[content] = receipt.receipt
    ledger.settle_submissions(campaign, {ids["alice-photo"]: ("alice", "the app answered 201"),
                                         ids["bob-photo"]: ("bob", "the app answered 201")}, "stored")
    ledger.settle_submissions(campaign, {ids["alice-refused"]: ("alice", "the app answered 500")}, "not stored")
    ledger.withdraw_consent(campaign, "bob", "portrait", [ids["bob-photo"]], reason="I am in this photo")
    request = ledger.add_request(regime="gdpr", kind="erasure", received=dt.date.today() - dt.timedelta(days=40),
                                 campaign=campaign, subject="alice", reference="TICKET-7")
    ledger.add_request(regime="ccpa", kind="access", received=dt.date.today(), campaign="another-campaign")
    signed = ProofLog.from_policy(ledger, policy).issue_receipt(receipts["alice-photo"]).to_json()
    ledger.close()
    return Filled(url, policy, ids["alice-photo"], ids["alice-refused"], ids["bob-photo"],
                  ids["carol-<script>alert(1)</script>"], signed, receipts["alice-photo"].to_json(), request.id)


@pytest.fixture
def console_policy(make_policy: Callable[..., Policy], monkeypatch: pytest.MonkeyPatch) -> Policy:
    monkeypatch.setenv("UGC_GUARD_SECRET", SECRET)
    return make_policy()


@pytest.fixture
def filled(console_policy: Policy, sqlite_url: str) -> Filled:
    return fill(sqlite_url, console_policy)


@pytest.fixture
def filled_any(console_policy: Policy, ledger_url: str) -> Filled:
    """The same on SQLite and on PostgreSQL."""
    return fill(ledger_url, console_policy)


def login() -> BasicLogin:
    return BasicLogin("legal", PASSWORD_HASH)


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    yield folder

"""A guardian confirming during a rotation is compared with the minor's acceptance under every listed
secret: the same network is recorded as the same, though the two were keyed with different secrets."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from tests.ledger.conftest import CAMPAIGN, CLIENT, LICENCE, TERMS, accept
from ugc_guard.ledger import AgeResult, ClientInfo, Ledger, LicenceShown

OLD, NEW = "old-secret-" + "o" * 16, "new-secret-" + "n" * 16
MINOR = AgeResult("16-17", "birth_date", "self-declared", reconfirm_due=dt.date(2027, 7, 1))


@pytest.mark.parametrize(
    ("secrets", "client", "matches"),
    [
        ([NEW, OLD], CLIENT, True),
        ([NEW], CLIENT, False),  # the minor's evidence was keyed with a secret no longer listed: not comparable, so recorded as no match
        ([NEW, OLD], ClientInfo("198.51.100.7", "Another/1.0"), False),
    ],
)
def test_confirmation_compares_under_every_listed_secret(sqlite_url: str, secrets: list[str], client: ClientInfo, matches: bool) -> None:
    old = Ledger(sqlite_url, secret=OLD)
    old.upgrade()
    acceptance = accept(old, "minor", age=MINOR).entry_id
    token = hashlib.sha256(b"token").hexdigest()
    request = old.record_guardian_request(CAMPAIGN, "minor", acceptance_id=acceptance, token_sha256=token,
                                          expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), guardian_email="mum@example.org")
    old.close()
    both = Ledger(sqlite_url, secret=[NEW, OLD])
    assert both.rewrap_subject_keys().rewrapped == 1  # so the subject key opens with NEW alone too
    both.close()
    rotated = Ledger(sqlite_url, secret=secrets)
    rotated.record_guardian_confirmation(CAMPAIGN, request, guardian_name="A. Parent", relationship="mother", terms=TERMS,
                                         licence=LicenceShown(LICENCE.licence_id, LICENCE.version, LICENCE.text_sha256),
                                         policy_digest="p" * 64, client=client)
    (confirmed,) = rotated.entries(kinds=["guardian_confirmed"]).items
    checks = confirmed.data["checks"]
    assert (checks["client_address_matches_minor"], checks["user_agent_matches_minor"]) == (matches, matches)
    rotated.close()

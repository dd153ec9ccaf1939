"""Tampering with rows, the chain head or receipts is caught and named."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from ugc_guard.ledger import Ledger, Receipt, ReceiptInvalid

from .conftest import CAMPAIGN, accept, submit


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


@pytest.fixture
def filled(ledger: Ledger) -> tuple[Ledger, list[int]]:
    ids = []
    for number in range(4):
        acceptance = accept(ledger, f"s{number}")
        ids.append(submit(ledger, f"s{number}", acceptance.entry_id, f"photo-{number}").submission_id)
    accept(ledger, "other", campaign="winter")
    assert ledger.verify().ok
    return ledger, ids


@pytest.mark.parametrize(
    ("column", "change"),
    [
        ("body", "replace(body, '\"size\":7', '\"size\":8')"),
        ("subject", "'s9'"),
        ("status", "'stored'"),
        ("recorded_at", "recorded_at"),  # placeholder: replaced below with a one-second shift
    ],
)
def test_one_changed_byte_is_named(filled: tuple[Ledger, list[int]], column: str, change: str) -> None:
    ledger, ids = filled
    target = ids[2]
    if column == "recorded_at":
        shifted = "recorded_at + interval '1 second'" if ledger.url.startswith("postgresql") else "datetime(recorded_at, '+1 second')"
        change = shifted
    _sql(ledger.url, f"UPDATE ledger_entries SET {column} = {change} WHERE id = {target}")
    result = ledger.verify()
    assert not result.ok and len(result.findings) == 1
    finding = result.findings[0]
    assert (finding.campaign, finding.entry_id) == (CAMPAIGN, target)
    assert f"entry {target}" in str(finding) and "hash does not match" in finding.reason
    assert ledger.verify("winter").ok


def test_removed_and_truncated_entries_are_named(filled: tuple[Ledger, list[int]]) -> None:
    ledger, ids = filled
    _sql(ledger.url, f"DELETE FROM ledger_entries WHERE id = {ids[1] + 1}")  # the second submission's licence grant
    finding = ledger.verify().findings[0]
    assert finding.entry_id == ids[1] + 2 and "expected position" in finding.reason


def test_tail_truncation_is_caught_by_the_chain_head(filled: tuple[Ledger, list[int]]) -> None:
    ledger, _ = filled
    _sql(ledger.url, "DELETE FROM ledger_entries WHERE id = (SELECT max(id) FROM ledger_entries WHERE campaign = 'summer')")
    finding = ledger.verify().findings[0]
    assert finding.entry_id is None and "chain head" in finding.reason


def test_receipts_verify_until_edited(filled: tuple[Ledger, list[int]]) -> None:
    ledger, _ = filled
    acceptance = accept(ledger, "fresh")
    receipt = submit(ledger, "fresh", acceptance.entry_id, "fresh-photo").receipt
    assert ledger.verify_receipt(receipt.to_json()).ok
    data = receipt.to_dict()
    data["related"][0]["summary"]["exclusive"] = True
    check = ledger.verify_receipt(data)
    assert not check.ok and check.problems == [f"entry {receipt.related[0]['entry_id']}: summary differs from the ledger"]
    data = receipt.to_dict()
    data["hash"] = "0" * 64
    assert not ledger.verify_receipt(json.dumps(data)).ok
    with pytest.raises(ReceiptInvalid, match="position"):
        Receipt.from_dict({**receipt.to_dict(), "position": "3"})
    _sql(ledger.url, f"UPDATE ledger_entries SET body = body || ' ' WHERE id = {receipt.entry_id}")
    problems = ledger.verify_receipt(receipt).problems
    assert problems == [f"entry {receipt.entry_id}: the ledger row no longer matches its hash (run ugc-guard ledger verify)"]

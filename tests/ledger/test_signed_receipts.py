"""Signed receipts from the ledger: what they hold, that they verify with the key set alone, that one
changed field fails, that close receipts share a checkpoint, and how keys derive and rotate."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import text

from ugc_guard.ledger import EntryNotFound, Ledger, LedgerError
from ugc_guard.ledger import checkpoints as checkpoints_module
from ugc_guard.ledger.checkpoints import log_origin
from ugc_guard.ledger.prooflog import ProofLog
from ugc_guard.ledger.signing import derive_signing_key, key_ring
from ugc_guard.proof.keys import parse_jwks, thumbprint
from ugc_guard.proof.receipt import ReceiptError, verify_receipt

from .conftest import CAMPAIGN, LICENCE, SECRET, TERMS, accept, submit

ORIGIN = "shop.example/ugc-guard/summer"


@pytest.fixture
def log(ledger: Ledger) -> ProofLog:
    return ProofLog(ledger, CAMPAIGN, ORIGIN, [SECRET])


def keys(log: ProofLog) -> list[Any]:
    return parse_jwks(json.loads(json.dumps(log.jwks())))


def test_an_acceptance_receipt_holds_the_age_result_and_verifies(ledger: Ledger, log: ProofLog) -> None:
    acceptance = accept(ledger, "alice")
    receipt = log.issue_receipt(acceptance.entry_id).to_dict()
    assert receipt["format"] == "ugc-guard-receipt/2" and receipt["origin"] == ORIGIN
    assert [entry["kind"] for entry in receipt["entries"]] == ["terms_acceptance", "age_result"]
    main, age = receipt["entries"]
    assert main["summary"]["text_sha256"] == TERMS.text_sha256 and age["summary"]["band"] == "18+"
    assert "client_address" not in main["body"] and "sealed" in json.loads(main["body"])
    result = verify_receipt(receipt, keys(log))
    assert (result.entry_id, result.kind, result.entries) == (acceptance.entry_id, "terms_acceptance", 2)
    assert result.checkpoint.size == 2 and result.kid == log.keys.current.kid


def test_a_submission_receipt_holds_both_grants_with_the_licence_text_hash(ledger: Ledger, log: ProofLog) -> None:
    acceptance = accept(ledger, "bob")
    upload = submit(ledger, "bob", acceptance.entry_id, "photo")
    for receipt in (log.issue_receipt(upload.submission_id), log.issue_receipt(upload.receipt)):
        data = receipt.to_dict()
        assert [entry["kind"] for entry in data["entries"]] == ["submission", "licence_grant", "portrait_grant"]
        assert data["entries"][1]["summary"]["text_sha256"] == LICENCE.text_sha256
        assert data["entries"][2]["summary"]["own_consent"] is True
        assert verify_receipt(receipt.to_json(), keys(log)).entries == 3
    with pytest.raises(EntryNotFound):
        log.issue_receipt(accept(ledger, "carol", campaign="winter").entry_id)


CHANGES = {
    "summary": lambda r: r["entries"][1]["summary"].__setitem__("territory", "NL"),
    "body": lambda r: r["entries"][0].__setitem__("body", r["entries"][0]["body"].replace('"size":', '"size":1')),
    "position": lambda r: r["entries"][0].__setitem__("position", r["entries"][0]["position"] + 1),
    "subject": lambda r: r["entries"][0].__setitem__("subject", "mallory"),
    "inclusion": lambda r: r["entries"][2]["inclusion"].reverse(),
    "issued_at": lambda r: r.__setitem__("issued_at", "2020-01-01T00:00:00.000000Z"),
    "checkpoint": lambda r: r.__setitem__("checkpoint", r["checkpoint"].replace("\n4\n", "\n5\n")),
    "dropped entry": lambda r: r["entries"].pop(),
    "signature": lambda r: r.__setitem__("signature", r["signature"][:-4] + ("AAAA" if r["signature"][-4:] != "AAAA" else "BBBB")),
    "entry_id": lambda r: r.__setitem__("entry_id", r["entry_id"] + 1),
}


@pytest.mark.parametrize("change", CHANGES)
def test_one_changed_field_fails(ledger: Ledger, log: ProofLog, change: str) -> None:
    upload = submit(ledger, "dave", accept(ledger, "dave", age=None).entry_id, "photo")
    receipt = log.issue_receipt(upload.submission_id).to_dict()
    verify_receipt(receipt, keys(log))
    changed = copy.deepcopy(receipt)
    CHANGES[change](changed)
    assert changed != receipt
    with pytest.raises(ReceiptError):
        verify_receipt(changed, keys(log))


def test_receipts_issued_together_share_one_signed_checkpoint(ledger: Ledger, log: ProofLog, monkeypatch: pytest.MonkeyPatch) -> None:
    signed: list[int] = []
    original = checkpoints_module.sign_checkpoint
    monkeypatch.setattr(checkpoints_module, "sign_checkpoint", lambda *args: signed.append(args[1]) or original(*args))
    batch = [accept(ledger, f"batch{index}") for index in range(5)]
    receipts = [log.issue_receipt(acceptance.entry_id) for acceptance in batch]
    assert {receipt.tree_size for receipt in receipts} == {10} and signed == [10]
    assert log.checkpoint().note == receipts[0].to_dict()["checkpoint"] and signed == [10]
    accept(ledger, "later")
    assert log.checkpoint().size == 12 and signed == [10, 12]


def test_the_log_refuses_to_sign_a_second_root_for_a_size(ledger: Ledger, log: ProofLog) -> None:
    accept(ledger, "x")
    log.checkpoint()
    with ledger._core.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entries SET hash = :forged WHERE position = 1"), {"forged": "0" * 64})
    with pytest.raises(LedgerError, match="fork"):
        log.checkpoint()


def test_keys_derive_by_hkdf_per_campaign_and_rotate_newest_first(ledger: Ledger) -> None:
    private = derive_signing_key(SECRET, CAMPAIGN)
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    prk = hmac.new(b"ugc-guard/log-signing-key", SECRET.encode(), hashlib.sha256).digest()  # RFC 5869 extract
    info = f"ugc-guard log signing key v1\n{CAMPAIGN}\n1".encode()
    assert seed == hmac.new(prk, info + b"\x01", hashlib.sha256).digest()  # RFC 5869 expand, one block
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert key_ring([SECRET], CAMPAIGN).current.kid == thumbprint(public)
    assert key_ring([SECRET], "winter").current.kid != thumbprint(public)
    assert key_ring([SECRET], CAMPAIGN, generation=2).current.kid != thumbprint(public)

    old_log = ProofLog(ledger, CAMPAIGN, ORIGIN, [SECRET])
    old_receipt = old_log.issue_receipt(accept(ledger, "erin").entry_id).to_dict()
    new_secret = "a-newer-site-secret-" + "n" * 16
    rotated = ProofLog(ledger, CAMPAIGN, ORIGIN, [new_secret, SECRET])
    jwks = rotated.jwks()["keys"]
    assert [key["status"] for key in jwks] == ["current", "retired"] and jwks[1]["kid"] == old_log.keys.current.kid
    assert all(key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA" and key["use"] == "sig" for key in jwks)
    assert verify_receipt(old_receipt, keys(rotated)).kid == old_log.keys.current.kid
    new_receipt = rotated.issue_receipt(accept(ledger, "frank").entry_id).to_dict()
    assert verify_receipt(new_receipt, keys(rotated)).kid == rotated.keys.current.kid

    dropped = ProofLog(ledger, CAMPAIGN, ORIGIN, [new_secret])
    with pytest.raises(ReceiptError, match="no signature by a known key"):
        verify_receipt(old_receipt, keys(dropped))
    kept = ProofLog(ledger, CAMPAIGN, ORIGIN, [new_secret], retired=[jwks[1]])
    assert kept.jwks()["keys"][1]["status"] == "retired"
    assert verify_receipt(old_receipt, keys(kept)).kid == old_log.keys.current.kid


def test_the_origin_is_a_stable_host_and_campaign(ledger: Ledger) -> None:
    assert log_origin("Shop.Example.", "summer") == ORIGIN
    for host in ("", "has space", "plus+host"):
        with pytest.raises(LedgerError):
            log_origin(host, "summer")
    with pytest.raises(LedgerError):
        key_ring([], "summer")
    with pytest.raises(LedgerError, match="origin"):
        ProofLog(ledger, "summer", "two words", [SECRET])


def test_a_receipt_names_a_checkpoint_its_own_read_can_prove(ledger: Ledger, log: ProofLog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another thread signs a checkpoint over entries committed after this receipt's read began (on SQLite
    that read is a snapshot): the receipt must not take that checkpoint, whose leaves it cannot see."""
    first = accept(ledger, "erin")
    read_rows = log._rows

    def rows_then_a_newer_checkpoint(connection: Any, ids: Any) -> Any:
        rows = read_rows(connection, ids)  # SQLite: the read transaction's snapshot is fixed from here
        worker = threading.Thread(target=lambda: (accept(ledger, "frank"), newer.append(log.checkpoint())))
        worker.start()
        worker.join()
        return rows

    newer: list[Any] = []
    monkeypatch.setattr(log, "_rows", rows_then_a_newer_checkpoint)
    receipt = log.issue_receipt(first.entry_id)
    assert newer[0].size == 4
    result = verify_receipt(receipt.to_dict(), keys(log))
    # SQLite proves against what its snapshot holds (the 2 entries of the first acceptance); PostgreSQL
    # reads committed rows statement by statement and may use the newer checkpoint.
    assert result.checkpoint.size == (2 if ledger.url.startswith("sqlite") else 4)

"""Witnesses and old receipts catch what the database alone cannot: an attacker with the database
who rewrites an old entry and recomputes every chain hash and tree node passes the ledger's own
verification, but not a witness that kept an earlier checkpoint, nor a receipt issued before."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from ugc_guard.ledger import Ledger, tree
from ugc_guard.ledger.canonical import body_json, entry_hash, header_json, utc_text
from ugc_guard.ledger.models import ChainHead, Entry
from ugc_guard.ledger.prooflog import ProofLog
from ugc_guard.ledger.views import ENTRY_COLUMNS
from ugc_guard.proof.keys import parse_jwks
from ugc_guard.proof.receipt import ReceiptError, verify_receipt
from ugc_guard.proof.witness import WitnessRefusal, WitnessStore, witness

from .conftest import CAMPAIGN, ORIGIN, accept, proof_log, run_cli, upload


def rewrite(ledger: Ledger, position: int, change: Callable[[dict[str, Any]], None]) -> None:
    """What an attacker with write access to the database does: edit the entry at ``position``, then
    recompute every later chain hash, the chain head and the whole Merkle tree."""
    with ledger._core.engine.begin() as connection:
        rows = connection.execute(select(*ENTRY_COLUMNS).where(Entry.campaign == CAMPAIGN, Entry.position >= position).order_by(Entry.position)).all()
        previous = rows[0].previous_hash
        for row in rows:
            body = row.body
            if row.position == position:
                payload = json.loads(body)
                change(payload)
                body = body_json(payload)
            header = header_json(
                row.id,
                CAMPAIGN,
                row.position,
                previous,
                row.kind,
                row.subject,
                utc_text(row.recorded_at),
                row.ref,
                row.content_sha256,
                row.terms_version,
                row.status,
            )
            digest = entry_hash(header, body)
            connection.execute(update(Entry).where(Entry.id == row.id).values(body=body, previous_hash=previous, hash=digest))
            previous = digest
        connection.execute(update(ChainHead).where(ChainHead.campaign == CAMPAIGN).values(hash=previous))
        tree.rebuild(connection, CAMPAIGN)


def truncate(ledger: Ledger, keep: int) -> None:
    """Drop every entry after position ``keep`` and fix up the head and the tree (a rollback)."""
    with ledger._core.engine.begin() as connection:
        connection.execute(delete(Entry).where(Entry.campaign == CAMPAIGN, Entry.position > keep))
        last = connection.execute(select(Entry.hash).where(Entry.campaign == CAMPAIGN, Entry.position == keep)).scalar_one()
        connection.execute(update(ChainHead).where(ChainHead.campaign == CAMPAIGN).values(position=keep, hash=last))
        tree.rebuild(connection, CAMPAIGN)


def test_a_rewritten_history_is_refused_by_the_witness_and_fails_an_old_receipt(
    ledger: Ledger, serve: Callable[[ProofLog], str], tmp_path: Path
) -> None:
    submission = upload(ledger, "uploader", b"the original photo")
    base = serve(proof_log(ledger))
    store = tmp_path / "witness"
    first = run_cli("proof", "witness", f"{base}/checkpoint", "--store", str(store), "--keys", f"{base}/keys", cwd=tmp_path)
    assert first.returncode == 0 and first.stdout == f"accepted: {ORIGIN} at tree size 5 (first checkpoint stored)\n", first.stderr
    receipt = proof_log(ledger).issue_receipt(submission).to_dict()
    for index in range(3):
        accept(ledger, f"later{index}")
    grown = run_cli("proof", "witness", f"{base}/checkpoint", "--store", str(store), cwd=tmp_path)
    assert grown.returncode == 0 and grown.stdout.endswith("at tree size 11 (consistent with size 5)\n"), grown.stderr

    rewrite(ledger, 4, lambda payload: payload.update(territory="NL only", irrevocable=False))  # the licence grant
    assert ledger.verify().ok  # the chain alone is fooled
    attacker = serve(proof_log(ledger))  # a restarted server signs whatever the database holds
    accept(ledger, "after-the-rewrite")
    refused = run_cli("proof", "witness", f"{attacker}/checkpoint", "--store", str(store), cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"refused: fork: {ORIGIN} at 13 is not an extension of 11") and refused.stderr.count("\n") == 1
    assert (store / "shop.example%2Fugc-guard%2Fsummer" / "history").read_text().count("\n") == 2  # nothing stored

    keys = parse_jwks(proof_log(ledger).jwks())
    verify_receipt(receipt, keys)  # the receipt still proves what was granted at the time ...
    newer = proof_log(ledger).checkpoint()
    with pytest.raises(ReceiptError, match="not consistent with the receipt's checkpoint"):
        verify_receipt(receipt, keys, newer=newer.note, consistency=proof_log(ledger).consistency(5, newer.size))
    fresh = proof_log(ledger).issue_receipt(submission).to_dict()  # ... and the log no longer holds it as it was
    assert fresh["entries"][1]["hash"] != receipt["entries"][1]["hash"]


def test_a_rollback_and_a_same_size_fork_are_refused(ledger: Ledger, tmp_path: Path) -> None:
    for index in range(6):
        accept(ledger, f"s{index}")
    store = WitnessStore(tmp_path / "w")
    log = proof_log(ledger)
    jwks = log.jwks()
    assert witness(store, log.checkpoint().note, jwks, lambda old, new: pytest.fail("no proof needed")).previous is None
    truncate(ledger, 10)
    with pytest.raises(WitnessRefusal, match=r"rollback: .* shows 10 entries after showing 12"):
        witness(store, proof_log(ledger).checkpoint().note, None, proof_log(ledger).consistency)
    accept(ledger, "different")
    same_size = proof_log(ledger).checkpoint()
    assert same_size.size == 12
    with pytest.raises(WitnessRefusal, match="fork"):
        witness(store, same_size.note, None, lambda old, new: {"from": old, "to": new, "proof": []})


def test_signatures_keys_and_proofs_are_checked(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    accept(sqlite_ledger, "a")
    log = proof_log(sqlite_ledger)
    store = WitnessStore(tmp_path / "w")
    with pytest.raises(WitnessRefusal, match="pass --keys the first time"):
        witness(store, log.checkpoint().note, None, log.consistency)
    impostor = ProofLog(sqlite_ledger, CAMPAIGN, ORIGIN, ["an-impostor-secret-" + "i" * 16])
    witness(store, log.checkpoint().note, log.jwks(), log.consistency)
    accept(sqlite_ledger, "b")
    with pytest.raises(WitnessRefusal, match="no signature by a known key"):
        witness(store, impostor.checkpoint().note, None, impostor.consistency)
    with pytest.raises(WitnessRefusal, match="malformed"):
        witness(store, log.checkpoint().note, None, lambda old, new: {"from": old, "to": new})
    with pytest.raises(WitnessRefusal, match="fork"):
        witness(store, log.checkpoint().note, None, lambda old, new: log.consistency(old - 1, new) | {"from": old})
    assert witness(store, log.checkpoint().note, None, log.consistency).previous == 2


def test_a_file_source_takes_its_proof_from_a_file(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    log = proof_log(sqlite_ledger)
    accept(sqlite_ledger, "a")
    (tmp_path / "keys.json").write_text(json.dumps(log.jwks()))
    (tmp_path / "one.txt").write_text(log.checkpoint().note)
    store = str(tmp_path / "w")
    assert run_cli("proof", "witness", "one.txt", "--store", store, "--keys", "keys.json", cwd=tmp_path).returncode == 0
    accept(sqlite_ledger, "b")
    (tmp_path / "two.txt").write_text(log.checkpoint().note)
    without = run_cli("proof", "witness", "two.txt", "--store", store, cwd=tmp_path)
    assert without.returncode == 1 and "pass --consistency" in without.stderr
    (tmp_path / "proof.json").write_text(json.dumps(log.consistency(2, 4)))
    done = run_cli("proof", "witness", "two.txt", "--store", store, "--consistency", "proof.json", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.endswith("(consistent with size 2)\n")

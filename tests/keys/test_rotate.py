"""``ugc-guard keys rotate`` re-wraps subject keys under the newest secret; after the old secret is
dropped, personal fields still open and receipts signed by the old key still verify (as retired)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.pages.me.fill import CAMPAIGN, person
from ugc_guard.cli import main
from ugc_guard.ledger import ERASED, Ledger
from ugc_guard.ledger.crypto import Sealer
from ugc_guard.ledger.models import SubjectKey
from ugc_guard.ledger.prooflog import ProofLog
from ugc_guard.policy import load_policy
from ugc_guard.proof.keys import parse_jwks
from ugc_guard.proof.receipt import verify_checkpoint, verify_receipt

OLD, NEW, OTHER = "old-secret-" + "o" * 16, "new-secret-" + "n" * 16, "other-secret-" + "x" * 16
ENV: dict[str, str | None] = {"UGC_GUARD_SECRET": NEW, "UGC_GUARD_OLD_SECRET": OLD}
SECRETS = ["${UGC_GUARD_SECRET}", "${UGC_GUARD_OLD_SECRET:-}"]


def run(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=ENV if env is None else env)
    return result.exit_code, result.stdout, result.stderr


def wrapped_by(url: str, secrets: list[str]) -> dict[str, int | None]:
    """Which listed secret opens each subject's key (None: erased)."""
    ledger = Ledger(url)
    sealer = Sealer([secret.encode() for secret in secrets])
    with ledger._core.connect() as connection:
        rows = connection.execute(SubjectKey.__table__.select().order_by(SubjectKey.subject)).all()
    ledger.close()
    return {row.subject: None if row.wrapped_key is None else sealer.unwrap_with_index(CAMPAIGN, row.subject, row.wrapped_key)[1]
            for row in rows}


def test_rotate_then_drop_the_old_secret(ledger_url: str, policy_file: Callable[..., Path], tmp_path: Path) -> None:
    old = Ledger(ledger_url, secret=OLD)
    old.upgrade()
    alice = person(old, "alice", 2, guardian_email="mum@example.org")
    person(old, "bob", 1)
    person(old, "carol", 1)
    old.erase_subject(CAMPAIGN, "carol", reason="GDPR Art. 17")
    old_log = ProofLog(old, CAMPAIGN, "testserver/ugc-guard/test-campaign", [OLD])
    old_receipt, old_checkpoint = old_log.issue_receipt(alice[0]).to_dict(), old_log.checkpoint()
    old_jwks = old_log.jwks()
    old.close()
    assert wrapped_by(ledger_url, [NEW, OLD]) == {"alice": 1, "bob": 1, "carol": None}

    path = policy_file({"secret": SECRETS, "ledger": {"url": ledger_url}})
    code, out, err = run("keys", "rotate", "--policy", str(path), "--batch", "1")
    assert (code, out, err) == (0, "re-wrapped: 2\nalready current: 0\nerased or skipped: 1\n", "")
    assert wrapped_by(ledger_url, [NEW, OLD]) == {"alice": 0, "bob": 0, "carol": None}
    code, out, _ = run("keys", "rotate", "--policy", str(path))
    assert (code, out) == (0, "re-wrapped: 0\nalready current: 2\nerased or skipped: 1\n")

    # the old secret dropped: its public key stays published from a file the policy names
    (path.parent / "old.jwks").write_text(json.dumps(old_jwks))
    dropped = policy_file({"secret": SECRETS, "ledger": {"url": ledger_url, "retired_keys": ["old.jwks"]}})
    policy = load_policy(dropped, environ={"UGC_GUARD_SECRET": NEW})
    assert policy.secrets() == (NEW.encode(),)
    ledger = Ledger.from_policy(policy)
    grants = ledger.grants(alice[0])
    assert grants[0].data["original_name"] == "alice 0.jpg"
    log = ProofLog.from_policy(ledger, policy)
    keys = parse_jwks(log.jwks())
    assert [(key.kid, key.retired) for key in keys] == [(log.keys.current.kid, False), (old_log.keys.current.kid, True)]
    assert verify_receipt(old_receipt, keys).entry_id == alice[0]
    assert verify_checkpoint(old_checkpoint.note, old_log.origin, keys).size == old_checkpoint.size

    # erasure after rotation: the key goes, every receipt and checkpoint still verifies
    ledger.erase_subject(CAMPAIGN, "alice", reason="GDPR Art. 17")
    assert ledger.grants(alice[0])[0].data["original_name"] == ERASED
    newer = log.checkpoint()
    verify_receipt(old_receipt, keys, newer=newer.note, consistency=log.consistency(old_checkpoint.size, newer.size))
    assert verify_receipt(log.issue_receipt(alice[1]).to_dict(), keys).entry_id == alice[1]
    assert ledger.verify().ok
    ledger.close()
    code, out, _ = run("keys", "rotate", "--policy", str(dropped), env={"UGC_GUARD_SECRET": NEW})
    assert (code, out) == (0, "re-wrapped: 0\nalready current: 1\nerased or skipped: 2\n")
    code, out, _ = run("keys", "list", "--policy", str(dropped), env={"UGC_GUARD_SECRET": NEW})
    assert (code, out) == (0, f"{log.keys.current.kid}  current\n{old_log.keys.current.kid}  retired\n")


def test_keys_no_listed_secret_opens_are_counted_and_exit_1(ledger_url: str, policy_file: Callable[..., Path]) -> None:
    ledger = Ledger(ledger_url, secret=[NEW, OLD])
    ledger.upgrade()
    person(ledger, "alice", 1)
    ledger.close()
    foreign = Ledger(ledger_url, secret=OTHER)
    person(foreign, "bob", 1)
    person(foreign, "carol", 1)
    foreign.close()
    path = policy_file({"secret": SECRETS, "ledger": {"url": ledger_url}})
    code, out, err = run("keys", "rotate", "--policy", str(path))
    assert code == 1
    assert out == "re-wrapped: 0\nalready current: 1\nerased or skipped: 0\n"
    assert err == ("Error: 2 subject key(s) open with none of the listed secrets; list the secret they were wrapped "
                   "with (after the new one) and run keys rotate again\n")
    assert "bob" not in err + out and "carol" not in err + out
    assert wrapped_by(ledger_url, [NEW, OTHER]) == {"alice": 0, "bob": 1, "carol": 1}


def test_rotate_needs_a_secret(sqlite_url: str) -> None:
    Ledger(sqlite_url).upgrade()
    code, _, err = run("keys", "rotate", "--ledger", sqlite_url, env={"UGC_GUARD_SECRET": None})
    assert code == 1
    assert err == "Error: re-wrapping subject keys needs the site secret(s); pass --policy or set UGC_GUARD_SECRET\n"


def test_a_subject_erased_while_rotate_runs_stays_erased(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old = Ledger(postgres_url, secret=OLD)
    old.upgrade()
    person(old, "alice", 1)
    person(old, "bob", 1)
    rotated = Ledger(postgres_url, secret=[NEW, OLD])
    wrap = rotated._core.sealer.wrap

    def erase_alice_first(campaign: str, subject: str, key: bytes) -> bytes:
        if subject == "alice":  # read by the rotation, erased by the site before the re-wrapped key is written
            old.erase_subject(CAMPAIGN, "alice", reason="GDPR Art. 17")
        return wrap(campaign, subject, key)

    monkeypatch.setattr(rotated._core.sealer, "wrap", erase_alice_first)
    done = rotated.rewrap_subject_keys()
    assert (done.rewrapped, done.current, done.erased, done.unopenable) == (1, 0, 1, 0)
    assert wrapped_by(postgres_url, [NEW, OLD]) == {"alice": None, "bob": 0}
    rotated.close()
    old.close()

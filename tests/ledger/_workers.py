"""Subprocess entry points for the fault and concurrency tests (run with ``python -m``)."""

from __future__ import annotations

import sys
import time

from ugc_guard.ledger import ClientInfo, Ledger, TermsShown
from ugc_guard.ledger.chain import Draft

SECRET = "worker-secret-" + "w" * 20
TERMS = TermsShown("terms", "1", "a" * 64, "en")


def append_many(url: str, worker: int, count: int) -> None:
    """Append ``count`` acceptances (one entry each, with sealed evidence) as subject ``w<worker>``.

    Durability "normal" only skips the fsync per commit; locking and chaining are the same, and the
    test is about those, not about surviving a power cut.
    """
    ledger = Ledger(url, secret=SECRET, durability="normal")
    for _ in range(count):
        ledger.record_acceptance("load", f"w{worker}", TERMS, collection_method="click-wrap", policy_digest="p",
                                 client=ClientInfo("198.51.100.1", "worker"))
    ledger.close()


def hang_mid_append(url: str) -> None:
    """Insert entries and move the chain head, then announce it and wait (uncommitted) to be killed."""
    ledger = Ledger(url, secret=SECRET)

    def hang(_connection: object, stored: list[object]) -> None:
        print("inside", flush=True)
        time.sleep(600)

    drafts = [Draft("submission", "victim", {"n": 1}, {"client_address": "x"}), Draft("licence_grant", "victim", {"n": 2})]
    ledger._core.append("summer", drafts, hang)


def record_then_hang(url: str, acceptance: int, campaign: str = "summer", subject: str = "victim", secret: str = "") -> None:
    """Record a submission (``received``) as a worker would, announce its id and wait to be killed before
    anyone confirms it."""
    from tests.ledger.conftest import SECRET as LEDGER_SECRET
    from tests.ledger.conftest import submit

    result = submit(Ledger(url, secret=secret or LEDGER_SECRET), subject, acceptance, "killed-mid-request", campaign=campaign)
    print(result.submission_id, flush=True)
    time.sleep(600)


if __name__ == "__main__":
    if sys.argv[1] == "append":
        append_many(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "record":
        record_then_hang(sys.argv[2], int(sys.argv[3]), *sys.argv[4:7])
    else:
        hang_mid_append(sys.argv[2])

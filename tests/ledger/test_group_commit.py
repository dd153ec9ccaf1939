"""Group commit: concurrent appends to one campaign share transactions, and each caller still gets
exactly its own outcome, only after the transaction holding its entries committed.

A batch is formed deterministically: another connection holds the campaign's chain lock, the first
caller (the leader) waits for it inside its transaction, and the other 15 queue behind it; when the
lock is released the leader commits alone and the next transaction holds all 15."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import event, exc

from ugc_guard.ledger import AgeResult, AsyncLedger, Ledger, LedgerUnavailable, Receipt, SubjectErased
from ugc_guard.ledger.batching import GroupCommit
from ugc_guard.ledger.prooflog import ProofLog
from ugc_guard.ledger.rawsql import Upsert, merged
from ugc_guard.proof.keys import parse_jwks
from ugc_guard.proof.receipt import verify_receipt

from .conftest import CAMPAIGN, SECRET, TERMS, accept

WRITERS = 16
ORIGIN = "shop.example/ugc-guard/summer"


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


@contextmanager
def chain_held(url: str) -> Iterator[Callable[[], None]]:
    """Hold the campaign's chain lock from another connection; yield the function that releases it."""
    if url.startswith("sqlite"):
        holder: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = lambda: holder.execute("COMMIT")  # noqa: E731
    else:
        holder = psycopg.connect(_pg(url))
        holder.execute("SELECT 1 FROM ledger_chain_heads WHERE campaign = %s FOR UPDATE", (CAMPAIGN,))
        release = holder.commit
    try:
        yield release
    finally:
        holder.close()


def wait_for_queue(ledger: Ledger, count: int) -> None:
    group = ledger._core.group
    assert group is not None
    while group.waiting(CAMPAIGN) < count:
        time.sleep(0.005)


def batches_of(ledger: Ledger) -> list[int]:
    """Return the list the group committer appends each committed transaction's number of callers to."""
    sizes: list[int] = []
    group = ledger._core.group
    assert group is not None
    group.observe = lambda campaign, callers: sizes.append(callers)
    return sizes


def threads_for(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[threading.Thread]]:
    """Return the list each call's result or exception lands in, and a thread (not started) per call."""
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            outcomes[index] = calls[index]()
        except Exception as error:
            outcomes[index] = error

    return outcomes, [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]


def run_together(ledger: Ledger, url: str, calls: list[Callable[[], Any]], before_release: Callable[[], None] = lambda: None
                 ) -> list[Any]:
    """Run ``calls`` in threads while the chain is held until all but the leader queue; return each
    call's result or exception."""
    outcomes, threads = threads_for(calls)
    with chain_held(url) as release:
        for thread in threads:
            thread.start()
        wait_for_queue(ledger, len(calls) - 1)
        before_release()
        with contextlib.suppress(psycopg.OperationalError):  # before_release may have ended the holder, and its lock
            release()
        for thread in threads:
            thread.join()
    return outcomes


def check_receipts(ledger: Ledger, receipts: list[Receipt]) -> None:
    """Every receipt checks against the database and its signed form's inclusion proofs verify."""
    log = ProofLog(ledger, CAMPAIGN, ORIGIN, [SECRET])
    keys = parse_jwks(json.loads(json.dumps(log.jwks())))
    for receipt in receipts:
        assert ledger.verify_receipt(receipt).ok
        signed = log.issue_receipt(receipt).to_dict()
        verified = verify_receipt(signed, keys)
        assert (verified.entry_id, verified.entries) == (receipt.entry_id, 1 + len(receipt.related))


def test_sixteen_threads_share_one_transaction(ledger: Ledger, ledger_url: str) -> None:
    accept(ledger, "first")
    sizes = batches_of(ledger)
    outcomes = run_together(ledger, ledger_url, [lambda n=n: accept(ledger, f"t{n}") for n in range(WRITERS)])
    assert all(isinstance(outcome, Receipt) for outcome in outcomes), outcomes
    assert sizes == [1, WRITERS - 1]
    receipts: list[Receipt] = outcomes
    # each acceptance refers to its own age result, appended just before it (refs shifted within the batch)
    assert all(receipt.related[0]["kind"] == "age_result" for receipt in receipts)
    by_id = {entry.id: entry for entry in ledger.iter_entries(campaign=CAMPAIGN)}
    assert all(by_id[r.entry_id].ref == r.related[0]["entry_id"] and by_id[r.entry_id].subject == f"t{n}"
               for n, r in enumerate(receipts))
    assert sorted(p for r in receipts for p in (r.position, r.related[0]["position"])) == list(range(3, 3 + 2 * WRITERS))
    result = ledger.verify()
    assert result.ok and result.entries == 2 + 2 * WRITERS, result.findings
    check_receipts(ledger, receipts)
    assert all(ledger.subject_status(CAMPAIGN, f"t{n}").acceptance_id == receipts[n].entry_id for n in range(WRITERS))


def test_sixteen_async_tasks_share_one_transaction(ledger: Ledger, ledger_url: str) -> None:
    accept(ledger, "first")
    sizes = batches_of(ledger)
    facade = AsyncLedger(ledger)

    async def everyone() -> list[Receipt]:
        with chain_held(ledger_url) as release:
            tasks = [asyncio.ensure_future(facade.record_acceptance(CAMPAIGN, f"a{n}", TERMS,
                                                                    collection_method="click-wrap", policy_digest="p"))
                     for n in range(WRITERS)]
            await asyncio.to_thread(wait_for_queue, ledger, WRITERS - 1)
            await asyncio.to_thread(release)
            return list(await asyncio.gather(*tasks))

    receipts = asyncio.run(everyone())
    assert sizes == [1, WRITERS - 1]
    assert sorted(receipt.position for receipt in receipts) == list(range(3, 3 + WRITERS))
    result = ledger.verify()
    assert result.ok and result.entries == 2 + WRITERS, result.findings
    check_receipts(ledger, receipts)


def test_an_erased_subject_fails_only_its_own_call(ledger: Ledger, ledger_url: str) -> None:
    accept(ledger, "gone")
    ledger.erase_subject(CAMPAIGN, "gone", reason="asked")
    sizes = batches_of(ledger)
    subjects = [f"t{n}" for n in range(WRITERS)]
    subjects[9] = "gone"
    outcomes = run_together(ledger, ledger_url, [lambda s=s: accept(ledger, s) for s in subjects])
    assert isinstance(outcomes[9], SubjectErased)
    receipts = [outcome for index, outcome in enumerate(outcomes) if index != 9]
    assert all(isinstance(outcome, Receipt) for outcome in receipts), outcomes
    assert sizes[0] == 1 and sum(sizes) == WRITERS - 1 and len(sizes) > 2  # the 15 were split to find the one
    result = ledger.verify()
    assert result.ok and result.entries == 3 + 2 * (WRITERS - 1), result.findings
    assert "gone" not in {entry.subject for entry in ledger.iter_entries(campaign=CAMPAIGN) if entry.kind == "terms_acceptance"
                          and entry.position > 3}
    check_receipts(ledger, receipts)


@contextmanager
def failing_commit(ledger: Ledger, url: str) -> Iterator[list[str]]:
    """Make the commit of any transaction holding a 'poison' entry fail (PostgreSQL: a deferred
    constraint trigger, checked at COMMIT; SQLite: the engine's commit event). Yields the log of failures."""
    failures: list[str] = []
    if url.startswith("sqlite"):
        def commit(connection: Any) -> None:
            cursor = connection.connection.driver_connection.cursor()
            if cursor.execute("SELECT count(*) FROM ledger_entries WHERE body LIKE '%poison%'").fetchone()[0]:
                failures.append("commit")
                raise RuntimeError("the disk refused the commit")

        event.listen(ledger._core.engine, "commit", commit)
        yield failures
        event.remove(ledger._core.engine, "commit", commit)
        return
    with psycopg.connect(_pg(url), autocommit=True) as admin:
        admin.execute("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                      "IF NEW.body LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned entry at commit'; END IF; RETURN NULL; END $$")
        admin.execute("CREATE CONSTRAINT TRIGGER poison AFTER INSERT ON ledger_entries DEFERRABLE INITIALLY DEFERRED "
                      "FOR EACH ROW EXECUTE FUNCTION poison()")
    yield failures


def test_a_failure_at_commit_fails_only_its_caller_and_nothing_is_answered_before(ledger: Ledger, ledger_url: str) -> None:
    accept(ledger, "first")
    sizes = batches_of(ledger)
    calls: list[Callable[[], Any]] = [lambda n=n: accept(ledger, f"t{n}") for n in range(WRITERS)]
    calls[5] = lambda: ledger.append_entry(CAMPAIGN, "note", {"text": "poison"}, subject="bad")
    with failing_commit(ledger, ledger_url):
        outcomes = run_together(ledger, ledger_url, calls)
    error = outcomes[5]
    if ledger_url.startswith("sqlite"):
        assert isinstance(error, RuntimeError) and str(error) == "the disk refused the commit"
    else:
        assert isinstance(error, exc.ProgrammingError) and "poisoned entry at commit" in str(error)
    receipts = [outcome for index, outcome in enumerate(outcomes) if index != 5]
    assert all(isinstance(outcome, Receipt) for outcome in receipts), outcomes
    assert sizes[0] == 1 and sum(sizes) == WRITERS - 1  # only committed transactions answered anyone
    entries = list(ledger.iter_entries(campaign=CAMPAIGN))
    assert len(entries) == 2 + 2 * (WRITERS - 1) and "bad" not in {entry.subject for entry in entries}
    assert ledger.verify().ok
    check_receipts(ledger, receipts)


def test_a_database_gone_mid_batch_fails_every_caller(postgres_url: str) -> None:
    ledger = Ledger(postgres_url, secret=SECRET)
    ledger.upgrade()
    accept(ledger, "first")
    sizes = batches_of(ledger)
    name = postgres_url.rsplit("/", 1)[1]

    def take_the_database_away() -> None:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                          (name,))

    try:
        outcomes = run_together(ledger, postgres_url, [lambda n=n: accept(ledger, f"t{n}") for n in range(WRITERS)],
                                before_release=take_the_database_away)
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert all(isinstance(outcome, LedgerUnavailable) for outcome in outcomes), outcomes
    assert len({id(outcome) for outcome in outcomes}) == WRITERS  # each caller its own exception
    assert sizes == []
    ledger.close()
    reopened = Ledger(postgres_url, secret=SECRET)
    result = reopened.verify()
    assert result.ok and result.entries == 2, result.findings  # nothing of the 16 was recorded
    reopened.close()


def test_group_commit_off_gives_each_call_its_own_transaction(ledger_url: str) -> None:
    ledger = Ledger(ledger_url, secret=SECRET, group_commit=False)
    ledger.upgrade()
    assert ledger._core.group is None
    receipts = [accept(ledger, f"t{n}") for n in range(3)]
    assert [receipt.position for receipt in receipts] == [2, 4, 6]
    assert ledger.verify().ok
    ledger.close()


def in_order(ledger: Ledger, calls: list[Callable[[], Any]]) -> tuple[list[Any], list[int]]:
    """Run ``calls`` in threads, queued in exactly this order behind a leader (its transaction held until
    all are queued), so every call but the first lands in one batch in that order; return each call's
    result or exception and the batch sizes."""
    core = ledger._core
    assert core.group is not None
    entered, release = threading.Event(), threading.Event()

    def held(campaign: str, drafts: Any, after: Any) -> Any:
        entered.set()
        release.wait()
        return core._append(campaign, drafts, after)

    core.group = group = GroupCommit(held, flush=core.group._flush)
    sizes = batches_of(ledger)
    outcomes, threads = threads_for(calls)
    threads[0].start()
    entered.wait()
    for index, thread in enumerate(threads[1:], start=1):
        thread.start()
        while group.waiting(CAMPAIGN) < index:
            time.sleep(0.002)
    release.set()
    for thread in threads:
        thread.join()
    return outcomes, sizes


def test_status_rows_of_one_batch_land_as_if_written_one_after_another(ledger: Ledger) -> None:
    """The status rows of a batch go to the database together, yet the result is that of each caller's
    in turn: a later row for the same subject wins, and a caller's own statements (a withdrawal's
    UPDATE) come after the rows of the callers before it and before those after it."""
    minor = AgeResult("13-15", "birth_date", "self-declared", reconfirm_due=dt.date(2030, 5, 1))
    calls: list[Callable[[], Any]] = [
        lambda: accept(ledger, "lead"),
        lambda: accept(ledger, "s"),
        lambda: accept(ledger, "t", age=None),
        lambda: ledger.record_age_result(CAMPAIGN, "s", minor),
        lambda: ledger.withdraw_consent(CAMPAIGN, "s", "processing", []),
        lambda: accept(ledger, "t"),
        lambda: accept(ledger, "u"),
        lambda: ledger.record_age_result(CAMPAIGN, "u", minor),
    ]
    outcomes, sizes = in_order(ledger, calls)
    assert all(isinstance(outcome, Receipt) for outcome in outcomes), outcomes
    assert sizes == [1, len(calls) - 1]
    s, t, u = (ledger.subject_status(CAMPAIGN, subject) for subject in ("s", "t", "u"))
    assert (s.terms_version, s.acceptance_id) == (None, None)  # the withdrawal came after the acceptance
    assert (s.age_band, s.reconfirm, s.reconfirm_due, s.capacity) == ("13-15", True, dt.date(2030, 5, 1), "self")
    assert (t.terms_version, t.acceptance_id, t.age_band) == (TERMS.version, outcomes[5].entry_id, "18+")
    assert (u.acceptance_id, u.age_band, u.reconfirm, u.reconfirm_due) == (outcomes[6].entry_id, "13-15", True, dt.date(2030, 5, 1))
    assert u.accepted_at is not None and u.guardian_status == "none" and not u.erased
    assert ledger.verify().ok


def test_merged_rows_equal_upserting_one_after_another() -> None:
    first = Upsert("status", ("k",), {"k": 1, "a": "a1", "b": "default", "c": "c1"}, ("a", "c"))
    second = Upsert("status", ("k",), {"k": 1, "a": "a2", "b": "default again", "d": "d2"}, ("a", "d"))
    other = Upsert("status", ("k",), {"k": 2, "a": "x", "b": "y", "c": "z"}, ("a",))
    rows = merged([first, other, second])
    # the second finds the row the first made: only its update columns count, the first's stay
    assert rows == [Upsert("status", ("k",), {"k": 1, "a": "a2", "b": "default", "c": "c1", "d": "d2"}, ("a", "c", "d")), other]

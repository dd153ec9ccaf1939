"""Verifying in parallel position ranges finds exactly what one sequential scan finds."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine

from ugc_guard.ledger import Ledger
from ugc_guard.ledger.verify import Verification, _split, verify_chains

from .conftest import accept, submit


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def _run(ledger: Ledger, campaign: str | None, workers: int) -> Verification:
    seen: list[int] = []
    with ledger._core.connect() as connection:
        result = verify_chains(connection, campaign, seen.append, workers=workers, parallel_from=0)
    assert sum(seen) == result.entries
    return result


def _same_everywhere(ledger: Ledger) -> Verification:
    expected = {campaign: _run(ledger, campaign, 1) for campaign in (None, "summer")}
    for workers in (2, 5):
        for campaign, sequential in expected.items():
            parallel = _run(ledger, campaign, workers)
            assert (parallel.entries, parallel.campaigns, parallel.findings) == (
                sequential.entries, sequential.campaigns, sequential.findings), (workers, campaign)
    return expected[None]


@pytest.fixture
def filled(ledger: Ledger) -> tuple[Ledger, list[int]]:
    ids = []
    for campaign, count in (("autumn", 2), ("summer", 5), ("winter", 3)):
        for number in range(count):
            acceptance = accept(ledger, f"{campaign}{number}", campaign=campaign)
            ids.append(acceptance.entry_id)
            ids.append(submit(ledger, f"{campaign}{number}", acceptance.entry_id, f"{campaign}-{number}",
                              campaign=campaign).submission_id)
    return ledger, ids


TAMPERS: dict[str, Callable[[list[int]], list[str]]] = {
    "intact": lambda ids: [],
    "body": lambda ids: [f"UPDATE ledger_entries SET subject = 'x' WHERE id = {ids[6]}"],
    "two bodies": lambda ids: [f"UPDATE ledger_entries SET subject = 'x' WHERE id IN ({ids[5]}, {ids[9]}, {ids[15]})"],
    "removed": lambda ids: [f"DELETE FROM ledger_entries WHERE id = {ids[8]}"],
    "head": lambda ids: ["UPDATE ledger_chain_heads SET position = position + 1 WHERE campaign = 'summer'"],
    "tail": lambda ids: ["DELETE FROM ledger_entries WHERE id = (SELECT max(id) FROM ledger_entries WHERE campaign = 'winter')"],
    "campaign gone": lambda ids: ["DELETE FROM ledger_entries WHERE campaign = 'autumn'"],
    "no head": lambda ids: ["DELETE FROM ledger_chain_heads WHERE campaign = 'winter'"],
    "first": lambda ids: [f"UPDATE ledger_entries SET previous_hash = 'x' WHERE id = {ids[0]}"],
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_parallel_verify_matches_the_sequential_scan(filled: tuple[Ledger, list[int]], tamper: str) -> None:
    ledger, ids = filled
    for statement in TAMPERS[tamper](ids):
        _sql(ledger.url, statement)
    result = _same_everywhere(ledger)
    assert result.ok == (tamper == "intact")


def test_every_entry_position_as_the_first_bad_one(filled: tuple[Ledger, list[int]]) -> None:
    ledger, _ = filled
    with ledger._core.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id FROM ledger_entries WHERE campaign = 'summer' ORDER BY position").all()
    for (entry_id,) in rows:
        _sql(ledger.url, f"UPDATE ledger_entries SET status = 'x' || coalesce(status, '') WHERE id = {entry_id}")
        finding = _run(ledger, None, 3).findings[0]
        assert finding.entry_id == entry_id
        _sql(ledger.url, f"UPDATE ledger_entries SET status = nullif(substr(status, 2), '') WHERE id = {entry_id}")
    assert _run(ledger, None, 3).ok


def test_split_keys_increase_and_cut_evenly() -> None:
    assert _split([("a", 10), ("b", 10)], 20, 2) == [["b", 1]]
    assert _split([("a", 10), ("b", 10)], 20, 4) == [["a", 6], ["b", 1], ["b", 6]]
    assert _split([("a", 1), ("b", 0), ("c", 2)], 3, 8) == [["c", 1], ["c", 2]]
    keys = _split([("a", 3), ("b", 1000), ("c", 7)], 1010, 7)
    assert keys == sorted(keys) and len(keys) == len({tuple(key) for key in keys}) == 6

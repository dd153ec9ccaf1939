"""The Merkle tree kept with the chain: equal to the RFC 6962 reference after every kind of append,
proofs read a handful of stored hashes, an upgraded old ledger is backfilled to the same tree, a
missing node stops appends (fail closed) until rebuilt, and erasure changes no hash."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import insert, inspect, select, text

from ugc_guard.ledger import Ledger, LedgerUnavailable, LicenceShown, tree
from ugc_guard.ledger.models import ChainHead, Entry
from ugc_guard.ledger.rawsql import Raw
from ugc_guard.ledger.schema import _config
from ugc_guard.proof.entries import entry_leaf
from ugc_guard.proof.merkle import (
    consistency_ranges,
    inclusion_ranges,
    needed_nodes,
    root_of,
    verify_consistency,
    verify_inclusion,
)

from .conftest import ADULT, CAMPAIGN, LICENCE, SECRET, TERMS, accept, sha, submit


def leaves(ledger: Ledger, campaign: str = CAMPAIGN) -> list[bytes]:
    return [entry_leaf(view.hash) for view in sorted(ledger.iter_entries(campaign=campaign), key=lambda view: view.position)]


def fill(ledger: Ledger, extra: int = 0) -> None:
    """Appends of every shape: single entries, batches of 2 and 3, the guarded paths (a guardian's
    confirmation, the app's answer settling a submission), statuses, erasure."""
    first = accept(ledger, "a")
    ledger.record_acceptance(CAMPAIGN, "b", TERMS, None, collection_method="click-wrap", policy_digest=sha("p"))
    upload = submit(ledger, "a", first.entry_id, "photo-1")
    assert ledger.settle_submissions(CAMPAIGN, {upload.submission_id: ("a", "the app stored it")}, "stored") == [upload.submission_id]
    ledger.record_submission_status(upload.submission_id, "withdrawn")
    request = ledger.record_guardian_request(
        CAMPAIGN,
        "b",
        acceptance_id=first.entry_id,
        token_sha256=sha("tok"),
        expires_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
        guardian_email="p@example.org",
    )
    ledger.record_guardian_confirmation(
        CAMPAIGN, request, guardian_name="P", relationship="parent", terms=TERMS, licence=LICENCE_SHOWN, policy_digest=sha("p")
    )
    for index in range(5):
        accept(ledger, f"c{index}")
    submit(ledger, "c1", first.entry_id, "photo-2")
    ledger.erase_subject(CAMPAIGN, "c2", reason="request")
    accept(ledger, "other", campaign="winter")
    for index in range(extra):
        accept(ledger, f"extra{index}", age=None if index % 3 else ADULT)


LICENCE_SHOWN = LicenceShown(LICENCE.licence_id, LICENCE.version, LICENCE.text_sha256)


def test_the_stored_tree_is_the_rfc_tree_after_every_kind_of_append(ledger: Ledger) -> None:
    fill(ledger, extra=30)  # 24 entries of every kind, then 40 from acceptances: four tiles, subtrees up to level 6
    hashed = leaves(ledger)
    size = len(hashed)
    assert size == 64
    with ledger._core.connect() as connection:
        assert tree.tree_size(connection, CAMPAIGN) == size
        for n in range(size + 1):
            assert tree.root(connection, CAMPAIGN, n, size) == root_of(hashed[:n])
        for index in range(size):
            verify_inclusion(hashed[index], index, size, tree.inclusion(connection, CAMPAIGN, index, size, size), root_of(hashed))
        for old in range(size + 1):
            proof = tree.consistency(connection, CAMPAIGN, old, size, size)
            verify_consistency(old, size, root_of(hashed[:old]), root_of(hashed), proof)
        winter = tree.tree_size(connection, "winter")
        assert winter == 2 and tree.root(connection, "winter", winter, winter) == root_of(leaves(ledger, "winter"))
        with pytest.raises(tree.TreeSizeError):
            tree.root(connection, CAMPAIGN, size + 1, size)


def test_a_proof_reads_few_queries_of_logarithmically_many_hashes(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(45):
        accept(ledger, f"s{index}")  # 90 entries: age result + acceptance each
    statements: list[str] = []
    original = Raw.wrapped  # every statement of the tree goes through it once
    monkeypatch.setattr(Raw, "wrapped", lambda self, statement: statements.append(statement) or original(self, statement))
    with ledger._core.connect() as connection:
        tree.inclusion(connection, CAMPAIGN, 37, 90, 90)  # stored nodes, the leaf's own tile, the 10 leaves at the end
        assert len(statements) == 3
        statements.clear()
        tree.consistency(connection, CAMPAIGN, 51, 90, 90)  # stored nodes, the tiles at 51 and at the end
        assert len(statements) == 3
        assert all("position >= ? AND position <= ?" in statement for statement in statements[1:])
    for size in (80, 1000, 1_000_003):
        for index in (0, size // 3, size - 1):
            assert len(needed_nodes(inclusion_ranges(index, size))) <= 2 * size.bit_length()
        assert len(needed_nodes(consistency_ranges(size // 2 + 1, size))) <= 2 * size.bit_length()


def test_one_row_is_stored_per_eight_entries(ledger: Ledger) -> None:
    for index in range(64):
        ledger.append_entry(CAMPAIGN, "note", {"n": index})
        with ledger._core.connect() as connection:
            stored = connection.execute(text("SELECT level, idx FROM ledger_tree_nodes WHERE campaign = :c"), {"c": CAMPAIGN}).all()
        assert len(stored) == (index + 1) // 16 * 2 - ((index + 1) // 16).bit_count()  # subtrees of 16 leaves or more
    assert sorted(tuple(row) for row in stored) == [(4, 0), (4, 1), (4, 2), (4, 3), (5, 0), (5, 1), (6, 0)]
    assert tree.TILE == 4  # ugc_ledger_append (migration 0006) stores from level 4 as well


@pytest.fixture
def second_url(ledger_url: str, tmp_path: Any) -> Iterator[str]:
    """Another empty database of the same kind as ``ledger_url``."""
    if ledger_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    name = f"ugc_test_{secrets.token_hex(6)}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ledger_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrading_a_ledger_made_without_the_tree_backfills_the_same_tree(ledger: Ledger, second_url: str) -> None:
    fill(ledger, extra=20)
    old = Ledger(second_url, secret=SECRET)
    assert old.upgrade("0005") == "0005"
    with ledger._core.connect() as source:
        entries = [dict(row._mapping) for row in source.execute(select(Entry.__table__).order_by(Entry.id))]
        heads = [dict(row._mapping) for row in source.execute(select(ChainHead.__table__))]
        nodes = source.execute(text("SELECT campaign, level, idx, hash FROM ledger_tree_nodes ORDER BY 1, 2, 3")).all()
    with old._core.engine.begin() as target:
        target.execute(insert(Entry.__table__), entries)
        target.execute(insert(ChainHead.__table__), heads)
    assert old.upgrade() == Ledger.head_revision()
    with old._core.connect() as connection:
        rebuilt = connection.execute(text("SELECT campaign, level, idx, hash FROM ledger_tree_nodes ORDER BY 1, 2, 3")).all()
        assert [tuple(row) for row in rebuilt] == [tuple(row) for row in nodes] and len(nodes) == 4  # 51 leaves: three tiles, one node above
        size = tree.tree_size(connection, CAMPAIGN)
        assert tree.root(connection, CAMPAIGN, size, size) == root_of(leaves(ledger))
    accept(old, "after-upgrade")  # appends continue on the backfilled tree
    assert root_of(leaves(old)) == _root(old)
    with old._core.engine.begin() as connection:  # the downgrade drops the tree and restores the old append function
        command.downgrade(_config(connection), "0005")
        assert "ledger_tree_nodes" not in inspect(connection).get_table_names()
        if connection.dialect.name == "postgresql":
            source = connection.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'ugc_ledger_append'")).scalar_one()
            assert "ledger_tree_nodes" not in source
    assert old.upgrade() == Ledger.head_revision()
    assert _root(old) == root_of(leaves(old))
    old.close()


def _root(ledger: Ledger, campaign: str = CAMPAIGN) -> bytes:
    with ledger._core.connect() as connection:
        size = tree.tree_size(connection, campaign)
        return tree.root(connection, campaign, size, size)


def test_a_missing_node_stops_appends_until_the_tree_is_rebuilt(ledger: Ledger) -> None:
    for index in range(31):
        ledger.append_entry(CAMPAIGN, "note", {"n": index})
    with ledger._core.engine.begin() as connection:
        connection.execute(text("DELETE FROM ledger_tree_nodes WHERE campaign = :c AND level = 4 AND idx = 0"), {"c": CAMPAIGN})
    with pytest.raises(LedgerUnavailable, match="rebuild"):
        ledger.append_entry(CAMPAIGN, "note", {"n": 31})  # completes the second tile, which needs the first
    with pytest.raises(LedgerUnavailable, match="rebuild"):
        _root(ledger)
    with ledger._core.engine.begin() as connection:
        assert tree.rebuild(connection, CAMPAIGN) == (31, root_of(leaves(ledger)), False)  # (4, 0) was missing
    ledger.append_entry(CAMPAIGN, "note", {"n": 31})
    assert _root(ledger) == root_of(leaves(ledger))


def test_erasure_changes_no_leaf_and_no_root(ledger: Ledger) -> None:
    acceptance = accept(ledger, "gone")
    submit(ledger, "gone", acceptance.entry_id, "their-photo")
    before = leaves(ledger)
    root_before = _root(ledger)
    ledger.erase_subject(CAMPAIGN, "gone", reason="GDPR Art. 17")
    after = leaves(ledger)
    assert after[: len(before)] == before
    with ledger._core.connect() as connection:
        assert tree.root(connection, CAMPAIGN, len(before), len(after)) == root_before
        verify_consistency(
            len(before), len(after), root_before, root_of(after), tree.consistency(connection, CAMPAIGN, len(before), len(after), len(after))
        )

"""Each campaign's RFC 6962 Merkle tree over its entries, kept in the database as the chain grows.

Leaf ``i`` is the entry at position ``i + 1``; its leaf hash is ``SHA-256(0x00 || entry hash)``
(:func:`ugc_guard.proof.entries.entry_leaf`). ``ledger_tree_nodes`` holds the hash of every
complete subtree of :data:`TILE` levels or more, keyed by (campaign, level, index): one row per 8
entries. A smaller subtree (at most 16 leaves, within one *tile*) is hashed from the entries' own
``hash`` column when a proof needs it. The append that completes a tile stores the subtrees it
completes, from the tile's leaves and the nodes already stored, in the append's transaction and under
its chain lock (PostgreSQL does the same inside ``ugc_ledger_append``, migration 0006); the other 15
appends of a tile do nothing here. Any root, inclusion or consistency proof then reads O(log n)
stored hashes in one query and at most a few tiles of leaves, one range query each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from ..proof.entries import entry_leaf
from ..proof.merkle import EMPTY_ROOT, Node, consistency_ranges, inclusion_ranges, needed_nodes, node_hash, range_hash
from .errors import LedgerError, LedgerUnavailable
from .rawsql import Raw

__all__ = ["TILE", "TreeSizeError", "consistency", "extend", "grow", "inclusion", "read_nodes", "rebuild", "root", "tree_size"]

TILE = 4
"""Subtrees below this level are not stored (a tile is 2**TILE = 16 leaves)."""
WIDTH = 1 << TILE
_BATCH = 10_000
_MISSING = "the Merkle tree of campaign {!r} lacks stored nodes; run ugc-guard proof tree --rebuild"


class TreeSizeError(LedgerError):
    """A proof was asked for a tree size the log does not have (or one that does not hold the entry)."""


def _needed_levels(size: int, count: int) -> list[int]:
    """Return the levels (>= TILE) of the stored right-border subtrees of a ``size``-leaf tree that
    appending ``count`` leaves merges (the lowest of the set bits of ``size`` at or above TILE)."""
    return [level for level in range(TILE, size.bit_length()) if size >> level & 1 and ((size >> level) + 1) << level <= size + count]


def grow(size: int, hashes: Sequence[str], border: dict[int, bytes], tile: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
    """Return the (level, index, hash) subtrees of TILE levels or more completed by appending entries
    with hex ``hashes`` to a tree of ``size`` leaves. ``border`` maps each level :func:`_needed_levels`
    names to the stored subtree at the tree's right border; ``tile`` holds the leaf hashes of the
    incomplete tile at the end of the tree (``size % WIDTH`` of them)."""
    stack = [(level, border[level]) for level in sorted(border, reverse=True)]
    made: list[tuple[int, int, bytes]] = []
    for index, leaf in enumerate([*tile, *(entry_leaf(digest) for digest in hashes)], start=size - len(tile)):
        node, level = leaf, 0
        while stack and stack[-1][0] == level:
            node = node_hash(stack.pop()[1], node)
            level += 1
            if level >= TILE:
                made.append((level, index >> level, node))
        stack.append((level, node))
    return made


def extend(raw: Raw, campaign: str, size: int, hashes: Sequence[str]) -> None:
    """Store the subtrees completed by appending entries with ``hashes`` after ``size`` entries (nothing,
    unless the batch completes a tile). Runs in the append's transaction, under its lock. Raises
    :class:`LedgerUnavailable` when a stored node or leaf it needs is missing (``ugc-guard proof tree --rebuild``)."""
    partial = size % WIDTH
    if partial + len(hashes) < WIDTH:
        return
    tile = _leaves(raw, campaign, range(size - partial, size))
    upper = [(level, (size >> level) - 1) for level in _needed_levels(size, len(hashes))]
    found = _upper_nodes(raw, campaign, upper) if upper else {}
    if len(found) != len(upper) or len(tile) != partial:
        raise LedgerUnavailable(_MISSING.format(campaign))
    border = {level: digest for (level, _), digest in found.items()}
    _insert(raw, campaign, grow(size, hashes, border, [tile[index] for index in range(size - partial, size)]))


def _leaves(raw: Raw, campaign: str, indexes: Iterable[int]) -> dict[int, bytes]:
    """Return the leaf hashes of the leaf ``indexes`` found (an index is its position - 1), one range
    query per run of nearby indexes (a proof needs at most a few tiles)."""
    runs: list[list[int]] = []
    for index in sorted(set(indexes)):
        if runs and index - runs[-1][1] <= WIDTH:  # a gap within a tile's reach is cheaper read than queried around
            runs[-1][1] = index
        else:
            runs.append([index, index])
    found: dict[int, bytes] = {}
    for low, high in runs:
        statement = "SELECT position, hash FROM ledger_entries WHERE campaign = ? AND position >= ? AND position <= ?"
        rows = _planned_afresh(raw, statement, (campaign, low + 1, high + 1)).fetchall()
        found.update((row[0] - 1, entry_leaf(row[1])) for row in rows)
    return found


def _planned_afresh(raw: Raw, statement: str, params: tuple[Any, ...]) -> Any:
    """Execute without a server-side prepared plan on PostgreSQL: psycopg prepares a statement after a
    few runs, and a generic plan made while the table had no statistics scans the (campaign, kind, id)
    index and filters every entry of the campaign; planned with the values, the range uses (campaign, position)."""
    if not raw.postgres:
        return raw.execute(statement, params)
    with raw.wrapped(statement):
        raw.cursor.execute(raw.sql(statement), params, prepare=False)
    return raw.cursor


def _insert(raw: Raw, campaign: str, nodes: list[tuple[int, int, bytes]]) -> None:
    for start in range(0, len(nodes), 500):
        chunk = nodes[start : start + 500]
        raw.execute(
            "INSERT INTO ledger_tree_nodes (campaign, level, idx, hash) VALUES " + ", ".join(["(?, ?, ?, ?)"] * len(chunk)),
            tuple(value for level, index, digest in chunk for value in (campaign, level, index, digest)),
        )


def _upper_nodes(raw: Raw, campaign: str, wanted: Sequence[Node]) -> dict[Node, bytes]:
    found: dict[Node, bytes] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        condition = " OR ".join(["(level = ? AND idx = ?)"] * len(chunk))
        rows = raw.execute(
            f"SELECT level, idx, hash FROM ledger_tree_nodes WHERE campaign = ? AND ({condition})",
            (campaign, *(value for node in chunk for value in node)),
        ).fetchall()
        found.update(((row[0], row[1]), bytes(row[2])) for row in rows)
    return found


def read_nodes(connection: Connection, campaign: str, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """Return the hashes of the perfect subtrees ``wanted``: stored ones read, smaller ones hashed from
    their leaves. Raises :class:`LedgerUnavailable` when a node or leaf is missing (the tree must be rebuilt)."""
    raw = Raw(connection)
    wanted = sorted(set(wanted))
    small = [node for node in wanted if node[0] < TILE]
    found = _upper_nodes(raw, campaign, [node for node in wanted if node[0] >= TILE])
    leaves = _leaves(raw, campaign, (leaf for level, index in small for leaf in range(index << level, (index + 1) << level)))
    for level, index in small:
        row = [leaves.get(leaf) for leaf in range(index << level, (index + 1) << level)]
        if any(leaf is None for leaf in row):
            continue
        hashes: list[bytes] = [leaf for leaf in row if leaf is not None]
        while len(hashes) > 1:
            hashes = [node_hash(hashes[pair], hashes[pair + 1]) for pair in range(0, len(hashes), 2)]
        found[level, index] = hashes[0]
    if len(found) != len(wanted):
        raise LedgerUnavailable(_MISSING.format(campaign))
    return found


def tree_size(connection: Connection, campaign: str) -> int:
    """Return the number of entries (leaves) in the campaign's log: its chain head position, 0 if none."""
    row = Raw(connection).execute("SELECT position FROM ledger_chain_heads WHERE campaign = ?", (campaign,)).fetchone()
    return int(row[0]) if row is not None else 0


def _check(size: int, limit: int) -> None:
    if not 0 <= size <= limit:
        raise TreeSizeError(f"the log has {limit} entries; there is no tree of {size}")


def root(connection: Connection, campaign: str, size: int, limit: int) -> bytes:
    """Return the root hash of the campaign's first ``size`` entries (``limit``: the current size)."""
    _check(size, limit)
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, read_nodes(connection, campaign, needed_nodes([(0, size)])))


def inclusion(connection: Connection, campaign: str, index: int, size: int, limit: int) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of ``size`` leaves (nearest the leaf first)."""
    _check(size, limit)
    ranges = inclusion_ranges(index, size)
    nodes = read_nodes(connection, campaign, needed_nodes(ranges))
    return [range_hash(low, high, nodes) for low, high in ranges]


def consistency(connection: Connection, campaign: str, old: int, new: int, limit: int) -> list[bytes]:
    """Return the RFC 6962 consistency proof from the tree of ``old`` leaves to that of ``new``."""
    _check(new, limit)
    if old > new or old < 0:
        raise TreeSizeError(f"no consistency proof from {old} to {new} entries")
    ranges = consistency_ranges(old, new)
    nodes = read_nodes(connection, campaign, needed_nodes(ranges))
    return [range_hash(low, high, nodes) for low, high in ranges]


def rebuild(connection: Connection, campaign: str, *, write: bool = True) -> tuple[int, bytes, bool]:
    """Recompute the campaign's tree from its entries' hashes; return its size, its root and whether
    the stored nodes were exactly these. With ``write`` (the migration's backfill, and a repair) the
    stored nodes are replaced; without, nothing changes. Raises :class:`LedgerError` when positions
    are not 1…n."""
    raw = Raw(connection)
    stored = {
        (row[0], row[1]): bytes(row[2])
        for row in raw.execute("SELECT level, idx, hash FROM ledger_tree_nodes WHERE campaign = ?", (campaign,)).fetchall()
    }
    if write:
        raw.execute("DELETE FROM ledger_tree_nodes WHERE campaign = ?", (campaign,))
    driver: Any = connection.connection.driver_connection
    reader = driver.cursor(name="ugc_tree_rebuild") if raw.postgres else driver.cursor()  # PostgreSQL: streamed
    reader.execute(raw.sql("SELECT position, hash FROM ledger_entries WHERE campaign = ? ORDER BY position"), (campaign,))
    stack: list[tuple[int, bytes]] = []
    size, matched = 0, True
    while rows := reader.fetchmany(_BATCH):
        made: list[tuple[int, int, bytes]] = []
        for position, digest in rows:
            if position != size + 1:
                raise LedgerError(f"campaign {campaign!r}: position {position} follows {size}; run ugc-guard ledger verify")
            node, level = entry_leaf(digest), 0
            while stack and stack[-1][0] == level:
                node = node_hash(stack.pop()[1], node)
                level += 1
                if level >= TILE:
                    made.append((level, size >> level, node))
            stack.append((level, node))
            size += 1
        matched = matched and all(stored.pop((level, index), None) == node for level, index, node in made)
        if write:
            _insert(raw, campaign, made)
    reader.close()
    result = stack.pop()[1] if stack else EMPTY_ROOT
    while stack:
        result = node_hash(stack.pop()[1], result)
    return size, result, matched and not stored

"""Each campaign's RFC 6962 Merkle tree over its entries, kept in the database as the chain grows.

Leaf ``i`` is the entry at position ``i + 1``; its leaf hash is ``SHA-256(0x00 || entry hash)``
(:func:`ugc_guard.proof.entries.entry_leaf`). ``ledger_tree_nodes`` holds the hash of every
complete subtree above the leaves, keyed by (campaign, level, index); the leaves themselves are the
entries' ``hash`` column. Appending leaf ``i`` completes one node per trailing 1-bit of ``i``, made
from nodes already stored, in the append's transaction and under its chain lock (PostgreSQL does
the same inside ``ugc_ledger_append``, migration 0006). Any root, inclusion or consistency proof is
then O(log n) stored hashes, read in at most two queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from ..proof.entries import entry_leaf
from ..proof.merkle import EMPTY_ROOT, Node, consistency_ranges, inclusion_ranges, needed_nodes, node_hash, range_hash
from .errors import LedgerError, LedgerUnavailable
from .rawsql import Raw

__all__ = ["TreeSizeError", "consistency", "extend", "grow", "inclusion", "read_nodes", "rebuild", "root", "tree_size"]

_BATCH = 10_000


class TreeSizeError(LedgerError):
    """A proof was asked for a tree size the log does not have (or one that does not hold the entry)."""


def _needed_levels(size: int, count: int) -> list[int]:
    """Return the levels of the right-border subtrees of a ``size``-leaf tree that appending ``count``
    leaves merges (from the lowest up; they are the lowest of the set bits of ``size``)."""
    return [level for level in range(size.bit_length()) if size >> level & 1 and ((size >> level) + 1) << level <= size + count]


def grow(size: int, hashes: Sequence[str], border: dict[int, bytes]) -> list[tuple[int, int, bytes]]:
    """Return the (level, index, hash) nodes above the leaves completed by appending entries with hex
    ``hashes`` to a tree of ``size`` leaves. ``border`` maps each level :func:`_needed_levels` names
    to the hash of the complete subtree at the tree's right border (level 0: the last leaf hash)."""
    stack = [(level, border[level]) for level in sorted(border, reverse=True)]
    made: list[tuple[int, int, bytes]] = []
    for index, digest in enumerate(hashes, start=size):
        node, level = entry_leaf(digest), 0
        while stack and stack[-1][0] == level:
            node = node_hash(stack.pop()[1], node)
            level += 1
            made.append((level, index >> level, node))
        stack.append((level, node))
    return made


def extend(raw: Raw, campaign: str, size: int, previous: str, hashes: Sequence[str]) -> None:
    """Store the nodes completed by appending ``hashes`` after ``size`` entries (``previous`` is the hash
    of entry ``size``). Runs in the append's transaction, under its lock. Raises :class:`LedgerUnavailable`
    when a stored node it needs is missing (the tree must be rebuilt: ``ugc-guard proof tree --rebuild``)."""
    levels = _needed_levels(size, len(hashes))
    border: dict[int, bytes] = {0: entry_leaf(previous)} if 0 in levels else {}
    upper = [(level, (size >> level) - 1) for level in levels if level > 0]
    if upper:
        found = _upper_nodes(raw, campaign, upper)
        if len(found) != len(upper):
            raise LedgerUnavailable(f"the Merkle tree of campaign {campaign!r} lacks stored nodes; run ugc-guard proof tree --rebuild")
        border.update((level, digest) for (level, _), digest in found.items())
    _insert(raw, campaign, grow(size, hashes, border))


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
    """Return the stored hashes of the perfect subtrees ``wanted`` (leaves from the entries' hashes).
    Raises :class:`LedgerUnavailable` when one is missing (the tree must be rebuilt)."""
    raw = Raw(connection)
    wanted = sorted(set(wanted))
    leaves = [index for level, index in wanted if level == 0]
    found = _upper_nodes(raw, campaign, [node for node in wanted if node[0] > 0])
    for start in range(0, len(leaves), 500):
        chunk = leaves[start : start + 500]
        rows = raw.execute(
            f"SELECT position, hash FROM ledger_entries WHERE campaign = ? AND position IN ({', '.join('?' * len(chunk))})",
            (campaign, *(index + 1 for index in chunk)),
        ).fetchall()
        found.update(((0, row[0] - 1), entry_leaf(row[1])) for row in rows)
    if len(found) != len(wanted):
        missing = sorted(set(wanted) - set(found))[0]
        raise LedgerUnavailable(f"the Merkle tree of campaign {campaign!r} lacks node {missing}; run ugc-guard proof tree --rebuild")
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


def rebuild(connection: Connection, campaign: str, *, write: bool = True) -> tuple[int, bytes]:
    """Recompute the campaign's tree from its entries' hashes; return its size and root. With ``write``
    (the migration's backfill, and a repair) the stored nodes are replaced; without, nothing changes
    (compare the result with :func:`root` to check the stored tree). Raises :class:`LedgerError` when
    positions are not 1…n."""
    raw = Raw(connection)
    if write:
        raw.execute("DELETE FROM ledger_tree_nodes WHERE campaign = ?", (campaign,))
    driver: Any = connection.connection.driver_connection
    reader = driver.cursor(name="ugc_tree_rebuild") if raw.postgres else driver.cursor()  # PostgreSQL: streamed
    reader.execute(raw.sql("SELECT position, hash FROM ledger_entries WHERE campaign = ? ORDER BY position"), (campaign,))
    stack: list[tuple[int, bytes]] = []
    size = 0
    while rows := reader.fetchmany(_BATCH):
        made: list[tuple[int, int, bytes]] = []
        for position, digest in rows:
            if position != size + 1:
                raise LedgerError(f"campaign {campaign!r}: position {position} follows {size}; run ugc-guard ledger verify")
            node, level = entry_leaf(digest), 0
            while stack and stack[-1][0] == level:
                node = node_hash(stack.pop()[1], node)
                level += 1
                made.append((level, size >> level, node))
            stack.append((level, node))
            size += 1
        if write:
            _insert(raw, campaign, made)
    reader.close()
    result = stack.pop()[1] if stack else EMPTY_ROOT
    while stack:
        result = node_hash(stack.pop()[1], result)
    return size, result

"""RFC 6962 / RFC 9162 Merkle tree hashing, proof shapes and proof verification (pure, stdlib only).

A tree over leaves ``d[0:n]`` hashes a leaf as ``SHA-256(0x00 || d)`` and an interior node as
``SHA-256(0x01 || left || right)``; a tree of n > 1 leaves splits at k, the largest power of two
below n (RFC 9162 §2.1.1). A *perfect subtree* ``(level, index)`` covers leaves
``[index · 2^level, (index + 1) · 2^level)``; a store that keeps every perfect subtree's hash can
answer any root, inclusion or consistency question with O(log n) lookups: :func:`inclusion_ranges`
and :func:`consistency_ranges` name the leaf ranges whose hashes make a proof, :func:`needed_nodes`
the perfect subtrees those ranges are built from and :func:`range_hash` folds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "ProofError",
    "consistency_ranges",
    "inclusion_ranges",
    "leaf_hash",
    "needed_nodes",
    "node_hash",
    "range_hash",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

Node = tuple[int, int]
"""A perfect subtree: (level, index)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree (RFC 9162 §2.1.1: the hash of an empty string)."""


class ProofError(ValueError):
    """A proof does not verify; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    """Return ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """Return the largest power of two strictly below ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form the audit path of leaf ``index`` in a tree of ``size``
    leaves, nearest the leaf first (RFC 6962 §2.1.1 PATH). Raises :class:`ValueError` out of range."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    low, high = 0, size
    while high - low > 1:
        k = _split(high - low)
        if index < low + k:
            ranges.append((low + k, high))
            high = low + k
        else:
            ranges.append((low, low + k))
            low += k
    ranges.reverse()
    return ranges


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form the consistency proof from ``old`` to ``new`` leaves
    (RFC 6962 §2.1.2 PROOF, in its order). Empty when ``old`` is 0 or equals ``new``. Raises
    :class:`ValueError` when ``old`` > ``new``."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    ranges: list[tuple[int, int]] = []
    low, high, complete = 0, new, True
    while high != old:
        k = _split(high - low)
        if old - low <= k:
            ranges.append((low + k, high))
            high = low + k
        else:
            ranges.append((low, low + k))
            low, complete = low + k, False
    if not complete:
        ranges.append((low, high))
    ranges.reverse()
    return ranges


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Return the perfect subtrees whose hashes :func:`range_hash` needs for ``ranges``."""
    wanted: set[Node] = set()
    for low, high in ranges:
        wanted.update(_pieces(low, high))
    return wanted


def _pieces(low: int, high: int) -> list[Node]:
    pieces = []
    while low < high:
        size = high - low
        if size & (size - 1) == 0 and low % size == 0:
            pieces.append((size.bit_length() - 1, low // size))
            break
        k = _split(size)
        pieces.append((k.bit_length() - 1, low // k))
        low += k
    return pieces


def range_hash(low: int, high: int, nodes: Mapping[Node, bytes]) -> bytes:
    """Return the Merkle tree hash of leaves ``[low, high)`` from the perfect subtrees in ``nodes``
    (as named by :func:`needed_nodes`). Raises :class:`KeyError` for a missing subtree."""
    pieces = _pieces(low, high)
    result = nodes[pieces[-1]]
    for piece in reversed(pieces[:-1]):
        result = node_hash(nodes[piece], result)
    return result


def root_of(leaves: Sequence[bytes]) -> bytes:
    """Return the root over already-hashed ``leaves`` (a reference computation, O(n))."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` leaves with ``root``
    (RFC 9162 §2.1.3.2). Returns None; raises :class:`ProofError` saying what failed."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if result != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root of the {size}-leaf tree")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``old`` leaves with ``old_root`` is a prefix of the tree of ``new`` leaves
    with ``new_root`` (RFC 9162 §2.1.4.2). Returns None; raises :class:`ProofError` saying what failed."""
    if not 0 <= old <= new:
        raise ProofError(f"a tree of {new} leaves cannot extend one of {old} leaves (rollback)")
    if old == new:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old} (fork)")
        return
    if old == 0:
        if proof or old_root != EMPTY_ROOT:
            raise ProofError("a tree of 0 leaves has the empty root and an empty consistency proof")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if first != old_root:
        raise ProofError(f"the consistency proof does not lead to the root of the {old}-leaf tree (fork or rewrite)")
    if second != new_root:
        raise ProofError(f"the consistency proof does not lead to the root of the {new}-leaf tree (fork or rewrite)")

"""RFC 6962 hashing and proofs: the published vectors, every proof of small trees against the RFC's
own recursive definitions, and every single-bit change refused."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ugc_guard.proof.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    needed_nodes,
    node_hash,
    range_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves and the roots of their prefixes from the Certificate Transparency reference tests
# (also transparency-dev/merkle testonly/constants.go).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written from the definition (over leaf hashes)."""
    return root_of(leaves)


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n])."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def perfect_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    nodes = {}
    level, row = 0, list(leaves)
    while row:
        nodes.update(((level, index), digest) for index, digest in enumerate(row))
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    return nodes


def hashes(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def test_roots_match_the_published_vectors() -> None:
    hashed = [leaf_hash(leaf) for leaf in LEAVES]
    assert [mth(hashed[:n]).hex() for n in range(9)] == ROOTS
    assert EMPTY_ROOT.hex() == ROOTS[0]
    nodes = perfect_nodes(hashed)
    assert [range_hash(0, n, nodes).hex() for n in range(1, 9)] == ROOTS[1:]


def test_a_published_inclusion_proof_verifies() -> None:
    # transparency-dev/merkle testdata/inclusion/1/happy-path.json
    proof = [
        base64.b64decode(p)
        for p in (
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        )
    ]
    verify_inclusion(leaf_hash(LEAVES[0]), 0, 8, proof, bytes.fromhex(ROOTS[8]))
    verify_consistency(1, 8, bytes.fromhex(ROOTS[1]), bytes.fromhex(ROOTS[8]), proof)


@pytest.mark.parametrize("size", range(1, 34))
def test_every_inclusion_proof_equals_the_rfc_path_and_verifies(size: int) -> None:
    leaves = hashes(size)
    nodes = perfect_nodes(leaves)
    root = mth(leaves)
    for index in range(size):
        ranges = inclusion_ranges(index, size)
        assert needed_nodes(ranges) <= set(nodes)
        proof = [range_hash(low, high, nodes) for low, high in ranges]
        assert proof == path(index, leaves)
        verify_inclusion(leaves[index], index, size, proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size, proof, mth(leaves + leaves[:1]))
        if size > 1:
            with pytest.raises(ProofError):
                verify_inclusion(leaves[(index + 1) % size], index, size, proof, root)


@pytest.mark.parametrize("new", range(1, 34))
def test_every_consistency_proof_equals_the_rfc_subproof_and_verifies(new: int) -> None:
    leaves = hashes(new)
    nodes = perfect_nodes(leaves)
    for old in range(0, new + 1):
        ranges = consistency_ranges(old, new)
        proof = [range_hash(low, high, nodes) for low, high in ranges]
        if 0 < old < new:
            assert proof == subproof(old, leaves, True)
        verify_consistency(old, new, mth(leaves[:old]), mth(leaves), proof)
        if 0 < old < new:
            forked = [*leaves[: old - 1], hashlib.sha256(b"rewritten").digest()]
            with pytest.raises(ProofError):
                verify_consistency(old, new, mth(forked), mth(leaves), proof)
            with pytest.raises(ProofError):
                verify_consistency(old, new, mth(leaves[:old]), mth(leaves), proof[:-1])


def test_each_flipped_bit_or_extra_hash_is_refused() -> None:
    leaves = hashes(21)
    nodes = perfect_nodes(leaves)
    root = mth(leaves)
    proof = [range_hash(low, high, nodes) for low, high in inclusion_ranges(13, 21)]
    for position in range(len(proof)):
        for bit in (0, 7, 255):
            changed = list(proof)
            flipped = bytearray(changed[position])
            flipped[bit // 8] ^= 1 << (bit % 8)
            changed[position] = bytes(flipped)
            with pytest.raises(ProofError):
                verify_inclusion(leaves[13], 13, 21, changed, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[13], 13, 21, [*proof, root], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[13], 13, 21, proof[1:], root)


def test_rollback_fork_and_the_empty_tree() -> None:
    leaves = hashes(5)
    with pytest.raises(ProofError, match="rollback"):
        verify_consistency(5, 4, mth(leaves), mth(leaves[:4]), [])
    with pytest.raises(ProofError, match="fork"):
        verify_consistency(5, 5, mth(leaves), mth([*hashes(4), leaf_hash(b"x")]), [])
    verify_consistency(0, 5, EMPTY_ROOT, mth(leaves), [])
    with pytest.raises(ProofError):
        verify_consistency(0, 5, leaves[0], mth(leaves), [])
    with pytest.raises(ValueError):
        inclusion_ranges(5, 5)

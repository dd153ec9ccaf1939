"""16 processes appending at once leave one consistent tree: every tree head read while they ran is
a prefix of the final tree, and the final root is the RFC 6962 root of the chain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ugc_guard.ledger import Ledger, tree
from ugc_guard.ledger.checkpoints import tree_head
from ugc_guard.proof.entries import entry_leaf
from ugc_guard.proof.merkle import root_of, verify_consistency

from ._workers import SECRET

REPO = Path(__file__).resolve().parents[2]
WORKERS, EACH = 16, 100


@pytest.mark.slow
def test_concurrent_appends_grow_one_consistent_tree(ledger_url: str) -> None:
    ledger = Ledger(ledger_url, secret=SECRET)
    ledger.upgrade()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen([sys.executable, "-m", "tests.ledger._workers", "append", ledger_url, str(n), str(EACH)], cwd=REPO, env=env)
        for n in range(WORKERS)
    ]
    heads: list[tuple[int, bytes]] = []
    while any(worker.poll() is None for worker in workers):
        with ledger._core.connect() as connection:
            heads.append(tree_head(connection, "load"))
    assert [worker.wait() for worker in workers] == [0] * WORKERS
    ordered = sorted(ledger.iter_entries(campaign="load"), key=lambda view: view.position)  # ids are not positions here
    leaves = [entry_leaf(view.hash) for view in ordered]
    assert len(leaves) == WORKERS * EACH
    with ledger._core.connect() as connection:
        size, root = tree_head(connection, "load")
        assert (size, root) == (len(leaves), root_of(leaves))
        assert len({head[0] for head in heads}) > 3  # the tree was read while it grew
        for old, old_root in heads:
            assert old_root == root_of(leaves[:old])
            verify_consistency(old, size, old_root, root, tree.consistency(connection, "load", old, size, size))
    ledger.close()

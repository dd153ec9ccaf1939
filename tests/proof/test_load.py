"""The load run, small: the example site under uvicorn with two workers, a PostgreSQL ledger and Redis
rate limits; people accept and upload real media while browsers read and scrapers knock. Afterwards
every 201 has exactly one submission with both grants, no refusal has one, the chain verifies, every
file the app stored is covered, and the temp folder is empty. (Full run: benchmarks/e2e_load.py.)"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from benchmarks._services import PrivateRedis
from benchmarks.proof.checks import check_run
from benchmarks.proof.clients import Load
from benchmarks.proof.site import Site, write_policy
from ugc_guard.ledger import Ledger


def test_small_load_keeps_the_ledger_and_the_temp_folder_exact(tmp_path: Path, postgres_url: str, private_redis: PrivateRedis) -> None:
    private_redis.start()
    temp_dir, stored = tmp_path / "spool", tmp_path / "stored"
    temp_dir.mkdir()
    Ledger(postgres_url).upgrade()
    policy = write_policy(tmp_path / "policy", ledger=postgres_url, rate_limits=private_redis.url, temp_dir=temp_dir)
    load = Load("", people=20, uploads_per_person=2, browsers=2, pages_per_browser=12, scrapers=3, concurrency=12,
                large_every=5, greedy_every=10)  # fmt: skip
    with Site(policy, stored, workers=2) as site:
        load.base_url = site.base_url
        asyncio.run(load.run(deadline=300))
        tracebacks = site.tracebacks()
    unexpected = [(r.kind, r.status, r.code, r.detail[:200]) for r in load.rec.results if not r.expected]
    assert unexpected == []
    assert tracebacks == []
    plans = Counter((u.plan, u.status) for u in load.rec.uploads)
    assert plans[("ok", 201)] >= 30 and plans[("over-limit", 429)] == 4 and plans[("before-accept", 403)] == 2
    check = check_run(postgres_url, load.rec.uploads, temp_dir, stored)
    assert check.problems == []
    assert check.chain_ok and check.in_ledger == check.accepted == plans[("ok", 201)]
    assert check.app_files == check.accepted and check.temp_left == []

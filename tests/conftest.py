"""Shared fixtures: policies built from a base dict, and the real PostgreSQL and Redis servers.

PostgreSQL (127.0.0.1:5432, database ``test``) and Redis (127.0.0.1:6379) are the machine's own
servers. When one is unreachable its tests skip with the reason, except under ``CI=true``, where
that is a failure.
"""

from __future__ import annotations

import copy
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("UGC_GUARD_SECRET", "test-secret-" + "x" * 32)

from ugc_guard.policy import Policy, load_policy

REPO = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
IN_CI = os.environ.get("CI", "").lower() == "true"

BASE_POLICY: dict[str, Any] = {
    "campaign": {"id": "test-campaign", "name": "Test Campaign", "hosts": ["testserver", "guarded.test"], "origin": "http://testserver"},
    "controller": {"name": "Test Controller B.V.", "contact": "privacy@controller.example"},
    "secret": "${UGC_GUARD_SECRET}",
    "terms": {"document_id": "test-terms", "version": "1", "texts": {"en": "terms.en.md", "nl": "terms.nl.md"}},
    "licence": {"id": "LicenseRef-test-ugc", "version": "1", "texts": {"en": "licence.en.md", "nl": "licence.nl.md"}},
    "uploads": {"routes": [{"path": "/upload", "methods": ["POST"]}, {"path": "/raw/{name}", "methods": ["PUT"], "body": "raw"}]},
}


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def write_policy(folder: Path, overrides: dict[str, Any] | None = None, name: str = "policy.yaml") -> Path:
    """Write a policy file (with its four text files) into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in {
        "terms.en": "# Test terms\n\nYou must be 18 or older.\n",
        "terms.nl": "# Testvoorwaarden\n\nJe bent 18 jaar of ouder.\n",
        "licence.en": "Worldwide, non-exclusive, sublicensable, irrevocable, royalty-free.\n",
        "licence.nl": "Wereldwijd, niet-exclusief, sublicentieerbaar, onherroepelijk, royaltyvrij.\n",
    }.items():
        (folder / f"{stem}.md").write_text(text, encoding="utf-8")
    path = folder / name
    path.write_text(yaml.safe_dump(deep_merge(BASE_POLICY, overrides or {}), sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def policy_file(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory: ``policy_file({"age": {"guardian_minimum": 16}})`` -> path of a policy file."""
    return lambda overrides=None, name="policy.yaml": write_policy(tmp_path / "policy", overrides, name)


@pytest.fixture
def make_policy(policy_file: Callable[..., Path]) -> Callable[..., Policy]:
    """Return a factory building a loaded :class:`Policy` from overrides of the base policy."""
    return lambda overrides=None: load_policy(policy_file(overrides))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int, start: str) -> None:
    """Skip (or fail under CI=true) when a server is unreachable, naming how to start it."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}; start it with: {start}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing server is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """A base URL for the machine's PostgreSQL (skips or fails when unreachable)."""
    require_service(
        "PostgreSQL", PG_HOST, PG_PORT, "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    )
    return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    import psycopg

    name = f"ugc_test_{secrets.token_hex(6)}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The machine's Redis, database 13, emptied before and after the test."""
    require_service(
        "Redis", REDIS_HOST, REDIS_PORT, 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
    )
    import redis

    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/13"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite ledger file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each ledger test runs on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))

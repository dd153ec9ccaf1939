"""Evidence fixtures: a ledger with its proof log, a real HTTP server for the log's endpoints, and
the ``ugc-guard`` command run as a separate process."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from ugc_guard.ledger import AgeResult, Ledger, LicenceGrant, PortraitGrant, SubmissionFacts, TermsShown
from ugc_guard.ledger.prooflog import AsyncProofLog, ProofLog
from ugc_guard.transparency import routes

REPO = Path(__file__).resolve().parents[2]
SECRET = "evidence-test-secret-" + "e" * 16
CAMPAIGN = "summer"
ORIGIN = "shop.example/ugc-guard/summer"
TERMS = TermsShown("summer-terms", "3", hashlib.sha256(b"the terms text").hexdigest(), "en")
LICENCE = LicenceGrant(
    "LicenseRef-summer-ugc", "1", hashlib.sha256(b"the licence text").hexdigest(), ("modify", "publish"), ("owns_rights_or_permission",)
)


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = Ledger(ledger_url, secret=SECRET)
    opened.upgrade()
    yield opened
    opened.close()


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", secret=SECRET)
    opened.upgrade()
    yield opened
    opened.close()


def proof_log(ledger: Ledger) -> ProofLog:
    return ProofLog(ledger, CAMPAIGN, ORIGIN, [SECRET])


def accept(ledger: Ledger, subject: str) -> int:
    return ledger.record_acceptance(
        CAMPAIGN,
        subject,
        TERMS,
        AgeResult("18+", "birth_date", "self-declared"),
        collection_method="click-wrap:unticked-checkbox",
        policy_digest="p" * 64,
    ).entry_id


def upload(ledger: Ledger, subject: str, content: bytes) -> int:
    acceptance = accept(ledger, subject)
    facts = SubmissionFacts(hashlib.sha256(content).hexdigest(), len(content), "image/jpeg", "image/jpeg", None, "beach.jpg")
    return ledger.record_submission(CAMPAIGN, subject, facts, LICENCE, PortraitGrant(True, True), acceptance_id=acceptance).submission_id


@pytest.fixture
def serve() -> Iterator[Callable[[ProofLog], str]]:
    """Return a function serving a log's endpoints over real HTTP on 127.0.0.1; it returns the base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(log: ProofLog) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        app = Starlette(routes=routes(AsyncProofLog(log)))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/ugc-guard"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join()


def run_cli(*args: str, cwd: Path, secret: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``ugc-guard`` command in ``cwd`` as a separate process (no secret in its environment
    unless ``secret`` is given)."""
    env = {key: value for key, value in os.environ.items() if key != "UGC_GUARD_SECRET"}
    env["PYTHONPATH"] = str(REPO)
    if secret is not None:
        env["UGC_GUARD_SECRET"] = secret
    code = "from ugc_guard.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True)

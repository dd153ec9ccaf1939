"""Starting UGCGuard: a setting that cannot be used stops the server (or 503 without lifespan); the
ledger gets ready by itself (SQLite) or refuses to start until migrated (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import write_policy
from tests.serve import run_uvicorn, serving
from ugc_guard import UGCGuard, startup
from ugc_guard.ledger import Ledger
from ugc_guard.ledger.engine import display_url

STARLETTE_APP = """
import logging
import subprocess
import sys
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from ugc_guard import UGCGuard

logging.basicConfig(format="%(levelname)s %(name)s %(message)s")

async def home(request):
    return PlainTextResponse("home")

app = Starlette(routes=[Route("/", home)], middleware=[Middleware(UGCGuard, policy="policy.yaml")])
"""

FASTAPI_APP = """
import logging
import subprocess
import sys
from fastapi import FastAPI
from ugc_guard import UGCGuard

logging.basicConfig(format="%(levelname)s %(name)s %(message)s")

app = FastAPI()
app.add_middleware(UGCGuard, policy="policy.yaml")

@app.get("/")
async def home():
    return "home"
"""

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) test"}
ACCEPT = {"terms_version": "1", "accept_terms": True, "accept_licence": True, "birth_date": "1990-05-17"}
NO_SECRET = "campaign test-campaign: secret: no signing secret; set UGC_GUARD_SECRET"


def app_folder(tmp_path: Path, source: str, overrides: dict[str, Any]) -> Path:
    write_policy(tmp_path, overrides)
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    return tmp_path


def home_app(policy: Path, **options: Any) -> Starlette:
    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("home")

    return Starlette(routes=[Route("/", home)], middleware=[Middleware(UGCGuard, policy=policy, **options)])


@pytest.mark.parametrize("source", [STARLETTE_APP, FASTAPI_APP], ids=["starlette", "fastapi"])
def test_without_a_secret_uvicorn_exits_non_zero_naming_the_secret(tmp_path: Path, source: str) -> None:
    folder = app_folder(tmp_path, source, {"secret": None, "ledger": {"url": f"sqlite:///{tmp_path / 'l.sqlite3'}"}})
    outcome = run_uvicorn(folder, "app:app", {"UGC_GUARD_SECRET": None})
    assert outcome.returncode == 3  # uvicorn's STARTUP_FAILURE
    errors = [line for line in outcome.stderr.splitlines() if NO_SECRET in line]
    assert len(errors) == 1 and errors[0].startswith("ERROR:")
    assert "Application startup failed. Exiting." in outcome.stderr
    assert "appears unsupported" not in outcome.stderr


@pytest.mark.parametrize("source", [STARLETTE_APP, FASTAPI_APP], ids=["starlette", "fastapi"])
def test_without_lifespan_every_request_gets_503_naming_the_secret_and_one_error_line(tmp_path: Path, source: str) -> None:
    folder = app_folder(tmp_path, source, {"secret": None, "ledger": {"url": f"sqlite:///{tmp_path / 'l.sqlite3'}"}})
    with serving(folder, "app:app", {"UGC_GUARD_SECRET": None}, "--lifespan", "off") as (base, log):
        answers = [httpx.get(f"{base}/"), httpx.post(f"{base}/upload", content=b"x"), httpx.get(f"{base}/ugc-guard/status")]
    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "guard-not-configured"
        assert answer.json()["detail"].startswith(NO_SECRET)
    lines = [line for line in log.read_text().splitlines() if "guard-not-configured" in line]
    assert lines == [f"ERROR ugc_guard ugc_guard: not serving, every request gets 503 guard-not-configured: {answers[0].json()['detail']}"]


def test_a_broken_policy_is_kept_for_startup_and_check_raises_it(policy_file: Any) -> None:
    from ugc_guard import PolicyError

    path = policy_file({"age": {"minimum": "x"}, "uploads": {"routes": [{"path": "/upload", "limits": {"max_files": 0}}]}})
    guard = UGCGuard(PlainTextResponse("x"), policy=path)
    assert guard.not_configured is not None
    with pytest.raises(PolicyError) as caught:
        guard.check()
    assert len(caught.value.lines) == 2
    assert guard.not_configured.message == "; ".join(caught.value.lines)  # one line for the lifespan message and the 503


async def lifespan_startup(app: Any) -> list[dict[str, Any]]:
    """Send ``lifespan.startup`` to an app that fails it; return what the app sent."""
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


async def test_a_broken_policy_fails_the_lifespan_startup_with_its_one_line(policy_file: Any) -> None:
    path = policy_file({"age": {"minimum": "x"}})
    sent = await lifespan_startup(home_app(path))
    assert sent == [{"type": "lifespan.startup.failed",
                     "message": f"{path}: age.minimum: Input should be a valid integer, unable to parse string as an integer"}]


async def test_a_ledger_url_of_no_supported_database_fails_the_startup(policy_file: Any) -> None:
    sent = await lifespan_startup(home_app(policy_file(), ledger="mysql://db.example/ugc"))
    assert sent == [{"type": "lifespan.startup.failed",
                     "message": "campaign test-campaign: ledger: mysql://db.example/ugc: unsupported ledger database 'mysql'; "
                                "use sqlite:/// or postgresql+psycopg://"}]


def test_a_sqlite_ledger_gets_its_tables_at_startup(policy_file: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'ledger.sqlite3'}"
    (tmp_path / "new").mkdir()
    with TestClient(home_app(policy_file(), ledger=url)):
        assert (tmp_path / "new" / "ledger.sqlite3").exists()
        assert Ledger(url).current_revision() == Ledger.head_revision()


def test_an_older_sqlite_schema_is_migrated_at_startup(policy_file: Any, sqlite_url: str) -> None:
    Ledger(sqlite_url).upgrade("0002")
    assert Ledger(sqlite_url).current_revision() == "0002"
    with TestClient(home_app(policy_file(), ledger=sqlite_url)):
        assert Ledger(sqlite_url).current_revision() == Ledger.head_revision()


async def test_without_lifespan_the_first_requests_that_need_the_ledger_create_its_tables(policy_file: Any, tmp_path: Path) -> None:
    file = tmp_path / "ledger.sqlite3"
    app = home_app(policy_file(), ledger=f"sqlite:///{file}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=BROWSER) as client:
        assert (await client.get("/")).text == "home"
        assert not file.exists()  # a page of the app does not touch the ledger
        answers = await asyncio.gather(*(client.get("/ugc-guard/status") for _ in range(8)))  # concurrent first requests
        accepted = await client.post("/ugc-guard/accept", json=ACCEPT)
    assert [answer.status_code for answer in answers] == [200] * 8
    assert accepted.status_code == 201
    assert Ledger(f"sqlite:///{file}").current_revision() == Ledger.head_revision()


async def test_without_lifespan_any_spelling_the_pages_answer_makes_the_ledger_ready(policy_file: Any, tmp_path: Path) -> None:
    # The pages match the normalised path, so the readiness check must too: otherwise the first such
    # request would reach a ledger file without tables.
    file = tmp_path / "ledger.sqlite3"
    app = home_app(policy_file(), ledger=f"sqlite:///{file}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=BROWSER) as client:
        answer = await client.get("/UGC-Guard/Status")
        accepted = await client.post("/UGC-GUARD/accept", json=ACCEPT)
    assert answer.status_code == 200
    assert accepted.status_code == 201
    assert Ledger(f"sqlite:///{file}").current_revision() == Ledger.head_revision()


async def test_concurrent_first_accepts_on_a_new_sqlite_ledger_each_get_a_receipt(policy_file: Any, tmp_path: Path) -> None:
    """Receipts issued while other accepts commit and sign checkpoints (each read proves against what it sees)."""
    app = home_app(policy_file(), ledger=f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=BROWSER) as client:
        answers = await asyncio.gather(*(client.post("/ugc-guard/accept", json=ACCEPT) for _ in range(8)))
    assert [answer.status_code for answer in answers] == [201] * 8
    assert all(answer.json()["receipt"]["format"] == "ugc-guard-receipt/2" for answer in answers)


@pytest.mark.postgres
def test_a_postgresql_ledger_without_tables_stops_uvicorn_naming_db_upgrade(tmp_path: Path, postgres_url: str) -> None:
    folder = app_folder(tmp_path, STARLETTE_APP, {"ledger": {"url": postgres_url}})
    outcome = run_uvicorn(folder, "app:app", {})
    assert outcome.returncode == 3
    shown = display_url(postgres_url)
    assert (f"campaign test-campaign: ledger: {shown} has no ledger tables; run ugc-guard db upgrade --ledger '{shown}' "
            "once before starting the app") in outcome.stderr
    assert Ledger(postgres_url).current_revision() is None  # the app never migrates a shared database


@pytest.mark.postgres
def test_a_postgresql_ledger_reached_without_lifespan_answers_ledger_not_ready(
    policy_file: Any, postgres_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(startup, "RETRY_AFTER", 0.0)  # check the schema again at every request
    client = TestClient(home_app(policy_file(), ledger=postgres_url))  # no `with`: no lifespan
    with caplog.at_level(logging.ERROR, logger="ugc_guard"):
        first, second = client.get("/ugc-guard/status"), client.get("/ugc-guard/terms")
    for answer in (first, second):
        assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
        assert answer.json()["code"] == "ledger-not-ready"
        assert "has no ledger tables; run ugc-guard db upgrade --ledger" in answer.json()["detail"]
    assert client.get("/").text == "home"  # the app's own pages do not need the ledger
    assert [record.levelname for record in caplog.records if "ledger-not-ready" in record.getMessage()] == ["ERROR"]
    Ledger(postgres_url).upgrade()
    assert client.get("/ugc-guard/status").status_code == 200  # migrated while running: served without a restart


def test_an_unreachable_ledger_does_not_stop_the_start(policy_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/ugc"
    with caplog.at_level(logging.WARNING, logger="ugc_guard"), TestClient(home_app(policy_file(), ledger=url), headers=BROWSER) as client:
        assert client.get("/").text == "home"
        answer = client.post("/ugc-guard/accept", json=ACCEPT)
    assert answer.status_code == 503 and answer.json()["code"] == "ledger-unavailable"
    assert any("is unavailable" in record.getMessage() and "tried again" in record.getMessage() for record in caplog.records)


def test_processes_starting_together_on_a_new_sqlite_file_all_find_its_tables(tmp_path: Path) -> None:
    # uvicorn --workers N: every worker prepares the same file; the upgrade begins with BEGIN IMMEDIATE
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    code = "import sys; from ugc_guard.ledger import Ledger; from ugc_guard.ledger.readiness import prepare; print(prepare(Ledger(sys.argv[1])))"
    workers = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [(worker.returncode, stderr) for worker, (_, stderr) in zip(workers, outputs, strict=True)] == [(0, "")] * 4
    assert {stdout.strip() for stdout, _ in outputs} == {Ledger.head_revision()}


def test_without_a_secret_a_websocket_gets_the_same_503(policy_file: Any) -> None:
    from starlette.testclient import WebSocketDenialResponse

    with pytest.raises(WebSocketDenialResponse) as denied, TestClient(home_app(policy_file({"secret": None}))).websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 503
    assert json.loads(denied.value.content)["code"] == "guard-not-configured"
    assert json.loads(denied.value.content)["detail"].startswith(NO_SECRET)

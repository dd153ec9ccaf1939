"""The README's snippets, run as written: its app (FastAPI and Starlette) in a fresh folder with a copy
of ``policies/`` under a real uvicorn, its curl session against it, then the legal staff's commands.

Only the port (8000 may be taken) and the curl cookie jar's folder are substituted; the ``pip install``
line is not run (the test environment already has what ``ugc-guard[server]`` brings).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import REPO
from tests.serve import free_port

README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SECTIONS: dict[str, list[tuple[str, str]]] = {
    heading: FENCE.findall(body) for heading, body in re.findall(r"^(#+ [^\n]+)\n(.*?)(?=^#+ |\Z)", README, re.S | re.M)
}
"""Each heading's own fenced blocks (language, body), up to the next heading of any level."""
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) test"}
ACCEPT = {"terms_version": "2026-11", "accept_terms": True, "accept_licence": True, "birth_date": "1990-05-17"}
GRANTS = {"ugc_licence": "accept", "ugc_portrait_self": "accept", "ugc_portrait_others": "none"}

RUN_HERE = {
    "## Usage": [("sh", "pip install"), ("python", "FastAPI()"), ("sh", "python -m uvicorn app:app"), ("python", "JSONResponse(submission")],
    "### Try the example with curl": [("sh", "curl -A")],
    "### For legal and privacy staff": [("sh", "ugc-guard ledger verify")],
}
"""The sections whose snippets this file runs (other sections' snippets have their own tests)."""
NOT_RUN_HERE = {"## The two commands": "scripts/test.sh runs this file; tests/browser serves the example that run-example.sh serves"}


def block(language: str, marker: str) -> str:
    """Return the one block in ``language`` containing ``marker`` among the sections this file runs."""
    [found] = [body for heading in RUN_HERE for lang, body in SECTIONS[heading] if lang == language and marker in body]
    return found


RUN_ELSEWHERE = {"ugc_guard.console": "tests/console/test_readme_console.py"}
"""Snippets in these sections that another test runs as written: a text they contain -> that test."""


def test_every_snippet_of_these_sections_is_run_here_or_by_its_own_test() -> None:
    for heading, wanted in RUN_HERE.items():
        mine = [(language, block(language, marker)) for language, marker in wanted]
        for language, body in SECTIONS[heading]:
            if language in ("sh", "python") and (language, body) not in mine:
                [test] = [REPO / test for marker, test in RUN_ELSEWHERE.items() if marker in body]
                assert "README.md" in test.read_text(encoding="utf-8"), f"{heading}: no test runs\n{body}"
    assert [language for language, _ in SECTIONS[next(iter(NOT_RUN_HERE))]] == ["sh"]


def test_every_python_snippet_of_the_readme_compiles() -> None:
    snippets = [body for language, body in FENCE.findall(README) if language == "python"]
    assert len(snippets) >= 2
    for body in snippets:
        compile(body, "README.md", "exec")


def shell(script: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def json_documents(text: str) -> list[Any]:
    documents, decoder, at = [], json.JSONDecoder(), 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


@pytest.fixture
def fresh_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with a copy of policies/ and a selfie, and an environment with no UGC_GUARD_* setting."""
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "selfie.jpg", quality=90)
    env = {name: value for name, value in os.environ.items() if not name.startswith("UGC_GUARD_") and name != "PYTHONPATH"}
    env["PATH"] = f"{REPO / '.venv' / 'bin'}:{env['PATH']}"
    return tmp_path, env


@pytest.fixture
def readme_app(request: pytest.FixtureRequest, fresh_folder: tuple[Path, dict[str, str]]) -> Iterator[tuple[Path, dict[str, str], int]]:
    """The README's app saved as app.py, started with its install block (less pip) and its uvicorn line."""
    folder, env = fresh_folder
    (folder / "app.py").write_text(block("python", request.param), encoding="utf-8")
    install = [line for line in block("sh", "pip install").splitlines() if not line.startswith("pip install")]
    port = free_port()
    run = block("sh", "python -m uvicorn app:app").replace("--port 8000", f"--port {port}")
    log = folder / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", "\n".join([*install, f"exec {run}"])],
                                   cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the README's app exited with {process.returncode}:\n{log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        assert "policies/onscreen.yaml: ok (campaign onscreen" in log.read_text()  # `ugc-guard policy check` ran first
        yield folder, env, port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("readme_app", ["FastAPI()", "JSONResponse(submission"], indirect=True, ids=["fastapi", "starlette"])
def test_the_readme_app_accepts_and_uploads_with_no_other_step(readme_app: tuple[Path, dict[str, str], int]) -> None:
    folder, env, port = readme_app
    selfie = (folder / "selfie.jpg").read_bytes()
    digest = hashlib.sha256(selfie).hexdigest()

    curl = block("sh", "curl -A").replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace("JAR=/tmp/ugc-jar", f"JAR={folder}/jar")
    session = shell(curl, folder, env)
    assert session.returncode == 0, session.stderr
    status, accepted, uploaded, export = json_documents(session.stdout)
    assert status["campaign"] == "onscreen" and status["terms_current"] is False
    assert accepted["receipt"]["format"] == "ugc-guard-receipt/2"
    assert uploaded["id"] == "3" and uploaded["sha256"] == digest and uploaded["type"] == "image/jpeg"
    assert [submission["content_sha256"] for submission in export["submissions"]] == [digest]

    (folder / "receipt.json").write_text(json.dumps(uploaded["receipt"]), encoding="utf-8")
    shutil.copy(folder / "selfie.jpg", folder / "photo.jpg")
    legal = shell(block("sh", "ugc-guard ledger verify"), folder, env)
    assert legal.returncode == 0, legal.stderr
    assert "stored" in legal.stdout and digest[:12] in legal.stdout  # the submissions table
    assert "ok: 6 entries in 1 campaign chain(s) verified" in legal.stdout
    assert "receipt.json: ok, entry 3 at position 3 of campaign onscreen matches the ledger" in legal.stdout
    assert '"matched_by": "content_sha256", "entry_id": 3' in legal.stdout
    assert "dry run: 0 due of 0 submissions checked" in legal.stderr  # the summary goes to stderr, the list (none) to stdout

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=BROWSER) as client:  # a second person, step by step
        assert client.get("/ugc-guard/status").json()["missing"]
        assert client.post("/ugc-guard/accept", json=ACCEPT).status_code == 201
        answer = client.post("/upload", data=GRANTS, files={"media": ("me.jpg", selfie, "image/jpeg")})
    assert answer.status_code == 201
    assert answer.json()["sha256"] == digest and str(answer.json()["receipt"]["entry_id"]) == answer.json()["id"]


@pytest.mark.parametrize("marker", ["FastAPI()", "JSONResponse(submission"], ids=["fastapi", "starlette"])
def test_the_readme_app_without_a_secret_does_not_start_and_names_it(fresh_folder: tuple[Path, dict[str, str]], marker: str) -> None:
    folder, env = fresh_folder
    (folder / "app.py").write_text(block("python", marker), encoding="utf-8")
    run = block("sh", "python -m uvicorn app:app").replace("--port 8000", f"--port {free_port()}")
    outcome = shell(run, folder, env)  # no UGC_GUARD_SECRET in env
    assert outcome.returncode == 3  # uvicorn's STARTUP_FAILURE
    assert "ERROR:    campaign onscreen: secret: no signing secret; set UGC_GUARD_SECRET" in outcome.stderr
    assert outcome.stderr.rstrip().endswith("ERROR:    Application startup failed. Exiting.")
    assert not (folder / "ugc-ledger.sqlite3").exists()  # nothing was started

"""The README's console snippet, run as written in a folder with a copy of ``policies/`` and a ledger."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import REPO
from tests.console.helpers import TOKEN
from ugc_guard.ledger import Ledger

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_console_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [snippet] = [body for body in re.findall(r"^```python\n(.*?)^```", README, re.S | re.M) if "ugc_guard.console" in body]
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UGC_GUARD_SECRET", "readme-console-secret-" + "r" * 24)
    monkeypatch.setenv("UGC_GUARD_LEDGER", "sqlite:///ugc-ledger.sqlite3")
    monkeypatch.setenv("CONSOLE_PASSWORD", "a password from the environment")
    Ledger("sqlite:///ugc-ledger.sqlite3").upgrade()
    namespace: dict[str, object] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    client = TestClient(namespace["app"])  # type: ignore[arg-type]
    assert client.get("/console/", follow_redirects=False).headers["location"] == "/console/login?next=%2Fconsole%2F"
    match = TOKEN.search(client.get("/console/login").text)
    assert match is not None
    answer = client.post("/console/login", data={"csrf": match[1], "username": "legal",
                                                 "password": "a password from the environment"}, follow_redirects=False)
    assert answer.status_code == 303
    page = client.get("/console/takedowns")
    assert page.status_code == 200 and "campaign onscreen" in page.text and "0 submission(s)" in page.text

"""Driving a mounted console with Starlette's TestClient, as a browser would (cookies, form tokens)."""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.console.conftest import PASSWORD, SECRET, Filled, login
from ugc_guard.console import console_app

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def mounted(filled: Filled, **options: Any) -> TestClient:
    options.setdefault("auth", login())
    options.setdefault("secret", SECRET)
    app = Starlette(routes=[Mount("/console", console_app(filled.policy, database=filled.url, **options))])
    return TestClient(app, base_url="http://testserver")


def token(client: TestClient, path: str) -> str:
    match = TOKEN.search(client.get(path).text)
    assert match is not None, path
    return match[1]


def signed_in(filled: Filled, **options: Any) -> TestClient:
    client = mounted(filled, **options)
    answer = client.post("/console/login", data={"csrf": token(client, "/console/login"), "username": "legal",
                                                  "password": PASSWORD, "next": "/console/"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    return client

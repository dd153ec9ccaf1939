"""The Proof of Age exchange as a browser runs it against the whole middleware: ask for a request,
let the test wallet answer it, post the answer back. Used by the app tests and the hostile suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from tests.agecheck.wallet import Credential, Issuer, issue, present

SITE_ORIGIN = "http://testserver"
"""The test policy's ``campaign.origin``: the origin the browser hands the wallet."""
REQUEST = "/ugc-guard/age/request"
RESPONSE = "/ugc-guard/age/response"
JSON = {"accept": "application/json"}
_files = itertools.count()


def av_policy(issuer: Issuer, folder: Path, **age: Any) -> dict[str, Any]:
    """Return policy overrides for ``age.method: eu-age-verification`` trusting ``issuer``'s CA (its PEM written into ``folder``)."""
    pem = folder / f"av-ca-{next(_files)}.pem"
    pem.write_text(issuer.ca_pem(), encoding="ascii")
    return {"age": {"method": "eu-age-verification", "trusted_issuers": [str(pem)], **age}}


def ask(client: TestClient) -> dict[str, Any]:
    """POST the request as the terms page's script does; return its JSON."""
    answer = client.post(REQUEST, json={}, headers=JSON)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def post_body(nonce: str, presentation: str, protocol: str = "openid4vp-v1-unsigned") -> dict[str, Any]:
    return {"nonce": nonce, "protocol": protocol, "data": {"vp_token": {"proof_of_age": [presentation]}}}


def answer(client: TestClient, body: Any, **kwargs: Any) -> Any:
    """POST a response body (JSON) to the response endpoint."""
    return client.post(RESPONSE, json=body, headers={**JSON, **kwargs.pop("headers", {})}, **kwargs)


def prove(
    client: TestClient,
    issuer: Issuer,
    claims: dict[str, Any] | None = None,
    *,
    make: Callable[[str], str] | None = None,
    credential: Credential | None = None,
) -> Any:
    """Ask for a request and answer it with the test wallet; ``make(nonce)`` builds another presentation."""
    request = ask(client)
    nonce = request["nonce"]
    if make is not None:
        presentation = make(nonce)
    else:
        presentation = present(credential or issue(issuer, claims or {"age_over_18": True}), origin=SITE_ORIGIN, nonce=nonce)
    return answer(client, post_body(nonce, presentation))


def ledger_text(url: str) -> str:
    """Every stored column of every ledger table, as one text (to show what is never stored)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = [row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
            return "\n".join(repr(row) for table in tables for row in connection.execute(text(f'SELECT * FROM "{table}"')))
    finally:
        engine.dispose()

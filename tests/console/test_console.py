"""The console's pages over a real SQLite ledger: search, a submission's case with the exact texts,
receipts, the takedown list, privacy requests, exports, and who may see any of it."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.console.conftest import PASSWORD, SECRET, Filled, sha
from tests.console.helpers import mounted, signed_in, token
from ugc_guard.console import console_app
from ugc_guard.console.app import SECURITY_HEADERS
from ugc_guard.ledger import Ledger, LedgerUnavailable


def rows_of(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body is not None
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body[1], re.S)]


def test_search_by_subject_hash_and_receipt_id(filled: Filled) -> None:
    client = signed_in(filled)
    page = client.get("/console/", params={"q": "alice"})
    assert page.status_code == 200 and "Read as: subject pseudonym. 2 submission(s)." in page.text
    assert [(row[0], row[1], row[3], row[4]) for row in rows_of(page.text, "results")] == [
        (str(filled.stored), "alice", "stored", "alice-photo.jpg"), (str(filled.refused), "alice", "not stored", "alice-refused.jpg")]
    page = client.get("/console/", params={"q": sha("bob-photo").upper()})
    assert "file hash" in page.text and [row[:4:3] for row in rows_of(page.text, "results")] == [[str(filled.withdrawn), "withdrawn"]]
    page = client.get("/console/", params={"q": str(filled.stored + 1)})  # the licence grant's id leads to its submission
    assert "entry or receipt id" in page.text and [row[0] for row in rows_of(page.text, "results")] == [str(filled.stored)]
    page = client.get("/console/", params={"q": "nobody"})
    assert "0 submission(s)" in page.text and "Nothing found in campaign test-campaign." in page.text


def test_a_search_with_more_rows_than_a_page_says_so(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    from ugc_guard.console import data

    client = signed_in(filled)
    assert 'id="more"' not in client.get("/console/", params={"q": "alice"}).text  # 2 rows, a page of 500
    monkeypatch.setattr(data, "LIMIT", 1)
    page = client.get("/console/", params={"q": "alice"})
    assert [row[0] for row in rows_of(page.text, "results")] == [str(filled.stored)]
    assert "More submissions match than one page shows: these are the first 1;" in page.text


def test_a_takedown_list_longer_than_a_page_says_so_and_its_exports_hold_it_all(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    from ugc_guard.console import data

    ledger = Ledger(filled.url, secret=SECRET)
    ledger.withdraw_consent("test-campaign", "alice", "portrait", [filled.stored], reason="not me")
    ledger.close()
    monkeypatch.setattr(data, "LIMIT", 1)
    client = signed_in(filled)
    page = client.get("/console/takedowns")
    assert [row[0] for row in rows_of(page.text, "takedowns")] == [str(min(filled.stored, filled.withdrawn))]
    assert "More submissions are on the list than one page shows: these are the first 1;" in page.text
    exported = list(csv.DictReader(io.StringIO(client.get("/console/takedowns", params={"format": "csv"}).text)))
    assert sorted(int(row["submission_id"]) for row in exported) == sorted([filled.stored, filled.withdrawn])
    assert len(client.get("/console/takedowns", params={"format": "json"}).json()) == 2


def test_submission_shows_grants_and_the_exact_texts(filled: Filled) -> None:
    client = signed_in(filled)
    page = client.get(f"/console/submissions/{filled.stored}")
    assert page.status_code == 200
    assert '<strong id="current-status">stored</strong> (recorded as received)' in page.text
    terms, licence = filled.policy.terms.texts["en"], filled.policy.licence.texts["en"]
    for text in (terms, licence):
        assert f"SHA-256 <code>{text.sha256}</code>" in page.text
    shown = re.findall(r'<pre class="shown-text">(.*?)</pre>', page.text, re.S)
    assert shown == [terms.text, licence.text]
    assert [kind for kind in re.findall(r"<li><h3>([a-z_]+)", page.text)] == ["licence_grant", "portrait_grant", "submission_status"]
    assert "198.51.100.23" not in page.text and "hmac-sha256:" in page.text  # the address is kept only as a keyed hash
    data = client.get(f"/console/submissions/{filled.stored}", params={"format": "json"}).json()
    assert [row["kind"] for row in data] == ["age_result", "terms_acceptance", "submission", "licence_grant", "portrait_grant",
                                             "submission_status"]
    assert {row["current_status"] for row in data} == {"stored"} and data[2]["content_sha256"] == sha("alice-photo")
    assert client.get("/console/submissions/999999").json()["code"] == "not-found"
    assert client.get(f"/console/submissions/{filled.stored + 1}").status_code == 404  # a grant is not a submission


def test_everything_is_escaped_and_headers_are_set(filled: Filled) -> None:
    client = signed_in(filled)
    page = client.get(f"/console/submissions/{filled.other}")
    assert "<script>alert(1)</script>" not in page.text and "carol-&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in page.text
    page = client.get("/console/", params={"q": '"><script>x</script>'})
    assert "<script>x" not in page.text and 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in page.text
    for path in ("/console/", "/console/login", "/console/takedowns?format=csv", "/console/nothing"):
        answer = client.get(path)
        assert {name: answer.headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_takedowns_and_requests_with_exports(filled: Filled) -> None:
    client = signed_in(filled)
    page = client.get("/console/takedowns")
    assert [(row[0], row[1], row[3], row[4]) for row in rows_of(page.text, "takedowns")] == [
        (str(filled.withdrawn), "bob", "portrait", "I am in this photo")]
    exported = list(csv.DictReader(io.StringIO(client.get("/console/takedowns", params={"format": "csv"}).text)))
    assert [(row["submission_id"], row["subject"], row["content_sha256"], row["scope"]) for row in exported] == [
        (str(filled.withdrawn), "bob", sha("bob-photo"), "portrait")]
    answer = client.get("/console/takedowns", params={"format": "json"})
    assert answer.headers["content-disposition"] == 'attachment; filename="takedowns.json"'
    assert [row["submission_id"] for row in answer.json()] == [filled.withdrawn]
    page = client.get("/console/requests")
    (row,) = rows_of(page.text, "requests")  # the other campaign's request is not listed
    assert row[0] == str(filled.request_id) and row[1:3] == ["gdpr", "erasure"] and row[5].endswith("OVERDUE")
    assert row[6:8] == ["alice", "TICKET-7"]
    (due,) = client.get("/console/requests", params={"format": "json"}).json()
    assert due["overdue"] is True and due["reference"] == "TICKET-7" and due["days_left"] < 0
    found = list(csv.DictReader(io.StringIO(client.get("/console/", params={"q": "alice", "format": "csv"}).text)))
    assert [(row["submission_id"], row["status"], row["content_sha256"]) for row in found] == [
        (str(filled.stored), "stored", sha("alice-photo")), (str(filled.refused), "not stored", sha("alice-refused"))]


def test_csv_cells_cannot_run_as_formulas(filled: Filled) -> None:
    from ugc_guard.console.exports import spreadsheet_safe

    assert [spreadsheet_safe(value) for value in ("=HYPERLINK(1)", "+1", "@x", "-x", "plain", 42, None)] == [
        "'=HYPERLINK(1)", "'+1", "'@x", "'-x", "plain", 42, ""]


def verify(client: TestClient, text: str, **files: tuple[str, bytes]) -> tuple[int, str]:
    answer = client.post("/console/receipt", data={"csrf": token(client, "/console/receipt"), "receipt": text},
                         files=files or None)
    return answer.status_code, answer.text


def test_receipts_are_verified_offline_and_against_the_ledger(filled: Filled) -> None:
    client = signed_in(filled)
    code, page = verify(client, filled.signed_receipt)
    assert code == 200 and "This receipt is genuine" in page and "Signature: valid: signed by key" in page
    assert f'href="/console/submissions/{filled.stored}"' in page
    code, page = verify(client, "", file=("receipt.json", filled.signed_receipt.encode()))
    assert code == 200 and "This receipt is genuine" in page
    tampered = json.loads(filled.signed_receipt)
    tampered["issued_at"] = "2020-01-01T00:00:00Z"
    code, page = verify(client, json.dumps(tampered))
    assert code == 200 and "does not check out" in page and "Signature: invalid:" in page
    code, page = verify(client, filled.plain_receipt)
    assert code == 200 and "Signature: not signed" in page and "Against the ledger: matches" in page
    edited = filled.plain_receipt.replace('"irrevocable": true', '"irrevocable": false')
    code, page = verify(client, edited)
    assert code == 200 and "does not check out" in page and "summary differs from the ledger" in page
    code, page = verify(client, "{not json")
    assert code == 422 and '<p class="error" id="error">this is not JSON:' in page
    answer = client.post("/console/receipt", data={"receipt": filled.signed_receipt})
    assert answer.status_code == 403 and answer.json()["code"] == "csrf-failed"
    answer = client.post("/console/receipt", data={"csrf": token(client, "/console/receipt"), "receipt": "{}"},
                         headers={"origin": "https://evil.example"})
    assert answer.status_code == 403 and answer.json()["code"] == "csrf-failed"


def test_the_built_in_login(filled: Filled) -> None:
    client = mounted(filled)
    answer = client.get("/console/takedowns?format=csv", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login?next=%2Fconsole%2Ftakedowns%3Fformat%3Dcsv"
    assert client.post("/console/receipt", data={"receipt": "{}"}, follow_redirects=False).status_code == 303
    answer = client.post("/console/login", data={"username": "legal", "password": PASSWORD})
    assert answer.status_code == 403 and answer.json()["code"] == "csrf-failed"
    answer = client.post("/console/login", data={"csrf": token(client, "/console/login"), "username": "legal",
                                                 "password": "wrong", "next": "/console/requests"})
    assert answer.status_code == 401 and "wrong user name or password" in answer.text and 'value="/console/requests"' in answer.text
    answer = client.post("/console/login", data={"csrf": token(client, "/console/login"), "username": "legal",
                                                 "password": PASSWORD, "next": "https://evil.example/"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"  # never to another site
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert client.get("/console/takedowns").status_code == 200
    answer = client.post("/console/logout", data={"csrf": token(client, "/console/receipt")}, follow_redirects=False)
    assert answer.status_code == 303 and client.get("/console/", follow_redirects=False).status_code == 303


def test_repeated_wrong_passwords_lock_the_login(filled: Filled) -> None:
    client = mounted(filled)
    for _ in range(5):
        answer = client.post("/console/login", data={"csrf": token(client, "/console/login"), "username": "legal",
                                                     "password": "guess"})
        assert answer.status_code == 401
    answer = client.post("/console/login", data={"csrf": token(client, "/console/login"), "username": "legal",
                                                 "password": PASSWORD})
    assert answer.status_code == 429 and answer.json()["code"] == "rate-limited" and answer.headers["retry-after"] == "900"


class HeaderUser(AuthenticationBackend):
    """The operator's own authentication, reduced to a header for the test."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        name = conn.headers.get("x-test-user")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


def test_upstream_authentication_is_trusted_and_required(filled: Filled) -> None:
    console = console_app(filled.policy, database=filled.url)
    app = Starlette(routes=[Mount("/console", console)], middleware=[Middleware(AuthenticationMiddleware, backend=HeaderUser())])
    client = TestClient(app)
    answer = client.get("/console/", follow_redirects=False)
    assert answer.status_code == 401 and answer.json()["code"] == "console-login-required"
    assert client.get("/console/login").status_code == 404  # no built-in login unless asked for
    page = client.get("/console/", params={"q": "alice"}, headers={"x-test-user": "dana"})
    assert page.status_code == 200 and '<span class="user">dana</span>' in page.text and "Sign out" not in page.text
    assert "Personal fields are shown as [sealed]" in page.text  # no secret given to the console
    detail = client.get(f"/console/submissions/{filled.stored}", headers={"x-test-user": "dana"}).text
    assert "<dt>original_name</dt><dd>[sealed]</dd>" in detail
    bare = TestClient(Starlette(routes=[Mount("/console", console)]))  # mounted with no authentication at all
    assert bare.get("/console/takedowns").status_code == 401


def test_read_only_and_no_empty_ledger(filled: Filled, tmp_cwd: Path) -> None:
    client = signed_in(filled)
    answer = client.post("/console/takedowns")
    assert answer.status_code == 405 and answer.json()["code"] == "method-not-allowed"
    assert client.delete(f"/console/submissions/{filled.stored}").status_code == 405
    with pytest.raises(LedgerUnavailable, match="does not exist"):
        console_app(filled.policy, database="sqlite:///missing/ledger.sqlite3")
    assert list(tmp_cwd.iterdir()) == []


def test_a_ledger_it_cannot_read_is_a_503(filled: Filled, tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()  # a SQLite file without ledger tables
    for url, code in ((f"sqlite:///{empty}", "ledger-not-ready"),
                      ("postgresql+psycopg://postgres@127.0.0.1:1/nothing", "ledger-unavailable")):
        console = console_app(filled.policy, database=url)
        app = Starlette(routes=[Mount("/console", console)],
                        middleware=[Middleware(AuthenticationMiddleware, backend=HeaderUser())])
        client = TestClient(app, headers={"x-test-user": "dana"})
        for path in ("/console/?q=alice", "/console/submissions/1", "/console/takedowns", "/console/requests"):
            answer = client.get(path)
            assert (answer.status_code, answer.json()["code"]) == (503, code), (url, path)
        answer = client.post("/console/receipt", data={"csrf": token(client, "/console/receipt"), "receipt": filled.plain_receipt})
        assert (answer.status_code, answer.json()["code"]) == (503, code)

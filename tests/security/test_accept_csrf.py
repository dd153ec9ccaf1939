"""Accept, CSRF and redirects: forms need their own subject's token, JSON must come from this site and be
JSON, ``next`` never leaves the site, only the current terms can be accepted, and every bad body on every
endpoint that reads one is a 4xx problem with nothing recorded."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import BROWSER_UA, Site, accept, cookie_header, raw_request

ADULT = {"terms_version": "1", "accept_terms": True, "birth_date": "1990-05-17"}
FORM = "application/x-www-form-urlencoded"


def form_token(client: Any, path: str = "/ugc-guard/terms") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


def form_data(token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, "terms_version": "1", "birth_date": "1990-05-17", "accept_terms": "yes", "accept_licence": "yes", **fields}


# -- CSRF on the terms form ---------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged", "x" * 500, "other-subject"])
def test_form_accept_needs_this_subjects_token(make_site: Callable[..., Site], token: str | None) -> None:
    site = make_site()
    client = site.client()
    form_token(client)
    if token == "other-subject":
        token = form_token(site.client())
    data = form_data(token or "")
    if token is None:
        del data["csrf_token"]
    answer = client.post("/ugc-guard/accept", data=data, follow_redirects=False)
    assert answer.status_code == 403 and "expired or was not sent from this site" in answer.text
    assert site.entries() == 0 and client.get("/ugc-guard/status").json()["accepted_terms_version"] is None


def test_form_accept_without_a_cookie_gets_a_subject_but_no_acceptance(make_site: Callable[..., Site]) -> None:
    site = make_site()
    stranger = site.client()
    answer = stranger.post("/ugc-guard/accept", data=form_data(form_token(site.client())), follow_redirects=False)
    assert answer.status_code == 403 and "ugc_guard_subject=" in answer.headers.get("set-cookie", "")
    assert site.entries() == 0


# -- cross-site JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"}, {"origin": "null"}, {"origin": "http://testserver.evil.example"},
        {"origin": "http://testserver@evil.example"}, {"origin": "http://evil.example#testserver"}, {"origin": "testserver"},
        {"origin": "http://testserver:8080"}, {"origin": ""}, {"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"}, {"sec-fetch-site": "same-origin", "origin": "https://evil.example"},
    ],
)  # fmt: skip
def test_cross_site_json_accept_is_refused(make_site: Callable[..., Site], headers: dict[str, str]) -> None:
    site = make_site()
    client = site.client()
    answer = client.post("/ugc-guard/accept", json=ADULT, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (403, "csrf-failed"), headers
    assert site.entries() == 0 and "set-cookie" not in answer.headers


@pytest.mark.parametrize("headers", [{}, {"origin": "http://testserver"}, {"sec-fetch-site": "same-origin"}, {"sec-fetch-site": "none"}])
def test_same_site_json_accept_is_recorded_once(make_site: Callable[..., Site], headers: dict[str, str]) -> None:
    site = make_site()
    answer = site.client().post("/ugc-guard/accept", json=ADULT, headers=headers)
    assert answer.status_code == 201 and answer.json()["receipt"]["entries"][0]["kind"] == "terms_acceptance"
    assert site.entries() == 2  # the age result and the acceptance


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "text/plain;charset=utf-8", "multipart/form-data; boundary=x", "application/xml", "text/json",
     "application/json-patch+json", "application/x-www-form-urlencoded-x", "application/csp-report"],
)  # fmt: skip
def test_accept_takes_only_forms_and_json(make_site: Callable[..., Site], content_type: str | None) -> None:
    site = make_site()
    headers = [("host", "testserver"), ("user-agent", BROWSER_UA)] + ([("content-type", content_type)] if content_type else [])
    reply = raw_request(site.guard, "POST", "/ugc-guard/accept", headers, json.dumps(ADULT).encode())
    assert (reply.status, reply.code) == (415, "unsupported-media-type"), content_type
    assert site.entries() == 0


def test_real_multipart_to_accept_is_415(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client = site.client()
    answer = client.post("/ugc-guard/accept", data=form_data(form_token(client)), files={"f": ("a.txt", b"b", "text/plain")})
    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported-media-type")
    assert site.entries() == 0


# -- redirects ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.com", "/\\evil.com", "\\\\evil.com", "https:evil.com", "https://evil.com", "%2F%2Fevil.com", "/%2F%2Fevil.com",
        "/%252F%252Fevil.com", "/%5Cevil.com", "///evil.com", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
        "/x\r\nLocation: //evil.com", "/%0d%0aSet-Cookie:%20x=1", "/\t/evil.com", " /x", "/x y", "http://testserver.evil.com/",
        "evil.com", "." , "/" + "a" * 2100,
    ],
)  # fmt: skip
def test_next_never_leaves_the_site(make_site: Callable[..., Site], next_url: str) -> None:
    site = make_site()
    client = site.client()
    answer = accept(client, next=next_url)
    assert answer.status_code == 303 and answer.headers["location"] == "/ugc-guard/terms", next_url
    page = client.get("/ugc-guard/terms", params={"next": next_url})
    assert 'name="next" value="/ugc-guard/terms"' in page.text


@pytest.mark.parametrize("next_url", ["/gallery/1?x=1", "/", "/media/a%20b"])
def test_same_site_next_is_followed(make_site: Callable[..., Site], next_url: str) -> None:
    answer = accept(make_site().client(), next=next_url)
    assert answer.status_code == 303 and answer.headers["location"] == next_url


# -- terms versions -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0", "2", "01", "1 ", " 1", "1.0", "../1", "", "1\x00"])
def test_only_the_current_terms_version(make_site: Callable[..., Site], version: str) -> None:
    site = make_site()
    client = site.client()
    answer = client.post("/ugc-guard/accept", json={**ADULT, "terms_version": version})
    assert (answer.status_code, answer.json()["code"]) == (409, "terms-version-mismatch")
    assert answer.json()["accept_url"].endswith("/ugc-guard/terms")
    if "\x00" not in version:
        assert accept(client, terms_version=version).status_code == 409
    assert site.entries() == 0


def test_old_version_after_a_revision(make_site: Callable[..., Site]) -> None:
    site = make_site({"terms": {"version": "2"}})
    answer = site.client().post("/ugc-guard/accept", json={**ADULT, "terms_version": "1"})
    assert (answer.status_code, answer.json()["code"]) == (409, "terms-version-mismatch")
    assert site.entries() == 0


# -- bodies (every endpoint that reads one) -----------------------------------------------------

DEEP = b"[" * 30_000 + b"]" * 30_000  # under the 64 KiB limit: refused for its depth, unparsed
JSON_BODIES = {
    "deep array": DEEP,
    "deep object": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "deep in a member": b'{"terms_version": "1", "accept_terms": true, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "huge float": b'{"terms_version": "1", "accept_terms": true, "birth_date": "1990-05-17", "n": 1e999999}',
    "huge integer": b'{"terms_version": "1", "accept_terms": true, "n": ' + b"7" * 60_000 + b"}",
    "long integer": b'{"terms_version": "1", "accept_terms": true, "n": ' + b"7" * 5000 + b"}",
    "NaN": b'{"terms_version": "1", "accept_terms": true, "n": NaN}',
    "invalid UTF-8": b'{"terms_version": "1", "accept_terms": true, "birth_date": "\xff\xfe"}',
    "lone surrogate": b'{"terms_version": "1", "accept_terms": true, "lang": "\\ud800"}',
    "array": b'[{"terms_version": "1"}]',
    "string": b'"terms_version"',
    "number": b"1",
    "duplicate keys": b'{"terms_version": "2", "terms_version": "1", "accept_terms": true, "birth_date": "1990-05-17"}',
    "truncated": b'{"terms_version": "1"',
    "empty": b"",
    "utf-16": json.dumps(ADULT).encode("utf-16"),
}
FORM_BODIES = {
    "invalid UTF-8": b"a=\xff",
    "encoded invalid UTF-8": b"terms_version=%ff",
    "duplicate fields": b"terms_version=1&terms_version=2",
    "too many fields": "&".join(f"f{i}=1" for i in range(200)).encode(),
    "no equals": b"terms_version",
}


def post(site: Site, path: str, content_type: str, body: bytes, *extra: tuple[str, str]) -> Any:
    headers = [("host", "testserver"), ("user-agent", BROWSER_UA), ("content-type", content_type), *extra]
    return raw_request(site.guard, "POST", path, headers, body)


@pytest.fixture
def site_with_subject(make_site: Callable[..., Site]) -> tuple[Site, tuple[str, str]]:
    site = make_site({"age": {"guardian_minimum": 16}})
    client = site.client()
    assert accept(client).status_code == 303
    return site, cookie_header(client)


@pytest.mark.parametrize("name", sorted(JSON_BODIES))
@pytest.mark.parametrize("path", ["/ugc-guard/accept", "/ugc-guard/me/withdraw"])
def test_bad_json_bodies_are_400(site_with_subject: tuple[Site, tuple[str, str]], name: str, path: str) -> None:
    site, cookie = site_with_subject
    before = site.entries()
    reply = post(site, path, "application/json", JSON_BODIES[name], cookie)
    assert (reply.status, reply.code) == (400, "invalid-request"), name
    assert site.entries() == before and site.reached() == 0


@pytest.mark.parametrize("name", sorted(FORM_BODIES))
@pytest.mark.parametrize("path", ["/ugc-guard/accept", "/ugc-guard/me/withdraw", "/ugc-guard/guardian/confirm"])
def test_bad_form_bodies_are_400(site_with_subject: tuple[Site, tuple[str, str]], name: str, path: str) -> None:
    site, cookie = site_with_subject
    before = site.entries()
    reply = post(site, path, FORM, FORM_BODIES[name], cookie)
    assert (reply.status, reply.code) == (400, "invalid-request"), name
    assert site.entries() == before


def test_guardian_confirm_takes_only_its_form(site_with_subject: tuple[Site, tuple[str, str]]) -> None:
    site, cookie = site_with_subject
    for content_type, body in (("application/json", DEEP), ("application/json", b'{"token": "x"}'), ("text/plain", b"token=x")):
        reply = post(site, "/ugc-guard/guardian/confirm", content_type, body, cookie)
        assert (reply.status, reply.code) == (415, "unsupported-media-type"), content_type
    assert site.entries() == 2


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/ugc-guard/accept", FORM), ("/ugc-guard/accept", "application/json"), ("/ugc-guard/me/withdraw", FORM),
     ("/ugc-guard/me/withdraw", "application/json"), ("/ugc-guard/guardian/confirm", FORM)],  # the guardian page takes only its form
)  # fmt: skip
def test_oversized_and_lying_bodies(site_with_subject: tuple[Site, tuple[str, str]], path: str, content_type: str) -> None:
    site, cookie = site_with_subject
    before = site.entries()
    big = b"a=" + b"x" * 70_000
    cases: list[tuple[bytes, list[tuple[str, str]], int, str]] = [
        (big, [], 413, "form-too-large"),  # counted
        (b"[" * 100_000 + b"]" * 100_000, [], 413, "form-too-large"),  # 100k deep is over the limit before any parsing
        (b'{"n": ' + b"1" * 100_000 + b"}", [], 413, "form-too-large"),
        (b"a=1", [("content-length", "70000")], 413, "form-too-large"),  # declared
        (b"a=1" + b"&b=2" * 10, [("content-length", "5")], 400, "invalid-request"),  # longer than declared
        (b"a=1", [("content-length", "500")], 400, "invalid-request"),  # shorter than declared
        (b"a=1", [("content-length", "3"), ("content-length", "4")], 400, "invalid-request"),
        (b"a=1", [("content-length", "3x")], 400, "invalid-request"),
        (b"a=1", [("content-length", "9" * 6000)], 400, "invalid-request"),
    ]
    for body, extra, status, code in cases:
        reply = post(site, path, content_type, body, cookie, *extra)
        assert (reply.status, reply.code) == (status, code), (path, extra)
    assert site.entries() == before and site.reached() == 0


@pytest.mark.parametrize("path", ["/ugc-guard/accept", "/ugc-guard/me/withdraw", "/ugc-guard/guardian/confirm"])
def test_chunked_body_without_length_is_counted(site_with_subject: tuple[Site, tuple[str, str]], path: str) -> None:
    site, cookie = site_with_subject
    client = site.client(headers={"cookie": f"{cookie[1]}"})

    def chunks() -> Iterator[bytes]:
        yield b"a="
        for _ in range(80):
            yield b"x" * 1024

    answer = client.post(path, content=chunks(), headers={"content-type": FORM})
    assert (answer.status_code, answer.json()["code"]) == (413, "form-too-large")
    assert site.entries() == 2 and site.reached() == 0


def test_well_formed_withdrawal_still_works(site_with_subject: tuple[Site, tuple[str, str]]) -> None:
    site, cookie = site_with_subject
    reply = post(site, "/ugc-guard/me/withdraw", "application/json", b'{"scope": "portrait", "submission": "all"}', cookie)
    assert reply.status == 200 and reply.json()["withdrawn"] == []
    for body in (b'{"submission": ' + b"9" * 40 + b"}", b'{"submission": [1]}', b'{"scope": {"a": 1}}', b'{"reason": ["x"]}'):
        reply = post(site, "/ugc-guard/me/withdraw", "application/json", body, cookie)
        assert (reply.status, reply.code) == (400, "invalid-request"), body


# -- bodies on the wire: the real example under uvicorn -----------------------------------------


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    from tests.browser.conftest import Server

    folder = tmp_path_factory.mktemp("wire-bodies")
    running = Server("onscreen.yaml", folder)
    yield running, folder
    running.stop()


def chunked(body: bytes, size: int = 4096) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces) + b"0\r\n\r\n"


def on_the_wire(port: int, path: str, content_type: str, framing: str, body: bytes) -> tuple[int, str | None]:
    """Send one raw HTTP/1.1 POST; return the status and the problem code (None when it is no problem document)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {BROWSER_UA}\r\nContent-Type: {content_type}\r\n"
    head += f"{framing}Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        data = b""
        try:
            connection.sendall(head.encode("latin-1") + body)
            while chunk := connection.recv(65536):
                data += chunk
        except ConnectionResetError:  # the server answered and closed before reading all we sent
            if b"\r\n\r\n" not in data:
                raise
    header_block, _, payload = data.partition(b"\r\n\r\n")
    status = int(header_block.split(b" ", 2)[1])
    is_problem = b"application/problem+json" in header_block.lower()
    return status, json.loads(payload).get("code") if is_problem else None


@pytest.mark.parametrize(
    ("content_type", "framing", "body", "expected"),
    [
        (FORM, "Transfer-Encoding: chunked\r\n", chunked(b"a=" + b"x" * 80_000), (413, "form-too-large")),
        ("application/json", "Transfer-Encoding: chunked\r\n", chunked(b"[" * 35_000 + b"]" * 35_000), (413, "form-too-large")),
        ("application/json", "Transfer-Encoding: chunked\r\n", chunked(DEEP), (400, "invalid-request")),
        ("application/json", "Transfer-Encoding: chunked\r\n", chunked(b'{"terms_version": "\xff"}'), (400, "invalid-request")),
        ("application/json", "Transfer-Encoding: chunked\r\n", chunked(JSON_BODIES["huge float"]), (400, "invalid-request")),
        ("application/json", "Content-Length: 10\r\n", json.dumps(ADULT).encode(), (400, "invalid-request")),  # cut short by the framing
        ("application/json", "Content-Length: 70000\r\n", b"{}", (413, "form-too-large")),
        ("application/json", "Content-Length: 5\r\nContent-Length: 50\r\n", json.dumps(ADULT).encode(), (400, None)),  # the server's parser
    ],
)  # fmt: skip
def test_bodies_on_the_wire(wire: tuple[Any, Path], content_type: str, framing: str, body: bytes, expected: tuple[int, str | None]) -> None:
    from ugc_guard.ledger import Ledger

    server, folder = wire
    assert on_the_wire(server.port, "/ugc-guard/accept", content_type, framing, body) == expected
    assert Ledger(f"sqlite:///{folder / 'ledger.sqlite3'}").entries(limit=10).items == []

"""Injection in every field the guard echoes: ``next``, ``lang``, query values, the guardian's name, form
errors, the path in ``method-not-allowed``, the Host in ``unknown-host``, file names in screening
refusals, the User-Agent. Markup, attribute breakouts, CRLF, bidi controls, NUL and template syntax
come back escaped exactly as asserted (or not at all), and no response header is ever injected.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.screening.samples import multipart
from ugc_guard.ledger import Ledger

from .conftest import BROWSER_UA, GRANTS, Site, accept, cookie_header, jpeg, raw_request

SCRIPT = "<script>alert(1)</script>"
# (payload, how Jinja's autoescape writes it into HTML)
ESCAPED = [
    (SCRIPT, "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('"><svg/onload=alert(1)>', "&#34;&gt;&lt;svg/onload=alert(1)&gt;"),
    ("'onmouseover='alert(1)", "&#39;onmouseover=&#39;alert(1)"),
    ("{{7*7}}{%print(7*7)%}", "{{7*7}}{%print(7*7)%}"),  # no markup: template syntax stays text, never evaluated
    ("a&amp;b", "a&amp;amp;b"),
    ("x\u202egpj", "x\u202egpj"),  # a same-site path, bidi override and all: kept in the field, never markup
]
UNSAFE_NEXT = ['"><svg onload=alert(1)>', "/x\r\nSet-Cookie: injected=1", "/x\nLocation: https://evil.example", "/x\x00y",
               "/x\\evil", "//evil.example/{{7*7}}", "/x%0d%0aSet-Cookie:%20injected=1", "/x%00y"]
SECRET = os.environ["UGC_GUARD_SECRET"]
MINORS = {"age": {"guardian_minimum": 16}}
SEVENTEEN = f"{dt.date.today().year - 17}-01-01"  # 17 from 1 January on, 18 only next year


def no_injected_headers(headers: Any) -> None:
    """No header name or value carries a line break, and nothing set a cookie or location of the attacker's."""
    for name, value in headers.multi_items() if hasattr(headers, "multi_items") else headers.items():
        assert "\r" not in name + value and "\n" not in name + value, (name, value)
        assert "injected" not in value and "evil.example" not in value, (name, value)


def problem(answer: Any) -> dict[str, Any]:
    """The problem document, after checking it is served as data: its type, nosniff, and no raw <, > or &."""
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    raw = answer.content
    assert b"<" not in raw and b">" not in raw and b"&" not in raw, raw
    document: dict[str, Any] = json.loads(raw)
    return document


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match is not None, name
    return match.group(1)


# -- next ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "escaped"), ESCAPED)
def test_next_on_the_terms_page_is_escaped_in_its_hidden_field(make_site: Callable[..., Site], payload: str, escaped: str) -> None:
    site = make_site()
    page = site.client().get("/ugc-guard/terms", params={"next": "/gallery/" + payload})
    assert page.status_code == 200
    assert hidden(page.text, "next") == "/gallery/" + escaped
    if payload != escaped:
        assert payload not in page.text
    assert "/gallery/49" not in page.text
    no_injected_headers(page.headers)


@pytest.mark.parametrize("payload", UNSAFE_NEXT)
def test_next_with_spaces_line_breaks_nul_bidi_backslashes_or_another_host_falls_back_to_the_terms(
    make_site: Callable[..., Site], payload: str
) -> None:
    site = make_site()
    page = site.client().get("/ugc-guard/terms", params={"next": payload})
    assert page.status_code == 200 and hidden(page.text, "next") == "/ugc-guard/terms"
    assert "injected" not in page.text and "evil.example" not in page.text and "\x00" not in page.text
    no_injected_headers(page.headers)


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ("/gallery/" + SCRIPT, "/gallery/%3Cscript%3Ealert(1)%3C/script%3E"),
        ('/gallery/"><svg/onload=alert(1)>', "/gallery/%22%3E%3Csvg/onload=alert(1)%3E"),
        ("/gallery/{{7*7}}", "/gallery/%7B%7B7*7%7D%7D"),
        ("/gallery/x\u202egpj", "/gallery/x%E2%80%AEgpj"),
        *((payload, "/ugc-guard/terms") for payload in UNSAFE_NEXT),
    ],
)
def test_the_accept_redirect_is_percent_encoded_or_the_terms(make_site: Callable[..., Site], payload: str, location: str) -> None:
    site = make_site()
    client = site.client()
    answer = accept(client, next=payload)
    assert answer.status_code == 303 and answer.headers["location"] == location
    no_injected_headers(answer.headers)
    assert [value for value in answer.headers.get_list("set-cookie") if not value.startswith("ugc_guard_subject=")] == []


# -- lang, done and other query values ----------------------------------------------------------


@pytest.mark.parametrize("payload", [SCRIPT, 'en"><svg/onload=alert(1)>', "{{7*7}}", "nl\r\nSet-Cookie: injected=1", "en\u202e"])
def test_lang_and_other_query_values_are_never_echoed(make_site: Callable[..., Site], payload: str) -> None:
    site = make_site()
    client = site.client()
    assert accept(client).status_code == 303
    for path in ("/ugc-guard/terms", "/ugc-guard/me"):
        page = client.get(path, params={"lang": payload, "done": payload, "next": "/", "x": payload})
        assert page.status_code == 200 and '<html lang="en">' in page.text
        assert payload not in page.text and "injected" not in page.text and "svg" not in page.text
        assert hidden(page.text, "lang") == "en"
        no_injected_headers(page.headers)
    status = client.get("/ugc-guard/status", params={"next": payload, "lang": payload})
    assert status.status_code == 200 and payload not in status.text and status.json()["accept_url"] == "http://testserver/ugc-guard/terms"


@pytest.mark.parametrize("payload", [SCRIPT, '"><svg onload=alert(1)>', "{{7*7}}"])
def test_the_birth_date_of_a_refused_form_is_never_echoed(make_site: Callable[..., Site], payload: str) -> None:
    site = make_site()
    client = site.client()
    answer = accept(client, birth_date=payload)
    assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]
    assert payload not in answer.text and "&lt;script" not in answer.text and "svg" not in answer.text
    for part in ("day", "month", "year"):  # the date of birth is asked again, empty
        assert f'id="birth_{part}" name="birth_{part}" class="{part}" value=""' in answer.text
    assert site.entries() == 0


# -- paths, hosts and problem details -----------------------------------------------------------


@pytest.mark.parametrize(("path", "detail"), [
    ("/ugc-guard/terms?x=" + SCRIPT, "/ugc-guard/terms accepts GET, HEAD"),
    ("/UGC-GUARD/Terms?{{7*7}}", "/ugc-guard/terms accepts GET, HEAD"),
    ("/ugc-guard/me?x=%22%3E%3Csvg%20onload=alert(1)%3E", "/ugc-guard/me accepts GET, HEAD"),
    ("/ugc-guard/me/withdraw?x=%0d%0aSet-Cookie:%20injected=1", "/ugc-guard/me/withdraw accepts POST"),
])  # fmt: skip
def test_method_not_allowed_names_only_the_route(make_site: Callable[..., Site], path: str, detail: str) -> None:
    site = make_site()
    client = site.client()
    accept(client)
    method = "PUT" if "withdraw" not in path else "GET"
    answer = client.request(method, path)
    assert (answer.status_code, problem(answer)["code"], problem(answer)["detail"]) == (405, "method-not-allowed", detail)
    no_injected_headers(answer.headers)


@pytest.mark.parametrize("host", [SCRIPT, '"><svg/onload=alert(1)>', "{{7*7}}", "a\x00b", "evil.example\xe2\x80\xae", "x y",
                                  "testserver\tinjected"])
def test_a_host_that_is_not_a_bare_host_is_refused_without_echo(make_site: Callable[..., Site], host: str) -> None:
    site = make_site()
    answer = raw_request(site.guard, "GET", "/", [("host", host), ("user-agent", BROWSER_UA)])
    assert answer.status == 400 and answer.code == "bad-host"
    assert json.loads(answer.body)["detail"] == "the Host header must be a bare host name with an optional port"
    assert host.encode("latin-1") not in answer.body and answer.headers["x-content-type-options"] == "nosniff"
    assert site.reached() == 0


def test_unknown_host_echoes_a_bare_host_as_json_data(make_site: Callable[..., Site]) -> None:
    site = make_site()
    answer = raw_request(site.guard, "GET", "/ugc-guard/terms?next=" + SCRIPT, [("host", "evil.example"), ("user-agent", BROWSER_UA)])
    assert answer.status == 421 and answer.code == "unknown-host"
    assert json.loads(answer.body)["detail"] == "no campaign policy serves the host 'evil.example'"
    assert b"script" not in answer.body and site.reached() == 0


@pytest.mark.parametrize(("name", "extension"), [
    ("x.<svg onload=alert(1)>", "<svg onload=alert(1)>"),
    ('x."><img src=x onerror=alert(1)>', '"><img src=x onerror=alert(1)>'),
    ("x.{{7*7}}", "{{7*7}}"),
    ("x.a&b", "a&b"),
])  # fmt: skip
def test_a_file_name_in_a_screening_refusal_is_json_data_with_markup_escaped(make_site: Callable[..., Site], name: str,
                                                                            extension: str) -> None:
    site = make_site()
    client = site.client()
    accept(client)
    before = site.entries()
    fields = [(key, None, None, value.encode()) for key, value in GRANTS.items()]
    body, content_type = multipart([("file", name, "image/jpeg", jpeg()), *fields])  # the name exactly as sent, quotes and all
    answer = client.post("/upload", content=body, headers={"content-type": content_type})
    document = problem(answer)
    assert (answer.status_code, document["code"]) == (415, "unsupported-media-type")
    assert document["detail"] == f"the file name's extension .{extension} does not match its content (image/jpeg)"
    assert site.entries() == before and site.reached() == 0
    no_injected_headers(answer.headers)


def test_a_refused_upload_path_is_not_echoed_in_the_redirect_or_the_problem(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client = site.client()
    target = "/media/%3Cscript%3Ealert(1)%3C/script%3E%7B%7B7*7%7D%7D"
    as_api = client.post(target, files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS)
    document = problem(as_api)
    assert (as_api.status_code, document["code"]) == (403, "terms-not-accepted")
    assert document["accept_url"] == "http://testserver/ugc-guard/terms" and "script" not in as_api.text
    as_browser = client.post(target, files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers={"accept": "text/html"},
                             follow_redirects=False)
    assert as_browser.status_code == 303 and as_browser.headers["location"] == "/ugc-guard/terms?next=/"
    no_injected_headers(as_browser.headers)
    assert site.entries() == 0 and site.reached() == 0


# -- file names that reach the ledger: bidi, NUL, markup ------------------------------------------


@pytest.mark.parametrize(("sent", "name", "escaped"), [
    ("evil\u202egpj.jpg", "evilgpj.jpg", "evil\\u202egpj.jpg"),
    ("a\x00b.jpg", "ab.jpg", "a\\x00b.jpg"),
    ("<script>alert(1)<\\script>.jpg", "script>.jpg", "<script>alert(1)<\\\\script>.jpg"),
    ("{{7*7}}.jpg", "{{7*7}}.jpg", "{{7*7}}.jpg"),
])  # fmt: skip
def test_a_file_name_is_cleaned_for_use_and_kept_escaped_for_the_record(make_site: Callable[..., Site], sent: str, name: str,
                                                                       escaped: str) -> None:
    site = make_site()
    client = site.client()
    accept(client)
    fields = [(key, None, None, value.encode()) for key, value in GRANTS.items()]
    body, content_type = multipart([("file", sent, "image/jpeg", jpeg((61, 47))), *fields])
    answer = raw_request(site.guard, "POST", "/upload", [("host", "testserver"), ("user-agent", BROWSER_UA), cookie_header(client),
                                                         ("content-type", content_type)], body)
    assert answer.status == 201
    (screened,) = site.spy.calls[-1]["ugc"].files
    assert (screened.name, screened.original_name_escaped) == (name, escaped)
    ledger = Ledger(site.ledger_url, secret=SECRET)
    (submission,) = ledger.submissions().items
    assert submission.data["original_name"] == name  # opened with the site secret: the cleaned name, no control characters
    ledger.close()
    export = client.get("/ugc-guard/me/export")
    assert export.headers["x-content-type-options"] == "nosniff" and export.headers["content-type"] == "application/json"
    assert export.headers["content-disposition"] == 'attachment; filename="ugc-guard-export-test-campaign.json"'
    assert [item["original_name"] for item in export.json()["submissions"]] == [name]
    page = client.get("/ugc-guard/me")
    assert sent not in page.text and "\u202e" not in page.text and "\x00" not in page.text


# -- the guardian's name ------------------------------------------------------------------------


GUARDIAN_NAME = 'Sam <script>alert(1)</script> "><svg onload=alert(1)> {{7*7}} \u202eQ'


def guardian_form(site: Site, client: TestClient) -> dict[str, str]:
    page = client.get(site.outbox.path())
    assert page.status_code == 200
    return {"csrf_token": hidden(page.text, "csrf_token"), "token": site.outbox.token(), "relationship": "parent",
            "accept_terms": "yes", "accept_licence": "yes"}


def test_the_guardians_name_is_recorded_as_given_and_never_rendered(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    minor = site.client()
    assert accept(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org").status_code == 303
    guardian = site.client(headers={"user-agent": "Mozilla/5.0 (iPhone) the parent's phone"})
    missing = guardian.post("/ugc-guard/guardian/confirm", data={**guardian_form(site, guardian), "guardian_name": GUARDIAN_NAME,
                                                                  "accept_licence": ""})
    assert missing.status_code == 422 and "text/html" in missing.headers["content-type"]
    for fragment in ("<script>alert", "&lt;script&gt;", "svg", "{{7*7}}", "\u202e"):
        assert fragment not in missing.text
    done = guardian.post("/ugc-guard/guardian/confirm", data={**guardian_form(site, guardian), "guardian_name": GUARDIAN_NAME})
    assert done.status_code == 200
    for fragment in ("<script>alert", "&lt;script&gt;", "svg", "{{7*7}}", "\u202e"):
        assert fragment not in done.text
    no_injected_headers(done.headers)
    ledger = Ledger(site.ledger_url, secret=SECRET)
    (confirmed,) = ledger.entries(kinds=["guardian_confirmed"]).items
    assert confirmed.data["guardian_name"] == " ".join(GUARDIAN_NAME.split())  # verbatim, only whitespace collapsed
    ledger.close()
    export = minor.get("/ugc-guard/me/export")
    assert "script" not in export.text and "svg" not in export.text and "[withheld: personal data of the guardian]" in export.text


@pytest.mark.parametrize("token", [SCRIPT, '"><svg onload=alert(1)>', "{{7*7}}", "x\r\nSet-Cookie: injected=1"])
def test_a_guardian_link_with_a_hostile_token_is_the_invalid_link_page(make_site: Callable[..., Site], token: str) -> None:
    site = make_site(MINORS)
    answer = site.client().get("/ugc-guard/guardian/confirm", params={"token": token})
    assert answer.status_code == 410 and "text/html" in answer.headers["content-type"]
    assert token not in answer.text and "svg" not in answer.text and "injected" not in answer.text and "{{" not in answer.text
    no_injected_headers(answer.headers)
    api = site.client().get("/ugc-guard/guardian/confirm", params={"token": token}, headers={"accept": "application/json"})
    assert (api.status_code, problem(api)["code"]) == (410, "guardian-token-invalid")


# -- the User-Agent -----------------------------------------------------------------------------


def test_a_hostile_user_agent_is_neither_logged_nor_stored_as_text(make_site: Callable[..., Site], caplog: pytest.LogCaptureFixture) -> None:
    agent = BROWSER_UA + ' <script>alert(1)</script> "><svg onload=alert(1)> {{7*7}} \x00 \u00e2\u0080\u00ae'
    site = make_site()
    caplog.set_level(logging.DEBUG)
    page = raw_request(site.guard, "GET", "/ugc-guard/terms", [("host", "testserver"), ("user-agent", agent)])
    assert page.status == 200
    headers = [("host", "testserver"), ("user-agent", agent), ("cookie", page.headers["set-cookie"].split(";")[0])]
    token = hidden(page.body.decode(), "csrf_token")
    form = f"csrf_token={token}&terms_version=1&lang=en&next=/&birth_date=1990-05-17&accept_terms=yes&accept_licence=yes"
    accepted = raw_request(site.guard, "POST", "/ugc-guard/accept", [*headers, ("content-type", "application/x-www-form-urlencoded")],
                           form.encode())
    assert accepted.status == 303
    fields = [(key, None, None, value.encode()) for key, value in GRANTS.items()]
    body, content_type = multipart([("file", "a.jpg", "image/jpeg", jpeg((62, 46))), *fields])
    answer = raw_request(site.guard, "POST", "/upload", [*headers, ("content-type", content_type)], body)
    assert answer.status == 201
    ledger = Ledger(site.ledger_url, secret=SECRET)
    evidence = [entry.data.get("user_agent") for entry in ledger.entries(kinds=["terms_acceptance", "submission"]).items]
    ledger.close()
    assert len(evidence) == 2 and all(re.fullmatch(r"hmac-sha256:[0-9a-f]{64}", value or "") for value in evidence)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "script" not in logged and "svg" not in logged and "{{7*7}}" not in logged

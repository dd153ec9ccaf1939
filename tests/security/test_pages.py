"""The visitor pages' newer surfaces, attacked: the language chosen by ``?lang=`` / Accept-Language, the
day/month/year date of birth, guardian addresses and the e-mail sent to them, the campaign look
(colours, logo, templates) and Markdown terms. Every case asserts the exact answer: the status and
problem code, the field's message on the page, or the policy error line naming file and field.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_policy
from ugc_guard import PolicyError, load_policy
from ugc_guard.pages import GuardianMessage, catalog, render
from ugc_guard.pages.catalog import words
from ugc_guard.pages.markdown import render_markdown
from ugc_guard.pages.notifier import SmtpNotifier
from ugc_guard.policy.age import SmtpNotifier as SmtpSettings

from .conftest import Site, accept, cookie_header, raw_request

EN = words("en")
MINORS = {"age": {"guardian_minimum": 16}}
TWO_GUARDIANS = {"age": {"guardian_minimum": 16, "guardians_required": 2}}
TODAY = dt.date.today()
SEVENTEEN = f"{TODAY.year - 17}-01-01"  # 17 from 1 January on, 18 only next year
HTML_LANG = re.compile(r'<html lang="([^"]*)">')


def page_lang(text: str) -> str:
    match = HTML_LANG.search(text)
    assert match is not None
    return match.group(1)


def field_error(text: str, field: str) -> str | None:
    """The message shown under ``field`` (``<p id="<field>-error">``), None when there is none."""
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', text)
    return match.group(1) if match else None


def problem(answer: Any) -> tuple[int, str]:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return answer.status_code, answer.json()["code"]


def json_accept(client: Any, **fields: Any) -> Any:
    return client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, **fields}, headers={"accept": "application/json"})


# -- 1. language selection ----------------------------------------------------------------------

LANG_CASES = [
    # (?lang= as sent on the wire, Accept-Language, the page language)
    ("../../etc", None, "en"),
    ("..%2F..%2Fetc%2Fpasswd", None, "en"),
    ("en/../nl", None, "en"),
    ("nl%00", None, "en"),
    ("nl%00", "nl", "nl"),  # an unusable ?lang= falls through to the header
    ("EN", None, "en"),
    ("NL", None, "nl"),
    ("%20nl%20", None, "nl"),
    ("nl-NL", None, "en"),  # ?lang= takes a code of the terms exactly (any case); regions only through the header
    ("nl-NL", "nl-NL", "nl"),
    ("%C3%B1l", None, "en"),
    ("%EF%BD%8E%EF%BD%8C", None, "en"),  # fullwidth "ｎｌ"
    ("%FF%FE", None, "en"),  # not UTF-8
    ("*", None, "en"),
    (None, "*", "en"),
    (None, "NL-be;q=0.5, en;q=0.4", "nl"),
    (None, "en;q=garbage, nl", "nl"),  # an item with an unreadable q-value is skipped, not the header
    (None, "nl;q=nan, en;q=0.1", "en"),
    (None, "nl;q=0", "en"),
    (None, "nl;q=-1", "en"),
    (None, "en;q=0.1, nl;q=inf", "nl"),
    (None, "nl;q=1e999", "nl"),
    (None, "nl;q=", "en"),
    (None, ";;;,,,;q=1,", "en"),
    (None, "../../etc, nl", "nl"),
    (None, "x" * 10240, "en"),
    (None, ", ".join(["fr"] * 5000) + ", nl", "en"),  # only the first 20 items are read
    (None, "nl;" + "q=0.5;" * 2000, "en"),
    (None, "ñl, ｎｌ, \u0130n", "en"),
    (None, "nl\udcff", "en"),
]


@pytest.mark.parametrize(("query", "accept_language", "lang"), LANG_CASES)
@pytest.mark.parametrize("path", ["/ugc-guard/terms", "/ugc-guard/me"])
def test_page_language_is_always_one_of_the_terms(make_site: Callable[..., Site], path: str, query: str | None, accept_language: str | None,
                                                  lang: str) -> None:  # fmt: skip
    site = make_site()
    client = site.client()
    assert accept(client).status_code == 303
    headers = [("host", "testserver"), cookie_header(client)]
    if accept_language is not None:
        headers.append(("accept-language", accept_language.encode("utf-8", "surrogateescape").decode("latin-1")))
    target = path + ("" if query is None else f"?lang={query}")
    answer = raw_request(site.guard, "GET", target, headers)
    assert answer.status == 200, answer.body[:300]
    text = answer.body.decode()
    assert page_lang(text) == lang
    assert f'<strong lang="{lang}" aria-current="true">' in text  # the switch marks the language shown
    assert "passwd" not in text


def test_hostile_languages_read_no_file_and_grow_no_cache(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client = site.client()
    assert accept(client).status_code == 303
    client.get("/ugc-guard/terms?lang=nl")
    client.get("/ugc-guard/me?lang=nl")
    sizes = (catalog.translations.cache_info().currsize, render._environment.cache_info().currsize)
    for number in range(40):
        hostile = f"../../../../etc/passwd{number}"
        for path in ("/ugc-guard/terms", "/ugc-guard/me"):
            answer = client.get(path, params={"lang": hostile}, headers={"accept-language": f"{hostile}, zz-{number}"})
            assert answer.status_code == 200 and page_lang(answer.text) == "en"
    assert (catalog.translations.cache_info().currsize, render._environment.cache_info().currsize) == sizes
    assert catalog.catalog_languages() == frozenset({"en", "nl"})
    # called directly with a path, the catalog falls back to English instead of opening it
    assert catalog.gettext("../../../../etc/passwd", "me_title") == EN["me_title"]


@pytest.mark.parametrize(("next_url", "in_link"), [
    ("/gallery/1?x=1&y=2", "?lang=nl&amp;next=%2Fgallery%2F1%3Fx%3D1%26y%3D2"),
    ('/gallery/"><svg/onload=alert(1)>', "?lang=nl&amp;next=%2Fgallery%2F%22%3E%3Csvg%2Fonload%3Dalert%281%29%3E"),
    ("/gallery/'x'&lang=de", "?lang=nl&amp;next=%2Fgallery%2F%27x%27%26lang%3Dde"),
    ("/gallery/{{7*7}}", "?lang=nl&amp;next=%2Fgallery%2F%7B%7B7%2A7%7D%7D"),
])  # fmt: skip
def test_language_switch_links_carry_next_percent_encoded(make_site: Callable[..., Site], next_url: str, in_link: str) -> None:
    answer = make_site().client().get("/ugc-guard/terms", params={"next": next_url})
    assert answer.status_code == 200
    assert f'<a href="{in_link}" lang="nl" hreflang="nl">Nederlands</a>' in answer.text
    assert "<svg" not in answer.text


def test_a_language_babel_does_not_know_shows_dates_in_english(make_site: Callable[..., Site]) -> None:
    """``ae`` (Avestan) is an ISO 639-1 code the policy takes, with no catalog and no Babel date formats: English words and dates, never a 500."""
    texts = {"en": "terms.en.md", "nl": "terms.nl.md", "ae": "terms.en.md"}
    site = make_site({"terms": {"texts": texts}, "licence": {"texts": {**texts, "ae": "licence.en.md"}}})
    client = site.client()
    assert accept(client, lang="ae").status_code == 303
    for path in ("/ugc-guard/terms?lang=ae", "/ugc-guard/me?lang=ae"):
        answer = client.get(path)
        assert answer.status_code == 200, answer.text[:300]
        assert page_lang(answer.text) == "ae" and f" {TODAY.year}, " in answer.text  # "December 3, 2026, 3:14:02 AM UTC"
    assert catalog.gettext("en", "me_title", campaign="Test Campaign") in client.get("/ugc-guard/me?lang=ae").text


# -- 2. date of birth fields --------------------------------------------------------------------

FORMAT, IMPOSSIBLE, FUTURE, OLD, MISSING = (EN[f"err_birth-date-{name}"] for name in ("format", "impossible", "future", "implausible", "missing"))
DATES = [
    # (day, month, year, the message under the date of birth)
    (str(10**30), "5", "1990", FORMAT),
    ("17", str(10**30), "1990", FORMAT),
    ("17", "5", str(10**30), FORMAT),
    ("-1", "5", "1990", FORMAT),
    ("17", "-5", "1990", FORMAT),
    ("17", "5", "-990", FORMAT),
    ("+7", "5", "1990", FORMAT),
    ("١٢", "5", "1990", FORMAT),  # Arabic-Indic digits
    ("12", "٥", "1990", FORMAT),
    ("²", "5", "1990", FORMAT),  # a superscript: a digit to Python, not a number here
    ("１２", "5", "1990", FORMAT),  # fullwidth
    ("12", "5", "１９９０", FORMAT),
    ("1 2", "5", "1990", FORMAT),
    ("17", "5", "90", FORMAT),
    ("17", "5", "0", FORMAT),
    ("17", "5", "10000", FORMAT),
    ("0x1", "5", "1990", FORMAT),
    ("1e1", "5", "1990", FORMAT),
    ("17", "", "1990", FORMAT),  # a part missing
    ("", "", "1990", FORMAT),
    ("17", "5", "", FORMAT),
    ("", "", "", MISSING),
    ("17", "5", "0000", IMPOSSIBLE),
    ("0", "5", "1990", IMPOSSIBLE),
    ("17", "0", "1990", IMPOSSIBLE),
    ("32", "1", "1990", IMPOSSIBLE),
    ("17", "13", "1990", IMPOSSIBLE),
    ("29", "2", "1900", IMPOSSIBLE),  # no leap day in 1900
    ("29", "2", "2001", IMPOSSIBLE),
    ("31", "4", "1990", IMPOSSIBLE),
    ("17", "5", "9999", FUTURE),
    ("1", "1", str(TODAY.year + 1), FUTURE),
    ("17", "5", "1000", OLD),
    ("17", "5", "0001", OLD),
]


@pytest.mark.parametrize(("day", "month", "year", "message"), DATES)
def test_date_of_birth_parts_get_their_exact_message(make_site: Callable[..., Site], day: str, month: str, year: str, message: str) -> None:
    site = make_site()
    answer = accept(site.client(), birth_date="", birth_day=day, birth_month=month, birth_year=year)
    assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]
    assert field_error(answer.text, "birth_day") == message
    assert f'<li><a href="#birth_day">{message}</a></li>' in answer.text
    assert site.entries() == 0


@pytest.mark.parametrize(("day", "month", "year"), [
    (" 17 ", "\t5", "1990\n"),  # whitespace around each part is trimmed
    ("1\u00a0", "\u20035", "\u30001990"),  # Unicode spaces too
    ("07", "05", "1990"),
    ("29", "2", "2000"),  # a leap day in a year divisible by 400
    ("29", "2", "1996"),
])  # fmt: skip
def test_date_of_birth_parts_that_are_a_date(make_site: Callable[..., Site], day: str, month: str, year: str) -> None:
    site = make_site()
    assert accept(site.client(), birth_date="", birth_day=day, birth_month=month, birth_year=year).status_code == 303
    assert site.entries() == 2  # age result and acceptance


@pytest.mark.parametrize(("parts", "birth_date", "status", "message"), [
    ({"birth_day": "17", "birth_month": "5", "birth_year": "1990"}, "not a date", 303, None),  # any part given: the parts are the date
    ({"birth_day": "17", "birth_month": "5", "birth_year": "1990"}, f"{TODAY.year - 10}-01-01", 303, None),  # a minor's birth_date cannot override
    ({"birth_day": "17", "birth_month": "", "birth_year": ""}, "1990-05-17", 422, FORMAT),  # one part given: birth_date is ignored
    ({"birth_day": " ", "birth_month": "", "birth_year": ""}, "1990-05-17", 303, None),  # all parts blank: birth_date is the date
    ({"birth_day": "", "birth_month": "", "birth_year": ""}, "１９９０-05-17", 422, FORMAT),
    ({"birth_day": "", "birth_month": "", "birth_year": ""}, "1990-02-30", 422, IMPOSSIBLE),
])  # fmt: skip
def test_the_parts_win_over_birth_date(
    make_site: Callable[..., Site], parts: dict[str, str], birth_date: str, status: int, message: str | None
) -> None:
    site = make_site()
    answer = accept(site.client(), birth_date=birth_date, **parts)
    assert answer.status_code == status
    assert field_error(answer.text, "birth_day") == message


@pytest.mark.parametrize("field", ["birth_day", "birth_month", "birth_year", "birth_date"])
def test_a_date_part_given_twice_is_400(make_site: Callable[..., Site], field: str) -> None:
    site = make_site()
    client = site.client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ugc-guard/terms").text)
    assert token is not None
    body = (f"csrf_token={token.group(1)}&terms_version=1&accept_terms=yes&accept_licence=yes&birth_day=17&birth_month=5&birth_year=1990"
            f"&birth_date=1990-05-17&{field}=18")  # fmt: skip
    answer = client.post("/ugc-guard/accept", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert problem(answer) == (400, "invalid-request")
    assert answer.json()["detail"] == f"the form field {field!r} is given twice"
    assert site.entries() == 0


@pytest.mark.parametrize(("sent", "shown"), [
    ('"><script>alert(1)</script>', "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("' autofocus onfocus='alert(1)", "&#39; autofocus onfocus=&#39;alert(1)"),
    ("{{7*7}}", "{{7*7}}"),
    ("1" * 3000, "1" * 3000),
])  # fmt: skip
def test_date_parts_are_refilled_escaped(make_site: Callable[..., Site], sent: str, shown: str) -> None:
    answer = accept(make_site().client(), birth_date="", birth_day=sent, birth_month=sent, birth_year=sent)
    assert answer.status_code == 422 and field_error(answer.text, "birth_day") == FORMAT
    for part in ("day", "month", "year"):
        assert f'name="birth_{part}" class="{part}" value="{shown}"' in answer.text
    assert "<script>" not in answer.text and "onfocus='" not in answer.text


# -- 3. guardian addresses and the e-mail -------------------------------------------------------

BAD_ADDRESSES = [
    "mum@example.org\r\nBcc: evil@attacker.example",
    "mum@example.org\nBcc: evil@attacker.example",
    "mum@example.org\rCc: evil@attacker.example",
    "mum@example.org%0d%0aBcc:%20evil@attacker.example",
    "mum@example.org\u2028Bcc: evil@attacker.example",
    "mum@example.org\x00evil@attacker.example",
    "Bcc: evil@attacker.example",
    "mum@example.org, evil@attacker.example",
    "mum@example.org; evil@attacker.example",
    "mum@example.org evil@attacker.example",
    '"Mum" <mum@example.org>',
    "<evil@attacker.example>",
    "mum@example.org>",
    "mum(evil@attacker.example)@example.org",
    '"mum@example.org"@attacker.example',
    "mum@[127.0.0.1]",
    "mum@localhost",
    "mum@" + "a" * 250 + ".example",
    "mum@" + ".".join(["b" * 63] * 5),
    "m" * 70000,
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
@pytest.mark.parametrize("field", ["guardian_email", "guardian_email_2"])
def test_hostile_guardian_addresses_are_refused_on_the_form(make_site: Callable[..., Site], address: str, field: str) -> None:
    site = make_site(TWO_GUARDIANS)
    fields = {"guardian_email": "dad@example.org", "guardian_email_2": "mum@example.org", field: address}
    answer = accept(site.client(), birth_date=SEVENTEEN, **fields)
    if len(address) > 60000:  # past the 64 KiB form limit: refused unread
        assert problem(answer) == (413, "form-too-large")
    else:
        assert answer.status_code == 400 and field_error(answer.text, field) == EN["err_guardian_email"]
        assert "<evil" not in answer.text and not any("evil" in value for value in answer.headers.values())
    assert site.entries() == 0 and site.outbox.messages == []


@pytest.mark.parametrize("address", BAD_ADDRESSES[:-1])
def test_hostile_guardian_addresses_are_refused_by_json(make_site: Callable[..., Site], address: str) -> None:
    site = make_site(MINORS)
    answer = json_accept(site.client(), birth_date=SEVENTEEN, guardian_email=address)
    assert problem(answer) == (400, "invalid-request")
    assert answer.json()["detail"] == "guardian_email is not a valid e-mail address"
    assert site.entries() == 0 and site.outbox.messages == []


def test_a_guardian_address_list_in_json_sends_only_as_many_as_required(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    answer = json_accept(site.client(), birth_date=SEVENTEEN, guardian_emails=["mum@example.org", "evil@attacker.example", "x@attacker.example"])
    assert answer.status_code == 201
    assert [message.to for message in site.outbox.messages] == ["mum@example.org"]


@pytest.mark.parametrize(("first", "second"), [
    ("mum@example.org", "MUM@EXAMPLE.ORG"),
    ("mum@example.org", " mum@example.org\r\n"),
    ("mum@bücher.example", "mum@xn--bcher-kva.example"),  # one domain, as Unicode and as punycode
    ("mum@BÜCHER.example", "MUM@bücher.EXAMPLE"),
    ("mum@ｅｘａｍｐｌｅ.org", "mum@example.org"),  # fullwidth letters fold to ASCII (IDNA)
    ("mum@example.org", "mum+2@example.org"),  # one mailbox, a +tag (RFC 5233)
    ("mum.smith@gmail.com", "mumsmith+dad@googlemail.com"),  # Gmail ignores dots and has two names
])  # fmt: skip
def test_two_guardian_addresses_of_one_mailbox_are_refused(make_site: Callable[..., Site], first: str, second: str) -> None:
    site = make_site(TWO_GUARDIANS)
    answer = json_accept(site.client(), birth_date=SEVENTEEN, guardian_emails=[first, second])
    assert problem(answer) == (400, "invalid-request")
    assert answer.json()["detail"] == "the guardian e-mail addresses must differ"
    page = accept(site.client(), birth_date=SEVENTEEN, guardian_email=first, guardian_email_2=second)
    assert page.status_code == 400 and field_error(page.text, "guardian_email_2") == EN["err_guardian_distinct"]
    assert site.entries() == 0 and site.outbox.messages == []


SMTP = SmtpNotifier(SmtpSettings(host="mail.example", sender="gate@example.org"))


def sent_mail(message: GuardianMessage) -> Any:
    """The guardian e-mail as it would go on the wire, parsed back."""
    return message_from_bytes(SMTP.build(message).as_bytes(policy=email_policy.SMTPUTF8), policy=email_policy.default)


@pytest.mark.parametrize(("given", "to"), [
    ("mum@example.org\r\n", "mum@example.org"),
    ("  Mum@Example.ORG ", "Mum@example.org"),
    ("mum@xn--bcher-kva.example", "mum@bücher.example"),
    ("müm@bücher.example", "müm@bücher.example"),
])  # fmt: skip
def test_the_guardian_mail_has_one_recipient_and_no_injected_header(make_site: Callable[..., Site], given: str, to: str) -> None:
    site = make_site(MINORS)
    assert accept(site.client(), birth_date=SEVENTEEN, guardian_email=given).status_code == 303
    [message] = site.outbox.messages
    assert message.to == to
    mail = sent_mail(message)
    assert sorted(mail.keys()) == ["Content-Transfer-Encoding", "Content-Type", "From", "MIME-Version", "Subject", "To"]
    assert mail["To"] == to and mail["From"] == "gate@example.org"
    assert mail["Subject"] == "Please confirm participation in Test Campaign"
    assert mail.get_content_type() == "text/plain"  # words only: nothing in the body is markup to escape
    assert message.link in mail.get_content() and "\nBcc" not in mail.get_content()


@pytest.mark.parametrize("name", ["Summer\r\nBcc: evil@attacker.example", "Summer\nShow", "Summer\u2028Show <b>x</b>"])
def test_a_campaign_name_with_line_breaks_cannot_add_a_header_or_stop_the_mail(name: str) -> None:
    message = GuardianMessage("mum@example.org", "https://testserver/ugc-guard/guardian/confirm?token=t", name, "en", "2026-12-03T10:00:00+00:00")
    mail = sent_mail(message)
    assert mail.get_all("Bcc") is None and mail.get_all("To") == ["mum@example.org"]
    assert mail["Subject"] == "Please confirm participation in " + " ".join(name.split())
    assert mail.get_content_type() == "text/plain"


# -- 4. the campaign look -----------------------------------------------------------------------

SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8" onload="alert(1)"><script>alert(2)</script>'
              b'<rect width="8" height="8" fill="#123"/></svg>')  # fmt: skip


def load_error(policy_file: Callable[..., Path], look: dict[str, Any]) -> str:
    with pytest.raises(PolicyError) as raised:
        load_policy(policy_file({"look": look}))
    message = str(raised.value)
    assert "\n" not in message.strip() and "Traceback" not in message
    return message


@pytest.mark.parametrize(("field", "value"), [
    ("primary", "red;} body{background:url(//evil.example)"),
    ("primary", "#0b4f9c;} body{background:url(//evil.example)}"),
    ("text", "#111</style><script>alert(1)</script>"),
    ("background", "#fff;background-image:url(https://evil.example/x)"),
    ("primary", "#0b4f9c\n"),
    ("primary", "\n#0b4f9c"),
    ("primary", "#0b4f9c "),
    ("primary", "#0b4f9cc"),
    ("primary", "expression(alert(1))"),
    ("primary", "var(--x)"),
    ("primary", "#０b4f9c"),
])  # fmt: skip
def test_colours_that_try_css_injection_are_refused_at_load(policy_file: Callable[..., Path], field: str, value: str) -> None:
    message = load_error(policy_file, {"colours": {field: value}})
    assert message.endswith(f"policy.yaml: look.colours.{field}: {value!r} is not a hex colour; write it as #rrggbb, e.g. #0b4f9c")


NOT_A_LOGO_URL = "is not a logo URL: write https://host/path (an IDN host as punycode, no spaces) or a path on the site such as /static/logo.svg"


@pytest.mark.parametrize(("logo", "message"), [
    ("../../etc/passwd", "/etc/passwd must be a .jpeg, .jpg, .png, .svg, .webp file"),
    ("javascript:alert(1)", "javascript:alert(1) must be a .jpeg, .jpg, .png, .svg, .webp file"),
    ("JaVaScRiPt:alert(1)//x.svg", "cannot be read (No such file or directory); fix the path (relative to the policy file)"),
    ("data:text/html,<script>alert(1)</script>", "must be a .jpeg, .jpg, .png, .svg, .webp file"),
    ("http://cdn.example/logo.png", f"look.logo: 'http://cdn.example/logo.png' {NOT_A_LOGO_URL}"),
    ("//evil.example/logo.png", f"look.logo: '//evil.example/logo.png' {NOT_A_LOGO_URL}"),
    ("/\\evil.example/logo.png", f"look.logo: '/\\\\evil.example/logo.png' {NOT_A_LOGO_URL}"),
    ("https://cdn.example;script-src *", f"look.logo: 'https://cdn.example;script-src *' {NOT_A_LOGO_URL}"),
    ("https://cdn.example 'unsafe-inline'/x.png", f"look.logo: \"https://cdn.example 'unsafe-inline'/x.png\" {NOT_A_LOGO_URL}"),
    ("https://cdn.example/x.png\r\nSet-Cookie: a=1", f"look.logo: 'https://cdn.example/x.png\\r\\nSet-Cookie: a=1' {NOT_A_LOGO_URL}"),
    ("https://bücher.example/logo.png", f"look.logo: 'https://bücher.example/logo.png' {NOT_A_LOGO_URL}"),
    ("https://user:pw@cdn.example/logo.png", f"look.logo: 'https://user:pw@cdn.example/logo.png' {NOT_A_LOGO_URL}"),
    ("https://", f"look.logo: 'https://' {NOT_A_LOGO_URL}"),
    ("/static/logo one.png", f"look.logo: '/static/logo one.png' {NOT_A_LOGO_URL}"),
    ("", "look.logo: expected an https:// URL, a path on the site such as /static/logo.svg, or an image file next to the policy"),
])  # fmt: skip
def test_logos_that_are_no_safe_image_are_refused_at_load(policy_file: Callable[..., Path], logo: str, message: str) -> None:
    assert message in load_error(policy_file, {"logo": logo})


@pytest.mark.parametrize(("logo", "img_src"), [
    ("https://cdn.example/logo.png", "img-src 'self' https://cdn.example;"),
    ("https://xn--bcher-kva.example:8443/a/logo.png?v=1", "img-src 'self' https://xn--bcher-kva.example:8443;"),
    ("/static/logo.png", "img-src 'self';"),
    ("data:image/svg+xml,<svg onload=alert(1)>", "img-src 'self' data:;"),
])  # fmt: skip
def test_a_logo_url_joins_only_img_src(make_site: Callable[..., Site], logo: str, img_src: str) -> None:
    answer = make_site({"look": {"logo": logo}}).client().get("/ugc-guard/terms")
    assert answer.status_code == 200
    csp = answer.headers["content-security-policy"]
    assert csp == f"default-src 'none'; style-src 'unsafe-inline'; {img_src} form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    assert "<svg" not in answer.text and "onload=" not in answer.text.replace("&lt;svg onload=alert(1)&gt;", "")


def test_an_svg_logo_with_script_is_an_image_under_a_csp_without_script(make_site: Callable[..., Site], tmp_path: Path) -> None:
    """A file next to the policy is inlined as ``data:`` in ``<img>``: an image's scripts never run, and the page CSP has no ``script-src`` at all."""
    logo = tmp_path / "logo.svg"
    logo.write_bytes(SVG_SCRIPT)
    site = make_site({"look": {"logo": "../logo.svg", "logo_alt": '" onerror="alert(3)'}})
    client = site.client()
    for path in ("/ugc-guard/terms", "/ugc-guard/me"):
        answer = client.get(path)
        assert answer.status_code in (200, 401)
        assert f'<img src="data:image/svg+xml;base64,{base64.b64encode(SVG_SCRIPT).decode()}" alt="&#34; onerror=&#34;alert(3)">' in answer.text
        assert "<script" not in answer.text and "onload" not in answer.text
        csp = answer.headers["content-security-policy"]
        assert "script-src" not in csp and csp.startswith("default-src 'none';") and "img-src 'self' data:;" in csp


def test_a_look_name_is_text_on_every_page(make_site: Callable[..., Site]) -> None:
    site = make_site({**MINORS, "look": {"name": "<script>alert(1)</script>{{7*7}}"}})
    client = site.client()
    answer = accept(client, birth_date=f"{TODAY.year - 10}-01-01")  # the under-age page names the site in its way back
    assert answer.status_code == 403
    for text in (answer.text, client.get("/ugc-guard/terms").text):
        assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in text


def test_a_policy_with_a_hostile_look_never_500s_at_request_time(make_site: Callable[..., Site], tmp_path: Path) -> None:
    """What the look allows (an https logo with query and port, an SVG file, a templates folder) renders on every page."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "_site_footer.html").write_text("<footer id=mine>{{ lang }}</footer>")
    site = make_site({**MINORS, "look": {"logo": "https://cdn.example:8443/l.png?a=1&b='x'", "templates": str(folder)}})
    client = site.client()
    assert accept(client, birth_date=SEVENTEEN, guardian_email="mum@example.org").status_code == 303
    for answer in (client.get("/ugc-guard/terms?lang=nl"), client.get("/ugc-guard/me"), site.client().get(site.outbox.path())):
        assert answer.status_code == 200, answer.text[:300]
        assert "img-src 'self' https://cdn.example:8443;" in answer.headers["content-security-policy"]
        assert 'src="https://cdn.example:8443/l.png?a=1&amp;b=&#39;x&#39;"' in answer.text


# -- 5. Markdown terms --------------------------------------------------------------------------

HOSTILE_LINKS = [
    "<javascript:alert(1)>",
    "<JaVaScRiPt:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,alert(1)>",
    "<DATA:text/html;base64,PHNjcmlwdD4=>",
    "<file:///etc/passwd>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[a][r]\n\n[r]: <VBScript:msgbox(1)>",
    "[a][r]\n\n[r]: data:text/html,alert(1) 'title'",
    "[a]\n\n[a]: JAVASCRIPT:alert(1)",
    "[a](&#106;avascript:alert(1))",
    "[a](&#x6A;avascript:alert(1))",
    "[a](java&#x73;cript:alert(1))",
    "[a](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[a](javascript&colon;alert(1))",
    "[a](<javascript:alert(1)>)",
    "[a]( javascript:alert(1))",
    "[a](\u0001javascript:alert(1))",
    "[a](\tjavascript:alert(1))",
    "[a](DATA:text/html,alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD4=)",
    "[a](vbscript:msgbox(1))",
    "[a](file:///etc/passwd)",
]


@pytest.mark.parametrize("source", HOSTILE_LINKS)
def test_markdown_never_links_a_script_or_data_scheme(source: str) -> None:
    html = str(render_markdown(source))
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == [] and "<script" not in html, html


@pytest.mark.parametrize(("source", "href"), [
    ("[a](%6Aavascript:alert(1))", "%6Aavascript:alert(1)"),  # percent-encoded: a relative path, no scheme
    ("[a](java\u0000script:alert(1))", "java%EF%BF%BDscript:alert(1)"),  # NUL becomes U+FFFD: no scheme either
    ("<https://example.org/faq>", "https://example.org/faq"),
    ("[a][r]\n\n[r]: https://example.org/faq", "https://example.org/faq"),
])  # fmt: skip
def test_markdown_links_that_stay_are_no_script(source: str, href: str) -> None:
    html = str(render_markdown(source))
    assert re.findall(r'<a href="([^"]*)" rel="noopener noreferrer">', html) == [href]


@pytest.mark.parametrize(("name", "source"), [
    ("quotes 20000 deep", ">" * 20000 + " deep"),
    ("lists 20000 deep", "".join("  " * depth + "- x\n" for depth in range(2000)) + "- " * 20000 + "x"),
    ("quoted lists", "> - " * 10000 + "x"),
    ("brackets", "[" * 30000 + "x" + "]" * 30000),
    ("emphasis", "*" * 30000 + "x" + "_" * 30000),
    ("backticks", "`" * 30000),
    ("links", "[a](https://example.org/" + "(" * 10000 + ")" * 10000 + ")"),
    ("entities", "&#106;" * 20000),
    ("table", "| a |\n|---|\n" + "| x |\n" * 5000),
])  # fmt: skip
def test_huge_and_nested_terms_render_on_the_page(make_site: Callable[..., Site], tmp_path: Path, name: str, source: str) -> None:
    terms = tmp_path / f"hostile-{name.replace(' ', '-')}.md"
    terms.write_text(source + "\n\nEnd of terms.\n", encoding="utf-8")
    site = make_site({"terms": {"texts": {"en": str(terms), "nl": "terms.nl.md"}}})
    answer = site.client().get("/ugc-guard/terms")
    assert answer.status_code == 200, name
    assert "End of terms." in answer.text and "<script" not in answer.text


@pytest.mark.parametrize(("source", "deepest"), [
    (">" * 20 + " deepest words\n\nafter", "deepest words"),
    (">" * 20000 + " deepest words", "deepest words"),
    ("".join("  " * depth + f"- level{depth}\n" for depth in range(10)) + "\nafter", "level9"),
    ("".join("   " * depth + f"1. level{depth}\n" for depth in range(10)) + "\nafter", "level9"),
    ("> - " * 10 + "deepest words", "deepest words"),
])  # fmt: skip
def test_a_text_nested_past_what_markdown_shows_is_shown_whole_as_text(source: str, deepest: str) -> None:
    """markdown-it drops what nests past 20 levels; the ledger records the hash of the whole text as shown, so all of it is shown."""
    html = str(render_markdown(source + "\n\n<b>x</b>"))
    assert html.startswith('<div class="plain" style="white-space:pre-wrap">') and html.endswith("&lt;b&gt;x&lt;/b&gt;</div>")
    assert deepest in html and ("after" in html) == ("after" in source)


@pytest.mark.parametrize("source", [
    ">" * 19 + " deepest words",
    "".join("  " * depth + f"- level{depth}\n" for depth in range(9)),
    "".join("   " * depth + f"1. level{depth}\n" for depth in range(9)),
])  # fmt: skip
def test_nesting_markdown_shows_whole_stays_markdown(source: str) -> None:
    html = str(render_markdown(source))
    assert not html.startswith("<div") and ("deepest words" in html or "level8" in html)


def test_the_policy_check_line_for_a_bad_logo_names_file_and_field(tmp_path: Path) -> None:
    path = write_policy(tmp_path / "p", {"look": {"logo": "http://cdn.example/logo.png"}})
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value) == f"{path}: look.logo: 'http://cdn.example/logo.png' {NOT_A_LOGO_URL}"

"""Age and guardian: birth dates at every edge and in every spelling, bands that cannot be talked up, and
guardian consent that must come from someone else, through a link that gives no oracle."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest

from ugc_guard.ledger import Ledger

from .conftest import GRANTS, Site, accept, jpeg

MINORS = {"age": {"guardian_minimum": 16}}
CAMPAIGN = "test-campaign"
TODAY = dt.date.today()


def years_ago(years: int, days: int = 0) -> str:
    """The birth date of someone who turns ``years`` today (plus ``days`` later), as YYYY-MM-DD."""
    try:
        birthday = TODAY.replace(year=TODAY.year - years)
    except ValueError:  # today is 29 February: that birthday is 28 February in a common year
        birthday = dt.date(TODAY.year - years, 2, 28)
    return (birthday + dt.timedelta(days=days)).isoformat()


SEVENTEEN = years_ago(17, days=-30)


def json_accept(client: Any, **fields: Any) -> Any:
    return client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, **fields}, headers={"accept": "application/json"})


def upload(client: Any) -> Any:
    return client.post("/upload", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers={"accept": "application/json"})


def kinds(site: Site) -> list[str]:
    return [entry.kind for entry in Ledger(site.ledger_url).entries(campaign=CAMPAIGN, limit=1000).items]


# -- the age edge -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "birth_date", "status", "code", "band"),
    [
        ({}, years_ago(18), 201, None, "18+"),  # 18 today
        ({}, years_ago(18, days=1), 403, "age-below-minimum", None),  # 18 tomorrow, no minors here
        (MINORS, years_ago(18, days=1), 201, None, "16-17"),  # 18 tomorrow: a minor with a guardian
        (MINORS, years_ago(16), 201, None, "16-17"),
        (MINORS, years_ago(16, days=1), 403, "age-below-minimum", None),  # 16 tomorrow
        (MINORS, years_ago(120), 201, None, "18+"),
        (MINORS, years_ago(121), 422, "birth-date-invalid", None),
    ],
)
def test_age_edges(make_site: Callable[..., Site], policy: dict[str, Any], birth_date: str, status: int, code: str | None, band: str | None) -> None:
    site = make_site(policy)
    client = site.client()
    answer = json_accept(client, birth_date=birth_date, guardian_email="parent@example.org")
    assert answer.status_code == status, (birth_date, answer.text)
    if code is not None:
        assert answer.json()["code"] == code
        assert site.entries() == 0  # a refused person leaves nothing
    else:
        assert answer.json()["status"]["age_band"] == band
        assert kinds(site)[:2] == ["age_result", "terms_acceptance"]
    assert site.reached() == 0


def leap_years(low: int, high: int) -> list[int]:
    return [year for year in range(low, high + 1) if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)]


@pytest.mark.parametrize("year", leap_years(TODAY.year - 20, TODAY.year - 15))
def test_leap_day_birthdays(make_site: Callable[..., Site], year: int) -> None:
    age = TODAY.year - year - ((TODAY.month, TODAY.day) < (3, 1))  # a 29 February birthday counts from 1 March
    site = make_site(MINORS)
    answer = json_accept(site.client(), birth_date=f"{year}-02-29", guardian_email="parent@example.org")
    if age >= 18:
        assert answer.status_code == 201 and answer.json()["status"]["age_band"] == "18+"
    elif age >= 16:
        assert answer.status_code == 201 and answer.json()["status"]["age_band"] == "16-17"
    else:
        assert (answer.status_code, answer.json()["code"]) == (403, "age-below-minimum")


@pytest.mark.parametrize(
    "birth_date",
    [
        (TODAY + dt.timedelta(days=1)).isoformat(), "9999-12-31", "0000-01-01", "1990-02-30", "1990-02-29", "2001-13-01", "2001-00-10",
        "1990-04-31", "١٩٩٠-٠٥-١٧", "１９９０-０５-１７", "۱۹۹۰-۰۵-۱۷", "5750-01-01", "1410-01-01", "1582-10-10", "H02-05-17",
        "平成2年5月17日", "1990-05-17T00:00:00Z", "+1990-05-17", "-1990-05-17", "1990-5-17", "90-05-17", "1990/05/17", "17-05-1990",
        "1990-W20-4", "1990-137", "1990-05-17\n1990-05-18", "1990-05-17 1990", "19900517", "", " ", "\u00001990-05-17", "1990-05-1７",
    ],
)  # fmt: skip
def test_birth_dates_that_are_no_gregorian_past_day(make_site: Callable[..., Site], birth_date: str) -> None:
    site = make_site(MINORS)
    client = site.client()
    answer = json_accept(client, birth_date=birth_date, guardian_email="parent@example.org")
    assert (answer.status_code, answer.json()["code"]) == (422, "birth-date-invalid"), birth_date
    if "\x00" not in birth_date:
        assert accept(client, birth_date=birth_date).status_code == 422
    assert site.entries() == 0 and site.reached() == 0


@pytest.mark.parametrize("value", [19900517, 1990.5, ["1990-05-17"], {"y": 1990}, True])
def test_birth_date_that_is_not_text(make_site: Callable[..., Site], value: Any) -> None:
    site = make_site()
    answer = json_accept(site.client(), birth_date=value)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid-request")
    assert site.entries() == 0


# -- talking the band up ------------------------------------------------------------------------


def test_minor_cannot_talk_the_band_up(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    minor = site.client()
    assert accept(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org").status_code == 303
    before = site.entries()
    answer = json_accept(minor, birth_date="1990-05-17")
    assert (answer.status_code, answer.json()["code"]) == (409, "age-redeclared")
    page = accept(minor, birth_date="1990-05-17")
    assert page.status_code == 409 and "(16-17)" in page.text and "cannot be raised" in page.text
    assert site.entries() == before and len(site.outbox.messages) == 1
    assert minor.get("/ugc-guard/status").json()["age_band"] == "16-17"
    assert (upload(minor).status_code, upload(minor).json()["code"]) == (403, "guardian-consent-pending")
    assert site.reached() == 0


def test_talk_up_refused_after_the_guardian_confirmed_too(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    minor = site.client()
    accept(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org")
    assert confirm(site).status_code == 200
    answer = json_accept(minor, birth_date="2000-01-01")
    assert (answer.status_code, answer.json()["code"]) == (409, "age-redeclared")
    assert upload(minor).status_code == 201  # the confirmed consent still stands


def test_age_band_answer_cannot_be_raised(make_site: Callable[..., Site]) -> None:
    site = make_site({"age": {"guardian_minimum": 16, "method": "age_band"}})
    minor = site.client()
    assert json_accept(minor, age_band="16-17", guardian_email="parent@example.org").status_code == 201
    before = site.entries()
    answer = json_accept(minor, age_band="18+")
    assert (answer.status_code, answer.json()["code"]) == (409, "age-redeclared")
    assert site.entries() == before


def test_too_young_then_adult_from_the_same_subject(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    child = site.client()
    refused = accept(child, birth_date=years_ago(14))
    assert refused.status_code == 403 and site.entries() == 0
    answer = json_accept(child, birth_date="1990-05-17")
    assert (answer.status_code, answer.json()["code"]) == (409, "age-redeclared")
    assert site.entries() == 0 and upload(child).json()["code"] == "terms-not-accepted"


def test_a_lower_band_is_recorded(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    person = site.client()
    assert accept(person).status_code == 303
    assert accept(person, birth_date=SEVENTEEN, guardian_email="parent@example.org").status_code == 303
    assert person.get("/ugc-guard/status").json()["age_band"] == "16-17"
    assert upload(person).json()["code"] == "guardian-consent-pending"
    too_young = json_accept(person, birth_date=years_ago(10))
    assert (too_young.status_code, too_young.json()["code"]) == (403, "age-below-minimum")
    assert person.get("/ugc-guard/status").json()["age_band"] == "under-16"
    assert upload(person).json()["code"] == "age-below-minimum" and site.reached() == 0


# -- guardian consent ---------------------------------------------------------------------------


def confirm(site: Site, index: int = -1, client: Any = None, **fields: str) -> Any:
    guardian = client or site.client(headers={"user-agent": "Mozilla/5.0 (iPhone) the parent's phone"})
    page = guardian.get(site.outbox.path(index))
    assert page.status_code == 200, page.text
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    data = {"csrf_token": match.group(1), "token": site.outbox.token(index), "guardian_name": "Sam Parent", "relationship": "parent",
            "accept_terms": "yes", "accept_licence": "yes", **fields}  # fmt: skip
    return guardian.post("/ugc-guard/guardian/confirm", data=data)


def test_minor_uploading_before_confirmation(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    minor = site.client()
    accept(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org")
    before = site.entries()
    answer = upload(minor)
    assert (answer.status_code, answer.json()["code"]) == (403, "guardian-consent-pending")
    assert site.reached() == 0 and site.entries() == before
    browser = minor.post("/upload", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers={"accept": "text/html"},
                         follow_redirects=False)  # fmt: skip
    assert browser.status_code == 303 and browser.headers["location"].startswith("/ugc-guard/terms")
    assert confirm(site).status_code == 200
    assert upload(minor).status_code == 201 and site.reached() == 1
    assert kinds(site).count("submission") == 1


def test_guardian_link_opened_with_the_minors_cookie(make_site: Callable[..., Site]) -> None:
    site = make_site(MINORS)
    minor = site.client()
    accept(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org")
    before = site.entries()
    page = minor.get(site.outbox.path())
    assert page.status_code == 403 and "own browser session" in page.text
    api = minor.get(site.outbox.path(), headers={"accept": "application/json"})
    assert (api.status_code, api.json()["code"]) == (403, "guardian-self-confirm")
    # the confirmation form filled elsewhere and posted with the minor's cookie
    import re

    form = site.client().get(site.outbox.path())
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"csrf_token": token.group(1), "token": site.outbox.token(), "guardian_name": "Mum", "relationship": "parent",
            "accept_terms": "yes", "accept_licence": "yes"}  # fmt: skip
    posted = minor.post("/ugc-guard/guardian/confirm", data=data, headers={"accept": "application/json"})
    assert (posted.status_code, posted.json()["code"]) == (403, "guardian-self-confirm")
    assert minor.post("/ugc-guard/guardian/confirm", data=data).status_code == 403  # the browser gets the page
    assert site.entries() == before and upload(minor).json()["code"] == "guardian-consent-pending"
    assert confirm(site).status_code == 200  # the real guardian, elsewhere


@pytest.mark.parametrize(
    ("own", "guardian"),
    [
        ("kid@example.org", "kid@example.org"), ("kid@example.org", "KID@Example.ORG"), ("kid@example.org", "kid+parent@example.org"),
        ("kid@example.org", " kid@example.org "), ("kid.name@gmail.com", "kidname+mum@googlemail.com"),
    ],
)  # fmt: skip
def test_guardian_address_equal_to_the_minors_own(make_site: Callable[..., Site], own: str, guardian: str) -> None:
    site = make_site(MINORS)
    client = site.client()
    answer = json_accept(client, birth_date=SEVENTEEN, guardian_email=guardian, own_email=own)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid-request")
    assert "own address" in answer.json()["detail"]
    page = accept(client, birth_date=SEVENTEEN, guardian_email=guardian, own_email=own)
    assert page.status_code == 400 and "must not be your own" in page.text
    assert site.entries() == 0 and site.outbox.messages == []


def test_two_guardians_one_of_them_the_minor(make_site: Callable[..., Site]) -> None:
    site = make_site({"age": {"guardian_minimum": 16, "guardians_required": 2}})
    answer = json_accept(site.client(), birth_date=SEVENTEEN, guardian_emails=["mum@example.org", "kid@example.org"], own_email="kid@example.org")
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid-request")
    assert site.entries() == 0 and site.outbox.messages == []


def test_token_answers_give_no_oracle(make_site: Callable[..., Site]) -> None:
    site = make_site({"age": {"guardian_minimum": 16, "guardian_token_ttl": "PT1S"}})
    other = make_site({"campaign": {"id": "other-campaign", "hosts": ["other.test"]}, "age": {"guardian_minimum": 16}})
    accept(site.client(), birth_date=SEVENTEEN, guardian_email="a@example.org")
    expiring = site.outbox.path()
    time.sleep(1.1)
    live = make_site(MINORS)  # the same campaign with the default lifetime, on the same ledger
    minor = live.client()
    accept(minor, birth_date=SEVENTEEN, guardian_email="b@example.org")
    used_path = live.outbox.path()
    assert confirm(live).status_code == 200
    accept(minor, birth_date=SEVENTEEN, guardian_email="c@example.org")
    superseded = live.outbox.path()
    accept(minor, birth_date=SEVENTEEN, guardian_email="d@example.org")
    fresh = live.outbox.path()
    before = live.entries()
    guesses = {
        "expired": (live, expiring), "used": (live, used_path), "superseded": (live, superseded),
        "other campaign": (other, fresh), "guessed": (live, "/ugc-guard/guardian/confirm?token=" + secrets.token_urlsafe(32)),
        "short": (live, "/ugc-guard/guardian/confirm?token=abc"), "empty": (live, "/ugc-guard/guardian/confirm?token="),
        "none": (live, "/ugc-guard/guardian/confirm"), "twice": (live, fresh + "&token=" + secrets.token_urlsafe(32)),
    }  # fmt: skip
    bodies = set()
    for name, (where, path) in guesses.items():
        client = where.client(host="other.test" if where is other else "testserver")
        answer = client.get(path, headers={"accept": "application/json"})
        assert (answer.status_code, answer.json()["code"]) == (410, "guardian-token-invalid"), name
        bodies.add(answer.content)
        page = client.get(path)
        assert page.status_code == 410 and "not valid" in page.text, name
        posted = client.post("/ugc-guard/guardian/confirm", data={"token": path.partition("token=")[2], "csrf_token": "x"},
                             headers={"accept": "application/json"})  # fmt: skip
        assert (posted.status_code, posted.json()["code"]) == (410, "guardian-token-invalid"), name
        bodies.add(posted.content)
    assert len(bodies) == 1  # one answer for every way a link can be wrong
    assert live.entries() == before and other.entries() == before
    assert confirm(live).status_code == 200  # the live link still works after all that

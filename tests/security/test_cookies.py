"""Cookies: a subject cookie that is forged, foreign, truncated, oversized, doubled, signed with another
secret or left by an erased subject is no subject; form tokens never work across subjects."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest

from ugc_guard.ledger import Ledger
from ugc_guard.subject import COOKIE_NAME, SubjectCookie

from .conftest import BROWSER_UA, GRANTS, RAW_GRANTS, Site, accept, jpeg, raw_request

CAMPAIGN = "test-campaign"


def upload(client: Any) -> Any:
    return client.post("/upload", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers={"accept": "application/json"})


def raw_upload(site: Site, *cookies: str) -> Any:
    headers = [("host", "testserver"), ("user-agent", BROWSER_UA), ("content-type", "image/jpeg"), *RAW_GRANTS.items()]
    headers += [("cookie", cookie) for cookie in cookies]
    return raw_request(site.guard, "PUT", "/api/selfies/1", headers, jpeg())


def accepted(site: Site) -> tuple[Any, str]:
    """A client whose subject accepted the terms, and its cookie value."""
    client = site.client()
    assert accept(client).status_code == 303
    return client, client.cookies[COOKIE_NAME]


def refused_as_nobody(site: Site, *cookies: str) -> None:
    """An upload with these Cookie headers is refused as from someone who accepted nothing; nothing reached or recorded."""
    before, reached = site.entries(), site.reached()
    reply = raw_upload(site, *cookies)
    assert (reply.status, reply.code) == (403, "terms-not-accepted"), cookies
    assert site.reached() == reached and site.entries() == before


def test_the_real_cookie_works(make_site: Callable[..., Site]) -> None:
    site = make_site()
    _, value = accepted(site)
    before = site.entries()
    reply = raw_upload(site, f"{COOKIE_NAME}={value}")
    assert reply.status == 201 and site.reached() == 1 and site.entries() > before


@pytest.mark.parametrize(
    "forge",
    [
        # one signature character changed (the first: the last one's low bits are base64 padding a decoder may ignore)
        lambda value: value.split(".")[0] + "." + "AB"[value.split(".")[1][0] == "A"] + value.split(".")[1][1:],
        lambda value: ("xy"[value[0] == "x"] + value.split(".")[0][1:]) + "." + value.split(".")[1],  # another subject id, same signature
        lambda value: value.split(".")[0],  # no signature
        lambda value: value.split(".")[0] + ".",  # empty signature
        lambda value: value.split(".")[0] + "." + value.split(".")[1].upper(),
        lambda value: value + "." + value.split(".")[1],  # signature twice
        lambda value: value.replace(".", ":"),
        lambda value: '"' + value.split(".")[0] + '"',
        lambda value: "",
        lambda value: ".",
        lambda value: "%00" + value,
    ],
)
def test_forged_signature_is_no_subject(make_site: Callable[..., Site], forge: Callable[[str], str]) -> None:
    site = make_site()
    _, value = accepted(site)
    refused_as_nobody(site, f"{COOKIE_NAME}={forge(value)}")


@pytest.mark.parametrize("cut", [1, 5, 20, 43])
def test_truncated_cookie_is_no_subject(make_site: Callable[..., Site], cut: int) -> None:
    site = make_site()
    _, value = accepted(site)
    refused_as_nobody(site, f"{COOKIE_NAME}={value[:-cut]}")


def test_oversized_cookie_is_no_subject(make_site: Callable[..., Site]) -> None:
    site = make_site()
    _, value = accepted(site)
    refused_as_nobody(site, f"{COOKIE_NAME}={value}{'A' * 5000}")
    refused_as_nobody(site, f"{COOKIE_NAME}={'A' * 5000}.{value}")
    # other cookies of any size around the real one change nothing
    crowd = "; ".join(f"c{i}={'v' * 100}" for i in range(80))
    reply = raw_upload(site, f"{crowd}; {COOKIE_NAME}={value}; tail=1")
    assert reply.status == 201 and site.reached() == 1


def test_another_campaigns_cookie_is_no_subject(make_site: Callable[..., Site]) -> None:
    site = make_site()
    other = make_site({"campaign": {"id": "other-campaign", "hosts": ["other.test"]}})
    client = other.client(host="other.test")
    page = client.get("/ugc-guard/terms")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    data = {"csrf_token": token.group(1), "terms_version": "1", "birth_date": "1990-05-17", "accept_terms": "yes", "accept_licence": "yes"}
    assert client.post("/ugc-guard/accept", data=data, follow_redirects=False).status_code == 303
    foreign = client.cookies[COOKIE_NAME]
    refused_as_nobody(site, f"{COOKIE_NAME}={foreign}")
    # signed for the other campaign with the same secret: still foreign
    assert SubjectCookie(os.environ["UGC_GUARD_SECRET"].encode(), "other-campaign").read(foreign) is not None
    assert SubjectCookie(os.environ["UGC_GUARD_SECRET"].encode(), CAMPAIGN).read(foreign) is None


def test_cookie_signed_with_another_secret_is_no_subject(make_site: Callable[..., Site]) -> None:
    site = make_site()
    accepted(site)
    _, value = SubjectCookie(b"not-the-site-secret-" + b"y" * 32, CAMPAIGN).new()
    refused_as_nobody(site, f"{COOKIE_NAME}={value}")


def test_duplicated_cookie_names_are_no_subject(make_site: Callable[..., Site]) -> None:
    site = make_site()
    _, first = accepted(site)
    _, second = accepted(site)
    _, forged = SubjectCookie(b"x" * 40, CAMPAIGN).new()
    refused_as_nobody(site, f"{COOKIE_NAME}={first}; {COOKIE_NAME}={second}")  # two people: neither is believed
    refused_as_nobody(site, f"{COOKIE_NAME}={first}; {COOKIE_NAME}={forged}")
    refused_as_nobody(site, f"{COOKIE_NAME}={forged}; {COOKIE_NAME}={first}")
    refused_as_nobody(site, f"{COOKIE_NAME}={first}", f"{COOKIE_NAME}={second}")  # split over two Cookie headers
    before = site.entries()
    same = raw_upload(site, f"{COOKIE_NAME}={first}; {COOKIE_NAME}={first}")  # the same value twice is one subject
    assert same.status == 201 and site.reached() == 1 and site.entries() > before


def test_cookie_of_an_erased_subject(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client, value = accepted(site)
    subject = value.split(".")[0]
    Ledger(site.ledger_url, secret=os.environ["UGC_GUARD_SECRET"]).erase_subject(CAMPAIGN, subject, reason="GDPR Art. 17")
    refused_as_nobody(site, f"{COOKIE_NAME}={value}")
    assert client.get("/ugc-guard/status").json()["accepted_terms_version"] is None
    # the terms page gives the person a new pseudonym; what they accept is recorded under it, never the erased one
    page = client.get("/ugc-guard/terms")
    assert page.status_code == 200 and f"{COOKIE_NAME}=" in page.headers["set-cookie"]
    fresh = client.cookies[COOKIE_NAME]
    assert fresh.split(".")[0] != subject
    assert accept(client).status_code == 303
    before = site.entries()
    assert upload(client).status_code == 201 and site.reached() == 1
    assert site.entries() > before
    recorded = Ledger(site.ledger_url).entries(campaign=CAMPAIGN, subject=subject).items
    assert [entry.kind for entry in recorded] == ["age_result", "terms_acceptance", "erasure"]


def test_erased_subject_posting_json_accept_gets_a_new_pseudonym(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client, value = accepted(site)
    subject = value.split(".")[0]
    Ledger(site.ledger_url, secret=os.environ["UGC_GUARD_SECRET"]).erase_subject(CAMPAIGN, subject, reason="asked")
    answer = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "birth_date": "1990-05-17"})
    assert answer.status_code == 201, answer.text
    assert client.cookies[COOKIE_NAME].split(".")[0] != subject


def form_token(client: Any, path: str = "/ugc-guard/terms") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


def test_form_token_of_one_subject_does_not_work_for_another(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice, bob = site.client(), site.client()
    token = form_token(alice)
    form_token(bob)  # bob has a subject of his own
    data = {"csrf_token": token, "terms_version": "1", "birth_date": "1990-05-17", "accept_terms": "yes", "accept_licence": "yes"}
    reused = bob.post("/ugc-guard/accept", data=data, follow_redirects=False)
    assert reused.status_code == 403 and "expired or was not sent from this site" in reused.text
    cookieless = site.client().post("/ugc-guard/accept", data=data, follow_redirects=False)
    assert cookieless.status_code == 403
    assert site.entries() == 0
    assert alice.post("/ugc-guard/accept", data=data, follow_redirects=False).status_code == 303  # alice's own works


def test_me_withdrawal_token_does_not_work_for_another_subject(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice, _ = accepted(site)
    bob, _ = accepted(site)
    assert upload(alice).status_code == 201
    token = form_token(alice, "/ugc-guard/me")
    before = site.entries()
    answer = bob.post("/ugc-guard/me/withdraw", data={"csrf_token": token, "scope": "processing"}, headers={"accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["code"] == "csrf-failed"
    nobody = site.client().post("/ugc-guard/me/withdraw", data={"csrf_token": token, "scope": "processing"})
    assert nobody.status_code == 401 and nobody.json()["code"] == "subject-required"
    assert site.entries() == before

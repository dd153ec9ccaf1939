"""/me for a minor: the parent or guardian named by the address the minor gave, asked and confirmed,
with readable times; what the guardian typed (name, relationship) is never shown."""

from __future__ import annotations

import re
from collections.abc import Callable

from .conftest import MINOR_POLICY, Harness, accept_form
from .test_guardian import SEVENTEEN, confirm

WHEN = r"[A-Z][a-z]+ \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\s[AP]M UTC"


def test_me_names_the_guardian_asked_then_confirmed(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    minor = harness.client()
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="Parent@Example.org").status_code == 303
    page = minor.get("/ugc-guard/me?lang=en").text
    assert re.search(rf"<li>We asked Parent@example.org on {WHEN}; no confirmation yet.</li>", page), page
    assert "<p>Waiting for 1 parent or guardian to confirm.</p>" in page and "parent(s)" not in page
    assert confirm(harness, name="Sam Parent").status_code == 200
    page = minor.get("/ugc-guard/me?lang=en").text
    assert re.search(rf"<li>Parent@example.org confirmed on {WHEN}.</li>", page), page
    assert "Waiting for" not in page and "Sam Parent" not in page  # the guardian's own words stay withheld, as in the export
    dutch = minor.get("/ugc-guard/me?lang=nl").text
    assert re.search(r"<li>Parent@example.org heeft bevestigd op \d{1,2} [a-z]+ \d{4}, \d{2}:\d{2}:\d{2} UTC.</li>", dutch), dutch


def test_an_adult_sees_no_guardian_section(make_harness: Callable[..., Harness]) -> None:
    client = make_harness(MINOR_POLICY).client()
    assert accept_form(client).status_code == 303
    page = client.get("/ugc-guard/me").text
    assert 'id="guardian"' not in page and "<h2 id=\"accepted-heading\">What you accepted</h2>" in page


def test_two_guardians_in_plural_words(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16, "guardians_required": 2}})
    minor = harness.client()
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="a@example.org", guardian_email_2="b@example.org")
    terms = minor.get("/ugc-guard/terms").text
    assert "You can upload once 2 parents or guardians have confirmed." in terms
    assert "2 ouders of voogden hebben bevestigd" in minor.get("/ugc-guard/terms?lang=nl").text
    assert confirm(harness, 0).status_code == 200
    page = minor.get("/ugc-guard/me").text
    assert "<p>Waiting for 1 parent or guardian to confirm.</p>" in page
    assert re.search(rf"<li>a@example.org confirmed on {WHEN}.</li>", page) and re.search(rf"<li>We asked b@example.org on {WHEN}", page)

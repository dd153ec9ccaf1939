"""The plain decision functions: age bands, missing steps, next URLs, languages, Markdown, cache."""

from __future__ import annotations

import datetime as dt

import pytest

from ugc_guard.pages.markdown import render_markdown
from ugc_guard.rules.age import AgeError, AgeOutcome, AgeRule, age_on, band_labels, judge_band, judge_birth_date, parse_birth_date, reconfirm_due
from ugc_guard.rules.language import choose_language
from ugc_guard.rules.redirect import safe_next
from ugc_guard.rules.standing import Standing, TermsRule, missing, refusal_code
from ugc_guard.standing import StatusCache

TODAY = dt.date(2026, 6, 15)
RULE = AgeRule(18, 16)


@pytest.mark.parametrize(
    ("birth", "band", "outcome"),
    [
        ("2008-06-15", "18+", AgeOutcome.alone),  # 18 today
        ("2008-06-16", "16-17", AgeOutcome.with_guardian),  # 18 tomorrow
        ("2010-06-15", "16-17", AgeOutcome.with_guardian),
        ("2010-06-16", "under-16", AgeOutcome.refused),
        ("1950-01-01", "18+", AgeOutcome.alone),
    ],
)
def test_birth_date_bands(birth: str, band: str, outcome: AgeOutcome) -> None:
    result = judge_birth_date(parse_birth_date(birth, TODAY), TODAY, RULE)
    assert (result.band, result.outcome) == (band, outcome)


def test_no_minors_without_guardian_minimum() -> None:
    rule = AgeRule(18, None)
    assert band_labels(rule) == ["18+", "under-18"]
    assert judge_birth_date(dt.date(2009, 1, 1), TODAY, rule).outcome is AgeOutcome.refused


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-02-30", "birth-date-impossible"),
        ("2001-13-01", "birth-date-impossible"),
        ("2026-06-16", "birth-date-future"),
        ("1890-01-01", "birth-date-implausible"),
        ("15-06-2001", "birth-date-format"),
        ("", "birth-date-format"),
        ("2001-6-1", "birth-date-format"),
    ],
)
def test_bad_birth_dates(text: str, reason: str) -> None:
    with pytest.raises(AgeError) as caught:
        parse_birth_date(text, TODAY)
    assert caught.value.reason == reason


def test_leap_day_birthday_counts_from_first_of_march() -> None:
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


def test_declared_bands() -> None:
    assert judge_band("16-17", RULE).outcome is AgeOutcome.with_guardian
    assert judge_band("under-16", RULE).outcome is AgeOutcome.refused
    with pytest.raises(AgeError):
        judge_band("99+", RULE)


def test_reconfirm_due_is_never_before_majority_and_at_most_a_year_late() -> None:
    birth = dt.date(2009, 9, 1)
    result = judge_birth_date(birth, TODAY, RULE)  # 16
    due = reconfirm_due(TODAY, result)
    assert due is not None and dt.date(2027, 9, 1) <= due <= dt.date(2028, 9, 1)
    assert reconfirm_due(TODAY, judge_birth_date(dt.date(1990, 1, 1), TODAY, RULE)) is None


TERMS = TermsRule("2", frozenset())


@pytest.mark.parametrize(
    ("status", "needs", "code"),
    [
        (Standing(), ["accept-terms", "age-verification"], "terms-not-accepted"),
        (Standing("1", "18+"), ["accept-current-terms"], "terms-outdated"),
        (Standing("2", "18+"), [], None),
        (Standing("2", None), ["age-verification"], "age-not-verified"),
        (Standing("2", "under-16"), ["age-requirement"], "age-below-minimum"),
        (Standing("2", "16-17", "pending"), ["guardian-consent"], "guardian-consent-pending"),
        (Standing("2", "16-17", "withdrawn"), ["guardian-consent"], "guardian-consent-pending"),
        (Standing("2", "16-17", "confirmed", 1), [], None),
    ],
)
def test_missing(status: Standing, needs: list[str], code: str | None) -> None:
    assert missing(status, TERMS, RULE, 1) == needs
    assert refusal_code(needs) == code


def test_two_guardians_needed() -> None:
    assert missing(Standing("2", "16-17", "confirmed", 1), TERMS, RULE, 2) == ["guardian-consent"]
    assert missing(Standing("2", "16-17", "confirmed", 2), TERMS, RULE, 2) == []


def test_minor_band_refused_when_policy_no_longer_allows_minors() -> None:
    assert missing(Standing("2", "16-17", "confirmed", 1), TERMS, AgeRule(18, None), 1) == ["age-requirement"]


def test_revision_keeps_acceptances() -> None:
    revision = TermsRule("2.1", frozenset({"2"}))
    assert missing(Standing("2", "18+"), revision, RULE, 1) == []
    assert missing(Standing("1", "18+"), revision, RULE, 1) == ["accept-current-terms"]


@pytest.mark.parametrize(
    "value",
    ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil", "/%2f%2fevil.example", "/%5cevil",
     "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1", "/a\x00b", "evil.example", "", " /x", "/%0d%0aLocation:x",
     "/%252f%252fevil"],
)  # fmt: skip
def test_unsafe_next_falls_back(value: str) -> None:
    assert safe_next(value, "/default") == "/default"


@pytest.mark.parametrize("value", ["/", "/upload-page?x=1", "/campaign/form#top", "/a/b%20c"])
def test_safe_next_kept(value: str) -> None:
    assert safe_next(value, "/default") == value


def test_language_choice() -> None:
    available = {"en", "nl"}
    assert choose_language(None, "nl-NL,nl;q=0.9,en;q=0.5", available, "en") == "nl"
    assert choose_language(None, "de-DE,en;q=0.3,nl;q=0.8", available, "en") == "nl"
    assert choose_language("en", "nl", available, "nl") == "en"
    assert choose_language("fr", "fr", available, "nl") == "nl"
    assert choose_language(None, "nl;q=0", available, "en") == "en"
    assert choose_language(None, "nl;q=bogus,en", available, "nl") == "en"


def test_markdown_is_escaped() -> None:
    html = render_markdown("# Title\n\n1. **Bold** <script>alert(1)</script>\n2. *it* & more\n\n- a\n- b\n\nText <img src=x onerror=y>")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "<strong>Bold</strong>" in html and "<em>it</em>" in html
    assert "<h2>Title</h2>" in html and html.count("<li>") == 4 and "<ol>" in html and "<ul>" in html


def test_cache_ttl_version_and_bound() -> None:
    now = [0.0]
    cache = StatusCache(ttl=5, max_entries=2, clock=lambda: now[0])
    status = Standing("1", "18+")
    cache.put("a", "1", status)
    assert cache.get("a", "1") is status
    assert cache.get("a", "2") is None  # another terms version: ignored and dropped
    cache.put("a", "1", status)
    now[0] = 5.0
    assert cache.get("a", "1") is None  # expired
    for name in "abc":
        cache.put(name, "1", status)
    assert len(cache) == 2 and cache.get("a", "1") is None

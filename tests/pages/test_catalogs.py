"""The gettext catalogs of the built-in pages: English and Dutch complete and alike, every word the pages
ask for present, no word left unused; plurals; the Markdown of terms texts; the date of birth fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ugc_guard.pages.catalog import catalog_languages, gettext, ngettext
from ugc_guard.pages.forms import birth_date_field
from ugc_guard.pages.markdown import render_markdown

PAGES = Path(__file__).resolve().parents[2] / "ugc_guard" / "pages"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
USED_IN_TEMPLATES = re.compile(r"""(?:\b_|ngettext)\(\s*["']([\w-]+)["'](?:,\s*["']([\w-]+)["'])?""")
USED_IN_CODE = re.compile(r"""(?:gettext\(lang, |ngettext\(lang, |words\(lang\)\[|vocabulary\[|AcceptRefusal\([^)]*?)["']((?:[a-z]+_)[\w-]+)["']""")
LITERAL = re.compile(r"""["']([a-z][\w-]+)["']""")
DYNAMIC = ("status_", "birth_", "err_birth-date-", "err_age-band-")
"""Keys the code builds (``"birth_" ~ part``, ``f"status_{name}"``, ``f"err_{reason}"``): present, not searched for."""


def catalog(language: str) -> dict[str, tuple[str, ...]]:
    with (PAGES / "locale" / language / "LC_MESSAGES" / "ugc_guard.po").open("rb") as handle:
        read = read_po(handle)
    assert not any(message.fuzzy for message in read if message.id), f"{language}: fuzzy entries"
    return {
        (message.id if isinstance(message.id, str) else message.id[0]): (message.string if isinstance(message.string, tuple) else (message.string,))
        for message in read if message.id
    }  # fmt: skip


def test_english_and_dutch_have_the_same_ids_every_one_translated() -> None:
    assert catalog_languages() == {"en", "nl"}
    english, dutch = catalog("en"), catalog("nl")
    assert sorted(english) == sorted(dutch)
    for key, forms in english.items():
        assert all(form.strip() for form in forms), f"en: {key} is empty"
        assert all(form.strip() for form in dutch[key]), f"nl: {key} is not translated"
        assert len(forms) == len(dutch[key]), key
        # the same values filled in (a plural's singular may leave out the count)
        assert {tuple(sorted(set(PLACEHOLDER.findall(form)))) for form in forms[-1:]} == {
            tuple(sorted(set(PLACEHOLDER.findall(form)))) for form in dutch[key][-1:]
        }, key


def used_keys() -> set[str]:
    used: set[str] = set()
    for template in (PAGES / "templates").glob("*.html"):
        for match in USED_IN_TEMPLATES.finditer(template.read_text(encoding="utf-8")):
            used.update(key for key in match.groups() if key)
    for module in PAGES.glob("*.py"):
        used.update(USED_IN_CODE.findall(module.read_text(encoding="utf-8")))
    return used - set(DYNAMIC)  # a prefix the template joins with a part


def literals_in_code() -> set[str]:
    """Every string literal of the pages' modules (message keys travel as values, e.g. in a FieldError)."""
    return {key for module in PAGES.glob("*.py") for key in LITERAL.findall(module.read_text(encoding="utf-8"))}


def test_every_word_the_pages_use_is_in_the_catalog_and_none_is_unused() -> None:
    english = set(catalog("en"))
    used = used_keys()
    plural_ids = {key + "_plural" for key in english}
    assert used - english - plural_ids == set()
    assert {key for key in english - used - literals_in_code() if not key.startswith(DYNAMIC)} == set()
    assert {"err_birth-date-format", "err_birth-date-impossible", "err_birth-date-future", "err_birth-date-implausible",
            "err_age-band-unknown", "birth_day", "birth_month", "birth_year"} <= english  # fmt: skip


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "Waiting for 1 parent or guardian to confirm.", "Waiting for 2 parents or guardians to confirm."),
        ("nl", "We wachten op de bevestiging van 1 ouder of voogd.", "We wachten op de bevestiging van 2 ouders of voogden."),
    ],
)
def test_plurals(language: str, one: str, two: str) -> None:
    assert ngettext(language, "me_guardian_waiting", "me_guardian_waiting_plural", 1) == one
    assert ngettext(language, "me_guardian_waiting", "me_guardian_waiting_plural", 2) == two


def test_a_language_without_a_catalog_falls_back_to_english() -> None:
    assert gettext("de", "submit") == gettext("en", "submit") == "Accept and continue"
    assert gettext("nl", "title", campaign="X") == "Voorwaarden voor X"


def test_markdown_allows_links_and_never_raw_html() -> None:
    html = render_markdown("# Terms\n\nSee [the FAQ](https://example.org/faq).\n\n<script>alert(1)</script> <b>x</b>\n\n"
                           "[bad](javascript:alert(1)) ![pixel](https://tracker.example/p.gif)\n\n| a | b |\n|---|---|\n| 1 | 2 |")  # fmt: skip
    assert "<h2>Terms</h2>" in html
    assert '<a href="https://example.org/faq" rel="noopener noreferrer">the FAQ</a>' in html
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt;" in html
    assert "javascript:" not in html.replace("[bad](javascript:alert(1))", "") and "<img" not in html
    assert "<table>" in html and "<td>2</td>" in html


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"birth_day": "7", "birth_month": "3", "birth_year": "2001"}, "2001-03-07"),
        ({"birth_day": " 31 ", "birth_month": "12", "birth_year": "1999"}, "1999-12-31"),
        ({"birth_day": "", "birth_month": "", "birth_year": ""}, None),
        ({"birth_date": "2001-03-07"}, "2001-03-07"),
        ({"birth_day": "7", "birth_month": "March", "birth_year": "2001"}, "2001-March-7?"),
        ({"birth_day": "7", "birth_month": "3", "birth_year": "01"}, "01-3-7?"),
        ({"birth_day": "٧", "birth_month": "3", "birth_year": "2001"}, "2001-3-٧?"),
    ],
)
def test_birth_date_fields(form: dict[str, str], expected: str | None) -> None:
    assert birth_date_field(form) == expected

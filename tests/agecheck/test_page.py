"""The terms-page block: the button and the alternatives, in the page's language, pointing at the endpoints."""

from __future__ import annotations

import json
import re

from markupsafe import escape

from ugc_guard.agecheck.page import TEXTS, age_proof_html


def test_block_points_at_the_endpoints_and_explains_the_alternatives() -> None:
    html = str(age_proof_html("/ugc-guard", "en"))
    assert 'data-request-url="/ugc-guard/age/request"' in html
    assert '<script src="/ugc-guard/age/age-proof.js" defer></script>' in html
    assert 'id="age-proof-button"' in html and "hidden" in html  # shown only by the script, where the API exists
    for line in TEXTS["en"]["alternatives"]:
        assert str(escape(line)) in html
    messages = re.search(r"data-messages='([^']*)'", html)
    assert messages is not None
    assert json.loads(messages.group(1).replace("&#39;", "'"))["cancelled"] == TEXTS["en"]["messages"]["cancelled"]


def test_block_speaks_the_pages_language_and_falls_back_to_english() -> None:
    assert TEXTS["nl"]["button"] in str(age_proof_html("/ugc-guard", "nl"))
    assert TEXTS["en"]["button"] in str(age_proof_html("/ugc-guard", "de"))


def test_every_language_has_every_text() -> None:
    assert {lang: sorted(texts) for lang, texts in TEXTS.items()} == {lang: sorted(TEXTS["en"]) for lang in TEXTS}
    assert {lang: sorted(texts["messages"]) for lang, texts in TEXTS.items()} == {lang: sorted(TEXTS["en"]["messages"]) for lang in TEXTS}

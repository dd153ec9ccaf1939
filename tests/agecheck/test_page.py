"""The terms-page block: the button and the alternatives, in the page's language (words from the pages'
gettext catalogs), pointing at the endpoints."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import write_policy
from ugc_guard.pages.catalog import gettext
from ugc_guard.pages.render import html_page
from ugc_guard.pages.terms import AGE_PROOF_MESSAGES, age_proof_block
from ugc_guard.policy import load_policy

ALTERNATIVES = ("age_proof_alt_browser", "age_proof_alt_phone", "age_proof_alt_app")


def block(lang: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> str:
    """The block as the terms page includes it (the page's own template renders it)."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    monkeypatch.setenv("UGC_GUARD_SECRET", "s" * 40)
    policy = load_policy(write_policy(tmp_path / lang))
    response = html_page("age_proof.html", lang, policy, age_proof=age_proof_block("/ugc-guard", lang))
    return bytes(response.body).decode()


def test_block_points_at_the_endpoints_and_explains_the_alternatives(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    html = block("en", tmp_path, monkeypatch)
    assert 'data-request-url="/ugc-guard/age/request"' in html
    assert '<script src="/ugc-guard/age/age-proof.js" defer></script>' in html
    assert 'id="age-proof-button"' in html and "hidden" in html  # shown only by the script, where the API exists
    for key in ALTERNATIVES:
        assert gettext("en", key) in html  # catalog words are trusted text: Jinja's i18n marks them safe
    messages = re.search(r"data-messages='([^']*)'", html)
    assert messages is not None
    shown = json.loads(messages.group(1).replace("&#39;", "'"))
    assert shown == {name: gettext("en", key) for name, key in AGE_PROOF_MESSAGES.items()}
    assert shown["cancelled"] == "Nothing was shared. You can try again." and shown["done"] == "Age confirmed ({band})."


def test_block_speaks_the_pages_language_and_falls_back_to_english(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Toon mijn leeftijdsbewijs" in block("nl", tmp_path, monkeypatch)
    assert "Show my Proof of Age" in block("de", tmp_path, monkeypatch)
    assert age_proof_block("/x", "nl")["messages"]["done"] == "Leeftijd bevestigd ({band})."

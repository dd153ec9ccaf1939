"""The Proof of Age block for the terms page: a button where the browser can ask a wallet, and the
alternatives where it cannot. Rendered here (autoescaped) so a page only places the returned HTML."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

__all__ = ["TEXTS", "age_proof_html"]

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "heading": "Prove your age with your wallet",
        "intro": "This campaign asks for a Proof of Age attestation from the EU age-verification app or your digital identity "
        "wallet. It only tells us that you are old enough; we keep the result, never your name or birth date.",
        "button": "Show my Proof of Age",
        "unsupported": "This browser cannot ask a wallet for a Proof of Age. You can:",
        "alternatives": [
            "open this page in a browser that supports digital credentials, such as a recent Chrome or Edge, or Safari on iPhone;",
            "open it on the phone where the age-verification app is installed;",
            "get the app from your country's age-verification provider first if you do not have it yet.",
        ],
        "messages": {
            "waiting": "Choose your wallet and agree to show your Proof of Age…",
            "checking": "Checking the attestation…",
            "done": "Age confirmed ({band}).",
            "cancelled": "Nothing was shared. You can try again.",
            "failed": "The attestation was not accepted.",
        },
    },
    "nl": {
        "heading": "Bewijs je leeftijd met je wallet",
        "intro": "Deze campagne vraagt een leeftijdsbewijs uit de Europese leeftijdsverificatie-app of je digitale-identiteitswallet. "
        "Het laat alleen zien dat je oud genoeg bent; we bewaren de uitkomst, nooit je naam of geboortedatum.",
        "button": "Toon mijn leeftijdsbewijs",
        "unsupported": "Deze browser kan geen leeftijdsbewijs aan een wallet vragen. Je kunt:",
        "alternatives": [
            "deze pagina openen in een browser die digitale credentials ondersteunt, zoals een recente Chrome of Edge, of Safari op iPhone;",
            "haar openen op de telefoon waarop de leeftijdsverificatie-app staat;",
            "eerst de app van de leeftijdsverificatie-aanbieder in je land installeren als je die nog niet hebt.",
        ],
        "messages": {
            "waiting": "Kies je wallet en geef toestemming om je leeftijdsbewijs te tonen…",
            "checking": "Het bewijs wordt gecontroleerd…",
            "done": "Leeftijd bevestigd ({band}).",
            "cancelled": "Er is niets gedeeld. Je kunt het opnieuw proberen.",
            "failed": "Het bewijs is niet geaccepteerd.",
        },
    },
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ugc_guard.agecheck", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def age_proof_html(prefix: str, lang: str) -> Markup:
    """Return the block's HTML in ``lang`` (English when there is no text in it) for endpoints under ``prefix``
    (``root_path`` + ``policy.prefix`` when the app is mounted)."""
    text = TEXTS.get(lang, TEXTS["en"])
    html = (
        _environment()
        .get_template("age_proof.html")
        .render(text=text, messages=text["messages"], request_url=f"{prefix}/age/request", script_url=f"{prefix}/age/age-proof.js")
    )
    return Markup(html)

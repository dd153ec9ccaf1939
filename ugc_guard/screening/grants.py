"""The licence grant and portrait declarations an upload carries, checked against the policy.

In a multipart form they are the fields ``ugc_licence``, ``ugc_portrait_self`` and
``ugc_portrait_others``; with a raw body, the headers ``UGC-Licence``, ``UGC-Portrait-Self`` and
``UGC-Portrait-Others``. Values: ``accept``, ``accept``, and ``none`` or ``all-consented``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..policy.models import Portrait
from ..problems import Problem

__all__ = ["FIELDS", "HEADERS", "Grants", "check_grants"]

FIELDS = {"licence": "ugc_licence", "portrait_self": "ugc_portrait_self", "portrait_others": "ugc_portrait_others"}
HEADERS = {"licence": "ugc-licence", "portrait_self": "ugc-portrait-self", "portrait_others": "ugc-portrait-others"}
OTHERS = ("none", "all-consented")


@dataclass(frozen=True, slots=True)
class Grants:
    """What the uploader answered, as recorded with the submission."""

    licence: bool
    """The content licence was granted (``accept``)."""
    portrait_self: bool
    """The uploader consents to the use of their own portrait."""
    portrait_others: Literal["none", "all-consented"] | None
    """``none``: nobody else is recognisable; ``all-consented``: every other person consented; None: not asked."""


def check_grants(answers: Mapping[str, Sequence[str]], portrait: Portrait, where: Mapping[str, str]) -> Grants:
    """Return the grants from ``answers`` (key → values sent); ``where`` names the field or header.

    Raises 403 ``licence-not-granted`` or ``portrait-consent-missing`` when the policy needs an
    answer that is missing or declined, and 400 ``malformed-upload`` when one is sent twice.
    """
    values = {key: _one(answers.get(key, ()), where[key]) for key in FIELDS}
    if values["licence"] != "accept":
        raise Problem("licence-not-granted", f"grant the content licence with {where['licence']}=accept")
    own = values["portrait_self"] == "accept"
    if portrait.require_own_consent and not own:
        raise Problem("portrait-consent-missing", f"consent to the use of your portrait with {where['portrait_self']}=accept")
    others = values["portrait_others"]
    if others is not None and others not in OTHERS:
        others = None
    if portrait.require_others_declaration and others is None:
        raise Problem(
            "portrait-consent-missing",
            f"declare with {where['portrait_others']}=none (nobody else is recognisable) or =all-consented",
        )
    return Grants(licence=True, portrait_self=own, portrait_others=others)  # type: ignore[arg-type]


def _one(values: Sequence[str], name: str) -> str | None:
    cleaned = {value.strip().lower() for value in values}
    if len(cleaned) > 1:
        raise Problem("malformed-upload", f"{name} is sent more than once with different values")
    return cleaned.pop() if cleaned else None

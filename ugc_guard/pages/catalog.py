"""The words of the built-in pages: one gettext catalog per language, ``locale/<lang>/LC_MESSAGES/ugc_guard.po``.

Message ids are stable keys (``err_csrf``, ``me_title``), so English wording can change without
orphaning a translation; the English catalog holds the English words. The ``.po`` files are read
at runtime with Babel (no compile step: the package ships source catalogs only, so an installed copy
can never hold a ``.mo`` older than its ``.po``). A language without a catalog falls back to English;
adding a language is adding one file.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = ["DOMAIN", "catalog_languages", "gettext", "ngettext", "translations", "words"]

DOMAIN = "ugc_guard"
FALLBACK = "en"


@cache
def catalog_languages() -> frozenset[str]:
    """Return the languages with a catalog."""
    root = files("ugc_guard.pages").joinpath("locale")
    return frozenset(entry.name for entry in root.iterdir() if entry.joinpath("LC_MESSAGES", f"{DOMAIN}.po").is_file())


@cache
def translations(language: str) -> Translations:
    """Return the translations of ``language`` (English behind it; English for a language without a catalog)."""
    if language not in catalog_languages():
        language = FALLBACK
    source = files("ugc_guard.pages").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    loaded = Translations(buffer, domain=DOMAIN)
    if language != FALLBACK:
        loaded.add_fallback(translations(FALLBACK))
    return loaded


def gettext(language: str, key: str, **values: Any) -> str:
    """Return the words for ``key`` in ``language`` with ``values`` filled in (``%(name)s``)."""
    text = translations(language).gettext(key)
    return text % values if values else text


def ngettext(language: str, key: str, plural_key: str, count: int, **values: Any) -> str:
    """Return the singular or plural words for ``count`` in ``language``; ``count`` is among the values."""
    return translations(language).ngettext(key, plural_key, count) % {"count": count, **values}


class _Words(Mapping[str, str]):
    """The catalog of one language as a read-only mapping of key to words (for messages without values)."""

    def __init__(self, language: str) -> None:
        self._translations = translations(language)

    def __getitem__(self, key: str) -> str:
        return self._translations.gettext(key)

    def __iter__(self) -> Iterator[str]:
        return iter(key for key in self._translations._catalog if isinstance(key, str) and key)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def words(language: str) -> Mapping[str, str]:
    """Return the catalog of ``language`` as a mapping (``words(lang)["err_csrf"]``)."""
    return _Words(language)

"""HTML responses for every page under the prefix (terms, guardian, me): one Jinja2 setup with
autoescaping and the gettext catalogs (:mod:`.catalog`), the campaign look (``policy.look``: a site's
templates folder in front of the built-in one), one set of strict security headers."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.dates import get_timezone as _timezone
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from .catalog import translations
from .markdown import render_markdown

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["PAGE_HEADERS", "SCRIPT_PAGE_HEADERS", "html_page", "me_page", "readable_date", "readable_time", "text_html"]

PAGE_HEADERS = {
    "cache-control": "no-store",
    # Click-wrap pages must never be framed (clickjacking a checkbox is consent forgery).
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
SCRIPT_PAGE_HEADERS = {
    **PAGE_HEADERS,
    # The terms page with the Proof of Age block: its script from this site, posting to this site only.
    "content-security-policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
_UTC = _timezone("UTC")


@cache
def _environment(templates: Path | None, lang: str) -> Environment:
    """Return the environment for one templates folder and language (a few per process, built once each)."""
    loaders: list[BaseLoader] = [PackageLoader("ugc_guard.pages", "templates")]
    if templates is not None:
        loaders.insert(0, FileSystemLoader(templates))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    environment.filters["when"] = lambda value: readable_time(value, lang)
    environment.filters["day"] = lambda value: readable_date(value, lang)
    return environment


def readable_time(value: str | _dt.datetime | None, lang: str) -> str:
    """Return an ISO 8601 time (or datetime) as words in ``lang``, in UTC, to the second: ``2 December 2026 at 23:01:05 UTC``."""
    if not value:
        return ""
    moment = value if isinstance(value, _dt.datetime) else _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return format_datetime(moment.replace(microsecond=0), format="long", tzinfo=_UTC, locale=_babel_locale(lang))


def readable_date(value: str | _dt.date | None, lang: str) -> str:
    """Return an ISO 8601 date as words in ``lang``: ``17 May 1990``."""
    if not value:
        return ""
    day = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value)[:10])
    return format_date(day, format="long", locale=_babel_locale(lang))


@cache
def _babel_locale(lang: str) -> str:
    """Return ``lang`` when Babel has its date formats, else ``en`` (a policy may offer a language Babel lacks, such as ``ae``)."""
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return "en"
    return lang


@cache
def language_name(code: str) -> str:
    """Return a language's own name for itself (``Nederlands`` for ``nl``), or the code Babel does not know."""
    try:
        name = Locale.parse(code).get_display_name(code)
    except (UnknownLocaleError, ValueError):
        return code
    return (name[:1].upper() + name[1:]) if name else code


@cache
def text_html(path: str, text: str) -> Markup:
    """Return the rendered Markdown of a terms or licence text (cached: texts never change at runtime)."""
    return render_markdown(text)


def _headers(policy: Policy, headers: Mapping[str, str] | None) -> dict[str, str]:
    chosen = dict(headers) if headers is not None else dict(PAGE_HEADERS)
    origin = policy.look.logo_origin
    if origin is not None and "content-security-policy" in chosen:
        chosen["content-security-policy"] = chosen["content-security-policy"].replace("img-src 'self'", f"img-src 'self' {origin}")
    return chosen


def html_page(
    template: str, lang: str, policy: Policy, status_code: int = 200, *, headers: Mapping[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """Return a rendered page in ``lang`` with the campaign look, the policy's TDM/noai meta tags and
    ``headers`` (default :data:`PAGE_HEADERS`; a logo's origin joins ``img-src``)."""
    scraping = policy.scraping
    look = policy.look
    body = (
        _environment(look.templates, lang)
        .get_template(template)
        .render(
            lang=lang,
            look=look,
            site_name=look.name or policy.campaign.name,
            language_names={code: language_name(code) for code in policy.terms.texts},
            tdm_reservation=scraping.tdm_reservation,
            tdm_policy=str(scraping.tdm_policy) if scraping.tdm_policy else None,
            noai=scraping.noai_headers,
            today=_dt.date.today().isoformat(),
            **context,
        )
    )
    return HTMLResponse(body, status_code=status_code, headers=_headers(policy, headers))


def me_page(lang: str, policy: Policy, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return ``me.html`` in ``lang``; a status a newer ugc_guard wrote is shown as recorded."""
    catalog = translations(lang)

    def status(name: str) -> str:
        key = f"status_{name}"
        shown = catalog.gettext(key)
        return name if shown == key else shown

    return html_page("me.html", lang, policy, status_code, status=status, **context)

"""HTML responses for every page under the prefix (terms, guardian, me): one Jinja2 environment with
autoescaping, one set of strict security headers."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from .markdown import render_markdown
from .me_words import words as me_words
from .words import words

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["PAGE_HEADERS", "SCRIPT_PAGE_HEADERS", "html_page", "me_page", "text_html"]

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


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ugc_guard.pages", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def text_html(path: str, text: str) -> Markup:
    """Return the rendered Markdown of a terms or licence text (cached: texts never change at runtime)."""
    return render_markdown(text)


def html_page(
    template: str, lang: str, policy: Policy, status_code: int = 200, *, headers: Mapping[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """Return a rendered page in ``lang`` with the policy's TDM/noai meta tags and ``headers`` (default :data:`PAGE_HEADERS`)."""
    vocabulary = words(lang)

    def t(key: str, **values: Any) -> str:
        return vocabulary[key].format(**values)

    scraping = policy.scraping
    body = (
        _environment()
        .get_template(template)
        .render(
            t=t,
            lang=lang,
            tdm_reservation=scraping.tdm_reservation,
            tdm_policy=str(scraping.tdm_policy) if scraping.tdm_policy else None,
            noai=scraping.noai_headers,
            today=_dt.date.today().isoformat(),
            **context,
        )
    )
    return HTMLResponse(body, status_code=status_code, headers=dict(headers) if headers is not None else PAGE_HEADERS)


def me_page(lang: str, policy: Policy, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return ``me.html`` in ``lang`` with the policy's TDM/noai meta tags and the page headers."""
    vocabulary = me_words(lang)

    def t(key: str, **values: Any) -> str:
        return vocabulary[key].format(**values)

    def status(name: str) -> str:  # a status a newer ugc_guard wrote is shown as recorded
        return vocabulary.get(f"status_{name}", name)

    scraping = policy.scraping
    body = _environment().get_template("me.html").render(
        t=t, status=status, lang=lang, tdm_reservation=scraping.tdm_reservation,
        tdm_policy=str(scraping.tdm_policy) if scraping.tdm_policy else None, noai=scraping.noai_headers,
        today=_dt.date.today().isoformat(), **context,
    )  # fmt: skip
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)

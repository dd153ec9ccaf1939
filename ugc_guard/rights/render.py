"""The subject's page: Jinja2 with the gate's layout (``base.html``) and the gate's page headers."""

from __future__ import annotations

import datetime as _dt
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from ..gate.render import PAGE_HEADERS
from .i18n import words

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["me_page"]


@cache
def _environment() -> Environment:
    loader = ChoiceLoader([PackageLoader("ugc_guard.rights", "templates"), PackageLoader("ugc_guard.gate", "templates")])
    return Environment(loader=loader, autoescape=select_autoescape(["html"], default=True), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def me_page(lang: str, policy: Policy, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return ``me.html`` in ``lang`` with the policy's TDM/noai meta tags and the gate's page headers."""
    vocabulary = words(lang)

    def t(key: str, **values: Any) -> str:
        return vocabulary[key].format(**values)

    def status(name: str) -> str:  # a status a newer ugc_guard wrote is shown as recorded
        return vocabulary.get(f"status_{name}", name)

    scraping = policy.scraping
    body = _environment().get_template("me.html").render(
        t=t, status=status, lang=lang, tdm_reservation=scraping.tdm_reservation,
        tdm_policy=str(scraping.tdm_policy) if scraping.tdm_policy else None, noai=scraping.noai_headers,
        today=_dt.date.today().isoformat(), **context,
    )
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)

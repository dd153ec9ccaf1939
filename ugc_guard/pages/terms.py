"""The gate's pages and endpoints under the policy prefix: terms, accept, status, guardian confirm.

Paths under the prefix that are not the gate's own pass on untouched (other features serve pages
there too, e.g. ``me/*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from ..agecheck.page import age_proof_html
from ..policy.age import AgeMethod
from ..problems import Problem
from ..rules.age import band_labels
from ..rules.consent_ages import CONSENT_AGES
from ..rules.language import choose_language
from ..rules.redirect import safe_next
from ..rules.standing import Standing, missing
from ..subject import ensure_subject
from .render import SCRIPT_PAGE_HEADERS, html_page, text_html
from .routes import Route
from .words import words

if TYPE_CHECKING:
    from ..context import RequestContext
    from .service import Gate

__all__ = ["TermsPages", "query_value", "render_terms", "terms_language"]


def query_value(ctx: RequestContext, name: str) -> str | None:
    values = parse_qs(ctx.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).get(name)
    return values[0] if values else None


def terms_language(gate: Gate, ctx: RequestContext, requested: str | None) -> str:
    return choose_language(requested, ctx.headers.get("accept-language"), gate.policy.terms.texts, gate.policy.terms.default_language)


def render_terms(
    gate: Gate,
    ctx: RequestContext,
    *,
    lang: str,
    next_url: str,
    status: Standing,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    """Return the terms page for ``ctx.subject`` (who must exist), with errors and receipt as given."""
    policy = gate.policy
    age = policy.age
    needs = missing(status, gate.terms_rule, gate.age_rule, gate.guardians_required)
    current = status.accepted_terms_version is not None and gate.terms_rule.accepts(status.accepted_terms_version)
    bands = []
    if age.method == "age_band":
        labels = band_labels(gate.age_rule)
        vocabulary = words(lang)
        names = [vocabulary["band_adult"].format(minimum=age.minimum)]
        if age.guardian_minimum is not None:
            names.append(vocabulary["band_minor"].format(low=age.guardian_minimum, high=age.minimum - 1))
        names.append(vocabulary["band_under"].format(age=age.guardian_minimum or age.minimum))
        bands = [{"value": value, "label": label} for value, label in zip(labels, names, strict=True)]
    receipt: dict[str, Any] | None = None
    if current and status.receipt_id:
        receipt = {"entry_id": status.receipt_id, "entry_hash": status.receipt_hash, "recorded_at": status.accepted_at}
    attested = status.age_band if status.age_assurance == AgeMethod.eu_age_verification else None
    age_proof = None
    if age.method == AgeMethod.eu_age_verification and attested is None:
        age_proof = age_proof_html(ctx.scope.get("root_path", "").rstrip("/") + gate.prefix, lang)
    return html_page(
        "terms.html",
        lang,
        policy,
        status_code,
        headers=SCRIPT_PAGE_HEADERS if age_proof is not None else None,
        age_proof=age_proof,
        attested_band=attested,
        countries=sorted(CONSENT_AGES) if age.consent_age_by_country else [],
        campaign=policy.campaign.name,
        languages=sorted(policy.terms.texts),
        next=next_url,
        errors=errors or [],
        receipt=receipt,
        pending="guardian-consent" in needs,
        outdated=status.accepted_terms_version is not None and not current,
        guardians_required=gate.guardians_required,
        terms_version=policy.terms.version,
        licence_id=policy.licence.id,
        licence_version=policy.licence.version,
        terms_html=text_html(str(policy.terms.texts[lang].path), policy.terms.texts[lang].text),
        licence_html=text_html(str(policy.licence.texts[lang].path), policy.licence.texts[lang].text),
        accept_action=gate.url(ctx, "/accept"),
        csrf_token=gate.forms.make(ctx.subject or ""),
        age_method=str(age.method),
        bands=bands,
        minimum=age.minimum,
        guardian_low=age.guardian_minimum,
        guardian_high=age.minimum - 1,
    )


class TermsPages:
    """The terms page and the status endpoint (accept and guardian confirmation have modules of their own)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        prefix = gate.prefix.casefold()
        self.routes: dict[str, Route] = {
            prefix + "/terms": (("GET", "HEAD"), self.terms),
            prefix + "/status": (("GET", "HEAD"), self.status),
        }

    async def terms(self, ctx: RequestContext) -> ASGIApp:
        gate = self.gate
        lang = terms_language(gate, ctx, query_value(ctx, "lang"))
        next_url = safe_next(query_value(ctx, "next"), gate.url(ctx, "/terms"))
        known = ctx.subject is not None
        subject = ensure_subject(ctx, gate.subjects)
        if subject is None:
            return Problem("subject-required", "sign in to the site first; this campaign identifies people by their account")
        status = await gate.status(subject) if known else Standing()
        if status.erased and gate.subjects.source == "cookie":  # an erased pseudonym is never used again
            ctx.subject = None
            ensure_subject(ctx, gate.subjects)
            status = Standing()
        return render_terms(gate, ctx, lang=lang, next_url=next_url, status=status)

    async def status(self, ctx: RequestContext) -> ASGIApp:
        gate = self.gate
        status = await gate.status(ctx.subject) if ctx.subject else Standing()
        return JSONResponse(status_body(gate, ctx, status), headers={"cache-control": "no-store"})


def status_body(gate: Gate, ctx: RequestContext, status: Standing) -> dict[str, Any]:
    """Return the JSON of ``GET {prefix}/status`` for ``status``."""
    accepted = status.accepted_terms_version
    return {
        "campaign": gate.site.campaign,
        "subject_known": ctx.subject is not None,
        "current_terms_version": gate.terms_rule.version,
        "accepted_terms_version": accepted,
        "terms_current": accepted is not None and gate.terms_rule.accepts(accepted),
        "age_band": status.age_band,
        "guardian_status": status.guardian_status,
        "guardians_confirmed": status.guardians_confirmed,
        "guardians_required": gate.guardians_required if status.guardian_status != "not-required" else 0,
        "reconfirm": status.reconfirm,
        "reconfirm_due": status.reconfirm_due,
        "receipt_id": status.receipt_id,
        "missing": missing(status, gate.terms_rule, gate.age_rule, gate.guardians_required),
        "accept_url": gate.absolute_url(ctx, "/terms"),
    }

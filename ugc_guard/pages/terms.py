"""The gate's pages and endpoints under the policy prefix: terms, accept, status, guardian confirm.

Paths under the prefix that are not the gate's own pass on untouched (other features serve pages
there too, e.g. ``me/*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from ..policy.age import AgeMethod
from ..problems import Problem
from ..rules.age import band_labels
from ..rules.consent_ages import CONSENT_AGES
from ..rules.language import choose_language
from ..rules.redirect import safe_next
from ..rules.standing import Standing, missing
from ..subject import ensure_subject
from .catalog import gettext
from .render import SCRIPT_PAGE_HEADERS, html_page, text_html
from .routes import Route

if TYPE_CHECKING:
    from ..context import RequestContext
    from .judge import AcceptRefusal, FieldError
    from .service import Gate

_REFILLED = ("birth_day", "birth_month", "birth_year", "age_band", "country", "guardian_email", "guardian_email_2", "own_email")

__all__ = ["TermsPages", "query_value", "render_refusal", "render_terms", "render_under_age", "terms_language"]


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
    errors: list[FieldError] | None = None,
    given: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """Return the terms page for ``ctx.subject`` (who must exist), with errors and receipt as given.

    ``errors`` are shown all at once (a summary linking to each field, and each field marked
    ``aria-invalid`` and described by its message); ``given`` refills what the person typed.
    """
    policy = gate.policy
    age = policy.age
    needs = missing(status, gate.terms_rule, gate.age_rule, gate.guardians_required)
    current = status.accepted_terms_version is not None and gate.terms_rule.accepts(status.accepted_terms_version)
    bands = []
    if age.method == "age_band":
        labels = band_labels(gate.age_rule)
        names = [gettext(lang, "band_adult", minimum=age.minimum)]
        if age.guardian_minimum is not None:
            names.append(gettext(lang, "band_minor", low=age.guardian_minimum, high=age.minimum - 1))
        names.append(gettext(lang, "band_under", age=age.guardian_minimum or age.minimum))
        bands = [{"value": value, "label": label} for value, label in zip(labels, names, strict=True)]
    receipt: dict[str, Any] | None = None
    if current and status.receipt_id:
        receipt = {"entry_id": status.receipt_id, "entry_hash": status.receipt_hash, "recorded_at": status.accepted_at}
    attested = status.age_band if status.age_assurance == AgeMethod.eu_age_verification else None
    age_proof = None
    if age.method == AgeMethod.eu_age_verification and attested is None:
        age_proof = age_proof_block(ctx.scope.get("root_path", "").rstrip("/") + gate.prefix, lang)
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
        errors=[{"field": error.field, "message": gettext(lang, error.key, **error.values)} for error in errors or []],
        field_errors={error.field: gettext(lang, error.key, **error.values) for error in reversed(errors or []) if error.field},
        given=given or {},
        lang_query="&next=" + quote(next_url, safe=""),
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


def render_refusal(
    gate: Gate, ctx: RequestContext, lang: str, next_url: str, refusal: AcceptRefusal, status_code: int,
    standing: Standing | None = None, form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """Return the terms page again with every error of ``refusal`` and what the person typed (never the ticks)."""
    age_only = Standing()  # the page shows no receipt after an error, but an age already proven stays shown
    if standing is not None:
        age_only = Standing(age_band=standing.age_band, age_assurance=standing.age_assurance)
    given = {name: value for name, value in (form or {}).items() if name in _REFILLED}
    return render_terms(gate, ctx, lang=lang, next_url=next_url, status=age_only, errors=refusal.errors, given=given, status_code=status_code)


def render_under_age(gate: Gate, ctx: RequestContext, lang: str, refusal: AcceptRefusal) -> Response:
    """Return the page for someone below the youngest admitted age: why, what a guardian can (not) do, and a way back."""
    policy = gate.policy
    age = refusal.values.get("age", policy.age.minimum)
    recorded = refusal.key == "err_below_recorded"
    home = str(ctx.scope.get("root_path", "")).rstrip("/") + "/"
    return html_page(
        "message.html", lang, policy, 403, heading=gettext(lang, "under_title"), alert=True,
        message=gettext(lang, "under_why", age=age),
        more=[gettext(lang, "under_guardian", age=age), gettext(lang, "under_recorded" if recorded else "under_nothing")],
        receipt=None, link=home,
        link_text=gettext(lang, "under_back", campaign=policy.look.name or policy.campaign.name),
    )  # fmt: skip


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


AGE_PROOF_MESSAGES = {"waiting": "age_proof_waiting", "checking": "age_proof_checking", "done": "age_proof_done",
                      "cancelled": "age_proof_cancelled", "failed": "age_proof_failed"}  # fmt: skip
"""The words the Proof of Age script shows as it goes (``{band}`` is filled in by the script)."""


def age_proof_block(prefix: str, lang: str) -> dict[str, Any]:
    """Return what the terms page's Proof of Age block (``age_proof.html``) needs: the endpoints under
    ``prefix`` (``root_path`` + ``policy.prefix`` when mounted) and the script's words in ``lang``."""
    return {
        "request_url": f"{prefix}/age/request",
        "script_url": f"{prefix}/age/age-proof.js",
        "messages": {name: gettext(lang, key) for name, key in AGE_PROOF_MESSAGES.items()},
    }


def status_body(gate: Gate, ctx: RequestContext, status: Standing) -> dict[str, Any]:
    """Return the JSON of ``GET {prefix}/status`` for ``status``."""
    accepted = status.accepted_terms_version
    guardian_status = status.guardian_status
    if guardian_status == "confirmed" and status.guardians_confirmed < gate.guardians_required:
        guardian_status = "pending"  # the ledger marks the first confirmation; more guardians must still agree
    return {
        "campaign": gate.site.campaign,
        "subject_known": ctx.subject is not None,
        "current_terms_version": gate.terms_rule.version,
        "accepted_terms_version": accepted,
        "terms_current": accepted is not None and gate.terms_rule.accepts(accepted),
        "age_band": status.age_band,
        "guardian_status": guardian_status,
        "guardians_confirmed": status.guardians_confirmed,
        "guardians_required": gate.guardians_required if status.guardian_status != "not-required" else 0,
        "reconfirm": status.reconfirm,
        "reconfirm_due": status.reconfirm_due,
        "receipt_id": status.receipt_id,
        "missing": missing(status, gate.terms_rule, gate.age_rule, gate.guardians_required),
        "accept_url": gate.absolute_url(ctx, "/terms"),
    }

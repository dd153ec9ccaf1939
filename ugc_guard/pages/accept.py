"""``POST {prefix}/accept``: record an acceptance of the current terms with the age result.

Form posts (the terms page) need the form token and get a 303 to a validated ``next``; errors
re-render the page with an error summary. JSON posts need ``Content-Type: application/json`` and a
same-origin ``Origin`` when one is sent, and get JSON. Nothing is recorded unless every check
passes (:mod:`.judge` decides); a person below the minimum age leaves nothing but a counter (and,
for a subject with a recorded band, the lower band).
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp

from ..ledger import AgeResult, ClientInfo, LicenceShown, Receipt, TermsShown
from ..observe.events import emit
from ..policy.age import AgeMethod
from ..policy.types import duration_seconds
from ..problems import Problem
from ..rules.age import AgeJudgement, reconfirm_due
from ..rules.redirect import safe_next
from ..rules.standing import Standing
from ..subject import ensure_subject, user_addresses
from .csrf import same_origin
from .forms import birth_date_field, body_kind, parse_form, parse_json, read_body
from .judge import AcceptInput, AcceptRefusal, settle
from .notifier import GuardianMessage
from .terms import render_refusal, render_under_age, status_body, terms_language
from .tokens import new_token

if TYPE_CHECKING:
    from ..context import RequestContext
    from .service import Gate

__all__ = ["AcceptInput", "AcceptRefusal", "handle_accept"]

logger = logging.getLogger("ugc_guard.pages")


async def _standing(gate: Gate, ctx: RequestContext) -> Standing:
    """Return the request subject's standing read fresh from the ledger; an erased subject is dropped from
    the request (a new pseudonym is made for them where the subject is the cookie)."""
    if ctx.subject is None:
        return Standing()
    standing = await gate.standings.read(ctx.subject)
    if not standing.erased:
        return standing
    if gate.subjects.source != "cookie":
        raise Problem("subject-required", "this account's data was erased from this campaign; it cannot take part again under it")
    ctx.subject = None
    ensure_subject(ctx, gate.subjects)
    return Standing()


async def _record(
    gate: Gate, ctx: RequestContext, subject: str, given: AcceptInput, lang: str, method: str, result: AgeJudgement | None, emails: list[str]
) -> Receipt:
    policy = gate.policy
    now = _dt.datetime.now(_dt.UTC)
    terms = TermsShown(policy.terms.document_id, policy.terms.version, policy.terms.texts[lang].sha256, lang)
    licence = None
    if given.accept_licence:
        licence = LicenceShown(policy.licence.id, policy.licence.version, policy.licence.texts[lang].sha256)
    age = None
    if result is not None and policy.age.method != AgeMethod.eu_age_verification:  # an attestation is recorded already
        due = reconfirm_due(now.date(), result) if policy.age.reconfirm_at_majority else None
        age = AgeResult(result.band, str(policy.age.method), policy.age.assurance, due)
    receipt = await gate.ledger.record_acceptance(
        gate.campaign, subject, terms, age, collection_method=method, policy_digest=gate.policy_digest, licence=licence,
        client=ClientInfo(ctx.client, ctx.user_agent or None),
    )  # fmt: skip
    gate.forget(subject)
    emit(gate.site, "acceptance.recorded", subject=subject, entry_id=receipt.entry_id, terms_version=policy.terms.version, guardians=len(emails))
    ttl = duration_seconds(policy.age.guardian_token_ttl)
    own_known = bool(given.own_email and given.own_email.strip()) or bool(user_addresses(ctx.scope.get("user")))
    checks = {"address_differs_from_minor": True if own_known else None}
    for index, email in enumerate(emails, start=1):
        token = new_token(now, ttl)
        await gate.ledger.record_guardian_request(
            gate.campaign, subject, acceptance_id=receipt.entry_id, token_sha256=token.token_hash, expires_at=token.expires_at,
            guardian_email=email, guardian_index=index, language=lang, checks=checks,
        )  # fmt: skip
        message = GuardianMessage(
            to=email,
            link=gate.absolute_url(ctx, "/guardian/confirm?token=" + token.token),
            campaign_name=policy.campaign.name,
            language=lang,
            expires_at=token.expires_at.isoformat(timespec="seconds"),
        )
        try:
            await gate.notifier.send_guardian_link(message)
        except Exception:  # a mail server down must not lose the recorded acceptance; re-accepting resends
            logger.exception("ugc_guard: could not send the guardian link for campaign %s", gate.site.campaign)
    return receipt


async def handle_accept(gate: Gate, ctx: RequestContext) -> ASGIApp:
    kind = body_kind(ctx.headers)
    if kind is None:
        raise Problem("unsupported-media-type", "post the terms form (application/x-www-form-urlencoded) or JSON (application/json)")
    if kind == "json" and not same_origin(ctx.headers.get("origin"), ctx.headers.get("sec-fetch-site"), ctx.headers.get("host", "")):
        raise Problem("csrf-failed", "JSON accept posts must come from this site (Origin / Sec-Fetch-Site)")
    body = await read_body(ctx.receive, ctx.headers)
    if kind == "json":
        return await _accept_json(gate, ctx, parse_json(body))
    return await _accept_form(gate, ctx, parse_form(body))


async def _accept_json(gate: Gate, ctx: RequestContext, data: dict[str, Any]) -> ASGIApp:
    emails = data.get("guardian_emails") or ([data["guardian_email"]] if data.get("guardian_email") else [])
    fields_ok = (
        isinstance(data.get("terms_version"), str)
        and all(isinstance(data.get(name, False), bool) for name in ("accept_terms", "accept_licence"))
        and all(isinstance(data.get(name), str | None) for name in ("birth_date", "age_band", "lang", "own_email", "country"))
        and isinstance(emails, list) and all(isinstance(email, str) for email in emails)
    )  # fmt: skip
    if not fields_ok:
        raise Problem(
            "invalid-request",
            "expected {terms_version: str, accept_terms: true, accept_licence?: bool, birth_date: str, guardian_email?: str, own_email?: str}",
        )
    given = AcceptInput(
        data["terms_version"],
        data.get("accept_terms") is True,
        # The issue's JSON shape has no licence field: without accept_licence: true the acceptance
        # records the terms only (the licence is then granted per submission, see grants).
        data.get("accept_licence") is True,
        data.get("birth_date"),
        data.get("age_band"),
        tuple(emails),
        data.get("lang"),
        data.get("own_email"),
        country=data.get("country"),
    )
    lang = terms_language(gate, ctx, given.lang)
    standing = await _standing(gate, ctx)
    try:
        result, normalised = await settle(gate, ctx.subject, standing, given, own=user_addresses(ctx.scope.get("user")), require_licence=False)
    except AcceptRefusal as refusal:
        gate.refusals[refusal.code] += 1
        raise Problem(refusal.code, refusal.detail, accept_url=gate.absolute_url(ctx, "/terms")) from None
    subject = ensure_subject(ctx, gate.subjects)
    if subject is None:
        raise Problem("subject-required", "sign in to the site first; this campaign identifies people by their account")
    receipt = await _record(gate, ctx, subject, given, lang, "api:json", result, normalised)
    status = await gate.status(subject)
    signed = await gate.proof_log.issue_receipt(receipt.entry_id)  # the acceptance with its age result
    body = {"receipt": signed.to_dict(), "status": status_body(gate, ctx, status)}
    return JSONResponse(body, status_code=201, headers={"cache-control": "no-store"})


async def _accept_form(gate: Gate, ctx: RequestContext, form: dict[str, str]) -> ASGIApp:
    lang = terms_language(gate, ctx, form.get("lang"))
    next_url = safe_next(form.get("next"), gate.url(ctx, "/terms"))
    if not gate.forms.check(ctx.subject, form.get("csrf_token")):
        gate.refusals["csrf-failed"] += 1
        ensure_subject(ctx, gate.subjects)
        return render_refusal(gate, ctx, lang, next_url, AcceptRefusal("csrf-failed", "err_csrf", "form token"), 403)
    given = AcceptInput(
        form.get("terms_version", ""),
        form.get("accept_terms") == "yes",
        form.get("accept_licence") == "yes",
        birth_date_field(form),
        form.get("age_band"),
        tuple(email for email in (form.get("guardian_email", ""), form.get("guardian_email_2", "")) if email.strip()),
        form.get("lang"),
        form.get("own_email"),
        country=form.get("country"),
    )
    standing = await _standing(gate, ctx)
    subject = ctx.subject
    assert subject is not None  # checked by the form token, or made anew for an erased one
    try:
        result, emails = await settle(gate, subject, standing, given, own=user_addresses(ctx.scope.get("user")), require_licence=True)
    except AcceptRefusal as refusal:
        gate.refusals[refusal.code] += 1
        if refusal.code == "age-below-minimum":
            return render_under_age(gate, ctx, lang, refusal)
        return render_refusal(gate, ctx, lang, next_url, refusal, Problem(refusal.code).status, standing, form)
    await _record(gate, ctx, subject, given, lang, "click-wrap:unticked-checkbox", result, emails)
    return RedirectResponse(next_url, status_code=303, headers={"cache-control": "no-store"})


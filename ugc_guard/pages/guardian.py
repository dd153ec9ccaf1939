"""``{prefix}/guardian/confirm``: a parent or guardian confirms on a minor's behalf.

The link carries a one-time token; only its hash is stored and looked up, in this campaign only.
A used, expired, superseded or unknown token gets the same 410 answer (no oracle). The form token
is bound to the token hash, so the page is CSRF-safe without a cookie. A valid link opened with the
minor's own subject (their cookie, or their account) is refused (403 ``guardian-self-confirm``):
consent must come from someone else. What was checked is recorded with the confirmation.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp

from ..ledger import ClientInfo, GuardianRequest, GuardianRequestUsed, LicenceShown, TermsShown
from ..observe.events import emit
from ..problems import Problem
from .catalog import words
from .forms import body_kind, parse_form, read_body
from .render import html_page, text_html
from .terms import query_value, terms_language
from .tokens import hash_token, token_shape_ok

if TYPE_CHECKING:
    from ..context import RequestContext
    from .service import Gate

__all__ = ["handle_guardian"]

RELATIONSHIPS = ("parent", "guardian", "other-parental-authority")


async def _pending(gate: Gate, token: str | None) -> GuardianRequest | None:
    """Return the open request for ``token``, or None when it is unknown, used, expired or superseded."""
    if not token_shape_ok(token):
        return None
    assert token is not None
    request = await gate.ledger.find_guardian_request(gate.campaign, hash_token(token))
    if request is None or request.used or request.expires_at <= _dt.datetime.now(_dt.UTC):
        return None
    status = await gate.standings.read(request.subject)
    if request.acceptance_id is None or status.receipt_id != str(request.acceptance_id) or request.terms_version != gate.terms_rule.version:
        return None  # the minor accepted again, or the terms changed: this link covers an old acceptance
    return request


def _refuse(gate: Gate, ctx: RequestContext, lang: str, code: str, detail: str, key: str) -> ASGIApp:
    """Return the refusal as problem+json for API clients, else as the message page (same status)."""
    gate.refusals[code] += 1
    if "application/json" in ctx.headers.get("accept", "") and "text/html" not in ctx.headers.get("accept", ""):
        return Problem(code, detail)
    vocabulary = words(lang)
    return html_page(
        "message.html", lang, gate.policy, Problem(code).status, heading=vocabulary["error_title"], message=vocabulary[key],
        alert=True, receipt=None, link=None, link_text="",
    )  # fmt: skip


def _invalid(gate: Gate, ctx: RequestContext, lang: str) -> ASGIApp:
    return _refuse(gate, ctx, lang, "guardian-token-invalid", "this guardian link was already used, has expired or is unknown here", "err_token")


def _self_confirm(gate: Gate, ctx: RequestContext, lang: str) -> ASGIApp:
    detail = "the guardian must confirm from their own device: this request carries the minor's own subject"
    return _refuse(gate, ctx, lang, "guardian-self-confirm", detail, "err_g_self")


def _page(gate: Gate, ctx: RequestContext, lang: str, token: str, errors: list[str], status_code: int = 200) -> ASGIApp:
    policy = gate.policy
    return html_page(
        "guardian.html",
        lang,
        policy,
        status_code,
        campaign=policy.campaign.name,
        errors=errors,
        terms_version=policy.terms.version,
        licence_id=policy.licence.id,
        licence_version=policy.licence.version,
        terms_html=text_html(str(policy.terms.texts[lang].path), policy.terms.texts[lang].text),
        licence_html=text_html(str(policy.licence.texts[lang].path), policy.licence.texts[lang].text),
        action=gate.url(ctx, "/guardian/confirm"),
        csrf_token=gate.forms.make("g" + hash_token(token)),
        token=token,
    )


async def handle_guardian(gate: Gate, ctx: RequestContext) -> ASGIApp:
    if ctx.method != "POST":
        tokens = parse_qs(ctx.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).get("token", [])
        token = tokens[0] if len(tokens) == 1 else None  # a link carries one token; two are no link of ours
        request = await _pending(gate, token)
        lang = terms_language(gate, ctx, query_value(ctx, "lang") or ((request.language or "en") if request else None))
        if request is None or token is None:
            return _invalid(gate, ctx, lang)
        if ctx.subject is not None and ctx.subject == request.subject:
            return _self_confirm(gate, ctx, lang)
        return _page(gate, ctx, lang, token, [])
    if body_kind(ctx.headers) != "form":
        raise Problem("unsupported-media-type", "post the confirmation form (application/x-www-form-urlencoded)")
    form = parse_form(await read_body(ctx.receive, ctx.headers))
    token = form.get("token", "")
    lang = terms_language(gate, ctx, form.get("lang"))
    request = await _pending(gate, token)
    if request is None:
        return _invalid(gate, ctx, lang)
    if ctx.subject is not None and ctx.subject == request.subject:
        return _self_confirm(gate, ctx, lang)
    vocabulary = words(lang)
    if not gate.forms.check("g" + hash_token(token), form.get("csrf_token")):
        gate.refusals["csrf-failed"] += 1
        return _page(gate, ctx, lang, token, [vocabulary["err_csrf"]], 403)
    name = " ".join(form.get("guardian_name", "").split())
    relationship = form.get("relationship", "")
    if not (0 < len(name) <= 200) or relationship not in RELATIONSHIPS or form.get("accept_terms") != "yes" or form.get("accept_licence") != "yes":
        return _page(gate, ctx, lang, token, [vocabulary["err_g_fields"]], 422)
    policy = gate.policy
    terms = TermsShown(policy.terms.document_id, policy.terms.version, policy.terms.texts[lang].sha256, lang)
    licence = LicenceShown(policy.licence.id, policy.licence.version, policy.licence.texts[lang].sha256)
    checks = {"token_possession": True, "minor_session": False, "session": "other-subject" if ctx.subject else "none"}
    try:
        receipt = await gate.ledger.record_guardian_confirmation(
            gate.campaign, request.request_id, guardian_name=name, relationship=relationship, terms=terms, licence=licence,
            policy_digest=gate.policy_digest, client=ClientInfo(ctx.client, ctx.user_agent or None), checks=checks,
        )  # fmt: skip
    except GuardianRequestUsed:
        return _invalid(gate, ctx, lang)
    gate.forget(request.subject)
    emit(gate.site, "guardian.confirmed", subject=request.subject, entry_id=receipt.entry_id)
    recorded_at = _dt.datetime.fromisoformat(receipt.recorded_at).isoformat()
    shown: dict[str, Any] = {"entry_id": str(receipt.entry_id), "entry_hash": receipt.hash, "recorded_at": recorded_at}
    return html_page(
        "message.html", lang, policy, 200, heading=vocabulary["g_done_title"], message=vocabulary["g_done_text"],
        alert=False, receipt=shown, link=None, link_text="",
    )  # fmt: skip

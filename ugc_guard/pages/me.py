"""The subject's self-service under the policy prefix: ``GET me``, ``GET me/export``, ``POST me/withdraw``.

The subject is the one the subject stage found (signed cookie or ``scope["user"]``); without one,
every endpoint answers 401 ``subject-required`` (the page as HTML for browsers). Withdrawal posts
are CSRF-checked like the gate's: a form token bound to the subject, or a same-origin JSON post.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import anyio.to_thread
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp

from ..hooks import HookFailed, call_hook
from ..ledger import ClientInfo
from ..observe.events import emit
from ..problems import Problem
from ..rules.language import choose_language
from .catalog import gettext, ngettext
from .csrf import same_origin
from .forms import body_kind, parse_form, parse_json, read_body
from .guardian_view import guardian_view
from .render import html_page
from .routes import Handler, Route
from .subjects import export_subject
from .withdraw import NotTheirs, Scope, file_refs, parse_target, plan_withdrawal, withdrawal_event

if TYPE_CHECKING:
    from ..context import RequestContext
    from .service import Gate

__all__ = ["MePages"]

logger = logging.getLogger("ugc_guard.rights")
MAX_REASON = 200


class MePages:
    """The subject's own page, export and withdrawal; every route needs a subject (401 without one)."""

    def __init__(self, gate: Gate) -> None:
        site = gate.site
        policy = site.policy
        self.site = site
        self.gate = gate
        self.policy = policy
        self.forms = gate.forms
        self.controller = {"name": policy.controller.name, "contact": str(policy.controller.contact),
                           "privacy_url": str(policy.controller.privacy_url) if policy.controller.privacy_url else None}
        prefix = policy.prefix.casefold()
        self.prefix = prefix + "/me/"
        """Every other path under it is ours too: 404, never the app's."""
        self.routes: dict[str, Route] = {
            prefix + "/me": (("GET", "HEAD"), self._known(self.page, self.unknown)),
            prefix + "/me/export": (("GET", "HEAD"), self._known(self.export)),
            prefix + "/me/withdraw": (("POST",), self._known(self.withdraw)),
        }

    def _known(self, handler: Handler, otherwise: Callable[[RequestContext], ASGIApp] | None = None) -> Handler:
        async def serve(ctx: RequestContext) -> ASGIApp:
            if ctx.subject is not None:
                return await handler(ctx)
            if otherwise is not None:
                return otherwise(ctx)
            return Problem("subject-required", "no valid subject cookie; open the terms page on this device first")

        return serve

    # -- helpers --------------------------------------------------------------------------------
    def _query(self, ctx: RequestContext, name: str) -> str | None:
        values = parse_qs(ctx.scope.get("query_string", b"").decode("latin-1")).get(name)
        return values[0] if values else None

    def _lang(self, ctx: RequestContext, requested: str | None = None) -> str:
        terms = self.policy.terms
        return str(choose_language(requested or self._query(ctx, "lang"), ctx.headers.get("accept-language"), terms.texts,
                                   terms.default_language))

    def _url(self, ctx: RequestContext, page: str) -> str:
        return str(ctx.scope.get("root_path", "")).rstrip("/") + self.policy.prefix + page

    async def _export(self, subject: str) -> dict[str, Any]:
        call = functools.partial(export_subject, self.site.ledger.sync, self.site.campaign, subject,
                                 controller=self.controller, portrait_withdrawable=self.policy.portrait.withdrawable)
        return await anyio.to_thread.run_sync(call)

    # -- endpoints ------------------------------------------------------------------------------
    def unknown(self, ctx: RequestContext) -> ASGIApp:
        if "text/html" not in (ctx.headers.get("accept") or ""):
            return Problem("subject-required", "no valid subject cookie; open the terms page on this device first")
        lang = self._lang(ctx)
        return html_page("message.html", lang, self.policy, 401, heading=gettext(lang, "me_unknown_title"),
                         message=gettext(lang, "me_unknown_text", contact=self.controller["contact"]), alert=False,
                         receipt=None, link=self._url(ctx, "/terms") + f"?lang={lang}", link_text=gettext(lang, "me_terms_link"))

    async def page(self, ctx: RequestContext) -> ASGIApp:
        from .render import me_page

        subject = ctx.subject or ""
        lang = self._lang(ctx)
        document = await self._export(subject)
        done = self._query(ctx, "done")
        notice = None
        if done == "processing":
            notice = gettext(lang, "me_done_processing")
        elif done is not None and done.isdigit():
            count = int(done)
            notice = ngettext(lang, "me_done_withdrawn", "me_done_withdrawn_plural", count) if count else gettext(lang, "me_done_nothing")
        guardian = guardian_view(document["entries"], await self.gate.status(subject), self.gate.guardians_required)
        submissions = document["submissions"]
        return me_page(
            lang, self.policy, campaign=self.policy.campaign.name, languages=sorted(self.policy.terms.texts),
            controller=self.controller["name"], contact=self.controller["contact"], subject=subject, notice=notice,
            acceptances=document["acceptances"], submissions=submissions,
            any_withdrawable=any(item["can_withdraw_portrait"] for item in submissions),
            withdraw_action=self._url(ctx, "/me/withdraw"), export_url=self._url(ctx, "/me/export"),
            csrf_token=self.forms.make(subject),
            guardian=guardian,
        )

    async def export(self, ctx: RequestContext) -> ASGIApp:
        document = await self._export(ctx.subject or "")
        name = f"ugc-guard-export-{self.site.campaign}.json"
        return JSONResponse(document, headers={"cache-control": "no-store", "content-disposition": f'attachment; filename="{name}"',
                                               "x-content-type-options": "nosniff"})

    async def withdraw(self, ctx: RequestContext) -> ASGIApp:
        subject = ctx.subject or ""
        kind = body_kind(ctx.headers)
        if kind is None:
            raise Problem("unsupported-media-type", "send application/x-www-form-urlencoded or application/json")
        body = await read_body(ctx.receive, ctx.headers)
        if kind == "form":
            fields: dict[str, Any] = parse_form(body)
            if not self.forms.check(subject, fields.get("csrf_token")):
                raise Problem("csrf-failed", "the form is outdated or was not made for you; reload the page")
        else:
            fields = parse_json(body)
            if not same_origin(ctx.headers.get("origin"), ctx.headers.get("sec-fetch-site"), ctx.headers.get("host") or ""):
                raise Problem("csrf-failed", "cross-site JSON posts are not accepted")
        scope = fields.get("scope", "portrait")
        if scope not in ("portrait", "processing"):
            raise Problem("invalid-request", "scope must be 'portrait' or 'processing'")
        if scope == "portrait" and not self.policy.portrait.withdrawable:
            raise Problem("invalid-request", f"this campaign's portrait consent cannot be withdrawn here; write to {self.controller['contact']}")
        try:
            target = parse_target(fields.get("submission", "all"))
        except ValueError as error:
            raise Problem("invalid-request", str(error)) from None
        reason = fields.get("reason") or None
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
            raise Problem("invalid-request", f"reason must be text of at most {MAX_REASON} characters")
        result = await self._withdraw(ctx, subject, scope, target, reason)
        if kind == "form":
            done = "processing" if scope == "processing" else str(len(result["withdrawn"]))
            lang = self._lang(ctx, fields.get("lang"))
            return RedirectResponse(self._url(ctx, "/me") + "?" + urlencode({"lang": lang, "done": done}), status_code=303,
                                    headers={"cache-control": "no-store"})
        return JSONResponse(result, headers={"cache-control": "no-store"})

    async def _withdraw(self, ctx: RequestContext, subject: str, scope: Scope, target: Any, reason: str | None) -> dict[str, Any]:
        ledger, campaign = self.site.ledger, self.site.campaign
        own = await ledger.subject_submissions(campaign, subject)
        try:
            ids = plan_withdrawal(own, scope, target)
        except NotTheirs:
            raise Problem("not-found", "you have no submission with this id") from None
        result: dict[str, Any] = {"scope": scope, "withdrawn": ids, "receipt": None, "app_notified": None}
        if not ids and scope == "portrait":
            return result
        receipt = await ledger.withdraw_consent(campaign, subject, scope, ids, reason=reason,
                                                client=ClientInfo(ctx.client, ctx.user_agent or None))
        result["receipt"] = receipt.to_dict()
        emit(self.site, "withdrawal.recorded", subject=subject, scope=scope, entry_id=receipt.entry_id, files=file_refs(own, ids))
        if scope == "processing":
            self._forget_status(subject)
        hook = self.policy.hooks.withdrawal
        if hook and ids:
            event = withdrawal_event(campaign, subject, scope, file_refs(own, ids), receipt.entry_id, receipt.recorded_at)
            try:
                await call_hook(hook, event)
                result["app_notified"] = True
            except HookFailed as error:
                # the withdrawal is recorded and the files are on the takedown list; the app can poll it
                logger.warning("ugc_guard: withdrawal hook failed for entry %s: %s", receipt.entry_id, error)
                result["app_notified"] = False
        return result

    def _forget_status(self, subject: str) -> None:
        self.gate.forget(subject)

"""The console's pages: search, a submission's case, receipt checks, the takedown list and the privacy
requests due, each list also as CSV and JSON (``?format=csv`` / ``?format=json``)."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import importlib.resources
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..ledger import LedgerError, SchemaOutdated
from ..problems import Problem, console_login_required, ledger_not_ready, ledger_unavailable
from . import data as console_data
from .auth import ConsoleAuth, Session
from .data import ConsoleData
from .exports import export

__all__ = ["MAX_RECEIPT_BYTES", "Answer", "Views"]

T = TypeVar("T")
Answer = Response | Problem
"""What a page handler returns: a response, or a refusal (a :class:`Problem` is an ASGI app too)."""
MAX_RECEIPT_BYTES = 1 << 20
"""A receipt is a few kilobytes; a form post larger than this is refused (413 form-too-large)."""


def unreadable(error: LedgerError) -> Problem:
    """Return the 503 for a ledger the console cannot read: not migrated yet, or not reachable."""
    if isinstance(error, SchemaOutdated):
        return ledger_not_ready(str(error))
    return ledger_unavailable("the ledger cannot be read right now; try again in a minute")


class Views:
    """The page handlers, sharing the data source, the authentication and one template environment."""

    def __init__(self, data: ConsoleData, auth: ConsoleAuth, *, personal: bool) -> None:
        self.data = data
        self.auth = auth
        self.personal = personal
        self.limiter = anyio.CapacityLimiter(4)
        self.env = Environment(loader=PackageLoader("ugc_guard.console", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def base(request: Request) -> str:
        """Return the path the console is mounted at (``""`` at the root)."""
        return str(request.scope.get("root_path", "")).rstrip("/")

    def render(self, request: Request, template: str, session: Session | None, *, status: int = 200,
               **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            base=self.base(request), session=session, personal=self.personal, campaign=self.data.campaign,
            login_form=self.auth.login_form, **context)
        return HTMLResponse(html, status_code=status)

    def signed_in(self, request: Request) -> Session | Answer:
        """Return the session, or the answer for someone not signed in (303 to the login form, or 401)."""
        session = self.auth.session(request)
        if session is not None:
            return session
        if self.auth.login_form:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{self.base(request)}/login?{urllib.parse.urlencode({'next': target})}", 303)
        return console_login_required()

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a ledger read in a worker thread (the database calls are synchronous)."""
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=self.limiter)

    @staticmethod
    def same_origin(request: Request) -> bool:
        """Whether a POST comes from a page of this site (Origin, when the browser sends it, names our host;
        Sec-Fetch-Site, when sent, is not another site)."""
        if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return False
        origin = request.headers.get("origin")
        return origin is None or urllib.parse.urlsplit(origin).netloc == request.headers.get("host", "")

    @staticmethod
    def declared_length(request: Request) -> int | None:
        """Return the body length the request declares (Content-Length), or None when it declares none or not a number."""
        value = request.headers.get("content-length", "")
        return int(value) if value.isascii() and value.isdigit() else None

    # -- pages ---------------------------------------------------------------------------------
    async def search(self, request: Request) -> Answer:
        session = self.signed_in(request)
        if not isinstance(session, Session):
            return session
        query = request.query_params.get("q", "")[:200]
        try:
            found = await self.run(self.data.search, query) if query.strip() else None
        except LedgerError as error:
            return unreadable(error)
        if found is not None and request.query_params.get("format") in ("csv", "json"):
            return export(found.rows, request.query_params["format"], "submissions")
        return self.render(request, "search.html", session, query=query, found=found)

    async def submission(self, request: Request) -> Answer:
        session = self.signed_in(request)
        if not isinstance(session, Session):
            return session
        submission_id = int(request.path_params["submission_id"])
        try:
            case = await self.run(self.data.case, submission_id)
        except LedgerError as error:
            return unreadable(error)
        if case is None:
            return Problem("not-found", f"no submission {submission_id} in campaign {self.data.campaign}")
        if request.query_params.get("format") == "json":
            rows = [{"current_status": case.status, **view.as_dict()}
                    for view in [v for v in (case.age, case.acceptance) if v] + [case.submission, *case.entries]]
            return export(rows, "json", f"submission-{submission_id}")
        texts = {view.id: self.data.text(view.data.get("text_sha256"))
                 for view in [case.acceptance, *case.entries] if view is not None and view.data.get("text_sha256")}
        return self.render(request, "submission.html", session, case=case, texts=texts)

    async def receipt_form(self, request: Request) -> Answer:
        session = self.signed_in(request)
        if not isinstance(session, Session):
            return session
        return self.render(request, "receipt.html", session, report=None, error=None, pasted="")

    async def receipt_check(self, request: Request) -> Answer:
        session = self.signed_in(request)
        if not isinstance(session, Session):
            return session
        if (self.declared_length(request) or MAX_RECEIPT_BYTES + 1) > MAX_RECEIPT_BYTES:
            return Problem("form-too-large", f"a receipt check posts at most {MAX_RECEIPT_BYTES} bytes (with its length)")
        try:
            form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_RECEIPT_BYTES)
        except Exception:  # python-multipart's errors for a malformed body: a client error, never a 500
            return Problem("invalid-request", "the form could not be read; send it from the console's receipt page")
        token = form.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf) or not self.same_origin(request):
            return Problem("csrf-failed", "reload the receipt page and send the form again")
        upload, pasted = form.get("file"), form.get("receipt")
        text = pasted if isinstance(pasted, str) else ""
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(MAX_RECEIPT_BYTES + 1)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
        report, error = None, None
        if not text.strip():
            error = "paste a receipt (JSON) or choose its file"
        else:
            try:
                report = await self.run(self.data.check_receipt, text)
            except ValueError as failure:
                error = str(failure)
            except LedgerError as failed:
                return unreadable(failed)
        status = 200 if report is not None else 422
        return self.render(request, "receipt.html", session, report=report, error=error, pasted=text[:20_000], status=status)

    async def takedowns(self, request: Request) -> Answer:
        session = self.signed_in(request)
        if not isinstance(session, Session):
            return session
        wanted = request.query_params.get("format")
        try:
            rows = await self.run(functools.partial(self.data.takedowns, everything=wanted in ("csv", "json")))
        except LedgerError as error:
            return unreadable(error)
        if wanted in ("csv", "json"):
            return export(rows, wanted, "takedowns")
        return self.render(request, "takedowns.html", session, rows=rows[: console_data.LIMIT], more=len(rows) > console_data.LIMIT)

    async def requests_due(self, request: Request) -> Answer:
        session = self.signed_in(request)
        if not isinstance(session, Session):
            return session
        show_all = request.query_params.get("all") == "1"
        today = dt.datetime.now(dt.UTC).date()
        try:
            rows = await self.run(self.data.requests_due, today, open_only=not show_all)
        except LedgerError as error:
            return unreadable(error)
        if request.query_params.get("format") in ("csv", "json"):
            return export(rows, request.query_params["format"], "privacy-requests")
        return self.render(request, "requests.html", session, rows=rows, show_all=show_all, today=today.isoformat())

    async def stylesheet(self, request: Request) -> Answer:
        css = importlib.resources.files("ugc_guard.console").joinpath("templates/console.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css")

"""``application/problem+json`` refusals (RFC 9457) with stable codes.

Every refusal ugc_guard sends is one of the codes in :data:`CATALOGUE`; ``docs/problems.md`` is
generated from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import Receive, Scope, Send

__all__ = ["CATALOGUE", "Problem", "console_login_required", "guard_not_configured", "ledger_not_ready", "ledger_unavailable", "problem_type"]

# code -> (status, title). Codes are an API: never rename one.
CATALOGUE: dict[str, tuple[int, str]] = {
    "unknown-host": (421, "This host is not served by any campaign policy"),
    "automated-access-forbidden": (403, "Automated access is not allowed"),
    "rate-limited": (429, "Too many requests"),
    "rate-limit-unavailable": (503, "Rate limits cannot be checked right now"),
    "terms-not-accepted": (403, "The terms have not been accepted"),
    "terms-outdated": (403, "The terms have changed and must be accepted again"),
    "age-not-verified": (403, "Age has not been verified"),
    "age-below-minimum": (403, "Below the minimum age for this campaign"),
    "guardian-consent-pending": (403, "A parent or guardian has not confirmed yet"),
    "subject-required": (401, "No valid subject cookie"),
    "csrf-failed": (403, "The form token is missing or invalid"),
    "invalid-request": (400, "The request is not valid"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "licence-not-granted": (403, "The content licence was not granted"),
    "portrait-consent-missing": (403, "Portrait consent or the declaration about other people is missing"),
    "upload-too-large": (413, "The upload is larger than allowed"),
    "malformed-upload": (400, "The upload is not a well-formed request body"),
    "upload-timeout": (408, "The upload did not arrive in time"),
    "unsupported-media-type": (415, "This type of content is not accepted"),
    "content-rejected": (422, "The content failed screening"),
    "scanner-unavailable": (503, "The virus scanner did not answer"),
    "storage-unavailable": (503, "The server cannot store uploads for screening right now"),
    "ledger-unavailable": (503, "The acceptance ledger cannot record this right now"),
    "form-too-large": (413, "The form post is larger than allowed"),
    "birth-date-invalid": (422, "The date of birth is not a valid past date"),
    "terms-version-mismatch": (409, "Only the current terms version can be accepted"),
    "guardian-token-invalid": (410, "The guardian link is used, expired or unknown"),
    "bad-path": (400, "The request path is ambiguous on an upload route"),
    "bad-host": (400, "The Host header is not a bare host name"),
    "wrong-host": (421, "This upload route belongs to another campaign host"),
    "age-redeclared": (409, "An age band already recorded cannot be raised by a new declaration"),
    "guardian-self-confirm": (403, "A guardian must confirm from their own device and address, not the minor's"),
    "age-proof-invalid": (400, "The age proof was not accepted"),
    "age-proof-unavailable": (503, "Age proofs cannot be checked right now"),
    "subject-erased": (410, "The data recorded under this pseudonym was erased"),
    "guard-not-configured": (503, "The upload guard cannot start with its current settings"),
    "ledger-not-ready": (503, "The acceptance ledger's tables are missing or older than this version needs"),
    "console-login-required": (401, "Sign in to the ledger console first"),
}

QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded"


def problem_type(code: str) -> str:
    """Return the problem ``type`` URI for a code (the IANA type for rate limits)."""
    return QUOTA_EXCEEDED if code == "rate-limited" else f"tag:ugc-guard,2026:problem:{code}"


class Problem(Exception):
    """A refusal. Raise it inside ugc_guard, or send it: a Problem is also an ASGI app.

    ``extra`` members are added to the JSON body (e.g. ``accept_url``); ``headers`` to the response.
    """

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        if code not in CATALOGUE:
            raise ValueError(f"unknown problem code {code!r}")
        default_status, title = CATALOGUE[code]
        self.code = code
        self.status = status or default_status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(f"{code}: {detail or title}")

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": problem_type(self.code), "title": self.title, "status": self.status, "code": self.code}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # echoed values (a file name, a host) stay data: no raw <, > or & even if the JSON is sniffed or embedded
        observed = scope.get("ugc_guard.observed")  # set by ugc_guard.observe: count by code, name the request
        instance = observed.instance if observed is not None else None
        text = json.dumps(self.body(instance), ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        payload = text.encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        if observed is not None:
            observed.code = self.code
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload if scope.get("method") != "HEAD" else b""})


def ledger_unavailable(detail: str = "the acceptance ledger cannot be reached; try again in a minute") -> Problem:
    """Return the 503 ``ledger-unavailable`` refusal: nothing is recorded, so nothing is accepted (fail closed)."""
    return Problem("ledger-unavailable", detail)


def ledger_not_ready(detail: str) -> Problem:
    """Return the 503 ``ledger-not-ready`` refusal: a PostgreSQL ledger without the newest schema
    (``detail`` names ``ugc-guard db upgrade``); nothing is served until it is migrated."""
    return Problem("ledger-not-ready", detail, headers={"Retry-After": "60"})


def guard_not_configured(detail: str) -> Problem:
    """Return the 503 ``guard-not-configured`` refusal: a policy or setting that cannot be used, on a
    server that runs no ASGI lifespan (under lifespan the app does not start); ``detail`` names the setting."""
    return Problem("guard-not-configured", detail)


def console_login_required(detail: str = "the console is mounted behind the application's own authentication, "
                           "and this request is not signed in") -> Problem:
    """Return the 401 ``console-login-required`` refusal of the ledger console (docs/console.md): no
    signed-in ``scope["user"]`` from the surrounding app, and no built-in login configured."""
    return Problem("console-login-required", detail)

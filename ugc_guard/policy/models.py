"""The campaign policy: one YAML file per campaign site, loaded into these frozen models.

Each section is a small model; the upload and robot sections live in their own modules.
Sources for the legal facts are in ``docs/domain.md`` (domain notes, seeds 000–004).
"""

from __future__ import annotations

import datetime as _dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, EmailStr, Field, SecretStr, field_validator, model_validator

from .age import Age
from .age import AgeMethod as AgeMethod  # the age section lives in age.py; these names stay importable here
from .age import Notifier as Notifier
from .age import SmtpNotifier as SmtpNotifier
from .base import Section
from .look import Look
from .observe import Observe
from .scraping import RateLimits, Scraping
from .secret import JwkFile, SecretSetting, drop_empty_secrets, secret_bytes
from .types import Duration, TextFile
from .uploads import Uploads

Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 language code, e.g. en or nl")]
TextFiles = Annotated[
    dict[Language, TextFile],
    Field(min_length=1, description="One text file per language, relative to the policy file."),
]

_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_HOST_RE = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:]+\]$")


class Campaign(Section):
    id: str = Field(pattern=_SLUG)
    """Stable campaign id, recorded with every ledger entry (lowercase letters, digits, dashes)."""
    name: str = Field(min_length=1, max_length=200)
    """Name shown to people on the terms page."""
    hosts: list[str] = Field(min_length=1)
    """Host names this campaign site answers on (no port); ``*.example.com`` matches one sub-level."""
    ends: _dt.date | None = None
    """Last day of the campaign: the anchor for retention periods measured from the campaign end."""
    origin: AnyHttpUrl | None = None
    """Scheme, host and port every absolute link is built from (guardian e-mails, ``accept_url``), e.g.
    ``https://upload.example.com``; default ``https://`` and the first host that is not a wildcard.
    Links are never built from the request's Host header."""

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        cleaned = [host.strip().lower().rstrip(".") for host in hosts]
        for host in cleaned:
            if not _HOST_RE.match(host):
                raise ValueError(f"{host!r} is not a host name; write it without scheme or port, e.g. upload.example.com")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a host name is listed twice")
        return cleaned

    @field_validator("origin")
    @classmethod
    def _origin(cls, origin: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if origin is not None and ((origin.path or "/") != "/" or origin.query or origin.fragment or origin.username):
            raise ValueError(f"{str(origin)!r} is not an origin; write only the scheme, host and port, e.g. https://upload.example.com")
        return origin

    @model_validator(mode="after")
    def _origin_host(self) -> Campaign:
        if self.origin is None and all(host.startswith("*.") for host in self.hosts):
            raise ValueError("origin is needed when every host is a wildcard (links need one host to point to)")
        return self

    @property
    def base_url(self) -> str:
        """The origin absolute links start with, without a trailing slash."""
        if self.origin is not None:
            return str(self.origin).rstrip("/")
        return "https://" + next(host for host in self.hosts if not host.startswith("*."))


class Controller(Section):
    name: str = Field(min_length=1)
    """The data controller: the organisation responsible for the personal data."""
    contact: EmailStr
    """Where people send privacy requests (access, erasure, withdrawal)."""
    address: str | None = None
    privacy_url: AnyHttpUrl | None = None
    """The full privacy statement."""


class Terms(Section):
    document_id: str = Field(pattern=_SLUG)
    """Id of the terms document; with ``version`` it identifies the exact text accepted."""
    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    """Current version; an acceptance of another version is not current."""
    requires_reacceptance: bool = True
    """False marks this version as a revision that keeps acceptances of ``keeps_acceptances_of`` valid."""
    keeps_acceptances_of: list[str] = []
    """Earlier versions whose acceptances stay valid when ``requires_reacceptance`` is false."""
    default_language: Language = "en"
    texts: TextFiles
    """The terms text per language; its SHA-256 is recorded with every acceptance."""

    @model_validator(mode="after")
    def _revisions(self) -> Terms:
        if self.requires_reacceptance and self.keeps_acceptances_of:
            raise ValueError("keeps_acceptances_of only applies when requires_reacceptance is false")
        if not self.requires_reacceptance and not self.keeps_acceptances_of:
            raise ValueError("requires_reacceptance: false needs keeps_acceptances_of, the versions that stay valid")
        if self.default_language not in self.texts:
            raise ValueError(f"default_language {self.default_language!r} has no entry in texts")
        return self

    def accepts(self, version: str) -> bool:
        """Return whether an acceptance of ``version`` counts as acceptance of the current terms."""
        return version == self.version or (not self.requires_reacceptance and version in self.keeps_acceptances_of)


class SubjectSettings(Section):
    source: Literal["cookie", "scope-user"] = "cookie"
    """``cookie``: a random pseudonymous id in a signed cookie, made when a person first opens the terms
    page; ``scope-user``: the app's authenticated ``scope["user"]`` (Starlette's AuthenticationMiddleware
    must wrap UGCGuard, i.e. be added after it), kept only as a keyed hash."""


class Right(StrEnum):
    modify = "modify"
    adapt = "adapt"
    publish = "publish"
    copy = "copy"
    display = "display"
    republish = "republish"
    communicate_to_public = "communicate_to_public"
    sublicense = "sublicense"


class Warranty(StrEnum):
    owns_rights_or_permission = "owns_rights_or_permission"
    """The uploader holds all rights in the content or has the third parties' permission."""
    content_lawful = "content_lawful"
    """Not obscene, defamatory, discriminatory, threatening, pornographic, harassing or hateful."""


class Licence(Section):
    id: str = Field(pattern=r"^LicenseRef-[A-Za-z0-9.-]+$")
    """SPDX-style licence id, e.g. LicenseRef-onscreen-ugc."""
    version: str = Field(min_length=1, max_length=64)
    texts: TextFiles
    rights: list[Right] = list(Right)
    territory: str = "worldwide"
    exclusive: bool = False
    royalty_free: bool = True
    irrevocable: bool = True
    sublicensable: bool = True
    warranties: list[Warranty] = list(Warranty)

    @model_validator(mode="after")
    def _coherent(self) -> Licence:
        if self.sublicensable != (Right.sublicense in self.rights):
            raise ValueError("sublicensable and the sublicense right must agree")
        if len(set(self.rights)) != len(self.rights):
            raise ValueError("a right is listed twice")
        return self


class Portrait(Section):
    require_own_consent: bool = True
    """The uploader consents to use of their own portrait (Auteurswet art. 19–21: consent, not transfer)."""
    require_others_declaration: bool = True
    """The uploader declares every other depicted person consented."""
    withdrawable: bool = True
    """Portrait consent is personal-data consent and can be withdrawn (GDPR Art. 7(3))."""


class RetentionRule(Section):
    period: Duration
    anchor: Literal["uploaded", "campaign_end", "last_use"] = "uploaded"
    """What the period is counted from."""


class Retention(Section):
    unused_submissions: RetentionRule | None = None
    """Footage never used in a production (seed 001: 3 months)."""
    submissions: RetentionRule | None = None
    """Every uploaded object (seed 002: at most 90 days)."""
    personal_data: RetentionRule | None = None
    """Personal fields in the ledger; after it the subject key is destroyed."""
    logs: RetentionRule | None = None
    """Rate-limit and request-log data (seed 002: at most 1 year)."""


class Privacy(Section):
    client_address: Literal["keyed-hash", "truncated", "none"] = "keyed-hash"
    """How the client address is kept as evidence: an HMAC, the /24 (IPv4) or /48 (IPv6) prefix, or not at all."""
    user_agent: Literal["hash", "none"] = "hash"


class Hooks(Section):
    withdrawal: str | None = None
    """``package.module:function`` or an https webhook URL called when a subject withdraws consent."""
    content_deletion: str | None = None
    """Called with the content SHA-256 of files to delete (erasure, retention)."""

    @field_validator("withdrawal", "content_deletion")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is None or re.match(r"^https?://", value) or re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", value):
            return value
        raise ValueError(f"{value!r} is neither module:function nor an http(s) URL")


class LedgerSettings(Section):
    url: str = "sqlite:///ugc-ledger.sqlite3"
    """SQLAlchemy URL: a SQLite file (relative to the working directory) or postgresql+psycopg://…"""
    connect_timeout: float = Field(5.0, gt=0, le=60)
    """Seconds before an unreachable database counts as unavailable."""
    retired_keys: tuple[JwkFile, ...] = ()
    """Public signing keys (JWK or JWKS files) still published as retired after their secret was dropped."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql(\+psycopg)?)://", value):
            raise ValueError(f"{value!r} is not a supported ledger URL; use sqlite:///path.sqlite3 or postgresql+psycopg://host/db")
        return value


class Policy(Section):
    """A campaign site's whole policy."""

    campaign: Campaign
    controller: Controller
    secret: SecretSetting | None = None
    """Signing secret for cookies, keyed hashes, wrapped subject keys and log signatures; write
    ``${UGC_GUARD_SECRET}`` so it stays out of the file. A list rotates: newest first, the first makes,
    any opens (see docs/evidence.md, "Keys")."""
    development: bool = False
    """Allow a missing secret (with a warning) and plain-http cookies. Never in production."""
    prefix: str = Field("/ugc-guard", pattern=r"^/[a-z0-9][a-z0-9/_-]*[a-z0-9]$")
    """Path under which the built-in pages and endpoints live."""
    terms: Terms
    age: Age = Age()
    subject: SubjectSettings = SubjectSettings()
    """Who the person behind an upload is, for the terms and age gate."""
    licence: Licence
    portrait: Portrait = Portrait()
    uploads: Uploads
    scraping: Scraping = Scraping()
    rate_limits: RateLimits = RateLimits()
    retention: Retention = Retention()
    privacy: Privacy = Privacy()
    hooks: Hooks = Hooks()
    observe: Observe = Observe()
    """Metrics, request logs and signed webhooks for the operator (docs/operations.md)."""
    ledger: LedgerSettings = LedgerSettings()
    look: Look = Look()
    """How the built-in pages look: name, colours, logo, and templates the site overrides."""

    @field_validator("secret", mode="before")
    @classmethod
    def _unset_secret(cls, value: object) -> object:
        # ``${UGC_GUARD_SECRET:-}`` with the variable unset means "no secret": the middleware then
        # refuses to start outside development mode, while `policy check` can still validate the file.
        return None if value == "" else value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr | tuple[SecretStr, ...] | None) -> SecretStr | tuple[SecretStr, ...] | None:
        return drop_empty_secrets(value)

    def secrets(self) -> tuple[bytes, ...]:
        """Return the signing secrets as bytes, newest first; () when the policy has none."""
        return secret_bytes(self.secret)

    @model_validator(mode="after")
    def _languages(self) -> Policy:
        missing = set(self.terms.texts) - set(self.licence.texts)
        if missing:
            raise ValueError(f"licence.texts has no text for language(s) {', '.join(sorted(missing))} that terms.texts offers")
        return self

"""Host header -> campaign site: each site is one policy with everything precomputed."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import Scope

from .policy import Policy, PolicyError
from .problems import Problem
from .routing import RouteTable

if TYPE_CHECKING:
    from .ledger import AsyncLedger

__all__ = ["Site", "SiteRouter", "host_of", "parse_host"]

logger = logging.getLogger("ugc_guard")


@dataclass(eq=False)
class Site:
    """One campaign site, built once when the middleware starts."""

    policy: Policy
    ledger_url: str
    rate_limit_storage: str
    secret: bytes
    """The newest secret: what the site makes (cookies, tokens, wrapped keys) is made with it."""
    development: bool
    routes: RouteTable
    notifier: Any = None
    """Delivers guardian links instead of the policy's notifier (``UGCGuard(notifier=...)``)."""
    secrets: tuple[bytes, ...] = ()
    """Every listed secret, newest first; what the site opens may have been made with any of them."""
    _ledger: AsyncLedger | None = None

    def __post_init__(self) -> None:
        if not self.secrets:
            self.secrets = (self.secret,)

    @property
    def ledger(self) -> AsyncLedger:
        """The site's ledger, shared by every stage; created on first use (no connection before that)."""
        if self._ledger is None:
            from .ledger import AsyncLedger, Ledger

            self._ledger = AsyncLedger(Ledger.from_policy(self.policy, url=self.ledger_url, secret=self.secrets))
        return self._ledger

    @property
    def campaign(self) -> str:
        return self.policy.campaign.id

    @property
    def prefix(self) -> str:
        return self.policy.prefix

    @classmethod
    def build(
        cls,
        policy: Policy,
        *,
        ledger: str | None = None,
        rate_limit_storage: str | None = None,
        development: bool = False,
        notifier: Any = None,
    ) -> Site:
        """Precompute a site; raises :class:`PolicyError` when it may not start (no secret)."""
        development = development or policy.development
        keys = policy.secrets()
        if keys:
            secret = keys[0]
        elif development:
            logger.warning(
                "ugc_guard: campaign %s has no secret; development mode uses a random one, so cookies "
                "and keyed hashes do not survive a restart. Never run like this in production.",
                policy.campaign.id,
            )
            secret = secrets.token_bytes(32)
            keys = (secret,)
        else:
            raise PolicyError(
                [
                    f"campaign {policy.campaign.id}: secret: no signing secret; set UGC_GUARD_SECRET (and secret: "
                    "${UGC_GUARD_SECRET} in the policy), or pass development=True for local development only"
                ]
            )
        return cls(
            policy=policy,
            ledger_url=ledger or policy.ledger.url,
            rate_limit_storage=rate_limit_storage or policy.rate_limits.storage,
            secret=secret,
            secrets=keys,
            development=development,
            notifier=notifier,
            routes=RouteTable(policy.uploads.routes),
        )


_HOST_HEADER = re.compile(
    r"^(?:(?P<name>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)\.?|(?P<ip6>\[[0-9a-f:.]+\]))"
    r"(?::(?P<port>[0-9]{1,5}))?$"
)


def parse_host(value: str) -> str | None:
    """Return the bare host name of a Host header value (lowercase, no port, no trailing dot), or None.

    None for anything but ``name[:port]`` or ``[ipv6][:port]``: user-info, a second port, a path,
    spaces, an empty value or a port over 65535.
    """
    match = _HOST_HEADER.match(value.lower())
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        return None
    return match["name"] or match["ip6"]


def host_of(scope: Scope) -> str:
    """Return the request's host name as sent (lowercase, without port or trailing dot, when it parses)."""
    host = ""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host and scope.get("server"):
        host = str(scope["server"][0])
    return parse_host(host.strip()) or host.strip().lower()


class SiteRouter:
    """Chooses the site for a request by its Host header; refuses Host headers that are not a bare host."""

    def __init__(self, sites: Sequence[Site], fallback: Site | None = None) -> None:
        self._exact: dict[str, Site] = {}
        self._wildcard: list[tuple[str, Site]] = []
        for site in sites:
            for host in site.policy.campaign.hosts:
                if host.startswith("*."):
                    self._wildcard.append((host[1:], site))
                else:
                    self._exact[host] = site
        self._fallback = fallback
        self._by_raw_host: dict[bytes, Site | Problem] = {}

    def select(self, scope: Scope) -> Site | Problem:
        """Return the site serving this request's host, the fallback site, or the refusal.

        400 ``bad-host`` for a Host header that is not a bare host (or is sent twice), 421
        ``unknown-host`` for a host no campaign serves.
        """
        raw = None
        for name, value in scope["headers"]:  # a plain loop: a generator costs more than the search
            if name == b"host":
                if raw is not None:
                    return Problem("bad-host", "the request carries more than one Host header")
                raw = value
        if raw is not None:
            try:
                return self._by_raw_host[raw]
            except KeyError:
                pass
            answer = self._answer(raw.decode("latin-1"))
            if len(self._by_raw_host) >= 1024:  # Host is client-chosen: keep the cache bounded
                self._by_raw_host.clear()
            self._by_raw_host[raw] = answer
            return answer
        server = scope.get("server")  # HTTP/1.0 without Host: the address the server was reached on
        return self._answer(str(server[0]) if server else "")

    def _answer(self, value: str) -> Site | Problem:
        host = parse_host(value)
        if host is None:
            return Problem("bad-host", "the Host header must be a bare host name with an optional port")
        site = self._lookup(host)
        if site is None:
            return Problem("unknown-host", f"no campaign policy serves the host {host!r}")
        return site

    def _lookup(self, host: str) -> Site | None:
        site = self._exact.get(host)
        if site is not None:
            return site
        for suffix, candidate in self._wildcard:
            if host.endswith(suffix) and "." not in host[: -len(suffix)]:
                return candidate
        return self._fallback

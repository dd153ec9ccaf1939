"""The gate of one campaign site: its standing service, ledger, form tokens, notifier and counters.

Built once per site by :func:`ugc_guard.pipeline.build_stages`; the subject, pages, admission and
recording stages share it (and so share one status cache and one signed log).
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections import Counter
from typing import TYPE_CHECKING

from ..rules.standing import Standing
from ..standing import Standings, StatusCache
from ..subject import SubjectStage
from .csrf import FormTokens
from .notifier import Notifier, notifier_from_policy

if TYPE_CHECKING:
    from ..agecheck import NonceStore
    from ..context import RequestContext
    from ..ledger import AsyncLedger
    from ..ledger.prooflog import AsyncProofLog
    from ..policy import Policy
    from ..sites import Site

__all__ = ["Gate", "policy_digest"]


def policy_digest(policy: Policy) -> str:
    """Return ``sha256:<hex>`` of the policy as loaded (secret excluded, texts included by hash)."""
    data = policy.model_dump(mode="json", exclude={"secret"})
    for section in ("terms", "licence"):
        data[section]["texts"] = {lang: text["sha256"] for lang, text in data[section]["texts"].items()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class Gate:
    """Everything the gate needs for one site, computed once. The pages record through :attr:`ledger`
    (the site's :class:`~ugc_guard.ledger.AsyncLedger`, with the ledger's own types) and read a
    subject's standing through :attr:`standings` (shared with admission and recording)."""

    def __init__(self, site: Site, *, notifier: Notifier | None = None) -> None:
        policy = site.policy
        self.site = site
        self.policy = policy
        self.prefix = policy.prefix
        self.subjects = SubjectStage(site)
        self.forms = FormTokens(site.secrets, site.campaign)
        self.campaign = site.campaign
        self.standings = Standings(site)
        self.terms_rule = self.standings.terms_rule
        self.age_rule = self.standings.age_rule
        self.guardians_required = self.standings.guardians_required
        self.notifier: Notifier = notifier or site.notifier or notifier_from_policy(policy.age.notifier)
        self.policy_digest = policy_digest(policy)
        self.refusals: Counter[str] = Counter()
        """Refused acceptances per reason (``age-below-minimum``…): all that is kept of them."""
        self._nonces: NonceStore | None = None
        self._proof_log: AsyncProofLog | None = None

    @property
    def proof_log(self) -> AsyncProofLog:
        """The campaign's signed log (checkpoints, proofs, signed receipts); made on first use."""
        if self._proof_log is None:
            from ..ledger.checkpoints import log_origin
            from ..ledger.prooflog import AsyncProofLog, ProofLog
            from ..ledger.signing import retired_jwks

            host = urllib.parse.urlsplit(self.policy.campaign.base_url).netloc
            log = ProofLog(self.site.ledger, self.site.campaign, log_origin(host, self.site.campaign), self.site.secrets,
                            retired=retired_jwks(self.policy))
            self._proof_log = AsyncProofLog(log)
        return self._proof_log

    @property
    def nonces(self) -> NonceStore:
        """Where Proof of Age requests wait for their answer (see :func:`.nonces.nonce_store_for`); made on first use."""
        if self._nonces is None:
            from .nonces import nonce_store_for

            self._nonces = nonce_store_for(self.site.rate_limit_storage, self.site.campaign)
        return self._nonces

    @nonces.setter
    def nonces(self, store: NonceStore) -> None:
        self._nonces = store

    @property
    def ledger(self) -> AsyncLedger:
        """The site's ledger; the pages call its API with its own types (``TermsShown``, ``AgeResult``…)."""
        return self.site.ledger

    @property
    def cache(self) -> StatusCache:
        """The standing cache (of :attr:`standings`)."""
        return self.standings.cache

    @cache.setter
    def cache(self, cache: StatusCache) -> None:
        self.standings.cache = cache

    async def status(self, subject: str) -> Standing:
        """Return the subject's standing, from the cache when fresh; raises the ledger's ``LedgerError``."""
        return await self.standings.status(subject)

    def forget(self, subject: str) -> None:
        """Drop the subject's cached standing (after anything recorded for them)."""
        self.standings.forget(subject)

    def url(self, ctx: RequestContext, page: str) -> str:
        """Return the site-relative URL of one of the gate's pages, with the mount's ``root_path``."""
        root_path: str = ctx.scope.get("root_path", "")
        return root_path.rstrip("/") + self.prefix + page

    def absolute_url(self, ctx: RequestContext, page: str) -> str:
        """Return the absolute URL of one of the gate's pages, from the campaign's origin (never the Host header)."""
        return self.policy.campaign.base_url + self.url(ctx, page)

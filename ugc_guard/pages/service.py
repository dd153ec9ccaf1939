"""The gate of one campaign site: its precomputed rules, store, cache, notifier and counters.

Built once per site by :func:`ugc_guard.pipeline.build_stages`; the subject, pages, admission and
recording stages share it (and so share one status cache and one signed log).
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections import Counter
from typing import TYPE_CHECKING

from ..rules.age import AgeRule
from ..rules.standing import Standing, TermsRule
from ..subject import SubjectStage
from .cache import StatusCache
from .csrf import FormTokens
from .notifier import Notifier, notifier_from_policy

if TYPE_CHECKING:
    from ..agecheck import NonceStore
    from ..context import RequestContext
    from ..ledger.prooflog import AsyncProofLog
    from ..policy import Policy
    from ..sites import Site
    from .store import GateStore

__all__ = ["Gate", "policy_digest"]


def policy_digest(policy: Policy) -> str:
    """Return ``sha256:<hex>`` of the policy as loaded (secret excluded, texts included by hash)."""
    data = policy.model_dump(mode="json", exclude={"secret"})
    for section in ("terms", "licence"):
        data[section]["texts"] = {lang: text["sha256"] for lang, text in data[section]["texts"].items()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class Gate:
    """Everything the gate needs for one site, computed once."""

    def __init__(self, site: Site, *, store: GateStore | None = None, notifier: Notifier | None = None) -> None:
        policy = site.policy
        self.site = site
        self.policy = policy
        self.prefix = policy.prefix
        self.subjects = SubjectStage(site)
        self.forms = FormTokens(site.secret, site.campaign)
        self.cache = StatusCache()
        kept = frozenset(policy.terms.keeps_acceptances_of) if not policy.terms.requires_reacceptance else frozenset[str]()
        self.terms_rule = TermsRule(policy.terms.version, kept)
        self.age_rule = AgeRule(policy.age.minimum, policy.age.guardian_minimum)
        self.guardians_required = policy.age.guardians_required
        self.notifier: Notifier = notifier or site.notifier or notifier_from_policy(policy.age.notifier)
        self.policy_digest = policy_digest(policy)
        self.refusals: Counter[str] = Counter()
        """Refused acceptances per reason (``age-below-minimum``…): all that is kept of them."""
        self._store = store
        self._nonces: NonceStore | None = None
        self._proof_log: AsyncProofLog | None = None

    @property
    def proof_log(self) -> AsyncProofLog:
        """The campaign's signed log (checkpoints, proofs, signed receipts); made on first use."""
        if self._proof_log is None:
            from ..ledger.checkpoints import log_origin
            from ..ledger.prooflog import AsyncProofLog, ProofLog

            host = urllib.parse.urlsplit(self.policy.campaign.base_url).netloc
            log = ProofLog(self.site.ledger, self.site.campaign, log_origin(host, self.site.campaign), [self.site.secret])
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
    def store(self) -> GateStore:
        if self._store is None:
            from .ledger_store import LedgerGateStore

            self._store = LedgerGateStore.for_site(self.site)
        return self._store

    @store.setter
    def store(self, store: GateStore) -> None:
        self._store = store
        self.cache = StatusCache(self.cache.ttl, self.cache.max_entries)

    async def status(self, subject: str) -> Standing:
        """Return the subject's status, from the cache when fresh; raises ``LedgerUnavailable``."""
        version = self.terms_rule.version
        cached = self.cache.get(subject, version)
        if cached is not None:
            return cached
        status = await self.store.status(subject)
        self.cache.put(subject, version, status)
        return status

    def forget(self, subject: str) -> None:
        """Drop the subject's cached status (after a withdrawal or erasure elsewhere)."""
        self.cache.invalidate(subject)

    def url(self, ctx: RequestContext, page: str) -> str:
        """Return the site-relative URL of one of the gate's pages, with the mount's ``root_path``."""
        root_path: str = ctx.scope.get("root_path", "")
        return root_path.rstrip("/") + self.prefix + page

    def absolute_url(self, ctx: RequestContext, page: str) -> str:
        """Return the absolute URL of one of the gate's pages, from the campaign's origin (never the Host header)."""
        return self.policy.campaign.base_url + self.url(ctx, page)

"""The subjects' standing in one campaign, read from the ledger for the pages and for admission.

:class:`Standings` holds a site's rules (terms version, age rule, guardians required), reads a
subject's status row from the ledger (one primary-key lookup) as a :class:`~ugc_guard.rules.standing.Standing`
and keeps it in a small per-site cache, so an accepted subject's upload costs no query.

Staleness bound: a cached standing lives at most ``ttl`` seconds (default 5). Writes made by this
process (acceptance, guardian confirmation, withdrawal) drop the entry at once (:meth:`Standings.forget`);
writes made by another instance are seen within ``ttl``. An entry also remembers the terms version it
was read under and is ignored when the policy's version differs.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from .ledger import SchemaOutdated, SubjectStatus
from .rules.age import AgeRule
from .rules.standing import Standing, TermsRule, missing

if TYPE_CHECKING:
    from .ledger import AsyncLedger
    from .sites import Site

__all__ = ["Standings", "StatusCache", "standing_of"]

logger = logging.getLogger("ugc_guard.pages")


def standing_of(row: SubjectStatus) -> Standing:
    """Return the standing a ledger status row gives (an erased subject has none)."""
    if row.erased:
        return Standing(erased=True)
    if row.terms_version is None:
        return Standing(age_band=row.age_band, age_assurance=row.age_assurance)
    return Standing(
        accepted_terms_version=row.terms_version,
        age_band=row.age_band,
        guardian_status="not-required" if row.guardian_status == "none" else row.guardian_status,
        guardians_confirmed=row.guardians_confirmed,
        reconfirm=row.reconfirm,
        reconfirm_due=row.reconfirm_due.isoformat() if row.reconfirm_due else None,
        receipt_id=str(row.acceptance_id) if row.acceptance_id is not None else None,
        accepted_at=row.accepted_at.isoformat(timespec="seconds") if row.accepted_at else None,
        age_assurance=row.age_assurance,
    )


class StatusCache:
    """Bounded LRU of ``subject -> (terms version, standing, expiry)``; not shared between processes."""

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("StatusCache needs ttl >= 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str, Standing, float]] = OrderedDict()

    def get(self, subject: str, terms_version: str) -> Standing | None:
        """Return the cached standing if fresh and read under ``terms_version``, else None."""
        entry = self._entries.get(subject)
        if entry is None:
            return None
        version, status, expires = entry
        if version != terms_version or expires <= self._clock():
            del self._entries[subject]
            return None
        self._entries.move_to_end(subject)
        return status

    def put(self, subject: str, terms_version: str, status: Standing) -> None:
        if self.ttl == 0:
            return
        self._entries[subject] = (terms_version, status, self._clock() + self.ttl)
        self._entries.move_to_end(subject)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, subject: str) -> None:
        self._entries.pop(subject, None)

    def __len__(self) -> int:
        return len(self._entries)


class Standings:
    """One site's subjects' standing: the rules in force, the site's ledger and the cache.

    Every read may raise the ledger's :class:`~ugc_guard.ledger.LedgerError` (``LedgerUnavailable``,
    ``SchemaOutdated``…); callers fail closed (503 ``ledger-unavailable``).
    """

    def __init__(self, site: Site) -> None:
        policy = site.policy
        self.site = site
        self.campaign = site.campaign
        kept = frozenset(policy.terms.keeps_acceptances_of) if not policy.terms.requires_reacceptance else frozenset[str]()
        self.terms_rule = TermsRule(policy.terms.version, kept)
        self.age_rule = AgeRule(policy.age.minimum, policy.age.guardian_minimum)
        self.guardians_required = policy.age.guardians_required
        self.cache = StatusCache()

    @property
    def ledger(self) -> AsyncLedger:
        """The site's ledger (made on first use)."""
        return self.site.ledger

    async def read(self, subject: str) -> Standing:
        """Return the subject's standing read fresh from the ledger (one primary-key lookup)."""
        try:
            row = await self.ledger.subject_status(self.campaign, subject)
        except SchemaOutdated as error:
            logger.error("ugc_guard: %s", error)
            raise
        return standing_of(row)

    async def status(self, subject: str) -> Standing:
        """Return the subject's standing, from the cache when fresh."""
        version = self.terms_rule.version
        cached = self.cache.get(subject, version)
        if cached is not None:
            return cached
        status = await self.read(subject)
        self.cache.put(subject, version, status)
        return status

    def forget(self, subject: str) -> None:
        """Drop the subject's cached standing (after anything recorded for them)."""
        self.cache.invalidate(subject)

    def missing(self, status: Standing) -> list[str]:
        """Return what ``status`` still lacks before an upload under the rules in force (see :func:`rules.standing.missing`)."""
        return missing(status, self.terms_rule, self.age_rule, self.guardians_required)

"""The order of the stages: one way, from the request to the app.

request → site (by Host) → upload path → subject cookie → scraping/robots → rate limit → built-in pages
(terms step and me/*) → (upload route) admission → streaming screening → grants and ledger → app → confirmation
→ response headers.

Each feature module contributes one stage; this is the only place that knows their order.
"""

from __future__ import annotations

from .context import Stage
from .pages import Gate, PagesStage
from .ratelimit import Limiter, RateLimitStage
from .scraping import ScrapingStage
from .screening import ScreeningStage
from .screening.admit import UploadGate
from .screening.record import SubmissionRecorder
from .sites import Site

__all__ = ["build_stages"]


def build_stages(site: Site) -> list[Stage]:
    """Return the stages for ``site`` in flow order, each built once with its precomputed config."""
    stages: list[Stage] = []
    policy = site.policy
    limiter = Limiter.for_site(policy.rate_limits, site.rate_limit_storage, site.campaign, policy.scraping.trap_ttl)
    gate = Gate(site)
    stages.append(gate.subjects)  # first: reads the signed subject cookie (rate limits may be per subject); never refuses
    stages.append(ScrapingStage(site, limiter.flag_client))  # robots.txt and tdmrep.json are never blocked or limited
    stages.append(RateLimitStage(limiter))
    stages.append(PagesStage(gate))  # everything under policy.prefix: terms, accept, status, guardian, age, me
    stages.append(UploadGate(gate.standings))  # upload routes: admission (current terms + age rule), or 303 / 403
    recorder = SubmissionRecorder(site, gate.standings, lambda: gate.proof_log)
    # last: receive, screen, record the submission and its grants, then replay the body to the app
    stages.append(ScreeningStage(policy, record=recorder.record, confirm=recorder.confirm, mark_not_stored=recorder.mark_not_stored))
    return stages

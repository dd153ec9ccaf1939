"""The order of the stages: one way, from the request to the app.

request → site (by Host) → client identity → scraping/robots → rate limit → built-in pages → rights (me/*) →
(upload route) subject status → streaming screening → grants → ledger → app → response headers.

Each feature module contributes one stage; this is the only place that knows their order.
"""

from __future__ import annotations

from .context import Stage
from .gate import gate_stages
from .ratelimit import Limiter, RateLimitStage
from .recording import SubmissionRecorder
from .rights.stage import RightsStage
from .scraping import ScrapingStage
from .screening import ScreeningStage
from .sites import Site

__all__ = ["build_stages"]


def build_stages(site: Site) -> list[Stage]:
    """Return the stages for ``site`` in flow order, each built once with its precomputed config."""
    stages: list[Stage] = []
    policy = site.policy
    limiter = Limiter.for_site(policy.rate_limits, site.rate_limit_storage, site.campaign, policy.scraping.trap_ttl)
    subject, gate_pages, upload_gate = gate_stages(site)
    stages.append(subject)  # first: reads the signed subject cookie (rate limits may be per subject); never refuses
    stages.append(ScrapingStage(site, limiter.flag_client))  # robots.txt and tdmrep.json are never blocked or limited
    stages.append(RateLimitStage(limiter))
    stages.append(gate_pages)  # terms, accept, status, guardian confirm under policy.prefix
    stages.append(RightsStage(site, gate_pages.gate.forget))  # the subject's own page, export and withdrawal under policy.prefix/me
    stages.append(upload_gate)  # upload routes: current terms + age rule, or 303 / 403
    recorder = SubmissionRecorder(site, upload_gate.gate)
    # last: receive, screen, record the submission and its grants, then replay the body to the app
    stages.append(ScreeningStage(policy, record=recorder.record, confirm=recorder.confirm, mark_not_stored=recorder.mark_not_stored))
    return stages

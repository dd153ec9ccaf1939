"""The order of the stages: one way, from the request to the app.

request → site (by Host) → client identity → scraping/robots → rate limit → built-in pages →
(upload route) subject status → streaming screening → grants → ledger → app → response headers.

Each feature module contributes one stage; this is the only place that knows their order.
"""

from __future__ import annotations

from .context import Stage
from .ratelimit import Limiter, RateLimitStage
from .scraping import ScrapingStage
from .sites import Site

__all__ = ["build_stages"]


def build_stages(site: Site) -> list[Stage]:
    """Return the stages for ``site`` in flow order, each built once with its precomputed config."""
    stages: list[Stage] = []
    policy = site.policy
    limiter = Limiter.for_site(policy.rate_limits, site.rate_limit_storage, site.campaign, policy.scraping.trap_ttl)
    stages.append(ScrapingStage(site, limiter))  # first: robots.txt and tdmrep.json are never blocked or limited
    stages.append(RateLimitStage(limiter))
    return stages

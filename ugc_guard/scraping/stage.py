"""The scraping stage: serve robots.txt and tdmrep.json, send the no-AI signals, refuse blocked agents,
flag clients that fetch the trap path themselves (:mod:`.trap`), and verify claimed search-engine bots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.types import ASGIApp

from ..context import RequestContext
from ..problems import Problem
from ..routing import normalise_path
from .agents import SEARCH_BOTS, Agent, AgentKind
from .enforce import AgentRules
from .signals import render_robots, response_headers, robots_rules, tdmrep_json, trap_path
from .trap import trap_flags
from .verify import BotVerifier

if TYPE_CHECKING:
    from ..sites import Site

__all__ = ["ScrapingStage"]

ROBOTS_PATH = "/robots.txt"
TDMREP_PATH = "/.well-known/tdmrep.json"
SIGNAL_CACHE = "public, max-age=3600"


class ScrapingStage:
    """First of the policy stages, so robots.txt and tdmrep.json are never blocked or rate-limited.

    ``flag_client`` remembers a client that fetched the trap (the rate limiter's flag store, handed in);
    ``verifier`` is public so tests and apps can give it another resolver.
    """

    def __init__(self, site: Site, flag_client: Callable[[str | None], Awaitable[None]]) -> None:
        policy = site.policy
        rules = robots_rules(policy)
        self.robots = Response(render_robots(policy, rules), media_type="text/plain", headers={"cache-control": SIGNAL_CACHE})
        self.tdmrep = Response(tdmrep_json(policy), media_type="application/json", headers={"cache-control": SIGNAL_CACHE})
        self.rules = AgentRules.for_policy(policy, rules)
        self.signal_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response_headers(policy)]
        self.trap = normalise_path(trap_path(policy))
        self.flag_client = flag_client
        self.verify_search_bots = policy.scraping.verify_search_bots
        self.verifier = BotVerifier(timeout=policy.scraping.dns_timeout)

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        ctx.response_headers.extend(self.signal_headers)
        path = ctx.path
        if path == ROBOTS_PATH:
            return self.robots
        if path == TDMREP_PATH:
            return self.tdmrep
        if path == self.trap:
            if trap_flags(ctx.headers):
                await self.flag_client(ctx.client)
            return Problem("not-found")
        agent = self.rules.matcher.classify(_user_agents(ctx))
        if agent.kind is AgentKind.unknown:  # browsers: nothing more to decide
            return None
        if agent.kind is AgentKind.search_bot and self.verify_search_bots and not await self._verified(ctx, agent):
            ctx.unverified_bot = True
            agent = Agent(AgentKind.unknown, agent.token)
        if self.rules.refuses(agent, path):
            return Problem("automated-access-forbidden", f"the user agent {agent.token!r} may not access this site")
        return None

    async def _verified(self, ctx: RequestContext, agent: Agent) -> bool:
        return agent.token is not None and await self.verifier.verify(ctx.client, SEARCH_BOTS[agent.token])



def _user_agents(ctx: RequestContext) -> str:
    """Every ``User-Agent`` header of the request, joined: a second one cannot hide the crawler's."""
    values = [value for name, value in ctx.scope["headers"] if name == b"user-agent"]
    return values[0].decode("latin-1") if len(values) == 1 else b" ".join(values).decode("latin-1")

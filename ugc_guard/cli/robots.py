"""``ugc-guard robots`` and ``ugc-guard agents``: render the robot signals, refresh the agent list."""

from __future__ import annotations

from pathlib import Path

import click

from ..policy import PolicyError, load_policy
from ..scraping.edge import render_caddy, render_nginx
from ..scraping.refresh import AGENTS_FILE, LICENCE_FILE, write_agent_list
from ..scraping.signals import render_robots

__all__ = ["agents_group", "robots_group"]


@click.group("robots")
def robots_group() -> None:
    """robots.txt and the matching edge (nginx, Caddy) rules for a campaign policy."""


@robots_group.command("render")
@click.option("--policy", "policy_file", required=True, type=click.Path(dir_okay=False), help="Campaign policy file.")
@click.option("--format", "output_format", type=click.Choice(["robots", "nginx", "caddy"]), default="robots",
              show_default=True, help="robots.txt, or the same blocking rules as an nginx or Caddy snippet.")
def render(policy_file: str, output_format: str) -> None:
    """Print the robots.txt the middleware serves for a policy, or its agent rules for the edge."""
    try:
        policy = load_policy(policy_file)
    except PolicyError as error:
        for line in error.lines:
            click.echo(line, err=True)
        raise SystemExit(1) from None
    renderers = {"robots": render_robots, "nginx": render_nginx, "caddy": render_caddy}
    click.echo(renderers[output_format](policy), nl=False)


@click.group("agents")
def agents_group() -> None:
    """The AI crawler list shipped with ugc_guard (derived from ai.robots.txt, MIT)."""


@agents_group.command("refresh")
@click.argument("robots_json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=AGENTS_FILE, show_default=False,
              help="Where to write the agent list (default: the installed package's copy).")
def refresh(robots_json: Path, output: Path) -> None:
    """Regenerate the agent list from ai.robots.txt's ROBOTS_JSON (LICENSE and VERSION beside it are kept)."""
    try:
        count = write_agent_list(robots_json, output=output, licence_output=output.with_name(LICENCE_FILE.name))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{robots_json}: {error}") from None
    click.echo(f"{output}: {count} agents from {robots_json}")

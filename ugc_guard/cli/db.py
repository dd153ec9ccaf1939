"""``ugc-guard db``: create or migrate the ledger tables, and show the schema revision."""

from __future__ import annotations

import click

from ..ledger import Ledger
from .source import ledger_options

__all__ = ["db_group"]


@click.group("db")
def db_group() -> None:
    """Create or migrate the ledger database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target schema revision.")
@ledger_options(create=True)
def upgrade(ledger: Ledger, revision: str) -> None:
    """Create the ledger tables or migrate them to the newest schema."""
    reached = ledger.upgrade(revision)
    click.echo(f"ledger schema at revision {reached}")


@db_group.command("current")
@ledger_options
def current(ledger: Ledger) -> None:
    """Show the database's schema revision and the newest one this ugc_guard ships."""
    revision = ledger.current_revision()
    head = Ledger.head_revision()
    state = "up to date" if revision == head else "run ugc-guard db upgrade"
    click.echo(f"current: {revision or 'none (no ledger tables)'}; newest: {head} ({state})")

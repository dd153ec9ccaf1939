"""The ``ugc-guard`` command: a thin layer over the Python API, one module per command group.

The groups are loaded when they run (:class:`LazyGroup`): ``ugc-guard --help`` and ``ugc-guard
policy check`` do not import SQLAlchemy, Alembic or Pillow. A new group is one line in ``GROUPS``
(or, loaded at once, ``main.add_command``).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from .. import __version__

GROUPS: dict[str, tuple[str, str]] = {
    "policy": ("ugc_guard.cli.policy:policy_group", "Check campaign policy files and export their schema."),
    "gate": ("ugc_guard.cli.gate:gate_group", "Terms and age gate: minors' acceptances due for re-confirmation."),
    "robots": ("ugc_guard.cli.robots:robots_group", "robots.txt and the matching edge (nginx, Caddy) rules for a campaign policy."),
    "agents": ("ugc_guard.cli.robots:agents_group", "The AI crawler list shipped with ugc_guard (derived from ai.robots.txt, MIT)."),
    "ledger": ("ugc_guard.cli.ledger:ledger_group", "Query, export and verify the acceptance ledger."),
    "db": ("ugc_guard.cli.db:db_group", "Create or migrate the ledger database schema."),
    "subject": ("ugc_guard.cli.subject:subject_group",
                "Find, export and erase a subject (privacy requests that arrive by e-mail or letter)."),
    "requests": ("ugc_guard.cli.requests:requests_group",
                 "Log privacy requests (access, erasure…) and list their answer deadlines (GDPR, CCPA)."),
    "retention": ("ugc_guard.cli.retention:retention_group", "Delete what the policy's retention periods say is due."),
    "proof": ("ugc_guard.cli.proof:proof_group", "Portable proof: signed receipts, checkpoints, witnesses (see docs/evidence.md)."),
    "keys": ("ugc_guard.cli.keys:keys_group", "Rotate the site secret: list the log's signing keys, re-wrap subject keys."),
    "events": ("ugc_guard.cli.events:events_group", "The webhook outbox: events for the operator's endpoints (docs/operations.md)."),
}  # fmt: skip
"""Command name: (``module:attribute`` of its click group, the first paragraph of its help, shown by ``--help``)."""


class LazyGroup(click.Group):
    """A click group whose commands are imported when they are used (``GROUPS``).

    Listing them in ``--help`` needs only their summaries, so it imports nothing;
    ``tests/cli/test_lazy.py`` checks every summary against the command's own help.
    """

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy
        self._summaries_only = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        target, summary = self.lazy[cmd_name]
        if self._summaries_only:  # listing in --help: the summary is all that is shown
            return click.Command(cmd_name, help=summary)
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._summaries_only = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._summaries_only = False


@click.group(cls=LazyGroup, lazy=GROUPS, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ugc-guard")
def main() -> None:
    """ugc_guard: upload gate, acceptance ledger, robots and privacy rights for campaign sites."""


__all__ = ["GROUPS", "LazyGroup", "main"]

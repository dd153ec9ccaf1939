"""The ``ugc-guard`` command: a thin layer over the Python API, one module per command group."""

from __future__ import annotations

import click

from .. import __version__
from .db import db_group
from .gate import gate_group
from .ledger import ledger_group
from .policy import policy_group
from .proof import proof_group
from .requests import requests_group
from .retention import retention_group
from .robots import agents_group, robots_group
from .subject import subject_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ugc-guard")
def main() -> None:
    """ugc_guard: upload gate, acceptance ledger, robots and privacy rights for campaign sites."""


main.add_command(policy_group)
main.add_command(gate_group)
main.add_command(robots_group)
main.add_command(agents_group)
main.add_command(ledger_group)
main.add_command(db_group)
main.add_command(subject_group)
main.add_command(requests_group)
main.add_command(retention_group)
main.add_command(proof_group)

__all__ = ["main"]

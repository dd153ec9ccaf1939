"""The command line loads its groups when they run: ``--help`` imports none of them, and says what they say."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from ugc_guard.cli import GROUPS, main


def test_every_summary_is_the_first_paragraph_of_the_groups_own_help() -> None:
    context = click.Context(main, info_name="ugc-guard")
    for name, (_, summary) in GROUPS.items():
        command = main.get_command(context, name)
        assert command is not None and command.name == name
        assert click.Command(name, help=summary).get_short_help_str(200) == command.get_short_help_str(200), name


def test_help_lists_every_group_without_importing_them() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom ugc_guard.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\nassert result.exit_code == 0, result.output\n"
        "print(sorted(name for name in ('sqlalchemy', 'alembic', 'PIL', 'pydantic', 'ugc_guard.ledger', 'ugc_guard.cli.policy',"
        " 'ugc_guard.middleware') if name in sys.modules))\nprint(result.output)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, _, help_text = output.partition("\n")
    assert loaded == "[]"
    for name in GROUPS:
        assert f"\n  {name} " in help_text


def test_a_group_runs_when_named() -> None:
    result = CliRunner().invoke(main, ["policy", "--help"])
    assert result.exit_code == 0
    assert "Usage: main policy [OPTIONS] COMMAND [ARGS]..." in result.output
    assert "check" in result.output


def test_import_ugc_guard_loads_nothing_heavy() -> None:
    code = "import sys, ugc_guard\nprint(sorted(n for n in ('sqlalchemy', 'alembic', 'PIL', 'starlette', 'pydantic', 'limits') if n in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    code = "import ugc_guard\nprint(ugc_guard.UGCGuard.__name__, ugc_guard.Policy.__name__, ugc_guard.Problem.__name__)"
    names = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert names == ["UGCGuard", "Policy", "Problem"]

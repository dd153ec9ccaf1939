"""``ugc-guard db upgrade`` and ``db current``, and the refusal of an old schema."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ugc_guard.cli import main
from ugc_guard.ledger import Ledger


def test_upgrade_and_current(sqlite_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["db", "current", "--ledger", sqlite_url])
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    assert result.exit_code == 1 and f"the ledger file {path} does not exist" in result.stderr and not path.exists()
    path.touch()  # an empty file is an empty SQLite database: no ledger tables yet
    result = runner.invoke(main, ["db", "current", "--ledger", sqlite_url])
    assert result.exit_code == 0 and "none (no ledger tables)" in result.stdout and "run ugc-guard db upgrade" in result.stdout
    result = runner.invoke(main, ["ledger", "stats", "--ledger", sqlite_url])
    assert result.exit_code == 1 and "no ledger tables; run ugc-guard db upgrade" in result.stderr
    result = runner.invoke(main, ["db", "upgrade", "--ledger", sqlite_url, "--revision", "0001"])
    assert result.exit_code == 0 and result.stdout.strip() == "ledger schema at revision 0001"
    result = runner.invoke(main, ["ledger", "verify", "--ledger", sqlite_url])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(f"has ledger schema 0001, this ugc_guard needs {Ledger.head_revision()}; run ugc-guard db upgrade")
    result = runner.invoke(main, ["db", "upgrade"], env={"UGC_GUARD_LEDGER": sqlite_url})
    assert result.exit_code == 0 and result.stdout.strip() == f"ledger schema at revision {Ledger.head_revision()}"
    result = runner.invoke(main, ["db", "current", "--ledger", sqlite_url])
    assert "(up to date)" in result.stdout


def test_upgrade_on_postgres(postgres_url: str) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--ledger", postgres_url])
    assert result.exit_code == 0, result.output
    assert Ledger(postgres_url).current_revision() == Ledger.head_revision()

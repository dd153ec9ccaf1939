"""Where a command finds its ledger (``--ledger`` / ``--policy``), and how ledger and input errors become
one-line CLI errors: the options every ledger-reading command shares."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

import click

from ..ledger import Ledger, LedgerError
from ..ledger.location import require_existing
from ..policy import PolicyError, load_policy

__all__ = ["cli_errors", "ledger_options", "ledger_source", "open_ledger", "parse_time"]

F = TypeVar("F", bound=Callable[..., Any])


def ledger_source(policy_help: str) -> Callable[[F], F]:
    """The ``--ledger URL`` (env ``UGC_GUARD_LEDGER``) and ``--policy FILE`` options every ledger command takes."""

    def decorate(function: F) -> F:
        function = click.option("--policy", "policy_file", type=click.Path(dir_okay=False), metavar="FILE", help=policy_help)(function)
        return click.option(
            "--ledger",
            "ledger_url",
            envvar="UGC_GUARD_LEDGER",
            metavar="URL",
            help="Ledger database URL (sqlite:///file or postgresql+psycopg://…); env UGC_GUARD_LEDGER.",
        )(function)

    return decorate


@overload
def ledger_options(function: F) -> F: ...


@overload
def ledger_options(*, create: bool) -> Callable[[F], F]: ...


def ledger_options(function: F | None = None, *, create: bool = False) -> Any:
    """Add ``--ledger URL`` (env ``UGC_GUARD_LEDGER``) and ``--policy FILE``; pass ``ledger`` to the command
    and turn every :class:`LedgerError` / :class:`PolicyError` into a one-line ``Error: …``. A SQLite
    ledger file must exist unless ``create`` (``db upgrade``): reading never creates an empty database."""

    def decorate(function: F) -> F:
        @ledger_source("Campaign policy: its ledger.url, secret (to open personal fields) and timeouts.")
        @functools.wraps(function)
        def wrapper(ledger_url: str | None, policy_file: str | None, **kwargs: Any) -> Any:
            with cli_errors():
                ledger = open_ledger(ledger_url, policy_file, create=create)
                try:
                    return function(ledger=ledger, **kwargs)
                finally:
                    ledger.close()

        return wrapper  # type: ignore[return-value]

    return decorate(function) if function is not None else decorate


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn ledger and policy errors into click's one-line ``Error: …``."""
    try:
        yield
    except PolicyError as error:
        raise click.ClickException("; ".join(error.lines)) from None
    except LedgerError as error:
        raise click.ClickException(str(error)) from None


def open_ledger(url: str | None, policy_file: str | None, *, create: bool = False) -> Ledger:
    """Return the ledger named by ``--ledger`` or the policy's ``ledger.url`` (``--ledger`` wins).
    Raises :class:`click.ClickException` when neither is given, and (unless ``create``) when it names a
    SQLite file that does not exist, before anything is created."""
    if policy_file is not None:
        ledger = Ledger.from_policy(load_policy(policy_file), url=url)
    elif not url:
        raise click.ClickException("no ledger given; pass --ledger URL (or set UGC_GUARD_LEDGER) or --policy FILE")
    else:
        ledger = Ledger(url, secret=os.environ.get("UGC_GUARD_SECRET") or None)
    if not create:
        try:
            require_existing(ledger.url)
        except LedgerError:
            ledger.close()
            raise
    return ledger


def parse_time(option: str, value: str | None) -> dt.datetime | None:
    """Return an ISO 8601 date or time as aware UTC (naive means UTC). Raises a one-line error naming the option."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.ClickException(f"{option}: {value!r} is not an ISO 8601 date or time; write e.g. 2026-03-01 or 2026-03-01T12:00:00Z") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)

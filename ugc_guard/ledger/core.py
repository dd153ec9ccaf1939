"""What every part of the ledger shares: the engine, the sealer, evidence settings, schema check."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, Engine

from ..evidence import AddressMode, UserAgentMode, client_address_evidence, user_agent_evidence
from .batching import GroupCommit
from .chain import AfterAppend, Draft, Stored, append
from .crypto import Sealer
from .engine import create_ledger_engine, display_url, translate_errors
from .inputs import ClientInfo
from .pgappend import flush_wal
from .schema import check_schema

__all__ = ["LedgerCore"]


class LedgerCore:
    """The shared state behind :class:`~ugc_guard.ledger.Ledger` (one engine per ledger object)."""

    def __init__(
        self,
        url: str,
        *,
        secret: tuple[bytes, ...],
        connect_timeout: float,
        client_address: AddressMode,
        user_agent: UserAgentMode,
        durability: str = "full",
        group_commit: bool = True,
    ) -> None:
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', not {durability!r}")
        self.durable = durability == "full"
        self.url = url
        self.where = display_url(url)
        self.secrets = secret
        """Every listed secret, newest first."""
        self.secret: bytes | None = secret[0] if secret else None
        """The newest secret: keyed hashes of new evidence use it."""
        self.sealer = Sealer(secret)
        self.address_mode: AddressMode = client_address
        self.user_agent_mode: UserAgentMode = user_agent
        self.engine: Engine = create_ledger_engine(
            url, connect_timeout=connect_timeout, synchronous="FULL" if self.durable else "NORMAL"
        )
        self.schema_checked = False
        self.retry_for = 3 * connect_timeout
        self._defer_flush = group_commit and self.durable and self.engine.dialect.name == "postgresql"
        self.group = GroupCommit(self._append, flush=self.flush if self._defer_flush else None) if group_commit else None

    @contextmanager
    def connect(self, *, check: bool = True) -> Iterator[Connection]:
        """Yield a connection in a transaction, after checking the schema once. Raises
        :class:`LedgerUnavailable` or :class:`SchemaOutdated`."""
        with translate_errors(self.url), self.engine.connect() as connection, connection.begin():
            if check and not self.schema_checked:
                check_schema(connection, self.where)
                self.schema_checked = True
            yield connection

    def append(
        self,
        campaign: str,
        drafts: Sequence[Draft],
        after: AfterAppend | None = None,
        guard: Callable[[Connection], None] | None = None,
    ) -> list[Stored]:
        """Append ``drafts`` to the campaign's chain atomically (see :func:`chain.append`); without a
        ``guard``, in a transaction shared with concurrent callers (:mod:`batching`)."""
        if not self.schema_checked:
            with self.connect():
                pass
        if guard is None and self.group is not None:
            return self.group.append(campaign, drafts, after)
        return append(self.engine, self.url, self.sealer, campaign, drafts, after, guard, durable=self.durable, retry_for=self.retry_for)

    def _append(self, campaign: str, drafts: Sequence[Draft], after: AfterAppend | None) -> list[Stored]:
        return append(self.engine, self.url, self.sealer, campaign, drafts, after, durable=self.durable,
                      retry_for=self.retry_for, defer_flush=self._defer_flush)

    def flush(self) -> None:
        """Return once every commit seen so far is on disk (group commit on PostgreSQL with durability
        "full" commits without waiting for it; a no-op otherwise). Raises :class:`LedgerUnavailable`."""
        if self._defer_flush:
            with translate_errors(self.url), self.engine.connect() as connection:
                flush_wal(connection)

    def evidence(self, client: ClientInfo | None, *, secret: bytes | None = None) -> dict[str, Any]:
        """Return the minimised network evidence for ``client`` (only the keys that hold something),
        keyed with the newest secret, or with ``secret`` to compare with evidence recorded under it."""
        if client is None:
            return {}
        key = secret or self.secret
        kept = {
            "client_address": client_address_evidence(client.address, self.address_mode, key),
            "user_agent": user_agent_evidence(client.user_agent, self.user_agent_mode, key),
        }
        return {key: value for key, value in kept.items() if value is not None}

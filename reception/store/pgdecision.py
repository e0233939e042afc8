"""A routing decision on PostgreSQL (`reception.store.pgcluster`): its transactions, written on the
connection that holds the shop's routing lock, with the next routing version and its notice."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import asyncpg

from .postgres import PostgresStore

if TYPE_CHECKING:
    from . import Transaction

CHANNEL = "reception"  # the LISTEN/NOTIFY channel of a shop's instances
_BUMP = "UPDATE routing_version SET version = $1 WHERE id = 1"
_NOTIFY = "SELECT pg_notify($1, $2)"


class PgDecision:
    """A routing decision's transactions, written on the locked connection when the decision ends."""

    def __init__(self, store: PostgresStore, conn: asyncpg.Connection, version: int) -> None:
        self.store, self.conn, self.version = store, conn, version
        self.pending: list[tuple["Transaction", asyncio.Future[None]]] = []

    def submit(self, tx: "Transaction") -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tx.seq = self.version
        tx.freeze()
        self.pending.append((tx, future))
        return future

    async def write(self, instance: str) -> list[Exception | None]:
        """Apply the transactions (each in a savepoint) and, if any stuck, the new version and its notice."""
        txs = [tx for tx, _ in self.pending]
        errors = await self.store.apply_on(self.conn, txs) if txs else []
        if any(error is None for error in errors):
            await self.conn.execute(_BUMP, self.version)
            await self.conn.execute(_NOTIFY, CHANNEL, json.dumps({"from": instance, "v": self.version}))
        return errors

    def settle(self, errors: list[Exception | None] | Exception) -> None:
        """Resolve the futures once the commit is known."""
        done = []
        for i, (tx, future) in enumerate(self.pending):
            error = errors if isinstance(errors, Exception) else errors[i]
            if error is None:
                done.append(tx)
                future.set_result(None)
            else:
                future.set_exception(error)
        if done:
            self.store.committed(done)

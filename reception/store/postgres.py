"""`PostgresStore`: the store on a PostgreSQL server through asyncpg, for one or several instances of a shop.

The writer has SQLite's semantics: submitted transactions are applied in
submission order, a batch in one PostgreSQL transaction with a SAVEPOINT per
`Transaction`, and their futures resolve after COMMIT. A unique violation is
`DuplicateMessage`, another SQL error `StoreError` (that transaction alone
is rolled back), and a server out of reach `StoreUnavailable` for the whole
batch (nothing of it stored). Reads and reports take a connection from the
pool (`pool`, ``[store] pool_size``), which reconnects by itself when the
server is back.

Code that writes on a connection of its own, inside its own transaction
(the routing decisions of several instances: `reception.store.pgcluster`),
uses `apply_on(conn, txs)` and, once its COMMIT has succeeded,
`committed(txs)` for the transactions that were applied; the plugins hear
their events then, as for the writer's.

PostgreSQL text cannot hold U+0000; the only place reception puts one is
the customer key (``channel`` NUL ``customer_id``, where ids never hold
control characters), written here with U+001F in its place.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

import asyncpg

from .base import Store
from .dialect import Params, arguments, numbered, postgres_ddl
from .errors import DuplicateMessage, StoreError, StoreUnavailable
from .metrics import Rows, Step
from .schema import APPLIED, CREATE_LEDGER, RECORD, pending
from .transaction import SQL, Transaction

CONNECT_SECONDS = 10  # a server that does not answer a new connection in this time is out of reach
MIGRATION_LOCK = 0x5243_0000  # the advisory lock under which one instance migrates while the others wait ("RC")
# the server went away (or is refusing connections), or a connection was left unusable when it did
_GONE = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
         asyncpg.exceptions.InsufficientResourcesError, asyncpg.exceptions.InternalClientError)


async def release(conn: asyncpg.Connection) -> None:
    """What a connection going back to a pool needs here: a transaction left open is rolled back.

    asyncpg's default also resets the session (unlocks advisory locks, closes cursors, UNLISTEN,
    RESET ALL): five round trips on every release, a sixth of a message's. This code leaves no
    session state on a pooled connection (locks are released by whoever took them; the migration's
    and the buyers' explicitly), so it need not be undone.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the server is out of reach (down, restarting, the connection cut), not a bad statement."""
    if isinstance(exc, _GONE):
        return True
    return (isinstance(exc, asyncpg.InterfaceError) and not isinstance(exc, asyncpg.DataError)
            and "clos" in str(exc))  # "connection is closed", "pool is closing"


def _bind(names: tuple[str, ...] | None, params: Params) -> Sequence[Any]:
    values = arguments(names, params)
    return [v.replace("\x00", "\x1f") if type(v) is str and "\x00" in v else v for v in values]


async def _run(conn: asyncpg.Connection, sql: str, params: Params = ()) -> None:
    text, names = numbered(sql)
    await conn.execute(text, *_bind(names, params))


class PostgresStore(Store):
    """The store on PostgreSQL (asyncpg, a pool of `pool_size` connections)."""

    kind = "postgresql"

    def __init__(self, url: str, where: str, pool_size: int = 10, batch_max: int = 256,
                 synchronous: str = "FULL") -> None:
        super().__init__(where, batch_max)
        self.url = url  # holds the password: never printed (`where` is the URL without it)
        self.pool_size = pool_size
        # NORMAL, as SQLite's: a crash may lose the last commits, never corrupt; FULL waits for the WAL flush
        self._settings = {"application_name": "reception"}
        if synchronous == "NORMAL":
            self._settings["synchronous_commit"] = "off"
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool (for code that needs a connection of its own, with `apply_on`)."""
        if self._pool is None:
            raise StoreError("the store is closed")
        return self._pool

    def unavailable(self, exc: BaseException) -> StoreUnavailable:
        """The error to raise for a server out of reach (`exc` as asyncpg or the socket raised it)."""
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return StoreUnavailable(f"the database {self.where} is unavailable: {reason}")

    async def _lost(self, exc: BaseException) -> StoreUnavailable:
        # after a server restart every pooled connection is dead: each is replaced as it is next acquired
        if self._pool is not None:
            await self._pool.expire_connections()
        return self.unavailable(exc)

    # -- life ---------------------------------------------------------------------------------
    async def _open(self) -> None:
        # min_size 0: connections open on demand, so nothing reconnects (and logs) in the background while
        # the server is down; the next request after it is back opens a fresh one
        self._pool = asyncpg.create_pool(self.url, min_size=0, max_size=self.pool_size, timeout=CONNECT_SECONDS,
                                         statement_cache_size=512, server_settings=self._settings, reset=release)
        try:
            await self._pool
            async with self._pool.acquire() as conn:
                await self._migrate(conn)
        except BaseException as exc:
            await self._close()
            if unreachable(exc):
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise StoreUnavailable(f"cannot reach the database {self.where}: {reason}") from None
            if isinstance(exc, (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError)):  # a wrong password …
                raise StoreError(f"cannot open the database {self.where}: {exc}") from None
            raise

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        """Apply the migrations this database lacks, each in its own transaction, under an advisory lock:
        instances that start together migrate once (the others wait, then find nothing to do)."""
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(CREATE_LEDGER)
            for migration in pending([row[0] for row in await conn.fetch(APPLIED)], self.where):
                async with conn.transaction():
                    for statement in migration.sql:
                        await conn.execute(postgres_ddl(statement))
                    for statement in migration.postgresql:
                        await conn.execute(statement)
                    if migration.backfill is not None:
                        for statement, params in migration.backfill.ops(await conn.fetch(migration.backfill.source)):
                            await _run(conn, statement, params)
                    await _run(conn, RECORD, (migration.version, f"_m{migration.version:03d}_{migration.name}"))
        finally:
            if not conn.is_closed():
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def _close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), CONNECT_SECONDS)
            except (asyncio.TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pool.terminate()

    # -- writes -------------------------------------------------------------------------------
    async def _apply(self, batch: list[Transaction]) -> list[Exception | None]:
        try:
            async with self.pool.acquire() as conn:
                async with conn.transaction():
                    return await self.apply_on(conn, batch)
        except Exception as exc:
            if unreachable(exc):
                raise await self._lost(exc) from None
            raise

    async def apply_on(self, conn: asyncpg.Connection, txs: list[Transaction]) -> list[Exception | None]:
        """Write `txs` on `conn`, inside the caller's open transaction: a SAVEPOINT each, no BEGIN or COMMIT.

        Returns one entry per transaction: None when applied, else its error (`DuplicateMessage`,
        `StoreError`), that transaction alone rolled back. A server out of reach raises (asyncpg's error;
        `unavailable(exc)` turns it into `StoreUnavailable`): the caller's transaction is lost. Nobody is told
        of anything yet: after a successful COMMIT the caller calls `committed` with the applied ones.
        """
        errors: list[Exception | None] = []
        for tx in txs:
            tx.freeze()
            await conn.execute("SAVEPOINT tx")
            error: Exception | None = None
            try:
                for op, args in tx.ops:
                    await _run(conn, SQL[op], args)
            except asyncpg.UniqueViolationError as exc:
                error = DuplicateMessage(str(exc))
            except (asyncpg.PostgresError, asyncpg.DataError) as exc:
                if unreachable(exc):
                    raise
                error = StoreError(str(exc))
            await conn.execute("ROLLBACK TO SAVEPOINT tx; RELEASE SAVEPOINT tx" if error else "RELEASE SAVEPOINT tx")
            errors.append(error)
        return errors

    # -- reads --------------------------------------------------------------------------------
    async def _rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        text, names = numbered(sql)
        try:
            records = await self.pool.fetch(text, *_bind(names, params))
        except Exception as exc:
            if unreachable(exc):
                raise await self._lost(exc) from None
            raise
        return [dict(record) for record in records]

    async def _snapshot(self, steps: list[Step]) -> list[Rows]:
        out: list[Rows] = []
        try:
            async with self.pool.acquire() as conn:
                snapshot = conn.transaction(isolation="repeatable_read")
                await snapshot.start()
                try:
                    for how, sql, params in steps:
                        text, names = numbered(sql)
                        if how == "many":
                            if params:
                                await conn.executemany(text, [_bind(names, row) for row in params])
                        elif how == "rows":
                            out.append([tuple(r) for r in await conn.fetch(text, *_bind(names, params))])
                        else:
                            await conn.execute(text, *_bind(names, params))
                finally:
                    await snapshot.rollback()  # read only: this also drops the report's temporary tables
        except Exception as exc:
            if unreachable(exc):
                raise await self._lost(exc) from None
            raise
        return out

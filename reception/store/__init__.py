"""The store: SQLite in WAL mode through sqlite-utils, one writer task that batches.

This package is the only code that speaks SQL. Writes are collected in a
`Transaction` and handed to `Store.commit`, which returns once the batch that
holds them is committed (``synchronous=FULL``: on stable storage). Each
transaction runs inside its own savepoint, so one failing transaction never
half-writes and never takes the rest of its batch down with it. Reads use a
second connection; WAL lets them run while the writer commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from .metrics import MetricsReads
from .privacy import Privacy
from .reads import Delivery, Reads
from .schema import migrate
from .transaction import SQL, Transaction

__all__ = ["Delivery", "DuplicateMessage", "Store", "StoreError", "Transaction"]


class StoreError(RuntimeError):
    """The store could not take a write (closed, disk full …)."""


class DuplicateMessage(StoreError):
    """A write broke a uniqueness rule (an idempotency key already stored by another transaction)."""


_STOP = object()


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA temp_store=MEMORY")  # sorts and statement journals: no temporary files per write
    conn.execute("PRAGMA cache_size=-32000")  # 32 MB of pages: the hot indexes stay in memory
    return conn


class Store(Reads, MetricsReads, Privacy):
    """SQLite storage for conversations, messages, events, routing state and deliveries."""

    def __init__(self, path: Path, synchronous: str = "FULL", batch_max: int = 256) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.batch_max = batch_max
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reception-store")
        self._writer: asyncio.Task[None] | None = None
        self._wconn: sqlite3.Connection | None = None
        self._db: sqlite_utils.Database | None = None
        self.batches = 0  # commits so far; benchmarks report transactions per commit
        self.on_commit: list[Callable[[Transaction], None]] = []  # called for each transaction once durable

    async def open(self) -> None:
        """Create or migrate the database and start the writer."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wconn = _connect(self.path, self.synchronous)
        migrate(sqlite_utils.Database(self._wconn))
        self._db = sqlite_utils.Database(_connect(self.path, self.synchronous))
        self._writer = asyncio.create_task(self._write_loop(), name="reception-store-writer")

    async def close(self) -> None:
        """Commit everything queued, then close. Safe to call twice."""
        if self._writer is not None:
            await self._queue.put(_STOP)
            await self._writer
            self._writer = None
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None
        if self._db is not None:
            self._db.conn.close()
            self._db = None
        self._executor.shutdown(wait=True)

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            raise StoreError("the store is closed")
        return self._db

    def transaction(self) -> Transaction:
        """A new, empty set of writes."""
        return Transaction()

    def submit(self, tx: Transaction) -> asyncio.Future[None]:
        """Queue `tx` for the writer now; the future resolves once it is durable.

        Transactions are applied in the order they are submitted, so code that
        submits while holding a lock writes in the order it decided.
        """
        if self._writer is None:
            raise StoreError("the store is closed")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tx.freeze()
        if not tx.ops:
            future.set_result(None)
        else:
            self._queue.put_nowait((tx, future))
        return future

    async def commit(self, tx: Transaction) -> None:
        """Write `tx` atomically; returns once it is durable. Raises `DuplicateMessage` or `StoreError`."""
        await self.submit(tx)

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            item = await self._queue.get()
            batch = []
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                if len(batch) >= self.batch_max or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if not batch:
                continue
            try:
                errors = await loop.run_in_executor(self._executor, self._apply, [tx for tx, _ in batch])
            except Exception as exc:  # the commit itself failed: nothing in the batch is stored
                errors = [StoreError(f"write failed: {exc}")] * len(batch)
            for (tx, future), error in zip(batch, errors):
                if future.done():
                    continue
                if error is None:
                    for callback in self.on_commit:
                        callback(tx)
                    future.set_result(None)
                else:
                    future.set_exception(error)

    def _apply(self, batch: list[Transaction]) -> list[Exception | None]:
        conn = self._wconn
        assert conn is not None
        errors: list[Exception | None] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for tx in batch:
                conn.execute("SAVEPOINT tx")
                try:
                    for op, args in tx.ops:
                        conn.execute(SQL[op], args)
                except sqlite3.IntegrityError as exc:
                    conn.execute("ROLLBACK TO tx")
                    errors.append(DuplicateMessage(str(exc)))
                except sqlite3.Error as exc:
                    conn.execute("ROLLBACK TO tx")
                    errors.append(StoreError(str(exc)))
                else:
                    errors.append(None)
                conn.execute("RELEASE tx")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.batches += 1
        return errors

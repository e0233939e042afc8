"""`Store`: what both back-ends share: the one writer that batches, transactions, and the reads written once.

Writes are collected in a `Transaction` and handed to `submit`/`commit`,
which return once the batch that holds them is committed (durable).
Transactions are applied in the order they were submitted, each inside its
own savepoint, so one failing transaction never half-writes and never takes
the rest of its batch down with it. A back-end (`SqliteStore`,
`PostgresStore`) provides the connection: `_open`, `_close`, `_apply` (one
batch in one database transaction), `_rows` (a read) and `_snapshot` (a
report's statements in one snapshot).
"""

from __future__ import annotations

import abc
import asyncio
from typing import Any, Callable, ClassVar, Iterable

from .errors import StoreError
from .media import MediaReads
from .metrics import MetricsReads, Rows, Step
from .notes import NoteReads
from .privacy import Privacy
from .profiles import ProfileReads
from .reads import Reads
from .transaction import Transaction

_STOP = object()


class Store(Reads, MetricsReads, MediaReads, ProfileReads, NoteReads, Privacy, abc.ABC):
    """Storage for conversations, messages, events, routing state and deliveries (SQLite or PostgreSQL)."""

    kind: ClassVar[str]  # "sqlite" | "postgresql"

    def __init__(self, where: str, batch_max: int = 256) -> None:
        self.where = where  # for people: the file, or the URL without its password
        self.batch_max = batch_max
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # commits so far; benchmarks report transactions per commit
        self.on_commit: list[Callable[[Transaction], None]] = []  # called for each transaction once durable

    # -- what a back-end provides ---------------------------------------------------------------
    @abc.abstractmethod
    async def _open(self) -> None:
        """Connect, and create or migrate the schema (`schema.pending`)."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Let go of every connection."""

    @abc.abstractmethod
    async def _apply(self, batch: list[Transaction]) -> list[Exception | None]:
        """Write `batch` in one database transaction, a savepoint each; each one's error or None.

        Raises when the commit itself fails (nothing of the batch is stored).
        """

    @abc.abstractmethod
    async def _rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """The rows of one read, as dicts."""

    @abc.abstractmethod
    async def _snapshot(self, steps: list[Step]) -> list[Rows]:
        """A report's statements (`metrics.Step`) in one snapshot, on a connection of their own."""

    # -- life ---------------------------------------------------------------------------------
    async def open(self) -> None:
        """Create or migrate the database and start the writer."""
        await self._open()
        self._writer = asyncio.create_task(self._write_loop(), name="reception-store-writer")

    async def close(self) -> None:
        """Commit everything queued, then close. Safe to call twice."""
        if self._writer is not None:
            await self._queue.put(_STOP)
            await self._writer
            self._writer = None
        await self._close()

    # -- writes -------------------------------------------------------------------------------
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

    def committed(self, txs: Iterable[Transaction]) -> None:
        """Tell the `on_commit` callbacks about transactions that are durable now (the writer calls this; so
        must whoever applies transactions on a connection of their own, after their commit)."""
        for tx in txs:
            for callback in self.on_commit:
                callback(tx)

    async def _write_loop(self) -> None:
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
                errors = await self._apply([tx for tx, _ in batch])
                self.batches += 1
            except StoreError as exc:  # the database is out of reach: nothing in the batch is stored
                errors = [exc] * len(batch)
            except Exception as exc:  # the commit itself failed: nothing in the batch is stored
                errors = [StoreError(f"write failed: {exc}")] * len(batch)
            for (tx, future), error in zip(batch, errors):
                if future.done():
                    continue
                if error is None:
                    self.committed([tx])
                    future.set_result(None)
                else:
                    future.set_exception(error)

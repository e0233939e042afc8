"""`SqliteStore`: one SQLite file in WAL mode, the writer's batches committed in a worker thread.

``synchronous=FULL``: a batch is on stable storage before any handler in
it answers. Reads use a second connection, on the server's loop (they take
microseconds); WAL lets them run while the writer commits. Reports open a
read-only connection each, in a worker thread.

A scratch database that nobody needs durable before the end (a simulated
day's) may instead be written on the loop, several batches to a commit
(`SqliteStore.write_on_loop`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .base import Store
from .errors import DuplicateMessage, StoreError
from .metrics import Rows, Step
from .schema import APPLIED, CREATE_LEDGER, RECORD, pending
from .transaction import SQL, Transaction


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA temp_store=MEMORY")  # sorts and statement journals: no temporary files per write
    conn.execute("PRAGMA cache_size=-32000")  # 32 MB of pages: the hot indexes stay in memory
    return conn


def _dicts(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row)}


def migrate(conn: sqlite3.Connection, where: str) -> None:
    """Apply every migration the database has not seen, each in its own transaction."""
    conn.execute(CREATE_LEDGER)
    for migration in pending((row[0] for row in conn.execute(APPLIED)), where):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.sql:
                conn.execute(statement)
            if migration.backfill is not None:
                for statement, params in migration.backfill.ops(conn.execute(migration.backfill.source).fetchall()):
                    conn.execute(statement, params)
            conn.execute(RECORD, (migration.version, f"_m{migration.version:03d}_{migration.name}"))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _report(path: Path, steps: list[Step]) -> list[Rows]:
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")  # one snapshot for every query of the report
        out = []
        for how, sql, params in steps:
            if how == "many":
                conn.executemany(sql, params)
            elif how == "rows":
                out.append(conn.execute(sql, params).fetchall())
            else:
                conn.execute(sql, params)
        conn.execute("COMMIT")
        return out
    finally:
        conn.close()


class SqliteStore(Store):
    """The store in one SQLite file (WAL), for one process."""

    kind = "sqlite"

    def __init__(self, path: Path, synchronous: str = "FULL", batch_max: int = 256) -> None:
        super().__init__(str(path), batch_max)
        self.path = Path(path)
        self.synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reception-store")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._commit_every = 0  # 0: every batch commits, in the worker thread; else see `write_on_loop`
        self._uncommitted = 0  # batches applied since the last commit (`write_on_loop`)
        self._broken: str | None = None

    def write_on_loop(self, commit_every: int) -> None:
        """Apply each batch on the loop instead of in the worker thread, and commit once every `commit_every`
        batches, for a scratch database (the simulator's, `engine.inline_writes`). Set before `open`.

        Each transaction stays atomic (its savepoint), and reads go through the writing connection, so they
        see every batch applied, committed or not: the application sees what it would see if each batch
        committed. What the batches share is the commit, the largest cost of a simulated day's store (its
        hot pages are written to the log once for many batches). Reports' snapshots and closing commit
        first. If a write fails outside a transaction's savepoint, the batches since the last commit are
        lost, and so every later write fails.
        """
        if self._wconn is not None:
            raise StoreError("write_on_loop is set before the store opens")
        self._commit_every = commit_every

    async def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wconn = _connect(self.path, self.synchronous)
        try:
            migrate(self._wconn, str(self.path))
        except BaseException:
            self._wconn.close()
            self._wconn = None
            raise
        if self._commit_every:  # `write_on_loop`: reads see the batches not committed yet
            self._rconn = self._wconn
        else:
            self._rconn = _connect(self.path, self.synchronous)
        self._rconn.row_factory = _dicts  # also when it is the writing connection: the writes fetch nothing

    async def _close(self) -> None:
        if self._commit_every:
            self._flush()
        for conn in (self._wconn, self._rconn):
            if conn is not None:
                conn.close()
        self._wconn = self._rconn = None
        self._executor.shutdown(wait=True)

    async def _rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        if self._rconn is None:
            raise StoreError("the store is closed")
        return self._rconn.execute(sql, params).fetchall()

    async def _snapshot(self, steps: list[Step]) -> list[Rows]:
        if self._commit_every:
            self._flush()
        return await asyncio.to_thread(_report, self.path, steps)

    async def _apply(self, batch: list[Transaction]) -> list[Exception | None]:
        if self._commit_every:
            return self._apply_uncommitted(batch)
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._apply_now, batch)

    def _apply_uncommitted(self, batch: list[Transaction]) -> list[Exception | None]:
        if self._broken is not None:
            raise StoreError(self._broken)
        try:
            errors = self._apply_now(batch, commit=False)
            self._uncommitted += 1
            if self._uncommitted >= self._commit_every:
                self._flush()
        except BaseException as exc:
            self._broken = f"a write to the scratch database failed, the batches since its last commit are lost: {exc}"
            raise
        return errors

    def _flush(self) -> None:
        """Commit the batches `write_on_loop` has applied since the last commit."""
        if self._wconn is not None and self._wconn.in_transaction:
            self._wconn.execute("COMMIT")
        self._uncommitted = 0

    def _apply_now(self, batch: list[Transaction], commit: bool = True) -> list[Exception | None]:
        conn = self._wconn
        assert conn is not None
        errors: list[Exception | None] = []
        if not conn.in_transaction:
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
            if commit:
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return errors

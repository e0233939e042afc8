"""The two ends of a shop copy (`reception.store.copy`): a SQLite file or a PostgreSQL database, on one connection,
read in one snapshot or written in one transaction, with the checks each end makes before anything moves."""

from __future__ import annotations

import abc
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator

from .errors import StoreError
from .schema import APPLIED, LATEST, Migration, pending

if TYPE_CHECKING:
    from ..config.sections import StoreSettings

LOCK_TIMEOUT = "10s"  # PostgreSQL: a destination someone is writing to is refused after this long, not waited for

Row = tuple[Any, ...]


class CopyRefused(StoreError):
    """Nothing was copied and nothing written: the source or the destination is not fit for a copy."""


@dataclass(frozen=True)
class Table:
    """A table of the shop: its columns, primary key, and the rows a new database already holds."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    seeded: frozenset[Row]  # put there by the migrations themselves (routing_version's one row)

    @property
    def ref(self) -> str:
        return f'"{self.name}"'

    @property
    def select(self) -> str:
        return ", ".join(f'"{column}"' for column in self.columns)



class End(abc.ABC):
    """One side of the copy, on one connection: the few statements a copy needs, on SQLite or PostgreSQL."""

    kind: str

    def __init__(self, label: str, shown: str) -> None:
        self.label, self.shown = label, shown  # "SRC" or "DST"; the file, or the URL without its password

    def refuse(self, why: str) -> CopyRefused:
        return CopyRefused(f"{self.label} {self.shown} {why}")

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """A database error while looking at the database is a refusal naming it (one line, not a traceback)."""
        try:
            yield
        except CopyRefused:
            raise
        except Exception as exc:
            raise self.refuse(f"cannot be read: {type(exc).__name__}: {exc}") from None

    @abc.abstractmethod
    async def tables(self) -> set[str]:
        """The names of the tables the database holds, whoever's they are."""

    @abc.abstractmethod
    async def fetch(self, sql: str) -> list[Row]:
        """The rows of a small read."""

    @abc.abstractmethod
    def stream(self, table: Table, batch: int) -> AsyncIterator[list[Row]]:
        """Every row of `table`, `batch` at a time, in the order they were written (a cursor, not a list)."""

    @abc.abstractmethod
    async def insert(self, table: Table, rows: list[Row]) -> None:
        """Add `rows` to `table`, in the open transaction."""

    @abc.abstractmethod
    async def begin(self, write: bool, tables: tuple[Table, ...] = ()) -> None:
        """Start the transaction: one snapshot to read, or the one that writes `tables` (nobody else may)."""

    @abc.abstractmethod
    async def commit(self) -> None:
        """End the transaction, keeping its writes."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """End the transaction, if one is open, keeping nothing of it."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Let go of the database."""

    async def advance_ids(self, tables: tuple[Table, ...]) -> None:  # noqa: B027 - a no-op unless overridden
        """Make the next generated id of each table come after the largest copied (SQLite's always does: its
        next row id is the largest plus one, and the schema has no AUTOINCREMENT)."""

    async def count(self, table: Table) -> int:
        return (await self.fetch(f'SELECT COUNT(*) FROM {table.ref}'))[0][0]

    async def applied(self) -> list[int] | None:
        """The migrations this database records; None when it has no ``_migrations`` (not reception's)."""
        if "_migrations" not in await self.tables():
            return None
        return [row[0] for row in await self.fetch(APPLIED)]

    def pending(self, applied: list[int]) -> list[Migration]:
        """The migrations the database lacks; refuses one written by a newer reception."""
        try:
            return pending(applied, f"{self.label} {self.shown}")
        except StoreError as exc:
            raise CopyRefused(str(exc)) from None

    async def check_source(self) -> None:
        """Refuse anything but a reception database at this code's schema."""
        with self.reading():
            applied = await self.applied()
        if applied is None:
            raise self.refuse("is not a reception database (it has no _migrations table)")
        if self.pending(applied):
            raise self.refuse(f"is at schema {max(applied, default=0)}, this reception's is {LATEST}: open it once"
                              f" with this version (`reception report --db {self.shown}` migrates it), then copy")

    async def check_destination(self, tables: tuple[Table, ...]) -> None:
        """Refuse a database that holds a shop, or tables that are not a shop's."""
        with self.reading():
            present = await self.tables()
            applied = await self.applied()
            held = {}
            for table in tables:
                if table.name in present:
                    rows = await self.fetch(f'SELECT {table.select} FROM {table.ref} LIMIT {len(table.seeded) + 1}')
                    if set(rows) - table.seeded:
                        held[table.name] = await self.count(table)
        if applied is None and present:
            raise self.refuse(f"holds tables that are not reception's ({', '.join(sorted(present)[:5])}): give a new"
                              " SQLite file or an empty PostgreSQL database")
        if applied is not None:
            self.pending(applied)
        if held:
            found = ", ".join(f"{name} {rows}" for name, rows in held.items())
            raise self.refuse(f"already holds a shop ({found} rows): give a new SQLite file or an empty PostgreSQL"
                              " database; nothing was written")


class _SqliteEnd(End):
    kind = "sqlite"

    def __init__(self, label: str, path: Path, readonly: bool) -> None:
        super().__init__(label, str(path))
        if readonly:  # never creates the file, never writes to it
            self.conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None,
                                        timeout=30)
        else:
            self.conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)

    async def tables(self) -> set[str]:
        try:
            return {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") != "SQLITE_NOTADB":
                raise
            raise self.refuse("is not a SQLite database") from None

    async def fetch(self, sql: str) -> list[Row]:
        return self.conn.execute(sql).fetchall()

    async def stream(self, table: Table, batch: int) -> AsyncIterator[list[Row]]:
        cursor = self.conn.execute(f'SELECT {table.select} FROM {table.ref} ORDER BY rowid')
        while rows := cursor.fetchmany(batch):
            yield rows

    async def insert(self, table: Table, rows: list[Row]) -> None:
        marks = ", ".join("?" * len(table.columns))
        self.conn.executemany(f'INSERT INTO {table.ref} ({table.select}) VALUES ({marks})', rows)

    async def begin(self, write: bool, tables: tuple[Table, ...] = ()) -> None:
        self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # a reader's snapshot starts at its first read

    async def commit(self) -> None:
        self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    async def close(self) -> None:
        self.conn.close()


class _PostgresEnd(End):
    kind = "postgresql"

    def __init__(self, label: str, shown: str, conn: Any) -> None:
        super().__init__(label, shown)
        self.conn = conn
        self.tx: Any = None

    @classmethod
    async def connect(cls, label: str, settings: StoreSettings) -> _PostgresEnd:
        try:
            import asyncpg  # an extra: only a copy from or to PostgreSQL needs it
        except ImportError:
            raise CopyRefused("a copy from or to PostgreSQL needs asyncpg: pip install 'reception[postgres]'") from None
        from . import postgres
        try:
            conn = await asyncpg.connect(settings.url, timeout=postgres.CONNECT_SECONDS,
                                         server_settings={"application_name": "reception store copy"})
        except Exception as exc:
            if postgres.unreachable(exc):
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise CopyRefused(f"{label} {settings.shown}: cannot reach the database: {reason}") from None
            if isinstance(exc, (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError)):  # no such database …
                raise CopyRefused(f"{label} {settings.shown}: cannot open the database: {exc}") from None
            raise
        return cls(label, settings.shown, conn)

    async def tables(self) -> set[str]:
        return {row[0] for row in await self.fetch("SELECT tablename FROM pg_tables WHERE schemaname=current_schema()")}

    async def fetch(self, sql: str) -> list[Row]:
        return [tuple(record) for record in await self.conn.fetch(sql)]

    async def stream(self, table: Table, batch: int) -> AsyncIterator[list[Row]]:
        has_rowid = await self.conn.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema=current_schema()"
            " AND table_name=$1 AND column_name='rowid'", table.name)
        order = ["rowid"] if has_rowid else [f'"{column}"' for column in table.key]
        cursor = await self.conn.cursor(f'SELECT {table.select} FROM {table.ref}'
                                        + (f" ORDER BY {', '.join(order)}" if order else ""))
        while records := await cursor.fetch(batch):
            yield [tuple(record) for record in records]

    async def insert(self, table: Table, rows: list[Row]) -> None:
        await self.conn.copy_records_to_table(table.name, records=rows, columns=list(table.columns))

    async def begin(self, write: bool, tables: tuple[Table, ...] = ()) -> None:
        if write:
            self.tx = self.conn.transaction()
            await self.tx.start()
            await self.conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # nobody writes to the destination while it is checked and filled (plain reads may go on)
            await self.conn.execute(f"LOCK TABLE {', '.join(t.ref for t in tables)} IN EXCLUSIVE MODE")
        else:  # one snapshot of the whole source, however long the copy takes
            self.tx = self.conn.transaction(isolation="repeatable_read", readonly=True)
            await self.tx.start()

    async def commit(self) -> None:
        tx, self.tx = self.tx, None
        await tx.commit()

    async def rollback(self) -> None:
        tx, self.tx = self.tx, None
        if tx is not None and not self.conn.is_closed():
            await tx.rollback()

    async def advance_ids(self, tables: tuple[Table, ...]) -> None:
        # explicit ids do not move an identity column's sequence: set each past the largest id copied
        names = {table.name for table in tables}
        for name, column in await self.fetch("SELECT table_name, column_name FROM information_schema.columns"
                                             " WHERE table_schema=current_schema() AND is_identity='YES'"):
            if name in names:
                await self.conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{column}'),"
                                        f' COALESCE(MAX("{column}"), 0) + 1, false) FROM "{name}"')

    async def close(self) -> None:
        await self.conn.close()


async def open_end(label: str, settings: StoreSettings, readonly: bool) -> End:
    if settings.url is not None:
        return await _PostgresEnd.connect(label, settings)
    path = settings.path
    if not path.exists():
        raise CopyRefused(f"{label} {settings.shown}: no such file")
    if not path.is_file():
        raise CopyRefused(f"{label} {settings.shown} is not a file")
    return _SqliteEnd(label, path, readonly)

"""Moving a shop: every row of one database copied into another, SQLite or PostgreSQL either way (`copy_shop`).

The tables are those the migrations create (`shop_tables` reads them from a
database migrated in memory: a new migration's table is copied with no
change here); the destination's schema and ``_migrations`` are made by
opening it through the store. Rows keep their primary keys (message ids are
the widget's sequence numbers, event ids order the ledger) and their order
(SQLite's rowid, PostgreSQL's ``rowid`` column, else the key), so ``ORDER BY
created_at, rowid`` ties stay as they were. The customer key's NUL is U+001F
on PostgreSQL, as `postgres._bind` writes it, and a NUL again on SQLite.

The source is only read, in one snapshot, `BATCH` rows at a time; it must be
at this code's schema (an older one is refused, not migrated: a copy never
changes the shop it is taken from). The destination must be new or hold no
shop (`CopyRefused`, nothing written). All rows go in in one transaction;
each table's count is checked against the source's before COMMIT and the
identity sequences are moved past the copied ids. A failure rolls it all
back (`CopyFailed`).
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

from . import make_store
from .copy_ends import CopyRefused, End, Row, Table, open_end
from .errors import StoreError
from .sqlite import migrate

if TYPE_CHECKING:
    from ..config.sections import StoreSettings

BATCH = 5000  # rows read and written at a time: memory stays flat however large the shop
NUL, STAND_IN = "\x00", "\x1f"
KEY_COLUMNS = {"contacts": "customer_key"}  # where reception stores a NUL (`Conversation.customer_key`)

Report = Callable[[str, int, int], None]  # (table, rows in the source, rows copied), as each table is done


class CopyFailed(StoreError):
    """The copy went wrong on the way (a count that differs, a database error) and was rolled back."""


@lru_cache(maxsize=1)
def shop_tables() -> tuple[Table, ...]:
    """Every table the migrations create, in the order they create them (``_migrations`` aside)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn, ":memory:")
        names = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " AND name<>'_migrations' ORDER BY rowid")]
        tables = []
        for name in names:
            info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()  # cid, name, type, notnull, default, pk
            key = tuple(row[1] for row in sorted(info, key=lambda row: row[5]) if row[5])
            tables.append(Table(name, tuple(row[1] for row in info), key,
                                frozenset(conn.execute(f'SELECT * FROM "{name}"').fetchall())))
        return tuple(tables)
    finally:
        conn.close()


def _converter(table: Table, source: str, target: str) -> Callable[[list[Row]], list[Row]] | None:
    """How rows change on the way: the customer key's NUL is U+001F on PostgreSQL (`postgres._bind`)."""
    if source == "sqlite" and target == "postgresql":
        return lambda rows: [tuple(v.replace(NUL, STAND_IN) if type(v) is str and NUL in v else v for v in row)
                             for row in rows]
    if source == "postgresql" and target == "sqlite" and table.name in KEY_COLUMNS:
        at = table.columns.index(KEY_COLUMNS[table.name])
        return lambda rows: [(*row[:at], row[at] and row[at].replace(STAND_IN, NUL), *row[at + 1:]) for row in rows]
    return None


async def _fill(source: End, target: End, tables: tuple[Table, ...], batch: int, report: Report) -> int:
    """Copy every table in one destination transaction, checking each count before COMMIT; the rows copied."""
    total = 0
    await source.begin(write=False)
    try:
        await target.begin(write=True, tables=tables)
        try:
            await target.check_destination(tables)  # again, under the lock: nobody wrote since the first look
            for table in tables:
                expected = await source.count(table)
                if table.seeded:
                    await target.fetch(f"DELETE FROM {table.ref}")  # only the migrations' rows: checked above
                convert = _converter(table, source.kind, target.kind)
                async for rows in source.stream(table, batch):
                    await target.insert(table, convert(rows) if convert else rows)
                copied = await target.count(table)
                report(table.name, expected, copied)
                if copied != expected:
                    raise CopyFailed(f"{table.name}: {expected} rows in SRC {source.shown}, {copied} copied; rolled"
                                     f" back, DST {target.shown} holds no shop")
                total += copied
            await target.advance_ids(tables)
            await target.commit()
        except (CopyRefused, CopyFailed):
            await target.rollback()
            raise
        except Exception as exc:
            await target.rollback()
            raise CopyFailed(f"the copy failed and was rolled back, DST {target.shown} holds no shop:"
                             f" {type(exc).__name__}: {exc}") from exc
    finally:
        await source.rollback()
    return total


async def copy_shop(src: StoreSettings, dst: StoreSettings, batch: int = BATCH,
                    report: Report = lambda table, expected, copied: None) -> int:
    """Copy the shop in `src` into `dst` (new, or without a shop); the rows copied. `CopyRefused`, `CopyFailed`."""
    if (src.url or src.path.resolve()) == (dst.url or dst.path.resolve()):
        raise CopyRefused("SRC and DST are the same database")
    tables = shop_tables()
    source = await open_end("SRC", src, readonly=True)
    try:
        await source.check_source()
        new = dst.url is None and (not dst.path.exists() or dst.path.is_file() and dst.path.stat().st_size == 0)
        if not new:  # look before the store migrates it: a shop at an older schema is refused as it is
            look = await open_end("DST", dst, readonly=True)
            try:
                await look.check_destination(tables)
            finally:
                await look.close()
        store = make_store(dst)  # the schema and _migrations, exactly as a reception that starts on it makes them
        try:
            await store.open()
        except (sqlite3.Error, OSError) as exc:
            raise CopyRefused(f"DST {dst.shown}: cannot create the schema: {exc}") from None
        await store.close()
        target = await open_end("DST", dst, readonly=False)
        try:
            return await _fill(source, target, tables, batch, report)
        finally:
            await target.close()
    finally:
        await source.close()

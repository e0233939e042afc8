"""``reception orders import FILE``: load orders from a CSV or JSON file into the shop's store.

A CSV file has a header row; the columns ``order_id, customer_id, status,
items, address, carrier, tracking_no`` are required (their cells may be empty
where the model allows), ``tracking_events`` (a JSON list of ``{time, text}``)
and ``updated_at`` are optional, and any other column is refused so a typo
never drops data silently. It may be UTF-8 (with or without the BOM Excel
writes) or GB18030/GBK. A JSON file holds a list of order objects.

Every bad row is reported as ``FILE line N: field: reason`` (``FILE [i]: …``
for JSON, 0-based). By default nothing is imported when any row is bad; with
``partial`` the good rows are. The valid orders are written in one
transaction: all of them or none.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ..clock import RealClock
from ..config import Settings
from ..store import StoreError, make_store
from .batch import Problem, bad_rows, validate_batch
from .models import Order

REQUIRED = ("order_id", "customer_id", "status", "items", "address", "carrier", "tracking_no")
OPTIONAL = ("tracking_events", "updated_at")
MAX_FILE = 200 * 1024 * 1024  # bytes


class OrderFileError(ValueError):
    """The file as a whole cannot be read (missing, not CSV or JSON, a bad header); the message says why."""


def _text(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OrderFileError("is neither UTF-8 nor GB18030/GBK text")


def _header(cells: list[str]) -> list[str]:
    header = [c.strip().lower() for c in cells]
    known = REQUIRED + OPTIONAL
    doubled = sorted({c for c in header if header.count(c) > 1})
    unknown = [c or "(empty)" for c in header if c not in known]
    missing = [c for c in REQUIRED if c not in header]
    reasons = []
    if missing:
        reasons.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if unknown:
        reasons.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                       f"(known: {', '.join(known)})")
    if doubled:
        reasons.append(f"column{'s' if len(doubled) > 1 else ''} {', '.join(doubled)} given twice")
    if reasons:
        raise OrderFileError(f"line 1 (the header): {'; '.join(reasons)}")
    return header


def read_csv(text: str) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """(``line N``, row as a dict) for each data row, and the problems of rows too short or too long."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise OrderFileError("is empty; the first line must be the header") from None
    except csv.Error as exc:
        raise OrderFileError(f"line 1 (the header): {exc}") from None
    rows: list[tuple[str, Any]] = []
    problems: list[Problem] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise OrderFileError(f"line {start}: {exc}") from None
        where = f"line {start}"
        while len(cells) > len(header) and not cells[-1].strip():
            cells.pop()  # trailing empty cells (a stray comma) are harmless
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(Problem(where, "(row)", f"has {len(cells)} cells but the header {len(header)} columns"))
            continue
        missing = [name for name in header[len(cells):] if name in REQUIRED]
        if missing:
            problems.append(Problem(where, ", ".join(missing), f"missing: the row has {len(cells)} cells, "
                                    f"the header {len(header)} columns"))
            continue
        row = dict(zip(header, cells))
        rows.append((where, {k: v for k, v in row.items() if k in REQUIRED or v.strip()}))
    return rows, problems


def read_json(text: str) -> list[tuple[int, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OrderFileError(f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, list):
        raise OrderFileError("must hold a JSON list of order objects")
    return list(enumerate(data))


def read_file(path: Path) -> tuple[list[tuple[str | int, Any]], list[Problem]]:
    """The rows of a CSV or JSON file (by its suffix, else by its first character) and the row problems found."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise OrderFileError(f"is larger than {MAX_FILE // (1024 * 1024)} MiB; split it")
        text = _text(path.read_bytes())
    except OSError as exc:
        raise OrderFileError(f"cannot be read: {exc.strerror or exc}") from None
    is_json = path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip()[:1] in ("[", "{"))
    if is_json:
        return [(where, row) for where, row in read_json(text)], []
    rows, problems = read_csv(text)
    return [(where, row) for where, row in rows], problems


async def save(settings: Settings, orders: list[Order]) -> None:
    """Write `orders` to the shop's store in one transaction."""
    store = make_store(settings.store)
    await store.open()
    try:
        tx = store.transaction()
        for order in orders:
            tx.save_order(order)
        await store.commit(tx)
    finally:
        await store.close()


def run(path: Path, settings: Settings, partial: bool, out: TextIO, err: TextIO) -> int:
    """Import the file; print every problem to `err` and a one-line summary. Returns the exit status.

    0: everything valid was imported (with `partial`, bad rows may have been
    skipped); 2: nothing was imported.
    """
    name = path.name
    try:
        rows, structural = read_file(path)
    except OrderFileError as exc:
        print(f"reception: error: {name} {exc}; nothing imported", file=err)
        return 2
    orders, invalid = validate_batch(rows, ZoneInfo(settings.hours.timezone), RealClock().now())
    problems = sorted(structural + invalid, key=_position)
    for problem in problems:
        print(f"{name} {problem}", file=err)
    total, bad = len(rows) + bad_rows(structural), bad_rows(problems)
    if problems and (not partial or not orders):
        hint = f"; fix them, or pass --partial to import the other {total - bad}" if orders else ""
        print(f"reception: error: nothing imported: {bad} of {total} rows in {name} are bad{hint}", file=err)
        return 2
    try:
        asyncio.run(save(settings, orders))
    except StoreError as exc:
        print(f"reception: error: nothing imported: the store refused the write: {exc}", file=err)
        return 2
    skipped = f"; skipped {bad} bad row{'s' if bad != 1 else ''}" if bad else ""
    print(f"imported {len(orders)} order{'s' if len(orders) != 1 else ''} from {name} into {settings.store.shown}"
          f"{skipped}", file=out)
    return 0


def _position(problem: Problem) -> int:
    where = problem.where
    return where if isinstance(where, int) else int(where.split()[-1])

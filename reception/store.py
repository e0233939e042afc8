"""The store: SQLite in WAL mode through sqlite-utils, one writer task that batches.

This is the only module that speaks SQL. Writes are collected in a
`Transaction` and handed to `Store.commit`, which returns once the batch that
holds them is committed (``synchronous=FULL``: on stable storage). Each
transaction runs inside its own savepoint, so one failing transaction never
half-writes and never takes the rest of its batch down with it. Reads use a
second connection; WAL lets them run while the writer commits.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from .events import Event
from .models import Card, Conversation, Message


class StoreError(RuntimeError):
    """The store could not take a write (closed, disk full …)."""


class DuplicateMessage(StoreError):
    """A `message_id` already stored by another transaction."""


def _ts(value: datetime) -> str:
    # one fixed format, so text order is time order
    return value.isoformat(timespec="microseconds")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _m001_core(db: sqlite_utils.Database) -> None:
    db["conversations"].create(
        {
            "id": str, "channel": str, "customer_id": str, "status": str, "entry": str,
            "created_at": str, "updated_at": str, "handover_reason": str, "grp": str,
        },
        pk="id",
    )
    db["conversations"].create_index(["channel", "customer_id", "status"])
    db["messages"].create(
        {
            "id": int, "conversation_id": str, "sender": str, "text": str, "created_at": str,
            "intent": str, "confidence": float, "card": str, "agent_id": str, "message_id": str, "lang": str,
        },
        pk="id",
    )
    db["messages"].create_index(["conversation_id", "id"])
    db["events"].create(
        {"id": int, "name": str, "at": str, "conversation_id": str, "customer_id": str, "data": str},
        pk="id",
    )
    db["events"].create_index(["name", "at"])
    db["events"].create_index(["conversation_id"])
    db["idempotency"].create(
        {"key": str, "customer_id": str, "response": str, "created_at": str}, pk="key"
    )
    db["deliveries"].create(
        {
            "id": int, "conversation_id": str, "channel": str, "payload": str, "attempts": int,
            "due_at": str, "delivered_at": str, "last_error": str, "created_at": str,
        },
        pk="id",
    )
    db["deliveries"].create_index(["delivered_at", "due_at"])


# Append-only: a released migration is never edited, a change is a new entry.
MIGRATIONS: list[tuple[int, Callable[[sqlite_utils.Database], None]]] = [(1, _m001_core)]


@dataclass
class Delivery:
    """A message waiting to be pushed to a channel's callback."""

    id: int
    conversation_id: str
    channel: str
    payload: dict[str, Any]
    attempts: int


@dataclass
class Transaction:
    """Writes that commit together or not at all."""

    ops: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def save_conversation(self, conv: Conversation) -> None:
        self.ops.append(("conversation", (
            conv.id, conv.channel, conv.customer_id, conv.status, conv.entry, _ts(conv.created_at),
            _ts(conv.updated_at), conv.handover_reason, conv.group,
        )))

    def add_message(self, msg: Message) -> None:
        self.ops.append(("message", (
            msg.conversation_id, msg.sender, msg.text, _ts(msg.created_at), msg.intent, msg.confidence,
            _json(msg.card.model_dump()) if msg.card else None, msg.agent_id, msg.message_id, msg.lang,
        )))

    def add_event(self, event: Event) -> None:
        self.events.append(event)
        self.ops.append(("event", (
            event.name, _ts(event.at), event.conversation_id, event.customer_id, _json(event.data),
        )))

    def remember_response(self, key: str, customer_id: str, body: dict[str, Any], at: datetime) -> None:
        self.ops.append(("idempotency", (key, customer_id, _json(body), _ts(at))))

    def enqueue_delivery(self, conversation_id: str, channel: str, payload: dict[str, Any], at: datetime) -> None:
        self.ops.append(("delivery", (conversation_id, channel, _json(payload), 0, _ts(at), _ts(at))))

    def delivery_done(self, delivery_id: int, at: datetime) -> None:
        self.ops.append(("delivered", (_ts(at), delivery_id)))

    def delivery_retry(self, delivery_id: int, attempts: int, due: datetime, error: str | None) -> None:
        self.ops.append(("retry", (attempts, _ts(due), error, delivery_id)))


_SQL = {
    "conversation": "INSERT INTO conversations (id, channel, customer_id, status, entry, created_at, updated_at,"
    " handover_reason, grp) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET status=excluded.status,"
    " entry=excluded.entry, updated_at=excluded.updated_at, handover_reason=excluded.handover_reason, grp=excluded.grp",
    "message": "INSERT INTO messages (conversation_id, sender, text, created_at, intent, confidence, card, agent_id,"
    " message_id, lang) VALUES (?,?,?,?,?,?,?,?,?,?)",
    "event": "INSERT INTO events (name, at, conversation_id, customer_id, data) VALUES (?,?,?,?,?)",
    "idempotency": "INSERT INTO idempotency (key, customer_id, response, created_at) VALUES (?,?,?,?)",
    "delivery": "INSERT INTO deliveries (conversation_id, channel, payload, attempts, due_at, created_at)"
    " VALUES (?,?,?,?,?,?)",
    "delivered": "UPDATE deliveries SET delivered_at=? WHERE id=?",
    "retry": "UPDATE deliveries SET attempts=?, due_at=?, last_error=? WHERE id=?",
}

_STOP = object()


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Store:
    """SQLite storage for conversations, messages, events, idempotency keys and deliveries."""

    def __init__(self, path: Path, synchronous: str = "FULL", batch_max: int = 256) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.batch_max = batch_max
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reception-store")
        self._writer: asyncio.Task[None] | None = None
        self._wconn: sqlite3.Connection | None = None
        self._db: sqlite_utils.Database | None = None
        self.batches = 0  # commits so far; the benchmark reports transactions per commit

    # -- life cycle -------------------------------------------------------------------------
    async def open(self) -> None:
        """Create or migrate the database and start the writer."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wconn = _connect(self.path, self.synchronous)
        self._migrate(sqlite_utils.Database(self._wconn))
        self._db = sqlite_utils.Database(_connect(self.path, self.synchronous))
        self._writer = asyncio.create_task(self._write_loop(), name="reception-store-writer")

    def _migrate(self, db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT)")
        done = {row[0] for row in db.execute("SELECT version FROM _migrations").fetchall()}
        for version, migrate in MIGRATIONS:
            if version in done:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                migrate(db)
                db.execute("INSERT INTO _migrations (version, name) VALUES (?, ?)", [version, migrate.__name__])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

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

    # -- writing ----------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        """A new, empty set of writes."""
        return Transaction()

    async def commit(self, tx: Transaction) -> None:
        """Write `tx` atomically; returns once it is durable. Raises `DuplicateMessage` or `StoreError`."""
        if self._writer is None:
            raise StoreError("the store is closed")
        if not tx.ops:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((tx, future))
        await future

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
            for (_, future), error in zip(batch, errors):
                if future.done():
                    continue
                if error is None:
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
                        conn.execute(_SQL[op], args)
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

    # -- reading ----------------------------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            raise StoreError("the store is closed")
        return self._db

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    async def open_conversation(self, channel: str, customer_id: str) -> Conversation | None:
        """The buyer's conversation on `channel` that is not closed, if any."""
        rows = self._rows(
            "SELECT * FROM conversations WHERE channel=? AND customer_id=? AND status!='closed'"
            " ORDER BY created_at DESC LIMIT 1",
            (channel, customer_id),
        )
        return _conversation(rows[0]) if rows else None

    async def conversation(self, conversation_id: str) -> Conversation | None:
        rows = self._rows("SELECT * FROM conversations WHERE id=?", (conversation_id,))
        return _conversation(rows[0]) if rows else None

    async def messages(self, conversation_id: str, last: int | None = None) -> list[Message]:
        """The conversation's messages, oldest first; only the `last` n when given."""
        if last is None:
            rows = self._rows("SELECT * FROM messages WHERE conversation_id=? ORDER BY id", (conversation_id,))
        else:
            rows = self._rows(
                "SELECT * FROM messages WHERE conversation_id=? ORDER BY id DESC LIMIT ?", (conversation_id, last)
            )[::-1]
        return [_message(row) for row in rows]

    async def stored_response(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """(customer_id, response body) remembered for an idempotency key."""
        rows = self._rows("SELECT customer_id, response FROM idempotency WHERE key=?", (key,))
        return (rows[0]["customer_id"], json.loads(rows[0]["response"])) if rows else None

    async def events(self, name: str | None = None, conversation_id: str | None = None) -> list[Event]:
        """Recorded events in order, optionally of one name or one conversation."""
        where, params = [], []
        if name:
            where.append("name=?")
            params.append(name)
        if conversation_id:
            where.append("conversation_id=?")
            params.append(conversation_id)
        sql = "SELECT * FROM events" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [
            Event(name=r["name"], at=datetime.fromisoformat(r["at"]), conversation_id=r["conversation_id"],
                  customer_id=r["customer_id"], data=json.loads(r["data"] or "{}"))
            for r in self._rows(sql, tuple(params))
        ]

    async def due_deliveries(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """Undelivered callbacks whose time has come, oldest first."""
        rows = self._rows(
            "SELECT * FROM deliveries WHERE delivered_at IS NULL AND due_at<=? ORDER BY id LIMIT ?", (_ts(now), limit)
        )
        return [
            Delivery(id=r["id"], conversation_id=r["conversation_id"], channel=r["channel"],
                     payload=json.loads(r["payload"]), attempts=r["attempts"])
            for r in rows
        ]

    async def next_delivery_due(self) -> datetime | None:
        rows = self._rows("SELECT MIN(due_at) AS due FROM deliveries WHERE delivered_at IS NULL")
        return datetime.fromisoformat(rows[0]["due"]) if rows and rows[0]["due"] else None

    async def counts(self) -> dict[str, int]:
        """Row counts per table (health and benchmarks)."""
        return {
            table: self._rows(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
            for table in ("conversations", "messages", "events", "deliveries")
        }


def _conversation(row: dict[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"], channel=row["channel"], customer_id=row["customer_id"], status=row["status"],
        entry=row["entry"], created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]), handover_reason=row["handover_reason"],
        group=row["grp"],
    )


def _message(row: dict[str, Any]) -> Message:
    return Message(
        conversation_id=row["conversation_id"], sender=row["sender"], text=row["text"],
        created_at=datetime.fromisoformat(row["created_at"]), intent=row["intent"], confidence=row["confidence"],
        card=Card.model_validate(json.loads(row["card"])) if row["card"] else None, agent_id=row["agent_id"],
        message_id=row["message_id"], lang=row["lang"],
    )

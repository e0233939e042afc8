"""Everything the store reads: conversations, messages, events, deliveries, routing state and orders.

The SQL is written once for both back-ends (`dialect.py` makes it PostgreSQL's); each back-end runs it
through `_rows`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable

from ..events import Event
from ..models import Conversation, Message
from ..orders.models import Order
from . import codec


@dataclass
class Delivery:
    """A message waiting to be pushed to a channel's callback."""

    id: int
    conversation_id: str
    channel: str
    payload: dict[str, Any]
    attempts: int


class Reads:
    """Read queries; mixed into `Store`, whose back-end runs them (`_rows`)."""

    _rows: Callable[..., Awaitable[list[dict[str, Any]]]]  # the back-end's (`Store._rows`)

    # -- conversations and messages -----------------------------------------------------------
    async def latest_conversation(self, channel: str, customer_id: str) -> Conversation | None:
        """The buyer's most recent conversation on `channel`: the open one, if any (a buyer has at most one)."""
        rows = await self._rows(
            "SELECT * FROM conversations WHERE channel=? AND customer_id=? ORDER BY created_at DESC, rowid DESC"
            " LIMIT 1",
            (channel, customer_id),
        )
        return codec.conversation(rows[0]) if rows else None

    async def conversation(self, conversation_id: str) -> Conversation | None:
        rows = await self._rows("SELECT * FROM conversations WHERE id=?", (conversation_id,))
        return codec.conversation(rows[0]) if rows else None

    async def conversations(self, status: str | None = None, agent_id: str | None = None,
                            customer_id: str | None = None, limit: int = 1000) -> list[Conversation]:
        """Conversations filtered by status, agent or buyer, newest first."""
        where, params = [], []
        for col, value in (("status", status), ("agent_id", agent_id), ("customer_id", customer_id)):
            if value is not None:
                where.append(f"{col}=?")
                params.append(value)
        sql = "SELECT * FROM conversations" + (" WHERE " + " AND ".join(where) if where else "")
        rows = await self._rows(sql + " ORDER BY created_at DESC LIMIT ?", [*params, limit])
        return [codec.conversation(r) for r in rows]

    async def messages(self, conversation_id: str, last: int | None = None) -> list[Message]:
        """The conversation's messages, oldest first; only the `last` n when given."""
        if last is None:
            rows = await self._rows("SELECT * FROM messages WHERE conversation_id=? ORDER BY id", (conversation_id,))
        else:
            rows = await self._rows(
                "SELECT * FROM messages WHERE conversation_id=? ORDER BY id DESC LIMIT ?", (conversation_id, last)
            )
            rows.reverse()
        return [codec.message(row) for row in rows]

    async def buyer_messages_after(self, channel: str, customer_id: str, after: int,
                                   limit: int = 500) -> list[Message]:
        """The buyer's messages on `channel` with a sequence number above `after`, oldest first.

        Notes meant for agents only (``kind='agent_notice'``) are left out.
        """
        rows = await self._rows(
            "SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.channel=? AND c.customer_id=? AND m.id>? AND (m.kind IS NULL OR m.kind!='agent_notice')"
            " ORDER BY m.id LIMIT ?",
            (channel, customer_id, after, limit),
        )
        return [codec.message(row) for row in rows]

    async def low_confidence_texts(self, since: datetime, limit: int = 2000) -> list[tuple[str, str, datetime]]:
        """(text, lang, at) of the buyer messages handed over as ``low_confidence`` since `since`, newest first.

        The handover event is recorded in the transaction of the buyer's message, at the same instant,
        so the message is the buyer's latest in that conversation at the event's time.
        """
        rows = await self._rows(
            "SELECT DISTINCT m.id, m.text, m.lang, e.at FROM events e JOIN messages m ON m.id = ("
            " SELECT MAX(b.id) FROM messages b WHERE b.conversation_id = e.conversation_id AND b.sender = 'buyer'"
            " AND b.created_at <= e.at)"
            " WHERE e.name = 'handover.requested' AND e.at >= ? AND json_extract(e.data, '$.reason') = 'low_confidence'"
            " AND m.text IS NOT NULL AND m.text != '' ORDER BY e.at DESC, m.id DESC LIMIT ?",
            (codec.ts(since), limit),
        )
        return [(r["text"], r["lang"] or "zh", datetime.fromisoformat(r["at"])) for r in rows]

    async def stored_response(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """(customer_id, response body) remembered for an idempotency key."""
        rows = await self._rows("SELECT customer_id, response FROM idempotency WHERE key=?", (key,))
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
        return [codec.event(r) for r in await self._rows(sql, params)]

    async def counts(self) -> dict[str, int]:
        """Row counts per table (health and benchmarks)."""
        return {
            table: (await self._rows(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"]
            for table in ("conversations", "messages", "events", "deliveries")
        }

    async def event_times(self, names: tuple[str, ...], start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """(name, at) of the events of these names in [start, end)."""
        marks = ",".join("?" * len(names))
        rows = await self._rows(f"SELECT name, at FROM events WHERE name IN ({marks}) AND at>=? AND at<? ORDER BY at",
                                (*names, codec.ts(start), codec.ts(end)))
        return [(r["name"], datetime.fromisoformat(r["at"])) for r in rows]

    async def event_field_counts(self, name: str, field: str, start: datetime, end: datetime) -> dict[str, int]:
        """How often each value of ``data.<field>`` occurs among the events `name` in [start, end)."""
        rows = await self._rows(
            "SELECT json_extract(data, ?) AS value, COUNT(*) AS n FROM events WHERE name=? AND at>=? AND at<?"
            " GROUP BY value", (f"$.{field}", name, codec.ts(start), codec.ts(end)))
        return {str(r["value"]): r["n"] for r in rows}

    async def distinct_conversations(self, name: str, start: datetime, end: datetime) -> int:
        """How many conversations had at least one event `name` in [start, end)."""
        rows = await self._rows(
            "SELECT COUNT(DISTINCT conversation_id) AS n FROM events WHERE name=? AND at>=? AND at<?",
            (name, codec.ts(start), codec.ts(end)))
        return rows[0]["n"]

    async def first_replies(self, start: datetime, end: datetime) -> list[float]:
        """Seconds from the request for a human to the first human reply, for replies in [start, end)."""
        rows = await self._rows(
            "SELECT json_extract(data, '$.since_request_seconds') AS s FROM events WHERE name='agent.replied'"
            " AND json_type(data, '$.first')='true' AND at>=? AND at<?", (codec.ts(start), codec.ts(end)))
        return [float(r["s"]) for r in rows if r["s"] is not None]

    # -- deliveries ---------------------------------------------------------------------------
    async def due_deliveries(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """Undelivered callbacks whose time has come, oldest first."""
        rows = await self._rows(
            "SELECT * FROM deliveries WHERE delivered_at IS NULL AND due_at<=? ORDER BY id LIMIT ?",
            (codec.ts(now), limit),
        )
        return [
            Delivery(id=r["id"], conversation_id=r["conversation_id"], channel=r["channel"],
                     payload=json.loads(r["payload"]), attempts=r["attempts"])
            for r in rows
        ]

    async def next_delivery_due(self) -> datetime | None:
        rows = await self._rows("SELECT MIN(due_at) AS due FROM deliveries WHERE delivered_at IS NULL")
        return datetime.fromisoformat(rows[0]["due"]) if rows and rows[0]["due"] else None

    async def skill_state(self, conversation_id: str) -> tuple[str, dict[str, Any]] | None:
        """(skill, state) of the multi-turn flow the conversation is in, if any."""
        rows = await self._rows("SELECT skill, state FROM skill_states WHERE conversation_id=?", (conversation_id,))
        return (rows[0]["skill"], json.loads(rows[0]["state"])) if rows else None

    async def value(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM kv WHERE key=?", (key,))
        return rows[0]["value"] if rows else None

    async def read_state(self, conversation_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per conversation: ``agent_read_seq`` and ``buyer_read_seq`` (how far each side has read, 0: nothing
        yet) and ``unread`` (the buyer's messages after the agent's mark), in two reads."""
        found: dict[str, dict[str, int]] = {cid: {"unread": 0, "agent_read_seq": 0, "buyer_read_seq": 0}
                                            for cid in conversation_ids}
        if not conversation_ids:
            return found
        marks = ",".join("?" * len(conversation_ids))
        for row in await self._rows(f"SELECT conversation_id, reader, seq FROM read_marks WHERE conversation_id IN"
                                    f" ({marks})", conversation_ids):
            if row["reader"] in ("agent", "buyer"):
                found[row["conversation_id"]][f"{row['reader']}_read_seq"] = int(row["seq"])
        for row in await self._rows(
                f"SELECT m.conversation_id AS cid, COUNT(*) AS n FROM messages m LEFT JOIN read_marks r ON"
                f" r.conversation_id=m.conversation_id AND r.reader='agent' WHERE m.conversation_id IN ({marks})"
                f" AND m.sender='buyer' AND m.id > COALESCE(r.seq, 0) GROUP BY m.conversation_id", conversation_ids):
            found[row["cid"]]["unread"] = int(row["n"])
        return found

    # -- routing state ------------------------------------------------------------------------
    async def agent_states(self) -> dict[str, dict[str, Any]]:
        """Saved state per agent id: status, status_at, last_assigned_at."""
        return {r["id"]: r for r in await self._rows("SELECT * FROM agent_states")}

    async def active_conversations(self) -> list[Conversation]:
        """Every conversation held by an agent, a queue or the offline pool (the router's state)."""
        rows = await self._rows("SELECT * FROM conversations WHERE status IN ('assigned', 'queued', 'offline')")
        return [codec.conversation(r) for r in rows]

    async def bot_conversations_since(self, since: datetime) -> list[Conversation]:
        """Open conversations only the bot has served, whose buyer wrote since `since`."""
        rows = await self._rows("SELECT * FROM conversations WHERE status='bot' AND last_buyer_at>=?",
                                (codec.ts(since),))
        return [codec.conversation(r) for r in rows]

    async def contact(self, customer_key: str) -> tuple[str, datetime] | None:
        """The agent who last served this buyer, and when."""
        rows = await self._rows("SELECT agent_id, last_at FROM contacts WHERE customer_key=?", (customer_key,))
        return (rows[0]["agent_id"], datetime.fromisoformat(rows[0]["last_at"])) if rows else None

    async def service_seconds(self, limit: int = 50) -> list[float]:
        """How long the most recent closed human conversations were served (assigned → closed)."""
        rows = await self._rows(
            "SELECT assigned_at, closed_at FROM conversations WHERE status='closed' AND assigned_at IS NOT NULL"
            " AND closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT ?",
            (limit,),
        )
        return [
            (datetime.fromisoformat(r["closed_at"]) - datetime.fromisoformat(r["assigned_at"])).total_seconds()
            for r in rows
        ]

    async def pool_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest offline-pool runs, newest first, failures decoded."""
        rows = await self._rows("SELECT * FROM pool_runs ORDER BY id DESC LIMIT ?", (limit,))
        for row in rows:
            row["failures"] = json.loads(row["failures"] or "[]")
        return rows

    # -- orders -------------------------------------------------------------------------------
    async def order(self, order_id: str) -> Order | None:
        """The order with this id, whoever's it is (check `customer_id` before showing it to a buyer)."""
        rows = await self._rows("SELECT * FROM orders WHERE order_id=?", (order_id,))
        return codec.order(rows[0]) if rows else None

    async def orders_of(self, customer_id: str, limit: int = 100) -> list[Order]:
        """The buyer's orders, newest first (by `updated_at`; on a tie, the one stored last first)."""
        rows = await self._rows(
            "SELECT * FROM orders WHERE customer_id=? ORDER BY updated_at DESC, rowid DESC LIMIT ?",
            (customer_id, limit))
        return [codec.order(r) for r in rows]

"""`Transaction`: the writes one action causes, committed together or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..events import Event
from ..models import Conversation, Message
from ..orders.models import Order
from . import codec, ledger, notes, privacy

_CONV_COLUMNS = [codec.column(f) for f in codec.CONVERSATION_FIELDS]
# A conversation's columns fixed when it starts: a later write of its row leaves them (and the indexes holding
# only them and other fixed columns) alone. Upserting them too cost 22-25 µs a write against 14.5 µs without.
_CONV_FIXED = {"id", "channel", "customer_id", "created_at", "entry"}
_ORDER = codec.ORDER_COLUMNS

SQL = {
    "conversation": f"INSERT INTO conversations ({', '.join(_CONV_COLUMNS)}, rseq) VALUES "
    f"({', '.join('?' * len(_CONV_COLUMNS))}, ?) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in [*_CONV_COLUMNS, "rseq"] if c not in _CONV_FIXED),
    "message": "INSERT INTO messages (conversation_id, sender, text, created_at, intent, confidence, card, agent_id,"
    " message_id, lang, kind, image) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
    "media": "INSERT INTO media (id, conversation_id, sender, uploader, mime, size, width, height, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?)",
    "event": "INSERT INTO events (name, at, conversation_id, customer_id, data) VALUES (?,?,?,?,?)",
    "idempotency": "INSERT INTO idempotency (key, customer_id, response, created_at) VALUES (?,?,?,?)",
    "delivery": "INSERT INTO deliveries (conversation_id, channel, payload, attempts, due_at, created_at)"
    " VALUES (?,?,?,?,?,?)",
    "delivered": "UPDATE deliveries SET delivered_at=? WHERE id=?",
    "retry": "UPDATE deliveries SET attempts=?, due_at=?, last_error=? WHERE id=?",
    "agent_state": "INSERT INTO agent_states (id, status, status_at, last_assigned_at, rseq) VALUES (?,?,?,?,?)"
    " ON CONFLICT(id) DO UPDATE SET status=excluded.status, status_at=excluded.status_at,"
    " last_assigned_at=excluded.last_assigned_at, rseq=excluded.rseq",
    "contact": "INSERT INTO contacts (customer_key, agent_id, last_at) VALUES (?,?,?) ON CONFLICT(customer_key)"
    " DO UPDATE SET agent_id=excluded.agent_id, last_at=excluded.last_at",
    "kv": "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
    "kv_delete": "DELETE FROM kv WHERE key=?",
    "read_mark": "INSERT INTO read_marks (conversation_id, reader, seq, at) VALUES (?,?,?,?)"
    " ON CONFLICT(conversation_id, reader) DO UPDATE SET seq=excluded.seq, at=excluded.at"
    " WHERE excluded.seq > read_marks.seq",
    "order": f"INSERT INTO orders ({', '.join(_ORDER)}) VALUES ({', '.join('?' * len(_ORDER))}) ON CONFLICT(order_id)"
    " DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in _ORDER[1:]),
    "skill_state": "INSERT INTO skill_states (conversation_id, skill, state, updated_at) VALUES (?,?,?,?)"
    " ON CONFLICT(conversation_id) DO UPDATE SET skill=excluded.skill, state=excluded.state,"
    " updated_at=excluded.updated_at",
    "skill_state_end": "DELETE FROM skill_states WHERE conversation_id=?",
    "pool_run": "INSERT INTO pool_runs (at, operator, trigger, considered, assigned, cap, reason, failures)"
    " VALUES (?,?,?,?,?,?,?,?)",
    **ledger.SQL,  # the session ledger behind the metrics, folded with every event
    **privacy.SQL,  # erasure: a buyer on request, everything past [store] retain_days
    **notes.SQL,  # agents' internal notes and tags (migration 9)
}


@dataclass
class Transaction:
    """Writes that commit together or not at all; `events` are told to plugins after the commit."""

    ops: list[tuple[str, tuple[Any, ...] | dict[str, Any]]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    deliveries: int = 0  # outbox rows added: the delivery loop is woken once they are committed
    conversations: dict[str, Conversation] = field(default_factory=dict)
    agent_states: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    seq: int = 0  # the routing version this transaction writes (several instances: `PgDecision`); else 0

    def save_conversation(self, conv: Conversation) -> None:
        """Write the conversation as it stands when the transaction is submitted (once, however often saved)."""
        self.conversations[conv.id] = conv

    def freeze(self) -> None:
        """Turn the saved conversations and agent states into rows now, stamped with `seq`; called when the
        transaction is submitted, before anyone changes them."""
        rows: list[tuple[str, tuple[Any, ...] | dict[str, Any]]] = [
            ("conversation", (*codec.conversation_row(conv), self.seq)) for conv in self.conversations.values()]
        rows += [("agent_state", (*row, self.seq)) for row in self.agent_states.values()]
        self.ops[:0] = rows
        self.conversations, self.agent_states = {}, {}

    def add_message(self, msg: Message) -> None:
        """Store the message, and the record of its photo (whose conversation it is: who may see it)."""
        self.ops.append(("message", codec.message_row(msg)))
        if msg.image is not None:
            self.ops.append(("media", codec.media_row(msg)))

    def add_event(self, event: Event) -> None:
        """Store the event, and fold it into the session ledger (`ledger.fold`)."""
        self.events.append(event)
        at = codec.ts(event.at)
        self.ops.append(("event", (event.name, at, event.conversation_id, event.customer_id, codec.dumps(event.data))))
        self.ops.extend(ledger.fold(event, at))

    def remember_response(self, key: str, customer_id: str, body: dict[str, Any], at: datetime) -> None:
        self.ops.append(("idempotency", (key, customer_id, codec.dumps(body), codec.ts(at))))

    def enqueue_delivery(self, conversation_id: str, channel: str, payload: dict[str, Any], at: datetime) -> None:
        self.deliveries += 1
        self.ops.append(("delivery", (conversation_id, channel, codec.dumps(payload), 0, codec.ts(at), codec.ts(at))))

    def delivery_done(self, delivery_id: int, at: datetime) -> None:
        self.ops.append(("delivered", (codec.ts(at), delivery_id)))

    def delivery_retry(self, delivery_id: int, attempts: int, due: datetime, error: str | None) -> None:
        self.ops.append(("retry", (attempts, codec.ts(due), error, delivery_id)))

    def save_agent_state(self, agent_id: str, status: str, status_at: datetime,
                         last_assigned_at: datetime | None) -> None:
        self.agent_states[agent_id] = (agent_id, status, codec.ts(status_at), codec.ts(last_assigned_at))

    def save_contact(self, customer_key: str, agent_id: str, at: datetime) -> None:
        self.ops.append(("contact", (customer_key, agent_id, codec.ts(at))))

    def save_skill_state(self, conversation_id: str, skill: str, state: dict[str, Any] | None, at: datetime) -> None:
        """Keep a skill's multi-turn state for the conversation's next message; None ends the flow."""
        if state is None:
            self.ops.append(("skill_state_end", (conversation_id,)))
        else:
            self.ops.append(("skill_state", (conversation_id, skill, codec.dumps(state), codec.ts(at))))

    def set_value(self, key: str, value: str) -> None:
        """A small persistent setting of the running shop (a generated secret …)."""
        self.ops.append(("kv", (key, value)))

    def mark_read(self, conversation_id: str, reader: str, seq: int, at: datetime) -> None:
        """`reader` ("agent" | "buyer") has read the conversation up to message `seq` (a lower one is ignored)."""
        self.ops.append(("read_mark", (conversation_id, reader, seq, codec.ts(at))))

    def delete_value(self, key: str) -> None:
        """Forget a setting kept with `set_value` (a secret that has moved out of the database …)."""
        self.ops.append(("kv_delete", (key,)))

    def add_pool_run(self, at: datetime, operator: str, trigger: str, considered: int, assigned: int, cap: int,
                     reason: str | None, failures: list[dict[str, Any]]) -> None:
        self.ops.append(("pool_run", (codec.ts(at), operator, trigger, considered, assigned, cap, reason,
                                      codec.dumps(failures))))

    def add_note(self, conversation_id: str, author: str, text: str, at: datetime) -> None:
        """An internal note on the conversation, for agents and the admin only."""
        self.ops.append(("note", (conversation_id, author, text, codec.ts(at))))

    def save_labels(self, conversation_id: str, tags: list[str], intent: str | None, by: str, at: datetime) -> None:
        """The conversation's tags and hand-picked intent, replacing what was there."""
        self.ops.append(("labels", (conversation_id, codec.dumps(tags), intent, by, codec.ts(at))))

    def save_order(self, order: Order) -> None:
        """Insert or replace the order with this `order_id`; `updated_at` must be set."""
        self.ops.append(("order", codec.order_row(order)))

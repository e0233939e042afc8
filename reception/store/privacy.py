"""Erasing personal data: one buyer on request (``reception buyer forget``), or everything past the retention.

What a buyer wrote and what the shop knows of them lives in ``messages``,
``media`` (the records of their photos; `reception.media.files` then removes
the files), ``conversations`` (the buyer's id, their last question), ``orders``,
``idempotency`` (the answers sent, by buyer), ``deliveries`` (messages
waiting for a callback), ``skill_states`` (an address being changed …), ``notes`` and
``conversation_labels`` (what agents wrote and tagged about the conversation) and
``contacts`` (which agent served whom): those rows are deleted. The figures
of the shop are computed from the session ledger (``ledger.py``: times and
counts per conversation, no buyer) and from events; events are kept, made
anonymous (no ``customer_id``, no message id or card in their data), so the
ledger they fold into, and every figure, stays as it was.

`stage_forget` and `stage_purge` add the statements to a `Transaction` and
return how many rows each will touch, counted just before; the caller adds
its event (``buyer.forgotten``, ``retention.purged``) and commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from . import codec

if TYPE_CHECKING:  # transaction.py takes this module's SQL
    from .transaction import Transaction

# keys of an event's data that point at a buyer or what they wrote; dropped when the event is made anonymous
PERSONAL_KEYS = ("message_id", "card", "text", "customer_id", "address", "phone", "name", "buyer_name", "page_url",
                 "page_title", "image")
_ANONYMISE = "customer_id=NULL, data=json_remove(data, " + ", ".join(f"'$.{k}'" for k in PERSONAL_KEYS) + ")"
_HELD_STATUSES = "('assigned', 'queued', 'offline')"  # the router holds these in memory: not touched by retention
_OF_BUYER = "SELECT id FROM conversations WHERE customer_id=:cid"
_HELD = f"SELECT id FROM conversations WHERE status IN {_HELD_STATUSES}"

# (what is counted, table, action, condition), in the order they run: rows that find the buyer's
# conversations go before the conversations themselves
_FORGET = [
    ("events_anonymised", "events", _ANONYMISE, f"customer_id=:cid OR conversation_id IN ({_OF_BUYER})"),
    ("photos", "media", None, f"conversation_id IN ({_OF_BUYER})"),  # the files follow (reception.media.files)
    ("messages", "messages", None, f"conversation_id IN ({_OF_BUYER})"),
    ("deliveries", "deliveries", None, f"conversation_id IN ({_OF_BUYER})"),
    ("skill_states", "skill_states", None, f"conversation_id IN ({_OF_BUYER})"),
    ("notes", "notes", None, f"conversation_id IN ({_OF_BUYER})"),  # agents' notes and tags about the buyer
    ("labels", "conversation_labels", None, f"conversation_id IN ({_OF_BUYER})"),
    ("read_marks", "read_marks", None, f"conversation_id IN ({_OF_BUYER})"),
    ("conversations", "conversations", None, "customer_id=:cid"),
    ("orders", "orders", None, "customer_id=:cid"),
    ("idempotency_records", "idempotency", None, "customer_id=:cid"),
]
_PURGE = [
    ("events_anonymised", "events", _ANONYMISE, "at<:cutoff AND customer_id IS NOT NULL"),
    ("photos", "media", None, f"created_at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("messages", "messages", None, f"created_at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("deliveries", "deliveries", None, f"created_at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("skill_states", "skill_states", None, f"updated_at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("notes", "notes", None, f"created_at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("labels", "conversation_labels", None, f"updated_at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("read_marks", "read_marks", None, f"at<:cutoff AND conversation_id NOT IN ({_HELD})"),
    ("conversations", "conversations", None, f"updated_at<:cutoff AND status NOT IN {_HELD_STATUSES}"),
    ("orders", "orders", None, "updated_at<:cutoff"),
    ("idempotency_records", "idempotency", None, "created_at<:cutoff"),
    ("contacts", "contacts", None, "last_at<:cutoff"),
]


def _statement(table: str, action: str | None, where: str) -> str:
    return f"UPDATE {table} SET {action} WHERE {where}" if action else f"DELETE FROM {table} WHERE {where}"


# the write statements by op name, merged into the store's (transaction.SQL)
SQL = {f"{kind}.{name}": _statement(table, action, where)
       for kind, rules in (("forget", _FORGET), ("purge", _PURGE)) for name, table, action, where in rules}
SQL["forget.contact"] = "DELETE FROM contacts WHERE customer_key=?"


class Privacy:
    """Erasure; mixed into `Store`, whose back-end runs the counts (`_rows`)."""

    _rows: Callable[..., Awaitable[list[dict[str, Any]]]]  # the back-end's (`Store._rows`)

    async def _count(self, table: str, where: str, params: Any) -> int:
        return (await self._rows(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params))[0]["n"]

    async def held_conversations(self, customer_id: str) -> list[dict[str, Any]]:
        """The buyer's conversations that an agent, a queue or the offline pool holds now: id, status, agent_id."""
        return await self._rows(f"SELECT id, status, agent_id FROM conversations WHERE customer_id=? AND status IN"
                                f" {_HELD_STATUSES}", [customer_id])

    async def stage_forget(self, tx: Transaction, customer_id: str) -> dict[str, int]:
        """Add to `tx` the erasure of everything about `customer_id` (any channel); the rows each step touches."""
        params = {"cid": customer_id}
        counts = {name: await self._count(table, where, params) for name, table, _, where in _FORGET}
        tx.ops += [(f"forget.{name}", params) for name, *_ in _FORGET]
        channels = [row["channel"] for row in await self._rows(
            "SELECT DISTINCT channel FROM conversations WHERE customer_id=?", [customer_id])]
        keys = [f"{channel}\x00{customer_id}" for channel in channels]  # as Conversation.customer_key
        counts["contacts"] = sum([await self._count("contacts", "customer_key=?", [key]) for key in keys])
        tx.ops += [("forget.contact", (key,)) for key in keys]
        return counts

    async def erased_photos(self, customer_id: str | None = None, cutoff: datetime | None = None) -> list[str]:
        """The ids of the photos that `stage_forget` (`customer_id`) or `stage_purge` (`cutoff`) erases: their
        files are removed once that is committed (`reception.media.files`)."""
        rules, params = (_FORGET, {"cid": customer_id}) if customer_id is not None else \
            (_PURGE, {"cutoff": codec.ts(cutoff)})
        where = next(where for name, _, _, where in rules if name == "photos")
        return [row["id"] for row in await self._rows(f"SELECT id FROM media WHERE {where}", params)]

    async def stage_purge(self, tx: Transaction, cutoff: datetime) -> dict[str, int]:
        """Add to `tx` the erasure of personal data older than `cutoff`; the rows each step touches.

        Conversations still held (assigned, queued, in the offline pool) keep their messages.
        """
        params = {"cutoff": codec.ts(cutoff)}
        counts = {name: await self._count(table, where, params) for name, table, _, where in _PURGE}
        tx.ops += [(f"purge.{name}", params) for name, *_ in _PURGE]
        return counts

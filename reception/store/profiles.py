"""Reads behind the buyer details of the agent and admin views (`reception.buyers.enrich`).

Each takes a list of conversations (or buyers) and answers for all of them
in one query per 500, so a list of waiting buyers costs a few reads, not a
few per buyer.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Iterator, Sequence, TypeVar

from . import codec

CHUNK = 500  # ids per query (SQLite allows 32766 parameters; this keeps statements small)
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _data(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class ProfileReads:
    """Buyer details for lists of conversations; mixed into `Store` (`_rows` is the back-end's)."""

    _rows: Callable[..., Awaitable[list[dict[str, Any]]]]

    async def started_details(self, conversation_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The data of each conversation's ``conversation.started`` event (entry, buyer name, page, device)."""
        found: dict[str, dict[str, Any]] = {}
        for part in _chunks(list(conversation_ids)):
            marks = ",".join("?" * len(part))
            for row in await self._rows(f"SELECT conversation_id, data FROM events WHERE name='conversation.started'"
                                        f" AND conversation_id IN ({marks})", tuple(part)):
                found[row["conversation_id"]] = _data(row["data"])
        return found

    async def latest_assignments(self, conversation_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """How each conversation was last assigned: {via, by, from, at} of its latest ``conversation.assigned``."""
        found: dict[str, dict[str, Any]] = {}
        for part in _chunks(list(conversation_ids)):
            marks = ",".join("?" * len(part))
            rows = await self._rows(f"SELECT conversation_id, at, data FROM events WHERE name='conversation.assigned'"
                                    f" AND conversation_id IN ({marks}) ORDER BY id", tuple(part))
            for row in rows:  # oldest first: the latest wins
                data = _data(row["data"])
                found[row["conversation_id"]] = {"via": data.get("via"), "by": data.get("by"),
                                                 "from": data.get("from"), "agent_id": data.get("agent_id"),
                                                 "at": row["at"]}
        return found

    async def last_buyer_messages(self, conversation_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each conversation's latest buyer message: {text, card?, created_at}, and the latest card the buyer
        sent in it (``last_card``)."""
        found: dict[str, dict[str, Any]] = {}
        for part in _chunks(list(conversation_ids)):
            marks = ",".join("?" * len(part))
            for column in ("", " AND card IS NOT NULL"):
                rows = await self._rows(
                    f"SELECT * FROM messages WHERE id IN (SELECT MAX(id) FROM messages WHERE sender='buyer'"
                    f" AND conversation_id IN ({marks}){column} GROUP BY conversation_id)", tuple(part))
                for row in rows:
                    message = codec.message(row)
                    card = message.card.model_dump() if message.card else None
                    if column:
                        found.setdefault(message.conversation_id, {})["last_card"] = card
                        continue
                    found.setdefault(message.conversation_id, {}).update(
                        text=message.text, card=card, created_at=message.created_at.isoformat(), kind=message.kind)
        return found

    async def buyer_history(self, buyers: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, int]]:
        """Per (channel, customer id): when they first wrote (ISO) and how many conversations they have had."""
        found: dict[tuple[str, str], tuple[str, int]] = {}
        by_channel: dict[str, list[str]] = {}
        for channel, customer in sorted(set(buyers)):
            by_channel.setdefault(channel, []).append(customer)
        for channel, customers in by_channel.items():
            for part in _chunks(customers):
                marks = ",".join("?" * len(part))
                rows = await self._rows(
                    f"SELECT customer_id, MIN(created_at) AS first, COUNT(*) AS n FROM conversations"
                    f" WHERE channel=? AND customer_id IN ({marks}) GROUP BY customer_id", (channel, *part))
                for row in rows:
                    found[(channel, row["customer_id"])] = (row["first"], int(row["n"]))
        return found

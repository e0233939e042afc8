"""What agents add to a conversation for each other (migration 9), and conversation search.

``notes``: internal notes, one row each (who wrote it, when); never part of
the messages, so no buyer-facing path (the widget, callbacks, the buyer's
history) can carry them. ``conversation_labels``: one row per conversation
with its tags (a JSON list) and the intent an agent picked by hand; the
correction itself is the ``intent.corrected`` event, which the session
ledger folds (``metric_intents``) for the intent analytics.

`search_conversations` finds conversations by buyer, text, order number and
activity period, written once for SQLite and PostgreSQL: ``LOWER(…) LIKE``
with the wildcards of the user's text escaped (`like`), named parameters,
and a bounded result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

from ..models import Conversation
from . import codec

SQL = {
    "note": "INSERT INTO notes (conversation_id, author, text, created_at) VALUES (?,?,?,?)",
    "labels": "INSERT INTO conversation_labels (conversation_id, tags, intent, updated_by, updated_at)"
              " VALUES (?,?,?,?,?) ON CONFLICT(conversation_id) DO UPDATE SET tags=excluded.tags,"
              " intent=excluded.intent, updated_by=excluded.updated_by, updated_at=excluded.updated_at",
}

ESCAPE = "\\"


def like(text: str) -> str:
    """A ``LIKE`` pattern that finds `text` anywhere, lower-cased, its ``%`` and ``_`` taken literally."""
    quoted = text.lower().replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{quoted}%"


@dataclass(frozen=True)
class Search:
    """What to look for; every part given must match. Times are stored text (`codec.ts`)."""

    agent_id: str | None = None  # only conversations this agent was ever assigned (None: all, for the admin)
    buyer: str | None = None  # part of the buyer's id or of the name their channel gave
    buyers: tuple[tuple[str, str], ...] = ()  # (channel, customer_id) whose nickname matched `buyer`
    text: str | None = None  # part of a message's text
    order: str | None = None  # an order number: in a card, in a text, or among the buyer's orders
    active_from: str | None = None  # the conversation was active at or after this instant
    active_before: str | None = None  # … and started before this one
    limit: int = 20


_LIKE = f" LIKE :{{}} ESCAPE '{ESCAPE}'"


def _where(search: Search) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if search.agent_id is not None:
        params["agent"] = search.agent_id
        where.append("(c.agent_id=:agent OR EXISTS (SELECT 1 FROM events e WHERE e.conversation_id=c.id"
                     " AND e.name='conversation.assigned' AND json_extract(e.data, '$.agent_id')=:agent))")
    if search.buyer:
        params["buyer"] = like(search.buyer)
        found = ["LOWER(c.customer_id)" + _LIKE.format("buyer"),
                 "EXISTS (SELECT 1 FROM events b WHERE b.conversation_id=c.id AND b.name='conversation.started'"
                 " AND LOWER(json_extract(b.data, '$.buyer_name'))" + _LIKE.format("buyer") + ")"]
        for i, (channel, customer_id) in enumerate(search.buyers):
            params[f"bc{i}"], params[f"bi{i}"] = channel, customer_id
            found.append(f"(c.channel=:bc{i} AND c.customer_id=:bi{i})")
        where.append("(" + " OR ".join(found) + ")")
    if search.text:  # a message's text, or an internal note's
        params["text"] = like(search.text)
        notes = ("EXISTS (SELECT 1 FROM notes n WHERE n.conversation_id=c.id AND LOWER(n.text)"
                 + _LIKE.format("text") + ")")
        if search.agent_id is not None:  # an agent reads the notes of the buyers they hold now (the notes API's rule)
            notes = f"(c.status='assigned' AND c.agent_id=:agent AND {notes})"
        where.append("(EXISTS (SELECT 1 FROM messages t WHERE t.conversation_id=c.id AND LOWER(t.text)"
                     + _LIKE.format("text") + f") OR {notes})")
    if search.order:
        params["order"], params["order_like"] = search.order, like(search.order)
        where.append("(EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id=c.id AND"
                     " (json_extract(o.card, '$.id')=:order OR LOWER(o.text)" + _LIKE.format("order_like") + "))"
                     " OR EXISTS (SELECT 1 FROM orders r WHERE r.order_id=:order AND r.customer_id=c.customer_id))")
    if search.active_from is not None:
        params["lo"] = search.active_from
        where.append("c.updated_at>=:lo")
    if search.active_before is not None:
        params["hi"] = search.active_before
        where.append("c.created_at<:hi")
    return where, params


class NoteReads:
    """Reads of notes, labels and conversation search; mixed into `Store` (`_rows` is the back-end's)."""

    _rows: Callable[..., Awaitable[list[dict[str, Any]]]]

    async def notes(self, conversation_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The conversation's internal notes, oldest first: {id, author, text, created_at}."""
        return await self._rows("SELECT id, author, text, created_at FROM notes WHERE conversation_id=?"
                                " ORDER BY id LIMIT ?", (conversation_id, limit))

    async def labels(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation's tags and corrected intent: {tags, intent, updated_by, updated_at}, or None."""
        rows = await self._rows("SELECT tags, intent, updated_by, updated_at FROM conversation_labels"
                                " WHERE conversation_id=?", (conversation_id,))
        if not rows:
            return None
        row = dict(rows[0])
        row["tags"] = json.loads(row["tags"] or "[]")
        return row

    async def recent_buyers(self, agent_id: str | None, limit: int = 20000) -> list[tuple[str, str]]:
        """(channel, customer_id) of the buyers of the latest conversations (an agent's own when given)."""
        where, params = _where(Search(agent_id=agent_id))
        params["limit"] = limit
        rows = await self._rows(
            "SELECT c.channel, c.customer_id, MAX(c.created_at) AS latest FROM conversations c"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " GROUP BY c.channel, c.customer_id ORDER BY latest DESC LIMIT :limit", params)
        return [(r["channel"], r["customer_id"]) for r in rows]

    async def search_conversations(self, search: Search) -> list[Conversation]:
        """The conversations that match, newest first, at most ``search.limit``."""
        where, params = _where(search)
        params["limit"] = search.limit
        rows = await self._rows("SELECT c.* FROM conversations c" + (" WHERE " + " AND ".join(where) if where else "")
                                + " ORDER BY c.created_at DESC, c.id DESC LIMIT :limit", params)
        return [codec.conversation(r) for r in rows]

    async def matching_messages(self, conversation_ids: Sequence[str], text: str, per_conversation: int = 3,
                                notes_of: Sequence[str] = ()) -> dict[str, list[dict[str, Any]]]:
        """Up to `per_conversation` messages of each conversation whose text contains `text`, oldest first; with
        them the internal notes (sender "note") of the conversations in `notes_of`."""
        found: dict[str, list[dict[str, Any]]] = {}
        ids = list(conversation_ids)
        if not ids:
            return found
        params: dict[str, Any] = {f"c{i}": cid for i, cid in enumerate(ids)}
        params.update({f"n{i}": cid for i, cid in enumerate(notes_of)})
        params["text"] = like(text)
        marks = ", ".join(f":c{i}" for i in range(len(ids)))
        sql = (f"SELECT conversation_id, sender, text, created_at FROM messages WHERE conversation_id IN ({marks})"
               " AND LOWER(text)" + _LIKE.format("text"))
        if notes_of:
            sql += (" UNION ALL SELECT conversation_id, 'note', text, created_at FROM notes WHERE conversation_id IN ("
                    + ", ".join(f":n{i}" for i in range(len(notes_of))) + ") AND LOWER(text)" + _LIKE.format("text"))
        rows = await self._rows(sql + " ORDER BY created_at", params)
        for row in rows:
            kept = found.setdefault(row["conversation_id"], [])
            if len(kept) < per_conversation:
                kept.append(row)
        return found

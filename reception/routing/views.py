"""How conversations and messages look in the agent and admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import Conversation, Message

PLATFORM_REPLY_SECONDS = 180  # the platform's 3-minute human reply rule


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_view(message: Message) -> dict[str, Any]:
    """A message as the API shows it."""
    view: dict[str, Any] = {"sender": message.sender, "text": message.text,
                            "created_at": message.created_at.isoformat()}
    if message.id is not None:
        view["seq"] = message.id  # the read marks' unit (POST …/read, the buyer's read receipts)
    for key in ("intent", "confidence", "agent_id", "kind"):
        if getattr(message, key) is not None:
            view[key] = getattr(message, key)
    if message.card is not None:
        view["card"] = message.card.model_dump()
    if message.image is not None:
        view["image"] = message.image.view()
    return view


def conversation_view(conv: Conversation, now: datetime, position: int | None = None) -> dict[str, Any]:
    """A conversation with what an agent needs to prioritise: how long the buyer has waited."""
    waited = (now - conv.awaiting_since).total_seconds() if conv.awaiting_since else None
    view = {
        "conversation_id": conv.id, "customer_id": conv.customer_id, "channel": conv.channel,
        "status": conv.status, "group": conv.group, "agent_id": conv.agent_id,
        "handover_reason": conv.handover_reason, "intent": conv.intent, "priority": conv.priority,
        "lang": conv.lang, "entry": conv.entry, "created_at": _iso(conv.created_at),
        "asked_human_at": _iso(conv.asked_human_at), "assigned_at": _iso(conv.assigned_at),
        "queued_at": _iso(conv.queued_at), "pooled_at": _iso(conv.pooled_at), "closed_at": _iso(conv.closed_at),
        "awaiting_since": _iso(conv.awaiting_since),
        "waiting_seconds": round(waited, 1) if waited is not None else None,
        "reply_due_in_seconds": round(PLATFORM_REPLY_SECONDS - waited, 1) if waited is not None else None,
        "reminded": conv.reminded_at is not None,
    }
    if position is not None:
        view["position"] = position
    return view

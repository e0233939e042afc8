"""Events: every step of the pipeline records one, past tense, dotted names.

Metrics are computed from events alone, so an event carries everything a
later report needs (who, when, which conversation, why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

CONVERSATION_STARTED = "conversation.started"
MESSAGE_RECEIVED = "message.received"
BOT_ANSWERED = "bot.answered"
HANDOVER_REQUESTED = "handover.requested"
MESSAGE_SENT = "message.sent"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_QUEUED = "conversation.queued"
CONVERSATION_POOLED = "conversation.pooled"
CONVERSATION_TRANSFERRED = "conversation.transferred"
CONVERSATION_REASSIGNED = "conversation.reassigned"
CONVERSATION_CLOSED = "conversation.closed"
AGENT_STATUS_CHANGED = "agent.status_changed"
AGENT_REPLIED = "agent.replied"
AGENT_REMINDED = "agent.reminded"
REASSIGN_FAILED = "conversation.reassign_failed"
SATISFACTION_REQUESTED = "satisfaction.requested"
SATISFACTION_RATED = "satisfaction.rated"
POOL_RAN = "pool.ran"
MODE_CHANGED = "mode.changed"
PENALTY_SWITCHED = "mode.penalty_switched"  # data: the admin's switch (enabled, from, to)
ALERT_RAISED = "alert.raised"
BOT_TOOK_OVER = "coverage.bot_took_over"
CALLBACK_DELIVERED = "callback.delivered"
CALLBACK_FAILED = "callback.failed"
BUYER_FORGOTTEN = "buyer.forgotten"  # data: rows erased per kind, never who
RETENTION_PURGED = "retention.purged"  # data: the cutoff and rows erased per kind


class Event(BaseModel):
    """One thing that happened, at one instant of the reception's clock."""

    name: str
    at: datetime
    conversation_id: str | None = None
    customer_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

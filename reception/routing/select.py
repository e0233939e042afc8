"""Who gets the buyer: the group rules and the default `select_agent` (recent contact, then least loaded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..config import Settings
from ..hookspecs import hookimpl
from ..models import Conversation
from .agents import AgentState

if TYPE_CHECKING:
    from ..core import Reception

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Candidate:
    """An agent the router may choose, with when they last served this buyer."""

    agent: AgentState
    last_contact: datetime | None
    in_group: bool


def choose_group(settings: Settings, conv: Conversation, reason: str, explicit: str | None,
                 order_state: str | None) -> str | None:
    """The agent group for a handover: an explicit known group, else the first matching rule, else None (anyone)."""
    if explicit and explicit in settings.group_names():
        return explicit
    for rule in settings.routing.rules:
        if rule.entries and conv.entry not in rule.entries:
            continue
        if rule.intents and conv.intent not in rule.intents:
            continue
        if rule.reasons and reason not in rule.reasons:
            continue
        if rule.order_states and order_state not in rule.order_states:
            continue
        return rule.group
    return None


def recent_contact_ok(candidate: Candidate, now: datetime, settings: Settings) -> bool:
    """The tiered recent-contact rule: within the window online; within the shorter window even suspended."""
    agent, last = candidate.agent, candidate.last_contact
    if last is None or not agent.has_room:
        return False
    age = now - last
    if agent.status == "online":
        return age <= timedelta(days=settings.routing.recent_contact_days)
    if agent.status == "suspended":
        return age <= timedelta(hours=settings.routing.recent_contact_suspended_hours)
    return False


@hookimpl(trylast=True)
def select_agent(conversation: Conversation, candidates: list[Candidate], reception: "Reception") -> str | None:
    now = reception.clock.now()
    for candidate in candidates:
        if recent_contact_ok(candidate, now, reception.settings):
            return candidate.agent.id
    ready = [c.agent for c in candidates if c.in_group and c.agent.takes_new_buyers]
    if not ready:
        return None
    best = min(ready, key=lambda a: (a.load / a.max_concurrent, a.last_assigned_at or _EPOCH, a.id))
    return best.id

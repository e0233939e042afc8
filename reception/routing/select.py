"""Who gets the buyer: the group (`handover_group`) and the agent (`select_agent`), each answer checked.

The defaults are registered here, ``trylast``: the group rules of ``[[routing.rules]]``, and recent contact
first, then the least loaded. `group_for` and `agent_for` ask the plugins and refuse an impossible answer in
one log line, then ask the next plugin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..config import Settings
from ..hooks import answers
from ..hookspecs import hookimpl
from ..models import Conversation, Handover
from .agents import AgentState

if TYPE_CHECKING:
    from ..core import Reception

log = logging.getLogger("reception.routing")

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


@hookimpl(trylast=True)
def handover_group(conversation: Conversation, handover: Handover, order_state: str | None,
                   reception: "Reception") -> str | None:
    return choose_group(reception.settings, conversation, handover.reason, handover.group, order_state)


def group_for(reception: "Reception", conv: Conversation, handover: Handover, order_state: str | None) -> str | None:
    """The group of a handover by `handover_group`; a group no agent is in is refused and the next plugin asked."""
    known = reception.settings.group_names()
    for plugin, group in answers(reception.pm, "handover_group", conversation=conv, handover=handover,
                                 order_state=order_state, reception=reception):
        if group in known:
            return str(group)
        log.warning("plugin %s: handover_group answered %r for %s, a group no agent is in; asking the next plugin",
                    plugin, group, conv.id)
    return None


def _unfit(candidate: Candidate | None) -> str | None:
    if candidate is None:
        return "is not a candidate"
    if candidate.agent.status == "offline":
        return "is offline"
    if not candidate.agent.has_room:
        return "has no room"
    return None


def agent_for(reception: "Reception", conv: Conversation, candidates: list[Candidate],
              excluded: list[str]) -> AgentState | None:
    """The agent `select_agent` picks among `candidates`; a pick outside them, offline or saturated is refused
    in one log line and the next plugin is asked (last of all the default). None: nobody can take the buyer."""
    by_id = {c.agent.id: c for c in candidates}
    for plugin, chosen in answers(reception.pm, "select_agent", conversation=conv, candidates=candidates,
                                  excluded=list(excluded), reception=reception):
        candidate = by_id.get(chosen) if chosen not in excluded else None
        why = _unfit(candidate)
        if why is None and candidate is not None:
            return candidate.agent
        log.warning("plugin %s: select_agent chose %r for %s, who %s; asking the next plugin",
                    plugin, chosen, conv.id, why)
    return None

"""What agents and the admin do to a conversation: close, transfer, accept, and agents' status.

A mixin of `Router`: every action runs with the router's lock held and adds
its writes to the caller's transaction; a refused action raises
`RoutingError` before it changes anything.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from .. import events as ev, texts
from ..events import Event
from ..models import Conversation, Reply
from ..store import Transaction
from .agents import AgentBook, AgentState

if TYPE_CHECKING:
    from ..config import Settings


class RoutingError(ValueError):
    """A routing action that cannot be done as asked; `code` is the API error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class Actions:
    """Close, transfer, accept and status changes; mixed into `Router`, whose state and moves
    (`book`, `assign`, `enqueue`, `pick`, `drain`, `say` …) they use: declared here, defined by `Router`."""

    settings: Settings
    book: AgentBook
    changed: asyncio.Event
    _service: deque[float]

    if TYPE_CHECKING:  # Router's moves; no definitions at run time, so Router's own are the ones called
        def _untrack(self, conv: Conversation) -> None: ...

        def say(self, tx: Transaction, conv: Conversation, text: str, now: datetime, live: bool,
                kind: str | None = None, agent_id: str | None = None, to_buyer: bool = True) -> list[Reply]: ...

        async def pick(self, conv: Conversation, group: str | None,
                       exclude: Iterable[str] = ()) -> AgentState | None: ...

        def anyone_online(self, group: str | None) -> bool: ...

        def assign(self, tx: Transaction, conv: Conversation, agent: AgentState, now: datetime, via: str,
                   live: bool = False, by: str | None = None) -> list[Reply]: ...

        def enqueue(self, tx: Transaction, conv: Conversation, now: datetime, live: bool) -> list[Reply]: ...

        async def drain(self, tx: Transaction, now: datetime) -> int: ...

    async def close(self, tx: Transaction, conv: Conversation, now: datetime, by: str) -> None:
        """End the conversation; a human-served buyer is asked for a rating; the queue moves."""
        agent_id = conv.agent_id if conv.status == "assigned" else None
        self._untrack(conv)
        if agent_id and conv.assigned_at:
            self._service.append((now - conv.assigned_at).total_seconds())
        conv.status, conv.closed_at, conv.updated_at = "closed", now, now
        conv.awaiting_since = conv.reminded_at = None
        conv.rating_pending = bool(agent_id)
        tx.save_conversation(conv)
        tx.add_event(Event.of(ev.ConversationClosed(by=by, agent_id=agent_id), now, conv))
        if agent_id:
            self.say(tx, conv, texts.rating_request(conv.lang), now, live=False, kind="rating_request")
            tx.add_event(Event.of(ev.SatisfactionRequested(agent_id=agent_id), now, conv))
        await self.drain(tx, now)

    async def transfer(self, tx: Transaction, conv: Conversation, now: datetime, by: str,
                       agent_id: str | None = None, group: str | None = None) -> None:
        """Move a human-held conversation to another agent or group; raises `RoutingError`, changing nothing."""
        current = conv.agent_id
        if agent_id is not None:
            target = self.book.get(agent_id)
            if target is None:
                raise RoutingError(404, "unknown_agent", f"no agent {agent_id!r}")
            if target.id == current:
                raise RoutingError(409, "same_agent", "the conversation is already with this agent")
            if target.status == "offline":
                raise RoutingError(409, "agent_offline", f"{agent_id} is offline")
            if not target.has_room:
                raise RoutingError(409, "agent_at_capacity", f"{agent_id} is at their maximum")
        else:
            if group not in self.settings.group_names():
                raise RoutingError(422, "unknown_group", f"no agent group {group!r}")
            target = await self.pick(conv, group, exclude=[current] if current else [])
            if target is None and not self.anyone_online(group):
                raise RoutingError(409, "group_unavailable", f"nobody in group {group!r} is online")
        # checks done: from here on the move happens
        tx.add_event(Event.of(ev.ConversationTransferred(came_from=current, to_agent=agent_id, to_group=group, by=by),
                              now, conv))
        self.say(tx, conv, texts.transferred(conv.lang), now, live=False, kind="transfer")
        if group is not None:
            conv.group = group
        if target is not None:
            self.assign(tx, conv, target, now, via="transfer")
        else:
            self.enqueue(tx, conv, now, live=False)
        await self.drain(tx, now)

    async def accept(self, tx: Transaction, conv: Conversation, agent: AgentState, now: datetime,
                     via: str = "accept", force_room: bool = False, by: str | None = None) -> None:
        """An agent (or the admin for them) takes a queued or pooled buyer; raises `RoutingError`. `by`: who
        decided (the admin, the agent, the pool's run), recorded with the assignment and told to the agent."""
        if conv.status == "bot" and not (via == "pool" and self.pool_holds(conv, now)):
            raise RoutingError(409, "not_handed_over", "the bot serves this buyer and nobody handed them over; "
                               "only buyers in the queue or the offline pool can be taken")
        if conv.status not in ("queued", "offline", "bot"):
            raise RoutingError(409, "not_waiting", "the conversation is not in the queue or the offline pool")
        if agent.status == "offline":
            raise RoutingError(409, "agent_offline", f"{agent.id} is offline")
        if not agent.has_room and not force_room:
            raise RoutingError(409, "agent_at_capacity", f"{agent.id} is at their maximum")
        self.assign(tx, conv, agent, now, via=via, by=by)
        if via == "pool":
            self.say(tx, conv, texts.pool_notice(by), now, live=False, kind="agent_notice", to_buyer=False)

    def pool_holds(self, conv: Conversation, now: datetime) -> bool:
        """Whether the offline pool holds `conv`: parked there, or (with ``scope = "all"``) a buyer only the
        bot served who wrote within ``max_age_hours``."""
        if conv.status == "offline":
            return True
        pool = self.settings.offline_pool
        return (conv.status == "bot" and pool.scope == "all" and conv.last_buyer_at is not None
                and conv.last_buyer_at >= now - timedelta(hours=pool.max_age_hours))

    def set_status(self, tx: Transaction, agent: AgentState, status: str, now: datetime) -> bool:
        """Change an agent's status; True when it changed."""
        if agent.status == status:
            return False
        tx.add_event(Event.of(ev.AgentStatusChanged(agent_id=agent.id, came_from=agent.status, to=status), now))
        agent.status, agent.status_at = status, now  # type: ignore[assignment]
        tx.save_agent_state(agent.id, status, now, agent.last_assigned_at)
        self.changed.set()
        return True

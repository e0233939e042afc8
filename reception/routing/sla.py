"""The reply watchdog: protects the platform's 3-minute rule for buyers held by agents.

When an assigned buyer's message has gone unanswered for
``routing.reply_reminder_seconds`` (150 s by default) the agent is reminded;
after ``routing.reassign_seconds`` the buyer goes to another agent who can
take them. The automatic welcome does not count as an answer, so an agent
who sent nothing else (a Type-2 non-service risk) is treated the same way.
Conversations nobody wrote in for ``routing.inactivity_close_minutes`` are
closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .. import events as ev
from ..events import Event
from ..models import Conversation
from ..store import Transaction
from .router import Router

if TYPE_CHECKING:
    from ..core import Reception

REMINDER = "买家已等待 {seconds} 秒未获回复，请尽快回复 / buyer waiting {seconds}s for a reply"


def _held(router: Router) -> list[Conversation]:
    # the agents' own lists, not every active conversation: the pool may hold thousands overnight
    return [router.active[c] for agent in router.book.agents.values() for c in agent.conversations
            if c in router.active and router.active[c].status == "assigned"]


def _earliest(router: Router, failed: dict[str, datetime]) -> datetime | None:
    """When the next reminder, reassignment or close falls due (perhaps already), changing nothing: the pass
    takes the routing decision (with several instances, the shop's lock) only when something is due."""
    settings = router.settings.routing
    remind = timedelta(seconds=settings.reply_reminder_seconds)
    reassign = timedelta(seconds=settings.reassign_seconds)
    idle = timedelta(minutes=settings.inactivity_close_minutes)
    times = []
    for conv in _held(router):
        if conv.awaiting_since is not None:
            at = conv.awaiting_since + (reassign if conv.reminded_at else remind)
            times.append(max(at, failed[conv.id]) if conv.id in failed and conv.reminded_at else at)
        elif settings.inactivity_close_minutes:
            times.append(conv.updated_at + idle)
    return min(times) if times else None


async def _check(router: Router, tx: Transaction, now: datetime, failed: dict[str, datetime]) -> datetime | None:
    settings = router.settings.routing
    remind = timedelta(seconds=settings.reply_reminder_seconds)
    reassign = timedelta(seconds=settings.reassign_seconds)
    idle = timedelta(minutes=settings.inactivity_close_minutes)
    due: list[datetime] = []
    for conv in _held(router):
        if conv.awaiting_since is not None:
            waited = now - conv.awaiting_since
            retry_at = failed.get(conv.id)
            if waited >= reassign and (retry_at is None or now >= retry_at):
                previous = conv.agent_id
                agent = await router.pick(conv, conv.group, exclude=[previous] if previous else [])
                if agent is not None:
                    failed.pop(conv.id, None)
                    tx.add_event(Event.of(ev.ConversationReassigned(came_from=previous, to=agent.id,
                                                                    waited_seconds=waited.total_seconds()), now, conv))
                    router.assign(tx, conv, agent, now, via="reassign")
                else:
                    failed[conv.id] = now + remind
                    tx.add_event(Event.of(ev.ReassignFailed(agent_id=previous,
                                                            reason="no other agent can take the buyer"), now, conv))
                    due.append(failed[conv.id])
                continue
            if waited >= remind and conv.reminded_at is None:
                conv.reminded_at = now
                tx.save_conversation(conv)
                seconds = int(waited.total_seconds())
                tx.add_event(Event.of(ev.AgentReminded(agent_id=conv.agent_id, waited_seconds=seconds), now, conv))
                router.say(tx, conv, REMINDER.format(seconds=seconds), now, live=False, kind="agent_notice",
                           to_buyer=False)
            due.append(conv.awaiting_since + (reassign if conv.reminded_at else remind))
        elif settings.inactivity_close_minutes and now - conv.updated_at >= idle:
            await router.close(tx, conv, now, by="inactivity")
            continue
        if settings.inactivity_close_minutes and conv.awaiting_since is None:
            due.append(conv.updated_at + idle)
    return min(due) if due else None


def make_step(reception: "Reception"):
    """One watchdog pass: act on what is due, return when the next thing falls due."""
    failed: dict[str, datetime] = {}

    async def step() -> datetime | None:
        now = reception.clock.now()  # the pass runs as of its wake-up (the routing lock may take a moment)
        earliest = _earliest(reception.router, failed)
        if earliest is None or earliest > now:
            return earliest  # nothing due: no decision (woken again when the router's state changes)
        async with reception.router.change() as tx:
            due = await _check(reception.router, tx, now, failed)
        return due

    return step

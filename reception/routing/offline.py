"""The offline message pool (离线消息池) and its auto-assignment, as DOMAIN.md §3 describes it.

At every interval boundary inside the configured windows (09:00, 09:30 …)
the pool is drained: newest first, at most (online-not-suspended agents ×
``per_agent``) and never more than 5,000 per run, to the agents chosen by
the routing rules (recent contact first, so a suspended agent still gets
their own 24-hour contacts), by groups, or to chosen agents. A run needs at
least ``min_agents`` online-not-suspended agents and an average of pending
replies per agent not above ``max_pending_per_agent``. Every run is
recorded (operator, counts, the reason for each buyer left in the pool) and
the agent sees "assigned from offline messages" in the conversation.

Each boundary runs once, whichever instance holds the lease: a scheduled run
first looks for the boundary's record (inside the routing decision, so two
instances that both believe they lead cannot both run it), and an instance
that takes over the work within `LATE_GRACE` of a boundary nobody ran runs
it late rather than skipping it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .. import bigsale, events as ev, texts
from ..events import Event
from ..models import Conversation
from ..store import Transaction
from .agents import AgentState
from .router import Router
from .schedule import next_run

if TYPE_CHECKING:
    from ..core import Reception

HARD_CAP = 5000
SYSTEM_OPERATOR = texts.AUTO_RUN
SCHEDULE = "schedule"
LATE_GRACE = timedelta(minutes=2)  # a boundary missed while the work moved between instances still runs


def _targets(router: Router) -> list[AgentState]:
    pool = router.settings.offline_pool
    if pool.target == "agents":
        return [a for a in (router.book.get(i) for i in pool.agents) if a is not None]
    if pool.target == "groups":
        return [a for a in router.book.agents.values() if a.groups & set(pool.groups)]
    return list(router.book.agents.values())


async def _candidates(router: Router, now: datetime) -> list[Conversation]:
    settings = router.settings.offline_pool
    cutoff = now - timedelta(hours=settings.max_age_hours)
    pooled = [c for c in router.active.values()
              if c.status == "offline" and (c.pooled_at or c.created_at) >= cutoff]
    if settings.scope == "requested":
        pooled = [c for c in pooled if c.asked_human_at is not None]
    else:
        pooled += await router.reception.store.bot_conversations_since(cutoff)
    return sorted(pooled, key=lambda c: c.last_buyer_at or c.pooled_at or c.created_at, reverse=True)


async def _served_since(router: Router, conv: Conversation) -> bool:
    contact = await router.reception.store.contact(conv.customer_key)
    since = conv.last_buyer_at or conv.pooled_at or conv.created_at
    return contact is not None and contact[1] >= since


async def assign_pool(router: Router, tx: Transaction, now: datetime, operator: str, trigger: str) -> dict[str, Any]:
    """One run over the pool, with `router.lock` held; returns the run's record."""
    settings = router.settings.offline_pool
    pool = await _candidates(router, now)
    ready = [a for a in _targets(router) if a.status == "online"]
    record: dict[str, Any] = {"at": now.isoformat(), "operator": operator, "trigger": trigger,
                              "considered": len(pool), "assigned": 0, "cap": 0, "reason": None, "failures": []}
    pending = sum(1 for c in router.active.values()
                  if c.status == "assigned" and c.awaiting_since and c.agent_id in {a.id for a in ready})
    if len(ready) < settings.min_agents:
        record["reason"] = f"not enough agents online: {len(ready)} < {settings.min_agents}"
    elif settings.max_pending_per_agent is not None and pending / len(ready) > settings.max_pending_per_agent:
        record["reason"] = (f"pending replies per agent too high: {pending / len(ready):.1f} > "
                            f"{settings.max_pending_per_agent:g}")
    if record["reason"]:
        record["failures"] = [{"conversation_id": c.id, "reason": record["reason"]} for c in pool]
    else:
        cap = min(HARD_CAP, len(ready) * settings.per_agent)
        record["cap"] = cap
        given: Counter[str] = Counter()
        allowed = {a.id for a in ready} | {a.id for a in _targets(router) if a.status == "suspended"}
        for conv in pool[:cap]:
            if await _served_since(router, conv):
                record["failures"].append({"conversation_id": conv.id, "reason": "buyer already reached a human"})
                continue
            full = [a for a in router.book.agents.values() if given[a.id] >= settings.per_agent or a.id not in allowed]
            group = conv.group if settings.target == "rules" else None
            agent = await router.pick(conv, group, exclude=[a.id for a in full])
            if agent is None:
                record["failures"].append({"conversation_id": conv.id, "reason": "no agent with free capacity"})
                continue
            await router.accept(tx, conv, agent, now, via="pool", by=SYSTEM_OPERATOR)
            given[agent.id] += 1
            record["assigned"] += 1
        record["failures"] += [{"conversation_id": c.id, "reason": f"over this run's cap of {cap}"}
                               for c in pool[cap:]]
    tx.add_pool_run(now, operator, trigger, record["considered"], record["assigned"], record["cap"],
                    record["reason"], record["failures"])
    tx.add_event(Event.of(ev.PoolRan(**{k: v for k, v in record.items() if k != "failures"},
                                     failed=len(record["failures"])), now))
    return record


async def run_pool(reception: "Reception", operator: str, trigger: str) -> dict[str, Any]:
    """Run the pool now (an admin's "assign now") and wait until it is on disk."""
    async with reception.router.change() as tx:
        record = await assign_pool(reception.router, tx, reception.clock.now(), operator, trigger)
    return record


async def _ran_since(reception: "Reception", boundary: datetime) -> bool:
    runs = await reception.store.pool_runs(limit=20)
    return any(r["trigger"] == SCHEDULE and datetime.fromisoformat(r["at"]) >= boundary for r in runs)


async def run_boundary(reception: "Reception", boundary: datetime) -> dict[str, Any] | None:
    """The scheduled run of `boundary`, unless it is already recorded; None when it was."""
    now = reception.clock.now()  # the run's instant: the record is read meanwhile
    async with reception.router.change() as tx:
        if await _ran_since(reception, boundary):
            return None
        return await assign_pool(reception.router, tx, now, SYSTEM_OPERATOR, SCHEDULE)


def make_step(reception: "Reception"):
    """The scheduler's step: run when a grid time has come, return the next grid time."""
    settings = reception.settings
    tz = ZoneInfo(settings.hours.timezone)
    state: dict[str, datetime | None] = {"due": None}

    def grid(after: datetime) -> datetime | None:
        return next_run(after, settings.offline_pool.windows, tz, bigsale.pool_interval(settings, after))

    async def step() -> datetime | None:
        due, now = state["due"], reception.clock.now()
        if due is None:  # taking over the work: a boundary just missed still runs
            missed = grid(now - LATE_GRACE)
            if missed is not None and missed < now:
                due = missed
        if due is not None and now >= due:
            await run_boundary(reception, due)
        now = reception.clock.now()
        state["due"] = grid(now)
        return state["due"]

    return step

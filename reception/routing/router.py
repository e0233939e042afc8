"""The router (分流): assigns handed-over buyers to agents, queues them, or parks them in the offline pool.

The router keeps the live state (agents' status and load, the queue, every
conversation held by a human, the queue or the pool) in memory and makes
every decision under one lock (`deciding`). Each change is written in the
caller's transaction, which is handed to the `Decision` before the lock is
released: on SQLite the store applies transactions in submission order, so
the disk sees the decisions in the order they were made, and two buyers can
never take the same last free slot. With several instances on PostgreSQL
the decision also holds the shop's routing lock, and the copy here is first
brought up to date with what the other instances decided (`catch_up`, by
the shop's routing version). At start the state is rebuilt from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, AsyncIterator, Iterable

from .. import bigsale, coverage, events as ev, texts
from ..events import Event
from ..models import Conversation, Handover, Message, Reply
from ..store import Transaction
from .actions import Actions
from .agents import AgentBook, AgentState
from .queue import WaitQueue, estimate_wait
from .schedule import next_run
from .select import Candidate, agent_for, group_for

if TYPE_CHECKING:
    from ..cluster import Decision
    from ..core import Reception
    from ..store.pgdecision import PgDecision

log = logging.getLogger("reception.routing")


class Router(Actions):
    """Live routing state and the decisions over it."""

    def __init__(self, reception: "Reception") -> None:
        self.reception = reception
        self.settings = reception.settings
        self.book = AgentBook(reception.settings)
        self.queue = WaitQueue()
        self.active: dict[str, Conversation] = {}
        self._buyers: dict[tuple[str, str], str] = {}  # (channel, customer) -> their active conversation
        self.lock = asyncio.Lock()
        self.changed = asyncio.Event()  # wakes the reply watchdog
        self._service: deque[float] = deque(maxlen=50)
        self._told: dict[str, int] = {}  # queue position last told to each queued buyer
        self.version = 0  # the shop's routing version this copy reflects (PostgreSQL; 0 on SQLite)

    # -- state ------------------------------------------------------------------------------
    async def restore(self) -> None:
        """Rebuild the live state from the store (at start, and after a failed write)."""
        store = self.reception.store
        self.book = AgentBook(self.settings)
        self.queue = WaitQueue()
        self.active = {}
        self._buyers = {}
        self._load_agents(await store.agent_states())
        for conv in await store.active_conversations():
            self._track(conv)
        self._service = deque(await store.service_seconds(), maxlen=50)
        self.apply_limits(self.reception.clock.now())
        self.changed.set()

    def _load_agents(self, rows: dict[str, dict[str, str | None]]) -> None:
        for agent_id, row in rows.items():
            agent = self.book.get(agent_id)
            if agent is None:
                continue  # removed from the config
            agent.status = row["status"]  # type: ignore[assignment]
            agent.status_at = datetime.fromisoformat(row["status_at"]) if row["status_at"] else None
            agent.last_assigned_at = (datetime.fromisoformat(row["last_assigned_at"])
                                      if row["last_assigned_at"] else None)

    def catch_up(self, conversations: list[Conversation], agents: dict[str, dict[str, str | None]],
                 version: int) -> None:
        """Take in what other instances decided since `self.version` (call with `lock` held): the
        conversations and agent states they wrote, as stored now."""
        for fresh in conversations:
            old = self.active.get(fresh.id)
            if old is not None:
                self._untrack(old)
            if fresh.status in ("assigned", "queued", "offline"):
                self._track(fresh)
        self._load_agents(agents)
        self.version = version
        if conversations or agents:
            self.changed.set()

    @contextlib.asynccontextmanager
    async def deciding(self) -> AsyncIterator[Decision | PgDecision]:
        """Decide under the lock, on an up-to-date copy; hand the decision's writes to the `Decision`."""
        async with self.lock:
            async with self.reception.cluster.decide(self) as decision:
                yield decision

    def apply_limits(self, now: datetime) -> None:
        """Each agent's maximum as it stands now (big-sale mode may raise it)."""
        for agent_settings in self.settings.agents:
            agent = self.book.get(agent_settings.id)
            if agent is not None:
                agent.max_concurrent = bigsale.max_concurrent(self.settings, agent_settings.max_concurrent, now)

    def _track(self, conv: Conversation) -> None:
        self.active[conv.id] = conv
        self._buyers[(conv.channel, conv.customer_id)] = conv.id
        if conv.status == "assigned" and conv.agent_id:
            agent = self.book.get(conv.agent_id)
            if agent is not None:
                agent.conversations[conv.id] = None
        elif conv.status == "queued":
            self.queue.put(conv)

    def _untrack(self, conv: Conversation) -> None:
        self.active.pop(conv.id, None)
        self._buyers.pop((conv.channel, conv.customer_id), None)
        self.queue.remove(conv.id)
        self._told.pop(conv.id, None)
        if conv.agent_id:
            agent = self.book.get(conv.agent_id)
            if agent is not None:
                agent.conversations.pop(conv.id, None)

    @contextlib.asynccontextmanager
    async def change(self, tx: Transaction | None = None) -> AsyncIterator[Transaction]:
        """A routing decision, the one way routing state is committed: decide under the lock on an up-to-date
        copy, submit the transaction (`tx`, or a new one) before the lock is released, await it, then tell
        plugins and listeners its events (`Reception.emit`).

        When the write fails, or the code inside raises after staging something, the router's copy is
        rebuilt from disk, so memory never keeps a change the disk does not have. A refusal raised before
        anything was staged (a 409) changed nothing and costs no rebuild.
        """
        tx = tx if tx is not None else self.reception.store.transaction()
        staged = len(tx.ops)
        try:
            async with self.deciding() as decision:
                yield tx
                pending = decision.submit(tx)
        except BaseException:
            if len(tx.ops) > staged:
                await self.reception.cluster.restore(self)
            raise
        try:
            await pending
        except Exception:
            await self.reception.cluster.restore(self)
            raise
        await self.reception.emit(tx.events)

    def current(self, conv: Conversation) -> Conversation:
        """The live copy of an active conversation (the router's copy is the fresh one)."""
        return self.active.get(conv.id, conv)

    def held_for(self, channel: str, customer_id: str) -> Conversation | None:
        """The buyer's conversation held by a human, the queue or the pool (always their latest), or None."""
        conv_id = self._buyers.get((channel, customer_id))
        return self.active.get(conv_id) if conv_id else None

    def service_seconds(self) -> float:
        if not self._service:
            return self.settings.routing.default_service_seconds
        return sum(self._service) / len(self._service)

    # -- speaking ---------------------------------------------------------------------------
    def say(self, tx: Transaction, conv: Conversation, text: str, now: datetime, live: bool,
            kind: str | None = None, agent_id: str | None = None, to_buyer: bool = True) -> list[Reply]:
        """A system message in the conversation: a reply in the current exchange when `live`, else delivered."""
        message = Message(conversation_id=conv.id, sender="system", text=text, created_at=now, lang=conv.lang,
                          kind=kind, agent_id=agent_id)
        self.reception.stage(tx, conv, message, deliver=to_buyer and not live)
        return [Reply(sender="system", text=text)] if live and to_buyer else []

    # -- choosing ---------------------------------------------------------------------------
    async def candidates(self, conv: Conversation, group: str | None,
                         exclude: Iterable[str] = ()) -> list[Candidate]:
        """The group's agents plus the buyer's recent contact (first), for `select_agent`."""
        skip = set(exclude)
        contact = await self.reception.store.contact(conv.customer_key)
        result = []
        if contact and contact[0] not in skip and (agent := self.book.get(contact[0])) is not None:
            result.append(Candidate(agent, contact[1], agent.serves(group)))
            skip.add(agent.id)
        result += [Candidate(a, None, True) for a in self.book.in_group(group) if a.id not in skip]
        return result

    async def pick(self, conv: Conversation, group: str | None, exclude: Iterable[str] = ()) -> AgentState | None:
        """Ask `select_agent` (`select.agent_for`: an impossible pick is refused and the next plugin asked)."""
        excluded = list(exclude)
        candidates = await self.candidates(conv, group, excluded)
        if not candidates:
            return None
        return agent_for(self.reception, conv, candidates, excluded)

    def anyone_online(self, group: str | None) -> bool:
        return bool(self.book.online(group))

    # -- moves (call with `lock` held; they add to `tx`) --------------------------------------
    def assign(self, tx: Transaction, conv: Conversation, agent: AgentState, now: datetime, via: str,
               live: bool = False, by: str | None = None) -> list[Reply]:
        """Give the conversation to `agent` and greet the buyer in the agent's name."""
        came_from = conv.status
        self._untrack(conv)
        conv.status, conv.agent_id, conv.assigned_at, conv.updated_at = "assigned", agent.id, now, now
        conv.awaiting_since, conv.reminded_at, conv.queued_at, conv.pooled_at = now, None, None, None
        agent.last_assigned_at = now
        self._track(conv)
        tx.save_conversation(conv)
        tx.save_agent_state(agent.id, agent.status, agent.status_at or now, now)
        tx.save_contact(conv.customer_key, agent.id, now)
        waited = (now - conv.asked_human_at).total_seconds() if conv.asked_human_at else None
        tx.add_event(Event.of(ev.ConversationAssigned(agent_id=agent.id, group=conv.group, via=via, came_from=came_from,
                                                      waited_seconds=waited, by=by), now, conv))
        self.changed.set()
        greeting = agent.welcome.format(name=agent.name) if agent.welcome else texts.welcome(agent.name, conv.lang)
        return self.say(tx, conv, greeting, now, live, kind="welcome", agent_id=agent.id)

    def enqueue(self, tx: Transaction, conv: Conversation, now: datetime, live: bool) -> list[Reply]:
        """Put the buyer in their group's line and tell them where they stand."""
        self._untrack(conv)
        conv.status, conv.agent_id, conv.updated_at = "queued", None, now
        if conv.queued_at is None:
            # strictly increasing, so buyers who queue in the same instant keep their order across restarts
            latest = self.queue.latest_queued_at()
            conv.queued_at = now if latest is None or now > latest else latest + timedelta(microseconds=1)
        self._track(conv)
        tx.save_conversation(conv)
        position = self.queue.position(conv)
        tx.add_event(Event.of(ev.ConversationQueued(group=conv.group, position=position,
                                                    estimate_seconds=round(self.estimate(conv, position)),
                                                    priority=conv.priority), now, conv))
        self._told[conv.id] = position
        return self.say(tx, conv, self.queue_text(conv, position, now), now, live, kind="queue")

    def queue_text(self, conv: Conversation, position: int, now: datetime) -> str:
        """Where the buyer stands and how long it should take (plus the sale's note in big-sale mode)."""
        minutes = max(1, round(self.estimate(conv, position) / 60))
        note = bigsale.queue_note(self.settings, now, conv.lang)
        return texts.queued(position, minutes, conv.lang) + (f" {note}" if note else "")

    def estimate(self, conv: Conversation, position: int) -> float:
        slots = sum(a.max_concurrent for a in self.book.online(conv.group))
        return estimate_wait(position, self.service_seconds(), slots)

    def park(self, tx: Transaction, conv: Conversation, now: datetime, live: bool,
             reason: str = "nobody_online") -> list[Reply]:
        """The bot takes over: the buyer waits in the offline pool, told why and when humans are back."""
        self._untrack(conv)
        conv.status, conv.agent_id, conv.updated_at = "offline", None, now
        conv.pooled_at = conv.pooled_at or now
        self._track(conv)
        tx.save_conversation(conv)
        tx.add_event(Event.of(ev.ConversationPooled(group=conv.group, reason=reason), now, conv))
        tx.add_event(Event.of(ev.BotTookOver(reason=reason, group=conv.group), now, conv))
        if reason == "outside_hours":
            cal = coverage.calendar(self.reception)
            back = cal.next_open(now, conv.group)
            when = cal.local_text(back, now) if back else None
        else:
            when = self.next_pool_run_text(now)
        return self.say(tx, conv, texts.takeover(reason, when, conv.lang), now, live, kind="pool")

    def still_kept(self, tx: Transaction, conv: Conversation, now: datetime) -> list[Reply]:
        """A pooled buyer asks for a person again: they are still kept, and when the humans are next due: the
        first pool run once the buyer's group is open (a run while it is closed assigns nobody), else the
        opening itself."""
        cal = coverage.calendar(self.reception)
        back = cal.next_open(now, conv.group)
        due = None
        if back is not None:  # a run right at the opening counts
            due = self.next_pool_run(back - timedelta(microseconds=1) if back > now else now) or back
        when = cal.local_text(due, now) if due is not None else None
        return self.say(tx, conv, texts.still_kept(when, conv.lang), now, live=True, kind="pool")

    def capacity_reason(self, conv: Conversation, penalty: bool = False) -> str | None:
        """Why no human can take the buyer even by waiting in the queue, or None (then they queue)."""
        agents = self.book.in_group(conv.group)
        if not any(a.status != "offline" for a in agents):
            return "nobody_online"
        if not any(a.status == "online" for a in agents):
            return "all_suspended"
        if penalty:
            return "penalty_no_human"  # under a platform penalty the bot keeps buyers rather than queueing them
        limit = bigsale.queue_limit(self.settings, self.reception.clock.now())
        if limit and self.queue.len_group(conv.group) >= limit:
            return "queue_full"
        return None

    def next_pool_run(self, now: datetime) -> datetime | None:
        """The offline pool's next run after `now`, or None (no pool, no run within its windows)."""
        pool = self.settings.offline_pool
        if not pool.enabled:
            return None
        from zoneinfo import ZoneInfo

        return next_run(now, pool.windows, ZoneInfo(self.settings.hours.timezone),
                        bigsale.pool_interval(self.settings, now))

    def next_pool_run_text(self, now: datetime) -> str | None:
        when = self.next_pool_run(now)
        return coverage.calendar(self.reception).local_text(when, now) if when else None

    async def route(self, tx: Transaction, conv: Conversation, now: datetime, live: bool,
                    penalty: bool = False) -> list[Reply]:
        """An agent if one can take the buyer; else the queue; else the bot covers and the pool keeps the buyer."""
        reason = coverage.takeover_reason(self.reception, conv, now)
        if reason is None:
            agent = await self.pick(conv, conv.group)
            if agent is not None:
                return self.assign(tx, conv, agent, now, via="route", live=live)
            reason = self.capacity_reason(conv, penalty)
        if reason is None:
            return self.enqueue(tx, conv, now, live)
        return self.park(tx, conv, now, live, reason)

    async def hand_over(self, tx: Transaction, conv: Conversation, handover: Handover, now: datetime,
                        order_state: str | None, penalty: bool = False) -> list[Reply]:
        """The bot hands the buyer over: choose the group and the priority, then route."""
        conv.handover_reason = handover.reason
        conv.group = group_for(self.reception, conv, handover, order_state)
        handover.group = conv.group
        urgent = handover.reason in self.settings.routing.priority_reasons or handover.detail.get("priority")
        conv.priority = 1 if urgent else 0
        conv.asked_human_at = conv.asked_human_at or now
        return await self.route(tx, conv, now, live=True, penalty=penalty)

    async def buyer_wrote(self, tx: Transaction, conv: Conversation, now: datetime) -> list[Reply]:
        """A buyer's message in a conversation held by a human, the queue or the pool."""
        conv.last_buyer_at = conv.updated_at = now
        if conv.status == "assigned":
            if conv.awaiting_since is None:
                conv.awaiting_since, conv.reminded_at = now, None
                self.changed.set()
            tx.save_conversation(conv)
            return []
        if conv.status == "queued":
            tx.save_conversation(conv)
            return [Reply(sender="system", text=self.queue_text(conv, self.queue.position(conv), now))]
        # in the pool: if humans serve now and someone can take the buyer, they do
        if coverage.takeover_reason(self.reception, conv, now) is None:
            agent = await self.pick(conv, conv.group)
            if agent is not None:
                return self.assign(tx, conv, agent, now, via="route", live=True)
        tx.save_conversation(conv)
        return []

    def agent_replied(self, tx: Transaction, conv: Conversation, message: Message, now: datetime) -> None:
        """An agent's message: unless it is only the welcome, the buyer has been answered."""
        conv.updated_at = now
        tx.save_conversation(conv)
        if message.kind == "welcome":
            return
        first = conv.first_reply_at is None
        waited = (now - conv.awaiting_since).total_seconds() if conv.awaiting_since else None
        since_request = (now - conv.asked_human_at).total_seconds() if conv.asked_human_at and first else None
        conv.first_reply_at = conv.first_reply_at or now
        conv.awaiting_since = conv.reminded_at = None
        tx.save_conversation(conv)
        tx.save_contact(conv.customer_key, message.agent_id or "", now)
        tx.add_event(Event.of(ev.AgentReplied(agent_id=message.agent_id, first=first, response_seconds=waited,
                                              since_request_seconds=since_request), now, conv))
        self.changed.set()

    async def drain(self, tx: Transaction, now: datetime) -> int:
        """Serve queued buyers in order while agents have room; tell the rest their new position."""
        served = 0
        for conv in self.queue.serving(all_groups=True):  # lazily: `assign` takes buyers out as it goes
            if not any(a.status != "offline" and a.has_room for a in self.book.agents.values()):
                break  # nobody can take anyone: a long queue in a sale must not cost a lookup per buyer
            agent = await self.pick(conv, conv.group)
            if agent is not None:
                self.assign(tx, conv, agent, now, via="queue")
                served += 1
        if served:
            self._tell_positions(tx, now)
        return served

    def _tell_positions(self, tx: Transaction, now: datetime) -> None:
        limit = self.settings.routing.queue_updates_max_position
        for group in self.queue.groups():
            for position, conv in enumerate(self.queue.first(limit, group), start=1):
                if self._told.get(conv.id) != position:
                    self._told[conv.id] = position
                    self.say(tx, conv, self.queue_text(conv, position, now), now, live=False, kind="queue")

"""The simulation engine: buyers and agents of one day, on the virtual clock, through the real application.

The application is the one `create_app` builds (pipeline, bot, skills,
router, coverage, offline pool, watchdog, store), started on a scratch
SQLite file with a `VirtualClock`. Buyers write through
``reception.receive``, the same pipeline every channel uses; agents act
through `routing.work`, the same calls the workbench makes; they learn of
their buyers from ``conversation.assigned`` events (the `track_event` hook).
Actions due within one virtual second run together, so the store batches
their writes as it would under live traffic. A SQLite store commits its
batches on the loop rather than in its worker thread, several to a commit
(`inline_writes`), and
buyers' sentence vectors are encoded on the loop rather than in the
encoder's thread (`FaqLibrary.encode_inline`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

from aiohttp import web

from .. import events as ev
from ..app import create_app
from ..channels.base import Channel
from ..clock import VirtualClock
from ..config import Settings
from ..core import RECEPTION, Reception
from ..events import Event
from ..faq.bot import library as faq_library
from ..hookspecs import hookimpl
from ..metrics.assessment import assess
from ..metrics.report import FROZEN_AT
from ..models import Inbound
from ..routing import work
from ..store import SqliteStore, Store
from .buyers import AGENT_REPLIES, FOLLOW_UPS, HUMAN_REQUESTS, NUDGES, RATINGS, Buyer
from .scenario import Agents as AgentBehaviour, Buyers as BuyerBehaviour

log = logging.getLogger("reception.simulate")

TICK = 1.0  # seconds of virtual time whose actions run together
COMMIT_EVERY = 1024  # batches a scratch SQLite database applies between two commits (`inline_writes`)
CHANNEL = "simulation"


class SimulatedChannel(Channel):
    """The simulated buyers' channel: they read replies from the pipeline's answer; nothing is pushed."""

    name = CHANNEL


@dataclass
class Track:
    """One buyer's time with the humans, as the simulation follows it."""

    buyer: Buyer
    rng: random.Random
    asked_at: float
    turns_left: int
    conv_id: str | None = None
    agent_id: str | None = None
    assigned_at: float | None = None
    awaiting: bool = True  # the buyer waits for a person's answer
    answered: bool = False
    late: bool = False
    handled_seconds: float | None = None


@dataclass
class Run:
    """What one simulated day produced."""

    assessment: dict[str, Any]
    human_buyers: list[Buyer]
    handle_seconds: list[float]
    failed_actions: int
    conversations: int


Watch = Callable[["Engine"], None]  # looks at the day after each of its steps


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(timezone.utc)


def inline_writes(store: Store) -> None:
    """Have a SQLite store apply each batch on the loop instead of in its worker thread, committing once every
    `COMMIT_EVERY` batches (`SqliteStore.write_on_loop`).

    The virtual clock stands still while a batch is applied, so the day sees the same instants; what changes
    is that the hand-over to the thread (a third of a millisecond a batch) is gone, and that which actions
    share a batch no longer depends on how fast the thread happened to be: the same scenario and seed give
    the same figures every time (replays of the staffing search can then be shared). The same statements
    run in the same transactions; the commits, the largest cost left in the day's store, are shared.
    """
    if isinstance(store, SqliteStore):
        store.write_on_loop(COMMIT_EVERY)


class Engine:
    """One simulated day: schedule buyers and shifts, run them on the clock, then read the assessment."""

    def __init__(self, settings: Settings, day: date, buyers: list[Buyer], shifts: list[tuple[str, float, float]],
                 behaviour: BuyerBehaviour, agents: AgentBehaviour,
                 progress: Callable[[int], None] | None = None,
                 watch: Watch | None = None) -> None:
        self.settings, self.day, self.buyers, self.shifts = settings, day, buyers, shifts
        self.behaviour, self.agents = behaviour, agents
        self.progress = progress or (lambda done: None)
        self.watch = watch  # called after every step of the day (the staffing search looks on)
        self.tz = ZoneInfo(settings.hours.timezone)
        self.day0 = local_midnight(day, self.tz)
        self.clock = VirtualClock(self.day0)
        self._heap: list[tuple[float, int, Callable[..., Awaitable[None]], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self.tracks: dict[str, Track] = {}  # by customer id
        self._early: dict[str, Event] = {}
        self.reception: Reception | None = None
        self.failed = 0

    # -- hooks ------------------------------------------------------------------------------
    @hookimpl
    def register_channels(self, register: Callable[[type[Channel]], None]) -> None:
        register(SimulatedChannel)

    @hookimpl
    def track_event(self, event: Event, reception: Reception) -> None:
        if event.name != ev.CONVERSATION_ASSIGNED or event.customer_id is None:
            return
        if event.customer_id in self.tracks:
            self._assigned(self.tracks[event.customer_id], event)
        else:  # assigned in the very exchange that asked for a person: followed once the answer is back
            self._early[event.customer_id] = event

    # -- scheduling -------------------------------------------------------------------------
    def now(self) -> float:
        return (self.clock.now() - self.day0).total_seconds()

    def at(self, seconds: float, action: Callable[..., Awaitable[None]], *args: Any) -> None:
        heapq.heappush(self._heap, (seconds, next(self._order), action, args))

    def delay(self, rng: random.Random, mean: float) -> float:
        return min(rng.expovariate(1 / mean), mean * 8)

    async def run(self) -> Run:
        app = create_app(self.settings, plugins=[self], clock=self.clock)
        inline_writes(app[RECEPTION].store)
        runner = web.AppRunner(app)
        await runner.setup()
        self.reception = app[RECEPTION]
        faq_library(self.reception).encode_inline = True  # the same batches of sentence vectors every run
        try:
            for agent_id, start, end in self.shifts:
                self.at(start, self._status, agent_id, "online")
                self.at(end, self._status, agent_id, "offline")
            for buyer in self.buyers:
                self.at(buyer.at, self._arrive, buyer)
            await self._loop()
            now = self.clock.now()
            # the day's database stops at this instant: `reception report` reads it as of now, as done here
            tx = self.reception.store.transaction()
            tx.set_value(FROZEN_AT, now.isoformat())
            await self.reception.commit(tx)
            assessment = await assess(self.reception.store, self.settings, self.day, self.day, now)
        finally:
            await runner.cleanup()
        return Run(assessment=assessment, human_buyers=self.human_buyers(), handle_seconds=self.handle_seconds(),
                   failed_actions=self.failed, conversations=len(self.buyers))

    def human_buyers(self) -> list[Buyer]:
        """The buyers who asked for a person so far, in the order they asked."""
        return [t.buyer for t in self.tracks.values()]

    def handle_seconds(self) -> list[float]:
        """How long the agents held each buyer they closed so far."""
        return [t.handled_seconds for t in self.tracks.values() if t.handled_seconds is not None]

    async def _loop(self) -> None:
        arrived = 0
        while self._heap:
            due = self._heap[0][0]
            if due > self.now():
                await self.clock.advance(due - self.now())
            horizon = self.now() + TICK
            batch = []
            while self._heap and self._heap[0][0] <= horizon:
                _, _, action, args = heapq.heappop(self._heap)
                batch.append(action(*args))
                arrived += action == self._arrive
            for outcome in await asyncio.gather(*batch, return_exceptions=True):
                if isinstance(outcome, Exception):
                    self.failed += 1
                    log.warning("a simulated action failed: %r", outcome)
            self.progress(arrived)
            if self.watch is not None:
                self.watch(self)

    # -- buyers -----------------------------------------------------------------------------
    async def _say(self, buyer: Buyer, text: str) -> Any:
        assert self.reception is not None
        return await self.reception.receive(Inbound(channel=CHANNEL, customer_id=buyer.customer_id, text=text))

    async def _arrive(self, buyer: Buyer) -> None:
        now = self.now()
        outcome = await self._say(buyer, buyer.text)
        if outcome.handover is not None:
            self._asked(buyer, now)
        elif buyer.kind == "routine" and random.Random(buyer.seed + buyer.index).random() < \
                self.behaviour.human_after_answer:
            self.at(now + 20, self._ask_again, buyer)

    async def _ask_again(self, buyer: Buyer) -> None:
        now = self.now()
        text = HUMAN_REQUESTS[buyer.lang][buyer.index % len(HUMAN_REQUESTS[buyer.lang])]
        outcome = await self._say(buyer, text)
        if outcome.handover is not None:
            self._asked(buyer, now)

    def _asked(self, buyer: Buyer, now: float) -> None:
        """The buyer asked for a person: follow them until an agent closes."""
        if buyer.customer_id in self.tracks:
            return
        rng = buyer.stream()
        p = 1 / (1 + self.behaviour.turns)
        turns = 0
        while rng.random() > p:
            turns += 1
        buyer.asked_at = now
        track = Track(buyer=buyer, rng=rng, asked_at=buyer.asked_at, turns_left=turns)
        self.tracks[buyer.customer_id] = track
        if (early := self._early.pop(buyer.customer_id, None)) is not None:
            self._assigned(track, early)
        self.at(track.asked_at + self.behaviour.patience_seconds, self._patience, track)

    async def _patience(self, track: Track) -> None:
        if not track.answered:
            track.late = True
            await self._say(track.buyer, NUDGES[track.buyer.lang])

    async def _next_turn(self, track: Track) -> None:
        track.turns_left -= 1
        track.awaiting = True
        lang = track.buyer.lang
        await self._say(track.buyer, track.rng.choice(FOLLOW_UPS[lang]))
        if track.agent_id is not None:
            self.at(self.now() + self.delay(track.rng, self.agents.reply_seconds), self._reply, track,
                    track.agent_id)

    async def _rate(self, track: Track) -> None:
        unhappy = track.rng.random() < (self.behaviour.unhappy_if_late if track.late
                                        else self.behaviour.unhappy_otherwise)
        await self._say(track.buyer, RATINGS[track.buyer.lang][1 if unhappy else 0])

    # -- agents -----------------------------------------------------------------------------
    async def _status(self, agent_id: str, status: str) -> None:
        assert self.reception is not None
        agent = self.reception.router.book.get(agent_id)
        if agent is not None:
            await work.set_status(self.reception, agent, status)

    def _assigned(self, track: Track, event: Event) -> None:
        assert isinstance(assigned := event.payload, ev.ConversationAssigned)
        track.conv_id, track.agent_id = event.conversation_id, assigned.agent_id
        at = max(self.now(), (event.at - self.day0).total_seconds())
        if track.assigned_at is None:
            track.assigned_at = at
        if track.awaiting:
            self.at(at + self.delay(track.rng, self.agents.reply_seconds), self._reply, track, track.agent_id)

    def _holds(self, track: Track, agent_id: str) -> Any:
        assert self.reception is not None
        conv = self.reception.router.active.get(track.conv_id or "")
        if conv is None or conv.status != "assigned" or conv.agent_id != agent_id:
            return None  # moved on (reassigned, closed): this agent has nothing to do here
        return conv

    async def _reply(self, track: Track, agent_id: str) -> None:
        conv = self._holds(track, agent_id)
        if conv is None or not track.awaiting:
            return
        assert self.reception is not None
        await work.reply(self.reception, conv, agent_id, track.rng.choice(AGENT_REPLIES[conv.lang]))
        track.awaiting = False
        if not track.answered:
            track.answered, track.buyer.answered_at = True, self.now()
            track.late = track.late or self.now() - track.asked_at > self.behaviour.patience_seconds
        if track.turns_left > 0:
            self.at(self.now() + self.delay(track.rng, self.behaviour.turn_gap_seconds), self._next_turn, track)
        else:
            self.at(self.now() + self.agents.wrap_seconds, self._close, track, agent_id)

    async def _close(self, track: Track, agent_id: str) -> None:
        conv = self._holds(track, agent_id)
        if conv is None:
            return
        assert self.reception is not None
        await work.close(self.reception, conv, agent_id)
        if track.assigned_at is not None:
            track.handled_seconds = self.now() - track.assigned_at
        if track.rng.random() < self.behaviour.rating_share:
            self.at(self.now() + 15, self._rate, track)

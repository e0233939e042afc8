"""The `Reception` hub: settings, plugin manager, store, clock and channels, shared by everything.

It hangs off the aiohttp application under `RECEPTION`; hooks receive it.
Buyer messages come in through `receive` (the pipeline); messages to buyers
from people or the system go out through `send`. Stored events go to the
`track_event` plugins once, on the instance that stored them, and to the live
listeners (`listen`) of every instance (`reception.cluster`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Coroutine

import pluggy
from aiohttp import web

from . import events as ev
from .clock import Clock
from .config import Settings
from .events import Event
from .hooks import Refused, first_result, notify
from .models import Conversation, Inbound, Message, Outcome
from .state import State
from .store import Store, Transaction

if TYPE_CHECKING:  # the hub sits below what uses it: `create_app` composes these around it
    from .channels.base import Channel
    from .cluster import Background, Local
    from .routing.router import Router
    from .skills.flow import Skill
    from .store.pgcluster import PgCluster

log = logging.getLogger("reception")

# What `Reception.receive` runs (`reception.pipeline.receive`, given by `create_app`): the hub sits below it
Pipeline = Callable[["Reception", Inbound], Awaitable[Outcome]]


class Reception:
    """Everything one running shop shares; no globals."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager, store: Store, clock: Clock,
                 pipeline: Pipeline, cluster: "Local | PgCluster") -> None:
        self.settings = settings
        self.pm = pm
        self.hook = pm.hook
        self.store = store
        self.clock = clock
        self._pipeline = pipeline
        self.channels: dict[str, "Channel"] = {}
        self.skills: list["Skill"] = []  # the order skills, by priority (`register_skill`)
        self.state = State()  # per-plugin state under typed keys (`reception.state.StateKey`)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.delivery_wakeup = asyncio.Event()
        self.cluster = cluster  # the instances of this shop: `Local`, or `PgCluster` on PostgreSQL
        self._listeners: list[Callable[[Event], Awaitable[None]]] = []
        self.router: Router  # set by `create_app` right after the hub is made (the router needs the hub)
        store.on_commit.append(self._committed)

    # -- channels and pipeline --------------------------------------------------------------
    def register_skill(self, skill: "Skill") -> None:
        """Add an order skill (the `register_skills` hook); names are unique, the list stays in priority order."""
        if any(known.name == skill.name for known in self.skills):
            raise ValueError(f"skill {skill.name!r} is registered twice")
        self.skills = sorted([*self.skills, skill], key=lambda known: known.priority)

    def register_channel(self, channel: "Channel") -> None:
        """Add a channel adapter; names are unique."""
        if channel.name in self.channels:
            raise ValueError(f"channel {channel.name!r} is registered twice")
        self.channels[channel.name] = channel

    async def receive(self, inbound: Inbound) -> Outcome:
        """Run a buyer's message through the pipeline; returns once everything it wrote is durable."""
        return await self._pipeline(self, inbound)

    async def send(self, conversation: Conversation, message: Message) -> Message:
        """Store a message to the buyer, record it and queue it for the buyer's channel.

        Messages from people pass the `filter_outbound` hook first, which may
        rewrite them or raise `Refused`.
        """
        message = await self.filter_outbound(message)
        tx = self.store.transaction()
        self.stage(tx, conversation, message)
        await self.commit(tx)
        return message

    async def commit(self, tx: Transaction) -> None:
        """Write `tx` durably, then tell plugins and every instance's listeners its events (`emit`).

        The one way to commit outside a routing decision (which is `Router.change`, and emits the same way).
        """
        await self.store.commit(tx)
        await self.emit(tx.events)

    async def filter_outbound(self, message: Message) -> Message:
        """Pass a person's message through the `filter_outbound` hook (may raise `Refused`)."""
        if message.sender != "agent":
            return message
        changed = await first_result(self.hook.filter_outbound, message=message, reception=self)
        return changed or message

    def stage(self, tx: Transaction, conversation: Conversation, message: Message, deliver: bool = True) -> None:
        """Add a message to the buyer to `tx`, with its event and, when `deliver`, its delivery."""
        tx.add_message(message)
        tx.add_event(Event.of(ev.MessageSent(sender=message.sender, agent_id=message.agent_id, kind=message.kind,
                                             chars=len(message.text),
                                             image=message.image.id if message.image else None),
                              message.created_at, conversation))
        channel = self.channels.get(conversation.channel)
        if deliver and channel is not None and channel.delivers_later:
            tx.enqueue_delivery(conversation.id, channel.name, channel.payload(conversation, message),
                                message.created_at)

    def _committed(self, tx: Transaction) -> None:
        if tx.deliveries:
            self.delivery_wakeup.set()

    async def emit(self, events: list[Event]) -> None:
        """Tell `track_event` plugins about events that are already stored, then every instance's listeners."""
        for event in events:
            await notify(self.hook.track_event, event=event, reception=self)
        await self.hear(events)
        await self.cluster.publish(events)

    def listen(self, listener: Callable[[Event], Awaitable[None]]) -> None:
        """Call `listener` with every stored event of the shop, whichever instance stored it (live updates)."""
        self._listeners.append(listener)

    async def hear(self, events: list[Event]) -> None:
        """Tell this instance's live listeners about stored events (its own, or another instance's)."""
        for event in events:
            for listener in self._listeners:
                try:
                    await listener(event)
                except Exception:  # a socket gone bad must not cost the caller its answer
                    log.exception("live listener failed on %s", event.name)

    def lead(self, factory: "Background", name: str) -> None:
        """Background work that runs on one instance of the shop at a time (the lease holder)."""
        self.cluster.lead(factory, name)

    # -- helpers for plugins ----------------------------------------------------------------
    def new_id(self) -> str:
        """A fresh opaque id for a conversation."""
        return uuid.uuid4().hex

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """Serialise work on one key (a buyer, a conversation), across instances; locks are dropped when unused."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self.cluster.buyer_lock(key):
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run background work that is cancelled when the server stops."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


RECEPTION = web.AppKey("reception", Reception)

__all__ = ["RECEPTION", "Reception", "Refused"]

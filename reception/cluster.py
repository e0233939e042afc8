"""How the instances of one shop work together: buyer locks, routing decisions, the lease, live notices.

A shop on SQLite is one process, and `Local` is all it needs: a routing
decision is the router's own lock, the background work runs here, and every
live notice is heard here. A shop on PostgreSQL may run several equal
instances (`reception.store.pgcluster.PgCluster` implements the same
surface with advisory locks, a lease and LISTEN/NOTIFY):

- `buyer_lock(key)`: one buyer's messages are handled one at a time, across
  instances (the process-local lock is taken first, by `Reception.lock`);
- `decide(router)`: a routing decision: the shop's routing lock, the router's
  copy of the state brought up to date, and the decision's transaction
  committed before the lock is released (`Decision.submit`);
- `lead(factory, name)`: background work (the pool's runs, the reply
  watchdog, alerts, modes, deliveries, retention) that runs on exactly one
  instance, the holder of the lease, and moves when it dies;
- `publish(events)`: stored events told to the live listeners of the other
  instances (a widget on one, an agent's workbench on another).
- `signal(notice)`: an ephemeral notice ("typing…", a read receipt's live
  word, `reception.presence`) told to the other instances, never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Coroutine

from .events import Event
from .store import Store, Transaction

if TYPE_CHECKING:
    from .core import Reception
    from .routing.router import Router

Background = Callable[[], Coroutine[Any, Any, Any]]


class Decision:
    """The transactions of one routing decision; on SQLite they go to the store's writer in order."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, tx: Transaction) -> asyncio.Future[None]:
        """Hand over the decision's writes; the future resolves once they are durable."""
        return self.store.submit(tx)


class Local:
    """One process is the whole shop: every decision and every notice is local, and it always leads."""

    name = "local"

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:12]  # this instance, as /healthz names it
        self.reception: Reception | None = None
        self._leading: list[tuple[Background, str]] = []
        self.leader = False

    async def start(self, reception: "Reception") -> None:
        self.reception = reception
        self.leader = True
        for factory, name in self._leading:
            reception.spawn(factory(), name=name)

    async def stop(self) -> None:
        """Nothing to release: the reception cancels its tasks."""

    def lead(self, factory: Background, name: str) -> None:
        """Run `factory()` as background work on the lease holder (here: at once, or at start)."""
        self._leading.append((factory, name))
        if self.leader and self.reception is not None:
            self.reception.spawn(factory(), name=name)

    @contextlib.asynccontextmanager
    async def buyer_lock(self, key: str) -> AsyncIterator[None]:
        yield  # `Reception.lock` already holds the process-local lock

    @contextlib.asynccontextmanager
    async def decide(self, router: "Router") -> AsyncIterator[Decision]:
        """Called with `router.lock` held: in one process the router's copy is the state itself."""
        assert self.reception is not None
        yield Decision(self.reception.store)

    async def restore(self, router: "Router") -> None:
        """Rebuild the router's copy from the store (at start, after a failed write)."""
        async with router.lock:
            await router.restore()

    async def publish(self, events: list[Event]) -> None:
        """No other instance to tell."""

    async def signal(self, notice: dict[str, Any]) -> None:
        """An ephemeral notice (`reception.presence`): no other instance to tell."""

"""Several instances of one shop on one PostgreSQL database: the `reception.cluster` surface, in SQL.

Every instance is equal (DESIGN.md, "Scale-out", shape 1):

- **Routing decisions** take the shop's routing lock (``pg_advisory_xact_lock``)
  in a transaction on this instance's decision connection, bring the router's
  copy up to date with what other instances decided (every conversation and
  agent-state row carries ``rseq``, the routing version that last wrote it,
  and ``routing_version`` holds the shop's latest), write the decision with
  the next version and commit before the lock is released. So no two agents
  get one buyer, nobody goes over their maximum and the queue keeps one order,
  across instances, with no gap when one dies: a lock held by a dead
  instance's connection is released by the server.
- **A buyer's messages** are handled one at a time: a session advisory lock
  per buyer, on a connection from a small pool held while the message runs.
- **The lease**: background work runs on the instance whose lease connection
  holds ``pg_try_advisory_lock``; the others try again every
  `LEASE_RETRY_SECONDS`, so the work moves within that time (plus the
  server's notice of the dead connection) when the holder dies.
- **Live notices** go through LISTEN/NOTIFY on channel ``reception``: a
  decision's commit tells the new routing version (the others catch up at
  once, so their dashboards and lists agree), and every stored event is told
  to the other instances' live listeners (a widget on one instance hears the
  reply an agent typed on another). NOTIFY is sent inside the committing
  transaction where it can be, so nobody hears of what was not stored.
  Ephemeral notices ("typing…", `reception.presence`) go the same way as
  ``{"from", "signal"}``, never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import zlib
from typing import TYPE_CHECKING, Any, AsyncIterator

import asyncpg

from ..events import Event
from ..presence import presence
from . import codec
from .errors import StoreUnavailable
from .pgdecision import _NOTIFY, CHANNEL, PgDecision
from .postgres import PostgresStore, release, unreachable

if TYPE_CHECKING:
    from ..cluster import Background
    from ..core import Reception
    from ..routing.router import Router
    from . import Store

log = logging.getLogger("reception.cluster")

NS_ROUTING, NS_BUYER, NS_LEASE = 0x5243_0001, 0x5243_0002, 0x5243_0003  # advisory lock namespaces ("RC")
LEASE_RETRY_SECONDS = 2.0
NOTIFY_MAX = 7900  # bytes of one NOTIFY payload (the server's limit is 8000)

_LOCK_ROUTING = "SELECT pg_advisory_xact_lock($1, 0)"
_VERSION = "SELECT version FROM routing_version WHERE id = 1"
_CHANGED_CONVERSATIONS = "SELECT * FROM conversations WHERE rseq > $1"
_CHANGED_AGENTS = "SELECT id, status, status_at, last_assigned_at FROM agent_states WHERE rseq > $1"


async def _discard(pool: asyncpg.Pool, conn: Any) -> None:
    """Close a pooled connection whatever state it is in (the pool may already have taken it back)."""
    with contextlib.suppress(Exception):
        conn.terminate()
    with contextlib.suppress(Exception):
        await pool.release(conn)


def _key(text: str) -> int:
    """A buyer's lock key: a stable signed 32-bit hash."""
    return zlib.crc32(text.encode()) - 0x8000_0000


class PgCluster:
    """The instances of one shop on PostgreSQL (see the module's docstring)."""

    name = "postgresql"

    def __init__(self, store: "Store", lock_pool_size: int) -> None:
        assert isinstance(store, PostgresStore), "the instances share a PostgreSQL store"
        self.store, self.dsn, self.lock_pool_size = store, store.url, lock_pool_size
        self.id = uuid.uuid4().hex[:12]
        self.reception: Reception | None = None
        self.leader = False
        self._leading: list[tuple["Background", str]] = []
        self._led: list[asyncio.Task[Any]] = []
        self._locks: asyncpg.Pool | None = None
        self._decider: asyncpg.Connection | None = None
        self._listener: asyncpg.Connection | None = None
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self._stale = False  # the router's copy must be read again in full before the next decision

    # -- life -------------------------------------------------------------------------------
    async def start(self, reception: "Reception") -> None:
        self.reception = reception
        self._locks = await asyncpg.create_pool(self.dsn, min_size=0, max_size=self.lock_pool_size, reset=release)
        self._tasks = [asyncio.create_task(self._lease(), name="reception-lease"),
                       asyncio.create_task(self._listen(), name="reception-listen"),
                       asyncio.create_task(self._hear(), name="reception-hear")]

    async def stop(self) -> None:
        for task in self._tasks + self._led:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._led, return_exceptions=True)
        # these connections hold only locks and a LISTEN (every write went through the store and is committed):
        # cut them, so a cancelled statement cannot keep the stop waiting and the server frees their locks now
        for conn in (self._decider, self._listener):
            if conn is not None:
                conn.terminate()
        if self._locks is not None:
            self._locks.terminate()

    def lead(self, factory: "Background", name: str) -> None:
        self._leading.append((factory, name))
        if self.leader and self.reception is not None:
            self._led.append(self.reception.spawn(factory(), name=name))

    async def _lease(self) -> None:
        """Hold the lease or wait for it; run the background work while holding it."""
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn)
                while not await conn.fetchval("SELECT pg_try_advisory_lock($1, 0)", NS_LEASE):
                    await asyncio.sleep(LEASE_RETRY_SECONDS)
                self._take_lead()
                while True:  # a dead connection means the lease may be someone else's now
                    await asyncio.sleep(LEASE_RETRY_SECONDS)
                    await conn.fetchval("SELECT 1")
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if self.leader:
                    log.warning("lost the lease (%s); background work stops here", exc)
                await self._drop_lead()
                await asyncio.sleep(LEASE_RETRY_SECONDS)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()

    def _take_lead(self) -> None:
        assert self.reception is not None
        self.leader = True
        log.info("instance %s holds the lease: background work runs here", self.id)
        self._led = [self.reception.spawn(factory(), name=name) for factory, name in self._leading]

    async def _drop_lead(self) -> None:
        self.leader = False
        for task in self._led:
            task.cancel()
        await asyncio.gather(*self._led, return_exceptions=True)
        self._led = []

    # -- locks and decisions ----------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def buyer_lock(self, key: str) -> AsyncIterator[None]:
        """The buyer's lock, on a connection of its own for as long as the message runs."""
        pool, lock = self._locks, _key(key)
        assert pool is not None
        conn = None
        try:
            conn = await pool.acquire()
            await conn.execute("SELECT pg_advisory_lock($1, $2)", NS_BUYER, lock)
        except Exception as exc:
            if conn is not None:
                await _discard(pool, conn)  # the lock may have been granted: it goes with the connection
            if not unreachable(exc):
                raise
            raise self.store.unavailable(exc) from None
        try:
            yield
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock($1, $2)", NS_BUYER, lock)
                await pool.release(conn)
            except BaseException:  # a lost connection took the lock with it; never leave one held on the pool
                await _discard(pool, conn)

    async def _connection(self) -> asyncpg.Connection:
        """The decision connection (used only with the router's lock held), reconnected when it broke."""
        if self._decider is None or self._decider.is_closed():
            self._decider = await asyncpg.connect(self.dsn)
        return self._decider

    @contextlib.asynccontextmanager
    async def decide(self, router: "Router") -> AsyncIterator[PgDecision]:
        """Called with `router.lock` held: the shop's routing lock, an up-to-date copy, one commit.

        The server out of reach before the decision raises `StoreUnavailable`; after it (while writing),
        the decision's futures get it: nothing of the decision is stored either way.
        """
        transaction = None
        try:
            conn = await self._connection()
            transaction = conn.transaction()
            await transaction.start()
            await conn.execute(_LOCK_ROUTING, NS_ROUTING)
            version = await conn.fetchval(_VERSION)
            if self._stale:  # a failed decision left the copy unknown: read it all again
                await router.restore()
                router.version, self._stale = version, False
            elif version != router.version:
                await self._catch_up(conn, router, version)
        except BaseException as exc:  # the connection's state is unknown: a new one next time
            await self._drop_connection()
            if not unreachable(exc):
                raise
            raise self.store.unavailable(exc) from None
        decision = PgDecision(self.store, conn, version + 1)
        try:
            yield decision
        except Exception:  # the decision refused (a RoutingError …): nothing of it is written
            try:
                await transaction.rollback()
            except BaseException:
                await self._drop_connection()
            raise
        except BaseException:  # cancelled: the connection may be mid-statement
            await self._drop_connection()
            raise
        try:
            errors = await decision.write(self.id)
            await transaction.commit()
        except BaseException as exc:
            await self._drop_connection()  # rolled back by the server with the connection
            if not unreachable(exc):
                raise
            decision.settle(self.store.unavailable(exc))
            return
        if any(error is None for error in errors):
            router.version = decision.version
        decision.settle(errors)

    async def _drop_connection(self) -> None:
        conn, self._decider = self._decider, None
        if conn is not None:
            conn.terminate()

    async def _catch_up(self, conn: asyncpg.Connection, router: "Router", version: int) -> None:
        conversations = [codec.conversation(dict(row))
                         for row in await conn.fetch(_CHANGED_CONVERSATIONS, router.version)]
        agents = {row["id"]: dict(row) for row in await conn.fetch(_CHANGED_AGENTS, router.version)}
        router.catch_up(conversations, agents, version)

    async def restore(self, router: "Router") -> None:
        """Rebuild the router's copy from the store, under the routing lock so it is one version; with the
        server out of reach, the next decision does it."""
        async with router.lock:
            self._stale = True
            try:
                conn = await self._connection()
                async with conn.transaction():
                    await conn.execute(_LOCK_ROUTING, NS_ROUTING)
                    version = await conn.fetchval(_VERSION)
                    await router.restore()
                    router.version, self._stale = version, False
            except Exception as exc:
                if not unreachable(exc) and not isinstance(exc, StoreUnavailable):
                    raise
                await self._drop_connection()
                log.warning("routing state not read again yet (%s); the next decision reads it", exc)

    async def _sync(self, version: int) -> None:
        """Catch up after another instance's decision (told by NOTIFY), in one snapshot of the database."""
        assert self.reception is not None
        router = self.reception.router
        if version <= router.version:
            return
        async with router.lock:
            conn = await self._connection()
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                latest = await conn.fetchval(_VERSION)
                if latest > router.version:
                    await self._catch_up(conn, router, latest)

    # -- live notices -----------------------------------------------------------------------
    async def publish(self, events: list[Event]) -> None:
        """Tell the other instances' live listeners about stored events (several notices when large).

        On a connection of the store's pool, never of the buyer locks' pool: events are told while the buyer's
        lock is held (`Router.change`), and with every lock connection held by a buyer waiting to tell, a
        notice waiting for one of them would wait for ever.
        """
        if not events or self._locks is None:
            return
        chunks: list[list[dict[str, Any]]] = [[]]
        size = 0
        for event in events:
            item = json.loads(event.model_dump_json())
            length = len(json.dumps(item))
            if length > NOTIFY_MAX - 100:  # a huge event: its name and ids are enough for a live notice
                item["data"] = {}
                length = len(json.dumps(item))
            if size + length > NOTIFY_MAX - 100 and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += length
        pool, conn = self.store.pool, None
        try:  # the events are stored: a notice lost here costs a live update, never the caller's answer
            conn = await pool.acquire()
            for chunk in chunks:
                await conn.execute(_NOTIFY, CHANNEL, json.dumps({"from": self.id, "events": chunk}))
            await pool.release(conn)
        except Exception as exc:
            if conn is not None:
                await _discard(pool, conn)
            log.warning("could not tell the other instances about %d events: %s", len(events), exc)

    async def signal(self, notice: dict[str, Any]) -> None:
        """Tell the other instances an ephemeral notice (`reception.presence`: "typing…", a read receipt's live
        word): a NOTIFY on the live channel, nothing written; lost, it costs a moment of "typing…"."""
        if self._locks is None:
            return
        payload = json.dumps({"from": self.id, "signal": notice}, ensure_ascii=False)
        if len(payload.encode()) > NOTIFY_MAX:
            return
        pool, conn = self.store.pool, None
        try:
            conn = await pool.acquire()
            await conn.execute(_NOTIFY, CHANNEL, payload)
            await pool.release(conn)
        except Exception as exc:
            if conn is not None:
                await _discard(pool, conn)
            log.warning("could not tell the other instances an ephemeral notice: %s", exc)

    async def _listen(self) -> None:
        """Keep a connection listening on the channel; reconnect (and catch up) when it drops."""
        while True:
            try:
                self._listener = conn = await asyncpg.connect(self.dsn)
                await conn.add_listener(CHANNEL, self._received)
                self._inbox.put_nowait({"v": 1 << 62, "resync": True})  # catch up on what was missed
                while not conn.is_closed():
                    await asyncio.sleep(LEASE_RETRY_SECONDS)
                    await conn.fetchval("SELECT 1")
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("live notices interrupted (%s); reconnecting", exc)
                await asyncio.sleep(LEASE_RETRY_SECONDS)

    def _received(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        try:
            notice = json.loads(payload)
        except ValueError:
            return
        if isinstance(notice, dict) and notice.get("from") != self.id:
            self._inbox.put_nowait(notice)

    async def _hear(self) -> None:
        """Handle notices in order: catch up on a new routing version before telling its events."""
        assert self.reception is not None
        while True:
            notice = await self._inbox.get()
            try:
                if isinstance(signal := notice.get("signal"), dict):  # ephemeral: straight to the listeners here
                    await presence(self.reception).heard(signal)
                    continue
                if "v" in notice:
                    await self._sync(int(notice["v"]) if not notice.get("resync")
                                     else self.reception.router.version + 1)
                events = [Event.model_validate(item) for item in notice.get("events", ())]
                if events:
                    if self.leader and any(e.name == "message.sent" for e in events):
                        self.reception.delivery_wakeup.set()  # a delivery stored elsewhere is due here
                    await self.reception.hear(events)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not take in a notice from another instance")

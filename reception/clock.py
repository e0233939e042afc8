"""All time goes through a `Clock`: `RealClock` in production, `VirtualClock` in tests and simulations.

Nothing else in the package calls `time.time()` or `datetime.now()`, so a test
can move a day forward in microseconds and the same code runs live.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Protocol


class Clock(Protocol):
    """What the rest of the package needs to know about time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Wait `seconds` of this clock's time (a coroutine, or `VirtualClock`'s future)."""


class RealClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class VirtualClock:
    """A clock that moves only when told to; sleepers wake when `advance` passes their deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 11, 11, 0, 0, tzinfo=timezone.utc)
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start")
        self._now = start.astimezone(timezone.utc)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> asyncio.Future[None]:
        """Wake at now + `seconds`, now being when this is called: not when the caller's task next runs
        (``ensure_future(clock.sleep(s))`` would otherwise count from a time that `advance` may have moved)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            asyncio.get_running_loop().call_soon(_wake, future)  # a zero sleep still lets others run
            return future
        deadline = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        return future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper whose deadline is reached, in deadline order."""
        target = self._now + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue  # a sleep that was cancelled (a loop woken early by its event): nobody to wake
            self._now = max(self._now, deadline)
            future.set_result(None)
            # let the woken task run before the next deadline fires
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        await asyncio.sleep(0)

    def set(self, when: datetime) -> None:
        """Jump to `when` (forward only) without waking sleepers; use `advance` to wake them."""
        when = when.astimezone(timezone.utc)
        if when < self._now:
            raise ValueError("a VirtualClock does not go backwards")
        self._now = when

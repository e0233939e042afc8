"""Background loops on the reception's clock: run a step, then sleep until its next due time or a wake-up."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Awaitable, Callable

from .clock import Clock
from .store import StoreUnavailable

log = logging.getLogger("reception.loop")
UNAVAILABLE_RETRY = 5  # seconds before a step that found the database out of reach runs again


async def sleep_until(clock: Clock, due: datetime | None, wakeup: asyncio.Event | None) -> None:
    """Return at `due` (never, when None) or as soon as `wakeup` is set, whichever comes first."""
    waits: list[asyncio.Future[object]] = []
    if wakeup is not None:
        waits.append(asyncio.ensure_future(wakeup.wait()))
    if due is not None:
        waits.append(asyncio.ensure_future(clock.sleep(max(0.0, (due - clock.now()).total_seconds()))))
    if not waits:
        await asyncio.Event().wait()
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()


async def forever(name: str, clock: Clock, step: Callable[[], Awaitable[datetime | None]],
                  wakeup: asyncio.Event | None = None) -> None:
    """Call `step` (which returns its next due time) again and again; a failing step is logged and retried."""
    while True:
        if wakeup is not None:
            wakeup.clear()
        try:
            due = await step()
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as exc:  # the database is restarting: no bug, and back soon
            log.warning("%s: %s; retrying in %d s", name, exc, UNAVAILABLE_RETRY)
            await clock.sleep(UNAVAILABLE_RETRY)
            continue
        except Exception:
            log.exception("%s failed; retrying in a minute", name)
            due = None
            await clock.sleep(60)
            continue
        await sleep_until(clock, due, wakeup)

"""Privacy, a default plugin: the daily retention job, and ``reception buyer forget``.

With ``[store] retain_days = N`` a job on the reception's clock erases,
every day at 04:00 in the shop's timezone (and once at start), the messages,
orders and buyer ids older than N days; ``reception buyer forget ID`` erases
one buyer at once. Either way the events stay, made anonymous, so the
assessment, intents and every other figure stay as they were (see
`reception.store.privacy` for what is deleted and what is kept); the files of
the erased photos are removed right after. Each run is
recorded as an event that names no buyer: ``retention.purged`` and
``buyer.forgotten``, with the rows erased per kind.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from . import events as ev
from .clock import RealClock
from .config import Settings
from .core import Reception
from .events import Event
from .hookspecs import hookimpl
from .loop import forever
from .media.files import MediaFiles, media_dir
from .media.intake import media_of
from .store import make_store

log = logging.getLogger("reception.privacy")
RUN_AT = time(4, 0)  # local time of the daily run: the quietest hour of a shop


def _summary(counts: dict[str, int]) -> str:
    """``3 messages, 1 conversations, 0 orders, 2 idempotency; 6 events made anonymous`` (other kinds when not 0)."""
    main = ("messages", "conversations", "orders")
    erased = [f"{counts.get(name, 0)} {name}" for name in main]
    erased += [f"{n} {name.replace('_', ' ')}" for name, n in counts.items()
               if n and name not in main and name != "events_anonymised"]
    return f"{', '.join(erased)}; {counts.get('events_anonymised', 0)} events made anonymous"


async def purge(reception: Reception, now: datetime) -> dict[str, int]:
    """Erase what is older than ``[store] retain_days`` before `now`; record and return the rows per kind."""
    days = reception.settings.store.retain_days
    if days is None:
        return {}
    cutoff = now - timedelta(days=days)
    tx = reception.store.transaction()
    photos = await reception.store.erased_photos(cutoff=cutoff)
    counts = await reception.store.stage_purge(tx, cutoff)
    tx.add_event(Event.of(ev.RetentionPurged(cutoff=cutoff.isoformat(), **counts), now))
    await reception.commit(tx)
    media_of(reception).files.remove_all(photos)  # no row names them any more
    if any(counts.values()):
        log.info("retention: erased what was older than %s days: %s", days, _summary(counts))
    return counts


def next_run(now: datetime, tz: ZoneInfo) -> datetime:
    """The next `RUN_AT` in `tz` after `now`."""
    local = now.astimezone(tz)
    due = datetime.combine(local.date(), RUN_AT, tz)
    return due if due > local else datetime.combine(local.date() + timedelta(days=1), RUN_AT, tz)


def make_step(reception: Reception):
    tz = ZoneInfo(reception.settings.hours.timezone)

    async def step() -> datetime:
        now = reception.clock.now()
        await purge(reception, now)
        # the next run follows this one's start, not its end: a run that ends after the next one was due
        # (a slow disk, a virtual clock moved on meanwhile) is followed at once instead of a day late
        return next_run(now, tz)

    return step


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    if reception.settings.store.retain_days is not None:
        reception.lead(lambda: forever("retention", reception.clock, make_step(reception)), name="reception-retention")


async def forget(settings: Settings, customer_id: str, force: bool) -> tuple[dict[str, int] | None, list[dict]]:
    """Erase one buyer from the shop's database: (rows erased per kind, or None when refused; held conversations).

    Refused, unless `force`, while an agent, a queue or the offline pool holds one of the buyer's
    conversations: a running server keeps those in memory and would write them back.
    """
    store = make_store(settings.store)
    await store.open()
    try:
        held = await store.held_conversations(customer_id)
        if held and not force:
            return None, held
        tx = store.transaction()
        photos = await store.erased_photos(customer_id=customer_id)
        counts = await store.stage_forget(tx, customer_id)
        tx.add_event(Event.of(ev.BuyerForgotten(**counts), RealClock().now()))
        await store.commit(tx)
        MediaFiles(media_dir(settings)).remove_all(photos)  # their photos' files, beside the database
        return counts, held
    finally:
        await store.close()


def run_forget(settings: Settings, customer_id: str, force: bool, out: TextIO, err: TextIO) -> int:
    """``reception buyer forget``: 0 when erased (and a line saying what), 2 when refused."""
    if settings.store.kind == "sqlite" and not settings.store.path.is_file():
        print(f"reception: error: no database at {settings.store.path}", file=err)
        return 2
    counts, held = asyncio.run(forget(settings, customer_id, force))
    if counts is None:
        where = ", ".join(f"{c['id']} ({c['status']}{' with ' + c['agent_id'] if c['agent_id'] else ''})"
                          for c in held)
        print(f"reception: error: buyer {customer_id} has {len(held)} open conversation(s) that a running server "
              f"holds in memory: {where}; close them (or wait until they close), or stop the server and pass "
              "--force", file=err)
        return 2
    if not any(counts.values()):  # a mistyped id should not look like a success
        print(f"nothing stored about buyer {customer_id} (check the id: it is the channel's customer_id); "
              f"recorded as {ev.BUYER_FORGOTTEN}", file=out)
        return 0
    print(f"forgot buyer {customer_id}: erased {_summary(counts)} (the shop's figures are unchanged); "
          f"recorded as {ev.BUYER_FORGOTTEN}", file=out)
    return 0

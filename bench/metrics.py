"""Metrics benchmark: the assessment and intent APIs over 1,000,000 events for a 31-day range.

Generates a month of sessions (bot-only ones, handovers assigned at once,
through the queue or the offline pool, agents who never reply, ratings),
writes them through the store into a temporary SQLite file, starts the real
app on it and times ``GET /api/v1/metrics/assessment`` and ``/intents`` over
HTTP. The baseline in the same run is a plain ``COUNT(*)`` of the events in
the same range.

    python bench/metrics.py [--events 1000000] [--days 31] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from reception import create_app
from reception.config import load_settings
from reception.config.sections import StoreSettings
from reception.core import RECEPTION
from reception.events import Event
from reception.store import make_store

TOKEN = "bench-admin-token"
AGENTS = [(f"shop:a{i}", "pre_sales" if i < 14 else "after_sales") for i in range(20)]
INTENTS = ["logistics_tracking", "return_policy", "invoice", "size_guide", "stock", "address_change",
           "payment", "coupon", "warranty", "delivery_time", "refund_status", "spec_change"]
REASONS = [("requested", 0.6), ("low_confidence", 0.3), ("angry", 0.1)]
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4] + [10] * 15 + [3]  # local hours 0..23: most in 08:00-23:00


def session(rng: random.Random) -> list[tuple[str, float, dict[str, Any]]]:
    """One conversation's events as (name, seconds after its start, data), in order."""
    out: list[tuple[str, float, dict[str, Any]]] = [("conversation.started", 0.0, {"channel": "webhook",
                                                                                     "entry": "shop"})]
    t = 0.0

    def add(name: str, **data: Any) -> None:
        out.append((name, t, data))
        if name == "message.sent" and rng.random() < 0.5:
            out.append(("callback.delivered", t + 0.2, {"attempts": 1}))

    for _ in range(rng.randint(1, 3)):
        add("message.received", status="bot", chars=rng.randint(4, 40))
        add("bot.answered", intent=rng.choice(INTENTS), confidence=round(rng.uniform(0.92, 1.0), 3))
        t += rng.uniform(10, 90)
    if rng.random() < 0.55:
        return out
    add("message.received", status="bot", chars=8)
    reason = rng.choices([r for r, _ in REASONS], [w for _, w in REASONS])[0]
    intent = rng.choice(INTENTS) if reason != "low_confidence" else None
    add("handover.requested", reason=reason, intent=intent)
    asked, (agent, group), route = t, rng.choice(AGENTS), rng.random()
    via = "route"
    if route < 0.15:
        add("conversation.queued", group=group, position=rng.randint(1, 9))
        t += rng.uniform(20, 400)
        via = "queue"
    elif route < 0.25:
        add("conversation.pooled", group=group, reason="nobody_online")
        add("coverage.bot_took_over", group=group, reason="nobody_online")
        if rng.random() < 0.5:
            return out
        t += rng.uniform(600, 3600)
        via = "pool"
    add("conversation.assigned", agent_id=agent, group=group, via=via, waited_seconds=t - asked)
    add("message.sent", sender="system", agent_id=agent, kind="welcome")
    if rng.random() < 0.04:  # the agent never replies: closed for inactivity
        t += 1800
        add("conversation.closed", by="inactivity", agent_id=agent)
        return out
    awaiting, first = t, True
    for turn in range(rng.randint(1, 4)):
        if turn:
            t += rng.uniform(5, 120)
            add("message.received", status="assigned", chars=rng.randint(4, 40))
            awaiting = t
        if rng.random() < 0.03:  # nobody answered in 240 s: the watchdog gives the buyer to another agent
            t += 240
            other = rng.choice([a for a, g in AGENTS if g == group and a != agent])
            add("conversation.reassigned", **{"from": agent, "to": other, "waited_seconds": t - awaiting})
            add("conversation.assigned", agent_id=other, group=group, via="reassign", waited_seconds=t - asked)
            agent, awaiting = other, t  # the router restarts its clock; the buyer's does not
        t += rng.expovariate(1 / 60)
        add("agent.replied", agent_id=agent, first=first, response_seconds=round(t - awaiting, 3),
            since_request_seconds=round(t - asked, 3) if first else None)
        add("message.sent", sender="agent", agent_id=agent, kind=None)
        first = False
    t += rng.uniform(30, 300)
    add("conversation.closed", by=agent, agent_id=agent)
    add("satisfaction.requested", agent_id=agent)
    add("message.sent", sender="system", agent_id=None, kind="rating_request")
    if rng.random() < 0.5:
        t += rng.uniform(5, 60)
        score = rng.choices([5, 4, 3, 2, 1], [50, 20, 15, 8, 7])[0]
        label = "satisfied" if score >= 4 else "neutral" if score == 3 else "dissatisfied"
        add("satisfaction.rated", score=score, label=label, agent_id=agent)
    return out


def generate(target: int, first_day: date, days: int, tz: ZoneInfo, seed: int = 7) -> list[Event]:
    """About `target` events of sessions that start over `days` local days, sorted by time."""
    rng = random.Random(seed)
    events: list[Event] = []
    n = 0
    while len(events) < target:
        day = first_day + timedelta(days=rng.randrange(days))
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        start = datetime.combine(day, dtime(hour), tz) + timedelta(seconds=rng.uniform(0, 3600))
        start = start.astimezone(timezone.utc)
        n += 1
        cid, customer = f"c{n:07d}", f"buyer-{rng.randrange(target // 8)}"
        for name, offset, data in session(rng):
            events.append(Event(name=name, at=start + timedelta(seconds=offset), conversation_id=cid,
                                customer_id=customer, data=data))
    events.sort(key=lambda e: e.at)
    return events[:target]


async def fill(database: Path | str, events: list[Event], chunk: int = 20_000) -> None:
    """Write `events` through the store (a SQLite file, or a database URL), `chunk` per transaction."""
    where = {"url": database} if "://" in str(database) else {"path": database}
    store = make_store(StoreSettings.model_validate({**where, "synchronous": "NORMAL"}))
    await store.open()
    try:
        for first in range(0, len(events), chunk):
            tx = store.transaction()
            for event in events[first:first + chunk]:
                tx.add_event(event)
            await store.commit(tx)
    finally:
        await store.close()


async def _timed(session: aiohttp.ClientSession, url: str, runs: int) -> tuple[list[float], Any]:
    times, body = [], None
    for _ in range(runs):
        started = time.perf_counter()
        async with session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            body = await response.json()
            assert response.status == 200, body
        times.append(time.perf_counter() - started)
    return times, body


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="directory to keep the database in (reused when it exists)")
    args = parser.parse_args(argv)
    tz, first = ZoneInfo("Asia/Shanghai"), date(2026, 10, 1)
    last = first + timedelta(days=args.days - 1)
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="reception-metrics-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "metrics.db"
    if not path.exists():
        started = time.perf_counter()
        events = generate(args.events, first, args.days, tz)
        await fill(path, events)
        print(f"generated and stored {len(events):,} events in {time.perf_counter() - started:.1f} s ({path})")
    settings = load_settings(None, env={}, overrides={
        "admin": {"token": TOKEN}, "store": {"path": str(path)},
        "agents": [{"id": a, "token": f"token-{a[5:]}", "groups": [g]} for a, g in AGENTS]})
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base, span = f"http://127.0.0.1:{port}", f"from={first}&to={last}"
    store = runner.app[RECEPTION].store
    try:
        start_utc = datetime.combine(first, dtime(0), tz).astimezone(timezone.utc)
        end_utc = datetime.combine(last + timedelta(days=1), dtime(0), tz).astimezone(timezone.utc)
        counted, count_times = 0, []
        for _ in range(args.runs):
            started = time.perf_counter()
            counted = await store.count_events(start_utc, end_utc)
            count_times.append(time.perf_counter() - started)
        async with aiohttp.ClientSession() as session:
            assess_times, body = await _timed(session, f"{base}/api/v1/metrics/assessment?{span}", args.runs)
            intent_times, _ = await _timed(session, f"{base}/api/v1/metrics/intents?{span}", args.runs)
    finally:
        await runner.cleanup()
    print(f"{counted:,} events from {first} to {last}; {body['sessions']:,} assessed sessions")
    print("| call | median s | best s | vs COUNT(*) |")
    print("|---|---|---|---|")
    base_median = statistics.median(count_times)
    for name, times in (("baseline: COUNT(*) over the range", count_times),
                        ("GET /api/v1/metrics/assessment", assess_times),
                        ("GET /api/v1/metrics/intents", intent_times)):
        median = statistics.median(times)
        print(f"| {name} | {median:.3f} | {min(times):.3f} | {median / base_median:.1f}x |")
    print(f"2-min first reply {body['first_reply_2min_rate']}, 3-min reply {body['human_reply_3min_rate']}, "
          f"non-service {body['non_service_rate']} (type 1 {body['non_service_type1']}, "
          f"type 2 {body['non_service_type2']}), dissatisfaction {body['dissatisfaction_rate']}")


if __name__ == "__main__":
    asyncio.run(main())

"""Routing benchmark: one offline-pool run of 5,000 buyers over 200 agents, 1,000 simultaneous handovers,
and handovers into a queue that already holds 0, 1,000 and 10,000 buyers.

Everything runs in-process through the real application (`create_app`) on a
SQLite file with ``synchronous=FULL``: each figure includes writing the
decisions to disk. The baseline in the same run is the same 1,000 buyers
asking an FAQ question the bot answers (no routing); for the queue rows it is
the row with an empty queue (a sale night with `queue_limit = 0` lives in the
long-queue rows, which should cost about what the empty one does).

    python bench/routing.py [--agents 200] [--pooled 5000] [--handovers 1000]
                            [--queued 0,1000,10000] [--queue-handovers 500]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from aiohttp import web

from reception import create_app
from reception.config import load_settings
from reception.core import RECEPTION, Reception
from reception.models import Inbound
from reception.routing.offline import run_pool


async def _app(workdir: Path, agents: int, max_concurrent: int, per_agent: int) -> tuple[web.AppRunner, Reception]:
    settings = load_settings(None, env={}, overrides={
        "admin": {"token": "bench-admin-token"},
        "store": {"path": str(workdir / "routing.db"), "synchronous": "FULL"},
        "hours": {"open": ["00:00-24:00"]},  # humans serve at any hour the bench runs (else the bot keeps buyers)
        "agents": [{"id": f"shop:a{i}", "token": f"agent-token-{i}", "groups": ["service"],
                    "max_concurrent": max_concurrent} for i in range(agents)],
        "offline_pool": {"per_agent": per_agent, "enabled": False},  # runs are started by hand here
    })
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    return runner, runner.app[RECEPTION]


async def _all(reception: Reception, status: str) -> None:
    router = reception.router
    async with router.change() as tx:
        now = reception.clock.now()
        for agent in router.book.agents.values():
            router.set_status(tx, agent, status, now)


async def _send(reception: Reception, buyers: range, text: str, chunk: int = 500) -> float:
    started = time.perf_counter()
    for first in range(buyers.start, buyers.stop, chunk):
        await asyncio.gather(*(reception.receive(Inbound(channel="webhook", customer_id=f"buyer-{i}", text=text))
                               for i in range(first, min(first + chunk, buyers.stop))))
    return time.perf_counter() - started


async def _queue_row(workdir: Path, queued: int, handovers: int, chunk: int = 100) -> tuple[int, float, float]:
    """Fill every agent, queue `queued` buyers, then time `handovers` more buyers asking for a human (each
    queues) and one message from each of them (each is told their position). Returns the queue length
    at the end and both times."""
    agents, slots = 10, 3
    runner, reception = await _app(workdir, agents, slots, slots)
    await _all(reception, "online")
    await _send(reception, range(agents * slots), "转人工")  # every agent at their maximum
    await _send(reception, range(agents * slots, agents * slots + queued), "转人工")
    first = agents * slots + queued
    took = await _send(reception, range(first, first + handovers), "转人工", chunk)
    wrote = await _send(reception, range(first, first + handovers), "还要等多久", chunk)
    length = len(reception.router.queue)
    await runner.cleanup()
    return length, took, wrote


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--pooled", type=int, default=5000)
    parser.add_argument("--handovers", type=int, default=1000)
    parser.add_argument("--queued", default="0,1000,10000", help="queue lengths to hand over into ('' skips)")
    parser.add_argument("--queue-handovers", type=int, default=500, help="handovers timed per queue length")
    args = parser.parse_args(argv)
    rows = []

    with tempfile.TemporaryDirectory() as tmp:
        per_agent = -(-args.pooled // args.agents)
        runner, reception = await _app(Path(tmp), args.agents, per_agent, per_agent)
        await _send(reception, range(args.pooled), "转人工")  # nobody online: all go to the pool
        pooled = sum(1 for c in reception.router.active.values() if c.status == "offline")
        await _all(reception, "online")
        started = time.perf_counter()
        record = await run_pool(reception, "bench", "manual")
        elapsed = time.perf_counter() - started
        decisions = record["assigned"] + len(record["failures"])
        rows.append((f"pool run: {pooled} pooled → {args.agents} agents", decisions, elapsed,
                     f"{record['assigned']} assigned"))
        await runner.cleanup()

    with tempfile.TemporaryDirectory() as tmp:
        per_agent = -(-args.handovers // args.agents)
        runner, reception = await _app(Path(tmp), args.agents, per_agent, per_agent)
        await _all(reception, "online")
        baseline = await _send(reception, range(args.handovers), "什么时候发货")
        rows.append((f"baseline: {args.handovers} FAQ answers, no routing", args.handovers, baseline, "bot"))
        elapsed = await _send(reception, range(args.handovers, 2 * args.handovers), "转人工", chunk=args.handovers)
        assigned = sum(a.load for a in reception.router.book.agents.values())
        rows.append((f"{args.handovers} simultaneous handovers", args.handovers, elapsed, f"{assigned} assigned"))
        await runner.cleanup()

    print(f"\n{'scenario':46} {'decisions':>9} {'total s':>8} {'ms/decision':>12}  result")
    for name, n, seconds, result in rows:
        print(f"{name:46} {n:9d} {seconds:8.2f} {seconds / n * 1000:12.3f}  {result}")

    lengths = [int(n) for n in args.queued.split(",") if n.strip()]
    if not lengths:
        return
    n = args.queue_handovers
    queue_rows = []
    for queued in lengths:
        with tempfile.TemporaryDirectory() as tmp:
            queue_rows.append((queued, *await _queue_row(Path(tmp), queued, n)))
    base_took, base_wrote = queue_rows[0][2], queue_rows[0][3]
    print(f"\n{n} handovers into a queue (10 agents × 3, all full; every handover queues), "
          f"then one message from each of those buyers; vs the {lengths[0]:,}-buyer row")
    print(f"{'already queued':>14} {'handovers/s':>12} {'ms each':>8} {'vs':>6} "
          f"{'queued msgs/s':>14} {'ms each':>8} {'vs':>6} {'queue after':>12}")
    for queued, length, took, wrote in queue_rows:
        print(f"{queued:14,d} {n / took:12.0f} {took / n * 1000:8.2f} {base_took / took:6.2f} "
              f"{n / wrote:14.0f} {wrote / n * 1000:8.2f} {base_wrote / wrote:6.2f} {length:12,d}")


if __name__ == "__main__":
    asyncio.run(main())

"""Routing benchmark: one offline-pool run of 5,000 buyers over 200 agents, and 1,000 simultaneous handovers.

Everything runs in-process through the real application (`create_app`) on a
SQLite file with ``synchronous=FULL``: each figure includes writing the
decisions to disk. The baseline in the same run is the same 1,000 buyers
asking an FAQ question the bot answers (no routing).

    python bench/routing.py [--agents 200] [--pooled 5000] [--handovers 1000]
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


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--pooled", type=int, default=5000)
    parser.add_argument("--handovers", type=int, default=1000)
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


if __name__ == "__main__":
    asyncio.run(main())

"""The staffing search's replays, each (hour, agents) replayed once in a worker process, some while the day runs.

A replay depends on nothing but the scenario, the hour, the number of agents
and the hour's demand (the buyers `advice.demand_of` picks), and since the day
commits on the loop (`engine.inline_writes`) the same replay gives the same
figures every time. The demand of an hour is final once the day has passed
it, so the day's run can hand the hour's likeliest replays to the workers
before it ends (`speculate`); the search takes a result only if it was made
from the same demand, and replays anything else it needs (`get`). While the
day runs, one replay at a time runs beside it; replays nobody started by the
end of the day are dropped.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .buyers import Buyer
from .runner import hour_shifts, run_day, scratch, shop_settings
from .scenario import Scenario

WARMUP = 900.0  # seconds of the hour before that are replayed too
TAIL = 1800.0  # the hour's agents stay to answer who arrived late in it

Figures = dict[str, Any]
DemandKey = tuple[tuple[int, float, str, str, int], ...]


def demand_key(demand: list[Buyer]) -> DemandKey:
    """What a replay's buyers are, to tell whether a replay was made from the same demand."""
    return tuple((b.index, b.at, b.lang, b.text, b.seed) for b in demand)


async def _probe(scenario: Scenario, hour: int, agents: int, buyers: list[Buyer]) -> Figures:
    with scratch("reception-advice-") as workdir:
        shifts = hour_shifts(agents, hour, WARMUP, TAIL)
        settings = shop_settings(scenario, Path(workdir), shifts, faq=False)
        run = await run_day(scenario, settings, buyers, shifts)
    return next((h for h in run.assessment["by_hour"] if h["hour"] == hour), {})


def replay(scenario: Scenario, hour: int, agents: int, demand: list[Buyer]) -> Figures:
    """The hour's figures with `agents` online for it (run in a worker process)."""
    return asyncio.run(_probe(scenario, hour, agents, demand))


class Prober:
    """Worker processes that replay hours, started before the day so that they are ready when it ends."""

    def __init__(self, scenario: Scenario, workers: int | None = None) -> None:
        self.scenario = scenario
        context = multiprocessing.get_context("spawn")  # a clean interpreter: no copied event loop or threads
        self.pool = ProcessPoolExecutor(max_workers=workers or min(2, os.cpu_count() or 1), mp_context=context)
        self._made: dict[tuple[int, int], tuple[DemandKey, Future[Figures]]] = {}
        self._lock = threading.RLock()
        self._waiting: deque[tuple[int, int, list[Buyer]]] = deque()  # speculative replays not started yet
        self._beside = 0  # speculative replays running beside the day
        self.speculated = self.used = 0

    def get(self, hour: int, agents: int, demand: list[Buyer]) -> Future[Figures]:
        """The replay of `hour` with `agents` for `demand`: the one already made from the same demand, or a new one."""
        key = demand_key(demand)
        with self._lock:
            made = self._made.get((hour, agents))
            if made is not None and made[0] == key:
                self.used += 1
                return made[1]
            future = self.pool.submit(replay, self.scenario, hour, agents, demand)
            self._made[(hour, agents)] = (key, future)
            return future

    def speculate(self, hour: int, agents: int, demand: list[Buyer]) -> None:
        """Replay this beside the day, one at a time, in case the search asks for it."""
        with self._lock:
            self._waiting.append((hour, agents, demand))
        self._next()

    def _next(self, done: Future[Figures] | None = None) -> None:
        with self._lock:
            if done is not None:
                self._beside -= 1
            while self._waiting and self._beside < 1:
                hour, agents, demand = self._waiting.popleft()
                if (hour, agents) in self._made:
                    continue
                self._beside += 1
                self.speculated += 1
                future = self.pool.submit(replay, self.scenario, hour, agents, demand)
                self._made[(hour, agents)] = (demand_key(demand), future)
                future.add_done_callback(self._next)

    def day_over(self) -> None:
        """The search starts: speculative replays not yet started are dropped."""
        with self._lock:
            self._waiting.clear()

    def close(self) -> None:
        self.day_over()
        self.pool.shutdown(wait=True, cancel_futures=True)

"""Staffing advice: the fewest agents each hour needs to keep the 2-minute and non-service targets.

For every assessed hour the buyers who asked for a person in the day's run
are replayed through the real application, with N agents online for the
hour (and a quarter of an hour before it, so the hour does not start with an
empty queue), together with the earlier buyers the day's run served in that
time (the night's offline pool is served in the morning); N is searched from the Erlang-C estimate down and up until the
smallest N that meets both targets is found. Replays use the same random
stream per buyer, so a larger N sees the same buyers, turns and delays.
Hours run in parallel worker processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from statistics import mean
from typing import Any, Callable
from zoneinfo import ZoneInfo

from .. import bigsale
from ..config import Settings
from .buyers import HUMAN_REQUESTS, Buyer
from .engine import Run, local_midnight
from .erlang import agents_needed
from .runner import concurrency, hour_shifts, run_day, shop_settings
from .scenario import Scenario

WARMUP = 900.0  # seconds of the hour before that are replayed too
TAIL = 1800.0  # the hour's agents stay to answer who arrived late in it


@dataclass
class Targets:
    first_reply: float  # the 2-minute rate must reach this
    non_service: float  # the non-service rate must not pass this


@dataclass
class HourAdvice:
    """One hour's demand, what the scenario staffed, and the two estimates of what it needs."""

    hour: int
    requests: int
    aht: float
    concurrency: int
    scheduled: int
    simulated: int | None  # fewest agents found by replaying the hour; None: no search (no requests)
    erlang: int
    at_simulated: dict[str, Any] | None  # the hour's figures with `simulated` agents
    probes: dict[int, dict[str, Any]]


def targets_of(scenario: Scenario, settings: Settings) -> Targets:
    """The scenario's targets, else the alert limits in force (the sale's during a big sale)."""
    limits = settings.alerts
    sale = settings.big_sale.alerts if scenario.mode == "big_sale" else None
    first = scenario.targets.first_reply_2min_rate or (sale and sale.first_reply_2min_min) or \
        limits.first_reply_2min_min or 0.8
    non_service = scenario.targets.non_service_rate
    if non_service is None:
        non_service = (sale and sale.non_service_max) or limits.non_service_max
    return Targets(first_reply=first, non_service=0.1 if non_service is None else non_service)


def _passes(figures: dict[str, Any] | None, targets: Targets) -> bool:
    if not figures or not figures.get("human_requests"):
        return True
    rate, non_service = figures.get("first_reply_2min_rate"), figures.get("non_service_rate")
    return (rate is None or rate >= targets.first_reply) and (non_service is None or non_service <= targets.non_service)


def demand_of(buyers: list[Buyer], hour: int) -> list[Buyer]:
    """Who the hour's agents must serve, as buyers who open by asking for a person: those who asked in
    the hour or the warm-up before it, and those from earlier (the night's offline pool, a queue left
    over) whom the day's run served in that time, who come back when the warm-up starts. Buyers the day
    never served took nobody's time and are left out."""
    start, end = hour * 3600 - WARMUP, hour * 3600 + 3600
    out = []
    for b in buyers:
        if b.asked_at is None or b.asked_at >= end:
            continue
        if b.asked_at < start and (b.answered_at is None or not start < b.answered_at < end):
            continue
        out.append(Buyer(index=b.index, at=max(b.asked_at, start), kind="human", lang=b.lang,
                         text=HUMAN_REQUESTS[b.lang][b.index % len(HUMAN_REQUESTS[b.lang])], seed=b.seed))
    return sorted(out, key=lambda b: b.at)


async def _probe(scenario: Scenario, hour: int, agents: int, buyers: list[Buyer]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reception-advice-") as workdir:
        shifts = hour_shifts(agents, hour, WARMUP, TAIL)
        settings = shop_settings(scenario, Path(workdir), shifts, faq=False)
        run = await run_day(scenario, settings, buyers, shifts)
    return next((h for h in run.assessment["by_hour"] if h["hour"] == hour), {})


def search_hour(scenario: Scenario, hour: int, start: int, demand: list[Buyer], targets: Targets,
                cap: int) -> tuple[int, dict[int, dict[str, Any]]]:
    """The fewest agents (from `start`, at most `cap`) whose replay of the hour meets the targets."""
    probes: dict[int, dict[str, Any]] = {}

    def probe(n: int) -> bool:
        if n not in probes:
            probes[n] = asyncio.run(_probe(scenario, hour, n, demand))
        return _passes(probes[n], targets)

    n = max(1, start)
    if probe(n):
        while n > 1 and probe(n - 1):
            n -= 1
        return n, probes
    while n < cap and not probe(n + 1):
        n += 1
    return min(n + 1, cap), probes


def advise(scenario: Scenario, settings: Settings, run: Run, hours: list[int], targets: Targets,
           progress: Callable[[int], None] | None = None) -> list[HourAdvice]:
    """Advice for each of `hours` (local), from the day's `run`."""
    scheduled = scenario.staffing()
    aht = mean(run.handle_seconds) if run.handle_seconds else settings.routing.default_service_seconds
    base = concurrency(scenario)
    day0 = local_midnight(scenario.date, ZoneInfo(settings.hours.timezone))
    rows: list[HourAdvice] = []
    jobs = []
    for hour in hours:
        demand = demand_of(run.human_buyers, hour)
        requests = sum(1 for b in run.human_buyers if b.asked_at is not None and hour * 3600 <= b.asked_at < hour * 3600 + 3600)
        per_agent = bigsale.max_concurrent(settings, base, day0 + timedelta(hours=hour, minutes=30))
        erlang = agents_needed(requests, aht, per_agent, settings.assessment.first_reply_seconds,
                               scenario.agents.reply_seconds, targets.first_reply)
        rows.append(HourAdvice(hour=hour, requests=requests, aht=aht, concurrency=per_agent,
                               scheduled=scheduled[hour], simulated=None if not requests else 0, erlang=erlang,
                               at_simulated=None, probes={}))
        if requests:
            jobs.append((rows[-1], demand, max(4 * erlang + 10, 20)))
    workers = min(2, os.cpu_count() or 1)
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no copied event loop or threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [(row, pool.submit(search_hour, scenario, row.hour, row.erlang, demand, targets, cap))
                   for row, demand, cap in jobs]
        for done, (row, future) in enumerate(futures, start=1):
            row.simulated, row.probes = future.result()
            row.at_simulated = row.probes.get(row.simulated)
            if progress:
                progress(done)
    return rows

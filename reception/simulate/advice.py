"""Staffing advice: the fewest agents each hour needs to keep the 2-minute and non-service targets.

For every assessed hour the buyers who asked for a person in the day's run
are replayed through the real application, with N agents online for the
hour (and a quarter of an hour before it, so the hour does not start with an
empty queue), together with the earlier buyers the day's run served in that
time (the night's offline pool is served in the morning); N is searched from the Erlang-C estimate down and up until the
smallest N that meets both targets is found. Replays use the same random
stream per buyer, so a larger N sees the same buyers, turns and delays.
Replays run in worker processes (`probes`), each (hour, N) once; while the
day runs, the likeliest replays of each hour it has passed start beside it
(`Speculation`), and hours are searched side by side.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from statistics import mean
from typing import Any, Callable
from zoneinfo import ZoneInfo

from .. import bigsale
from ..config import Settings
from ..metrics.assessment import local_slots
from .buyers import HUMAN_REQUESTS, Buyer
from .engine import Engine, Run, local_midnight
from .erlang import agents_needed
from .probes import WARMUP, Figures, Prober
from .runner import concurrency
from .scenario import Scenario


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


def estimate(scenario: Scenario, settings: Settings, buyers: list[Buyer], aht: float, hour: int,
             targets: Targets) -> tuple[int, int, int]:
    """(requests in the hour, buyers per agent at once, the Erlang-C estimate of agents) for `hour`."""
    requests = sum(1 for b in buyers if b.asked_at is not None and hour * 3600 <= b.asked_at < hour * 3600 + 3600)
    day0 = local_midnight(scenario.date, ZoneInfo(settings.hours.timezone))
    per_agent = bigsale.max_concurrent(settings, concurrency(scenario), day0 + timedelta(hours=hour, minutes=30))
    erlang = agents_needed(requests, aht, per_agent, settings.assessment.first_reply_seconds,
                           scenario.agents.reply_seconds, targets.first_reply)
    return requests, per_agent, erlang


def handling(settings: Settings, seconds: list[float]) -> float:
    """The mean handling time of the day's buyers, or the shop's default when nobody was served."""
    return mean(seconds) if seconds else settings.routing.default_service_seconds


class Speculation:
    """Looks at the day as it runs: a minute after it has passed an assessed hour, the hour's demand is
    final, and the two replays the search most likely needs (the Erlang-C estimate with the handling
    time so far, and one agent fewer) start beside the day."""

    def __init__(self, scenario: Scenario, prober: Prober) -> None:
        self.scenario, self.prober = scenario, prober
        self.hour = 0
        self.assessed: set[int] | None = None

    def __call__(self, engine: Engine) -> None:
        now = engine.now()
        while self.hour < 24 and now >= (self.hour + 1) * 3600 + 60:
            self._hour(engine, self.hour)
            self.hour += 1

    def _hour(self, engine: Engine, hour: int) -> None:
        settings = engine.settings
        if self.assessed is None:
            slots = local_slots(self.scenario.date, self.scenario.date, settings.assessment.window, engine.tz)
            self.assessed = {slot[3] for slot in slots}
        if hour not in self.assessed:
            return
        buyers = engine.human_buyers()
        requests, _, erlang = estimate(self.scenario, settings, buyers, handling(settings, engine.handle_seconds()),
                                       hour, targets_of(self.scenario, settings))
        if requests:
            demand = demand_of(buyers, hour)
            for n in (max(1, erlang), max(1, erlang) - 1):
                if n >= 1:
                    self.prober.speculate(hour, n, demand)


def search_hour(start: int, targets: Targets, cap: int,
                replay: Callable[[int], Figures]) -> tuple[int, dict[int, Figures]]:
    """The fewest agents (from `start`, at most `cap`) whose `replay` of the hour meets the targets."""
    probes: dict[int, Figures] = {}

    def probe(n: int) -> bool:
        if n not in probes:
            probes[n] = replay(n)
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
           progress: Callable[[int], None] | None = None, prober: Prober | None = None) -> list[HourAdvice]:
    """Advice for each of `hours` (local), from the day's `run`, replayed by `prober` (or a new one)."""
    scheduled = scenario.staffing()
    aht = handling(settings, run.handle_seconds)
    rows: list[HourAdvice] = []
    jobs = []
    for hour in hours:
        requests, per_agent, erlang = estimate(scenario, settings, run.human_buyers, aht, hour, targets)
        rows.append(HourAdvice(hour=hour, requests=requests, aht=aht, concurrency=per_agent,
                               scheduled=scheduled[hour], simulated=None if not requests else 0, erlang=erlang,
                               at_simulated=None, probes={}))
        if requests:
            jobs.append((rows[-1], demand_of(run.human_buyers, hour), max(4 * erlang + 10, 20)))
    own = prober is None
    replays = prober or Prober(scenario)
    replays.day_over()

    def search(row: HourAdvice, demand: list[Buyer], cap: int) -> tuple[int, dict[int, Figures]]:
        return search_hour(row.erlang, targets, cap, lambda n: replays.get(row.hour, n, demand).result())

    try:  # every hour's search at once: each waits for its replays, the workers run them in turn
        with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as searches:
            futures = [(row, searches.submit(search, row, demand, cap)) for row, demand, cap in jobs]
            for done, (row, future) in enumerate(futures, start=1):
                row.simulated, row.probes = future.result()
                row.at_simulated = row.probes.get(row.simulated)
                if progress:
                    progress(done)
    finally:
        if own:
            replays.close()
    return rows

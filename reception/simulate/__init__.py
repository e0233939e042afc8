"""``reception simulate SCENARIO.toml``: rehearse a day (a big sale) through the real engine on the virtual clock.

`simulate` runs the day, reads its assessment per hour, and (unless told
not to) searches the fewest agents each hour needs, next to the Erlang-C
estimate; with `verify` it runs the day again staffed as advised. The answer
is a plain dict: `output` prints it as tables, JSON or an HTML page.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable

from ..config import Settings
from .advice import Speculation, advise, targets_of
from .engine import Run, Watch
from .probes import Prober
from .runner import Shift, buyers_of, run_day, scenario_shifts, scratch, shop_settings, staffed_shifts
from .scenario import Scenario, load_scenario

BUNDLED = Path(__file__).resolve().parent.parent / "data" / "scenarios"

HOUR_FIGURES = ("sessions", "human_requests", "first_reply_2min_rate", "human_reply_3min_rate",
                "avg_response_seconds", "non_service_rate", "non_service_type1", "non_service_type2",
                "dissatisfaction_rate", "bot_resolution_rate")

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _day(scenario: Scenario, shifts: list[Shift], progress: Callable[[int, int], None],
         db: Path | str | None = None, watch: Watch | None = None) -> tuple[Settings, Run, int]:
    """One simulated day with `shifts` on a scratch database, or on `db` (kept): (settings, run, buyers)."""
    with scratch("reception-simulate-") as workdir:
        settings = shop_settings(scenario, Path(workdir), shifts, db=db)
        buyers = buyers_of(scenario, settings)
        run = asyncio.run(run_day(scenario, settings, buyers, shifts,
                                  progress=lambda done: progress(done, len(buyers)), watch=watch))
    return settings, run, len(buyers)


def simulate(scenario: Scenario, advice: bool = True, verify: bool = False,
             progress: Progress | None = None, db: Path | str | None = None) -> dict[str, Any]:
    """Run the scenario's day, the staffing search and, with `verify`, the day again with the advice.

    With `db` (a new or empty file, or the URL of an empty PostgreSQL database) the day, as the scenario
    staffs it, is kept there for ``reception report``.
    """
    # the search's workers start now, and replay the hours the day has passed while it runs
    prober = Prober(scenario) if advice else None
    try:
        return _simulate(scenario, prober, verify, progress or (lambda stage, done, total: None), db)
    finally:
        if prober is not None:
            prober.close()


def _simulate(scenario: Scenario, prober: Prober | None, verify: bool, report: Progress,
              db: Path | str | None) -> dict[str, Any]:
    shifts = scenario_shifts(scenario)
    started = time.perf_counter()
    settings, run, count = _day(scenario, shifts, lambda done, total: report("day", done, total), db=db,
                                watch=Speculation(scenario, prober) if prober is not None else None)
    elapsed = time.perf_counter() - started
    a = run.assessment
    arrivals, staffing = scenario.hourly(), scenario.staffing()
    hours = [{"hour": h["hour"], "arrivals": arrivals[h["hour"]], "agents": staffing[h["hour"]],
              **{k: h[k] for k in HOUR_FIGURES}} for h in a["by_hour"]]
    answer: dict[str, Any] = {
        "scenario": {"name": scenario.name, "date": scenario.date.isoformat(), "mode": scenario.mode,
                     "seed": scenario.seed, "conversations": count, "agents": len(shifts),
                     "timezone": a["timezone"], "window": a["window"]},
        "elapsed_seconds": round(elapsed, 2),
        "conversations_per_second": round(count / elapsed, 1) if elapsed else None,
        "failed_actions": run.failed_actions,
        "totals": {k: a[k] for k in HOUR_FIGURES},
        "by_reason": [{"reason": r["reason"], "sessions": r["sessions"], "handover_rate": r["handover_rate"]}
                      for r in a["by_reason"]],
        "hours": hours,
        "advice": None,
    }
    if prober is not None:
        targets = targets_of(scenario, settings)
        started = time.perf_counter()
        wanted = [h["hour"] for h in hours]
        rows = advise(scenario, settings, run, wanted, targets,
                      progress=lambda done: report("advice", done, sum(1 for h in hours if h["human_requests"])),
                      prober=prober)
        answer["advice"] = {
            "targets": {"first_reply_2min_rate": targets.first_reply, "non_service_rate": targets.non_service},
            "aht_seconds": round(rows[0].aht, 1) if rows else None,
            "aht_measured": bool(run.handle_seconds),
            "reply_seconds": scenario.agents.reply_seconds,
            "elapsed_seconds": round(time.perf_counter() - started, 2),
            "hours": [{"hour": r.hour, "requests": r.requests, "concurrency": r.concurrency,
                       "scheduled": r.scheduled, "simulated": r.simulated, "erlang_c": r.erlang,
                       "first_reply_2min_rate": (r.at_simulated or {}).get("first_reply_2min_rate"),
                       "non_service_rate": (r.at_simulated or {}).get("non_service_rate"),
                       "probes": {str(n): {"first_reply_2min_rate": p.get("first_reply_2min_rate"),
                                           "non_service_rate": p.get("non_service_rate")}
                                  for n, p in sorted(r.probes.items())}}
                      for r in rows],
            "verified": None,
        }
        if verify:
            answer["advice"]["verified"] = _verify(scenario, rows, report)
    return answer


def _verify(scenario: Scenario, rows: list[Any], report: Progress) -> dict[str, Any]:
    """The day again, staffed as advised (the scenario's shifts in hours without advice)."""
    per_hour = scenario.staffing()
    for row in rows:
        if row.simulated:
            per_hour[row.hour] = row.simulated
    _, run, _ = _day(scenario, staffed_shifts(per_hour), lambda done, total: report("verify", done, total))
    a = run.assessment
    return {"agent_hours": sum(per_hour), "scheduled_agent_hours": sum(scenario.staffing()),
            "totals": {k: a[k] for k in HOUR_FIGURES},
            "hours": [{"hour": h["hour"], "agents": per_hour[h["hour"]], **{k: h[k] for k in HOUR_FIGURES}}
                      for h in a["by_hour"]]}


def find_scenario(name: str) -> Path:
    """A scenario file by path, or a bundled one by name (``double11``)."""
    path = Path(name)
    if path.is_file() or path.suffix == ".toml" or "/" in name:
        return path
    return BUNDLED / f"{name}.toml"


__all__ = ["BUNDLED", "Scenario", "find_scenario", "load_scenario", "simulate"]

"""Setting up a simulated day: the shop's settings on a scratch database, the agents and their shifts.

The shop's own config (FAQ, hours, routing, big-sale settings) is used when
the scenario names one; the agents are the scenario's (in every group of the
shop unless the scenario names one), the mode is switched
on for the whole day, alerts are off (the figures are reported instead) and
the database is a scratch file the run deletes (in memory, on /dev/shm, where
there is one), or the file given with ``simulate --db`` that keeps the day for
``reception report``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ..config import AgentSettings, HoursSettings, Settings, load_settings
from ..faq.loader import load_dir
from .buyers import Buyer, day_of_buyers
from .engine import Engine, Run, Watch, local_midnight
from .scenario import Scenario

Shift = tuple[str, float, float]  # agent id, online from, offline at (seconds after local midnight)
SHM = "/dev/shm"
WATCHERS = ("reception.metrics.api", "reception.web.live")  # plugins left out of a simulated day


def scratch(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A scratch directory for a run's database, in memory where the machine offers it: a simulated day
    writes some ten thousand batches and keeps none of them, so the disk's checkpoints are time lost."""
    memory = SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix=prefix, dir=memory)


def agent_id(n: int) -> str:
    return f"sim:agent{n:03d}"


def scenario_shifts(scenario: Scenario) -> list[Shift]:
    """One agent per head of every shift, online from its start to its end."""
    shifts, n = [], 0
    for shift in scenario.shifts:
        start, end = shift.minutes()
        for _ in range(shift.agents):
            n += 1
            shifts.append((agent_id(n), start * 60.0, end * 60.0))
    return shifts


def staffed_shifts(per_hour: list[int]) -> list[Shift]:
    """Shifts that put `per_hour[h]` agents online in each local hour h (agent k works the hours that need k+1)."""
    shifts = []
    for k in range(max(per_hour, default=0)):
        start = None
        for hour, needed in enumerate(per_hour + [0]):
            if needed > k and start is None:
                start = hour
            elif needed <= k and start is not None:
                shifts.append((agent_id(k + 1), start * 3600.0, hour * 3600.0))
                start = None
    return shifts


def hour_shifts(agents: int, hour: int, warmup: float, tail: float) -> list[Shift]:
    """`agents` people online through `hour`, from `warmup` seconds before it to `tail` seconds after."""
    return [(agent_id(n + 1), max(0.0, hour * 3600 - warmup), hour * 3600 + 3600 + tail) for n in range(agents)]


def concurrency(scenario: Scenario) -> int:
    """Each simulated agent's everyday maximum of buyers at once (big-sale mode may raise it)."""
    return scenario.agents.max_concurrent or AgentSettings.model_fields["max_concurrent"].default


def shop_settings(scenario: Scenario, workdir: Path, shifts: list[Shift], faq: bool = True,
                  db: Path | str | None = None) -> Settings:
    """The shop's settings for a run: its config, the scenario's agents and mode, a scratch database in
    `workdir` (or `db`)."""
    base = load_settings(scenario.config, env={}) if scenario.config else None
    # the agents serve every group of the shop unless the scenario names one
    groups = [scenario.agents.group] if scenario.agents.group else sorted(base.group_names()) if base else []
    token = secrets.token_hex(16)
    agents = [{"id": a, "token": token, "groups": groups, "max_concurrent": concurrency(scenario)}
              for a in dict.fromkeys(a for a, _, _ in shifts)]
    tz_day = local_midnight(scenario.date, ZoneInfo(base.hours.timezone if base else HoursSettings().timezone))
    window = {"enabled": True, "from": (tz_day - timedelta(days=1)).isoformat(),
              "to": (tz_day + timedelta(days=3)).isoformat()}
    overrides: dict[str, Any] = {
        "store": {**({"url": db} if isinstance(db, str) else {"path": str(db or workdir / "simulation.db")}),
                  "synchronous": "NORMAL"},
        "admin": {"token": secrets.token_hex(16)}, "agents": agents, "alerts": {"enabled": False},
        "webhook": {"callback_url": None}, "plugins_dir": None,
        "bot": {"watch_seconds": 0},  # a simulated day of FAQ polling costs time and nobody edits the FAQ
        # what watches a live shop, and nobody watches a rehearsal: the Prometheus counters and the workbench's
        # live updates (each stored event passed through them cost 4% of a simulated day)
        "plugins": {"disabled": [*(base.plugins.disabled if base else []), *WATCHERS]},
    }
    if base is not None and base.offline_pool.agents:  # the shop's own agents are not in the simulation
        overrides["offline_pool"] = {"agents": [], **({"target": "rules"} if base.offline_pool.target == "agents"
                                                      else {})}
    if scenario.mode == "big_sale":
        overrides["big_sale"] = window
    elif scenario.mode == "penalty":
        overrides["penalty"] = window
    if not faq:
        overrides["faq"], overrides["big_sale"] = [], {**overrides.get("big_sale", {}), "faq": []}
    return load_settings(scenario.config, env={}, overrides=overrides)


def buyers_of(scenario: Scenario, settings: Settings) -> list[Buyer]:
    return day_of_buyers(scenario, load_dir(*settings.faq))


async def run_day(scenario: Scenario, settings: Settings, buyers: list[Buyer], shifts: list[Shift],
                  progress: Callable[[int], None] | None = None, watch: Watch | None = None) -> Run:
    """Simulate the day and return its assessment."""
    engine = Engine(settings, scenario.date, buyers, shifts, scenario.buyers, scenario.agents, progress, watch)
    return await engine.run()

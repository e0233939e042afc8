"""The platform's assessment metrics (DOMAIN.md §1), computed from the event log alone, for any range of days.

Definitions (thresholds and volumes from ``[assessment]``):

- **Session**: a conversation whose ``conversation.started`` falls inside the
  assessment window (``window``, shop timezone ``[hours] timezone``) of a day
  in the range. Everything that happens in it later counts, even after the
  window or the range ends. A window that ends before it starts runs past
  midnight and belongs to the day it starts.
- **Human request**: a session with a ``handover.requested``; its reason is the
  first one's.
- **2-minute first-reply rate** (``first_reply_2min_rate``): human requests
  whose first ``agent.replied`` has ``since_request_seconds`` <= 120, over
  human requests. The clock runs from the request, queue and pool included;
  the welcome never produces ``agent.replied``; no reply is a miss.
- **3-minute human reply rate** (``human_reply_3min_rate``): buyer turns with a
  human answered within 180 s, over turns. A turn opens with an assignment
  (the buyer waits for a human from then on; the welcome is not an answer)
  or with a buyer message while assigned and nobody owes an answer, and ends
  with the next ``agent.replied``. A reassignment or transfer does not restart
  the clock. A turn still unanswered at close, or open longer than the limit
  now, is a miss; one younger than the limit is not counted yet.
- **Average response time** (``avg_response_seconds``): mean wait of answered
  turns (= ``response_seconds`` of ``agent.replied`` unless a reassignment
  restarted the agent's clock).
- **Non-service**: Type 1, human requests that fell into the offline pool /
  the bot's cover (``conversation.pooled`` or ``coverage.bot_took_over`` at or
  after the request, or already pooled when they asked and not assigned at
  that instant), even if the pool assigns them later; Type 2, other human
  requests that were assigned and closed without any ``agent.replied``. The
  two are exclusive; ``non_service_rate`` = (type 1 + type 2) / human requests.
- **Dissatisfaction rate**: ``satisfaction.rated`` labelled dissatisfied, over ratings.
- **Bot resolution rate**: sessions with no request for a human and no
  assignment that are closed or idle (no event for ``idle_minutes``), over sessions.
- **Handover rate by reason**: sessions whose first request had that reason, over sessions.
- **Penalty periods**: from ``mode.changed`` (mode penalty); days touched by one
  are marked, and ``penalty_sessions`` counts sessions that started in one.

Breakdowns: per day and hour of the session's start; per group (the first
assignment's, else the queue's or pool's); per agent (session figures for the
agent who held the session last, turns for the agent who answered them, else
who held the buyer); per reason. A rate whose denominator is below
``min_volume`` is null. This module is pure: the store counts, these
functions turn counts into figures.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from ..config import AssessmentSettings, Settings
from ..store import codec
from ..store.metrics import SESSION_SUMS, TURN_SUMS, MetricsReads, Slot

SUMS = SESSION_SUMS + TURN_SUMS
Totals = dict[str, float]


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day + timedelta(days=minute // 1440), time(minute % 1440 // 60, minute % 60), tz)
    return local.astimezone(timezone.utc)


def local_slots(first: date, last: date, window: str, tz: ZoneInfo, hourly: bool = True) -> list[Slot]:
    """The window of every local day in [first, last], cut at local hours: (lo, hi, day, hour), UTC as stored."""
    start, end = (_minutes(part) for part in window.split("-"))
    if end <= start:
        end += 1440  # runs past midnight
    slots: list[Slot] = []
    day = first
    while day <= last:
        edges = [start] + [m for m in range(start // 60 * 60 + 60, end, 60)] if hourly else [start]
        for lo, hi in zip(edges, edges[1:] + [end]):
            slots.append((codec.ts(_at(day, lo, tz)), codec.ts(_at(day, hi, tz)), day.isoformat(), lo // 60 % 24))
        day += timedelta(days=1)
    return slots


def penalty_periods(changes: Iterable[tuple[datetime, bool]], start: datetime,
                    end: datetime) -> list[tuple[datetime, datetime | None]]:
    """The on-periods of a mode (from its ``mode.changed`` history) that overlap [start, end); None: still on."""
    periods: list[tuple[datetime, datetime | None]] = []
    since: datetime | None = None
    for at, active in changes:
        if active and since is None:
            since = at
        elif not active and since is not None:
            periods.append((since, at))
            since = None
    if since is not None:
        periods.append((since, None))
    return [(a, b) for a, b in periods if a < end and (b is None or b > start)]


def rollup(rows: Iterable[tuple[Any, ...]], width: int, key: Any) -> dict[Any, list[float]]:
    """Sum aggregate rows (`width` key columns, then sums) by ``key(keys)``."""
    out: dict[Any, list[float]] = {}
    for row in rows:
        target = out.setdefault(key(row[:width]), [0.0] * (len(row) - width))
        for i, value in enumerate(row[width:]):
            target[i] += value or 0
    return out


def _ratio(part: float, whole: float, minimum: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole and whole >= minimum else None


def figures(sums: Totals, cfg: AssessmentSettings) -> dict[str, Any]:
    """The figures of one cell (total, a day, an agent …) from its sums."""
    s = {name: int(sums.get(name, 0)) for name in SUMS if name != "wait_sum"}
    turns = s["turns"] + s["open_missed"]
    requests, minimum = s["requests"], cfg.min_volume
    return {
        "sessions": s["sessions"], "human_requests": requests,
        "first_reply_2min_rate": _ratio(s["first_ok"], requests, minimum),
        "human_reply_3min_rate": _ratio(s["turns_ok"], turns, minimum),
        "avg_response_seconds": _ratio(sums.get("wait_sum", 0.0), s["answered"], minimum, 2),
        "non_service_rate": _ratio(s["type1"] + s["type2"], requests, minimum),
        "non_service_type1": s["type1"], "non_service_type2": s["type2"],
        "dissatisfaction_rate": _ratio(s["dissatisfied"], s["ratings"], minimum),
        "bot_resolution_rate": _ratio(s["bot_resolved"], s["sessions"], minimum),
        "first_replies_in_time": s["first_ok"], "turns": turns, "turns_in_time": s["turns_ok"],
        "ratings": s["ratings"], "dissatisfied": s["dissatisfied"], "bot_resolved": s["bot_resolved"],
        "penalty_sessions": s["penalty_sessions"],
    }


def _merge(sessions: dict[Any, list[float]], turns: dict[Any, list[float]]) -> dict[Any, Totals]:
    keys = list(sessions) + [k for k in turns if k not in sessions]
    empty_s, empty_t = [0.0] * len(SESSION_SUMS), [0.0] * len(TURN_SUMS)
    return {k: dict(zip(SUMS, sessions.get(k, empty_s) + turns.get(k, empty_t))) for k in keys}


def report(rows: dict[str, list[tuple[Any, ...]]], settings: Settings, first: date, last: date,
           periods: list[tuple[datetime, datetime | None]], now: datetime) -> dict[str, Any]:
    """The whole assessment answer from the store's sums (`MetricsReads.assessment_sums`)."""
    cfg, tz = settings.assessment, ZoneInfo(settings.hours.timezone)
    cells = (rows["sessions"], rows["turns"])

    def by(key: Any) -> dict[Any, Totals]:
        return _merge(rollup(cells[0], 4, key), rollup(cells[1], 4, key))

    total = by(lambda k: "").get("", {})
    hours = list(dict.fromkeys(slot[3] for slot in local_slots(first, first, cfg.window, tz)))
    days, hourly = by(lambda k: k[0]), by(lambda k: k[1])
    groups, reasons = by(lambda k: k[2]), by(lambda k: k[3])
    agents = _merge(rollup(rows["sessions_by_agent"], 1, lambda k: k[0]),
                    rollup(rows["turns_by_agent"], 1, lambda k: k[0]))
    marked = {d for a, b in periods for d in _days_touched(a, b or now, tz, first, last)}
    sessions = int(total.get("sessions", 0))
    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": settings.hours.timezone,
        "window": cfg.window, "generated_at": now.isoformat(),
        "thresholds": {"first_reply_seconds": cfg.first_reply_seconds, "human_reply_seconds": cfg.human_reply_seconds,
                       "min_volume": cfg.min_volume},
        **figures(total, cfg),
        "by_reason": [{"reason": r, "handover_rate": _ratio(v["sessions"], sessions, cfg.min_volume),
                       **figures(v, cfg)} for r, v in sorted(reasons.items(), key=lambda kv: -kv[1]["sessions"])
                      if r is not None],
        "by_group": [{"group": g, **figures(v, cfg)} for g, v in sorted(groups.items(), key=lambda kv: str(kv[0]))
                     if g is not None or v["requests"]],
        "by_agent": [{"agent_id": a, **figures(v, cfg)} for a, v in sorted(agents.items())],
        "by_day": [{"date": d, "penalty": d in marked, **figures(days.get(d, {}), cfg)} for d in _dates(first, last)],
        "by_hour": [{"hour": h, **figures(hourly.get(h, {}), cfg)} for h in hours],
        "penalty_periods": [{"from": a.isoformat(), "to": b.isoformat() if b else None} for a, b in periods],
    }


def _dates(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _days_touched(start: datetime, end: datetime, tz: ZoneInfo, first: date, last: date) -> list[str]:
    a, b = max(start.astimezone(tz).date(), first), min(end.astimezone(tz).date(), last)
    return _dates(a, b) if a <= b else []


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days first..last."""
    return _at(first, 0, tz), _at(last, 1440, tz)


async def assess(store: MetricsReads, settings: Settings, first: date, last: date, now: datetime) -> dict[str, Any]:
    """Read the sums for [first, last] (local dates) from `store` and build the answer."""
    cfg, tz = settings.assessment, ZoneInfo(settings.hours.timezone)
    start, end = day_bounds(first, last, tz)
    end += timedelta(days=1) if _minutes(cfg.window[6:]) <= _minutes(cfg.window[:5]) else timedelta(0)
    periods = penalty_periods(await store.mode_changes("penalty", end), start, end)
    rows = await store.assessment_sums(
        local_slots(first, last, cfg.window, tz), [(codec.ts(a), codec.ts(b)) for a, b in periods], now,
        cfg.first_reply_seconds, cfg.human_reply_seconds, cfg.idle_minutes * 60)
    return report(rows, settings, first, last, periods, now)

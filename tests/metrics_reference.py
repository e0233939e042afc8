"""A slow, obvious reference for the assessment metrics: the definitions applied event by event in Python.

The app computes the same figures through the session ledger and SQL
aggregates; tests compare the two on generated event logs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from reception.events import Event


def _session(events: list[Event], now: datetime, first_limit: float, reply_limit: float,
             idle: float) -> dict[str, Any]:
    s: dict[str, Any] = {"turns": [], "req": None, "reason": None, "first_since": None, "assigned": 0,
                         "asg_at_req": False, "group": None, "wait_group": None, "agent": None, "pooled": [],
                         "closed": False, "ratings": 0, "dissatisfied": 0, "replies": 0}
    last = events[0].at
    open_at = None
    for e in events:
        d = e.data
        if e.name == "message.received":
            last = e.at
            if d.get("status") == "assigned" and open_at is None:
                open_at = e.at
        elif e.name == "handover.requested" and s["req"] is None:
            s["req"], s["reason"] = e.at, d.get("reason")
        elif e.name == "conversation.assigned":
            s["assigned"] += 1
            s["asg_at_req"] = s["asg_at_req"] or e.at == s["req"]
            s["group"] = s["group"] or d.get("group")
            s["agent"] = d.get("agent_id")
            open_at = open_at or e.at
        elif e.name in ("conversation.queued", "conversation.pooled") and s["wait_group"] is None:
            s["wait_group"] = d.get("group")
        elif e.name == "agent.replied":
            s["replies"] += 1
            if d.get("first") and s["first_since"] is None:
                s["first_since"] = d.get("since_request_seconds")
            if open_at is not None:
                s["turns"].append(((e.at - open_at).total_seconds(), d.get("agent_id") or s["agent"]))
            open_at = None
        elif e.name == "conversation.closed":
            s["closed"] = True
            if open_at is not None:
                s["turns"].append((None, s["agent"]))
            open_at = None
        elif e.name == "satisfaction.rated":
            s["ratings"] += 1
            s["dissatisfied"] += d.get("label") == "dissatisfied"
        if e.name in ("conversation.pooled", "coverage.bot_took_over"):
            s["pooled"].append(e.at)
        if e.name == "conversation.pooled" and s["wait_group"] is None:
            s["wait_group"] = d.get("group")
    if open_at is not None and open_at < now - timedelta(seconds=reply_limit):
        s["turns"].append((None, s["agent"]))
    hr = s["req"] is not None
    pooled = s["pooled"]
    type1 = hr and bool(pooled) and (max(pooled) >= s["req"] or (min(pooled) < s["req"] and not s["asg_at_req"]))
    return {
        "hr": hr, "reason": s["reason"], "group": s["group"] or s["wait_group"], "agent": s["agent"],
        "first_ok": hr and s["first_since"] is not None and s["first_since"] <= first_limit,
        "type1": type1, "type2": hr and not type1 and s["assigned"] > 0 and s["replies"] == 0 and s["closed"],
        "bot_resolved": not hr and not s["assigned"] and (s["closed"] or last <= now - timedelta(seconds=idle)),
        "ratings": s["ratings"], "dissatisfied": s["dissatisfied"], "turns": s["turns"],
    }


def reference(events: Iterable[Event], tz: ZoneInfo, window: tuple[int, int], now: datetime,
              first_limit: float = 120, reply_limit: float = 180, idle: float = 1800) -> dict[str, dict]:
    """Figures per day and in total ({"total": …, "YYYY-MM-DD": …}) for sessions starting in `window` hours."""
    by_conv: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        if e.conversation_id:
            by_conv[e.conversation_id].append(e)
    cells: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for conv in by_conv.values():
        if conv[0].name != "conversation.started":
            continue
        local = conv[0].at.astimezone(tz)
        if not window[0] <= local.hour < window[1]:
            continue
        s = _session(conv, now, first_limit, reply_limit, idle)
        keys = ["total", local.date().isoformat(), f"agent:{s['agent']}" if s["agent"] else None]
        for key in filter(None, keys):
            c = cells[key]
            c["sessions"] += 1
            for name in ("hr", "first_ok", "type1", "type2", "bot_resolved", "ratings", "dissatisfied"):
                c[name] += s[name]
        for wait, agent in s["turns"]:
            for key in ("total", local.date().isoformat(), f"turn:{agent}"):
                c = cells[key]
                c["turns"] += 1
                c["turns_ok"] += wait is not None and round(wait, 3) <= reply_limit
                c["answered"] += wait is not None
                c["wait_sum"] += wait or 0
    out = {}
    for key, c in cells.items():
        r = lambda a, b, digits=4: round(a / b, digits) if b else None  # noqa: E731
        out[key] = {
            "sessions": int(c["sessions"]), "human_requests": int(c["hr"]),
            "first_reply_2min_rate": r(c["first_ok"], c["hr"]), "human_reply_3min_rate": r(c["turns_ok"], c["turns"]),
            "avg_response_seconds": r(c["wait_sum"], c["answered"], 2),
            "non_service_rate": r(c["type1"] + c["type2"], c["hr"]),
            "non_service_type1": int(c["type1"]), "non_service_type2": int(c["type2"]),
            "dissatisfaction_rate": r(c["dissatisfied"], c["ratings"]),
            "bot_resolution_rate": r(c["bot_resolved"], c["sessions"]),
        }
    return out

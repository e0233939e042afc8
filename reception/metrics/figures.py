"""How every figure of an assessment is written for people: one format per figure, for the terminal and the page.

`reception report` (`reception.metrics.report`), its HTML page
(`reception.metrics.html`) and the simulator's summary all format through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

# a figure with nothing to compute it from (a rate with no denominator: the API's null), everywhere it is shown
NO_VALUE = "—"


def pct(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value * 100:.2f}%"


def secs(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.2f} s"


def local_minute(iso: str, timezone: str) -> str:
    """An ISO instant as the shop's local time to the minute, the zone named: ``2026-11-11 08:05 Asia/Shanghai``."""
    try:
        moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError):
        return iso
    return f"{moment:%Y-%m-%d %H:%M} {timezone}"


def num(value: Any) -> str:
    return NO_VALUE if value is None else str(value)


# the columns of every breakdown: (header, key in the answer, format)
COLUMNS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("sessions", "sessions", num), ("human", "human_requests", num),
    ("2-min first reply", "first_reply_2min_rate", pct), ("3-min reply", "human_reply_3min_rate", pct),
    ("avg response", "avg_response_seconds", secs), ("non-service", "non_service_rate", pct),
    ("type 1", "non_service_type1", num), ("type 2", "non_service_type2", num),
    ("dissatisfied", "dissatisfaction_rate", pct), ("bot resolved", "bot_resolution_rate", pct)]


def table(headers: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """A plain text table: columns aligned, the `left` ones to the left, the others (figures) to the right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def summary(a: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The headline figures of an assessment: (key in the answer, label, formatted value, detail)."""
    return [
        ("sessions", "sessions", num(a["sessions"]), f"started in {a['window']} ({a['timezone']})"),
        ("human_requests", "human requests", num(a["human_requests"]), ""),
        ("first_reply_2min_rate", "2-min first-reply rate", pct(a["first_reply_2min_rate"]),
         f"{a['first_replies_in_time']} of {a['human_requests']} within {a['thresholds']['first_reply_seconds']:g} s"),
        ("human_reply_3min_rate", "3-min human reply rate", pct(a["human_reply_3min_rate"]),
         f"{a['turns_in_time']} of {a['turns']} turns within {a['thresholds']['human_reply_seconds']:g} s"),
        ("avg_response_seconds", "average response time", secs(a["avg_response_seconds"]), "answered turns"),
        ("non_service_rate", "non-service rate", pct(a["non_service_rate"]),
         f"type 1 (offline pool): {a['non_service_type1']}, type 2 (welcome only): {a['non_service_type2']}"),
        ("dissatisfaction_rate", "dissatisfaction rate", pct(a["dissatisfaction_rate"]),
         f"{a['dissatisfied']} of {a['ratings']} ratings"),
        ("bot_resolution_rate", "bot resolution rate", pct(a["bot_resolution_rate"]),
         f"{a['bot_resolved']} of {a['sessions']} sessions"),
    ]

"""Metrics from the event log: the platform assessment, intent analytics, Prometheus and the terminal report.

`assessment` and `intents` define the figures (pure functions over the
store's sums); `api` serves them (``/api/v1/metrics/*``, ``/metrics``) as a
default plugin; `report` prints them as tables (``reception report``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..config import Settings

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
MAX_DAYS = 3660  # about ten years: beyond that a report is a mistake, not a question


class RangeError(ValueError):
    """Dates that cannot be reported on; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def local_today(settings: Settings, now: datetime) -> date:
    """The shop's current date (``[hours] timezone``)."""
    return now.astimezone(ZoneInfo(settings.hours.timezone)).date()


def parse_range(start: str | None, end: str | None, today: date, max_days: int | None = None) -> tuple[date, date]:
    """(first, last) local dates from YYYY-MM-DD texts, both inclusive; either defaults to `today`."""
    days = []
    for name, text in (("from", start), ("to", end)):
        if text is None or text == "":
            days.append(today)
            continue
        try:
            if not _DAY.match(text):  # fromisoformat would also take week dates (2026-W46-3)
                raise ValueError
            days.append(date.fromisoformat(text))
        except ValueError:
            raise RangeError("invalid_date", f"{name}: expected a date as YYYY-MM-DD, got {text!r}") from None
    first, last = days
    if first > last:
        raise RangeError("invalid_range", f"from ({first}) is after to ({last})")
    span = (last - first).days + 1
    limit = min(max_days or MAX_DAYS, MAX_DAYS)
    if span > limit:
        code = "range_too_long" if max_days else "invalid_range"
        raise RangeError(code, f"{span} days asked, at most {limit} allowed"
                         + (" (allow_long=true for longer ranges)" if max_days and max_days < MAX_DAYS else ""))
    return first, last

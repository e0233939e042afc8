"""The service calendar: when humans serve, per group, in the shop's timezone.

A day's windows come from, in order: a one-off exception for that date, a
holiday (closed), the group's own week, the shop's week (a weekday's own
windows, else every day's). A window that ends before it starts runs past
midnight: "22:00-02:00" on Monday also covers Tuesday 00:00–02:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .config import HoursSettings
from .config.sections import Weekday
from .routing.schedule import minutes_of

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Calendar:
    """Answers "do humans serve now?" and "from when?" for a group."""

    def __init__(self, hours: HoursSettings) -> None:
        self.hours = hours
        self.tz = ZoneInfo(hours.timezone)
        self._exceptions = {e.date: e.open for e in hours.exceptions}

    def windows(self, day: date, group: str | None = None) -> list[tuple[int, int]]:
        """The day's windows as (start, end) minutes; end <= start runs past midnight."""
        if day in self._exceptions:
            spans = self._exceptions[day]
        elif day in self.hours.holidays:
            spans = []
        else:
            plan = self.hours.groups.get(group or "", self.hours)
            spans = plan.weekly.get(WEEKDAYS[day.weekday()], plan.open)
        return [tuple(minutes_of(part) for part in span.split("-")) for span in spans]  # type: ignore[misc]

    def is_open(self, now: datetime, group: str | None = None) -> bool:
        local = now.astimezone(self.tz)
        minute = local.hour * 60 + local.minute + local.second / 60
        for start, end in self.windows(local.date(), group):
            if (start < end and start <= minute < end) or (start >= end and minute >= start):
                return True
        # yesterday's windows that run past midnight
        return any(start >= end and minute < end
                   for start, end in self.windows(local.date() - timedelta(days=1), group))

    def next_open(self, now: datetime, group: str | None = None, days: int = 14) -> datetime | None:
        """The next moment humans serve (now, if they do), or None within `days`."""
        if self.is_open(now, group):
            return now
        local = now.astimezone(self.tz)
        for offset in range(days + 1):
            day = local.date() + timedelta(days=offset)
            starts = sorted(start for start, _ in self.windows(day, group))
            for start in starts:
                moment = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(minutes=start)
                if moment > local:
                    return moment.astimezone(timezone.utc)
        return None

    def local_text(self, moment: datetime, now: datetime) -> str:
        """"08:00", or "11-12 08:00" when it is not today."""
        local, today = moment.astimezone(self.tz), now.astimezone(self.tz).date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")

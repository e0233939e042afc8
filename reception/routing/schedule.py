"""Daily time windows ("08:00-23:00", "22:00-02:00") in the shop's timezone, and runs on a fixed interval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def minutes_of(value: str) -> int:
    """"HH:MM" as minutes after midnight ("24:00" is 1440)."""
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def in_windows(now: datetime, windows: list[str], tz: ZoneInfo) -> bool:
    """True when `now` (any timezone) falls inside one of the daily `windows` in `tz`.

    Windows include their start and exclude their end; one whose end is not
    after its start runs past midnight ("22:00-02:00"); "00:00-24:00" is the whole day.
    """
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute + local.second / 60
    for window in windows:
        start, end = (minutes_of(part) for part in window.split("-"))
        if start < end:
            if start <= minute < end:
                return True
        elif minute >= start or minute < end:
            return True
    return False


def next_run(now: datetime, windows: list[str], tz: ZoneInfo, interval_minutes: int) -> datetime | None:
    """The first instant after `now` on the interval grid (aligned to local midnight) inside a window.

    With a 30-minute interval the grid is 09:00, 09:30, … as the platforms run it.
    Returns None when no window holds a grid point in the next eight days.
    """
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=interval_minutes)
    elapsed = local - midnight
    slot = midnight + step * (elapsed // step + 1)
    horizon = local + timedelta(days=8)
    while slot <= horizon:
        if slot.date() != midnight.date():  # realign the grid every local day
            midnight = slot.replace(hour=0, minute=0, second=0, microsecond=0)
            slot = midnight
        if in_windows(slot, windows, tz):
            return slot.astimezone(timezone.utc)
        slot = slot + step
    return None

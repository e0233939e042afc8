"""Big-sale mode's overrides: for each setting the mode may change, the value in force at a given instant.

Everything that big-sale mode changes asks here with the current time, so
the mode switches on and off at its window's edges without a restart.
"""

from __future__ import annotations

from datetime import datetime

from .config import Settings


def active(settings: Settings, now: datetime) -> bool:
    return settings.big_sale.active(now)


def max_concurrent(settings: Settings, configured: int, now: datetime) -> int:
    """An agent's maximum of concurrent buyers."""
    override = settings.big_sale.max_concurrent
    return override if override is not None and active(settings, now) else configured


def queue_limit(settings: Settings, now: datetime) -> int:
    override = settings.big_sale.queue_limit
    return override if override is not None and active(settings, now) else settings.routing.queue_limit


def pool_interval(settings: Settings, now: datetime) -> int:
    """Minutes between offline-pool runs."""
    override = settings.big_sale.pool_interval_minutes
    return override if override is not None and active(settings, now) else settings.offline_pool.interval_minutes


def answer_threshold(settings: Settings, now: datetime) -> float:
    override = settings.big_sale.answer_threshold
    return override if override is not None and active(settings, now) else settings.bot.answer_threshold


def queue_note(settings: Settings, now: datetime, lang: str) -> str:
    """The sale's note added to queue messages ("" when none)."""
    note = settings.big_sale.queue_note
    if note is None or not active(settings, now):
        return ""
    return note.zh if lang == "zh" else note.en

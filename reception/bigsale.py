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


DEFAULT_THRESHOLD = 0.92  # for an answer whose plugin states no threshold of its own


def answer_threshold(settings: Settings, now: datetime, calibrated: float | None = None) -> float:
    """The confidence an answer needs now: the sale's override while it runs, else ``bot.answer_threshold``
    when set, else the answer's own calibrated threshold (`BotAnswer.threshold`), else `DEFAULT_THRESHOLD`."""
    override = settings.big_sale.answer_threshold
    if override is not None and active(settings, now):
        return override
    if settings.bot.answer_threshold is not None:
        return settings.bot.answer_threshold
    return calibrated if calibrated is not None else DEFAULT_THRESHOLD


def queue_note(settings: Settings, now: datetime, lang: str) -> str:
    """The sale's note added to queue messages ("" when none)."""
    note = settings.big_sale.queue_note
    if note is None or not active(settings, now):
        return ""
    return note.zh if lang == "zh" else note.en

"""Per-key rate limits (token buckets) on the shop's clock, for what people without credentials may send.

A bucket holds up to `per_minute` tokens and refills at `per_minute` a minute;
each request takes one. A refused request learns how many seconds until a
token is back (an HTTP 429's ``Retry-After``). Time is the `Reception` clock,
so limits follow the virtual clock in tests and the simulator. Buckets live
in the instance's memory: behind several instances each one counts its own
(a buyer's requests spread over three instances get three times the limit).
Full buckets are forgotten, so the memory held is that of the keys active in
the last minute.
"""

from __future__ import annotations

from datetime import datetime

FORGET_AT = 10_000  # keys kept before full buckets are dropped


class RateLimit:
    """Token buckets by key: ``wait = limit.take(key, now)``; 0.0 means allowed."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens a second
        self._buckets: dict[str, tuple[float, datetime]] = {}  # key → (tokens, as of)

    def take(self, key: str, now: datetime) -> float:
        """Take a token for `key`: 0.0 when there was one, else the seconds until there is."""
        tokens, since = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + max(0.0, (now - since).total_seconds()) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        if len(self._buckets) >= FORGET_AT and key not in self._buckets:
            self._forget_full(now)
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    def _forget_full(self, now: datetime) -> None:
        full = [k for k, (tokens, since) in self._buckets.items()
                if tokens + (now - since).total_seconds() * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]

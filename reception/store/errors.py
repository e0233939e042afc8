"""What the store raises: a write refused, a uniqueness rule broken, the database out of reach."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store could not take a write, or cannot be opened (closed, disk full, a newer schema …)."""


class DuplicateMessage(StoreError):
    """A write broke a uniqueness rule (an idempotency key already stored by another transaction)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now (PostgreSQL restarting, the network down); nothing was written.

    HTTP answers 503 ``store_unavailable``; the next request tries again (the pool reconnects by itself).
    """

"""The store: the only code that speaks SQL. SQLite for one process, PostgreSQL for several instances of a shop.

`make_store` is the one place that picks the back-end, from ``[store]``:
`SqliteStore` (a file, ``path`` or ``url = "sqlite:///…"``) or
`PostgresStore` (``url = "postgresql://…"``; needs asyncpg:
``pip install 'reception[postgres]'``). Everyone else holds a `Store`,
whichever it is (``store.kind`` says): one batching writer that returns once
a `Transaction` is durable, the reads, the reports. `base.py` is what both
share; SQL written once for both lives in `transaction.py`, `reads.py`,
`metrics.py`, `privacy.py`, `ledger.py` and `schema.py`, and `dialect.py`
makes it PostgreSQL's. `copy.py` moves a whole shop from one database to
another (``reception store copy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Store
from .errors import DuplicateMessage, StoreError, StoreUnavailable
from .reads import Delivery
from .sqlite import SqliteStore
from .transaction import Transaction

if TYPE_CHECKING:
    from ..config.sections import StoreSettings

__all__ = ["Delivery", "DuplicateMessage", "SqliteStore", "Store", "StoreError", "StoreUnavailable", "Transaction",
           "make_store"]


def make_store(settings: StoreSettings) -> Store:
    """The store ``[store]`` describes, not yet open (`Store.open`)."""
    if settings.url is None:
        return SqliteStore(settings.path, settings.synchronous, settings.batch_max)
    try:
        from .postgres import PostgresStore  # asyncpg is an extra: only a shop on PostgreSQL needs it
    except ImportError:
        raise StoreError("a PostgreSQL store needs asyncpg: pip install 'reception[postgres]'") from None
    return PostgresStore(settings.url, settings.shown, settings.pool_size, settings.batch_max, settings.synchronous)

"""Validating many orders at once: every problem is named by where it is, which field and why.

The importer and ``POST /api/v1/orders`` both use `validate_batch`, so a row
is judged the same way wherever it comes from. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Iterable

from pydantic import ValidationError

from .models import Order, error_lines


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row: `where` is a CSV line ("line 3") or a list index (2)."""

    where: str | int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"[{self.where}]" if isinstance(self.where, int) else self.where
        return f"{where}: {self.field}: {self.reason}"


def validate_batch(rows: Iterable[tuple[str | int, Any]], timezone: tzinfo,
                   now: datetime) -> tuple[list[Order], list[Problem]]:
    """The valid orders and the problems of the others.

    A time without a UTC offset is read in `timezone`; an order without
    ``updated_at`` gets `now`. The same ``order_id`` twice in one batch is a
    problem of the later row (which of the two is right cannot be told).
    """
    orders: list[Order] = []
    problems: list[Problem] = []
    seen: dict[str, str | int] = {}
    for where, data in rows:
        if not isinstance(data, dict):
            problems.append(Problem(where, "(row)", "must be an object with the order's fields"))
            continue
        try:
            order = Order.model_validate(data, context={"timezone": timezone})
        except ValidationError as exc:
            problems.extend(Problem(where, field, reason) for field, reason in error_lines(exc))
            continue
        if order.order_id in seen:
            first = seen[order.order_id]
            problems.append(Problem(where, "order_id", f"{order.order_id!r} is already used by "
                                    f"{first if isinstance(first, str) else f'[{first}]'}"))
            continue
        seen[order.order_id] = where
        orders.append(order if order.updated_at else order.model_copy(update={"updated_at": now}))
    return orders, problems


def bad_rows(problems: list[Problem]) -> int:
    """How many distinct rows the problems are about."""
    return len({p.where for p in problems})

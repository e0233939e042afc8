"""Orders: the model, the store-backed default plugin, the importer and the admin API.

`find_order` is what skills and other code should call to read a buyer's
order: it asks the `order_lookup` hook and, whatever plugin answered, never
hands back an order that belongs to someone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..hooks import first_result
from .models import Item, Order, TrackingEvent

if TYPE_CHECKING:
    from ..core import Reception

__all__ = ["Item", "Order", "TrackingEvent", "find_order"]


async def find_order(reception: "Reception", customer_id: str, order_id: str | None = None) -> Order | None:
    """The buyer's order `order_id`, or their most recent open order when `order_id` is None.

    None when there is no such order or it is another buyer's.
    """
    order = await first_result(reception.hook.order_lookup, customer_id=customer_id, order_id=order_id,
                               reception=reception)
    if order is None or order.customer_id != customer_id:
        return None
    return order

"""Orders from the store, a default plugin: `order_lookup`, `order_update` and `buyer_order_state`.

Each is registered ``trylast``, so a plugin that asks the shop platform
directly answers first. Nothing is cached: the importer may write while the
server runs.
"""

from __future__ import annotations

from ..core import Reception
from ..hookspecs import hookimpl
from .models import Order

# Order status → the buyer's state as routing rules see it (`routing.rules.order_states`).
ORDER_STATES = {"unpaid": "unpaid", "paid": "unshipped", "shipped": "shipped", "delivered": "shipped",
                "after_sale": "after_sale"}


@hookimpl(trylast=True)
async def order_lookup(customer_id: str, order_id: str | None, reception: Reception) -> Order | None:
    if order_id is None:
        return next((o for o in await reception.store.orders_of(customer_id) if o.is_open), None)
    order = await reception.store.order(order_id)
    # another buyer's order is answered exactly like an unknown one
    return order if order is not None and order.customer_id == customer_id else None


@hookimpl(trylast=True)
async def order_update(order: Order, reception: Reception) -> Order:
    if order.updated_at is None:
        order = order.model_copy(update={"updated_at": reception.clock.now()})
    tx = reception.store.transaction()
    tx.save_order(order)
    await reception.commit(tx)
    return order


@hookimpl(trylast=True)
async def buyer_order_state(customer_id: str, reception: Reception) -> str:
    latest = await reception.store.orders_of(customer_id, limit=1)
    return ORDER_STATES[latest[0].status] if latest else "none"

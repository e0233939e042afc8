"""The orders API, a default plugin: ``POST /api/v1/orders`` and ``GET /api/v1/orders/{order_id}`` (admin).

A POST carries one order object or a list of them, judged like the rows of
``reception orders import``: every order valid, or nothing stored (``422``
naming the list index and the field of each problem). The valid orders are
written in one transaction.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field, RootModel

from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import ApiError, decode_json, json_response, require_admin
from ..openapi import Routes
from ..routing.conversation_api import load, require_holder
from .batch import bad_rows, validate_batch
from .models import Order

MAX_ORDERS = 1000  # per request; the body limit (256 KiB) usually comes first


class OrdersBody(RootModel[Order | list[Order]]):
    """One order, or a list of 1 to 1000 orders with distinct order_id (all stored, or none). The fields are
    also accepted as the CSV importer takes them: numbers for texts, items as 'NAME [SPEC] [×QTY] | …',
    tracking_events as JSON text, times without an offset in the shop's timezone."""

    root: Order | Annotated[list[Order], Field(min_length=1, max_length=MAX_ORDERS)]


_SAVED = {"type": "object", "required": ["saved", "orders"], "properties": {
    "saved": {"type": "integer"}, "orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}}


def _admin(request: web.Request) -> Reception:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    return reception


async def post_orders(request: web.Request) -> web.Response:
    reception = _admin(request)
    data = decode_json(await request.read())
    single = isinstance(data, dict)
    if not single and not isinstance(data, list):
        raise ApiError(422, "invalid_body", "the body must be an order object or a list of them")
    items = [data] if single else data
    if not items:
        raise ApiError(422, "invalid_body", "the list of orders is empty")
    if len(items) > MAX_ORDERS:
        raise ApiError(422, "too_many_orders", f"at most {MAX_ORDERS} orders per request; got {len(items)}")
    zone = ZoneInfo(reception.settings.hours.timezone)
    orders, problems = validate_batch(enumerate(items), zone, reception.clock.now())
    if problems:
        fields = [{"index": p.where, "field": p.field, "message": p.reason} for p in problems]
        if single:
            message = "; ".join(f"{p.field}: {p.reason}" for p in problems)
        else:
            message = f"{bad_rows(problems)} of {len(items)} orders are invalid, nothing was stored: " + "; ".join(
                map(str, problems))
        raise ApiError(422, "invalid_field", message, fields)
    tx = reception.store.transaction()
    for order in orders:
        tx.save_order(order)
    await reception.commit(tx)
    return json_response({"saved": len(orders), "orders": [o.model_dump(mode="json") for o in orders]})


async def get_order(request: web.Request) -> web.Response:
    reception = _admin(request)
    order = await reception.store.order(request.match_info["order_id"])
    if order is None:
        raise ApiError(404, "unknown_order", "no order with this id")
    return json_response(order.model_dump(mode="json"))


async def conversation_orders(request: web.Request) -> web.Response:
    """The buyer's recent orders, for the agent who serves them (or the admin)."""
    reception, who, conv = await load(request)
    require_holder(who, conv)
    orders = await reception.store.orders_of(conv.customer_id, limit=10)
    return json_response({"orders": [o.model_dump(mode="json") for o in orders]})


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("POST", "/api/v1/orders", post_orders, "Store one order or a list of orders (all or nothing)",
          body=OrdersBody, response=_SAVED, auth="admin", errors=(400, 401, 413, 422))
    route("GET", "/api/v1/conversations/{conversation_id}/orders", conversation_orders,
          "The buyer's ten latest orders, for their agent", auth="agent", errors=(401, 403, 404))
    route("GET", "/api/v1/orders/{order_id}", get_order, "One order, any buyer's", response=Order,
          auth="admin", errors=(401, 404))

"""Which order the buyer means: a number in the text, an order card, their only open order, or a choice.

Every lookup of a single order goes through `reception.orders.find_order`,
so another buyer's order is never seen: it is answered exactly like an
unknown number. Listing the buyer's orders reads their own orders only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..orders import Order, find_order
from .texts import say

if TYPE_CHECKING:
    from ..core import Reception
    from ..models import Message

# An order number: 6–30 letters, digits and dashes with at least one digit, standing alone.
_TOKEN = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9][A-Za-z0-9-]{4,28}[A-Za-z0-9](?![A-Za-z0-9-])")
_MOBILE = re.compile(r"1[3-9]\d{9}")  # a Chinese mobile number is not an order number
MAX_CHOICES = 5

_ORDINALS_ZH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_ORDINALS_EN = {"first": 1, "1st": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3, "3rd": 3,
                "three": 3, "fourth": 4, "4th": 4, "four": 4, "fifth": 5, "5th": 5, "five": 5}
_CHOICE_ZH = re.compile(r"第\s*([一二两三四五1-5])\s*(?:个|单|笔|项)?"
                        r"|^([1-5])\s*(?:号|个)?$|^([一二两三四五])\s*(?:个|单)$")
_LAST = re.compile(r"最后一[个单笔]|\blast( one)?\b")


@dataclass
class NotFound:
    """The buyer named an order that is not theirs or does not exist (the number they typed)."""

    order_id: str


def order_numbers(text: str) -> list[str]:
    """Tokens of `text` that may be order numbers, in order of appearance."""
    text = unicodedata.normalize("NFKC", text)
    return [t for t in _TOKEN.findall(text) if any(c.isdigit() for c in t) and not _MOBILE.fullmatch(t)]


async def own_orders(reception: "Reception", customer_id: str) -> list[Order]:
    """The buyer's orders, newest first, each confirmed through `find_order` (the order hooks may know better)."""
    found = []
    for stored in await reception.store.orders_of(customer_id, limit=20):
        order = await find_order(reception, customer_id, stored.order_id)
        if order is not None:
            found.append(order)
    return found


async def locate(reception: "Reception", message: "Message", customer_id: str,
                 text: str | None = None) -> Order | list[Order] | NotFound | None:
    """The order a buyer's message is about.

    An order card, else an order number in `text` (the message's text by default);
    else the buyer's only open order, or several to choose from, or their
    latest order when none is open; None when the buyer has no order at all.
    """
    if message.card is not None and message.card.type == "order":
        return await find_order(reception, customer_id, message.card.id) or NotFound(message.card.id)
    numbers = order_numbers(message.text if text is None else text)
    for number in numbers:
        for spelling in dict.fromkeys((number, number.upper())):  # "tb1001" typed for TB1001
            order = await find_order(reception, customer_id, spelling)
            if order is not None:
                return order
    if numbers:
        return NotFound(numbers[0])
    orders = await own_orders(reception, customer_id)
    open_orders = [o for o in orders if o.is_open]
    if len(open_orders) > 1:
        return open_orders[:MAX_CHOICES]
    if open_orders or orders:
        return (open_orders or orders)[0]
    return await find_order(reception, customer_id)  # a platform plugin may know orders the store doesn't


def pick(text: str, norm: str, choices: list[Order]) -> Order | None:
    """The order a reply to "which one?" names: its number, its position, or an item only it has."""
    numbers = set(order_numbers(text))
    for order in choices:
        if order.order_id in numbers or order.order_id.casefold() == norm:
            return order
    position = _position(norm)
    if position is not None:
        return choices[position - 1] if position <= len(choices) else None
    if _LAST.search(norm):
        return choices[-1]
    named = [o for o in choices if any(i.name.casefold() in norm for i in o.items)]
    return named[0] if len(named) == 1 else None


def _position(norm: str) -> int | None:
    found = _CHOICE_ZH.search(norm)
    if found:
        return _ORDINALS_ZH[next(g for g in found.groups() if g)]
    words = norm.split()
    if len(words) <= 4:
        for word in words:
            if word in _ORDINALS_EN:
                return _ORDINALS_EN[word]
    return None


def items_of(order: Order, lang: str) -> str:
    """A short description of what was ordered: 亚麻抱枕套 燕麦米/45x45 ×2、火柴."""
    parts = []
    for item in order.items[:3]:
        label = f"{item.name} {item.spec}".strip()
        parts.append(label + (f" ×{item.qty}" if item.qty > 1 else ""))
    more = len(order.items) - 3
    if more > 0:
        parts.append(f"等 {more} 件" if lang == "zh" else f"and {more} more")
    return ("、" if lang == "zh" else ", ").join(parts)


def status_of(order: Order, lang: str) -> str:
    """The order's status in the buyer's words."""
    return say(f"status_{order.status}", lang)


def choices_text(orders: list[Order], lang: str) -> str:
    """The numbered list of orders to choose from."""
    return "\n".join(say("choice_line", lang, n=n, order_id=o.order_id, items=items_of(o, lang),
                         status=status_of(o, lang)) for n, o in enumerate(orders, 1))

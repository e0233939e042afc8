"""Logistics: "where is my parcel / 我的快递到哪了 / 发货了吗" answered from the buyer's own order.

The order is the one named in the message (a number or an order card), the
buyer's only open order, or their latest; with several open orders the
skill asks which one and answers the reply ("第二个", "the second", the
number or an item name). The answer gives the status, carrier, tracking
number and the latest tracking event, in the buyer's language. A number
that is not one of this buyer's orders gets "not found for this account",
never anything about the other order. No order at all: the FAQ answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from ..hookspecs import hookimpl
from ..models import BotAnswer
from ..orders import Order
from . import choose
from .flow import Skill, Turn
from .texts import say

_TRIGGERS = re.compile(
    r"(快递|包裹|物流|货|东西|宝贝|订单|单子).{0,6}(到哪|在哪|到了吗|到没|走到|进度|状态|更新|发了|发出)|"
    r"到哪(了|里|儿)|(查|看).{0,4}(物流|快递|包裹|单号)|^(物流|快递|物流信息|快递信息|查物流|查快递)$|(物流|快递)信息|"
    r"(快递|物流|运)单号|发货了(吗|没|嘛)|(发|寄)(了|出了|出去了)(吗|没|没有|嘛)$|还没(发货|到)|"
    r"\bwhere\b.{0,30}\b(parcel|package|order|delivery|shipment|stuff|items?)\b|\btrack(ing)?\b|"
    r"\b(shipping|delivery|order|shipment) status\b|\b(shipped|sent|dispatched) (it )?yet\b|\blogistics\b|"
    r"\b(has|is|did) (my|the) (order|parcel|package|item)s?\b.{0,20}\b(ship|shipped|sent|dispatched|arrive|arrived)\b|"
    r"\bstatus of (my|the) (order|delivery|parcel|package|shipment)\b|\bcourier updates?\b|"
    r"\b(look up|check|find) (on )?my (parcel|package|order|delivery|shipment)\b|"
    r"\bwhich city\b.{0,20}\b(parcel|package)\b"
)
# near topics the FAQ or a person handles better: signed but missing, stuck tracking, returns, refunds, policies
_EXCLUDES = re.compile(
    r"签收|没收到|没有收到|没看到|送到了|没更新|不更新|停了|不动|退货|退款|发票|预售|能发|能寄|可以发|可以寄|快点发|优先|"
    r"一起发|合并|哪家快递|\bsigned\b|\bdelivered\b|\bnever (got|received)\b|\bnot received\b|"
    r"\bdidn t (get|receive)\b|\b(hasn t|has not|haven t) (updated|changed|moved)\b|\bno (tracking )?updates?\b|"
    r"\bforever\b|\bstuck\b|\breturns?\b|\brefunds?\b|\binvoice\b|\bvia\b|\bdo you ship\b"
)


class Logistics(Skill):
    """Where the buyer's parcel is."""

    name = "logistics_tracking"  # the FAQ entry it answers in place of, so routing rules and stats see one intent
    priority = 40
    triggers = _TRIGGERS
    excludes = _EXCLUDES

    async def with_order(self, turn: Turn, order: Order) -> BotAnswer:
        return self.reply(turn, tracking_text(order, turn.lang, ZoneInfo(turn.reception.settings.hours.timezone)))

    async def step(self, turn: Turn, order: Order, state: dict[str, Any]) -> BotAnswer | None:
        return None  # the only step is choosing the order

    def question(self, turn: Turn, order: Order, state: dict[str, Any]) -> str:
        return ""


def tracking_text(order: Order, lang: str, zone: ZoneInfo) -> str:
    """Status, carrier and tracking number, and the latest tracking event."""
    text = say("track_head", lang, order_id=order.order_id, items=choose.items_of(order, lang),
               status=choose.status_of(order, lang))
    if order.carrier or order.tracking_no:
        text += say("track_carrier", lang, carrier=order.carrier or "-", tracking_no=order.tracking_no or "-")
    if order.tracking_events:
        latest = order.tracking_events[-1]
        when = latest.time.astimezone(zone)
        stamp = f"{when.month}月{when.day}日 {when:%H:%M}" if lang == "zh" else f"{when:%b} {when.day}, {when:%H:%M}"
        text += say("track_latest", lang, time=stamp, text=latest.text)
    elif order.status == "shipped":
        text += say("track_none_yet", lang)
    elif order.status in ("unpaid", "paid"):
        text += say(f"track_{order.status}", lang)
    return text


SKILL = Logistics()


@hookimpl
def register_skills(register: Callable[[Skill], None]) -> None:
    register(SKILL)

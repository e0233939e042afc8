"""Address change: "改地址 / 修改收货地址 / change my address", done by the bot while the order is unshipped.

Unpaid or paid: ask for the new address (unless the first message gave it),
read it back, and on 是 / 确认 / yes store it through the `order_update` hook
and confirm. Shipped, delivered or in after-sales: the bot can't change it;
it says so and hands over (``order_shipped``). The order's status is checked
again just before the change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from ..faq.text import has_cjk
from ..hooks import first_result
from ..hookspecs import hookimpl
from ..models import BotAnswer
from ..orders import Order
from . import choose
from .flow import Skill, Turn
from .texts import say
from .words import is_no, is_yes

log = logging.getLogger("reception.skills")

CHANGEABLE = ("unpaid", "paid")

_TRIGGERS = re.compile(
    r"(改|修改|更改|换|变更|更换|更新).{0,4}(收货|收件|寄送|送货|配送)?地址|地址.{0,6}(写错|填错|选错|错了|改|换|变)|"
    r"新地址|(寄|送|发)到(新|另|别|公司|单位)|改成?寄到|(选|填|写|打)错(了)?(收货|收件)?地址|"
    r"\bwrong\b.{0,20}\baddress\b|\b(ship|send|deliver) it to\b.{0,20}\binstead\b|\bchange where\b|"
    r"\b(change|update|edit|correct|fix|modify|amend)\b.{0,30}\baddress\b|"
    r"\baddress\b.{0,20}\b(wrong|incorrect|change|changed)\b|\bnew address\b|"
    r"\b(send|ship|deliver) it to (a |my )?(different|another|new|other)\b"
)
_GIVEN = re.compile(r"(?:改成|改为|改到|换成|换为|寄到|送到|发到)[:：]?\s*(.+)$|"
                    r"\baddress\b.{0,20}?\b(?:to|is)\b:?\s*(.+)$", re.IGNORECASE | re.DOTALL)
_ZH_PLACE = re.compile(r"[省市区县镇乡村路街巷弄号栋幢楼室]|单元|小区|大厦|花园|公寓|广场|园区")
_EN_PLACE = re.compile(r"\b(street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|"
                       r"apt|apartment|suite|floor|building|block|unit|city|district|province|zip|postcode)\b",
                       re.IGNORECASE)
_QUESTION = re.compile(r"[吗呢？?]|什么|怎么|多少")


def looks_like_address(text: str) -> bool:
    """A plausible delivery address: place words in Chinese, or a number and street words in English."""
    if not 6 <= len(text) <= 500 or _QUESTION.search(text):
        return False
    if has_cjk(text):
        return _ZH_PLACE.search(text) is not None
    words = text.split()
    return any(c.isdigit() for c in text) and len(words) >= 3 and (_EN_PLACE.search(text) is not None
                                                                 or len(words) >= 5)


def given_address(text: str) -> str | None:
    """The new address written into the first message ("地址改成杭州市…"), if any."""
    found = _GIVEN.search(text)
    address = next((g for g in found.groups() if g), "").strip() if found else ""
    return address if looks_like_address(address) else None


class AddressChange(Skill):
    """Change the delivery address of an unshipped order."""

    name = "change_address"
    priority = 30
    triggers = _TRIGGERS
    what = "addr_what"

    def carry(self, turn: Turn) -> dict[str, Any]:
        address = given_address(turn.text)
        return {"address": address} if address else {}

    def order_text(self, turn: Turn) -> str:
        found = _GIVEN.search(turn.text)
        return turn.text[:found.start()] if found else turn.text  # phone numbers in the address aren't orders

    async def with_order(self, turn: Turn, order: Order) -> BotAnswer:
        if order.status not in CHANGEABLE:
            return self.refuse_shipped(turn, order)
        address = (turn.state or {}).get("address") or given_address(turn.text)
        if address:
            return self.read_back(turn, order, address)
        state = {"step": "address", "order": order.order_id, "tries": 0}
        return self.reply(turn, self.question(turn, order, state), state)

    def read_back(self, turn: Turn, order: Order, address: str) -> BotAnswer:
        state = {"step": "confirm", "order": order.order_id, "address": address, "tries": 0}
        return self.reply(turn, self.question(turn, order, state), state)

    async def step(self, turn: Turn, order: Order, state: dict[str, Any]) -> BotAnswer | None:
        if order.status not in CHANGEABLE:
            return self.refuse_shipped(turn, order)  # it shipped while we talked
        if state["step"] == "confirm" and is_yes(turn.norm):
            return await self.change(turn, order, state["address"])
        if looks_like_address(turn.text):
            return self.read_back(turn, order, turn.text)
        if state["step"] == "confirm" and is_no(turn.norm):
            return self.reply(turn, say("addr_retry", turn.lang), {"step": "address", "order": order.order_id,
                                                                   "tries": 0})
        return None

    def question(self, turn: Turn, order: Order, state: dict[str, Any]) -> str:
        if state["step"] == "confirm":
            return (say("addr_readback", turn.lang, address=state["address"], order_id=order.order_id)
                    + "\n" + say("confirm_hint", turn.lang))
        return say("addr_ask", turn.lang, order_id=order.order_id, items=choose.items_of(order, turn.lang))

    async def change(self, turn: Turn, order: Order, address: str) -> BotAnswer:
        changed = order.model_copy(update={"address": address, "updated_at": None})
        try:
            stored = await first_result(turn.reception.hook.order_update, order=changed, reception=turn.reception)
        except Exception:
            log.exception("order_update failed for order %s", order.order_id)
            stored = None
        if stored is None:
            return self.reply(turn, say("update_failed", turn.lang), handover="order_update_failed")
        return self.reply(turn, say("addr_done", turn.lang, order_id=order.order_id, address=address))


SKILL = AddressChange()


@hookimpl
def register_skills(register: Callable[[Skill], None]) -> None:
    register(SKILL)

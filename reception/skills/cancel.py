"""Cancellation: "取消订单 / 不想要了 / cancel my order", confirmed by the bot and done by a person.

There is no "cancelled" order status, and a refund is the shop's call, so
the bot does not change the order. While the order is unshipped it asks the
buyer to confirm, then hands the confirmed request to a human
(``cancel_request``), saying truthfully that the order is not cancelled
until a colleague confirms. Shipped or later: it explains refusing the
delivery or the 7-day return and hands over (``order_shipped``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..hookspecs import hookimpl
from ..models import BotAnswer
from ..orders import Order
from . import choose
from .flow import Skill, Turn
from .texts import say
from .words import is_no, is_yes

CANCELLABLE = ("unpaid", "paid")
_ASKING = re.compile(r"[吗呢？?]|怎么|\b(how|can|could)\b", re.IGNORECASE)

_TRIGGERS = re.compile(
    r"取消.{0,4}(订单|这单|这个单|那单|一单|一个单|一个|一下)|(订单|这单|那单|单子).{0,4}(取消|撤销|撤回|不要了)|"
    r"不想要了|别发货|不要发货|撤销订单|麻烦撤销|撤销一下|下错单|(我要|帮我|申请|能|可以|怎么)取消|还没发货.{0,4}退款|"
    r"\brefund before it ships\b|\bcancel and\b|"
    r"\bcancel\b.{0,20}\b(order|it|this|that|one|purchase)\b|\bcancell?ation\b|\bdon t (ship|send) it\b|"
    r"\bno longer want\b|\bdon t want it\b|\b(ordered|order|placed) .{0,20}by (mistake|accident)\b"
)
_EXCLUDES = re.compile(r"定金|收到|退货|\bdeposit\b|\breturns?\b|\breceived\b")  # presale deposits, 7-day returns


class Cancel(Skill):
    """Ask to cancel an unshipped order."""

    name = "cancel_order"
    priority = 10
    triggers = _TRIGGERS
    excludes = _EXCLUDES
    what = "cancel_what"

    async def with_order(self, turn: Turn, order: Order) -> BotAnswer:
        if order.status not in CANCELLABLE:
            return self.refuse_shipped(turn, order)
        state = {"step": "confirm", "order": order.order_id, "tries": 0}
        return self.reply(turn, self.question(turn, order, state), state)

    def refuse_shipped(self, turn: Turn, order: Order) -> BotAnswer:
        return self.reply(turn, say("cancel_shipped", turn.lang, order_id=order.order_id,
                                    status=choose.status_of(order, turn.lang)), handover="order_shipped")

    async def step(self, turn: Turn, order: Order, state: dict[str, Any]) -> BotAnswer | None:
        if order.status not in CANCELLABLE:
            return self.refuse_shipped(turn, order)
        if is_yes(turn.norm) or (self.wants(turn) and not _ASKING.search(turn.text)):  # "是", "取消订单吧"
            refund = say("cancel_refund", turn.lang) if order.status == "paid" else ""
            return self.reply(turn, say("cancel_done", turn.lang, order_id=order.order_id, refund=refund),
                              handover="cancel_request")
        if is_no(turn.norm):
            return self.reply(turn, say("left", turn.lang))
        return None

    def question(self, turn: Turn, order: Order, state: dict[str, Any]) -> str:
        return (say("cancel_ask", turn.lang, order_id=order.order_id, items=choose.items_of(order, turn.lang),
                    status=choose.status_of(order, turn.lang)) + "\n" + say("confirm_hint", turn.lang))


SKILL = Cancel()


@hookimpl
def register_skills(register: Callable[[Skill], None]) -> None:
    register(SKILL)

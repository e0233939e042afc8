"""Spec change: "拍错尺码了 / 换个颜色 / change the size", recorded by the bot and done by a person.

The bot can't see stock or price differences, so it does not change the
order itself. While the order is unshipped it asks for the new size or
colour (unless the first message said it: "改成 L 码", "to XL"), reads it
back, and on 是 / yes hands the confirmed request to a human
(``spec_change_request``), telling the buyer truthfully that the order keeps
its current option until a colleague confirms. Shipped or later: it says it
can't and hands over (``order_shipped``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..faq.text import normalize
from ..hookspecs import hookimpl
from ..models import BotAnswer
from ..orders import Order
from . import choose
from .flow import Skill, Turn
from .texts import say
from .words import is_no, is_yes

CHANGEABLE = ("unpaid", "paid")

_TRIGGERS = re.compile(
    r"(尺码|尺寸|码数|码子|颜色|规格|型号|款式|大小|色号).{0,6}(改|换|拍错|选错|错了|弄错)|"
    r"(改|换|调)(成|为|一下|个)?.{0,4}(尺码|尺寸|码|颜色|规格|型号|款式|色)|"
    r"(拍|选|买|下)错(了)?.{0,2}(尺码|码|颜色|规格|型号|款式|色)|"
    r"\b(change|switch|swap|update|modify)\b.{0,30}\b(size|colou?r|variant|option|model|style)\b|"
    r"\bwrong (size|colou?r|variant|option|model|style)\b|\bfrom (x{0,3}s|m|x{0,3}l|\d+) to (x{0,3}s|m|x{0,3}l|\d+)\b"
)
# an exchange after delivery or a wrong item sent is after-sales, not a change before shipping
_EXCLUDES = re.compile(r"小了|大了|不喜欢|收到|发错|寄错|不合适|多久|\bsent\b|\breceived\b|\bswap it\b|"
                       r"\bthis is the wrong\b|\bdoesn t fit\b")
_GIVEN_ZH = re.compile(r"(?:改成|改为|换成|换为|调成|改到)\s*(.+?)\s*(?:吧|吗|呢|可以吗|行吗|好吗|谢谢)*$")
_GIVEN_EN = re.compile(r"\bto\s+(?:(?:a|an|the|size|colou?r)\s+)*(.+?)(?:\s+(?:please|instead|thanks))*$")
_SPEC = re.compile(r"码|号|色|款|寸|尺|cm|\d|\b(xxs|xs|s|m|l|xl|xxl|xxxl|\dxl)\b|colou?r|size|black|white|red|"
                   r"blue|green|gr[ae]y|pink|brown|beige|navy|yellow|purple|orange|khaki|small|medium|large")
_NOT_SPEC = re.compile(r"[吗？?]|\b(change|switch|swap|want|order|my)\b")


def looks_like_spec(text: str) -> bool:
    """A size or colour, not a question or a sentence about changing one."""
    norm = normalize(text)
    return 0 < len(text) <= 60 and _SPEC.search(norm) is not None and not _NOT_SPEC.search(text.casefold())


def given_spec(text: str) -> str | None:
    """The new size or colour in "改成 L 码吧" / "to XL please", if any."""
    for pattern in (_GIVEN_ZH, _GIVEN_EN):
        found = pattern.search(text.strip().rstrip("。.!！~～"))
        if found and looks_like_spec(found.group(1)):
            return found.group(1).strip()
    return None


class SpecChange(Skill):
    """Ask for a different size or colour of an unshipped order."""

    name = "change_spec"
    priority = 20
    triggers = _TRIGGERS
    excludes = _EXCLUDES
    what = "spec_what"

    def carry(self, turn: Turn) -> dict[str, Any]:
        spec = given_spec(turn.text)
        return {"spec": spec} if spec else {}

    async def with_order(self, turn: Turn, order: Order) -> BotAnswer:
        if order.status not in CHANGEABLE:
            return self.refuse_shipped(turn, order)
        spec = (turn.state or {}).get("spec") or given_spec(turn.text)
        state = {"step": "confirm" if spec else "spec", "order": order.order_id, "spec": spec, "tries": 0}
        return self.reply(turn, self.question(turn, order, state), state)

    async def step(self, turn: Turn, order: Order, state: dict[str, Any]) -> BotAnswer | None:
        if order.status not in CHANGEABLE:
            return self.refuse_shipped(turn, order)
        if state["step"] == "confirm" and is_yes(turn.norm):
            return self.reply(turn, say("spec_done", turn.lang, order_id=order.order_id, spec=state["spec"]),
                              handover="spec_change_request")
        spec = given_spec(turn.text) or (turn.text if looks_like_spec(turn.text) else None)
        if spec:
            state = {"step": "confirm", "order": order.order_id, "spec": spec, "tries": 0}
            return self.reply(turn, self.question(turn, order, state), state)
        if state["step"] == "confirm" and is_no(turn.norm):
            return self.reply(turn, say("spec_retry", turn.lang), {"step": "spec", "order": order.order_id,
                                                                   "tries": 0})
        return None

    def question(self, turn: Turn, order: Order, state: dict[str, Any]) -> str:
        items = choose.items_of(order, turn.lang)
        if state["step"] == "confirm":
            return (say("spec_readback", turn.lang, order_id=order.order_id, items=items, spec=state["spec"])
                    + "\n" + say("confirm_hint", turn.lang))
        return say("spec_ask", turn.lang, order_id=order.order_id, items=items)


SKILL = SpecChange()


@hookimpl
def register_skills(register: Callable[[Skill], None]) -> None:
    register(SKILL)

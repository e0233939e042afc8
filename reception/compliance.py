"""Wording checks on what agents send, a default plugin (`filter_outbound`) and ``POST /api/v1/compliance/check``.

The advertising law forbids absolute claims (全网最好, 最低价, 第一 …), and a
buyer's phone number or address must never be leaked in chat. Messages are
not blocked: the agent is warned before sending (the workbench asks for a
second click) and the warnings come back with the sent message.
"""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel, Field

from .core import RECEPTION, Reception
from .hookspecs import hookimpl
from .http import caller, json_response, read_body
from .models import MAX_TEXT, STRICT_BODY, Message
from .openapi import Routes

RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("absolute_claim",
     re.compile(r"全网最|最低价|最便宜|史上最|第一品牌|销量第一|排名第一|全国第一|世界第一|第一名|最佳|最好的|最高级|顶级|"
                r"国家级|绝对|百分之百|100%|万能|独一无二|"
                r"\b(best in the world|the best (price|quality|product|deal)|cheapest|lowest price|"
                r"number one|no\. ?1|#1|guaranteed|100 ?%)\b",
                re.IGNORECASE),
     "绝对化用语违反广告法（如 全网最好、最低价、第一）/ absolute claims break advertising rules"),
    ("phone_number",
     re.compile(r"(?<!\d)(1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}-?\d{7,8}|\+\d{1,3}[ -]?\d{6,12})(?!\d)"),
     "消息中含电话号码，请勿泄露买家隐私 / a phone number: never share a buyer's contact details"),
    ("address",
     re.compile(r"[\u4e00-\u9fff]{2,}(省|市|区|县|镇|路|街|大道|巷|弄)[\u4e00-\u9fff\d]{0,12}\d+(号|栋|单元|室|楼)|"
                r"\b\d{1,5} [A-Za-z ]{2,30} (street|st|road|rd|avenue|ave|lane|ln|drive|dr)\b", re.IGNORECASE),
     "消息中含详细地址，请勿泄露买家隐私 / an address: never share a buyer's contact details"),
]


def check(text: str) -> list[dict[str, str]]:
    """The wording problems in `text`, one per kind."""
    return [{"code": code, "message": message} for code, pattern, message in RULES if pattern.search(text)]


@hookimpl(trylast=True)
def filter_outbound(message: Message, reception: Reception) -> Message | None:
    warnings = check(message.text)
    return message.model_copy(update={"warnings": warnings}) if warnings else None


class CheckBody(BaseModel):
    model_config = STRICT_BODY
    text: str = Field(min_length=1, max_length=MAX_TEXT)


async def check_text(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    caller(request, reception.settings.admin.token, reception.router.book.digests())
    body = await read_body(request, CheckBody)
    return json_response({"warnings": check(body.text)})


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("POST", "/api/v1/compliance/check", check_text,
          "Wording problems in a text an agent is about to send (absolute claims, phone numbers, addresses)",
          body=CheckBody, auth="agent", errors=(400, 401, 422))


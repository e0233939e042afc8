"""The hooks no other test implements, each tried as a plugin author would, with the testing kit (`shop`)."""

from __future__ import annotations

import re

import pytest

from reception import create_app
from reception.plugin import BotAnswer, Refused, Skill, SkillTurn, hookimpl
from reception.testing import make_settings


class Wording:
    """A shop's own rule on agents' messages: WeChat ids are masked, off-platform deals refused."""

    @hookimpl(tryfirst=True)
    def filter_outbound(self, message):
        if "私下交易" in message.text:
            raise Refused("off_platform", "不能引导买家私下交易 / no deals off the platform")
        if "微信号" in message.text:
            return message.model_copy(update={"text": message.text.replace("微信号", "***")})
        return None


async def test_filter_outbound_rewrites_and_refuses_an_agents_message(shop):
    s = await shop(plugins=[Wording()])
    await s.agent("alice").status("online")
    conv = (await s.buyer("b1", "转人工"))["conversation_id"]
    sent = await s.agent("alice").reply(conv, "加我微信号 abc")
    assert sent["message"]["text"] == "加我*** abc"
    refused = await s.agent("alice").reply(conv, "我们私下交易吧", expect=422)
    assert refused["error"]["code"] == "off_platform"
    assert [m["text"] for m in await s.messages(conv) if m["sender"] == "agent"] == ["加我*** abc"]


class PlatformOrders:
    """A plugin that writes order changes to the shop platform first (here: remembers them) and lets the store
    keep its copy too (it answers None)."""

    def __init__(self) -> None:
        self.sent = []

    @hookimpl(tryfirst=True)
    async def order_update(self, order):
        self.sent.append((order.order_id, order.address))
        return None


async def test_order_update_reaches_a_platform_plugin_before_the_store(shop):
    platform = PlatformOrders()
    s = await shop(plugins=[platform])
    await s.call("POST", "/api/v1/orders", [{"order_id": "TB1", "customer_id": "b1", "status": "paid",
                                              "updated_at": "2026-11-10T10:00:00+08:00", "items": "抱枕套 ×2",
                                              "address": "浙江省杭州市西湖区文三路 1 号"}])
    await s.buyer("b1", "我想修改收货地址")
    new = "浙江省杭州市滨江区江南大道 88 号 3 幢 501 室"
    await s.buyer("b1", new)
    assert platform.sent == []  # not before the buyer confirms
    await s.buyer("b1", "是的")
    assert platform.sent == [("TB1", new)]
    assert (await s.call("GET", "/api/v1/orders/TB1"))["address"] == new  # the store kept its copy


class Pager:
    """Pages the shop owner when an assessment figure goes past its limit."""

    def __init__(self) -> None:
        self.pages = []

    @hookimpl
    def alert(self, alert):
        self.pages.append((alert["metric"], alert["hour"]))


async def test_alert_tells_a_plugin_when_the_two_minute_rate_falls(shop, shop_clock):
    pager = Pager()
    s = await shop(plugins=[pager], alerts={"min_requests": 2})
    await s.agent("alice").status("online")
    waiting = [(await s.buyer(b, "转人工"))["conversation_id"] for b in ("b1", "b2")]
    await shop_clock.advance(150)  # 08:02:30 in Shanghai: past the 2-minute rule
    for conv in waiting:
        await s.agent("alice").reply(conv, "您好，久等了")
    await shop_clock.advance(3600 - 150 + 180)  # 09:03: the 08:00 hour is judged
    assert await s.wait(lambda: pager.pages) == [("first_reply_2min_rate", 8)]


class Closer:
    """Holds something long-lived (a platform connection) and lets go of it when the server stops."""

    def __init__(self) -> None:
        self.open = False

    @hookimpl
    async def startup(self):
        self.open = True

    @hookimpl
    async def shutdown(self, reception):
        assert reception.store is not None  # the store is still open here: requests in flight may finish
        self.open = False


async def test_shutdown_lets_a_plugin_close_what_it_holds(shop):
    closer = Closer()
    s = await shop(plugins=[closer])
    assert closer.open
    await s.close()
    assert not closer.open


class Invoice(Skill):
    """A shop's own order skill: 开发票 / invoice, answered from the buyer's order."""

    name = "invoice"
    priority = 50
    triggers = re.compile(r"发票|invoice")

    async def with_order(self, turn: SkillTurn, order) -> BotAnswer:
        return self.reply(turn, f"订单 {order.order_id} 的电子发票将在发货后发送到您的邮箱。")


class InvoicePlugin:
    @hookimpl
    def register_skills(self, register):
        register(Invoice())


async def test_a_plugins_skill_answers_from_the_buyers_order_before_the_faq(shop):
    s = await shop(plugins=[InvoicePlugin()])
    await s.call("POST", "/api/v1/orders", [{"order_id": "TB7", "customer_id": "b1", "status": "paid",
                                              "updated_at": "2026-11-10T10:00:00+08:00", "items": "抱枕套 ×2"}])
    answer = await s.buyer("b1", "我要开发票")
    assert answer["replies"][0]["text"] == "订单 TB7 的电子发票将在发货后发送到您的邮箱。"
    assert answer["replies"][0]["intent"] == "invoice"
    assert (await s.buyer("b2", "我要开发票"))["replies"][0]["intent"] != "invoice"  # no order: the FAQ's turn


def test_two_skills_with_one_name_are_refused_at_start(tmp_path) -> None:
    with pytest.raises(ValueError, match="skill 'invoice' is registered twice"):
        create_app(make_settings(tmp_path), plugins=[InvoicePlugin(), InvoicePlugin()])

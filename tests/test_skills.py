"""Order skills end to end: logistics, address change, spec change and cancellation through the webhook."""

from __future__ import annotations

import asyncio

from conftest import ADMIN, send

from reception import create_app
from reception.cli import main
from reception.core import RECEPTION
from reception.testing import ADMIN_TOKEN, make_settings

EVENTS = [{"time": "2026-11-10T09:00:00+08:00", "text": "已揽收"},
          {"time": "2026-11-11T08:00:00+08:00", "text": "运输中，已到达杭州中转站"}]


def order(order_id, customer_id, status, updated_at="2026-11-10T10:00:00+08:00", **extra):
    return {"order_id": order_id, "customer_id": customer_id, "status": status, "updated_at": updated_at,
            "items": extra.pop("items", "亚麻抱枕套 燕麦米/45x45 ×2"), "address": "浙江省杭州市西湖区文三路 1 号",
            **extra}


SHIPPED = order("TB1001", "buyer-1", "shipped", carrier="中通快递", tracking_no="ZT123456", tracking_events=EVENTS)


async def post(client, *orders):
    response = await client.post("/api/v1/orders", json=list(orders), headers=ADMIN)
    assert response.status == 200, await response.text()


async def get_order(client, order_id):
    response = await client.get(f"/api/v1/orders/{order_id}", headers=ADMIN)
    assert response.status == 200
    return await response.json()


async def flow(client, conversation_id):
    return await client.app[RECEPTION].store.skill_state(conversation_id)


def said(body) -> str:
    return body["replies"][0]["text"]


async def test_logistics_answers_from_the_order_in_chinese_and_english(start):
    client = await start()
    await post(client, SHIPPED, {**SHIPPED, "order_id": "TB2001", "customer_id": "buyer-2"})
    body = await send(client, "buyer-1", "亲，我的快递到哪了？")
    reply = body["replies"][0]
    assert reply["intent"] == "logistics_tracking" and reply["confidence"] == 1.0 and body["handover"] is None
    for part in ("TB1001", "亚麻抱枕套", "已发货", "中通快递", "ZT123456", "11月11日 08:00 运输中，已到达杭州中转站"):
        assert part in reply["text"]
    english = said(await send(client, "buyer-2", "Hi, where is my parcel?"))
    for part in ("TB2001", "shipped", "ZT123456", "Nov 11, 08:00", "运输中"):
        assert part in english
    assert "已发货" not in english
    # the order named by its number, or by an order card
    assert "TB1001" in said(await send(client, "buyer-1", "TB1001 发货了吗"))
    assert "ZT123456" in said(await send(client, "buyer-1", "订单号tb1001物流到哪了"))  # typed in lower case
    card = await send(client, "buyer-2", "这个物流到哪了", card={"type": "order", "id": "TB2001"})
    assert "TB2001" in said(card) and "ZT123456" in said(card)


async def test_an_unshipped_order_says_so_and_no_order_leaves_it_to_the_faq(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"))
    assert "已付款、待发货" in said(await send(client, "buyer-1", "发货了吗"))
    faq = (await send(client, "nobody", "我的快递到哪了"))["replies"][0]
    assert faq["intent"] == "logistics_tracking" and "查看物流" in faq["text"] and faq["confidence"] < 1.0


async def test_several_open_orders_ask_which_then_answer(start):
    client = await start()
    await post(client, order("A1", "buyer-1", "paid", "2026-11-10T08:00:00+08:00", items="香薰蜡烛 檀木"),
               {**SHIPPED, "order_id": "A2", "updated_at": "2026-11-10T09:00:00+08:00"},
               order("A3", "buyer-1", "delivered", "2026-11-10T10:00:00+08:00"))
    asked = await send(client, "buyer-1", "我的快递到哪了")
    question = said(asked)
    assert "2 个进行中的订单" in question and "1. A2" in question and "2. A1：香薰蜡烛 檀木" in question
    assert "A3" not in question  # delivered: not open
    assert (await flow(client, asked["conversation_id"]))[0] == "logistics_tracking"
    answer = await send(client, "buyer-1", "第二个")
    assert "A1" in said(answer) and "已付款、待发货" in said(answer)
    assert await flow(client, asked["conversation_id"]) is None
    # in English, by position; or by naming an item
    assert "1. A2" in said(await send(client, "buyer-1", "where is my order?"))
    assert "ZT123456" in said(await send(client, "buyer-1", "the first one"))
    await send(client, "buyer-1", "查物流")
    assert "A1" in said(await send(client, "buyer-1", "香薰蜡烛那个"))


async def test_another_buyers_order_number_reveals_nothing(start):
    client = await start()
    await post(client, SHIPPED, order("B1", "bob", "paid", items="棉麻桌布"))
    theirs = said(await send(client, "bob", "TB1001 到哪了"))
    unknown = said(await send(client, "bob", "TB9999 到哪了"))
    assert "没有找到订单 TB1001" in theirs and "转人工" in theirs
    assert theirs == unknown.replace("TB9999", "TB1001")  # exactly like an unknown number
    for secret in ("中通", "ZT123456", "抱枕", "杭州", "已发货"):
        assert secret not in theirs
    english = said(await send(client, "carol", "where is my order TB1001"))
    assert "can't find order TB1001 for this account" in english and "ZT123456" not in english


async def test_address_change_asks_reads_back_confirms_and_updates(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"))
    asked = await send(client, "buyer-1", "亲，我想修改收货地址")
    assert "TB1" in said(asked) and "新的收货地址" in said(asked) and asked["replies"][0]["intent"] == "change_address"
    new = "浙江省杭州市滨江区江南大道 88 号 3 幢 501 室 张三 13800000000"
    readback = said(await send(client, "buyer-1", new))
    assert new in readback and "确认" in readback
    assert (await get_order(client, "TB1"))["address"] == "浙江省杭州市西湖区文三路 1 号"  # not before "是"
    done = await send(client, "buyer-1", "是的")
    assert "已为您把订单 TB1 的收货地址改为" in said(done) and done["handover"] is None
    stored = await get_order(client, "TB1")
    assert stored["address"] == new and stored["status"] == "paid"
    assert await flow(client, done["conversation_id"]) is None


async def test_an_address_in_the_first_message_and_a_correction_in_english(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "unpaid"))
    readback = said(await send(client, "buyer-1", "Please change my address to 12 Baker Street, London NW1 6XE"))
    assert "12 Baker Street, London NW1 6XE" in readback and "yes" in readback
    assert "send me the correct address" in said(await send(client, "buyer-1", "no"))
    assert "221B Baker Street" in said(await send(client, "buyer-1", "221B Baker Street, London NW1 6XE"))
    assert "Done" in said(await send(client, "buyer-1", "yes please"))
    assert (await get_order(client, "TB1"))["address"] == "221B Baker Street, London NW1 6XE"


async def test_a_shipped_order_is_not_changed_and_the_buyer_is_handed_over(start):
    client = await start()
    await post(client, SHIPPED)
    body = await send(client, "buyer-1", "帮我改一下地址")
    assert body["handover"]["reason"] == "order_shipped"
    assert "已发货" in said(body) and "不能由我直接修改" in said(body)  # the answer is sent, then the handover
    assert body["status"] != "bot"
    assert (await get_order(client, "TB1001"))["address"] == SHIPPED["address"]


async def test_never_mind_leaves_the_flow(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"))
    asked = await send(client, "buyer-1", "改地址")
    left = await send(client, "buyer-1", "算了")
    assert "订单保持不变" in said(left) and left["handover"] is None
    assert await flow(client, asked["conversation_id"]) is None
    await send(client, "buyer-1", "浙江省杭州市滨江区江南大道 88 号")  # no longer read as the new address
    assert (await get_order(client, "TB1"))["address"] == "浙江省杭州市西湖区文三路 1 号"
    faq = await send(client, "buyer-2", "can I change my shipping address")  # no order: the FAQ's turn
    assert faq["replies"][0]["intent"] == "change_address" and faq["replies"][0]["confidence"] < 1.0
    await send(client, "buyer-1", "Change my delivery address")
    assert "stopped there" in said(await send(client, "buyer-1", "never mind"))


async def test_an_unclear_answer_is_asked_again_once_then_handed_over(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"))
    asked = await send(client, "buyer-1", "改地址")
    again = await send(client, "buyer-1", "你好呀")
    assert said(again).startswith("抱歉，我没看明白～") and "新的收货地址" in said(again)
    assert again["handover"] is None
    out = await send(client, "buyer-1", "哈哈哈")
    assert out["handover"]["reason"] == "skill_unclear" and "转接人工客服" in said(out)
    assert await flow(client, asked["conversation_id"]) is None


async def test_a_restart_keeps_the_flow(aiohttp_client, tmp_path, clock):
    settings = make_settings(tmp_path)
    first = await aiohttp_client(create_app(settings, clock=clock))
    await post(first, order("TB1", "buyer-1", "paid"))
    await send(first, "buyer-1", "我要改收货地址")
    await first.close()
    second = await aiohttp_client(create_app(settings, clock=clock))
    new = "上海市浦东新区世纪大道 100 号"
    assert new in said(await send(second, "buyer-1", new))
    await send(second, "buyer-1", "确认")
    assert (await get_order(second, "TB1"))["address"] == new


async def test_a_flow_is_forgotten_after_half_an_hour(start, clock):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"))
    await send(client, "buyer-1", "改地址")
    await clock.advance(31 * 60)
    await send(client, "buyer-1", "上海市浦东新区世纪大道 100 号")
    assert (await get_order(client, "TB1"))["address"] == "浙江省杭州市西湖区文三路 1 号"


async def test_asking_for_a_person_or_another_topic_ends_the_flow(start):
    client = await start()
    await post(client, SHIPPED, order("TB2002", "buyer-1", "paid", "2026-11-09T10:00:00+08:00"))
    asked = await send(client, "buyer-1", "TB2002 改地址")
    switched = await send(client, "buyer-1", "TB1001 的快递到哪了")
    assert "ZT123456" in said(switched) and await flow(client, asked["conversation_id"]) is None
    await send(client, "buyer-1", "TB2002 改地址")
    human = await send(client, "buyer-1", "转人工")
    assert human["handover"]["reason"] == "requested"
    assert await flow(client, asked["conversation_id"]) is None


async def test_spec_change_is_confirmed_and_handed_to_a_person(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"), order("TB2", "buyer-2", "paid"))
    readback = said(await send(client, "buyer-1", "尺码拍错了，帮我改成 L 码吧"))
    assert "「L 码」" in readback and "TB1" in readback
    done = await send(client, "buyer-1", "是")
    assert done["handover"]["reason"] == "spec_change_request"
    assert "已记录" in said(done) and "还是原来的规格" in said(done)
    assert (await get_order(client, "TB1"))["items"][0]["spec"] == "燕麦米/45x45"  # a person changes it
    assert "size or colour" in said(await send(client, "buyer-2", "can I change the size on my order?"))
    assert "\"XL\"" in said(await send(client, "buyer-2", "XL"))


async def test_cancellation_is_confirmed_and_handed_to_a_person(start):
    client = await start()
    await post(client, order("TB1", "buyer-1", "paid"), SHIPPED | {"customer_id": "buyer-2"})
    asked = said(await send(client, "buyer-1", "我要取消订单"))
    assert "确认要取消订单 TB1" in asked
    done = await send(client, "buyer-1", "确认取消")
    assert done["handover"]["reason"] == "cancel_request"
    assert "还没有取消" in said(done) and "原路退回" in said(done)
    assert (await get_order(client, "TB1"))["status"] == "paid"
    shipped = await send(client, "buyer-2", "I want to cancel my order")
    assert shipped["handover"]["reason"] == "order_shipped" and "7 days" in said(shipped)


async def test_orders_imported_from_a_csv_are_answered(start, tmp_path, database):
    csv = ("order_id,customer_id,status,items,address,carrier,tracking_no,tracking_events\n"
           'TB7001,buyer-7,shipped,香薰蜡烛 檀木 ×3,北京市朝阳区,顺丰速运,SF7001,'
           '"[{""time"": ""2026-11-10 20:00"", ""text"": ""快件已到达北京顺义集散中心""}]"\n')
    (tmp_path / "orders.csv").write_text(csv, encoding="utf-8")
    config = tmp_path / "reception.toml"
    config.write_text(f'[admin]\ntoken = "{ADMIN_TOKEN}"\n\n[store]\npath = "reception.db"\n', encoding="utf-8")
    args = ["orders", "import", str(tmp_path / "orders.csv"), "--config", str(config), "--db", database]
    assert await asyncio.to_thread(main, args) == 0
    client = await start()
    reply = said(await send(client, "buyer-7", "查一下物流"))
    for part in ("TB7001", "香薰蜡烛 檀木 ×3", "顺丰速运", "SF7001", "11月10日 20:00 快件已到达北京顺义集散中心"):
        assert part in reply


async def test_a_bare_number_keeps_the_conversations_language(client):
    from conftest import send

    first = await send(client, "lang-buyer", "你好")
    assert first["replies"][0]["intent"] == "greeting"
    second = await send(client, "lang-buyer", "2")
    assert all(not r["text"].isascii() for r in second["replies"])  # still answered in Chinese

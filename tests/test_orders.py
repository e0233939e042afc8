"""Orders: the import command, the admin API, the lookup hooks and routing by order state, on a real SQLite file."""

from __future__ import annotations

import asyncio
import json

from conftest import ADMIN, agent, bearer, send, set_status

from reception import hookimpl
from reception.cli import main
from reception.core import RECEPTION
from reception.hooks import first_result
from reception.models import BotAnswer
from reception.orders import Order, find_order
from reception.testing import ADMIN_TOKEN

HEADER = "order_id,customer_id,status,items,address,carrier,tracking_no,tracking_events\n"
GOOD_CSV = HEADER + (
    'TB1001,buyer-1,shipped,亚麻抱枕套 燕麦米/45x45 ×2,"浙江省杭州市西湖区文三路 1 号\n3 幢 201 室",中通快递,ZT123456,'
    '"[{""time"": ""2026-11-10 09:00"", ""text"": ""已揽收""},'
    ' {""time"": ""2026-11-11T08:00:00+08:00"", ""text"": ""运输中，已到达杭州中转站""}]"\n'
    'TB1002,buyer-2,paid,"[{""name"": ""棉麻桌布"", ""spec"": ""颜色:燕麦米; 尺寸:140x180"", ""qty"": 1}]",'
    "上海市浦东新区世纪大道 100 号,,,\n"
    "TB1003,buyer-1,unpaid,香薰蜡烛 檀木 ×3 | 火柴,,,,\n"
)
# line 2 is good (and spans lines 2-3); 4: bad status; 5: a missing column; 6: bad JSON in tracking_events
BAD_CSV = HEADER + (
    'TB2001,buyer-1,paid,抱枕芯 45x45,"北京市朝阳区\n望京 SOHO",,,\n'
    "TB2002,buyer-2,已发货,抱枕芯,北京市,顺丰,SF1,\n"
    "TB2003,buyer-3,paid,抱枕芯\n"
    'TB2004,buyer-4,shipped,抱枕芯,北京市,顺丰,SF2,"[{""time"": ""2026-11-10"", ""text"": 已揽收}]"\n'
)


def _shop(tmp_path):
    config = tmp_path / "reception.toml"
    config.write_text(f'[admin]\ntoken = "{ADMIN_TOKEN}"\n\n[store]\npath = "reception.db"\n', encoding="utf-8")
    return config


def _import(tmp_path, content: str, *flags: str, name: str = "orders.csv") -> int:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return main(["orders", "import", str(path), "--config", str(_shop(tmp_path)), *flags])


async def _imported(tmp_path, database: str, content: str, *flags: str, name: str = "orders.csv") -> int:
    # the command runs its own event loop; give it a thread
    return await asyncio.to_thread(_import, tmp_path, content, "--db", database, *flags, name=name)


async def _get(client, order_id: str):
    response = await client.get(f"/api/v1/orders/{order_id}", headers=ADMIN)
    return response.status, await response.json()


async def test_import_a_chinese_csv_and_read_it_back(start, tmp_path, capsys, database):
    assert await _imported(tmp_path, database, GOOD_CSV) == 0
    out = capsys.readouterr().out
    assert out.startswith("imported 3 orders from orders.csv into ") and out.count("\n") == 1
    client = await start()
    status, order = await _get(client, "TB1001")
    assert status == 200
    assert order["customer_id"] == "buyer-1" and order["status"] == "shipped"
    assert order["items"] == [{"name": "亚麻抱枕套", "spec": "燕麦米/45x45", "qty": 2}]
    assert order["address"] == "浙江省杭州市西湖区文三路 1 号\n3 幢 201 室" and order["carrier"] == "中通快递"
    assert order["tracking_events"] == [
        {"time": "2026-11-10T09:00:00+08:00", "text": "已揽收"},  # no offset: the shop's timezone
        {"time": "2026-11-11T08:00:00+08:00", "text": "运输中，已到达杭州中转站"}]
    _, tablecloth = await _get(client, "TB1002")
    assert tablecloth["items"] == [{"name": "棉麻桌布", "spec": "颜色:燕麦米; 尺寸:140x180", "qty": 1}]
    assert tablecloth["carrier"] is None and tablecloth["tracking_events"] == []
    _, candles = await _get(client, "TB1003")
    assert candles["items"] == [{"name": "香薰蜡烛", "spec": "檀木", "qty": 3}, {"name": "火柴", "spec": "", "qty": 1}]


async def test_a_bad_row_is_reported_by_line_and_nothing_is_imported(start, tmp_path, capsys, database):
    assert await _imported(tmp_path, database, BAD_CSV) == 2
    err = capsys.readouterr().err
    assert "orders.csv line 4: status: Input should be 'unpaid', 'paid', 'shipped', 'delivered' or 'after_sale'" in err
    assert "orders.csv line 5: address, carrier, tracking_no: missing" in err
    assert "orders.csv line 6: tracking_events: is not a valid JSON list" in err
    assert "line 2" not in err
    assert "nothing imported: 3 of 4 rows in orders.csv are bad; fix them, or pass --partial" in err
    client = await start()
    assert (await _get(client, "TB2001"))[0] == 404


async def test_partial_imports_the_good_rows_and_reports_the_rest(start, tmp_path, capsys, database):
    assert await _imported(tmp_path, database, BAD_CSV, "--partial") == 0
    captured = capsys.readouterr()
    assert "orders.csv line 4: status" in captured.err and "orders.csv line 6: tracking_events" in captured.err
    assert captured.out.startswith("imported 1 order from orders.csv into ")
    assert captured.out.endswith("; skipped 3 bad rows\n")
    client = await start()
    status, order = await _get(client, "TB2001")
    assert status == 200 and order["address"] == "北京市朝阳区\n望京 SOHO"
    assert order["items"] == [{"name": "抱枕芯", "spec": "45x45", "qty": 1}]  # "45x45" is a size, not ×45
    assert (await _get(client, "TB2002"))[0] == 404


def test_a_file_level_problem_stops_the_import(tmp_path, capsys):
    assert _import(tmp_path, "order_id,customer_id,status,items,address,tracking_no,note\n1,b,paid,x,,,\n") == 2
    err = capsys.readouterr().err
    assert "line 1 (the header): missing column carrier; unknown column note" in err
    assert _import(tmp_path, "", "--partial") == 2
    assert "is empty" in capsys.readouterr().err


def test_json_files_report_the_index(tmp_path, capsys):
    rows = [{"order_id": "J1", "customer_id": "b1", "status": "paid", "items": [{"name": "杯子", "qty": 2}]},
            {"order_id": "J1", "customer_id": "b1", "status": "paid", "items": "杯子"},
            {"order_id": "J3", "customer_id": "b1", "status": "paid", "items": [{"name": "杯子", "qty": 0}],
             "colour": "red"}]
    assert _import(tmp_path, json.dumps(rows, ensure_ascii=False), name="orders.json") == 2
    err = capsys.readouterr().err
    assert "orders.json [1]: order_id: 'J1' is already used by [0]" in err
    assert "orders.json [2]: items.0.qty: Input should be greater than or equal to 1" in err
    assert "orders.json [2]: colour: Extra inputs are not permitted" in err


async def test_post_and_get_round_trip(start):
    client = await start()
    order = {"order_id": "TB9001", "customer_id": "买家小王", "status": "shipped",
             "items": [{"name": "亚麻抱枕套", "spec": "颜色:燕麦米; 尺寸:45x45", "qty": 2}],
             "address": "杭州市", "carrier": "顺丰", "tracking_no": "SF1001",
             "tracking_events": [{"time": "2026-11-11T09:00:00+08:00", "text": "已发货"}]}
    response = await client.post("/api/v1/orders", json=order, headers=ADMIN)
    assert response.status == 200, await response.text()
    assert (await response.json())["saved"] == 1
    status, stored = await _get(client, "TB9001")
    assert status == 200
    assert {k: v for k, v in stored.items() if k != "updated_at"} == order
    assert stored["updated_at"].startswith("2026-11-11T00:00:00")  # the virtual clock
    response = await client.post("/api/v1/orders", json=[{**order, "status": "delivered"},
                                                         {**order, "order_id": "TB9002"}], headers=ADMIN)
    assert (await response.json())["saved"] == 2
    assert (await _get(client, "TB9001"))[1]["status"] == "delivered"


async def test_a_bad_order_in_a_list_stores_nothing(start):
    client = await start()
    good = {"order_id": "A1", "customer_id": "b1", "status": "paid", "items": "杯子 ×1"}
    response = await client.post("/api/v1/orders", headers=ADMIN, json=[
        good, {**good, "order_id": "A2", "status": "lost"}, {**good, "order_id": "x" * 65}])
    assert response.status == 422
    error = (await response.json())["error"]
    assert {(f["index"], f["field"]) for f in error["fields"]} == {(1, "status"), (2, "order_id")}
    assert "2 of 3 orders are invalid" in error["message"]
    assert (await _get(client, "A1"))[0] == 404
    single = await client.post("/api/v1/orders", headers=ADMIN, json={**good, "items": []})
    assert single.status == 422
    assert (await single.json())["error"]["fields"][0]["field"] == "items"
    assert (await client.post("/api/v1/orders", headers=ADMIN, data=b"[1,")).status == 400


async def test_orders_need_the_admin_token(start):
    client = await start(agents=[agent("alice", ["pre_sales"])])
    good = {"order_id": "A1", "customer_id": "b1", "status": "paid", "items": "杯子"}
    assert (await client.post("/api/v1/orders", json=good)).status == 401
    assert (await client.post("/api/v1/orders", json=good, headers=bearer("alice-token"))).status == 401
    assert (await client.get("/api/v1/orders/A1", headers=bearer("alice-token"))).status == 401
    assert (await _get(client, "A1"))[0] == 404
    status, body = await _get(client, "no-such-order")
    assert status == 404 and body["error"]["code"] == "unknown_order"
    paths = (await (await client.get("/api/openapi.json")).json())["paths"]
    assert "post" in paths["/api/v1/orders"] and "get" in paths["/api/v1/orders/{order_id}"]


class OrderSkill:
    """A tiny skill: "订单 X" looks order X up for the buyer who asks, "我的订单" their latest open one."""

    @hookimpl(tryfirst=True)
    async def bot_answer(self, message, conversation, reception):
        text = message.text.strip()
        if not text.startswith(("订单", "我的订单")):
            return None
        order_id = text.removeprefix("订单").strip() if text.startswith("订单 ") else None
        order = await first_result(reception.hook.order_lookup, customer_id=conversation.customer_id,
                                   order_id=order_id, reception=reception)
        answer = f"{order.order_id}: {order.status}" if order else "没有找到这个订单"
        return BotAnswer(text=answer, intent="order_status", confidence=0.99)


async def _post(client, *orders):
    response = await client.post("/api/v1/orders", json=list(orders), headers=ADMIN)
    assert response.status == 200, await response.text()


def _order(order_id, customer_id, status, updated_at="2026-11-10T10:00:00+08:00"):
    return {"order_id": order_id, "customer_id": customer_id, "status": status, "items": "抱枕",
            "updated_at": updated_at}


async def test_order_lookup_never_returns_another_buyers_order(start):
    client = await start(plugins=(OrderSkill(),))
    await _post(client, _order("T1", "alice", "shipped", "2026-11-10T10:00:00+08:00"),
                _order("T2", "alice", "delivered", "2026-11-10T12:00:00+08:00"),
                _order("T3", "bob", "paid"))
    assert (await send(client, "alice", "订单 T1"))["replies"][0]["text"] == "T1: shipped"
    assert (await send(client, "bob", "订单 T1"))["replies"][0]["text"] == "没有找到这个订单"
    assert (await send(client, "bob", "订单 nope"))["replies"][0]["text"] == "没有找到这个订单"
    # no id: the most recent open order (T2 is newer, but delivered)
    assert (await send(client, "alice", "我的订单"))["replies"][0]["text"] == "T1: shipped"
    assert (await send(client, "carol", "我的订单"))["replies"][0]["text"] == "没有找到这个订单"


class Careless:
    """A plugin that breaks the rule: it answers with the order whoever asks."""

    @hookimpl(tryfirst=True)
    async def order_lookup(self, order_id, reception):
        return await reception.store.order(order_id) if order_id else None


async def test_find_order_refuses_another_buyers_order_even_from_a_careless_plugin(start):
    client = await start(plugins=(Careless(),))
    await _post(client, _order("T1", "alice", "paid"))
    reception = client.app[RECEPTION]
    assert (await find_order(reception, "alice", "T1")).order_id == "T1"
    assert await find_order(reception, "bob", "T1") is None


async def test_order_update_stores_a_change_and_the_order_state_follows(start):
    client = await start()
    reception = client.app[RECEPTION]

    async def state(customer_id):
        return await first_result(reception.hook.buyer_order_state, customer_id=customer_id, channel="webhook",
                                  reception=reception)

    assert await state("alice") == "none"
    order = Order(order_id="T1", customer_id="alice", status="paid", items=[{"name": "抱枕"}])
    saved = await first_result(reception.hook.order_update, order=order, reception=reception)
    assert saved.updated_at == reception.clock.now()
    assert await state("alice") == "unshipped"
    for status, expected in (("unpaid", "unpaid"), ("shipped", "shipped"), ("delivered", "shipped"),
                             ("after_sale", "after_sale")):
        await first_result(reception.hook.order_update, reception=reception,
                           order=order.model_copy(update={"status": status}))
        assert await state("alice") == expected
    assert (await reception.store.order("T1")).status == "after_sale"


async def test_a_shipped_buyer_goes_to_after_sales(start):
    client = await start(
        agents=[agent("alice", ["pre_sales"]), agent("carol", ["after_sales"])],
        routing={"rules": [{"group": "after_sales", "order_states": ["shipped", "after_sale"]},
                           {"group": "pre_sales"}]})
    await _post(client, _order("T1", "shipped-buyer", "shipped"), _order("T2", "paid-buyer", "paid"))
    for name in ("alice", "carol"):
        await set_status(client, name, "online")
    reception = client.app[RECEPTION]
    for customer_id, holder in (("shipped-buyer", "shop:carol"), ("paid-buyer", "shop:alice"),
                                ("new-buyer", "shop:alice")):
        body = await send(client, customer_id, "转人工")
        assert body["status"] == "assigned"
        assert reception.router.active[body["conversation_id"]].agent_id == holder


async def test_the_agent_serving_a_buyer_sees_their_orders_and_nobody_else_does(start):
    from conftest import agent, bearer, send, set_status

    client = await start(agents=[agent("alice", ["pre_sales"]), agent("bob", ["pre_sales"])])
    order = {"order_id": "TB1001", "customer_id": "buyer-9", "status": "shipped", "items": "亚麻抱枕套 燕麦米 ×2",
             "carrier": "顺丰", "tracking_no": "SF123"}
    assert (await client.post("/api/v1/orders", json=order, headers=ADMIN)).status == 200
    await set_status(client, "alice", "online")
    cid = (await send(client, "buyer-9", "转人工"))["conversation_id"]
    mine = await client.get(f"/api/v1/conversations/{cid}/orders", headers=bearer("alice-token"))
    assert [o["order_id"] for o in (await mine.json())["orders"]] == ["TB1001"]
    theirs = await client.get(f"/api/v1/conversations/{cid}/orders", headers=bearer("bob-token"))
    assert theirs.status == 403

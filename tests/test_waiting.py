"""Issue 15 §1–§3 through the real app: agents see and take waiting buyers, labels that tell the truth, who the
buyer is. Virtual clock from 2026-11-11 08:00 Shanghai (00:00 UTC); the pages' side is in test_browser_waiting.py.
"""

from __future__ import annotations

import json

from conftest import ADMIN, agent, bearer, reply, send, set_status

from reception.buyers import device_of, nickname
from reception.metrics.figures import local_minute

TEAM = [agent("alice", ["pre_sales"], max_concurrent=1), agent("bob", ["pre_sales"]),
        agent("carol", ["after_sales"])]
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")


async def get(client, path: str, who: str | None = None) -> dict:
    response = await client.get(path, headers=bearer(f"{who}-token") if who else ADMIN)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_an_agent_sees_the_waiting_buyers_of_their_groups_and_takes_one_by_the_rules(start):
    client = await start(agents=TEAM, routing={"rules": [{"entries": ["order"], "group": "after_sales"}]})
    # nobody online: the buyers who ask wait in the pool
    asked = await send(client, "b1", "转人工", customer_name="小王")
    assert asked["status"] == "offline"
    other = await send(client, "b2", "转人工", entry="order")  # the after-sales group's buyer
    pool = await get(client, "/api/v1/offline-pool", "alice")
    [kept] = pool["pool"]
    assert pool["total"] == 1 and kept["conversation_id"] == asked["conversation_id"]
    assert kept["handover_reason"] == "requested" and kept["wait_seconds"] == 0.0
    assert kept["buyer"]["display_name"] == "小王" and kept["last_message"]["text"] == "转人工"
    # an offline agent cannot take anyone; carol may not take another group's buyer
    refused = await client.post(f"/api/v1/conversations/{asked['conversation_id']}/accept", json={},
                                headers=bearer("alice-token"))
    assert refused.status == 409 and (await refused.json())["error"]["code"] == "agent_offline"
    await set_status(client, "alice", "online")
    wrong = await client.post(f"/api/v1/conversations/{other['conversation_id']}/accept", json={},
                              headers=bearer("alice-token"))
    assert wrong.status == 403 and (await wrong.json())["error"]["code"] == "not_your_group"
    taken = await client.post(f"/api/v1/conversations/{asked['conversation_id']}/accept", json={},
                              headers=bearer("alice-token"))
    assert taken.status == 200
    mine = (await get(client, "/api/v1/agents/shop:alice/conversations", "alice"))["conversations"]
    assert mine[0]["assigned"]["via"] == "pool" and mine[0]["assigned"]["by"] == "shop:alice"
    notes = [m["text"] for m in (await get(client, f"/api/v1/conversations/{asked['conversation_id']}/messages"))
             ["messages"] if m.get("kind") == "agent_notice"]
    assert notes == ["shop:alice 从离线留言接入 / shop:alice took this buyer from offline messages"]
    # alice is at her maximum: a queued buyer is refused to her, bob takes them
    queued = await send(client, "b3", "转人工")
    assert queued["status"] == "queued"
    queue = await get(client, "/api/v1/queue?limit=5", "bob")
    assert queue["total"] == 1 and queue["queue"][0]["position"] == 1
    full = await client.post(f"/api/v1/conversations/{queued['conversation_id']}/accept", json={},
                             headers=bearer("alice-token"))
    assert full.status == 409 and (await full.json())["error"]["code"] == "agent_at_capacity"
    # carol sees her group's pool only
    assert [c["conversation_id"] for c in (await get(client, "/api/v1/offline-pool", "carol"))["pool"]] == \
        [other["conversation_id"]]
    bad = await client.get("/api/v1/queue?limit=0", headers=ADMIN)
    assert bad.status == 422 and "limit" in (await bad.json())["error"]["message"]


async def test_the_admin_and_the_pool_run_are_named_on_the_assignment(start, clock):
    client = await start(agents=TEAM)
    first = await send(client, "b1", "转人工")
    second = await send(client, "b2", "人工客服")
    await set_status(client, "bob", "online")
    response = await client.post("/api/v1/offline-pool/assign", headers=ADMIN,
                                 json={"conversation_ids": [first["conversation_id"]], "agent_id": "shop:bob"})
    assert response.status == 200
    run = await client.post("/api/v1/offline-pool/run", headers=ADMIN)
    assert (await run.json())["run"]["assigned"] == 1
    views = {c["conversation_id"]: c for c in (await get(client, "/api/v1/agents/shop:bob/conversations", "bob"))
             ["conversations"]}
    assert views[first["conversation_id"]]["assigned"]["by"] == "admin"
    assert views[second["conversation_id"]]["assigned"]["by"] == "system auto-assign"
    notes = {}
    for cid in views:
        messages = (await get(client, f"/api/v1/conversations/{cid}/messages"))["messages"]
        notes[cid] = [m["text"] for m in messages if m.get("kind") == "agent_notice"]
    assert notes[first["conversation_id"]] == ["管理员从离线留言分配 / assigned by the admin from offline messages"]
    assert notes[second["conversation_id"]] == ["离线留言自动分配 / assigned from offline messages"]


async def test_group_agents_hear_of_waiting_buyers_on_their_socket(start):
    client = await start(agents=TEAM)
    bob = await client.ws_connect("/api/v1/agents/shop:bob/ws?token=bob-token")
    carol = await client.ws_connect("/api/v1/agents/shop:carol/ws?token=carol-token")
    assert (await bob.receive_json())["type"] == "agent" and (await carol.receive_json())["type"] == "agent"
    await send(client, "b1", "转人工")  # no group: every agent may take the buyer
    notice = await bob.receive_json(timeout=5)
    assert notice["type"] == "changed" and notice["waiting"] is True
    assert (await carol.receive_json(timeout=5))["waiting"] is True
    await bob.close()
    await carol.close()


async def test_the_buyer_is_named_placed_and_counted(start):
    client = await start(agents=TEAM)
    session = await (await client.post("/api/v1/webchat/session")).json()
    ws = await client.ws_connect(f"/api/v1/webchat/ws?token={session['token']}", headers={"User-Agent": IPHONE})
    await ws.receive_json()
    await ws.send_json({"type": "message", "client_id": "c1", "text": "转人工",
                        "page": {"url": "https://shop.example/p/42?ref=x", "title": "<b>保温杯</b> 500ml"}})
    while (await ws.receive_json(timeout=5))["type"] != "status":
        pass
    await ws.send_json({"type": "message", "client_id": "c2", "page": {"url": "file:///etc/passwd", "title": "x"},
                        "card": {"type": "product", "id": "SKU-42"}})  # a bad page URL never refuses a message
    while (await ws.receive_json(timeout=5))["type"] != "status":
        pass
    await ws.close()
    [kept] = (await get(client, "/api/v1/offline-pool"))["pool"]
    buyer = kept["buyer"]
    tag = nickname("webchat", session["customer_id"])
    assert buyer["display_name"] == f"买家·{tag}" and buyer["display_name_en"] == f"Buyer·{tag}" and len(tag) == 4
    assert buyer["page_url"] == "https://shop.example/p/42?ref=x" and buyer["page_title"] == "<b>保温杯</b> 500ml"
    assert buyer["device"] == {"kind": "phone", "os": "iOS", "browser": "Safari"}
    assert buyer["card"] == {"type": "product", "id": "SKU-42"} and buyer["lang"] == "zh"
    assert buyer["earlier_conversations"] == 0 and buyer["first_contact"].startswith("2026-11-11T00:00")
    assert kept["last_message"]["card"] == {"type": "product", "id": "SKU-42"}
    # a returning buyer: the earlier conversation is counted, the name is the platform's
    await set_status(client, "bob", "online")
    first = await send(client, "w1", "转人工", customer_name="Ann")
    await reply(client, first["conversation_id"], "bob")
    await client.post(f"/api/v1/conversations/{first['conversation_id']}/close", headers=ADMIN)
    await send(client, "w1", "satisfied")
    again = await send(client, "w1", "转人工 again please", customer_name="Ann")
    [view] = [c for c in (await get(client, "/api/v1/agents/shop:bob/conversations", "bob"))["conversations"]
              if c["conversation_id"] == again["conversation_id"]]
    assert view["buyer"]["display_name"] == "Ann" and view["buyer"]["earlier_conversations"] == 1


def test_devices_are_coarse():
    assert device_of(IPHONE) == {"kind": "phone", "os": "iOS", "browser": "Safari"}
    assert device_of("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/124.0 Safari/537.36 Edg/124.0") == {"kind": "desktop", "os": "Windows", "browser": "Edge"}
    assert device_of("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36 "
                     "MicroMessenger/8.0") == {"kind": "phone", "os": "Android", "browser": "WeChat"}
    assert device_of(None) is None


async def test_todays_handovers_count_sessions_and_the_rates_come_from_the_metrics(start, clock):
    client = await start(agents=TEAM)
    await set_status(client, "bob", "online")
    one = await send(client, "b1", "转人工")
    await send(client, "b1", "转人工")  # a second vote of the same session
    await send(client, "b2", "质量太差了")
    await send(client, "b2", "转人工")
    await clock.advance(3)
    await reply(client, one["conversation_id"], "bob")
    stats = await get(client, "/api/v1/stats/today")
    assert stats["human_requests"] == 2 and sum(stats["handovers"].values()) == 2
    assert stats["handovers"] == {"requested": 1, "angry": 1}
    assessment = (await get(client, "/api/v1/metrics/assessment"))
    assert stats["assessment"]["human_requests"] == assessment["human_requests"] == 2
    assert stats["first_reply_2min_rate"] == stats["assessment"]["first_reply_2min_rate"] == 0.5
    assert stats["assessment"]["avg_response_seconds"] is not None and stats["timezone"] == "Asia/Shanghai"
    assert sum(h["handovers"] for h in stats["by_hour"]) == 2


async def test_the_pages_learn_the_demo_and_the_timezone_without_a_token(start):
    client = await start(agents=TEAM, server={"demo": True})
    setup = await (await client.get("/api/v1/web/setup")).json()
    assert setup == {"demo": True, "timezone": "Asia/Shanghai", "agents": 3}


def test_the_report_says_when_in_the_shops_time_to_the_minute(monkeypatch):
    from reception.metrics import html

    assert local_minute("2026-11-11T00:05:42.123456+00:00", "Asia/Shanghai") == "2026-11-11 08:05 Asia/Shanghai"
    monkeypatch.setattr(html, "_intent_parts", lambda intents: [])
    page = html.assessment_page(json.loads(json.dumps(_assessment())), {})
    assert "2026-11-11 08:05 Asia/Shanghai" in page and "00:05:42.123456" not in page


def _assessment() -> dict:
    from datetime import date, datetime, timezone

    from reception.config import load_settings
    from reception.metrics.assessment import report

    settings = load_settings(None, env={})
    return report({"sessions": [], "turns": [], "sessions_by_agent": [], "turns_by_agent": []}, settings,
                  date(2026, 11, 11), date(2026, 11, 11), [], datetime(2026, 11, 11, 0, 5, 42, 123456,
                                                                       tzinfo=timezone.utc))

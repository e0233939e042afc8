"""Routing scenarios through the webhook and the agent API, on the virtual clock."""

from __future__ import annotations

import asyncio

from conftest import ADMIN, agent, bearer, close, eventually, reply, send, set_status

from reception.core import RECEPTION

TEAM = [agent("alice", ["pre_sales"]), agent("bob", ["pre_sales"]), agent("carol", ["after_sales"])]


async def shop(start, **sections):
    sections.setdefault("agents", TEAM)
    return await start(**sections)


async def holder(client, conversation_id: str) -> str | None:
    body = await (await client.get(f"/api/v1/conversations/{conversation_id}/history", headers=ADMIN)).json()
    reception = client.app[RECEPTION]
    conv = reception.router.active.get(conversation_id) or await reception.store.conversation(conversation_id)
    assert body is not None
    return conv.agent_id if conv.status == "assigned" else None


async def test_least_loaded_agent_gets_the_buyer(start):
    client = await shop(start)
    await set_status(client, "alice", "online")
    await set_status(client, "bob", "online")
    first = await send(client, "b1", "转人工")
    second = await send(client, "b2", "转人工")
    assert first["status"] == second["status"] == "assigned"
    owners = {await holder(client, first["conversation_id"]), await holder(client, second["conversation_id"])}
    assert owners == {"shop:alice", "shop:bob"}


async def test_everyone_saturated_queues_with_position_and_the_queue_moves_on_close(start):
    client = await shop(start, agents=[agent("alice", ["pre_sales"], max_concurrent=1)])
    await set_status(client, "alice", "online")
    served = await send(client, "b1", "转人工")
    assert served["status"] == "assigned"
    second = await send(client, "b2", "人工客服")
    third = await send(client, "b3", "I want a real person")
    assert second["status"] == third["status"] == "queued"
    assert "前面还有 0 位" in second["replies"][-1]["text"]
    assert "number 2 in line" in third["replies"][-1]["text"]
    queue = await (await client.get("/api/v1/queue", headers=bearer("alice-token"))).json()
    assert [e["customer_id"] for e in queue["queue"]] == ["b2", "b3"]
    assert [e["position"] for e in queue["queue"]] == [1, 2]
    await reply(client, served["conversation_id"], "alice")
    await close(client, served["conversation_id"], "alice")
    assert await holder(client, second["conversation_id"]) == "shop:alice"
    queue = await (await client.get("/api/v1/queue", headers=ADMIN)).json()
    assert [(e["customer_id"], e["position"]) for e in queue["queue"]] == [("b3", 1)]


async def test_an_angry_buyer_jumps_the_queue(start):
    client = await shop(start, agents=[agent("alice", ["pre_sales"], max_concurrent=1)])
    await set_status(client, "alice", "online")
    await send(client, "b1", "转人工")
    calm = await send(client, "b2", "转人工")
    angry = await send(client, "b3", "太差了，什么破东西，气死我了")
    assert angry["handover"]["reason"] == "angry"
    complaint = await send(client, "b4", "你们就是骗子，我要投诉！")  # asks for a person, upset: first too
    assert complaint["handover"]["reason"] == "requested"
    queue = await (await client.get("/api/v1/queue", headers=ADMIN)).json()
    assert [e["conversation_id"] for e in queue["queue"]] == [angry["conversation_id"], complaint["conversation_id"],
                                                              calm["conversation_id"]]


async def test_nobody_online_goes_to_the_offline_pool(start):
    client = await shop(start)
    await set_status(client, "alice", "suspended")
    body = await send(client, "b1", "转人工")
    assert body["status"] == "offline"
    assert "08:30" in body["replies"][-1]["text"]  # the virtual day starts at 08:00 in Shanghai
    pool = await (await client.get("/api/v1/offline-pool", headers=ADMIN)).json()
    assert [e["customer_id"] for e in pool["pool"]] == ["b1"]


async def test_recent_contact_sticks_within_24h_even_suspended_and_not_after(start, clock):
    client = await shop(start)
    await set_status(client, "alice", "online")
    first = await send(client, "loyal", "转人工")
    assert await holder(client, first["conversation_id"]) == "shop:alice"
    await reply(client, first["conversation_id"], "alice")
    await close(client, first["conversation_id"], "alice")
    await set_status(client, "alice", "suspended")
    await set_status(client, "bob", "online")
    await clock.advance(3600)
    again = await send(client, "loyal", "人工")
    assert await holder(client, again["conversation_id"]) == "shop:alice"  # suspended, but within 24 h
    await reply(client, again["conversation_id"], "alice")
    await close(client, again["conversation_id"], "alice")
    await clock.advance(25 * 3600)
    late = await send(client, "loyal", "人工")
    assert await holder(client, late["conversation_id"]) == "shop:bob"  # suspended and past 24 h
    await reply(client, late["conversation_id"], "bob")
    await close(client, late["conversation_id"], "bob")
    await set_status(client, "bob", "offline")
    await set_status(client, "alice", "online")
    await set_status(client, "carol", "online")
    await clock.advance(2 * 86400)
    online = await send(client, "loyal", "人工")
    assert await holder(client, online["conversation_id"]) in ("shop:alice", "shop:carol")  # never bob: offline


async def test_pool_run_at_the_half_hour_assigns_newest_first_within_the_cap(start, clock):
    client = await shop(start, offline_pool={"per_agent": 1, "scope": "requested"},
                        agents=[agent("alice", ["pre_sales"], max_concurrent=5)])
    ids = []
    for i in range(3):
        ids.append((await send(client, f"b{i}", "转人工"))["conversation_id"])
        await clock.advance(60)
    await send(client, "bot-only", "什么时候发货")  # never asked for a human: out of scope
    await set_status(client, "alice", "online")
    await clock.advance(30 * 60)  # past 08:30, the next half hour
    reception = client.app[RECEPTION]
    runs = await eventually(lambda: reception.store.pool_runs())
    run = runs[0]
    assert run["operator"] == "system auto-assign" and run["assigned"] == 1 and run["cap"] == 1
    assert await holder(client, ids[2]) == "shop:alice"  # the newest
    reasons = {f["conversation_id"]: f["reason"] for f in run["failures"]}
    assert reasons == {ids[1]: "over this run's cap of 1", ids[0]: "over this run's cap of 1"}
    messages = await (await client.get(f"/api/v1/conversations/{ids[2]}/messages",
                                       headers=bearer("alice-token"))).json()
    assert any("assigned from offline messages" in m["text"] for m in messages["messages"])


async def test_pool_run_records_why_it_could_not_assign(start, clock):
    client = await shop(start, offline_pool={"min_agents": 2})
    await send(client, "b1", "转人工")
    await set_status(client, "alice", "online")
    await clock.advance(30 * 60)
    reception = client.app[RECEPTION]
    runs = await eventually(lambda: reception.store.pool_runs())
    assert runs[0]["assigned"] == 0
    assert runs[0]["reason"] == "not enough agents online: 1 < 2"
    assert runs[0]["failures"][0]["reason"] == "not enough agents online: 1 < 2"
    admin_runs = await (await client.get("/api/v1/offline-pool/runs", headers=ADMIN)).json()
    assert admin_runs["runs"][0]["reason"] == runs[0]["reason"]


async def test_reminder_at_150s_and_reassignment_after_the_second_limit(start, clock):
    client = await shop(start)
    await set_status(client, "alice", "online")
    body = await send(client, "b1", "转人工")
    cid = body["conversation_id"]
    first = await holder(client, cid)
    other = "shop:bob" if first == "shop:alice" else "shop:alice"
    await set_status(client, other.split(":")[1], "online")
    reception = client.app[RECEPTION]
    await clock.advance(149)
    await asyncio.sleep(0.05)
    assert await reception.store.events(name="agent.reminded") == []
    await clock.advance(2)
    reminded = await eventually(lambda: reception.store.events(name="agent.reminded"))
    assert reminded[0].data["agent_id"] == first
    await clock.advance(240 - 151 + 1)
    moved = await eventually(lambda: reception.store.events(name="conversation.reassigned"))
    assert moved[0].data == {"from": first, "to": other, "waited_seconds": 240.0}
    assert await holder(client, cid) == other


async def test_only_the_welcome_is_not_a_reply(start, clock):
    client = await shop(start, agents=[agent("alice", ["pre_sales"], welcome="您好，我是{name}"),
                                       agent("bob", ["pre_sales"])])
    await set_status(client, "alice", "online")
    body = await send(client, "b1", "转人工")
    await reply(client, body["conversation_id"], "alice", "您好，我是alice")  # the canned welcome, typed
    await set_status(client, "bob", "online")
    await clock.advance(241)
    reception = client.app[RECEPTION]
    await eventually(lambda: reception.store.events(name="conversation.reassigned"))
    assert await holder(client, body["conversation_id"]) == "shop:bob"


async def test_a_real_reply_stops_the_watchdog(start, clock):
    client = await shop(start)
    await set_status(client, "alice", "online")
    body = await send(client, "b1", "转人工")
    await reply(client, body["conversation_id"], "alice", "亲，请问有什么可以帮您？")
    await clock.advance(300)
    await asyncio.sleep(0.05)
    reception = client.app[RECEPTION]
    assert await reception.store.events(name="agent.reminded") == []
    [replied] = await reception.store.events(name="agent.replied")
    assert replied.data["first"] is True and replied.data["since_request_seconds"] == 0


async def test_close_asks_for_a_rating_the_buyer_answers_and_the_bot_takes_back(start):
    client = await shop(start)
    await set_status(client, "alice", "online")
    body = await send(client, "b1", "转人工")
    await reply(client, body["conversation_id"], "alice")
    await close(client, body["conversation_id"], "alice")
    history = await (await client.get(f"/api/v1/conversations/{body['conversation_id']}/messages",
                                      headers=ADMIN)).json()
    assert "满意" in history["messages"][-1]["text"]
    rated = await send(client, "b1", "满意")
    assert rated["conversation_id"] == body["conversation_id"] and "感谢" in rated["replies"][0]["text"]
    reception = client.app[RECEPTION]
    [event] = await reception.store.events(name="satisfaction.rated")
    assert event.data == {"score": 4, "label": "satisfied", "agent_id": "shop:alice"}
    after = await send(client, "b1", "什么时候发货")
    assert after["status"] == "bot" and after["conversation_id"] != body["conversation_id"]
    assert after["replies"][0]["intent"] == "shipping_time"


async def test_transfer_to_an_agent_and_to_a_group(start):
    client = await shop(start)
    for name in ("alice", "bob", "carol"):
        await set_status(client, name, "online")
    body = await send(client, "b1", "转人工")
    cid = body["conversation_id"]
    first = (await holder(client, cid)).split(":")[1]
    to_carol = await client.post(f"/api/v1/conversations/{cid}/transfer", json={"group": "after_sales"},
                                 headers=bearer(f"{first}-token"))
    assert to_carol.status == 200
    assert await holder(client, cid) == "shop:carol"
    to_bob = await client.post(f"/api/v1/conversations/{cid}/transfer", json={"agent_id": "shop:bob"},
                               headers=bearer("carol-token"))
    assert to_bob.status == 200 and await holder(client, cid) == "shop:bob"


async def test_bad_requests_are_refused_and_change_nothing(start):
    client = await shop(start, agents=[agent("alice", ["pre_sales"], max_concurrent=1), agent("bob", ["pre_sales"])])
    await set_status(client, "alice", "online")
    body = await send(client, "b1", "转人工")
    cid = body["conversation_id"]
    path = f"/api/v1/conversations/{cid}"
    checks = [
        (client.post("/api/v1/agents/shop:nobody/status", json={"status": "online"}, headers=ADMIN), 404),
        (client.post("/api/v1/agents/shop:alice/status", json={"status": "online"}, headers=bearer("wrong")), 401),
        (client.post("/api/v1/agents/shop:alice/status", json={"status": "online"}, headers=bearer("bob-token")),
         403),
        (client.post("/api/v1/agents/shop:bob/status", json={"status": "lunch"}, headers=bearer("bob-token")), 422),
        (client.get(f"{path}/messages", headers=bearer("bob-token")), 403),
        (client.post(f"{path}/messages", json={"text": "hi"}, headers=bearer("bob-token")), 403),
        (client.post(f"{path}/close", headers=bearer("bob-token")), 403),
        (client.get("/api/v1/agents/shop:alice/conversations", headers=bearer("bob-token")), 403),
        (client.post(f"{path}/transfer", json={"group": "nowhere"}, headers=bearer("alice-token")), 422),
        (client.post(f"{path}/transfer", json={"group": "pre_sales", "agent_id": "shop:bob"},
                     headers=bearer("alice-token")), 422),
        (client.post(f"{path}/transfer", json={"agent_id": "shop:bob"}, headers=bearer("alice-token")), 409),
    ]
    for request, status in checks:
        response = await request
        assert response.status == status, (status, await response.text())
        assert "error" in await response.json()
    assert await holder(client, cid) == "shop:alice"
    await set_status(client, "bob", "online")
    await send(client, "b2", "转人工")  # bob takes b2 and is now … below max, so fill him
    await send(client, "b3", "转人工")
    full = await client.post(f"{path}/transfer", json={"agent_id": "shop:bob"}, headers=bearer("alice-token"))
    assert full.status == 409 and (await full.json())["error"]["code"] == "agent_at_capacity"
    assert await holder(client, cid) == "shop:alice"


async def test_an_agent_sees_only_their_own_buyers(start):
    client = await shop(start)
    await set_status(client, "alice", "online")
    await send(client, "b1", "转人工")
    mine = await (await client.get("/api/v1/agents/shop:alice/conversations", headers=bearer("alice-token"))).json()
    assert [c["customer_id"] for c in mine["conversations"]] == ["b1"]
    assert mine["conversations"][0]["reply_due_in_seconds"] == 180
    theirs = await (await client.get("/api/v1/agents/shop:bob/conversations", headers=bearer("bob-token"))).json()
    assert theirs["conversations"] == []
    everyone = await (await client.get("/api/v1/agents", headers=ADMIN)).json()
    assert {a["id"]: a["load"] for a in everyone["agents"]} == {"shop:alice": 1, "shop:bob": 0, "shop:carol": 0}
    assert (await client.get("/api/v1/agents", headers=bearer("alice-token"))).status == 401


async def test_rules_route_by_entry_intent_and_order_state(start):
    from reception import hookimpl

    class Orders:
        @hookimpl
        def buyer_order_state(self, customer_id):
            return "shipped" if customer_id.startswith("shipped") else "none"

    client = await shop(start, plugins=(Orders(),), routing={"rules": [
        {"group": "after_sales", "order_states": ["shipped", "after_sale"]},
        {"group": "after_sales", "intents": ["refund_time"]},
        {"group": "pre_sales", "entries": ["product"]},
    ]})
    for name in ("alice", "carol"):
        await set_status(client, name, "online")
    shipped = await send(client, "shipped-1", "转人工")
    product = await send(client, "p1", "转人工", entry="product")
    assert await holder(client, shipped["conversation_id"]) == "shop:carol"
    assert await holder(client, product["conversation_id"]) == "shop:alice"


async def test_many_simultaneous_buyers_never_overfill_an_agent(start):
    client = await shop(start, agents=[agent(f"a{i}", ["pre_sales"], max_concurrent=3) for i in range(4)])
    for i in range(4):
        await set_status(client, f"a{i}", "online")
    bodies = await asyncio.gather(*(send(client, f"buyer{i}", "转人工") for i in range(40)))
    statuses = [b["status"] for b in bodies]
    assert statuses.count("assigned") == 12 and statuses.count("queued") == 28
    reception = client.app[RECEPTION]
    assert all(a.load == 3 for a in reception.router.book.agents.values())
    assigned = await reception.store.conversations(status="assigned")
    assert len(assigned) == 12 and len({c.customer_id for c in assigned}) == 12
    again = await asyncio.gather(*(send(client, f"buyer{i}", "还在吗") for i in range(40)))
    assert len({b["conversation_id"] for b in again}) == 40  # one conversation, one agent per buyer


async def test_a_restart_keeps_assignments_queue_and_pool(aiohttp_client, tmp_path, clock):
    from reception import create_app
    from reception.testing import make_settings

    settings = make_settings(tmp_path, agents=[agent("alice", ["pre_sales"], max_concurrent=1)])
    first = await aiohttp_client(create_app(settings, clock=clock))
    await set_status(first, "alice", "online")
    served = await send(first, "b1", "转人工")
    queued = await send(first, "b2", "转人工")
    await first.close()
    second = await aiohttp_client(create_app(settings, clock=clock))
    assert await holder(second, served["conversation_id"]) == "shop:alice"
    queue = await (await second.get("/api/v1/queue", headers=ADMIN)).json()
    assert [e["conversation_id"] for e in queue["queue"]] == [queued["conversation_id"]]
    await set_status(second, "alice", "offline")
    pooled = await send(second, "b3", "转人工")
    assert pooled["status"] == "offline"
    await second.close()
    third = await aiohttp_client(create_app(settings, clock=clock))
    pool = await (await third.get("/api/v1/offline-pool", headers=ADMIN)).json()
    assert [e["conversation_id"] for e in pool["pool"]] == [pooled["conversation_id"]]
    agents = await (await third.get("/api/v1/agents", headers=ADMIN)).json()
    assert agents["agents"][0]["status"] == "offline" and agents["agents"][0]["load"] == 1

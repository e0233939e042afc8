"""More routing behaviour: pool targets and conditions, accepting and manual assignment, inactivity, history."""

from __future__ import annotations

from conftest import ADMIN, agent, bearer, eventually, send, set_status

from reception.core import RECEPTION

TEAM = [agent("alice", ["pre_sales"]), agent("bob", ["pre_sales"]), agent("carol", ["after_sales"])]


async def test_pool_scope_all_brings_bot_only_buyers_to_agents(start, clock):
    client = await start(agents=TEAM, offline_pool={"scope": "all", "target": "agents", "agents": ["shop:carol"]})
    bot_only = await send(client, "browsing", "什么时候发货")
    asked = await send(client, "asker", "转人工")
    await set_status(client, "carol", "online")
    await set_status(client, "alice", "online")
    await clock.advance(30 * 60)
    reception = client.app[RECEPTION]
    [run] = await eventually(lambda: reception.store.pool_runs())
    assert run["assigned"] == 2 and run["failures"] == []
    for body in (bot_only, asked):
        conv = reception.router.active[body["conversation_id"]]
        assert conv.status == "assigned" and conv.agent_id == "shop:carol"


async def test_pool_skips_a_run_while_agents_have_too_many_pending_replies(start, clock):
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=5)],
                         offline_pool={"max_pending_per_agent": 1})
    await set_status(client, "alice", "online")
    await send(client, "b1", "转人工")
    await send(client, "b2", "转人工")  # alice now has two buyers waiting for her reply
    await set_status(client, "alice", "offline")
    await send(client, "b3", "转人工")  # pooled
    await set_status(client, "alice", "online")
    await clock.advance(30 * 60)
    reception = client.app[RECEPTION]
    runs = await eventually(lambda: reception.store.pool_runs())
    assert runs[0]["reason"] == "pending replies per agent too high: 2.0 > 1"


async def test_an_agent_takes_a_returning_buyer_from_the_pool_by_hand(start, clock):
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=5)])
    await set_status(client, "alice", "online")
    first = await send(client, "b1", "转人工")
    await client.post(f"/api/v1/conversations/{first['conversation_id']}/messages", json={"text": "在的"},
                      headers=bearer("alice-token"))
    await client.post(f"/api/v1/conversations/{first['conversation_id']}/close", headers=bearer("alice-token"))
    await set_status(client, "alice", "offline")
    late = await send(client, "b1", "还有个问题，转人工")
    assert late["status"] == "offline"
    await set_status(client, "alice", "online")
    taken = await client.post(f"/api/v1/conversations/{late['conversation_id']}/accept", headers=bearer("alice-token"))
    assert taken.status == 200
    assert (await taken.json())["conversation"]["agent_id"] == "shop:alice"


async def test_manual_assignment_from_the_pool_reports_each_buyer(start):
    client = await start(agents=TEAM)
    pooled = [(await send(client, f"b{i}", "转人工"))["conversation_id"] for i in range(3)]
    await set_status(client, "alice", "online")
    response = await client.post("/api/v1/offline-pool/assign", headers=ADMIN,
                                 json={"conversation_ids": [*pooled, "nope"], "agent_id": "shop:alice"})
    results = (await response.json())["results"]
    assert [r["assigned"] for r in results] == [True, True, False, False]
    assert results[2]["reason"] == "shop:alice is at their maximum"
    assert results[3]["reason"] == "not in the offline pool"
    other = await client.post("/api/v1/offline-pool/assign", headers=bearer("bob-token"),
                              json={"conversation_ids": [pooled[2]], "agent_id": "shop:alice"})
    assert other.status == 403


async def test_an_agent_accepts_only_buyers_of_their_groups(start):
    client = await start(agents=TEAM, routing={"rules": [{"group": "after_sales", "reasons": ["angry"]}]})
    body = await send(client, "b1", "太差了，什么破东西，气死我了")
    assert body["status"] == "offline"
    await set_status(client, "alice", "online")
    path = f"/api/v1/conversations/{body['conversation_id']}/accept"
    refused = await client.post(path, headers=bearer("alice-token"))
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "not_your_group"
    await set_status(client, "carol", "online")
    assert (await client.post(path, headers=bearer("carol-token"))).status == 200


async def test_a_quiet_conversation_is_closed_after_the_inactivity_limit(start, clock):
    client = await start(agents=TEAM, routing={"inactivity_close_minutes": 10})
    await set_status(client, "alice", "online")
    body = await send(client, "b1", "转人工")
    await client.post(f"/api/v1/conversations/{body['conversation_id']}/messages", json={"text": "您好"},
                      headers=bearer("alice-token"))
    await clock.advance(9 * 60)
    reception = client.app[RECEPTION]
    assert reception.router.active[body["conversation_id"]].status == "assigned"
    await clock.advance(61)
    closed = await eventually(lambda: reception.store.events(name="conversation.closed"))
    assert closed[0].data == {"by": "inactivity", "agent_id": "shop:alice"}
    assert body["conversation_id"] not in reception.router.active


async def test_the_queue_estimate_learns_from_service_times(start, clock):
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=1)])
    await set_status(client, "alice", "online")
    first = await send(client, "b1", "转人工")
    await client.post(f"/api/v1/conversations/{first['conversation_id']}/messages", json={"text": "hi"},
                      headers=bearer("alice-token"))
    await clock.advance(120)
    await client.post(f"/api/v1/conversations/{first['conversation_id']}/close", headers=bearer("alice-token"))
    await send(client, "b2", "转人工")  # served at once: alice is free again
    queued = await send(client, "b3", "转人工")
    assert "约 2 分钟" in queued["replies"][-1]["text"]  # one slot, two minutes per buyer so far


async def test_history_shows_the_buyers_earlier_conversations_to_their_agent_only(start):
    client = await start(agents=TEAM)
    await set_status(client, "alice", "online")
    first = await send(client, "b1", "转人工")
    await client.post(f"/api/v1/conversations/{first['conversation_id']}/close", headers=bearer("alice-token"))
    second = await send(client, "b1", "我又来了，转人工")
    path = f"/api/v1/conversations/{second['conversation_id']}/history"
    mine = await (await client.get(path, headers=bearer("alice-token"))).json()
    assert [c["conversation_id"] for c in mine["conversations"]] == [first["conversation_id"]]
    assert mine["conversations"][0]["messages"][0]["text"] == "转人工"
    assert (await client.get(path, headers=bearer("bob-token"))).status == 403



async def test_each_pool_boundary_runs_once_and_one_missed_while_down_runs_late(start, clock):
    # the work may move to another instance (or the server restart) around a boundary: a boundary already
    # recorded does not run again, and one that nobody ran is run late, within two minutes
    def runs_at(reception, count):
        async def check():
            runs = await reception.store.pool_runs()
            return [r["at"][11:19] for r in runs][::-1] if len(runs) >= count else None
        return check

    async def leading(client):  # on PostgreSQL the loops start once the instance holds the lease, which the
        # instance closed just before may hold for a moment more (the server frees it when it sees it gone)
        assert await eventually(lambda: client.app[RECEPTION].cluster.leader, timeout=15)

    client = await start(agents=TEAM)
    await leading(client)
    await send(client, "b1", "转人工")  # (the loops have started)
    await clock.advance(30 * 60)  # 08:30 in Shanghai (00:30 UTC)
    assert await eventually(runs_at(client.app[RECEPTION], 1)) == ["00:30:00"]
    await clock.advance(30)
    await client.close()
    client = await start(agents=TEAM)  # back at 08:30:30: 08:30 is recorded, it does not run again
    await leading(client)
    await send(client, "b2", "转人工")
    await clock.advance(30 * 60)
    assert await eventually(runs_at(client.app[RECEPTION], 2)) == ["00:30:00", "01:00:00"]
    await client.close()
    await clock.advance(30 * 60 + 20)  # down over 09:30
    client = await start(agents=TEAM)
    await leading(client)
    assert await eventually(runs_at(client.app[RECEPTION], 3)) == ["00:30:00", "01:00:00", "01:30:50"]
    await clock.advance(60)
    assert len(await client.app[RECEPTION].store.pool_runs()) == 3

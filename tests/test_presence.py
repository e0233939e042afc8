"""Issue 15 §5 through the real app: the typing indicator both ways (ephemeral, rate-limited, never stored) and the
read state (the workbench's unread counts, the buyer's read receipts), over the real sockets; virtual clock.
The pages' side is in test_browser_presence.py.
"""

from __future__ import annotations

import asyncio

from conftest import ADMIN, agent, bearer, set_status
from test_webchat import connect, frames_until, session

from reception.core import RECEPTION

TEAM = [agent("alice", ["pre_sales"]), agent("bob", ["pre_sales"])]
OPEN = {"open": ["00:00-24:00"]}


async def next_of(ws, kind: str, timeout: float = 5.0) -> dict:
    """The next frame of type `kind` (others, such as "changed" notices, are passed over)."""
    return (await frames_until(ws, kind, timeout))[-1]


async def mine(client, who: str = "alice") -> dict:
    response = await client.get(f"/api/v1/agents/shop:{who}/conversations", headers=bearer(f"{who}-token"))
    assert response.status == 200
    [conv] = (await response.json())["conversations"]
    return conv


async def test_typing_goes_both_ways_rate_limited_and_is_never_stored(start, clock):
    client = await start(agents=TEAM, hours=OPEN)
    await set_status(client, "alice", "online")
    me = await session(client)
    buyer, _ = await connect(client, me["token"])
    await buyer.send_json({"type": "message", "client_id": "m1", "text": "转人工"})
    assert (await next_of(buyer, "status"))["status"] == "assigned"
    conv = await mine(client)
    desk = await client.ws_connect("/api/v1/agents/shop:alice/ws?token=alice-token")
    assert (await desk.receive_json())["type"] == "agent"
    reception = client.app[RECEPTION]
    events_before = (await reception.store.counts())["events"]

    # the buyer types: alice hears it once per 2 s, however often the widget says so; a stop ends it
    await buyer.send_json({"type": "typing"})
    first = await next_of(desk, "typing")
    assert first == {"type": "typing", "conversation_id": conv["conversation_id"], "typing": True, "expires_in": 6}
    await buyer.send_json({"type": "typing"})  # within 2 s: dropped
    await buyer.send_json({"type": "typing", "typing": False})
    assert (await next_of(desk, "typing"))["typing"] is False  # the stop, not a second "typing"
    await buyer.send_json({"type": "typing", "typing": False})  # a stop with nothing to stop: dropped
    await buyer.send_json({"type": "typing"})
    assert (await next_of(desk, "typing"))["typing"] is True
    await buyer.send_json({"type": "typing"})  # dropped …
    await clock.advance(2.1)
    await buyer.send_json({"type": "typing"})  # … but 2 s later it is told again
    assert (await next_of(desk, "typing"))["typing"] is True

    # alice types: the buyer's widget hears it; a frame about someone else's buyer, or malformed, is ignored
    await desk.send_json({"type": "typing", "conversation_id": "not-hers"})
    await desk.send_str("{not json")
    await desk.send_json({"type": "typing", "conversation_id": conv["conversation_id"]})
    assert await next_of(buyer, "typing") == {"type": "typing", "sender": "agent", "typing": True, "expires_in": 6}
    await desk.send_json({"type": "typing", "conversation_id": conv["conversation_id"], "typing": False})
    assert (await next_of(buyer, "typing"))["typing"] is False

    # a bad typing frame is an error like any bad frame, and the socket stays
    await buyer.send_json({"type": "typing", "typing": "yes"})
    assert (await next_of(buyer, "error"))["code"] == "invalid_frame"
    await asyncio.sleep(0)
    assert (await reception.store.counts())["events"] == events_before  # nothing of it was stored
    await buyer.close()
    await desk.close()


async def test_unread_counts_clear_when_the_agent_reads_and_the_buyer_s_receipts_reach_the_workbench(start):
    client = await start(agents=TEAM, hours=OPEN)
    await set_status(client, "alice", "online")
    me = await session(client)
    buyer, _ = await connect(client, me["token"])
    await buyer.send_json({"type": "message", "client_id": "m1", "text": "转人工"})
    await next_of(buyer, "status")
    conv = await mine(client)
    cid = conv["conversation_id"]
    assert conv["unread"] >= 1 and conv["agent_read_seq"] == 0 and conv["buyer_read_seq"] == 0
    messages = (await (await client.get(f"/api/v1/conversations/{cid}/messages",
                                        headers=bearer("alice-token"))).json())["messages"]
    last = messages[-1]["seq"]
    assert all(isinstance(m["seq"], int) for m in messages)

    # alice opens the conversation: read up to the last message, the count is 0, and it stays so after a reload
    read = await client.post(f"/api/v1/conversations/{cid}/read", json={"seq": last}, headers=bearer("alice-token"))
    assert read.status == 200 and (await read.json())["unread"] == 0
    assert (await mine(client))["unread"] == 0
    older = await client.post(f"/api/v1/conversations/{cid}/read", json={"seq": 1}, headers=bearer("alice-token"))
    assert (await older.json())["agent_read_seq"] == last  # a mark never moves back
    # bob may not; the admin may look without clearing alice's count; a bad body is refused
    assert (await client.post(f"/api/v1/conversations/{cid}/read", json={"seq": last},
                              headers=bearer("bob-token"))).status == 403
    assert (await client.post(f"/api/v1/conversations/{cid}/read", json={"seq": -1},
                              headers=bearer("alice-token"))).status == 422

    # the buyer writes twice: two unread; the admin looking does not clear them
    for n, text in enumerate(("还在吗", "尺码偏大吗"), start=2):
        await buyer.send_json({"type": "message", "client_id": f"m{n}", "text": text})
        await next_of(buyer, "status")
    assert (await mine(client))["unread"] == 2
    await client.post(f"/api/v1/conversations/{cid}/read", json={"seq": 10**6}, headers=ADMIN)
    assert (await mine(client))["unread"] == 2

    # alice replies; the buyer's widget reads it: stored (clamped to what the socket was sent) and told live
    desk = await client.ws_connect("/api/v1/agents/shop:alice/ws?token=alice-token")
    assert (await desk.receive_json())["type"] == "agent"
    sent = await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "在的，亲"},
                             headers=bearer("alice-token"))
    assert sent.status == 200
    reply = await next_of(buyer, "message")
    while reply["sender"] != "agent":
        reply = await next_of(buyer, "message")
    await buyer.send_json({"type": "read", "seq": 10**9})  # more than it was sent: read up to what it has
    told = await next_of(desk, "read")
    assert told == {"type": "read", "conversation_id": cid, "seq": reply["seq"]}
    assert (await mine(client))["buyer_read_seq"] == reply["seq"]
    await buyer.close()
    await desk.close()

"""The chat widget's channel over a real WebSocket: identity, sync after reconnect, idempotent resends, privacy."""

from __future__ import annotations

import asyncio

from conftest import agent, bearer, set_status

from reception.core import RECEPTION


async def session(client, token: str | None = None) -> dict:
    response = await client.post("/api/v1/webchat/session", json={"token": token} if token else {})
    assert response.status == 200
    return await response.json()


async def frames_until(ws, kind: str, timeout: float = 5.0) -> list[dict]:
    """Every frame received up to and including the first of type `kind`."""
    seen = []
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), timeout)
        seen.append(frame)
        if frame["type"] == kind:
            return seen


async def connect(client, token: str, after: int = 0):
    ws = await client.ws_connect(f"/api/v1/webchat/ws?token={token}")
    assert (await ws.receive_json())["type"] == "ready"
    await ws.send_json({"type": "sync", "after": after})
    history = await frames_until(ws, "synced")
    return ws, [f for f in history if f["type"] == "message"]


async def test_a_buyer_chats_with_the_bot_and_a_resend_is_not_duplicated(client):
    me = await session(client)
    ws, history = await connect(client, me["token"])
    assert history == []
    await ws.send_json({"type": "message", "client_id": "c-1", "text": "我的快递到哪了"})
    frames = await frames_until(ws, "status")
    messages = [f for f in frames if f["type"] == "message"]
    assert [(m["sender"], m.get("client_id")) for m in messages] == [("buyer", "c-1"), ("bot", None)]
    assert frames[-1] == {"type": "status", "status": "bot", "handover": None}
    await ws.send_json({"type": "message", "client_id": "c-1", "text": "我的快递到哪了"})  # a resend
    again = await frames_until(ws, "status")
    assert [f for f in again if f["type"] == "message"] == []
    reception = client.app[RECEPTION]
    assert (await reception.store.counts())["messages"] == 2
    await ws.close()


async def test_a_reload_keeps_the_conversation_and_sync_sends_only_what_is_new(client):
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    await ws.send_json({"type": "message", "client_id": "a", "text": "什么时候发货"})
    first = [f for f in await frames_until(ws, "status") if f["type"] == "message"]
    await ws.close()
    again = await session(client, me["token"])
    assert again["customer_id"] == me["customer_id"]
    ws, history = await connect(client, again["token"])
    assert [m["seq"] for m in history] == [m["seq"] for m in first]
    await ws.close()
    ws, newer = await connect(client, again["token"], after=first[-1]["seq"])
    assert newer == []
    await ws.close()


async def test_buyers_never_see_each_other(client):
    alice, bob = await session(client), await session(client)
    ws_a, _ = await connect(client, alice["token"])
    ws_b, _ = await connect(client, bob["token"])
    await ws_a.send_json({"type": "message", "client_id": "x", "text": "my secret address question"})
    await frames_until(ws_a, "status")
    await ws_b.send_json({"type": "sync", "after": 0})
    assert [f for f in await frames_until(ws_b, "synced") if f["type"] == "message"] == []
    forged = await session(client, bob["customer_id"] + ".0000")
    assert forged["customer_id"] not in (alice["customer_id"], bob["customer_id"])
    for ws in (ws_a, ws_b):
        await ws.close()


async def test_a_forged_token_is_refused(client):
    ws = await client.ws_connect("/api/v1/webchat/ws?token=wc_someone.deadbeef")
    message = await ws.receive()
    assert ws.closed and ws.close_code == 4401, message


async def test_an_agents_reply_reaches_the_widget_live_and_the_agent_is_told(start):
    client = await start(agents=[agent("alice", ["pre_sales"])])
    await set_status(client, "alice", "online")
    live = await client.ws_connect("/api/v1/agents/shop:alice/ws?token=alice-token")
    assert (await live.receive_json()) == {"type": "agent", "status": "online"}
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    await ws.send_json({"type": "message", "client_id": "h", "text": "转人工"})
    frames = await frames_until(ws, "status")
    welcome = [f for f in frames if f.get("kind") == "welcome"]
    assert welcome and welcome[0]["agent_name"] == "alice" and frames[-1]["status"] == "assigned"
    notice = await asyncio.wait_for(live.receive_json(), 5)
    assert notice["type"] == "changed"
    conversation_id = notice["conversation_id"]
    reply = await client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": "亲，在的"},
                              headers=bearer("alice-token"))
    assert reply.status == 200
    pushed = await asyncio.wait_for(ws.receive_json(), 5)
    assert pushed["sender"] == "agent" and pushed["text"] == "亲，在的"
    await ws.close()
    await live.close()


async def test_bad_frames_get_an_error_and_the_socket_stays_open(client):
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    await ws.send_str("not json")
    assert (await ws.receive_json())["code"] == "invalid_frame"
    await ws.send_json({"type": "message", "client_id": "big", "text": "x" * 5000})
    assert (await ws.receive_json())["code"] == "invalid_frame"
    await ws.send_json({"type": "message", "client_id": "nul", "text": "a\u0000b"})
    error = await ws.receive_json()
    assert error["code"] == "invalid_message" and error["client_id"] == "nul"
    await ws.send_json({"type": "message", "client_id": "ok", "text": "谢谢"})
    assert (await frames_until(ws, "status"))[-1]["status"] == "bot"
    await ws.close()


async def test_agent_replies_carry_compliance_warnings(start):
    client = await start(agents=[agent("alice", ["pre_sales"])])
    await set_status(client, "alice", "online")
    response = await client.post("/api/v1/webhook/messages", json={"customer_id": "b", "text": "转人工"})
    cid = (await response.json())["conversation_id"]
    check = await client.post("/api/v1/compliance/check", json={"text": "全网最低价，电话13812345678"},
                              headers=bearer("alice-token"))
    assert [w["code"] for w in (await check.json())["warnings"]] == ["absolute_claim", "phone_number"]
    sent = await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "我们是全网最低价"},
                             headers=bearer("alice-token"))
    assert [w["code"] for w in (await sent.json())["warnings"]] == ["absolute_claim"]


async def test_the_session_endpoint_serves_shop_pages_on_other_origins(start):
    client = await start(webchat={"allowed_origins": ["https://shop.example"]})
    ok = await client.post("/api/v1/webchat/session", json={}, headers={"Origin": "https://shop.example"})
    assert ok.status == 200 and ok.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    other = await client.post("/api/v1/webchat/session", json={}, headers={"Origin": "https://evil.example"})
    assert other.status == 403


async def test_a_rating_in_the_widget_is_answered_in_the_widget(start):
    client = await start(agents=[agent("alice", ["pre_sales"])])
    await set_status(client, "alice", "online")
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    await ws.send_json({"type": "message", "client_id": "1", "text": "转人工"})
    frames = await frames_until(ws, "status")
    conversation_id = frames[0]["conversation_id"]
    await client.post(f"/api/v1/conversations/{conversation_id}/close", headers=bearer("alice-token"))
    while (await asyncio.wait_for(ws.receive_json(), 5)).get("kind") != "rating_request":
        pass
    await ws.send_json({"type": "message", "client_id": "2", "text": "满意"})
    frames = await frames_until(ws, "status")
    assert [(f["sender"], f["text"][:2]) for f in frames if f["type"] == "message"] == [("buyer", "满意"),
                                                                                          ("system", "感谢")]
    await ws.close()

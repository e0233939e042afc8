"""Later messages reach the buyer's integration through the signed callback, even after failures."""

from __future__ import annotations

import asyncio

from aiohttp import web
from conftest import ADMIN, eventually, history, send

from reception import auth
from reception.core import RECEPTION


async def _receiver(aiohttp_server, fail_first: int = 0):
    received: list[tuple[bytes, dict[str, str]]] = []
    calls = {"n": 0}

    async def callback(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] <= fail_first:
            return web.Response(status=503)
        received.append((await request.read(), dict(request.headers)))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/callback", callback)
    server = await aiohttp_server(app)
    return str(server.make_url("/callback")), received, calls


async def _wait_for(predicate, clock=None, step: float = 0.0):
    for _ in range(200):
        if predicate():
            return
        if clock is not None and step:
            await clock.advance(step)
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_staff_reply_is_posted_to_the_callback_signed(start, aiohttp_server):
    url, received, _ = await _receiver(aiohttp_server)
    client = await start(webhook={"secret": "callback-secret", "callback_url": url})
    from conftest import signed

    raw, headers = signed("callback-secret", {"customer_id": "buyer", "text": "转人工"})
    body = await (await client.post("/api/v1/webhook/messages", data=raw, headers=headers)).json()
    path = f"/api/v1/conversations/{body['conversation_id']}/messages"
    reply = await client.post(path, json={"text": "您好，我是客服小王"}, headers=ADMIN)
    assert reply.status == 200
    await _wait_for(lambda: received)
    payload, headers = received[0]
    assert auth.signature_ok("callback-secret", payload, headers["X-Reception-Signature"])
    assert "您好，我是客服小王".encode() in payload
    assert [m["sender"] for m in await history(client, body["conversation_id"])] == ["buyer", "system", "agent"]


async def test_a_failing_callback_is_retried_with_backoff(start, aiohttp_server, clock):
    url, received, calls = await _receiver(aiohttp_server, fail_first=2)
    client = await start(webhook={"callback_url": url})
    body = await send(client, "buyer", "转人工")
    await client.post(f"/api/v1/conversations/{body['conversation_id']}/messages", json={"text": "hello"},
                      headers=ADMIN)
    await _wait_for(lambda: calls["n"] >= 1)
    assert received == []
    await _wait_for(lambda: received, clock=clock, step=5)
    assert calls["n"] == 3
    reception = client.app[RECEPTION]
    # the receiver has the callback a moment before its event is stored
    [delivered] = await eventually(lambda: reception.store.events(name="callback.delivered"))
    assert delivered.data["attempts"] == 3


async def test_staff_reply_validation(client):
    body = await send(client, "buyer", "转人工")
    path = f"/api/v1/conversations/{body['conversation_id']}/messages"
    assert (await client.post(path, json={"text": "hi"})).status == 401
    empty = await client.post(path, json={"text": "  "}, headers=ADMIN)
    assert empty.status == 422
    assert (await empty.json())["error"]["fields"][0]["field"] == "text"

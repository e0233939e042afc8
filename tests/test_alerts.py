"""Alerts: past three minutes after the hour, the hour's figures meet their limits; a breach is an event and a POST."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from aiohttp import web
from conftest import agent, eventually, reply, send, set_status

from reception.config import load_settings
from reception.core import RECEPTION
from reception.metrics.alerts import limits


async def test_slow_first_replies_raise_an_alert_after_the_hour(start, clock, aiohttp_server):
    received = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/alert", hook)
    server = await aiohttp_server(app)
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=5)],
                         alerts={"min_requests": 2, "webhook_url": str(server.make_url("/alert"))})
    await set_status(client, "alice", "online")
    first = await send(client, "b1", "转人工")
    second = await send(client, "b2", "转人工")
    await clock.advance(150)  # past the 2-minute rule, inside the 3-minute one
    for body in (first, second):
        await reply(client, body["conversation_id"], "alice")
    reception = client.app[RECEPTION]
    await clock.advance(3600 - 150 + 120)  # 09:02: not yet
    await asyncio.sleep(0.3)
    assert await reception.store.events(name="alert.raised") == []
    await clock.advance(60)  # 09:03: the 08:00 hour is judged
    [raised] = await eventually(lambda: reception.store.events(name="alert.raised"))
    assert raised.data == {"metric": "first_reply_2min_rate", "value": 0.0, "limit": 0.8, "direction": "below",
                           "date": "2026-11-11", "hour": 8, "requests": 2}
    await eventually(lambda: received)
    assert received[0]["alert"]["metric"] == "first_reply_2min_rate"


def test_big_sale_brings_its_own_limits():
    settings = load_settings(None, env={}, overrides={"big_sale": {
        "enabled": True, "from": "2026-11-11T00:00:00+08:00", "to": "2026-11-12T00:00:00+08:00",
        "alerts": {"first_reply_2min_min": 0.6}}})
    during = datetime(2026, 11, 11, 4, tzinfo=timezone.utc)
    after = datetime(2026, 11, 13, tzinfo=timezone.utc)
    assert limits(settings, during)["first_reply_2min_min"] == 0.6
    assert limits(settings, after)["first_reply_2min_min"] == 0.8
    assert limits(settings, during)["non_service_max"] == 0.1

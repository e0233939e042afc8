"""Issue 12 (hardening): hostile widget frames and tokens never kill the WebSocket nor log a traceback.

A bad frame gets an ``error`` frame and the socket stays usable (a good frame
after it is answered); a forged token, whatever its characters, closes with 4401.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import WSMsgType, web
from rawhttp import assert_quiet
from test_webchat import connect, frames_until, session

from reception.hookspecs import hookimpl


async def _still_usable(ws, client_id: str) -> None:
    await ws.send_json({"type": "message", "client_id": client_id, "text": "什么时候发货"})
    frames = await frames_until(ws, "status")
    assert frames[-1]["type"] == "status" and [f["sender"] for f in frames if f["type"] == "message"] == ["buyer",
                                                                                                          "bot"]


async def _refused(ws, raw: str) -> dict:
    await ws.send_str(raw)
    frame = await asyncio.wait_for(ws.receive_json(), 5)
    assert frame["type"] == "error" and frame["code"] == "invalid_frame", frame
    return frame


@pytest.mark.parametrize("after", ["1" + "0" * 30, "1e30", "1e400", str(2**63), str(2**62 + 1), "-1", "1.5", '"x"'])
async def test_a_sync_after_outside_the_sequence_range_is_an_error_frame(client, caplog, after):
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    frame = await _refused(ws, '{"type": "sync", "after": %s}' % after)
    assert frame["message"].startswith("after:")
    await _still_usable(ws, "after-bad-sync")
    await ws.send_json({"type": "sync", "after": 2**62})  # the largest accepted: nothing after it
    assert [f["type"] for f in await frames_until(ws, "synced")] == ["synced"]
    await ws.close()
    assert_quiet(caplog)


@pytest.mark.parametrize("raw,problem", [
    ("[" * 30_000 + "]" * 30_000, "nested too deeply"),  # 60 KB, under the frame limit
    ('{"type": "sync", "after": ' + "[" * 20_000 + "]" * 20_000 + "}", "nested too deeply"),
    ('{"type": "sync", "after": ' + "9" * 4301 + "}", "more than 4300 digits"),
    ("{not json", "not valid JSON"),
], ids=["nested-array", "nested-after", "4301-digit-number", "syntax"])
async def test_a_frame_that_is_not_acceptable_json_is_an_error_frame(client, caplog, raw, problem):
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    frame = await _refused(ws, raw)
    assert problem in frame["message"]
    await _still_usable(ws, "after-bad-json")
    await ws.close()
    assert_quiet(caplog)


async def test_a_message_frame_with_a_lone_surrogate_is_an_error_frame(client, caplog):
    me = await session(client)
    ws, _ = await connect(client, me["token"])
    frame = await _refused(ws, json.dumps({"type": "message", "client_id": "s", "text": "\ud800"}))
    assert frame["client_id"] == "s" and frame["message"].startswith("text:")
    await _still_usable(ws, "after-surrogate")
    await ws.close()
    assert_quiet(caplog)


@pytest.mark.parametrize("token", ["wc_someone.%C3%A9%C3%A9", "wc_someone.%E7%AD%BE%E5%90%8D", "wc_%FF.%FE00",
                                   "wc_someone.deadbeef"], ids=["accented", "chinese", "not-utf8", "ascii"])
async def test_a_forged_token_of_any_characters_closes_with_4401(client, caplog, token):
    ws = await client.ws_connect(f"/api/v1/webchat/ws?token={token}")
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == WSMsgType.CLOSE and ws.close_code == 4401, message
    assert_quiet(caplog)


@pytest.mark.parametrize("token", ["%FF%FE-not-utf8", "alice-token%C3%A9", "%E4%BB%A4%E7%89%8C"])
async def test_the_agent_socket_refuses_a_token_of_any_characters_with_4401(start, caplog, token):
    client = await start(agents=[{"id": "shop:alice", "token": "alice-token", "groups": ["pre_sales"]}])
    ws = await client.ws_connect(f"/api/v1/agents/shop:alice/ws?token={token}")
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == WSMsgType.CLOSE and ws.close_code == 4401, message
    assert_quiet(caplog)


class _Crashing:
    """A plugin whose WebSocket handler fails after the upgrade, as a bug would."""

    @hookimpl
    def register_routes(self, route, reception) -> None:
        async def crash(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.receive()
            raise RuntimeError("a bug after the upgrade")

        route("GET", "/crash/ws", crash, "Fails after the upgrade")


async def test_an_error_after_the_upgrade_closes_the_socket_with_1011_not_a_500_on_the_wire(start):
    client = await start(plugins=(_Crashing(),))
    ws = await client.ws_connect("/crash/ws")
    await ws.send_str("hello")
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == WSMsgType.CLOSE and ws.close_code == 1011, message
    # and the server still serves
    assert (await client.get("/healthz")).status == 200

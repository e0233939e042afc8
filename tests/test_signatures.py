"""Issue 12 §5.1: webhook signatures in both forms; the timestamped one refuses replays outside its window.

Time is the app's virtual clock, so "five minutes later" takes no time and
does not depend on the machine's clock or timezone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp import web
from conftest import ADMIN, WEBHOOK, signed

from reception import auth
from reception.core import RECEPTION

SECRET = "s3cret-value"
BODY = {"customer_id": "buyer-1", "text": "我的快递到哪了"}


def timestamped(secret: str, body: dict, at: int) -> tuple[bytes, dict[str, str]]:
    """A request signed as a shop's integration would, written out by hand (not with our own helper)."""
    raw = json.dumps(body).encode()
    mac = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    return raw, {"X-Reception-Signature": f"t={at},v1={mac}", "Content-Type": "application/json"}


def now(clock) -> int:
    return int(clock.now().timestamp())


async def error_of(response) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def stored(client) -> int:
    return (await client.app[RECEPTION].store.counts())["messages"]


async def test_a_timestamped_signature_is_accepted_and_its_replay_refused_once_stale(start, clock):
    client = await start(webhook={"secret": SECRET})
    raw, headers = timestamped(SECRET, BODY, now(clock))
    first = await client.post(WEBHOOK, data=raw, headers=headers)
    assert first.status == 200, await first.text()
    await clock.advance(299)
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 200  # inside the window
    before = await stored(client)
    await clock.advance(2)  # now 301 s after t
    replay = await client.post(WEBHOOK, data=raw, headers=headers)
    assert await error_of(replay) == (401, "stale_signature")
    assert "300" in (await replay.json())["error"]["message"]
    assert await stored(client) == before


async def test_a_timestamp_from_the_future_beyond_the_window_is_stale_too(start, clock):
    client = await start(webhook={"secret": SECRET})
    raw, headers = timestamped(SECRET, BODY, now(clock) + 301)
    assert await error_of(await client.post(WEBHOOK, data=raw, headers=headers)) == (401, "stale_signature")
    raw, headers = timestamped(SECRET, BODY, now(clock) + 300)
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 200


async def test_the_tolerance_comes_from_the_config(start, clock):
    client = await start(webhook={"secret": SECRET, "signature_tolerance_seconds": 30})
    raw, headers = timestamped(SECRET, BODY, now(clock) - 31)
    assert await error_of(await client.post(WEBHOOK, data=raw, headers=headers)) == (401, "stale_signature")
    raw, headers = timestamped(SECRET, BODY, now(clock) - 30)
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 200


async def test_a_wrong_timestamped_signature_is_bad_not_stale(start, clock):
    client = await start(webhook={"secret": SECRET})
    for raw, headers in (timestamped("another-secret", BODY, now(clock)),
                         timestamped("another-secret", BODY, now(clock) - 3600)):
        assert await error_of(await client.post(WEBHOOK, data=raw, headers=headers)) == (401, "bad_signature")
    raw, headers = timestamped(SECRET, BODY, now(clock))
    tampered = raw.replace(b"buyer-1", b"buyer-2")
    assert await error_of(await client.post(WEBHOOK, data=tampered, headers=headers)) == (401, "bad_signature")
    # the timestamp is signed: moving it forward breaks the signature
    moved = {**headers, "X-Reception-Signature": headers["X-Reception-Signature"].replace(
        f"t={now(clock)}", f"t={now(clock) + 1}")}
    assert await error_of(await client.post(WEBHOOK, data=raw, headers=moved)) == (401, "bad_signature")
    assert await stored(client) == 0


@pytest.mark.parametrize("value", [
    "t=1762819200", "v1=" + "0" * 64, "t=abc,v1=" + "0" * 64, "t=1,t=2,v1=" + "0" * 64, "t=1;v1=" + "0" * 64,
    "t=-5,v1=" + "0" * 64, "t=1,v1=", "sha256", "t=1, v1=" + "0" * 64 + ",", "garbage", "t=" + "9" * 40 + ",v1=ab",
])
async def test_a_malformed_signature_header_is_bad_signature(start, value):
    client = await start(webhook={"secret": SECRET})
    response = await client.post(WEBHOOK, data=json.dumps(BODY).encode(),
                                 headers={"X-Reception-Signature": value, "Content-Type": "application/json"})
    assert await error_of(response) == (401, "bad_signature")
    assert await stored(client) == 0


async def test_spaces_and_several_v1_values_are_accepted_as_stripe_sends_them(start, clock):
    client = await start(webhook={"secret": SECRET})
    raw, headers = timestamped(SECRET, BODY, now(clock))
    good = headers["X-Reception-Signature"].split(",v1=")[1]
    headers["X-Reception-Signature"] = f" t={now(clock)}, v0=ignored, v1={'0' * 64}, v1={good} "
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 200


async def test_the_plain_form_keeps_working_unless_a_timestamp_is_required(start):
    client = await start(webhook={"secret": SECRET})
    raw, headers = signed(SECRET, BODY)
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 200
    assert await error_of(await client.post(WEBHOOK, json=BODY)) == (401, "bad_signature")


async def test_require_timestamp_refuses_the_plain_form(start, clock):
    client = await start(webhook={"secret": SECRET, "require_timestamp": True})
    raw, headers = signed(SECRET, BODY)
    assert await error_of(await client.post(WEBHOOK, data=raw, headers=headers)) == (401, "timestamp_required")
    raw, headers = timestamped(SECRET, BODY, now(clock))
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 200


async def test_callbacks_carry_both_signatures_timestamped_with_the_app_clock(start, aiohttp_server, clock):
    received: list[tuple[bytes, dict[str, str]]] = []

    async def callback(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/callback", callback)
    server = await aiohttp_server(app)
    client = await start(webhook={"secret": SECRET, "callback_url": str(server.make_url("/callback"))})
    raw, headers = timestamped(SECRET, {"customer_id": "buyer", "text": "转人工"}, now(clock))
    conversation = (await (await client.post(WEBHOOK, data=raw, headers=headers)).json())["conversation_id"]
    await clock.advance(42)
    reply = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "您好"}, headers=ADMIN)
    assert reply.status == 200
    for _ in range(500):
        if received:
            break
        await asyncio.sleep(0.01)
    payload, got = received[0]
    assert got["X-Reception-Signature"] == "sha256=" + hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    stamp = now(clock)
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    assert got["X-Reception-Signature-Timestamped"] == f"t={stamp},v1={mac}"
    # a shop may verify our callbacks with the same rule it signs with
    auth.verify_signature(SECRET, payload, got["X-Reception-Signature-Timestamped"], stamp + 10, 300)


async def test_the_worked_example_in_docs_security_md_is_right(start, clock):
    """The body, moment and both header values shown in docs/security.md, posted as shown."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    body = re.search(r"```json\n(.*?)\n```", page, re.S).group(1).encode()  # type: ignore[union-attr]
    headers = re.findall(r"^\| (?:timestamped|plain) \| `X-Reception-Signature: ([^`]+)` \|$", page, re.M)
    assert [h.split("=")[0] for h in headers] == ["t", "sha256"]
    at = int(headers[0].split(",")[0].removeprefix("t="))
    assert datetime.fromtimestamp(at, timezone.utc) == datetime(2026, 11, 11, tzinfo=timezone.utc)
    clock.set(datetime.fromtimestamp(at, timezone.utc) + timedelta(seconds=5))
    client = await start(webhook={"secret": "s3cret-value"})
    for header in headers:
        response = await client.post(WEBHOOK, data=body, headers={"X-Reception-Signature": header,
                                                                   "Content-Type": "application/json"})
        assert response.status == 200, (header, await response.text())

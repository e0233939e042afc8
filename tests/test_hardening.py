"""Issue 12 (hardening): hostile input without credentials gets a 4xx and logs no traceback; agents take only
buyers someone handed over; a 405 keeps its Allow header; `reception serve` drops unfinished request headers."""

from __future__ import annotations

import asyncio
import re

import pytest
from conftest import ADMIN, WEBHOOK, agent, bearer, send, serve, set_status
from rawhttp import assert_quiet, raw_request

from reception.core import RECEPTION
from reception.openapi import OPERATIONS

SESSION = "/api/v1/webchat/session"
SECRET = "s3cr3t-value"
DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 KB, under the body limit
LONG_NUMBER = b'{"customer_id": "c", "text": "hi", "token": ' + b"7" * 4301 + b"}"


# -- §1: bad input without credentials --------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["sha256=é".encode(), b"sha256=\xe9\xff", "签名".encode()],
                         ids=["utf8-non-ascii", "not-utf8", "chinese"])
async def test_a_non_ascii_signature_is_refused_with_401(start, caplog, value):
    client = await start(webhook={"secret": SECRET})
    response = await raw_request(client, "POST", WEBHOOK, [("X-Reception-Signature", value),
                                                           ("Content-Type", b"application/json")],
                                 b'{"customer_id": "c", "text": "hi"}')
    assert response.status == 401 and response.json()["error"]["code"] == "bad_signature"
    assert (await client.app[RECEPTION].store.counts())["messages"] == 0
    assert_quiet(caplog)


def _protected(app) -> list[tuple[str, str]]:
    """Every operation that needs an admin or agent bearer token, with its path parameters filled in."""
    return [(op.method.upper(), re.sub(r"{\w+}", "x", op.path)) for op in app[OPERATIONS]
            if op.auth in ("admin", "agent")]


async def test_a_non_utf8_authorization_header_is_a_401_on_every_token_protected_endpoint(start, caplog):
    client = await start(agents=[agent("alice", ["pre_sales"])])
    endpoints = _protected(client.app)
    assert len(endpoints) > 20
    for header in (b"Bearer \xff\xfe-not-utf8", b"Bearer admin-token-for-tests\xc3", "Bearer 令牌é".encode()):
        for method, path in endpoints:
            response = await raw_request(client, method, path, [("Authorization", header)])
            assert 400 <= response.status < 500, (method, path, response.status, response.body)
            assert "error" in response.json(), (method, path)
            if not path.endswith("/ws"):  # a WebSocket route refuses a plain GET before looking at tokens
                assert response.status == 401, (method, path, response.status, response.body)
    assert_quiet(caplog)


@pytest.mark.parametrize("path", [WEBHOOK, SESSION])
@pytest.mark.parametrize("body,problem", [(DEEP, "nested too deeply"), (LONG_NUMBER, "more than 4300 digits")],
                         ids=["nested-100000-deep", "4301-digit-number"])
async def test_json_too_deep_or_with_too_long_a_number_is_a_400_naming_the_problem(client, caplog, path, body,
                                                                                     problem):
    response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_json" and problem in error["message"]
    assert (await client.app[RECEPTION].store.counts())["messages"] == 0
    assert_quiet(caplog)


async def test_a_deep_body_on_a_signed_webhook_is_a_400_too(start, caplog):
    import hashlib
    import hmac

    client = await start(webhook={"secret": SECRET})
    signature = "sha256=" + hmac.new(SECRET.encode(), DEEP, hashlib.sha256).hexdigest()
    response = await client.post(WEBHOOK, data=DEEP, headers={"X-Reception-Signature": signature})
    assert response.status == 400 and "nested too deeply" in (await response.json())["error"]["message"]
    assert_quiet(caplog)


@pytest.mark.parametrize("token", ["wc_0123456789abcdef01234567.é0é0", "wc_abc.签名", "wc_\udc80.00"],
                         ids=["accented", "chinese", "lone-surrogate"])
async def test_a_widget_token_with_a_non_ascii_signature_is_a_422_naming_the_field(client, caplog, token):
    import json

    body = json.dumps({"token": token}).encode()  # ensure_ascii: a lone surrogate travels as \udc80
    response = await client.post(SESSION, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_field" and error["message"].startswith("token:")
    assert_quiet(caplog)


async def test_a_forged_ascii_widget_token_still_gets_a_fresh_identity(client, caplog):
    response = await client.post(SESSION, json={"token": "wc_someone.deadbeef"})
    assert response.status == 200
    assert (await response.json())["customer_id"] != "wc_someone"
    assert_quiet(caplog)


# -- §3: agents take only buyers somebody handed over --------------------------------------------------------

async def _bot_conversation(start, **sections):
    """A shop with alice online and a buyer the bot is serving (nobody handed them over)."""
    client = await start(agents=[agent("alice", ["pre_sales"])], **sections)
    await set_status(client, "alice", "online")
    body = await send(client, "browsing", "什么时候发货")
    assert body["status"] == "bot" and body["handover"] is None
    return client, body["conversation_id"]


async def test_an_agent_cannot_accept_a_conversation_the_bot_still_holds(start, caplog):
    client, conversation_id = await _bot_conversation(start)
    base = f"/api/v1/conversations/{conversation_id}"
    refused = await client.post(f"{base}/accept", headers=bearer("alice-token"))
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "not_handed_over"
    for path in ("messages", "history"):
        read = await client.get(f"{base}/{path}", headers=bearer("alice-token"))
        assert read.status in (403, 404), path
    assert (await client.get(f"{base}/messages", headers=ADMIN)).status == 200
    conv = await client.app[RECEPTION].store.conversation(conversation_id)
    assert conv.status == "bot" and conv.agent_id is None
    # the admin cannot hand it to her either
    by_admin = await client.post(f"{base}/accept", headers=ADMIN, json={"agent_id": "shop:alice"})
    assert by_admin.status == 409
    assert_quiet(caplog)


async def test_with_pool_scope_all_a_recent_bot_conversation_is_in_the_pool_and_can_be_taken(start, clock):
    # the pool's own runs are off, so only alice's accept can move the buyer
    client, conversation_id = await _bot_conversation(
        start, offline_pool={"scope": "all", "max_age_hours": 1, "enabled": False})
    await clock.advance(30 * 60)
    base = f"/api/v1/conversations/{conversation_id}"
    taken = await client.post(f"{base}/accept", headers=bearer("alice-token"))
    assert taken.status == 200, await taken.text()
    conv = client.app[RECEPTION].router.active[conversation_id]
    assert conv.status == "assigned" and conv.agent_id == "shop:alice"
    assert (await client.get(f"{base}/messages", headers=bearer("alice-token"))).status == 200


async def test_with_pool_scope_all_a_bot_conversation_older_than_the_pool_cannot_be_taken(start, clock):
    client, conversation_id = await _bot_conversation(
        start, offline_pool={"scope": "all", "max_age_hours": 1, "enabled": False})
    await clock.advance(2 * 3600)
    refused = await client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=bearer("alice-token"))
    assert refused.status == 409 and (await refused.json())["error"]["code"] == "not_handed_over"


# -- §5: the Allow header, and unfinished request headers -------------------------------------------------------

async def test_a_405_keeps_its_allow_header(client):
    response = await client.get(WEBHOOK)
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_serve_closes_a_connection_that_never_finishes_its_headers(tmp_path):
    (tmp_path / "reception.toml").write_text("[server]\nheader_timeout_seconds = 1\n", encoding="utf-8")
    proc, url = await serve("--db", "shop.db", cwd=tmp_path)
    host, port = re.search(r"http://([^:/\s]+):(\d+)", url).groups()
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")  # and never the rest
        await writer.drain()
        # the server hangs up without an answer; without a bound it would wait for the rest for an hour
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        # a whole request on a new connection is still served
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"HTTP/1.1 200")
        writer.close()
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert "Traceback" not in err.decode()


def test_the_header_timeout_is_a_validated_setting(tmp_path):
    from reception.config import ConfigError
    from reception.testing import make_settings

    assert make_settings(tmp_path).server.header_timeout_seconds == 10
    with pytest.raises(ConfigError, match="server.header_timeout_seconds"):
        make_settings(tmp_path, server={"header_timeout_seconds": 0})

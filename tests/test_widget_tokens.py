"""Issue 12 §5.2: the widget's signing secret stays out of the database, rotates, and widget tokens expire and renew.

Real apps on a real SQLite file; the database is read with sqlite3 as an
operator would; time is the virtual clock.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from reception import create_app
from reception.config import ConfigError, load_settings
from reception.testing import make_settings

pytestmark = pytest.mark.sqlite_only("the key file beside the SQLite file, and its kv table read with sqlite3")
SESSION = "/api/v1/webchat/session"
LEGACY = "an-old-secret-from-the-kv-table"


async def shop(aiohttp_client, tmp_path, clock, **webchat):
    settings = make_settings(tmp_path, webchat=webchat, bot={"semantic": "off"})
    return await aiohttp_client(create_app(settings, clock=clock))


async def session(client, token: str | None = None) -> dict:
    response = await client.post(SESSION, json={"token": token} if token else {})
    assert response.status == 200, await response.text()
    return await response.json()


def jump(clock, **delta: float) -> None:
    """Move the virtual clock on without waking the background loops: days of pool runs are not the point here."""
    clock.set(clock.now() + timedelta(**delta))


def kv(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "reception.db") as conn:
        return dict(conn.execute("SELECT key, value FROM kv").fetchall())


def key_file(tmp_path: Path) -> Path:
    return tmp_path / "reception.db.webchat-key"


def secrets_in(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


async def socket_closes_with(client, token: str) -> int | None:
    """The close code of a widget socket opened with `token` (None: it stayed open and said ready)."""
    ws = await client.ws_connect(f"/api/v1/webchat/ws?token={token}")
    message = await ws.receive()
    if message.type == aiohttp.WSMsgType.TEXT:
        await ws.close()
        return None
    return ws.close_code


async def test_the_secret_is_a_private_key_file_not_a_database_row(aiohttp_client, tmp_path, clock):
    client = await shop(aiohttp_client, tmp_path, clock)
    me = await session(client)
    path = key_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [secret] = secrets_in(path)
    assert len(secret) >= 32
    assert kv(tmp_path) == {}
    with sqlite3.connect(tmp_path / "reception.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert secret not in dump
    await client.close()
    again = await shop(aiohttp_client, tmp_path, clock)  # a restart reads the same file
    assert (await session(again, me["token"]))["customer_id"] == me["customer_id"]
    assert secrets_in(path) == [secret]


async def test_a_secret_in_the_config_makes_no_key_file(aiohttp_client, tmp_path, clock):
    client = await shop(aiohttp_client, tmp_path, clock, secret="a-configured-secret-0123")
    await session(client)
    assert not key_file(tmp_path).exists()
    assert kv(tmp_path) == {}


def test_the_secret_can_come_from_the_environment(tmp_path):
    settings = load_settings(None, env={"RECEPTION_WEBCHAT__SECRET": "from-the-environment-0123"},
                             overrides={"store": {"path": str(tmp_path / "x.db")}})
    assert settings.webchat.secret == "from-the-environment-0123"


async def test_a_secret_left_in_the_database_moves_to_the_key_file_and_its_tokens_keep_working(
        aiohttp_client, tmp_path, clock):
    first = await shop(aiohttp_client, tmp_path, clock)  # makes the database, as an earlier release did
    await first.close()
    key_file(tmp_path).unlink()
    with sqlite3.connect(tmp_path / "reception.db") as conn:
        conn.execute("INSERT INTO kv (key, value) VALUES ('webchat_secret', ?)", (LEGACY,))
    # a token as earlier releases made it: customer id and HMAC, no expiry
    old_token = "wc_0123456789abcdef01234567." + hmac.new(LEGACY.encode(), b"wc_0123456789abcdef01234567",
                                                          hashlib.sha256).hexdigest()[:40]
    client = await shop(aiohttp_client, tmp_path, clock)
    assert kv(tmp_path) == {}
    assert secrets_in(key_file(tmp_path)) == [LEGACY]
    assert stat.S_IMODE(key_file(tmp_path).stat().st_mode) == 0o600
    assert await socket_closes_with(client, old_token) is None
    me = await session(client, old_token)
    assert me["customer_id"] == "wc_0123456789abcdef01234567"
    assert me["renewed"] is True and me["token"] != old_token  # renewed at once into a token that expires


async def test_a_secret_left_in_the_database_beside_a_key_file_is_kept_as_an_earlier_secret(
        aiohttp_client, tmp_path, clock):
    first = await shop(aiohttp_client, tmp_path, clock)
    await first.close()
    [current] = secrets_in(key_file(tmp_path))
    with sqlite3.connect(tmp_path / "reception.db") as conn:
        conn.execute("INSERT INTO kv (key, value) VALUES ('webchat_secret', ?)", (LEGACY,))
    client = await shop(aiohttp_client, tmp_path, clock)
    assert kv(tmp_path) == {}
    assert secrets_in(key_file(tmp_path)) == [current, LEGACY]
    await client.close()
    await (await shop(aiohttp_client, tmp_path, clock)).close()
    assert secrets_in(key_file(tmp_path)) == [current, LEGACY]  # moved once


async def test_tokens_signed_with_a_previous_secret_verify_and_are_resigned(aiohttp_client, tmp_path, clock):
    old = await shop(aiohttp_client, tmp_path, clock, secret="the-secret-before-0001")
    me = await session(old)
    await old.close()
    rotated = await shop(aiohttp_client, tmp_path, clock, secret="the-secret-after-00002",
                         previous_secrets=["the-secret-before-0001"])
    assert await socket_closes_with(rotated, me["token"]) is None
    again = await session(rotated, me["token"])
    assert again["customer_id"] == me["customer_id"]
    assert again["renewed"] is True and again["token"] != me["token"]
    await rotated.close()
    retired = await shop(aiohttp_client, tmp_path, clock, secret="the-secret-after-00002")
    assert (await session(retired, again["token"]))["customer_id"] == me["customer_id"]
    assert (await session(retired, me["token"]))["customer_id"] != me["customer_id"]  # old secret retired
    assert await socket_closes_with(retired, me["token"]) == 4401


async def test_rotation_through_the_key_file(aiohttp_client, tmp_path, clock):
    first = await shop(aiohttp_client, tmp_path, clock)
    me = await session(first)
    await first.close()
    path = key_file(tmp_path)
    path.write_text("# rotated\nthe-new-current-secret-0123\n" + "\n".join(secrets_in(path)) + "\n")
    client = await shop(aiohttp_client, tmp_path, clock)
    again = await session(client, me["token"])
    assert again["customer_id"] == me["customer_id"] and again["renewed"] is True


async def test_a_key_file_readable_by_others_is_made_private(aiohttp_client, tmp_path, clock):
    path = key_file(tmp_path)
    path.write_text("a-hand-made-secret-0123456789\n")
    path.chmod(0o644)
    client = await shop(aiohttp_client, tmp_path, clock)
    await session(client)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_key_file_with_a_short_secret_stops_the_start_naming_the_file(aiohttp_client, tmp_path, clock):
    path = key_file(tmp_path)
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="webchat-key: secret 1 is shorter than 16"):
        await shop(aiohttp_client, tmp_path, clock)


async def test_an_expired_token_gets_a_fresh_identity_not_an_error(aiohttp_client, tmp_path, clock):
    client = await shop(aiohttp_client, tmp_path, clock, token_days=30)
    me = await session(client)
    assert me["renewed"] is False
    assert me["expires_at"] == (clock.now() + timedelta(days=30)).isoformat()
    jump(clock, days=30)  # no background loop needs to run meanwhile
    fresh = await session(client, me["token"])
    assert fresh["customer_id"] != me["customer_id"] and fresh["renewed"] is False
    assert await socket_closes_with(client, me["token"]) == 4401  # the widget then asks for a new identity
    assert await socket_closes_with(client, fresh["token"]) is None


async def test_a_token_past_half_its_life_is_renewed_for_the_same_buyer(aiohttp_client, tmp_path, clock):
    client = await shop(aiohttp_client, tmp_path, clock, token_days=10)
    me = await session(client)
    jump(clock, days=4)
    assert await session(client, me["token"]) == me  # still fresh: the same token back
    jump(clock, days=1, seconds=1)
    renewed = await session(client, me["token"])
    assert renewed["customer_id"] == me["customer_id"] and renewed["renewed"] is True
    assert renewed["token"] != me["token"]
    assert renewed["expires_at"] == (clock.now() + timedelta(days=10)).replace(microsecond=0).isoformat()
    jump(clock, days=9)  # past the first token's expiry, inside the renewed one's
    assert (await session(client, renewed["token"]))["customer_id"] == me["customer_id"]
    assert (await session(client, me["token"]))["customer_id"] != me["customer_id"]


@pytest.mark.parametrize("mangle", [
    lambda t: t.rsplit(".", 1)[0] + ".0000",  # forged signature
    lambda t: t.split(".")[0] + ".9999999999." + t.rsplit(".", 1)[1],  # expiry moved: the signature breaks
    lambda t: "wc_x." + t,  # extra part
])
async def test_a_tampered_token_is_a_new_buyer(aiohttp_client, tmp_path, clock, mangle):
    client = await shop(aiohttp_client, tmp_path, clock)
    me = await session(client)
    other = await session(client, mangle(me["token"]))
    assert other["customer_id"] != me["customer_id"] and other["renewed"] is False

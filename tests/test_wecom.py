"""The WeCom customer-service channel against a local emulator of WeCom's API (tests/wecom_emulator.py).

Each test starts the real app (`create_app`, a real database, real HTTP) with ``[plugin.wecom]`` pointed
at the emulator, which checks every call as WeCom documents it; the crypto is checked against the sample
vectors of WeCom's own callback sample code.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import agent, bearer, eventually, query, set_status
from wecom_emulator import AES_KEY, CORP_ID, TOKEN, Emulator, config, signed

from reception import create_app
from reception.channels.wecom import PATH, WecomChannel
from reception.channels.wecom.api import split_text
from reception.channels.wecom.crypto import CallbackRefused, Crypto, signature
from reception.plugin import RECEPTION, ConfigError
from reception.testing import make_settings

HOURS = {"open": ["08:00-23:00"]}  # the virtual clock starts at 08:00 in Shanghai: open
# WeCom's callback sample (WXBizMsgCrypt's Sample.py): URL check and an encrypted message, same corp and key
SAMPLE_GET = {"msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "timestamp": "1476416373",
              "nonce": "47744683",
              "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="}
SAMPLE_ECHO = "1288432023552776189"
SAMPLE_POST = {"msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "timestamp": "1476422779",
               "nonce": "1597212914"}
SAMPLE_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew"
    "+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24Yhm"
    "ZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcw"
    "ocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+")
SAMPLE_PLAIN = ("<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
                "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
                "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>")


@pytest.fixture
async def emulator(aiohttp_server) -> Emulator:
    emu = Emulator()
    server = await aiohttp_server(emu.app())
    emu.url = str(server.make_url("")).rstrip("/")
    yield emu
    assert emu.violations == [], emu.violations  # every call the channel made was one WeCom accepts


@pytest.fixture
def wecom(start, emulator):
    """Start a shop with the WeCom channel on the emulator: ``await wecom(agents=[…], wecom={…})``."""

    async def _start(wecom: dict[str, Any] | None = None, **sections: Any):
        sections.setdefault("hours", HOURS)
        table = config(emulator.url, **{"pull_on_start": False, **(wecom or {})})  # calls only when a test says
        return await start(plugin={"wecom": table}, **sections)

    return _start


async def deliver(client, emulator: Emulator) -> None:
    """POST the callback WeCom would send now and wait until the channel has pulled and handed everything on."""
    params, body = emulator.callback()
    response = await client.post(PATH, params=params, data=body, headers={"Content-Type": "text/xml"})
    assert response.status == 200, await response.text()
    assert await response.text() == "success"
    channel = client.app[RECEPTION].channels["wecom"]
    assert isinstance(channel, WecomChannel)
    await channel.idle()


async def sent_to(emulator: Emulator, userid: str, count: int) -> list[str]:
    """Wait until `count` messages reached `userid` through kf/send_msg; those messages."""
    await eventually(lambda: len(emulator.texts_to(userid)) >= count)
    return emulator.texts_to(userid)


# -- the crypto, against WeCom's sample ------------------------------------------------------------
def test_the_crypto_opens_wecom_s_sample_vectors():
    crypto = Crypto(TOKEN, AES_KEY, CORP_ID)
    assert signature(TOKEN, SAMPLE_GET["timestamp"], SAMPLE_GET["nonce"], SAMPLE_GET["echostr"]) == \
        SAMPLE_GET["msg_signature"]
    assert crypto.open(SAMPLE_GET["msg_signature"], SAMPLE_GET["timestamp"], SAMPLE_GET["nonce"],
                       SAMPLE_GET["echostr"]) == SAMPLE_ECHO
    assert crypto.open(SAMPLE_POST["msg_signature"], SAMPLE_POST["timestamp"], SAMPLE_POST["nonce"],
                       SAMPLE_ENCRYPT) == SAMPLE_PLAIN
    with pytest.raises(CallbackRefused) as refused:
        crypto.open("0" * 40, SAMPLE_POST["timestamp"], SAMPLE_POST["nonce"], SAMPLE_ENCRYPT)
    assert refused.value.status == 401
    with pytest.raises(CallbackRefused) as other_corp:
        Crypto(TOKEN, AES_KEY, "wwsomeoneelse").decrypt(SAMPLE_ENCRYPT)
    assert other_corp.value.status == 400


def test_long_texts_are_cut_under_wecom_s_2048_bytes():
    # 2047 bytes, then the rest
    assert split_text("第一段。\n" + "长" * 1000) == ["第一段。\n" + "长" * 678, "长" * 322]
    assert split_text("a" * 1500 + "\n" + "b" * 1000) == ["a" * 1500, "b" * 1000]  # at the line break
    assert split_text("短") == ["短"]


# -- the callback URL ------------------------------------------------------------------------------
async def test_url_verification_answers_the_decrypted_echostr(wecom, emulator):
    client = await wecom()
    answer = await client.get(PATH, params=SAMPLE_GET)
    assert answer.status == 200 and answer.content_type == "text/plain"
    assert await answer.text() == SAMPLE_ECHO
    spec = await (await client.get("/api/openapi.json")).json()
    assert set(spec["paths"][PATH]) == {"get", "post"}


async def test_bad_signatures_and_bodies_get_4xx_without_a_traceback(wecom, emulator, caplog):
    client = await wecom()
    caplog.set_level(logging.DEBUG)
    wrong = await client.get(PATH, params={**SAMPLE_GET, "msg_signature": "f" * 40})
    assert wrong.status == 401 and (await wrong.json())["error"]["code"] == "bad_signature"
    params, body = emulator.callback()
    forged = await client.post(PATH, params={**params, "timestamp": "1"}, data=body)
    assert forged.status == 401
    assert (await client.post(PATH, params=params, data=b"<xml><Encrypt>")).status == 400
    dtd = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    assert (await client.post(PATH, params=params, data=dtd)).status == 400
    assert (await client.post(PATH, params=params, data=b"<xml>" + b" " * 70_000 + b"</xml>")).status == 413
    assert (await client.get(PATH, params={"echostr": "x"})).status == 400
    assert emulator.sync_calls == 0  # nothing refused reached WeCom's API
    assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text


# -- buyers and the bot ----------------------------------------------------------------------------
async def test_a_buyer_s_text_is_answered_by_the_bot_through_send_msg(wecom, emulator, caplog):
    client = await wecom()
    emulator.fail_batchget = True  # WeCom cannot say who the buyer is: the message goes on without the name
    msgid = emulator.buyer_says("wm-buyer-1", "什么时候发货")
    await deliver(client, emulator)
    assert "nicknames not read" in caplog.text
    [answer] = await sent_to(emulator, "wm-buyer-1", 1)
    reception = client.app[RECEPTION]
    conv = await reception.store.latest_conversation("wecom", "wm-buyer-1")
    messages = await reception.store.messages(conv.id)
    assert (messages[0].sender, messages[0].message_id) == ("buyer", msgid)
    assert messages[-1].sender == "bot" and messages[-1].text == answer
    [answered] = await reception.store.events(name="bot.answered")
    assert answered.data["intent"] == "shipping_time"
    await deliver(client, emulator)  # a callback with nothing new: nothing handed on twice, nothing sent
    assert len(await reception.store.messages(conv.id)) == len(messages)
    assert len(emulator.texts_to("wm-buyer-1")) == 1


async def test_cards_menu_clicks_and_events(wecom, emulator):
    client = await wecom(wecom={"product_pattern": r"[?&]item=(\w+)"})
    emulator.event("wm-card", "enter_session", scene="123")
    emulator.buyer_says("wm-card", msgtype="channels_shop_product", product_id="P1001", title="纯棉T恤")
    emulator.buyer_says("wm-card", msgtype="link", title="这件", url="https://shop.example/p?item=P2002")
    emulator.buyer_says("wm-card", "查物流", menu_id="101")
    emulator.buyer_says("wm-card", msgtype="image", media_id="MEDIA")
    await deliver(client, emulator)
    reception = client.app[RECEPTION]
    conv = await reception.store.latest_conversation("wecom", "wm-card")
    buyer = [m for m in await reception.store.messages(conv.id) if m.sender == "buyer"]
    assert [(m.card.type, m.card.id) if m.card else None for m in buyer] == \
        [("product", "P1001"), ("product", "P2002"), None, None]
    assert buyer[2].text == "查物流" and buyer[3].text == "[图片] [image]"


# -- a human, then the rating ----------------------------------------------------------------------
async def test_a_buyer_asks_for_a_human_gets_the_agent_s_reply_and_rates(wecom, emulator):
    client = await wecom(agents=[agent("alice", ["pre_sales"])])
    await set_status(client, "alice", "online")
    emulator.nicknames["wm-buyer-2"] = "小红🌸"
    emulator.buyer_says("wm-buyer-2", "转人工")
    await deliver(client, emulator)
    [notice] = await sent_to(emulator, "wm-buyer-2", 1)  # the bot says a person is coming
    mine = await (await client.get("/api/v1/agents/shop:alice/conversations", headers=bearer("alice-token"))).json()
    [conv] = mine["conversations"]
    assert conv["buyer"]["display_name"] == "小红🌸"  # the agent sees the buyer's WeChat nickname
    assert emulator.batchgets == [{"external_userid_list": ["wm-buyer-2"], "need_enter_session_context": 0}]
    path = f"/api/v1/conversations/{conv['conversation_id']}"
    reply = await client.post(f"{path}/messages", json={"text": "您好，我是客服小王，请问有什么可以帮您？"},
                              headers=bearer("alice-token"))
    assert reply.status == 200, await reply.text()
    texts = await sent_to(emulator, "wm-buyer-2", 2)
    assert texts[1] == "您好，我是客服小王，请问有什么可以帮您？"
    closed = await client.post(f"{path}/close", headers=bearer("alice-token"))
    assert closed.status == 200, await closed.text()
    texts = await sent_to(emulator, "wm-buyer-2", 3)
    assert "满意" in texts[2]  # the rating request
    emulator.buyer_says("wm-buyer-2", "5")
    await deliver(client, emulator)
    texts = await sent_to(emulator, "wm-buyer-2", 4)
    assert len(emulator.batchgets) == 1  # asked once per buyer, not per message
    reception = client.app[RECEPTION]
    [rated] = await reception.store.events(name="satisfaction.rated")
    assert rated.data["score"] == 5 and rated.data["agent_id"] == "shop:alice"
    thanks = [m for m in await reception.store.messages(conv["conversation_id"]) if m.kind == "rating_thanks"]
    assert [m.text for m in thanks] == [texts[3]]
    assert notice != texts[1]


# -- the cursor ------------------------------------------------------------------------------------
async def test_the_cursor_survives_a_restart_without_replaying_or_losing_messages(wecom, emulator, database):
    emulator.page_size = 2
    client = await wecom()
    for i in range(3):
        emulator.buyer_says(f"wm-r{i}", "什么时候发货")
    await deliver(client, emulator)
    assert len(emulator.cursors_asked) == 2 and emulator.cursors_asked[0] is None  # two pages of two and one
    assert emulator.cursors_asked[1].startswith("cur0002")
    await eventually(lambda: len(emulator.sent) == 3)
    [(saved,)] = query(database, "SELECT value FROM kv WHERE key=?",
                       f"plugin.wecom.cursor:{emulator.messages[0]['open_kfid']}")
    assert saved.startswith("cur0003")
    await client.close()

    emulator.buyer_says("wm-r3", "什么时候发货")  # while the shop is down: WeCom's callback goes nowhere
    client = await wecom(wecom={"pull_on_start": True})  # a new process on the same database
    await eventually(lambda: len(emulator.sent) == 4)  # pulled at start, with no callback
    assert emulator.cursors_asked[2] == saved  # resumed where the last pull ended
    emulator.buyer_says("wm-r4", "什么时候发货")
    await deliver(client, emulator)
    await eventually(lambda: len(emulator.sent) == 5)
    assert sorted(s.touser for s in emulator.sent) == ["wm-r0", "wm-r1", "wm-r2", "wm-r3", "wm-r4"]
    received = query(database, "SELECT COUNT(*) FROM events WHERE name='message.received'")
    assert received == [(5,)]  # nothing replayed, nothing lost


# -- the access token and retries ------------------------------------------------------------------
async def test_the_access_token_is_cached_and_refreshed_on_42001_and_expiry(wecom, emulator, clock):
    client = await wecom()
    emulator.buyer_says("wm-t", "什么时候发货")
    await deliver(client, emulator)
    await sent_to(emulator, "wm-t", 1)
    assert emulator.token_fetches == 1  # sync_msg and send_msg shared one token
    emulator.expire_token = True
    emulator.buyer_says("wm-t", "什么时候发货")
    await deliver(client, emulator)  # sync_msg gets 42001, fetches a new token, asks again
    await sent_to(emulator, "wm-t", 2)
    assert emulator.token_fetches == 2
    await clock.advance(7200 - 300 + 1)  # past expires_in less the margin: fetched again before use
    emulator.buyer_says("wm-t", "怎么付款")
    await deliver(client, emulator)
    await sent_to(emulator, "wm-t", 3)
    assert emulator.token_fetches == 3


async def test_a_failed_send_is_retried_by_the_outbox_with_the_channel_s_own_policy(wecom, emulator, clock):
    client = await wecom(wecom={"retry_base_seconds": 5, "max_attempts": 3})
    emulator.fail_sends = 2
    emulator.buyer_says("wm-f", "什么时候发货")
    await deliver(client, emulator)
    await eventually(lambda: emulator.fail_sends == 1)
    await clock.advance(5)
    await eventually(lambda: emulator.fail_sends == 0)
    await clock.advance(10)
    await sent_to(emulator, "wm-f", 1)
    reception = client.app[RECEPTION]
    [delivered] = await eventually(lambda: reception.store.events(name="callback.delivered"))
    assert delivered.data["attempts"] == 3


# -- switched off, and mistakes at start -----------------------------------------------------------
async def test_without_the_table_the_channel_adds_nothing(client):
    assert (await client.get(PATH)).status in (404, 405)
    spec = await (await client.get("/api/openapi.json")).json()
    assert PATH not in spec["paths"]
    channel = client.app[RECEPTION].channels["wecom"]
    assert isinstance(channel, WecomChannel) and not channel.delivers_later


def test_config_mistakes_and_a_missing_extra_stop_the_start_in_one_line(tmp_path, monkeypatch):
    table = config("http://127.0.0.1:9", encoding_aes_key="short")
    with pytest.raises(ConfigError, match="plugin.wecom.*encoding_aes_key"):
        create_app(make_settings(tmp_path, plugin={"wecom": table}))
    monkeypatch.setitem(__import__("sys").modules, "wechatpy.enterprise.crypto", None)
    with pytest.raises(ConfigError) as missing:
        create_app(make_settings(tmp_path, plugin={"wecom": config("http://127.0.0.1:9")}))
    assert "pip install 'reception[wecom]'" in str(missing.value) and "\n" not in str(missing.value)


def test_signed_helper_round_trip():
    params, body = signed("<xml><Event>x</Event></xml>", "1", "2")
    assert Crypto(TOKEN, AES_KEY, CORP_ID).open(params["msg_signature"], "1", "2",
                                                body.decode().split("CDATA[")[2].split("]]")[0]) == \
        "<xml><Event>x</Event></xml>"

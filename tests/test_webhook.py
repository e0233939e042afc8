"""The webhook channel end to end: FAQ answers, handovers, idempotency, signatures, bad input."""

from __future__ import annotations

import json

import pytest
from conftest import ADMIN, WEBHOOK, history, send, signed

from reception.core import RECEPTION


async def test_chinese_and_english_logistics_questions_get_the_tracking_answer(client):
    zh = await send(client, "buyer-zh", "亲，我买的东西快递到哪里了？")
    en = await send(client, "buyer-en", "Where is my package now?")
    for body in (zh, en):
        assert body["status"] == "bot"
        assert body["handover"] is None
        [reply] = body["replies"]
        assert reply["sender"] == "bot"
        assert reply["intent"] == "logistics_tracking"
        assert 0.5 <= reply["confidence"] <= 1
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh["replies"][0]["text"])
    assert en["replies"][0]["text"].isascii()


async def test_full_width_and_punctuation_do_not_change_the_match(client):
    plain = await send(client, "b1", "what payment methods do you accept")
    wide = await send(client, "b2", "ＷＨＡＴ　ＰＡＹＭＥＮＴ　ＭＥＴＨＯＤＳ　ＤＯ　ＹＯＵ　ＡＣＣＥＰＴ？！")
    assert wide["replies"][0]["intent"] == plain["replies"][0]["intent"] == "payment_methods"


@pytest.mark.parametrize("text", ["转人工", "我要找人工客服", "I want a real person", "can I talk to an agent please"])
async def test_asking_for_a_human_hands_over_with_reason_requested(client, text):
    body = await send(client, "buyer", text)
    assert body["handover"] == {"reason": "requested"}
    assert body["status"] == "offline"  # no agent is online: the offline message pool
    assert [r["sender"] for r in body["replies"]] == ["system"]


async def test_gibberish_is_handed_over_for_low_confidence(client):
    body = await send(client, "buyer", "qwzx plorb vvnt")
    assert body["handover"]["reason"] == "low_confidence"
    assert all(r["sender"] == "system" for r in body["replies"])


async def test_asking_the_same_question_again_hands_over(client):
    first = await send(client, "buyer", "how long does a refund take")
    assert first["status"] == "bot"
    second = await send(client, "buyer", "how long does a refund take?")
    assert second["handover"]["reason"] == "repeated"


async def test_a_handover_entry_answers_and_then_hands_over_to_its_group(start):
    client = await start(agents=[{"id": "shop:ann", "token": "ann-token", "groups": ["pre_sales"]},
                                 {"id": "shop:bob", "token": "bob-token", "groups": ["after_sales"]}])
    for agent in ("ann", "bob"):
        await client.post(f"/api/v1/agents/shop:{agent}/status", json={"status": "online"},
                          headers={"Authorization": f"Bearer {agent}-token"})
    body = await send(client, "buyer", "收到的东西是坏的，破损了")
    assert body["handover"] == {"reason": "faq_entry", "group": "after_sales"}
    assert body["status"] == "assigned"
    assert [r["sender"] for r in body["replies"]] == ["bot", "system"]
    assert "bob" in body["replies"][1]["text"]


async def test_a_card_alone_is_a_consultation_for_a_human(client):
    body = await send(client, "buyer", card={"type": "order", "id": "O123"})
    assert body["handover"]["reason"] == "card"


async def test_a_pooled_buyer_keeps_getting_bot_answers_and_every_message_is_kept(client):
    first = await send(client, "buyer", "转人工")
    later = await send(client, "buyer", "在吗？我的快递到哪了")
    assert later["conversation_id"] == first["conversation_id"]
    assert later["status"] == "offline" and later["handover"] is None  # still waiting for the humans …
    assert [r["intent"] for r in later["replies"]] == ["logistics_tracking"]  # … while the bot answers
    texts = [m["text"] for m in await history(client, first["conversation_id"])]
    assert texts[0] == "转人工" and texts[-2] == "在吗？我的快递到哪了"


async def test_a_repeated_message_id_gets_the_first_response_and_stores_nothing_twice(client):
    body = {"message_id": "m-1", "customer_id": "buyer", "text": "退款多久到账"}
    first = await (await client.post(WEBHOOK, json=body)).json()
    again = await (await client.post(WEBHOOK, json=body)).json()
    assert again == first
    messages = await history(client, first["conversation_id"])
    assert [m["sender"] for m in messages] == ["buyer", "bot"]


async def test_a_message_id_reused_by_another_buyer_is_a_conflict(client):
    await send(client, "buyer-a", "hello", message_id="same")
    response = await client.post(WEBHOOK, json={"message_id": "same", "customer_id": "buyer-b", "text": "hi"})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "message_id_conflict"


BAD = [
    (b'{"customer_id": "b", "text": ', 400, "invalid_json", None),
    (b'[1, 2]', 422, "invalid_body", None),
    (json.dumps({"customer_id": 12, "text": "hi"}).encode(), 422, "invalid_field", "customer_id"),
    (json.dumps({"text": "hi"}).encode(), 422, "invalid_field", "customer_id"),
    (json.dumps({"customer_id": "b"}).encode(), 422, "invalid_field", "text"),
    (json.dumps({"customer_id": "b", "text": ""}).encode(), 422, "invalid_field", "text"),
    (json.dumps({"customer_id": "b", "text": "x" * 100_000}).encode(), 422, "invalid_field", "text"),
    (b'{"customer_id": "b", "text": "\xff\xfe bad"}', 400, "invalid_encoding", None),
    (json.dumps({"customer_id": "b", "text": "a\u0000b"}).encode(), 422, "invalid_field", "text"),
    (json.dumps({"customer_id": "b", "text": "hi", "colour": "red"}).encode(), 422, "invalid_field", "colour"),
    (json.dumps({"customer_id": "b", "card": {"type": "coupon", "id": "1"}}).encode(), 422, "invalid_field", "card"),
    (json.dumps({"customer_id": "b", "text": "hi", "sent_at": "yesterday"}).encode(), 422, "invalid_field", "sent_at"),
    (json.dumps({"customer_id": "b", "text": "y" * 300_000}).encode(), 413, "body_too_large", None),
]


@pytest.mark.parametrize("raw,status,code,field", BAD)
async def test_bad_input_gets_a_clear_4xx_and_stores_nothing(client, raw, status, code, field):
    response = await client.post(WEBHOOK, data=raw, headers={"Content-Type": "application/json"})
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code
    if field:
        assert field in error["message"]
    reception = client.app[RECEPTION]
    assert (await reception.store.counts())["messages"] == 0


async def test_signed_webhook_refuses_unsigned_and_wrongly_signed_requests(start):
    client = await start(webhook={"secret": "s3cret-value"})
    body = {"customer_id": "buyer", "text": "什么时候发货"}
    unsigned = await client.post(WEBHOOK, json=body)
    assert unsigned.status == 401
    raw, headers = signed("another-secret", body)
    assert (await client.post(WEBHOOK, data=raw, headers=headers)).status == 401
    raw, headers = signed("s3cret-value", body)
    ok = await client.post(WEBHOOK, data=raw, headers=headers)
    assert ok.status == 200
    assert (await ok.json())["replies"][0]["intent"] == "shipping_time"


async def test_messages_need_the_admin_token_and_an_existing_conversation(client):
    body = await send(client, "buyer", "你好")
    path = f"/api/v1/conversations/{body['conversation_id']}/messages"
    assert (await client.get(path)).status == 401
    assert (await client.get(path, headers={"Authorization": "Bearer wrong-token"})).status == 401
    missing = await client.get("/api/v1/conversations/nope/messages", headers=ADMIN)
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "conversation_not_found"


async def test_every_step_is_recorded_as_an_event(client):
    body = await send(client, "buyer", "怎么用优惠券")
    await send(client, "buyer", "转人工")
    reception = client.app[RECEPTION]
    names = [e.name for e in await reception.store.events(conversation_id=body["conversation_id"])]
    assert names == ["conversation.started", "message.received", "bot.answered", "message.received",
                     "handover.requested", "conversation.pooled", "coverage.bot_took_over", "message.sent"]
    [handover] = await reception.store.events(name="handover.requested")
    assert handover.data["reason"] == "requested"


async def test_openapi_and_health(client):
    spec = await (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/webhook/messages" in spec["paths"]
    assert "BuyerMessage" in spec["components"]["schemas"]
    assert (await (await client.get("/healthz")).json())["status"] == "ok"
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"

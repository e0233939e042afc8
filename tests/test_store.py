"""The store under load and across restarts: batched, durable, atomic."""

from __future__ import annotations

import asyncio

from conftest import WEBHOOK, history, send

from reception import create_app
from reception.core import RECEPTION
from reception.testing import make_settings


async def test_many_concurrent_buyers_are_all_stored_in_batches(client):
    async def one(i: int):
        response = await client.post(WEBHOOK, json={"customer_id": f"b{i}", "message_id": f"m{i}",
                                                    "text": "什么时候发货"})
        return response.status

    statuses = await asyncio.gather(*(one(i) for i in range(150)))
    assert statuses == [200] * 150
    reception = client.app[RECEPTION]
    counts = await reception.store.counts()
    assert counts["conversations"] == 150 and counts["messages"] == 300
    assert reception.store.batches < 150  # many messages shared one commit


async def test_one_buyers_concurrent_messages_stay_in_one_conversation_in_order(client):
    texts = [f"question number {i}" for i in range(20)]
    bodies = [await asyncio.gather(*(send(client, "same-buyer", t) for t in texts))][0]
    assert len({b["conversation_id"] for b in bodies}) == 1
    buyer_texts = [m["text"] for m in await history(client, bodies[0]["conversation_id"]) if m["sender"] == "buyer"]
    assert sorted(buyer_texts) == sorted(texts)


async def test_a_restart_keeps_conversations_and_idempotency(aiohttp_client, tmp_path, clock, store_section):
    settings = make_settings(tmp_path, store=store_section)
    first = await aiohttp_client(create_app(settings, clock=clock))
    before = await (await first.post(WEBHOOK, json={"customer_id": "b", "message_id": "k", "text": "转人工"})).json()
    await first.close()
    second = await aiohttp_client(create_app(settings, clock=clock))
    again = await (await second.post(WEBHOOK, json={"customer_id": "b", "message_id": "k", "text": "转人工"})).json()
    assert again == before
    later = await send(second, "b", "还在吗")
    assert later["conversation_id"] == before["conversation_id"] and later["status"] == "offline"

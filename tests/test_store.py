"""The store under load and across restarts: batched, durable, atomic."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import datetime, timezone

import pytest
from conftest import WEBHOOK, history, send

from reception import create_app
from reception.core import RECEPTION
from reception.store import DuplicateMessage, SqliteStore
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


async def test_a_scratch_store_written_on_the_loop_reads_its_writes_and_commits_every_n_batches(tmp_path):
    """The simulator's store (`SqliteStore.write_on_loop`): reads see each batch at once, other connections only
    after every n-th batch, a report's snapshot and closing commit the rest, and a duplicate stays one
    transaction's failure."""
    path = tmp_path / "scratch.db"
    store = SqliteStore(path, synchronous="NORMAL")
    store.write_on_loop(3)
    await store.open()

    def on_disk() -> list[str]:
        with closing(sqlite3.connect(path)) as conn:
            return [key for (key,) in conn.execute("SELECT key FROM kv WHERE key LIKE 'k%' ORDER BY key")]

    for n in range(4):
        tx = store.transaction()
        tx.set_value(f"k{n}", str(n))
        await store.commit(tx)
        assert await store.value(f"k{n}") == str(n)  # read back before any commit
    assert on_disk() == ["k0", "k1", "k2"]  # the third batch committed; the fourth waits

    dup = store.transaction()
    dup.remember_response("same", "b1", {}, datetime(2026, 11, 11, tzinfo=timezone.utc))
    await store.commit(dup)
    again = store.transaction()
    again.set_value("k4", "4")
    again.remember_response("same", "b1", {}, datetime(2026, 11, 11, tzinfo=timezone.utc))
    with pytest.raises(DuplicateMessage):
        await store.commit(again)
    assert await store.value("k4") is None and await store.value("k3") == "3"

    day = datetime(2026, 11, 11, tzinfo=timezone.utc)
    assert await store.count_events(day, day) == 0  # a report reads on its own connection: first, a commit
    assert on_disk() == ["k0", "k1", "k2", "k3"]
    tx = store.transaction()
    tx.set_value("k5", "5")
    await store.commit(tx)
    await store.close()
    assert on_disk() == ["k0", "k1", "k2", "k3", "k5"]

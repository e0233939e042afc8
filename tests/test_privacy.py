"""Privacy: `reception buyer forget` and `[store] retain_days` erase the buyers' data, and the figures stay."""

from __future__ import annotations

import asyncio
import json

from conftest import ADMIN, agent, close, columns, eventually, query, reply, send, set_status

from reception.cli import main

DAY = "2026-11-11"
BUYER, OTHER = "zhang.wei-7731", "li.na-5520"  # the virtual clock starts at 08:00 in Shanghai
ORDER = {"order_id": "TB7001", "customer_id": BUYER, "status": "shipped", "items": "棉麻桌布 ×1",
         "address": "浙江省杭州市西湖区某路 1 号", "carrier": "中通", "tracking_no": "ZT7001"}


async def figures(client) -> dict:
    """The day's assessment and intents as the API answers them (less the instant they were made)."""
    out = {}
    for name in ("assessment", "intents"):
        response = await client.get(f"/api/v1/metrics/{name}?from={DAY}&to={DAY}", headers=ADMIN)
        assert response.status == 200
        out[name] = {k: v for k, v in (await response.json()).items() if k != "generated_at"}
    return out


async def shop_day(client, clock) -> dict[str, str]:
    """BUYER asks for a human, is served, rated dissatisfied and has an order; OTHER gets a bot answer."""
    await set_status(client, "alice", "online")
    assert (await client.post("/api/v1/orders", json=ORDER, headers=ADMIN)).status == 200
    first = await send(client, BUYER, "转人工", message_id="zw-msg-1", card={"type": "order", "id": "TB7001"})
    assert first["status"] == "assigned"
    await clock.advance(30)
    await reply(client, first["conversation_id"], "alice", "您好，请问有什么可以帮您")
    await close(client, first["conversation_id"], "alice")
    await send(client, BUYER, "1")  # dissatisfied
    second = await send(client, OTHER, "什么时候发货")
    assert second["handover"] is None
    return {BUYER: first["conversation_id"], OTHER: second["conversation_id"]}


rows = query  # the test shop's database, SQLite or PostgreSQL


def mentions(db, text: str) -> list[str]:
    """The tables of `db` holding `text` in some column."""
    found = []
    for table, names in columns(db).items():
        where = " OR ".join(f"CAST({c} AS TEXT) LIKE ?" for c in names)
        if query(db, f"SELECT COUNT(*) FROM {table} WHERE {where}", *[f"%{text}%"] * len(names))[0][0]:
            found.append(table)
    return found


async def test_forget_erases_a_buyer_keeps_the_figures_and_records_it(start, clock, tmp_path, capsys, monkeypatch,
                                                                     database):
    monkeypatch.chdir(tmp_path)
    client = await start(agents=[agent("alice", ["pre_sales"])])
    ids = await shop_day(client, clock)
    db = database
    before = await figures(client)
    assert before["assessment"]["sessions"] == 2 and before["assessment"]["dissatisfaction_rate"] == 1.0
    assert BUYER in {r[0] for r in rows(db, "SELECT customer_id FROM events")}

    assert await asyncio.to_thread(main, ["buyer", "forget", BUYER, "--db", db]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"forgot buyer {BUYER}: erased") and "buyer.forgotten" in line and "\n" not in line

    assert await figures(client) == before  # the shop's figures for the day are unchanged
    history = await client.get(f"/api/v1/conversations/{ids[BUYER]}/messages", headers=ADMIN)
    assert history.status == 404
    assert (await client.get("/api/v1/orders/TB7001", headers=ADMIN)).status == 404
    # nothing anywhere names the buyer, their order, their card or what they wrote; b2 is untouched
    for trace in (BUYER, "TB7001", "zw-msg-1", "杭州市", "转人工", "请问有什么可以帮您"):
        assert mentions(db, trace) == [], trace
    assert mentions(db, OTHER) != []
    assert rows(db, "SELECT COUNT(*) FROM messages WHERE conversation_id=?", ids[BUYER]) == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM messages WHERE conversation_id=?", ids[OTHER])[0][0] >= 2
    assert rows(db, "SELECT COUNT(*) FROM events WHERE conversation_id=? AND customer_id IS NULL", ids[BUYER])[0][0] > 3
    [(data,)] = rows(db, "SELECT data FROM events WHERE name='buyer.forgotten'")
    erased = json.loads(data)
    assert erased["conversations"] == 1 and erased["orders"] == 1 and erased["messages"] >= 4
    assert BUYER not in data


async def test_forget_refuses_a_buyer_an_agent_holds_unless_forced(start, tmp_path, capsys, monkeypatch, database):
    monkeypatch.chdir(tmp_path)
    client = await start(agents=[agent("alice", ["pre_sales"])])
    await set_status(client, "alice", "online")
    held = await send(client, "b3", "转人工")
    assert held["status"] == "assigned"
    db = database
    assert await asyncio.to_thread(main, ["buyer", "forget", "b3", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "open conversation" in err and "shop:alice" in err and "--force" in err and len(err.splitlines()) == 1
    assert rows(db, "SELECT COUNT(*) FROM conversations WHERE customer_id='b3'") == [(1,)]
    assert await asyncio.to_thread(main, ["buyer", "forget", "b3", "--db", db, "--force"]) == 0
    assert rows(db, "SELECT COUNT(*) FROM conversations WHERE customer_id='b3'") == [(0,)]
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["buyer", "forget", "nobody-here", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("nothing stored about buyer nobody-here")
    assert main(["buyer", "forget", "b3", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no database" in capsys.readouterr().err


async def test_retention_erases_old_data_daily_on_the_clock_and_keeps_the_figures(start, clock, database):
    # no FAQ polling: two days of a 2-second watcher are 86,400 wake-ups of the virtual clock
    client = await start(agents=[agent("alice", ["pre_sales"])], store={"retain_days": 1}, bot={"watch_seconds": 0})
    db = database
    # the retention loop runs once at start, on PostgreSQL once this instance holds the shop's lease (real
    # round trips): the virtual clock moves only after that run, else the run would see a later "now"
    await eventually(lambda: rows(db, "SELECT COUNT(*) FROM events WHERE name='retention.purged'") != [(0,)])
    ids = await shop_day(client, clock)
    await clock.advance(86400)  # 2026-11-12 08:00 in Shanghai: the 04:00 run kept yesterday's data
    kept = await figures(client)
    assert kept["assessment"]["sessions"] == 2 and kept["assessment"]["human_requests"] == 1
    assert rows(db, "SELECT COUNT(*) FROM messages WHERE conversation_id=?", ids[BUYER])[0][0] >= 4
    assert rows(db, "SELECT COUNT(*) FROM orders") == [(1,)]

    await clock.advance(86400)  # the 04:00 run of 2026-11-13 erases what is older than a day
    await eventually(lambda: rows(db, "SELECT COUNT(*) FROM events WHERE name='retention.purged'"
                                      " AND CAST(json_extract(data, '$.messages') AS INTEGER) > 0") != [(0,)])
    assert rows(db, "SELECT COUNT(*) FROM messages") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM orders") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM conversations") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM events WHERE customer_id IS NOT NULL") == [(0,)]
    assert mentions(db, "zw-msg-1") == [] and mentions(db, BUYER) == [] and mentions(db, "TB7001") == []
    assert await figures(client) == kept  # the day's figures are as they were

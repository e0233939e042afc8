"""Assessment metrics: a hand-computed scenario through the real app, read from the API, /metrics and the CLI."""

from __future__ import annotations

import asyncio
import json
import math
import re

import pytest
from conftest import ADMIN, agent, close, eventually, reply, send, set_status

from reception.cli import main
from reception.core import RECEPTION

WELCOME = "您好，很高兴为您服务"
TEAM = [agent("alice", ["pre_sales"], max_concurrent=1, welcome=WELCOME),
        agent("bob", ["pre_sales"], max_concurrent=1)]
RULES = {"rules": [{"group": "pre_sales", "reasons": ["requested"]}]}
DAY = "2026-11-11"  # the virtual clock starts at 08:00 in Shanghai: t below is seconds after that


async def five_handovers(client, clock) -> None:
    """The scenario; expected figures in `test_five_handovers_give_the_hand_computed_figures_everywhere`."""
    t = 0.0

    async def at(seconds: float) -> None:
        nonlocal t
        await clock.advance(seconds - t)
        t = seconds

    await set_status(client, "alice", "online")
    a = await send(client, "b1", "转人工")                            # t=0    A asks, alice takes it
    assert a["status"] == "assigned"
    await at(5)
    assert (await send(client, "f1", "什么时候发货"))["handover"] is None        # F: the bot answers
    await at(6)
    assert (await send(client, "g1", "what payment methods do you accept"))["handover"] is None  # G too
    await at(10)
    await set_status(client, "bob", "online")
    b = await send(client, "b2", "人工客服")                          # t=10   B asks, bob takes it
    assert b["status"] == "assigned"
    await at(20)
    c = await send(client, "b3", "转人工")                            # t=20   C asks: both busy, queued
    assert c["status"] == "queued"
    await at(60)
    await reply(client, a["conversation_id"], "alice")               # t=60   A: first reply 60 s
    await at(90)
    await close(client, a["conversation_id"], "alice")               # t=90   C goes to alice (70 s queued)
    await at(95)
    await send(client, "b1", "5")                                    # A rated satisfied
    await at(130)
    await reply(client, c["conversation_id"], "alice")               # t=130  C: 110 s after asking, 40 s turn
    await at(140)
    await close(client, c["conversation_id"], "alice")
    await at(145)
    await send(client, "b3", "一般")                                  # C rated neutral
    await at(150)
    e = await send(client, "b5", "我要人工")                          # t=150  E asks, alice takes it
    assert e["status"] == "assigned"
    await at(155)
    await reply(client, e["conversation_id"], "alice", WELCOME)      # only the canned welcome: not a reply
    await at(160)
    await reply(client, b["conversation_id"], "bob")                 # t=160  B: first reply 150 s (late)
    await at(170)
    await close(client, e["conversation_id"], "alice")               # E closed unanswered: Type 2
    await send(client, "b2", "还有个问题，能改地址吗")                    # t=170  B's second turn
    await at(370)
    await reply(client, b["conversation_id"], "bob")                 # t=370  200 s: late
    await at(380)
    await close(client, b["conversation_id"], "bob")
    await at(385)
    await send(client, "b2", "1")                                    # B rated dissatisfied
    await at(400)
    await set_status(client, "alice", "offline")
    await set_status(client, "bob", "offline")
    await at(410)
    d = await send(client, "b4", "转人工")                            # t=410  D asks: nobody, offline pool
    assert d["status"] == "offline"
    await at(15.5 * 3600)                                            # 23:30: after the assessment window
    late = await send(client, "h1", "转人工")                         # H: not assessed
    assert late["status"] == "offline"


EXPECTED = {
    "sessions": 7,                      # A B C D E F G (H started after 23:00)
    "human_requests": 5,
    "first_reply_2min_rate": 0.4,       # A 60 s, C 110 s in; B 150 s, D and E never
    "human_reply_3min_rate": 0.6,       # A 60, C 40, B 150 in; B 200 and E (unanswered) out
    "avg_response_seconds": 112.5,      # (60 + 40 + 150 + 200) / 4
    "non_service_rate": 0.4,
    "non_service_type1": 1,             # D: the offline pool
    "non_service_type2": 1,             # E: the welcome only
    "dissatisfaction_rate": 0.3333,     # B of A, B, C
    "bot_resolution_rate": 0.2857,      # F and G of 7
}


def gauges(text: str) -> dict[str, float]:
    found = {}
    for name, day, value in re.findall(r'^reception_assessment_(\w+)\{date="([\d-]+)"\} (\S+)$', text, re.M):
        assert day == DAY
        found[name] = float(value)
    return found


async def test_five_handovers_give_the_hand_computed_figures_everywhere(start, clock, capsys, database):
    client = await start(agents=TEAM, offline_pool={"enabled": False}, routing=RULES)
    await five_handovers(client, clock)

    response = await client.get(f"/api/v1/metrics/assessment?from={DAY}&to={DAY}", headers=ADMIN)
    assert response.status == 200, await response.text()
    api = await response.json()
    assert {k: api[k] for k in EXPECTED} == EXPECTED
    assert (api["turns"], api["turns_in_time"], api["ratings"], api["dissatisfied"]) == (5, 3, 3, 1)
    [requested] = api["by_reason"]
    assert requested["reason"] == "requested" and requested["handover_rate"] == round(5 / 7, 4)
    agents = {a["agent_id"]: a for a in api["by_agent"]}
    assert (agents["shop:alice"]["sessions"], agents["shop:alice"]["human_reply_3min_rate"]) == (3, round(2 / 3, 4))
    assert agents["shop:alice"]["avg_response_seconds"] == 50.0 and agents["shop:alice"]["non_service_type2"] == 1
    assert (agents["shop:bob"]["first_reply_2min_rate"], agents["shop:bob"]["dissatisfaction_rate"]) == (0.0, 1.0)
    [day] = api["by_day"]
    assert day["date"] == DAY and day["sessions"] == 7 and day["penalty"] is False
    assert [h["sessions"] for h in api["by_hour"]] == [7] + [0] * 14 and api["by_hour"][0]["hour"] == 8
    assert {g["group"]: g["human_requests"] for g in api["by_group"]} == {"pre_sales": 5}
    assert api["penalty_periods"] == []
    assert await (await client.get("/api/v1/metrics/assessment", headers=ADMIN)).json() == api  # no dates: today

    text = await (await client.get("/metrics")).text()
    assert gauges(text) == {k: float(v) for k, v in EXPECTED.items()}
    assert 'reception_handovers_total{reason="requested"} 6.0' in text  # H counts here: counters see every event
    assert 'reception_first_reply_seconds_bucket{le="120.0"} 2.0' in text
    assert "reception_first_reply_seconds_count 3.0" in text and "reception_first_reply_seconds_sum 320.0" in text
    assert 'reception_ratings_total{label="dissatisfied"} 1.0' in text

    db = database
    assert await asyncio.to_thread(main, ["report", "--db", db, "--from", DAY, "--to", DAY, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert {**cli["assessment"], "generated_at": None} == {**api, "generated_at": None}
    intents = await (await client.get(f"/api/v1/metrics/intents?from={DAY}&to={DAY}", headers=ADMIN)).json()
    assert {**cli["intents"], "generated_at": None} == {**intents, "generated_at": None}
    assert await asyncio.to_thread(main, ["report", "--db", db, "--from", DAY, "--to", DAY]) == 0
    table = capsys.readouterr().out
    for figure, value in (("2-min first-reply rate", "40.00%"), ("3-min human reply rate", "60.00%"),
                          ("average response time", "112.50 s"), ("non-service rate", "40.00%"),
                          ("dissatisfaction rate", "33.33%"), ("bot resolution rate", "28.57%")):
        assert re.search(rf"^{figure} +{value} ", table, re.M), table
    assert "type 1 (offline pool): 1, type 2 (welcome only): 1" in table


async def test_thresholds_and_minimum_volume_come_from_the_config(start, clock):
    client = await start(agents=TEAM, offline_pool={"enabled": False},
                         assessment={"first_reply_seconds": 100, "human_reply_seconds": 40, "min_volume": 4})
    await five_handovers(client, clock)
    body = await (await client.get(f"/api/v1/metrics/assessment?from={DAY}&to={DAY}", headers=ADMIN)).json()
    assert body["first_reply_2min_rate"] == 0.2      # only A (60 s) within 100 s
    assert body["human_reply_3min_rate"] == 0.2      # only C's 40 s turn within 40 s
    assert body["dissatisfaction_rate"] is None      # 3 ratings: below the minimum volume of 4
    assert body["avg_response_seconds"] == 112.5 and body["thresholds"]["min_volume"] == 4


async def test_intents_rank_by_volume_and_by_dissatisfaction(start, clock):
    client = await start(agents=TEAM, offline_pool={"enabled": False})
    await five_handovers(client, clock)
    body = await (await client.get(f"/api/v1/metrics/intents?from={DAY}&to={DAY}", headers=ADMIN)).json()
    by = {i["intent"]: i for i in body["intents"]}
    assert body["sessions"] == 8  # whole days: H at 23:30 counts here
    assert body["top_by_volume"][0] == "requested" and by["requested"]["kind"] == "handover"
    assert (by["requested"]["sessions"], by["requested"]["rated"], by["requested"]["dissatisfied"]) == (6, 3, 1)
    assert by["requested"]["dissatisfaction_rate"] == 0.3333 and by["requested"]["contribution_rate"] == 1.0
    assert by["shipping_time"]["kind"] == "intent" and by["shipping_time"]["contribution_rate"] == 0.0
    assert body["top_by_contribution"] == ["requested"]


async def test_bad_ranges_are_refused_and_long_intent_ranges_need_asking(start):
    client = await start()
    assert (await client.get("/api/v1/metrics/assessment")).status == 401
    for query, code in (("from=2026-13-01", "invalid_date"), ("from=11/11/2026", "invalid_date"),
                        ("from=2026-11-12&to=2026-11-11", "invalid_range")):
        response = await client.get(f"/api/v1/metrics/assessment?{query}", headers=ADMIN)
        assert response.status == 422 and (await response.json())["error"]["code"] == code
    long = "from=2026-10-01&to=2026-11-11"
    refused = await client.get(f"/api/v1/metrics/intents?{long}", headers=ADMIN)
    assert refused.status == 422 and (await refused.json())["error"]["code"] == "range_too_long"
    allowed = await client.get(f"/api/v1/metrics/intents?{long}&allow_long=true", headers=ADMIN)
    assert allowed.status == 200 and (await allowed.json())["days"] == 42
    month = await client.get("/api/v1/metrics/assessment?from=2026-10-01&to=2026-10-31", headers=ADMIN)
    body = await month.json()
    assert len(body["by_day"]) == 31 and body["sessions"] == 0 and body["first_reply_2min_rate"] is None
    paths = (await (await client.get("/api/openapi.json")).json())["paths"]
    assert {"/api/v1/metrics/assessment", "/api/v1/metrics/intents", "/metrics"} <= set(paths)


async def test_penalty_periods_are_marked(start, clock):
    client = await start(agents=TEAM, offline_pool={"enabled": False})
    store = client.app[RECEPTION].store

    async def switch(on: bool) -> None:
        response = await client.post("/api/v1/modes/penalty", json={"enabled": on}, headers=ADMIN)
        assert response.status == 200
        await eventually(lambda: _changes(store, on))

    await clock.advance(3600)  # 09:00
    await switch(True)
    await clock.advance(1)
    await send(client, "p1", "什么时候发货")
    await clock.advance(3600)  # 10:00
    await switch(False)
    await clock.advance(1)
    await send(client, "p2", "什么时候发货")
    body = await (await client.get(f"/api/v1/metrics/assessment?from={DAY}&to={DAY}", headers=ADMIN)).json()
    [period] = body["penalty_periods"]
    assert period["from"].startswith("2026-11-11T01:00") and period["to"].startswith("2026-11-11T02:00")
    assert body["by_day"][0]["penalty"] is True and body["sessions"] == 2 and body["penalty_sessions"] == 1
    assert math.isclose(body["bot_resolution_rate"], 0.5)  # p1 has been quiet for an hour, p2 just wrote


async def _changes(store, on: bool) -> bool:
    changes = [e for e in await store.events(name="mode.changed") if e.data["mode"] == "penalty"]
    return bool(changes) and changes[-1].data["active"] is on


def _bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "metrics.py"
    spec = importlib.util.spec_from_file_location("bench_metrics", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_ledger_and_sql_agree_with_a_plain_python_reference(start, clock, database):
    from datetime import date
    from zoneinfo import ZoneInfo

    from metrics_reference import reference

    bench, tz = _bench(), ZoneInfo("Asia/Shanghai")
    events = bench.generate(30_000, date(2026, 10, 1), 3, tz, seed=11)
    await bench.fill(database, events, chunk=997)
    client = await start()
    body = await (await client.get("/api/v1/metrics/assessment?from=2026-10-01&to=2026-10-03",
                                   headers=ADMIN)).json()
    expected = reference(events, tz, (8, 23), clock.now())
    keys = list(expected["total"])
    assert {k: body[k] for k in keys} == expected["total"]
    assert body["sessions"] > 1000 and body["non_service_type2"] > 0 and body["non_service_type1"] > 0
    for day in body["by_day"]:
        assert {k: day[k] for k in keys} == expected[day["date"]]
    for row in body["by_agent"]:
        sessions, turns = expected[f"agent:{row['agent_id']}"], expected[f"turn:{row['agent_id']}"]
        for k in ("sessions", "human_requests", "first_reply_2min_rate", "non_service_type2", "dissatisfaction_rate"):
            assert row[k] == sessions[k], k
        assert row["human_reply_3min_rate"] == turns["human_reply_3min_rate"]
        assert abs(row["avg_response_seconds"] - turns["avg_response_seconds"]) <= 0.01


@pytest.mark.sqlite_only("drops the ledger of a SQLite file and migrates the file again")
async def test_the_migration_folds_stored_events_like_the_live_path(tmp_path):
    import sqlite3
    from datetime import date
    from zoneinfo import ZoneInfo

    from reception.store.sqlite import migrate

    bench = _bench()
    path = tmp_path / "reception.db"
    await bench.fill(path, bench.generate(5_000, date(2026, 10, 1), 2, ZoneInfo("Asia/Shanghai"), seed=3))
    conn = sqlite3.connect(path, isolation_level=None)
    tables = ("metric_sessions", "metric_turns")
    live = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
    assert len(live["metric_sessions"]) > 300 and len(live["metric_turns"]) > 100
    for table in tables:
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DELETE FROM _migrations WHERE version=6")
    migrate(conn, str(path))
    assert {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables} == live

"""Who answers now: the service calendar, the bot taking over, and penalty mode, on the virtual clock.

The virtual day starts on 2026-11-11 at 08:00 in Shanghai (00:00 UTC).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from conftest import ADMIN, agent, eventually, send, set_status

from reception.calendar import Calendar
from reception.config import ConfigError, load_settings
from reception.core import RECEPTION

TEAM = [agent("alice", ["pre_sales"]), agent("bob", ["pre_sales"])]


async def test_after_hours_the_bot_says_so_and_the_pool_drains_at_eight(start, clock):
    client = await start(agents=TEAM)
    await set_status(client, "alice", "online")
    await clock.advance(15.5 * 3600)  # 23:30 in Shanghai: alice forgot to go offline
    body = await send(client, "night-owl", "转人工")
    assert body["status"] == "offline"
    note = body["replies"][-1]["text"]
    assert "休息时间" in note and "08:00" in note and "留言已保存" in note
    faq = await send(client, "night-owl", "什么时候发货")  # the bot keeps answering what it can
    assert faq["status"] == "offline" and faq["replies"][0]["intent"] == "shipping_time"
    reception = client.app[RECEPTION]
    [took_over] = await reception.store.events(name="coverage.bot_took_over")
    assert took_over.data["reason"] == "outside_hours"
    await clock.advance(8.5 * 3600)  # 08:00 the next morning: the first pool run
    conv = await eventually(lambda: reception.router.active[body["conversation_id"]].agent_id and
                            reception.router.active[body["conversation_id"]])
    assert conv.agent_id == "shop:alice" and conv.assigned_at == datetime(2026, 11, 12, 0, 0, tzinfo=timezone.utc)
    async def latest_run():
        runs = await reception.store.pool_runs()
        return runs and runs[0]["assigned"] and runs[0]

    assert (await eventually(latest_run))["operator"] == "system auto-assign"


async def test_after_hours_a_buyer_the_faq_answers_keeps_the_answer_alone(start, clock):
    """Issue 15 §6: the pool's default scope ("requested") keeps only buyers who asked for a person."""
    client = await start(agents=TEAM)
    await clock.advance(15.5 * 3600)
    body = await send(client, "b1", "Where is my parcel?")
    assert [r["sender"] for r in body["replies"]] == ["bot"] and body["handover"] is None
    assert body["status"] == "bot"  # not kept: nothing for the humans to do
    pool = await (await client.get("/api/v1/offline-pool", headers=ADMIN)).json()
    assert pool["pool"] == [] and pool["total"] == 0
    asked = await send(client, "b1", "转人工")  # now they ask: kept, told so, with the reason recorded
    assert asked["status"] == "offline" and "留言已保存" in asked["replies"][-1]["text"]
    [kept] = (await (await client.get("/api/v1/offline-pool", headers=ADMIN)).json())["pool"]
    assert kept["handover_reason"] == "requested"


async def test_after_hours_with_scope_all_the_pool_keeps_the_buyer_and_says_so_once(start, clock):
    client = await start(agents=TEAM, offline_pool={"scope": "all"})
    await clock.advance(15.5 * 3600)
    body = await send(client, "b1", "Where is my parcel?")
    assert [r["sender"] for r in body["replies"]] == ["bot", "system"]
    assert "off duty" in body["replies"][1]["text"] and "08:00" in body["replies"][1]["text"]
    assert body["status"] == "offline"  # kept in the pool for the humans
    again = await send(client, "b1", "什么时候发货")
    assert [r["sender"] for r in again["replies"]] == ["bot"]  # the note once per conversation
    [kept] = (await (await client.get("/api/v1/offline-pool", headers=ADMIN)).json())["pool"]
    assert kept["handover_reason"] is None  # did not ask: the pages say so


async def test_a_pooled_buyer_who_asks_again_hears_they_are_still_kept(start, clock):
    client = await start(agents=TEAM)
    await clock.advance(15.5 * 3600)
    first = await send(client, "b1", "这个问题机器人答不了吧 qwxz")
    assert first["status"] == "offline" and first["handover"]["reason"] == "low_confidence"
    again = await send(client, "b1", "转人工")
    assert again["status"] == "offline" and len(again["replies"]) == 1
    assert "08:00" in again["replies"][0]["text"] and "无需重复" in again["replies"][0]["text"]
    english = await send(client, "b2", "I need a human")
    assert english["status"] == "offline"
    still = await send(client, "b2", "talk to a real person please")
    assert "still on our team's list" in still["replies"][0]["text"] and "08:00" in still["replies"][0]["text"]
    [b2, b1] = (await (await client.get("/api/v1/offline-pool", headers=ADMIN)).json())["pool"]
    assert b1["handover_reason"] == "requested"  # what the buyer asked for, over the bot's doubt


async def test_a_pool_that_runs_at_night_is_not_named_as_when_the_humans_are_back(start, clock):
    """The pool runs every half hour round the clock, the shop opens at 08:00: the buyer hears 08:00."""
    client = await start(agents=TEAM, offline_pool={"windows": ["00:00-24:00"]})
    await clock.advance(15.5 * 3600)  # 23:30
    assert (await send(client, "b1", "转人工"))["status"] == "offline"
    again = (await send(client, "b1", "转人工"))["replies"][0]["text"]
    assert "下次分配 11-12 08:00" in again, again
    await clock.advance(9 * 3600)  # 08:30, open: the next run is the pool's own
    await set_status(client, "alice", "offline")
    pooled = await send(client, "b2", "转人工")
    assert pooled["status"] == "offline"
    assert "下次分配 09:00" in (await send(client, "b2", "转人工"))["replies"][0]["text"]


async def test_with_everybody_suspended_the_bot_covers(start):
    client = await start(agents=TEAM)
    await set_status(client, "alice", "suspended")
    await set_status(client, "bob", "suspended")
    body = await send(client, "b1", "转人工")
    assert body["status"] == "offline" and "暂时不在线" in body["replies"][-1]["text"]
    reception = client.app[RECEPTION]
    [took_over] = await reception.store.events(name="coverage.bot_took_over")
    assert took_over.data["reason"] == "all_suspended"


async def test_a_full_queue_sends_further_buyers_to_the_bot(start):
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=1)], routing={"queue_limit": 1})
    await set_status(client, "alice", "online")
    assert (await send(client, "b1", "转人工"))["status"] == "assigned"
    assert (await send(client, "b2", "转人工"))["status"] == "queued"
    third = await send(client, "b3", "转人工")
    assert third["status"] == "offline" and "人数太多" in third["replies"][-1]["text"]


async def test_penalty_mode_keeps_buyers_with_the_bot_unless_they_ask(start):
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=1)], penalty={"enabled": True})
    await set_status(client, "alice", "online")
    broken = await send(client, "b1", "收到的东西是坏的，破损了")  # an entry that normally hands over
    assert broken["handover"] is None and broken["status"] == "bot"
    asked = await send(client, "b2", "转人工")
    assert asked["status"] == "assigned"  # a human is free: the buyer gets one
    full = await send(client, "b3", "转人工")
    assert full["status"] == "offline"  # nobody free: the bot keeps the buyer instead of a queue
    reception = client.app[RECEPTION]
    reasons = [e.data["reason"] for e in await reception.store.events(name="coverage.bot_took_over")]
    assert reasons == ["penalty_no_human"]


async def _two(found):
    events = await found
    return events if len(events) == 2 else None


async def test_the_admin_switches_penalty_mode_for_a_period_and_events_mark_it(start, clock):
    client = await start(agents=TEAM)
    window = {"enabled": True, "from": "2026-11-11T09:00:00+08:00", "to": "2026-11-11T10:00:00+08:00"}
    assert (await client.post("/api/v1/modes/penalty", json=window)).status == 401
    response = await client.post("/api/v1/modes/penalty", json=window, headers=ADMIN)
    assert response.status == 200 and (await response.json())["penalty"] is False  # 08:00: not yet
    reception = client.app[RECEPTION]
    await clock.advance(3600)
    changes = await eventually(lambda: reception.store.events(name="mode.changed"))
    assert changes[-1].data == {"mode": "penalty", "active": True}
    assert (await (await client.get("/api/v1/modes", headers=ADMIN)).json())["penalty"] is True
    await clock.advance(3600)
    changes = await eventually(lambda: _two(reception.store.events(name="mode.changed")))
    assert changes[-1].data == {"mode": "penalty", "active": False}
    bad = await client.post("/api/v1/modes/penalty", headers=ADMIN,
                            json={"enabled": True, "from": "2026-11-12T10:00:00+08:00",
                                  "to": "2026-11-12T09:00:00+08:00"})
    assert bad.status == 422 and "after" in (await bad.json())["error"]["message"]


def test_the_calendar_knows_weekdays_holidays_exceptions_and_nights():
    settings = load_settings(None, env={}, overrides={"hours": {
        "open": ["09:00-18:00"], "weekly": {"sat": ["22:00-02:00"], "sun": []},
        "holidays": ["2026-11-12"], "exceptions": [{"date": "2026-11-13", "open": ["10:00-12:00"]}],
        "groups": {"after_sales": {"open": ["08:00-20:00"]}}}})
    cal = Calendar(settings.hours)

    def at(day: int, hour: int, minute: int = 0) -> datetime:  # Shanghai time
        return datetime(2026, 11, day, hour - 8, minute, tzinfo=timezone.utc) if hour >= 8 else \
            datetime(2026, 11, day - 1, hour + 16, minute, tzinfo=timezone.utc)

    assert cal.is_open(at(11, 10)) and not cal.is_open(at(11, 19))  # a Wednesday
    assert cal.is_open(at(11, 19), "after_sales")  # the group's own week
    assert not cal.is_open(at(12, 10))  # holiday
    assert cal.is_open(at(13, 11)) and not cal.is_open(at(13, 15))  # one-off exception
    assert cal.is_open(at(14, 23)) and cal.is_open(at(15, 1, 30))  # Saturday night, past midnight
    assert not cal.is_open(at(15, 10))  # Sunday: closed
    assert cal.next_open(at(15, 10)) == at(16, 9)


@pytest.mark.parametrize("hours,where", [
    ({"timezone": "Mars/Base"}, "hours.timezone"),
    ({"weekly": {"someday": []}}, "hours.weekly.someday"),
    ({"exceptions": [{"date": "2026-11-11"}, {"date": "2026-11-11"}]}, "hours.exceptions"),
    ({"holidays": ["2026-13-01"]}, "hours.holidays.0"),
])
def test_impossible_calendars_are_refused(hours, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_settings(None, env={}, overrides={"hours": hours})


def test_a_mode_window_must_end_after_it_starts():
    with pytest.raises(ConfigError, match="big_sale: 'to' must be after 'from'"):
        load_settings(None, env={}, overrides={"big_sale": {"enabled": True, "from": "2026-11-11T00:00:00+08:00",
                                                            "to": "2026-11-10T00:00:00+08:00"}})


async def test_big_sale_window_switches_its_overrides_on_and_off_at_the_edges(start, clock, tmp_path):
    sale_faq = tmp_path / "sale-faq"
    sale_faq.mkdir()
    (sale_faq / "sale.yaml").write_text(
        "- id: double11_red_packets\n  questions: [双11红包雨几点开始, when does the double 11 red packet rain start]\n"
        "  answer: {zh: 双11红包雨11日20点开始，每小时一轮。, en: Red packets rain from 20:00 on Nov 11.}\n",
        encoding="utf-8")
    # the everyday FAQ's service-hours entry shares 几点开始 with the sale's question: a fixed threshold keeps it out
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=1)], bot={"answer_threshold": 0.92},
                         big_sale={"enabled": True, "from": "2026-11-11T09:00:00+08:00",
                                   "to": "2026-11-11T10:00:00+08:00", "max_concurrent": 2, "faq": [str(sale_faq)],
                                   "queue_note": {"zh": "大促期间等待稍长，感谢耐心", "en": "sale"}})
    await set_status(client, "alice", "online")
    before = await send(client, "b0", "双11红包雨几点开始")  # not in the everyday FAQ: alice takes it
    assert before["handover"]["reason"] == "low_confidence" and before["status"] == "assigned"
    reception = client.app[RECEPTION]
    await clock.advance(3600)  # 09:00: the sale starts
    await eventually(lambda: reception.router.book.get("shop:alice").max_concurrent == 2)
    during = await send(client, "b1", "双11红包雨几点开始")
    assert during["replies"][0]["intent"] == "double11_red_packets"
    assert (await send(client, "b2", "转人工"))["status"] == "assigned"  # a second buyer: two during the sale
    queued = await send(client, "b3", "转人工")
    assert queued["status"] == "queued" and "大促期间" in queued["replies"][-1]["text"]
    await clock.advance(3600)  # 10:00: back to normal
    await eventually(lambda: reception.router.book.get("shop:alice").max_concurrent == 1)
    async def changes():
        found = [e.data for e in await reception.store.events(name="mode.changed")]
        return found if len(found) == 2 else None

    assert await eventually(changes) == [{"mode": "big_sale", "active": True}, {"mode": "big_sale", "active": False}]


async def test_the_shop_adds_its_own_angry_words(start):
    client = await start(agents=[agent("alice", ["pre_sales"], max_concurrent=1)],
                         sentiment={"angry_words": ["退款退了半个月"]})
    await set_status(client, "alice", "online")
    await send(client, "b1", "转人工")
    calm = await send(client, "b2", "转人工")
    upset = await send(client, "b3", "退款退了半个月还没到")
    assert upset["handover"]["reason"] == "angry"
    queue = await (await client.get("/api/v1/queue", headers=ADMIN)).json()
    assert [e["conversation_id"] for e in queue["queue"]] == [upset["conversation_id"], calm["conversation_id"]]


async def test_a_restart_records_no_mode_change_twice(start):
    # the modes loop starts from the last recorded state: a restart (or a new lease holder, with several
    # instances) in the middle of a penalty does not record its start again
    client = await start(agents=TEAM, penalty={"enabled": True})
    reception = client.app[RECEPTION]
    await eventually(lambda: reception.store.events(name="mode.changed"))
    await client.close()
    again = await start(agents=TEAM, penalty={"enabled": True})
    assert (await (await again.get("/api/v1/modes", headers=ADMIN)).json())["penalty"] is True
    off = await again.post("/api/v1/modes/penalty", json={"enabled": False}, headers=ADMIN)
    assert off.status == 200
    store = again.app[RECEPTION].store

    async def changes():
        found = [e.data for e in await store.events(name="mode.changed")]
        return found if found[-1]["active"] is False else None

    assert await eventually(changes) == [{"mode": "penalty", "active": True}, {"mode": "penalty", "active": False}]

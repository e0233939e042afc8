"""The wait queue's serving order and positions: many buyers across groups and priorities, checked against a
plain sort, through the real router (webhook, agent API, virtual clock) and on the queue structure itself."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

from conftest import ADMIN, agent, bearer, close, send, set_status

from reception.core import RECEPTION
from reception.models import Conversation
from reception.routing.queue import WaitQueue

CALM, ANGRY, AGAIN = "转人工", "太差了，什么破东西，气死我了", "还要等多久"
ENTRIES = {"product": "pre_sales", "order": "after_sales", None: None}  # a buyer's entry → their group
TOLD = re.compile(r"您前面还有 (\d+) 位")


def told(text: str) -> int:
    """The position a queue message tells the buyer."""
    match = TOLD.search(text)
    assert match, text
    return int(match.group(1)) + 1


def expected(entries: list[dict]) -> list[tuple[str, int]]:
    """The serving order and each buyer's place in their group's line, by a plain sort."""
    order = sorted(entries, key=lambda e: (-e["priority"], datetime.fromisoformat(e["queued_at"]),
                                           e["conversation_id"]))
    lines: dict[str | None, int] = {}
    result = []
    for e in order:
        lines[e["group"]] = lines.get(e["group"], 0) + 1
        result.append((e["conversation_id"], lines[e["group"]]))
    return result


async def the_queue(client) -> list[dict]:
    return (await (await client.get("/api/v1/queue", headers=ADMIN)).json())["queue"]


async def queue_messages(client, conversation_id: str) -> list[str]:
    body = await (await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=ADMIN)).json()
    return [m["text"] for m in body["messages"] if m.get("kind") == "queue"]


async def test_many_buyers_across_groups_and_priorities_are_served_and_told_in_order(start, clock, tmp_path):
    limit = 4  # buyers up to this position are told when it changes
    # a small FAQ of its own: no FAQ entry's group takes part, only the entry rules choose the line
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "shop.yaml").write_text(
        "- id: shipping_time\n  questions: [什么时候发货, 几天能发货, 多久发货呀, 下单后多久发出, 付款了什么时候发]\n"
        "  answer: 亲，48 小时内发货哦\n"
        "- id: shipping_fee\n  questions: [运费多少, 包邮吗, 邮费怎么算, 要不要运费, 偏远地区运费]\n"
        "  answer: 全国包邮\n",
        encoding="utf-8")
    client = await start(
        faq=[str(faq)],
        agents=[agent("alice", ["pre_sales"], max_concurrent=1), agent("carol", ["after_sales"], max_concurrent=1)],
        routing={"rules": [{"group": "pre_sales", "entries": ["product"]},
                           {"group": "after_sales", "entries": ["order"]}],
                 "queue_updates_max_position": limit})
    reception = client.app[RECEPTION]
    await set_status(client, "alice", "online")
    await set_status(client, "carol", "online")
    assert (await send(client, "busy-a", CALM, entry="product"))["status"] == "assigned"
    assert (await send(client, "busy-c", CALM, entry="order"))["status"] == "assigned"

    rng = random.Random(12)
    buyers: dict[str, str] = {}  # conversation → customer
    for i in range(90):
        if rng.random() < 0.5:
            await clock.advance(rng.choice([0.001, 0.5, 1.0]))  # else several buyers queue in the same instant
        entry = rng.choice(list(ENTRIES))
        body = await send(client, f"b{i}", ANGRY if rng.random() < 0.3 else CALM, **({"entry": entry} if entry else {}))
        assert body["status"] == "queued", body
        buyers[body["conversation_id"]] = f"b{i}"
        # the position the buyer is told on arrival is their place among those queued so far
        queue = await the_queue(client)
        place = dict(expected(queue))[body["conversation_id"]]
        assert told(body["replies"][-1]["text"]) == place
        assert {e["group"] for e in queue if e["conversation_id"] == body["conversation_id"]} == {ENTRIES[entry]}
    queue = await the_queue(client)
    assert {e["priority"] for e in queue} == {0, 1} and {e["group"] for e in queue} == set(ENTRIES.values())
    assert [(e["conversation_id"], e["position"]) for e in queue] == expected(queue)

    # a queued buyer who writes again is told where they stand now
    for conversation_id, place in expected(queue)[::7]:
        body = await send(client, buyers[conversation_id], AGAIN)
        assert told(body["replies"][-1]["text"]) == place

    # the same order after the state is rebuilt from disk
    async with reception.router.lock:
        await reception.router.restore()
    queue = await the_queue(client)  # read again: the buyers' last messages changed above
    async with reception.router.lock:
        await reception.router.restore()
    assert await the_queue(client) == queue

    # agents free slots: each time the first buyer in the whole queue whom that agent may take is served
    # (alice: pre-sales and buyers of no group; carol: after-sales and no group), and everyone up to
    # `limit` in each line has been told their new place
    for name, groups in [("alice", {"pre_sales", None}), ("carol", {"after_sales", None})] * 8:
        before = await the_queue(client)
        [held] = (await (await client.get(f"/api/v1/agents/shop:{name}/conversations",
                                          headers=bearer(f"{name}-token"))).json())["conversations"]
        await close(client, held["conversation_id"], name)
        head = next(e for e in before if e["group"] in groups)
        assert reception.router.active[head["conversation_id"]].agent_id == f"shop:{name}"
        after = await the_queue(client)
        assert [e["conversation_id"] for e in after] == [e["conversation_id"] for e in before if e is not head]
        assert [(e["conversation_id"], e["position"]) for e in after] == expected(after)
        for e in after:
            if e["position"] <= limit:
                assert told((await queue_messages(client, e["conversation_id"]))[-1]) == e["position"]


def test_the_queue_structure_matches_a_plain_sort_under_random_changes():
    rng = random.Random(7)
    start = datetime(2026, 11, 11, tzinfo=timezone.utc)
    groups = ["pre_sales", "after_sales", None]
    queue, model = WaitQueue(), {}  # model: conversation id → conversation, as a plain dict

    def conversation(i: int) -> Conversation:
        at = start + timedelta(seconds=rng.randrange(50), microseconds=rng.choice([0, 1, 2, 500_000]))
        return Conversation(id=f"c{i:04d}", channel="webhook", customer_id=f"b{i}", created_at=start,
                            updated_at=start, status="queued", group=rng.choice(groups), priority=rng.choice([0, 0, 1]),
                            queued_at=None if rng.random() < 0.05 else at)

    def plain(group=None, all_groups=False) -> list[Conversation]:
        line = [c for c in model.values() if all_groups or c.group == group]
        return sorted(line, key=lambda c: (-c.priority, c.queued_at is not None, c.queued_at or start, c.id))

    for step in range(3000):
        roll = rng.random()
        if roll < 0.55 or not model:
            conv = conversation(step)
            queue.put(conv)
            model[conv.id] = conv
        elif roll < 0.85:
            victim = rng.choice(list(model))
            queue.remove(victim)
            del model[victim]
        else:  # a buyer moves: out, changed, back in (as the router's transfer does)
            conv = model[rng.choice(list(model))]
            queue.remove(conv.id)
            conv.group, conv.priority = rng.choice(groups), rng.choice([0, 1])
            queue.put(conv)
        if step % 50:
            continue
        assert len(queue) == len(model)
        assert [c.id for c in queue.ordered(all_groups=True)] == [c.id for c in plain(all_groups=True)]
        assert list(queue.serving(all_groups=True)) == plain(all_groups=True)
        times = [c.queued_at for c in model.values() if c.queued_at]
        assert queue.latest_queued_at() == (max(times) if times else None)
        everyone = plain(all_groups=True)
        assert queue.groups() == list(dict.fromkeys(c.group for c in everyone))
        for group in groups:
            line = plain(group)
            assert [c.id for c in queue.ordered(group)] == [c.id for c in line]
            assert queue.head(group) is (line[0] if line else None)
            assert queue.first(3, group) == line[:3] and queue.len_group(group) == len(line)
            for place, conv in enumerate(line, start=1):
                assert queue.position(conv) == place
    assert queue.position(Conversation(id="nobody", channel="webhook", customer_id="x", created_at=start,
                                       updated_at=start)) == 0

    # walking the queue while taking buyers out, as the router's drain does, sees each buyer once, in order
    walked = []
    for conv in queue.serving(all_groups=True):
        walked.append(conv.id)
        if rng.random() < 0.5:
            queue.remove(conv.id)
    assert walked == [c.id for c in plain(all_groups=True)]

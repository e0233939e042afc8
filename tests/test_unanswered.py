"""The loop that learns from handovers: unanswered questions listed, taught to the FAQ, answered with no restart."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ADMIN, send

from reception import create_app
from reception.cli import main
from reception.clock import VirtualClock
from reception.config import BUNDLED_FAQ
from reception.testing import make_settings

UNANSWERED = "/api/v1/faq/unanswered"
MICROWAVE = ["这个杯子能放微波炉吗", "这个杯子可以放微波炉吗", "杯子能放微波炉吗？", "这个杯子能放微波炉吗"]
PETS = "宠物能用吗"
ENGLISH = "can I put this mug in the microwave"
WATCH = 2.0  # seconds of the app's clock between two looks at the FAQ folders


@pytest.fixture
def faq(tmp_path) -> Path:
    """A copy of the bundled FAQ that the tests may write to."""
    folder = tmp_path / "faq"
    shutil.copytree(BUNDLED_FAQ, folder)
    return folder


@pytest.fixture
async def shop(start, faq):
    return await start(faq=[str(faq)], bot={"watch_seconds": WATCH})


async def ask_all(client, texts, prefix="buyer") -> list[dict]:
    return [await send(client, f"{prefix}-{i}", text) for i, text in enumerate(texts)]


async def groups(client, **query) -> list[dict]:
    response = await client.get(UNANSWERED, headers=ADMIN, params=query)
    assert response.status == 200, await response.text()
    return (await response.json())["groups"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def test_questions_the_bot_handed_over_are_grouped_with_counts_and_the_closest_entry(shop, clock):
    outcomes = await ask_all(shop, [*MICROWAVE, PETS, ENGLISH, "什么时候发货", "转人工"])
    assert [o["handover"] and o["handover"]["reason"] for o in outcomes[:6]] == ["low_confidence"] * 6
    found = await groups(shop)
    assert [(g["text"], g["count"], g["lang"]) for g in found][0] == ("这个杯子能放微波炉吗", 4, "zh")
    assert sorted((g["text"], g["count"], g["lang"]) for g in found[1:]) == [(ENGLISH, 1, "en"), (PETS, 1, "zh")]
    top = found[0]
    assert set(top["examples"]) == set(MICROWAVE) and top["examples"][0] == "这个杯子能放微波炉吗"
    assert top["last_seen"] == clock.now().isoformat()
    body = await (await shop.get(UNANSWERED, headers=ADMIN)).json()
    for group in found:  # the closest entry now, below the threshold that would have answered
        assert group["closest"]["id"] and group["closest"]["confidence"] < body["threshold"][group["lang"]]
    assert {"什么时候发货", "转人工"}.isdisjoint(t for g in found for t in g["examples"])
    assert {e["id"] for e in body["entries"]} >= {"fabric_care", "shipping_time"}
    clock.set(clock.now() + timedelta(days=8))
    assert await groups(shop) == [] and len(await groups(shop, days=30)) == 3


async def test_the_list_needs_the_admin_and_a_sensible_number_of_days(shop):
    assert (await shop.get(UNANSWERED)).status == 401
    for days in ("0", "91", "x", "-1"):
        response = await shop.get(UNANSWERED, headers=ADMIN, params={"days": days})
        assert response.status == 422 and (await response.json())["error"]["code"] == "invalid_field"
    paths = (await (await shop.get("/api/openapi.json")).json())["paths"]
    assert {"/api/v1/faq/unanswered", "/api/v1/faq/entries/{entry_id}/phrasings", "/api/v1/faq/status"} <= set(paths)
    assert "post" in paths["/api/v1/faq/entries"] and "get" in paths["/api/v1/faq/entries"]


async def test_attaching_a_question_writes_the_yaml_keeps_its_comments_and_the_next_buyer_is_answered(shop, faq):
    await ask_all(shop, MICROWAVE)
    before = (faq / "products.yaml").read_text(encoding="utf-8")
    response = await shop.post("/api/v1/faq/entries/fabric_care/phrasings", json={"text": "这个杯子能放微波炉吗"},
                               headers=ADMIN)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["entry"]["id"] == "fabric_care" and body["entry"]["questions"][-1] == "这个杯子能放微波炉吗"
    assert body["entry"]["file"] == str(faq / "products.yaml")
    assert body["reload"]["reloaded"] is True and body["reload"]["error"] is None
    after = (faq / "products.yaml").read_text(encoding="utf-8")
    assert after.startswith(before.splitlines()[0]) and before.splitlines()[0].startswith("#")  # the comment stays
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - 这个杯子能放微波炉吗"] and len(after.splitlines()) == len(before.splitlines()) + 1
    reply = await send(shop, "fresh-buyer", "这个杯子能放微波炉吗")
    assert reply["handover"] is None and reply["replies"][0]["intent"] == "fabric_care"
    assert await groups(shop) == []  # answered now, so off the list (its other wordings too)


async def test_a_new_entry_is_written_to_learned_yaml_and_answers_at_once(shop, faq):
    await ask_all(shop, [PETS, ENGLISH])
    entry = {"id": "microwave_safe", "questions": ["这个杯子能放微波炉吗", ENGLISH],
             "answer": {"zh": "亲，陶瓷杯可以放微波炉加热哦。", "en": "Yes, the ceramic mug is microwave safe."}}
    response = await shop.post("/api/v1/faq/entries", json=entry, headers=ADMIN)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["entry"]["file"] == str(faq / "learned.yaml") and body["reload"]["entries"] == 46
    assert (faq / "learned.yaml").read_text(encoding="utf-8").startswith("# Entries added from the dashboard")
    reply = await send(shop, "fresh-en", "can I put this mug in the microwave?")
    assert reply["replies"][0]["text"] == entry["answer"]["en"] and reply["handover"] is None
    assert [g["text"] for g in await groups(shop)] == [PETS]
    pets = {"id": "宠物", "questions": [PETS], "answer": {"zh": "可以的，材质安全无毒。"}, "file": "pets.yaml"}
    assert (await shop.post("/api/v1/faq/entries", json=pets, headers=ADMIN)).status == 201
    assert (faq / "pets.yaml").is_file() and await groups(shop) == []
    assert (await send(shop, "fresh-zh", PETS))["replies"][0]["intent"] == "宠物"


async def test_unknown_entries_duplicates_and_bad_bodies_change_nothing(shop, faq):
    files = snapshot(faq)
    cases = [
        ("/api/v1/faq/entries/no_such_entry/phrasings", {"text": "随便问问"}, 404, "unknown_entry"),
        ("/api/v1/faq/entries/fabric_care/phrasings", {"text": "什么时候发货？"}, 409, "duplicate_phrasing"),
        ("/api/v1/faq/entries/fabric_care/phrasings", {"text": "   "}, 422, "invalid_field"),
        ("/api/v1/faq/entries/fabric_care/phrasings", {"text": "x" * 501}, 422, "invalid_field"),
        ("/api/v1/faq/entries/fabric_care/phrasings", {"text": "hi", "extra": 1}, 422, "invalid_field"),
        ("/api/v1/faq/entries/fabric_care/phrasings", {}, 422, "invalid_field"),
        ("/api/v1/faq/entries", {"id": "shipping_time", "questions": ["新问题"], "answer": {"zh": "答"}}, 409,
         "duplicate_id"),
        ("/api/v1/faq/entries", {"id": "new_one", "questions": ["什么时候发货"], "answer": {"zh": "答"}}, 409,
         "duplicate_phrasing"),
        ("/api/v1/faq/entries", {"id": "bad id", "questions": ["新问题"], "answer": {"zh": "答"}}, 422,
         "invalid_field"),
        ("/api/v1/faq/entries", {"id": "new_one", "questions": [], "answer": {"zh": "答"}}, 422, "invalid_field"),
        ("/api/v1/faq/entries", {"id": "new_one", "questions": ["新问题"], "answer": {}}, 422, "invalid_field"),
        ("/api/v1/faq/entries", {"id": "new_one", "questions": ["新问题"], "answer": {"zh": "答"},
                                 "file": "../escape.yaml"}, 422, "invalid_field"),
        ("/api/v1/faq/entries", {"id": "new_one", "questions": ["新问题"], "answer": {"zh": "答"},
                                 "file": "notes.txt"}, 422, "invalid_field"),
    ]
    for path, body, status, code in cases:
        response = await shop.post(path, json=body, headers=ADMIN)
        assert (response.status, (await response.json())["error"]["code"]) == (status, code), (path, body)
    assert (await shop.post("/api/v1/faq/entries/fabric_care/phrasings", data=b"{", headers=ADMIN)).status == 400
    assert (await shop.post("/api/v1/faq/entries/fabric_care/phrasings", json={"text": "hi"})).status == 401
    assert (await shop.post("/api/v1/faq/entries", json=cases[-1][1])).status == 401
    assert snapshot(faq) == files and not (faq.parent / "escape.yaml").exists()


async def test_a_bad_hand_edit_keeps_the_old_faq_answering_and_the_status_says_why(shop, faq, clock):
    async def status() -> dict:
        return await (await shop.get("/api/v1/faq/status", headers=ADMIN)).json()

    assert (await status())["error"] is None and (await status())["entries"] == 45
    good = (faq / "returns.yaml").read_text(encoding="utf-8")
    (faq / "returns.yaml").write_text(good + "\n- id: broken\n  questions: [坏了]\n", encoding="utf-8")
    await clock.advance(WATCH + 0.5)  # the watcher polls the folders on the app's clock
    error = (await _eventually(status, lambda s: s["error"]))["error"]
    assert "returns.yaml" in error and "broken" in error and "answer" in error
    assert (await send(shop, "b1", "什么时候发货"))["replies"][0]["intent"] == "shipping_time"
    # an edit while the FAQ is bad is refused and its file left exactly as it was
    products = (faq / "products.yaml").read_bytes()
    response = await shop.post("/api/v1/faq/entries/fabric_care/phrasings", json={"text": "这个杯子能放微波炉吗"},
                               headers=ADMIN)
    assert response.status == 422
    refused = (await response.json())["error"]
    assert refused["code"] == "faq_refused" and "returns.yaml" in refused["message"]
    assert (faq / "products.yaml").read_bytes() == products and (await status())["error"]
    (faq / "returns.yaml").write_text(good, encoding="utf-8")
    await clock.advance(WATCH + 0.5)
    assert (await _eventually(status, lambda s: s["error"] is None))["entries"] == 45


async def _eventually(read, check, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if check(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, value
        await asyncio.sleep(0.02)


@pytest.mark.sqlite_only("`faq suggest` --db takes the SQLite file the shop wrote")
async def test_reception_faq_suggest_prints_the_groups_of_the_last_days(aiohttp_client, tmp_path, faq, capsys,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)  # no reception.toml here: the command takes --db and --faq
    monkeypatch.delenv("RECEPTION_CONFIG", raising=False)
    now = datetime.now(timezone.utc).replace(microsecond=0)  # the command reads the wall clock
    clock = VirtualClock(now - timedelta(days=10))
    client = await aiohttp_client(create_app(make_settings(tmp_path, faq=[str(faq)]), clock=clock))
    await send(client, "old", "帮我写一首关于秋天的诗")
    clock.set(now - timedelta(hours=1))
    await ask_all(client, [*MICROWAVE, PETS, "什么时候发货"])
    db = str(tmp_path / "reception.db")
    args = ["faq", "suggest", "--db", db, "--faq", str(faq)]
    assert await asyncio.to_thread(main, args) == 0
    out = capsys.readouterr().out
    assert "4 messages" not in out and "5 messages in 2 groups" in out
    lines = out.splitlines()
    top = lines.index(next(line for line in lines if "这个杯子能放微波炉吗" in line))
    assert lines[top].split()[0] == "4×" and "closest:" in lines[top + 1] and "zh" in lines[top + 1]
    assert "杯子能放微波炉吗？" in lines[top + 2] and PETS in out
    assert "秋天" not in out and "什么时候发货" not in out
    assert await asyncio.to_thread(main, [*args, "--days", "30"]) == 0
    assert "帮我写一首关于秋天的诗" in capsys.readouterr().out
    assert await asyncio.to_thread(main, [*args, "--days", "0"]) == 2
    assert await asyncio.to_thread(main, ["faq", "suggest", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database" in capsys.readouterr().err


def test_grouping_keeps_a_short_question_apart_from_a_longer_one_that_contains_it():
    from reception.faq.library import FaqLibrary
    from reception.faq.unanswered import suggest

    library = FaqLibrary((BUNDLED_FAQ,), (), 0.05)
    library.load(datetime(2026, 11, 11, tzinfo=timezone.utc))
    faq = library.everyday
    t0 = datetime(2026, 11, 11, tzinfo=timezone.utc)
    asked = [("microwave", "en", t0 + timedelta(minutes=3)),
             ("can I put this mug in the microwave", "en", t0 + timedelta(minutes=2)),
             ("Can I put the mug in a microwave?", "en", t0 + timedelta(minutes=1)),
             ("什么时候发货", "zh", t0)]  # answered by the FAQ: left out
    found = suggest(asked, faq.matcher.match, faq.calibration.threshold)
    assert [(g["text"], g["count"]) for g in found] == [("can I put this mug in the microwave", 2), ("microwave", 1)]
    assert found[0]["last_seen"] == (t0 + timedelta(minutes=2)).isoformat()
    assert suggest(asked, faq.matcher.match, faq.calibration.threshold, limit=1) == found[:1]


async def test_a_hand_edited_answer_is_picked_up_by_the_watcher_with_no_restart(shop, faq, clock):
    assert "48 小时内发货" in (await send(shop, "b1", "什么时候发货"))["replies"][0]["text"]
    path = faq / "shipping.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("48 小时内发货", "72 小时内发货"), encoding="utf-8")
    await clock.advance(WATCH + 0.5)

    async def answer() -> str:
        return (await send(shop, f"b{next(buyers)}", "什么时候发货"))["replies"][0]["text"]

    buyers = iter(range(2, 1000))
    assert "72 小时内发货" in await _eventually(answer, lambda text: "72 小时内发货" in text)

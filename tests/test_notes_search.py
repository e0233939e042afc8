"""Issue 15 §5 through the real app: quick replies as answers, internal notes and tags (the corrected intent feeds
the intent analytics), conversation search. Virtual clock; both stores. The pages' side: test_browser_notes.py.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import ADMIN, agent, bearer, close, reply, send, set_status

from reception.buyers import nickname
from reception.core import RECEPTION
from reception.store.notes import like

TEAM = [agent("alice", ["pre_sales"]), agent("bob", ["pre_sales"])]


async def call(client, method: str, path: str, who: str | None = None, status: int = 200, **kw) -> dict:
    response = await client.request(method, path, headers=bearer(f"{who}-token") if who else ADMIN, **kw)
    assert response.status == status, await response.text()
    return await response.json()


async def test_quick_replies_are_answers_found_by_keyword(client):
    found = await call(client, "GET", "/api/v1/faq/entries?keyword=%E5%8F%91%E7%A5%A8")  # 发票
    every = await call(client, "GET", "/api/v1/faq/entries")
    assert "invoice_request" in {e["id"] for e in found["entries"]} and len(found["entries"]) < len(every["entries"])
    assert "发票" in found["entries"][0]["answer"]["zh"] + found["entries"][0]["question"]
    english = await call(client, "GET", "/api/v1/faq/entries?keyword=INVOICE")
    assert {e["id"] for e in english["entries"]} >= {"invoice_request"}
    assert all(e["answer"]["en"] and e["answer"]["zh"] for e in english["entries"])
    assert (await call(client, "GET", "/api/v1/faq/entries?keyword=zzzz-nothing"))["entries"] == []
    ranked = await call(client, "GET", "/api/v1/faq/entries?q=%E5%BC%80%E5%8F%91%E7%A5%A8&keyword=invoice")
    assert ranked["entries"][0]["id"].startswith("invoice")


async def test_notes_are_for_the_holder_and_the_admin_and_never_reach_the_buyer(start):
    client = await start(agents=TEAM, webhook={"callback_url": "http://127.0.0.1:9/cb"})
    await set_status(client, "alice", "online")
    conv = (await send(client, "b1", "转人工"))["conversation_id"]
    base = f"/api/v1/conversations/{conv}"
    assert (await call(client, "GET", f"{base}/notes", "alice"))["notes"] == []
    await call(client, "POST", f"{base}/notes", "alice", json={"text": "<b>老客户</b>，上次退过货"})
    await call(client, "POST", f"{base}/notes", json={"text": "admin: watch this one"})
    notes = (await call(client, "GET", f"{base}/notes", "alice"))["notes"]
    assert [(n["author"], n["text"]) for n in notes] == [("shop:alice", "<b>老客户</b>，上次退过货"),
                                                          ("admin", "admin: watch this one")]
    # bob does not hold the buyer: no reading, no writing, no tags; nobody without a token
    for method, path, body in (("GET", "notes", None), ("POST", "notes", {"text": "x"}), ("GET", "tags", None),
                               ("PUT", "tags", {"tags": ["x"]})):
        refused = await call(client, method, f"{base}/{path}", "bob", status=403, json=body)
        assert refused["error"]["code"] == "not_your_conversation"
        assert (await client.request(method, f"{base}/{path}", json=body)).status == 401
    await call(client, "GET", "/api/v1/conversations/nope/notes", "alice", status=404)
    empty = await call(client, "POST", f"{base}/notes", "alice", status=422, json={"text": "   "})
    assert empty["error"]["fields"][0]["field"] == "text"
    await call(client, "POST", f"{base}/notes", "alice", status=422, json={"text": "x" * 2001})
    # the buyer's side: the messages, the webhook's answers, the callbacks queued, the events: no note anywhere
    await reply(client, conv, "alice", "您好")
    later = await send(client, "b1", "在吗")
    store = client.app[RECEPTION].store
    texts = [m.text for m in await store.messages(conv)]
    deliveries = await store._rows("SELECT payload FROM deliveries")
    events = await store._rows("SELECT data FROM events")
    for where in (texts, [d["payload"] for d in deliveries], [e["data"] for e in events], [str(later)]):
        assert not any("老客户" in (text or "") or "watch this" in (text or "") for text in where)
    # notes and tags go with the buyer when they are forgotten
    await call(client, "PUT", f"{base}/tags", "alice", json={"tags": ["VIP"]})
    await close(client, conv, "alice")
    tx = store.transaction()
    counts = await store.stage_forget(tx, "b1")
    await store.commit(tx)
    assert counts["notes"] == 2 and counts["labels"] == 1
    assert await store.notes(conv) == [] and await store.labels(conv) is None


async def test_a_corrected_intent_is_what_the_intent_analytics_count(start, clock):
    client = await start(agents=TEAM, offline_pool={"enabled": False})
    await set_status(client, "alice", "online")
    day = clock.now().date().isoformat()
    conv = (await send(client, "b1", "转人工"))["conversation_id"]
    base = f"/api/v1/conversations/{conv}"
    before = await call(client, "GET", f"/api/v1/metrics/intents?from={day}&to={day}")
    assert [(i["intent"], i["kind"]) for i in before["intents"]] == [("requested", "handover")]
    tags = await call(client, "GET", f"{base}/tags", "alice")
    assert tags["tags"] == [] and tags["intent"] is None
    assert {"invoice_request", "signed_not_received"} <= {i["id"] for i in tags["intents"]}
    unknown = await call(client, "PUT", f"{base}/tags", "alice", status=422, json={"intent": "no_such_entry"})
    assert unknown["error"]["code"] == "unknown_intent" and unknown["error"]["fields"][0]["field"] == "intent"
    too_long = await call(client, "PUT", f"{base}/tags", "alice", status=422, json={"tags": ["x" * 21]})
    assert too_long["error"]["fields"][0]["field"] == "tags.0"
    saved = await call(client, "PUT", f"{base}/tags", "alice",
                       json={"tags": ["VIP", " VIP ", "退货"], "intent": "invoice_request"})
    assert saved["tags"] == ["VIP", "退货"] and saved["intent"] == "invoice_request"
    assert saved["updated_by"] == "shop:alice"
    after = await call(client, "GET", f"/api/v1/metrics/intents?from={day}&to={day}")
    assert [(i["intent"], i["kind"], i["sessions"]) for i in after["intents"]] == [("invoice_request", "intent", 1)]
    # the same intent again records nothing; a change is recorded with what it replaced; null gives it back
    await call(client, "PUT", f"{base}/tags", "alice", json={"tags": ["VIP"], "intent": "invoice_request"})
    await call(client, "PUT", f"{base}/tags", json={"tags": ["VIP"], "intent": "installment"})
    store = client.app[RECEPTION].store
    corrected = [(e.payload.intent, e.payload.previous, e.payload.by)  # type: ignore[attr-defined]
                 for e in await store.events("intent.corrected")]
    assert corrected == [("invoice_request", None, "shop:alice"), ("installment", "invoice_request", "admin")]
    assert (await call(client, "GET", f"/api/v1/metrics/intents?from={day}&to={day}"))["intents"][0]["intent"] == \
        "installment"
    await call(client, "PUT", f"{base}/tags", "alice", json={"tags": [], "intent": None})
    assert (await call(client, "GET", f"/api/v1/metrics/intents?from={day}&to={day}"))["intents"][0]["intent"] == \
        "requested"
    # the ledger row carries the correction
    await call(client, "PUT", f"{base}/tags", "alice", json={"tags": ["VIP"], "intent": "installment"})
    rows = await store._rows("SELECT intent FROM metric_intents WHERE conversation_id=?", (conv,))
    assert rows == [{"intent": "installment"}]


async def test_search_finds_an_agents_own_conversations_and_the_admin_all(start, clock):
    client = await start(agents=TEAM, offline_pool={"enabled": False})
    await set_status(client, "alice", "online")
    first = (await send(client, "b1", "转人工", customer_name="王小明"))["conversation_id"]
    await send(client, "b1", "订单 SO-2026_77 的发票开错了 100%")
    await reply(client, first, "alice", "好的，马上处理")
    await close(client, first, "alice")
    clock.set(clock.now() + timedelta(days=2))  # a jump: no background loop needs to run
    await set_status(client, "alice", "offline")
    await set_status(client, "bob", "online")
    second = (await send(client, "b2", "转人工"))["conversation_id"]
    await send(client, "b2", "发票什么时候到", card={"type": "order", "id": "SO-9"})

    async def ids(query: str, who: str | None = None) -> list[str]:
        body = await call(client, "GET", f"/api/v1/search/conversations?{query}", who)
        return [c["conversation_id"] for c in body["conversations"]]

    assert await ids("text=发票") == [second, first]
    assert await ids("text=发票", "alice") == [first]  # alice served only b1
    assert await ids("text=发票", "bob") == [second]
    # internal notes are searched where the caller may read them: the admin, the agent who holds the buyer now
    await call(client, "POST", f"/api/v1/conversations/{second}/notes", "bob", json={"text": "周五前回电，VIP"})
    await call(client, "POST", f"/api/v1/conversations/{first}/notes", json={"text": "周五 admin note"})
    assert await ids("text=周五", "bob") == [second] and await ids("text=周五") == [second, first]
    assert await ids("text=周五", "alice") == []  # b1's conversation is closed: alice no longer reads its notes
    [hit] = (await call(client, "GET", "/api/v1/search/conversations?text=vip", "bob"))["conversations"]
    assert [(m["sender"], m["text"]) for m in hit["matches"]] == [("note", "周五前回电，VIP")]
    assert await ids("buyer=小明", "alice") == [first] and await ids("buyer=B1") == [first]
    assert await ids(f"buyer=买家·{nickname('webhook', 'b2')}") == [second]
    assert await ids(f"buyer={nickname('webhook', 'b2').lower()}", "alice") == []
    assert await ids("order=SO-9") == [second]  # the order card
    assert await ids("order=so-2026_77") == [first]  # in the text
    assert await ids("text=100%") == [first] and await ids("text=_") == [first]  # wildcards are literal
    assert await ids("text=%25%25") == [] and await ids("buyer=%25") == []
    start_day = (clock.now() - timedelta(days=2)).date()
    assert await ids(f"from={start_day}&to={start_day}") == [first]
    assert await ids(f"from={clock.now().date()}") == [second]
    body = await call(client, "GET", "/api/v1/search/conversations?text=发票&limit=1")
    assert body["truncated"] is True and len(body["conversations"]) == 1 and body["limit"] == 1
    hit = body["conversations"][0]
    assert hit["buyer"]["display_name"].startswith("买家·") and hit["matches"][0]["text"] == "发票什么时候到"
    mine = (await call(client, "GET", "/api/v1/search/conversations?text=发票", "bob"))["conversations"][0]
    assert mine["mine"] is True
    # validated: each refusal names its field
    for query, field in (("from=2026-13-01", "from"), ("to=11/11/2026", "to"), ("limit=0", "limit"),
                         ("limit=101", "limit"), ("limit=x", "limit"), ("text=" + "x" * 201, "text"),
                         ("colour=red", "colour")):
        refused = await call(client, "GET", f"/api/v1/search/conversations?{query}", status=422)
        assert refused["error"]["fields"][0]["field"] == field, query
    assert "from" in (await call(client, "GET", "/api/v1/search/conversations?from=2026-11-12&to=2026-11-11",
                                 status=422))["error"]["message"]
    assert (await client.get("/api/v1/search/conversations")).status == 401


def test_like_patterns_take_the_users_wildcards_literally():
    assert like("100%_a\\B") == "%100\\%\\_a\\\\b%"

"""`reception store copy`, the real command on real databases: a shop moved from SQLite to PostgreSQL and back
reads the same through the HTTP API and takes new rows after the copied ids; a destination that holds a shop, a
bad source or a bad URL is refused with one line, nothing written; a copy that goes wrong leaves no row."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, CLI, TEMPLATE, agent, bearer, close, query, reply, send, server_env, set_status
from test_webchat import connect, frames_until, session

from reception import create_app
from reception.core import RECEPTION
from reception.store.schema import CREATE_LEDGER, LATEST, MIGRATIONS, RECORD
from reception.testing import make_settings

DAY = "2026-11-11"
TEAM = [agent("alice", ["pre_sales"], max_concurrent=1), agent("bob", ["pre_sales"], max_concurrent=1)]
RULES = {"rules": [{"group": "pre_sales", "reasons": ["requested"]}]}
ORDERS = ("order_id,customer_id,status,items,address,carrier,tracking_no,tracking_events\n"
          'TB1001,o1,shipped,亚麻抱枕套 燕麦米/45x45 ×2,浙江省杭州市西湖区文三路 1 号,中通快递,ZT123456,'
          '"[{""time"": ""2026-11-10 09:00"", ""text"": ""已揽收""}]"\n'
          "TB1002,o1,paid,棉麻桌布 ×1,上海市浦东新区世纪大道 100 号,,,\n"
          "TB1003,b1,unpaid,香薰蜡烛 檀木 ×3,,,,\n")
SECRET = "s3cret-pw"
WIDGET_SECRET = "widget-secret-for-every-copy"
_names = itertools.count(1)


async def reception_cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """The real `reception ARGS` in a process of its own: exit status, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(*CLI, *args, cwd=cwd, env=server_env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def copy(src: str, dst: str, cwd: Path, *flags: str) -> tuple[int, str, str]:
    return await reception_cli("store", "copy", src, dst, *flags, cwd=cwd)


def with_password(url: str) -> str:
    """The test server's URL with a password in it (the server trusts local connections: any password does)."""
    return url.replace("reception@", f"reception:{SECRET}@", 1)


@pytest.fixture
async def new_database(postgres):
    """``await new_database(template=None)``: the URL of a new database on the session's server, dropped after."""
    made: list[str] = []

    async def make(template: str | None = None) -> str:
        name = f"copy_{next(_names)}"
        made.append(name)
        return await postgres.create_database(name, template)

    yield make
    for name in made:
        await postgres.drop_database(name)


async def execute(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def digest(path: Path) -> tuple[str, int]:
    """A SQLite database's bytes and the size of its write-ahead log, to show nothing was written (a reader may
    leave SQLite's empty -wal and its -shm beside the file)."""
    wal = path.with_name(path.name + "-wal")
    return hashlib.sha256(path.read_bytes()).hexdigest(), wal.stat().st_size if wal.exists() else 0


def refused(status: int, out: str, err: str, start: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr beginning `reception: error: START`, no password."""
    assert (status, out) == (2, ""), (status, out, err)
    assert err.startswith(f"reception: error: {start}") and err.count("\n") == 1, err
    assert SECRET not in err and "Traceback" not in err


async def shop_file(tmp_path: Path, name: str = "shop.db") -> Path:
    """A SQLite shop with a few orders in it (`reception orders import`)."""
    path = tmp_path / name
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    status, _, err = await reception_cli("orders", "import", "orders.csv", "--db", str(path), cwd=tmp_path)
    assert status == 0, err
    return path


def old_schema(path: Path, versions: int = LATEST - 1) -> Path:
    """A SQLite database as a reception of an older schema left it (the first `versions` migrations), a row in."""
    with sqlite3.connect(path) as conn:
        conn.execute(CREATE_LEDGER)
        for migration in MIGRATIONS[:versions]:
            for statement in migration.sql:
                conn.execute(statement)
            conn.execute(RECORD, (migration.version, f"_m{migration.version:03d}_{migration.name}"))
        conn.execute("INSERT INTO kv (key, value) VALUES ('k', 'v')")
    return path


async def open_shop(aiohttp_client, tmp_path: Path, clock, store: dict[str, Any]):
    # the widget's tokens signed with a secret in the config, not a key file beside the database: one buyer
    # token for every copy
    settings = make_settings(tmp_path, store=store, agents=TEAM, routing=RULES, bot={"semantic": "off"},
                             webchat={"secret": WIDGET_SECRET})
    return await aiohttp_client(create_app(settings, clock=clock))


async def demo_day(client, clock) -> tuple[list[str], str]:
    """Traffic through the real app: the bot, an agent who replies and closes (rated), a queue, the offline
    pool and a run of it, an unanswered question, an order question, a widget buyer. The conversations' ids
    and the widget buyer's token."""
    await set_status(client, "bob", "online")  # takes the widget buyer
    widget = await session(client)
    ws, _ = await connect(client, widget["token"])
    await ws.send_json({"type": "message", "client_id": "w-1", "text": "什么时候发货"})
    await frames_until(ws, "status")
    await clock.advance(3)
    await ws.send_json({"type": "message", "client_id": "w-2", "text": "转人工"})
    w = [f for f in await frames_until(ws, "status") if f["type"] == "message"][0]
    await ws.close()
    await reply(client, w["conversation_id"], "bob", "您好，我是 bob")
    await set_status(client, "alice", "online")
    b1 = await send(client, "b1", "转人工")
    assert b1["status"] == "assigned"
    await clock.advance(30)
    await reply(client, b1["conversation_id"], "alice")
    await clock.advance(10)
    b2 = await send(client, "b2", "人工客服")
    assert b2["status"] == "queued"
    await clock.advance(5)
    f1 = await send(client, "f1", "什么时候发货")
    assert f1["handover"] is None
    u1 = await send(client, "u1", "这个杯子能放微波炉吗")
    assert u1["handover"]["reason"] == "low_confidence"
    o1 = await send(client, "o1", "我的快递到哪了")
    await clock.advance(40)
    await close(client, b1["conversation_id"], "alice")  # b2 goes to alice
    await clock.advance(5)
    await send(client, "b1", "5")  # b1 rates satisfied
    await clock.advance(20)
    await reply(client, b2["conversation_id"], "alice", "请问有什么可以帮您")
    await set_status(client, "alice", "offline")
    await set_status(client, "bob", "offline")
    await clock.advance(60)
    d1 = await send(client, "d1", "转人工")
    assert d1["status"] == "offline"
    run = await client.post("/api/v1/offline-pool/run", headers=ADMIN)
    assert run.status == 200, await run.text()
    await clock.advance(60)
    return [b["conversation_id"] for b in (w, b1, b2, f1, u1, o1, d1)], widget["token"]


async def widget_history(client, token: str) -> tuple[str, list[dict[str, Any]]]:
    """The widget buyer's customer id, and every message a sync from 0 sends, each with its seq (its id)."""
    me = await session(client, token)
    ws, history = await connect(client, me["token"])
    await ws.close()
    return me["customer_id"], history


async def reads(client, ids: list[str], widget: str) -> dict[str, Any]:
    """What the shop shows through its HTTP API (and the store's contact reads), for comparing two databases."""

    async def get(path: str, headers: dict[str, str] = ADMIN) -> Any:
        response = await client.get(path, headers=headers)
        assert response.status == 200, (path, await response.text())
        return await response.json()

    shown: dict[str, Any] = {}
    for cid in ids:
        shown[f"messages {cid}"] = await get(f"/api/v1/conversations/{cid}/messages")
        shown[f"history {cid}"] = await get(f"/api/v1/conversations/{cid}/history")
        shown[f"orders {cid}"] = await get(f"/api/v1/conversations/{cid}/orders")
    for path in (f"/api/v1/metrics/assessment?from={DAY}&to={DAY}", f"/api/v1/metrics/intents?from={DAY}&to={DAY}",
                 "/api/v1/agents", "/api/v1/offline-pool/runs", "/api/v1/orders/TB1001", "/api/v1/orders/TB1003",
                 "/api/v1/faq/unanswered", "/api/v1/stats/today"):
        shown[path] = await get(path)
    for path in ("/api/v1/queue", "/api/v1/offline-pool"):
        shown[path] = await get(path, bearer("bob-token"))
    for body in shown.values():
        body.pop("generated_at", None)
    customer, shown["widget"] = await widget_history(client, widget)
    store = client.app[RECEPTION].store  # the customer key holds a NUL (U+001F on PostgreSQL)
    keys = [f"webhook\x00{buyer}" for buyer in ("b1", "b2", "u1", "nobody")] + [f"webchat\x00{customer}"]
    shown["contacts"] = [await store.contact(key) for key in keys]
    return shown


async def new_rows(client, database: str, widget: str, after: int) -> dict[str, Any]:
    """Writes after the copy: a widget resend (already stored: not again), new messages in old and new
    conversations, a pool run. What they stored, ids included."""
    ws, _ = await connect(client, (await session(client, widget))["token"], after=after)
    await ws.send_json({"type": "message", "client_id": "w-2", "text": "转人工"})  # a resend from before the copy
    resent = [f for f in await frames_until(ws, "status") if f["type"] == "message"]
    await ws.send_json({"type": "message", "client_id": "w-3", "text": "还在吗"})
    widget_new = [f for f in await frames_until(ws, "status") if f["type"] == "message"]
    await ws.close()
    again = await send(client, "b2", "还在吗")
    fresh = await send(client, "n1", "转人工")
    run = await client.post("/api/v1/offline-pool/run", headers=ADMIN)
    assert run.status == 200, await run.text()
    store = client.app[RECEPTION].store
    return {"resent": resent, "widget": widget_new,
            "messages": [(m.id, m.sender, m.text) for cid in (again["conversation_id"], fresh["conversation_id"])
                         for m in await store.messages(cid)],
            "events": query(database, "SELECT id, name, at FROM events ORDER BY id DESC LIMIT 12"),
            # the new buyer's conversation id is new on each copy (random): named by the buyer instead
            "runs": (await (await client.get("/api/v1/offline-pool/runs", headers=ADMIN)).text()).replace(
                fresh["conversation_id"], "n1's")}


async def test_a_shop_moved_there_and_back_reads_the_same(aiohttp_client, tmp_path, clock, database):
    """SQLite → `database` (a fresh PostgreSQL database, or a new SQLite file) → a new SQLite file."""
    original = await shop_file(tmp_path)
    client = await open_shop(aiohttp_client, tmp_path, clock, {"path": str(original)})
    ids, widget = await demo_day(client, clock)
    live = await reads(client, ids, widget)
    await client.close()
    # what is compared below is something: every kind of state the day left
    assert [q["customer_id"] for q in live["/api/v1/queue"]["queue"]] == ["u1"]
    assert [p["customer_id"] for p in live["/api/v1/offline-pool"]["pool"]] == ["d1"]
    assert live[f"/api/v1/metrics/assessment?from={DAY}&to={DAY}"]["ratings"] == 1
    assert live["/api/v1/faq/unanswered"]["groups"] and live["/api/v1/offline-pool/runs"]["runs"]
    assert [m["seq"] for m in live["widget"]] == [1, 2, 3, 4, 5]
    assert live["contacts"][0] and live["contacts"][-1]  # b1's and the widget buyer's agents
    # imported together, TB1001 and TB1002 have the same updated_at: their order is the rowid's
    assert [o["order_id"] for o in live[f"orders {ids[5]}"]["orders"]] == ["TB1002", "TB1001"]

    middle = with_password(database)
    status, out, err = await copy(str(original), middle, tmp_path, "--batch", "7")  # several batches a table
    assert status == 0, err
    assert SECRET not in out + err
    lines = out.splitlines()
    assert lines[0] == f"copying {original} → {middle.replace(SECRET, '***')}" and lines[1].split() == ["table", "rows"]
    done = next(i for i, line in enumerate(lines) if line.startswith("copied "))
    counts = {table: int(rows) for table, rows in (line.split() for line in lines[2:done])}
    assert counts == {table: query(str(original), f"SELECT COUNT(*) FROM {table}")[0][0] for table in counts}
    assert counts == {table: query(middle, f"SELECT COUNT(*) FROM {table}")[0][0] for table in counts}
    assert {"conversations", "messages", "events", "idempotency", "orders", "contacts", "pool_runs", "kv",
            "metric_sessions", "metric_turns", "agent_states", "routing_version"} <= set(counts)
    assert all(counts[table] for table in ("messages", "idempotency", "orders", "contacts", "pool_runs",
                                           "metric_turns"))
    assert lines[done].startswith(f"copied {sum(counts.values())} rows in ")
    final = tmp_path / "final.db"
    status, out, err = await copy(middle, str(final), tmp_path, "--batch", "5")
    assert status == 0, err

    copied_max = query(str(final), "SELECT MAX(id) FROM messages")[0][0]
    shops = {"original": {"path": str(original)}, "middle": {"url": middle} if "://" in middle else {"path": middle},
             "final": {"path": str(final)}}
    seen, after = {}, {}
    last_seq = live["widget"][-1]["seq"]
    for name, store in shops.items():
        client = await open_shop(aiohttp_client, tmp_path, clock, store)
        seen[name] = await reads(client, ids, widget)
        after[name] = await new_rows(client, store.get("url") or store["path"], widget, last_seq)
        await client.close()
    assert seen["original"] == live
    assert seen["middle"] == live
    assert seen["final"] == live
    # new rows take the next ids, the same on every copy: PostgreSQL's sequences were moved past the copied ids
    assert after["middle"] == after["original"] and after["final"] == after["original"]
    assert after["original"]["resent"] == [] and after["original"]["widget"][0]["seq"] > last_seq
    assert max(seq for seq, _, _ in after["original"]["messages"]) > copied_max


async def test_a_destination_that_holds_a_shop_is_refused_and_left_alone(tmp_path):
    src = await shop_file(tmp_path)
    (tmp_path / "other").mkdir()
    other = await shop_file(tmp_path / "other", "other.db")
    before = digest(other)
    refused(*await copy(str(src), str(other), tmp_path), f"DST {other} already holds a shop (orders 3 rows)")
    assert digest(other) == before

    # a database at an older schema with a shop in it is not migrated on the way to refusing it
    older = old_schema(tmp_path / "older.db")
    before = digest(older)
    refused(*await copy(str(src), str(older), tmp_path), f"DST {older} already holds a shop (kv 1 rows)")
    assert digest(older) == before

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = digest(foreign)
    refused(*await copy(str(src), str(foreign), tmp_path), f"DST {foreign} holds tables that are not reception's")
    assert digest(foreign) == before
    refused(*await copy(str(src), str(src), tmp_path), "SRC and DST are the same database")
    refused(*await copy(str(src), str(tmp_path), tmp_path), f"DST {tmp_path} is not a file")


async def test_a_postgresql_database_with_a_shop_is_refused_and_left_alone(tmp_path, new_database):
    src = await shop_file(tmp_path)
    pg = with_password(await new_database())  # empty: the copy makes the schema
    assert (await copy(str(src), pg, tmp_path))[0] == 0
    refused(*await copy(str(src), pg, tmp_path), f"DST {pg.replace(SECRET, '***')} already holds a shop (orders 3")
    assert query(pg, "SELECT COUNT(*) FROM orders") == [(3,)]
    other = await new_database()  # and PostgreSQL to PostgreSQL, in the same order
    assert (await copy(pg, other, tmp_path))[0] == 0
    in_order = "SELECT order_id, customer_id, updated_at FROM orders ORDER BY updated_at, rowid"
    assert query(other, in_order) == query(pg, in_order) == query(str(src), in_order)


async def test_a_migrated_but_empty_database_takes_a_copy(tmp_path, new_database):
    src = await shop_file(tmp_path)
    pg = await new_database(TEMPLATE)  # what `reception serve` on an empty database leaves
    status, out, err = await copy(str(src), pg, tmp_path)
    assert status == 0, err
    assert query(pg, "SELECT id, version FROM routing_version") == [(1, 0)]  # the migrations' row, once
    assert query(pg, "SELECT MAX(version) FROM _migrations") == [(LATEST,)]


async def test_a_bad_source_file_is_refused_and_nothing_is_written(tmp_path):
    dst = tmp_path / "new.db"
    refused(*await copy("missing.db", str(dst), tmp_path), f"SRC {tmp_path / 'missing.db'}: no such file")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just some bytes" * 100)
    refused(*await copy(str(junk), str(dst), tmp_path), f"SRC {junk} is not a SQLite database")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    refused(*await copy(str(foreign), str(dst), tmp_path), f"SRC {foreign} is not a reception database")
    older = old_schema(tmp_path / "older.db")
    before = digest(older)
    refused(*await copy(str(older), str(dst), tmp_path),
            f"SRC {older} is at schema {LATEST - 1}, this reception's is {LATEST}: open it once with this version")
    assert digest(older) == before  # not migrated: the copy never changes its source
    newer = await shop_file(tmp_path, "newer.db")
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO _migrations (version, name) VALUES (?, 'from the future')", (LATEST + 1,))
    refused(*await copy(str(newer), str(dst), tmp_path), f"SRC {newer} was written by a newer reception")
    assert not dst.exists()


async def test_a_bad_source_database_is_refused_and_nothing_is_written(tmp_path, new_database, postgres):
    dst = tmp_path / "new.db"
    empty = with_password(await new_database())
    refused(*await copy(empty, str(dst), tmp_path), f"SRC {empty.replace(SECRET, '***')} is not a reception database")
    missing = with_password(postgres.url("no_such_database"))
    refused(*await copy(missing, str(dst), tmp_path),
            f'SRC {missing.replace(SECRET, "***")}: cannot open the database: database "no_such_database" does not')
    assert not dst.exists()
    assert query(empty, "SELECT COUNT(*) FROM pg_tables WHERE schemaname='public'") == [(0,)]


@pytest.mark.parametrize("url", ["mysql://shop:s3cret-pw@db/shop", "http://x", "sqlite://shop.db"])
async def test_an_unsupported_url_is_one_line_and_exit_2(tmp_path, url):
    for src, dst, which in ((url, "copy.db", "SRC"), ("shop.db", url, "DST")):
        status, out, err = await copy(src, dst, tmp_path)
        refused(status, out, err, f"{which} {url.replace(SECRET, '***')}: ")
    assert not list(tmp_path.iterdir())


async def test_an_unreachable_database_is_named_without_its_password(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://shop:{SECRET}@127.0.0.1:{port}/shop"
    src = await shop_file(tmp_path)
    refused(*await copy(str(src), url, tmp_path),
            f"DST postgresql://shop:***@127.0.0.1:{port}/shop: cannot reach the database: ")
    refused(*await copy(url, "copy.db", tmp_path), f"SRC postgresql://shop:***@127.0.0.1:{port}/shop: cannot reach")


@pytest.mark.parametrize("fault", ["RETURN NULL", "RAISE EXCEPTION 'disk full'"])
async def test_a_copy_that_goes_wrong_is_rolled_back(aiohttp_client, tmp_path, clock, new_database, fault):
    """A row the destination loses (the count differs) or an error half-way: exit 1, the destination without a
    row, as before the copy. The fault is a real trigger on the real server."""
    src = await shop_file(tmp_path)
    client = await open_shop(aiohttp_client, tmp_path, clock, {"path": str(src)})
    await send(client, "f1", "什么时候发货")
    await send(client, "b1", "转人工")
    await client.close()
    pg = await new_database(TEMPLATE)
    # orders is filled after conversations, messages, events …: the earlier tables' rows must go too
    await execute(pg, "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS"
                      f" $$ BEGIN IF NEW.order_id = 'TB1002' THEN {fault}; END IF; RETURN NEW; END $$",
                      "CREATE TRIGGER fault BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION fault()")
    status, out, err = await copy(str(src), pg, tmp_path)
    assert status == 1, (out, err)
    assert err.count("\n") == 1 and "holds no shop" in err, err
    if fault == "RETURN NULL":
        assert err.startswith(f"reception: error: orders: 3 rows in SRC {src}, 2 copied; rolled back")
        assert ["orders", "2", "≠", "3", "in", "SRC"] in [line.split() for line in out.splitlines()]
    else:
        assert err.startswith("reception: error: the copy failed and was rolled back") and "disk full" in err
    for table in ("conversations", "messages", "events", "orders", "kv"):
        assert query(pg, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    assert query(pg, "SELECT id, version FROM routing_version") == [(1, 0)]

"""The store's two back-ends as a user meets them: which database a URL picks, what is refused and how, and a
PostgreSQL server that restarts under load (503 ``store_unavailable`` meanwhile, nothing acknowledged lost)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import aiohttp
import pytest
from conftest import CLI, WEBHOOK, query, send, server_env

from reception.cli import main
from reception.config import ConfigError, load_settings
from reception.config.sections import StoreSettings, hide_password
from reception.store import StoreError, make_store
from reception.store.schema import LATEST


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_url_picks_the_back_end_and_sqlite_urls_are_files(tmp_path):
    assert StoreSettings().kind == "sqlite"
    pg = StoreSettings(url="postgresql://shop:s3cret@db.internal:5432/shop?sslmode=require&password=x")
    assert pg.kind == "postgresql"
    assert pg.shown == "postgresql://shop:***@db.internal:5432/shop?sslmode=require&password=***"
    assert StoreSettings(url="postgres://db/shop").kind == "postgresql"
    relative = load_settings(None, env={"RECEPTION_STORE__URL": "sqlite:///data/shop.db"})
    assert relative.store.kind == "sqlite" and relative.store.path.parts[-2:] == ("data", "shop.db")
    absolute = StoreSettings(url=f"sqlite:///{tmp_path}/shop.db")
    assert absolute.url is None and absolute.path == tmp_path / "shop.db"
    assert hide_password("postgresql://shop@db/shop") == "postgresql://shop@db/shop"


@pytest.mark.parametrize("url", ["mysql://shop:s3cret@db/shop", "http://x", "sqlite://shop.db", "shop.db"])
def test_an_unsupported_url_in_the_config_names_the_setting(tmp_path, url):
    with pytest.raises(ConfigError) as refused:
        load_settings(None, env={"RECEPTION_STORE__URL": url})
    message = str(refused.value)
    assert message.startswith("RECEPTION_STORE__URL: ") and "s3cret" not in message and "\n" not in message
    config = tmp_path / "reception.toml"
    config.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"store\.url: "):
        load_settings(config, env={})


def test_an_unsupported_db_flag_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (["serve"], ["report"], ["buyer", "forget", "b1"]):
        assert main([*command, "--db", "mysql://shop:s3cret@db/shop"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("reception: error: --db mysql://shop:***@db/shop: unsupported database URL")
        assert err.count("\n") == 1 and "s3cret" not in err
    assert not list(tmp_path.iterdir())  # no file named like the URL


async def test_an_unreachable_postgresql_is_one_line_naming_it_without_the_password(tmp_path):
    url = f"postgresql://shop:s3cret@127.0.0.1:{_closed_port()}/shop"
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", "--port", "0", "--db", url, cwd=tmp_path,
                                                env=server_env(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, (out, err)
    lines = err.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reception: error: cannot reach the database "
                                                   f"postgresql://shop:***@127.0.0.1:{url.split(':')[3]}")
    assert "s3cret" not in out.decode() + err.decode() and "Traceback" not in err.decode()
    assert not list(tmp_path.iterdir())


async def test_a_database_from_a_newer_reception_is_refused(store_section, database, capsys):
    settings = StoreSettings.model_validate(store_section)
    store = make_store(settings)
    await store.open()
    await store.close()
    query(database, "INSERT INTO _migrations (version, name) VALUES (?, ?)", LATEST + 3, "_m009_future")
    with pytest.raises(StoreError) as refused:
        await make_store(settings).open()
    assert str(refused.value) == (f"{settings.shown} was written by a newer reception: schema {LATEST + 3},"
                                  f" this version knows {LATEST}")
    assert await asyncio.to_thread(main, ["report", "--db", database]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"newer reception: schema {LATEST + 3}" in err


async def test_a_missing_postgresql_database_is_one_line(postgres):
    url = postgres.url("no_such_shop", password="s3cret")
    with pytest.raises(StoreError) as refused:
        await make_store(StoreSettings(url=url)).open()
    assert str(refused.value).startswith(f"cannot open the database {hide_password(url)}: ")
    assert "no_such_shop" in str(refused.value) and "s3cret" not in str(refused.value)


@pytest.mark.postgresql_only("the server is PostgreSQL's")
async def test_serve_on_postgresql_prints_the_url_without_its_password(store_section, tmp_path):
    url = store_section["url"].replace("reception@", "reception:s3cret@")  # the test server trusts any password
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", "--port", "0", "--db", url, cwd=tmp_path,
                                                env=server_env(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        line = ""
        while "http://" not in line:  # after the demo shop's admin token
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, (await proc.stderr.read()).decode()
        assert f"(db {hide_password(url)}; faq " in line and "***" in line, line
        base = line[line.index("http://"):].split()[0]
        async with aiohttp.ClientSession() as session:
            body = {"customer_id": "pg-buyer", "text": "什么时候发货"}
            async with session.post(base + WEBHOOK, json=body) as response:
                assert response.status == 200
    finally:
        proc.terminate()
        out, err = await proc.communicate()
    assert proc.returncode == 0 and "s3cret" not in out.decode() + err.decode()
    assert query(store_section["url"], "SELECT COUNT(*) FROM messages WHERE sender='buyer'") == [(1,)]
    assert not list(tmp_path.glob("postgres*"))  # no SQLite file named like the URL


@pytest.mark.postgresql_only("a PostgreSQL server restarts")
async def test_a_postgresql_restart_under_load_answers_503_then_recovers_and_loses_nothing(
        start, postgres, database, caplog):
    client = await start()
    await send(client, "warm-up", "你好")
    statuses: dict[str, int] = {}
    stop_at = time.monotonic() + 60  # bounded: the load stops by itself

    async def buyer(n: int) -> None:
        for i in range(400):
            if time.monotonic() > stop_at or restarted.is_set() and i > 20 and statuses.get(f"b{n}-{i - 1}") == 200:
                return
            key = f"b{n}-{i}"
            response = await client.post(WEBHOOK, json={"customer_id": f"buyer-{n}", "message_id": key,
                                                        "text": f"什么时候发货 {i}"})
            statuses[key] = response.status
            if response.status != 200:
                body = await response.json()
                assert response.status == 503 and body["error"]["code"] == "store_unavailable", body
                await asyncio.sleep(0.05)

    async def restart() -> None:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(postgres.restart)
        restarted.set()

    restarted = asyncio.Event()
    caplog.set_level(logging.WARNING)
    await asyncio.gather(restart(), *(buyer(n) for n in range(6)))
    codes = list(statuses.values())
    assert set(codes) <= {200, 503} and codes.count(503) > 0 and codes.count(200) > 100
    after = [await send(client, "after-restart", f"还在吗 {i}") for i in range(5)]  # send asserts 200
    assert len({body["conversation_id"] for body in after}) == 1
    acked = sorted(key for key, status in statuses.items() if status == 200)
    stored = query(database, "SELECT message_id FROM messages WHERE sender='buyer' AND message_id LIKE 'b%'")
    assert set(acked) <= {key for (key,) in stored}  # every acknowledged message is on disk
    # nothing half-written: each stored buyer message came with its idempotency record and its event
    assert query(database, "SELECT COUNT(*) FROM messages WHERE sender='buyer' AND message_id LIKE 'b%' AND"
                           " 'webhook:' || message_id NOT IN (SELECT key FROM idempotency)") == [(0,)]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert any("store_unavailable" in r.getMessage() or "unavailable" in r.getMessage() for r in caplog.records)

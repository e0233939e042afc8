"""Shared fixtures: a real app from `create_app`, a real database, real HTTP, the virtual clock.

Every test that starts a shop (`start`, `client`, or `store_section` itself) runs twice, on a SQLite file
(``[sqlite]``) and on a fresh PostgreSQL database (``[postgresql]``, a copy of a migrated template on the
session's own server, `reception.testing_pg`). ``RECEPTION_TEST_STORES=sqlite`` runs the first only. Without
PostgreSQL the second is skipped, saying why, unless ``RECEPTION_REQUIRE_POSTGRES=1`` (CI), where it fails.
A test about SQLite itself (its file, WAL, a `serve` on a file) is marked ``sqlite_only``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import pytest

from reception import create_app
from reception.clock import VirtualClock
from reception.testing import ADMIN_TOKEN, KIT_SECTIONS, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WEBHOOK = "/api/v1/webhook/messages"
CLI = [sys.executable, "-m", "reception.cli"]
# The suite's own switches, taken out of the environment: the config reads every RECEPTION_* variable as a setting
STORES = tuple(os.environ.pop("RECEPTION_TEST_STORES", "sqlite,postgresql").split(","))
REQUIRE_POSTGRES = os.environ.pop("RECEPTION_REQUIRE_POSTGRES", "") == "1"
TEMPLATE = "reception_template"
_databases = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(why): a test about SQLite itself; not run on PostgreSQL")
    config.addinivalue_line("markers", "postgresql_only(why): a test about PostgreSQL itself; not run on SQLite")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames:
        marked = [kind for kind in ("sqlite", "postgresql") if metafunc.definition.get_closest_marker(f"{kind}_only")]
        metafunc.parametrize("store_kind", [kind for kind in STORES if not marked or kind in marked])


def _wait(make: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine to the end on a loop of its own thread (the test's loop is not touched)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()


async def _migrate(url: str) -> None:
    from reception.config.sections import StoreSettings
    from reception.store import make_store

    store = make_store(StoreSettings(url=url))
    await store.open()
    await store.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """The session's PostgreSQL server, with `TEMPLATE` migrated; skips (fails in CI) when there is none."""
    if "postgresql" not in STORES:
        pytest.skip("RECEPTION_TEST_STORES leaves PostgreSQL out")
    try:
        from reception.testing_pg import PgServer, PgUnavailable
    except ImportError as exc:  # asyncpg missing: pip install -e '.[test]'
        server, problem = None, f"{exc}"
    else:
        try:
            server, problem = PgServer().start(), None
        except PgUnavailable as exc:
            server, problem = None, str(exc)
    if server is None:
        reason = f"no PostgreSQL for the [postgresql] tests: {problem}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (RECEPTION_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    try:
        _wait(lambda: server.create_database(TEMPLATE))
        _wait(lambda: _migrate(server.url(TEMPLATE)))
        yield server
    finally:
        server.stop()


@pytest.fixture
def store_section(request: pytest.FixtureRequest, store_kind: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The test shop's ``[store]``: a SQLite file in `tmp_path`, or a fresh PostgreSQL database."""
    if store_kind == "sqlite":
        yield {"path": str(tmp_path / "reception.db")}
        return
    server = request.getfixturevalue("postgres")
    name = f"test_{next(_databases)}"
    url = _wait(lambda: server.create_database(name, TEMPLATE))
    yield {"url": url}
    _wait(lambda: server.drop_database(name))


def server_env() -> dict[str, str]:
    """This process's environment without RECEPTION_* overrides, for a `reception` subprocess."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}


async def serve(*args: str, cwd: Path, timeout: float = 30) -> tuple[asyncio.subprocess.Process, str]:
    """A real `reception serve --port 0 ARGS` in `cwd`, and its URL once it says it is listening."""
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", "--port", "0", *args, cwd=cwd, env=server_env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode()
        assert line, (await proc.stderr.read()).decode()
        if "http://" in line:
            return proc, line[line.index("http://"):].split()[0]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def database(store_section: dict[str, Any]) -> str:
    """The test shop's database as `--db` takes it: the SQLite file, or the PostgreSQL URL."""
    return store_section.get("url") or store_section["path"]


def query(database: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of `sql` (``?`` placeholders) run straight on the test shop's database, either back-end (committed)."""
    if "://" not in database:
        with sqlite3.connect(database) as conn:
            return conn.execute(sql, params).fetchall()
    import asyncpg

    from reception.store.dialect import numbered

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(database)
        try:
            return [tuple(row) for row in await conn.fetch(numbered(sql)[0], *params)]
        finally:
            await conn.close()

    return _wait(fetch)


def columns(database: str) -> dict[str, list[str]]:
    """Every table of the test shop's database and its columns."""
    if "://" not in database:
        tables = [name for (name,) in query(database, "SELECT name FROM sqlite_master WHERE type='table'")]
        return {table: [row[1] for row in query(database, f"PRAGMA table_info({table})")] for table in tables}
    found: dict[str, list[str]] = {}
    for table, column in query(database, "SELECT table_name, column_name FROM information_schema.columns"
                                         " WHERE table_schema='public' ORDER BY table_name, ordinal_position"):
        found.setdefault(table, []).append(column)
    return found


@pytest.fixture
def start(aiohttp_client, tmp_path, clock, store_section) -> Callable[..., Any]:
    """Start a shop: ``await start(webhook={...}, plugins=[...])`` gives an HTTP client."""

    async def _start(plugins: tuple[Any, ...] = (), **sections: Any):
        # the plugin kit's bot: lexical unless a test asks for sentence vectors (tests/test_semantic.py), its
        # answers being what these scenarios are written against, and FAQ folders not watched unless a test
        # asks (tests/test_unanswered.py)
        sections["bot"] = {**KIT_SECTIONS["bot"], **sections.get("bot", {})}
        sections["store"] = {**store_section, **sections.get("store", {})}
        settings = make_settings(tmp_path, **sections)
        return await aiohttp_client(create_app(settings, plugins=plugins, clock=clock))

    return _start


@pytest.fixture
async def client(start):
    return await start()


def signed(secret: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Reception-Signature": sig, "Content-Type": "application/json"}


async def send(client, customer_id: str, text: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, **fields}
    if text is not None:
        body["text"] = text
    response = await client.post(WEBHOOK, json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def history(client, conversation_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=ADMIN)
    assert response.status == 200
    return (await response.json())["messages"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_status(client, agent: str, status: str, token: str | None = None) -> None:
    """`agent` is the part after "shop:"; its token is "<agent>-token" unless given."""
    response = await client.post(f"/api/v1/agents/shop:{agent}/status", json={"status": status},
                                 headers=bearer(token or f"{agent}-token"))
    assert response.status == 200, await response.text()


async def eventually(check, timeout: float = 5.0):
    """Poll `check` (sync or async) until it returns something truthy; background tasks run meanwhile."""
    import asyncio
    import inspect

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def agent(name: str, groups: list[str], max_concurrent: int = 2, **extra):
    return {"id": f"shop:{name}", "token": f"{name}-token", "groups": groups, "max_concurrent": max_concurrent,
            **extra}


async def reply(client, conversation_id: str, name: str, text: str = "您好"):
    """Agent `name` (token "<name>-token") replies in the conversation."""
    response = await client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text},
                                 headers=bearer(f"{name}-token"))
    assert response.status == 200, await response.text()


async def close(client, conversation_id: str, name: str):
    """Agent `name` closes the conversation."""
    response = await client.post(f"/api/v1/conversations/{conversation_id}/close", headers=bearer(f"{name}-token"))
    assert response.status == 200, await response.text()
    return await response.json()

"""The testing kit for plugin authors, a pytest plugin (the ``pytest11`` entry point ``reception``).

Installed with reception, it gives every test the `shop` fixture: start the
real app (`reception.create_app`) on a temporary SQLite file, behind real
HTTP, on a `VirtualClock`, with the service open around the clock so no test
depends on the time of day, then talk to it as a buyer and as agents::

    async def test_vip(shop):
        s = await shop(plugins=[vip], plugin={"vip": {"customers": ["b1"]}})
        await s.agent("alice").status("online")
        out = await s.buyer("b1", "hello")
        assert out["status"] == "assigned"
        assert [e.data["reason"] for e in await s.events("handover.requested")] == ["vip"]

Async tests need pytest-asyncio (``asyncio_mode = "auto"``, or mark them).
``make_settings`` and ``ADMIN_TOKEN`` serve tests that build an app themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from .app import create_app
from .clock import VirtualClock
from .config import Settings, load_settings
from .core import RECEPTION, Reception
from .events import Event

try:  # pytest-asyncio's marker works in its strict mode too; without it, `auto` mode plugins take plain fixtures
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - the kit still imports, so pytest runs without it
    _async_fixture = pytest.fixture  # type: ignore[assignment]

ADMIN_TOKEN = "admin-token-for-tests"
WEBHOOK = "/api/v1/webhook/messages"
# the kit's default team: two agents in group "service", offline until a test sets them online
# tables the kit sets under a test's own: open all day, the lexical bot (no sentence-vector model to load),
# the FAQ folders not watched (the watcher polls on the shop's clock: a day moved on would be 43,200 looks)
KIT_SECTIONS: dict[str, dict[str, Any]] = {"hours": {"open": ["00:00-24:00"]},
                                           "bot": {"semantic": "off", "watch_seconds": 0}}
DEFAULT_AGENTS: tuple[dict[str, Any], ...] = (
    {"id": "shop:alice", "groups": ["service"]}, {"id": "shop:bob", "groups": ["service"]})


def make_settings(tmp_path: Path, **sections: Any) -> Settings:
    """Settings for a shop whose database lives in `tmp_path`, with `ADMIN_TOKEN` as admin token.

    Keyword arguments replace or extend top-level sections, e.g.
    ``make_settings(tmp_path, webhook={"secret": "s3cr3t-value"})``.
    """
    overrides: dict[str, Any] = {"admin": {"token": ADMIN_TOKEN}, "store": {"path": str(tmp_path / "reception.db")}}
    for key, value in sections.items():
        overrides[key] = {**overrides.get(key, {}), **value} if isinstance(value, dict) else value
    return load_settings(None, env={}, overrides=overrides)


def agent_token(agent_id: str) -> str:
    """The bearer token the kit gives an agent that has none in its settings: ``token-<id>``."""
    return f"token-{agent_id}"


def _agent_id(name: str) -> str:
    return name if ":" in name else f"shop:{name}"


class ApiFailed(AssertionError):
    """An HTTP call of the kit got another status than expected; the message has the answer's body."""


class Agent:
    """One agent of a `Shop`, acting through the real agent API with the agent's own token."""

    def __init__(self, shop: "Shop", agent_id: str) -> None:
        self.shop, self.id = shop, agent_id
        self.headers = {"Authorization": f"Bearer {shop.tokens[agent_id]}"}

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        """An API call with this agent's token; the decoded JSON answer."""
        return await self.shop.call(method, path, body, expect=expect, headers=self.headers)

    async def status(self, status: str) -> Any:
        """Go ``online``, ``suspended`` or ``offline``."""
        return await self.call("POST", f"/api/v1/agents/{self.id}/status", {"status": status})

    async def conversations(self) -> list[dict[str, Any]]:
        """The conversations assigned to this agent now."""
        return (await self.call("GET", f"/api/v1/agents/{self.id}/conversations"))["conversations"]

    async def reply(self, conversation_id: str, text: str, expect: int = 200) -> Any:
        """Send `text` to the buyer of the conversation."""
        return await self.call("POST", f"/api/v1/conversations/{conversation_id}/messages", {"text": text}, expect)

    async def close(self, conversation_id: str, expect: int = 200) -> Any:
        """Close the conversation (the buyer is asked for a rating; the queue moves)."""
        return await self.call("POST", f"/api/v1/conversations/{conversation_id}/close", expect=expect)

    async def accept(self, conversation_id: str, expect: int = 200) -> Any:
        """Take a queued or pooled buyer."""
        return await self.call("POST", f"/api/v1/conversations/{conversation_id}/accept", {}, expect)


class Shop:
    """A running shop: `client` (aiohttp's test client), `reception` (the hub), `clock`, `settings`."""

    def __init__(self, client: TestClient, clock: VirtualClock, tokens: dict[str, str]) -> None:
        self.client, self.clock, self.tokens = client, clock, tokens
        self.reception: Reception = client.app[RECEPTION]
        self.settings = self.reception.settings
        self.admin_headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200,
                   headers: dict[str, str] | None = None) -> Any:
        """An HTTP call to the shop (the admin token unless `headers`); fails unless the status is `expect`.

        Answers the decoded JSON, or the text when the answer is not JSON.
        """
        kwargs: dict[str, Any] = {"headers": self.admin_headers if headers is None else headers}
        if body is not None:
            kwargs["json"] = body
        async with self.client.request(method, path, **kwargs) as response:
            text = await response.text()
            if response.status != expect:
                raise ApiFailed(f"{method} {path}: {response.status}, expected {expect}: {text}")
            return json.loads(text) if response.content_type == "application/json" else text

    async def buyer(self, customer_id: str, text: str | None = None, expect: int = 200, **fields: Any) -> Any:
        """A buyer's message through the webhook (signed when ``[webhook] secret`` is set); the response body.

        `fields` are the webhook's others: ``message_id``, ``card``, ``entry``, ``sent_at``.
        """
        body = {"customer_id": customer_id, **fields, **({"text": text} if text is not None else {})}
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret := self.settings.webhook.secret:
            headers["X-Reception-Signature"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        async with self.client.post(WEBHOOK, data=raw, headers=headers) as response:
            answer = await response.json()
            if response.status != expect:
                raise ApiFailed(f"POST {WEBHOOK}: {response.status}, expected {expect}: {answer}")
            return answer

    def agent(self, name: str) -> Agent:
        """The agent ``shop:NAME`` (or the full id), acting with their token."""
        agent_id = _agent_id(name)
        if agent_id not in self.tokens:
            raise KeyError(f"no agent {agent_id!r} in this shop; the agents are {sorted(self.tokens)}")
        return Agent(self, agent_id)

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every message of the conversation, oldest first (read as the admin)."""
        return (await self.call("GET", f"/api/v1/conversations/{conversation_id}/messages"))["messages"]

    async def events(self, name: str | None = None, conversation_id: str | None = None) -> list[Event]:
        """The stored events, oldest first, optionally of one name and one conversation."""
        return await self.reception.store.events(name=name, conversation_id=conversation_id)

    async def wait(self, check: Callable[[], Any], within: float = 0.0, step: float = 1.0,
                   patience: float = 10.0) -> Any:
        """Poll `check` (sync or async) until it answers something truthy, and return that.

        Background work (deliveries, the database) runs meanwhile. The virtual
        clock moves `step` seconds at a time, `within` seconds at most (0: time
        stands still); a check still false then is given up to `patience`
        seconds of real time, only for slow I/O, before an `AssertionError`.
        """
        moved, loop = 0.0, asyncio.get_running_loop()
        deadline = None
        while True:
            for _ in range(5):
                value = check()
                if inspect.isawaitable(value):
                    value = await value
                if value:
                    return value
                await asyncio.sleep(0.01)
            if moved < within:
                await self.clock.advance(min(step, within - moved))
                moved += step
                continue
            deadline = deadline or loop.time() + patience
            if loop.time() > deadline:
                raise AssertionError(f"condition not reached within {within:g} virtual seconds: {check!r}")

    async def close(self) -> None:
        """Stop the shop as the server would (plugins' shutdown, the store closed)."""
        await self.client.close()


ShopFactory = Callable[..., Awaitable[Shop]]


def _team(agents: Iterable[dict[str, Any] | str] | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    found, tokens = [], {}
    for entry in DEFAULT_AGENTS if agents is None else agents:
        settings = {"id": _agent_id(entry)} if isinstance(entry, str) else {**entry, "id": _agent_id(entry["id"])}
        settings.setdefault("token", agent_token(settings["id"]))
        tokens[settings["id"]] = settings["token"]
        found.append(settings)
    return found, tokens


@pytest.fixture
def shop_clock() -> VirtualClock:
    """The virtual clock of this test's shops (2026-11-11 00:00 UTC); move it with ``await shop_clock.advance(s)``."""
    return VirtualClock()


@_async_fixture
async def shop(tmp_path: Path, shop_clock: VirtualClock) -> AsyncIterator[ShopFactory]:
    """Start a shop: ``s = await shop(plugins=[mod], agents=[...], plugin={"name": {...}}, **sections)``.

    - `plugins`: modules or objects registered as ``create_app(plugins=…)`` does;
    - `agents`: names (``"alice"`` is ``shop:alice``) or ``[[agents]]`` tables; a missing token is
      `agent_token` (id); default: alice and bob in group ``service``, offline;
    - `disabled`: plugin names for ``[plugins] disabled``;
    - any other keyword is a config table (``hours``, ``routing``, ``webhook``, ``plugins_dir`` …) over the
      kit's: the admin token `ADMIN_TOKEN`, a SQLite file in ``tmp_path``, hours open all day, the lexical
      FAQ bot (``[bot] semantic = "off"``) whose FAQ folders are not watched (``watch_seconds = 0``; a
      test of hand edits sets it, then moves the clock past it).

    Every shop started is stopped after the test.
    """
    started: list[Shop] = []

    async def start(plugins: Iterable[Any] = (), agents: Iterable[dict[str, Any] | str] | None = None,
                    disabled: Iterable[str] = (), **sections: Any) -> Shop:
        team, tokens = _team(agents)
        if disabled:
            sections["plugins"] = {"disabled": list(disabled)}
        for table, kit in KIT_SECTIONS.items():
            sections[table] = {**kit, **sections.get(table, {})}
        sections["store"] = {"path": str(tmp_path / f"shop{len(started) + 1}.db"), **sections.get("store", {})}
        settings = make_settings(tmp_path, agents=team, **sections)
        app = create_app(settings, plugins=list(plugins), clock=shop_clock)
        client = TestClient(TestServer(app))
        await client.start_server()
        started.append(found := Shop(client, shop_clock, tokens))
        return found

    yield start
    for running in reversed(started):
        await running.close()


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """An ``async def`` test that takes `shop` runs under pytest-asyncio without a marker, in its strict mode too."""
    if (_async_fixture is pytest.fixture or not isinstance(collector, (pytest.Module, pytest.Class))
            or not inspect.iscoroutinefunction(obj) or not collector.funcnamefilter(name)
            or "shop" not in inspect.signature(obj).parameters):
        return
    marks = list(getattr(obj, "pytestmark", []))
    if not any(mark.name == "asyncio" for mark in marks):
        obj.pytestmark = [*marks, pytest.mark.asyncio]  # type: ignore[attr-defined]

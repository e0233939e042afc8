"""Three `reception serve` instances on one PostgreSQL behind nginx (deploy/nginx.conf), as docs/deploy.md runs them.

Routing must hold across instances (one agent per buyer, nobody over their maximum, one queue in one order),
live updates must cross them, and a `kill -9` of any instance must lose no acknowledged message and stop no
routing. The database is checked directly, not only through the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from conftest import ADMIN, STORES, serve

from reception.testing import ADMIN_TOKEN

pytestmark = pytest.mark.skipif("postgresql" not in STORES, reason="RECEPTION_TEST_STORES leaves PostgreSQL out")

AGENTS = [f"a{i}" for i in range(1, 5)]
MAXIMUM = 3
ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "nginx.conf"
BUNDLED_FAQ = ROOT / "faq"
_FAKETIME = ("LD_PRELOAD", "FAKETIME")


def _config(tmp_path: Path, url: str) -> Path:
    agents = "".join(f'[[agents]]\nid = "shop:{a}"\ntoken = "{a}-token-for-tests"\ngroups = ["pre_sales"]\n'
                     f"max_concurrent = {MAXIMUM}\n\n" for a in AGENTS)
    path = tmp_path / "reception.toml"
    path.write_text(f'''faq = ["{BUNDLED_FAQ}"]

[admin]
token = "{ADMIN_TOKEN}"

[store]
url = "{url}"
pool_size = 6

[webchat]
secret = "the-same-widget-secret-on-every-instance"

[bot]
semantic = "off"

[hours]
open = ["00:00-24:00"]

[offline_pool]
windows = ["00:00-24:00"]
interval_minutes = 1

[routing]
reassign_seconds = 3600
reply_reminder_seconds = 3000

{agents}''', encoding="utf-8")
    return path


class Shop:
    """Three instances and nginx in front of them; `lb` is the balancer's URL, `urls` the instances'."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.tmp_path, self.url = tmp_path, url
        self.config = _config(tmp_path, url)
        self.procs: list[asyncio.subprocess.Process] = []
        self.urls: list[str] = []
        self.nginx: subprocess.Popen[bytes] | None = None
        self.lb = ""

    async def start(self) -> "Shop":
        for _ in range(3):
            proc, url = await serve("--config", str(self.config), cwd=self.tmp_path)
            self.procs.append(proc)
            self.urls.append(url)
        conf = DEPLOY.read_text(encoding="utf-8")
        ports = [url.rsplit(":", 1)[1] for url in self.urls]
        for default, port in zip(("8081", "8082", "8083"), ports):
            conf = conf.replace(f"127.0.0.1:{default}", f"127.0.0.1:{port}")
        with socket_port() as port:
            conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        (self.tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in _FAKETIME}
        self.nginx = subprocess.Popen(
            ["nginx", "-p", str(self.tmp_path), "-c", str(self.tmp_path / "nginx.conf"),
             "-g", f"daemon off; pid {self.tmp_path}/nginx.pid; error_log {self.tmp_path}/nginx.log warn;"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.lb = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{self.lb}/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"nginx did not come up: {(self.tmp_path / 'nginx.log').read_text()}")

    def kill(self, index: int) -> None:
        self.procs[index].send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except asyncio.TimeoutError:
                proc.kill()
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(10)

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


class socket_port:
    """A free TCP port of 127.0.0.1 (released for nginx to take)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
async def shop(postgres, tmp_path):
    if shutil.which("nginx") is None:
        reason = "nginx is not installed (make system-packages installs Debian's)"
        if os.environ.get("RECEPTION_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = await postgres.create_database(f"scaleout_{os.getpid()}_{tmp_path.name[-12:]}".replace("-", "_").lower(),
                                         "reception_template")
    running = await Shop(tmp_path, url).start()
    try:
        yield running
    finally:
        await running.stop()


def _token(agent: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent}-token-for-tests"}


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, tries: int = 1) -> tuple[int, dict[str, Any]]:
    """POST, trying again (the same body: an idempotent message id) when the instance went away."""
    status, answer = 0, {}
    for _ in range(tries):
        try:
            async with session.post(url, json=body, headers=headers) as response:
                status = response.status
                answer = await response.json(content_type=None) if response.content_length != 0 else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
            status = 0
        if status not in (0, 502, 503, 504):
            break
        await asyncio.sleep(0.2)
    return status, answer


async def _places(shop: Shop) -> Counter[str]:
    """Every buyer's conversations by status, checked to be exactly one each."""
    rows = await shop.rows("SELECT customer_id, status, agent_id FROM conversations")
    per_buyer = Counter(row["customer_id"] for row in rows)
    assert max(per_buyer.values()) == 1, [b for b, n in per_buyer.items() if n > 1][:5]
    loads = Counter(row["agent_id"] for row in rows if row["status"] == "assigned")
    assert all(n <= MAXIMUM for n in loads.values()), loads
    return Counter(row["status"] for row in rows)


async def test_three_instances_route_as_one_and_survive_a_kill(shop):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for agent in AGENTS:
            status, _ = await _post(session, f"{shop.lb}/api/v1/agents/shop:{agent}/status", {"status": "online"},
                                    _token(agent))
            assert status == 200

        # 1,000 buyers ask for a person at once, spread by nginx over the three instances
        answers = await asyncio.gather(*[
            _post(session, f"{shop.lb}/api/v1/webhook/messages",
                  {"customer_id": f"b{i:04d}", "text": "转人工", "message_id": f"m{i:04d}"})
            for i in range(1000)])
        assert [status for status, _ in answers] == [200] * 1000
        assert Counter(answer["status"] for _, answer in answers) == {"assigned": 12, "queued": 988}
        assert await _places(shop) == {"assigned": 12, "queued": 988}
        # one line in one order: each position was told once, in the order the buyers were queued
        told = await shop.rows("SELECT customer_id, (data::json->>'position')::int AS position FROM events"
                               " WHERE name='conversation.queued' ORDER BY id")
        assert [row["position"] for row in told] == list(range(1, 989))
        async with session.get(f"{shop.urls[2]}/api/v1/queue", headers=ADMIN) as response:
            queue = (await response.json())["queue"]
        assert [entry["customer_id"] for entry in queue] == [row["customer_id"] for row in told]

        # every agent closes their three buyers on one instance while two others accept from the tail elsewhere
        held = await shop.rows("SELECT id, agent_id FROM conversations WHERE status='assigned' ORDER BY agent_id")
        tail = [row["customer_id"] for row in told[-2:]]
        tail_ids = {row["customer_id"]: row["id"] for row in
                    await shop.rows("SELECT id, customer_id FROM conversations WHERE customer_id = ANY($1)", tail)}
        closes = [_post(session, f"{shop.urls[i % 3]}/api/v1/conversations/{row['id']}/close",
                        headers=_token(row["agent_id"].split(":")[1])) for i, row in enumerate(held)]
        accepts = [_post(session, f"{shop.urls[(i + 1) % 3]}/api/v1/conversations/{tail_ids[buyer]}/accept",
                         headers=_token(AGENTS[i])) for i, buyer in enumerate(tail)]
        done = await asyncio.gather(*closes, *accepts)
        assert [status for status, _ in done[:12]] == [200] * 12
        assert all(status in (200, 409) for status, _ in done[12:]), done[12:]
        places = await _places(shop)
        assert places["assigned"] == 12 and places["closed"] == 12 and places["queued"] == 976
        accepted = sum(1 for status, _ in done[12:] if status == 200)
        first = {row["customer_id"] for row in told[:12 - accepted]}
        assigned = {row["customer_id"] for row in
                    await shop.rows("SELECT customer_id FROM conversations WHERE status='assigned'")}
        assert first <= assigned  # the queue's head was served first

        # kill -9 the instance that runs the background work, in the middle of a wave of messages
        leader = None
        for index, url in enumerate(shop.urls):
            async with session.get(f"{url}/healthz") as response:
                if (await response.json())["background"]:
                    leader = index
        assert leader is not None
        acknowledged: list[str] = []

        async def buyer(i: int) -> None:
            for turn, text in enumerate(("什么时候发货", "可以开发票吗")):  # routine questions: the bot answers
                message_id = f"w{i:04d}-{turn}"
                status, _ = await _post(session, f"{shop.lb}/api/v1/webhook/messages",
                                        {"customer_id": f"w{i:04d}", "text": text, "message_id": message_id},
                                        tries=20)
                if status == 200:
                    acknowledged.append(message_id)

        wave = asyncio.gather(*[buyer(i) for i in range(300)])
        await asyncio.sleep(0.3)
        shop.kill(leader)
        killed_at = asyncio.get_running_loop().time()
        await wave
        assert len(acknowledged) == 600  # every buyer got through on a live instance
        stored = {row["message_id"] for row in await shop.rows(
            "SELECT message_id FROM messages WHERE sender='buyer' AND message_id LIKE 'w%'")}
        assert set(acknowledged) <= stored

        # the background work moves within 10 seconds
        live = [url for index, url in enumerate(shop.urls) if index != leader]
        while True:
            states = []
            for url in live:
                async with session.get(f"{url}/healthz") as response:
                    states.append((await response.json())["background"])
            if any(states):
                break
            assert asyncio.get_running_loop().time() - killed_at < 10, "nobody took over the background work"
            await asyncio.sleep(0.2)
        assert states.count(True) == 1

        # the queue keeps moving: a close on a live instance serves the next buyer in line
        row = (await shop.rows("SELECT id, agent_id FROM conversations WHERE status='assigned' LIMIT 1"))[0]
        status, _ = await _post(session, f"{live[0]}/api/v1/conversations/{row['id']}/close",
                                headers=_token(row["agent_id"].split(":")[1]))
        assert status == 200
        places = await _places(shop)
        reasons = Counter(row["handover_reason"] for row in await shop.rows(
            "SELECT handover_reason FROM conversations WHERE customer_id LIKE 'w%'"))
        assert places["assigned"] == 12 and places["queued"] == 975, (places, reasons)

        # the pool runs at each minute's boundary once, whoever holds the lease
        runs_before = len(await shop.rows("SELECT id FROM pool_runs"))
        deadline = asyncio.get_running_loop().time() + 75
        while len(await shop.rows("SELECT id FROM pool_runs")) == runs_before:
            assert asyncio.get_running_loop().time() < deadline, "no pool run after the kill"
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        minutes = Counter(re.sub(r":\d\d\.\d+.*$", "", row["at"]) for row in
                          await shop.rows("SELECT at FROM pool_runs WHERE trigger='schedule'"))
        assert max(minutes.values()) == 1, minutes


async def _frame(ws: aiohttp.ClientWebSocketResponse, wanted: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    """The next frame with every key of `wanted` as given (other frames are skipped)."""
    async def read() -> dict[str, Any]:
        while True:
            frame = await ws.receive_json()
            if all(frame.get(key) == value for key, value in wanted.items()):
                return frame
    return await asyncio.wait_for(read(), timeout)


async def test_live_updates_cross_instances_and_survive_the_instance_going_away(shop):
    widget_url, workbench_url, agent_url = shop.urls[2], shop.urls[1], shop.urls[0]
    async with aiohttp.ClientSession() as session:
        status, _ = await _post(session, f"{agent_url}/api/v1/agents/shop:a1/status", {"status": "online"},
                                _token("a1"))
        assert status == 200
        workbench = await session.ws_connect(f"{workbench_url}/api/v1/agents/shop:a1/ws?token=a1-token-for-tests")
        await _frame(workbench, {"type": "agent"})
        status, buyer = await _post(session, f"{widget_url}/api/v1/webchat/session")
        assert status == 200
        widget = await session.ws_connect(f"{widget_url}/api/v1/webchat/ws?token={buyer['token']}")
        await _frame(widget, {"type": "ready"})
        await widget.send_json({"type": "sync", "after": 0})
        await _frame(widget, {"type": "synced"})

        # the buyer asks for a person on instance 3: the agent's workbench on instance 2 rings
        await widget.send_json({"type": "message", "client_id": "c-1", "text": "转人工"})
        await _frame(widget, {"type": "status", "status": "assigned"})
        rang = await _frame(workbench, {"type": "changed", "event": "conversation.assigned"})
        conversation = rang["conversation_id"]

        # the agent answers on instance 1: the widget on instance 3 shows it
        async with session.post(f"{agent_url}/api/v1/conversations/{conversation}/messages",
                                json={"text": "您好，我来帮您看看"}, headers=_token("a1")) as response:
            assert response.status == 200
        reply = await _frame(widget, {"type": "message", "sender": "agent"})
        assert reply["text"] == "您好，我来帮您看看"

        # typing crosses instances too, never stored: the buyer types on instance 3, the workbench on 2 shows
        # it; the agent types on 2, the widget on 3 shows it
        await widget.send_json({"type": "typing", "typing": True})
        typing = await _frame(workbench, {"type": "typing", "conversation_id": conversation})
        assert typing["typing"] is True and typing["expires_in"] > 0
        await workbench.send_json({"type": "typing", "conversation_id": conversation, "typing": True})
        assert (await _frame(widget, {"type": "typing", "sender": "agent"}))["typing"] is True

        # the dashboard is the same on every instance
        for url in shop.urls:
            for _ in range(400):  # each instance catches up as the notice reaches it
                async with session.get(f"{url}/api/v1/agents", headers=ADMIN) as response:
                    loads = {a["id"]: a["load"] for a in (await response.json())["agents"]}
                if loads["shop:a1"] == 1:
                    break
                await asyncio.sleep(0.05)
            assert loads["shop:a1"] == 1, url

        # the widget's instance dies: the widget reconnects through the balancer and catches up
        seen = reply["seq"]
        shop.kill(2)
        await widget.close()
        async with session.post(f"{agent_url}/api/v1/conversations/{conversation}/messages",
                                json={"text": "订单已经帮您查好了"}, headers=_token("a1")) as response:
            assert response.status == 200
        widget = await session.ws_connect(f"{shop.lb}/api/v1/webchat/ws?token={buyer['token']}")
        await _frame(widget, {"type": "ready"})
        await widget.send_json({"type": "sync", "after": seen})
        missed = await _frame(widget, {"type": "message", "sender": "agent", "text": "订单已经帮您查好了"})
        assert missed["seq"] > seen
        await widget.close()
        await workbench.close()

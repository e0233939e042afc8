"""The example plugins in plugins/, each tried with the testing kit (`reception.testing`), so they cannot rot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from reception import create_app
from reception.config import ConfigError
from reception.testing import make_settings

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
TOKEN = "minichat-token"


def example(name: str) -> ModuleType:
    """plugins/NAME.py as a module (imported once)."""
    module_name = f"example_plugins.{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, PLUGINS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[module_name] = module
    return sys.modules[module_name]


class Platform:
    """A stand-in for the chat platform's send API: records what it is sent; fails the first `failures` calls."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.failures = 0
        self.app = web.Application()
        self.app.router.add_post("/v1/messages", self.send)

    async def send(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        if self.failures:
            self.failures -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.sent.append(await request.json())
        return web.json_response({"ok": True})


@pytest.fixture
async def platform():
    found = Platform()
    server = TestServer(found.app)
    await server.start_server()
    found.url = str(server.make_url("/v1"))
    yield found
    await server.close()


async def minichat_shop(shop, platform, **extra):
    return await shop(plugins=[example("minichat")],
                      plugin={"minichat": {"api_url": platform.url, "token": TOKEN, **extra}})


async def say(s, user: str, text: str, event_id: str) -> dict:
    return await s.call("POST", "/api/v1/minichat/events", {"event_id": event_id, "user_id": user, "text": text},
                        headers={"Authorization": f"Bearer {TOKEN}"})


async def test_minichat_pushes_the_bots_answer_and_the_agents_replies(shop, platform):
    s = await minichat_shop(shop, platform)
    alice = s.agent("alice")
    await alice.status("online")
    assert (await say(s, "u1", "what payment methods do you accept", "e1"))["status"] == "bot"
    await s.wait(lambda: platform.sent)
    assert platform.sent[0]["to"] == "u1" and platform.sent[0]["from"] == "bot"
    assert (await say(s, "u1", "转人工", "e2"))["status"] == "assigned"
    [conv] = await alice.conversations()
    await alice.reply(conv["conversation_id"], "您好，我来帮您")
    await s.wait(lambda: any(m["text"] == "您好，我来帮您" for m in platform.sent))
    assert [m["from"] for m in platform.sent] == ["bot", "system", "agent"]  # answer, welcome, reply
    assert (await say(s, "u1", "转人工", "e2"))["status"] == "assigned"  # a resent event is answered once
    assert len(platform.sent) == 3


async def test_minichat_retries_with_its_own_limit(shop, platform):
    platform.failures = 5
    s = await minichat_shop(shop, platform, max_attempts=2, retry_seconds=1)
    await s.agent("alice").status("online")
    await say(s, "u2", "what payment methods do you accept", "e1")
    failed = await s.wait(lambda: s.events("callback.failed"), within=60)
    assert failed[0].data["attempts"] == 2 and failed[0].data["channel"] == "minichat"  # not [webhook]'s 8
    assert platform.failures == 3 and not platform.sent


async def test_minichat_refuses_a_caller_without_its_token(shop, platform):
    s = await minichat_shop(shop, platform)
    await s.call("POST", "/api/v1/minichat/events", {"event_id": "e", "user_id": "u", "text": "hi"}, expect=401,
                 headers={"Authorization": "Bearer wrong-token"})
    paths = (await s.call("GET", "/api/openapi.json"))["paths"]
    assert "/api/v1/minichat/events" in paths


VIP_TEAM = ["alice", {"id": "shop:sam", "groups": ["senior"]}, {"id": "shop:sue", "groups": ["senior"]}]


async def test_vip_buyers_go_to_their_senior_agent(shop):
    s = await shop(plugins=[example("vip")], agents=VIP_TEAM,
                   plugin={"vip": {"customers": ["vip-1"], "group": "senior", "agents": ["shop:sue"]}})
    for name in ("alice", "sam", "sue"):
        await s.agent(name).status("online")
    vip = await s.buyer("vip-1", "什么时候发货")
    assert vip["handover"] == {"reason": "vip", "group": "senior"} and vip["status"] == "assigned"
    assert [c["conversation_id"] for c in await s.agent("sue").conversations()] == [vip["conversation_id"]]
    other = await s.buyer("someone", "什么时候发货")
    assert other["handover"] is None and other["replies"][0]["intent"] == "shipping_time"


async def test_vip_buyers_go_to_the_senior_group_when_their_agent_is_away(shop):
    s = await shop(plugins=[example("vip")], agents=VIP_TEAM,
                   plugin={"vip": {"customers": ["vip-2"], "group": "senior", "agents": ["shop:sue"]}})
    for name in ("alice", "sam"):
        await s.agent(name).status("online")
    out = await s.buyer("vip-2", "hello")
    assert out["handover"] == {"reason": "vip", "group": "senior"} and out["status"] == "assigned"
    assert [c["customer_id"] for c in await s.agent("sam").conversations()] == ["vip-2"]


async def test_handover_stats_on_a_route_and_on_metrics(shop):
    s = await shop(plugins=[example("handover_stats")])
    await s.buyer("b1", "转人工")
    await s.buyer("b2", "转人工")
    assert await s.call("GET", "/api/v1/handover-stats") == {"reasons": {"requested": 2}}
    assert 'handover_stats_handovers_total{reason="requested"} 2.0' in await s.call("GET", "/metrics")
    await s.call("GET", "/api/v1/handover-stats", headers={}, expect=401)
    assert "/api/v1/handover-stats" in (await s.call("GET", "/api/openapi.json"))["paths"]


async def test_the_whole_plugins_directory_loads(shop, platform):
    s = await shop(plugins_dir=str(PLUGINS), plugin={"minichat": {"api_url": platform.url, "token": TOKEN}})
    assert {"minichat", "vip", "handover_stats"} <= set(s.reception.pm.sources)


async def test_a_bad_plugin_table_stops_the_start(tmp_path):
    settings = make_settings(tmp_path, plugin={"minichat": {"api_url": "ftp://x", "token": TOKEN}})
    with pytest.raises(ConfigError, match="plugin.minichat: api_url"):
        create_app(settings, plugins=[example("minichat")])

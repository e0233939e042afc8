"""The plumbing under the plugin API: wrappers refused where they cannot work, the trace switch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import server_env

from reception import create_app, hookimpl
from reception.plugins import PluginError
from reception.testing import make_settings


def test_a_wrapper_of_an_awaited_hook_is_refused_at_start(tmp_path: Path) -> None:
    class Wrapping:
        @hookimpl(wrapper=True)
        def bot_answer(self, message):
            return (yield)

    with pytest.raises(PluginError, match=r"hook 'bot_answer' cannot take a wrapper"):
        create_app(make_settings(tmp_path), plugins=[Wrapping()])


def test_a_wrapper_of_a_hook_pluggy_calls_is_allowed(tmp_path: Path) -> None:
    class Wrapping:
        @hookimpl(wrapper=True)
        def coverage_check(self, conversation):
            return (yield)

    create_app(make_settings(tmp_path), plugins=[Wrapping()])


def test_the_trace_switch_logs_every_hook_call(tmp_path: Path) -> None:
    """RECEPTION_TRACE_PLUGINS=1: `reception faq try`-style one-shot run of a buyer message, hooks in the log."""
    script = (
        "import asyncio, logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(name)s %(message)s')\n"
        "from reception import create_app\n"
        "from reception.core import RECEPTION\n"
        "from reception.models import Inbound\n"
        "from reception.testing import make_settings\n"
        "from pathlib import Path\n"
        "async def main():\n"
        "    app = create_app(make_settings(Path(sys.argv[1])))\n"
        "    reception = app[RECEPTION]\n"
        "    for hook in app.on_startup: await hook(app)\n"
        "    await reception.receive(Inbound(channel='webhook', customer_id='b1', text='发货时间'))\n"
        "    for hook in app.on_cleanup: await hook(app)\n"
        "asyncio.run(main())\n"
    )
    env = server_env()
    traced = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                            env={**env, "RECEPTION_TRACE_PLUGINS": "1"}, timeout=120)
    assert traced.returncode == 0, traced.stderr
    assert "reception.plugins.trace bot_answer: reception.faq.bot -> BotAnswer(" in traced.stdout
    assert "reception.plugins.trace handover_vote:" in traced.stdout
    assert "reception.plugins.trace" in traced.stdout and "register_routes" in traced.stdout  # through pluggy
    plain = subprocess.run([sys.executable, "-c", script, str(tmp_path / "again")], capture_output=True, text=True,
                           env=env, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert "reception.plugins.trace" not in plain.stdout


def test_every_hook_has_a_test_that_implements_it() -> None:
    """Every hook in `reception.hookspecs` is implemented by a test's plugin or by an example under plugins/
    that a test loads: a hook nobody implements outside the defaults is a hook nobody has tried."""
    import inspect

    from reception import hookspecs

    hooks = sorted(name for name, value in vars(hookspecs).items()
                   if inspect.isfunction(value) and hasattr(value, "reception_spec"))
    here = Path(__file__).parent
    sources = [p.read_text(encoding="utf-8")
               for p in (*here.glob("test_*.py"), *(here.parent / "plugins").glob("*.py"))]
    untested = [hook for hook in hooks if not any(f"def {hook}(" in text for text in sources)]
    assert hooks and untested == []


class _Pinger:
    def __init__(self, path: str = "/api/v1/ping") -> None:
        self.path = path

    @hookimpl
    def register_routes(self, route):
        async def ping(request):
            from aiohttp import web

            return web.json_response({"pong": True})

        route("GET", self.path, ping, "Answers pong")


async def test_a_plugins_route_is_in_the_openapi_document(shop) -> None:
    s = await shop(plugins=[_Pinger()])
    assert await s.call("GET", "/api/v1/ping") == {"pong": True}
    document = await s.call("GET", "/api/openapi.json")
    assert document["paths"]["/api/v1/ping"]["get"]["summary"] == "Answers pong"


def test_a_route_added_twice_is_refused_at_start(tmp_path: Path) -> None:
    from reception.plugin import RouteClash

    with pytest.raises(RouteClash, match=r"route GET /api/v1/ping is added twice"):
        create_app(make_settings(tmp_path), plugins=[_Pinger(), _Pinger()])
    with pytest.raises(RouteClash, match=r"route GET /healthz is added twice"):
        create_app(make_settings(tmp_path), plugins=[_Pinger("/healthz")])


def test_a_plugin_written_for_the_old_register_routes_is_told_in_one_line(tmp_path: Path) -> None:
    class OldStyle:
        @hookimpl
        def register_routes(self, app):
            pass

    with pytest.raises(PluginError) as refused:
        create_app(make_settings(tmp_path), plugins=[OldStyle()])
    assert "hook 'register_routes'" in str(refused.value) and "route, reception" in str(refused.value)
    assert "\n" not in str(refused.value)


async def test_a_routing_change_that_raises_after_staging_leaves_memory_as_the_disk_has_it(shop) -> None:
    """`Router.change` rebuilds the router's copy when the code inside it raises, not only when the write fails:
    an agent set online in memory by a change that then failed is offline again, as the database says."""
    s = await shop()
    router = s.reception.router
    alice = router.book.get("shop:alice")
    assert alice is not None and alice.status == "offline"
    with pytest.raises(RuntimeError, match="a bug after the change"):
        async with router.change() as tx:
            router.set_status(tx, alice, "online", s.reception.clock.now())
            assert router.book.get("shop:alice").status == "online"  # changed in memory, staged, not written
            raise RuntimeError("a bug after the change")
    assert router.book.get("shop:alice").status == "offline"
    agents = (await s.call("GET", "/api/v1/agents"))["agents"]
    assert [a["status"] for a in agents if a["id"] == "shop:alice"] == ["offline"]

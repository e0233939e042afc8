"""Plugins: a developer's plugin changes the bot, observes events and adds routes; defaults are listed."""

from __future__ import annotations

import inspect
import logging
import subprocess

import pytest
from aiohttp import web
from conftest import CLI, server_env

from reception import hookimpl, hookspecs
from reception.cli import main
from reception.hooks import SYNC_HOOKS
from reception.models import BotAnswer
from reception.plugins import PluginError


class GreetingSkill:
    """A skill that answers greetings before the FAQ bot does."""

    @hookimpl(tryfirst=True)
    def bot_answer(self, message):
        if message.text.strip().lower() in {"hi", "你好"}:
            return BotAnswer(text="hello from the plugin", intent="greeting", confidence=0.99)
        return None


class Recorder:
    def __init__(self):
        self.seen = []

    @hookimpl
    async def track_event(self, event):
        self.seen.append(event.name)

    @hookimpl
    def register_routes(self, route):
        async def ping(request):
            return web.json_response({"pong": True})

        route("GET", "/api/v1/ping", ping, "Answers pong")


async def test_a_plugin_answers_first_and_sees_every_event(shop):
    recorder = Recorder()
    s = await shop(plugins=(GreetingSkill(), recorder), agents=[])  # the testing kit (reception.testing)
    body = await s.buyer("buyer", "hi")
    assert body["replies"][0]["intent"] == "greeting"
    faq = await s.buyer("buyer2", "what payment methods do you accept")
    assert faq["replies"][0]["intent"] == "payment_methods"
    assert recorder.seen.count("bot.answered") == 2
    assert await s.call("GET", "/api/v1/ping") == {"pong": True}


def test_plugins_command_lists_defaults_and_a_plugins_dir(tmp_path, capsys, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "shouting.py").write_text(
        "from reception import hookimpl\n\n@hookimpl\ndef track_event(event):\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["plugins", "--plugins-dir", str(tmp_path / "plugins")]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["reception.faq.bot", "default", "bot_answer,", "startup"] in rows
    assert ["reception.handover", "default", "handover_vote"] in rows
    assert ["shouting", "plugins", "dir", f"({tmp_path / 'plugins' / 'shouting.py'})", "track_event"] in rows


def test_a_broken_plugin_is_reported_in_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "broken.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["plugins", "--plugins-dir", str(tmp_path / "plugins")]) == 2
    assert "broken.py" in capsys.readouterr().err


# -- mistakes caught at start (issue 14 §3) ---------------------------------------------------------------------

class AsyncPicker:
    @hookimpl
    async def select_agent(self, candidates):
        return candidates[0].agent.id


class AsyncRoutes:
    @hookimpl
    async def register_routes(self, route):
        route("GET", "/api/v1/never", lambda request: web.json_response({}), "Never added")


@pytest.mark.parametrize("plugin, hook", [(AsyncPicker(), "select_agent"), (AsyncRoutes(), "register_routes")])
async def test_an_async_implementation_of_a_sync_hook_is_refused_at_start(shop, plugin, hook):
    with pytest.raises(PluginError) as refused:
        await shop(plugins=(plugin,))
    message = str(refused.value)
    assert f"plugin {type(plugin).__name__!r}: hook {hook!r}" in message and "async def" in message
    assert "\n" not in message


def test_the_hooks_called_without_await_are_those_documented_sync():
    documented = {name for name, spec in inspect.getmembers(hookspecs, inspect.isfunction)
                  if (spec.__doc__ or "").startswith("Sync")}
    assert SYNC_HOOKS == documented


MISTAKES = {
    "argument": ("def select_agent(conversation, candidatez):\n    return None\n",
                 "plugin 'typo': hook 'select_agent': hookimpl definition: select_agent(conversation, candidatez);"),
    "hook": ("def selec_agent(conversation):\n    return None\n",
             "plugin 'typo': unknown hook 'selec_agent'; did you mean 'select_agent'?"),
    "async": ("async def register_routes(route):\n    pass\n",
              "plugin 'typo': hook 'register_routes' is called without await"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_plugin_mistake_is_one_line_from_serve(tmp_path, mistake):
    source, expected = MISTAKES[mistake]
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "typo.py").write_text(f"from reception import hookimpl\n\n@hookimpl\n{source}",
                                                   encoding="utf-8")
    done = subprocess.run([*CLI, "serve", "--port", "0", "--plugins-dir", "plugins"], cwd=tmp_path, env=server_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith(f"reception: error: {expected}"), done.stderr


class BrokenPicker:
    @hookimpl(tryfirst=True)
    def select_agent(self, candidates):
        raise KeyError("vip_level")


async def test_a_failing_select_agent_falls_back_to_the_default_rule(shop, caplog):
    s = await shop(plugins=(BrokenPicker(),), agents=["alice"])
    await s.agent("alice").status("online")
    with caplog.at_level(logging.WARNING):
        body = await s.buyer("buyer", "转人工")
    assert body["status"] == "assigned"
    assert s.reception.router.active[body["conversation_id"]].agent_id == "shop:alice"
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in loud] == [
        "plugin BrokenPicker failed in select_agent, asking the next implementation: KeyError: 'vip_level'"]
    assert loud[0].exc_info is None

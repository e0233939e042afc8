"""Plugins: a developer's plugin changes the bot, observes events and adds routes; defaults are listed."""

from __future__ import annotations

from aiohttp import web

from conftest import send
from reception import hookimpl
from reception.cli import main
from reception.models import BotAnswer


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
    def register_routes(self, app):
        async def ping(request):
            return web.json_response({"pong": True})

        app.router.add_get("/api/v1/ping", ping)


async def test_a_plugin_answers_first_and_sees_every_event(start):
    recorder = Recorder()
    client = await start(plugins=(GreetingSkill(), recorder))
    body = await send(client, "buyer", "hi")
    assert body["replies"][0]["intent"] == "greeting"
    faq = await send(client, "buyer2", "what payment methods do you accept")
    assert faq["replies"][0]["intent"] == "payment_methods"
    assert recorder.seen.count("bot.answered") == 2
    assert (await (await client.get("/api/v1/ping")).json()) == {"pong": True}


def test_plugins_command_lists_defaults_and_a_plugins_dir(tmp_path, capsys, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "shouting.py").write_text(
        "from reception import hookimpl\n\n@hookimpl\ndef track_event(event):\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["plugins", "--plugins-dir", str(tmp_path / "plugins")]) == 0
    out = capsys.readouterr().out
    assert "reception.faq.bot: bot_answer, startup" in out
    assert "reception.handover: handover_vote" in out
    assert "shouting: track_event" in out


def test_a_broken_plugin_is_reported_in_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "broken.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["plugins", "--plugins-dir", str(tmp_path / "plugins")]) == 2
    assert "broken.py" in capsys.readouterr().err

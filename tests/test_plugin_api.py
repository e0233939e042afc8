"""Plugin API v1 (issue 14 §4, §5), with the testing kit: plugins switched off by name, where each comes from,
registered once; `select_agent` asked again after an impossible pick, `excluded`; `handover_group`."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from reception import hookimpl
from reception.cli import main
from reception.plugins import PluginError, make_plugin_manager

SENIOR = ["alice", {"id": "shop:sam", "groups": ["senior"]}]


class Picker:
    """select_agent: always `choice`; records what it was shown."""

    def __init__(self, choice: str) -> None:
        self.choice, self.excluded = choice, []

    @hookimpl(tryfirst=True)
    def select_agent(self, candidates, excluded):
        self.excluded.append(list(excluded))
        return self.choice


async def test_a_pick_of_an_offline_agent_asks_the_next_plugin(shop, caplog):
    s = await shop(plugins=[Picker("shop:bob")])
    await s.agent("alice").status("online")
    with caplog.at_level(logging.WARNING, "reception"):
        out = await s.buyer("b1", "转人工")
    assert out["status"] == "assigned"  # not queued while alice is free
    assert [c["customer_id"] for c in await s.agent("alice").conversations()] == ["b1"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"plugin Picker: select_agent chose 'shop:bob' for {out['conversation_id']}, who is offline;"
        " asking the next plugin"]


async def test_a_pick_outside_the_candidates_is_refused(shop):
    s = await shop(plugins=[Picker("shop:alice")], agents=SENIOR,
                   routing={"rules": [{"reasons": ["requested"], "group": "senior"}]})
    for name in ("alice", "sam"):
        await s.agent(name).status("online")
    out = await s.buyer("b1", "转人工")
    assert out["status"] == "assigned" and out["handover"]["group"] == "senior"
    assert [c["customer_id"] for c in await s.agent("sam").conversations()] == ["b1"]
    assert await s.agent("alice").conversations() == []


async def test_select_agent_sees_who_is_excluded(shop):
    picker = Picker("nobody")
    s = await shop(plugins=[picker])
    for name in ("alice", "bob"):
        await s.agent(name).status("online")
    out = await s.buyer("b1", "转人工")
    holder = (await s.events("conversation.assigned"))[0].data["agent_id"]
    await s.call("POST", f"/api/v1/conversations/{out['conversation_id']}/transfer", {"group": "service"})
    assert picker.excluded == [[], [holder]]
    assert (await s.events("conversation.assigned"))[-1].data["agent_id"] != holder


class SeniorTeam:
    """handover_group: buyers whose id starts with "vip" go to the senior group; "lost" to a group nobody is in."""

    @hookimpl
    def handover_group(self, conversation, handover):
        if conversation.customer_id.startswith("vip"):
            return "senior"
        return "no-such-team" if conversation.customer_id == "lost" else None


async def test_handover_group_chooses_the_team(shop, caplog):
    s = await shop(plugins=[SeniorTeam()], agents=SENIOR)
    for name in ("alice", "sam"):
        await s.agent(name).status("online")
    vip = await s.buyer("vip-1", "转人工")
    assert vip["handover"] == {"reason": "requested", "group": "senior"}
    assert [c["customer_id"] for c in await s.agent("sam").conversations()] == ["vip-1"]
    other = await s.buyer("b2", "转人工")
    assert "group" not in other["handover"] and other["status"] == "assigned"  # no opinion: the default rules
    with caplog.at_level(logging.WARNING, "reception"):
        lost = await s.buyer("lost", "转人工")
    assert "group" not in lost["handover"]
    assert "handover_group answered 'no-such-team'" in caplog.text


# -- [plugins] disabled, sources, registered once (§4) ---------------------------------------------------------

async def test_a_default_plugin_can_be_switched_off(shop):
    s = await shop(disabled=["reception.stats", "reception.faq.bot"])
    assert "reception.stats" not in s.reception.pm.sources
    await s.call("GET", "/api/v1/stats/today", expect=404)
    out = await s.buyer("b1", "what payment methods do you accept")
    assert "payment_methods" not in [reply.get("intent") for reply in out["replies"]]  # no FAQ bot


def test_a_plugin_the_core_needs_cannot_be_switched_off():
    with pytest.raises(PluginError) as refused:
        make_plugin_manager(disabled=["reception.routing.select"])
    assert str(refused.value) == ("plugins.disabled: 'reception.routing.select' cannot be disabled: it holds the"
                                  " default select_agent and handover_group")


def test_an_unknown_disabled_name_is_refused_with_a_hint():
    with pytest.raises(PluginError, match=r"no plugin named 'reception\.stat'; did you mean 'reception\.stats'\?"):
        make_plugin_manager(disabled=["reception.stat"])


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A distribution `minidist` on sys.path with the entry point ``minichat = minichat_mod`` (group reception)."""
    site = tmp_path / "site"
    info = site / "minidist-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: minidist\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[reception]\nminichat = minichat_mod\n", encoding="utf-8")
    (site / "minichat_mod.py").write_text("from reception import hookimpl\n\n@hookimpl\ndef track_event(event):\n"
                                          "    pass\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    yield site
    import sys
    sys.modules.pop("minichat_mod", None)


def test_plugins_lists_sources_and_what_is_disabled(installed, tmp_path, capsys, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "shouting.py").write_text("from reception import hookimpl\n\n@hookimpl\n"
                                                      "def track_event(event):\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECEPTION_PLUGINS__DISABLED", "minichat,reception.stats")
    assert main(["plugins", "--plugins-dir", "plugins"]) == 0
    rows = {row[0]: row[1:] for row in (re.split(r"\s{2,}", line) for line in capsys.readouterr().out.splitlines())}
    assert rows["reception.faq.bot"] == ["default", "bot_answer, startup"]
    assert rows["shouting"] == [f"plugins dir ({tmp_path / 'plugins' / 'shouting.py'})", "track_event"]
    assert rows["minichat"] == ["entry point (minidist 0.1)", "disabled"]
    assert rows["reception.stats"] == ["default", "disabled"]
    monkeypatch.delenv("RECEPTION_PLUGINS__DISABLED")
    assert main(["plugins"]) == 0
    rows = {row[0]: row[1:] for row in (re.split(r"\s{2,}", line) for line in capsys.readouterr().out.splitlines())}
    assert rows["minichat"] == ["entry point (minidist 0.1)", "track_event"]


async def test_an_installed_module_passed_in_code_is_registered_once(installed, shop):
    import minichat_mod

    s = await shop(plugins=[minichat_mod])
    assert [name for name, plugin in s.reception.pm.list_name_plugin() if plugin is minichat_mod] == ["minichat"]
    assert str(s.reception.pm.sources["minichat"]) == "entry point (minidist 0.1)"


def test_the_same_file_twice_in_the_plugins_directory_is_refused(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "a.py").write_text("x = 1\n", encoding="utf-8")
    os.symlink(plugins / "a.py", plugins / "b.py")
    with pytest.raises(PluginError, match=f"{plugins / 'b.py'} is the same file as {plugins / 'a.py'}"):
        make_plugin_manager(plugins_dir=plugins)


def test_an_installed_plugin_linked_into_the_plugins_directory_is_refused(installed, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    os.symlink(Path(installed) / "minichat_mod.py", plugins / "chat.py")
    with pytest.raises(PluginError, match=f"{plugins / 'chat.py'} is already loaded as plugin 'minichat'"):
        make_plugin_manager(plugins_dir=plugins)

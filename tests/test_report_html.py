"""`reception report --html`: a self-contained page of the same figures, with charts, and nothing unescaped."""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET

import pytest
from conftest import agent, close, reply, send, set_status

from reception import hookimpl
from reception.cli import main
from reception.metrics.figures import pct, secs
from reception.metrics.html import bar_chart, line_chart, page, table

DAY = "2026-11-11"  # the virtual clock starts at 08:00 in Shanghai
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class HostileReason:
    """A plugin whose handover reason is markup: the reason reaches the report as an intent and a breakdown row."""

    @hookimpl
    def handover_vote(self, message):
        return HOSTILE if message.text == "hack" else None


async def scenario(start, clock) -> None:
    """Two handovers (one answered in time, one late) into a group named with markup, a bot answer, a rating."""
    client = await start(plugins=(HostileReason(),), offline_pool={"enabled": False},
                         agents=[agent("alice", [HOSTILE], max_concurrent=1)],
                         routing={"rules": [{"group": HOSTILE, "reasons": ["requested", HOSTILE]}]})
    await set_status(client, "alice", "online")
    first = await send(client, "b1", "转人工")                      # t=0: alice takes it
    assert first["status"] == "assigned"
    await clock.advance(30)
    await reply(client, first["conversation_id"], "alice")         # t=30: first reply in 30 s
    await close(client, first["conversation_id"], "alice")
    await send(client, "b1", "1")                                  # dissatisfied
    await clock.advance(10)
    second = await send(client, "b2", "hack")                      # t=40: the plugin's reason
    assert second["status"] == "assigned", second
    await clock.advance(150)
    await reply(client, second["conversation_id"], "alice")        # t=190: 150 s, late
    await close(client, second["conversation_id"], "alice")
    assert (await send(client, "f1", "什么时候发货"))["handover"] is None  # the bot answers


async def test_the_html_report_has_the_json_figures_charts_and_no_markup_from_data(start, clock, tmp_path, capsys,
                                                                                 database):
    await scenario(start, clock)
    db = database
    assert await asyncio.to_thread(main, ["report", "--db", db, "--from", DAY, "--to", DAY, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    a, intents = figures["assessment"], figures["intents"]
    assert (a["sessions"], a["human_requests"], a["first_reply_2min_rate"]) == (3, 2, 0.5)
    assert HOSTILE in {r["reason"] for r in a["by_reason"]} and HOSTILE in intents["top_by_volume"]
    assert [g["group"] for g in a["by_group"]] == [HOSTILE]

    target = tmp_path / "r.html"
    assert await asyncio.to_thread(main, ["report", "--db", db, "--from", DAY, "--to", DAY, "--html", str(target)]) == 0
    assert capsys.readouterr().out == f"wrote {target}\n"  # the tables are not printed
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and '<meta charset="utf-8">' in text
    assert text.count("<svg") >= 3  # rates by hour, volumes by hour, contribution by intent
    assert "2分钟首次回复率 / 2-minute first-reply rate" in text
    for key in ("first_reply_2min_rate", "human_reply_3min_rate", "non_service_rate", "dissatisfaction_rate",
                "bot_resolution_rate"):
        assert f">{pct(a[key])}<" in text, key
    assert f">{secs(a['avg_response_seconds'])}<" in text
    assert pct(0.5) == "50.00%" and ">50.00%<" in text
    assert ">shop:alice<" in text and ">08:00<" in text

    # the markup from the plugin and the config is shown, as text, never as markup
    assert "<script" not in text.lower() and ESCAPED in text
    assert not re.search(r"\b(src|href)=|@import|url\(", text)  # nothing fetched: works offline
    for svg in re.findall(r"<svg.*?</svg>", text, re.S):
        ET.fromstring(svg)  # well-formed: every text in it is escaped


async def test_an_html_file_in_a_missing_directory_is_a_clear_error(start, clock, tmp_path, capsys, database):
    await scenario(start, clock)
    db = database
    target = tmp_path / "missing" / "r.html"
    assert await asyncio.to_thread(main, ["report", "--db", db, "--from", DAY, "--to", DAY, "--html", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("reception: error: ") and str(target) in captured.err
    assert "Traceback" not in captured.err and not target.exists()
    with pytest.raises(SystemExit) as refused:  # one output at a time
        main(["report", "--db", db, "--json", "--html", str(tmp_path / "r.html")])
    assert refused.value.code == 2


def test_the_building_blocks_escape_every_text_in_html_and_svg():
    chart = line_chart(HOSTILE, [HOSTILE, "b", "c", "d"], {HOSTILE: [0.1, None, 0.3, 0.4]}, percent=True,
                       threshold=0.5)
    bars = bar_chart(HOSTILE, [HOSTILE, "x"], [0.25, None], percent=True)
    grid = table([HOSTILE, "值 / value"], [[HOSTILE, "1"]])
    document = page(HOSTILE, [chart, bars, grid], lang='"><script>')
    assert "<script" not in document.lower() and document.count(ESCAPED) >= 8
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", chart, re.S).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f".//{ns}polyline")) == 1                  # the gap splits the line: b is missing
    assert len(svg.findall(f".//{ns}circle")) == 3                    # one point (with its tooltip) per value
    assert [c.find(f"{ns}title").text for c in svg.findall(f".//{ns}circle")][0] == f"{HOSTILE} · {HOSTILE}: 10.00%"
    assert any(line.get("stroke-dasharray") for line in svg.iter(f"{ns}line"))  # the threshold
    assert "<td class=n>1</td>" in grid and "50.00%" in chart  # a figure column is right-aligned

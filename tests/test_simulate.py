"""The staffing simulator: scenarios, a day through the real engine, advice next to Erlang C, and the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reception.cli import main
from reception.config import load_settings
from reception.simulate import BUNDLED, find_scenario, load_scenario
from reception.simulate.erlang import agents_needed, answered_within, waiting_probability

SCENARIO = """
name = "{name}"
date = "2026-11-11"
seed = 7
mode = "normal"
arrivals = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150, 150, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

[buyers]
routine_share = 0.5
human_share = 0.3
turns = 1

[agents]
reply_seconds = 20
wrap_seconds = 20
max_concurrent = 2

[[shifts]]
agents = {agents}
from = "09:00"
to = "13:00"

[targets]
first_reply_2min_rate = 0.8
non_service_rate = 0.05
"""


def write(tmp_path: Path, agents: int, name: str = "two busy hours") -> Path:
    path = tmp_path / f"day-{agents}.toml"
    path.write_text(SCENARIO.format(agents=agents, name=name), encoding="utf-8")
    return path


def simulate(capsys, *args: str) -> dict:
    assert main(["simulate", *args, "--json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out)


def test_erlang_c_matches_the_textbook():
    # 10 erlangs on 12 servers: the classic table value of the chance to wait
    assert waiting_probability(12, 10) == pytest.approx(0.4494, abs=1e-4)
    # answered within 20 s with a 180 s handling time and an instant first answer
    assert answered_within(12, 10, 180, 20, 0) == pytest.approx(1 - 0.4494 * 2.718281828 ** (-40 / 180), abs=1e-3)
    assert answered_within(10, 10, 180, 20, 0) == 0.0  # no queue is stable at full load
    # more requests, or slower agents, never need fewer people
    needs = [agents_needed(r, 200, 3, 120, 25, 0.85) for r in (0, 50, 100, 200, 400, 800)]
    assert needs[0] == 0 and needs == sorted(needs) and needs[-1] > needs[1]
    assert agents_needed(200, 400, 3, 120, 25, 0.85) >= agents_needed(200, 200, 3, 120, 25, 0.85)


def test_more_agents_move_the_figures_the_right_way(tmp_path, capsys):
    short = simulate(capsys, str(write(tmp_path, 1)), "--no-advice")
    staffed = simulate(capsys, str(write(tmp_path, 4)), "--no-advice")
    for day in (short, staffed):
        assert day["failed_actions"] == 0
        assert day["scenario"]["conversations"] == 300
        assert day["totals"]["sessions"] == 300  # every buyer started in the assessed window
        assert [h["hour"] for h in day["hours"] if h["sessions"]] == [10, 11]
        assert day["totals"]["human_requests"] >= 90  # at least the 30% who ask straight away
    s, t = short["totals"], staffed["totals"]
    assert s["human_requests"] == t["human_requests"]  # the same buyers: only the staffing changed
    assert t["first_reply_2min_rate"] > s["first_reply_2min_rate"]
    assert t["first_reply_2min_rate"] >= 0.9 and s["first_reply_2min_rate"] < 0.8
    assert t["avg_response_seconds"] <= s["avg_response_seconds"] + 1
    assert t["dissatisfaction_rate"] <= s["dissatisfaction_rate"]
    assert t["non_service_rate"] <= s["non_service_rate"]


def test_advice_meets_the_targets_and_agrees_with_erlang_c(tmp_path, capsys):
    day = simulate(capsys, str(write(tmp_path, 1)), "--verify")
    advice = day["advice"]
    assert advice["targets"] == {"first_reply_2min_rate": 0.8, "non_service_rate": 0.05}
    busy = [r for r in advice["hours"] if r["requests"]]
    assert [r["hour"] for r in busy] == [10, 11]
    for row in busy:
        needed = row["simulated"]
        assert needed > row["scheduled"] == 1  # one agent is not enough: the short day above shows it
        assert abs(needed - row["erlang_c"]) <= 1, row  # within reason of the textbook estimate
        assert row["first_reply_2min_rate"] >= 0.8 and row["non_service_rate"] <= 0.05
        below = row["probes"].get(str(needed - 1))
        assert below is not None and below["first_reply_2min_rate"] < 0.8  # one fewer fails: the fewest
    quiet = [r for r in advice["hours"] if not r["requests"]]
    assert all(r["simulated"] is None and r["erlang_c"] == 0 for r in quiet)
    # the whole day again, staffed as advised, meets the target the short day missed
    verified = advice["verified"]
    assert verified["agent_hours"] > verified["scheduled_agent_hours"]
    assert verified["totals"]["human_requests"] == day["totals"]["human_requests"]
    assert verified["totals"]["first_reply_2min_rate"] >= 0.8 > day["totals"]["first_reply_2min_rate"]
    assert {h["hour"]: h["agents"] for h in verified["hours"]}[10] == busy[0]["simulated"]


def test_tables_and_html_as_a_person_sees_them(tmp_path, capsys):
    scenario = write(tmp_path, 2, name="<script>alert(1)</script> sale")
    page = tmp_path / "day.html"
    assert main(["simulate", str(scenario), "--no-advice", "--quiet", "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "Per hour (sessions that start in the hour)" in out and "\n10:00 " in out and "2-min" in out
    assert f"wrote {page}" in out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.count("<svg") >= 2
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; sale" in html


def test_bad_scenarios_are_named_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.format(agents=1, name="x").replace("routine_share = 0.5", "routine_share = 1.5"),
                   encoding="utf-8")
    assert main(["simulate", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reception: error:") and "buyers.routine_share" in err and "Traceback" not in err
    bad.write_text('arrivals = [1, 2]\n[[shifts]]\nagents = 1\nfrom = "25:00"\nto = "10:00"\n', encoding="utf-8")
    assert main(["simulate", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "arrivals" in err and "shifts.0.from" in err
    assert main(["simulate", str(tmp_path / "missing.toml"), "--quiet"]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["simulate", str(write(tmp_path, 1)), "--quiet", "--html", str(tmp_path / "no" / "x.html")]) == 2
    assert "no directory" in capsys.readouterr().err
    assert main(["simulate", str(write(tmp_path, 1)), "--quiet", "--verify", "--no-advice"]) == 2
    assert "--verify needs the advice" in capsys.readouterr().err


def test_the_bundled_double_11_scenario_is_valid():
    scenario = load_scenario(find_scenario("double11"))
    assert find_scenario("double11").parent == BUNDLED
    assert scenario.mode == "big_sale" and sum(scenario.hourly()) > 10_000
    assert scenario.staffing()[8:23] == [3] * 7 + [6] + [3] * 7
    shop = load_settings(scenario.config, env={})
    assert shop.big_sale.max_concurrent == 5 and shop.big_sale.queue_limit == 40
    scaled = scenario.scaled_to(50_000)
    assert abs(sum(scaled.hourly()) - 50_000) < 50 and scaled.staffing()[20] > scenario.staffing()[20]


def test_a_day_with_nobody_on_shift(tmp_path, capsys):
    scenario = tmp_path / "alone.toml"
    scenario.write_text('arrivals = [0,0,0,0,0,0,0,0,0,0,60,0,0,0,0,0,0,0,0,0,0,0,0,0]\n', encoding="utf-8")
    day = simulate(capsys, str(scenario))
    totals = day["totals"]
    assert totals["human_requests"] > 0 and totals["first_reply_2min_rate"] == 0
    assert totals["non_service_type1"] == totals["human_requests"]  # every request fell into the offline pool
    assert day["advice"]["aht_measured"] is False
    [row] = [r for r in day["advice"]["hours"] if r["requests"]]
    assert row["scheduled"] == 0 and row["simulated"] >= 1 and row["first_reply_2min_rate"] >= 0.8


def test_a_new_shop_rehearses_double_11_on_its_own_config(tmp_path, capsys):
    assert main(["init", str(tmp_path / "shop")]) == 0  # the example config routes to groups with rules
    capsys.readouterr()
    sale = tmp_path / "shop" / "double11.toml"
    text = sale.read_text(encoding="utf-8")
    start, end = text.index("arrivals = ["), text.index("]", text.index("arrivals = [")) + 1
    sale.write_text(text[:start] + "arrivals = [" + ", ".join(["0"] * 9 + ["80"] + ["0"] * 14) + "]" + text[end:],
                    encoding="utf-8")
    day = simulate(capsys, str(sale), "--no-advice")
    assert day["failed_actions"] == 0 and day["scenario"]["mode"] == "big_sale"
    assert day["totals"]["sessions"] == 80 and day["totals"]["human_requests"] > 0
    assert day["totals"]["first_reply_2min_rate"] > 0.5  # the simulated agents serve the config's groups

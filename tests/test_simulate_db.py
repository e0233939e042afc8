"""`reception simulate --db FILE` keeps the day for `reception report`, and a rate with nothing to divide is "—"."""

from __future__ import annotations

import json
import re

from reception.cli import main
from reception.simulate import HOUR_FIGURES

DAY = "2026-11-11"
# twenty buyers at 10:00 and nobody on shift: human requests but no rating, no answered turn
SCENARIO = f'name = "quiet"\ndate = "{DAY}"\nseed = 3\narrivals = [{", ".join(["0"] * 10 + ["20"] + ["0"] * 13)}]\n'


def _hour_row(text: str, hour: str) -> list[str]:
    [line] = [line for line in text.splitlines() if line.startswith(hour)]
    return line.split()


def _html_row(page: str, hour: str) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    row = next(r for r in rows if re.search(rf"<td[^>]*>{hour}</td>", r))
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def test_a_rate_with_no_denominator_is_a_dash_in_the_tables_and_the_page(tmp_path, capsys):
    scenario = tmp_path / "quiet.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    page = tmp_path / "quiet.html"
    assert main(["simulate", str(scenario), "--no-advice", "--quiet", "--html", str(page)]) == 0
    row = _hour_row(capsys.readouterr().out, "10:00")
    # hour arrivals agents human 2-min 3-min avg-resp non-service T1 T2 dissatisfied bot-resolved
    assert row[0] == "10:00" and int(row[3]) > 0 and row[4] == "0.00%"  # asked, never answered: a real 0 %
    assert row[-2] == "—", row  # no rating in the hour: no dissatisfaction rate, not 0.00 %
    assert row[5] == "—" and row[6] == "—"  # no turn with a human, no answered turn
    cells = _html_row(page.read_text(encoding="utf-8"), "10:00")
    assert cells[10] == "—" and cells[4] == "0.00%", cells
    assert "–" not in "".join(cells)  # one sign for "no value" everywhere (the dashboard's)


def test_simulate_db_keeps_the_day_for_report(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no reception.toml here: the report reads the file with the default shop
    scenario = tmp_path / "quiet.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    db = tmp_path / "day.db"
    assert main(["simulate", str(scenario), "--no-advice", "--quiet", "--json", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    simulated = json.loads(captured.out)
    assert f"reception report --db {db} --from {DAY} --to {DAY}" in captured.err

    assert main(["report", "--db", str(db), "--from", DAY, "--to", DAY, "--json"]) == 0
    reported = json.loads(capsys.readouterr().out)["assessment"]
    assert {k: reported[k] for k in HOUR_FIGURES} == simulated["totals"]
    by_hour = {h["hour"]: h for h in reported["by_hour"]}
    for hour in simulated["hours"]:
        assert {k: by_hour[hour["hour"]][k] for k in HOUR_FIGURES} == {k: hour[k] for k in HOUR_FIGURES}

    assert main(["report", "--db", str(db), "--from", DAY, "--to", DAY]) == 0
    table = capsys.readouterr().out
    section = table[table.index("By hour"):]
    row = _hour_row(section.split("\n", 1)[1], "10 ")
    assert row[0] == "10" and row[1] == "20" and row[-2] == "—", row
    page = tmp_path / "report.html"
    assert main(["report", "--db", str(db), "--from", DAY, "--to", DAY, "--html", str(page)]) == 0
    capsys.readouterr()
    assert "—" in _html_row(page.read_text(encoding="utf-8"), "10:00")

    # an existing database is not overwritten by accident
    assert main(["simulate", str(scenario), "--no-advice", "--quiet", "--db", str(db)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["simulate", str(scenario), "--no-advice", "--quiet", "--db", str(db), "--force"]) == 0
    assert f"kept the simulated day in {db}" in capsys.readouterr().out
    assert main(["report", "--db", str(db), "--from", DAY, "--to", DAY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["assessment"]["sessions"] == simulated["totals"]["sessions"]

"""How a simulation's answer is shown: terminal tables, or a self-contained HTML page with charts."""

from __future__ import annotations

from typing import Any

from ..metrics import html
from ..metrics.figures import NO_VALUE, num, pct, secs, table

HOUR_COLUMNS = [("hour", "hour"), ("arrivals", "arrivals"), ("agents", "agents"), ("human", "human_requests"),
                ("2-min", "first_reply_2min_rate"), ("3-min", "human_reply_3min_rate"),
                ("avg resp", "avg_response_seconds"), ("non-service", "non_service_rate"),
                ("T1", "non_service_type1"), ("T2", "non_service_type2"), ("dissatisfied", "dissatisfaction_rate"),
                ("bot resolved", "bot_resolution_rate")]


def _cell(key: str, value: Any) -> str:
    if key == "hour":
        return f"{value:02d}:00"
    if key.endswith("_rate"):
        return pct(value)
    if key.endswith("_seconds"):
        return secs(value)
    return num(value)


def headline(result: dict[str, Any]) -> list[str]:
    s, t = result["scenario"], result["totals"]
    return [
        f"{s['name']}: {s['date']}, {s['mode']} mode, {s['timezone']}",
        f"{s['conversations']:,} conversations, {s['agents']} {'agent' if s['agents'] == 1 else 'agents'} on shifts, "
        f"seed {s['seed']}; "
        f"simulated in {result['elapsed_seconds']:.1f} s ({result['conversations_per_second']:,} conversations/s)"
        + (f"; {result['failed_actions']} simulated actions failed (see the log)" if result["failed_actions"] else ""),
        f"assessed sessions ({s['window']}): {t['sessions']:,}, human requests {t['human_requests']:,}, "
        f"2-min first reply {pct(t['first_reply_2min_rate'])}, 3-min reply {pct(t['human_reply_3min_rate'])}, "
        f"non-service {pct(t['non_service_rate'])} (type 1: {t['non_service_type1']}, "
        f"type 2: {t['non_service_type2']}), dissatisfied {pct(t['dissatisfaction_rate'])}, "
        f"bot resolved {pct(t['bot_resolution_rate'])}",
    ]


def advice_lines(advice: dict[str, Any]) -> tuple[str, list[str], list[list[str]], str]:
    """(title, headers, rows, summary) of the staffing advice."""
    t = advice["targets"]
    title = (f"Staffing advice: fewest agents per hour for a 2-min first-reply"
             f" rate >= {pct(t['first_reply_2min_rate'])}"
             f" and non-service <= {pct(t['non_service_rate'])} (handling {advice['aht_seconds']:g} s per buyer"
             f"{'' if advice['aht_measured'] else ', the default: nobody was served'}, "
             f"first answer {advice['reply_seconds']:g} s on average)")
    headers = ["hour", "requests", "per agent", "on shift", "needed (simulated)", "Erlang C", "2-min at needed",
               "non-service at needed"]
    rows = []
    short = []
    for r in advice["hours"]:
        needed = NO_VALUE if r["simulated"] is None else str(r["simulated"])
        rows.append([f"{r['hour']:02d}:00", num(r["requests"]), num(r["concurrency"]), num(r["scheduled"]), needed,
                     num(r["erlang_c"]), pct(r["first_reply_2min_rate"]), pct(r["non_service_rate"])])
        if r["simulated"] and r["simulated"] > r["scheduled"]:
            short.append(f"{r['hour']:02d}:00 (+{r['simulated'] - r['scheduled']})")
    peak = max(advice["hours"], key=lambda r: r["simulated"] or 0, default=None)
    summary = ""
    if peak and peak["simulated"]:
        people = "agent" if peak["simulated"] == 1 else "agents"
        summary = f"peak need: {peak['simulated']} {people} at {peak['hour']:02d}:00 (Erlang C: {peak['erlang_c']}); "
    summary += (f"understaffed hours: {', '.join(short)}" if short else "the scheduled shifts cover every hour")
    summary += f"; searched in {advice['elapsed_seconds']:.1f} s"
    if advice.get("verified"):
        v = advice["verified"]
        t = v["totals"]
        headers += ["2-min, day as advised", "non-service, day as advised"]
        by_hour = {h["hour"]: h for h in v["hours"]}
        for row, r in zip(rows, advice["hours"]):
            h = by_hour.get(r["hour"], {})
            row += [pct(h.get("first_reply_2min_rate")), pct(h.get("non_service_rate"))]
        summary += (f"\nthe day again, staffed as advised ({v['agent_hours']} agent-hours, scheduled "
                    f"{v['scheduled_agent_hours']}): 2-min first reply {pct(t['first_reply_2min_rate'])}, non-service "
                    f"{pct(t['non_service_rate'])}, dissatisfied {pct(t['dissatisfaction_rate'])}")
    return title, headers, rows, summary


def _busy(hours: list[dict[str, Any]], advice: dict[str, Any] | None) -> set[int]:
    """The hours worth a row: someone wrote, or someone was on shift."""
    staffed = {r["hour"] for r in (advice or {}).get("hours", []) if r["scheduled"] or r["requests"]}
    return {h["hour"] for h in hours if h["arrivals"] or h["agents"] or h["sessions"]} | staffed


def render(result: dict[str, Any]) -> str:
    """The terminal tables (hours with no buyers and no agents left out)."""
    parts = ["\n".join(headline(result))]
    busy = _busy(result["hours"], result["advice"])
    rows = [[_cell(k, h[k]) for _, k in HOUR_COLUMNS] for h in result["hours"] if h["hour"] in busy]
    parts.append("Per hour (sessions that start in the hour)\n" + table([h for h, _ in HOUR_COLUMNS], rows))
    if result["advice"]:
        title, headers, rows, summary = advice_lines(result["advice"])
        rows = [r for r in rows if int(r[0][:2]) in busy]
        parts.append(f"{title}\n{table(headers, rows)}\n{summary}")
    return "\n\n".join(parts) + "\n"


def page(result: dict[str, Any]) -> str:
    """The HTML page: the same figures with charts."""
    s = result["scenario"]
    labels = [f"{h['hour']:02d}:00" for h in result["hours"]]
    parts = [html.paragraph(line) for line in headline(result)]
    parts.append(html.line_chart("每小时考核指标 / assessment figures per hour", labels, {
        "2分钟首次回复率 / 2-min first reply": [h["first_reply_2min_rate"] for h in result["hours"]],
        "3分钟人工回复率 / 3-min reply": [h["human_reply_3min_rate"] for h in result["hours"]],
        "不服务率 / non-service": [h["non_service_rate"] for h in result["hours"]],
    }, percent=True, threshold=result["advice"]["targets"]["first_reply_2min_rate"] if result["advice"] else None))
    parts.append(html.line_chart("每小时会话与人工诉求 / conversations and human requests per hour", labels, {
        "会话 / arrivals": [float(h["arrivals"]) for h in result["hours"]],
        "人工诉求 / human requests": [float(h["human_requests"]) for h in result["hours"]],
    }))
    parts.append(html.heading("每小时 / per hour"))
    parts.append(html.table([h for h, _ in HOUR_COLUMNS],
                            [[_cell(k, h[k]) for _, k in HOUR_COLUMNS] for h in result["hours"]]))
    if result["advice"]:
        advice = result["advice"]
        title, headers, rows, summary = advice_lines(advice)
        parts.append(html.heading("排班建议 / staffing advice"))
        parts.append(html.paragraph(title))
        parts.append(html.line_chart("每小时所需客服 / agents needed per hour",
                                     [f"{r['hour']:02d}:00" for r in advice["hours"]], {
            "排班 / on shift": [float(r["scheduled"]) for r in advice["hours"]],
            "模拟所需 / needed (simulated)": [None if r["simulated"] is None else float(r["simulated"])
                                            for r in advice["hours"]],
            "Erlang C": [float(r["erlang_c"]) for r in advice["hours"]],
        }))
        parts.append(html.table(headers, rows))
        parts.append(html.paragraph(summary))
    return html.page(f"模拟 / simulation: {s['name']}", parts)

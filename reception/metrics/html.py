"""Figures as one self-contained HTML page: text, tables and inline SVG charts (``reception report --html``).

The building blocks (`page`, `heading`, `paragraph`, `table`, `line_chart`,
`bar_chart`) return HTML fragments as strings and are shared with the
simulator's report; `assessment_page` lays out the assessment and intent
analytics with them. The page needs nothing from the network (no scripts,
stylesheets, fonts or images), so it opens from a file, offline, and prints.
Every text that reaches the page passes through `html.escape` here, in the
SVG too: intent names, group names and titles come from plugins and config.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any, Callable

from .figures import COLUMNS, NO_VALUE, local_minute, num, pct, summary

STYLE = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
color:#222;background:#fff;max-width:1200px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
p{margin:6px 0;color:#444}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:bottom}
td{white-space:nowrap}th{background:#f5f5f5;font-weight:600;font-size:12px}th span{white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafafa}
.wide{overflow-x:auto}
figure{margin:12px 0 20px}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;max-width:760px;height:auto;display:block}
svg text{font-size:12px;fill:#444}
@media print{body{margin:0;max-width:none;font-size:11px}
table,th{font-size:10px}th,td{padding:2px 3px}th span{white-space:normal}
figure,table{break-inside:avoid}h2,h3{break-after:avoid}.wide{overflow:visible}}
"""

# Okabe–Ito colours: told apart by colour-blind readers too (the yellow is too pale on white)
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
# and dash patterns, so that the series stay apart in black-and-white print
DASHES = ["", "7 3", "2 3", "10 3 2 3"]
WIDTH = 760  # the SVG's coordinate width; CSS scales it to the page
FONT = 12

# a cell of a figure column: a number, percent, seconds, or the dash for "no value"
_FIGURE = re.compile(rf"^({NO_VALUE}|[-+]?\d[\d,]*(\.\d+)?( ?%| s)?)$")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _text_width(text: str, size: float = FONT) -> float:
    """Roughly how wide `text` is drawn: CJK glyphs are square, Latin ones about 0.6 of the size."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return pct(value)
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def page(title: str, parts: list[str], lang: str = "zh") -> str:
    """The whole document: `title` as the page title and first heading, then `parts` in order."""
    body = "\n".join(parts)
    return (f'<!doctype html>\n<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{_e(title)}</h1>\n{body}\n</body>\n</html>\n")


def heading(text: str) -> str:
    return f"<h2>{_e(text)}</h2>"


def paragraph(text: str) -> str:
    return f"<p>{_e(text)}</p>"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A table of plain-text cells; columns whose every cell is a figure are right-aligned.

    A header "中文 / English" shows the two names on two lines, so that wide
    tables stay narrow enough for the page.
    """
    figure = [bool(rows) and all(_FIGURE.match(r[i].strip()) or not r[i].strip() for r in rows)
              and any(r[i].strip() not in ("", NO_VALUE) for r in rows) for i in range(len(headers))]

    def cells(tag: str, values: list[str], show=_e) -> str:
        return "".join(f'<{tag}{" class=n" if figure[i] else ""}>{show(v)}</{tag}>' for i, v in enumerate(values))

    def two_lines(header: str) -> str:
        first, _, second = header.partition(" / ")
        return f"<span>{_e(first)}</span><br>{_e(second)}" if second else _e(header)

    body = "\n".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    head = cells("th", headers, two_lines)
    return f'<div class="wide"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table></div>'


def _scale(values: list[float], percent: bool, whole: bool = True) -> tuple[float, float]:
    """(top, step) of a value axis from 0 that holds `values` in about five gridlines;
    `whole`: rates run to 100 % whatever the values."""
    high = max([v for v in values if v is not None] + [0.0])
    if percent and whole and high <= 1:
        return 1.0, 0.2  # rates read best against the whole 0–100 %
    high = high or 1.0
    raw = high / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if not percent and all(float(v).is_integer() for v in values if v is not None):
        step = max(1.0, math.ceil(step))  # counts: no gridline at 2.5 sessions
    return math.ceil(high / step - 1e-9) * step, step


def _stroke(i: int) -> str:
    dash = DASHES[i % len(DASHES)]
    return f'stroke="{COLOURS[i % len(COLOURS)]}"' + (f' stroke-dasharray="{dash}"' if dash else "")


def _legend(names: list[str], top: float) -> tuple[str, float]:
    """The legend's SVG, wrapped into rows across the width, and the height it takes."""
    out, x, y = [], 0.0, top
    for i, name in enumerate(names):
        w = 30 + _text_width(name) + 18
        if x and x + w > WIDTH:
            x, y = 0.0, y + 18
        out.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 24:.1f}" y2="{y:.1f}" {_stroke(i)} stroke-width="3"/>'
                   f'<text x="{x + 30:.1f}" y="{y + 4:.1f}">{_e(name)}</text>')
        x += w
    return "".join(out), y - top + 18 if names else 0.0


def _figure(title: str, svg_body: str, height: float) -> str:
    return (f'<figure><figcaption>{_e(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
            f'aria-label="{_e(title)}"><title>{_e(title)}</title>{svg_body}</svg></figure>')


def _no_data(title: str) -> str:
    return f"<figure><figcaption>{_e(title)}</figcaption><p>无数据 / no data</p></figure>"


def line_chart(title: str, x_labels: list[str], series: dict[str, list[float | None]],
               percent: bool = False, threshold: float | None = None) -> str:
    """A line per series over `x_labels` (None leaves a gap); `percent` values are 0..1 shown as %;
    `threshold` draws a dashed horizontal line. Each point's tooltip gives its value."""
    values = [v for vs in series.values() for v in vs if v is not None]
    if not x_labels or not values:
        return _no_data(title)
    legend, legend_height = _legend(list(series), 10)
    top, step = _scale(values + ([threshold] if threshold is not None else []), percent)
    left, right, plot_top, plot_h = 52.0, 12.0, 10 + legend_height + 8, 200.0
    plot_w = WIDTH - left - right
    bottom = plot_top + plot_h
    n = len(x_labels)
    band = plot_w / n

    def x(i: int) -> float:
        return left + band * (i + 0.5)

    def y(v: float) -> float:
        return bottom - v / top * plot_h

    out = [legend]
    for k in range(int(round(top / step)) + 1):
        tick = k * step
        out.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{WIDTH - right}" y2="{y(tick):.1f}" stroke="#e3e3e3"/>'
                   f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                   f'{_e(f"{tick * 100:.0f}%" if percent else f"{tick:g}")}</text>')
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - right}" y2="{bottom}" stroke="#888"/>'
               f'<line x1="{left}" y1="{plot_top}" x2="{left}" y2="{bottom}" stroke="#888"/>')
    # label every k-th point only, so that labels never run into each other
    every = max(1, math.ceil((max(_text_width(str(t), 11) for t in x_labels) + 8) / band))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            out.append(f'<line x1="{x(i):.1f}" y1="{bottom}" x2="{x(i):.1f}" y2="{bottom + 4}" stroke="#888"/>'
                       f'<text x="{x(i):.1f}" y="{bottom + 17}" text-anchor="middle" style="font-size:11px">'
                       f"{_e(label)}</text>")
    if threshold is not None:
        at, label = y(threshold), "阈值 / threshold " + _fmt(threshold, percent)
        # the white outline keeps the label readable where a series crosses it
        out.append(f'<line x1="{left}" y1="{at:.1f}" x2="{WIDTH - right}" y2="{at:.1f}" stroke="#b00" '
                   f'stroke-dasharray="6 4"/><text x="{WIDTH - right - 4}" y="{at - 4:.1f}" text-anchor="end" '
                   f'style="fill:#b00;stroke:#fff;stroke-width:3px;paint-order:stroke">{_e(label)}</text>')
    for s, (name, points) in enumerate(series.items()):
        colour = COLOURS[s % len(COLOURS)]
        run: list[str] = []
        for i in range(n + 1):  # one step past the end closes the last run
            v = points[i] if i < n and i < len(points) else None
            if v is not None:
                run.append(f"{x(i):.1f},{y(v):.1f}")
                continue
            if len(run) > 1:
                out.append(f'<polyline points="{" ".join(run)}" fill="none" {_stroke(s)} stroke-width="2"/>')
            run = []
        # earlier series get larger dots beneath the later ones: equal values stay visible as rings
        radius = 2.5 + 1.2 * (len(series) - 1 - s)
        for i, v in enumerate(points[:n]):
            if v is not None:
                out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{radius:.1f}" fill="{colour}">'
                           f"<title>{_e(f'{name} · {x_labels[i]}: {_fmt(v, percent)}')}</title></circle>")
    return _figure(title, "".join(out), bottom + 26)


def bar_chart(title: str, labels: list[str], values: list[float | None], percent: bool = False) -> str:
    """Horizontal bars, one per label, each with its value written at its end (— when None)."""
    if not labels:
        return _no_data(title)
    row, bar = 26.0, 16.0
    # long labels are cut to keep the bars readable; the full label is in the tooltip
    room = WIDTH * 0.35
    shown = []
    for label in labels:
        text = str(label)
        while _text_width(text) > room and len(text) > 1:
            text = text[:-2] + "…"
        shown.append(text)
    left = min(room, max(_text_width(t) for t in shown)) + 12
    right = 72.0
    # bars compare the labels with each other, so the longest one spans the width even for rates
    top, _ = _scale([v for v in values if v is not None], percent, whole=False)
    plot_w = WIDTH - left - right
    out = [f'<line x1="{left}" y1="4" x2="{left}" y2="{4 + row * len(labels):.0f}" stroke="#888"/>']
    for i, (label, text) in enumerate(zip(labels, shown)):
        v = values[i] if i < len(values) else None
        y = 4 + i * row
        value = NO_VALUE if v is None else _fmt(v, percent)
        length = 0.0 if v is None else max(0.0, v) / top * plot_w
        out.append(f'<g><title>{_e(f"{label}: {value}")}</title>'
                   f'<text x="{left - 6:.1f}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{_e(text)}</text>'
                   f'<rect x="{left:.1f}" y="{y + (row - bar) / 2:.1f}" width="{length:.1f}" height="{bar}" '
                   f'fill="{COLOURS[0]}"/>'
                   f'<text x="{left + length + 6:.1f}" y="{y + row / 2 + 4:.1f}">{_e(value)}</text></g>')
    return _figure(title, "".join(out), 8 + row * len(labels))


# Chinese names of the answer's keys; the English ones come from figures.COLUMNS
ZH = {"sessions": "会话", "human_requests": "转人工", "first_reply_2min_rate": "2分钟首次回复率",
      "human_reply_3min_rate": "3分钟人工回复率", "avg_response_seconds": "平均响应时长",
      "non_service_rate": "不服务率", "non_service_type1": "不服务一类",
      "non_service_type2": "不服务二类", "dissatisfaction_rate": "不满意率",
      "bot_resolution_rate": "机器人解决率", "handover_rate": "转人工率",
      "date": "日期", "hour": "小时", "reason": "转人工原因", "group": "分组", "agent_id": "客服"}
KINDS = {"intent": "意图 / intent", "handover": "转人工原因 / handover reason", "none": "无 / none"}
RATES = [("first_reply_2min_rate", "2分钟首次回复率 / 2-minute first-reply rate"),
         ("human_reply_3min_rate", "3分钟人工回复率 / 3-minute reply rate"),
         ("non_service_rate", "不服务率 / non-service rate")]


def _both(key: str, english: str) -> str:
    return f"{ZH[key]} / {english}" if key in ZH else english


def _breakdown(key: str, english: str, rows: list[dict[str, Any]],
               label: Callable[[dict[str, Any]], str] | None = None, rate: bool = False) -> str:
    """A breakdown table: the key column (`label` shows it), the COLUMNS figures, the handover rate if `rate`."""
    headers = [_both(key, english)] + [_both(k, h) for h, k, _ in COLUMNS]
    if rate:
        headers.append(_both("handover_rate", "handover rate"))
    body = []
    for r in rows:
        cells = [label(r) if label else num(r[key]) if r[key] is not None else "(无 / none)"]
        cells += [f(r.get(k)) for _, k, f in COLUMNS] + ([pct(r.get("handover_rate"))] if rate else [])
        body.append(cells)
    return table(headers, body)


def _hour(h: int) -> str:
    return f"{h:02d}:00"


def assessment_page(assessment: dict, intents: dict, title: str | None = None) -> str:
    """The report of ``reception report --html``: summary, charts by hour (and day), breakdowns, intents."""
    a = assessment
    title = title or f"客服考核报告 / Assessment report {a['from']} – {a['to']}"
    t = a["thresholds"]
    parts = [paragraph(f"时区 / timezone {a['timezone']} · 考核时段 / window {a['window']} · "
                       f"首次回复 / first reply ≤ {t['first_reply_seconds']:g} s · "
                       f"人工回复 / human reply ≤ {t['human_reply_seconds']:g} s · "
                       f"最小样本 / min volume {t['min_volume']} · 生成于 / generated "
                       f"{local_minute(a['generated_at'], a['timezone'])}"),
             heading("概要 / Summary"),
             table(["指标 / figure", "数值 / value", "说明 / detail"],
                   [[_both(key, label), value, detail] for key, label, value, detail in summary(a)])]

    hours = [_hour(h["hour"]) for h in a["by_hour"]]
    parts += [heading("按小时 / By hour"),
              line_chart("各小时回复率与不服务率 / Reply and non-service rates by hour", hours,
                         {name: [h[key] for h in a["by_hour"]] for key, name in RATES}, percent=True),
              line_chart("各小时会话与转人工 / Sessions and human requests by hour", hours,
                         {"会话 / sessions": [h["sessions"] for h in a["by_hour"]],
                          "转人工 / human requests": [h["human_requests"] for h in a["by_hour"]]}),
              _breakdown("hour", "hour", a["by_hour"], label=lambda r: _hour(r["hour"]))]

    parts.append(heading("按日 / By day"))
    if len(a["by_day"]) > 1:
        parts.append(line_chart("各日回复率与不服务率 / Reply and non-service rates by day",
                                [d["date"][5:] for d in a["by_day"]],
                                {name: [d[key] for d in a["by_day"]] for key, name in RATES}, percent=True))
    penalty_days = [d["date"] for d in a["by_day"] if d["penalty"]]
    parts.append(_breakdown("date", "date", a["by_day"],
                            label=lambda r: r["date"] + (" ⚠ 处罚期 / penalty" if r["penalty"] else "")))
    if penalty_days:
        parts.append(paragraph(f"⚠ 处罚期内的日期 / days in a penalty period: {', '.join(penalty_days)}"))

    for key, english, rows, zh in (("reason", "reason", a["by_reason"], "按转人工原因 / By handover reason"),
                                   ("group", "group", a["by_group"], "按分组 / By group"),
                                   ("agent_id", "agent", a["by_agent"], "按客服 / By agent")):
        if rows:
            parts += [heading(zh), _breakdown(key, english, rows, rate=key == "reason")]

    parts.append(heading("处罚期 / Penalty periods"))
    periods = [[p["from"], p["to"] or "仍在进行 / still on"] for p in a["penalty_periods"]]
    parts.append(table(["开始 / from", "结束 / to"], periods) if periods else paragraph("无 / none"))

    parts += _intent_parts(intents)
    return page(title, parts)


def _intent_parts(intents: dict) -> list[str]:
    """The intent TOP tables by volume and by contribution, and the contribution chart."""
    by_name = {i["intent"]: i for i in intents["intents"]}
    headers = ["意图 / intent", "类型 / kind", "会话 / sessions", "占比 / share", "不满意 / dissatisfied",
               "不满意率 / dissatisfaction", "不满意贡献率 / contribution"]
    parts = [heading(f"咨询意图 / Intents {intents['from']} – {intents['to']}"),
             paragraph(f"会话 / sessions {intents['sessions']} · 不满意 / dissatisfied {intents['dissatisfied']}"
                       " (全天 / whole days)")]
    for zh, names in (("按咨询量 TOP / TOP by volume", intents["top_by_volume"]),
                      ("按不满意贡献 TOP / TOP by dissatisfaction contribution", intents["top_by_contribution"])):
        rows = [[n, KINDS.get(by_name[n]["kind"], by_name[n]["kind"]), num(by_name[n]["sessions"]),
                 pct(by_name[n]["share"]), num(by_name[n]["dissatisfied"]), pct(by_name[n]["dissatisfaction_rate"]),
                 pct(by_name[n]["contribution_rate"])] for n in names]
        parts += [f"<h3>{_e(zh)}</h3>", table(headers, rows) if rows else paragraph("无 / none")]
    top = intents["top_by_contribution"]
    if top:
        parts.append(bar_chart("不满意贡献率 / Dissatisfaction contribution by intent", top,
                               [by_name[n]["contribution_rate"] for n in top], percent=True))
    return parts

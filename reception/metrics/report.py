"""``reception report --from --to``: the assessment and intent analytics of a shop's database as terminal tables.

The figures are the very ones the API answers (the same functions over the
same store); ``--json`` prints them as JSON instead, ``--html FILE`` writes
them as a page with charts (`reception.metrics.html`).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from ..config import Settings
from ..store import make_store
from . import local_today, parse_range
from .assessment import assess
from .intents import analyse


# kv key: the instant a database's clock stopped (the end of a simulated day); reports read it as of then
FROZEN_AT = "clock.frozen_at"
# a figure with nothing to compute it from (a rate with no denominator: the API's null), everywhere it is shown
NO_VALUE = "—"


def pct(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value * 100:.2f}%"


def secs(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.2f} s"


def num(value: Any) -> str:
    return NO_VALUE if value is None else str(value)


# the columns of every breakdown: (header, key in the answer, format)
COLUMNS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("sessions", "sessions", num), ("human", "human_requests", num),
    ("2-min first reply", "first_reply_2min_rate", pct), ("3-min reply", "human_reply_3min_rate", pct),
    ("avg response", "avg_response_seconds", secs), ("non-service", "non_service_rate", pct),
    ("type 1", "non_service_type1", num), ("type 2", "non_service_type2", num),
    ("dissatisfied", "dissatisfaction_rate", pct), ("bot resolved", "bot_resolution_rate", pct)]


def table(headers: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """A plain text table: columns aligned, the `left` ones to the left, the others (figures) to the right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _breakdown(title: str, key: str, rows: list[dict[str, Any]],
               extra: list[tuple[str, str, Callable[[Any], str]]]) -> str:
    cols = COLUMNS + extra
    body = [[num(r[key]) if r[key] is not None else "(none)"] + [f(r.get(k)) for _, k, f in cols] for r in rows]
    return f"{title}\n" + table([key] + [h for h, _, _ in cols], body)


def summary(a: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The headline figures of an assessment: (key in the answer, label, formatted value, detail)."""
    return [
        ("sessions", "sessions", num(a["sessions"]), f"started in {a['window']} ({a['timezone']})"),
        ("human_requests", "human requests", num(a["human_requests"]), ""),
        ("first_reply_2min_rate", "2-min first-reply rate", pct(a["first_reply_2min_rate"]),
         f"{a['first_replies_in_time']} of {a['human_requests']} within {a['thresholds']['first_reply_seconds']:g} s"),
        ("human_reply_3min_rate", "3-min human reply rate", pct(a["human_reply_3min_rate"]),
         f"{a['turns_in_time']} of {a['turns']} turns within {a['thresholds']['human_reply_seconds']:g} s"),
        ("avg_response_seconds", "average response time", secs(a["avg_response_seconds"]), "answered turns"),
        ("non_service_rate", "non-service rate", pct(a["non_service_rate"]),
         f"type 1 (offline pool): {a['non_service_type1']}, type 2 (welcome only): {a['non_service_type2']}"),
        ("dissatisfaction_rate", "dissatisfaction rate", pct(a["dissatisfaction_rate"]),
         f"{a['dissatisfied']} of {a['ratings']} ratings"),
        ("bot_resolution_rate", "bot resolution rate", pct(a["bot_resolution_rate"]),
         f"{a['bot_resolved']} of {a['sessions']} sessions"),
    ]


def render(assessment: dict[str, Any], intents: dict[str, Any]) -> str:
    """Every table of the report."""
    a = assessment
    rows = [[label, value, detail] for _, label, value, detail in summary(a)]
    parts = [f"Assessment {a['from']} – {a['to']}", table(["figure", "value", "detail"], rows, left=(0, 2))]
    penalty = [("penalty", "penalty", lambda v: "yes" if v else "")]
    parts.append(_breakdown("By day", "date", a["by_day"], penalty))
    parts.append(_breakdown("By hour", "hour", a["by_hour"], []))
    rate = [("handover rate", "handover_rate", pct)]
    for title, key, rows, extra in (("By handover reason", "reason", a["by_reason"], rate),
                                    ("By group", "group", a["by_group"], []),
                                    ("By agent", "agent_id", a["by_agent"], [])):
        if rows:
            parts.append(_breakdown(title, key, rows, extra))
    periods = [[p["from"], p["to"] or "(still on)"] for p in a["penalty_periods"]]
    parts.append("Penalty periods\n" + (table(["from", "to"], periods) if periods else "none"))
    by_name = {i["intent"]: i for i in intents["intents"]}
    for title, names in (("Intents: TOP by volume", intents["top_by_volume"]),
                         ("Intents: TOP by dissatisfaction contribution", intents["top_by_contribution"])):
        rows = [[n, by_name[n]["kind"], num(by_name[n]["sessions"]), pct(by_name[n]["share"]),
                 num(by_name[n]["dissatisfied"]), pct(by_name[n]["dissatisfaction_rate"]),
                 pct(by_name[n]["contribution_rate"])] for n in names]
        parts.append(f"{title}\n" + (table(["intent", "kind", "sessions", "share", "dissatisfied",
                                             "dissatisfaction", "contribution"], rows) if rows else "none"))
    return "\n\n".join(parts) + "\n"


async def collect(settings: Settings, first: date, last: date, now: datetime) -> tuple[dict, dict]:
    """(assessment, intents) for the local days [first, last], read from the shop's database.

    A database whose clock stopped (a simulated day, ``simulate --db``) is read as of that instant, so the
    report gives the simulation's figures whenever it is run.
    """
    store = make_store(settings.store)
    await store.open()
    try:
        frozen = await store.value(FROZEN_AT)
        now = datetime.fromisoformat(frozen) if frozen else now
        return (await assess(store, settings, first, last, now), await analyse(store, settings, first, last, now))
    finally:
        await store.close()


def run(settings: Settings, start: str | None, end: str | None, as_json: bool, out: TextIO, err: TextIO,
        *, html: Path | None = None) -> int:
    """The command: 0 when printed (or, with `html`, written to that file), 2 on bad dates, a missing
    database or an HTML file that cannot be written."""
    now = datetime.now(timezone.utc)
    try:
        first, last = parse_range(start, end, local_today(settings, now))
    except ValueError as exc:
        print(f"reception: error: {exc}", file=err)
        return 2
    if settings.store.kind == "sqlite" and not settings.store.path.is_file():
        print(f"reception: error: no database at {settings.store.path}", file=err)
        return 2
    if html is not None and not html.parent.is_dir():
        # refused before the figures are computed: a long range takes a while to read
        print(f"reception: error: cannot write {html}: no directory {html.parent}", file=err)
        return 2
    assessment, intents = asyncio.run(collect(settings, first, last, now))
    if html is not None:
        from .html import assessment_page  # here, not above: the page module imports this one's formatters

        try:
            html.write_text(assessment_page(assessment, intents), encoding="utf-8")
        except OSError as exc:
            print(f"reception: error: cannot write {html}: {exc.strerror or exc}", file=err)
            return 2
        print(f"wrote {html}", file=out)
    elif as_json:
        out.write(json.dumps({"assessment": assessment, "intents": intents}, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(render(assessment, intents))
    return 0

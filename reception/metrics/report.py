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
from .figures import COLUMNS, num, pct, summary, table
from .html import assessment_page
from .intents import analyse

# kv key: the instant a database's clock stopped (the end of a simulated day); reports read it as of then
FROZEN_AT = "clock.frozen_at"
def _breakdown(title: str, key: str, rows: list[dict[str, Any]],
               extra: list[tuple[str, str, Callable[[Any], str]]]) -> str:
    cols = COLUMNS + extra
    body = [[num(r[key]) if r[key] is not None else "(none)"] + [f(r.get(k)) for _, k, f in cols] for r in rows]
    return f"{title}\n" + table([key] + [h for h, _, _ in cols], body)


def render(assessment: dict[str, Any], intents: dict[str, Any]) -> str:
    """Every table of the report."""
    a = assessment
    rows = [[label, value, detail] for _, label, value, detail in summary(a)]
    parts = [f"Assessment {a['from']} – {a['to']}", table(["figure", "value", "detail"], rows, left=(0, 2))]
    penalty = [("penalty", "penalty", lambda v: "yes" if v else "")]
    parts.append(_breakdown("By day", "date", a["by_day"], penalty))
    parts.append(_breakdown("By hour", "hour", a["by_hour"], []))
    rate: list[tuple[str, str, Callable[[Any], str]]] = [("handover rate", "handover_rate", pct)]
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

"""The SQL behind the assessment metrics and intent analytics: aggregates over the session ledger.

`reception.metrics.assessment` holds the definitions and turns these counts
into rates; this module only counts. The ledger (``ledger.py``) is the event
log folded per conversation as events are stored, so a month of a busy shop
is tens of thousands of rows to aggregate, not a million events. Each report
is one `Step` list that the back-end runs in one snapshot on a connection of
its own (`Store._snapshot`: SQLite in a worker thread, so the server's loop
keeps running; PostgreSQL in a repeatable-read transaction that is rolled
back, which drops its temporary tables), so the temp tables of two
concurrent reports never meet.

Sessions are the ledger rows whose ``started`` falls in one of the caller's
slots (UTC bounds as stored, with the local day and hour they stand for);
turns are the ``metric_turns`` rows of those sessions, found the same way.
Sums come back per (day, hour, group, reason) and per agent; rolling them up
into totals, days and hours is the caller's (a few hundred rows at most).
Flags are 0/1 integers made with CASE, so the same SQL sums them on both
back-ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from . import codec

Slot = tuple[str, str, str, int]  # (lo, hi) UTC text as stored, local day, local hour
Period = tuple[str, str | None]  # (from, to or None) UTC text as stored
Rows = list[tuple[Any, ...]]
# one statement of a report: ("run", sql, params), ("many", sql, rows to insert) or ("rows", sql, params), whose
# rows the report returns, in order
Step = tuple[str, str, Any]

_SETUP = ("CREATE TEMP TABLE slot (lo TEXT, hi TEXT, day TEXT, hour INTEGER)",
          "CREATE TEMP TABLE pen (lo TEXT, hi TEXT)")


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# one row per session with its flags; `type2` and `bot_resolved` need `type1` and `hr`, hence two levels
_F = f"""
CREATE TEMP TABLE f AS
SELECT day, hour, grp, reason, agent, intent, intent_is_reason, hr, first_ok, type1, ratings, dissatisfied, penalty,
  {_flag("hr=1 AND type1=0 AND assigned>0 AND replies=0 AND closed<>0")} AS type2,
  {_flag("hr=0 AND assigned=0 AND (closed<>0 OR last_at<=:idle_before)")} AS bot_resolved,
  {_flag("turn_open IS NOT NULL AND turn_open<:reply_before")} AS open_missed
FROM (SELECT s.day, s.hour, m.agent, m.reason, m.ratings, m.dissatisfied, m.assigned, m.closed, m.turn_open,
  m.replies, m.last_at,
  {_flag("m.req_at IS NOT NULL")} AS hr,
  COALESCE(m.asg_group, m.wait_group) AS grp,
  COALESCE(x.intent, m.req_intent, m.reason, m.bot_intent) AS intent,
  {_flag("x.intent IS NULL AND m.req_at IS NOT NULL AND m.req_intent IS NULL")} AS intent_is_reason,
  {_flag("m.req_at IS NOT NULL AND m.first_since IS NOT NULL AND m.first_since<=:first_limit")} AS first_ok,
  {_flag("m.req_at IS NOT NULL AND (m.pool_last>=m.req_at OR (m.pool_first<m.req_at AND m.asg_at_req=0))")}
    AS type1,
  {_flag("EXISTS (SELECT 1 FROM pen WHERE m.started>=pen.lo AND (pen.hi IS NULL OR m.started<pen.hi))")} AS penalty
FROM slot s JOIN metric_sessions m ON m.started>=s.lo AND m.started<s.hi
  LEFT JOIN metric_intents x ON x.conversation_id=m.conversation_id) AS flagged
"""

SESSION_SUMS = ("sessions", "requests", "first_ok", "type1", "type2", "ratings", "dissatisfied", "bot_resolved",
                "penalty_sessions", "open_missed")
_SESSIONS = """
SELECT {keys}, COUNT(*), SUM(hr), SUM(first_ok), SUM(type1), SUM(type2), SUM(ratings), SUM(dissatisfied),
  SUM(bot_resolved), SUM(penalty), SUM(open_missed)
FROM f {where} GROUP BY {keys}
"""

# finished turns: answered (`wait` in seconds) or not (the conversation closed first)
TURN_SUMS = ("turns", "turns_ok", "answered", "wait_sum")
_TURNS = """
SELECT {keys}, COUNT(*), SUM(CASE WHEN t.wait<=:reply_limit THEN 1 ELSE 0 END), COUNT(t.wait), SUM(t.wait)
FROM slot s JOIN metric_turns t ON t.started>=s.lo AND t.started<s.hi {where} GROUP BY {keys}
"""

INTENT_SUMS = ("is_reason", "sessions", "rated", "dissatisfied")
_INTENTS = """
SELECT COALESCE(intent, ''), MAX(intent_is_reason), COUNT(*), SUM(CASE WHEN ratings>0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN dissatisfied>0 THEN 1 ELSE 0 END)
FROM f GROUP BY 1
"""


def _prepare(slots: list[Slot], penalty: list[Period], params: dict[str, Any]) -> list[Step]:
    return [*(("run", statement, ()) for statement in _SETUP), ("many", "INSERT INTO slot VALUES (?,?,?,?)", slots),
            ("many", "INSERT INTO pen VALUES (?,?)", penalty), ("run", _F, params)]


class MetricsReads:
    """Aggregate reads for reports; mixed into `Store`, whose back-end runs each as a snapshot (`_snapshot`)."""

    _snapshot: Callable[[list[Step]], Awaitable[list[Rows]]]  # the back-end's (`Store._snapshot`)

    async def assessment_sums(self, slots: list[Slot], penalty: list[Period], now: datetime, first_seconds: float,
                              reply_seconds: float, idle_seconds: float) -> dict[str, Rows]:
        """Sums of the sessions that started in `slots`, as rows of keys then `SESSION_SUMS` / `TURN_SUMS`.

        ``sessions`` and ``turns`` are keyed by (day, hour, group, reason), ``sessions_by_agent`` by the
        session's last agent, ``turns_by_agent`` by the agent who answered (else who held the buyer).
        `penalty` holds the penalty periods; `now` decides which open turns and bot sessions are over.
        """
        params = {"first_limit": float(first_seconds), "reply_limit": float(reply_seconds),
                  "reply_before": codec.ts(now - timedelta(seconds=reply_seconds)),
                  "idle_before": codec.ts(now - timedelta(seconds=idle_seconds))}
        cells, agents = "day, hour, grp, reason", "agent"
        sessions, by_agent, turns, turns_by_agent = await self._snapshot([
            *_prepare(slots, penalty, params),
            ("rows", _SESSIONS.format(keys=cells, where=""), ()),
            ("rows", _SESSIONS.format(keys=agents, where="WHERE agent IS NOT NULL"), ()),
            ("rows", _TURNS.format(keys="s.day, s.hour, t.grp, t.reason", where=""), params),
            ("rows", _TURNS.format(keys="t.agent", where="WHERE t.agent IS NOT NULL"), params),
        ])
        return {"sessions": sessions, "sessions_by_agent": by_agent, "turns": turns, "turns_by_agent": turns_by_agent}

    async def intent_sums(self, slots: list[Slot]) -> Rows:
        """Per session intent ('' when none): (intent, is a handover reason, sessions, rated, dissatisfied)."""
        params = {"first_limit": 0.0, "idle_before": "", "reply_before": ""}
        [rows] = await self._snapshot([*_prepare(slots, [], params), ("rows", _INTENTS, ())])
        return rows

    async def mode_changes(self, mode: str, before: datetime) -> list[tuple[datetime, bool]]:
        """Every ``mode.changed`` of `mode` before `before`, oldest first: (at, active)."""
        [rows] = await self._snapshot([("rows", "SELECT at, json_type(data, '$.active') = 'true' FROM events"
                                        " WHERE name='mode.changed' AND at<? AND json_extract(data, '$.mode')=?"
                                        " ORDER BY at, id", (codec.ts(before), mode))])
        return [(datetime.fromisoformat(at), bool(active)) for at, active in rows]

    async def count_events(self, start: datetime, end: datetime) -> int:
        """How many events fall in [start, end) (the benchmark's baseline)."""
        [rows] = await self._snapshot([("rows", "SELECT COUNT(*) FROM events WHERE at>=? AND at<?",
                                        (codec.ts(start), codec.ts(end)))])
        return rows[0][0]

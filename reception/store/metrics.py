"""The SQL behind the assessment metrics and intent analytics: aggregates over the session ledger.

`reception.metrics.assessment` holds the definitions and turns these counts
into rates; this module only counts. The ledger (``ledger.py``) is the event
log folded per conversation by triggers, so a month of a busy shop is tens
of thousands of rows to aggregate, not a million events. Each call opens its
own read-only connection in a worker thread (the server's loop keeps
running, and the temp tables of two concurrent reports never meet).

Sessions are the ledger rows whose ``started`` falls in one of the caller's
slots (UTC bounds as stored, with the local day and hour they stand for);
turns are the ``metric_turns`` rows of those sessions, found the same way.
Sums come back per (day, hour, group, reason) and per agent; rolling them up
into totals, days and hours is the caller's (a few hundred rows at most).
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import codec

Slot = tuple[str, str, str, int]  # (lo, hi) UTC text as stored, local day, local hour
Period = tuple[str, str | None]  # (from, to or None) UTC text as stored
Rows = list[tuple[Any, ...]]

_SETUP = ("CREATE TEMP TABLE slot (lo TEXT, hi TEXT, day TEXT, hour INTEGER)",
          "CREATE TEMP TABLE pen (lo TEXT, hi TEXT)")

# one row per session with its flags; `type2` and `bot_resolved` need `type1` and `hr`, hence two levels
_F = """
CREATE TEMP TABLE f AS
SELECT day, hour, grp, reason, agent, intent, intent_is_reason, hr, first_ok, type1, ratings, dissatisfied, penalty,
  hr AND NOT type1 AND assigned>0 AND replies=0 AND closed AS type2,
  NOT hr AND assigned=0 AND (closed OR last_at<=:idle_before) AS bot_resolved,
  turn_open IS NOT NULL AND turn_open<:reply_before AS open_missed
FROM (SELECT s.day, s.hour, m.agent, m.reason, m.ratings, m.dissatisfied, m.assigned, m.closed, m.turn_open,
  m.replies, m.last_at,
  m.req_at IS NOT NULL AS hr,
  COALESCE(m.asg_group, m.wait_group) AS grp,
  COALESCE(m.req_intent, m.reason, m.bot_intent) AS intent,
  m.req_at IS NOT NULL AND m.req_intent IS NULL AS intent_is_reason,
  m.req_at IS NOT NULL AND m.first_since IS NOT NULL AND m.first_since<=:first_limit AS first_ok,
  m.req_at IS NOT NULL AND COALESCE(m.pool_last>=m.req_at OR (m.pool_first<m.req_at AND NOT m.asg_at_req), 0)
    AS type1,
  EXISTS (SELECT 1 FROM pen WHERE m.started>=pen.lo AND (pen.hi IS NULL OR m.started<pen.hi)) AS penalty
FROM slot s JOIN metric_sessions m ON m.started>=s.lo AND m.started<s.hi)
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
SELECT {keys}, COUNT(*), SUM(t.wait<=:reply_limit), COUNT(t.wait), SUM(t.wait)
FROM slot s JOIN metric_turns t ON t.started>=s.lo AND t.started<s.hi {where} GROUP BY {keys}
"""

INTENT_SUMS = ("is_reason", "sessions", "rated", "dissatisfied")
_INTENTS = """
SELECT COALESCE(intent, ''), MAX(intent_is_reason), COUNT(*), SUM(ratings>0), SUM(dissatisfied>0)
FROM f GROUP BY 1
"""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _prepare(conn: sqlite3.Connection, slots: list[Slot], penalty: list[Period], params: dict[str, Any]) -> None:
    conn.execute("BEGIN")  # one snapshot for every query of the report
    for statement in _SETUP:
        conn.execute(statement)
    conn.executemany("INSERT INTO slot VALUES (?,?,?,?)", slots)
    conn.executemany("INSERT INTO pen VALUES (?,?)", penalty)
    conn.execute(_F, params)


def _assessment(path: Path, slots: list[Slot], penalty: list[Period], params: dict[str, Any]) -> dict[str, Rows]:
    conn = _connect(path)
    try:
        _prepare(conn, slots, penalty, params)
        cells, agents = "day, hour, grp, reason", "agent"
        out = {
            "sessions": conn.execute(_SESSIONS.format(keys=cells, where=""), params).fetchall(),
            "sessions_by_agent": conn.execute(_SESSIONS.format(keys=agents, where="WHERE agent IS NOT NULL"),
                                              params).fetchall(),
            "turns": conn.execute(_TURNS.format(keys="s.day, s.hour, t.grp, t.reason", where=""),
                                  params).fetchall(),
            "turns_by_agent": conn.execute(_TURNS.format(keys="t.agent", where="WHERE t.agent IS NOT NULL"),
                                           params).fetchall(),
        }
        conn.execute("COMMIT")
        return out
    finally:
        conn.close()


def _intents(path: Path, slots: list[Slot]) -> Rows:
    conn = _connect(path)
    try:
        _prepare(conn, slots, [], {"first_limit": 0, "idle_before": "", "reply_before": ""})
        rows = conn.execute(_INTENTS).fetchall()
        conn.execute("COMMIT")
        return rows
    finally:
        conn.close()


def _mode_changes(path: Path, mode: str, before: str) -> list[tuple[str, bool]]:
    conn = _connect(path)
    try:
        rows = conn.execute(
            "SELECT at, json_extract(data, '$.active') FROM events WHERE name='mode.changed' AND at<?"
            " AND json_extract(data, '$.mode')=? ORDER BY at, id", (before, mode)).fetchall()
        return [(at, bool(active)) for at, active in rows]
    finally:
        conn.close()


def _count(path: Path, start: str, end: str) -> int:
    conn = _connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM events WHERE at>=? AND at<?", (start, end)).fetchone()[0]
    finally:
        conn.close()


class MetricsReads:
    """Aggregate reads for reports; mixed into `Store`, which provides `path`. Each runs in a worker thread."""

    path: Path

    async def assessment_sums(self, slots: list[Slot], penalty: list[Period], now: datetime, first_seconds: float,
                              reply_seconds: float, idle_seconds: float) -> dict[str, Rows]:
        """Sums of the sessions that started in `slots`, as rows of keys then `SESSION_SUMS` / `TURN_SUMS`.

        ``sessions`` and ``turns`` are keyed by (day, hour, group, reason), ``sessions_by_agent`` by the
        session's last agent, ``turns_by_agent`` by the agent who answered (else who held the buyer).
        `penalty` holds the penalty periods; `now` decides which open turns and bot sessions are over.
        """
        params = {"first_limit": first_seconds, "reply_limit": reply_seconds,
                  "reply_before": codec.ts(now - timedelta(seconds=reply_seconds)),
                  "idle_before": codec.ts(now - timedelta(seconds=idle_seconds))}
        return await asyncio.to_thread(_assessment, self.path, slots, penalty, params)

    async def intent_sums(self, slots: list[Slot]) -> Rows:
        """Per session intent ('' when none): (intent, is a handover reason, sessions, rated, dissatisfied)."""
        return await asyncio.to_thread(_intents, self.path, slots)

    async def mode_changes(self, mode: str, before: datetime) -> list[tuple[datetime, bool]]:
        """Every ``mode.changed`` of `mode` before `before`, oldest first: (at, active)."""
        rows = await asyncio.to_thread(_mode_changes, self.path, mode, codec.ts(before))
        return [(datetime.fromisoformat(at), active) for at, active in rows]

    async def count_events(self, start: datetime, end: datetime) -> int:
        """How many events fall in [start, end) (the benchmark's baseline)."""
        return await asyncio.to_thread(_count, self.path, codec.ts(start), codec.ts(end))

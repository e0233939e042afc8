"""The session ledger: a per-conversation summary of the event log, written with every event.

Metrics must answer over a month of events in well under a second, so
instead of visiting every event of every session at read time, each event
is folded into two tables in the transaction that stores it
(`Transaction.add_event` appends the ops `fold` returns):

``metric_sessions``, one row per conversation, in the order they started (rowid):
    started (conversation.started), req_at / reason / req_intent (the first
    handover.requested), bot_intent (the first bot.answered), first_since
    (since_request_seconds of the first agent.replied), replies, assigned
    (count), asg_at_req (an assignment at the very instant of the first
    request), asg_group (the first assignment's group), wait_group (the first
    queued / pooled group), agent (the last assigned agent), pool_first /
    pool_last (conversation.pooled or coverage.bot_took_over), closed,
    last_at (the buyer's latest message), ratings / dissatisfied (satisfaction.rated),
    turn_open (when the buyer's current unanswered turn with a human began).
``metric_intents`` (migration 9), one row per conversation whose intent an
    agent corrected: the latest ``intent.corrected`` (null: taken back), which
    the intent analytics count instead of the bot's.
``metric_turns``, one row per finished buyer turn in the human phase, with
    its session's start, group and handover reason (so reports need no join):
    a turn opens with an assignment or a buyer message while assigned
    (message.received with status 'assigned') and ends with the next
    agent.replied (answered, by that agent) or with conversation.closed
    (unanswered, the holder's); ``wait`` is answered - opened in seconds, to
    the millisecond. A reassignment does not restart the clock.

Only raw facts are kept (times, counts), never thresholds, so any rule and
any period can be evaluated at read time. The ledger is a pure left fold of
the events in id order; migration 6 created it and folded every event
already stored. A change of the fold is a new migration that rebuilds the
tables the same way (`SOURCE` and `replay`). (Triggers would do the same,
but a trigger that calls ``json_extract`` makes SQLite keep a statement
journal for every event insert inside the store's savepoints: four times
the cost of this.) The statements run on both back-ends: flags are 0/1
integers set with CASE, and ``julianday`` and ``round`` are SQLite's
(PostgreSQL gets the same functions in its schema, `schema.py`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Iterator, Sequence

from .. import events as ev
from ..events import Event

TABLES = [
    """CREATE TABLE metric_sessions (
        id INTEGER PRIMARY KEY, conversation_id TEXT UNIQUE, started TEXT, req_at TEXT, reason TEXT,
        req_intent TEXT, bot_intent TEXT, first_since REAL, replies INTEGER DEFAULT 0, assigned INTEGER DEFAULT 0,
        asg_at_req INTEGER DEFAULT 0, asg_group TEXT, wait_group TEXT, agent TEXT, pool_first TEXT,
        pool_last TEXT, closed INTEGER DEFAULT 0, last_at TEXT, ratings INTEGER DEFAULT 0,
        dissatisfied INTEGER DEFAULT 0, turn_open TEXT)""",
    "CREATE INDEX idx_metric_sessions_started ON metric_sessions (started)",
    """CREATE TABLE metric_turns (
        id INTEGER PRIMARY KEY, conversation_id TEXT, started TEXT, grp TEXT, reason TEXT, opened TEXT,
        answered TEXT, wait REAL, agent TEXT)""",
    "CREATE INDEX idx_metric_turns_started ON metric_turns (started, grp, reason, agent, wait)",
]

_S, _ROW = "UPDATE metric_sessions SET", "WHERE conversation_id=:cid"
_END_TURN = ("INSERT INTO metric_turns (conversation_id, started, grp, reason, opened, answered, wait, agent)"
             " SELECT conversation_id, started, COALESCE(asg_group, wait_group), reason, turn_open,"
             " CAST(:answered AS TEXT),"
             " CASE WHEN :answered IS NOT NULL THEN round((julianday(:answered) - julianday(turn_open)) * 86400.0, 3)"
             f" END, COALESCE(:agent, agent) FROM metric_sessions {_ROW} AND turn_open IS NOT NULL")

# the statements of the fold, by op name (named parameters: cid, at and the event's fields)
SQL = {
    "m_start": "INSERT INTO metric_sessions (conversation_id, started, last_at) VALUES (:cid, :at, :at)"
               " ON CONFLICT (conversation_id) DO UPDATE SET"
               " started=COALESCE(metric_sessions.started, excluded.started)",
    "m_seen": f"{_S} last_at=:at {_ROW} AND last_at<:at",
    "m_requested": f"{_S} req_at=:at, reason=:reason, req_intent=:intent {_ROW} AND req_at IS NULL",
    "m_answered": f"{_S} bot_intent=:intent {_ROW} AND bot_intent IS NULL",
    "m_assigned": f"{_S} assigned=assigned+1, asg_at_req=CASE WHEN asg_at_req<>0 OR req_at=:at THEN 1 ELSE 0 END,"
                  " agent=:agent,"
                  f" asg_group=COALESCE(asg_group, :grp), turn_open=COALESCE(turn_open, :at) {_ROW}",
    "m_asked": f"{_S} turn_open=:at {_ROW} AND turn_open IS NULL",
    "m_waiting": f"{_S} wait_group=:grp {_ROW} AND wait_group IS NULL",
    "m_pooled": f"{_S} pool_first=COALESCE(pool_first, :at), pool_last=:at {_ROW}",
    "m_turn": _END_TURN,
    "m_replied": f"{_S} replies=replies+1, turn_open=NULL, first_since=CASE WHEN first_since IS NULL AND :first"
                 f" THEN :since ELSE first_since END {_ROW}",
    "m_closed": f"{_S} closed=1, turn_open=NULL {_ROW}",
    "m_corrected": "INSERT INTO metric_intents (conversation_id, intent) VALUES (:cid, :intent)"
                   " ON CONFLICT (conversation_id) DO UPDATE SET intent=excluded.intent",
    "m_rated": f"{_S} ratings=ratings+1, dissatisfied=dissatisfied+CASE WHEN :label='dissatisfied' THEN 1 ELSE 0"
               f" END {_ROW}",
}

Op = tuple[str, dict[str, Any]]


def fold(event: Event, at: str) -> list[Op]:
    """The ledger ops for one event (`at` as stored), by the type of its payload."""
    if event.conversation_id is None or event.name not in ev.KINDS:
        return []
    p: dict[str, Any] = {"cid": event.conversation_id, "at": at}
    ops: list[Op] = []
    match event.payload:
        case ev.ConversationStarted():
            ops.append(("m_start", p))
        case ev.HandoverRequested(reason=reason, intent=intent):
            ops.append(("m_requested", {**p, "reason": reason, "intent": intent}))
        case ev.BotAnswered(intent=intent):
            ops.append(("m_answered", {**p, "intent": intent}))
        case ev.ConversationAssigned(agent_id=agent, group=group):
            ops.append(("m_assigned", {**p, "agent": agent, "grp": group}))
        case ev.MessageReceived(status=status):
            ops.append(("m_seen", p))
            if status == "assigned":
                ops.append(("m_asked", p))
        case ev.AgentReplied(agent_id=agent, first=first, since_request_seconds=since):
            ops += [("m_turn", {**p, "answered": at, "agent": agent}),
                    ("m_replied", {**p, "first": first, "since": since})]
        case ev.ConversationClosed():
            ops += [("m_turn", {**p, "answered": None, "agent": None}), ("m_closed", p)]
        case ev.SatisfactionRated(label=label):
            ops.append(("m_rated", {**p, "label": label}))
        case ev.ConversationQueued(group=group):
            ops.append(("m_waiting", {**p, "grp": group}))
        case ev.ConversationPooled(group=group):
            ops += [("m_waiting", {**p, "grp": group}), ("m_pooled", p)]
        case ev.BotTookOver():
            ops.append(("m_pooled", p))
        case ev.IntentCorrected(intent=intent):
            ops.append(("m_corrected", {**p, "intent": intent}))
    return ops


SOURCE = "SELECT name, at, conversation_id, data FROM events WHERE conversation_id IS NOT NULL ORDER BY id"
# what migration 9 folds: the corrections already stored (its table is new)
CORRECTIONS = ("SELECT name, at, conversation_id, data FROM events WHERE conversation_id IS NOT NULL"
               " AND name='intent.corrected' ORDER BY id")


def replay(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The ledger's statements for the stored events `rows` (from `SOURCE`, in order): how migration 6 filled it."""
    for name, at, conversation_id, data in rows:
        event = Event(name=name, at=datetime.fromisoformat(at), conversation_id=conversation_id,
                      data=json.loads(data or "{}"))
        for op, params in fold(event, at):
            yield SQL[op], params

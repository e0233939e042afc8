"""The database schema as numbered migrations, applied once each, in order, at open."""

from __future__ import annotations

from typing import Callable

import sqlite_utils

from . import ledger


def _m001_core(db: sqlite_utils.Database) -> None:
    db["conversations"].create(
        {
            "id": str, "channel": str, "customer_id": str, "status": str, "entry": str,
            "created_at": str, "updated_at": str, "handover_reason": str, "grp": str,
        },
        pk="id",
    )
    db["conversations"].create_index(["channel", "customer_id", "status"])
    db["messages"].create(
        {
            "id": int, "conversation_id": str, "sender": str, "text": str, "created_at": str,
            "intent": str, "confidence": float, "card": str, "agent_id": str, "message_id": str, "lang": str,
        },
        pk="id",
    )
    db["messages"].create_index(["conversation_id", "id"])
    db["events"].create(
        {"id": int, "name": str, "at": str, "conversation_id": str, "customer_id": str, "data": str},
        pk="id",
    )
    db["events"].create_index(["name", "at"])
    db["events"].create_index(["conversation_id"])
    db["idempotency"].create({"key": str, "customer_id": str, "response": str, "created_at": str}, pk="key")
    db["deliveries"].create(
        {
            "id": int, "conversation_id": str, "channel": str, "payload": str, "attempts": int,
            "due_at": str, "delivered_at": str, "last_error": str, "created_at": str,
        },
        pk="id",
    )
    db["deliveries"].create_index(["delivered_at", "due_at"])


def _m002_routing(db: sqlite_utils.Database) -> None:
    conversations = db["conversations"]
    for name, kind in [
        ("intent", str), ("agent_id", str), ("priority", int), ("asked_human_at", str), ("queued_at", str),
        ("pooled_at", str), ("assigned_at", str), ("awaiting_since", str), ("reminded_at", str),
        ("last_buyer_at", str), ("first_reply_at", str), ("closed_at", str), ("rating_pending", int),
        ("lang", str), ("last_question", str),
    ]:
        conversations.add_column(name, kind)
    db.execute("UPDATE conversations SET priority=0, rating_pending=0, lang='zh'")
    conversations.create_index(["status", "grp"])
    conversations.create_index(["agent_id", "status"])
    conversations.create_index(["channel", "customer_id", "created_at"])
    db["messages"].add_column("kind", str)
    db["agent_states"].create({"id": str, "status": str, "status_at": str, "last_assigned_at": str}, pk="id")
    db["contacts"].create({"customer_key": str, "agent_id": str, "last_at": str}, pk="customer_key")
    db["pool_runs"].create(
        {"id": int, "at": str, "operator": str, "trigger": str, "considered": int, "assigned": int, "cap": int,
         "reason": str, "failures": str},
        pk="id",
    )
    db["pool_runs"].create_index(["at"])


def _m003_settings(db: sqlite_utils.Database) -> None:
    db["kv"].create({"key": str, "value": str}, pk="key")


def _m004_orders(db: sqlite_utils.Database) -> None:
    db["orders"].create(
        {"order_id": str, "customer_id": str, "status": str, "items": str, "address": str, "carrier": str,
         "tracking_no": str, "tracking_events": str, "updated_at": str},
        pk="order_id",
    )
    db["orders"].create_index(["customer_id", "updated_at"])


# Append-only: a released migration is never edited; a change is a new entry.
def _m005_skill_states(db: sqlite_utils.Database) -> None:
    db["skill_states"].create({"conversation_id": str, "skill": str, "state": str, "updated_at": str},
                              pk="conversation_id")


def _m006_metric_ledger(db: sqlite_utils.Database) -> None:
    # the session ledger behind the assessment metrics (see ledger.py), filled from the events already stored
    ledger.create(db.conn)


MIGRATIONS: list[tuple[int, Callable[[sqlite_utils.Database], None]]] = [
    (1, _m001_core), (2, _m002_routing), (3, _m003_settings), (4, _m004_orders), (5, _m005_skill_states),
    (6, _m006_metric_ledger),
]


def migrate(db: sqlite_utils.Database) -> None:
    """Apply every migration the database has not seen, each in its own transaction."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT)")
    done = {row[0] for row in db.execute("SELECT version FROM _migrations").fetchall()}
    for version, step in MIGRATIONS:
        if version in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute("INSERT INTO _migrations (version, name) VALUES (?, ?)", [version, step.__name__])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

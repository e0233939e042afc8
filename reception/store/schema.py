"""The database schema as numbered migrations, the same for both back-ends, applied once each, in order.

Each `Migration` is SQL written for SQLite; PostgreSQL runs it through
`dialect.postgres_ddl` (its column types), then the migration's
``postgresql`` statements: what SQLite has built in (its row id, the
``julianday`` and ``json_*`` functions the shared statements call). A
migration may also fill what it created from rows already stored
(`Backfill`). The ``_migrations`` table records the versions applied; a
database that records a version this code does not know was written by a
newer reception and is not opened (`check_version`).

Append-only: a released migration is never edited; a change is a new entry
at the end of `MIGRATIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from . import ledger
from .errors import StoreError

CREATE_LEDGER = "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT)"
RECORD = "INSERT INTO _migrations (version, name) VALUES (?, ?)"
APPLIED = "SELECT version FROM _migrations"


@dataclass(frozen=True)
class Backfill:
    """Rows of `source`, turned by `ops` into (statement, parameters) to run after the migration's SQL."""

    source: str
    ops: Callable[[Iterable[Sequence[Any]]], Iterable[tuple[str, Any]]]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: tuple[str, ...]
    postgresql: tuple[str, ...] = ()
    backfill: Backfill | None = None


def _rowid(table: str) -> str:
    # SQLite's implicit row id (insertion order; an upsert keeps it), which `ORDER BY …, rowid` relies on
    return f"ALTER TABLE {table} ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY"


# The SQLite functions the shared statements call, for PostgreSQL. Text in and out, as SQLite stores JSON.
# julianday rounds to the millisecond as SQLite does, so the ledger's waits are the same on both.
_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION julianday(t text) RETURNS double precision LANGUAGE sql STABLE STRICT AS"
    " $$ SELECT ((round(extract(epoch FROM t::timestamptz) * 1000) + 210866760000000) / 86400000.0)::float8 $$",
    "CREATE OR REPLACE FUNCTION round(x double precision, digits integer) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT round(x::numeric, digits)::float8 $$",
    "CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS"
    " $$ SELECT doc::jsonb #>> string_to_array(substr(path, 3), '.') $$",
    "CREATE OR REPLACE FUNCTION json_type(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS"
    " $$ SELECT CASE jsonb_typeof(v) WHEN 'boolean' THEN v::text WHEN 'string' THEN 'text'"
    " WHEN 'number' THEN CASE WHEN v::text ~ '^-?[0-9]+$' THEN 'integer' ELSE 'real' END"
    " ELSE jsonb_typeof(v) END FROM (SELECT doc::jsonb #> string_to_array(substr(path, 3), '.') AS v) AS found $$",
    "CREATE OR REPLACE FUNCTION json_remove(doc text, VARIADIC paths text[]) RETURNS text LANGUAGE sql IMMUTABLE"
    " STRICT AS $$ SELECT (doc::jsonb - ARRAY(SELECT substr(p, 3) FROM unnest(paths) AS p))::text $$",
)

_CONVERSATION_COLUMNS = ("intent TEXT", "agent_id TEXT", "priority INTEGER", "asked_human_at TEXT", "queued_at TEXT",
                         "pooled_at TEXT", "assigned_at TEXT", "awaiting_since TEXT", "reminded_at TEXT",
                         "last_buyer_at TEXT", "first_reply_at TEXT", "closed_at TEXT", "rating_pending INTEGER",
                         "lang TEXT", "last_question TEXT")

MIGRATIONS: list[Migration] = [
    Migration(1, "core", (
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, channel TEXT, customer_id TEXT, status TEXT, entry TEXT,"
        " created_at TEXT, updated_at TEXT, handover_reason TEXT, grp TEXT)",
        "CREATE INDEX idx_conversations_channel_customer_id_status ON conversations (channel, customer_id, status)",
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id TEXT, sender TEXT, text TEXT,"
        " created_at TEXT, intent TEXT, confidence REAL, card TEXT, agent_id TEXT, message_id TEXT, lang TEXT)",
        "CREATE INDEX idx_messages_conversation_id_id ON messages (conversation_id, id)",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT, at TEXT, conversation_id TEXT, customer_id TEXT,"
        " data TEXT)",
        "CREATE INDEX idx_events_name_at ON events (name, at)",
        "CREATE INDEX idx_events_conversation_id ON events (conversation_id)",
        "CREATE TABLE idempotency (key TEXT PRIMARY KEY, customer_id TEXT, response TEXT, created_at TEXT)",
        "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, conversation_id TEXT, channel TEXT, payload TEXT,"
        " attempts INTEGER, due_at TEXT, delivered_at TEXT, last_error TEXT, created_at TEXT)",
        "CREATE INDEX idx_deliveries_delivered_at_due_at ON deliveries (delivered_at, due_at)",
    ), postgresql=(*_FUNCTIONS, _rowid("conversations"))),
    Migration(2, "routing", (
        *(f"ALTER TABLE conversations ADD COLUMN {column}" for column in _CONVERSATION_COLUMNS),
        "UPDATE conversations SET priority=0, rating_pending=0, lang='zh'",
        "CREATE INDEX idx_conversations_status_grp ON conversations (status, grp)",
        "CREATE INDEX idx_conversations_agent_id_status ON conversations (agent_id, status)",
        "CREATE INDEX idx_conversations_channel_customer_id_created_at ON conversations"
        " (channel, customer_id, created_at)",
        "ALTER TABLE messages ADD COLUMN kind TEXT",
        "CREATE TABLE agent_states (id TEXT PRIMARY KEY, status TEXT, status_at TEXT, last_assigned_at TEXT)",
        "CREATE TABLE contacts (customer_key TEXT PRIMARY KEY, agent_id TEXT, last_at TEXT)",
        "CREATE TABLE pool_runs (id INTEGER PRIMARY KEY, at TEXT, operator TEXT, trigger TEXT, considered INTEGER,"
        " assigned INTEGER, cap INTEGER, reason TEXT, failures TEXT)",
        "CREATE INDEX idx_pool_runs_at ON pool_runs (at)",
    )),
    Migration(3, "settings", ("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)",)),
    Migration(4, "orders", (
        "CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT, status TEXT, items TEXT, address TEXT,"
        " carrier TEXT, tracking_no TEXT, tracking_events TEXT, updated_at TEXT)",
        "CREATE INDEX idx_orders_customer_id_updated_at ON orders (customer_id, updated_at)",
    ), postgresql=(_rowid("orders"),)),
    Migration(5, "skill_states", (
        "CREATE TABLE skill_states (conversation_id TEXT PRIMARY KEY, skill TEXT, state TEXT, updated_at TEXT)",
    )),
    # the session ledger behind the assessment metrics, filled from the events already stored
    Migration(6, "metric_ledger", tuple(ledger.TABLES), backfill=Backfill(ledger.SOURCE, ledger.replay)),
    # several instances on one database (store/pgcluster.py): the shop's routing version, and on every
    # conversation and agent-state row the version that last wrote it, so an instance catches up on what the
    # others decided by reading only those rows (SQLite, one process, keeps them at 0)
    Migration(7, "routing_version", (
        "ALTER TABLE conversations ADD COLUMN rseq BIGINT DEFAULT 0",
        "ALTER TABLE agent_states ADD COLUMN rseq BIGINT DEFAULT 0",
        "UPDATE conversations SET rseq=0",
        "UPDATE agent_states SET rseq=0",
        "CREATE INDEX idx_conversations_rseq ON conversations (rseq)",
        "CREATE INDEX idx_agent_states_rseq ON agent_states (rseq)",
        "CREATE TABLE routing_version (id INTEGER PRIMARY KEY, version BIGINT)",
        "INSERT INTO routing_version (id, version) VALUES (1, 0)",
    )),
    # photos in messages (reception.media): the files live outside the database, under an unguessable id; a
    # row says whose conversation a file belongs to (who may see it), who sent it and what it is
    Migration(8, "media", (
        "CREATE TABLE media (id TEXT PRIMARY KEY, conversation_id TEXT, sender TEXT, uploader TEXT, mime TEXT,"
        " size INTEGER, width INTEGER, height INTEGER, created_at TEXT)",
        "CREATE INDEX idx_media_conversation_id ON media (conversation_id)",
        "CREATE INDEX idx_media_created_at ON media (created_at)",
        "ALTER TABLE messages ADD COLUMN image TEXT",
    )),
    # agents' internal notes and tags on a conversation (never shown to the buyer), the intent they corrected
    # (``intent.corrected``, folded into the ledger's new table, which the intent analytics prefer), and
    # the index conversation search orders by (reception.routing.search_api)
    Migration(9, "notes", (
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, conversation_id TEXT, author TEXT, text TEXT, created_at TEXT)",
        "CREATE INDEX idx_notes_conversation_id ON notes (conversation_id, id)",
        "CREATE TABLE conversation_labels (conversation_id TEXT PRIMARY KEY, tags TEXT, intent TEXT,"
        " updated_by TEXT, updated_at TEXT)",
        "CREATE TABLE metric_intents (conversation_id TEXT PRIMARY KEY, intent TEXT)",
        "CREATE INDEX idx_conversations_created_at ON conversations (created_at)",
    ), backfill=Backfill(ledger.CORRECTIONS, ledger.replay)),
    # how far each side has read a conversation (the message id, only ever moving forward): the agent's (the
    # workbench's unread counts) and the buyer's (read receipts under the agent's messages); no personal data
    Migration(10, "read_marks", (
        "CREATE TABLE read_marks (conversation_id TEXT, reader TEXT, seq BIGINT, at TEXT,"
        " PRIMARY KEY (conversation_id, reader))",
    )),
]

LATEST = MIGRATIONS[-1].version


def pending(applied: Iterable[int], where: str) -> list[Migration]:
    """The migrations `applied` lacks, in order; a version this code does not know refuses the database."""
    done = set(applied)
    newest = max(done, default=0)
    if newest > LATEST:
        raise StoreError(f"{where} was written by a newer reception: schema {newest}, this version knows {LATEST}")
    return [m for m in MIGRATIONS if m.version not in done]

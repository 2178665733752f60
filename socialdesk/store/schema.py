"""The SQLite schema, as ordered named migrations.

Called by ``socialdesk.store.migrations`` (which applies what is pending inside a transaction and
records it in ``schema_migrations``). Never edit a migration that has shipped: add the next one.

Two kinds of tables with different value (notmuch's lesson, STYLE.md §9):

- **cache** (re-fetchable from the Graph API): ``pages``, ``customers``, ``posts``, ``threads``,
  ``messages`` and the FTS5 index ``messages_fts``.
- **operator state** (cannot be re-fetched; exported by ``state export``): ``thread_numbers``,
  ``thread_state``, ``thread_tags``, ``triage_log``, ``outbox``, ``watermarks``, ``sync_log``.
- **local facts** (neither fetched nor exported): ``outbox_meta`` (this database's identity
  and keys), ``message_echoes`` (sent messages not yet read back), ``token_pages``.

All times are integer Unix seconds (UTC). Every row carries its ``page_id``.

Derived thread columns (``last_message_at``, ``last_inbound_at``, ``last_outbound_at``,
``awaiting_reply``, ``request_at``, ``snippet``) are recomputed from ``messages`` by the store
whenever a page of messages is upserted, so listing never scans messages.
"""

from __future__ import annotations

M001_INITIAL = """
CREATE TABLE pages (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL
);

CREATE TABLE customers (
    page_id     TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (page_id, id)
);

CREATE TABLE posts (
    id          TEXT PRIMARY KEY,
    page_id     TEXT NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    permalink   TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER
);
CREATE INDEX posts_page_created ON posts (page_id, created_at);

-- One row per thread: a Messenger conversation (channel 'dm') or a top-level comment with its
-- replies (channel 'comment', id = the comment id, post_id = its post).
CREATE TABLE threads (
    id                TEXT PRIMARY KEY,
    page_id           TEXT NOT NULL,
    channel           TEXT NOT NULL,
    customer_id       TEXT NOT NULL DEFAULT '',
    customer_name     TEXT NOT NULL DEFAULT '',
    post_id           TEXT,
    graph_updated_at  INTEGER,           -- conversation updated_time as last seen
    message_count     INTEGER,           -- conversation message_count as last seen
    last_message_at   INTEGER NOT NULL DEFAULT 0,
    last_inbound_at   INTEGER,
    last_outbound_at  INTEGER,
    awaiting_reply    INTEGER NOT NULL DEFAULT 0,
    request_at        INTEGER,           -- first inbound since the last outbound, when awaiting
    snippet           TEXT NOT NULL DEFAULT '',
    is_hidden         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX threads_page_last ON threads (page_id, last_message_at);
CREATE INDEX threads_awaiting ON threads (page_id, awaiting_reply, request_at);
CREATE INDEX threads_customer ON threads (page_id, customer_id);

CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    thread_id     TEXT NOT NULL REFERENCES threads (id),
    page_id       TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    author_id     TEXT NOT NULL DEFAULT '',
    author_name   TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT '',
    attachments   TEXT NOT NULL DEFAULT '[]',  -- JSON list of {kind, url, name, mime_type}
    parent_id     TEXT,
    is_hidden     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    via_socialdesk INTEGER NOT NULL DEFAULT 0  -- an outbound message sent by our outbox
);
CREATE INDEX messages_thread_created ON messages (thread_id, created_at);
CREATE INDEX messages_page_created ON messages (page_id, created_at);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, author_name, content = 'messages', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text, author_name)
    VALUES (new.rowid, new.text, new.author_name);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, author_name)
    VALUES ('delete', old.rowid, old.text, old.author_name);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF text, author_name ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, author_name)
    VALUES ('delete', old.rowid, old.text, old.author_name);
    INSERT INTO messages_fts (rowid, text, author_name)
    VALUES (new.rowid, new.text, new.author_name);
END;

-- ---- operator state ------------------------------------------------------------------------

-- Local numbers are never reused: AUTOINCREMENT guarantees it even after deletes.
CREATE TABLE thread_numbers (
    number      INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id   TEXT NOT NULL UNIQUE,
    page_id     TEXT NOT NULL
);

CREATE TABLE thread_state (
    thread_id      TEXT PRIMARY KEY,
    page_id        TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'snoozed')),
    snoozed_until  INTEGER,
    note           TEXT,
    done_at        INTEGER,
    updated_at     INTEGER NOT NULL,
    status_at      INTEGER            -- when status last changed (auto-reopen compares with it)
);
CREATE INDEX thread_state_status ON thread_state (page_id, status);

CREATE TABLE thread_tags (
    thread_id   TEXT NOT NULL,
    page_id     TEXT NOT NULL,
    tag         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (thread_id, tag)
);
CREATE INDEX thread_tags_tag ON thread_tags (page_id, tag);

-- Every triage action (done, reopen, snooze, tag, untag, note), for stats ('done that day') and
-- undo in the inbox. action: done|reopen|snooze|tag|untag|note|auto_reopen
CREATE TABLE triage_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id   TEXT NOT NULL,
    page_id     TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX triage_log_page_at ON triage_log (page_id, action, at);

-- The outbox: intent committed (synchronous=FULL) before the HTTP call, outcome after it.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id      TEXT NOT NULL,
    thread_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,    -- models.SendKind
    text         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
    origin       TEXT NOT NULL DEFAULT 'reply',   -- reply | ack
    batch        TEXT,             -- ack run / plan id
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    message_id   TEXT,
    error        TEXT
);
CREATE INDEX outbox_state ON outbox (state);
CREATE INDEX outbox_thread ON outbox (thread_id, state);

-- Sync progress: one watermark per (page, edge, key), advanced in the same transaction as the
-- rows of the page of results that justifies it. Never a cursor.
CREATE TABLE watermarks (
    page_id     TEXT NOT NULL,
    edge        TEXT NOT NULL,    -- conversations | feed | ...
    key         TEXT NOT NULL DEFAULT '',
    value_at    INTEGER,          -- a time watermark (Unix seconds)
    value_id    TEXT,             -- an id watermark
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (page_id, edge, key)
);

-- One row per finished sync of one edge: doctor's "last successful sync per edge".
CREATE TABLE sync_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id      TEXT NOT NULL,
    edge         TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0,
    error        TEXT
);
CREATE INDEX sync_log_page_edge ON sync_log (page_id, edge, finished_at);
"""

M002_OUTBOX_SIDE_TABLES = """
-- Key/value facts of this database: 'db_id' (a random identity that ack plan files carry) and
-- 'plan_key' (the HMAC key that signs ack plans). Never exported.
CREATE TABLE IF NOT EXISTS outbox_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
-- What only the operator's review of an `unknown` send adds: when reading the thread back showed
-- the message absent, and how the operator resolved it ('resent:ID' or 'dropped').
CREATE TABLE IF NOT EXISTS outbox_review (
    outbox_id    INTEGER PRIMARY KEY,
    absent_at    INTEGER,
    resolution   TEXT,
    resolved_at  INTEGER
);
"""

M003_PAGE_DISPLAY_NAME = """
-- The Page's own name as the API reports it (GET /me), for the {page} template placeholder;
-- pages.name stays the config slug because page:NAME queries match it. '' until known.
ALTER TABLE pages ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
"""

M004_APP_LAYER = """
-- When the operator last saw the thread (the inbox's unread marker): unread = awaiting reply
-- with a customer message newer than this (NULL: never seen).
ALTER TABLE thread_state ADD COLUMN seen_at INTEGER;
-- An undone triage action keeps its log row (history) but stops counting (stats' 'done').
ALTER TABLE triage_log ADD COLUMN undone_at INTEGER;
-- A send's effects as columns, not string suffixes: mark the thread done once the send is
-- confirmed (was batch '…+done'); the platform refused it (was error 'refused by the API: …').
ALTER TABLE outbox ADD COLUMN done_on_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET done_on_sent = 1, batch = NULLIF(substr(batch, 1, length(batch) - 5), '')
 WHERE batch LIKE '%+done';
UPDATE outbox SET refused = 1, error = substr(error, 21) WHERE error LIKE 'refused by the API: %';
-- Local echo (cache): a message sent by the outbox, recorded in its thread at once; the row
-- goes when a sync reads the message back (same Graph id, so never a duplicate message).
CREATE TABLE message_echoes (
    message_id  TEXT PRIMARY KEY,
    thread_id   TEXT NOT NULL,
    page_id     TEXT NOT NULL,
    outbox_id   INTEGER,
    echoed_at   INTEGER NOT NULL
);
-- The page a token belongs to, by a keyed fingerprint of the token (never the token): commands
-- run with SOCIALDESK_TOKEN alone know their page without asking GET /me again.
CREATE TABLE token_pages (
    fingerprint  TEXT PRIMARY KEY,
    page_id      TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    seen_at      INTEGER NOT NULL
);
"""

M005_SYNC_FIDELITY = """
-- Issue 8 (core/sync.py, store/cache.py, store/watermarks.py). A post's kind ('post' from /feed,
-- 'reel' from /video_reels) and Graph's comment count (summary.total_count) at the last walk
-- that read all of its comments: a later count that differs tells sync to walk them again.
ALTER TABLE posts ADD COLUMN kind TEXT NOT NULL DEFAULT 'post';
ALTER TABLE posts ADD COLUMN comments_total INTEGER;
-- A comment's private-reply facts as Graph reports them (NULL: not reported): a private reply
-- sent from anywhere (Meta's inbox too) shows here, so core can refuse a second one.
ALTER TABLE messages ADD COLUMN can_reply_privately INTEGER;
ALTER TABLE messages ADD COLUMN private_reply_conversation TEXT;
-- Per edge and run: the failure's hint, machine reason and exit code, the items skipped as
-- unreadable (count and first descriptions, JSON), and the usage headers at the end (JSON).
ALTER TABLE sync_log ADD COLUMN hint TEXT;
ALTER TABLE sync_log ADD COLUMN reason TEXT;
ALTER TABLE sync_log ADD COLUMN exit_code INTEGER;
ALTER TABLE sync_log ADD COLUMN skipped_items INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_log ADD COLUMN problems TEXT;
ALTER TABLE sync_log ADD COLUMN usage TEXT;
"""

M006_INSTAGRAM = """
-- Issue 13 (docs/INSTAGRAM_API.md). The Instagram professional account linked to the Page, as
-- discovery found it (instagram_business_account, else connected_instagram_account): its IG user
-- id is the node of media and comments. ig_checked_at: when discovery last ran (NULL: never;
-- a checked Page without an account keeps ig_user_id NULL and works as before).
ALTER TABLE pages ADD COLUMN ig_user_id TEXT;
ALTER TABLE pages ADD COLUMN ig_username TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN ig_source TEXT;
ALTER TABLE pages ADD COLUMN ig_checked_at INTEGER;
-- Instagram people: an IG-scoped id (customers.id) and a mutable username; no name until the
-- User Profile API gives one (customers.name stays '').
ALTER TABLE customers ADD COLUMN username TEXT NOT NULL DEFAULT '';
ALTER TABLE threads ADD COLUMN customer_username TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN author_username TEXT NOT NULL DEFAULT '';
-- A media's comments_count as Graph reported it is posts.comments_total (kind 'ig_media'):
-- comments are re-read only for media whose count differs from it.
-- Gap markers: more than 20 messages arrived in an Instagram thread between two syncs, so the
-- ones between after_at (newest held before) and before_at (oldest now read) are unreadable.
CREATE TABLE thread_gaps (
    thread_id   TEXT NOT NULL,
    page_id     TEXT NOT NULL,
    after_at    INTEGER NOT NULL,
    before_at   INTEGER NOT NULL,
    found_at    INTEGER NOT NULL,
    PRIMARY KEY (thread_id, before_at)
);
"""

M007_RULES = """
-- Issue 14 (core/rules, store/rules.py). Operator state: the rules' ledger cannot be re-fetched.
-- When each rule (by its digest: conditions and actions) last went live or shadow on a page: a
-- rule acts only on requests that began at or after this (never on history).
CREATE TABLE rule_versions (
    page_id  TEXT NOT NULL,
    rule     TEXT NOT NULL,
    digest   TEXT NOT NULL,
    state    TEXT NOT NULL,
    since    INTEGER NOT NULL,
    PRIMARY KEY (page_id, rule)
);
-- One row per `rules run` (dry runs write none).
CREATE TABLE rule_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id      TEXT NOT NULL,
    trigger      TEXT NOT NULL,          -- manual | after_sync
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    candidates   INTEGER NOT NULL DEFAULT 0,
    fired        INTEGER NOT NULL DEFAULT 0,
    sent         INTEGER NOT NULL DEFAULT 0,
    would        INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    stopped      TEXT                    -- why the run ended early (a pause, an auth error)
);
-- The ledger and audit log: outcome fired (acted; written in the transaction of the action
-- or of the outbox row), would (shadow), skipped (with its reason), failed.
CREATE TABLE rule_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER,
    page_id       TEXT NOT NULL,
    rule          TEXT NOT NULL,
    thread_id     TEXT NOT NULL,
    customer_key  TEXT NOT NULL,
    anchor_id     TEXT,
    once_key      TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    reason        TEXT,
    actions       TEXT NOT NULL DEFAULT '',
    outbox_id     INTEGER,
    at            INTEGER NOT NULL
);
-- Never twice: one fired row per (page, rule, once key). once_key is NOT NULL on purpose
-- (SQLite treats NULLs as distinct in a unique index).
CREATE UNIQUE INDEX rule_ledger ON rule_events (page_id, rule, once_key) WHERE outcome = 'fired';
CREATE INDEX rule_events_thread ON rule_events (thread_id, rule);
CREATE INDEX rule_events_rule ON rule_events (page_id, rule, at);
CREATE INDEX rule_events_customer ON rule_events (page_id, rule, customer_key, at);
-- Per page: the highest messages.rowid a run considered, and the pause (the database kill
-- switch: paused_by is 'operator' or 'trip' for an automatic pause).
CREATE TABLE rules_state (
    page_id       TEXT PRIMARY KEY,
    watermark     INTEGER,
    paused_at     INTEGER,
    paused_by     TEXT,
    pause_reason  TEXT,
    paused_until  INTEGER
);
-- Matches deferred by a limit that may lift (a human just replied, a per-run cap): offered
-- again to the next run until they expire.
CREATE TABLE rule_pending (
    page_id     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (page_id, rule, thread_id)
);
-- is:unanswered and said: ask "which outbox row claims this message" per message.
CREATE INDEX IF NOT EXISTS outbox_message ON outbox (message_id);
"""

M008_PRIVATE_REPLY_PER_COMMENT = """
-- Issue 8: a private reply answers ONE comment (the thread's top-level comment or a reply in it),
-- and its once-only rule and 7 days belong to that comment (GRAPH_API.md §5.4, §21.11). Rows
-- written before this migration answered the thread's top-level comment.
ALTER TABLE outbox ADD COLUMN comment_id TEXT;
UPDATE outbox SET comment_id = thread_id WHERE kind = 'comment_private';
CREATE INDEX outbox_comment ON outbox (comment_id) WHERE comment_id IS NOT NULL;
-- The few comments Graph shows answered privately (from anywhere), by thread: the reply window
-- (store.query.CLOSES_SQL) probes it for every recent comment thread.
CREATE INDEX messages_private_replied ON messages (thread_id)
    WHERE private_reply_conversation IS NOT NULL;
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_outbox_side_tables", M002_OUTBOX_SIDE_TABLES),
    ("m003_page_display_name", M003_PAGE_DISPLAY_NAME),
    ("m004_app_layer", M004_APP_LAYER),
    ("m005_sync_fidelity", M005_SYNC_FIDELITY),
    ("m006_instagram", M006_INSTAGRAM),
    ("m007_rules", M007_RULES),
    ("m008_private_reply_per_comment", M008_PRIVATE_REPLY_PER_COMMENT),
]
"""Ordered (name, SQL script) pairs; applied in order, each in one transaction."""

//! The database schema as an append-only list of migrations.
//!
//! Never edit a migration that has shipped: add a new one at the end (rusqlite_migration records the
//! applied version in SQLite's `user_version`). Times are INTEGER Unix seconds, always UTC.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
    ])
}

const V1: &str = r#"
CREATE TABLE sources (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    list_url      TEXT NOT NULL,
    created       INTEGER NOT NULL,
    first_success INTEGER            -- the baseline poll: items stored then are never mailed
);

CREATE TABLE items (
    id               TEXT PRIMARY KEY,   -- from the canonical URL, see store::item_id
    url              TEXT NOT NULL,
    title            TEXT NOT NULL,
    published        INTEGER,            -- from the article, else the list, else the URL
    first_seen       INTEGER NOT NULL,
    updated          INTEGER NOT NULL,   -- last real change of title or content
    content_html     TEXT,               -- sanitized article body
    summary          TEXT,               -- plain-text start of the body
    origin           TEXT,               -- 来源
    author           TEXT,
    attachments      TEXT NOT NULL DEFAULT '[]',  -- JSON [{name, url, mime}]
    content_hash     TEXT,
    article_status   TEXT NOT NULL,      -- ok | failed | external | skipped
    article_attempts INTEGER NOT NULL DEFAULT 0,
    article_error    TEXT
);

CREATE TABLE item_sources (
    source_id  TEXT NOT NULL REFERENCES sources(id),
    item_id    TEXT NOT NULL REFERENCES items(id),
    first_seen INTEGER NOT NULL,
    baseline   INTEGER NOT NULL,         -- 1 when stored by the source's first successful poll
    PRIMARY KEY (source_id, item_id)
) WITHOUT ROWID;
CREATE INDEX item_sources_item ON item_sources(item_id);

CREATE TABLE validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    saved         INTEGER NOT NULL
);

CREATE TABLE polls (
    id               INTEGER PRIMARY KEY,
    source_id        TEXT NOT NULL,
    started          INTEGER NOT NULL,
    finished         INTEGER NOT NULL,
    outcome          TEXT NOT NULL,      -- ok | not_modified | failed
    pages            INTEGER NOT NULL DEFAULT 0,
    items_seen       INTEGER NOT NULL DEFAULT 0,
    items_new        INTEGER NOT NULL DEFAULT 0,
    articles_fetched INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX polls_source ON polls(source_id, started);

CREATE TABLE robots (
    host    TEXT PRIMARY KEY,            -- scheme://host:port
    status  INTEGER NOT NULL,
    body    BLOB NOT NULL,
    fetched INTEGER NOT NULL
);

CREATE TABLE host_pauses (
    host   TEXT PRIMARY KEY,
    until  INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"#;

/// Subscribers, the outbox and which items each subscriber has been sent.
const V2: &str = r#"
CREATE TABLE subscribers (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    status      TEXT NOT NULL,            -- pending | active | unsubscribed | suspended
    schedule    TEXT NOT NULL,            -- daily | weekly | immediate
    created     INTEGER NOT NULL,
    since       INTEGER NOT NULL,         -- items first seen after this are theirs
    last_run    INTEGER,                  -- when their digest was last due and composed
    failures    INTEGER NOT NULL DEFAULT 0  -- permanent delivery failures in a row
);

CREATE TABLE subscriber_sources (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    source_id     TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, source_id)
) WITHOUT ROWID;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    created      INTEGER NOT NULL,
    recipient    TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    message      BLOB NOT NULL,           -- the whole RFC 5322 message, composed once
    items        INTEGER NOT NULL,
    status       TEXT NOT NULL,           -- queued | sent | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT,
    sent         INTEGER
);
CREATE INDEX outbox_queue ON outbox(status, next_attempt);

-- An item is taken for a subscriber once, by the digest that carries it.
CREATE TABLE digest_items (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    item_id       TEXT NOT NULL,
    outbox_id     INTEGER NOT NULL,
    PRIMARY KEY (subscriber_id, item_id)
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Feeds read the newest items first: an index in exactly that order lets a 50-item feed stop after
/// 50 matches instead of sorting every item (the ORDER BY in store::feeds must match it).
const V3: &str = r#"
CREATE INDEX items_recent ON items(COALESCE(published, first_seen) DESC, id);
"#;

/// The daemon mails staff once when a source starts failing and once when it recovers; what was
/// announced survives restarts, so a crash loop never repeats an alert.
const V4: &str = r#"
CREATE TABLE alerts (
    source_id     TEXT PRIMARY KEY,
    failing_since INTEGER NOT NULL,
    alerted       INTEGER NOT NULL
);
CREATE INDEX polls_outcome ON polls(source_id, id);
"#;

/// The public page's double opt-in: when each address was last sent a confirmation mail (at most
/// one an hour, whatever the address's state, so the form cannot be used to bomb a mailbox).
const V5: &str = r#"
CREATE TABLE confirmations (
    email     TEXT PRIMARY KEY COLLATE NOCASE,
    last_sent INTEGER NOT NULL
);
"#;

/// A subscriber's outbox rows by subscriber: their last delivery (`Store::subscriber_by_id`, on
/// every manage page and digest) and the cascade when they are removed read these, and without an
/// index each scanned the whole outbox, which grows by one row per digest sent.
const V6: &str = r#"
CREATE INDEX outbox_subscriber ON outbox(subscriber_id, status, sent);
"#;

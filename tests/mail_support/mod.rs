//! A portal state with mailable items, made through the store API (no HTTP): two sources whose
//! baseline poll stored 2 items each, subscribers, then a poll that brought 3 new items to each
//! source. Used by tests/mail_crash.rs.

#![allow(dead_code)]

use chrono::Utc;
use portalfeed::store::{ArticleContent, ArticleOutcome, ItemRecord, PollRecord, Store};
use url::Url;

use crate::common::{Setup, source};

pub const FROM: &str = "城中区政务信息订阅 <subscribe@example.gov.cn>";

/// A config with two sources and `[email]` sending to `smtp_url`, followed by `extra` (e.g. an
/// `[email.dkim]` table).
pub fn setup(smtp_url: &str, extra: &str) -> Setup {
    let sources = format!(
        "{}{}",
        source(
            "leadership",
            "http://127.0.0.1:9/ldhd.htm",
            "title = \"领导活动\""
        ),
        source(
            "notices",
            "http://127.0.0.1:9/tzgg.htm",
            "title = \"通知公告\""
        ),
    );
    Setup::new(&format!(
        "{sources}\n[email]\nsmtp_url = \"{smtp_url}\"\nfrom = \"{FROM}\"\n\
         secret = \"test-secret-0123456789\"\n{extra}\n"
    ))
}

fn poll(store: &Store, source: &str, items: std::ops::Range<usize>) {
    let items = items
        .map(|k| ItemRecord {
            url: Url::parse(&format!("http://127.0.0.1:9/{source}/{k}.htm")).expect("url"),
            title: format!("{source} 第{k}号通知：关于做好冬季供暖保障工作的通知"),
            published: Some(Utc::now()),
            article: ArticleOutcome::Fetched(ArticleContent {
                summary: "各街道、社区要充分发挥网格员作用，做到底数清、情况明。".into(),
                content_html: "<p>正文</p>".into(),
                origin: Some("区政府办公室".into()),
                ..ArticleContent::default()
            }),
        })
        .collect();
    store
        .record_poll(&PollRecord {
            source_id: source.into(),
            started: Utc::now(),
            pages: 1,
            not_modified: false,
            items,
            validators: Vec::new(),
        })
        .expect("record poll");
}

/// Baseline polls, the subscribers (immediate digests of both sources), then new items.
pub fn mailable(setup: &Setup, subscribers: &[&str]) {
    let config = setup.config();
    let store = setup.store();
    store
        .sync_sources(
            config
                .sources
                .iter()
                .map(|s| (s.id.as_str(), s.title.as_str(), s.list_url.as_str())),
        )
        .expect("sync sources");
    for s in ["leadership", "notices"] {
        poll(&store, s, 0..2);
    }
    let both = vec!["leadership".to_string(), "notices".to_string()];
    for email in subscribers {
        store
            .upsert_subscriber(email, &both, "immediate", "active")
            .expect("subscriber");
    }
    for s in ["leadership", "notices"] {
        poll(&store, s, 2..5);
    }
}

/// Every outbox row: (id, status, Message-ID, message bytes), read through a read-only connection.
pub fn outbox(setup: &Setup) -> Vec<(i64, String, String, Vec<u8>)> {
    let conn = rusqlite::Connection::open_with_flags(
        setup.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the database read-only");
    let mut stmt = conn
        .prepare("SELECT id, status, message_id, message FROM outbox ORDER BY id")
        .expect("outbox query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("outbox rows")
        .collect::<Result<_, _>>()
        .expect("outbox rows")
}

/// Whether `received` (as the SMTP server kept it) is the stored message `stored`: lettre ends the
/// data with CRLF `.` CRLF after the message, so the server sees one more CRLF at the end.
pub fn same_message(received: &[u8], stored: &[u8]) -> bool {
    received.strip_suffix(b"\r\n") == Some(stored)
}

//! Store behaviour on real temporary SQLite files.

use chrono::{TimeZone, Utc};
use url::Url;

use super::*;

fn temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    store
        .sync_sources([
            ("a", "A", "https://x.gov.cn/a.htm"),
            ("b", "B", "https://x.gov.cn/b.htm"),
        ])
        .unwrap();
    (dir, store)
}

fn item(path: &str, outcome: ArticleOutcome) -> ItemRecord {
    ItemRecord {
        url: Url::parse(&format!("https://x.gov.cn{path}")).unwrap(),
        title: format!("标题 {path}"),
        published: Some(Utc.with_ymd_and_hms(2024, 3, 5, 0, 42, 0).unwrap()),
        article: outcome,
    }
}

fn fetched(body: &str) -> ArticleOutcome {
    ArticleOutcome::Fetched(ArticleContent {
        content_html: format!("<p>{body}</p>"),
        summary: body.into(),
        ..Default::default()
    })
}

fn poll(source: &str, items: Vec<ItemRecord>) -> PollRecord {
    PollRecord {
        source_id: source.into(),
        started: Utc::now(),
        pages: 1,
        not_modified: false,
        items,
        validators: vec![],
    }
}

#[test]
fn item_ids_ignore_scheme_and_fragment_but_not_path_or_query() {
    let id = |u: &str| item_id(&Url::parse(u).unwrap());
    assert_eq!(
        id("http://x.gov.cn/info/1/2.htm"),
        id("https://x.gov.cn/info/1/2.htm#top")
    );
    assert_ne!(
        id("https://x.gov.cn/info/1/2.htm"),
        id("https://x.gov.cn/info/1/3.htm")
    );
    assert_ne!(
        id("https://x.gov.cn/c.jsp?id=1"),
        id("https://x.gov.cn/c.jsp?id=2")
    );
    assert_eq!(id("https://x.gov.cn/a").len(), 32);
}

#[test]
fn re_polling_never_duplicates_and_only_the_first_poll_is_the_baseline() {
    let (_dir, store) = temp();
    let first = store
        .record_poll(&poll(
            "a",
            vec![item("/1.htm", fetched("一")), item("/2.htm", fetched("二"))],
        ))
        .unwrap();
    assert_eq!(
        (first.items_seen, first.items_new, first.articles_fetched),
        (2, 2, 2)
    );
    let again = store
        .record_poll(&poll(
            "a",
            vec![
                item("/1.htm", ArticleOutcome::Unchanged),
                item("/3.htm", fetched("三")),
            ],
        ))
        .unwrap();
    assert_eq!((again.items_seen, again.items_new), (2, 1));
    assert_eq!(store.item_count().unwrap(), 3);
    let conn = store.conn().unwrap();
    let baseline: Vec<(String, bool)> = conn
        .prepare("SELECT i.url, s.baseline FROM item_sources s JOIN items i ON i.id = s.item_id ORDER BY i.url")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        baseline.iter().map(|(_, b)| *b).collect::<Vec<_>>(),
        [true, true, false]
    );
}

#[test]
fn an_item_in_two_sources_is_stored_once_and_listed_by_both() {
    let (_dir, store) = temp();
    store
        .record_poll(&poll("a", vec![item("/1.htm", fetched("一"))]))
        .unwrap();
    let b = store
        .record_poll(&poll("b", vec![item("/1.htm", ArticleOutcome::Unchanged)]))
        .unwrap();
    assert_eq!(b.items_new, 1, "new to source b");
    assert_eq!(store.item_count().unwrap(), 1);
    assert_eq!(
        store.source_items("b", 10).unwrap()[0]
            .content_html
            .as_deref(),
        Some("<p>一</p>")
    );
}

#[test]
fn updated_moves_only_when_the_content_really_changes() {
    let (_dir, store) = temp();
    store
        .record_poll(&poll(
            "a",
            vec![item("/1.htm", ArticleOutcome::Failed("status 500".into()))],
        ))
        .unwrap();
    let failed = &store.source_items("a", 10).unwrap()[0];
    assert_eq!(
        (failed.article_status.as_str(), failed.article_attempts),
        ("failed", 1)
    );
    assert_eq!(store.article_retries("a").unwrap().len(), 1);
    store
        .record_poll(&poll("a", vec![item("/1.htm", fetched("一"))]))
        .unwrap();
    let ok = store.source_items("a", 10).unwrap()[0].clone();
    assert_eq!(ok.article_status, "ok");
    assert!(store.article_retries("a").unwrap().is_empty());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    store
        .record_poll(&poll("a", vec![item("/1.htm", fetched("一"))]))
        .unwrap();
    assert_eq!(
        store.source_items("a", 10).unwrap()[0].updated,
        ok.updated,
        "same content"
    );
    store
        .record_poll(&poll("a", vec![item("/1.htm", fetched("一，更正"))]))
        .unwrap();
    assert!(
        store.source_items("a", 10).unwrap()[0].updated > ok.updated,
        "edited content"
    );
}

#[test]
fn two_connections_on_one_file_both_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    writer
        .sync_sources([("a", "A", "https://x.gov.cn/a.htm")])
        .unwrap();
    let handle = std::thread::spawn(move || {
        for i in 0..50 {
            writer
                .record_poll(&poll("a", vec![item(&format!("/{i}.htm"), fetched("x"))]))
                .unwrap();
        }
    });
    for _ in 0..50 {
        reader.source_items("a", 100).unwrap();
        reader.ping().unwrap();
    }
    handle.join().unwrap();
    assert_eq!(reader.item_count().unwrap(), 50);
    let mode: String = reader
        .conn()
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn validators_robots_and_pauses_round_trip() {
    let (_dir, store) = temp();
    let v = Validators {
        etag: Some("\"abc\"".into()),
        last_modified: None,
    };
    let mut p = poll("a", vec![]);
    p.validators
        .push(("https://x.gov.cn/a.htm".into(), v.clone()));
    store.record_poll(&p).unwrap();
    assert_eq!(store.validators("https://x.gov.cn/a.htm").unwrap(), Some(v));
    let now = Utc::now();
    store
        .pause_host(
            "x.gov.cn",
            now + chrono::Duration::seconds(60),
            "status 503",
        )
        .unwrap();
    assert!(store.host_pause("x.gov.cn", now).unwrap().is_some());
    assert!(
        store
            .host_pause("x.gov.cn", now + chrono::Duration::seconds(61))
            .unwrap()
            .is_none()
    );
    let entry = RobotsEntry {
        status: 200,
        body: b"User-agent: *\n".to_vec(),
        fetched: Utc.timestamp_opt(now.timestamp(), 0).unwrap(),
    };
    store.save_robots("https://x.gov.cn", &entry).unwrap();
    assert_eq!(
        store.robots("https://x.gov.cn").unwrap().unwrap().body,
        entry.body
    );
}

#[test]
fn opening_in_a_missing_folder_names_the_path() {
    let e = Store::open(std::path::Path::new("/nonexistent-dir/portalfeed.db"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("/nonexistent-dir/portalfeed.db"), "{e}");
}

#[test]
fn reopening_keeps_data_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let s = Store::open(&path).unwrap();
        s.sync_sources([("a", "A", "https://x.gov.cn/a.htm")])
            .unwrap();
        s.record_poll(&poll("a", vec![item("/1.htm", fetched("一"))]))
            .unwrap();
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.item_count().unwrap(), 1);
}

#[test]
fn a_subscribers_last_delivery_is_read_through_an_index_not_a_scan_of_the_outbox() {
    let (_dir, store) = temp();
    let conn = store.conn().unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            subscribers::SUBSCRIBER_BY_ID
        ))
        .unwrap();
    let plan: Vec<String> = stmt
        .query_map([1], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|step| step.contains("outbox") && step.contains("INDEX outbox_subscriber")),
        "{plan:#?}"
    );
    assert!(
        !plan.iter().any(|step| step.starts_with("SCAN o")),
        "{plan:#?}"
    );
}

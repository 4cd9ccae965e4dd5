//! Rendering a feed uncached: the work `portalfeed serve` does on a cache miss.
//!
//! `cargo bench --bench feed` (release profile). Setup builds the database in a temp folder
//! with the code of `examples/fill_db.rs` (50,000 items, 2–4 KB bodies, over 20 sources; about half a
//! minute), then times, for `s01` (one source, ~2,500 items of its own) and `all`:
//!
//! - `miss/{s01,all}.{rss,atom,json}`: `Store::feed_items(source, 50, None)`, the mapping to
//!   `Channel`/`Entry`, the writer, and the SHA-256 ETag of the bytes — everything
//!   `web::feeds::feed` runs in `spawn_blocking` on a miss (a copy of the private `render`, `entry`
//!   and `channel` of `src/web/feeds.rs`, and of `Rendered::new` in `src/web/cache.rs`). The issue's
//!   target is under 5 ms for a 50-item feed.
//! - `query/{s01,all}`: `Store::feed_items` alone; `write/s01.{rss,atom,json}`: the writer alone, on
//!   entries read once. Together they show where a miss spends its time.
//!
//! Before timing, each rendering is checked once (50 items, the expected markup), so a broken query
//! or writer cannot make a benchmark fast by doing nothing. Results are recorded in `BENCHMARKS.md`.

#[path = "../examples/fill_db.rs"]
#[allow(dead_code)]
mod fill_db;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portalfeed::config::{Config, Source};
use portalfeed::feed::{self, Channel, Entry};
use portalfeed::store::{FeedItem, Store};
use sha2::{Digest, Sha256};

const ITEMS: usize = 50_000;
const SOURCES: usize = 20;
const LIMIT: u32 = 50;

#[derive(Clone, Copy)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    const ALL: [(Format, &'static str); 3] = [
        (Format::Rss, "rss"),
        (Format::Atom, "atom"),
        (Format::Json, "json"),
    ];
}

/// `src/web/feeds.rs` `entry`.
fn entry(f: FeedItem) -> Entry {
    let i = f.item;
    Entry {
        id: i.id,
        url: i.url,
        title: i.title,
        published: i.published,
        updated: i.updated,
        content_html: i.content_html,
        summary: i.summary,
        author: i.author,
        origin: i.origin,
        categories: f.sources,
        attachments: i.attachments,
    }
}

/// `src/web/feeds.rs` `public`.
fn public(config: &Config, path: &str) -> String {
    config
        .service
        .public_url
        .join(path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// `src/web/feeds.rs` `channel`.
fn channel(config: &Config, source: Option<&Source>, path: &str, entries: &[Entry]) -> Channel {
    let tz = config.service.timezone;
    let (title, link, description, ttl) = match source {
        Some(s) => (
            s.title.clone(),
            s.list_url.to_string(),
            format!("{}：{} 的最新信息", s.title, s.list_url),
            s.schedule.min_interval(tz),
        ),
        None => {
            let titles: Vec<&str> = config.sources.iter().map(|s| s.title.as_str()).collect();
            let ttl = config
                .sources
                .iter()
                .filter_map(|s| s.schedule.min_interval(tz))
                .min();
            (
                "全部信息".to_string(),
                public(config, "/"),
                format!("全部栏目的最新信息：{}", titles.join("、")),
                ttl,
            )
        }
    };
    Channel {
        title,
        link,
        description,
        self_url: public(config, path),
        home_url: public(config, "/"),
        ttl_minutes: ttl.map(|d| (d.as_secs() / 60).max(1) as u32),
        updated: entries.iter().map(|e| e.updated).max(),
    }
}

/// `src/web/cache.rs` `Rendered::new`: the strong ETag of the bytes.
fn etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn write(config: &Config, channel: &Channel, entries: &[Entry], format: Format) -> String {
    let tz = config.service.timezone;
    match format {
        Format::Rss => feed::rss(channel, entries, tz),
        Format::Atom => feed::atom(channel, entries, tz),
        Format::Json => feed::json_feed(channel, entries, tz),
    }
}

/// `src/web/feeds.rs` `render` (+ the ETag): the body and its tag for `/feeds/{id}.{ext}`.
fn render(config: &Config, store: &Store, id: &str, format: Format, ext: &str) -> (String, String) {
    let source = config.source(id);
    let path = format!("/feeds/{id}.{ext}");
    let items = store
        .feed_items(source.map(|s| s.id.as_str()), LIMIT, None)
        .expect("feed_items");
    let entries: Vec<Entry> = items.into_iter().map(entry).collect();
    let channel = channel(config, source, &path, &entries);
    let body = write(config, &channel, &entries, format);
    let tag = etag(&body);
    (body, tag)
}

/// Renders once and checks the output looks like a full 50-item feed.
fn check(config: &Config, store: &Store, id: &str, format: Format, ext: &str) {
    let (body, _) = render(config, store, id, format, ext);
    let count = match format {
        Format::Rss => body.matches("<item>").count(),
        Format::Atom => body.matches("<entry>").count(),
        Format::Json => serde_json::from_str::<serde_json::Value>(&body).expect("JSON Feed parses")
            ["items"]
            .as_array()
            .map_or(0, Vec::len),
    };
    assert_eq!(count, LIMIT as usize, "{id}.{ext}: {count} items");
    assert!(
        body.contains("<p>") || body.contains("&lt;p&gt;"),
        "{id}.{ext}: no body HTML"
    );
    println!("{id}.{ext}: {} bytes, {count} items", body.len());
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let (config, store) = fill_db::prepare(
        &dir.path().join("feed.db"),
        &dir.path().join("feed.toml"),
        ITEMS,
        SOURCES,
    )
    .expect("fill the database");
    let size = std::fs::metadata(&config.service.database).map_or(0, |m| m.len());
    println!(
        "setup: {} items over {SOURCES} sources, {:.1} MB, in {:.1} s",
        store.item_count().expect("count"),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    for id in ["s01", "all"] {
        for (format, ext) in Format::ALL {
            check(&config, &store, id, format, ext);
        }
    }

    let mut group = c.benchmark_group("feed");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_secs(1));
    for id in ["s01", "all"] {
        for (format, ext) in Format::ALL {
            group.bench_function(format!("miss/{id}.{ext}"), |b| {
                b.iter(|| render(&config, &store, black_box(id), format, ext))
            });
        }
    }
    for id in ["s01", "all"] {
        let source = config.source(id).map(|s| s.id.as_str());
        group.bench_function(format!("query/{id}"), |b| {
            b.iter(|| {
                store
                    .feed_items(black_box(source), LIMIT, None)
                    .expect("feed_items")
            })
        });
    }
    let entries: Vec<Entry> = store
        .feed_items(Some("s01"), LIMIT, None)
        .expect("feed_items")
        .into_iter()
        .map(entry)
        .collect();
    let s01 = channel(&config, config.source("s01"), "/feeds/s01.rss", &entries);
    for (format, ext) in Format::ALL {
        group.bench_function(format!("write/s01.{ext}"), |b| {
            b.iter(|| write(&config, &s01, black_box(&entries), format))
        });
    }
    group.finish();
}

criterion_group!(feed_benches, benches);
criterion_main!(feed_benches);

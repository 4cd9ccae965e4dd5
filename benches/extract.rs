//! Extraction throughput on the fixture pages, one core, no I/O.
//!
//! `cargo bench --bench extract` (release profile). Every group uses `Throughput::Elements(1)`, so
//! criterion prints pages (or strings) per second next to the time per call. Targets from the
//! issue: article extraction ≥ 2,000 pages/s, list extraction ≥ 10,000 pages/s. The `parse_only`
//! rows time `dom_query::Document::from` alone on the same text: the html5ever parse every
//! extraction starts with, i.e. the floor under each extractor. Results are recorded in
//! `BENCHMARKS.md`.
//!
//! Before timing, each case is run once and checked (title found, items found, GBK detected), so a
//! broken fixture or extractor cannot make a benchmark fast by making it do nothing.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use portalfeed::config::{Config, Selectors};
use portalfeed::extract::date::parse_date;
use portalfeed::extract::{extract_article, extract_list};
use portalfeed::fetch::charset::{self, CharsetSource};
use url::Url;

const TZ: Tz = chrono_tz::Asia::Shanghai;

/// Selectors that fit the 领导活动 list (`zqzf/ldhd.htm`): its `<li id="line_u7_N">` rows, the
/// article link, and the date `<span>` (not the 置顶 marker `<span class="top">`).
const CONFIGURED: &str = r#"
[[source]]
id = "ldhd"
list_url = "http://vsb.example/zqzf/ldhd.htm"

[source.select]
item = "ul.list > li[id^=line_u7_]"
link = "a[href]"
date = "span:not(.top)"
"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
}

fn site_file(site: &str, path: &str) -> (Vec<u8>, Url) {
    let file: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/sites",
        site,
        path,
    ]
    .iter()
    .collect();
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let url = Url::parse(&format!("http://{site}.example/{path}")).unwrap();
    (bytes, url)
}

/// The page as the fetcher would hand it over (UTF-8 fixture, served without a header charset).
fn page(site: &str, path: &str) -> (String, Url) {
    let (bytes, url) = site_file(site, path);
    (charset::decode(&bytes, Some("text/html")).text, url)
}

fn per_page<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1))
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    g
}

fn article(c: &mut Criterion) {
    let (text, url) = page("vsb", "info/1012/10234.htm");
    // The item's title as the poller passes it: ldhd.htm gives the whole title in `a@title`.
    let hint = "城中区召开2024年教育督导工作座谈会暨全区教育工作会议";
    let run = |text: &str| extract_article(text, &url, None, Some(hint), TZ, now());
    let once = run(&text).expect("10234.htm is an article");
    assert_eq!(
        once.title.as_deref(),
        Some("城中区召开2024年教育督导工作座谈会暨全区教育工作会议")
    );
    assert!(once.published.is_some_and(|d| d.has_time));
    assert!(once.text.chars().count() > 1000, "the whole body");

    let mut g = per_page(c, "article");
    g.bench_function("vsb_10234/zero_config", |b| {
        b.iter(|| run(black_box(&text)))
    });
    g.bench_function("vsb_10234/parse_only", |b| {
        b.iter(|| dom_query::Document::from(black_box(text.as_str())))
    });
    g.finish();
}

fn list(c: &mut Criterion) {
    let (ldhd, ldhd_url) = page("vsb", "zqzf/ldhd.htm");
    let (ttxw, ttxw_url) = page("vsb", "xwzx/ttxw.htm");
    let auto = Selectors::default();
    let config = Config::parse(CONFIGURED, Path::new("bench.toml")).expect("bench config");
    let configured = config.sources[0].select.clone();

    // As in tests/fixtures/expected.json: 12 items (the 查看往期 row is none), and a next page.
    let got = extract_list(&ldhd, &ldhd_url, &auto, TZ, now());
    assert_eq!(got.items.len(), 12, "ldhd zero-config items");
    assert!(got.next_page.is_some());
    let got = extract_list(&ttxw, &ttxw_url, &auto, TZ, now());
    assert_eq!(got.items.len(), 8, "ttxw zero-config items");
    let got = extract_list(&ldhd, &ldhd_url, &configured, TZ, now());
    assert_eq!(got.items.len(), 12, "ldhd configured items");
    assert!(
        got.items.iter().all(|i| i.date.is_some()),
        "configured dates"
    );

    let mut g = per_page(c, "list");
    g.bench_function("vsb_ldhd_ul/zero_config", |b| {
        b.iter(|| extract_list(black_box(&ldhd), &ldhd_url, &auto, TZ, now()))
    });
    g.bench_function("vsb_ttxw_table/zero_config", |b| {
        b.iter(|| extract_list(black_box(&ttxw), &ttxw_url, &auto, TZ, now()))
    });
    g.bench_function("vsb_ldhd_ul/configured", |b| {
        b.iter(|| extract_list(black_box(&ldhd), &ldhd_url, &configured, TZ, now()))
    });
    g.bench_function("vsb_ldhd_ul/parse_only", |b| {
        b.iter(|| dom_query::Document::from(black_box(ldhd.as_str())))
    });
    g.bench_function("vsb_ttxw_table/parse_only", |b| {
        b.iter(|| dom_query::Document::from(black_box(ttxw.as_str())))
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let (gbk, _) = site_file("vsb-gbk", "news/sniff.htm");
    let once = charset::decode(&gbk, Some("text/html"));
    assert_eq!(once.source, CharsetSource::Detected);
    assert!(!once.had_errors && once.text.contains("镕"));
    let (utf8, _) = site_file("vsb", "info/1012/10234.htm");
    assert_eq!(
        charset::decode(&utf8, Some("text/html")).source,
        CharsetSource::Meta
    );

    let mut g = per_page(c, "charset");
    g.bench_function("gbk_sniff_detected", |b| {
        b.iter(|| charset::decode(black_box(&gbk), Some("text/html")))
    });
    g.bench_function("utf8_meta_declared", |b| {
        b.iter(|| charset::decode(black_box(&utf8), Some("text/html")))
    });
    g.finish();
}

fn dates(c: &mut Criterion) {
    let cases = [
        ("iso_date", "2024-03-05"),
        (
            "date_time_info_line",
            "2024-03-05 08:42 点击:[] 来源:城中在线",
        ),
        ("cjk_date_time", "发布时间：2024年03月12日 09:30"),
        ("nbsp_list_date", "\u{a0}2024-04-19"),
        (
            "no_date_footer",
            "网站联系电话:6271091 青ICP备19000483号-1 政府网站标识码:6301030005",
        ),
    ];
    for (name, text) in &cases {
        let found = parse_date(text, TZ, now());
        assert_eq!(found.is_some(), *name != "no_date_footer", "{name}");
    }
    let mut g = per_page(c, "parse_date");
    for (name, text) in cases {
        g.bench_function(name, |b| b.iter(|| parse_date(black_box(text), TZ, now())));
    }
    g.finish();
}

criterion_group!(benches, article, list, decode, dates);
criterion_main!(benches);

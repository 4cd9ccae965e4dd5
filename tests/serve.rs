//! The feed server over a database filled by polling fixture pages: every endpoint read over real
//! HTTP on 127.0.0.1 and every feed parsed by an independent parser (feed-rs), plus rule checks on
//! the raw XML that a lenient parser would not make.

mod common;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Override, Setup, Site, ok, source};
use portalfeed::web::{AppState, serve};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

/// A server on 127.0.0.1:0 over `setup`'s database; stops when dropped.
struct Server {
    base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(setup: &Setup) -> Server {
    let config = setup.config();
    let store = setup.store();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(AppState::new(config, store).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Server { base, _stop: stop }
}

/// Fixture portal polled into a fresh database: leadership (3 pages) and headlines.
async fn polled() -> (Site, Setup) {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&format!(
        "{}{}",
        source(
            "leadership",
            &site.url("/zqzf/ldhd.htm"),
            "title = \"领导活动\"\nmax_pages = 3"
        ),
        source(
            "headlines",
            &site.url("/xwzx/ttxw.htm"),
            "title = \"头条新闻\"\nschedule = \"*/30 * * * *\""
        ),
    ));
    let reports = setup.poll(None).await;
    ok(&reports, "leadership");
    ok(&reports, "headlines");
    (site, setup)
}

fn client() -> reqwest::Client {
    // Plain: no transparent decompression, so the tests see what the server sent.
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap()
}

async fn get(
    url: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = client().get(url);
    for (k, v) in headers {
        request = request.header(k, *v);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn parse(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| {
        panic!(
            "feed-rs cannot parse: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    })
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn every_endpoint_answers_with_its_media_type_and_parses() {
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    for (path, media) in [
        (
            "/feeds/leadership.rss",
            "application/rss+xml; charset=utf-8",
        ),
        (
            "/feeds/leadership.atom",
            "application/atom+xml; charset=utf-8",
        ),
        (
            "/feeds/leadership.json",
            "application/feed+json; charset=utf-8",
        ),
        ("/feeds/all.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/all.json", "application/feed+json; charset=utf-8"),
    ] {
        let (status, headers, body) = get(&format!("{}{path}", server.base), &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header_str(&headers, header::CONTENT_TYPE), media, "{path}");
        assert_eq!(
            header_str(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "*",
            "{path}"
        );
        assert_eq!(
            header_str(&headers, header::CACHE_CONTROL),
            "public, max-age=60",
            "{path}"
        );
        assert!(std::str::from_utf8(&body).is_ok(), "{path} is UTF-8");
        let feed = parse(&body);
        let want = if path.contains("all") { 26 + 8 } else { 26 };
        assert_eq!(feed.entries.len(), want, "{path}");
        let newest_first: Vec<_> = feed
            .entries
            .iter()
            .map(|e| e.published.or(e.updated))
            .collect();
        assert!(
            newest_first.windows(2).all(|w| w[0] >= w[1]),
            "{path} is newest first"
        );
    }
    let (status, headers, body) = get(&format!("{}/feeds.opml", server.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header_str(&headers, header::CONTENT_TYPE).starts_with("text/x-opml"));
    let opml = String::from_utf8(body).unwrap();
    for want in [
        "version=\"2.0\"",
        "/feeds/leadership.rss",
        "/feeds/headlines.rss",
        "/feeds/all.rss",
        "领导活动",
        "htmlUrl=",
    ] {
        assert!(opml.contains(want), "OPML lacks {want}: {opml}");
    }
    let (status, _, body) = get(&format!("{}/healthz", server.base), &[]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"ok\n"[..]));
}

#[tokio::test]
async fn items_keep_their_ids_times_content_and_attachments() {
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    let (_, _, rss) = get(&format!("{}/feeds/leadership.rss", server.base), &[]).await;
    let (_, _, atom) = get(&format!("{}/feeds/leadership.atom", server.base), &[]).await;
    let (_, _, json) = get(&format!("{}/feeds/leadership.json", server.base), &[]).await;
    for (name, bytes) in [("rss", &rss), ("atom", &atom), ("json", &json)] {
        let feed = parse(bytes);
        let seed = feed
            .entries
            .iter()
            .find(|e| {
                e.links
                    .iter()
                    .any(|l| l.href.ends_with("/info/1012/10234.htm"))
            })
            .unwrap_or_else(|| panic!("{name}: no seed entry"));
        assert!(
            seed.id.ends_with("/info/1012/10234.htm"),
            "{name}: id is the article URL: {}",
            seed.id
        );
        assert_eq!(
            seed.title.as_ref().unwrap().content,
            "城中区召开2024年教育督导工作座谈会暨全区教育工作会议",
            "{name}"
        );
        assert_eq!(
            seed.published.unwrap().to_rfc3339(),
            "2024-03-05T00:42:00+00:00",
            "{name}"
        );
        let body = seed
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| seed.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        assert!(body.contains("阿怀蛟"), "{name}: body");
        assert!(
            seed.categories.iter().any(|c| c.term == "领导活动"),
            "{name}: category"
        );
        let with_files = feed
            .entries
            .iter()
            .find(|e| {
                e.links
                    .iter()
                    .any(|l| l.href.ends_with("/info/1012/10246.htm"))
            })
            .unwrap();
        let enclosure_types: Vec<String> = with_files
            .media
            .iter()
            .flat_map(|m| m.content.iter())
            .filter_map(|c| c.content_type.as_ref().map(|t| t.to_string()))
            .chain(with_files.links.iter().filter_map(|l| l.media_type.clone()))
            .collect();
        assert!(
            enclosure_types
                .iter()
                .any(|t| t.contains("wordprocessingml") || t.contains("ms-excel")),
            "{name}: attachments with MIME types: {enclosure_types:?}"
        );
    }
    let rss = String::from_utf8(rss).unwrap();
    assert!(
        rss.contains("<pubDate>Tue, 05 Mar 2024 08:42:00 +0800</pubDate>"),
        "RFC 822, four-digit year, +0800"
    );
    assert!(rss.contains("isPermaLink=\"true\"") && rss.contains("<language>zh-CN</language>"));
    assert!(
        rss.contains("rel=\"self\"")
            && rss.contains("<ttl>20</ttl>")
            && rss.contains("<generator>")
    );
    let atom = String::from_utf8(atom).unwrap();
    assert!(
        atom.contains("2024-03-05T08:42:00+08:00"),
        "Atom in RFC 3339 with the zone offset"
    );
    let json = String::from_utf8(json).unwrap();
    let compact: String = json.split_whitespace().collect();
    assert!(
        compact.contains("\"date_published\":\"2024-03-05T08:42:00+08:00\""),
        "JSON Feed in RFC 3339 with offset"
    );
}

#[tokio::test]
async fn xml_feeds_follow_the_rules_a_lenient_parser_forgives() {
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    for path in [
        "/feeds/leadership.rss",
        "/feeds/all.rss",
        "/feeds/leadership.atom",
        "/feeds/all.atom",
    ] {
        let (_, _, body) = get(&format!("{}{path}", server.base), &[]).await;
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                || text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
            "{path}"
        );
        let forbidden = text
            .chars()
            .find(|c| matches!(*c as u32, 0..=8 | 0xB | 0xC | 0xE..=0x1F | 0xFFFE | 0xFFFF));
        assert_eq!(forbidden, None, "{path}: a character XML 1.0 forbids");
        if path.ends_with(".rss") {
            for item in text.split("<item>").skip(1) {
                assert!(
                    item.matches("<enclosure").count() <= 1,
                    "{path}: RSS allows one enclosure per item"
                );
                let guid = item.split("<guid").nth(1).unwrap();
                let link = item
                    .split("<link>")
                    .nth(1)
                    .unwrap()
                    .split("</link>")
                    .next()
                    .unwrap();
                assert!(
                    guid.contains(&format!(">{link}</guid>")),
                    "{path}: a permalink guid is the link"
                );
            }
        } else {
            for entry in text.split("<entry").skip(1) {
                for element in ["<id>", "<updated>", "<title", "<author>"] {
                    assert!(entry.contains(element), "{path}: entry lacks {element}");
                }
            }
        }
    }
}

#[tokio::test]
async fn limit_and_search_filter_the_feed() {
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    let (_, _, body) = get(&format!("{}/feeds/all.json?limit=5", server.base), &[]).await;
    assert_eq!(parse(&body).entries.len(), 5);
    for bad in ["0", "501", "ten", "-1"] {
        let (status, _, body) =
            get(&format!("{}/feeds/all.json?limit={bad}", server.base), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert!(String::from_utf8_lossy(&body).contains("limit"));
    }
    let (_, _, body) = get(
        &format!("{}/feeds/all.json?q=%E6%95%99%E8%82%B2", server.base),
        &[],
    )
    .await;
    let found = parse(&body);
    assert!(!found.entries.is_empty());
    for e in &found.entries {
        let text = format!(
            "{}{}",
            e.title.as_ref().unwrap().content,
            e.content
                .as_ref()
                .and_then(|c| c.body.clone())
                .unwrap_or_default()
        );
        assert!(text.contains("教育"), "q=教育 kept {text}");
    }
    let (status, _, body) = get(&format!("{}/feeds/nope.rss", server.base), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("nope"));
    let (status, _, _) = get(&format!("{}/feeds/leadership.xml", server.base), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn validators_answer_304_and_stay_stable_across_restarts() {
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    let url = format!("{}/feeds/leadership.atom", server.base);
    let (_, headers, body) = get(&url, &[]).await;
    let etag = header_str(&headers, header::ETAG).to_string();
    let modified = header_str(&headers, header::LAST_MODIFIED).to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    assert!(modified.ends_with(" GMT"), "{modified}");
    let weak = format!("W/{etag}");
    let list = format!("\"nope\", {etag}");
    for (name, value) in [
        (header::IF_NONE_MATCH, etag.as_str()),
        (header::IF_NONE_MATCH, weak.as_str()),
        (header::IF_NONE_MATCH, list.as_str()),
        (header::IF_NONE_MATCH, "*"),
        (header::IF_MODIFIED_SINCE, modified.as_str()),
    ] {
        let (status, h, body) = get(&url, &[(name.clone(), value)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{name}: {value}");
        assert!(body.is_empty());
        assert_eq!(header_str(&h, header::ETAG), etag);
    }
    let (status, _, _) = get(&url, &[(header::IF_NONE_MATCH, "\"other\"")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(
        &url,
        &[(header::IF_MODIFIED_SINCE, "Mon, 01 Jan 2024 00:00:00 GMT")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    drop(server);
    let again = start(&setup).await;
    let (_, headers2, body2) = get(&format!("{}/feeds/leadership.atom", again.base), &[]).await;
    assert_eq!(
        body2, body,
        "the same data renders to the same bytes after a restart"
    );
    assert_eq!(
        header_str(&headers2, header::ETAG),
        etag,
        "so the ETag survives restarts"
    );
}

#[tokio::test]
async fn head_compression_and_cors_work() {
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    let url = format!("{}/feeds/all.rss", server.base);
    let head = client().head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.headers().contains_key(header::ETAG));
    assert!(head.bytes().await.unwrap().is_empty());
    let (_, plain_headers, plain) = get(&url, &[]).await;
    let (_, headers, gz) = get(&url, &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(header_str(&headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(header_str(&headers, header::VARY), "Accept-Encoding");
    let weak = header_str(&headers, header::ETAG).to_string();
    assert_eq!(
        weak,
        format!("W/{}", header_str(&plain_headers, header::ETAG)),
        "a compressed representation has a weak tag"
    );
    let (status, _, _) = get(
        &url,
        &[
            (header::ACCEPT_ENCODING, "gzip"),
            (header::IF_NONE_MATCH, weak.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED, "and revalidates with it");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    assert!(gz.len() < plain.len() / 2);
    let (_, headers, br) = get(&url, &[(header::ACCEPT_ENCODING, "br")]).await;
    assert_eq!(header_str(&headers, header::CONTENT_ENCODING), "br");
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &br[..], &mut unbrotli).unwrap();
    assert_eq!(unbrotli, plain);
    assert_eq!(
        header_str(&plain_headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
}

#[tokio::test]
async fn a_poll_by_another_process_shows_up_within_seconds() {
    let site = Site::start("vsb").await;
    let last_page = std::fs::read(common::fixtures().join("sites/vsb/zqzf/ldhd/1.htm")).unwrap();
    site.set(
        "/zqzf/ldhd.htm",
        Override::Body(last_page, "text/html; charset=utf-8".into()),
    );
    let setup = Setup::new(&source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        "fetch_articles = false",
    ));
    ok(&setup.poll(None).await, "leadership");
    let server = start(&setup).await;
    let url = format!("{}/feeds/leadership.json", server.base);
    let (_, _, body) = get(&url, &[]).await;
    assert_eq!(parse(&body).entries.len(), 5);
    site.clear("/zqzf/ldhd.htm");
    let out = setup.run(&["poll"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    loop {
        let (_, _, body) = get(&url, &[]).await;
        if parse(&body).entries.len() == 17 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the new items did not show within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_slow_client_cannot_hold_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_site, setup) = polled().await;
    let server = start(&setup).await;
    let addr = server.base.trim_start_matches("http://").to_string();
    // Headers trickled and never finished.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (status, _, _) = get(&format!("{}/feeds/all.rss", server.base), &[]).await;
    assert_eq!(status, StatusCode::OK, "others are served meanwhile");
    assert!(started.elapsed() < Duration::from_secs(2));
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), slow.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "the stalled connection is closed by the server's header timeout"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "not before the timeout: {:?}",
        started.elapsed()
    );
}

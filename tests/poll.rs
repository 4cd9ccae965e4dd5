//! Polling fixture portals served by a real HTTP server on 127.0.0.1 into a real SQLite file:
//! pagination, dedup across pages, sources and runs, conditional GET, article retries, every CMS
//! family, GBK pages, politeness and robots.txt.

mod common;

use std::time::Duration;

use common::{Override, Setup, Site, ok, source};
use portalfeed::store::StoredItem;

fn items(setup: &Setup, source_id: &str) -> Vec<StoredItem> {
    setup.store().source_items(source_id, 1000).expect("items")
}

fn by_path<'a>(items: &'a [StoredItem], path: &str) -> &'a StoredItem {
    items
        .iter()
        .find(|i| i.url.ends_with(path))
        .unwrap_or_else(|| panic!("no item {path}"))
}

fn article_hits(site: &Site) -> Vec<String> {
    site.hits()
        .into_iter()
        .filter(|h| h.path.starts_with("/info/"))
        .map(|h| h.path)
        .collect()
}

#[tokio::test]
async fn vsb_poll_follows_backwards_pages_and_stores_each_item_once() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        "max_pages = 3\ntitle = \"领导活动\"",
    ));
    let polled = ok(&setup.poll(None).await, "leadership");
    assert_eq!(polled.pages, 3);
    assert_eq!(
        polled.counts.items_seen, 26,
        "12 + 10 + 5 items, one repeated across pages"
    );
    assert_eq!(polled.counts.items_new, 26);
    assert_eq!(
        polled.counts.articles_fetched, 24,
        "all but the off-site one and the 404"
    );
    for path in ["/zqzf/ldhd.htm", "/zqzf/ldhd/2.htm", "/zqzf/ldhd/1.htm"] {
        assert_eq!(site.hits_of(path), 1, "{path}");
    }
    let hits = article_hits(&site);
    let mut unique = hits.clone();
    unique.dedup();
    assert_eq!(
        hits.len(),
        25,
        "24 articles and one 404, each asked once: {hits:?}"
    );
    assert!(
        site.hits()
            .iter()
            .all(|h| h.user_agent.starts_with("portalfeed/"))
    );

    let stored = items(&setup, "leadership");
    assert_eq!(stored.len(), 26);
    let seed = by_path(&stored, "/info/1012/10234.htm");
    assert_eq!(
        seed.title,
        "城中区召开2024年教育督导工作座谈会暨全区教育工作会议"
    );
    assert_eq!(
        seed.published.unwrap().to_rfc3339(),
        "2024-03-05T00:42:00+00:00",
        "08:42 China time, stored in UTC"
    );
    assert_eq!(seed.origin.as_deref(), Some("城中在线"));
    assert!(
        seed.content_html
            .as_deref()
            .unwrap()
            .contains("区政府副区长、区教育局党组书记阿怀蛟出席会议")
    );
    assert!(seed.summary.as_deref().unwrap().starts_with("近日"));
    let weixin = by_path(&stored, "mp.weixin.qq.com/s/XyZ123");
    assert_eq!(weixin.article_status, "external");
    let missing = by_path(&stored, "/info/1012/10240.htm");
    assert_eq!(
        (missing.article_status.as_str(), missing.article_attempts),
        ("failed", 1)
    );
    assert_eq!(
        missing.title, "城中区召开2024年一季度经济运行分析会",
        "kept with what the list gave"
    );
    let pinned = by_path(&stored, "/info/1012/10212.htm");
    let china = pinned
        .published
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai);
    assert_eq!(
        china.format("%Y-%m-%d").to_string(),
        "2024-01-15",
        "a pinned item keeps its own date"
    );
}

#[tokio::test]
async fn second_poll_is_conditional_fetches_nothing_again_and_retries_are_bounded() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        "max_pages = 3",
    ));
    ok(&setup.poll(None).await, "leadership");
    let before = items(&setup, "leadership");
    site.reset_log();

    let again = ok(&setup.poll(None).await, "leadership");
    assert!(again.not_modified, "page 1 answered 304");
    assert_eq!(site.not_modified(), 1);
    assert!(
        site.hits()
            .iter()
            .filter(|h| h.path == "/zqzf/ldhd.htm")
            .all(|h| h.conditional)
    );
    assert_eq!(again.counts.items_new, 0);
    assert_eq!(
        article_hits(&site),
        vec!["/info/1012/10240.htm"],
        "only the failed article is tried again"
    );

    for _ in 0..3 {
        ok(&setup.poll(None).await, "leadership");
    }
    assert_eq!(
        site.hits_of("/info/1012/10240.htm"),
        2,
        "three attempts in all, then no more"
    );
    let after = items(&setup, "leadership");
    assert_eq!(after.len(), before.len());
    assert_eq!(by_path(&after, "/info/1012/10240.htm").article_attempts, 3);
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(
            (&a.id, &a.updated),
            (&b.id, &b.updated),
            "nothing stored changed"
        );
    }
}

#[tokio::test]
async fn a_failed_article_that_comes_back_is_stored_whole() {
    let site = Site::start("vsb").await;
    site.set(
        "/info/1012/10234.htm",
        Override::Status(500, vec![], b"oops".to_vec()),
    );
    let setup = Setup::new(&source("leadership", &site.url("/zqzf/ldhd.htm"), ""));
    ok(&setup.poll(None).await, "leadership");
    let first = items(&setup, "leadership");
    let seed = by_path(&first, "/info/1012/10234.htm");
    assert_eq!(seed.article_status, "failed");
    assert!(seed.content_html.is_none());
    site.clear("/info/1012/10234.htm");
    // The list changed too, so the poll is not a 304.
    ok(&setup.poll(None).await, "leadership");
    let seed = by_path(&items(&setup, "leadership"), "/info/1012/10234.htm").clone();
    assert_eq!(seed.article_status, "ok");
    assert!(seed.content_html.unwrap().contains("阿怀蛟"));
    assert_eq!(
        seed.published.unwrap().to_rfc3339(),
        "2024-03-05T00:42:00+00:00"
    );
}

#[tokio::test]
async fn an_article_listed_by_two_sources_is_fetched_once_and_belongs_to_both() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&format!(
        "{}{}",
        source("page-one", &site.url("/zqzf/ldhd.htm"), ""),
        source("page-two", &site.url("/zqzf/ldhd/2.htm"), "")
    ));
    let reports = setup.poll(None).await;
    ok(&reports, "page-one");
    ok(&reports, "page-two");
    assert_eq!(site.hits_of("/info/1012/10234.htm"), 1);
    let one = items(&setup, "page-one");
    let two = items(&setup, "page-two");
    let a = by_path(&one, "/info/1012/10234.htm");
    let b = by_path(&two, "/info/1012/10234.htm");
    assert_eq!(a.id, b.id);
    assert_eq!(setup.store().item_count().unwrap(), 12 + 10 - 1);
}

#[tokio::test]
async fn configured_selectors_are_used_and_the_rest_is_detected() {
    let site = Site::start("vsb").await;
    let select = "[source.select]\nitem = \"ul.list li[id^=line_u7]\"\ndate = \"span:not(.top)\"\nnext_page = \"span.p_next a\"\ncontent = \"#vsb_content\"";
    let setup = Setup::new(&source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        &format!("max_pages = 2\n{select}"),
    ));
    let polled = ok(&setup.poll(None).await, "leadership");
    assert_eq!((polled.pages, polled.counts.items_seen), (2, 21));
    let stored = items(&setup, "leadership");
    let seed = by_path(&stored, "/info/1012/10234.htm");
    assert!(seed.content_html.as_deref().unwrap().contains("阿怀蛟"));
}

#[tokio::test]
async fn every_cms_family_is_polled_with_its_pagination() {
    let (hanweb, trs) = (Site::start("hanweb").await, Site::start("trs").await);
    let setup = Setup::new(&format!(
        "{}{}{}",
        source("hanweb", &hanweb.url("/col/col1234/index.html"), ""),
        source(
            "trs-gzdt",
            &trs.url("/zwgk/gzdt/index.html"),
            "max_pages = 5"
        ),
        source(
            "trs-tzgg",
            &trs.url("/zwgk/tzgg/index.html"),
            "max_pages = 5"
        ),
    ));
    let reports = setup.poll(None).await;
    assert_eq!(ok(&reports, "hanweb").counts.items_seen, 7);
    assert_eq!(
        ok(&reports, "trs-gzdt").pages,
        3,
        "0-based createPageHTML: index, index_1, index_2"
    );
    assert_eq!(ok(&reports, "trs-gzdt").counts.items_seen, 15);
    assert_eq!(
        ok(&reports, "trs-tzgg").pages,
        2,
        "1-based createPageHTML: index, index_2"
    );
    assert_eq!(ok(&reports, "trs-tzgg").counts.items_seen, 9);
    let stored = items(&setup, "hanweb");
    let only_in_url = by_path(&stored, "/art/2024/3/12/art_1234_98790.html");
    assert_eq!(
        only_in_url.published.unwrap().to_rfc3339(),
        "2024-03-11T16:00:00+00:00",
        "from the list, which agrees with the URL"
    );
    assert!(stored.iter().all(|i| !i.title.contains("置顶")));
}

/// Two sites of the blind fixture set, polled whole: a title the list cuts (with no `title`
/// attribute) is stored whole from the article page, and a GBK site declared `gb2312` keeps the
/// names written with characters outside GB2312.
#[tokio::test]
async fn blind_set_sites_poll_end_to_end_with_whole_titles_and_gbk_names() {
    let epoint = Site::start_in("blind", "epoint").await;
    let empire = Site::start_in("blind", "empire").await;
    let setup = Setup::new(&format!(
        "{}{}",
        source("epoint", &epoint.url("/zwgk/002001/subpage.html"), ""),
        source("empire", &empire.url("/xwzx/bmdt/index.html"), ""),
    ));
    let reports = setup.poll(None).await;
    assert_eq!(ok(&reports, "epoint").counts.items_seen, 15);
    assert_eq!(ok(&reports, "empire").counts.items_seen, 14);

    let stored = items(&setup, "epoint");
    let cut = by_path(
        &stored,
        "/20240417/45741aab-ced0-4a19-b8ef-75c58db6f1af.html",
    );
    assert_eq!(
        cut.title,
        "南屏市召开2024年全市安全生产和消防安全工作电视电话会议暨一季度安全形势分析会"
    );
    assert_eq!(
        cut.published.map(|p| p.to_rfc3339()).as_deref(),
        Some("2024-04-17T02:20:00+00:00"),
        "the article's time, with minutes"
    );
    assert_eq!(cut.origin.as_deref(), Some("南屏市应急管理局"));
    // An item whose article is missing (404) keeps what the list gave.
    let listed_only = by_path(
        &stored,
        "/20240416/91e2936a-6ec9-49e7-a65e-b509a3af5ec3.html",
    );
    assert_eq!(
        listed_only.title,
        "市市场监管局开展2024年春季农资质量专项检查"
    );

    let stored = items(&setup, "empire");
    let gbk = by_path(&stored, "/2024-04-18/5673.html");
    assert_eq!(gbk.title, "副县长刘翀带队督导县水务局汛前准备工作");
    let by_author = by_path(&stored, "/2024-04-19/5678.html");
    assert_eq!(by_author.author.as_deref(), Some("陈祎"));
    assert_eq!(by_author.origin.as_deref(), Some("鹤鸣县林业局"));
}

#[tokio::test]
async fn gbk_pages_decode_without_garbling_whatever_declares_the_charset() {
    let site = Site::start("vsb-gbk").await;
    let setup = Setup::new(&format!(
        "{}{}{}",
        source("meta", &site.url("/news/meta.htm"), ""),
        source("header", &site.url("/news/header.htm"), ""),
        source("sniff", &site.url("/news/sniff.htm"), ""),
    ));
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("expected.json")).unwrap(),
    )
    .unwrap();
    let reports = setup.poll(None).await;
    for (id, path) in [
        ("meta", "/news/meta.htm"),
        ("header", "/news/header.htm"),
        ("sniff", "/news/sniff.htm"),
    ] {
        ok(&reports, id);
        let list = expected["lists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["site"] == "vsb-gbk" && l["path"] == path)
            .unwrap();
        let mut want: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_string())
            .collect();
        let mut have: Vec<String> = items(&setup, id).into_iter().map(|i| i.title).collect();
        want.sort();
        have.sort();
        assert_eq!(have, want, "{id}");
    }
    let all: String = ["meta", "header", "sniff"]
        .iter()
        .flat_map(|id| items(&setup, id))
        .map(|i| i.title + &i.content_html.unwrap_or_default())
        .collect();
    assert!(!all.contains('\u{fffd}'), "no replacement characters");
    assert!(
        ["镕", "喆", "堃", "昇"].iter().any(|c| all.contains(c)),
        "GB18030 names survive"
    );
}

#[tokio::test]
async fn requests_to_one_host_are_spaced_by_the_configured_delay() {
    let site = Site::start("vsb").await;
    let setup = Setup::with_fetch(
        "per_host_delay_ms = 150\n",
        &source("headlines", &site.url("/xwzx/ttxw.htm"), ""),
    );
    ok(&setup.poll(None).await, "headlines");
    let hits = site.hits();
    assert!(hits.len() >= 9, "robots.txt, the list and its articles");
    for pair in hits.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(150),
            "{} then {} only {gap:?} apart",
            pair[0].path,
            pair[1].path
        );
    }
}

#[tokio::test]
async fn robots_txt_is_honoured_unless_the_source_opts_out() {
    let site = Site::start("vsb").await;
    let robots = b"User-agent: *\nDisallow: /zqzf/\n".to_vec();
    site.set(
        "/robots.txt",
        Override::Status(
            200,
            vec![("Content-Type".into(), "text/plain".into())],
            robots,
        ),
    );
    let setup = Setup::new(&format!(
        "{}{}",
        source("polite", &site.url("/zqzf/ldhd.htm"), ""),
        source(
            "rude",
            &site.url("/zqzf/ldhd/2.htm"),
            "respect_robots = false"
        ),
    ));
    let reports = setup.poll(None).await;
    let error = common::failed(&reports, "polite");
    assert!(
        error.contains("robots.txt") && error.contains("/zqzf/ldhd.htm"),
        "{error}"
    );
    assert_eq!(site.hits_of("/zqzf/ldhd.htm"), 0);
    assert_eq!(ok(&reports, "rude").counts.items_seen, 10);
    assert_eq!(
        site.hits_of("/robots.txt"),
        1,
        "cached: asked once for both sources"
    );
}

#[tokio::test]
async fn separate_runs_of_the_binary_never_duplicate() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        "max_pages = 2",
    ));
    let first = setup.run(&["poll"]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        String::from_utf8_lossy(&first.stdout)
            .contains("leadership: 2 page(s), 21 item(s), 21 new")
    );
    let second = setup.run(&["poll"]).await;
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("leadership: not modified"));
    assert_eq!(setup.store().item_count().unwrap(), 21);
    let log = setup.store().poll_log("leadership", 10).unwrap();
    let outcomes: Vec<&str> = log.iter().map(|l| l.outcome.as_str()).collect();
    assert_eq!(outcomes, ["not_modified", "ok"]);
}

#[tokio::test]
async fn gzip_deflate_and_brotli_bodies_are_decoded() {
    use std::io::Write;
    let site = Site::start("vsb").await;
    let page = std::fs::read(common::fixtures().join("sites/vsb/zqzf/ldhd.htm")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&page).unwrap();
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(&page).unwrap();
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut &page[..], &mut br, &Default::default()).unwrap();
    let mut sources = String::new();
    for (name, encoding, bytes) in [
        ("gz", "gzip", gz.finish().unwrap()),
        ("zlib", "deflate", deflate.finish().unwrap()),
        ("br", "br", br),
    ] {
        let headers = vec![
            ("Content-Type".into(), "text/html; charset=utf-8".into()),
            ("Content-Encoding".into(), encoding.into()),
        ];
        site.set(
            &format!("/zqzf/{name}.htm"),
            Override::Status(200, headers, bytes),
        );
        sources.push_str(&source(
            name,
            &site.url(&format!("/zqzf/{name}.htm")),
            "fetch_articles = false",
        ));
    }
    let setup = Setup::new(&sources);
    let reports = setup.poll(None).await;
    for name in ["gz", "zlib", "br"] {
        assert_eq!(ok(&reports, name).counts.items_seen, 12, "{name}");
    }
    let asked = site
        .hits()
        .into_iter()
        .find(|h| h.path == "/zqzf/gz.htm")
        .unwrap()
        .accept_encoding;
    for enc in ["gzip", "br", "deflate"] {
        assert!(asked.contains(enc), "Accept-Encoding {asked:?} lacks {enc}");
    }
}

#[tokio::test]
async fn an_article_page_that_only_redirects_is_kept_as_an_external_item_and_not_retried() {
    let site = Site::start("vsb").await;
    // VSB's external-link article: the page asks the server for the target and sets location.
    let page = "<html><head><title>城中区人民政府</title></head><body><script type=\"text/javascript\">\
                NewsvoteDWR.getNewsLinkUrl(10240,'1609314488','vsb',newsSkip);\
                function newsSkip(d){ window.location.href = d; }</script></body></html>";
    site.set(
        "/info/1012/10240.htm",
        Override::Body(page.as_bytes().to_vec(), "text/html; charset=utf-8".into()),
    );
    // Another article redirects over HTTP to another host (the same server under another name).
    let elsewhere = site
        .url("/info/1012/10234.htm")
        .replace("127.0.0.1", "localhost");
    site.set("/info/1012/10236.htm", Override::Redirect(elsewhere));
    let setup = Setup::new(&source("leadership", &site.url("/zqzf/ldhd.htm"), ""));
    ok(&setup.poll(None).await, "leadership");
    let stored = items(&setup, "leadership");
    for path in ["/info/1012/10240.htm", "/info/1012/10236.htm"] {
        let item = by_path(&stored, path);
        assert_eq!(item.article_status, "external", "{path}");
        assert!(item.content_html.is_none(), "{path}");
        assert!(
            item.url.ends_with(path),
            "the item keeps the portal's address"
        );
    }
    site.reset_log();
    let again = ok(&setup.poll(None).await, "leadership");
    assert!(again.not_modified);
    assert!(
        article_hits(&site).is_empty(),
        "nothing to retry: {:?}",
        article_hits(&site)
    );
}

//! Bad input from portals: none of it may panic, hang past the timeout, or lose stored items.
//! Each failure names the source's URL; the other sources are still polled.

mod common;

use std::time::{Duration, Instant};

use common::{Override, Setup, Site, failed, ok, source};

const HTML: &str = "text/html; charset=utf-8";

fn body(bytes: Vec<u8>) -> Override {
    Override::Body(bytes, HTML.into())
}

async fn one_source_with(site: &Site, path: &str, o: Override, fetch: &str) -> String {
    site.set(path, o);
    let setup = Setup::with_fetch(fetch, &source("broken", &site.url(path), ""));
    let reports = setup.poll(None).await;
    let error = failed(&reports, "broken");
    assert!(
        error.contains(&site.url(path)) || error.contains(&site.addr.to_string()),
        "error names the URL: {error}"
    );
    error
}

const FAST: &str = "per_host_delay_ms = 0\ntimeout_secs = 2\n";

#[tokio::test]
async fn truncated_and_malformed_html_still_yields_what_is_there() {
    let site = Site::start("vsb").await;
    let full = std::fs::read_to_string(common::fixtures().join("sites/vsb/zqzf/ldhd.htm")).unwrap();
    let cut = full.find("line_u7_6").unwrap();
    let mangled = full[..cut]
        .replace("</li>", "")
        .replace("<ul class=\"list\">", "<ul class=\"list\"><div><p>");
    site.set("/cut.htm", body(mangled.into_bytes()));
    let setup = Setup::new(&source(
        "cut",
        &site.url("/cut.htm"),
        "fetch_articles = false",
    ));
    let polled = ok(&setup.poll(None).await, "cut");
    assert!(polled.counts.items_seen >= 5, "{polled:?}");
}

#[tokio::test]
async fn random_bytes_are_a_clear_failure_not_a_panic() {
    let site = Site::start("vsb").await;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..50_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let error = one_source_with(&site, "/noise.htm", body(noise), FAST).await;
    assert!(error.contains("no items"), "{error}");
}

#[tokio::test]
async fn a_body_over_the_cap_is_an_error_for_that_url() {
    let site = Site::start("vsb").await;
    let capped = "per_host_delay_ms = 0\ntimeout_secs = 10\nmax_body_bytes = 200_000\n";
    let error = one_source_with(&site, "/endless.htm", Override::Endless(50_000_000), capped).await;
    assert!(
        error.contains("larger than the 200000-byte cap"),
        "streamed without length: {error}"
    );
    let error = one_source_with(&site, "/big.htm", body(vec![b'a'; 300_000]), capped).await;
    assert!(
        error.contains("larger than the 200000-byte cap"),
        "with Content-Length: {error}"
    );
}

#[tokio::test]
async fn a_redirect_loop_stops_after_five_redirects() {
    let site = Site::start("vsb").await;
    site.set("/loop-a.htm", Override::Redirect("/loop-b.htm".into()));
    site.set("/loop-b.htm", Override::Redirect("/loop-a.htm".into()));
    let error = one_source_with(
        &site,
        "/loop-a.htm",
        Override::Redirect("/loop-b.htm".into()),
        FAST,
    )
    .await;
    assert!(error.contains("redirect"), "{error}");
    assert!(
        site.hits().len() <= 1 + 6,
        "robots.txt and at most 6 requests: {}",
        site.hits().len()
    );
    site.set("/chain-0.htm", Override::Redirect("/chain-1.htm".into()));
    for i in 1..7 {
        site.set(
            &format!("/chain-{i}.htm"),
            Override::Redirect(format!("/chain-{}.htm", i + 1)),
        );
    }
    let error = one_source_with(
        &site,
        "/chain-0.htm",
        Override::Redirect("/chain-1.htm".into()),
        FAST,
    )
    .await;
    assert!(error.contains("more than 5 redirects"), "{error}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let site = Site::start("vsb").await;
    let started = Instant::now();
    let error = one_source_with(
        &site,
        "/hang.htm",
        Override::Hang,
        "per_host_delay_ms = 0\ntimeout_secs = 1\n",
    )
    .await;
    assert!(error.contains("timed out"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn error_statuses_are_reported_and_retry_after_pauses_the_host() {
    let site = Site::start("vsb").await;
    for status in [404u16, 500] {
        let path = format!("/status-{status}.htm");
        let error =
            one_source_with(&site, &path, Override::Status(status, vec![], vec![]), FAST).await;
        assert!(error.contains(&format!("status {status}")), "{error}");
    }
    site.set(
        "/busy.htm",
        Override::Status(503, vec![("Retry-After".into(), "120".into())], vec![]),
    );
    let setup = Setup::new(&source("busy", &site.url("/busy.htm"), ""));
    let error = failed(&setup.poll(None).await, "busy");
    assert!(error.contains("status 503, retry after 120s"), "{error}");
    site.clear("/busy.htm");
    let hits = site.hits_of("/busy.htm");
    let error = failed(&setup.poll(None).await, "busy");
    assert!(
        error.contains("asked us to wait"),
        "the next poll honours Retry-After: {error}"
    );
    assert_eq!(site.hits_of("/busy.htm"), hits, "and does not ask the host");
}

#[tokio::test]
async fn a_layout_change_fails_the_source_and_keeps_what_is_stored() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&source("leadership", &site.url("/zqzf/ldhd.htm"), ""));
    ok(&setup.poll(None).await, "leadership");
    let stored = setup.store().source_items("leadership", 100).unwrap().len();
    let changed = std::fs::read(common::fixtures().join("sites/vsb/zqzf/empty.htm")).unwrap();
    site.set("/zqzf/ldhd.htm", body(changed));
    let error = failed(&setup.poll(None).await, "leadership");
    assert!(
        error.contains("no items") && error.contains("layout"),
        "{error}"
    );
    assert_eq!(
        setup.store().source_items("leadership", 100).unwrap().len(),
        stored
    );
    let log = setup.store().poll_log("leadership", 1).unwrap();
    assert_eq!(log[0].outcome, "failed");
    assert!(log[0].error.as_deref().unwrap().contains("/zqzf/ldhd.htm"));
}

#[tokio::test]
async fn firewall_challenges_are_reported_as_blocked() {
    let site = Site::start("vsb").await;
    let challenge = std::fs::read(common::fixtures().join("sites/vsb/zqzf/antibot.htm")).unwrap();
    let error = one_source_with(&site, "/challenge.htm", body(challenge), FAST).await;
    assert!(
        error.contains("blocked by the portal's firewall"),
        "{error}"
    );
    let error = one_source_with(
        &site,
        "/412.htm",
        Override::Status(412, vec![], b"<html></html>".to_vec()),
        FAST,
    )
    .await;
    assert!(
        error.contains("blocked by the portal's firewall"),
        "{error}"
    );
}

#[tokio::test]
async fn wrong_charset_declarations_do_not_garble_or_panic() {
    let site = Site::start("vsb-gbk").await;
    let gbk = std::fs::read(common::fixtures().join("sites/vsb-gbk/news/sniff.htm")).unwrap();
    // A header that lies (says UTF-8) is followed, per the rules: nothing panics, items still come.
    site.set(
        "/lying.htm",
        Override::Body(gbk.clone(), "text/html; charset=utf-8".into()),
    );
    site.set("/missing.htm", Override::Body(gbk, "text/html".into()));
    // Separate databases: both lists hold the same URLs, and an item keeps its first title.
    let lying = Setup::new(&source(
        "lying",
        &site.url("/lying.htm"),
        "fetch_articles = false",
    ));
    let _ = lying.poll(None).await;
    let setup = Setup::new(&source(
        "missing",
        &site.url("/missing.htm"),
        "fetch_articles = false",
    ));
    ok(&setup.poll(None).await, "missing");
    let titles: String = setup
        .store()
        .source_items("missing", 100)
        .unwrap()
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert!(
        !titles.contains('\u{fffd}') && titles.contains("西川县"),
        "{titles}"
    );
}

#[tokio::test]
async fn one_failing_source_does_not_stop_the_others_and_the_binary_exits_1() {
    let site = Site::start("vsb").await;
    site.set("/gone.htm", Override::Status(404, vec![], vec![]));
    let setup = Setup::new(&format!(
        "{}{}",
        source("gone", &site.url("/gone.htm"), ""),
        source(
            "leadership",
            &site.url("/zqzf/ldhd.htm"),
            "fetch_articles = false"
        ),
    ));
    let out = setup.run(&["poll"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("poll gone: fetch")
            && stderr.contains(&site.url("/gone.htm"))
            && stderr.contains("status 404"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("leadership: 1 page(s), 12 item(s), 12 new")
    );
    assert_eq!(setup.store().item_count().unwrap(), 12);
}

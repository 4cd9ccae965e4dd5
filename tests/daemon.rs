//! `portalfeed run`, the real binary, against a fixture portal and a real SMTP server on 127.0.0.1,
//! with second-level schedules: new items reach the feed and the immediate subscriber on their own;
//! a failing source is counted, backed off, alerted once, recovered and announced; Retry-After
//! silences the host; a layout change keeps the feed; SIGHUP adds a source and survives a bad
//! config; SIGTERM exits 0 within 10 s; `kill -9` mid-poll and mid-send loses and doubles nothing.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::daemon::{DaemonSetup, Running, source_of};
use common::smtp::SmtpServer;
use common::{Override, Site, source};
use mail_parser::MessageParser;

const WAIT: Duration = Duration::from_secs(30);
const EVERY_SECOND: &str = "* * * * * *";

fn html(bytes: Vec<u8>) -> Override {
    Override::Body(bytes, "text/html; charset=utf-8".into())
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(common::fixtures().join("sites/vsb").join(path)).expect("fixture")
}

/// The portal with only the last list page showing (the baseline); `clear` shows page 1.
async fn portal() -> Site {
    let site = Site::start("vsb").await;
    site.set("/zqzf/ldhd.htm", html(fixture("zqzf/ldhd/1.htm")));
    site
}

fn leadership(site: &Site, extra: &str) -> String {
    source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        &format!(
            "title = \"领导活动\"\nschedule = \"{EVERY_SECOND}\"\nfetch_articles = false\n{extra}"
        ),
    )
}

fn email(smtp_url: &str) -> String {
    format!(
        "[email]\nsmtp_url = \"{smtp_url}\"\nfrom = \"城中区政务信息订阅 <subscribe@example.gov.cn>\"\n\
         secret = \"test-secret-0123456789\"\nalerts_to = [\"ops@example.gov.cn\"]\n"
    )
}

async fn subscribe(setup: &DaemonSetup, address: &str) {
    let out = common::run_binary(
        &setup.config_path,
        &["subscribers", "add", address, "--schedule", "immediate"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn stop(d: Running) {
    let log = d.log.clone();
    let (status, took) = d.stop().await;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "SIGTERM: exit {status:?}\n{text}");
    assert!(took < Duration::from_secs(10), "SIGTERM took {took:?}");
}

/// The entry ids of a feed, parsed with feed-rs (an independent parser).
async fn feed_ids(d: &Running, path: &str) -> Vec<String> {
    let (code, body) = d.get(path).await.expect("feed answers");
    assert_eq!(code, 200, "{path}: {body}");
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("feed parses");
    feed.entries.into_iter().map(|e| e.id).collect()
}

fn baseline_done(s: &serde_json::Value, id: &str) -> bool {
    source_of(s, id).is_some_and(|x| x["last_success"].is_string())
}

fn failed_at_least(s: &serde_json::Value, id: &str, n: u64) -> bool {
    source_of(s, id).is_some_and(|x| x["consecutive_failures"].as_u64() >= Some(n))
}

fn items(s: &serde_json::Value, id: &str) -> u64 {
    source_of(s, id)
        .and_then(|x| x["items"].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn new_items_reach_the_feed_and_the_immediate_subscriber_on_their_own() {
    let smtp = SmtpServer::start().await;
    let site = portal().await;
    let setup = DaemonSetup::new(
        "",
        &format!("{}{}", leadership(&site, ""), email(&smtp.url())),
    );
    subscribe(&setup, "resident@example.com").await;
    let d = setup.start().await;
    let s = d
        .wait_for("the baseline poll", WAIT, |s| {
            baseline_done(s, "leadership")
        })
        .await;
    let baseline = items(&s, "leadership");
    assert!(baseline > 0);
    assert_eq!(
        feed_ids(&d, "/feeds/leadership.rss").await.len() as u64,
        baseline
    );

    site.clear("/zqzf/ldhd.htm");
    let s = d
        .wait_for("the new items", WAIT, |s| items(s, "leadership") > baseline)
        .await;
    let now = items(&s, "leadership");
    let ids = feed_ids(&d, "/feeds/leadership.rss").await;
    assert_eq!(ids.len() as u64, now.min(50));
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "no item twice"
    );

    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, vec!["resident@example.com".to_string()]);
    let parsed = MessageParser::default()
        .parse(&mails[0].data)
        .expect("MIME");
    let subject = parsed.subject().unwrap_or_default().to_string();
    assert!(subject.contains("领导活动"), "{subject}");
    // Later polls find nothing new: no second digest.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.received().len(), 1, "one digest, not more");
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_source_is_backed_off_alerted_once_and_its_recovery_announced() {
    let smtp = SmtpServer::start().await;
    let site = portal().await;
    let setup = DaemonSetup::new(
        "alert_after_failures = 2",
        &format!("{}{}", leadership(&site, ""), email(&smtp.url())),
    );
    let d = setup.start().await;
    d.wait_for("the baseline poll", WAIT, |s| {
        baseline_done(s, "leadership")
    })
    .await;
    site.set(
        "/zqzf/ldhd.htm",
        Override::Status(500, vec![], b"internal error".to_vec()),
    );
    site.reset_log();
    let alert = smtp.wait_for(1, WAIT).await;
    assert_eq!(alert[0].to, vec!["ops@example.gov.cn".to_string()]);
    let parsed = MessageParser::default()
        .parse(&alert[0].data)
        .expect("MIME");
    let subject = parsed.subject().unwrap_or_default().to_string();
    assert!(
        subject.contains("告警") && subject.contains("领导活动"),
        "{subject}"
    );
    let body = parsed.body_text(0).unwrap_or_default().to_string();
    assert!(
        body.contains("/zqzf/ldhd.htm") && body.contains("500"),
        "{body}"
    );

    let s = d
        .wait_for("four failures", WAIT, |s| {
            failed_at_least(s, "leadership", 4)
        })
        .await;
    let entry = source_of(&s, "leadership").expect("entry");
    assert!(
        entry["last_error"].as_str().unwrap_or("").contains("500"),
        "{entry}"
    );
    // Backoff: the gap before the 4th failed try is longer than before the 2nd.
    let at: Vec<_> = site
        .hits()
        .iter()
        .filter(|h| h.path == "/zqzf/ldhd.htm")
        .map(|h| h.at)
        .collect();
    assert!(at.len() >= 4, "{} tries", at.len());
    let (early, late) = (at[1] - at[0], at[3] - at[2]);
    assert!(
        late >= Duration::from_millis(2500) && late > early,
        "gaps {early:?} then {late:?}"
    );
    assert_eq!(
        smtp.received().len(),
        1,
        "alerted once, not at every failure"
    );
    // Errors never reach the public feed.
    let (_, rss) = d.get("/feeds/leadership.rss").await.expect("feed");
    assert!(!rss.contains("internal error") && !rss.contains("status 500"));

    site.clear("/zqzf/ldhd.htm");
    let mails = smtp.wait_for(2, Duration::from_secs(45)).await;
    let parsed = MessageParser::default()
        .parse(&mails[1].data)
        .expect("MIME");
    let subject = parsed.subject().unwrap_or_default().to_string();
    assert!(subject.contains("恢复"), "{subject}");
    let s = d.status().await.expect("status");
    assert_eq!(
        source_of(&s, "leadership").expect("entry")["consecutive_failures"],
        0
    );
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_silences_every_source_of_the_host() {
    let site = portal().await;
    let other = source(
        "headlines",
        &site.url("/xwzx/ttxw.htm"),
        &format!("schedule = \"{EVERY_SECOND}\"\nfetch_articles = false"),
    );
    let setup = DaemonSetup::new("", &format!("{}{other}", leadership(&site, "")));
    let d = setup.start().await;
    d.wait_for("both baselines", WAIT, |s| {
        baseline_done(s, "leadership") && baseline_done(s, "headlines")
    })
    .await;
    site.set(
        "/zqzf/ldhd.htm",
        Override::Status(503, vec![("Retry-After".into(), "3600".into())], vec![]),
    );
    let s = d
        .wait_for("the 503", WAIT, |s| failed_at_least(s, "leadership", 1))
        .await;
    site.reset_log();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let hits: Vec<String> = site.hits().iter().map(|h| h.path.clone()).collect();
    assert!(hits.is_empty(), "the paused host was asked again: {hits:?}");
    let next = source_of(&s, "headlines").expect("entry")["next_poll"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("next_poll is a time");
    let s = d.status().await.expect("status");
    let next_now = source_of(&s, "headlines").expect("entry")["next_poll"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("next_poll is a time");
    assert!(
        next_now.max(next) > chrono::Utc::now() + chrono::Duration::minutes(50),
        "headlines should wait for the host's hour: {next_now}"
    );
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn layout_change_counts_as_failure_and_keeps_the_feed() {
    let site = portal().await;
    let setup = DaemonSetup::new("", &leadership(&site, ""));
    let d = setup.start().await;
    let s = d
        .wait_for("the baseline poll", WAIT, |s| {
            baseline_done(s, "leadership")
        })
        .await;
    let before = feed_ids(&d, "/feeds/leadership.atom").await;
    assert_eq!(before.len() as u64, items(&s, "leadership"));
    site.set(
        "/zqzf/ldhd.htm",
        html(
            "<html><body><h1>网站改版中</h1><p>敬请期待</p></body></html>"
                .as_bytes()
                .to_vec(),
        ),
    );
    let s = d
        .wait_for("the layout change", WAIT, |s| {
            failed_at_least(s, "leadership", 1)
        })
        .await;
    let entry = source_of(&s, "leadership").expect("entry");
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("no items"),
        "{entry}"
    );
    assert_eq!(feed_ids(&d, "/feeds/leadership.atom").await, before);
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_adds_a_source_and_a_bad_config_keeps_the_running_one() {
    let site = portal().await;
    let setup = DaemonSetup::new("", &leadership(&site, ""));
    let d = setup.start().await;
    d.wait_for("the baseline poll", WAIT, |s| {
        baseline_done(s, "leadership")
    })
    .await;
    let headlines = source(
        "headlines",
        &site.url("/xwzx/ttxw.htm"),
        &format!("title = \"头条新闻\"\nschedule = \"{EVERY_SECOND}\"\nfetch_articles = false"),
    );
    setup.write("", &format!("{}{headlines}", leadership(&site, "")));
    d.signal("HUP");
    d.wait_for("the added source", WAIT, |s| baseline_done(s, "headlines"))
        .await;
    assert!(!feed_ids(&d, "/feeds/headlines.rss").await.is_empty());

    setup.write("colour = \"blue\"", &leadership(&site, ""));
    d.signal("HUP");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s = d.status().await.expect("still answering");
    assert!(
        source_of(&s, "headlines").is_some(),
        "the running config was kept"
    );
    assert!(
        d.log_text().contains("service.colour"),
        "the bad key is logged"
    );
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_pages_metrics_and_the_admin_token() {
    let site = portal().await;
    let setup = DaemonSetup::new("", &leadership(&site, ""));
    let d = setup.start().await;
    d.wait_for("the baseline poll", WAIT, |s| {
        baseline_done(s, "leadership")
    })
    .await;
    let s = d.status().await.expect("status");
    for key in [
        "id",
        "title",
        "list_url",
        "last_poll",
        "last_success",
        "next_poll",
        "consecutive_failures",
        "last_error",
        "items",
        "new_last_poll",
    ] {
        assert!(
            source_of(&s, "leadership")
                .expect("entry")
                .get(key)
                .is_some(),
            "{key}"
        );
    }
    assert!(s["outbox"]["queued"].is_u64());
    let (code, page) = d.get("/status").await.expect("page");
    assert_eq!(code, 200);
    assert!(
        page.contains("lang=\"zh-CN\"") && page.contains("运行状态") && page.contains("领导活动")
    );
    let (code, metrics) = d.get("/metrics").await.expect("metrics");
    assert_eq!(code, 200);
    for name in [
        "portalfeed_polls_total{source=\"leadership\",outcome=\"ok\"}",
        "portalfeed_poll_duration_seconds_bucket",
        "portalfeed_fetch_bytes_total",
        "portalfeed_fetch_responses_total{status=\"200\"}",
        "portalfeed_items_stored",
        "portalfeed_outbox_queued",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    stop(d).await;

    let token = "s3cret-token-0123456789";
    setup.write(
        &format!("admin_token = \"{token}\""),
        &leadership(&site, ""),
    );
    let d = setup.start().await;
    let client = reqwest::Client::new();
    for path in ["/status", "/status.json", "/metrics"] {
        let url = setup.url(path);
        let bare = client.get(&url).send().await.expect("answer");
        assert_eq!(bare.status().as_u16(), 401, "{path} without the token");
        let bearer = client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("answer");
        assert_eq!(bearer.status().as_u16(), 200, "{path} with a Bearer token");
        let query = client
            .get(format!("{url}?token={token}"))
            .send()
            .await
            .expect("answer");
        assert_eq!(query.status().as_u16(), 200, "{path} with ?token=");
        let wrong = client
            .get(&url)
            .bearer_auth("s3cret-token-0123456788")
            .send()
            .await
            .expect("answer");
        assert_eq!(wrong.status().as_u16(), 401, "{path} with a wrong token");
    }
    let proxied = client
        .get(setup.url("/status.json"))
        .header("X-Forwarded-For", "203.0.113.9")
        .bearer_auth(token)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        proxied.status().as_u16(),
        200,
        "the token opens it from anywhere"
    );
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_pages_refuse_proxied_clients_without_a_token() {
    let site = portal().await;
    let setup = DaemonSetup::new("", &leadership(&site, ""));
    let d = setup.start().await;
    let proxied = reqwest::Client::new()
        .get(setup.url("/status.json"))
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .expect("answer");
    assert_eq!(proxied.status().as_u16(), 403);
    let (code, _) = d.get("/feeds/leadership.rss").await.expect("feed");
    assert_eq!(code, 200, "feeds stay public");
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_digests_wait_for_daily_at_while_polls_keep_running() {
    let smtp = SmtpServer::start().await;
    let site = portal().await;
    // "Daily" at a second 10 s from now (Shanghai time), so the test need not wait for 08:00.
    let tick = chrono::Utc::now() + chrono::Duration::seconds(10);
    let local = tick.with_timezone(&chrono_tz::Asia::Shanghai);
    let daily = local.format("%S %M %H * * *").to_string();
    let mail = format!("{}daily_at = \"{daily}\"\n", email(&smtp.url()));
    let setup = DaemonSetup::new("", &format!("{}{mail}", leadership(&site, "")));
    let out = common::run_binary(
        &setup.config_path,
        &[
            "subscribers",
            "add",
            "staff@example.com",
            "--schedule",
            "daily",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = setup.start().await;
    d.wait_for("the baseline poll", WAIT, |s| {
        baseline_done(s, "leadership")
    })
    .await;
    site.clear("/zqzf/ldhd.htm");
    d.wait_for("the new items", WAIT, |s| {
        items(s, "leadership") > 0
            && source_of(s, "leadership").is_some_and(|x| x["new_last_poll"].as_u64() > Some(0))
    })
    .await;
    let early = (tick - chrono::Utc::now()).to_std().unwrap_or_default();
    assert!(
        early > Duration::from_secs(1),
        "the test machine is too slow for this test"
    );
    tokio::time::sleep(early - Duration::from_millis(800)).await;
    assert!(smtp.received().is_empty(), "a daily digest before daily_at");
    // Sources poll every second throughout; the tick must still be honoured.
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].to, vec!["staff@example.com".to_string()]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.received().len(), 1, "the items go out once");
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tells_systemd_ready_watchdog_and_stopping() {
    let site = portal().await;
    let setup = DaemonSetup::new("", &leadership(&site, ""));
    let socket_path = setup.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let path = socket_path.to_string_lossy().to_string();
    let d = setup
        .start_with(&[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "1000000")])
        .await;
    let receive = |want: &'static str| {
        let mut buf = [0u8; 4096];
        let mut seen = Vec::new();
        loop {
            let n = socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no {want} (got {seen:?}): {e}"));
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            if text.lines().any(|l| l == want) {
                return;
            }
            seen.push(text);
        }
    };
    receive("READY=1");
    receive("WATCHDOG=1");
    d.signal("TERM");
    receive("STOPPING=1");
    let (status, _) = d.stop_after_signal().await;
    assert!(status.success());
}

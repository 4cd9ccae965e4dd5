//! `kill -9` of `portalfeed run` at the worst moments — a poll in flight, a digest composed but
//! not yet delivered — then a restart: no item lost or doubled in the feed, no mail sent twice or
//! skipped.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::daemon::{DaemonSetup, Running, source_of};
use common::smtp::SmtpServer;
use common::{Override, Site, source};
use mail_parser::MessageParser;

const WAIT: Duration = Duration::from_secs(30);

fn html(bytes: Vec<u8>) -> Override {
    Override::Body(bytes, "text/html; charset=utf-8".into())
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(common::fixtures().join("sites/vsb").join(path)).expect("fixture")
}

fn config(site: &Site, smtp_port: u16) -> String {
    format!(
        "{}[email]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\n\
         from = \"城中区政务信息订阅 <subscribe@example.gov.cn>\"\nsecret = \"test-secret-0123456789\"\n",
        source(
            "leadership",
            &site.url("/zqzf/ldhd.htm"),
            "title = \"领导活动\"\nschedule = \"* * * * * *\"\nfetch_articles = false",
        )
    )
}

fn items(s: &serde_json::Value) -> u64 {
    source_of(s, "leadership")
        .and_then(|x| x["items"].as_u64())
        .unwrap_or(0)
}

async fn feed_ids(d: &Running) -> Vec<String> {
    let (code, body) = d
        .get("/feeds/leadership.atom?limit=500")
        .await
        .expect("feed");
    assert_eq!(code, 200, "{body}");
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("feed parses");
    feed.entries.into_iter().map(|e| e.id).collect()
}

/// An SMTP "server" that accepts connections and never says a word.
async fn stalling_smtp() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_poll_then_restart_loses_and_doubles_nothing() {
    let site = Site::start("vsb").await;
    site.set("/zqzf/ldhd.htm", html(fixture("zqzf/ldhd/1.htm")));
    let setup = DaemonSetup::new("", &config(&site, common::daemon::free_port()));
    let d = setup.start().await;
    let s = d
        .wait_for("the baseline poll", WAIT, |s| {
            source_of(s, "leadership").is_some_and(|x| x["last_success"].is_string())
        })
        .await;
    let baseline = items(&s);

    // The next poll hangs on the list page (up to the 3 s fetch timeout): kill it mid-flight.
    site.set("/zqzf/ldhd.htm", Override::Hang);
    let asked = site.hits_of("/zqzf/ldhd.htm");
    let started = std::time::Instant::now();
    while site.hits_of("/zqzf/ldhd.htm") == asked {
        assert!(started.elapsed() < WAIT, "no poll started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.kill9().await;

    site.clear("/zqzf/ldhd.htm");
    let d = setup.start().await;
    let s = d
        .wait_for("the new items", WAIT, |s| items(s) > baseline)
        .await;
    let ids = feed_ids(&d).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item twice in the feed");
    assert_eq!(ids.len() as u64, items(&s));
    // Every item of both list pages is there once.
    let store = portalfeed::store::Store::open(&setup.db_path()).expect("open");
    assert_eq!(store.item_count().expect("count") as u64, items(&s));
    stop(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_send_then_restart_sends_each_digest_once() {
    let site = Site::start("vsb").await;
    site.set("/zqzf/ldhd.htm", html(fixture("zqzf/ldhd/1.htm")));
    let (port, stall) = stalling_smtp().await;
    let setup = DaemonSetup::new("", &config(&site, port));
    let out = common::run_binary(
        &setup.config_path,
        &[
            "subscribers",
            "add",
            "resident@example.com",
            "--schedule",
            "immediate",
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
        source_of(s, "leadership").is_some_and(|x| x["last_success"].is_string())
    })
    .await;
    site.clear("/zqzf/ldhd.htm");
    // New items: the digest is composed into the outbox, and its delivery stalls.
    d.wait_for("a queued digest", WAIT, |s| {
        s["outbox"]["queued"].as_u64() >= Some(1)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.kill9().await;
    stall.abort();
    let _ = stall.await;

    let smtp = SmtpServer::start_on(port).await;
    let d = setup.start().await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, vec!["resident@example.com".to_string()]);
    let parsed = MessageParser::default()
        .parse(&mails[0].data)
        .expect("MIME");
    let id = parsed.message_id().unwrap_or_default().to_string();
    assert!(
        id.starts_with("digest-1@"),
        "the Message-ID composed before the kill: {id}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.received().len(), 1, "sent once");
    let s = d.status().await.expect("status");
    assert_eq!(s["outbox"]["sent"], 1);
    assert_eq!(s["outbox"]["queued"], 0);
    stop(d).await;
}

async fn stop(d: Running) {
    let (status, took) = d.stop().await;
    assert!(status.success(), "exit {status:?}");
    assert!(took < Duration::from_secs(10), "SIGTERM took {took:?}");
}

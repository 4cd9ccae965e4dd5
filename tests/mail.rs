//! Email digests against a real SMTP server on 127.0.0.1, parsed with an independent MIME parser
//! (mail-parser): who gets what, exactly once, through server outages, 4xx and 5xx answers; the
//! message's structure and headers; one-click unsubscribe.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::smtp::{Mode, SmtpServer};
use common::{Override, Setup, Site, ok, source};
use mail_parser::MessageParser;
use portalfeed::mail::{self, Report};

/// `leadership` (and optionally a second source listing the same page) whose first poll, the
/// baseline, sees only the last list page; the next poll sees page 1's 12 new items.
async fn portal(extra_source: bool, smtp: &SmtpServer, schedule_extra: &str) -> (Site, Setup) {
    let site = Site::start("vsb").await;
    let last = std::fs::read(common::fixtures().join("sites/vsb/zqzf/ldhd/1.htm")).unwrap();
    site.set(
        "/zqzf/ldhd.htm",
        Override::Body(last.clone(), "text/html; charset=utf-8".into()),
    );
    site.set(
        "/zqzf/copy.htm",
        Override::Body(last, "text/html; charset=utf-8".into()),
    );
    let mut sources = source(
        "leadership",
        &site.url("/zqzf/ldhd.htm"),
        "title = \"领导活动\"\nfetch_articles = false",
    );
    if extra_source {
        sources.push_str(&source(
            "copy",
            &site.url("/zqzf/copy.htm"),
            "title = \"转载\"\nfetch_articles = false",
        ));
    }
    let email = format!(
        "[email]\nsmtp_url = \"{}\"\nfrom = \"城中区政务信息订阅 <subscribe@example.gov.cn>\"\nreply_to = \"office@example.gov.cn\"\nsecret = \"test-secret-0123456789\"\n{schedule_extra}\n",
        smtp.url()
    );
    let setup = Setup::new(&format!("{sources}{email}"));
    let reports = setup.poll(None).await;
    ok(&reports, "leadership");
    (site, setup)
}

async fn new_items(site: &Site, setup: &Setup) {
    site.clear("/zqzf/ldhd.htm");
    let full = std::fs::read(common::fixtures().join("sites/vsb/zqzf/ldhd.htm")).unwrap();
    site.set(
        "/zqzf/copy.htm",
        Override::Body(full, "text/html; charset=utf-8".into()),
    );
    for r in setup.poll(None).await {
        assert!(r.result.is_ok(), "{:?}", r.result);
    }
}

fn subscribe(setup: &Setup, email: &str, sources: &[&str], schedule: &str) -> i64 {
    let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
    setup
        .store()
        .upsert_subscriber(email, &sources, schedule, "active")
        .unwrap()
        .0
        .id
}

async fn send(setup: &Setup, all: bool) -> Report {
    let config = setup.config();
    mail::send_digests(&config, setup.store(), all, false)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_digest_carries_new_items_once_with_list_headers_and_both_parts() {
    let smtp = SmtpServer::start().await;
    let (site, setup) = portal(false, &smtp, "").await;
    subscribe(&setup, "resident@example.cn", &["leadership"], "immediate");
    assert_eq!(
        send(&setup, false).await,
        Report::default(),
        "the baseline is never mailed"
    );
    new_items(&site, &setup).await;
    let report = send(&setup, false).await;
    assert_eq!((report.composed, report.sent), (1, 1));
    let received = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received[0].to, vec!["resident@example.cn".to_string()]);
    let raw = &received[0].data;
    let message = MessageParser::default().parse(raw).expect("a MIME message");
    let subject = message.subject().unwrap();
    assert!(
        subject.starts_with("城中区政务信息订阅：领导活动 12 条新信息（"),
        "{subject}"
    );
    assert!(
        String::from_utf8_lossy(raw).contains("Subject: =?utf-8?"),
        "RFC 2047-encoded subject"
    );
    let from = message.from().and_then(|f| f.first()).unwrap();
    assert_eq!(
        (from.name(), from.address()),
        (Some("城中区政务信息订阅"), Some("subscribe@example.gov.cn"))
    );
    assert_eq!(message.message_id(), Some("digest-1@example.gov.cn"));
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    assert!(
        header("List-Unsubscribe").starts_with("<http://127.0.0.1:8080/unsubscribe/"),
        "{}",
        header("List-Unsubscribe")
    );
    assert_eq!(
        header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(header("Auto-Submitted"), "auto-generated");
    assert!(header("List-Id").contains("digest.example.gov.cn"));
    assert!(!header("Date").is_empty());
    let text = message.body_text(0).unwrap();
    let html = message.body_html(0).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("expected.json")).unwrap(),
    )
    .unwrap();
    let page_one = expected["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["path"] == "/zqzf/ldhd.htm")
        .unwrap();
    for item in page_one["items"].as_array().unwrap() {
        let title = item["title"].as_str().unwrap();
        assert!(
            text.contains(title) && html.contains(title),
            "{title} in both parts"
        );
        let url = item["url"].as_str().unwrap();
        let absolute = if url.starts_with("http") {
            url.to_string()
        } else {
            site.url(url)
        };
        assert!(text.contains(&absolute), "the text part carries {absolute}");
    }
    assert!(text.contains("【领导活动】") && text.contains("退订："));
    // The signed manage link, in both parts, names this subscriber (id 1) and verifies.
    let manage = text
        .lines()
        .find_map(|l| l.strip_prefix("管理订阅（更改栏目或频率）："))
        .expect("a manage link in the text part")
        .trim()
        .to_string();
    assert!(
        html.contains(&manage),
        "the same manage link in the HTML part"
    );
    let token = manage.rsplit('/').next().unwrap();
    assert_eq!(
        portalfeed::mail::optin::verify_manage(b"test-secret-0123456789", token),
        Some(1)
    );
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "no remote images, no scripts"
    );
    assert_eq!(
        send(&setup, true).await.composed,
        0,
        "nothing is sent twice"
    );
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn an_item_in_two_of_ones_sources_is_mailed_once() {
    let smtp = SmtpServer::start().await;
    let (site, setup) = portal(true, &smtp, "").await;
    subscribe(
        &setup,
        "both@example.cn",
        &["leadership", "copy"],
        "immediate",
    );
    new_items(&site, &setup).await;
    assert_eq!(send(&setup, false).await.sent, 1);
    let received = smtp.wait_for(1, Duration::from_secs(5)).await;
    let message = MessageParser::default().parse(&received[0].data).unwrap();
    assert!(
        message.subject().unwrap().contains(" 12 条新信息"),
        "{:?}",
        message.subject()
    );
    let text = message.body_text(0).unwrap();
    assert_eq!(
        text.matches("马永清主持召开区政府第三十二次常务会议")
            .count(),
        1,
        "listed once"
    );
}

#[tokio::test]
async fn smtp_down_then_back_loses_and_doubles_nothing() {
    let smtp = SmtpServer::start().await;
    let port = smtp.port();
    let (site, setup) = portal(false, &smtp, "").await;
    subscribe(&setup, "resident@example.cn", &["leadership"], "immediate");
    new_items(&site, &setup).await;
    smtp.stop().await;
    let report = send(&setup, false).await;
    assert_eq!((report.composed, report.sent, report.retrying), (1, 0, 1));
    let queued = setup.store().outbox_status(1).unwrap().unwrap();
    assert_eq!((queued.0.as_str(), queued.1), ("queued", 1));
    let smtp = SmtpServer::start_on(port).await;
    assert_eq!(
        send(&setup, false).await,
        Report::default(),
        "backoff: not yet"
    );
    let report = send(&setup, true).await;
    assert_eq!(
        (report.composed, report.sent),
        (0, 1),
        "--now sends the queued digest, composes nothing new"
    );
    let received = smtp.wait_for(1, Duration::from_secs(5)).await;
    let message = MessageParser::default().parse(&received[0].data).unwrap();
    assert_eq!(
        message.message_id(),
        Some("digest-1@example.gov.cn"),
        "the same message as composed before"
    );
    assert_eq!(send(&setup, true).await, Report::default());
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn a_4xx_is_retried_and_a_5xx_is_recorded_and_suspends() {
    let smtp = SmtpServer::start().await;
    let (site, setup) = portal(false, &smtp, "").await;
    let id = subscribe(&setup, "busy@example.cn", &["leadership"], "immediate");
    new_items(&site, &setup).await;
    smtp.set_mode(Mode::RejectRcpt(450, "4.2.1 mailbox busy".into()));
    assert_eq!(send(&setup, false).await.retrying, 1);
    smtp.set_mode(Mode::Accept);
    assert_eq!(send(&setup, true).await.sent, 1);
    assert_eq!(smtp.received().len(), 1);

    let store = setup.store();
    for n in 0..3 {
        smtp.set_mode(Mode::RejectRcpt(550, "5.1.1 no such user".into()));
        // A fresh queued digest each round.
        let outbox = store
            .queue_digest(id, "busy@example.cn", &[format!("synthetic-{n}")], |oid| {
                (
                    format!("<digest-{oid}@example.gov.cn>"),
                    b"Subject: x\r\n\r\nx\r\n".to_vec(),
                )
            })
            .unwrap();
        let report = send(&setup, true).await;
        assert_eq!(report.failed, 1, "round {n}");
        let status = store.outbox_status(outbox.unwrap()).unwrap().unwrap();
        assert_eq!(status.0, "failed");
        assert!(
            status.2.unwrap().contains("no such user"),
            "the server's reply is kept"
        );
    }
    assert_eq!(
        store.subscriber_by_id(id).unwrap().unwrap().status,
        "suspended"
    );
}

#[tokio::test]
async fn one_click_unsubscribe_and_tampered_tokens() {
    let smtp = SmtpServer::start().await;
    let (site, setup) = portal(false, &smtp, "").await;
    let id = subscribe(&setup, "leaving@example.cn", &["leadership"], "immediate");
    new_items(&site, &setup).await;
    send(&setup, false).await;
    let received = smtp.wait_for(1, Duration::from_secs(5)).await;
    let message = MessageParser::default().parse(&received[0].data).unwrap();
    let link = message
        .header_raw("List-Unsubscribe")
        .unwrap()
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(portalfeed::web::AppState::new(setup.config(), setup.store()).unwrap());
    tokio::spawn(portalfeed::web::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let page = client.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("确认退订"));
    assert_eq!(
        setup.store().subscriber_by_id(id).unwrap().unwrap().status,
        "active",
        "GET changes nothing"
    );
    let forged = path.replacen(
        &format!("/unsubscribe/{id}."),
        &format!("/unsubscribe/{}.", id + 1),
        1,
    );
    let bad = client
        .post(format!("{base}{forged}"))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let done = client
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(
        setup.store().subscriber_by_id(id).unwrap().unwrap().status,
        "unsubscribed"
    );
}

#[tokio::test]
async fn the_cli_manages_subscribers_and_refuses_bad_addresses() {
    let smtp = SmtpServer::start().await;
    let (_site, setup) = portal(false, &smtp, "").await;
    for bad in [
        "no-at.example.cn",
        "a@@b.cn",
        "@example.cn",
        "a@b.cn\r\nBcc: x@y.cn",
    ] {
        let out = setup.run(&["subscribers", "add", bad]).await;
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    let out = setup
        .run(&[
            "subscribers",
            "add",
            "staff@example.gov.cn",
            "--sources",
            "nope",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source \"nope\""));
    let out = setup
        .run(&[
            "subscribers",
            "add",
            "staff@example.gov.cn",
            "--schedule",
            "weekly",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = setup
        .run(&[
            "subscribers",
            "add",
            "staff@example.gov.cn",
            "--schedule",
            "daily",
        ])
        .await;
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("updated"));
    let out = setup.run(&["subscribers", "list"]).await;
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(list.lines().count(), 1, "never a second row: {list}");
    assert!(
        list.starts_with("staff@example.gov.cn\tactive\tleadership\tdaily\tlast digest never"),
        "{list}"
    );
    let out = setup
        .run(&["digest", "preview", "staff@example.gov.cn"])
        .await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing new"));
    let out = setup
        .run(&["subscribers", "remove", "staff@example.gov.cn"])
        .await;
    assert!(out.status.success());
    let out = setup.run(&["subscribers", "list"]).await;
    assert!(out.stdout.is_empty());
}

/// Runs dkimpy (an independent DKIM implementation) on `message`, the selector's TXT record
/// answered from the test key's file.
fn dkim_verifies(message: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let eml = dir.path().join("m.eml");
    std::fs::write(&eml, message).unwrap();
    let fixtures = common::fixtures().join("mail");
    let out = std::process::Command::new("python3")
        .arg(fixtures.join("verify_dkim.py"))
        .arg(&eml)
        .arg(fixtures.join("dkim-test.txt"))
        .output()
        .expect("python3 with dkimpy (pip install dkimpy; .ci/run does)");
    let verdict = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        verdict == "pass" || verdict == "fail",
        "verifier: {verdict} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success()
}

#[tokio::test]
async fn digests_are_dkim_signed_so_that_an_independent_verifier_accepts_them() {
    let smtp = SmtpServer::start().await;
    let key = common::fixtures().join("mail/dkim-test.pem");
    let dkim = format!(
        "\n[email.dkim]\ndomain = \"example.gov.cn\"\nselector = \"test\"\nprivate_key_file = \"{}\"\n",
        key.display()
    );
    let (site, setup) = portal(false, &smtp, &dkim).await;
    subscribe(&setup, "resident@example.cn", &["leadership"], "immediate");
    new_items(&site, &setup).await;
    assert_eq!(send(&setup, false).await.sent, 1);
    let received = smtp.wait_for(1, Duration::from_secs(5)).await;
    let raw = &received[0].data;
    let text = String::from_utf8_lossy(raw).to_string();
    assert!(text.starts_with("DKIM-Signature: ") || text.contains("\r\nDKIM-Signature: "));
    assert!(
        text.contains("d=example.gov.cn") && text.contains("s=test"),
        "{}",
        &text[..600.min(text.len())]
    );
    assert!(dkim_verifies(raw), "the signature verifies");
    // One changed byte in the body, or a changed subject, and it no longer does.
    let body_at = text.find("\r\n\r\n").unwrap() + 40;
    let mut tampered = raw.clone();
    tampered[body_at] = if tampered[body_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    assert!(!dkim_verifies(&tampered), "a changed body fails");
    let forged = text.replacen("Subject: ", "Subject: Re: ", 1);
    assert!(!dkim_verifies(forged.as_bytes()), "a changed subject fails");
}

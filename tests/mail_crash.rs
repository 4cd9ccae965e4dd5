//! A `portalfeed digest send` process killed (SIGKILL) between composing and sending: the real
//! binary, against an SMTP server on 127.0.0.1 that accepts connections and never says a word, is
//! killed once its outbox rows are in the database (read here through a read-only connection).
//! The next run, against a working server, sends each composed digest exactly once, as composed
//! (same Message-ID, same bytes); the run after that sends nothing.

mod common;
mod mail_support;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::smtp::SmtpServer;
use tokio::net::TcpListener;

const SUBSCRIBERS: [&str; 3] = [
    "a-resident@example.cn",
    "b-resident@example.cn",
    "c-resident@example.cn",
];

/// Accepts connections on 127.0.0.1 and holds them open without ever answering. Returns the URL
/// and a counter of the connections accepted.
async fn silent_server() -> (String, tokio::sync::watch::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::watch::channel(0);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
            tx.send_replace(held.len());
        }
    });
    (url, rx)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_send_killed_after_composing_is_sent_once_by_the_next_run() {
    let (silent_url, mut connected) = silent_server().await;
    let setup = mail_support::setup(&silent_url, "");
    mail_support::mailable(&setup, &SUBSCRIBERS);

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_portalfeed"))
        .arg("--config")
        .arg(&setup.config_path)
        .args(["digest", "send"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start portalfeed");
    // Composed (all three rows, with their messages) and stuck in SMTP (connected, unanswered).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = if setup.db_path().exists() {
            mail_support::outbox(&setup)
        } else {
            Vec::new()
        };
        let composed = rows.len() == SUBSCRIBERS.len()
            && rows.iter().all(|r| r.1 == "queued" && !r.3.is_empty());
        if composed && *connected.borrow_and_update() > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no outbox rows and connection after 30 s: {:?}",
            rows.iter().map(|r| (&r.1, &r.2)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9), "killed, not exited: {status:?}");
    let composed = mail_support::outbox(&setup);
    assert!(composed.iter().all(|r| r.1 == "queued"), "nothing sent yet");

    let smtp = SmtpServer::start().await;
    let config = std::fs::read_to_string(&setup.config_path).unwrap();
    std::fs::write(&setup.config_path, config.replace(&silent_url, &smtp.url())).unwrap();
    let out = setup.run(&["digest", "send"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("digests: 0 composed, 3 sent, 0 queued for retry, 0 failed"),
        "{}",
        text(&out.stdout)
    );
    let received = smtp.wait_for(3, Duration::from_secs(5)).await;
    let mut recipients: Vec<String> = received.iter().flat_map(|r| r.to.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, SUBSCRIBERS, "one message per subscriber");
    for (id, _, message_id, bytes) in &composed {
        assert_eq!(message_id, &format!("<digest-{id}@example.gov.cn>"));
        let arrived: Vec<_> = received
            .iter()
            .filter(|r| text(&r.data).contains(&format!("Message-ID: {message_id}\r\n")))
            .collect();
        assert_eq!(arrived.len(), 1, "{message_id} arrived once");
        assert!(
            mail_support::same_message(&arrived[0].data, bytes),
            "{message_id} as composed before the kill"
        );
    }
    assert!(
        mail_support::outbox(&setup).iter().all(|r| r.1 == "sent"),
        "the outbox shows them sent"
    );
    let list = text(&setup.run(&["subscribers", "list"]).await.stdout);
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(
        list.lines().all(|l| !l.ends_with("last digest never")),
        "{list}"
    );

    let out = setup.run(&["digest", "send", "--now"]).await;
    assert!(
        text(&out.stdout).contains("digests: 0 composed, 0 sent"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(smtp.received().len(), 3, "the third run sends nothing");
}

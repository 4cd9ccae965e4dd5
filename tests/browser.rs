//! The public page in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/run`) driven over WebDriver by fantoccini, against
//! `portalfeed serve` on 127.0.0.1 with a real SMTP server on 127.0.0.1. A resident finds the feeds
//! through the autodiscovery tags, subscribes, reads the confirmation mail, opens its link and is
//! active; bad input is answered on the page; the page fits a phone; the manage link works.
//! Screenshots go to `target/tmp/screenshots/` for a human to look at.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::daemon::free_port;
use common::public::public;
use fantoccini::{Client, ClientBuilder, Locator};
use mail_parser::MessageParser;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

async fn browser() -> Browser {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (bash .ci/run does)"
        );
    }
    let port = free_port();
    let driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                "--lang=zh-CN",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!("a JSON object")
    };
    let client = ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Browser {
        client,
        _driver: driver,
        _profile: profile,
    }
}

async fn shot(c: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

async fn fill_and_submit(c: &Client, email: &str, untick: &[&str], schedule: &str) {
    let field = c
        .find(Locator::Id("email-address"))
        .await
        .expect("email field");
    field.clear().await.expect("clear");
    if !email.is_empty() {
        field.send_keys(email).await.expect("type");
    }
    for id in untick {
        let boxed = c
            .find(Locator::Css(&format!("input[name=sources][value={id}]")))
            .await
            .expect("checkbox");
        if boxed.prop("checked").await.expect("checked").as_deref() == Some("true") {
            boxed.click().await.expect("untick");
        }
    }
    c.find(Locator::Css(&format!(
        "input[name=schedule][value={schedule}]"
    )))
    .await
    .expect("radio")
    .click()
    .await
    .expect("choose");
    c.find(Locator::Css(
        "form[action^='/subscribe'] button[type=submit]",
    ))
    .await
    .expect("button")
    .click()
    .await
    .expect("submit");
}

async fn message(c: &Client) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("p.message"))
        .await
        .expect("a message on the page")
        .text()
        .await
        .expect("text")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resident_finds_the_feeds_subscribes_confirms_and_manages_in_chromium() {
    let p = public().await;
    let b = browser().await;
    let c = &b.client;
    c.goto(&p.setup.url("/")).await.expect("open the page");
    assert_eq!(
        c.title().await.expect("title"),
        "西宁市城中区人民政府信息订阅"
    );
    shot(c, "01-page-desktop").await;

    // Autodiscovery: every alternate link is a feed that an independent parser reads.
    let links = c
        .find_all(Locator::Css("head link[rel=alternate]"))
        .await
        .expect("links");
    assert!(links.len() >= 4, "{} alternate links", links.len());
    let mut kinds = Vec::new();
    for l in links {
        let href = l.attr("href").await.expect("href").expect("an href");
        kinds.push(l.attr("type").await.expect("type").unwrap_or_default());
        let body = reqwest::get(&href)
            .await
            .expect("feed")
            .bytes()
            .await
            .expect("body");
        let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{href}: {e}"));
        assert!(!feed.entries.is_empty(), "{href} has entries");
    }
    assert!(kinds.iter().any(|k| k == "application/rss+xml"));
    assert!(kinds.iter().any(|k| k == "application/atom+xml"));

    // Subscribe: headlines only, immediate.
    fill_and_submit(c, "resident@example.com", &["leadership"], "immediate").await;
    let said = message(c).await;
    assert!(said.contains("确认邮件已发送"), "{said}");
    shot(c, "02-subscribed").await;
    let mail = p.smtp.wait_for(1, Duration::from_secs(15)).await;
    let parsed = MessageParser::default().parse(&mail[0].data).expect("MIME");
    assert!(parsed.subject().unwrap_or_default().contains("请确认订阅"));
    let text = parsed.body_text(0).expect("text").to_string();
    let link = text[text.find("http://").expect("link")..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string();
    c.goto(&link).await.expect("open the confirmation link");
    let body = c
        .find(Locator::Css("main"))
        .await
        .expect("main")
        .text()
        .await
        .expect("text");
    assert!(
        body.contains("订阅成功") && body.contains("头条新闻") && !body.contains("领导活动"),
        "{body}"
    );
    shot(c, "03-confirmed").await;
    let list = common::run_binary(&p.setup.config_path, &["subscribers", "list"]).await;
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    let line = list
        .lines()
        .find(|l| l.contains("resident@example.com"))
        .expect("listed");
    assert!(
        line.contains("active") && line.contains("immediate") && line.contains("headlines"),
        "{line}"
    );

    // Manage: switch to weekly.
    c.find(Locator::Css("a[href*=\"/manage/\"]"))
        .await
        .expect("manage link")
        .click()
        .await
        .expect("click");
    c.find(Locator::Css("input[name=schedule][value=weekly]"))
        .await
        .expect("radio")
        .click()
        .await
        .expect("weekly");
    c.find(Locator::Css("form[action^='/manage'] button"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    assert!(message(c).await.contains("已保存"));
    shot(c, "04-managed").await;
    let list = common::run_binary(&p.setup.config_path, &["subscribers", "list"]).await;
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        list.lines()
            .any(|l| l.contains("resident@example.com") && l.contains("weekly")),
        "{list}"
    );
    let _ = b.client.clone().close().await;
    drop(p.server);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_answered_in_the_browser_and_the_page_fits_a_phone() {
    let p = public().await;
    let b = browser().await;
    let c = &b.client;
    let long = format!("{}@example.com", "a".repeat(250));
    let cases = [
        ("", &[][..], "请填写电子邮箱"),
        ("not-an-address", &[][..], "不是有效的电子邮箱"),
        ("a@b@example.com", &[][..], "不是有效的电子邮箱"),
        // The field's maxlength cuts typing at 254; the server refuses what is left.
        (long.as_str(), &[][..], "电子邮箱"),
        (
            "someone@example.com",
            &["headlines", "leadership"][..],
            "至少选择一个栏目",
        ),
    ];
    for (i, (email, untick, expected)) in cases.iter().enumerate() {
        c.goto(&p.setup.url("/")).await.expect("open");
        fill_and_submit(c, email, untick, "daily").await;
        let said = message(c).await;
        assert!(said.contains(expected), "{email:?}: {said}");
        let kept = c
            .find(Locator::Id("email-address"))
            .await
            .expect("field")
            .prop("value")
            .await
            .expect("value");
        let typed: String = email.chars().take(254).collect();
        assert_eq!(
            kept.as_deref().unwrap_or(""),
            typed,
            "what was typed is kept"
        );
        shot(c, &format!("05-bad-input-{i}")).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(p.smtp.received().is_empty(), "no mail for bad input");

    // A phone: nothing wider than the screen, the form usable.
    c.set_window_size(390, 844).await.expect("phone size");
    c.goto(&p.setup.url("/")).await.expect("open");
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        fits,
        serde_json::Value::Bool(true),
        "no horizontal scrolling on a phone"
    );
    shot(c, "06-phone").await;
    c.find(Locator::Id("email-address"))
        .await
        .expect("field")
        .click()
        .await
        .expect("reachable on a phone");
    let _ = b.client.clone().close().await;
}

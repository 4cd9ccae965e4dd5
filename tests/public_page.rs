//! The public page and the double opt-in over HTTP (the browser test drives the same in Chromium):
//! valid HTML whose every link answers; bad input answered on the page with no mail; the abuse
//! guards (form token, Origin, honeypot, rate limit); a pending address mailed at most once an
//! hour; an active address changed only through its new link; nothing leaks who is subscribed.

mod common;

use std::time::Duration;

use common::public::{Public, public};
use common::smtp::SmtpServer;
use mail_parser::MessageParser;
use reqwest::StatusCode;

fn form_token(page: &str) -> String {
    let start = page.find("name=\"token\" value=\"").expect("form token") + 20;
    page[start..]
        .split('"')
        .next()
        .expect("token value")
        .to_string()
}

/// A fresh form token, as a browser gets it with the page.
async fn token(p: &Public) -> String {
    let (_, page) = p.server.get("/").await.expect("page");
    form_token(&page)
}

/// POSTs the form from client address `ip` (the X-Forwarded-For a local proxy would add).
async fn post(p: &Public, ip: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .post(p.setup.url("/subscribe"))
        .header("X-Forwarded-For", ip)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(encode(fields))
        .send()
        .await
        .expect("answer");
    let status = r.status();
    (status, r.text().await.expect("body"))
}

fn encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn message(page: &str) -> String {
    let start = page
        .find("<p class=\"message")
        .map(|i| &page[i..])
        .unwrap_or("");
    let text = start.split_once('>').map(|(_, t)| t).unwrap_or("");
    text.split("</p>").next().unwrap_or("").to_string()
}

/// The confirmation link of a received mail (its text part).
fn confirm_link(data: &[u8]) -> String {
    let m = MessageParser::default().parse(data).expect("MIME");
    let text = m.body_text(0).expect("text part").to_string();
    let start = text.find("http://").expect("a link");
    text[start..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string()
}

async fn check_page(p: &Public, path_or_url: &str, expect: u16) -> String {
    let r = reqwest::get(if path_or_url.starts_with("http") {
        path_or_url.to_string()
    } else {
        p.setup.url(path_or_url)
    })
    .await
    .expect("answer");
    assert_eq!(r.status().as_u16(), expect, "{path_or_url}");
    let body = r.text().await.expect("body");
    let (problems, links) = common::html::check(&body);
    assert!(problems.is_empty(), "{path_or_url}: {problems:#?}");
    let base = url::Url::parse(&p.setup.url("/")).expect("base");
    for link in links {
        if link.starts_with("/subscribe")
            || link.starts_with("/manage/") && body.contains(&format!("action=\"{link}\""))
            || link.starts_with("/unsubscribe/")
        {
            continue; // form actions (POST); their GETs are checked where they are links
        }
        let url = base.join(&link).expect("link resolves");
        let status = reqwest::get(url.clone())
            .await
            .expect("link answers")
            .status();
        assert_eq!(status.as_u16(), 200, "{path_or_url}: link {url}");
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_and_the_opt_in_pages_are_valid_html_whose_links_all_answer() {
    let p = public().await;
    let page = check_page(&p, "/", 200).await;
    assert!(
        page.contains("<html lang=\"zh-CN\">")
            && page.contains("<title>西宁市城中区人民政府信息订阅</title>")
    );
    assert!(page.contains("rel=\"alternate\" type=\"application/rss+xml\""));
    let t = form_token(&page);
    let (status, _) = post(
        &p,
        "192.0.2.10",
        &[
            ("token", &t),
            ("email", "reader@example.com"),
            ("sources", "headlines"),
            ("schedule", "weekly"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mail = p.smtp.wait_for(1, Duration::from_secs(10)).await;
    let link = confirm_link(&mail[0].data);
    let confirmed = check_page(&p, &link, 200).await;
    assert!(
        confirmed.contains("订阅成功") && confirmed.contains("头条新闻"),
        "{confirmed}"
    );
    let manage = confirmed
        .split("href=\"")
        .find(|s| s.contains("/manage/"))
        .and_then(|s| s.split('"').next())
        .expect("manage link")
        .to_string();
    let page = check_page(&p, &manage, 200).await;
    assert!(page.contains("reader@example.com"));
    check_page(&p, "/confirm/forged.token", 400).await;
    check_page(&p, "/manage/1.forged", 400).await;
}

/// What is wrong, the form fields, and the message expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_answered_on_the_page_keeps_what_was_typed_and_mails_nothing() {
    let p = public().await;
    let long = format!("{}@example.com", "a".repeat(250));
    let cases: Vec<Case> = vec![
        (
            "no address",
            vec![
                ("email", ""),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
            "请填写电子邮箱",
        ),
        (
            "invalid",
            vec![
                ("email", "not-an-address"),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
            "不是有效的电子邮箱",
        ),
        (
            "two @",
            vec![
                ("email", "a@b@example.com"),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
            "不是有效的电子邮箱",
        ),
        (
            "empty local part",
            vec![
                ("email", "@example.com"),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
            "不是有效的电子邮箱",
        ),
        (
            "CR/LF",
            vec![
                ("email", "a@example.com\r\nBcc: victim@example.org"),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
            "不能包含换行",
        ),
        (
            "too long",
            vec![
                ("email", long.as_str()),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
            "过长",
        ),
        (
            "unknown source",
            vec![
                ("email", "a@example.com"),
                ("sources", "nosuch"),
                ("schedule", "daily"),
            ],
            "栏目不存在",
        ),
        (
            "no source",
            vec![("email", "a@example.com"), ("schedule", "daily")],
            "至少选择一个栏目",
        ),
        (
            "no schedule",
            vec![("email", "a@example.com"), ("sources", "headlines")],
            "发送频率",
        ),
    ];
    for (i, (what, fields, expected)) in cases.iter().enumerate() {
        let t = token(&p).await;
        let mut all = vec![("token", t.as_str())];
        all.extend(fields.iter().copied());
        let (status, page) = post(&p, &format!("192.0.2.{}", 20 + i), &all).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
        assert!(
            message(&page).contains(expected),
            "{what}: {}",
            message(&page)
        );
        let typed = fields
            .iter()
            .find(|(k, _)| *k == "email")
            .map(|(_, v)| *v)
            .unwrap_or("");
        if !typed.is_empty() && !typed.contains('\r') {
            assert!(
                page.contains(&format!("value=\"{typed}\"")),
                "{what}: the address typed is kept"
            );
        }
        let (problems, _) = common::html::check(&page);
        assert!(problems.is_empty(), "{what}: {problems:?}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(p.smtp.received().is_empty(), "no mail for bad input");
    let out = common::run_binary(&p.setup.config_path, &["subscribers", "list"]).await;
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("@"),
        "nobody recorded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_form_needs_its_token_and_our_origin_drops_bots_and_limits_each_client() {
    let p = public().await;
    let fields = [
        ("email", "a@example.com"),
        ("sources", "headlines"),
        ("schedule", "daily"),
    ];
    let (status, page) = post(&p, "192.0.2.40", &fields).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no token");
    assert!(message(&page).contains("页面已过期"));
    let t = token(&p).await;
    let foreign = reqwest::Client::new()
        .post(p.setup.url("/subscribe"))
        .header("Origin", "https://evil.example")
        .header("X-Forwarded-For", "192.0.2.41")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("token", t.as_str()),
            ("email", "a@example.com"),
            ("sources", "headlines"),
            ("schedule", "daily"),
        ]))
        .send()
        .await
        .expect("answer");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let (status, page) = post(
        &p,
        "192.0.2.42",
        &[
            ("token", &t),
            ("email", "bot@example.com"),
            ("sources", "headlines"),
            ("schedule", "daily"),
            ("website", "http://spam.example"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a bot sees success");
    assert!(message(&page).contains("确认邮件已发送"));
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = post(
            &p,
            "192.0.2.43",
            &[
                ("token", &t),
                ("email", "x"),
                ("sources", "headlines"),
                ("schedule", "daily"),
            ],
        )
        .await
        .0;
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the 6th submission in a minute"
    );
    let (other, _) = post(&p, "192.0.2.44", &[("token", &t), ("email", "x")]).await;
    assert_eq!(
        other,
        StatusCode::BAD_REQUEST,
        "other clients are not limited"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        p.smtp.received().is_empty(),
        "no mail: {:?}",
        p.smtp.received().len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_address_gets_one_mail_an_hour_and_an_active_one_changes_only_by_its_link() {
    let p = public().await;
    let t = token(&p).await;
    let fields = |email: &'static str, schedule: &'static str| {
        vec![
            ("token", t.clone()),
            ("email", email.to_string()),
            ("sources", "headlines".to_string()),
            ("schedule", schedule.to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>, ip: &'static str| {
        let p = &p;
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(p, ip, &f).await
        }
    };
    let (_, first) = send(fields("new@example.com", "daily"), "192.0.2.50").await;
    p.smtp.wait_for(1, Duration::from_secs(10)).await;
    let (_, again) = send(fields("new@example.com", "weekly"), "192.0.2.51").await;
    assert_eq!(message(&first), message(&again), "the same answer");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(p.smtp.received().len(), 1, "one confirmation mail an hour");

    let out = common::run_binary(
        &p.setup.config_path,
        &[
            "subscribers",
            "add",
            "staff@example.com",
            "--sources",
            "leadership",
            "--schedule",
            "daily",
        ],
    )
    .await;
    assert!(out.status.success());
    let (_, active) = send(fields("staff@example.com", "immediate"), "192.0.2.52").await;
    assert_eq!(
        message(&active),
        message(&first),
        "nothing tells an active address apart"
    );
    let mails = p.smtp.wait_for(2, Duration::from_secs(10)).await;
    let list = || async {
        String::from_utf8_lossy(
            &common::run_binary(&p.setup.config_path, &["subscribers", "list"])
                .await
                .stdout,
        )
        .to_string()
    };
    let before = list().await;
    let line = before
        .lines()
        .find(|l| l.contains("staff@example.com"))
        .expect("listed")
        .to_string();
    assert!(
        line.contains("active") && line.contains("daily") && line.contains("leadership"),
        "{line}"
    );
    let link = confirm_link(&mails[1].data);
    let r = reqwest::get(&link).await.expect("confirm");
    assert_eq!(r.status(), StatusCode::OK);
    let after = list().await;
    let line = after
        .lines()
        .find(|l| l.contains("staff@example.com"))
        .expect("listed")
        .to_string();
    assert!(
        line.contains("active") && line.contains("immediate") && line.contains("headlines"),
        "{line}"
    );
}

#[test]
fn the_html_check_catches_unclosed_tags_and_duplicate_ids() {
    let (problems, _) = common::html::check(
        "<!DOCTYPE html><html><body><div id=\"a\"><p id=\"a\">x</div></body></html>",
    );
    assert!(
        problems.iter().any(|p| p.contains("duplicate id")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("</div> closes <p>")),
        "{problems:?}"
    );
    let (problems, _) =
        common::html::check("<!DOCTYPE html><html><body><ul><li>x</ul></body></html>");
    assert!(!problems.is_empty());
    let (problems, _) =
        common::html::check("<!DOCTYPE html><html><body><p>ok<br></p></body></html>");
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirmation_that_could_not_be_sent_may_be_asked_for_again_at_once() {
    let mut p = public().await;
    let port = p.smtp.port();
    let smtp = std::mem::replace(&mut p.smtp, SmtpServer::start().await);
    smtp.stop().await;
    let t = token(&p).await;
    let fields = [
        ("token", t.as_str()),
        ("email", "later@example.com"),
        ("sources", "headlines"),
        ("schedule", "daily"),
    ];
    let (status, _) = post(&p, "192.0.2.60", &fields).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let back = SmtpServer::start_on(port).await;
    let (status, _) = post(&p, "192.0.2.61", &fields).await;
    assert_eq!(status, StatusCode::OK);
    let mails = back.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].to, vec!["later@example.com".to_string()]);
}

//! Config validation: defaults, and errors that name the key and its line.

use std::path::Path;

use super::{Config, ConfigError};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/portalfeed/portalfeed.toml"))
}

fn error(text: &str) -> (usize, String, String) {
    match parse(text) {
        Err(ConfigError::Invalid {
            line, key, message, ..
        }) => (line, key, message),
        other => panic!("expected an invalid-key error, got {other:?}"),
    }
}

const MINIMAL: &str =
    "[[source]]\nid = \"leadership\"\nlist_url = \"https://xncz.gov.cn/zqzf/ldhd.htm\"\n";

#[test]
fn only_id_and_list_url_are_required_and_the_rest_has_documented_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(
        c.service.database,
        Path::new("/etc/portalfeed/portalfeed.db")
    );
    assert_eq!(c.service.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.service.public_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(c.service.timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(c.fetch.timeout.as_secs(), 20);
    assert_eq!(c.fetch.max_body_bytes, 8_000_000);
    assert_eq!(c.fetch.per_host_delay.as_millis(), 1000);
    assert!(c.fetch.user_agent.starts_with("portalfeed/"));
    let s = &c.sources[0];
    assert_eq!(
        (
            s.title.as_str(),
            s.max_pages,
            s.fetch_articles,
            s.respect_robots,
            s.insecure_tls
        ),
        ("leadership", 1, true, true, false)
    );
    assert_eq!(s.schedule.as_str(), "*/20 * * * *");
    assert!(s.select.item.is_none() && s.select.content.is_none());
}

#[test]
fn the_shipped_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/portalfeed.toml");
    let c = Config::load(&path).unwrap();
    let ids: Vec<&str> = c.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["headlines", "leadership"]);
    assert_eq!(c.sources[1].title, "领导活动");
}

#[test]
fn errors_name_the_key_and_its_line() {
    let cases: [(&str, usize, &str, &str); 9] = [
        (
            "[fetch]\ntimeout_secs = 5\nmax_page = 3\n",
            3,
            "fetch.max_page",
            "unknown field",
        ),
        (
            "[fetch]\ntimeout_secs = \"soon\"\n",
            2,
            "fetch.timeout_secs",
            "invalid type",
        ),
        (
            "[service]\ntimezone = \"Mars/Olympus\"\n",
            2,
            "service.timezone",
            "unknown time zone",
        ),
        (
            "[service]\nlisten = \"localhost\"\n",
            2,
            "service.listen",
            "not an address",
        ),
        (
            "[[source]]\nid = \"a\"\nlist_url = \"https://x.gov.cn/\"\n[[source]]\nid = \"a\"\nlist_url = \"https://y.gov.cn/\"\n",
            5,
            "source[1].id",
            "duplicate id",
        ),
        (
            "[[source]]\nid = \"Bad_Id\"\nlist_url = \"https://x.gov.cn/\"\n",
            2,
            "source[0].id",
            "[a-z0-9-]+",
        ),
        (
            "[[source]]\nid = \"a\"\nlist_url = \"ftp://x.gov.cn/\"\n",
            3,
            "source[0].list_url",
            "http or https",
        ),
        (
            "[[source]]\nid = \"a\"\nlist_url = \"https://x.gov.cn/\"\nschedule = \"*/20 * * *\"\n",
            4,
            "source[0].schedule",
            "bad cron expression",
        ),
        (
            "[[source]]\nid = \"a\"\nlist_url = \"https://x.gov.cn/\"\n[source.select]\nitem = \"div.list li\"\ndate = \"span[\"\n",
            6,
            "source[0].select.date",
            "bad CSS selector",
        ),
    ];
    for (text, line, key, message) in cases {
        let full = if text.contains("[[source]]") {
            text.to_string()
        } else {
            format!("{text}{MINIMAL}")
        };
        let got = error(&full);
        assert_eq!((got.0, got.1.as_str()), (line, key), "{text:?}: {got:?}");
        assert!(
            got.2.contains(message),
            "{text:?}: message {:?} lacks {message:?}",
            got.2
        );
    }
}

#[test]
fn a_missing_required_key_and_an_empty_config_are_errors() {
    let (line, _, message) = error("[[source]]\nid = \"a\"\n");
    assert_eq!(line, 1);
    assert!(message.contains("list_url"), "{message}");
    assert!(matches!(parse(""), Err(ConfigError::Whole { .. })));
}

#[test]
fn displayed_errors_read_path_line_key_message() {
    let e = parse("[fetch]\nbogus = 1\n").unwrap_err().to_string();
    assert!(
        e.starts_with("/etc/portalfeed/portalfeed.toml:2: fetch.bogus: unknown field `bogus`"),
        "{e}"
    );
}

#[test]
fn unknown_keys_in_a_later_source_name_that_source() {
    let text = format!(
        "{MINIMAL}[[source]]\nid = \"b\"\nlist_url = \"https://x.gov.cn/\"\n[source.select]\nitem = \"li\"\nbogus = \"x\"\n"
    );
    let (line, key, _) = error(&text);
    assert_eq!((line, key.as_str()), (9, "source[1].select.bogus"));
}

#[test]
fn daemon_service_keys_default_to_three_failures_and_no_token() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.service.alert_after_failures, 3);
    assert_eq!(c.service.admin_token, None);
    let c = parse(&format!(
        "[service]\nalert_after_failures = 5\nadmin_token = \"0123456789abcdef0123\"\n{MINIMAL}"
    ))
    .unwrap();
    assert_eq!(c.service.alert_after_failures, 5);
    assert_eq!(
        c.service.admin_token.as_deref(),
        Some("0123456789abcdef0123")
    );
}

#[test]
fn zero_alert_threshold_and_a_short_admin_token_are_errors_with_their_lines() {
    let (line, key, _) = error(&format!("[service]\nalert_after_failures = 0\n{MINIMAL}"));
    assert_eq!((line, key.as_str()), (2, "service.alert_after_failures"));
    let (line, key, message) = error(&format!("[service]\n\nadmin_token = \"short\"\n{MINIMAL}"));
    assert_eq!((line, key.as_str()), (3, "service.admin_token"));
    assert!(message.contains("16"), "{message}");
}

#[test]
fn a_dkim_key_that_cannot_be_read_is_an_error_naming_the_key_and_the_file() {
    let text = format!(
        "{MINIMAL}[email]\nsmtp_url = \"smtp://127.0.0.1:25\"\nfrom = \"a@example.gov.cn\"\n\n[email.dkim]\ndomain = \"example.gov.cn\"\nselector = \"pf\"\nprivate_key_file = \"/nonexistent/dkim.pem\"\n"
    );
    let (line, key, message) = error(&text);
    assert_eq!((line, key.as_str()), (11, "email.dkim.private_key_file"));
    assert!(message.contains("/nonexistent/dkim.pem"), "{message}");
}

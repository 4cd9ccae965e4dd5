//! Zero-config extraction over every fixture page, table-driven from `tests/fixtures/expected.json`
//! (written by hand from the pages, independently of the extractor). Each mismatch is collected and
//! all are reported together, so one run shows the whole picture.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use portalfeed::config::Selectors;
use portalfeed::extract::{extract_article, extract_list};
use portalfeed::fetch::charset;
use serde_json::Value;
use url::Url;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
}

/// The fixture sets: the pages the extractors were developed on, a held-out set written
/// afterwards, without sight of the extractors, to check that the heuristics generalize, and an
/// unseen set written later still, blind, by someone who had not read the extractors, in CMS
/// families that neither earlier set covers, and a fourth blind set in four more families
/// (PHPCMS, EmpireCMS in GBK, SiteServer, Epoint; `blind/README.md`).
const SETS: [&str; 4] = ["", "heldout", "unseen", "blind"];

fn expected(set: &str) -> Value {
    let path = common::fixtures().join(set).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("expected.json parses")
}

/// The page's text as the fetcher would decode it (header charset from the site's `_headers`).
fn page(set: &str, site: &str, path: &str) -> (String, Url) {
    let root = common::fixtures().join(set).join("sites").join(site);
    let bytes = std::fs::read(root.join(path.trim_start_matches('/')))
        .unwrap_or_else(|e| panic!("{site}{path}: {e}"));
    let headers = std::fs::read_to_string(root.join("_headers")).unwrap_or_default();
    let content_type = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix(path)
                .and_then(|rest| rest.trim().strip_prefix("Content-Type:"))
        })
        .map(|v| v.trim().to_string());
    let decoded = charset::decode(&bytes, content_type.as_deref());
    (decoded.text, origin(site).join(path).unwrap())
}

fn origin(site: &str) -> Url {
    Url::parse(&format!("http://{site}.example/")).unwrap()
}

fn absolute(site: &str, url: &str) -> String {
    if url.starts_with("http") {
        url.to_string()
    } else {
        origin(site).join(url).unwrap().to_string()
    }
}

fn day(date: &Option<portalfeed::extract::FoundDate>) -> Option<String> {
    date.map(|d| d.at.with_timezone(&TZ).format("%Y-%m-%d").to_string())
}

#[test]
fn every_fixture_list_yields_its_items_titles_dates_and_next_page() {
    let mut problems = Vec::new();
    for (set, list) in SETS.iter().flat_map(|set| {
        expected(set)["lists"]
            .as_array()
            .unwrap()
            .clone()
            .into_iter()
            .map(move |l| (*set, l))
    }) {
        let (site, path) = (
            list["site"].as_str().unwrap(),
            list["path"].as_str().unwrap(),
        );
        let (text, url) = page(set, site, path);
        let got = extract_list(&text, &url, &Selectors::default(), TZ, now());
        let want: Vec<(String, String, Option<String>)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["title"].as_str().unwrap().to_string(),
                    absolute(site, i["url"].as_str().unwrap()),
                    i["date"].as_str().map(str::to_string),
                )
            })
            .collect();
        let have: Vec<(String, String, Option<String>)> = got
            .items
            .iter()
            .map(|i| (i.title.clone(), i.url.to_string(), day(&i.date)))
            .collect();
        if have != want {
            let show = |v: &[(String, String, Option<String>)]| {
                v.iter()
                    .map(|(t, u, d)| format!("    {} {t} <{u}>", d.as_deref().unwrap_or("-")))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            problems.push(format!(
                "{site}{path}: items differ\n  want:\n{}\n  have:\n{}",
                show(&want),
                show(&have)
            ));
        }
        let want_next = list["next"].as_str().map(|n| absolute(site, n));
        let have_next = got.next_page.map(|u| u.to_string());
        if have_next != want_next {
            problems.push(format!(
                "{site}{path}: next page want {want_next:?} have {have_next:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} list problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_fixture_article_yields_title_time_origin_body_images_and_attachments() {
    let mut problems = Vec::new();
    for (set, a) in SETS.iter().flat_map(|set| {
        expected(set)["articles"]
            .as_array()
            .unwrap()
            .clone()
            .into_iter()
            .map(move |l| (*set, l))
    }) {
        let (site, path) = (a["site"].as_str().unwrap(), a["path"].as_str().unwrap());
        let (text, url) = page(set, site, path);
        let got = match extract_article(&text, &url, None, None, TZ, now()) {
            Ok(got) => got,
            Err(e) => {
                problems.push(format!("{site}{path}: {e}"));
                continue;
            }
        };
        let mut check = |what: &str, ok: bool, detail: String| {
            if !ok {
                problems.push(format!("{site}{path}: {what}: {detail}"));
            }
        };
        let title = a["title"].as_str().unwrap();
        check(
            "title",
            got.title.as_deref() == Some(title),
            format!("want {title:?} have {:?}", got.title),
        );
        let want_time = DateTime::parse_from_rfc3339(a["published"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        check(
            "published",
            got.published.map(|d| d.at) == Some(want_time),
            format!("want {want_time} have {:?}", got.published),
        );
        let origin = a["origin"].as_str();
        check(
            "origin",
            got.origin.as_deref() == origin,
            format!("want {origin:?} have {:?}", got.origin),
        );
        let author = a["author"].as_str();
        check(
            "author",
            got.author.as_deref() == author,
            format!("want {author:?} have {:?}", got.author),
        );
        for s in a["body_contains"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
        {
            check("body", got.text.contains(s), format!("missing {s:?}"));
        }
        for s in a["body_excludes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
        {
            check(
                "body",
                !got.text.contains(s) && !got.content_html.contains(s),
                format!("boilerplate {s:?} leaked"),
            );
        }
        for img in a["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
        {
            let src = format!("src=\"{}\"", absolute(site, img));
            check(
                "image",
                got.content_html.contains(&src),
                format!("no {src} in body"),
            );
        }
        let want_att: Vec<(String, String, String)> = a["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["name"].as_str().unwrap().into(),
                    absolute(site, x["url"].as_str().unwrap()),
                    x["mime"].as_str().unwrap().into(),
                )
            })
            .collect();
        let have_att: Vec<(String, String, String)> = got
            .attachments
            .iter()
            .map(|x| (x.name.clone(), x.url.clone(), x.mime.clone()))
            .collect();
        check(
            "attachments",
            have_att == want_att,
            format!("want {want_att:?} have {have_att:?}"),
        );
        for bad in ["<script", "onclick", "<iframe", "<style"] {
            check(
                "sanitized",
                !got.content_html.contains(bad),
                format!("{bad} survived"),
            );
        }
    }
    assert!(
        problems.is_empty(),
        "{} article problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn layout_change_page_yields_no_items() {
    for bad in expected("")["bad"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "layout")
    {
        let (site, path) = (bad["site"].as_str().unwrap(), bad["path"].as_str().unwrap());
        let (text, url) = page("", site, path);
        let got = extract_list(&text, &url, &Selectors::default(), TZ, now());
        let titles: Vec<&str> = got.items.iter().map(|i| i.title.as_str()).collect();
        assert!(
            titles.is_empty(),
            "{site}{path} should yield nothing, got {titles:?}"
        );
    }
}

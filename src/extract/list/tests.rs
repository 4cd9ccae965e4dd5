use std::path::Path;

use chrono::{TimeZone, Utc};
use url::Url;

use dom_query::Document;

use super::detect::detect_with;
use super::{Ctx, extract_list, full, lite_page};
use crate::config::{Config, Selectors};
use crate::extract::lite::tests::fixture_pages;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn configured(select: &str) -> Selectors {
    let text = format!(
        "[[source]]\nid = \"x\"\nlist_url = \"http://x.example/\"\n\n[source.select]\n{select}\n"
    );
    let config = Config::parse(&text, Path::new("test.toml")).expect("test config");
    config.sources[0].select.clone()
}

#[test]
fn the_lite_path_lists_what_html5ever_lists_on_every_fixture_page() {
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let selector_sets = [
        Selectors::default(),
        configured(
            "item = \"ul.list > li[id^=line_u7_]\"\nlink = \"a[href]\"\ndate = \"span:not(.top)\"",
        ),
        configured("item = \"li\"\ntitle = \"a\"\nnext_page = \".p_next a, a.Next\""),
        configured("link = \"a[title]\"\ndate = \"[class*=time], .date\""),
    ];
    let mut lite_pages = 0;
    for (name, html) in fixture_pages() {
        let url = Url::parse("http://vsb.example/zqzf/ldhd.htm").unwrap();
        for select in &selector_sets {
            let ctx = Ctx {
                base: &url,
                select,
                tz: TZ,
                now,
            };
            lite_pages += usize::from(lite_page(&html, select).is_some());
            let fast = extract_list(&html, &url, select, TZ, now);
            let slow = full(&html, &ctx);
            assert_eq!(fast.items, slow.items, "{name} with {select:?}");
            assert_eq!(fast.next_page, slow.next_page, "{name} with {select:?}");
        }
    }
    assert!(lite_pages > 0);
}

#[test]
fn selectors_beyond_the_lite_matcher_keep_html5ever() {
    let html = "<html><body><ul><li><a href=\"/a\">一二三四五</a></li></ul></body></html>";
    assert!(lite_page(html, &Selectors::default()).is_some());
    for beyond in [
        "item = \"li:first-child\"",
        "item = \"ul + li\"",
        "date = \"[lang=zh]\"",
    ] {
        assert!(lite_page(html, &configured(beyond)).is_none(), "{beyond}");
    }
}

#[test]
fn skipping_groups_that_cannot_win_changes_no_fixture_list() {
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let url = Url::parse("http://vsb.example/zqzf/ldhd.htm").unwrap();
    let select = Selectors::default();
    let ctx = Ctx {
        base: &url,
        select: &select,
        tz: TZ,
        now,
    };
    for (name, html) in fixture_pages() {
        let doc = Document::from(html.as_str());
        let every = detect_with(&doc.root(), &ctx, false);
        assert_eq!(detect_with(&doc.root(), &ctx, true), every, "{name}");
    }
}

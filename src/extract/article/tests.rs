use chrono::TimeZone;

use super::*;
use crate::extract::lite::tests::fixture_pages;

#[test]
fn the_cut_page_gives_what_the_whole_page_gives_on_every_fixture() {
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let tz = chrono_tz::Asia::Shanghai;
    let url = Url::parse("http://vsb.example/info/1012/10234.htm").unwrap();
    let mut cut_pages = 0;
    for (name, html) in fixture_pages() {
        let title = Document::from(html.as_str())
            .select("title")
            .text()
            .to_string();
        let hints = [
            None,
            Some(title.as_str()),
            Some("城中区召开2024年教育督导…"),
        ];
        for hint in hints {
            cut_pages += usize::from(cut::article(&html, hint).is_some());
            let fast = extract_article(&html, &url, None, hint, tz, now);
            let slow = extract_full(&html, &url, None, hint, tz, now);
            assert_eq!(
                format!("{fast:?}"),
                format!("{slow:?}"),
                "{name} with {hint:?}"
            );
        }
    }
    assert!(cut_pages > 0);
}

/// Page furniture, some of it what the article extractor reads (a title, a time, an attachment,
/// text that opens like the title), placed before or after the article's container.
fn furniture() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("<div class=\"nav\"><a href=\"/a.htm\">首页</a></div>".to_string()),
        Just("<h1>城中区人民政府</h1>".to_string()),
        Just("<h2 class=\"title\">城中区召开会议</h2>".to_string()),
        Just("<span class=\"timestyle9\">2024-03-01 10:00</span>".to_string()),
        Just("<a href=\"/files/x.pdf\">附件</a>".to_string()),
        Just("<div class=\"ticker\">城中区召开2024年教育督导工作座谈会</div>".to_string()),
        Just("<meta name=\"PubDate\" content=\"2024-02-01\">".to_string()),
        Just("<div class=\"v_news_content\"></div>".to_string()),
        Just("<p>页脚 2024-04-01 联系电话</p>".to_string()),
        Just("<div><p>open".to_string()),
        Just("<b><i>x</b></i>".to_string()),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, .. Default::default() })]

    /// Wherever the furniture sits, the cut page gives what the whole page gives.
    #[test]
    fn the_cut_page_gives_what_the_whole_page_gives_around_any_furniture(
        before in proptest::collection::vec(furniture(), 0..4),
        after in proptest::collection::vec(furniture(), 0..4),
        hinted in proptest::prelude::any::<bool>(),
    ) {
        let title = "城中区召开2024年教育督导工作座谈会暨全区教育工作会议";
        let body = "<p>近日，2024年教育督导工作座谈会暨全区教育工作会议在区创业就业指导服务中心会议室召开。区政府副区长出席会议，区属学校正副校长、幼儿园园长、局机关各科室负责人参加会议。</p>".repeat(3);
        let html = format!(
            "<html><head><title>{title}-城中区</title></head><body>{}<div class=\"main\"><h1 class=\"titlestyle1\">{title}</h1><div class=\"info\">2024-03-05 08:42 来源:城中在线</div><div id=\"vsb_content\"><div class=\"v_news_content\">{body}</div></div></div>{}</body></html>",
            before.concat(),
            after.concat()
        );
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        let url = Url::parse("http://vsb.example/info/1012/10234.htm").unwrap();
        let hint = hinted.then_some("城中区召开2024年教育督导…");
        let tz = chrono_tz::Asia::Shanghai;
        let fast = extract_article(&html, &url, None, hint, tz, now);
        let slow = extract_full(&html, &url, None, hint, tz, now);
        proptest::prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
    }
}

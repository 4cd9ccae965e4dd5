//! A page's chrome — navigation, header, footer, tickers, side columns — recognised by tag and by
//! the names portals give it (`nav`, `footer`, `marquee_u3`, `ttxw`, `side-box`, `hot-list`…), so
//! that neither the list detector nor the body finder takes it for content.

use std::sync::LazyLock;

use dom_query::NodeRef;
use regex::Regex;

static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)nav|menu|foot|header|banner|crumb|position|friend|flink|yqlj|share|toolbar|copyright|bottom|comment")
        .expect("static regex")
});
/// The headline ticker every page carries (头条 = toutiao, ttxw).
static TICKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)ticker|marquee|scroll|roll|gundong|ttxw|toutiao").expect("static regex")
});
/// Side columns: 热点, 排行, 专题, 相关 boxes.
static SECONDARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:side\w*|aside|hot\w*|rank\w*|right-?box|zt|zhuanti|related|relate|xgwz|recommend\w*)\b")
        .expect("static regex")
});

/// 1.0 for content; down to 0.15 for an element inside navigation, header, footer or a ticker.
pub fn penalty(node: &NodeRef) -> f64 {
    let mut penalty: f64 = 1.0;
    let mut current = Some(*node);
    while let Some(n) = current {
        if let Some(tag) = n.node_name() {
            if matches!(&*tag, "nav" | "header" | "footer" | "marquee") {
                penalty = penalty.min(0.15);
            } else if &*tag == "aside" {
                penalty = penalty.min(0.3);
            }
        }
        let names = format!(
            "{} {}",
            n.id_attr().unwrap_or_default(),
            n.class().unwrap_or_default()
        );
        if TICKER.is_match(&names) {
            penalty = penalty.min(0.15);
        } else if BOILERPLATE.is_match(&names) || SECONDARY.is_match(&names) {
            penalty = penalty.min(0.3);
        }
        current = n.parent();
    }
    penalty
}

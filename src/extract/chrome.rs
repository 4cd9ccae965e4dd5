//! A page's chrome — navigation, header, footer, tickers, side columns — recognised by tag and by
//! the names portals give it (`nav`, `footer`, `marquee_u3`, `ttxw`, `side-box`, `hot-list`…), so
//! that neither the list detector nor the body finder takes it for content.

use std::sync::LazyLock;

use regex::Regex;

use super::dom::Node;

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
pub fn penalty(node: &impl Node) -> f64 {
    penalty_with(node, &mut Vec::new())
}

/// [`penalty`], remembering each ancestor's in `known`: the groups of one page share most of
/// their ancestors, whose names are then matched once.
pub fn penalty_with<N: Node>(node: &N, known: &mut Vec<(N, f64)>) -> f64 {
    let mut chain = Vec::new();
    let mut above: f64 = 1.0;
    let mut current = Some(*node);
    while let Some(n) = current {
        if let Some((_, p)) = known.iter().find(|(k, _)| k.same(&n)) {
            above = *p;
            break;
        }
        chain.push(n);
        current = n.parent();
    }
    for n in chain.into_iter().rev() {
        above = above.min(own_penalty(&n));
        known.push((n, above));
    }
    above
}

/// The penalty an element's own tag and names earn, without its ancestors'.
fn own_penalty(n: &impl Node) -> f64 {
    let mut penalty: f64 = 1.0;
    if let Some(tag) = n.tag() {
        if matches!(&*tag, "nav" | "header" | "footer" | "marquee") {
            penalty = 0.15;
        } else if tag == "aside" {
            penalty = 0.3;
        }
    }
    let (id, class) = (n.attr("id"), n.attr("class"));
    // Unnamed elements (most of them) cannot match a name pattern.
    if id.is_none() && class.is_none() {
        return penalty;
    }
    // No pattern holds a space and `\b` holds at a string's ends, so matching the id and the class
    // apart is matching "id class".
    let named = |re: &Regex| [&id, &class].into_iter().flatten().any(|n| re.is_match(n));
    if named(&TICKER) {
        penalty = penalty.min(0.15);
    } else if named(&BOILERPLATE) || named(&SECONDARY) {
        penalty = penalty.min(0.3);
    }
    penalty
}

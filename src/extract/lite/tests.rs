use dom_query::{Document, NodeRef};

use super::{Tree, parse};

/// Every element (tag, attributes, text) and every text node, in document order.
fn lite_shape(tree: &Tree) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in 1..tree.nodes.len() as u32 {
        let n = tree.node(id);
        if n.is_element() {
            let attrs: Vec<String> = tree
                .attrs(id)
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            out.push(format!(
                "<{} {}> {:?}",
                n.tag,
                attrs.join(" "),
                tree.text(id)
            ));
            continue;
        }
        out.push(format!("#text {:?}", n.text));
    }
    out
}

fn html5ever_shape(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    for n in doc.root().descendants_it() {
        if n.is_element() {
            out.push(element_line(&n));
        } else if n.is_text() {
            out.push(format!("#text {:?}", n.text().to_string()));
        }
    }
    out
}

fn element_line(n: &NodeRef) -> String {
    let attrs: Vec<String> = n
        .attrs()
        .iter()
        .map(|a| format!("{}={:?}", &*a.name.local, a.value.to_string()))
        .collect();
    format!(
        "<{} {}> {:?}",
        n.node_name().unwrap_or_default(),
        attrs.join(" "),
        n.text().to_string()
    )
}

pub(crate) fn fixture_pages() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "htm" || x == "html") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                let text = crate::fetch::charset::decode(&bytes, Some("text/html")).text;
                out.push((path.display().to_string(), text));
            }
        }
    }
    out.sort();
    out
}

fn assert_same(name: &str, html: &str) -> bool {
    let Some(tree) = parse(html) else {
        return false;
    };
    let lite_merged = lite_shape(&tree);
    let full = html5ever_shape(&Document::from(html));
    let first_diff = lite_merged.iter().zip(&full).position(|(a, b)| a != b);
    assert!(
        first_diff.is_none() && lite_merged.len() == full.len(),
        "{name}: lite tree differs at {first_diff:?}: lite {:?} / html5ever {:?}",
        first_diff.map(|i| &lite_merged[i]),
        first_diff.map(|i| &full[i]),
    );
    true
}

#[test]
fn lite_tree_is_html5evers_tree_on_every_fixture_page_it_accepts() {
    let pages = fixture_pages();
    let accepted = pages
        .iter()
        .filter(|(name, html)| assert_same(name, html))
        .count();
    // The reader is meant for real portal pages: most fixtures must take the fast path.
    eprintln!(
        "lite parser accepted {accepted} of {} fixture pages",
        pages.len()
    );
    assert!(
        accepted * 10 >= pages.len() * 8,
        "accepted {accepted} of {}",
        pages.len()
    );
}

#[test]
fn lite_tree_is_exact_or_gives_up_on_repairs() {
    let exact = [
        "<p>a<b>b</b>c</p>",
        "<title>T &amp; U</title><div>x</div>",
        "<!DOCTYPE html><html><head><script>if (a<b) x()</script></head><body><table><tr><td>1</td></tr></table></body></html>",
        "<div><p>open paragraph</div><ul><li>a<li>b</ul>",
        "<body><div>unclosed",
        "<ul><li><a href=\"/x?a=1&b=2\">t</a> <span>2024-01-01</span></li></ul>\r\n</body>\n</html>\n",
    ];
    for html in exact {
        assert_same(html, html);
    }
    for repaired in [
        "<p>a<div>b</div></p>",
        "<b>x<i>y</b>z</i>",
        "<table><tr><td>1</td></tr>stray</table>",
        "<a href=1><a href=2>x</a></a>",
        "<select><div>x</div></select>",
        "<p>&copy 2024</p>",
        "<span><p>x</span>",
        "<head><bgsound src=x><basefont></head><body>x</body>",
        "<listing>\nx</listing>",
        "<table><td>x</td></table>",
        "<ul><li>a<li>b</ul>",
    ] {
        assert!(
            parse(repaired).is_none() || assert_same(repaired, repaired),
            "{repaired}"
        );
    }
}

/// Markup that portal pages are made of, including the repairs html5ever makes.
fn piece() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("<div class=\"a\">".to_string()),
        Just("</div>".to_string()),
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<ul><li>".to_string()),
        Just("<li>".to_string()),
        Just("</li></ul>".to_string()),
        Just("<table>".to_string()),
        Just("<tr><td>".to_string()),
        Just("</td></tr>".to_string()),
        Just("</table>".to_string()),
        Just("<a href=\"/x?a=1&b=2\">".to_string()),
        Just("</a>".to_string()),
        Just("<b><i>".to_string()),
        Just("</b>".to_string()),
        Just("</i>".to_string()),
        Just("<span>2024-04-19</span>".to_string()),
        Just("<select><option>1</option>".to_string()),
        Just("</select>".to_string()),
        Just("<script>if (a<b) x()</script>".to_string()),
        Just("<script><!--\nf();\n//--></script>".to_string()),
        Just("<script><!--<script>x</script>y</script>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<br/><img src=a>".to_string()),
        Just("&nbsp;&amp;&copy 2024".to_string()),
        Just("<h1>".to_string()),
        Just("</h1>".to_string()),
        Just("<form>".to_string()),
        Just("</form>".to_string()),
        Just("</body>".to_string()),
        Just("<title>t</title>".to_string()),
        Just("\r\n ".to_string()),
        "[a-z 城中<>/&;\"'=]{0,12}",
    ]
}

/// Nested markup, mostly well formed: elements close, except where a coin says the end tag is
/// left out (as portals leave out `</p>`, `</li>`, `</td>`).
fn tree_markup() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let leaf = prop_oneof![piece(), Just(String::new())];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let tags = prop_oneof![
            Just("div"),
            Just("p"),
            Just("ul"),
            Just("li"),
            Just("span"),
            Just("a"),
            Just("em"),
            Just("table"),
            Just("tbody"),
            Just("tr"),
            Just("td"),
            Just("h2"),
            Just("font"),
        ];
        (
            tags,
            proptest::collection::vec(inner, 0..5),
            any::<bool>(),
            any::<u8>(),
        )
            .prop_map(|(tag, children, close, attr)| {
                let attrs = match attr % 4 {
                    0 => String::new(),
                    1 => " class=\"list w1200\"".to_string(),
                    2 => " href=\"../info/1.htm\" title=\"城中区\"".to_string(),
                    _ => " id=line_u7_1".to_string(),
                };
                let end = if close || attr % 7 != 0 {
                    format!("</{tag}>")
                } else {
                    String::new()
                };
                format!("<{tag}{attrs}>{}{end}", children.concat())
            })
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, .. Default::default() })]

    /// Whatever the markup, the lite tree is html5ever's, or there is none.
    #[test]
    fn lite_tree_is_html5evers_or_none_on_any_markup(pieces in proptest::collection::vec(piece(), 0..25)) {
        let html = pieces.concat();
        assert_same(&html, &html);
    }

    /// The same on nested markup, which the lite parser mostly accepts.
    #[test]
    fn lite_tree_is_html5evers_or_none_on_nested_markup(body in tree_markup(), head in proptest::prelude::any::<bool>()) {
        let html = if head {
            format!("<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>\n")
        } else {
            body
        };
        assert_same(&html, &html);
    }

    /// The lite matcher matches what dom_query's matcher matches, for the selectors it compiles.
    #[test]
    fn lite_selectors_match_what_dom_query_matches(body in tree_markup()) {
        for text in SELECTORS {
            selectors_agree(&body, text);
        }
    }
}

const SELECTORS: [&str; 9] = [
    "ul.list > li[id^=line_u7_]",
    "a[href]",
    "span:not(.top)",
    "div li a",
    "td > a[title], li > span",
    "[class*=w1]",
    "#line_u7_1",
    ".list .w1200",
    "tr > td > font",
];

fn selectors_agree(html: &str, text: &str) {
    let Some(tree) = parse(html) else { return };
    let compiled = super::select::compile(text).expect("a selector in the subset");
    let lite: Vec<String> = (1..tree.nodes.len() as u32)
        .filter(|&id| tree.node(id).is_element() && compiled.matches(&tree, id))
        .map(|id| format!("{} {:?}", tree.node(id).tag, tree.text(id)))
        .collect();
    let doc = Document::from(html);
    let full: Vec<String> = doc
        .select(text)
        .nodes()
        .iter()
        .map(|n| {
            format!(
                "{} {:?}",
                n.node_name().unwrap_or_default(),
                n.text().to_string()
            )
        })
        .collect();
    assert_eq!(lite, full, "{text} on {html}");
}

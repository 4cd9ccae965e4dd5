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

//! The article page cut down before html5ever reads it: the head, and the one child of `<body>`
//! that holds the article body, when the lite parser ([`super::lite`]) shows that nothing the
//! article extractor reads lies elsewhere.
//!
//! The promise: extracting from the cut page gives what extracting from the whole page gives.
//! The head is kept as written; the kept child of `<body>` is parsed exactly as it was in the page
//! (html5ever has only `<html>` and `<body>` open there, which the lite tree proves). Everything
//! else in the body is dropped only when it holds no element or text that any step of
//! [`super::article`] would look at anywhere on the page: a known body container, a title
//! candidate (`h1`, `h2`, `title`, a name with "title"), a `meta`, a `timestyle` or `authorstyle`
//! element, a possible attachment link, or text opening like the list's title. The page's whole
//! text (for the info line) comes from the lite tree. In any other case there is no cut, and the
//! caller parses the whole page.

use super::attachments::maybe_attachment;
use super::body::KNOWN_WORDS;
use super::lite::{self, Tree};
use super::text::{chars, squash, without_cut};

/// The page to parse instead, and the whole page's body text, squashed.
pub struct Cut {
    pub html: String,
    pub full_text: String,
}

/// Below this much text in the kept part, a title search could climb out of it (it stops at
/// 200 characters): no cut.
const MIN_KEPT_CHARS: usize = 200;

/// The cut article page, when it is sure to extract the same.
pub fn article(html: &str, title_hint: Option<&str>) -> Option<Cut> {
    let tree = lite::parse(html)?;
    let body = tree.body;
    let kept = container_child(&tree, body)?;
    let opening: Option<String> = title_hint
        .map(without_cut)
        .filter(|p| chars(p) >= 4)
        .map(|p| p.chars().take(4).collect());
    let kept_range = tree.subtree(kept);
    let dropped = tree
        .subtree(body)
        .skip(1)
        .filter(|i| !kept_range.contains(i));
    for id in dropped {
        if matters(&tree, id, opening.as_deref()) {
            return None;
        }
    }
    let kept_text = squash(&tree.text(kept));
    if chars(&kept_text) <= MIN_KEPT_CHARS {
        return None;
    }
    let (body_node, kept_node) = (tree.node(body), tree.node(kept));
    let mut cut = String::with_capacity(body_node.inner + kept_node.end - kept_node.start + 16);
    cut.push_str(&html[..body_node.inner]);
    cut.push_str(&html[kept_node.start..kept_node.end]);
    cut.push_str("</body></html>");
    Some(Cut {
        html: cut,
        full_text: squash(&tree.text(body)),
    })
}

/// The child of `<body>` that holds the first element named like a known body container.
fn container_child(tree: &Tree, body: u32) -> Option<u32> {
    let marked = tree
        .subtree(body)
        .skip(1)
        .find(|&i| known_container(tree, i))?;
    let mut at = marked;
    while tree.node(at).parent != body {
        at = tree.node(at).parent;
        if at == lite::NONE {
            return None;
        }
    }
    Some(at)
}

/// An element's id and class, lowercase; `None` when it has neither.
fn names(tree: &Tree, id: u32) -> Option<String> {
    let (i, c) = (tree.attr(id, "id"), tree.attr(id, "class"));
    if i.is_none() && c.is_none() {
        return None;
    }
    Some(format!("{} {}", i.unwrap_or_default(), c.unwrap_or_default()).to_ascii_lowercase())
}

fn known_container(tree: &Tree, id: u32) -> bool {
    tree.node(id).is_element()
        && names(tree, id).is_some_and(|names| KNOWN_WORDS.iter().any(|w| names.contains(w)))
}

/// Whether a node outside the kept part is one the article extractor could read.
fn matters(tree: &Tree, id: u32, opening: Option<&str>) -> bool {
    let n = tree.node(id);
    if n.is_text() {
        return opening.is_some_and(|o| {
            let first = o.chars().next().unwrap_or(' ');
            n.text.contains(first) && squash(&n.text).starts_with(o)
        });
    }
    if !n.is_element() {
        return false;
    }
    match &*n.tag {
        "h1" | "h2" | "title" | "meta" => return true,
        "a" if tree.attr(id, "href").is_some_and(|href| {
            maybe_attachment(href, &tree.text(id), tree.attr(id, "oldsrc").is_some())
        }) =>
        {
            return true;
        }
        _ => {}
    }
    let Some(names) = names(tree, id) else {
        return false;
    };
    ["title", "timestyle", "authorstyle"]
        .iter()
        .chain(KNOWN_WORDS.iter())
        .any(|w| names.contains(w))
}

//! The view of a parsed page that the list extractor reads, so one algorithm runs on both trees:
//! html5ever's (`dom_query::NodeRef`) and the lite parser's ([`LiteNode`]). Both answer every
//! question the same way for the same page; the lite tree only exists when it is html5ever's.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::LazyLock;

use dom_query::{Matcher, NodeRef, Selection};

use super::lite::{self, Tree};
use crate::config::Selector;

static LINKS: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("a[href]").expect("static selector"));
/// Elements whose name says they hold the item's date (`span.time`, `.timestyle106390`, `td.date`).
static DATE_MARKED: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new("time, [class*=date], [class*=time], [class*=Date], [class*=Time], [class~=rq], [class~=sj]")
        .expect("static selector")
});

/// A node of a parsed page (element, text or the document).
pub trait Node: Copy {
    /// Lowercase tag name, for elements.
    fn tag(&self) -> Option<Cow<'_, str>>;
    fn attr(&self, name: &str) -> Option<Cow<'_, str>>;
    fn text(&self) -> Cow<'_, str>;
    fn parent(&self) -> Option<Self>;
    fn element_children(&self) -> Vec<Self>;
    fn next_element_sibling(&self) -> Option<Self>;
    /// Every element below this node, in document order.
    fn descendant_elements(&self) -> Vec<Self>;
    /// The `a[href]` elements below this node.
    fn links(&self) -> Vec<Self>;
    /// The elements below this node named for a date ([`DATE_MARKED`]).
    fn date_marked(&self) -> Vec<Self>;
    /// The elements below this node that a configured selector matches (in the whole page's context).
    fn select(&self, sel: &Selector) -> Vec<Self>;
    /// Whether this element or one below it has an `href`: no item can come from a member without.
    fn has_href_inside(&self) -> bool;

    /// Whether it has at least `n` element children.
    fn has_element_children(&self, n: usize) -> bool;
    /// Whether both are the same node.
    fn same(&self, other: &Self) -> bool;

    fn is_tag(&self, name: &str) -> bool {
        self.tag().is_some_and(|t| t == name)
    }

    /// Whether its text is only white space (`text().trim().is_empty()`).
    fn text_is_blank(&self) -> bool {
        self.text().trim().is_empty()
    }
}

impl<'a> Node for NodeRef<'a> {
    fn has_element_children(&self, n: usize) -> bool {
        self.children_it(false)
            .filter(|c| c.is_element())
            .nth(n.saturating_sub(1))
            .is_some()
    }
    fn same(&self, other: &Self) -> bool {
        self.id == other.id
    }
    fn tag(&self) -> Option<Cow<'_, str>> {
        self.node_name().map(|t| Cow::Owned(t.to_string()))
    }
    fn attr(&self, name: &str) -> Option<Cow<'_, str>> {
        NodeRef::attr(self, name).map(|v| Cow::Owned(v.to_string()))
    }
    fn text(&self) -> Cow<'_, str> {
        Cow::Owned(NodeRef::text(self).to_string())
    }
    fn parent(&self) -> Option<Self> {
        NodeRef::parent(self)
    }
    fn element_children(&self) -> Vec<Self> {
        NodeRef::element_children(self)
    }
    fn next_element_sibling(&self) -> Option<Self> {
        NodeRef::next_element_sibling(self)
    }
    fn descendant_elements(&self) -> Vec<Self> {
        self.descendants_it().filter(|n| n.is_element()).collect()
    }
    fn links(&self) -> Vec<Self> {
        Selection::from(*self)
            .select_matcher(&LINKS)
            .nodes()
            .to_vec()
    }
    fn date_marked(&self) -> Vec<Self> {
        Selection::from(*self)
            .select_matcher(&DATE_MARKED)
            .nodes()
            .to_vec()
    }
    fn select(&self, sel: &Selector) -> Vec<Self> {
        Selection::from(*self)
            .select_matcher(sel.matcher())
            .nodes()
            .to_vec()
    }
    fn has_href_inside(&self) -> bool {
        self.has_attr("href") || self.descendants_it().any(|n| n.has_attr("href"))
    }
}

/// A node of a lite tree, with the configured selectors compiled for it.
#[derive(Clone, Copy)]
pub struct LiteNode<'t, 'a> {
    pub page: &'t LitePage<'a>,
    pub id: u32,
}

impl PartialEq for LiteNode<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && std::ptr::eq(self.page, other.page)
    }
}

/// A lite tree and the configured selectors, compiled to [`lite::select`]'s form.
pub struct LitePage<'a> {
    pub tree: Tree<'a>,
    pub selectors: Vec<(String, lite::select::Compiled)>,
    /// Per node: whether it or a node below it has an `href` (one pass, made when detection
    /// first asks, for every group member).
    href_inside: OnceCell<Vec<bool>>,
}

impl<'a> LitePage<'a> {
    /// The page with `selectors` compiled; `None` when one is beyond the lite matcher.
    pub fn new(tree: Tree<'a>, selectors: &[&Selector]) -> Option<Self> {
        let selectors = selectors
            .iter()
            .map(|s| Some((s.as_str().to_string(), lite::select::compile(s.as_str())?)))
            .collect::<Option<Vec<_>>>()?;
        Some(LitePage {
            tree,
            selectors,
            href_inside: OnceCell::new(),
        })
    }

    pub fn root(&self) -> LiteNode<'_, 'a> {
        LiteNode { page: self, id: 0 }
    }
}

impl<'t, 'a> LiteNode<'t, 'a> {
    fn at(&self, id: u32) -> Self {
        LiteNode {
            page: self.page,
            id,
        }
    }
    fn node(&self) -> &'t lite::Node<'a> {
        self.page.tree.node(self.id)
    }
    fn below(&self, keep: impl Fn(&Tree, u32) -> bool) -> Vec<Self> {
        let tree = &self.page.tree;
        tree.subtree(self.id)
            .skip(1)
            .filter(|&i| tree.node(i).is_element() && keep(tree, i))
            .map(|i| self.at(i))
            .collect()
    }
}

fn date_marked(tree: &Tree, id: u32) -> bool {
    if tree.node(id).tag == "time" {
        return true;
    }
    let Some(class) = tree.attr(id, "class") else {
        return false;
    };
    ["date", "time", "Date", "Time"]
        .iter()
        .any(|w| class.contains(w))
        || class
            .split_ascii_whitespace()
            .any(|w| w == "rq" || w == "sj")
}

impl Node for LiteNode<'_, '_> {
    fn has_element_children(&self, n: usize) -> bool {
        let tree = &self.page.tree;
        tree.children(self.id)
            .filter(|&i| tree.node(i).is_element())
            .nth(n.saturating_sub(1))
            .is_some()
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn tag(&self) -> Option<Cow<'_, str>> {
        let n = self.node();
        n.is_element().then(|| Cow::Borrowed(&*n.tag))
    }
    fn attr(&self, name: &str) -> Option<Cow<'_, str>> {
        self.page.tree.attr(self.id, name).map(Cow::Borrowed)
    }
    fn text(&self) -> Cow<'_, str> {
        self.page.tree.text(self.id)
    }
    fn text_is_blank(&self) -> bool {
        // The concatenation is blank exactly when every piece is: no string is built.
        let tree = &self.page.tree;
        tree.subtree(self.id)
            .map(|i| tree.node(i))
            .filter(|n| n.is_text())
            .all(|n| n.text.trim().is_empty())
    }
    fn parent(&self) -> Option<Self> {
        let p = self.node().parent;
        (p != lite::NONE).then(|| self.at(p))
    }
    fn element_children(&self) -> Vec<Self> {
        let tree = &self.page.tree;
        tree.children(self.id)
            .filter(|&i| tree.node(i).is_element())
            .map(|i| self.at(i))
            .collect()
    }
    fn next_element_sibling(&self) -> Option<Self> {
        let tree = &self.page.tree;
        let mut at = self.node().next;
        while at != lite::NONE && !tree.node(at).is_element() {
            at = tree.node(at).next;
        }
        (at != lite::NONE).then(|| self.at(at))
    }
    fn descendant_elements(&self) -> Vec<Self> {
        self.below(|_, _| true)
    }
    fn links(&self) -> Vec<Self> {
        self.below(|t, i| t.node(i).tag == "a" && t.attr(i, "href").is_some())
    }
    fn date_marked(&self) -> Vec<Self> {
        self.below(date_marked)
    }
    fn select(&self, sel: &Selector) -> Vec<Self> {
        let Some((_, compiled)) = self.page.selectors.iter().find(|(s, _)| s == sel.as_str())
        else {
            // Every configured selector is compiled before the lite path is taken.
            return Vec::new();
        };
        self.below(|t, i| compiled.matches(t, i))
    }
    fn has_href_inside(&self) -> bool {
        let tree = &self.page.tree;
        let inside = self.page.href_inside.get_or_init(|| {
            let mut inside = vec![false; tree.nodes.len()];
            // Children come after their parent: one backward pass carries the answer upwards.
            for id in (1..tree.nodes.len()).rev() {
                inside[id] |= tree.attr(id as u32, "href").is_some();
                let parent = tree.nodes[id].parent;
                if inside[id] && parent != lite::NONE {
                    inside[parent as usize] = true;
                }
            }
            inside
        });
        inside[self.id as usize]
    }
}

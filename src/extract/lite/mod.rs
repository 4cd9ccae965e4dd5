//! The lite parser: a whole page read into a small tree in a fraction of html5ever's time, or
//! `None` when the page uses anything whose html5ever tree this reader cannot be sure of.
//!
//! The promise is exactness, not coverage: when [`Tree::parse`] returns a tree, its elements, their
//! attributes, text nodes and text are those `dom_query::Document::from` builds (comments and the
//! doctype aside). It models well-formed HTML plus the repairs portals rely on most: implied
//! `<html>`, `<head>`, `<body>` and table `<tbody>`, raw-text elements, `</div>` closing a `<p>` or
//! `<li>` left open, and unclosed elements at the end of the page. Whatever would need html5ever's
//! other repairs (misnested formatting elements, foster parenting, an open `<p>` closed by a block,
//! `<li>` closing `<li>`, `<select>` dropping tags, …) makes it give up, and the caller falls back
//! to the full parse. Byte spans of every element let callers cut the page.

mod build;
mod rules;
pub mod select;
mod token;

use std::borrow::Cow;

pub use build::parse;

/// No node (a link that points nowhere).
pub const NONE: u32 = u32::MAX;

/// One node: the document (index 0), an element or a text node.
#[derive(Debug)]
pub struct Node<'a> {
    /// Lowercase tag name; empty for text nodes and the document.
    pub tag: Cow<'a, str>,
    /// Where its attributes are in [`Tree::attrs`].
    pub attrs: std::ops::Range<u32>,
    /// The text of a text node.
    pub text: Cow<'a, str>,
    pub parent: u32,
    pub first_child: u32,
    pub last_child: u32,
    pub next: u32,
    /// Byte span in the page, from the start tag's `<` to past the end tag's `>`.
    pub start: usize,
    /// Offset just past the start tag (equal to `start` for an implied element).
    pub inner: usize,
    pub end: usize,
}

impl<'a> Node<'a> {
    pub fn is_element(&self) -> bool {
        !self.tag.is_empty()
    }

    pub fn is_text(&self) -> bool {
        self.tag.is_empty() && self.parent != NONE
    }
}

/// A parsed page.
#[derive(Debug)]
pub struct Tree<'a> {
    pub src: &'a str,
    pub nodes: Vec<Node<'a>>,
    /// Every element's attributes, in source order (first of a name only), element after element.
    pub attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub head: u32,
    pub body: u32,
}

impl<'a> Tree<'a> {
    pub fn node(&self, id: u32) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    /// The attributes of element `id`.
    pub fn attrs(&self, id: u32) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        let r = &self.node(id).attrs;
        &self.attrs[r.start as usize..r.end as usize]
    }

    /// The value of attribute `name` of element `id`.
    pub fn attr(&self, id: u32, name: &str) -> Option<&str> {
        self.attrs(id)
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| &**v)
    }

    /// Children of `id`, in order.
    pub fn children(&self, id: u32) -> Children<'_, 'a> {
        Children {
            tree: self,
            at: self.node(id).first_child,
        }
    }

    /// `id` and everything under it, in document order (ids are allocated in document order).
    pub fn subtree(&self, id: u32) -> std::ops::Range<u32> {
        let mut last = id;
        while self.node(last).last_child != NONE {
            last = self.node(last).last_child;
        }
        id..last + 1
    }

    /// The concatenated text of every text node under `id`, as `NodeRef::text` gives it.
    pub fn text(&self, id: u32) -> Cow<'_, str> {
        let node = self.node(id);
        if !node.is_element() && node.parent != NONE {
            return Cow::Borrowed(&node.text);
        }
        let mut texts = self
            .subtree(id)
            .map(|i| self.node(i))
            .filter(|n| n.is_text());
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        let Some(second) = texts.next() else {
            return Cow::Borrowed(&first.text);
        };
        let mut out = String::with_capacity(first.text.len() + second.text.len() + 32);
        out.push_str(&first.text);
        out.push_str(&second.text);
        for t in texts {
            out.push_str(&t.text);
        }
        Cow::Owned(out)
    }
}

pub struct Children<'t, 'a> {
    tree: &'t Tree<'a>,
    at: u32,
}

impl Iterator for Children<'_, '_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        (self.at != NONE).then(|| {
            let id = self.at;
            self.at = self.tree.node(id).next;
            id
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! The rules of html5ever's tree builder that the lite parser applies or gives up on: which
//! elements are void, which start tags close an open `<p>`, and which repairs (misnesting,
//! foster parenting, implied closing of list items) it does not model.

use super::build::Builder;
use super::token::StartTag;

#[rustfmt::skip]
pub(super) const VOID: [&str; 16] = [
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "hr", "img", "input", "keygen",
    "link", "meta", "param", "source", "track",
];
/// Start tags that close an open `<p>` (or need other repairs this reader does not model).
#[rustfmt::skip]
pub(super) const CLOSES_P: [&str; 38] = [
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "main", "menu",
    "nav", "ol", "p", "search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "dd", "dt", "table", "listing",
];
/// Start tags whose html5ever handling is not modelled at all.
#[rustfmt::skip]
pub(super) const UNSURE: [&str; 18] = [
    "html", "body", "head", "frameset", "frame", "template", "image", "isindex", "math", "svg",
    "plaintext", "textarea", "xmp", "noembed", "noframes", "pre", "nobr", "col",
];
#[rustfmt::skip]
pub(super) const TABLE_CONTEXT: [&str; 5] = ["table", "tbody", "thead", "tfoot", "tr"];
/// Elements an end tag for an enclosing block closes on its way (html5ever's implied end tags).
#[rustfmt::skip]
pub(super) const IMPLIED_END: [&str; 6] = ["p", "li", "dd", "dt", "option", "optgroup"];
/// End tags that close the elements of [`IMPLIED_END`] left open inside them; any other end tag
/// (`</span>`, `</a>`) is ignored or rearranges the tree when its element is not the current one.
#[rustfmt::skip]
pub(super) const CLOSES_BY_END: [&str; 30] = [
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
    "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol",
    "search", "section", "summary", "ul", "li", "td", "th", "tr", "tbody", "table",
];
#[rustfmt::skip]
pub(super) const FORMATTING: [&str; 13] = [
    "a", "b", "big", "code", "em", "font", "i", "s", "small", "strike", "strong", "tt", "u",
];

impl<'a> Builder<'a> {
    /// `None` when html5ever would repair the tree around this start tag.
    pub(super) fn body_start_check(&mut self, tag: &StartTag<'a>, at: usize) -> Option<()> {
        let name = &*tag.name;
        // A clone of a borrowed name: no allocation for the usual lowercase source.
        let current = self.tree.nodes[self.current() as usize].tag.clone();
        if UNSURE.contains(&name)
            || name.contains(':')
            || *current == *"select" && !matches!(name, "option" | "optgroup" | "script")
        {
            return None;
        }
        if self.open("select") && *current != *"select" || *current == *"option" && name != "script"
        {
            return None;
        }
        if TABLE_CONTEXT.contains(&&*current) {
            return match (&*current, name) {
                (_, "script" | "style") => Some(()),
                ("table", "tbody" | "thead" | "tfoot" | "caption") => Some(()),
                ("table", "tr") => {
                    self.push("tbody", at);
                    Some(())
                }
                ("tbody" | "thead" | "tfoot", "tr") => Some(()),
                ("tr", "td" | "th") => Some(()),
                _ => None,
            };
        }
        if matches!(
            name,
            "tbody" | "thead" | "tfoot" | "caption" | "tr" | "td" | "th" | "colgroup"
        ) {
            return None;
        }
        if CLOSES_P.contains(&name) && self.open("p") {
            return None;
        }
        let repaired = match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                matches!(&*current, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            }
            "li" => self.open_before("li", &["ul", "ol", "menu"]),
            "dd" | "dt" => self.open_before("dd", &["dl"]) || self.open_before("dt", &["dl"]),
            "a" | "form" | "button" | "select" => self.open(name),
            "option" | "optgroup" => *current == *"option" || current == "optgroup",
            _ if FORMATTING.contains(&name) => {
                self.stack
                    .iter()
                    .filter(|&&id| self.tag(id) == name)
                    .count()
                    >= 3
            }
            _ => false,
        };
        (!repaired).then_some(())
    }

    /// Whether `name` is open above the nearest of `stop`.
    fn open_before(&self, name: &str, stop: &[&str]) -> bool {
        for &id in self.stack.iter().rev() {
            let tag = self.tag(id);
            if tag == name {
                return true;
            }
            if stop.contains(&tag) {
                return false;
            }
        }
        false
    }
}

//! The rules of html5ever's tree builder that the lite parser applies or gives up on: which
//! elements are void, which start tags close an open `<p>`, and which repairs (misnesting,
//! foster parenting, implied closing of list items) it does not model.

use super::build::Builder;
use super::token::StartTag;

pub(super) fn void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
    )
}
/// Start tags that close an open `<p>` (or need other repairs this reader does not model).
pub(super) fn closes_p(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "header"
            | "hgroup"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "search"
            | "section"
            | "summary"
            | "ul"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "li"
            | "dd"
            | "dt"
            | "table"
            | "listing"
    )
}
/// Start tags whose html5ever handling is not modelled at all.
pub(super) fn unsure(name: &str) -> bool {
    matches!(
        name,
        "html"
            | "body"
            | "head"
            | "frameset"
            | "frame"
            | "template"
            | "image"
            | "isindex"
            | "math"
            | "svg"
            | "plaintext"
            | "listing"
            | "textarea"
            | "xmp"
            | "noembed"
            | "noframes"
            | "pre"
            | "nobr"
            | "col"
    )
}
pub(super) fn table_context(name: &str) -> bool {
    matches!(name, "table" | "tbody" | "thead" | "tfoot" | "tr")
}
/// Elements an end tag for an enclosing block closes on its way (html5ever's implied end tags).
pub(super) fn implied_end(name: &str) -> bool {
    matches!(name, "p" | "li" | "dd" | "dt" | "option" | "optgroup")
}
/// End tags that close the elements of [`IMPLIED_END`] left open inside them; any other end tag
/// (`</span>`, `</a>`) is ignored or rearranges the tree when its element is not the current one.
pub(super) fn closes_by_end(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "header"
            | "hgroup"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "search"
            | "section"
            | "summary"
            | "ul"
            | "li"
            | "td"
            | "th"
            | "tr"
            | "tbody"
            | "table"
    )
}
pub(super) fn formatting(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "big"
            | "code"
            | "em"
            | "font"
            | "i"
            | "s"
            | "small"
            | "strike"
            | "strong"
            | "tt"
            | "u"
    )
}

impl<'a> Builder<'a> {
    /// `None` when html5ever would repair the tree around this start tag.
    pub(super) fn body_start_check(&mut self, tag: &StartTag<'a>, at: usize) -> Option<()> {
        let name = &*tag.name;
        // A clone of a borrowed name: no allocation for the usual lowercase source.
        let current = self.tree.nodes[self.current() as usize].tag.clone();
        if unsure(name)
            || name.contains(':')
            || *current == *"select" && !matches!(name, "option" | "optgroup" | "script")
        {
            return None;
        }
        if self.open("select") && *current != *"select" || *current == *"option" && name != "script"
        {
            return None;
        }
        if table_context(&current) {
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
        if closes_p(name) && self.open("p") {
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
            _ if formatting(name) => {
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

//! Configured CSS selectors on a lite tree: the subset whose meaning is plain — type, `.class`,
//! `#id`, `[attr]`, `[attr=v]`, `[attr~=v]`, `[attr^=v]`, `[attr$=v]`, `[attr*=v]`, `:not(…)` of
//! those, with descendant and `>` combinators, in `,` lists. Matching is dom_query's: class and
//! id case-sensitive, attribute names lowercase. A selector outside the subset does not compile,
//! and the caller keeps html5ever's tree and dom_query's matcher for that page.

use super::Tree;

/// Attributes whose values selectors compare case-sensitively in HTML (others, like `type`,
/// `target` or `lang`, compare without case, and are not modelled).
const PLAIN_ATTRS: [&str; 11] = [
    "id", "class", "href", "title", "name", "src", "alt", "width", "height", "colspan", "style",
];

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Exists,
    Equals,
    Word,
    Prefix,
    Suffix,
    Contains,
}

#[derive(Debug, Clone, Default)]
struct Compound {
    tag: Option<String>,
    classes: Vec<String>,
    ids: Vec<String>,
    attrs: Vec<(String, Op, String)>,
    not: Vec<Compound>,
}

/// One complex selector, right to left: the subject, then each combinator (`true` for `>`) with
/// the compound it leads to.
#[derive(Debug, Clone)]
struct Complex {
    subject: Compound,
    ancestors: Vec<(bool, Compound)>,
}

/// A compiled selector list.
#[derive(Debug, Clone)]
pub struct Compiled(Vec<Complex>);

/// `text` compiled, if it is within the subset.
pub fn compile(text: &str) -> Option<Compiled> {
    text.split(',')
        .map(complex)
        .collect::<Option<Vec<_>>>()
        .map(Compiled)
}

fn complex(text: &str) -> Option<Complex> {
    let spaced = text.replace('>', " > ");
    // Each compound with whether a `>` (rather than white space) joins it to the one before.
    let mut parts: Vec<(bool, Compound)> = Vec::new();
    let mut child = false;
    for word in spaced.split_ascii_whitespace() {
        if word == ">" {
            if child || parts.is_empty() {
                return None;
            }
            child = true;
            continue;
        }
        parts.push((child, compound(word)?));
        child = false;
    }
    if child {
        return None;
    }
    let (mut join, subject) = parts.pop()?;
    let mut ancestors = Vec::new();
    while let Some((before, c)) = parts.pop() {
        ancestors.push((join, c));
        join = before;
    }
    Some(Complex { subject, ancestors })
}

fn ident(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(s.len());
    (end > 0 && !s.starts_with(|c: char| c.is_ascii_digit())).then(|| (&s[..end], &s[end..]))
}

fn compound(mut s: &str) -> Option<Compound> {
    let mut c = Compound::default();
    if let Some(rest) = s.strip_prefix('*') {
        s = rest;
    } else if let Some((tag, rest)) = ident(s) {
        c.tag = Some(tag.to_ascii_lowercase());
        s = rest;
    }
    while !s.is_empty() {
        if let Some(rest) = s.strip_prefix('.') {
            let (name, rest) = ident(rest)?;
            c.classes.push(name.to_string());
            s = rest;
        } else if let Some(rest) = s.strip_prefix('#') {
            let (name, rest) = ident(rest)?;
            c.ids.push(name.to_string());
            s = rest;
        } else if let Some(rest) = s.strip_prefix('[') {
            let close = rest.find(']')?;
            c.attrs.push(attribute(&rest[..close])?);
            s = &rest[close + 1..];
        } else if let Some(rest) = s.strip_prefix(":not(") {
            let close = rest.find(')')?;
            let inner: Vec<Compound> = rest[..close]
                .split(',')
                .map(|p| compound(p.trim()))
                .collect::<Option<_>>()?;
            c.not.extend(inner);
            s = &rest[close + 1..];
        } else {
            return None;
        }
    }
    Some(c)
}

fn attribute(inner: &str) -> Option<(String, Op, String)> {
    let Some(eq) = inner.find('=') else {
        let (name, rest) = ident(inner.trim())?;
        return rest
            .is_empty()
            .then(|| (name.to_ascii_lowercase(), Op::Exists, String::new()));
    };
    let (left, value) = (&inner[..eq], inner[eq + 1..].trim());
    let (name, op) = match left.trim().chars().last()? {
        '~' => (&left.trim()[..left.trim().len() - 1], Op::Word),
        '^' => (&left.trim()[..left.trim().len() - 1], Op::Prefix),
        '$' => (&left.trim()[..left.trim().len() - 1], Op::Suffix),
        '*' => (&left.trim()[..left.trim().len() - 1], Op::Contains),
        c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => (left.trim(), Op::Equals),
        _ => return None,
    };
    let (name, rest) = ident(name.trim())?;
    let name = name.to_ascii_lowercase();
    if !rest.is_empty() || !(PLAIN_ATTRS.contains(&name.as_str()) || name.starts_with("data-")) {
        return None;
    }
    let value = match value.as_bytes().first()? {
        q @ (b'"' | b'\'') => {
            let v = value.strip_prefix(*q as char)?.strip_suffix(*q as char)?;
            (!v.contains(['"', '\'', '\\'])).then_some(v)?
        }
        _ => {
            let (v, rest) = ident(value)?;
            rest.is_empty().then_some(v)?
        }
    };
    Some((name, op, value.to_string()))
}

impl Compiled {
    /// Whether element `id` of `tree` matches.
    pub fn matches(&self, tree: &Tree, id: u32) -> bool {
        self.0.iter().any(|c| c.matches(tree, id))
    }
}

impl Complex {
    fn matches(&self, tree: &Tree, id: u32) -> bool {
        self.subject.matches(tree, id) && ancestors_match(tree, id, &self.ancestors)
    }
}

/// Whether the ancestors of `id` satisfy `chain` (nearest first), backtracking over descendant
/// combinators as CSS does.
fn ancestors_match(tree: &Tree, id: u32, chain: &[(bool, Compound)]) -> bool {
    let Some(((child, compound), rest)) = chain.split_first() else {
        return true;
    };
    let mut at = tree.node(id).parent;
    while at != super::NONE && tree.node(at).is_element() {
        if compound.matches(tree, at) && ancestors_match(tree, at, rest) {
            return true;
        }
        if *child {
            return false;
        }
        at = tree.node(at).parent;
    }
    false
}

impl Compound {
    fn matches(&self, tree: &Tree, id: u32) -> bool {
        let n = tree.node(id);
        if !n.is_element() || self.tag.as_ref().is_some_and(|t| *t != n.tag) {
            return false;
        }
        let words = |attr: &str, want: &str| {
            tree.attr(id, attr)
                .is_some_and(|v| v.split_ascii_whitespace().any(|w| w == want))
        };
        self.classes.iter().all(|c| words("class", c))
            && self
                .ids
                .iter()
                .all(|i| tree.attr(id, "id") == Some(i.as_str()))
            && self.attrs.iter().all(|(name, op, want)| {
                let Some(v) = tree.attr(id, name) else {
                    return false;
                };
                let w = want.as_str();
                match op {
                    Op::Exists => true,
                    Op::Equals => v == w,
                    Op::Word => {
                        !w.is_empty()
                            && !w.contains(char::is_whitespace)
                            && v.split_ascii_whitespace().any(|x| x == w)
                    }
                    Op::Prefix => !w.is_empty() && v.starts_with(w),
                    Op::Suffix => !w.is_empty() && v.ends_with(w),
                    Op::Contains => !w.is_empty() && v.contains(w),
                }
            })
            && !self.not.iter().any(|c| c.matches(tree, id))
    }
}

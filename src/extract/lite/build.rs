//! The tree-building half of the lite parser: html5ever's insertion rules for the cases it models,
//! and `None` for every case where html5ever would repair the page in a way not modelled here.

use std::borrow::Cow;

use super::rules::{closes_by_end, implied_end, table_context, void};
use super::token::{self, StartTag, is_space};
use super::{NONE, Node, Tree};

#[derive(PartialEq, Clone, Copy)]
pub(super) enum Mode {
    BeforeHtml,
    BeforeHead,
    InHead,
    AfterHead,
    InBody,
    AfterBody,
    AfterHtml,
}

pub(super) struct Builder<'a> {
    pub(super) tree: Tree<'a>,
    pub(super) stack: Vec<u32>,
    pub(super) mode: Mode,
    /// A comment came since the last text: html5ever does not merge text across one.
    split: bool,
    /// How many of each [`tracked`] element are open, so `open` needs no walk up the stack.
    open_counts: [u16; 5],
}

/// The elements whose being open is asked about at most start tags.
fn tracked(tag: &str) -> Option<usize> {
    match tag {
        "p" => Some(0),
        "select" => Some(1),
        "a" => Some(2),
        "form" => Some(3),
        "button" => Some(4),
        _ => None,
    }
}

/// The page's tree, if this reader is sure it is html5ever's.
pub fn parse(src: &str) -> Option<Tree<'_>> {
    if src.as_bytes().contains(&0) {
        return None;
    }
    let mut b = Builder {
        tree: Tree {
            src,
            nodes: Vec::with_capacity(src.len() / 16),
            attrs: Vec::with_capacity(src.len() / 24),
            head: NONE,
            body: NONE,
        },
        stack: Vec::with_capacity(32),
        mode: Mode::BeforeHtml,
        split: false,
        open_counts: [0; 5],
    };
    b.tree.nodes.push(node(Cow::Borrowed(""), 0..0, NONE, 0));
    let bytes = src.as_bytes();
    let mut at = if src.starts_with('\u{feff}') { 3 } else { 0 };
    while at < bytes.len() {
        let lt = memchr::memchr(b'<', &bytes[at..]).map_or(bytes.len(), |p| at + p);
        // A `<` that opens no tag is text: look for the next one.
        let mut text_end = lt;
        while text_end < bytes.len() && !opens_markup(bytes, text_end) {
            text_end = memchr::memchr(b'<', &bytes[text_end + 1..])
                .map_or(bytes.len(), |p| text_end + 1 + p);
        }
        if text_end > at {
            b.text(at, text_end)?;
        }
        if text_end >= bytes.len() {
            break;
        }
        at = b.markup(text_end)?;
    }
    if b.tree.body == NONE {
        return None;
    }
    for id in b.stack.drain(..) {
        b.tree.nodes[id as usize].end = src.len();
    }
    Some(b.tree)
}

/// Elements html5ever keeps in the head when they come before the body.
fn head_content(name: &str) -> bool {
    matches!(
        name,
        "meta" | "link" | "base" | "basefont" | "bgsound" | "title" | "script" | "style"
    )
}

fn opens_markup(bytes: &[u8], at: usize) -> bool {
    match bytes.get(at + 1) {
        Some(b) if b.is_ascii_alphabetic() => true,
        Some(b'!' | b'?') => true,
        Some(b'/') => true,
        _ => false,
    }
}

fn node<'a>(tag: Cow<'a, str>, attrs: std::ops::Range<u32>, parent: u32, start: usize) -> Node<'a> {
    Node {
        tag,
        attrs,
        text: Cow::Borrowed(""),
        parent,
        first_child: NONE,
        last_child: NONE,
        next: NONE,
        start,
        inner: start,
        end: start,
    }
}

impl<'a> Builder<'a> {
    pub(super) fn current(&self) -> u32 {
        *self.stack.last().unwrap_or(&0)
    }

    pub(super) fn tag(&self, id: u32) -> &str {
        &self.tree.nodes[id as usize].tag
    }

    pub(super) fn open(&self, name: &str) -> bool {
        match tracked(name) {
            Some(k) => self.open_counts[k] > 0,
            None => self.stack.iter().any(|&id| self.tag(id) == name),
        }
    }

    /// Pushes `id` on the stack of open elements.
    fn enter(&mut self, id: u32) {
        if let Some(k) = tracked(&self.tree.nodes[id as usize].tag) {
            self.open_counts[k] += 1;
        }
        self.stack.push(id);
    }

    fn append(&mut self, mut n: Node<'a>) -> u32 {
        let parent = self.current();
        n.parent = parent;
        let id = self.tree.nodes.len() as u32;
        self.tree.nodes.push(n);
        let p = &mut self.tree.nodes[parent as usize];
        let last = p.last_child;
        p.last_child = id;
        if last == NONE {
            p.first_child = id;
        } else {
            self.tree.nodes[last as usize].next = id;
        }
        id
    }

    pub(super) fn push(&mut self, name: &'static str, at: usize) -> u32 {
        let id = self.append(node(Cow::Borrowed(name), 0..0, NONE, at));
        self.enter(id);
        id
    }

    fn pop(&mut self, end: usize) {
        if let Some(id) = self.stack.pop() {
            if let Some(k) = tracked(&self.tree.nodes[id as usize].tag) {
                self.open_counts[k] -= 1;
            }
            self.tree.nodes[id as usize].end = end;
        }
    }

    fn text(&mut self, from: usize, to: usize) -> Option<()> {
        let raw = &self.tree.src[from..to];
        let mut cr = false;
        let blank = raw.bytes().all(|b| {
            cr |= b == b'\r';
            is_space(b)
        });
        // White space needs no decoding unless it holds a carriage return.
        let plain = blank && !cr;
        match self.mode {
            Mode::BeforeHtml | Mode::BeforeHead if blank => return Some(()),
            Mode::AfterHtml if !blank => return None,
            // White space after `</html>` still goes into the body, as a text node of its own.
            Mode::AfterHtml => self.stack.truncate(2),
            Mode::InHead | Mode::AfterHead | Mode::AfterBody if !blank => return None,
            Mode::BeforeHtml | Mode::BeforeHead => {
                // White space before the first text is dropped; the rest opens an implied body.
                let lead = raw.bytes().take_while(|&b| is_space(b)).count();
                self.implied(Mode::InBody, from + lead)?;
                return self.insert_text(from + lead, &raw[lead..], false);
            }
            _ => {}
        }
        if !blank && table_context(self.tag(self.current())) {
            return None; // foster parenting
        }
        if self.mode == Mode::AfterBody {
            // White space after `</body>` still goes into the body.
            self.stack.truncate(2);
        }
        self.insert_text(from, raw, plain)
    }

    /// Appends the text `raw` (at `at`), decoded unless `plain`.
    fn insert_text(&mut self, at: usize, raw: &'a str, plain: bool) -> Option<()> {
        let text = if plain {
            Cow::Borrowed(raw)
        } else {
            token::decode(raw, false)?
        };
        let last = self.tree.nodes[self.current() as usize].last_child;
        let split = std::mem::replace(&mut self.split, false);
        // Text right after text (around `</body>`) joins it, as in html5ever.
        if last != NONE && self.tree.nodes[last as usize].is_text() && !split {
            let prev = &mut self.tree.nodes[last as usize];
            prev.text.to_mut().push_str(&text);
            prev.end = at + raw.len();
            return Some(());
        }
        let mut n = node(Cow::Borrowed(""), 0..0, NONE, at);
        n.text = text;
        n.end = at + raw.len();
        self.append(n);
        Some(())
    }

    /// Creates the elements html5ever implies on the way to `target` (`InHead` or `InBody`).
    fn implied(&mut self, target: Mode, at: usize) -> Option<()> {
        if self.mode == Mode::BeforeHtml {
            self.push("html", at);
            self.mode = Mode::BeforeHead;
        }
        if target == Mode::BeforeHead {
            return Some(());
        }
        if self.mode == Mode::BeforeHead {
            self.tree.head = self.push("head", at);
            self.mode = Mode::InHead;
        }
        if target == Mode::InBody {
            if self.mode == Mode::InHead {
                self.pop(at);
                self.mode = Mode::AfterHead;
            }
            if self.mode == Mode::AfterHead {
                self.tree.body = self.push("body", at);
                self.mode = Mode::InBody;
            }
        }
        Some(())
    }

    /// Reads the markup at `at`; the offset after it.
    fn markup(&mut self, at: usize) -> Option<usize> {
        let src = self.tree.src;
        let bytes = src.as_bytes();
        match bytes[at + 1] {
            b'!' if src[at..].starts_with("<!--") => {
                self.split = true;
                token::comment(src, at)
            }
            b'!' if bytes
                .get(at + 2..at + 9)
                .is_some_and(|d| d.eq_ignore_ascii_case(b"doctype")) =>
            {
                (self.mode == Mode::BeforeHtml && self.tree.nodes.len() == 1)
                    .then(|| memchr::memchr(b'>', &bytes[at..]).map(|p| at + p + 1))?
            }
            b'/' if bytes.get(at + 2).is_some_and(u8::is_ascii_alphabetic) => {
                let (name, end) = token::end_tag(src, at)?;
                self.end_tag(&name, end)?;
                Some(end)
            }
            b if b.is_ascii_alphabetic() => {
                let tag = token::start_tag(src, at, &mut self.tree.attrs)?;
                self.start_tag(tag, at)
            }
            _ => None,
        }
    }

    fn start_tag(&mut self, tag: StartTag<'a>, at: usize) -> Option<usize> {
        let end = tag.end;
        match (self.mode, &*tag.name) {
            (Mode::BeforeHtml, "html") => {
                self.open_structural(tag, at, Mode::BeforeHead);
                return Some(end);
            }
            (Mode::BeforeHtml | Mode::BeforeHead, "head") => {
                self.implied(Mode::BeforeHead, at)?;
                self.tree.head = self.open_structural(tag, at, Mode::InHead);
                return Some(end);
            }
            (Mode::BeforeHtml | Mode::BeforeHead, n) if head_content(n) => {
                self.implied(Mode::InHead, at)?;
            }
            (Mode::InHead, n) if head_content(n) => {}
            (Mode::BeforeHtml | Mode::BeforeHead | Mode::InHead, "noscript") => return None,
            (Mode::InHead | Mode::AfterHead, "body") => {
                if self.mode == Mode::InHead {
                    self.pop(at);
                }
                self.tree.body = self.open_structural(tag, at, Mode::InBody);
                return Some(end);
            }
            (Mode::BeforeHtml | Mode::BeforeHead, "body") => {
                self.implied(Mode::InHead, at)?;
                self.pop(at);
                self.mode = Mode::AfterHead;
                return self.start_tag(tag, at);
            }
            (Mode::AfterHead, n) if head_content(n) || n == "head" => return None,
            (Mode::InBody, _) => {}
            (Mode::AfterBody | Mode::AfterHtml, _) => return None,
            _ => self.implied(Mode::InBody, at)?,
        }
        if self.mode == Mode::InBody {
            self.body_start_check(&tag, at)?;
        }
        self.insert(tag, at)
    }

    /// Opens `<html>`, `<head>` or `<body>` as written, and moves on to `mode`.
    fn open_structural(&mut self, tag: StartTag<'a>, at: usize, mode: Mode) -> u32 {
        let id = self.append(node(tag.name, tag.attrs, NONE, at));
        self.tree.nodes[id as usize].inner = tag.end;
        self.enter(id);
        self.mode = mode;
        id
    }

    fn insert(&mut self, tag: StartTag<'a>, at: usize) -> Option<usize> {
        let end = tag.end;
        let name = tag.name.clone();
        let id = self.append(node(tag.name, tag.attrs, NONE, at));
        self.tree.nodes[id as usize].inner = end;
        if void(&name) {
            self.tree.nodes[id as usize].end = end;
            return Some(end);
        }
        if matches!(&*name, "script" | "style" | "title" | "iframe") {
            let (close, past) = token::raw_text_end(self.tree.src, end, &name)?;
            self.enter(id);
            if close > end {
                let raw = &self.tree.src[end..close];
                if name == "title" {
                    self.insert_text(end, raw, false)?;
                } else {
                    let mut t = node(Cow::Borrowed(""), 0..0, NONE, end);
                    t.text = token::decode_newlines(raw);
                    t.end = close;
                    self.append(t);
                }
            }
            self.pop(past);
            return Some(past);
        }
        self.enter(id);
        Some(end)
    }

    fn end_tag(&mut self, name: &str, end: usize) -> Option<()> {
        match (self.mode, name) {
            (Mode::InHead, "head") => {
                self.pop(end);
                self.mode = Mode::AfterHead;
                return Some(());
            }
            (Mode::InBody, "body") => {
                (self.stack.len() == 2).then_some(())?;
                self.tree.nodes[self.tree.body as usize].end = end;
                self.mode = Mode::AfterBody;
                return Some(());
            }
            (Mode::AfterBody, "html") => {
                self.mode = Mode::AfterHtml;
                return Some(());
            }
            (Mode::InBody, _) => {}
            _ => return None,
        }
        let depth = self.stack.len();
        let mut i = depth;
        while i > 2 {
            i -= 1;
            let tag = self.tag(self.stack[i]);
            if tag == name {
                for _ in i..depth {
                    self.pop(end);
                }
                return Some(());
            }
            let closable = (implied_end(tag) && closes_by_end(name))
                || (matches!(name, "table" | "tbody" | "thead" | "tfoot" | "tr")
                    && matches!(tag, "tbody" | "thead" | "tfoot" | "tr" | "td" | "th"));
            // Only block end tags close what was left open; a formatting one would rearrange.
            if !closable {
                return None;
            }
        }
        None
    }
}

//! An HTML check for our own pages with html5ever's tokenizer (an independent parser): no parse
//! errors, every non-void element closed explicitly and in order, no duplicate ids. Stricter than
//! HTML requires (no implied end tags), which is how our templates are written. Also collects the
//! links (`href` of `a` and `link`, `action` of forms) to check that each answers.

use std::cell::RefCell;
use std::collections::HashSet;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param",
];

#[derive(Default)]
struct Sink {
    problems: RefCell<Vec<String>>,
    open: RefCell<Vec<String>>,
    ids: RefCell<HashSet<String>>,
    links: RefCell<Vec<String>>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        match token {
            Token::ParseError(e) => self.problems.borrow_mut().push(format!("line {line}: {e}")),
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                match tag.kind {
                    TagKind::StartTag => {
                        for a in &tag.attrs {
                            let attr = a.name.local.to_string();
                            let value = a.value.to_string();
                            if attr == "id" && !self.ids.borrow_mut().insert(value.clone()) {
                                self.problems
                                    .borrow_mut()
                                    .push(format!("line {line}: duplicate id {value:?}"));
                            }
                            if (attr == "href" && (name == "a" || name == "link"))
                                || (attr == "action" && name == "form")
                            {
                                self.links.borrow_mut().push(value);
                            }
                        }
                        if !VOID.contains(&name.as_str()) && !tag.self_closing {
                            self.open.borrow_mut().push(name);
                        }
                    }
                    TagKind::EndTag => {
                        let top = self.open.borrow_mut().pop();
                        if top.as_deref() != Some(name.as_str()) {
                            self.problems.borrow_mut().push(format!(
                                "line {line}: </{name}> closes <{}>",
                                top.unwrap_or_default()
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The problems found in `html` (empty when it is well-formed), and its links.
pub fn check(html: &str) -> (Vec<String>, Vec<String>) {
    let tokenizer = Tokenizer::new(
        Sink::default(),
        TokenizerOpts {
            exact_errors: true,
            ..TokenizerOpts::default()
        },
    );
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let sink = &tokenizer.sink;
    let mut problems = sink.problems.borrow().clone();
    let open = sink.open.borrow();
    if !open.is_empty() {
        problems.push(format!("never closed: {:?}", *open));
    }
    if !html.trim_start().starts_with("<!DOCTYPE html>") {
        problems.push("no <!DOCTYPE html>".into());
    }
    (problems, sink.links.borrow().clone())
}

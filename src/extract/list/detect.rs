//! Finding the list among a page's groups of same-shaped siblings, on either tree.

use std::cmp::Reverse;
use std::sync::LazyLock;

use regex::Regex;

use super::item::item_of;
use super::{Ctx, ListItem};
use crate::extract::chrome;
use crate::extract::dom::Node;
use crate::extract::text::chars;

static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static regex"));
/// Below this, the best candidate is not a list (a layout change, or a page with no list).
const MIN_SCORE: f64 = 4.5;
/// The most a group's score can gain after scoring: the pager bonus.
const PAGER_BONUS: f64 = 1.6;
/// The most one item adds to a score: 3 when dated, × 1.5 for long titles (× a penalty ≤ 1).
const ITEM_MOST: f64 = 3.0 * 1.5;

/// Shape of an element for grouping siblings: tag and class, digits dropped.
fn signature(node: &impl Node) -> String {
    let mut out = String::new();
    signature_into(node, &mut out);
    out
}

/// Appends `node`'s [`signature`] to `out` (callers reuse one buffer for many elements).
fn signature_into(node: &impl Node, out: &mut String) {
    let tag = node.tag().unwrap_or_default();
    let class = node.attr("class").unwrap_or_default();
    out.push_str(&tag);
    out.push('.');
    if class.is_ascii() {
        // What `DIGITS.replace_all(class, "").trim()` gives, without two more strings: trimming
        // digits with the white space leaves ends that removing digits cannot expose.
        let kept = class.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_digit());
        for part in kept.split(|c: char| c.is_ascii_digit()) {
            out.push_str(part);
        }
    } else {
        out.push_str(DIGITS.replace_all(&class, "").trim());
    }
}

/// Whether `node`'s [`signature`] is `sig`, written in `buf` (cleared first).
fn has_signature(node: &impl Node, sig: &str, buf: &mut String) -> bool {
    buf.clear();
    signature_into(node, buf);
    buf == sig
}

struct Group<N> {
    parent: N,
    signature: String,
    members: Vec<N>,
    /// Members with an `href` in them: no item can come from one without.
    linked: usize,
}

struct Candidate<N> {
    score: f64,
    parent: N,
    signature: String,
    /// The group's members and the item each gave, for reuse when the group wins.
    read: Vec<(N, Option<ListItem>)>,
}

/// Every set of two or more same-shaped siblings, in page order.
fn groups<N: Node>(root: &N) -> Vec<Group<N>> {
    let mut out = Vec::new();
    // Reused for every parent: the children's signatures side by side in one string, for each
    // child the first sibling of its shape, and how many children share that shape. Only shapes
    // seen twice get a group (and a string) of their own.
    let mut sigs = String::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut first_of: Vec<usize> = Vec::new();
    let mut count: Vec<usize> = Vec::new();
    for node in root.descendant_elements() {
        // Most elements have fewer than two element children: no list of their own.
        if !node.has_element_children(2) {
            continue;
        }
        let children = node.element_children();
        // Only a group with two linked members is ever read: without two linked children, no
        // group of this node's is worth its signatures.
        if children
            .iter()
            .filter(|c| c.has_href_inside())
            .nth(1)
            .is_none()
        {
            continue;
        }
        sigs.clear();
        spans.clear();
        first_of.clear();
        count.clear();
        for (i, child) in children.iter().enumerate() {
            let start = sigs.len();
            signature_into(child, &mut sigs);
            let sig = &sigs[start..];
            let first = spans
                .iter()
                .position(|&(s, e)| &sigs[s..e] == sig)
                .unwrap_or(i);
            spans.push((start, sigs.len()));
            first_of.push(first);
            count.push(0);
            count[first] += 1;
        }
        for (i, &(s, e)) in spans.iter().enumerate() {
            if count[i] < 2 {
                continue; // a later member of a shape, or a shape seen once
            }
            let members: Vec<N> = first_of
                .iter()
                .zip(&children)
                .filter(|(first, _)| **first == i)
                .map(|(_, child)| *child)
                .collect();
            let linked = members.iter().filter(|m| m.has_href_inside()).count();
            out.push(Group {
                parent: node,
                signature: sigs[s..e].to_string(),
                members,
                linked,
            });
        }
    }
    out
}

/// The best list on the page.
pub(super) fn detect<N: Node>(root: &N, ctx: &Ctx) -> Vec<ListItem> {
    detect_with(root, ctx, true)
}

/// [`detect`], optionally reading every group (to check that skipping changes nothing).
///
/// Groups are read from the most linked down, and one whose score cannot reach the best score
/// found so far, pager bonus included, is skipped: it could not win, and scoring below the
/// winner's score / 1.6, neither could a group it would push out of the four that get a look for
/// the pager. A group of fewer than two linked members cannot score at all.
pub(super) fn detect_with<N: Node>(root: &N, ctx: &Ctx, skip: bool) -> Vec<ListItem> {
    let groups = groups(root);
    let mut order: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].linked >= 2)
        .collect();
    order.sort_by_key(|&i| Reverse(groups[i].linked));
    let mut floor = if skip { MIN_SCORE } else { f64::NEG_INFINITY };
    let mut scored: Vec<(usize, Candidate<N>)> = Vec::new();
    let mut penalties = Vec::new();
    for i in order {
        let g = &groups[i];
        let most = g.linked as f64 * ITEM_MOST * PAGER_BONUS;
        if most < floor {
            break; // every later group is less linked
        }
        let penalty = chrome::penalty_with(&g.parent, &mut penalties);
        if most * penalty < floor {
            continue;
        }
        if let Some(c) = candidate(g, penalty, ctx) {
            if skip {
                floor = floor.max(c.score);
            }
            scored.push((i, c));
        }
    }
    // Page order, as a full scan would have met them, so that ties fall the same way.
    scored.sort_by_key(|(i, _)| *i);
    let mut candidates: Vec<Candidate<N>> = scored.into_iter().map(|(_, c)| c).collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    // The pager sits next to the real list; only the leaders are worth the look.
    for c in candidates.iter_mut().take(4) {
        if pager_nearby(&c.parent) {
            c.score *= PAGER_BONUS;
        }
    }
    let best = candidates
        .into_iter()
        .filter(|c| c.score >= MIN_SCORE)
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let Some(best) = best else {
        return Vec::new();
    };
    if let Some(with_strays) = with_strays(&best, ctx) {
        return with_strays;
    }
    let members = members_of(&best);
    let same = members.len() == best.read.len()
        && members.iter().zip(&best.read).all(|(m, (r, _))| m.same(r));
    if same {
        return best.read.into_iter().filter_map(|(_, item)| item).collect();
    }
    members
        .iter()
        .filter_map(|m| item_of(m, ctx, true))
        .collect()
}

/// The winning list read again in page order with its strays, when it has any: siblings of the
/// same tag whose class sets them apart (`<li class="top">` for a pinned item, `first`, `hot`…)
/// and that hold a dated article link. Undated strays (a "更多" row, a heading) stay out.
fn with_strays<N: Node>(best: &Candidate<N>, ctx: &Ctx) -> Option<Vec<ListItem>> {
    let tag = best.signature.split('.').next().unwrap_or_default();
    let children = best.parent.element_children();
    let mut buf = String::new();
    let has_stray = children
        .iter()
        .any(|c| c.tag().as_deref() == Some(tag) && !has_signature(c, &best.signature, &mut buf));
    if !has_stray {
        return None;
    }
    let mut out = Vec::new();
    for child in children {
        if child.tag().as_deref() != Some(tag) {
            continue;
        }
        let own = has_signature(&child, &best.signature, &mut buf);
        // The group's own members were read when it was scored.
        let read = best
            .read
            .iter()
            .find(|(member, _)| own && member.same(&child));
        let item = match read {
            Some((_, item)) => item.clone(),
            None => item_of(&child, ctx, true),
        };
        match item {
            Some(item) if own || item.date.is_some() => out.push(item),
            _ => {}
        }
    }
    let strays = out.len() > best.read.iter().filter(|(_, i)| i.is_some()).count();
    strays.then_some(out)
}

fn candidate<N: Node>(g: &Group<N>, penalty: f64, ctx: &Ctx) -> Option<Candidate<N>> {
    let read: Vec<(N, Option<ListItem>)> = g
        .members
        .iter()
        .map(|m| (*m, item_of(m, ctx, true)))
        .collect();
    let items: Vec<&ListItem> = read.iter().filter_map(|(_, i)| i.as_ref()).collect();
    // Separator rows (`<tr><td><hr></td></tr>`) hold nothing and do not count against a list.
    let substantial = g.members.iter().filter(|m| !m.text_is_blank()).count();
    let score = score(penalty, substantial, &items)?;
    Some(Candidate {
        score,
        parent: g.parent,
        signature: g.signature.clone(),
        read,
    })
}

/// The best group's members, with those of sibling containers of the same shape (a list split
/// into several `<ul>`s).
fn members_of<N: Node>(best: &Candidate<N>) -> Vec<N> {
    let own = signature(&best.parent);
    let mut buf = String::new();
    let containers: Vec<N> = match best.parent.parent() {
        Some(grand) => grand
            .element_children()
            .into_iter()
            .filter(|c| has_signature(c, &own, &mut buf))
            .collect(),
        None => vec![best.parent],
    };
    containers
        .iter()
        .flat_map(|c| c.element_children())
        .filter(|m| has_signature(m, &best.signature, &mut buf))
        .collect()
}

/// The score of a group with these items, in a container with this penalty.
fn score(penalty: f64, members: usize, items: &[&ListItem]) -> Option<f64> {
    let n = items.len();
    if n < 2 || (n as f64) < members as f64 * 0.5 {
        return None;
    }
    let dated = items.iter().filter(|i| i.date.is_some()).count() as f64 / n as f64;
    let avg_len = items.iter().map(|i| chars(&i.title)).sum::<usize>() as f64 / n as f64;
    let length = (avg_len / 12.0).clamp(0.15, 1.5);
    Some(n as f64 * (1.0 + 2.0 * dated) * length * penalty)
}

fn pager_nearby(node: &impl Node) -> bool {
    let mut current = Some(*node);
    for _ in 0..3 {
        let Some(n) = current else { return false };
        // Script text is part of `text()`, so TRS's createPageHTML is seen too.
        let text = n.text();
        if ["下页", "下一页", "尾页", "末页", "createPageHTML"]
            .iter()
            .any(|t| text.contains(t))
        {
            return true;
        }
        current = n.parent();
    }
    false
}

#[cfg(test)]
mod tests {
    use dom_query::Document;

    use super::signature;

    #[test]
    fn signatures_drop_digits_and_outer_space_as_the_regex_did() {
        let doc = Document::from(
            r#"<ul><li class=" 12 winstyle106390 x3y "></li><li class="数据12 栏目 "></li><li></li></ul>"#,
        );
        let lis = doc.select("li");
        let sigs: Vec<String> = lis.nodes().iter().map(signature).collect();
        assert_eq!(sigs, ["li.winstyle xy", "li.数据 栏目", "li."]);
    }
}

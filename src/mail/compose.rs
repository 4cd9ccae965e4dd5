//! A digest's words: subject, plain text and HTML (askama templates `templates/digest.{txt,html}`),
//! items grouped by source, times in the configured zone. Pure: no I/O.

use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::config::{Config, Email};
use crate::store::StoredItem;

/// Plain-text summary length per item, in characters.
const SUMMARY_CHARS: usize = 120;

pub struct Line {
    pub title: String,
    pub url: String,
    pub time: String,
    pub origin: Option<String>,
    pub summary: String,
}

pub struct Group {
    pub title: String,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "digest.txt")]
struct Text<'a> {
    heading: &'a str,
    groups: &'a [Group],
    web_url: &'a str,
    feeds_url: &'a str,
    unsubscribe_url: &'a str,
    manage_url: &'a str,
}

#[derive(Template)]
#[template(path = "digest.html")]
struct Html<'a> {
    heading: &'a str,
    groups: &'a [Group],
    web_url: &'a str,
    feeds_url: &'a str,
    unsubscribe_url: &'a str,
    manage_url: &'a str,
}

/// A subscriber's own signed links, printed in every digest.
#[derive(Debug, Clone)]
pub struct Links {
    pub unsubscribe: String,
    /// The page to change sources and schedule.
    pub manage: String,
}

/// A composed digest.
#[derive(Debug, Clone)]
pub struct Digest {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub item_ids: Vec<String>,
}

/// The digest of `items` (each with the id of the source it is grouped under).
pub fn compose(
    config: &Config,
    email: &Email,
    items: &[(StoredItem, String)],
    links: &Links,
    now: DateTime<Utc>,
) -> Digest {
    let tz = config.service.timezone;
    let mut groups: Vec<(String, Group)> = Vec::new();
    for (item, source_id) in items {
        let title = config
            .source(source_id)
            .map(|s| s.title.clone())
            .unwrap_or_else(|| source_id.clone());
        let line = Line {
            title: item.title.clone(),
            url: item.url.clone(),
            time: shown(item.published.unwrap_or(item.first_seen), tz),
            origin: item.origin.clone().filter(|o| !o.trim().is_empty()),
            summary: short(item.summary.as_deref().unwrap_or(""), SUMMARY_CHARS),
        };
        match groups.iter_mut().find(|(id, _)| id == source_id) {
            Some((_, g)) => g.lines.push(line),
            None => groups.push((
                source_id.clone(),
                Group {
                    title,
                    lines: vec![line],
                },
            )),
        }
    }
    // Groups in config order, so every digest reads the same way.
    groups.sort_by_key(|(id, _)| {
        config
            .sources
            .iter()
            .position(|s| &s.id == id)
            .unwrap_or(usize::MAX)
    });
    let groups: Vec<Group> = groups.into_iter().map(|(_, g)| g).collect();
    let sender = email
        .from
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "信息订阅".to_string());
    let first = groups.first().map(|g| g.title.as_str()).unwrap_or("");
    let more = if groups.len() > 1 { "等" } else { "" };
    let local = now.with_timezone(&tz);
    let subject = format!(
        "{sender}：{first}{more} {} 条新信息（{}）",
        items.len(),
        local.format("%-m月%-d日")
    );
    let web_url = config.service.public_url.to_string();
    let feeds_url = config
        .service
        .public_url
        .join("feeds.opml")
        .map(|u| u.to_string())
        .unwrap_or_else(|_| web_url.clone());
    let heading = subject.clone();
    let text = Text {
        heading: &heading,
        groups: &groups,
        web_url: &web_url,
        feeds_url: &feeds_url,
        unsubscribe_url: &links.unsubscribe,
        manage_url: &links.manage,
    }
    .render()
    .unwrap_or_else(|e| format!("{heading}\n\n(the digest could not be rendered: {e})"));
    let html = Html {
        heading: &heading,
        groups: &groups,
        web_url: &web_url,
        feeds_url: &feeds_url,
        unsubscribe_url: &links.unsubscribe,
        manage_url: &links.manage,
    }
    .render()
    .unwrap_or_default();
    Digest {
        subject,
        text,
        html,
        item_ids: items.iter().map(|(i, _)| i.id.clone()).collect(),
    }
}

fn shown(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn short(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

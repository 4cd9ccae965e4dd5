//! The file as written, and its validation into [`super::Config`].
//!
//! Fields whose values need checking beyond their TOML type are read as `toml::Spanned` so that the
//! error can name their line. Defaults are the values documented in `config/portalfeed.toml`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{Config, ConfigError, Fetch, Selectors, Service, Source};
use crate::schedule::cron::Schedule;

/// A CSS selector compiled when the config is loaded, so a bad one is a config error, not a panic
/// at the first poll.
#[derive(Clone)]
pub struct Selector {
    text: String,
    matcher: Arc<dom_query::Matcher>,
}

impl Selector {
    /// Compiles `text`; the error is the parser's description of what is wrong.
    pub fn new(text: &str) -> Result<Selector, String> {
        if text.trim().is_empty() {
            return Err("empty selector".into());
        }
        let matcher = dom_query::Matcher::new(text).map_err(|e| format!("{:?}", e.kind))?;
        Ok(Selector {
            text: text.to_string(),
            matcher: Arc::new(matcher),
        })
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The compiled form, for `select_matcher`.
    pub fn matcher(&self) -> &dom_query::Matcher {
        &self.matcher
    }
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Selector({:?})", self.text)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    service: RawService,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    source: Vec<RawSource>,
    email: Option<super::email::RawEmail>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawService {
    database: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    public_url: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    alert_after_failures: Option<Spanned<u32>>,
    admin_token: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    user_agent: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<u64>>,
    max_body_bytes: Option<Spanned<u64>>,
    per_host_delay_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Spanned<String>,
    title: Option<String>,
    list_url: Spanned<String>,
    schedule: Option<Spanned<String>>,
    max_pages: Option<Spanned<u32>>,
    fetch_articles: Option<bool>,
    respect_robots: Option<bool>,
    insecure_tls: Option<bool>,
    #[serde(default)]
    select: RawSelect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSelect {
    item: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    next_page: Option<Spanned<String>>,
    content: Option<Spanned<String>>,
}

/// `service.title` when not set.
pub const DEFAULT_TITLE: &str = "政务信息订阅";
pub const DEFAULT_DATABASE: &str = "portalfeed.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_USER_AGENT: &str = "portalfeed/0.1 (+https://example.invalid/contact)";
pub const DEFAULT_SCHEDULE: &str = "*/20 * * * *";

/// Turns byte offsets into `path:line: key: message` errors.
pub(super) struct Errors<'a> {
    text: &'a str,
    pub(super) path: &'a Path,
}

impl Errors<'_> {
    pub(super) fn at(&self, offset: usize, key: &str, message: impl Into<String>) -> ConfigError {
        let end = offset.min(self.text.len());
        let line = self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line,
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(super) fn spanned<T>(
        &self,
        value: &Spanned<T>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        self.at(value.span().start, key, message)
    }
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let errors = Errors { text, path };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        errors.at(
            offset,
            &key_of_toml_error(text, offset),
            e.message().to_string(),
        )
    })?;
    let service = service(&errors, raw.service)?;
    let fetch = fetch(&errors, raw.fetch)?;
    let mut sources = Vec::with_capacity(raw.source.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, source) in raw.source.into_iter().enumerate() {
        let key = format!("source[{index}].id");
        if let Some(first) = seen.get(source.id.get_ref()) {
            let message = format!(
                "duplicate id {:?} (first used by source[{first}])",
                source.id.get_ref()
            );
            return Err(errors.spanned(&source.id, &key, message));
        }
        seen.insert(source.id.get_ref().clone(), index);
        sources.push(self::source(&errors, index, source)?);
    }
    if sources.is_empty() {
        return Err(ConfigError::Whole {
            path: path.to_path_buf(),
            message: "no [[source]] is configured".into(),
        });
    }
    let email = raw
        .email
        .map(|e| super::email::email(&errors, e))
        .transpose()?;
    Ok(Config {
        path: path.to_path_buf(),
        service,
        fetch,
        sources,
        email,
    })
}

/// The dotted key at a TOML error's offset: the table header above it (with the index of the
/// `[[source]]` it belongs to) and the key on its line.
fn key_of_toml_error(text: &str, offset: usize) -> String {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let mut table: Option<String> = None;
    let mut sources = 0usize;
    for line in before.lines().map(str::trim) {
        if line.starts_with("[[") {
            let name = line.trim_matches(|c| c == '[' || c == ']').trim();
            if name == "source" {
                sources += 1;
            }
            table = Some(indexed(name, sources));
        } else if line.starts_with('[') {
            table = Some(indexed(
                line.trim_matches(|c| c == '[' || c == ']').trim(),
                sources,
            ));
        }
    }
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line
        .split('=')
        .next()
        .map(str::trim)
        .filter(|k| !k.is_empty() && !k.starts_with('[') && line.contains('='));
    match (table, key) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (Some(t), None) => t,
        (None, Some(k)) => k.to_string(),
        (None, None) => "(top level)".into(),
    }
}

/// `source` → `source[2]`, `source.select` → `source[2].select` (for the third `[[source]]`).
fn indexed(table: &str, sources: usize) -> String {
    match table.strip_prefix("source") {
        Some(rest) if sources > 0 && (rest.is_empty() || rest.starts_with('.')) => {
            format!("source[{}]{rest}", sources - 1)
        }
        _ => table.to_string(),
    }
}

fn service(errors: &Errors, raw: RawService) -> Result<Service, ConfigError> {
    let base = errors.path.parent().unwrap_or(Path::new("."));
    let database = match &raw.database {
        Some(d) if d.get_ref().trim().is_empty() => {
            return Err(errors.spanned(d, "service.database", "must not be empty"));
        }
        Some(d) => base.join(d.get_ref()),
        None => base.join(DEFAULT_DATABASE),
    };
    let listen: SocketAddr = match &raw.listen {
        Some(l) => l.get_ref().parse().map_err(|e| {
            errors.spanned(
                l,
                "service.listen",
                format!("{:?} is not an address:port ({e})", l.get_ref()),
            )
        })?,
        None => DEFAULT_LISTEN
            .parse()
            .map_err(|_| errors.at(0, "service.listen", "bad default"))?,
    };
    let public_url = match &raw.public_url {
        Some(u) => http_url(errors, u, "service.public_url")?,
        None => Url::parse(&format!("http://{listen}"))
            .map_err(|e| errors.at(0, "service.public_url", e.to_string()))?,
    };
    let timezone = match &raw.timezone {
        Some(t) => t.get_ref().parse().map_err(|_| {
            errors.spanned(
                t,
                "service.timezone",
                format!(
                    "unknown time zone {:?} (use an IANA name such as Asia/Shanghai)",
                    t.get_ref()
                ),
            )
        })?,
        None => chrono_tz::Asia::Shanghai,
    };
    let alert_after_failures = match &raw.alert_after_failures {
        Some(n) if *n.get_ref() == 0 => {
            return Err(errors.spanned(n, "service.alert_after_failures", "must be at least 1"));
        }
        Some(n) => *n.get_ref(),
        None => 3,
    };
    let admin_token = match &raw.admin_token {
        Some(t) if t.get_ref().trim().len() < 16 || t.get_ref().contains(char::is_whitespace) => {
            return Err(errors.spanned(
                t,
                "service.admin_token",
                "must be at least 16 characters with no spaces (e.g. from `openssl rand -hex 24`)",
            ));
        }
        Some(t) => Some(t.get_ref().clone()),
        None => None,
    };
    let title = match &raw.title {
        Some(t) if t.get_ref().trim().is_empty() || t.get_ref().contains(['\r', '\n']) => {
            return Err(errors.spanned(t, "service.title", "must be one non-empty line"));
        }
        Some(t) => t.get_ref().trim().to_string(),
        None => DEFAULT_TITLE.to_string(),
    };
    Ok(Service {
        title,
        database,
        listen,
        public_url,
        timezone,
        alert_after_failures,
        admin_token,
    })
}

fn fetch(errors: &Errors, raw: RawFetch) -> Result<Fetch, ConfigError> {
    let user_agent = match &raw.user_agent {
        Some(ua) if ua.get_ref().trim().is_empty() || ua.get_ref().contains(['\r', '\n']) => {
            return Err(errors.spanned(ua, "fetch.user_agent", "must be one non-empty line"));
        }
        Some(ua) => ua.get_ref().clone(),
        None => DEFAULT_USER_AGENT.to_string(),
    };
    let timeout_secs = match &raw.timeout_secs {
        Some(t) if *t.get_ref() == 0 || *t.get_ref() > 3600 => {
            return Err(errors.spanned(t, "fetch.timeout_secs", "must be between 1 and 3600"));
        }
        Some(t) => *t.get_ref(),
        None => 20,
    };
    let max_body_bytes = match &raw.max_body_bytes {
        Some(m) if *m.get_ref() < 1024 => {
            return Err(errors.spanned(m, "fetch.max_body_bytes", "must be at least 1024"));
        }
        Some(m) => *m.get_ref(),
        None => 8_000_000,
    };
    Ok(Fetch {
        user_agent,
        timeout: Duration::from_secs(timeout_secs),
        max_body_bytes,
        per_host_delay: Duration::from_millis(raw.per_host_delay_ms.unwrap_or(1000)),
    })
}

fn source(errors: &Errors, index: usize, raw: RawSource) -> Result<Source, ConfigError> {
    let key = |name: &str| format!("source[{index}].{name}");
    let id = raw.id.get_ref().clone();
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !id_ok || id == "all" {
        let why = if id == "all" {
            "\"all\" is reserved for the combined feed"
        } else {
            "must match [a-z0-9-]+ (at most 64 characters)"
        };
        return Err(errors.spanned(&raw.id, &key("id"), format!("{id:?} {why}")));
    }
    let list_url = http_url(errors, &raw.list_url, &key("list_url"))?;
    let schedule = match &raw.schedule {
        Some(s) => Schedule::parse(s.get_ref()).map_err(|e| {
            errors.spanned(
                s,
                &key("schedule"),
                format!("bad cron expression {:?}: {e}", s.get_ref()),
            )
        })?,
        None => Schedule::parse(DEFAULT_SCHEDULE)
            .map_err(|e| errors.at(0, &key("schedule"), e.to_string()))?,
    };
    let max_pages = match &raw.max_pages {
        Some(m) if *m.get_ref() == 0 || *m.get_ref() > 1000 => {
            return Err(errors.spanned(m, &key("max_pages"), "must be between 1 and 1000"));
        }
        Some(m) => *m.get_ref(),
        None => 1,
    };
    let title = raw
        .title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| id.clone());
    let select = selectors(errors, index, &raw.select)?;
    Ok(Source {
        id,
        title,
        list_url,
        schedule,
        max_pages,
        fetch_articles: raw.fetch_articles.unwrap_or(true),
        respect_robots: raw.respect_robots.unwrap_or(true),
        insecure_tls: raw.insecure_tls.unwrap_or(false),
        select,
    })
}

fn selectors(errors: &Errors, index: usize, raw: &RawSelect) -> Result<Selectors, ConfigError> {
    let one =
        |value: &Option<Spanned<String>>, name: &str| -> Result<Option<Selector>, ConfigError> {
            let Some(v) = value else { return Ok(None) };
            Selector::new(v.get_ref()).map(Some).map_err(|e| {
                let key = format!("source[{index}].select.{name}");
                errors.spanned(v, &key, format!("bad CSS selector {:?}: {e}", v.get_ref()))
            })
        };
    Ok(Selectors {
        item: one(&raw.item, "item")?,
        link: one(&raw.link, "link")?,
        title: one(&raw.title, "title")?,
        date: one(&raw.date, "date")?,
        next_page: one(&raw.next_page, "next_page")?,
        content: one(&raw.content, "content")?,
    })
}

fn http_url(errors: &Errors, value: &Spanned<String>, key: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.get_ref().trim()).map_err(|e| {
        errors.spanned(
            value,
            key,
            format!("{:?} is not a URL ({e})", value.get_ref()),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(errors.spanned(
            value,
            key,
            format!("{:?} must be an http or https URL", value.get_ref()),
        ));
    }
    Ok(url)
}

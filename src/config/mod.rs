//! The configuration file: what portalfeed reads, from where, and how politely.
//!
//! The TOML key names are a contract with operators (their files and scripts depend on them), so the
//! structs here *are* the reference: every field has a doc comment and a default. Loading validates
//! everything that can be checked without the network — ids, URLs, time zone, cron expressions and
//! CSS selectors — and every error names the key and the line it sits on, so that a typo never
//! surfaces as a runtime failure hours later. Unknown keys are errors too (a misspelt
//! `max_page = 5` would otherwise be silently ignored).

mod dkim;
mod email;
mod raw;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

use crate::schedule::cron::Schedule;

pub use dkim::Dkim;
pub use email::{Email, Transport};
pub use raw::Selector;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from.
    pub path: PathBuf,
    pub service: Service,
    pub fetch: Fetch,
    pub sources: Vec<Source>,
    /// `[email]`, when digests are mailed.
    pub email: Option<Email>,
}

/// `[service]`: where state lives and how times are shown.
#[derive(Debug, Clone)]
pub struct Service {
    /// `title`: the name of the service on the public page (e.g. 西宁市城中区人民政府信息订阅);
    /// default 政务信息订阅.
    pub title: String,
    /// `database`: the SQLite file, resolved against the config file's folder.
    pub database: PathBuf,
    /// `listen`: address of the feed server.
    pub listen: SocketAddr,
    /// `public_url`: the address readers use to reach the feed server.
    pub public_url: Url,
    /// `timezone`: the zone of dates written on pages without one, and of displayed times.
    pub timezone: Tz,
    /// `alert_after_failures`: failed polls in a row of one source before `email.alerts_to` is
    /// mailed (once, and once more when it recovers). Default 3.
    pub alert_after_failures: u32,
    /// `admin_token`: when set, `/status`, `/status.json` and `/metrics` ask for it (a Bearer
    /// header or `?token=`); when not, they answer loopback clients only.
    pub admin_token: Option<String>,
}

/// `[fetch]`: how portalfeed talks to portals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// `user_agent`: sent with every request and matched against robots.txt.
    pub user_agent: String,
    /// `timeout_secs`: for a whole request, from connect to the last body byte.
    pub timeout: Duration,
    /// `max_body_bytes`: a larger response is an error for that URL.
    pub max_body_bytes: u64,
    /// `per_host_delay_ms`: the least time between two requests to one host.
    pub per_host_delay: Duration,
}

/// One `[[source]]`: a section of a portal.
#[derive(Debug, Clone)]
pub struct Source {
    /// `id`: `[a-z0-9-]+`, unique; used in feed URLs and on the command line.
    pub id: String,
    /// `title`: shown in feeds and mail (defaults to the id).
    pub title: String,
    /// `list_url`: the first list page of the section.
    pub list_url: Url,
    /// `schedule`: cron expression in `service.timezone` (5 fields, or 6 with seconds first).
    pub schedule: Schedule,
    /// `max_pages`: list pages to follow per poll.
    pub max_pages: u32,
    /// `fetch_articles`: open each new item's article page for its body, time and attachments.
    pub fetch_articles: bool,
    /// `respect_robots`: honour robots.txt (default true; turning it off is logged at every poll).
    pub respect_robots: bool,
    /// `insecure_tls`: accept invalid certificate chains for this source (default false; logged).
    pub insecure_tls: bool,
    /// `[source.select]`: CSS selectors; each one left out is auto-detected.
    pub select: Selectors,
}

/// `[source.select]`: each selector is optional on its own.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    /// `item`: one element per item on the list page.
    pub item: Option<Selector>,
    /// `link`: inside an item, the element whose `href` is the article.
    pub link: Option<Selector>,
    /// `title`: inside an item, the title (its `title` attribute wins over cut text).
    pub title: Option<Selector>,
    /// `date`: inside an item, the date text.
    pub date: Option<Selector>,
    /// `next_page`: on the list page, the link to the next page.
    pub next_page: Option<Selector>,
    /// `content`: on the article page, the body.
    pub content: Option<Selector>,
}

/// A configuration error: what was wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("read config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Whole { path: PathBuf, message: String },
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates `text` as if read from `path` (relative paths resolve against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        raw::parse(text, path)
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests;

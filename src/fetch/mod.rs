//! Fetching: HTTP GETs that are bounded, polite and conditional, and bytes decoded to text.
//!
//! Promises: at most 5 redirects over http/https only; the configured timeout for the whole request
//! and a body cap enforced while streaming (a huge body is an error for that URL, never an
//! out-of-memory); at least `per_host_delay` between two requests to one host, and never two at once
//! to one host ([`politeness`]); If-None-Match / If-Modified-Since from saved validators; robots.txt
//! per RFC 9309 ([`robots`]); bodies decoded by BOM → header → meta → UTF-8 → detection
//! ([`charset`]); firewall challenge pages recognised as such ([`antibot`]).
//! Leaves to others: what the text means (extract) and what to remember (store).

pub mod antibot;
pub mod charset;
mod client;
pub mod politeness;
pub mod robots;

use std::time::Duration;

pub use client::{Fetcher, Observer, Page};

/// Why a fetch gave no page.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("not modified")]
    NotModified,
    #[error("status {status}{}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("body larger than the {limit}-byte cap (fetch.max_body_bytes)")]
    TooLarge { limit: u64 },
    #[error("timed out after {0}s (fetch.timeout_secs)")]
    Timeout(u64),
    #[error("redirect: {0}")]
    Redirect(String),
    #[error(
        "disallowed by robots.txt for our user agent (set respect_robots = false on the source to override)"
    )]
    Robots,
    #[error("blocked by the portal's firewall: {0}")]
    Blocked(String),
    #[error("{0}")]
    Network(String),
    #[error("unsupported URL: {0}")]
    BadUrl(String),
}

impl FetchError {
    /// How long the server asked us to wait (429/503 with Retry-After).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

//! robots.txt (RFC 9309) for our user agent.
//!
//! RFC 9309 §2.3.1: a 4xx answer ("unavailable") allows everything; a 5xx or a network failure
//! ("unreachable") disallows everything. The rules match on the product token of our user agent
//! (`portalfeed` of `portalfeed/0.1 (+…)`). Answers are cached by the caller for a day (in the
//! database, so that one-shot `poll` runs share them); an unreachable answer is not cached.

use chrono::{DateTime, Utc};
use texting_robots::Robot;
use url::Url;

use super::{FetchError, Fetcher};
use crate::store::RobotsEntry;

/// How long a robots.txt answer is trusted.
pub const CACHE_FOR: chrono::Duration = chrono::Duration::days(1);

/// A host's rules.
pub enum Rules {
    AllowAll,
    DisallowAll,
    Parsed(Box<Robot>),
}

impl Rules {
    /// The rules an answer gives for `user_agent`.
    pub fn from_entry(entry: &RobotsEntry, user_agent: &str) -> Rules {
        match entry.status {
            200..=299 => match Robot::new(product_token(user_agent), &entry.body) {
                Ok(robot) => Rules::Parsed(Box::new(robot)),
                // An unparseable file says nothing we can follow; RFC 9309 treats it like no file.
                Err(_) => Rules::AllowAll,
            },
            400..=499 => Rules::AllowAll,
            _ => Rules::DisallowAll,
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(robot) => robot.allowed(url.as_str()),
        }
    }
}

/// `scheme://host:port`, the scope of one robots.txt.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `portalfeed` from `portalfeed/0.1 (+https://…)`.
pub fn product_token(user_agent: &str) -> &str {
    user_agent
        .split(['/', ' '])
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or(user_agent)
}

/// The robots.txt URL for `url`.
pub fn robots_url(url: &Url) -> Url {
    let mut robots_url = url.clone();
    robots_url.set_path("/robots.txt");
    robots_url.set_query(None);
    robots_url.set_fragment(None);
    robots_url
}

/// Fetches the robots.txt of `url`'s origin. A host that cannot be reached is an error (which
/// RFC 9309 treats as "disallow everything"); the caller reports it and caches nothing.
pub async fn fetch(
    fetcher: &Fetcher,
    url: &Url,
    insecure_tls: bool,
    now: DateTime<Utc>,
) -> Result<RobotsEntry, FetchError> {
    match fetcher
        .get_bytes(&robots_url(url), None, insecure_tls)
        .await
    {
        Ok((_, status, _, body)) => Ok(RobotsEntry {
            status: status.as_u16(),
            body,
            fetched: now,
        }),
        // An oversized file: RFC 9309 §2.5 lets us parse a prefix; we take it as allowing all.
        Err(FetchError::TooLarge { .. }) => Ok(RobotsEntry {
            status: 200,
            body: Vec::new(),
            fetched: now,
        }),
        Err(FetchError::Blocked(_)) => Ok(RobotsEntry {
            status: 403,
            body: Vec::new(),
            fetched: now,
        }),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u16, body: &str) -> RobotsEntry {
        RobotsEntry {
            status,
            body: body.as_bytes().to_vec(),
            fetched: Utc::now(),
        }
    }

    #[test]
    fn rules_follow_rfc_9309_status_classes() {
        let url = Url::parse("https://xncz.gov.cn/zqzf/ldhd.htm").unwrap();
        let ua = "portalfeed/0.1 (+https://example.invalid/contact)";
        assert!(Rules::from_entry(&entry(404, ""), ua).allows(&url));
        assert!(!Rules::from_entry(&entry(503, ""), ua).allows(&url));
        let txt = "User-agent: *\nDisallow: /zqzf/\n\nUser-agent: other\nDisallow:\n";
        assert!(!Rules::from_entry(&entry(200, txt), ua).allows(&url));
        let txt = "User-agent: portalfeed\nAllow: /\n\nUser-agent: *\nDisallow: /\n";
        assert!(Rules::from_entry(&entry(200, txt), ua).allows(&url));
    }

    #[test]
    fn product_token_is_the_name_before_the_version() {
        assert_eq!(product_token("portalfeed/0.1 (+https://x)"), "portalfeed");
        assert_eq!(product_token("mybot"), "mybot");
    }
}

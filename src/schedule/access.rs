//! Asking a host for a page: first its pause (a Retry-After it sent earlier), then robots.txt
//! (cached a day in the store, and for the run in memory), then the fetcher. A 429 or 503 pauses
//! the host for every source, for later polls too (capped at six hours).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::poll::{PollError, Poller};
use crate::config::Source;
use crate::fetch::robots::{self, Rules};
use crate::fetch::{FetchError, Page};
use crate::store::Validators;

/// The longest pause a Retry-After can impose.
const MAX_PAUSE: Duration = Duration::from_secs(6 * 3600);
/// How long a host's pause state is trusted from memory.
const PAUSE_RECHECK: Duration = Duration::from_secs(60);

impl Poller {
    /// Fetches `url` after checking host pauses and robots.txt.
    pub(super) async fn fetch(
        &self,
        source: &Source,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Page, PollError> {
        let host = url.host_str().unwrap_or("").to_string();
        let now = Utc::now();
        if let Some((until, reason)) = self.host_pause(&host, now).await? {
            return Err(PollError::Paused {
                host,
                until,
                reason,
            });
        }
        if source.respect_robots && !self.rules(url, source.insecure_tls).await?.allows(url) {
            return Err(PollError::Fetch {
                url: url.clone(),
                error: FetchError::Robots,
            });
        }
        let answer = self.fetcher.get(url, validators, source.insecure_tls).await;
        if let Err(error) = &answer
            && let Some(wait) = error
                .retry_after()
                .or_else(|| busy_status(error).then_some(Duration::from_secs(300)))
        {
            let until = now + chrono::Duration::from_std(wait.min(MAX_PAUSE)).unwrap_or_default();
            let reason = format!("{error} from {url}");
            self.remember_pause(&host, Some((until, reason.clone())));
            self.blocking(move |s| s.pause_host(&host, until, &reason))
                .await?;
        }
        answer.map_err(|error| PollError::Fetch {
            url: url.clone(),
            error,
        })
    }

    /// Until when the host of `url` asked us to stay away, if it did (for the daemon's clock).
    pub async fn paused_until(
        &self,
        url: &Url,
    ) -> Result<Option<(DateTime<Utc>, String)>, PollError> {
        self.host_pause(url.host_str().unwrap_or(""), Utc::now())
            .await
    }

    /// The host's pause, from memory when looked up in the last minute (a pause set by another
    /// process shows within a minute), else from the store.
    async fn host_pause(
        &self,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, String)>, PollError> {
        let remembered = self.pauses.lock().ok().and_then(|m| m.get(host).cloned());
        if let Some((pause, checked)) = remembered
            && checked.elapsed() < PAUSE_RECHECK
        {
            return Ok(pause.filter(|(until, _)| *until > now));
        }
        let h = host.to_string();
        let pause = self.blocking(move |s| s.host_pause(&h, now)).await?;
        self.remember_pause(host, pause.clone());
        Ok(pause)
    }

    fn remember_pause(&self, host: &str, pause: Option<(DateTime<Utc>, String)>) {
        if let Ok(mut m) = self.pauses.lock() {
            m.insert(host.to_string(), (pause, std::time::Instant::now()));
        }
    }

    async fn rules(&self, url: &Url, insecure_tls: bool) -> Result<Arc<Rules>, PollError> {
        let origin = robots::origin(url);
        let now = Utc::now();
        let remembered = self
            .robots
            .lock()
            .ok()
            .and_then(|m| m.get(&origin).cloned());
        if let Some((rules, _)) =
            remembered.filter(|(_, fetched)| now - *fetched < robots::CACHE_FOR)
        {
            return Ok(rules);
        }
        let o = origin.clone();
        let cached = self
            .blocking(move |s| s.robots(&o))
            .await?
            .filter(|e| now - e.fetched < robots::CACHE_FOR);
        let entry = match cached {
            Some(e) => e,
            None => {
                let robots_url = robots::robots_url(url);
                let e = robots::fetch(&self.fetcher, url, insecure_tls, now)
                    .await
                    .map_err(|error| PollError::Fetch {
                        url: robots_url.clone(),
                        error,
                    })?;
                if e.status >= 500 {
                    // Unreachable (RFC 9309 §2.3.1.4): disallow everything for now, cache nothing.
                    let error = FetchError::Status {
                        status: e.status,
                        retry_after: None,
                    };
                    return Err(PollError::Fetch {
                        url: robots_url,
                        error,
                    });
                }
                let (o, saved) = (origin.clone(), e.clone());
                self.blocking(move |s| s.save_robots(&o, &saved)).await?;
                e
            }
        };
        let rules = Arc::new(Rules::from_entry(&entry, &self.config.fetch.user_agent));
        if let Ok(mut m) = self.robots.lock() {
            m.insert(origin, (Arc::clone(&rules), entry.fetched));
        }
        Ok(rules)
    }
}

/// 429 and 503 without Retry-After still mean "not now".
pub(super) fn busy_status(error: &FetchError) -> bool {
    matches!(
        error,
        FetchError::Status {
            status: 429 | 503,
            ..
        }
    )
}

//! The HTTP client: one reqwest client (and a second one that accepts bad certificates, built only
//! when a source asks for `insecure_tls`), the host gate, the body cap and error mapping.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};
use reqwest::{StatusCode, redirect};
use url::Url;

use super::charset::{self, CharsetSource};
use super::politeness::HostGate;
use super::{FetchError, antibot};
use crate::config;
use crate::store::Validators;

const MAX_REDIRECTS: usize = 5;

/// A decoded response.
#[derive(Debug, Clone)]
pub struct Page {
    /// The final URL, after redirects: relative links resolve against it.
    pub url: Url,
    pub text: String,
    pub charset: CharsetSource,
    /// Validators to send next time (from a 200 only).
    pub validators: Validators,
    /// Bytes received (after content decoding).
    pub bytes: usize,
}

/// Told of every HTTP answer: its status and the body bytes read (for metrics).
pub type Observer = std::sync::Arc<dyn Fn(u16, u64) + Send + Sync>;

/// Fetches pages politely.
pub struct Fetcher {
    client: reqwest::Client,
    insecure: std::sync::OnceLock<reqwest::Client>,
    settings: config::Fetch,
    gate: HostGate,
    observer: Option<Observer>,
}

impl Fetcher {
    pub fn new(settings: &config::Fetch) -> Result<Fetcher, FetchError> {
        Ok(Fetcher {
            client: build_client(settings, false)?,
            insecure: std::sync::OnceLock::new(),
            settings: settings.clone(),
            gate: HostGate::new(settings.per_host_delay),
            observer: None,
        })
    }

    /// Calls `observer` with the status and body size of every answer.
    pub fn observe(mut self, observer: Observer) -> Fetcher {
        self.observer = Some(observer);
        self
    }

    fn client(&self, insecure_tls: bool) -> Result<&reqwest::Client, FetchError> {
        if !insecure_tls {
            return Ok(&self.client);
        }
        if let Some(c) = self.insecure.get() {
            return Ok(c);
        }
        let built = build_client(&self.settings, true)?;
        Ok(self.insecure.get_or_init(|| built))
    }

    /// GETs `url` (waiting for its host's turn) and decodes the body. With `validators`, a 304 is
    /// [`FetchError::NotModified`].
    pub async fn get(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        insecure_tls: bool,
    ) -> Result<Page, FetchError> {
        let (final_url, status, headers, body) =
            self.get_bytes(url, validators, insecure_tls).await?;
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(&headers, Utc::now()),
            });
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let decoded = charset::decode(&body, content_type);
        if let Some(why) = antibot::challenge(&decoded.text) {
            return Err(FetchError::Blocked(why.to_string()));
        }
        let header_text = |name| {
            headers
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Page {
            url: final_url,
            text: decoded.text,
            charset: decoded.source,
            validators: Validators {
                etag: header_text(header::ETAG),
                last_modified: header_text(header::LAST_MODIFIED),
            },
            bytes: body.len(),
        })
    }

    /// GETs `url` and returns the raw answer whatever its status (for robots.txt).
    pub async fn get_bytes(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        insecure_tls: bool,
    ) -> Result<(Url, StatusCode, HeaderMap, Vec<u8>), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(url.to_string()));
        }
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::BadUrl(url.to_string()))?
            .to_string();
        let client = self.client(insecure_tls)?;
        let _turn = self.gate.turn(&host).await;
        let mut request = client.get(url.clone());
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let timeout = self.settings.timeout;
        // reqwest's own timeout covers the body too; this outer one also bounds our own streaming.
        let answer = tokio::time::timeout(timeout + Duration::from_secs(1), async {
            let response = request.send().await.map_err(|e| map_error(e, timeout))?;
            let response_status_u16 = response.status().as_u16();
            let observe = |bytes: usize| {
                if let Some(o) = &self.observer {
                    o(response_status_u16, bytes as u64);
                }
            };
            if response.status() == StatusCode::NOT_MODIFIED && validators.is_some() {
                observe(0);
                return Err(FetchError::NotModified);
            }
            if matches!(response.status().as_u16(), 405 | 412) {
                observe(0);
                return Err(FetchError::Blocked(format!(
                    "status {}",
                    response.status().as_u16()
                )));
            }
            let final_url = response.url().clone();
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_capped(response, self.settings.max_body_bytes, timeout).await;
            observe(body.as_ref().map_or(0, Vec::len));
            Ok((final_url, status, headers, body?))
        })
        .await;
        answer.unwrap_or(Err(FetchError::Timeout(timeout.as_secs())))
    }
}

fn build_client(
    settings: &config::Fetch,
    insecure_tls: bool,
) -> Result<reqwest::Client, FetchError> {
    let policy = redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if !matches!(attempt.url().scheme(), "http" | "https") {
            let to = attempt.url().to_string();
            attempt.error(format!("to a non-http URL {to}"))
        } else if attempt.previous().contains(attempt.url()) {
            let to = attempt.url().to_string();
            attempt.error(format!("loop back to {to}"))
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .user_agent(&settings.user_agent)
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .redirect(policy)
        .tls_danger_accept_invalid_certs(insecure_tls)
        .build()
        .map_err(|e| FetchError::Network(format!("cannot build the HTTP client: {e}")))
}

async fn read_capped(
    mut response: reqwest::Response,
    cap: u64,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|len| len > cap) {
        return Err(FetchError::TooLarge { limit: cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| map_error(e, timeout))? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(FetchError::TooLarge { limit: cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn map_error(e: reqwest::Error, timeout: Duration) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(timeout.as_secs());
    }
    if e.is_redirect() {
        return FetchError::Redirect(error_chain(e));
    }
    FetchError::Network(error_chain(e))
}

/// reqwest's top-level message is "error sending request"; the cause is further down.
fn error_chain(e: reqwest::Error) -> String {
    // The caller names the URL; reqwest would repeat it in every message.
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&Utc) - now).num_seconds().max(0);
    Some(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "120".parse().unwrap());
        let now = Utc::now();
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:26:00Z")
            .unwrap()
            .with_timezone(&Utc);
        h.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        h.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }
}

//! What the public forms check before they act: who is asking (the client's address, for the rate
//! limit), where the form was posted from (Origin), and how often (a sliding window per address).
//!
//! Client address: the TCP peer; when the peer is loopback (a reverse proxy on the same host) and
//! the request carries `X-Forwarded-For`, the last address in it (the one the proxy saw). Origin:
//! a browser sends it with every POST; when present it must be this service's own origin (its
//! `public_url` or the `Host` it was reached by) — a form posted from another site is refused.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

use crate::config::Config;

/// Form submissions allowed per client address per [`WINDOW`].
pub const PER_WINDOW: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most (older ones are forgotten first).
const MAX_CLIENTS: usize = 50_000;

/// A sliding-window counter per client address.
#[derive(Default)]
pub struct Limiter {
    seen: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Limiter {
    /// Counts one submission from `client`; false when it is over the limit.
    pub fn allow(&self, client: IpAddr) -> bool {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.len() >= MAX_CLIENTS {
            seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        let times = seen.entry(client).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= PER_WINDOW {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// The client's address (see the module doc).
pub fn client(peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !peer.is_loopback() {
        return Some(peer);
    }
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    Some(forwarded.unwrap_or(peer))
}

/// Whether the request's Origin (if any) is this service.
pub fn same_origin(config: &Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let public = config.service.public_url.origin().ascii_serialization();
    if origin == public {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_a_few_per_minute_per_client() {
        let l = Limiter::default();
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        for _ in 0..PER_WINDOW {
            assert!(l.allow(a));
        }
        assert!(!l.allow(a));
        assert!(l.allow(b));
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_local_proxy() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.9".parse().unwrap(),
        );
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        assert_eq!(
            client(Some(local), &h),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(client(Some(remote), &h), Some("192.0.2.1".parse().unwrap()));
    }
}

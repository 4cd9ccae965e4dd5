//! `/metrics`: the daemon's counters in the Prometheus text format (OpenMetrics flavour, as written
//! by `prometheus-client`).
//!
//! One [`Metrics`] lives in the app state (never in a global), shared by the poll loop, the fetcher's
//! observer, the mailer and the feed handlers. Counters start at zero with each process; gauges
//! that describe the database (items stored, outbox queue) are read from the store at scrape time so
//! they are right after a restart too. Label values are bounded: source ids come from the config,
//! outcomes and statuses from small fixed sets.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    pub source: String,
    /// ok | not_modified | failed
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MailLabels {
    /// digest | alert
    pub kind: String,
    /// sent | failed | queued
    pub outcome: String,
}

/// Poll durations from a tenth of a second to about two minutes.
const DURATION_BUCKETS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0];

/// Every metric the service exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    pub polls: Family<PollLabels, Counter>,
    pub items_new: Family<SourceLabels, Counter>,
    pub poll_seconds: Family<SourceLabels, Histogram>,
    pub fetch_bytes: Counter,
    pub fetch_responses: Family<StatusLabels, Counter>,
    pub mails: Family<MailLabels, Counter>,
    pub feed_requests: Counter,
    pub feed_not_modified: Counter,
    /// Read from the store at scrape time.
    pub items_stored: Gauge,
    pub outbox_queued: Gauge,
    pub outbox_failed: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Mutex::new(Registry::with_prefix("portalfeed")),
            polls: Family::default(),
            items_new: Family::default(),
            poll_seconds: Family::new_with_constructor(|| {
                Histogram::new(DURATION_BUCKETS.iter().copied())
            }),
            fetch_bytes: Counter::default(),
            fetch_responses: Family::default(),
            mails: Family::default(),
            feed_requests: Counter::default(),
            feed_not_modified: Counter::default(),
            items_stored: Gauge::default(),
            outbox_queued: Gauge::default(),
            outbox_failed: Gauge::default(),
        };
        if let Ok(mut r) = m.registry.lock() {
            r.register("polls", "Polls by source and outcome", m.polls.clone());
            r.register(
                "items_new",
                "New items found, by source",
                m.items_new.clone(),
            );
            r.register(
                "poll_duration_seconds",
                "Time to poll one source",
                m.poll_seconds.clone(),
            );
            r.register(
                "fetch_bytes",
                "Response body bytes fetched from portals",
                m.fetch_bytes.clone(),
            );
            r.register(
                "fetch_responses",
                "HTTP answers from portals by status",
                m.fetch_responses.clone(),
            );
            r.register("mails", "Mails by kind and outcome", m.mails.clone());
            r.register(
                "feed_requests",
                "Requests for feeds and the OPML list",
                m.feed_requests.clone(),
            );
            r.register(
                "feed_not_modified",
                "Feed requests answered 304 Not Modified",
                m.feed_not_modified.clone(),
            );
            r.register(
                "items_stored",
                "Items in the database",
                m.items_stored.clone(),
            );
            r.register(
                "outbox_queued",
                "Mails waiting in the outbox (new or retrying)",
                m.outbox_queued.clone(),
            );
            r.register(
                "outbox_failed",
                "Mails that failed for good",
                m.outbox_failed.clone(),
            );
        }
        m
    }

    /// Counts one poll.
    pub fn poll(&self, source: &str, outcome: &str, seconds: f64, new_items: u32) {
        let s = SourceLabels {
            source: source.to_string(),
        };
        self.polls
            .get_or_create(&PollLabels {
                source: source.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.poll_seconds.get_or_create(&s).observe(seconds);
        if new_items > 0 {
            self.items_new
                .get_or_create(&s)
                .inc_by(u64::from(new_items));
        }
    }

    /// Counts one HTTP answer from a portal.
    pub fn fetched(&self, status: u16, bytes: u64) {
        self.fetch_bytes.inc_by(bytes);
        self.fetch_responses
            .get_or_create(&StatusLabels {
                status: status.to_string(),
            })
            .inc();
    }

    /// Counts mails of `kind` that ended as `outcome`.
    pub fn mailed(&self, kind: &str, outcome: &str, n: u64) {
        if n > 0 {
            self.mails
                .get_or_create(&MailLabels {
                    kind: kind.to_string(),
                    outcome: outcome.to_string(),
                })
                .inc_by(n);
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(r) = self.registry.lock()
            && let Err(e) = prometheus_client::encoding::text::encode(&mut out, &r)
        {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        out
    }
}

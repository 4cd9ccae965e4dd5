//! The daemon's clock: polls each source on its cron schedule until told to stop, re-reads sources
//! on a new config, and hands every outcome to the mail side (alerts, immediate digests).
//!
//! Promises:
//! - One host is never polled by two sources at once (a lock per host), and at most
//!   [`PARALLEL_HOSTS`] hosts are polled together; the shared fetcher spaces requests to one host
//!   by `per_host_delay_ms` across all sources, also across config reloads.
//! - A host that asked us to wait (Retry-After, 429, 503) is not asked again before the pause ends,
//!   by any of its sources; such a skipped turn is not a failure.
//! - A failed poll backs the source off ([`super::clock`]); the first success restores its rhythm.
//!   Failures counted before a restart still count (they are read from the poll log).
//! - Stopping: no new poll starts; polls in flight get [`DRAIN`] to finish, then are dropped — a
//!   poll stores everything in one transaction at its end, so a dropped one stored nothing.
//!
//! Feeds see new items at once: the web cache is invalidated after every poll (the cache's own
//! `data_version` check only notices other processes' writes).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::clock::Clock;
use super::poll::{PollError, Poller, SourceReport};
use crate::config::{Config, Source};
use crate::fetch::{FetchError, Fetcher, Observer};
use crate::store::Store;
use crate::web::{AppState, Metrics};

/// Hosts polled at the same time.
pub const PARALLEL_HOSTS: usize = 4;
/// How long polls in flight may take to finish after a stop was asked for.
pub const DRAIN: Duration = Duration::from_secs(6);
/// The longest the clock sleeps without looking again.
const MAX_SLEEP: Duration = Duration::from_secs(300);

/// What the mail side hears after each poll.
#[derive(Debug, Clone)]
pub struct Polled {
    pub source_id: String,
    pub ok: bool,
    pub new_items: u32,
}

/// One source's place on the clock.
struct Slot {
    source: Source,
    clock: Clock,
    due: DateTime<Utc>,
    failures: u32,
    in_flight: bool,
}

/// How a poll task ended.
enum Outcome {
    Polled(SourceReport, Duration),
    /// The host asked us to wait; nothing was asked of it.
    Paused(DateTime<Utc>, String),
}

/// The running clock.
pub struct Daemon {
    state: Arc<AppState>,
    store: Arc<Store>,
    fetcher: Arc<Fetcher>,
    poller: Arc<Poller>,
    slots: HashMap<String, Slot>,
    hosts: HashMap<String, Arc<Mutex<()>>>,
    permits: Arc<Semaphore>,
    events: mpsc::Sender<Polled>,
}

impl Daemon {
    /// A clock over the config in `state`; `events` hears every poll's outcome.
    pub async fn new(
        state: Arc<AppState>,
        events: mpsc::Sender<Polled>,
    ) -> Result<Daemon, FetchError> {
        let config = state.config();
        let store = Arc::clone(&state.store);
        let fetcher = Arc::new(Fetcher::new(&config.fetch)?.observe(observer(&state.metrics)));
        let poller = Arc::new(Poller::with_fetcher(
            Arc::clone(&config),
            Arc::clone(&store),
            Arc::clone(&fetcher),
        ));
        let mut daemon = Daemon {
            state,
            store,
            fetcher,
            poller,
            slots: HashMap::new(),
            hosts: HashMap::new(),
            permits: Arc::new(Semaphore::new(PARALLEL_HOSTS)),
            events,
        };
        daemon.place(&config).await;
        Ok(daemon)
    }

    /// Runs until `stop` turns true; a config arriving on `reload` replaces the running one.
    pub async fn run(
        mut self,
        mut reload: mpsc::Receiver<Arc<Config>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut tasks: JoinSet<(String, Outcome)> = JoinSet::new();
        loop {
            self.start_due(&mut tasks);
            self.publish();
            let now = Utc::now();
            let wake = self
                .slots
                .values()
                .filter(|s| !s.in_flight)
                .map(|s| s.due)
                .min()
                .map_or(MAX_SLEEP, |due| {
                    (due - now).to_std().unwrap_or_default().min(MAX_SLEEP)
                });
            tokio::select! {
                _ = stopped(&mut stop) => break,
                Some(config) = reload.recv() => self.reconfigure(config).await,
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => match joined {
                    Ok((id, outcome)) => self.finish(&id, outcome).await,
                    Err(e) => tracing::error!(error = %e, "poll task failed"),
                },
                _ = tokio::time::sleep(wake) => {}
            }
        }
        tracing::info!(in_flight = tasks.len(), "stopping: no new polls");
        let drained = tokio::time::timeout(DRAIN, async {
            while let Some(joined) = tasks.join_next().await {
                if let Ok((id, outcome)) = joined {
                    self.finish(&id, outcome).await;
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "polls still running after {}s; dropped (they stored nothing)",
                DRAIN.as_secs()
            );
            tasks.abort_all();
        }
    }

    /// Starts every due source that is not already being polled.
    fn start_due(&mut self, tasks: &mut JoinSet<(String, Outcome)>) {
        let now = Utc::now();
        for slot in self.slots.values_mut() {
            if slot.in_flight || slot.due > now {
                continue;
            }
            slot.in_flight = true;
            let host = slot.source.list_url.host_str().unwrap_or("").to_string();
            let lock = Arc::clone(self.hosts.entry(host).or_default());
            let (poller, permits, source) = (
                Arc::clone(&self.poller),
                Arc::clone(&self.permits),
                slot.source.clone(),
            );
            tasks.spawn(async move {
                let id = source.id.clone();
                (id, poll_one(poller, source, lock, permits).await)
            });
        }
    }

    /// Records a finished poll: next due time, metrics, feeds, and the mail side.
    async fn finish(&mut self, id: &str, outcome: Outcome) {
        let now = Utc::now();
        let Some(slot) = self.slots.get_mut(id) else {
            return; // removed by a reload while it ran
        };
        slot.in_flight = false;
        let report = match outcome {
            Outcome::Paused(until, reason) => {
                slot.due = slot.clock.due_after(until);
                tracing::info!(source = %id, until = %until, reason = %reason, "host asked us to wait; poll skipped");
                return;
            }
            Outcome::Polled(report, took) => (report, took),
        };
        let (report, took) = report;
        let metrics = &self.state.metrics;
        let event = match &report.result {
            Ok(p) => {
                slot.failures = 0;
                let outcome = if p.not_modified { "not_modified" } else { "ok" };
                metrics.poll(id, outcome, took.as_secs_f64(), p.counts.items_new);
                Polled {
                    source_id: id.to_string(),
                    ok: true,
                    new_items: p.counts.items_new,
                }
            }
            Err(e) => {
                slot.failures += 1;
                metrics.poll(id, "failed", took.as_secs_f64(), 0);
                if let PollError::Paused { until, .. } = e {
                    slot.due = slot.clock.due_after(*until);
                }
                Polled {
                    source_id: id.to_string(),
                    ok: false,
                    new_items: 0,
                }
            }
        };
        let next = slot.clock.next_due(slot.failures, now);
        slot.due = if report.result.is_err() && slot.due > next {
            slot.due
        } else {
            next
        };
        if slot.failures > 0 {
            tracing::info!(source = %id, failures = slot.failures, next_poll = %slot.due, "backing off");
        }
        self.state.cache.invalidate();
        self.state.busy.notify_one();
        if self.events.send(event).await.is_err() {
            tracing::debug!("mail side gone; poll outcome not announced");
        }
    }

    /// Puts a re-read config in force: new sources are placed on the clock, removed ones leave it,
    /// changed schedules start again from their next tick.
    async fn reconfigure(&mut self, config: Arc<Config>) {
        let store = Arc::clone(&self.store);
        let rows: Vec<(String, String, String)> = config
            .sources
            .iter()
            .map(|s| (s.id.clone(), s.title.clone(), s.list_url.to_string()))
            .collect();
        let synced = tokio::task::spawn_blocking(move || {
            store.sync_sources(
                rows.iter()
                    .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
            )
        })
        .await;
        if !matches!(synced, Ok(Ok(_))) {
            tracing::error!(
                "reload: cannot record the sources in the database; keeping the running config"
            );
            return;
        }
        if let Err(e) = self.state.set_config(Arc::clone(&config)) {
            tracing::error!(error = %e, "reload: keeping the running config");
            return;
        }
        if config.fetch != self.poller.config().fetch {
            match Fetcher::new(&config.fetch) {
                Ok(f) => self.fetcher = Arc::new(f.observe(observer(&self.state.metrics))),
                Err(e) => tracing::error!(error = %e, "reload: keeping the old [fetch] settings"),
            }
        }
        self.poller = Arc::new(Poller::with_fetcher(
            Arc::clone(&config),
            Arc::clone(&self.store),
            Arc::clone(&self.fetcher),
        ));
        self.place(&config).await;
        tracing::info!(sources = config.sources.len(), "config reloaded");
    }

    /// Places every source of `config` on the clock, keeping the state of unchanged ones.
    async fn place(&mut self, config: &Config) {
        let tz = config.service.timezone;
        let now = Utc::now();
        let mut slots = HashMap::new();
        for source in &config.sources {
            let old = self.slots.remove(&source.id);
            let slot = match old {
                Some(mut s) if s.source.list_url == source.list_url => {
                    if s.source.schedule.as_str() != source.schedule.as_str() {
                        s.clock = Clock::new(&source.id, &source.schedule, tz);
                        s.due = s.clock.next_due(s.failures, now);
                    }
                    s.source = source.clone();
                    s
                }
                _ => {
                    let clock = Clock::new(&source.id, &source.schedule, tz);
                    let store = Arc::clone(&self.store);
                    let id = source.id.clone();
                    let health = tokio::task::spawn_blocking(move || store.source_health(&id))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or_default();
                    let failures = health.consecutive_failures;
                    // A source failing before the restart keeps backing off from its last poll.
                    let due = match health.last_poll {
                        Some(last) if failures > 0 => clock.next_due(failures, last).max(
                            now + chrono::Duration::from_std(clock.jitter()).unwrap_or_default(),
                        ),
                        last => clock.first_due(last, now),
                    };
                    Slot {
                        source: source.clone(),
                        clock,
                        due,
                        failures,
                        in_flight: false,
                    }
                }
            };
            tracing::info!(source = %source.id, schedule = source.schedule.as_str(), next_poll = %slot.due, "scheduled");
            slots.insert(source.id.clone(), slot);
        }
        // Sources removed from the config: forget them (a poll in flight finishes unrecorded).
        self.slots = slots;
    }

    /// Shows the next poll times on /status.
    fn publish(&self) {
        if let Ok(mut next) = self.state.next_polls.write() {
            next.clear();
            next.extend(self.slots.iter().map(|(id, s)| (id.clone(), s.due)));
        }
    }
}

/// Resolves when `stop` turns true (the guard of the watched value is not held across awaits).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One poll, once its host is free and a parallel slot is open.
async fn poll_one(
    poller: Arc<Poller>,
    source: Source,
    host: Arc<Mutex<()>>,
    permits: Arc<Semaphore>,
) -> Outcome {
    let _host = host.lock_owned().await;
    let _permit = permits.acquire_owned().await;
    match poller.paused_until(&source.list_url).await {
        Ok(Some((until, reason))) => return Outcome::Paused(until, reason),
        Ok(None) => {}
        Err(e) => tracing::warn!(source = %source.id, error = %e, "cannot read the host's pause"),
    }
    let started = Instant::now();
    let report = poller.poll_source(&source).await;
    Outcome::Polled(report, started.elapsed())
}

/// Counts every HTTP answer in the metrics.
fn observer(metrics: &Arc<Metrics>) -> Observer {
    let metrics = Arc::clone(metrics);
    Arc::new(move |status, bytes| metrics.fetched(status, bytes))
}

//! The daemon's mail side: digests on time, immediate digests right after a poll that found
//! something, outbox retries, and staff alerts when a source breaks and when it recovers.
//!
//! One task does all of it, in order, so two alerts about one source never race and a digest run
//! never overlaps another. It wakes on every poll outcome, at the next `daily_at` / `weekly_at`
//! tick, and at least every [`RETRY_EVERY`] for queued retries. Which digests are due is decided by
//! `mail::send_digests` from what the store remembers, so a restart neither skips nor repeats one.
//! Alerts: a source that failed `alert_after_failures` polls in a row is announced once (recorded in
//! the store only once handed to the transport, so an SMTP outage delays it rather than losing it),
//! and its recovery once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use super::daemon::Polled;
use crate::mail::alert::{self, Alert};
use crate::mail::send::Mailer;
use crate::web::AppState;

/// How often queued retries are looked at, at the latest.
pub const RETRY_EVERY: Duration = Duration::from_secs(60);

/// Runs until `stop` turns true or the clock stops sending.
pub async fn run(
    state: Arc<AppState>,
    mut events: mpsc::Receiver<Polled>,
    mut stop: watch::Receiver<bool>,
) {
    // At start: whatever is due or queued goes out now. The next look is an absolute deadline, so
    // a stream of poll outcomes never postpones a digest tick.
    let mut next_look = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = super::daemon::stopped(&mut stop) => return,
            event = events.recv() => match event {
                None => return,
                Some(polled) => {
                    check_alert(&state, &polled).await;
                    if polled.new_items > 0 {
                        digests(&state).await;
                        next_look = tokio::time::Instant::now() + next_wake(&state);
                    }
                }
            },
            _ = tokio::time::sleep_until(next_look) => {
                digests(&state).await;
                next_look = tokio::time::Instant::now() + next_wake(&state);
            }
        }
    }
}

/// Until the next digest tick, or [`RETRY_EVERY`], whichever is sooner.
fn next_wake(state: &AppState) -> Duration {
    let config = state.config();
    let Some(email) = &config.email else {
        return Duration::from_secs(3600);
    };
    let now = Utc::now();
    let tz = config.service.timezone;
    [
        email.daily_at.next_after(now, tz),
        email.weekly_at.next_after(now, tz),
    ]
    .into_iter()
    .flatten()
    .map(|t| (t - now).to_std().unwrap_or_default() + Duration::from_millis(500))
    .fold(RETRY_EVERY, Duration::min)
}

async fn digests(state: &Arc<AppState>) {
    let config = state.config();
    if config.email.is_none() {
        return;
    }
    let sent = crate::mail::send_digests(&config, Arc::clone(&state.store), false, false).await;
    state.busy.notify_one();
    match sent {
        Ok(r) => {
            let m = &state.metrics;
            m.mailed("digest", "sent", r.sent as u64);
            m.mailed("digest", "failed", r.failed as u64);
            m.mailed("digest", "queued", r.retrying as u64);
            if r.composed + r.sent + r.failed + r.retrying > 0 {
                tracing::info!(
                    composed = r.composed,
                    sent = r.sent,
                    failed = r.failed,
                    retrying = r.retrying,
                    "digests"
                );
            }
        }
        Err(e) => tracing::error!(error = %e, "digests not sent"),
    }
}

/// Announces a source's failure run once it is long enough, and its end.
async fn check_alert(state: &Arc<AppState>, polled: &Polled) {
    let config = state.config();
    let Some(source) = config.source(&polled.source_id).cloned() else {
        return;
    };
    let store = Arc::clone(&state.store);
    let id = source.id.clone();
    let read = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::store::StoreError>((store.source_health(&id)?, store.alert(&id)?))
    })
    .await;
    let (health, announced) = match read {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return tracing::error!(source = %source.id, error = %e, "cannot read the source's health");
        }
        Err(e) => return tracing::error!(source = %source.id, error = %e, "health task failed"),
    };
    let now = Utc::now();
    let alert = match announced {
        None if health.consecutive_failures >= config.service.alert_after_failures => {
            Alert::Failing {
                failures: health.consecutive_failures,
                since: health.failing_since.unwrap_or(now),
                error: health.last_error.clone().unwrap_or_default(),
            }
        }
        Some((since, _)) if health.consecutive_failures == 0 => Alert::Recovered { since },
        _ => return,
    };
    let mailer = match config.email.as_ref().map(Mailer::new) {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            tracing::error!(error = %e, "alert: no mail transport");
            return;
        }
        None => None,
    };
    let sent = match &mailer {
        Some(m) => alert::send(&config, m, &source, &alert).await,
        None => Ok(false),
    };
    match sent {
        Ok(told) => {
            if told {
                state.metrics.mailed("alert", "sent", 1);
            }
            match &alert {
                Alert::Failing {
                    failures,
                    since,
                    error,
                } => {
                    tracing::warn!(source = %source.id, url = %source.list_url, failures, since = %since, error = %error, staff_mailed = told, "source failing");
                }
                Alert::Recovered { since } => {
                    tracing::info!(source = %source.id, since = %since, staff_mailed = told, "source recovered");
                }
            }
            let store = Arc::clone(&state.store);
            let id = source.id.clone();
            let recorded = tokio::task::spawn_blocking(move || match alert {
                Alert::Failing { since, .. } => store.record_alert(&id, since, now),
                Alert::Recovered { .. } => store.clear_alert(&id),
            })
            .await;
            if !matches!(recorded, Ok(Ok(()))) {
                tracing::error!(source = %source.id, "cannot record the alert; it may be sent again");
            }
        }
        Err(e) => {
            state.metrics.mailed("alert", "failed", 1);
            tracing::error!(source = %source.id, error = %e, "alert not sent; trying again after the next poll");
        }
    }
}

//! Mail: digests of new items for subscribers, through an outbox that loses and doubles nothing.
//!
//! [`send_digests`] first composes every due subscriber's digest into the outbox (items taken in
//! the same transaction, see `Store::queue_digest`), then delivers what is queued. Which items go
//! to whom: those first seen after the subscriber subscribed, in one of their sources, never a
//! source's baseline (its first poll), each once even when two of their sources list it.
//! Delivery: a transient failure (refused, timeout, 4xx) stays queued with exponential backoff; a
//! permanent one (5xx) is recorded and, after a few in a row, suspends the subscriber.

pub mod address;
pub mod alert;
pub mod compose;
pub mod message;
pub mod optin;
pub mod send;
pub mod token;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use tokio::task::JoinSet;

use crate::config::{Config, Email};
use crate::store::{Delivery, Outgoing, Store, StoreError, Subscriber};
use compose::Digest;
use send::Mailer;

/// The longest wait between two tries of one message.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub composed: u32,
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no [email] section in the config: nothing is mailed")]
    NotConfigured,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Transport(String),
}

/// Whether the subscriber's digest is due at `now`.
pub fn is_due(email: &Email, s: &Subscriber, now: DateTime<Utc>, tz: chrono_tz::Tz) -> bool {
    let after = s.last_run.unwrap_or(s.since);
    match s.schedule.as_str() {
        "immediate" => true,
        "weekly" => email
            .weekly_at
            .next_after(after, tz)
            .is_some_and(|t| t <= now),
        _ => email
            .daily_at
            .next_after(after, tz)
            .is_some_and(|t| t <= now),
    }
}

/// The public unsubscribe link of subscriber `id`.
pub fn unsubscribe_url(config: &Config, secret: &[u8], id: i64) -> String {
    let path = format!("unsubscribe/{}", token::unsubscribe_token(secret, id));
    config
        .service
        .public_url
        .join(&path)
        .map(|u| u.to_string())
        .unwrap_or(path)
}

/// Subscriber `id`'s unsubscribe and manage links.
pub fn links(config: &Config, secret: &[u8], id: i64) -> compose::Links {
    compose::Links {
        unsubscribe: unsubscribe_url(config, secret, id),
        manage: optin::public_link(
            config,
            &format!("manage/{}", optin::manage_token(secret, id)),
        ),
    }
}

/// The digest `s` would get now, if any (nothing is recorded).
pub fn preview(
    config: &Config,
    store: &Store,
    s: &Subscriber,
) -> Result<Option<Digest>, MailError> {
    let email = config.email.as_ref().ok_or(MailError::NotConfigured)?;
    let secret = token::secret(email.secret.as_deref(), store)?;
    let items = store.unsent_items(s.id, email.max_items)?;
    if items.is_empty() {
        return Ok(None);
    }
    Ok(Some(compose::compose(
        config,
        email,
        &items,
        &links(config, &secret, s.id),
        Utc::now(),
    )))
}

/// Composes every due digest into the outbox (all active subscribers' with `all`), then sends what
/// is queued (all of it with `all`, regardless of backoff). With `dry_run` nothing is written or
/// sent: the report counts what would be composed.
pub async fn send_digests(
    config: &Config,
    store: Arc<Store>,
    all: bool,
    dry_run: bool,
) -> Result<Report, MailError> {
    let email = config.email.as_ref().ok_or(MailError::NotConfigured)?;
    let mut report = Report::default();
    let now = Utc::now();
    let tz = config.service.timezone;
    let secret = token::secret(email.secret.as_deref(), &store)?;
    for s in store
        .subscribers()?
        .into_iter()
        .filter(|s| s.status == "active")
    {
        if !all && !is_due(email, &s, now, tz) {
            continue;
        }
        let items = store.unsent_items(s.id, email.max_items)?;
        if items.is_empty() {
            if !dry_run {
                store.mark_run(s.id, now)?;
            }
            continue;
        }
        let links = links(config, &secret, s.id);
        let link = links.unsubscribe.clone();
        let digest = compose::compose(config, email, &items, &links, now);
        if dry_run {
            println!(
                "would send {} item(s) to {}: {}",
                digest.item_ids.len(),
                s.email,
                digest.subject
            );
            report.composed += 1;
            continue;
        }
        let Ok(to) = s.email.parse::<Mailbox>() else {
            tracing::warn!(subscriber = %s.email, "not a valid address; skipped");
            continue;
        };
        let queued = store.queue_digest(s.id, &s.email, &digest.item_ids, |outbox_id| {
            let id = message::message_id(email, outbox_id);
            let bytes = message::build(email, &to, &digest, &id, &link).unwrap_or_default();
            (id, bytes)
        })?;
        if queued.is_some() {
            report.composed += 1;
        }
    }
    if dry_run {
        return Ok(report);
    }
    deliver(email, &store, all, &mut report).await?;
    Ok(report)
}

/// Queued messages read from the outbox at a time.
const PAGE: u32 = 64;
/// Delivery outcomes recorded per transaction.
const RECORD_EVERY: usize = 64;

/// Sends what is queued and due, [`Mailer::concurrency`] messages at a time, reading the outbox a
/// page at a time (so memory does not grow with the queue) and recording outcomes in batches of
/// [`RECORD_EVERY`], each batch in one transaction. A message is only ever sent from its outbox
/// row's bytes, so a crash after sending and before recording sends the very same message again on
/// the next run (at most one batch of them).
async fn deliver(
    email: &Email,
    store: &Store,
    all: bool,
    report: &mut Report,
) -> Result<(), MailError> {
    let now = Utc::now();
    let mut page = store.due_outbox_after(now, all, 0, PAGE)?;
    if page.is_empty() {
        return Ok(());
    }
    let mailer = Arc::new(Mailer::new(email).map_err(MailError::Transport)?);
    let from = Arc::new(email.from.email.clone());
    let limit = mailer.concurrency();
    let mut queue: VecDeque<Outgoing> = VecDeque::new();
    let mut last = 0;
    let mut in_flight = JoinSet::new();
    let mut done: Vec<(i64, Delivery)> = Vec::with_capacity(RECORD_EVERY);
    loop {
        if queue.is_empty() && !page.is_empty() {
            last = page.last().map_or(last, |o| o.id);
            queue.extend(page.drain(..));
        }
        while in_flight.len() < limit {
            let Some(out) = queue.pop_front() else { break };
            let (mailer, from) = (Arc::clone(&mailer), Arc::clone(&from));
            in_flight.spawn(async move {
                let result = mailer.send(&from, &out.recipient, &out.message).await;
                (out.id, out.recipient, out.attempts, result)
            });
        }
        // Read the next page while this one is being sent.
        if queue.is_empty() && page.is_empty() && last > 0 {
            page = store.due_outbox_after(now, all, last, PAGE)?;
            if page.is_empty() {
                last = 0;
            }
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let (id, recipient, attempts, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                // Keep what is known; the rest stays queued for the next run.
                store.outbox_record(&done)?;
                return Err(MailError::Transport(format!("send task: {e}")));
            }
        };
        done.push((id, outcome(&recipient, attempts, result, report)));
        if done.len() >= RECORD_EVERY {
            store.outbox_record(&done)?;
            done.clear();
        }
    }
    store.outbox_record(&done)?;
    Ok(())
}

/// What to record for one attempt, counted in `report`.
fn outcome(
    recipient: &str,
    attempts: u32,
    result: Result<(), send::SendFailure>,
    report: &mut Report,
) -> Delivery {
    match result {
        Ok(()) => {
            report.sent += 1;
            Delivery::Sent
        }
        Err(f) if f.permanent => {
            tracing::warn!(to = %recipient, error = %f.message, "digest refused for good");
            report.failed += 1;
            Delivery::Failed { error: f.message }
        }
        Err(f) => {
            let wait =
                Duration::from_secs(60u64.saturating_mul(1 << attempts.min(16))).min(MAX_BACKOFF);
            let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
            tracing::warn!(to = %recipient, error = %f.message, retry_at = %next, "digest not delivered; queued");
            report.retrying += 1;
            Delivery::Retry {
                error: f.message,
                next,
            }
        }
    }
}

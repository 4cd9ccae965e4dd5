//! Mail: digests of new items for subscribers, through an outbox that loses and doubles nothing.
//!
//! [`send_digests`] first composes every due subscriber's digest into the outbox (items taken in
//! the same transaction, see `Store::queue_digest`), then delivers what is queued. Which items go
//! to whom: those first seen after the subscriber subscribed, in one of their sources, never a
//! source's baseline (its first poll), each once even when two of their sources list it.
//! Delivery: a transient failure (refused, timeout, 4xx) stays queued with exponential backoff; a
//! permanent one (5xx) is recorded and, after a few in a row, suspends the subscriber.

pub mod alert;
pub mod compose;
pub mod message;
pub mod optin;
pub mod send;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use crate::config::{Config, Email};
use crate::store::{Store, StoreError, Subscriber};
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

async fn deliver(
    email: &Email,
    store: &Store,
    all: bool,
    report: &mut Report,
) -> Result<(), MailError> {
    let queue = store.due_outbox(Utc::now(), all)?;
    if queue.is_empty() {
        return Ok(());
    }
    let mailer = Mailer::new(email).map_err(MailError::Transport)?;
    for out in queue {
        match mailer
            .send(&email.from.email, &out.recipient, &out.message)
            .await
        {
            Ok(()) => {
                store.outbox_sent(out.id)?;
                report.sent += 1;
            }
            Err(f) if f.permanent => {
                tracing::warn!(to = %out.recipient, error = %f.message, "digest refused for good");
                store.outbox_failed(out.id, &f.message)?;
                report.failed += 1;
            }
            Err(f) => {
                let wait = Duration::from_secs(60u64.saturating_mul(1 << out.attempts.min(16)))
                    .min(MAX_BACKOFF);
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(to = %out.recipient, error = %f.message, retry_at = %next, "digest not delivered; queued");
                store.outbox_retry(out.id, &f.message, next)?;
                report.retrying += 1;
            }
        }
    }
    Ok(())
}

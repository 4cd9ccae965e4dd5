//! `[email]`: how digests are sent. Without the section nothing is mailed and everything else
//! works. Addresses are parsed strictly by lettre (RFC 5322), and the transport URL is checked
//! here so that a typo is a config error with a line, not a failure at the first digest.

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::raw::Errors;
use crate::schedule::cron::Schedule;

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `smtp://host:port` (add `?tls=required` for STARTTLS) or `smtps://host:port`, as lettre reads them.
    Smtp(String),
    /// `sendmail`: the local sendmail command.
    Sendmail,
    /// `file:///var/lib/portalfeed/outbox` (or a path relative to the config file): one `.eml` file per message.
    File(PathBuf),
}

/// A validated `[email]` section.
#[derive(Debug, Clone)]
pub struct Email {
    /// `smtp_url`.
    pub transport: Transport,
    /// `from`: e.g. `城中区政务信息订阅 <subscribe@example.gov.cn>`; its display name starts every subject.
    pub from: Mailbox,
    /// `reply_to` (optional).
    pub reply_to: Option<Mailbox>,
    /// `daily_at`: cron in `service.timezone` (default `0 8 * * *`).
    pub daily_at: Schedule,
    /// `weekly_at`: cron in `service.timezone` (default `0 8 * * 1`).
    pub weekly_at: Schedule,
    /// `max_items` per digest; the rest go in the next one (default 100).
    pub max_items: u32,
    /// `alerts_to`: staff mailed when a source breaks (used by the daemon).
    pub alerts_to: Vec<Mailbox>,
    /// `secret`: HMAC key for links; generated and kept in the database when not set.
    pub secret: Option<String>,
    /// `[email.dkim]`: sign every message.
    pub dkim: Option<super::dkim::Dkim>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEmail {
    smtp_url: Spanned<String>,
    from: Spanned<String>,
    reply_to: Option<Spanned<String>>,
    daily_at: Option<Spanned<String>>,
    weekly_at: Option<Spanned<String>>,
    max_items: Option<Spanned<u32>>,
    #[serde(default)]
    alerts_to: Vec<Spanned<String>>,
    secret: Option<Spanned<String>>,
    dkim: Option<super::dkim::RawDkim>,
}

pub(super) fn email(errors: &Errors, raw: RawEmail) -> Result<Email, ConfigError> {
    let mailbox = |v: &Spanned<String>, key: &str| -> Result<Mailbox, ConfigError> {
        v.get_ref().parse::<Mailbox>().map_err(|e| {
            errors.spanned(
                v,
                key,
                format!("{:?} is not an email address ({e})", v.get_ref()),
            )
        })
    };
    let schedule =
        |v: &Option<Spanned<String>>, key: &str, default: &str| -> Result<Schedule, ConfigError> {
            match v {
                Some(s) => Schedule::parse(s.get_ref()).map_err(|e| {
                    errors.spanned(
                        s,
                        key,
                        format!("bad cron expression {:?}: {e}", s.get_ref()),
                    )
                }),
                None => Schedule::parse(default).map_err(|e| errors.at(0, key, e.to_string())),
            }
        };
    let max_items = match &raw.max_items {
        Some(m) if *m.get_ref() == 0 || *m.get_ref() > 1000 => {
            return Err(errors.spanned(m, "email.max_items", "must be between 1 and 1000"));
        }
        Some(m) => *m.get_ref(),
        None => 100,
    };
    let secret = match &raw.secret {
        Some(s) if s.get_ref().len() < 16 => {
            return Err(errors.spanned(s, "email.secret", "must be at least 16 characters"));
        }
        Some(s) => Some(s.get_ref().clone()),
        None => None,
    };
    Ok(Email {
        transport: transport(errors, &raw.smtp_url)?,
        from: mailbox(&raw.from, "email.from")?,
        reply_to: raw
            .reply_to
            .as_ref()
            .map(|r| mailbox(r, "email.reply_to"))
            .transpose()?,
        daily_at: schedule(&raw.daily_at, "email.daily_at", "0 8 * * *")?,
        weekly_at: schedule(&raw.weekly_at, "email.weekly_at", "0 8 * * 1")?,
        max_items,
        alerts_to: raw
            .alerts_to
            .iter()
            .map(|a| mailbox(a, "email.alerts_to"))
            .collect::<Result<_, _>>()?,
        secret,
        dkim: raw
            .dkim
            .as_ref()
            .map(|d| super::dkim::dkim(errors, d))
            .transpose()?,
    })
}

fn transport(errors: &Errors, url: &Spanned<String>) -> Result<Transport, ConfigError> {
    let text = url.get_ref().trim();
    if text == "sendmail" {
        return Ok(Transport::Sendmail);
    }
    if let Some(path) = text.strip_prefix("file://") {
        if path.is_empty() {
            return Err(errors.spanned(
                url,
                "email.smtp_url",
                "file:// needs a folder, e.g. file:///var/lib/portalfeed/outbox",
            ));
        }
        let base = errors.path.parent().unwrap_or(Path::new("."));
        return Ok(Transport::File(base.join(path)));
    }
    if text.starts_with("smtp://") || text.starts_with("smtps://") {
        return match lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(text) {
            Ok(_) => Ok(Transport::Smtp(text.to_string())),
            Err(e) => Err(errors.spanned(url, "email.smtp_url", format!("{text:?}: {e}"))),
        };
    }
    Err(errors.spanned(
        url,
        "email.smtp_url",
        format!("{text:?} must be smtp://…, smtps://…, sendmail or file://…"),
    ))
}

//! Staff alerts: one mail to `email.alerts_to` when a source has failed `alert_after_failures`
//! polls in a row, and one when it recovers. Plain text in Chinese, with the source, its URL, the
//! error and since when, in `service.timezone`.
//!
//! Alerts go straight to the transport, not through the subscribers' outbox: the daemon records an
//! alert only once it was handed over, so an SMTP outage means the alert is tried again at the
//! source's next poll rather than lost. Errors never reach the public feeds; only staff see them.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};

use super::send::Mailer;
use crate::config::{Config, Source};

/// What happened to a source.
#[derive(Debug, Clone)]
pub enum Alert {
    Failing {
        failures: u32,
        since: DateTime<Utc>,
        error: String,
    },
    Recovered {
        since: DateTime<Utc>,
    },
}

/// The subject and text of an alert about `source`.
pub fn words(
    config: &Config,
    source: &Source,
    alert: &Alert,
    now: DateTime<Utc>,
) -> (String, String) {
    let tz = config.service.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let status = config
        .service
        .public_url
        .join("status")
        .map(|u| u.to_string())
        .unwrap_or_default();
    match alert {
        Alert::Failing {
            failures,
            since,
            error,
        } => (
            format!(
                "【告警】栏目“{}”抓取失败（连续 {failures} 次）",
                source.title
            ),
            format!(
                "栏目：{} ({})\n列表地址：{}\n自 {} 起连续失败 {} 次。\n最近错误：{}\n\n\
                 已保存的条目仍在订阅源中。恢复后将另行通知。\n运行状态：{}\n（{}，{}）\n",
                source.title,
                source.id,
                source.list_url,
                local(*since),
                failures,
                error,
                status,
                local(now),
                tz.name()
            ),
        ),
        Alert::Recovered { since } => (
            format!("【恢复】栏目“{}”已恢复抓取", source.title),
            format!(
                "栏目：{} ({})\n列表地址：{}\n自 {} 起的故障已于 {} 恢复。\n运行状态：{}\n（时区 {}）\n",
                source.title,
                source.id,
                source.list_url,
                local(*since),
                local(now),
                status,
                tz.name()
            ),
        ),
    }
}

/// Mails `alert` about `source` to every `alerts_to` address. `Ok(false)` when there is no one to
/// tell (no `[email]` or no `alerts_to`).
pub async fn send(
    config: &Config,
    mailer: &Mailer,
    source: &Source,
    alert: &Alert,
) -> Result<bool, String> {
    let Some(email) = &config.email else {
        return Ok(false);
    };
    if email.alerts_to.is_empty() {
        return Ok(false);
    }
    let now = Utc::now();
    let (subject, text) = words(config, source, alert, now);
    let id = format!(
        "<alert-{}-{}@{}>",
        source.id,
        now.timestamp_millis(),
        email.from.email.domain()
    );
    for to in &email.alerts_to {
        let message = Message::builder()
            .from(email.from.clone())
            .to(to.clone())
            .subject(subject.clone())
            .date_now()
            .message_id(Some(id.clone()))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(text.clone())
            .map_err(|e| format!("compose alert: {e}"))?;
        mailer
            .send(
                &email.from.email,
                to.email.as_ref(),
                &super::message::formatted(message, email.dkim.as_ref().map(|d| &*d.plain)),
            )
            .await
            .map_err(|f| format!("send alert to {}: {}", to.email, f.message))?;
    }
    Ok(true)
}

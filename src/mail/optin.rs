//! Double opt-in and self-service links, and the confirmation mail.
//!
//! Every token is signed with the link secret (HMAC-SHA256, base64url, checked in constant time by
//! `Mac::verify_slice`), each for one purpose so a token of one kind never passes as another:
//! - confirm: `{payload}.{tag}` where the payload (JSON, base64url) carries the address, the chosen
//!   sources and schedule, and an expiry 7 days ahead. The choices travel in the link, so an
//!   active subscription changes only when its owner opens it.
//! - manage: `{subscriber id}.{tag}`, printed in every digest; opens the page to change choices.
//! - form: `{expires}.{tag}`, the public form's anti-CSRF token (valid a few hours, no cookie).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::send::Mailer;
use crate::config::Config;
use crate::feed::xml::escape;

type HmacSha256 = Hmac<Sha256>;

/// How long a confirmation link works.
pub const CONFIRM_FOR: chrono::Duration = chrono::Duration::days(7);
/// How long the form's token is accepted after the page was served.
pub const FORM_FOR: chrono::Duration = chrono::Duration::hours(6);

/// What a confirmation link carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    #[serde(rename = "e")]
    pub email: String,
    #[serde(rename = "s")]
    pub sources: Vec<String>,
    #[serde(rename = "f")]
    pub schedule: String,
    /// Unix seconds.
    #[serde(rename = "x")]
    pub expires: i64,
}

fn mac(secret: &[u8], purpose: &str, data: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(purpose.as_bytes());
    mac.update(b":");
    mac.update(data.as_bytes());
    Some(mac)
}

fn sign(secret: &[u8], purpose: &str, data: &str) -> String {
    let tag = mac(secret, purpose, data)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!("{data}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The signed data of `token`, if genuine.
fn verify<'a>(secret: &[u8], purpose: &str, token: &'a str) -> Option<&'a str> {
    let (data, tag) = token.rsplit_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(secret, purpose, data)?.verify_slice(&tag).ok()?;
    Some(data)
}

/// The confirmation token for `choices`.
pub fn confirm_token(secret: &[u8], choices: &Choices) -> String {
    let json = serde_json::to_vec(choices).unwrap_or_default();
    sign(secret, "confirm", &URL_SAFE_NO_PAD.encode(json))
}

/// The choices of a genuine confirmation token; `Err(true)` when genuine but expired.
pub fn verify_confirm(secret: &[u8], token: &str, now: DateTime<Utc>) -> Result<Choices, bool> {
    let data = verify(secret, "confirm", token).ok_or(false)?;
    let json = URL_SAFE_NO_PAD.decode(data).map_err(|_| false)?;
    let choices: Choices = serde_json::from_slice(&json).map_err(|_| false)?;
    if choices.expires < now.timestamp() {
        return Err(true);
    }
    Ok(choices)
}

/// The manage token of subscriber `id`.
pub fn manage_token(secret: &[u8], id: i64) -> String {
    sign(secret, "manage", &id.to_string())
}

/// The subscriber a genuine manage token names.
pub fn verify_manage(secret: &[u8], token: &str) -> Option<i64> {
    verify(secret, "manage", token)?.parse().ok()
}

/// A fresh token for the public form.
pub fn form_token(secret: &[u8], now: DateTime<Utc>) -> String {
    sign(secret, "form", &(now + FORM_FOR).timestamp().to_string())
}

/// Whether a form token is genuine and not expired.
pub fn verify_form(secret: &[u8], token: &str, now: DateTime<Utc>) -> bool {
    verify(secret, "form", token)
        .and_then(|d| d.parse::<i64>().ok())
        .is_some_and(|expires| expires >= now.timestamp())
}

/// An absolute link on the public site.
pub fn public_link(config: &Config, path: &str) -> String {
    config
        .service
        .public_url
        .join(path.trim_start_matches('/'))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// The confirmation mail (text and HTML) for `choices`, linking to `link`.
pub fn confirmation(
    config: &Config,
    to: &Mailbox,
    choices: &Choices,
    link: &str,
) -> Result<Vec<u8>, String> {
    let email = config.email.as_ref().ok_or("no [email] section")?;
    let titles: Vec<&str> = choices
        .sources
        .iter()
        .filter_map(|id| config.source(id).map(|s| s.title.as_str()))
        .collect();
    let schedule = schedule_name(&choices.schedule);
    let title = &config.service.title;
    let text = format!(
        "您好：\n\n有人（希望是您本人）在“{title}”申请用此邮箱订阅：{}（{schedule}）。\n\n\
         请在 7 天内打开下面的链接确认订阅：\n{link}\n\n如果不是您本人申请，请忽略本邮件，您不会收到任何订阅邮件。\n",
        titles.join("、")
    );
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:sans-serif;line-height:1.6;max-width:560px\">\
         <p>您好：</p><p>有人（希望是您本人）在“{}”申请用此邮箱订阅：{}（{schedule}）。</p>\
         <p><a href=\"{}\" style=\"display:inline-block;padding:8px 16px;background:#b3261e;color:#fff;text-decoration:none;border-radius:4px\">确认订阅</a></p>\
         <p>链接 7 天内有效。如果不是您本人申请，请忽略本邮件，您不会收到任何订阅邮件。</p></body></html>",
        escape(title),
        escape(&titles.join("、")),
        escape(link)
    );
    let message = Message::builder()
        .from(email.from.clone())
        .to(to.clone())
        .subject(format!("请确认订阅：{title}"))
        .date_now()
        .message_id(Some(message_id(&email.from)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| format!("compose confirmation: {e}"))?;
    Ok(super::message::formatted(
        message,
        email.dkim.as_ref().map(|d| &*d.plain),
    ))
}

/// `<confirm-{time}-{random}@{the From domain}>`: on our own domain, unique per mail.
fn message_id(from: &Mailbox) -> String {
    let mut random = [0u8; 6];
    let _ = getrandom::fill(&mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "<confirm-{}-{hex}@{}>",
        Utc::now().timestamp_millis(),
        from.email.domain()
    )
}

/// Sends the confirmation mail for `choices`.
pub async fn send_confirmation(
    config: &Config,
    secret: &[u8],
    choices: &Choices,
) -> Result<(), String> {
    let email = config.email.as_ref().ok_or("no [email] section")?;
    let to: Mailbox = choices.email.parse().map_err(|e| format!("address: {e}"))?;
    let link = public_link(
        config,
        &format!("confirm/{}", confirm_token(secret, choices)),
    );
    let bytes = confirmation(config, &to, choices, &link)?;
    let mailer = Mailer::new(email)?;
    mailer
        .send(&email.from.email, &choices.email, &bytes)
        .await
        .map_err(|f| f.message)
}

/// 每日 / 每周 / 即时.
pub fn schedule_name(schedule: &str) -> &'static str {
    match schedule {
        "weekly" => "每周",
        "immediate" => "即时",
        _ => "每日",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123";

    fn choices(expires: i64) -> Choices {
        Choices {
            email: "a@example.com".into(),
            sources: vec!["leadership".into()],
            schedule: "weekly".into(),
            expires,
        }
    }

    #[test]
    fn confirm_tokens_carry_the_choices_and_expire() {
        let now = Utc::now();
        let c = choices((now + CONFIRM_FOR).timestamp());
        let t = confirm_token(KEY, &c);
        assert_eq!(verify_confirm(KEY, &t, now), Ok(c.clone()));
        assert_eq!(
            verify_confirm(KEY, &t, now + chrono::Duration::days(8)),
            Err(true)
        );
        assert_eq!(verify_confirm(b"another key 12345678", &t, now), Err(false));
        let (data, tag) = t.rsplit_once('.').unwrap();
        let mut forged = c;
        forged.schedule = "immediate".into();
        let other = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify_confirm(KEY, &format!("{other}.{tag}"), now),
            Err(false)
        );
        assert!(!data.is_empty());
    }

    #[test]
    fn tokens_of_one_purpose_do_not_pass_as_another() {
        let manage = manage_token(KEY, 7);
        assert_eq!(verify_manage(KEY, &manage), Some(7));
        assert_eq!(super::super::token::verify_unsubscribe(KEY, &manage), None);
        let unsubscribe = super::super::token::unsubscribe_token(KEY, 7);
        assert_eq!(verify_manage(KEY, &unsubscribe), None);
        let now = Utc::now();
        let form = form_token(KEY, now);
        assert!(verify_form(KEY, &form, now));
        assert!(!verify_form(KEY, &form, now + chrono::Duration::hours(7)));
        assert!(!verify_form(KEY, &manage, now));
    }
}

//! The RFC 5322 message of a digest: multipart/alternative (text and HTML, UTF-8), Subject and
//! From display name RFC 2047-encoded by lettre, and the list headers mail clients act on:
//! `List-Id`, `List-Unsubscribe` + `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 2369,
//! RFC 8058) and `Auto-Submitted: auto-generated` (RFC 3834). The Message-ID is derived from the
//! outbox row, so a retry after a crash is recognisably the same message.

use lettre::Message;
use lettre::message::dkim::DkimConfig;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::compose::Digest;
use crate::config::Email;

/// `<digest-{outbox id}@{the From domain}>`.
pub fn message_id(email: &Email, outbox_id: i64) -> String {
    format!("<digest-{outbox_id}@{}>", email.from.email.domain())
}

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The whole message, ready for the outbox.
pub fn build(
    email: &Email,
    to: &Mailbox,
    digest: &Digest,
    message_id: &str,
    unsubscribe_url: &str,
) -> Result<Vec<u8>, lettre::error::Error> {
    let domain = email.from.email.domain();
    let mut builder = Message::builder()
        .from(email.from.clone())
        .to(to.clone())
        .subject(digest.subject.clone())
        .date_now()
        .message_id(Some(message_id.to_string()))
        .raw_header(raw(
            "List-Id",
            format!("portalfeed digest <digest.{domain}>"),
        ))
        .raw_header(raw("List-Unsubscribe", format!("<{unsubscribe_url}>")))
        .raw_header(raw(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".into(),
        ))
        .raw_header(raw("Auto-Submitted", "auto-generated".into()));
    if let Some(reply_to) = &email.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let message = builder.multipart(MultiPart::alternative_plain_html(
        digest.text.clone(),
        digest.html.clone(),
    ))?;
    Ok(formatted(message, email.dkim.as_ref().map(|d| &*d.digest)))
}

/// The message's bytes, DKIM-signed when `[email.dkim]` is set (signed once, when composed: a
/// retry sends the very same bytes).
pub fn formatted(mut message: Message, dkim: Option<&DkimConfig>) -> Vec<u8> {
    if let Some(config) = dkim {
        message.sign(config);
    }
    message.formatted()
}

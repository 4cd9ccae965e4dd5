//! Handing messages to the configured transport, and telling a failure that will pass (connection
//! refused, timeout, 4xx) from one that will not (5xx for the recipient).

use lettre::address::Envelope;
use lettre::{
    Address, AsyncFileTransport, AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport,
    Tokio1Executor,
};

use crate::config::{Email, Transport};

/// A transport, built once and reused (SMTP connections are pooled by lettre).
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Sendmail(AsyncSendmailTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Why a message was not delivered.
#[derive(Debug, Clone)]
pub struct SendFailure {
    /// The server refused this recipient for good (5xx): do not try again.
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    pub fn new(email: &Email) -> Result<Mailer, String> {
        Ok(match &email.transport {
            Transport::Smtp(url) => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("email.smtp_url: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build(),
            ),
            Transport::Sendmail => {
                Mailer::Sendmail(AsyncSendmailTransport::<Tokio1Executor>::new())
            }
            Transport::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("email.smtp_url: create {}: {e}", dir.display()))?;
                Mailer::File(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
        })
    }

    /// Sends `message` (already formatted) from `from` to `to`.
    pub async fn send(&self, from: &Address, to: &str, message: &[u8]) -> Result<(), SendFailure> {
        let to: Address = to.parse().map_err(|e| SendFailure {
            permanent: true,
            message: format!("bad recipient {to:?}: {e}"),
        })?;
        let envelope = Envelope::new(Some(from.clone()), vec![to]).map_err(|e| SendFailure {
            permanent: true,
            message: e.to_string(),
        })?;
        match self {
            Mailer::Smtp(t) => t
                .send_raw(&envelope, message)
                .await
                .map(|_| ())
                .map_err(|e| SendFailure {
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                }),
            Mailer::Sendmail(t) => t
                .send_raw(&envelope, message)
                .await
                .map(|_| ())
                .map_err(|e| SendFailure {
                    permanent: false,
                    message: e.to_string(),
                }),
            Mailer::File(t) => t
                .send_raw(&envelope, message)
                .await
                .map(|_| ())
                .map_err(|e| SendFailure {
                    permanent: false,
                    message: e.to_string(),
                }),
        }
    }
}

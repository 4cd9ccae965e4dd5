//! Handing messages to the configured transport, and telling a failure that will pass (connection
//! refused, timeout, 4xx) from one that will not (5xx for the recipient).

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::{
    Address, AsyncFileTransport, AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport,
    Tokio1Executor,
};

use crate::config::{Email, Transport};

/// SMTP connections a digest run keeps busy at once (and lettre's pool keeps open).
///
/// More than one, because lettre 0.11.23 leaves Nagle's algorithm on and writes the final
/// `CRLF.CRLF` as a separate small write: it waits for the server's delayed ACK of the body, about
/// 40 ms on Linux, so one connection carries at most ~23 messages a second however fast both ends
/// are. Several connections overlap those waits. A local MTA takes this many at once easily
/// (Postfix allows 50 per client by default).
pub const SMTP_CONNECTIONS: usize = 32;

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
                    .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS as u32))
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

    /// How many messages may be handed to this transport at once: [`SMTP_CONNECTIONS`] for SMTP,
    /// one at a time for sendmail and files.
    pub fn concurrency(&self) -> usize {
        match self {
            Mailer::Smtp(_) => SMTP_CONNECTIONS,
            Mailer::Sendmail(_) | Mailer::File(_) => 1,
        }
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

//! `[email.dkim]`: sign every message portalfeed sends (digests, confirmations, alerts) with
//! DKIM (RFC 6376), so that receiving servers can tell it really comes from `domain`.
//!
//! ```toml
//! [email.dkim]
//! domain = "example.gov.cn"          # the d= of the signature: the From address's domain
//! selector = "portalfeed"            # the TXT record portalfeed._domainkey.example.gov.cn
//! private_key_file = "dkim.pem"      # relative to the config file's folder
//! algorithm = "rsa"                  # or "ed25519"
//! ```
//! The RSA key is PKCS#1 PEM (`openssl genrsa -traditional -out dkim.pem 2048`); an Ed25519
//! key is its 32-byte seed in base64. The key is read and checked when the config is loaded, so a
//! missing or malformed file is a config error naming `email.dkim.private_key_file`, not a
//! failure at the first digest. Canonicalization is relaxed/relaxed (robust to relaying).

use std::path::Path;
use std::sync::Arc;

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::raw::Errors;

/// Headers signed on every message. Not Content-Type: lettre writes a multipart message's
/// Content-Type with its body, outside the headers it signs, so listing it would break every
/// signature. Header canonicalization must be relaxed: lettre folds its DKIM-Signature header
/// differently once `b=` is filled in, which only relaxed canonicalization forgives.
const COMMON: [&str; 6] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
];
/// Headers digests carry on top, which mail clients act on (one-click unsubscribe).
const LIST: [&str; 4] = [
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// The signing set-up: one configuration per kind of message (they sign different headers).
#[derive(Debug, Clone)]
pub struct Dkim {
    /// For digests.
    pub digest: Arc<DkimConfig>,
    /// For confirmations and alerts.
    pub plain: Arc<DkimConfig>,
    pub domain: String,
    pub selector: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDkim {
    domain: Spanned<String>,
    selector: Spanned<String>,
    private_key_file: Spanned<String>,
    algorithm: Option<Spanned<String>>,
}

pub(super) fn dkim(errors: &Errors, raw: &RawDkim) -> Result<Dkim, ConfigError> {
    let name = |v: &Spanned<String>, key: &str| -> Result<String, ConfigError> {
        let s = v.get_ref().trim();
        let ok = !s.is_empty()
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if ok {
            Ok(s.to_ascii_lowercase())
        } else {
            Err(errors.spanned(v, key, format!("{s:?} is not a DNS name")))
        }
    };
    let domain = name(&raw.domain, "email.dkim.domain")?;
    let selector = name(&raw.selector, "email.dkim.selector")?;
    let algorithm = match raw.algorithm.as_ref().map(|a| a.get_ref().as_str()) {
        None | Some("rsa") => DkimSigningAlgorithm::Rsa,
        Some("ed25519") => DkimSigningAlgorithm::Ed25519,
        Some(other) => {
            let a = raw.algorithm.as_ref().unwrap_or(&raw.domain);
            return Err(errors.spanned(
                a,
                "email.dkim.algorithm",
                format!("{other:?}: use \"rsa\" or \"ed25519\""),
            ));
        }
    };
    let base = errors.path.parent().unwrap_or(Path::new("."));
    let path = base.join(raw.private_key_file.get_ref());
    let key_file = "email.dkim.private_key_file";
    let pem = std::fs::read_to_string(&path).map_err(|e| {
        errors.spanned(
            &raw.private_key_file,
            key_file,
            format!("read {}: {e}", path.display()),
        )
    })?;
    let key = || {
        DkimSigningKey::new(pem.trim(), algorithm).map_err(|e| {
            let hint = match algorithm {
                DkimSigningAlgorithm::Rsa => {
                    "an RSA key in PKCS#1 PEM (openssl genrsa -traditional)"
                }
                DkimSigningAlgorithm::Ed25519 => "a base64 Ed25519 seed",
            };
            errors.spanned(
                &raw.private_key_file,
                key_file,
                format!("{} is not {hint}: {e}", path.display()),
            )
        })
    };
    let config = |headers: Vec<&'static str>| -> Result<Arc<DkimConfig>, ConfigError> {
        Ok(Arc::new(DkimConfig::new(
            selector.clone(),
            domain.clone(),
            key()?,
            headers
                .into_iter()
                .map(HeaderName::new_from_ascii_str)
                .collect(),
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        )))
    };
    Ok(Dkim {
        digest: config(COMMON.iter().chain(LIST.iter()).copied().collect())?,
        plain: config(COMMON.to_vec())?,
        domain,
        selector,
    })
}

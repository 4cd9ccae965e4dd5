//! Signed links: `{subscriber id}.{HMAC-SHA256 over "unsubscribe:{id}", base64url}`, checked in
//! constant time (`Mac::verify_slice`). The key is `email.secret`, or a random one generated once
//! and kept in the database.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::{Store, StoreError};

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], purpose: &str, id: i64) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(format!("{purpose}:{id}").as_bytes());
    Some(mac)
}

/// The unsubscribe token of subscriber `id`.
pub fn unsubscribe_token(secret: &[u8], id: i64) -> String {
    let tag = mac(secret, "unsubscribe", id)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!("{id}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The subscriber id a genuine unsubscribe token names.
pub fn verify_unsubscribe(secret: &[u8], token: &str) -> Option<i64> {
    let (id, tag) = token.split_once('.')?;
    let id: i64 = id.parse().ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(secret, "unsubscribe", id)?.verify_slice(&tag).ok()?;
    Some(id)
}

/// The configured secret, or the one kept in the database (made on first use).
pub fn secret(configured: Option<&str>, store: &Store) -> Result<Vec<u8>, StoreError> {
    if let Some(s) = configured {
        return Ok(s.as_bytes().to_vec());
    }
    let kept = store.setting_or("secret", || {
        let mut bytes = [0u8; 32];
        // getrandom fails only without an OS random source; a zero key would still be unique per
        // install once the database is copied nowhere, but say so.
        if getrandom::fill(&mut bytes).is_err() {
            tracing::error!("no OS randomness: the link secret is weak; set email.secret");
        }
        URL_SAFE_NO_PAD.encode(bytes)
    })?;
    Ok(kept.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_tampering_fails() {
        let t = unsubscribe_token(b"0123456789abcdef", 42);
        assert_eq!(verify_unsubscribe(b"0123456789abcdef", &t), Some(42));
        assert_eq!(verify_unsubscribe(b"another-secret-key", &t), None);
        let forged = t.replacen("42.", "43.", 1);
        assert_eq!(verify_unsubscribe(b"0123456789abcdef", &forged), None);
        assert_eq!(verify_unsubscribe(b"0123456789abcdef", "nonsense"), None);
    }
}

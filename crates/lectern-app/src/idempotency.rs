//! Idempotent writes. A client whose request may have been applied without
//! it hearing back (its node died before answering, a proxy retried on
//! another node) sends the same `Idempotency-Key` again. The write and the
//! answer it gave are committed together, keyed by (user, key); a retry finds
//! that answer and gets it back unchanged instead of applying the write a
//! second time. Two copies racing on two nodes are decided by the table's
//! primary key: the loser's whole transaction is refused and it answers
//! with the winner's stored response.
//!
//! A key names one request: the store keeps a fingerprint (a hash of the
//! operation and its input) beside the answer, and the same key sent with
//! anything else is refused as a client bug rather than silently replayed.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::model::UserId;
use crate::Lectern;

/// The header clients send.
pub const HEADER: &str = "Idempotency-Key";

/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// A key as a client sent it, checked: 1 to [`MAX_KEY_LEN`] visible ASCII
/// characters (a UUID, a ULID, a random token all fit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks a raw header value; anything else is refused, naming the header.
    pub fn parse(raw: &[u8]) -> AppResult<Self> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(AppError::field(
                "idempotency_key",
                format!("{HEADER} must be 1 to {MAX_KEY_LEN} characters long."),
            ));
        }
        if !raw.iter().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::field(
                "idempotency_key",
                format!("{HEADER} may contain only visible ASCII characters (no spaces)."),
            ));
        }
        // Every byte is visible ASCII, so this conversion cannot fail.
        let text = String::from_utf8_lossy(raw).into_owned();
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The answer a keyed write gave, as stored with it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub user_id: UserId,
    pub key: String,
    /// [`fingerprint`] of the request that made it.
    pub fingerprint: String,
    /// The HTTP status it was answered with.
    pub status: u16,
    pub body: Value,
    pub created_at: DateTime<Utc>,
}

/// A hash naming a request: the operation and each part of its input,
/// length-prefixed so no two different inputs run together the same way.
pub fn fingerprint(operation: &str, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in std::iter::once(&operation).chain(parts) {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

impl Lectern {
    /// The stored answer of `key` for this user, if a write made with it has
    /// committed; the same key used for another request is refused.
    pub(crate) async fn stored_response(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> AppResult<Option<StoredResponse>> {
        let Some(stored) = self.store.idempotent_response(user, key.as_str()).await? else {
            return Ok(None);
        };
        if stored.fingerprint != fingerprint {
            return Err(AppError::KeyReused(format!(
                "This {HEADER} was already used for a different request; \
                 send a new key for a new request."
            )));
        }
        Ok(Some(stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse(b"0b9c7a1e-4f1d-4a55-9d0e-2f6c1a8b3e77").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; MAX_KEY_LEN]).is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; MAX_KEY_LEN + 1]).is_err());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(b"two words").is_err());
        assert!(IdempotencyKey::parse(b"tab\there").is_err());
        assert!(IdempotencyKey::parse("clé".as_bytes()).is_err());
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let a = fingerprint("check", &["p1", "{\"a\":\"1\"}"]);
        assert_eq!(a, fingerprint("check", &["p1", "{\"a\":\"1\"}"]));
        assert_ne!(a, fingerprint("check", &["p2", "{\"a\":\"1\"}"]));
        assert_ne!(a, fingerprint("check", &["p1", "{\"a\":\"2\"}"]));
        assert_ne!(
            fingerprint("check", &["ab", "c"]),
            fingerprint("check", &["a", "bc"])
        );
    }
}

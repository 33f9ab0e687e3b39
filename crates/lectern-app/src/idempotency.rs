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
//!
//! Every keyed write follows one pattern (checks, enrolment, publish, static
//! file uploads, course import): [`Lectern::start_keyed`] answers a retry
//! of a committed write from its stored answer; otherwise the use case hands
//! the store a [`Keyed`] (the [`KeyClaim`] and how to turn the write's
//! result into the answer), and the store inserts the key row first in the
//! write's own transaction and the answer last; a clash on the key means a
//! copy won, and [`Lectern::answer_after_clash`] reads its answer.
//!
//! Stored answers are kept for `idempotency_keep` (24 hours by default) and
//! then deleted by the `idempotency_cleanup` job: after that a retry with an
//! old key is a new request.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult, StoreError};
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

/// The name of the key in field errors and in the store's clash report.
pub const KEY_FIELD: &str = "idempotency_key";

/// A keyed write's hold on its key, inserted by the store in the write's
/// own transaction (before anything else the write does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    pub user_id: UserId,
    pub key: String,
    /// [`fingerprint`] of the request.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
}

impl KeyClaim {
    /// The stored answer this claim becomes once its write has answered.
    pub fn response(&self, status: u16, body: Value) -> StoredResponse {
        StoredResponse {
            user_id: self.user_id,
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            status,
            body,
            created_at: self.created_at,
        }
    }
}

/// Turns a write's result into the answer stored under its key (inside the
/// write's transaction, so the two commit together).
pub type Answer<'a, T> = &'a (dyn Fn(&T) -> Result<Value, String> + Send + Sync);

/// What a keyed store write receives besides its own arguments.
#[derive(Clone, Copy)]
pub struct Keyed<'a, T> {
    pub claim: &'a KeyClaim,
    pub answer: Answer<'a, T>,
}

/// Where a keyed use case stands before it writes anything.
pub(crate) enum Start {
    /// Nothing is stored for the key (or there is no key): write, with this
    /// claim when keyed.
    Fresh(Option<KeyClaim>),
    /// A write with this key committed: its stored answer.
    Replayed(Value),
}

/// Whether a store error is the clash of a [`KeyClaim`] with a committed
/// (or concurrently committing) write of the same key.
pub(crate) fn is_key_clash(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { field } if field == KEY_FIELD)
}

/// The stored answer of a value written as JSON.
pub(crate) fn to_answer<T: Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

/// A stored answer read back as the value it was written from.
pub(crate) fn from_answer<T: DeserializeOwned>(body: Value) -> AppResult<T> {
    serde_json::from_value(body)
        .map_err(|e| AppError::Internal(format!("a stored idempotent answer does not parse: {e}")))
}

impl Lectern {
    /// The start of a keyed write: without a key, `Fresh(None)`; with one, the
    /// stored answer if a write made with it committed (a key used for
    /// another request is refused), else the claim to write with.
    /// `operation` and `parts` make the request's fingerprint.
    pub(crate) async fn start_keyed(
        &self,
        user: UserId,
        key: Option<&IdempotencyKey>,
        operation: &str,
        parts: &[&str],
    ) -> AppResult<Start> {
        let Some(key) = key else {
            return Ok(Start::Fresh(None));
        };
        let print = fingerprint(operation, parts);
        if let Some(stored) = self.stored_response(user, key, &print).await? {
            return Ok(Start::Replayed(stored.body));
        }
        Ok(Start::Fresh(Some(KeyClaim {
            user_id: user,
            key: key.as_str().to_string(),
            fingerprint: print,
            created_at: self.now(),
        })))
    }

    /// The answer of the copy that won a clash on `claim`'s key.
    pub(crate) async fn answer_after_clash(&self, claim: &KeyClaim) -> AppResult<Value> {
        let key = IdempotencyKey(claim.key.clone());
        self.stored_response(claim.user_id, &key, &claim.fingerprint)
            .await?
            .map(|stored| stored.body)
            .ok_or_else(|| {
                AppError::Internal("an idempotency key clashed but is not stored".into())
            })
    }

    /// What a keyed write answers when its store write failed with `e`: a
    /// clash on the key means a copy of it committed first, whose answer
    /// this is; anything else is the error.
    pub(crate) async fn on_clash<T: DeserializeOwned>(
        &self,
        claim: Option<&KeyClaim>,
        e: StoreError,
    ) -> AppResult<T> {
        match claim {
            Some(claim) if is_key_clash(&e) => from_answer(self.answer_after_clash(claim).await?),
            _ => Err(e.into()),
        }
    }

    /// Deletes stored answers older than the keep window (see
    /// `AppSettings::idempotency_keep`); returns how many. Submissions keep
    /// the key they were made with.
    pub async fn delete_old_idempotent_responses(&self) -> AppResult<u64> {
        let before = self.now() - self.settings.idempotency_keep;
        Ok(self.store.delete_idempotent_responses(before).await?)
    }

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

//! The closed set of things that can go wrong in a use case, in terms a
//! person can act on. The web layer maps each to a status code in one place.

use std::collections::BTreeMap;

/// A failure reported by a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; `field` names what clashed.
    #[error("{field} is already taken")]
    Conflict { field: String },
    /// Someone else changed the record since it was read.
    #[error("the record changed while you were editing it")]
    StaleRevision,
    /// The database cannot be reached or refused the connection.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database is reachable but another writer holds it (SQLite's
    /// `BUSY`/`LOCKED`, such as a transaction whose snapshot another
    /// node's commit made stale): the request may be retried at once. Not
    /// an outage, so it never trips the breaker (`outage.rs`).
    #[error("the database is busy: {0}")]
    Busy(String),
    /// Anything else: a bug or corrupt data.
    #[error("storage error: {0}")]
    Internal(String),
}

/// The error of every use case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} was not found")]
    NotFound(String),
    #[error("you need to sign in for this")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    /// Input that fails validation: a message for the whole request and one per field.
    #[error("{message}")]
    Invalid {
        message: String,
        field_errors: BTreeMap<String, String>,
    },
    #[error("{0}")]
    Conflict(String),
    /// An `Idempotency-Key` sent again with a different request (422).
    #[error("{0}")]
    KeyReused(String),
    /// A rate limit is spent (429); `retry_after`: seconds until it frees,
    /// when known.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: Option<u64>,
    },
    /// One of the site's limits refuses the write (`site_limits.rs`).
    #[error("{0}")]
    LimitReached(crate::site_limits::LimitReached),
    #[error("the service is temporarily unavailable; try again shortly")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid {
            message: message.into(),
            field_errors: BTreeMap::new(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Invalid {
            message: message.clone(),
            field_errors: BTreeMap::from([(field.to_string(), message)]),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { field } => {
                AppError::field(&field, format!("this {field} is already taken"))
            }
            StoreError::StaleRevision => AppError::Conflict(
                "someone else changed this at the same time; reload and try again".into(),
            ),
            StoreError::Unavailable(m) | StoreError::Busy(m) => AppError::Unavailable(m),
            StoreError::Internal(m) => AppError::Internal(m),
        }
    }
}

impl From<lectern_content::KeyError> for AppError {
    fn from(e: lectern_content::KeyError) -> Self {
        AppError::invalid(e.to_string())
    }
}

impl From<lectern_content::tree::TreeError> for AppError {
    fn from(e: lectern_content::tree::TreeError) -> Self {
        use lectern_content::tree::TreeError;
        match e {
            TreeError::NoSuchBlock(b) => AppError::NotFound(format!("block {b}")),
            other => AppError::invalid(other.to_string()),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

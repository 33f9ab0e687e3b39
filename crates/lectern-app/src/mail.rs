//! Outgoing e-mail, as the use cases see it: a message and a trait to send
//! it. The SMTP implementation lives in `lectern-mail` (the app never does
//! network I/O itself), so tests and other transports can plug in. Use
//! cases never send directly: they queue in the outbox (`outbox.rs`),
//! whose delivery loop calls the [`Mailer`].

use async_trait::async_trait;

/// One message to one recipient: plain text, optionally with an HTML
/// alternative.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The HTML alternative of `body` (multipart/alternative when set).
    pub html: Option<String>,
    /// `<…@…>`: the same for every attempt at one outbox row, so a copy the
    /// relay got twice is recognisable.
    pub message_id: Option<String>,
    /// A `List-Unsubscribe` URL (bulk e-mail).
    pub list_unsubscribe: Option<String>,
}

/// Something that delivers mail (an SMTP relay in production).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands the message over for delivery; `Ok` only once the relay
    /// accepted it. The error is for the log and the admin console.
    async fn send(&self, mail: &Mail) -> Result<(), String>;
}

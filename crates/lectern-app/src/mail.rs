//! Outgoing e-mail, as the use cases see it: a message and a trait to send
//! it. The SMTP implementation lives in `lectern-mail` (the app never does
//! network I/O itself), so tests and other transports can plug in.

use async_trait::async_trait;

/// One plain-text message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Something that delivers mail (an SMTP relay in production).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands the message over for delivery; the error is for the log only.
    async fn send(&self, mail: &Mail) -> Result<(), String>;
}

//! Sends Lectern's mail (the outbox: reset links, bulk e-mail) through the SMTP relay set in
//! the configuration, with `lettre` on tokio. TLS is rustls (no OpenSSL), in
//! one of three modes: `none` (a relay on the same host), `starttls`
//! (usually port 587) or `tls` (implicit TLS, usually port 465). Every
//! connection and command is bounded by `timeout_secs`, so a dead relay
//! cannot hold a request or a task for long. Connections are pooled and
//! reused between messages; one the relay closed is replaced.

use std::time::Duration;

use async_trait::async_trait;
use lectern_app::mail::{Mail, Mailer};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP: only for a relay on the same host or a trusted network.
    None,
    /// Upgrade with STARTTLS; refused if the relay does not offer it.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// The relay, as configured (`[smtp]` in lectern.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// The relay's host name; empty means no mail is sent.
    pub host: String,
    pub port: u16,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    /// The sender, e.g. `Lectern <no-reply@example.org>`.
    pub from: String,
    pub tls: TlsMode,
    /// Longest wait for the relay (connect and each command), in seconds.
    pub timeout_secs: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            username: String::new(),
            password: String::new(),
            from: "Lectern <no-reply@localhost>".into(),
            tls: TlsMode::Starttls,
            timeout_secs: 10,
        }
    }
}

/// A configured relay.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Checks the settings and prepares the transport (no connection yet).
    pub fn new(settings: &SmtpSettings) -> Result<Self, String> {
        if settings.host.trim().is_empty() {
            return Err("smtp.host is empty".into());
        }
        let from: Mailbox = settings.from.parse().map_err(|e| {
            format!(
                "smtp.from {:?} is not an e-mail address: {e}",
                settings.from
            )
        })?;
        let host = settings.host.trim();
        let builder = match settings.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("smtp.host {host:?}: {e}"))?,
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("smtp.host {host:?}: {e}"))?,
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.timeout_secs.max(1))));
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.username.clone(),
                settings.password.clone(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("recipient is not an address: {e}"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(mail.message_id.clone());
        if let Some(url) = &mail.list_unsubscribe {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ));
        }
        let message = match &mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.body.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body.clone()),
        }
        .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP delivery failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_refused_with_the_key_named() {
        let empty = SmtpMailer::new(&SmtpSettings::default()).err();
        assert!(empty.is_some_and(|e| e.contains("smtp.host")));
        let bad_from = SmtpSettings {
            host: "localhost".into(),
            from: "not an address".into(),
            ..SmtpSettings::default()
        };
        let err = SmtpMailer::new(&bad_from).err();
        assert!(err.is_some_and(|e| e.contains("smtp.from")));
    }

    #[tokio::test]
    async fn a_dead_relay_is_an_error_not_a_hang() {
        // Port 9 on loopback: nothing listens, the connection is refused.
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port: 9,
            tls: TlsMode::None,
            timeout_secs: 2,
            ..SmtpSettings::default()
        };
        let mailer = SmtpMailer::new(&settings).expect("valid settings");
        let mail = Mail {
            to: "a@example.org".into(),
            subject: "s".into(),
            body: "b".into(),
            ..Mail::default()
        };
        assert!(mailer.send(&mail).await.is_err());
    }
}

//! Changing and resetting passwords, and ending sessions and tokens.
//!
//! A password change or reset ends every session and bearer token of the
//! account (the browser that changed it gets a fresh session), so a stolen
//! cookie or token dies with the old password. Reset links work as on Open
//! edX: asking always gets the same answer whether or not the address has an
//! account; the link is single-use, expires, and only its SHA-256 is stored.
//! The link and its mail are written in one transaction to the outbox
//! (`outbox.rs`), whose delivery loop sends it, so neither a slow relay nor
//! the response time tells an asker whether the account exists, and a relay
//! that is away only delays the mail.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::accounts::{password_problem, IssuedToken};
use crate::error::{AppError, AppResult};
use crate::model::{TokenKind, User};
use crate::outbox::{new_message_id, NewMail};
use crate::passwords::{hash_password, new_secret, secret_hash};
use crate::store::PasswordReset;
use crate::Lectern;

/// Unexpired reset links one account may have: a flood of requests cannot
/// flood the owner's mailbox.
pub const MAX_PENDING_RESETS: i64 = 3;
const LINK_GONE: &str = "This password reset link has expired or was already used.";

/// The password change form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub new_password_confirm: String,
}

fn check_new_password(user: &User, new: &str, confirm: &str) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    if let Some(problem) = password_problem(new, &user.username) {
        errors.insert("new_password".into(), problem);
    } else if new != confirm {
        errors.insert(
            "new_password_confirm".into(),
            "The two password fields didn't match.".into(),
        );
    }
    errors
}

fn invalid(errors: BTreeMap<String, String>) -> AppError {
    AppError::Invalid {
        message: "Please correct the marked fields.".into(),
        field_errors: errors,
    }
}

impl Lectern {
    /// Changes a signed-in user's password after checking the current one.
    /// Every session and token of the account ends; the caller gets a new
    /// session to stay signed in with.
    pub async fn change_password(
        &self,
        user: &User,
        form: &PasswordChange,
    ) -> AppResult<IssuedToken> {
        let mut errors = check_new_password(user, &form.new_password, &form.new_password_confirm);
        if form.current_password.len() > crate::accounts::MAX_PASSWORD_LEN
            || self
                .check_credentials(&user.username, &form.current_password)
                .await
                .is_err()
        {
            errors.insert(
                "current_password".into(),
                "Your current password is incorrect.".into(),
            );
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        self.store_new_password(user, &form.new_password).await?;
        tracing::info!(user = %user.username, "password changed; every session and token ended");
        self.issue_token(user, TokenKind::Session).await
    }

    async fn store_new_password(&self, user: &User, password: &str) -> AppResult<()> {
        let password = password.to_string();
        let hash = self.with_hasher(move || hash_password(&password)).await??;
        self.forget_user_sessions(user.id);
        self.store.set_password(user.id, &hash, None).await?;
        self.forget_user_sessions(user.id);
        Ok(())
    }

    /// Starts a reset: when `email` belongs to an active account, mails it a
    /// link. The answer is the same either way (only a malformed address is
    /// refused), and the mail goes out in the background.
    pub async fn request_password_reset(&self, email: &str) -> AppResult<()> {
        let email = email.trim().to_lowercase();
        if email.is_empty() || email.len() > 254 || !email.contains('@') {
            return Err(AppError::field(
                "email",
                "A properly formatted e-mail is required.",
            ));
        }
        let user = match self.store.user_for_login(&email).await? {
            Some((u, _)) if u.email == email && u.is_active => u,
            _ => {
                tracing::info!("password reset asked for an address with no active account");
                return Ok(());
            }
        };
        let now = self.now();
        if self.store.count_password_resets(user.id, now).await? >= MAX_PENDING_RESETS {
            tracing::warn!(user = %user.username, "password reset refused: too many unused links");
            return Ok(());
        }
        let secret = new_secret();
        let site = self.settings.site_url.trim_end_matches('/');
        let link = format!("{site}/password_reset_confirm/{secret}/");
        let (text, html) = crate::mail_templates::password_reset(
            &user.name,
            &user.username,
            &link,
            self.settings.reset_ttl.num_hours().max(1),
        )?;
        let reset = PasswordReset {
            token_hash: secret_hash(&secret),
            user_id: user.id,
            expires_at: now + self.settings.reset_ttl,
            created_at: now,
        };
        let mail = NewMail {
            dedupe_key: format!("password_reset:{}", reset.token_hash),
            origin: "password_reset".into(),
            bulk_email_id: None,
            user_id: Some(user.id),
            course_key: None,
            recipient: user.email.clone(),
            subject: "Reset your password".into(),
            body_text: text,
            body_html: Some(html),
            message_id: new_message_id(&self.settings.site_url),
            unsubscribe_token: None,
            max_attempts: self.settings.mail.max_attempts,
        };
        self.store
            .insert_password_reset_with_mail(&reset, &mail)
            .await?;
        tracing::info!(user = %user.username, "password reset mail queued");
        self.jobs.wake.notify_waiters();
        Ok(())
    }

    /// The account a reset link belongs to, while the link still works.
    pub async fn reset_link_user(&self, secret: &str) -> AppResult<User> {
        let found = if secret.is_empty() || secret.len() > 200 {
            None
        } else {
            self.store
                .peek_password_reset(&secret_hash(secret), self.now())
                .await?
        };
        let user = match found {
            Some(id) => self.store.user_by_id(id).await?.filter(|u| u.is_active),
            None => None,
        };
        user.ok_or_else(|| AppError::Forbidden(LINK_GONE.into()))
    }

    /// Sets a new password through a reset link; the link is used up and
    /// every session and token of the account ends.
    pub async fn reset_password(&self, secret: &str, new: &str, confirm: &str) -> AppResult<User> {
        let user = self.reset_link_user(secret).await?;
        let errors = check_new_password(&user, new, confirm);
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let password = new.to_string();
        let hash = self.with_hasher(move || hash_password(&password)).await??;
        // Taking the link is the single-use guard: of two concurrent uses, one wins.
        match self
            .store
            .take_password_reset(&secret_hash(secret), self.now())
            .await?
        {
            Some(id) if id == user.id => {}
            _ => return Err(AppError::Forbidden(LINK_GONE.into())),
        }
        self.forget_user_sessions(user.id);
        self.store.set_password(user.id, &hash, None).await?;
        self.forget_user_sessions(user.id);
        tracing::info!(user = %user.username, "password reset; every session and token ended");
        Ok(user)
    }

    /// Revokes a bearer token given by whoever holds it (RFC 7009: the answer
    /// is the same whether or not the token was valid).
    pub async fn revoke_token(&self, secret: &str) -> AppResult<()> {
        if secret.is_empty() || secret.len() > 200 {
            return Ok(());
        }
        let hash = secret_hash(secret);
        self.forget_session(&hash);
        if let Some(token) = self.store.token(&hash, self.now()).await? {
            if token.kind == TokenKind::Bearer {
                self.store.delete_token(&hash).await?;
                self.forget_session(&hash);
            }
        }
        Ok(())
    }

    /// Ends every session and bearer token of the account.
    pub async fn sign_out_everywhere(&self, user: &User) -> AppResult<()> {
        self.forget_user_sessions(user.id);
        self.store.delete_user_tokens(user.id).await?;
        self.forget_user_sessions(user.id);
        tracing::info!(user = %user.username, "signed out everywhere");
        Ok(())
    }

    /// Ends every bearer token of the account; returns how many.
    pub async fn revoke_api_tokens(&self, user: &User) -> AppResult<u64> {
        // Forgets the user's cookie sessions on this node too; the next
        // request confirms them again.
        self.forget_user_sessions(user.id);
        let ended = self
            .store
            .delete_user_tokens_of_kind(user.id, TokenKind::Bearer)
            .await?;
        self.forget_user_sessions(user.id);
        Ok(ended)
    }
}

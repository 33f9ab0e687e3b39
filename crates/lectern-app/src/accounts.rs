//! Accounts: registration, sign-in, sessions, bearer tokens and the one-time
//! setup link that creates the first admin.

use std::collections::BTreeMap;

use crate::error::{AppError, AppResult};
use crate::model::{AuthToken, NewUser, TokenKind, User};
use crate::passwords::{hash_password, new_secret, secret_hash, verify_password, DUMMY_HASH};
use crate::Lectern;

/// What a person fills in to get an account.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Registration {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 1000;

/// Checks every field and reports all problems at once, keyed by field.
pub fn validate_registration(r: &Registration) -> Result<(), BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let username = r.username.trim();
    if username.len() < 2 || username.len() > 30 {
        errors.insert(
            "username".into(),
            "Username must be between 2 and 30 characters long.".into(),
        );
    } else if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        errors.insert(
            "username".into(),
            "Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores (_), and hyphens (-).".into(),
        );
    }
    let email = r.email.trim();
    let valid_email = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if !valid_email {
        errors.insert(
            "email".into(),
            "A properly formatted e-mail is required.".into(),
        );
    }
    if r.name.trim().is_empty() {
        errors.insert(
            "name".into(),
            "Your legal name must be a minimum of one character long.".into(),
        );
    } else if r.name.chars().count() > 255 {
        errors.insert(
            "name".into(),
            "Your name must be at most 255 characters long.".into(),
        );
    }
    if let Some(problem) = password_problem(&r.password, username) {
        errors.insert("password".into(), problem);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// What is wrong with a new password for `username`, if anything: the one
/// rule set for registration, password change and reset.
pub fn password_problem(password: &str, username: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        Some(format!(
            "This password is too short. It must contain at least {MIN_PASSWORD_LEN} characters."
        ))
    } else if password.len() > MAX_PASSWORD_LEN {
        Some("This password is too long.".into())
    } else if password.eq_ignore_ascii_case(username.trim()) {
        Some("The password is too similar to the username.".into())
    } else {
        None
    }
}

/// A new secret handed to the client once; the store only keeps its hash.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub secret: String,
    pub expires_in_seconds: i64,
}

impl Lectern {
    /// Registers a learner account.
    pub async fn register(&self, r: &Registration) -> AppResult<User> {
        self.create_account(r, false).await
    }

    /// Creates an account, optionally a site admin (used by `lectern user create`).
    /// Refused at the site's account limit, except the first admin of a
    /// site that has none (`site_limits.rs`).
    pub async fn create_account(&self, r: &Registration, admin: bool) -> AppResult<User> {
        let first_admin = admin && !self.has_admin().await?;
        // Once before the password's hash (a full site costs no hashing),
        // and again under the gate just before the write.
        drop(self.admit_new_account(first_admin).await?);
        let new = self.new_user(r, admin).await?;
        let permit = self.admit_new_account(first_admin).await?;
        let user = self.store.create_user(&new).await?;
        drop(permit);
        tracing::info!(user = %user.username, admin, "account created");
        Ok(user)
    }

    /// A validated registration with its password hashed, ready to store.
    async fn new_user(&self, r: &Registration, admin: bool) -> AppResult<NewUser> {
        if let Err(field_errors) = validate_registration(r) {
            return Err(AppError::Invalid {
                message: "Please correct the marked fields.".into(),
                field_errors,
            });
        }
        let password = r.password.clone();
        let password_hash = self.with_hasher(move || hash_password(&password)).await??;
        Ok(NewUser {
            username: r.username.trim().to_string(),
            email: r.email.trim().to_lowercase(),
            name: r.name.trim().to_string(),
            password_hash,
            is_admin: admin,
            is_course_creator: admin,
        })
    }

    /// Checks a username (or e-mail) and password. The same message for an
    /// unknown user and a wrong password, and the same time spent on both.
    pub async fn check_credentials(&self, login: &str, password: &str) -> AppResult<User> {
        let found = self.store.user_for_login(login.trim()).await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), h),
            None => (None, DUMMY_HASH.to_string()),
        };
        let password = password.to_string();
        let ok = self
            .with_hasher(move || verify_password(&password, &hash))
            .await?;
        match user {
            Some(u) if ok && u.is_active => Ok(u),
            Some(u) if ok && !u.is_active => Err(AppError::Forbidden(
                "This account has been deactivated.".into(),
            )),
            _ => Err(AppError::invalid("Email or password is incorrect.")),
        }
    }

    /// Signs in and opens a session; returns the user and the session secret.
    pub async fn login(&self, login: &str, password: &str) -> AppResult<(User, IssuedToken)> {
        let user = self.check_credentials(login, password).await?;
        let token = self.issue_token(&user, TokenKind::Session).await?;
        Ok((user, token))
    }

    /// `grant_type=password`: a bearer token for API clients.
    pub async fn access_token(
        &self,
        login: &str,
        password: &str,
    ) -> AppResult<(User, IssuedToken)> {
        let user = self.check_credentials(login, password).await?;
        let token = self.issue_token(&user, TokenKind::Bearer).await?;
        Ok((user, token))
    }

    pub(crate) async fn issue_token(&self, user: &User, kind: TokenKind) -> AppResult<IssuedToken> {
        let ttl = match kind {
            TokenKind::Session => self.settings.session_ttl,
            TokenKind::Bearer => self.settings.bearer_ttl,
            TokenKind::Setup => self.settings.setup_ttl,
        };
        let secret = new_secret();
        let token = AuthToken {
            token_hash: secret_hash(&secret),
            user_id: user.id,
            kind,
            expires_at: self.now() + ttl,
        };
        self.store.insert_token(&token).await?;
        Ok(IssuedToken {
            secret,
            expires_in_seconds: ttl.num_seconds(),
        })
    }

    /// The active user a session or bearer secret belongs to, if it is valid.
    pub async fn authenticate(&self, secret: &str, kind: TokenKind) -> AppResult<Option<User>> {
        if secret.is_empty() || secret.len() > 200 {
            return Ok(None);
        }
        // While the database is unreachable, a session this node saw
        // recently still counts (`recall.rs`).
        self.session_user(&secret_hash(secret), kind).await
    }

    pub async fn logout(&self, session_secret: &str) -> AppResult<()> {
        let hash = secret_hash(session_secret);
        self.forget_session(&hash);
        self.store.delete_token(&hash).await?;
        // Again after the delete: a request that read the token before it
        // must not have left it behind (see `sessions.rs`).
        self.forget_session(&hash);
        Ok(())
    }

    /// On a site with no admin, the site's one setup secret (to print as a
    /// link): kept in the database, so every node prints the same link and
    /// any of them accepts it; a new one only once it has expired. `None`
    /// once an admin exists.
    pub async fn setup_secret(&self) -> AppResult<Option<String>> {
        if self.store.count_admins().await? > 0 {
            return Ok(None);
        }
        let now = self.now();
        let secret = self
            .store
            .setup_link(&new_secret(), now + self.settings.setup_ttl, now)
            .await?;
        Ok(Some(secret))
    }

    /// Whether a setup secret may still be used.
    pub async fn setup_secret_valid(&self, secret: &str) -> AppResult<bool> {
        if secret.is_empty() || secret.len() > 200 || self.store.count_admins().await? > 0 {
            return Ok(false);
        }
        Ok(self.store.setup_link_valid(secret, self.now()).await?)
    }

    /// Creates the first admin through the setup link; the link then stops
    /// working. Using up the link, checking that no admin exists and creating
    /// the account are one transaction: of two people completing setup at
    /// once (on one node or two), one becomes admin and the other is told
    /// the link was used.
    pub async fn complete_setup(&self, secret: &str, r: &Registration) -> AppResult<User> {
        let used =
            || AppError::Forbidden("This setup link has expired or was already used.".into());
        if !self.setup_secret_valid(secret).await? {
            return Err(used());
        }
        let new = self.new_user(r, true).await?;
        let user = self
            .store
            .complete_setup(secret, &new, self.now())
            .await?
            .ok_or_else(used)?;
        tracing::info!(user = %user.username, "first admin created through the setup link");
        Ok(user)
    }

    pub async fn user_by_username(&self, username: &str) -> AppResult<User> {
        self.store
            .user_by_username(username)
            .await?
            .ok_or_else(|| AppError::not_found(format!("user {username}")))
    }
}

impl Lectern {
    /// Removes expired sessions and tokens; returns how many.
    pub async fn delete_expired_tokens(&self) -> AppResult<u64> {
        Ok(self.store.delete_expired_tokens(self.now()).await?)
    }
}

impl Lectern {
    /// Whether an active site administrator exists.
    pub async fn has_admin(&self) -> AppResult<bool> {
        Ok(self.store.count_admins().await? > 0)
    }
}

/// Password hashes running at once. Each Argon2 hash takes 19 MiB and most of
/// a core: a burst of sign-ins waits its turn instead of exhausting a small VM.
pub const CONCURRENT_HASHES: usize = 2;

impl Lectern {
    /// Runs a password hash or check on a blocking thread, at most
    /// [`CONCURRENT_HASHES`] at a time.
    pub(crate) async fn with_hasher<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    }
}

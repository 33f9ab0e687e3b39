//! The session cache: which user a session cookie or bearer token belongs
//! to, and whether that user may open Studio, kept for a few seconds.
//!
//! Every signed-in page and API call starts by resolving its token (two
//! statements: the token, then its user) and every page's header asks
//! whether the user may use Studio (one more). Those three statements were
//! the largest per-request cost left after the unit page's own reads
//! (bench/README.md, "Issue 18", second pass), so each confirmed answer is
//! kept here for [`crate::AppSettings::session_cache_ttl`] (5 s by default,
//! `session_cache_secs` in the configuration; 0 turns the cache off).
//!
//! The bound on staleness: a revocation made through **this** node (sign
//! out, password change or reset, sign out everywhere, token revocation, an
//! admin deactivating or changing an account, a team role granted) evicts
//! at once; one made through **another** node (or straight in the
//! database) takes effect here within the TTL, when the entry is read from
//! the database again. A revocation bumps a generation number, so an
//! answer read from the database before the revocation is never stored
//! after it. Token expiry is checked on every hit against the app's clock.
//! The map holds at most [`MAX_ENTRIES`] sessions and as many Studio
//! answers; when full of fresh entries, new answers are simply not kept.
//!
//! This is not the outage memory (`recall.rs`), which keeps answers for 15
//! minutes but uses them only while the database is unreachable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::model::{TokenKind, User, UserId};
use crate::Lectern;

/// At most this many sessions (and as many Studio answers) per node.
pub const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
struct Entry {
    user: User,
    kind: TokenKind,
    expires_at: DateTime<Utc>,
    fetched: Instant,
}

#[derive(Default)]
struct Maps {
    /// By SHA-256 of the secret, never the secret itself.
    sessions: HashMap<String, Entry>,
    studio: HashMap<UserId, (bool, Instant)>,
    /// Bumped by every eviction: answers read before it are not stored.
    generation: u64,
}

/// A bounded, short-lived map of confirmed sessions.
pub struct SessionCache {
    ttl: Duration,
    capacity: usize,
    maps: Mutex<Maps>,
}

/// What a caller saw before asking the database; handed back to `put`.
#[derive(Clone, Copy)]
pub struct Generation(u64);

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, MAX_ENTRIES)
    }

    fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            maps: Mutex::new(Maps::default()),
        }
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, fetched: Instant, now: Instant) -> bool {
        now.saturating_duration_since(fetched) < self.ttl
    }

    /// The generation to hand to `put_session`/`put_studio` after reading.
    pub fn generation(&self) -> Generation {
        Generation(self.maps().generation)
    }

    /// The user of a session confirmed less than the TTL ago, if its token
    /// has not expired by `now` (the app's clock).
    pub fn session(&self, hash: &str, kind: TokenKind, now: DateTime<Utc>) -> Option<User> {
        let maps = self.maps();
        let e = maps.sessions.get(hash)?;
        (e.kind == kind && e.expires_at > now && self.fresh(e.fetched, Instant::now()))
            .then(|| e.user.clone())
    }

    /// Keeps a session the database confirmed, unless something was
    /// revoked since `seen` was taken.
    pub fn put_session(
        &self,
        seen: Generation,
        hash: &str,
        user: &User,
        kind: TokenKind,
        expires_at: DateTime<Utc>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut maps = self.maps();
        if maps.generation != seen.0 {
            return;
        }
        if !maps.sessions.contains_key(hash) && maps.sessions.len() >= self.capacity {
            maps.sessions
                .retain(|_, e| now.saturating_duration_since(e.fetched) < self.ttl);
            if maps.sessions.len() >= self.capacity {
                return;
            }
        }
        let entry = Entry {
            user: user.clone(),
            kind,
            expires_at,
            fetched: now,
        };
        maps.sessions.insert(hash.to_string(), entry);
    }

    /// Whether `user` may use Studio, as confirmed less than the TTL ago.
    pub fn studio(&self, user: UserId) -> Option<bool> {
        let maps = self.maps();
        let (may, fetched) = maps.studio.get(&user)?;
        self.fresh(*fetched, Instant::now()).then_some(*may)
    }

    pub fn put_studio(&self, seen: Generation, user: UserId, may: bool) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut maps = self.maps();
        if maps.generation != seen.0 {
            return;
        }
        if !maps.studio.contains_key(&user) && maps.studio.len() >= self.capacity {
            maps.studio
                .retain(|_, (_, f)| now.saturating_duration_since(*f) < self.ttl);
            if maps.studio.len() >= self.capacity {
                return;
            }
        }
        maps.studio.insert(user, (may, now));
    }

    /// Forgets one session (signed out or revoked on this node).
    pub fn forget_session(&self, hash: &str) {
        let mut maps = self.maps();
        maps.generation += 1;
        maps.sessions.remove(hash);
    }

    /// Drops a session the database no longer knows, without counting as a
    /// revocation (a stream of unknown cookies must not keep other answers
    /// from being cached).
    pub fn drop_session(&self, hash: &str) {
        self.maps().sessions.remove(hash);
    }

    /// Forgets every session of a user and their Studio answer (password
    /// changed, signed out everywhere, account changed by an admin, a team
    /// role granted).
    pub fn forget_user(&self, user: UserId) {
        let mut maps = self.maps();
        maps.generation += 1;
        maps.sessions.retain(|_, e| e.user.id != user);
        maps.studio.remove(&user);
    }

    /// How many sessions are kept (fresh or not yet swept).
    pub fn len(&self) -> usize {
        self.maps().sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Lectern {
    /// Forgets a session on this node, in the cache and the outage memory.
    pub(crate) fn forget_session(&self, hash: &str) {
        self.sessions.forget_session(hash);
        self.recall.forget_session(hash);
    }

    /// Forgets every session of a user on this node (cache and outage
    /// memory), and their Studio answer.
    pub(crate) fn forget_user_sessions(&self, user: UserId) {
        self.sessions.forget_user(user);
        self.recall.forget_user(user);
    }

    /// Forgets what this node cached about a user's account (flags, name,
    /// Studio) without touching the outage memory: their next request reads
    /// the account again.
    pub(crate) fn forget_cached_user(&self, user: UserId) {
        self.sessions.forget_user(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: UserId) -> User {
        User {
            id,
            username: format!("u{id}"),
            email: format!("u{id}@example.org"),
            name: "U".into(),
            is_admin: false,
            is_course_creator: false,
            is_active: true,
            // Fixed, so two calls make equal users.
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::hours(1)
    }

    #[test]
    fn a_session_is_kept_for_the_ttl_and_no_longer() {
        // Long enough that a loaded machine still reads it back in time.
        let c = SessionCache::new(Duration::from_millis(500));
        let g = c.generation();
        c.put_session(g, "h", &user(1), TokenKind::Session, later());
        assert_eq!(
            c.session("h", TokenKind::Session, Utc::now()),
            Some(user(1))
        );
        assert_eq!(c.session("h", TokenKind::Bearer, Utc::now()), None, "kind");
        assert_eq!(
            c.session("h", TokenKind::Session, later()),
            None,
            "expired token"
        );
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(
            c.session("h", TokenKind::Session, Utc::now()),
            None,
            "stale"
        );
    }

    #[test]
    fn an_answer_read_before_a_revocation_is_not_kept_after_it() {
        let c = SessionCache::new(Duration::from_secs(60));
        let before = c.generation();
        c.forget_session("h");
        c.put_session(before, "h", &user(1), TokenKind::Session, later());
        c.put_studio(before, 1, true);
        assert_eq!(c.session("h", TokenKind::Session, Utc::now()), None);
        assert_eq!(c.studio(1), None);
        let after = c.generation();
        c.put_session(after, "h", &user(1), TokenKind::Session, later());
        c.put_studio(after, 1, true);
        assert!(c.session("h", TokenKind::Session, Utc::now()).is_some());
        c.forget_user(1);
        assert_eq!(c.session("h", TokenKind::Session, Utc::now()), None);
        assert_eq!(c.studio(1), None);
        // An unknown cookie dropped is no revocation: answers read before
        // it are still kept.
        let before = c.generation();
        c.drop_session("unknown");
        c.put_session(before, "h", &user(1), TokenKind::Session, later());
        assert!(c.session("h", TokenKind::Session, Utc::now()).is_some());
    }

    #[test]
    fn the_cache_is_bounded_and_a_zero_ttl_keeps_nothing() {
        let c = SessionCache::with_capacity(Duration::from_secs(60), 2);
        for i in 0..5 {
            let g = c.generation();
            c.put_session(g, &format!("h{i}"), &user(i), TokenKind::Session, later());
            c.put_studio(g, i, false);
        }
        assert_eq!(c.len(), 2);
        assert_eq!(c.maps().studio.len(), 2);
        let off = SessionCache::new(Duration::ZERO);
        off.put_session(off.generation(), "h", &user(1), TokenKind::Session, later());
        off.put_studio(off.generation(), 1, true);
        assert!(off.is_empty());
        assert_eq!(off.studio(1), None);
    }
}

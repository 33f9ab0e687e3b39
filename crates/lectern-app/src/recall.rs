//! What this node saw recently, so that published courses can still be read
//! while the database cannot be reached.
//!
//! Every time the database confirms a fact a learner's reading depends on
//! (this session or bearer token belongs to this active user; this course's
//! newest published version is this publish id; this user is or is not
//! enrolled; this user is or is not on the course's team), the answer is
//! kept here with the moment it was confirmed. The answers are used **only**
//! when the store reports the database unreachable (`StoreError::Unavailable`):
//! while it answers, every request asks it, so a revoked session or a
//! removed enrolment takes effect at once. Answers older than [`WINDOW`] are
//! never used, and each kind of fact is bounded in number; what is not
//! remembered is answered with a 503.
//!
//! Parsed course versions themselves stay in `cache.rs` (keyed by publish
//! id); this module remembers which publish id is the newest.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use lectern_content::CourseKey;

use crate::error::{AppError, AppResult, StoreError};
use crate::model::{CourseRecord, Enrollment, TokenKind, User, UserId};
use crate::Lectern;

/// How long a confirmed fact may stand in for the database.
pub const WINDOW: Duration = Duration::minutes(15);
/// At most this many sessions and bearer tokens are remembered per node.
pub const MAX_SESSIONS: usize = 10_000;
/// At most this many courses' newest versions are remembered.
pub const MAX_COURSES: usize = 1_000;
/// At most this many (user, course) enrolments, and as many team roles.
pub const MAX_FACTS: usize = 20_000;

/// A bounded map of facts with the moment each was confirmed.
struct Memo<K, V> {
    capacity: usize,
    map: HashMap<K, (V, DateTime<Utc>)>,
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
        }
    }

    fn put(&mut self, key: K, value: V, now: DateTime<Utc>) {
        if !self.map.contains_key(&key) && self.map.len() >= self.capacity {
            self.map.retain(|_, (_, seen)| now - *seen <= WINDOW);
            if self.map.len() >= self.capacity {
                let oldest = self
                    .map
                    .iter()
                    .min_by_key(|(_, (_, seen))| *seen)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.map.remove(&k);
                }
            }
        }
        self.map.insert(key, (value, now));
    }

    fn get(&self, key: &K, now: DateTime<Utc>) -> Option<V> {
        self.map
            .get(key)
            .filter(|(_, seen)| now - *seen <= WINDOW)
            .map(|(v, _)| v.clone())
    }

    fn forget(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn forget_where(&mut self, mut drop: impl FnMut(&K, &V) -> bool) {
        self.map.retain(|k, (v, _)| !drop(k, v));
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// A session or bearer token the database confirmed.
#[derive(Clone)]
struct Session {
    user: User,
    kind: TokenKind,
    expires_at: DateTime<Utc>,
}

/// The node's memory of recently confirmed facts.
pub struct Recall {
    /// By SHA-256 of the secret, never the secret itself.
    sessions: Mutex<Memo<String, Session>>,
    courses: Mutex<Memo<CourseKey, CourseRecord>>,
    enrollments: Mutex<Memo<(UserId, CourseKey), Option<Enrollment>>>,
    roles: Mutex<Memo<(UserId, CourseKey), bool>>,
}

impl Default for Recall {
    fn default() -> Self {
        Self {
            sessions: Mutex::new(Memo::new(MAX_SESSIONS)),
            courses: Mutex::new(Memo::new(MAX_COURSES)),
            enrollments: Mutex::new(Memo::new(MAX_FACTS)),
            roles: Mutex::new(Memo::new(MAX_FACTS)),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recall {
    fn session(&self, hash: &str, kind: TokenKind, now: DateTime<Utc>) -> Option<User> {
        lock(&self.sessions)
            .get(&hash.to_string(), now)
            .filter(|s| s.kind == kind && s.expires_at > now)
            .map(|s| s.user)
    }

    /// Forgets one session (signed out on this node).
    pub fn forget_session(&self, hash: &str) {
        lock(&self.sessions).forget(&hash.to_string());
    }

    /// Forgets every session and token of a user (signed out everywhere).
    pub fn forget_user(&self, user: UserId) {
        lock(&self.sessions).forget_where(|_, s| s.user.id == user);
    }

    /// How many sessions this node could still honour.
    pub fn sessions(&self) -> usize {
        lock(&self.sessions).len()
    }
}

/// What a courseware page needs of one course and one reader.
pub(crate) struct CoursewareFacts {
    pub(crate) record: CourseRecord,
    /// Whether the reader has a role on the course's team.
    pub(crate) on_team: bool,
    /// The reader's enrolment, active or not.
    pub(crate) enrollment: Option<Enrollment>,
}

/// The remembered answer during an outage, or the outage as the error.
fn or_recalled<T>(found: Option<T>, reason: String) -> AppResult<T> {
    found.ok_or(AppError::Unavailable(reason))
}

impl Lectern {
    /// The node's memory of recent facts (for health and sign-out).
    pub fn recall(&self) -> &Recall {
        &self.recall
    }

    /// The active user a secret's hash belongs to: from the database, or
    /// from memory while the database is unreachable.
    pub(crate) async fn session_user(
        &self,
        hash: &str,
        kind: TokenKind,
    ) -> AppResult<Option<User>> {
        let now = self.now();
        if let Some(user) = self.sessions.session(hash, kind, now) {
            return Ok(Some(user));
        }
        let seen = self.sessions.generation();
        let asked = self
            .guarded(async {
                let Some(token) = self.store.token(hash, now).await? else {
                    return Ok(None);
                };
                if token.kind != kind {
                    return Ok(None);
                }
                let user = self.store.user_by_id(token.user_id).await?;
                Ok(user.filter(|u| u.is_active).map(|u| (u, token.expires_at)))
            })
            .await;
        match asked {
            Ok(Some((user, expires_at))) => {
                let session = Session {
                    user: user.clone(),
                    kind,
                    expires_at,
                };
                lock(&self.recall.sessions).put(hash.to_string(), session, now);
                self.sessions
                    .put_session(seen, hash, &user, kind, expires_at);
                Ok(Some(user))
            }
            Ok(None) => {
                self.sessions.drop_session(hash);
                self.recall.forget_session(hash);
                Ok(None)
            }
            Err(StoreError::Unavailable(reason)) => {
                or_recalled(self.recall.session(hash, kind, now), reason).map(Some)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A course's record (its newest published version and publish id).
    pub(crate) async fn course_record(&self, key: &CourseKey) -> AppResult<Option<CourseRecord>> {
        let now = self.now();
        match self.guarded(self.store.course(key)).await {
            Ok(Some(record)) => {
                lock(&self.recall.courses).put(key.clone(), record.clone(), now);
                Ok(Some(record))
            }
            Ok(None) => {
                lock(&self.recall.courses).forget(key);
                Ok(None)
            }
            Err(StoreError::Unavailable(reason)) => {
                or_recalled(lock(&self.recall.courses).get(key, now), reason).map(Some)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A course's record with whether `user` sees it as its team does and
    /// their enrolment (active or not), in one read
    /// (`PageStore::courseware_access`). Each fact is remembered as the
    /// single reads above remember it; during an outage the answer comes
    /// from memory, needing only the facts the single reads would have
    /// needed (no role for an admin, no enrolment for the team).
    pub(crate) async fn courseware_facts(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<Option<CoursewareFacts>> {
        let now = self.now();
        let fact = (user.id, key.clone());
        match self
            .guarded(self.store.courseware_access(key, user.id))
            .await
        {
            Ok(Some(a)) => {
                lock(&self.recall.courses).put(key.clone(), a.record.clone(), now);
                lock(&self.recall.roles).put(fact.clone(), a.role.is_some(), now);
                lock(&self.recall.enrollments).put(fact, a.enrollment.clone(), now);
                Ok(Some(CoursewareFacts {
                    record: a.record,
                    on_team: a.role.is_some(),
                    enrollment: a.enrollment,
                }))
            }
            Ok(None) => {
                lock(&self.recall.courses).forget(key);
                Ok(None)
            }
            Err(StoreError::Unavailable(reason)) => {
                let record = or_recalled(lock(&self.recall.courses).get(key, now), reason.clone())?;
                let on_team = if user.is_admin {
                    false
                } else {
                    or_recalled(lock(&self.recall.roles).get(&fact, now), reason.clone())?
                };
                let enrollment = if user.is_admin || on_team {
                    None
                } else {
                    or_recalled(lock(&self.recall.enrollments).get(&fact, now), reason)?
                };
                Ok(Some(CoursewareFacts {
                    record,
                    on_team,
                    enrollment,
                }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A user's enrolment in a course, active or not.
    pub(crate) async fn enrollment_record(
        &self,
        user: UserId,
        key: &CourseKey,
    ) -> AppResult<Option<Enrollment>> {
        let now = self.now();
        let fact = (user, key.clone());
        match self.guarded(self.store.enrollment(user, key)).await {
            Ok(found) => {
                lock(&self.recall.enrollments).put(fact, found.clone(), now);
                Ok(found)
            }
            Err(StoreError::Unavailable(reason)) => {
                or_recalled(lock(&self.recall.enrollments).get(&fact, now), reason)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a user has a role on a course's team.
    pub(crate) async fn has_course_role(&self, user: UserId, key: &CourseKey) -> AppResult<bool> {
        let now = self.now();
        let fact = (user, key.clone());
        match self.guarded(self.store.course_role(key, user)).await {
            Ok(found) => {
                lock(&self.recall.roles).put(fact, found.is_some(), now);
                Ok(found.is_some())
            }
            Err(StoreError::Unavailable(reason)) => {
                or_recalled(lock(&self.recall.roles).get(&fact, now), reason)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn a_fact_stands_for_the_window_and_no_longer() {
        let mut m: Memo<&str, u32> = Memo::new(10);
        m.put("a", 1, at(0));
        assert_eq!(m.get(&"a", at(15)), Some(1));
        assert_eq!(m.get(&"a", at(16)), None, "older than the window");
        m.put("a", 2, at(16));
        assert_eq!(m.get(&"a", at(30)), Some(2), "confirmed again, fresh again");
        m.forget(&"a");
        assert_eq!(m.get(&"a", at(30)), None);
    }

    #[test]
    fn the_memory_is_bounded_and_drops_the_stalest_first() {
        let mut m: Memo<u32, u32> = Memo::new(3);
        for i in 0..3 {
            m.put(i, i, at(i64::from(i)));
        }
        // Full of fresh facts: the least recently confirmed goes.
        m.put(10, 10, at(5));
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(&0, at(5)), None);
        assert_eq!(m.get(&1, at(5)), Some(1));
        // Facts past the window go first, all of them.
        m.put(11, 11, at(40));
        assert_eq!(m.len(), 1);
        assert_eq!(m.get(&11, at(40)), Some(11));
        // Confirming a known fact never evicts another.
        let mut m: Memo<u32, u32> = Memo::new(1);
        m.put(1, 1, at(0));
        m.put(1, 2, at(1));
        assert_eq!(m.get(&1, at(1)), Some(2));
    }

    #[test]
    fn a_session_needs_its_kind_an_unexpired_token_and_a_recent_confirmation() {
        let r = Recall::default();
        let user = User {
            id: 7,
            username: "ada".into(),
            email: "ada@example.org".into(),
            name: "Ada".into(),
            is_admin: false,
            is_course_creator: false,
            is_active: true,
            created_at: at(0),
        };
        let session = Session {
            user: user.clone(),
            kind: TokenKind::Session,
            expires_at: at(10),
        };
        lock(&r.sessions).put("h".into(), session, at(0));
        assert_eq!(r.session("h", TokenKind::Session, at(1)), Some(user));
        assert_eq!(
            r.session("h", TokenKind::Bearer, at(1)),
            None,
            "a cookie is not a bearer token"
        );
        assert_eq!(r.session("h", TokenKind::Session, at(10)), None, "expired");
        assert_eq!(r.session("x", TokenKind::Session, at(1)), None);
        r.forget_user(7);
        assert_eq!(r.session("h", TokenKind::Session, at(1)), None);
        assert_eq!(r.sessions(), 0);
    }
}

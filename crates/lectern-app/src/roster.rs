//! Enrolments seen from the staff side, as Open edX's enrollment API offers
//! them: every enrolment of a course, newest first, in pages linked by
//! opaque cursors (a page boundary is the last row's position, so pages stay
//! consistent while learners keep enrolling); and enrolling with a mode, or
//! on someone else's behalf.

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::idempotency::{from_answer, to_answer, IdempotencyKey, KeyClaim, Keyed, Start};
use crate::model::{Enrollment, User, UserId};
use crate::Lectern;

/// The operation name in a keyed enrolment's fingerprint.
const ENROLLMENT_OPERATION: &str = "enrollment";

/// What a keyed enrolment change stores as its answer.
#[derive(Serialize, Deserialize)]
struct StoredEnrollment {
    enrollment: Enrollment,
    username: String,
}

/// The modes a learner can enrol in (no paid tracks yet).
pub const COURSE_MODES: &[&str] = &["audit"];
/// Open edX's page size for this list, and the most a caller may ask for.
pub const ROSTER_PAGE_SIZE: usize = 100;
/// Open edX's limit on usernames in one request.
pub const MAX_USERNAMES: usize = 100;

/// A row's position in the newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterPosition {
    pub created_at: DateTime<Utc>,
    pub user_id: UserId,
    pub course_key: String,
}

/// Which way to read from a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Older rows than the position (the next page).
    Older,
    /// Newer rows than the position (the previous page), nearest first.
    Newer,
}

/// What the store should read.
#[derive(Debug, Clone)]
pub struct EnrollmentQuery {
    pub course: Option<CourseKey>,
    /// Lower-cased usernames; empty means everyone.
    pub usernames: Vec<String>,
    pub from: Option<(RosterPosition, Direction)>,
    pub limit: usize,
}

/// One page and the cursors around it.
#[derive(Debug, Clone)]
pub struct RosterPage {
    pub items: Vec<(Enrollment, String)>,
    pub next: Option<String>,
    pub previous: Option<String>,
}

fn encode_cursor(p: &RosterPosition, d: Direction) -> String {
    let dir = match d {
        Direction::Older => 'o',
        Direction::Newer => 'n',
    };
    let raw = format!(
        "{dir}|{}|{}|{}",
        p.created_at.timestamp_millis(),
        p.user_id,
        p.course_key
    );
    hex::encode(raw)
}

fn decode_cursor(cursor: &str) -> Option<(RosterPosition, Direction)> {
    if cursor.len() > 1000 {
        return None;
    }
    let raw = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let mut parts = raw.splitn(4, '|');
    let dir = match parts.next()? {
        "o" => Direction::Older,
        "n" => Direction::Newer,
        _ => return None,
    };
    let created_at = DateTime::from_timestamp_millis(parts.next()?.parse().ok()?)?;
    let user_id = parts.next()?.parse().ok()?;
    let course_key = parts.next()?.to_string();
    Some((
        RosterPosition {
            created_at,
            user_id,
            course_key,
        },
        dir,
    ))
}

fn position(e: &Enrollment) -> RosterPosition {
    RosterPosition {
        created_at: e.created_at,
        user_id: e.user_id,
        course_key: e.course_key.to_string(),
    }
}

impl Lectern {
    /// A page of enrolments for site staff (any course) or a course's team
    /// (their course, named by `course`). `usernames` narrows the list.
    pub async fn enrollment_roster(
        &self,
        viewer: &User,
        course: Option<CourseKey>,
        usernames: &[String],
        cursor: Option<&str>,
        page_size: Option<usize>,
    ) -> AppResult<RosterPage> {
        let allowed = match &course {
            _ if viewer.is_admin => true,
            Some(key) => self.is_course_author(viewer, key).await?,
            None => false,
        };
        if !allowed {
            return Err(AppError::Forbidden(
                "Only site staff, or a course's team for its own course, may list enrollments."
                    .into(),
            ));
        }
        if usernames.len() > MAX_USERNAMES {
            return Err(AppError::field(
                "username",
                format!(
                    "Too many usernames in a single request - {}. A maximum of {MAX_USERNAMES} is allowed",
                    usernames.len()
                ),
            ));
        }
        let from = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => {
                Some(decode_cursor(c).ok_or_else(|| AppError::field("cursor", "Invalid cursor"))?)
            }
            None => None,
        };
        let limit = page_size
            .unwrap_or(ROSTER_PAGE_SIZE)
            .clamp(1, ROSTER_PAGE_SIZE);
        let backwards = matches!(from, Some((_, Direction::Newer)));
        let query = EnrollmentQuery {
            course,
            usernames: usernames.iter().map(|u| u.trim().to_lowercase()).collect(),
            from: from.clone(),
            limit: limit + 1,
        };
        let mut items = self.store.list_enrollments(&query).await?;
        let more = items.len() > limit;
        items.truncate(limit);
        if backwards {
            items.reverse();
        }
        let first = items.first().map(|(e, _)| position(e));
        let last = items.last().map(|(e, _)| position(e));
        // Going back, there is always a next page (the one we came from);
        // going forward, there is a previous one whenever we started from a cursor.
        let (has_next, has_previous) = if backwards {
            (true, more)
        } else {
            (more, from.is_some())
        };
        Ok(RosterPage {
            next: last
                .filter(|_| has_next)
                .map(|p| encode_cursor(&p, Direction::Older)),
            previous: first
                .filter(|_| has_previous)
                .map(|p| encode_cursor(&p, Direction::Newer)),
            items,
        })
    }

    /// Enrols `target` (the caller unless named; naming someone else needs
    /// site staff or the course's team) in `mode` (`audit`), or unenrols
    /// when `active` is false. Returns the enrolment and its username.
    pub async fn change_enrollment(
        &self,
        viewer: &User,
        target: Option<&str>,
        key: &CourseKey,
        mode: Option<&str>,
        active: bool,
    ) -> AppResult<(Enrollment, String)> {
        self.change_enrollment_keyed(viewer, target, key, mode, active, None)
            .await
    }

    /// [`Self::change_enrollment`] under the viewer's `Idempotency-Key`: the
    /// request is named by the course, the enrolled user, the mode and
    /// `active`; a retry answers with the enrolment the first one made.
    pub async fn change_enrollment_keyed(
        &self,
        viewer: &User,
        target: Option<&str>,
        key: &CourseKey,
        mode: Option<&str>,
        active: bool,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<(Enrollment, String)> {
        if let Some(m) = mode.filter(|m| !m.is_empty()) {
            if !COURSE_MODES.contains(&m) {
                return Err(AppError::field(
                    "mode",
                    format!(
                        "The [{m}] course mode is not available for course run [{key}]; it offers: {}.",
                        COURSE_MODES.join(", ")
                    ),
                ));
            }
        }
        let user = match target.map(str::trim).filter(|t| !t.is_empty()) {
            Some(name) if !name.eq_ignore_ascii_case(&viewer.username) => {
                if !self.is_course_author(viewer, key).await? {
                    return Err(AppError::Forbidden(
                        "Only site staff or the course's team may enroll someone else.".into(),
                    ));
                }
                self.store
                    .user_by_username(name)
                    .await?
                    .ok_or_else(|| AppError::field("user", format!("There is no user {name}.")))?
            }
            _ => viewer.clone(),
        };
        let (course, user_id) = (key.to_string(), user.id.to_string());
        let mode_name = mode.filter(|m| !m.is_empty()).unwrap_or("audit");
        let parts = [
            course.as_str(),
            user_id.as_str(),
            mode_name,
            if active { "active" } else { "inactive" },
        ];
        let claim = match self
            .start_keyed(viewer.id, idem, ENROLLMENT_OPERATION, &parts)
            .await?
        {
            Start::Replayed(answer) => {
                let stored: StoredEnrollment = from_answer(answer)?;
                return Ok((stored.enrollment, stored.username));
            }
            Start::Fresh(claim) => claim,
        };
        if let Some(claim) = &claim {
            return self
                .change_enrollment_claimed(&user, key, active, claim)
                .await;
        }
        if active {
            let e = self.enroll(&user, key).await?;
            return Ok((e, user.username));
        }
        self.published_course(key).await?;
        self.unenroll(&user, key).await?;
        let e = self
            .store
            .enrollment(user.id, key)
            .await?
            .ok_or_else(|| AppError::not_found(format!("enrollment in {key}")))?;
        Ok((e, user.username))
    }

    /// The write of a keyed enrolment change: the enrolment and its stored
    /// answer in one transaction.
    async fn change_enrollment_claimed(
        &self,
        user: &User,
        key: &CourseKey,
        active: bool,
        claim: &KeyClaim,
    ) -> AppResult<(Enrollment, String)> {
        if active {
            self.check_enrollment_open(user, key).await?;
        } else {
            self.published_course(key).await?;
        }
        let was_active = self.enrollment(user, key).await?.is_some();
        let username = user.username.clone();
        let answer = |e: &Enrollment| {
            to_answer(&StoredEnrollment {
                enrollment: e.clone(),
                username: username.clone(),
            })
        };
        let keyed = Keyed {
            claim,
            answer: &answer,
        };
        let written = self
            .store
            .enroll_keyed(user.id, key, "audit", active, self.now(), keyed)
            .await;
        match written {
            Ok(Some(e)) => {
                tracing::info!(user = %user.username, course = %key, active, "enrollment changed");
                if was_active != active {
                    self.track_enrollment(user, key, &e.mode, active);
                    if active {
                        self.cohort_after_enrolment(user, key).await;
                    }
                }
                Ok((e, user.username.clone()))
            }
            Ok(None) => Err(AppError::not_found(format!("enrollment in {key}"))),
            Err(e) => {
                let stored: StoredEnrollment = self.on_clash(Some(claim), e).await?;
                Ok((stored.enrollment, stored.username))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let p = RosterPosition {
            created_at: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
            user_id: 42,
            course_key: "course-v1:A+B+C".into(),
        };
        let c = encode_cursor(&p, Direction::Newer);
        assert_eq!(decode_cursor(&c), Some((p, Direction::Newer)));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor(&hex::encode("x|1|2|k")), None);
        assert_eq!(decode_cursor(&"a".repeat(2000)), None);
    }
}

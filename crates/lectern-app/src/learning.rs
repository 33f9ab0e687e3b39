//! The learner side: the catalogue, enrolment, and reading published
//! course content. Learners only ever see published versions, and within
//! them only blocks that have been released (start date passed) and are not
//! staff-only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lectern_content::{BlockRef, CourseKey, CourseTree};

use crate::error::{AppError, AppResult};
use crate::model::{CourseRecord, Enrollment, User};
use crate::store::CourseDates;
use crate::visibility::Visibility;
use crate::Lectern;

/// A published course as the learner sees it.
#[derive(Clone)]
pub struct PublishedCourse {
    pub record: CourseRecord,
    pub version: i64,
    /// The identity of this version (`CourseRecord::publish_id`), which the
    /// caches key on.
    pub publish_id: String,
    pub tree: Arc<CourseTree>,
}

/// A unit page: the unit, where it sits, its neighbours and the blocks it shows.
pub struct UnitPage {
    pub course: PublishedCourse,
    pub unit: BlockRef,
    /// Ancestry, neighbours and the leaf blocks shown, for this viewer
    /// (shared between viewers who see the same: `unit_frames.rs`).
    pub frame: std::sync::Arc<crate::unit_frames::UnitFrame>,
    /// What the viewer may see of this course, decided once for the page
    /// (its problems are shown through [`Lectern::problem_view_on_page`]).
    pub sees: Visibility,
    /// The learner's states of the page's problems, read together.
    pub(crate) states: crate::page_states::PageStates,
}

/// Whether a date string from OLX (`2013-02-05T05:00:00Z`, `"2013-02-05T05:00"`) has passed.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_matches('"');
    if s.is_empty() || s == "null" {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// A course's start and end from its root block, for the store to keep.
pub fn course_dates(tree: &CourseTree) -> CourseDates {
    let date = |f: &str| tree.root().and_then(|r| r.field(f)).and_then(parse_date);
    CourseDates {
        start: date("start"),
        end: date("end"),
    }
}

/// Whether a learner (not staff) may see this block now.
pub fn released_to_learners(tree: &CourseTree, r: &BlockRef, now: DateTime<Utc>) -> bool {
    tree.up_to_root(r, |a| {
        let Some(b) = tree.block(a) else {
            return false;
        };
        if b.field("visible_to_staff_only") == Some("true") {
            return false;
        }
        // The course's own start governs enrolment and the outline, not each block.
        a.block_type == "course"
            || b.field("start")
                .and_then(parse_date)
                .is_none_or(|start| start <= now)
    })
}

impl Lectern {
    /// Published courses, for the catalogue.
    pub async fn catalogue(&self) -> AppResult<Vec<CourseRecord>> {
        let all = self.store.list_courses().await?;
        Ok(all
            .into_iter()
            .filter(|c| c.published_version.is_some())
            .collect())
    }

    /// A leaf block's HTML (not a problem's: those show the learner's
    /// state), rendered by `render` once per published version and shared
    /// (`unit_frames::LeafHtmlCache`). Whether to show it is the caller's
    /// question, answered per viewer by the unit page's frame.
    pub fn leaf_html(
        &self,
        course: &PublishedCourse,
        block: &BlockRef,
        render: impl FnOnce() -> String,
    ) -> std::sync::Arc<str> {
        self.leaf_html
            .get_or_render(&course.publish_id, block, render)
    }

    /// The newest published version of a course.
    pub async fn published_course(&self, key: &CourseKey) -> AppResult<PublishedCourse> {
        let record = self
            .course_record(key)
            .await?
            .ok_or_else(|| AppError::not_found(format!("course {key}")))?;
        let version = record
            .published_version
            .ok_or_else(|| AppError::not_found(format!("course {key}")))?;
        self.course_at_version(record, version).await
    }

    /// Published `version` of a course, which must be its newest (the one
    /// whose publish id `record` carries; the caches are keyed by it).
    pub(crate) async fn course_at_version(
        &self,
        record: CourseRecord,
        version: i64,
    ) -> AppResult<PublishedCourse> {
        let key = &record.key;
        let publish_id = match (&record.publish_id, record.published_version) {
            (Some(id), Some(newest)) if newest == version => id.clone(),
            _ => {
                return Err(AppError::Internal(format!(
                    "version {version} of {key} is not its newest published version"
                )))
            }
        };
        let tree = match self.courses.get(&publish_id) {
            Some(t) => t,
            None => {
                let tree = self.guarded(self.store.published(key, version)).await?;
                let tree = tree.ok_or_else(|| {
                    AppError::Internal(format!("published version {version} of {key} is missing"))
                })?;
                // A published version never changes: index it once for every
                // reader (on the CPU pool: it walks the whole course).
                let tree = crate::cpu::run(move || {
                    tree.build_index();
                    Arc::new(tree)
                })
                .await?;
                // The record and the tree were two reads: if the database
                // was swapped in between (a restore, a failover), the tree
                // may belong to another publish. Serve it this once, but
                // only cache it under an id the database still confirms.
                let still = self.store.course(key).await?.and_then(|r| r.publish_id);
                if still.as_deref() == Some(publish_id.as_str()) {
                    self.courses.put(&publish_id, tree.clone());
                }
                tree
            }
        };
        Ok(PublishedCourse {
            record,
            version,
            publish_id,
            tree,
        })
    }

    pub async fn enroll(&self, user: &User, key: &CourseKey) -> AppResult<Enrollment> {
        self.check_enrollment_open(user, key).await?;
        let was_active = self.enrollment(user, key).await?.is_some();
        let e = self.store.enroll(user.id, key, "audit", self.now()).await?;
        tracing::info!(user = %user.username, course = %key, "enrolled");
        if !was_active {
            self.track_enrollment(user, key, &e.mode, true);
            self.cohort_after_enrolment(user, key).await;
        }
        Ok(e)
    }

    /// Refuses enrolment in a course that is not published, or whose
    /// enrolment has closed (its team may still enrol).
    pub(crate) async fn check_enrollment_open(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<()> {
        let course = self.published_course(key).await?;
        if let Some(end) = course
            .tree
            .root()
            .and_then(|r| r.field("enrollment_end"))
            .and_then(parse_date)
        {
            if end < self.now() && !self.is_course_author(user, key).await? {
                return Err(AppError::Forbidden(
                    "Enrollment in this course has closed.".into(),
                ));
            }
        }
        Ok(())
    }

    pub async fn unenroll(&self, user: &User, key: &CourseKey) -> AppResult<()> {
        let was = self.enrollment(user, key).await?;
        self.store.unenroll(user.id, key).await?;
        if let Some(e) = was {
            self.track_enrollment(user, key, &e.mode, false);
        }
        Ok(())
    }

    /// `edx.course.enrollment.activated` / `.deactivated`.
    pub(crate) fn track_enrollment(&self, user: &User, key: &CourseKey, mode: &str, active: bool) {
        let event_type = if active {
            "edx.course.enrollment.activated"
        } else {
            "edx.course.enrollment.deactivated"
        };
        self.track(crate::tracking::Event {
            event_type,
            user: Some(user),
            course: Some(key),
            module: None,
            event: serde_json::json!({
                "course_id": key.to_string(),
                "user_id": user.id,
                "mode": mode,
            }),
        });
    }

    pub async fn enrollment(&self, user: &User, key: &CourseKey) -> AppResult<Option<Enrollment>> {
        Ok(self
            .enrollment_record(user.id, key)
            .await?
            .filter(|e| e.is_active))
    }

    /// The user's active enrolments with their courses, newest first: two
    /// reads however many courses (not one read per course).
    pub async fn dashboard(&self, user: &User) -> AppResult<Vec<(Enrollment, CourseRecord)>> {
        let enrollments = self.store.enrollments_for_user(user.id).await?;
        let mut courses: std::collections::HashMap<String, CourseRecord> = self
            .store
            .enrolled_courses(user.id)
            .await?
            .into_iter()
            .map(|c| (c.key.to_string(), c))
            .collect();
        let mut out = Vec::new();
        for e in enrollments {
            if !e.is_active {
                continue;
            }
            // An enrolment made between the two reads has no course here
            // yet: it shows on the next view.
            if let Some(c) = courses.remove(&e.course_key.to_string()) {
                out.push((e, c));
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.0.created_at));
        Ok(out)
    }

    /// The published course if `user` may read its content: enrolled, or on its team.
    pub async fn courseware(&self, user: &User, key: &CourseKey) -> AppResult<PublishedCourse> {
        Ok(self.courseware_seen(user, key).await?.0)
    }

    /// [`Self::courseware`] with the visibility it decided on, so that a
    /// caller needing both asks the database once.
    pub(crate) async fn courseware_seen(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<(PublishedCourse, Visibility)> {
        // The course, the reader's role and enrolment: one read.
        let not_found = || AppError::not_found(format!("course {key}"));
        let facts = self
            .courseware_facts(user, key)
            .await?
            .ok_or_else(not_found)?;
        let version = facts.record.published_version.ok_or_else(not_found)?;
        let course = self.course_at_version(facts.record, version).await?;
        let sees = self.visibility_of_member(user, facts.on_team);
        if sees.sees_unreleased() {
            return Ok((course, sees));
        }
        if facts.enrollment.is_some_and(|e| e.is_active) {
            if let Some(start) = sees.opens_at(&course.record) {
                return Err(AppError::Forbidden(format!(
                    "This course starts on {}; its content opens then.",
                    start.format("%-d %B %Y at %H:%M UTC")
                )));
            }
            Ok((course, sees))
        } else {
            Err(AppError::Forbidden(
                "Enroll in this course to see its content.".into(),
            ))
        }
    }

    /// Whether `user` sees unreleased content of this course: see
    /// [`crate::visibility`], which decides it.
    pub async fn sees_unreleased(&self, user: &User, key: &CourseKey) -> AppResult<bool> {
        Ok(self.visibility(user, key).await?.sees_unreleased())
    }

    /// A unit of the published course, with previous/next units the user may see.
    pub async fn unit_page(
        &self,
        user: &User,
        key: &CourseKey,
        unit_id: &str,
    ) -> AppResult<UnitPage> {
        let (course, sees) = self.courseware_seen(user, key).await?;
        let unit = BlockRef::new("vertical", unit_id);
        // Hidden from this viewer (unreleased, staff-only, or inside a
        // split_test not drawn for them): no frame.
        let frame = self
            .frames
            .frame(&course.publish_id, &course.tree, &unit, &sees, user.id)
            .ok_or_else(|| AppError::not_found(format!("unit {unit_id}")))?;
        let states = self.page_states(user, &course.tree, &frame.leaves).await;
        Ok(UnitPage {
            states,
            course,
            unit,
            frame,
            sees,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_content::Block;

    #[test]
    fn dates_parse_in_olx_forms() {
        assert_eq!(
            parse_date("2013-02-05T05:00:00Z").map(|d| d.to_rfc3339()),
            Some("2013-02-05T05:00:00+00:00".into())
        );
        assert_eq!(
            parse_date("\"2030-01-01T00:00\"").map(|d| d.to_rfc3339()),
            Some("2030-01-01T00:00:00+00:00".into())
        );
        assert!(parse_date("").is_none());
        assert!(parse_date("null").is_none());
        assert!(parse_date("soon").is_none());
    }

    #[test]
    fn unreleased_and_staff_only_blocks_are_hidden() {
        let key = CourseKey::new("O", "N", "R").unwrap();
        let mut t = CourseTree::new(key, "C");
        let mut later = Block::new("chapter", "later");
        later
            .fields
            .insert("start".into(), "2099-01-01T00:00:00Z".into());
        t.insert_child(&CourseTree::root_ref(), later, None)
            .unwrap();
        t.insert_child(
            &BlockRef::new("chapter", "later"),
            Block::new("sequential", "s"),
            None,
        )
        .unwrap();
        let mut hidden = Block::new("chapter", "hidden");
        hidden
            .fields
            .insert("visible_to_staff_only".into(), "true".into());
        t.insert_child(&CourseTree::root_ref(), hidden, None)
            .unwrap();
        t.insert_child(&CourseTree::root_ref(), Block::new("chapter", "now"), None)
            .unwrap();
        let now = Utc::now();
        assert!(!released_to_learners(
            &t,
            &BlockRef::new("sequential", "s"),
            now
        ));
        assert!(!released_to_learners(
            &t,
            &BlockRef::new("chapter", "hidden"),
            now
        ));
        assert!(released_to_learners(
            &t,
            &BlockRef::new("chapter", "now"),
            now
        ));
        assert!(!released_to_learners(
            &t,
            &BlockRef::new("chapter", "missing"),
            now
        ));
    }
}

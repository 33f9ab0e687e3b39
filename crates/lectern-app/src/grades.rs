//! Course grades: each learner's problem scores, summed per subsection and
//! run through the course's grading policy (Open edX's grader, in
//! `lectern_content::grader`).
//!
//! A problem the learner never answered still counts with its full possible
//! score and nothing earned, as in Open edX. Grades are persisted with every
//! answer (in the same transaction) and recomputed for every enrolled
//! learner when a new version is published (the regrade job, `jobs/regrade.rs`).

use fnv::FnvHashMap;

use lectern_content::grader::{grade_course, CourseGrade, ProblemScore, SubsectionInput};
use lectern_content::problem::settings::{weighted_score, ShowCorrectness};
use lectern_content::{CourseKey, UsageKey};
use serde::Serialize;

use crate::cpu;
use crate::error::{AppError, AppResult};
use crate::grading_layout::ProblemSlot;
use crate::learning::PublishedCourse;
use crate::model::{
    subsections_digest, GradeRecord, ProblemState, StoredSubsections, SubsectionGradeRecord, User,
};
use crate::store::CourseProgress;
use crate::visibility::Visibility;
use crate::Lectern;

/// A grade of a course with at most this many problems, once its layout
/// is made, is summed on the request's own thread (`compute_grade_seen`).
const INLINE_GRADE_PROBLEMS: usize = 256;

/// One problem's score for the progress page.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemScoreView {
    pub usage_key: String,
    pub display_name: String,
    /// 0 while `hidden`.
    pub earned: f64,
    pub possible: f64,
    pub attempted: bool,
    /// `show_correctness` hides this score from the learner now.
    pub hidden: bool,
}

/// One subsection's score for the progress page.
#[derive(Debug, Clone, Serialize)]
pub struct SubsectionView {
    pub block_id: String,
    pub display_name: String,
    pub graded: bool,
    pub format: Option<String>,
    pub due: Option<String>,
    /// The visible problems' points only.
    pub earned: f64,
    pub possible: f64,
    pub problems: Vec<ProblemScoreView>,
    /// Some of its scores are hidden from the learner now.
    pub hidden: bool,
    /// When hidden scores will show (`past_due`: the close date), if ever.
    pub hidden_until: Option<String>,
}

/// A learner's grade in a course, with what it is made of.
#[derive(Debug, Clone, Serialize)]
pub struct GradeReport {
    pub username: String,
    pub course_key: CourseKey,
    pub grade: CourseGrade,
    pub chapters: Vec<(String, Vec<SubsectionView>)>,
    /// Subsections whose scores the learner may not see now (their entries
    /// in `grade` are zeroed).
    pub hidden_subsections: Vec<String>,
    /// For a stored grade computed with one state replaced: the subsections
    /// whose figures that replacement changed, with their figures before.
    #[serde(skip)]
    pub(crate) changed_by_replacing: Option<Vec<ChangedSubsection>>,
}

/// A subsection whose figures a replaced problem state changed: its
/// position among the report's subsections (all chapters, in order) and
/// its earned and possible points without the replacement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ChangedSubsection {
    pub position: usize,
    pub earned_before: f64,
    pub possible_before: f64,
}

/// A learner's problem states in a course, by problem: looked up once per
/// problem of the course at every grade. FNV rather than the standard
/// SipHash, which was 3.7 % of an answer check's instructions for these
/// lookups alone (issue 18, twelfth pass); the keys are the course's own
/// problems, which its authors choose, so there is nobody to flood it.
pub(crate) type StatesByProblem = FnvHashMap<UsageKey, ProblemState>;

/// Whom a grade is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// The full grade: what is stored and what the course team sees.
    Record,
    /// What the learner may see now: scores hidden by `show_correctness`
    /// count as nothing earned (unless `never_but_include_grade`), so the
    /// grade cannot reveal whether an answer was right.
    Learner,
    /// [`Audience::Record`]'s figures for the stored grade, which keeps
    /// subsection totals only: no per-problem lines are made (their names
    /// and keys were a tenth of an answer check's allocations, issue 18).
    Stored,
}

/// A problem's weighted (earned, possible) points in a grade and whether it
/// counts as attempted, from its state: one never answered (or worth
/// nothing as answered) counts with its full possible score, nothing earned.
fn slot_score(slot: &ProblemSlot, state: Option<&ProblemState>) -> (f64, f64, bool) {
    match state {
        Some(s) if s.ever_attempted && s.possible > 0.0 => (s.earned, s.possible, true),
        _ => {
            let (_, possible) = weighted_score(0.0, slot.raw_possible, slot.settings.weight);
            (0.0, possible, false)
        }
    }
}

/// What a check's grade write may take as stored: if the rows as they were
/// before the check (`rows` with `changed` put back) hash to the stored
/// `digest` under the `revision` read, every stored row but the changed
/// ones is already right ([`StoredSubsections::DifferAt`]); otherwise
/// nothing is known and every row is written.
fn stored_rows_known(
    digest: i64,
    revision: i64,
    version: i64,
    rows: &[SubsectionGradeRecord],
    changed: &[ChangedSubsection],
) -> StoredSubsections {
    let before =
        rows.iter()
            .enumerate()
            .map(|(i, row)| match changed.iter().find(|c| c.position == i) {
                Some(c) => (
                    row.block_id.as_str(),
                    c.earned_before,
                    c.possible_before,
                    row.graded,
                ),
                None => (row.block_id.as_str(), row.earned, row.possible, row.graded),
            });
    if subsections_digest(version, revision, before) == digest {
        StoredSubsections::DifferAt(changed.iter().map(|c| c.position).collect())
    } else {
        StoredSubsections::Unknown
    }
}

impl Lectern {
    /// Computes a learner's grade from their stored states, with `replacing`
    /// standing in for the stored state of that one problem.
    async fn compute_grade(
        &self,
        user: &User,
        course: &PublishedCourse,
        replacing: Option<&ProblemState>,
        audience: Audience,
    ) -> AppResult<GradeReport> {
        let sees = self.visibility(user, &course.record.key).await?;
        self.compute_grade_seen(user, course, replacing, audience, sees)
            .await
    }

    /// [`Self::compute_grade`] with what `user` may see already decided (a
    /// check has just read it for the problem).
    async fn compute_grade_seen(
        &self,
        user: &User,
        course: &PublishedCourse,
        replacing: Option<&ProblemState>,
        audience: Audience,
        sees: Visibility,
    ) -> AppResult<GradeReport> {
        let states = self
            .store
            .problem_states(user.id, &course.record.key)
            .await?;
        self.grade_from_states(user, course, states, replacing, audience, sees)
            .await
    }

    /// [`Self::compute_grade_seen`] from `states` already read.
    async fn grade_from_states(
        &self,
        user: &User,
        course: &PublishedCourse,
        states: Vec<ProblemState>,
        replacing: Option<&ProblemState>,
        audience: Audience,
        sees: Visibility,
    ) -> AppResult<GradeReport> {
        let states: StatesByProblem = states
            .into_iter()
            .map(|s| (s.usage_key.clone(), s))
            .collect();
        // With the version's layout already made and a few hundred problems
        // at most, the grade is a sum per problem: done here, which costs
        // less than the trip to the pool and back. Otherwise it parses
        // problems and walks the course, CPU work for the bounded pool.
        if self
            .kept_grading_layout(&course.publish_id)
            .is_some_and(|l| l.problem_count() <= INLINE_GRADE_PROBLEMS)
        {
            return Ok(self.grade_report(user, course, &states, replacing, sees, audience));
        }
        let (this, course, learner) = (self.clone(), course.clone(), user.clone());
        let replacing = replacing.cloned();
        cpu::run(move || {
            this.grade_report(
                &learner,
                &course,
                &states,
                replacing.as_ref(),
                sees,
                audience,
            )
        })
        .await
    }

    /// The CPU part of [`Self::compute_grade`]: scores from `states` (with
    /// `replacing` standing in for its problem's), summed per subsection and
    /// graded. Runs inside a [`cpu::run`] job, or in place when the
    /// version's layout is already made and small. A stored grade with a
    /// replacement also says which subsections the replacement changed
    /// ([`GradeReport::changed_by_replacing`]).
    pub(crate) fn grade_report(
        &self,
        learner: &User,
        course: &PublishedCourse,
        states: &StatesByProblem,
        replacing: Option<&ProblemState>,
        sees: Visibility,
        audience: Audience,
    ) -> GradeReport {
        let (staff, now) = (sees.sees_unreleased(), sees.now());
        let tree = &course.tree;
        let layout = self.grading_layout(course);
        let drawn = layout.drawn_for(tree, learner.id);
        let mut inputs = Vec::new();
        let mut chapters = Vec::new();
        let mut hidden_subsections = Vec::new();
        let mut changed = (audience == Audience::Stored && replacing.is_some()).then(Vec::new);
        let mut position = 0;
        for chapter in &layout.chapters {
            let mut subs = Vec::new();
            for seq in &chapter.subsections {
                let mut scores = Vec::new();
                let mut views = Vec::new();
                let (mut earned_shown, mut possible_shown, mut hidden) = (0.0, 0.0, false);
                // The same sums with a replaced problem's stored state.
                let (mut earned_before, mut possible_before) = (0.0, 0.0);
                let mut hidden_until = None;
                for slot in seq
                    .problems
                    .iter()
                    .filter(|p| p.release.shown(&sees) && p.drawn_by(drawn.as_deref()))
                {
                    let settings = &slot.settings;
                    let stored = states.get(&slot.usage);
                    let replaced = replacing.filter(|r| r.usage_key == slot.usage);
                    let (earned, possible, attempted) = slot_score(slot, replaced.or(stored));
                    let visible =
                        audience != Audience::Learner || settings.correctness_available(staff, now);
                    if changed.is_some() {
                        let (earned, possible, _) = match replaced {
                            Some(_) => slot_score(slot, stored),
                            None => (earned, possible, attempted),
                        };
                        earned_before += if visible { earned } else { 0.0 };
                        possible_before += possible;
                    }
                    if !visible && settings.show_correctness == ShowCorrectness::PastDue {
                        hidden_until = settings.close_date().map(|d| d.to_rfc3339());
                    }
                    let counted = if visible || settings.hidden_score_counts() {
                        earned
                    } else {
                        0.0
                    };
                    scores.push(ProblemScore {
                        earned: counted,
                        possible,
                    });
                    let earned = if visible { earned } else { 0.0 };
                    earned_shown += earned;
                    possible_shown += possible;
                    hidden |= !visible;
                    if audience != Audience::Stored {
                        views.push(ProblemScoreView {
                            usage_key: slot.usage_text.clone(),
                            display_name: slot.title.clone(),
                            earned,
                            possible,
                            attempted,
                            hidden: !visible,
                        });
                    }
                }
                let (earned, possible) = (earned_shown, possible_shown);
                if let Some(changed) = changed.as_mut() {
                    let same = earned_before.to_bits() == earned.to_bits()
                        && possible_before.to_bits() == possible.to_bits();
                    if !same {
                        changed.push(ChangedSubsection {
                            position,
                            earned_before,
                            possible_before,
                        });
                    }
                }
                position += 1;
                if hidden {
                    hidden_subsections.push(seq.id.clone());
                }
                inputs.push(SubsectionInput {
                    id: seq.id.clone(),
                    display_name: seq.title.clone(),
                    format: seq.format.clone(),
                    graded: seq.graded,
                    problems: scores,
                });
                subs.push(SubsectionView {
                    block_id: seq.id.clone(),
                    display_name: seq.title.clone(),
                    graded: seq.graded,
                    format: seq.format.clone(),
                    due: seq.due.clone(),
                    earned,
                    possible,
                    problems: views,
                    hidden,
                    hidden_until: hidden_until.filter(|_| hidden),
                });
            }
            chapters.push((chapter.title.clone(), subs));
        }
        let mut grade = grade_course(&tree.grading_policy, &inputs);
        for entry in grade.by_type.iter_mut().flat_map(|t| t.entries.iter_mut()) {
            if entry
                .subsection_id
                .as_ref()
                .is_some_and(|id| hidden_subsections.contains(id))
            {
                entry.earned = 0.0;
                entry.percent = 0.0;
            }
        }
        GradeReport {
            username: learner.username.clone(),
            course_key: course.record.key.clone(),
            grade,
            chapters,
            hidden_subsections,
            changed_by_replacing: changed,
        }
    }

    /// The record to persist for a learner's grade, guarded by the stored revision.
    pub(crate) async fn grade_record_with(
        &self,
        user: &User,
        course: &PublishedCourse,
        replacing: Option<&ProblemState>,
    ) -> AppResult<GradeRecord> {
        let sees = self.visibility(user, &course.record.key).await?;
        let progress = self
            .store
            .course_progress(user.id, &course.record.key)
            .await?;
        self.grade_record_from(user, course, progress, replacing, sees)
            .await
    }

    /// [`Self::grade_record_with`] from a [`CourseProgress`] already read
    /// (the learner's states and the stored grade's revision, read together:
    /// a grade stored after that read makes this one's guarded write fail,
    /// never overwritten by it) and what `user` may see already decided.
    pub(crate) async fn grade_record_from(
        &self,
        user: &User,
        course: &PublishedCourse,
        progress: CourseProgress,
        replacing: Option<&ProblemState>,
        sees: Visibility,
    ) -> AppResult<GradeRecord> {
        let revision = progress.grade_revision.unwrap_or(0);
        let digest = progress.subsections_digest;
        let report = self
            .grade_from_states(
                user,
                course,
                progress.states,
                replacing,
                Audience::Stored,
                sees,
            )
            .await?;
        let subsections = report
            .chapters
            .iter()
            .flat_map(|(_, subs)| subs.iter())
            .map(|s| SubsectionGradeRecord {
                block_id: s.block_id.clone(),
                earned: s.earned,
                possible: s.possible,
                graded: s.graded,
            })
            .collect::<Vec<_>>();
        let stored_subsections = match (digest, &report.changed_by_replacing) {
            (Some(digest), Some(changed)) => {
                stored_rows_known(digest, revision, course.version, &subsections, changed)
            }
            _ => StoredSubsections::Unknown,
        };
        Ok(GradeRecord {
            user_id: user.id,
            course_key: course.record.key.clone(),
            revision,
            course_version: course.version,
            percent: report.grade.percent,
            letter_grade: report.grade.letter_grade.clone(),
            passed: report.grade.passed,
            detail: crate::model::JsonText::of(&report.grade)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            subsections,
            stored_subsections,
            updated_at: self.now(),
        })
    }

    /// `user`'s own grade report in a course (the progress page), as they
    /// may see it now: scores `show_correctness` hides are left out.
    pub async fn my_grade(&self, user: &User, key: &CourseKey) -> AppResult<GradeReport> {
        let course = self.courseware(user, key).await?;
        self.compute_grade(user, &course, None, Audience::Learner)
            .await
    }

    /// The grade of `username` in a course: learners may ask for themselves,
    /// the course's team for anyone enrolled.
    pub async fn grade_of(
        &self,
        asker: &User,
        key: &CourseKey,
        username: &str,
    ) -> AppResult<GradeReport> {
        if asker.username.eq_ignore_ascii_case(username) {
            return self.my_grade(asker, key).await;
        }
        if !self.is_course_author(asker, key).await? {
            return Err(AppError::Forbidden(
                "You can only see your own grades.".into(),
            ));
        }
        let learner = self.user_by_username(username).await?;
        let course = self.published_course(key).await?;
        if self.enrollment(&learner, key).await?.is_none() {
            return Err(AppError::not_found(format!("{username} in {key}")));
        }
        self.compute_grade(&learner, &course, None, Audience::Record)
            .await
    }

    /// Every enrolled learner's grade (course team only).
    pub async fn course_grades(
        &self,
        asker: &User,
        key: &CourseKey,
    ) -> AppResult<Vec<GradeReport>> {
        if !self.is_course_author(asker, key).await? {
            return Err(AppError::Forbidden(
                "Only the course team can list everyone's grades.".into(),
            ));
        }
        let course = self.published_course(key).await?;
        let mut out = Vec::new();
        for learner in self.store.enrolled_users(key).await? {
            out.push(
                self.compute_grade(&learner, &course, None, Audience::Record)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The persisted grade record (what reports read).
    pub async fn persisted_grade(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<Option<GradeRecord>> {
        Ok(self.store.course_grade(user.id, key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, earned: f64) -> SubsectionGradeRecord {
        SubsectionGradeRecord {
            block_id: id.into(),
            earned,
            possible: 2.0,
            graded: true,
        }
    }

    /// The rows as a check computes them, `b` changed by its answer from 0
    /// to 1, against digests of what a previous write left: only a digest
    /// of exactly the rows before the answer, at the revision read and the
    /// same version, lets the check write `b` alone.
    #[test]
    fn only_a_digest_of_the_rows_before_the_answer_lets_a_check_write_its_own() {
        let rows = [row("a", 2.0), row("b", 1.0), row("c", 0.0)];
        let changed = [ChangedSubsection {
            position: 1,
            earned_before: 0.0,
            possible_before: 2.0,
        }];
        let digest = |version, revision, rows: &[SubsectionGradeRecord]| {
            subsections_digest(
                version,
                revision,
                rows.iter()
                    .map(|r| (r.block_id.as_str(), r.earned, r.possible, r.graded)),
            )
        };
        let before = [row("a", 2.0), row("b", 0.0), row("c", 0.0)];
        assert_eq!(
            stored_rows_known(digest(3, 5, &before), 5, 3, &rows, &changed),
            StoredSubsections::DifferAt(vec![1])
        );
        // Nothing changed by the answer: no row to write.
        assert_eq!(
            stored_rows_known(digest(3, 5, &rows), 5, 3, &rows, &[]),
            StoredSubsections::DifferAt(Vec::new())
        );
        let unknown = [
            // A previous release wrote revision 5 without a digest: the one
            // left is revision 4's.
            digest(3, 4, &before),
            // Another course version's rows.
            digest(2, 5, &before),
            // `c` stored stale (say, before a release date passed).
            digest(3, 5, &[row("a", 2.0), row("b", 0.0), row("c", 1.0)]),
            // The rows after the answer are not the rows before it.
            digest(3, 5, &rows),
        ];
        for stored in unknown {
            assert_eq!(
                stored_rows_known(stored, 5, 3, &rows, &changed),
                StoredSubsections::Unknown
            );
        }
    }
}

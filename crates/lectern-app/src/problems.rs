//! Answering problems: showing a problem as this learner sees it, checking
//! (grading) a submission, saving and resetting, and "Show answer".
//!
//! The server enforces every rule, not the page: attempts are counted and
//! capped here, answers are only sent once `showanswer` allows, and a
//! submission is acknowledged only after its state, its history row and the
//! recomputed grade are committed together. Concurrent submissions by the
//! same learner are serialised by a compare-and-swap on the state's
//! revision, so `max_attempts` can never be exceeded and none is lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use lectern_content::problem::settings::{seed_for, weighted_score, AttemptState, ProblemSettings};
use lectern_content::problem::{Answer, Grading, InputKind, Problem};
use lectern_content::{Block, UsageKey};
use serde_json::{json, Value};

use crate::correctness::SubmissionView;
use crate::cpu;
use crate::error::{AppError, AppResult, StoreError};
use crate::idempotency::{fingerprint, IdempotencyKey, StoredResponse};
use crate::learning::PublishedCourse;
use crate::model::{ProblemState, Submission, User};
use crate::page_states::{Known, PageStates};
use crate::store::CourseProgress;
use crate::Lectern;

/// Settings read from the tree for a problem (own value, else inherited).
const SETTING_FIELDS: &[&str] = &[
    "max_attempts",
    "showanswer",
    "attempts_before_showanswer_button",
    "weight",
    "rerandomize",
    "show_correctness",
    "due",
    "graceperiod",
];

/// How many times a check is replayed when another submission of the same
/// learner lands in between.
const CAS_RETRIES: usize = 50;

/// The most answers one submission may carry.
const MAX_INPUTS: usize = 500;

/// A problem as one learner sees it now.
pub struct ProblemView {
    pub course: PublishedCourse,
    pub block: Block,
    pub problem: Arc<Problem>,
    pub settings: ProblemSettings,
    pub state: ProblemState,
    pub seed: u64,
    pub staff: bool,
    pub closed: bool,
    pub answer_available: bool,
    pub correctness_available: bool,
    /// Why the problem's script could not run for this learner, when it
    /// failed (a learner-safe message); the problem is then not gradable.
    pub script_error: Option<String>,
}

impl ProblemView {
    /// The stored answers, typed.
    pub fn answers(&self) -> BTreeMap<String, Answer> {
        serde_json::from_value(self.state.answers.clone()).unwrap_or_default()
    }

    pub fn results(&self) -> BTreeMap<String, lectern_content::problem::InputResult> {
        serde_json::from_value(self.state.correct_map.clone()).unwrap_or_default()
    }
}

/// What a check returns.
pub struct CheckOutcome {
    pub grading: Grading,
    pub earned: f64,
    pub possible: f64,
    pub attempts: u32,
    pub view: ProblemView,
}

/// What a check ended in: graded now, or answered from the stored response
/// of the first check sent with the same key.
enum Checked {
    Graded(Box<CheckOutcome>),
    Replayed(StoredResponse),
}

/// The operation name in a check's fingerprint.
const CHECK_OPERATION: &str = "problem_check";

/// The field a clash on the key is reported under (the store's name for it).
const KEY_FIELD: &str = "idempotency_key";

/// The JSON answer to a check: graded and stored in full, the learner
/// learns only what `show_correctness` allows now.
pub fn check_body(outcome: &CheckOutcome) -> Value {
    let view = &outcome.view;
    json!({
        "earned": view.visible_earned(),
        "possible": outcome.possible,
        "attempts": outcome.attempts,
        "max_attempts": view.settings.max_attempts,
        "correct_map": view.visible_correct_map(),
        "correctness_hidden": !view.correctness_available,
        "message": view.notification(),
        "closed": view.closed,
        "can_show_answer": view.answer_available,
    })
}

/// The settings of a problem block in its tree.
pub fn problem_settings(course: &PublishedCourse, block: &Block) -> ProblemSettings {
    let r = block.block_ref();
    let mut fields = BTreeMap::new();
    for name in SETTING_FIELDS {
        if let Some(v) = course.tree.effective_field(&r, name) {
            fields.insert(name.to_string(), v);
        }
    }
    if let Some(end) = course.tree.root().and_then(|c| c.field("end")) {
        fields.insert("course_end".into(), end.to_string());
    }
    // A malformed setting falls back to Open edX's default for it rather than
    // making the problem unusable; Studio refuses such values on save.
    ProblemSettings::from_fields(&fields).unwrap_or_else(|_| {
        let only_valid: BTreeMap<String, String> = fields
            .into_iter()
            .filter(|(k, v)| {
                ProblemSettings::from_fields(&BTreeMap::from([(k.clone(), v.clone())])).is_ok()
            })
            .collect();
        ProblemSettings::from_fields(&only_valid)
            .unwrap_or_else(|_| ProblemSettings::from_fields(&BTreeMap::new()).unwrap_or_default())
    })
}

impl Lectern {
    /// Parses (or finds cached) the problem of a block in a published version,
    /// on the calling thread: for code already running in a [`cpu::run`] job.
    pub fn parsed_problem(
        &self,
        course: &PublishedCourse,
        block: &Block,
    ) -> AppResult<Arc<Problem>> {
        self.problems
            .get_or_parse(&course.publish_id, block)
            .map_err(|e| AppError::invalid(format!("This problem cannot be shown: {e}")))
    }

    /// [`Self::parsed_problem`] for async code: a cache hit is answered here,
    /// a miss is parsed on the CPU pool.
    pub async fn parsed_problem_async(
        &self,
        course: &PublishedCourse,
        block: &Block,
    ) -> AppResult<Arc<Problem>> {
        if let Some(p) = self.problems.get(&course.publish_id, block) {
            return Ok(p);
        }
        let (this, course, block) = (self.clone(), course.clone(), block.clone());
        cpu::run(move || this.parsed_problem(&course, &block)).await?
    }

    /// A problem as `user` sees it: state, seed, whether it is closed and
    /// whether its answer may be shown.
    pub async fn problem_view(&self, user: &User, usage: &UsageKey) -> AppResult<ProblemView> {
        let (course, sees) = self.courseware_seen(user, &usage.course).await?;
        let (view, _) = self
            .problem_view_in(user, course, sees, usage, None, false)
            .await?;
        Ok(view)
    }

    /// A problem of a unit page that [`Self::unit_page`] built for `user` in
    /// this request: the access and visibility the page decided on are
    /// reused, so each problem costs one read (its state), not four. While
    /// the database is unreachable the learner's saved state cannot be
    /// read, and the problem is shown as new instead of failing the page;
    /// the flag says whether the saved state was read.
    pub async fn problem_view_on_page(
        &self,
        user: &User,
        page: &crate::learning::UnitPage,
        usage: &UsageKey,
    ) -> AppResult<(ProblemView, bool)> {
        if usage.course != page.course.record.key {
            return Err(AppError::not_found(format!("problem {usage}")));
        }
        let known = match &page.states {
            PageStates::Read(states) => states.get(usage).cloned().map(Known::Read),
            PageStates::Unreachable => Some(Known::Unreachable),
            PageStates::NotRead => None,
        };
        // The page's frame already decided that the viewer is shown its
        // leaves (visibility and draw): not asked again per problem.
        let on_page = page.frame.leaves.contains(&usage.block);
        self.problem_view_in(user, page.course.clone(), page.sees, usage, known, on_page)
            .await
    }

    async fn problem_view_in(
        &self,
        user: &User,
        course: PublishedCourse,
        sees: crate::visibility::Visibility,
        usage: &UsageKey,
        known: Option<Known>,
        shown_on_page: bool,
    ) -> AppResult<(ProblemView, bool)> {
        let staff = sees.sees_unreleased();
        let block = course
            .tree
            .block(&usage.block)
            .filter(|b| b.block_type == "problem")
            .filter(|_| shown_on_page || sees.shows(&course.tree, &usage.block))
            // Not drawn for this learner in a library_content/split_test: not theirs.
            .filter(|_| {
                shown_on_page || crate::selection::shown_to(&course.tree, &usage.block, user.id)
            })
            .cloned()
            .ok_or_else(|| AppError::not_found(format!("problem {usage}")))?;
        let problem = self.parsed_problem_async(&course, &block).await?;
        let settings = self
            .problem_settings
            .get_or_make(&course.publish_id, &block, || {
                problem_settings(&course, &block)
            });
        let (state, read) = match known {
            Some(Known::Read(found)) => (found, true),
            // A page shows its problems as new while the database is away.
            Some(Known::Unreachable) => (None, false),
            None => (
                self.guarded(self.store.problem_state(user.id, usage))
                    .await?,
                true,
            ),
        };
        let state = state.unwrap_or_else(|| ProblemState::fresh(user.id, usage));
        let mut view = self.view_with_state(course, block, problem, settings, state, user, staff);
        if view.problem.needs_python() {
            match self
                .instantiate_problem(&view.course, &view.block, &view.problem, view.seed, user.id)
                .await?
            {
                Ok(p) => view.problem = p,
                Err(e) => view.script_error = Some(e.learner_message()),
            }
        }
        Ok((view, read))
    }

    #[allow(clippy::too_many_arguments)]
    fn view_with_state(
        &self,
        course: PublishedCourse,
        block: Block,
        problem: Arc<Problem>,
        settings: ProblemSettings,
        state: ProblemState,
        user: &User,
        staff: bool,
    ) -> ProblemView {
        let now = self.now();
        let seed = seed_for(
            settings.rerandomize,
            user.id,
            &state.usage_key.to_text(),
            state.reset_count,
        );
        let attempt_state = AttemptState {
            attempts: state.attempts,
            is_correct: state.is_correct,
            ever_attempted: state.ever_attempted,
            staff,
        };
        ProblemView {
            closed: settings.is_closed(state.attempts, now),
            answer_available: settings.answer_available(&attempt_state, now),
            correctness_available: settings.correctness_available(staff, now),
            course,
            block,
            problem,
            settings,
            state,
            seed,
            staff,
            script_error: None,
        }
    }

    /// Grades a submission and records it. Input that cannot be read is
    /// refused without using an attempt.
    pub async fn check_problem(
        &self,
        user: &User,
        usage: &UsageKey,
        answers: BTreeMap<String, Answer>,
    ) -> AppResult<CheckOutcome> {
        match self.check_inner(user, usage, answers, None).await? {
            Checked::Graded(outcome) => Ok(*outcome),
            Checked::Replayed(_) => Err(AppError::Internal(
                "a check without a key was answered from a stored response".into(),
            )),
        }
    }

    /// A check as the API answers it: the status and JSON body. With a key,
    /// the first check made with it is answered again, unchanged and without
    /// using an attempt (see [`crate::idempotency`]).
    pub async fn check_problem_keyed(
        &self,
        user: &User,
        usage: &UsageKey,
        answers: BTreeMap<String, Answer>,
        key: Option<&IdempotencyKey>,
    ) -> AppResult<(u16, Value)> {
        let fingerprint = match key {
            Some(_) => {
                let answers_json = serde_json::to_string(&answers)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                Some(fingerprint(
                    CHECK_OPERATION,
                    &[&usage.to_string(), &answers_json],
                ))
            }
            None => None,
        };
        let keyed = key.zip(fingerprint.as_deref());
        match self.check_inner(user, usage, answers, keyed).await? {
            Checked::Graded(outcome) => Ok((200, check_body(&outcome))),
            Checked::Replayed(stored) => Ok((stored.status, stored.body)),
        }
    }

    async fn check_inner(
        &self,
        user: &User,
        usage: &UsageKey,
        answers: BTreeMap<String, Answer>,
        keyed: Option<(&IdempotencyKey, &str)>,
    ) -> AppResult<Checked> {
        if let Some((key, print)) = keyed {
            if let Some(stored) = self.stored_response(user.id, key, print).await? {
                return Ok(Checked::Replayed(stored));
            }
        }
        // The access and visibility decided here serve the grade too, and
        // the learner's states in the course serve the problem's view and
        // the grade: two reads in all.
        let (course, sees) = self.courseware_seen(user, &usage.course).await?;
        let (mut view, mut progress) = self.check_view(user, course, sees, usage).await?;
        if let Some(why) = &view.script_error {
            return Err(AppError::invalid(why.clone()));
        }
        if !view.problem.is_gradable() {
            return Err(AppError::invalid(format!(
                "This problem cannot be graded by Lectern yet (it uses: {}).",
                view.problem.unsupported().join(", ")
            )));
        }
        let answers = normalise_answers(&view.problem, answers)?;
        for _ in 0..CAS_RETRIES {
            let now = self.now();
            if view.settings.used_all_attempts(view.state.attempts) {
                self.track_check_failed(user, usage, &answers, "unreset");
                return Err(AppError::Forbidden(
                    "You have used all your attempts for this problem.".into(),
                ));
            }
            if view.settings.is_past_due(now) {
                self.track_check_failed(user, usage, &answers, "closed");
                return Err(AppError::Forbidden(
                    "This problem is past its due date.".into(),
                ));
            }
            // Grading can cost real CPU (formula samples, long expressions):
            // it runs on the bounded pool, never on an async worker.
            let grading = self
                .grade_problem(
                    &view.course,
                    view.problem.clone(),
                    answers.clone(),
                    view.seed,
                    user.id,
                    view.state.attempts + 1,
                )
                .await?
                .map_err(|e| AppError::field(&e.input_id, e.message.clone()))?;
            let (earned, possible) = weighted_score(
                grading.raw_earned,
                grading.raw_possible,
                view.settings.weight,
            );
            let answers_json =
                serde_json::to_value(&answers).map_err(|e| AppError::Internal(e.to_string()))?;
            let map_json = serde_json::to_value(&grading.correct_map)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let mut next = view.state.clone();
            next.attempts += 1;
            next.answers = answers_json.clone();
            next.correct_map = map_json.clone();
            next.raw_earned = grading.raw_earned;
            next.raw_possible = grading.raw_possible;
            next.earned = earned;
            next.possible = possible;
            next.is_correct = grading.is_correct();
            next.ever_attempted = true;
            next.updated_at = now;
            let submission = Submission {
                user_id: user.id,
                usage_key: usage.clone(),
                attempt: next.attempts,
                answers: answers_json,
                correct_map: map_json,
                earned,
                possible,
                created_at: now,
                idempotency_key: keyed.map(|(key, _)| key.as_str().to_string()),
            };
            let grade = self
                .grade_record_from(
                    user,
                    &view.course,
                    std::mem::take(&mut progress),
                    Some(&next),
                    sees,
                )
                .await?;
            // The learner's view once this check is stored: what the answer
            // shows, and (with a key) what a retry will be answered with.
            let attempts = next.attempts;
            let mut stored = next.clone();
            stored.revision += 1;
            let after = self.view_with_state(
                view.course.clone(),
                view.block.clone(),
                view.problem.clone(),
                view.settings.clone(),
                stored,
                user,
                view.staff,
            );
            let outcome = CheckOutcome {
                grading,
                earned,
                possible,
                attempts,
                view: after,
            };
            let saved = match keyed {
                Some((key, print)) => {
                    let response = StoredResponse {
                        user_id: user.id,
                        key: key.as_str().to_string(),
                        fingerprint: print.to_string(),
                        status: 200,
                        body: check_body(&outcome),
                        created_at: now,
                    };
                    self.store
                        .save_keyed_check(&next, &submission, Some(&grade), &response)
                        .await
                }
                None => {
                    self.store
                        .save_problem_state(&next, Some(&submission), Some(&grade))
                        .await
                }
            };
            match saved {
                Ok(()) => {
                    tracing::debug!(user = %user.username, problem = %usage, attempt = attempts, earned, possible, "problem checked");
                    self.track_check(user, usage, &view.state, &next, &outcome);
                    self.certificate_after_grade(&view.course, &grade).await;
                    return Ok(Checked::Graded(Box::new(outcome)));
                }
                Err(StoreError::StaleRevision) => {
                    // Another check landed first; if it was this one's copy
                    // (same key, another node), its answer is this answer.
                    if let Some((key, print)) = keyed {
                        if let Some(stored) = self.stored_response(user.id, key, print).await? {
                            return Ok(Checked::Replayed(stored));
                        }
                    }
                    let (course, sees) = self.courseware_seen(user, &usage.course).await?;
                    (view, progress) = self.check_view(user, course, sees, usage).await?;
                }
                Err(StoreError::Conflict { field }) if field == KEY_FIELD => {
                    // A copy of this request committed first with the key.
                    let stored = match keyed {
                        Some((key, print)) => self.stored_response(user.id, key, print).await?,
                        None => None,
                    };
                    return stored.map(Checked::Replayed).ok_or_else(|| {
                        AppError::Internal("an idempotency key clashed but is not stored".into())
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "Too many submissions at once; try again.".into(),
        ))
    }

    /// The problem's view for a check and the learner's progress in the
    /// course (states and grade revision, one read), the view's state
    /// taken from that progress.
    async fn check_view(
        &self,
        user: &User,
        course: PublishedCourse,
        sees: crate::visibility::Visibility,
        usage: &UsageKey,
    ) -> AppResult<(ProblemView, CourseProgress)> {
        let progress = self
            .guarded(self.store.course_progress(user.id, &course.record.key))
            .await?;
        let mine = progress.state_of(usage).cloned();
        let (view, _) = self
            .problem_view_in(user, course, sees, usage, Some(Known::Read(mine)), false)
            .await?;
        Ok((view, progress))
    }

    /// Stores answers without grading them (Open edX's "Save").
    pub async fn save_problem(
        &self,
        user: &User,
        usage: &UsageKey,
        answers: BTreeMap<String, Answer>,
    ) -> AppResult<ProblemView> {
        self.change_state(user, usage, |view, next| {
            if view.closed {
                return Err(AppError::Forbidden("This problem is closed.".into()));
            }
            next.answers = serde_json::to_value(normalise_answers(&view.problem, answers.clone())?)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(())
        })
        .await
        .inspect(|view| {
            self.track_problem(
                user,
                usage,
                "save_problem_success",
                json!({
                    "problem_id": usage.to_string(),
                    "answers": view.state.answers,
                }),
            );
        })
    }

    /// Clears the learner's answers and score (a new seed with rerandomize).
    pub async fn reset_problem(&self, user: &User, usage: &UsageKey) -> AppResult<ProblemView> {
        self.change_state(user, usage, |view, next| {
            if view.closed {
                return Err(AppError::Forbidden(
                    "This problem is closed; it cannot be reset.".into(),
                ));
            }
            next.answers = serde_json::Value::Object(Default::default());
            next.correct_map = serde_json::Value::Object(Default::default());
            next.raw_earned = 0.0;
            next.earned = 0.0;
            next.is_correct = false;
            next.reset_count += 1;
            Ok(())
        })
        .await
        .inspect(|view| {
            self.track_problem(
                user,
                usage,
                "reset_problem",
                json!({
                    "problem_id": usage.to_string(),
                    "new_state": { "seed": view.seed, "student_answers": {}, "correct_map": {} },
                }),
            );
        })
    }

    async fn change_state(
        &self,
        user: &User,
        usage: &UsageKey,
        change: impl Fn(&ProblemView, &mut ProblemState) -> AppResult<()>,
    ) -> AppResult<ProblemView> {
        for _ in 0..CAS_RETRIES {
            let view = self.problem_view(user, usage).await?;
            let mut next = view.state.clone();
            change(&view, &mut next)?;
            next.updated_at = self.now();
            let grade = self
                .grade_record_with(user, &view.course, Some(&next))
                .await?;
            match self
                .store
                .save_problem_state(&next, None, Some(&grade))
                .await
            {
                Ok(()) => return self.problem_view(user, usage).await,
                Err(StoreError::StaleRevision) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "Too many changes at once; try again.".into(),
        ))
    }

    /// The correct answers, only when `showanswer` allows it for this learner.
    pub async fn problem_answers(
        &self,
        user: &User,
        usage: &UsageKey,
    ) -> AppResult<(ProblemView, BTreeMap<String, Answer>)> {
        let view = self.problem_view(user, usage).await?;
        if !view.answer_available {
            return Err(AppError::Forbidden(
                "The answer to this problem is not available yet.".into(),
            ));
        }
        let (problem, seed) = (view.problem.clone(), view.seed);
        let answers = cpu::run(move || problem.correct_answers(seed)).await?;
        self.track_problem(
            user,
            usage,
            "showanswer",
            json!({ "problem_id": usage.to_string() }),
        );
        Ok((view, answers))
    }

    /// The history of a learner's graded submissions to a problem, with
    /// correctness and points hidden while `show_correctness` hides them.
    pub async fn submissions(
        &self,
        user: &User,
        usage: &UsageKey,
    ) -> AppResult<Vec<SubmissionView>> {
        let view = self.problem_view(user, usage).await?;
        let visible = view.correctness_available;
        Ok(self
            .store
            .submissions(user.id, usage)
            .await?
            .into_iter()
            .map(|s| SubmissionView::new(s, visible))
            .collect())
    }
}

/// Checks the submitted input ids and shapes: unknown ids are refused, a
/// checkbox answer is always a list, other inputs take one value.
fn normalise_answers(
    problem: &Problem,
    answers: BTreeMap<String, Answer>,
) -> AppResult<BTreeMap<String, Answer>> {
    if answers.len() > MAX_INPUTS {
        return Err(AppError::field(
            "answers",
            "Too many answers in one submission.",
        ));
    }
    let mut out = BTreeMap::new();
    for (id, answer) in answers {
        let Some(input) = problem.inputs().iter().find(|i| i.id == id) else {
            return Err(AppError::field(
                &id,
                format!("This problem has no input {id}."),
            ));
        };
        let answer = match (&input.kind, answer) {
            (InputKind::Checkbox, Answer::Single(v)) => {
                Answer::Multiple(if v.is_empty() { vec![] } else { vec![v] })
            }
            (_, a) => a,
        };
        out.insert(id, answer);
    }
    Ok(out)
}

//! Python-scripted problems in the application: the runner the binary
//! plugs in, the problem as one seed sees it (script run once, then kept),
//! and grading through the runner.
//!
//! Without a runner (`Lectern::python_runner` is `None`) nothing here runs
//! and scripted problems stay shown but not gradable, as before. With one,
//! a problem that needs Python is instantiated for the learner's seed on
//! the blocking pool (the runner blocks for up to its wall-time limit) and
//! the result is cached by (publish id, block, seed): published versions
//! never change and Open edX's seeds take few values (1, 20 bins, < 1000),
//! so a page view does not run Python every time. Course files a script may
//! import (`python_lib.zip`) are read from the blob store, size-checked on
//! the asset record first, and cached per publish id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lectern_content::problem::script::{
    ScriptEnv, ScriptError, ScriptFiles, MAX_SCRIPT_FILES_BYTES,
};
use lectern_content::problem::{Answer, Grading, InputError, Problem};
use lectern_content::script_runner::PythonRunner;
use lectern_content::Block;
use sha2::{Digest, Sha256};

use crate::cpu;
use crate::error::AppResult;
use crate::learning::PublishedCourse;
use crate::Lectern;

/// The course files handed to every script run: Open edX offers exactly
/// this one (`python_lib.zip`, on the script's import path).
const SCRIPT_FILES: &[&str] = &["python_lib.zip"];

/// Past this many instantiated problems (or course file sets) a cache
/// starts over: crude, bounded.
const CAPACITY: usize = 4_000;
const FILES_CAPACITY: usize = 16;

type InstanceKey = (String, lectern_content::BlockRef, u64, String);

/// Instantiated problems and course script files.
#[derive(Default)]
pub struct ScriptCache {
    instances: Mutex<HashMap<InstanceKey, Arc<Problem>>>,
    files: Mutex<HashMap<String, Arc<ScriptFiles>>>,
}

/// Open edX's `anonymous_student_id` stands for the learner in a course;
/// Lectern derives a stable one from the user id and course key.
pub fn anonymous_student_id(user_id: i64, course: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("lectern-anonymous|{user_id}|{course}").as_bytes());
    hex::encode(h.finalize())[..32].to_string()
}

impl Lectern {
    /// Runs Python-scripted problems through `runner` (the sandbox).
    pub fn set_python_runner(&mut self, runner: Arc<dyn PythonRunner>) {
        self.python_runner = Some(runner);
    }

    /// Builder form of [`Lectern::set_python_runner`].
    pub fn with_python_runner(mut self, runner: Arc<dyn PythonRunner>) -> Self {
        self.set_python_runner(runner);
        self
    }

    /// Whether scripted problems can be graded on this node.
    pub fn scripts_enabled(&self) -> bool {
        self.python_runner.is_some()
    }

    /// The course's script files, read once per published version.
    async fn script_files(&self, course: &PublishedCourse) -> AppResult<Arc<ScriptFiles>> {
        let cached = lock(&self.scripts.files).get(&course.publish_id).cloned();
        if let Some(files) = cached {
            return Ok(files);
        }
        let mut files = ScriptFiles::new();
        let mut total = 0u64;
        for name in SCRIPT_FILES {
            let Some(asset) = course.tree.assets.get(*name) else {
                continue;
            };
            total += asset.size;
            if total > MAX_SCRIPT_FILES_BYTES as u64 {
                tracing::warn!(file = %name, size = asset.size, "course script file too large; not given to scripts");
                continue;
            }
            if let Some(bytes) = self.guarded(self.store.blob(&asset.sha256)).await? {
                files.insert(name.to_string(), Arc::new(bytes.to_vec()));
            }
        }
        let files = Arc::new(files);
        let mut map = lock(&self.scripts.files);
        if map.len() >= FILES_CAPACITY {
            map.clear();
        }
        map.insert(course.publish_id.clone(), files.clone());
        Ok(files)
    }

    /// The problem as this learner's seed shows it. `Ok(Err)` when the
    /// script fails (the problem then stays ungraded, with that reason).
    pub(crate) async fn instantiate_problem(
        &self,
        course: &PublishedCourse,
        block: &Block,
        problem: &Arc<Problem>,
        seed: u64,
        user_id: i64,
    ) -> AppResult<Result<Arc<Problem>, ScriptError>> {
        let Some(runner) = self.python_runner.clone() else {
            return Ok(Ok(problem.clone()));
        };
        if !problem.needs_python() {
            return Ok(Ok(problem.clone()));
        }
        let anon = anonymous_student_id(user_id, &course.record.key.to_string());
        // Only a problem that names the learner's id differs by learner.
        let body = block.body.as_deref().unwrap_or("");
        let who = if body.contains("anonymous_student_id") {
            anon.clone()
        } else {
            String::new()
        };
        let key = (course.publish_id.clone(), block.block_ref(), seed, who);
        if let Some(p) = lock(&self.scripts.instances).get(&key).cloned() {
            return Ok(Ok(p));
        }
        let files = self.script_files(course).await?;
        let source = problem.clone();
        let made = cpu::run(move || {
            let env = ScriptEnv {
                runner: runner.as_ref(),
                files: &files,
                anonymous_student_id: &anon,
                attempt: 1,
            };
            source.instantiate(&env, seed)
        })
        .await?;
        match made {
            Ok(p) => {
                let p = Arc::new(p);
                let mut map = lock(&self.scripts.instances);
                if map.len() >= CAPACITY {
                    map.clear();
                }
                map.insert(key, p.clone());
                Ok(Ok(p))
            }
            Err(e) => {
                tracing::warn!(block = %block.id, error = %e, "a problem's script failed");
                Ok(Err(e))
            }
        }
    }

    /// Grades on the grading pool: through the runner when the problem
    /// needs Python, else as any problem.
    pub(crate) async fn grade_problem(
        &self,
        course: &PublishedCourse,
        problem: Arc<Problem>,
        answers: BTreeMap<String, Answer>,
        seed: u64,
        user_id: i64,
        attempt: u32,
    ) -> AppResult<Result<Grading, InputError>> {
        let runner = match (&self.python_runner, problem.needs_python()) {
            (Some(r), true) => r.clone(),
            // A choice, checkbox or dropdown check is graded here: the hop to
            // the grading pool and back cost more than the grading
            // (issue 18's check profile).
            _ if problem.grades_cheaply() => return Ok(problem.grade(&answers, seed)),
            _ => return cpu::run_grading(move || problem.grade(&answers, seed)).await,
        };
        let files = self.script_files(course).await?;
        let anon = anonymous_student_id(user_id, &course.record.key.to_string());
        cpu::run_grading(move || {
            let env = ScriptEnv {
                runner: runner.as_ref(),
                files: &files,
                anonymous_student_id: &anon,
                attempt,
            };
            problem.grade_scripted(&answers, seed, &env)
        })
        .await
    }
}

use std::collections::BTreeMap;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! Python-scripted problems, with Open edX's semantics.
//!
//! A CAPA problem may carry `<script type="loncapa/python">` code. Open edX
//! runs it once per learner seed to get its variables (`$x` in text,
//! attributes and answers), and again, fresh, for each `customresponse`
//! check. This module is the pure half of that: it extracts the code,
//! builds the one JSON document the harness ([`HARNESS`], a Python program)
//! reads, hands it to a [`PythonRunner`] (the sandbox, in production), and
//! reads the answer back. It never starts a process itself.
//!
//! The problem engine uses it through [`super::Problem::instantiate`] (the
//! problem as one seed sees it, variables substituted) and
//! [`super::Problem::grade_scripted`]. What Open edX does, and so what we do,
//! is written down in `docs/open-edx-compatibility.md`.

pub(crate) mod custom;
pub(crate) mod substitute;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::script_runner::{PythonRunner, ScriptFailure};

/// The harness program every run executes (see its docstring for the
/// protocol). The sandbox starts `python3` with it, warm, before the job.
pub const HARNESS: &str = include_str!("harness.py");

/// The most bytes of course files (e.g. `python_lib.zip`) one run is given.
pub const MAX_SCRIPT_FILES_BYTES: usize = 16 * 1024 * 1024;

/// Course files a script may import from (by file name, e.g.
/// `python_lib.zip`), shared by every run of a course version.
pub type ScriptFiles = BTreeMap<String, Arc<Vec<u8>>>;

/// What a scripted run needs besides the problem: the runner, the course's
/// files and the learner facts Open edX puts in a script's globals.
pub struct ScriptEnv<'a> {
    pub runner: &'a dyn PythonRunner,
    pub files: &'a ScriptFiles,
    /// Open edX's `anonymous_student_id` global.
    pub anonymous_student_id: &'a str,
    /// The attempt being graded, 1-based (Open edX's `attempt`).
    pub attempt: u32,
}

/// Why a scripted problem could not be prepared or checked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    /// The runner gave no answer (timeout, memory, no sandbox, crash).
    #[error("{0}")]
    Runner(ScriptFailure),
    /// The script raised an exception: Open edX shows its message (never a
    /// traceback), and so do we.
    #[error("{0}")]
    Script(String),
    /// The harness answered something this side cannot read, or the
    /// script's variables make the problem larger than allowed.
    #[error("{0}")]
    Invalid(String),
}

impl ScriptError {
    /// What a learner may be told.
    pub fn learner_message(&self) -> String {
        match self {
            ScriptError::Runner(f) => f.learner_message().to_string(),
            ScriptError::Script(m) => {
                const MAX: usize = 300;
                let mut m: String = m.chars().take(MAX).collect();
                if m.chars().count() == MAX {
                    m.push('…');
                }
                format!("The problem's script failed: {m}")
            }
            ScriptError::Invalid(_) => {
                "This problem's script gave an answer Lectern cannot use.".to_string()
            }
        }
    }
}

/// A script's variables for one seed: the JSON-safe globals, and each
/// one's Python `str()` in the order the script made them (what `$name`
/// becomes).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScriptContext {
    pub globals: Map<String, Value>,
    pub strings: Vec<(String, String)>,
}

/// A check's result in the one shape the harness normalises every cfn
/// return (and `<answer>` code's `correct`/`messages`) into.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
pub(crate) struct CheckResult {
    pub correct: Vec<String>,
    pub messages: Vec<String>,
    #[serde(default)]
    pub overall_message: String,
    #[serde(default)]
    pub grade_decimals: Option<Vec<f64>>,
}

/// The Python code of a problem: every `<script>` whose `type` mentions
/// neither `javascript` nor `perl`, in document order, concatenated as
/// Open edX does (`None` when there is none).
pub(crate) fn python_code(root: &super::xml::Element) -> Option<String> {
    let mut code = String::new();
    let mut found = false;
    for e in std::iter::once(root).chain(root.descendants()) {
        if e.tag != "script" {
            continue;
        }
        let ty = e.attr("type").unwrap_or("");
        if ty.contains("javascript") || ty.contains("perl") {
            continue;
        }
        found = true;
        code.push_str(&unescape_script(&e.leading_text()));
    }
    found.then_some(code)
}

/// Open edX unescapes script text once more after XML parsing (`&lt;`,
/// `&gt;`, `&apos;`, `&quot;`, then `&amp;`).
fn unescape_script(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn files_json(files: &ScriptFiles) -> Value {
    let mut out = Map::new();
    let mut total = 0usize;
    for (name, bytes) in files {
        total += bytes.len();
        if total > MAX_SCRIPT_FILES_BYTES {
            break;
        }
        out.insert(
            name.clone(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes.as_slice())),
        );
    }
    Value::Object(out)
}

/// One run: the request in, the harness's `ok` answer out.
fn call(env: &ScriptEnv, mut request: Map<String, Value>) -> Result<Value, ScriptError> {
    request.insert("files".into(), files_json(env.files));
    let input = serde_json::to_vec(&Value::Object(request))
        .map_err(|e| ScriptError::Invalid(e.to_string()))?;
    let output = env.runner.run(&input).map_err(ScriptError::Runner)?;
    let answer: Value = serde_json::from_slice(&output)
        .map_err(|e| ScriptError::Invalid(format!("the harness answered no JSON: {e}")))?;
    match answer.get("ok") {
        Some(Value::Bool(true)) => Ok(answer),
        _ => Err(ScriptError::Script(
            answer
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("the script failed")
                .to_string(),
        )),
    }
}

/// The globals a script starts with in Open edX: `seed` and
/// `anonymous_student_id`.
fn start_globals(env: &ScriptEnv, seed: u64) -> Map<String, Value> {
    let mut g = Map::new();
    g.insert("seed".into(), json!(seed));
    g.insert(
        "anonymous_student_id".into(),
        json!(env.anonymous_student_id),
    );
    g
}

/// Runs the script for `seed` and returns its variables. A problem with
/// no script code (a `customresponse` with `<answer>` code only) gets the
/// starting globals without a run, as in Open edX.
pub(crate) fn run_context(
    env: &ScriptEnv,
    code: &str,
    seed: u64,
) -> Result<ScriptContext, ScriptError> {
    let globals = start_globals(env, seed);
    if code.is_empty() {
        let strings = globals
            .iter()
            .map(|(k, v)| (k.clone(), python_str_simple(v)))
            .collect();
        return Ok(ScriptContext { globals, strings });
    }
    let mut req = Map::new();
    req.insert("action".into(), json!("context"));
    req.insert("script".into(), json!(code));
    req.insert("seed".into(), json!(seed));
    req.insert("globals".into(), Value::Object(globals));
    let answer = call(env, req)?;
    let globals = match answer.get("globals") {
        Some(Value::Object(m)) => m.clone(),
        _ => return Err(ScriptError::Invalid("the harness sent no globals".into())),
    };
    let strings = match answer.get("strings") {
        Some(Value::Array(pairs)) => pairs
            .iter()
            .filter_map(|p| match p.as_array().map(Vec::as_slice) {
                Some([Value::String(k), Value::String(v)]) => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect(),
        _ => return Err(ScriptError::Invalid("the harness sent no strings".into())),
    };
    Ok(ScriptContext { globals, strings })
}

/// `str()` of a starting global (an int or a string).
fn python_str_simple(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_result(answer: &Value) -> Result<CheckResult, ScriptError> {
    let result = answer
        .get("result")
        .cloned()
        .ok_or_else(|| ScriptError::Invalid("the harness sent no result".into()))?;
    serde_json::from_value(result).map_err(|e| ScriptError::Invalid(e.to_string()))
}

/// A `cfn` check: the whole script again, reseeded, then
/// `cfn(expect, ans, **kwargs)`; only `expect`, `ans` and the keyword
/// arguments are in its globals, as in Open edX.
pub(crate) struct CfnCall<'a> {
    pub code: &'a str,
    pub cfn: &'a str,
    pub expect: Value,
    pub ans: Value,
    pub kwargs: Map<String, Value>,
    pub inputs: usize,
}

pub(crate) fn run_cfn(
    env: &ScriptEnv,
    call_: CfnCall<'_>,
    seed: u64,
) -> Result<CheckResult, ScriptError> {
    let mut req = Map::new();
    req.insert("action".into(), json!("check"));
    req.insert("script".into(), json!(call_.code));
    req.insert("seed".into(), json!(seed));
    req.insert("globals".into(), Value::Object(Map::new()));
    req.insert("cfn".into(), json!(call_.cfn));
    req.insert("expect".into(), call_.expect);
    req.insert("ans".into(), call_.ans);
    req.insert("kwargs".into(), Value::Object(call_.kwargs));
    req.insert("inputs".into(), json!(call_.inputs));
    read_result(&call(env, req)?)
}

/// `<answer type="loncapa/python">` code: run alone, reseeded, with the
/// script's variables and the response's (`submission`, `correct`, …) as
/// globals; its `correct`, `messages`, `overall_message` and
/// `grade_decimals` are the result.
pub(crate) fn run_answer_code(
    env: &ScriptEnv,
    code: &str,
    globals: Map<String, Value>,
    seed: u64,
) -> Result<CheckResult, ScriptError> {
    let mut req = Map::new();
    req.insert("action".into(), json!("code"));
    req.insert("code".into(), json!(code));
    req.insert("seed".into(), json!(seed));
    req.insert("globals".into(), Value::Object(globals));
    read_result(&call(env, req)?)
}

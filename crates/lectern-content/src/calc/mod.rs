//! The expression evaluator for numerical and formula input, compatible with
//! Open edX's `openedx-calc` 4.0.3 (see OPENEDX-NOTES.md, "The evaluator").
//!
//! [`evaluate`] gives the same value, or the same kind of error, as Open
//! edX's `calc.evaluator(variables, {}, expr, case_sensitive)` for the same
//! input: the grammar (`parse`), the mixed Python/numpy number rules that
//! decide between an error, an infinity and a NaN (`value`, `bigint`), the
//! built-in functions and constants (`funcs`) and the way results combine
//! (`eval`). Differential tests against the real package live in
//! `tests/oracle/calc_diff.py`.
//!
//! Behaviour worth knowing:
//! - No implicit multiplication: `2x`, `2 x`, `(2)(3)` and `5k` are syntax
//!   errors, and `x(2)` is a call of an unknown function `x`.
//! - `^` binds tighter than a leading minus (`-2^2` is −4) but a number
//!   carries its own sign (`2*-2^2` is 8, `2*-x` is a syntax error).
//! - A blank expression evaluates to NaN, as in Open edX.
//! - Division by zero is an error in plain arithmetic (`1/0`) but an
//!   infinity after a function (`1/sin(0)`); `1e999` is infinity while
//!   `10.0^400` is an overflow error.
//!
//! Work is bounded (see [`crate::limits`]): expressions longer than
//! `MAX_EXPRESSION_CHARS` or nested deeper than `MAX_EXPRESSION_DEPTH` are
//! refused before they are parsed, exact integers stop at `MAX_INT_BITS`,
//! and every evaluation draws on a [`Budget`] of work, so no input can
//! take more than a bounded amount of time or memory.

mod bigint;
mod cmath;
mod eval;
mod funcs;
mod parse;
mod value;

#[cfg(test)]
mod tests;

use crate::limits::{MAX_EVALUATION_WORK, MAX_EXPRESSION_CHARS};
/// The number type of variables and results.
pub use num_complex::Complex64;
use std::cell::Cell;
use std::collections::HashMap;

/// Why an expression has no value. Every variant means the input is
/// rejected; none is a wrong answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalcError {
    /// The text is not a well-formed expression (includes unbalanced
    /// parentheses and nesting deeper than Lectern supports).
    #[error("Invalid input: {message} (at character {position})")]
    Syntax {
        /// Character index (0-based) where the problem was found.
        position: usize,
        message: String,
    },
    /// Names used as variables that are not defined, sorted and separated
    /// by ", " (e.g. `"x, y"`).
    #[error("Invalid input: {0} not permitted in answer as a variable")]
    UndefinedVariable(String),
    /// Names used as functions that are not defined, sorted and separated
    /// by ", ".
    #[error("Invalid input: {0} not permitted in answer as a function")]
    UndefinedFunction(String),
    /// Division by zero, or zero to a negative power, in exact or
    /// floating-point arithmetic (Python's ZeroDivisionError).
    #[error("Invalid input: division by zero")]
    DivisionByZero,
    /// A function called outside its domain, such as `fact(-1)` or
    /// `fact(1.5)` (Python's ValueError or TypeError).
    #[error("Invalid input: {0}")]
    Domain(String),
    /// A result too large to represent (Python's OverflowError), such as
    /// `10.0^400`.
    #[error("Invalid input: {0}")]
    Overflow(String),
    /// The expression is longer, or needs more work, than Lectern allows
    /// (see [`crate::limits`]). Open edX has no such bound.
    #[error("Invalid input: {0}")]
    TooComplex(String),
}

/// The work evaluations may still do, in rough machine-word operations.
/// One budget can be shared by several evaluations (a formula's samples)
/// so their total is bounded, not just each one.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
}

impl Budget {
    /// A budget of `units`.
    pub fn new(units: u64) -> Self {
        Self {
            left: Cell::new(units),
        }
    }

    /// The budget of one evaluation ([`MAX_EVALUATION_WORK`]).
    pub fn standard() -> Self {
        Self::new(MAX_EVALUATION_WORK)
    }

    /// Takes `units`, or fails when there are not that many left.
    pub(crate) fn spend(&self, units: u64) -> Result<(), CalcError> {
        let left = self.left.get();
        if units > left {
            self.left.set(0);
            return Err(CalcError::TooComplex(
                "the expression needs more computation than Lectern allows".to_string(),
            ));
        }
        self.left.set(left - units);
        Ok(())
    }
}

thread_local! {
    /// The budget of the grading running on this thread, if any (see
    /// [`Budget::scope`]).
    static SCOPED: std::cell::RefCell<Option<std::rc::Rc<Budget>>> =
        const { std::cell::RefCell::new(None) };
}

impl Budget {
    /// Runs `f` with `self` as the budget of every [`evaluate`] call it
    /// makes on this thread, so that a caller (grading a whole problem:
    /// learner answers, staff answers, tolerances) bounds the total without
    /// passing the budget through every layer. Scopes nest; the innermost
    /// wins.
    pub fn scope<T>(self, f: impl FnOnce() -> T) -> T {
        let previous = SCOPED.with(|s| s.replace(Some(std::rc::Rc::new(self))));
        // Restored even if `f` panics, so a later grading never inherits it.
        struct Restore(Option<std::rc::Rc<Budget>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                SCOPED.with(|s| *s.borrow_mut() = previous);
            }
        }
        let _restore = Restore(previous);
        f()
    }
}

/// Refuses text longer than the evaluator reads.
fn check_length(expr: &str) -> Result<(), CalcError> {
    // Bytes first: a cheap bound before counting characters.
    if expr.len() > MAX_EXPRESSION_CHARS && expr.chars().count() > MAX_EXPRESSION_CHARS {
        return Err(CalcError::TooComplex(format!(
            "the expression is longer than {MAX_EXPRESSION_CHARS} characters"
        )));
    }
    Ok(())
}

/// Python's `str.isspace`, used for Open edX's blank-expression check.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Sorted, de-duplicated names joined by ", ", as Open edX lists them.
fn name_list(mut names: Vec<String>) -> String {
    names.sort();
    names.dedup();
    names.join(", ")
}

/// Evaluates `expr` with the caller's variables, within the budget of the
/// enclosing [`Budget::scope`], or else the work of one evaluation
/// ([`Budget::standard`]).
///
/// Built-in constants are `pi`, `e`, `i` and `j`; a variable of the same
/// name overrides them. Unless `case_sensitive`, variable, constant and
/// function names match regardless of case. A variable whose imaginary part
/// is zero is a real number (a Python float), otherwise a complex one.
pub fn evaluate(
    expr: &str,
    vars: &HashMap<String, Complex64>,
    case_sensitive: bool,
) -> Result<Complex64, CalcError> {
    match SCOPED.with(|s| s.borrow().clone()) {
        Some(budget) => evaluate_within(expr, vars, case_sensitive, &budget),
        None => evaluate_within(expr, vars, case_sensitive, &Budget::standard()),
    }
}

/// [`evaluate`], drawing on a budget the caller shares between several
/// evaluations. Reading the expression costs its length.
pub fn evaluate_within(
    expr: &str,
    vars: &HashMap<String, Complex64>,
    case_sensitive: bool,
    budget: &Budget,
) -> Result<Complex64, CalcError> {
    check_length(expr)?;
    if expr.chars().all(is_py_space) {
        return Ok(Complex64::new(f64::NAN, 0.0));
    }
    budget.spend(expr.len() as u64)?;
    let tree = parse::parse(expr)?;
    let mut env = eval::Env {
        vars: HashMap::new(),
        case_sensitive,
        budget,
    };
    for name in funcs::CONSTANTS {
        if let Some(v) = funcs::constant(name) {
            env.vars.insert(name.to_string(), v);
        }
    }
    // Sorted so that names equal but for case resolve the same way on
    // every run (the last in sort order wins).
    let mut given: Vec<(&String, &Complex64)> = vars.iter().collect();
    given.sort_by(|a, b| a.0.cmp(b.0));
    for (name, z) in given {
        let v = if z.im == 0.0 {
            value::Value::Float(z.re)
        } else {
            value::Value::Complex(*z)
        };
        env.vars.insert(env.key(name), v);
    }

    let (mut used_vars, mut used_funcs) = (Vec::new(), Vec::new());
    parse::names_used(&tree, &mut used_vars, &mut used_funcs);
    used_vars.retain(|v| !env.vars.contains_key(&env.key(v)));
    if !used_vars.is_empty() {
        return Err(CalcError::UndefinedVariable(name_list(used_vars)));
    }
    used_funcs.retain(|f| !funcs::FUNCTIONS.contains(&env.key(f).as_str()));
    if !used_funcs.is_empty() {
        return Err(CalcError::UndefinedFunction(name_list(used_funcs)));
    }
    eval::eval(&tree, &env)?.into_complex()
}

/// The names `expr` uses as variables, sorted and without repeats, leaving
/// out function names and the built-in constants (`pi`, `e`, `i`, `j`, in
/// any case). A blank expression uses none. Fails only on a syntax error.
pub fn variables_used(expr: &str) -> Result<Vec<String>, CalcError> {
    check_length(expr)?;
    if expr.chars().all(is_py_space) {
        return Ok(Vec::new());
    }
    let tree = parse::parse(expr)?;
    let (mut vars, mut funcs) = (Vec::new(), Vec::new());
    parse::names_used(&tree, &mut vars, &mut funcs);
    vars.retain(|v| !funcs::CONSTANTS.contains(&v.to_ascii_lowercase().as_str()));
    vars.sort();
    vars.dedup();
    Ok(vars)
}

//! Walks a parsed expression and computes its value, combining the parts
//! exactly as Open edX's evaluator does: every child is evaluated before
//! its parent combines them (so the first error met is the same), a sum
//! starts from the integer 0 and a product from the integer 1, a power
//! chain is folded from the right, and `a || b` is `1 / (1/a + 1/b)` but NaN
//! as soon as one term is zero.

use super::funcs;
use super::parse::{MulOp, Node, Sign};
use super::value::{binop, Op, Value};
use super::{Budget, CalcError};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::collections::HashMap;

/// The names an expression may use, already in lookup form, and the work
/// it may still do.
pub(crate) struct Env<'b> {
    pub(crate) vars: HashMap<String, Value>,
    pub(crate) case_sensitive: bool,
    pub(crate) budget: &'b Budget,
}

impl Env<'_> {
    pub(crate) fn key(&self, name: &str) -> String {
        if self.case_sensitive {
            name.to_string()
        } else {
            name.to_ascii_lowercase()
        }
    }

    /// `binop`, paid for: exact integers cost their size in machine
    /// words, and a product or power its size squared (what multiplying
    /// costs), so long chains of huge numbers run out of budget.
    fn op(&self, op: Op, a: Value, b: Value) -> Result<Value, CalcError> {
        let inputs = limbs(&a) + limbs(&b);
        let out = binop(op, a, b)?;
        let n = limbs(&out);
        let squared = if matches!(op, Op::Mul | Op::Pow) {
            n * n / 64
        } else {
            0
        };
        self.budget.spend(1 + inputs + n + squared)?;
        Ok(out)
    }
}

/// The size of an exact integer in 64-bit words (0 for other numbers).
fn limbs(v: &Value) -> u64 {
    match v {
        Value::Int(n) => n.bits() / 64 + 1,
        _ => 0,
    }
}

/// The value of a numeric literal: a `%` suffix makes a float times 0.01,
/// a point or exponent makes a float, anything else an exact integer.
fn number(text: &str) -> Result<Value, CalcError> {
    let bad = || CalcError::Syntax {
        position: 0,
        message: format!("\"{text}\" is not a number"),
    };
    if let Some(body) = text.strip_suffix('%') {
        let x: f64 = body.parse().map_err(|_| bad())?;
        return Ok(Value::Float(x * 0.01));
    }
    if text.contains(['.', 'E', 'e']) {
        return text.parse().map(Value::Float).map_err(|_| bad());
    }
    let digits = text.strip_prefix('+').unwrap_or(text);
    digits.parse::<BigInt>().map(Value::Int).map_err(|_| bad())
}

fn eval_all<'a>(nodes: impl Iterator<Item = &'a Node>, env: &Env) -> Result<Vec<Value>, CalcError> {
    nodes.map(|n| eval(n, env)).collect()
}

pub(crate) fn eval(node: &Node, env: &Env) -> Result<Value, CalcError> {
    env.budget.spend(1)?;
    match node {
        Node::Number(text) => number(text),
        Node::Variable(name) => env
            .vars
            .get(&env.key(name))
            .cloned()
            .ok_or_else(|| CalcError::UndefinedVariable(name.clone())),
        Node::Function(name, arg) => {
            let value = eval(arg, env)?;
            let key = env.key(name);
            let out = funcs::call(&key, &value)
                .unwrap_or_else(|| Err(CalcError::UndefinedFunction(name.clone())))?;
            // A factorial multiplies n times into a number as large as its result.
            let n = limbs(&out);
            if n > 1 && (key == "fact" || key == "factorial") {
                let times = match &value {
                    Value::Int(k) => k.to_u64().unwrap_or(u64::MAX),
                    Value::NpInt(k) => k.unsigned_abs(),
                    _ => 1,
                };
                env.budget.spend(n.saturating_mul(times) / 2)?;
            }
            Ok(out)
        }
        Node::Sum(terms) => {
            let values = eval_all(terms.iter().map(|(_, t)| t), env)?;
            let mut total = Value::Int(BigInt::from(0));
            for ((sign, _), v) in terms.iter().zip(values) {
                let op = match sign {
                    Sign::Plus => Op::Add,
                    Sign::Minus => Op::Sub,
                };
                total = env.op(op, total, v)?;
            }
            Ok(total)
        }
        Node::Product(first, rest) => {
            let head = eval(first, env)?;
            let values = eval_all(rest.iter().map(|(_, t)| t), env)?;
            let mut prod = env.op(Op::Mul, Value::Int(BigInt::from(1)), head)?;
            for ((op, _), v) in rest.iter().zip(values) {
                let op = match op {
                    MulOp::Mul => Op::Mul,
                    MulOp::Div => Op::Div,
                };
                prod = env.op(op, prod, v)?;
            }
            Ok(prod)
        }
        Node::Parallel(terms) => {
            let mut values = eval_all(terms.iter(), env)?;
            if values.len() == 1 {
                return values.pop().ok_or(CalcError::DivisionByZero);
            }
            if values.iter().any(Value::is_zero) {
                return Ok(Value::Float(f64::NAN));
            }
            let mut sum = Value::Int(BigInt::from(0));
            for v in values {
                let reciprocal = env.op(Op::Div, Value::Float(1.0), v)?;
                sum = env.op(Op::Add, sum, reciprocal)?;
            }
            env.op(Op::Div, Value::Float(1.0), sum)
        }
        Node::Power(atoms) => {
            let mut values = eval_all(atoms.iter(), env)?;
            let mut acc = values.pop().ok_or(CalcError::DivisionByZero)?;
            while let Some(base) = values.pop() {
                acc = env.op(Op::Pow, base, acc)?;
            }
            Ok(acc)
        }
    }
}

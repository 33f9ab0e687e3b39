//! The built-in functions and constants of Open edX's evaluator.
//!
//! Most functions are numpy's: they return numpy numbers (so later
//! arithmetic follows numpy's rules), map real inputs to real outputs and
//! complex to complex. `sqrt`, `ln`, `log10`, `log2`, `arcsin`, `arccos`
//! and `arctanh` switch to the complex result when a real input is outside
//! their real domain (`sqrt(-1)` is `i`); the others give NaN there
//! (`arccosh(0.5)`). The secant family is `1 / cos(x)` and so on, and the
//! inverse secant family is `arccos(1. / x)`, with the ordinary arithmetic
//! rules (`arcsec(0)` divides by zero). `fact` accepts only whole numbers.

use super::bigint::int_to_f64;
use super::cmath;
use super::value::{binop, Op, Value, MAX_INT_BITS};
use super::CalcError;
use crate::limits::MAX_FACT;
use num_bigint::BigInt;
use num_complex::Complex64 as C64;
use num_traits::{Signed, ToPrimitive};
use std::f64::consts::PI;

/// The constants every expression may use (callers' variables override).
pub(crate) const CONSTANTS: [&str; 4] = ["e", "i", "j", "pi"];

/// The value of a built-in constant, by lower-case name.
pub(crate) fn constant(name: &str) -> Option<Value> {
    match name {
        "e" => Some(Value::Float(std::f64::consts::E)),
        "pi" => Some(Value::Float(PI)),
        "i" | "j" => Some(Value::Complex(C64::new(0.0, 1.0))),
        _ => None,
    }
}

/// Every built-in function name (lower case).
pub(crate) const FUNCTIONS: [&str; 32] = [
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "sqrt",
    "log10",
    "log2",
    "ln",
    "exp",
    "arccos",
    "arcsin",
    "arctan",
    "arcsec",
    "arccsc",
    "arccot",
    "abs",
    "fact",
    "factorial",
    "sinh",
    "cosh",
    "tanh",
    "sech",
    "csch",
    "coth",
    "arcsinh",
    "arccosh",
    "arctanh",
    "arcsech",
    "arccsch",
    "arccoth",
];

/// How a numpy function sees its argument.
enum NpArg {
    Real(f64),
    Complex(C64),
}

/// numpy's conversion of an argument: Python integers become int64 or
/// uint64 when they fit and are refused otherwise.
fn np_arg(v: &Value) -> Result<NpArg, CalcError> {
    match v {
        Value::Int(n) => {
            if let Some(i) = n.to_i64() {
                Ok(NpArg::Real(i as f64))
            } else if let Some(u) = n.to_u64() {
                Ok(NpArg::Real(u as f64))
            } else {
                Err(CalcError::Domain(
                    "an integer this large cannot be passed to a function".to_string(),
                ))
            }
        }
        Value::NpInt(n) => Ok(NpArg::Real(*n as f64)),
        Value::Float(x) | Value::NpFloat(x) => Ok(NpArg::Real(*x)),
        Value::Complex(z) | Value::NpComplex(z) => Ok(NpArg::Complex(*z)),
    }
}

/// A plain numpy function: real in, real out; complex in, complex out.
fn np_unary(v: &Value, re: fn(f64) -> f64, cx: fn(C64) -> C64) -> Result<Value, CalcError> {
    Ok(match np_arg(v)? {
        NpArg::Real(x) => Value::NpFloat(re(x)),
        NpArg::Complex(z) => Value::NpComplex(cx(z)),
    })
}

/// A `numpy.lib.scimath` function: a real input for which `to_complex`
/// holds is computed as complex.
fn scimath(
    v: &Value,
    to_complex: fn(f64) -> bool,
    re: fn(f64) -> f64,
    cx: fn(C64) -> C64,
) -> Result<Value, CalcError> {
    if let Value::Int(n) = v {
        if n.to_i64().is_none() && n.to_u64().is_none() {
            // numpy holds such an integer as a Python object: usable only
            // when the function first converts it to complex.
            let x = if n.is_negative() {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            if to_complex(x) {
                return Ok(Value::NpComplex(cx(C64::new(int_to_f64(n)?, 0.0))));
            }
        }
    }
    Ok(match np_arg(v)? {
        NpArg::Real(x) if to_complex(x) => Value::NpComplex(cx(C64::new(x, 0.0))),
        NpArg::Real(x) => Value::NpFloat(re(x)),
        NpArg::Complex(z) => Value::NpComplex(cx(z)),
    })
}

fn negative(x: f64) -> bool {
    x < 0.0
}

fn outside_unit(x: f64) -> bool {
    x.abs() > 1.0
}

/// `1 / f(x)` with Open edX's arithmetic (`1` is a Python integer).
fn reciprocal_of(v: Value) -> Result<Value, CalcError> {
    binop(Op::Div, Value::Int(BigInt::from(1)), v)
}

/// `1. / x` (a Python float over the argument).
fn one_over(v: &Value) -> Result<Value, CalcError> {
    binop(Op::Div, Value::Float(1.0), v.clone())
}

fn real_atanh(x: f64) -> f64 {
    if x.abs() > 1.0 {
        f64::NAN
    } else {
        x.atanh()
    }
}

fn real_asin(x: f64) -> f64 {
    x.asin()
}

fn real_acos(x: f64) -> f64 {
    x.acos()
}

/// `abs`: numpy's absolute value, which keeps integers as int64 (wrapping
/// at the most negative one) and hands larger Python integers back exact.
fn abs(v: &Value) -> Value {
    match v {
        Value::Int(n) => match n.to_i64() {
            Some(i) => Value::NpInt(i.wrapping_abs()),
            None => Value::Int(n.abs()),
        },
        Value::NpInt(n) => Value::NpInt(n.wrapping_abs()),
        Value::Float(x) | Value::NpFloat(x) => Value::NpFloat(x.abs()),
        Value::Complex(z) | Value::NpComplex(z) => Value::NpFloat(z.re.hypot(z.im)),
    }
}

/// `fact`: Python's `math.factorial`, for whole numbers only.
fn factorial(v: &Value) -> Result<Value, CalcError> {
    let n = match v {
        Value::Int(n) => n.clone(),
        Value::NpInt(n) => BigInt::from(*n),
        _ => {
            return Err(CalcError::Domain(
                "factorial is defined only for whole numbers".to_string(),
            ))
        }
    };
    if n.is_negative() {
        return Err(CalcError::Domain(
            "factorial is not defined for negative numbers".to_string(),
        ));
    }
    let n = match n.to_u64() {
        Some(n) if n <= MAX_FACT => n,
        _ => {
            return Err(CalcError::Overflow(format!(
                "factorial of more than {MAX_FACT} is too large (limit {MAX_INT_BITS} bits)"
            )))
        }
    };
    let mut acc = BigInt::from(1);
    for k in 2..=n {
        acc *= k;
    }
    Ok(Value::Int(acc))
}

/// `arccot`: `±pi/2 - arctan(x)`, the sign chosen by the real part.
fn arccot(v: &Value) -> Result<Value, CalcError> {
    let half_pi = if v.real_part()? < 0.0 {
        -PI / 2.0
    } else {
        PI / 2.0
    };
    let atan = np_unary(v, f64::atan, cmath::atan)?;
    binop(Op::Sub, Value::Float(half_pi), atan)
}

/// Applies the built-in function `name` (lower case) to `arg`; `None` if
/// there is no such function.
pub(crate) fn call(name: &str, arg: &Value) -> Option<Result<Value, CalcError>> {
    let v = arg;
    Some(match name {
        "sin" => np_unary(v, f64::sin, cmath::sin),
        "cos" => np_unary(v, f64::cos, cmath::cos),
        "tan" => np_unary(v, f64::tan, cmath::tan),
        "sec" => np_unary(v, f64::cos, cmath::cos).and_then(reciprocal_of),
        "csc" => np_unary(v, f64::sin, cmath::sin).and_then(reciprocal_of),
        "cot" => np_unary(v, f64::tan, cmath::tan).and_then(reciprocal_of),
        "sqrt" => scimath(v, negative, f64::sqrt, cmath::sqrt),
        "log10" => scimath(v, negative, f64::log10, cmath::log10),
        "log2" => scimath(v, negative, f64::log2, cmath::log2),
        "ln" => scimath(v, negative, f64::ln, cmath::ln),
        "exp" => np_unary(v, f64::exp, cmath::exp),
        "arccos" => scimath(v, outside_unit, real_acos, cmath::acos),
        "arcsin" => scimath(v, outside_unit, real_asin, cmath::asin),
        "arctan" => np_unary(v, f64::atan, cmath::atan),
        "arcsec" => one_over(v).and_then(|w| np_unary(&w, real_acos, cmath::acos)),
        "arccsc" => one_over(v).and_then(|w| np_unary(&w, real_asin, cmath::asin)),
        "arccot" => arccot(v),
        "abs" => Ok(abs(v)),
        "fact" | "factorial" => factorial(v),
        "sinh" => np_unary(v, f64::sinh, cmath::sinh),
        "cosh" => np_unary(v, f64::cosh, cmath::cosh),
        "tanh" => np_unary(v, f64::tanh, cmath::tanh),
        "sech" => np_unary(v, f64::cosh, cmath::cosh).and_then(reciprocal_of),
        "csch" => np_unary(v, f64::sinh, cmath::sinh).and_then(reciprocal_of),
        "coth" => np_unary(v, f64::tanh, cmath::tanh).and_then(reciprocal_of),
        "arcsinh" => np_unary(v, cmath::real_asinh, cmath::asinh),
        "arccosh" => np_unary(v, cmath::real_acosh, cmath::acosh),
        "arctanh" => scimath(v, outside_unit, real_atanh, cmath::atanh),
        "arcsech" => one_over(v).and_then(|w| np_unary(&w, cmath::real_acosh, cmath::acosh)),
        "arccsch" => one_over(v).and_then(|w| np_unary(&w, cmath::real_asinh, cmath::asinh)),
        "arccoth" => one_over(v).and_then(|w| np_unary(&w, real_atanh, cmath::atanh)),
        _ => return None,
    })
}

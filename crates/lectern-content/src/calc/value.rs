//! Numbers as Open edX's evaluator holds them, and arithmetic on them.
//!
//! `openedx-calc` computes with a mix of Python numbers (exact integers,
//! floats, complex) and numpy scalars (what its functions return), and the
//! two follow different rules: `1/0.0` raises an error in Python but
//! `1/sin(0)` is infinity in numpy; `10.0^400` raises an overflow error but
//! `exp(1000)` is infinity; `(-8)^(1/3)` is a complex number but
//! `(-8*abs(1))^(1/3)` is NaN. To give the same answers and the same errors,
//! each value remembers which of the six kinds it is, and every operation
//! picks Python's or numpy's rule the way Python's operator dispatch does.

use super::bigint::{int_to_f64, int_true_div};
use super::cmath;
use super::CalcError;
use num_bigint::BigInt;
use num_complex::Complex64 as C64;
use num_traits::{One, Signed, ToPrimitive, Zero};

pub(crate) use crate::limits::MAX_INT_BITS;

/// One number in an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Python `int`: exact, unbounded.
    Int(BigInt),
    /// Python `float`.
    Float(f64),
    /// Python `complex`.
    Complex(C64),
    /// `numpy.int64` (from `abs` of an integer): wraps on overflow.
    NpInt(i64),
    /// `numpy.float64`: no errors, infinities and NaN instead.
    NpFloat(f64),
    /// `numpy.complex128`.
    NpComplex(C64),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Kind {
    Int,
    Float,
    Complex,
}

impl Value {
    fn is_numpy(&self) -> bool {
        matches!(
            self,
            Value::NpInt(_) | Value::NpFloat(_) | Value::NpComplex(_)
        )
    }

    fn kind(&self) -> Kind {
        match self {
            Value::Int(_) | Value::NpInt(_) => Kind::Int,
            Value::Float(_) | Value::NpFloat(_) => Kind::Float,
            Value::Complex(_) | Value::NpComplex(_) => Kind::Complex,
        }
    }

    /// Python's `value == 0`.
    pub(crate) fn is_zero(&self) -> bool {
        match self {
            Value::Int(n) => n.is_zero(),
            Value::NpInt(n) => *n == 0,
            Value::Float(x) | Value::NpFloat(x) => *x == 0.0,
            Value::Complex(z) | Value::NpComplex(z) => z.re == 0.0 && z.im == 0.0,
        }
    }

    /// The real part as a float, as `numpy.real` would give it, for the
    /// sign test in `arccot`.
    pub(crate) fn real_part(&self) -> Result<f64, CalcError> {
        match self {
            Value::Int(n) => int_to_f64(n),
            Value::NpInt(n) => Ok(*n as f64),
            Value::Float(x) | Value::NpFloat(x) => Ok(*x),
            Value::Complex(z) | Value::NpComplex(z) => Ok(z.re),
        }
    }

    /// Python's `float(value)` for a real value, used where Python code
    /// converts an integer before numeric work.
    fn py_float(&self) -> Result<f64, CalcError> {
        match self {
            Value::Int(n) => int_to_f64(n),
            Value::NpInt(n) => Ok(*n as f64),
            Value::Float(x) | Value::NpFloat(x) => Ok(*x),
            Value::Complex(z) | Value::NpComplex(z) => Ok(z.re),
        }
    }

    fn py_complex(&self) -> Result<C64, CalcError> {
        match self {
            Value::Complex(z) | Value::NpComplex(z) => Ok(*z),
            other => Ok(C64::new(other.py_float()?, 0.0)),
        }
    }

    /// The final answer as a complex number (what the caller compares).
    pub(crate) fn into_complex(self) -> Result<C64, CalcError> {
        self.py_complex()
    }
}

/// `a op b` with Python's operator dispatch between Python and numpy types.
pub(crate) fn binop(op: Op, a: Value, b: Value) -> Result<Value, CalcError> {
    // A numpy operand makes numpy do the work, except that a Python complex
    // on the left accepts a numpy float (a float subclass) itself.
    let numpy = match (&a, &b) {
        (Value::Complex(_), Value::NpFloat(_)) => false,
        _ => a.is_numpy() || b.is_numpy(),
    };
    if numpy {
        np_binop(op, &a, &b)
    } else {
        py_binop(op, a, b)
    }
}

fn py_binop(op: Op, a: Value, b: Value) -> Result<Value, CalcError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_op(op, x, y),
        (a, b) if a.kind() == Kind::Complex || b.kind() == Kind::Complex => {
            py_complex_op(op, a.py_complex()?, b.py_complex()?).map(Value::Complex)
        }
        (a, b) => py_float_op(op, a.py_float()?, b.py_float()?),
    }
}

fn too_big() -> CalcError {
    CalcError::Overflow(format!("an exact integer would exceed {MAX_INT_BITS} bits"))
}

fn int_op(op: Op, x: BigInt, y: BigInt) -> Result<Value, CalcError> {
    match op {
        Op::Add => Ok(Value::Int(x + y)),
        Op::Sub => Ok(Value::Int(x - y)),
        Op::Mul => {
            if x.bits() + y.bits() > MAX_INT_BITS {
                return Err(too_big());
            }
            Ok(Value::Int(x * y))
        }
        Op::Div => {
            if y.is_zero() {
                return Err(CalcError::DivisionByZero);
            }
            Ok(Value::Float(int_true_div(&x, &y)?))
        }
        Op::Pow => {
            if y.is_negative() {
                // Python converts both to float for a negative exponent.
                return py_float_op(Op::Pow, int_to_f64(&x)?, int_to_f64(&y)?);
            }
            if x.is_zero() || x.is_one() || y.is_zero() {
                return Ok(Value::Int(if y.is_zero() { BigInt::one() } else { x }));
            }
            if x == BigInt::from(-1) {
                let odd = (&y % 2u32).is_one();
                return Ok(Value::Int(if odd { x } else { BigInt::one() }));
            }
            let e = y.to_u64().filter(|e| {
                e.checked_mul(x.bits().saturating_sub(1).max(1))
                    .is_some_and(|b| b <= MAX_INT_BITS)
            });
            let Some(e) = e.and_then(|e| u32::try_from(e).ok()) else {
                return Err(too_big());
            };
            Ok(Value::Int(x.pow(e)))
        }
    }
}

fn py_float_op(op: Op, x: f64, y: f64) -> Result<Value, CalcError> {
    match op {
        Op::Add => Ok(Value::Float(x + y)),
        Op::Sub => Ok(Value::Float(x - y)),
        Op::Mul => Ok(Value::Float(x * y)),
        Op::Div => {
            if y == 0.0 {
                Err(CalcError::DivisionByZero)
            } else {
                Ok(Value::Float(x / y))
            }
        }
        Op::Pow => py_float_pow(x, y),
    }
}

fn is_odd_integer(x: f64) -> bool {
    x.is_finite() && x.floor() == x && (x % 2.0).abs() == 1.0
}

/// Python's `float ** float`, with its special cases and errors.
fn py_float_pow(iv: f64, iw: f64) -> Result<Value, CalcError> {
    if iw == 0.0 {
        return Ok(Value::Float(1.0));
    }
    if iv.is_nan() {
        return Ok(Value::Float(iv));
    }
    if iw.is_nan() {
        return Ok(Value::Float(if iv == 1.0 { 1.0 } else { iw }));
    }
    if iw.is_infinite() {
        let a = iv.abs();
        let r = if a == 1.0 {
            1.0
        } else if (iw > 0.0) == (a > 1.0) {
            iw.abs()
        } else {
            0.0
        };
        return Ok(Value::Float(r));
    }
    if iv.is_infinite() {
        let odd = is_odd_integer(iw);
        let r = if iw > 0.0 {
            if odd {
                iv
            } else {
                iv.abs()
            }
        } else if odd {
            0.0f64.copysign(iv)
        } else {
            0.0
        };
        return Ok(Value::Float(r));
    }
    if iv == 0.0 {
        if iw < 0.0 {
            return Err(CalcError::DivisionByZero);
        }
        return Ok(Value::Float(if is_odd_integer(iw) { iv } else { 0.0 }));
    }
    let mut base = iv;
    let mut negate = false;
    if iv < 0.0 {
        if iw != iw.floor() {
            // A negative number to a fractional power is complex in Python.
            return py_complex_pow(C64::new(iv, 0.0), C64::new(iw, 0.0)).map(Value::Complex);
        }
        base = -iv;
        negate = is_odd_integer(iw);
    }
    if base == 1.0 {
        return Ok(Value::Float(if negate { -1.0 } else { 1.0 }));
    }
    let r = base.powf(iw);
    if r.is_infinite() {
        return Err(CalcError::Overflow(
            "a power is too large for a floating-point number".to_string(),
        ));
    }
    Ok(Value::Float(if negate { -r } else { r }))
}

fn cmul(a: C64, b: C64) -> C64 {
    C64::new(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
}

/// Python's complex division (Smith's method); `None` when dividing by 0.
fn py_cdiv(a: C64, b: C64) -> Option<C64> {
    let (abs_re, abs_im) = (b.re.abs(), b.im.abs());
    if abs_re >= abs_im {
        if abs_re == 0.0 {
            return None;
        }
        let ratio = b.im / b.re;
        let denom = b.re + b.im * ratio;
        Some(C64::new(
            (a.re + a.im * ratio) / denom,
            (a.im - a.re * ratio) / denom,
        ))
    } else if abs_im >= abs_re {
        let ratio = b.re / b.im;
        let denom = b.re * ratio + b.im;
        Some(C64::new(
            (a.re * ratio + a.im) / denom,
            (a.im * ratio - a.re) / denom,
        ))
    } else {
        Some(C64::new(f64::NAN, f64::NAN))
    }
}

fn py_complex_op(op: Op, a: C64, b: C64) -> Result<C64, CalcError> {
    match op {
        Op::Add => Ok(C64::new(a.re + b.re, a.im + b.im)),
        Op::Sub => Ok(C64::new(a.re - b.re, a.im - b.im)),
        Op::Mul => Ok(cmul(a, b)),
        Op::Div => py_cdiv(a, b).ok_or(CalcError::DivisionByZero),
        Op::Pow => py_complex_pow(a, b),
    }
}

/// `x ** n` by repeated squaring, as Python and numpy do for small whole
/// exponents.
fn cpow_uint(x: C64, n: u64) -> C64 {
    let mut r = C64::new(1.0, 0.0);
    let mut p = x;
    let mut mask: u64 = 1;
    while mask > 0 && n >= mask {
        if n & mask != 0 {
            r = cmul(r, p);
        }
        mask <<= 1;
        p = cmul(p, p);
    }
    r
}

/// Python's `complex ** complex`.
fn py_complex_pow(a: C64, b: C64) -> Result<C64, CalcError> {
    let r = if b.im == 0.0 && b.re == b.re.floor() && b.re.abs() <= 100.0 {
        let n = b.re as i64;
        if n > 0 {
            cpow_uint(a, n.unsigned_abs())
        } else {
            py_cdiv(C64::new(1.0, 0.0), cpow_uint(a, n.unsigned_abs()))
                .ok_or(CalcError::DivisionByZero)?
        }
    } else if b.re == 0.0 && b.im == 0.0 {
        C64::new(1.0, 0.0)
    } else if a.re == 0.0 && a.im == 0.0 {
        if b.im != 0.0 || b.re < 0.0 {
            return Err(CalcError::DivisionByZero);
        }
        C64::new(0.0, 0.0)
    } else {
        let vabs = a.re.hypot(a.im);
        let mut len = vabs.powf(b.re);
        let at = a.im.atan2(a.re);
        let mut phase = at * b.re;
        if b.im != 0.0 {
            len /= (at * b.im).exp();
            phase += b.im * vabs.ln();
        }
        if phase.is_infinite() {
            // cos(inf) sets errno to EDOM, which Python reports as
            // ZeroDivisionError ("0.0 to a negative or complex power").
            return Err(CalcError::DivisionByZero);
        }
        C64::new(len * phase.cos(), len * phase.sin())
    };
    if r.re.is_infinite() || r.im.is_infinite() {
        return Err(CalcError::Overflow(
            "a complex power is too large".to_string(),
        ));
    }
    Ok(r)
}

/// numpy's arithmetic: the result kind is the wider of the two, Python
/// integers convert to int64 (or fail), and nothing raises except
/// out-of-range conversions and negative integer powers of integers.
fn np_binop(op: Op, a: &Value, b: &Value) -> Result<Value, CalcError> {
    match a.kind().max(b.kind()) {
        Kind::Int => {
            let (x, y) = (np_int(a)?, np_int(b)?);
            Ok(match op {
                Op::Add => Value::NpInt(x.wrapping_add(y)),
                Op::Sub => Value::NpInt(x.wrapping_sub(y)),
                Op::Mul => Value::NpInt(x.wrapping_mul(y)),
                Op::Div => Value::NpFloat(x as f64 / y as f64),
                Op::Pow => {
                    if y < 0 {
                        return Err(CalcError::Domain(
                            "integers to negative integer powers are not allowed".to_string(),
                        ));
                    }
                    Value::NpInt(wrapping_ipow(x, y.unsigned_abs()))
                }
            })
        }
        Kind::Float => {
            let (x, y) = (a.py_float()?, b.py_float()?);
            Ok(Value::NpFloat(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
                Op::Div => x / y,
                Op::Pow => x.powf(y),
            }))
        }
        Kind::Complex => {
            let (x, y) = (a.py_complex()?, b.py_complex()?);
            Ok(Value::NpComplex(match op {
                Op::Add => C64::new(x.re + y.re, x.im + y.im),
                Op::Sub => C64::new(x.re - y.re, x.im - y.im),
                Op::Mul => cmul(x, y),
                Op::Div => np_cdiv(x, y),
                Op::Pow => np_cpow(x, y),
            }))
        }
    }
}

fn np_int(v: &Value) -> Result<i64, CalcError> {
    match v {
        Value::NpInt(n) => Ok(*n),
        Value::Int(n) => n.to_i64().ok_or_else(|| {
            CalcError::Overflow("an integer is out of range for a 64-bit integer".to_string())
        }),
        _ => Ok(0),
    }
}

fn wrapping_ipow(mut base: i64, mut e: u64) -> i64 {
    let mut r: i64 = 1;
    while e > 0 {
        if e & 1 == 1 {
            r = r.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    r
}

/// numpy's complex division; dividing by zero gives infinities or NaN.
fn np_cdiv(a: C64, b: C64) -> C64 {
    let (abs_re, abs_im) = (b.re.abs(), b.im.abs());
    if abs_re >= abs_im {
        if abs_re == 0.0 && abs_im == 0.0 {
            return C64::new(a.re / abs_re, a.im / abs_re);
        }
        let rat = b.im / b.re;
        let scl = 1.0 / (b.re + b.im * rat);
        C64::new((a.re + a.im * rat) * scl, (a.im - a.re * rat) * scl)
    } else {
        let rat = b.re / b.im;
        let scl = 1.0 / (b.im + b.re * rat);
        C64::new((a.re * rat + a.im) * scl, (a.im * rat - a.re) * scl)
    }
}

/// numpy's complex power: 1 for a zero exponent; for a zero base, 0 when
/// the exponent's real part is positive and NaN otherwise; repeated
/// multiplication for whole exponents below 100; else `exp(b * ln(a))`.
fn np_cpow(a: C64, b: C64) -> C64 {
    if b.re == 0.0 && b.im == 0.0 {
        return C64::new(1.0, 0.0);
    }
    if a.re == 0.0 && a.im == 0.0 {
        if b.re > 0.0 {
            return C64::new(0.0, 0.0);
        }
        return C64::new(f64::NAN, f64::NAN);
    }
    if b.im == 0.0 && b.re == b.re.trunc() && b.re.abs() < 100.0 {
        let n = b.re as i64;
        let r = match n {
            1 => a,
            2 => cmul(a, a),
            3 => cmul(a, cmul(a, a)),
            _ => cpow_uint(a, n.unsigned_abs()),
        };
        return if n < 0 {
            np_cdiv(C64::new(1.0, 0.0), r)
        } else {
            r
        };
    }
    cmath::exp(cmul(b, cmath::ln(a)))
}

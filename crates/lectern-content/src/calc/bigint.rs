//! Exact integers to floating point, rounded the way Python rounds them.
//!
//! Python's `int / int` and `float(int)` give the nearest double to the
//! exact rational value (ties to even) and raise an overflow error when the
//! result is too large; `fact(171)/fact(170)` is exactly 171.0 there, which
//! converting each side to a double first would turn into `inf/inf`.

use super::CalcError;
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

/// `x * 2^e` without intermediate overflow or underflow in the scaling.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    // 2^k for k in [-1022, 1023] is a normal double built from its bits.
    let pow2 = |k: i64| f64::from_bits(((k + 1023) as u64) << 52);
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * pow2(e)
}

/// The nearest double to `a / b` (`b` non-zero), or an overflow error.
pub(crate) fn int_true_div(a: &BigInt, b: &BigInt) -> Result<f64, CalcError> {
    if b.is_zero() {
        return Err(CalcError::DivisionByZero);
    }
    let negative = a.is_negative() != b.is_negative();
    let (a, b) = (a.abs(), b.abs());
    let value = if a.is_zero() {
        0.0
    } else if a.bits() <= 53 && b.bits() <= 53 {
        // Both exact as doubles; IEEE division rounds correctly.
        a.to_f64().unwrap_or(f64::NAN) / b.to_f64().unwrap_or(f64::NAN)
    } else {
        // Scale so the integer quotient has 55 or 56 bits, fold the
        // remainder into a sticky bit, and let the u64 -> f64 conversion
        // round to nearest even.
        let shift = a.bits() as i64 - b.bits() as i64 - 55;
        let (num, den) = if shift >= 0 {
            (a, b << shift.unsigned_abs())
        } else {
            (a << shift.unsigned_abs(), b)
        };
        let q = &num / &den;
        let sticky = !(num - &q * &den).is_zero();
        let mut q = q.to_u64().unwrap_or(u64::MAX);
        if sticky {
            q |= 1;
        }
        ldexp(q as f64, shift)
    };
    if value.is_infinite() {
        return Err(CalcError::Overflow(
            "an integer result is too large for a floating-point number".to_string(),
        ));
    }
    Ok(if negative { -value } else { value })
}

/// Python's `float(n)`.
pub(crate) fn int_to_f64(n: &BigInt) -> Result<f64, CalcError> {
    int_true_div(n, &BigInt::from(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_python() {
        // (numerator, denominator, Python's result)
        let cases: &[(&str, &str, f64)] = &[
            ("1", "3", 1.0 / 3.0),
            ("9007199254740993", "1", 9007199254740992.0), // 2^53+1 ties to even
            ("9007199254740995", "1", 9007199254740996.0),
            ("-7", "2", -3.5),
            ("10", "-4", -2.5),
            ("-1", "3", -1.0 / 3.0),
        ];
        for (a, b, want) in cases {
            let a: BigInt = a.parse().unwrap();
            let b: BigInt = b.parse().unwrap();
            assert_eq!(int_true_div(&a, &b).unwrap(), *want, "{a}/{b}");
        }
        let big = BigInt::from(10).pow(400);
        let smaller = BigInt::from(10).pow(399);
        assert_eq!(int_true_div(&big, &smaller).unwrap(), 10.0);
        assert!(matches!(int_to_f64(&big), Err(CalcError::Overflow(_))));
        let tiny = int_true_div(&BigInt::from(1), &BigInt::from(10).pow(400)).unwrap();
        assert_eq!(tiny, 0.0);
    }
}

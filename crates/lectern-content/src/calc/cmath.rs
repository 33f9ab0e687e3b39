//! Complex elementary functions with the C99 conventions numpy follows.
//!
//! `num_complex` computes these with textbook formulas that lose the sign
//! of a zero imaginary part (so `arcsin(2)` lands on the wrong side of the
//! branch cut), produce NaN from `0 * inf` for large arguments, and lose
//! precision near zero. numpy's answers (`arcsin(2)` = 1.5708 + 1.3170i,
//! `arctanh(2)` = 0.5493 + 1.5708i) follow C99 Annex G; the formulas here
//! are Kahan's ("Branch Cuts for Complex Elementary Functions", 1987), which
//! honour signed zeros and stay accurate.

use num_complex::Complex64 as C64;

/// `a * b`, except that zero times infinity is zero (as C99's functions
/// give when one factor is an exact zero from the argument).
fn mul0(a: f64, b: f64) -> f64 {
    if (a == 0.0 && b.is_infinite()) || (b == 0.0 && a.is_infinite()) {
        0.0f64.copysign(a.signum() * b.signum())
    } else {
        a * b
    }
}

/// Multiplies by `i`: `i * z`.
fn times_i(z: C64) -> C64 {
    C64::new(-z.im, z.re)
}

/// Multiplies by `-i`: `-i * z`.
fn times_minus_i(z: C64) -> C64 {
    C64::new(z.im, -z.re)
}

pub(crate) fn exp(z: C64) -> C64 {
    let e = z.re.exp();
    if z.im == 0.0 {
        return C64::new(e, z.im);
    }
    C64::new(mul0(e, z.im.cos()), mul0(e, z.im.sin()))
}

pub(crate) fn sinh(z: C64) -> C64 {
    if z.im == 0.0 {
        return C64::new(z.re.sinh(), z.im);
    }
    C64::new(mul0(z.re.sinh(), z.im.cos()), mul0(z.re.cosh(), z.im.sin()))
}

pub(crate) fn cosh(z: C64) -> C64 {
    if z.im == 0.0 {
        return C64::new(z.re.cosh(), mul0(z.im, z.re.sinh()));
    }
    C64::new(mul0(z.re.cosh(), z.im.cos()), mul0(z.re.sinh(), z.im.sin()))
}

/// Kahan's algorithm: accurate, and exactly ±1 for large real parts.
pub(crate) fn tanh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if x.is_nan() || y.is_nan() {
        return C64::new(f64::NAN, f64::NAN);
    }
    if x.abs() >= 22.0 {
        let e = (-x.abs()).exp();
        return C64::new(1.0f64.copysign(x), 4.0 * y.sin() * y.cos() * e * e);
    }
    let t = y.tan();
    let beta = 1.0 + t * t;
    let s = x.sinh();
    let rho = (1.0 + s * s).sqrt();
    let denom = 1.0 + beta * s * s;
    C64::new(beta * rho * s / denom, t / denom)
}

pub(crate) fn sin(z: C64) -> C64 {
    times_minus_i(sinh(times_i(z)))
}

pub(crate) fn cos(z: C64) -> C64 {
    cosh(times_i(z))
}

pub(crate) fn tan(z: C64) -> C64 {
    times_minus_i(tanh(times_i(z)))
}

/// The principal square root, lower half-plane for a `-0.0` imaginary part.
pub(crate) fn sqrt(z: C64) -> C64 {
    if z.re == 0.0 && z.im == 0.0 {
        return C64::new(0.0, z.im);
    }
    if z.im.is_infinite() {
        return C64::new(f64::INFINITY, z.im);
    }
    // Scaled to avoid overflow in the modulus.
    let (x, y) = (z.re, z.im);
    let t = ((x.abs() + x.hypot(y)) / 2.0).sqrt();
    if x >= 0.0 {
        C64::new(t, y / (2.0 * t))
    } else {
        C64::new(y.abs() / (2.0 * t), t.copysign(y))
    }
}

pub(crate) fn ln(z: C64) -> C64 {
    C64::new(z.re.hypot(z.im).ln(), z.im.atan2(z.re))
}

pub(crate) fn log10(z: C64) -> C64 {
    ln(z) * std::f64::consts::LOG10_E
}

pub(crate) fn log2(z: C64) -> C64 {
    ln(z) * std::f64::consts::LOG2_E
}

fn conj_mul_im(a: C64, b: C64) -> f64 {
    // Im(conj(a) * b)
    a.re * b.im - a.im * b.re
}

/// Beyond this magnitude the inverse functions use their asymptotic forms
/// (exact to double precision there), which also cover infinities.
const HUGE: f64 = 1e150;

fn is_huge(z: C64) -> bool {
    z.re.abs().max(z.im.abs()) > HUGE
}

/// `ln(2) + ln(z)`: `asinh` and `acosh` for huge `z` in the right
/// half-plane.
fn ln_2z(z: C64) -> C64 {
    let l = ln(z);
    C64::new(l.re + std::f64::consts::LN_2, l.im)
}

pub(crate) fn asinh(z: C64) -> C64 {
    if is_huge(z) {
        // asinh is odd; ln(2z) holds in the right half-plane.
        return if z.re.is_sign_negative() {
            -ln_2z(-z)
        } else {
            ln_2z(z)
        };
    }
    // asinh(z) = -i asin(i z)
    times_minus_i(asin_kahan(times_i(z)))
}

fn asin_kahan(z: C64) -> C64 {
    let s1 = sqrt(C64::new(1.0 - z.re, -z.im));
    let s2 = sqrt(C64::new(1.0 + z.re, z.im));
    let re = z.re.atan2(s1.re * s2.re - s1.im * s2.im);
    let im = conj_mul_im(s1, s2).asinh();
    C64::new(re, im)
}

pub(crate) fn asin(z: C64) -> C64 {
    if is_huge(z) {
        // asin(z) = -i asinh(i z)
        return times_minus_i(asinh(times_i(z)));
    }
    asin_kahan(z)
}

pub(crate) fn acos(z: C64) -> C64 {
    if is_huge(z) {
        let a = asin(z);
        return C64::new(std::f64::consts::FRAC_PI_2 - a.re, -a.im);
    }
    let s1 = sqrt(C64::new(1.0 - z.re, -z.im));
    let s2 = sqrt(C64::new(1.0 + z.re, z.im));
    let re = 2.0 * s1.re.atan2(s2.re);
    let im = (s2.re * s1.im - s2.im * s1.re).asinh();
    C64::new(re, im)
}

pub(crate) fn acosh(z: C64) -> C64 {
    if is_huge(z) {
        return ln_2z(z);
    }
    let s1 = sqrt(C64::new(z.re - 1.0, z.im));
    let s2 = sqrt(C64::new(z.re + 1.0, z.im));
    let re = (s1.re * s2.re + s1.im * s2.im).asinh();
    let im = 2.0 * s1.im.atan2(s2.re);
    C64::new(re, im)
}

pub(crate) fn atanh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    let quarter_turn = std::f64::consts::FRAC_PI_2.copysign(y);
    if x.is_infinite() || y.is_infinite() {
        return C64::new(0.0f64.copysign(x), quarter_turn);
    }
    if is_huge(z) {
        // atanh(z) = 1/z + i pi/2 sign(y) + O(1/z^3)
        let r = C64::new(1.0, 0.0) / z;
        return C64::new(r.re, r.im + quarter_turn);
    }
    // Kahan: Re = log1p(4x / ((1-x)^2 + y^2)) / 4,
    //        Im = atan2(2y, (1-x)(1+x) - y^2) / 2.
    let one_minus = 1.0 - x;
    let re = 0.25 * (4.0 * x / (one_minus * one_minus + y * y)).ln_1p();
    let im = 0.5 * (2.0 * y).atan2(one_minus * (1.0 + x) - y * y);
    C64::new(re, im)
}

pub(crate) fn atan(z: C64) -> C64 {
    // atan(z) = -i atanh(i z)
    times_minus_i(atanh(times_i(z)))
}

/// numpy's real `arccosh`: NaN below 1, accurate for huge arguments.
pub(crate) fn real_acosh(x: f64) -> f64 {
    if x < 1.0 {
        f64::NAN
    } else if x > HUGE {
        x.ln() + std::f64::consts::LN_2
    } else {
        x.acosh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: C64, b: C64) -> bool {
        (a - b).norm() <= 1e-12 * a.norm().max(b.norm()).max(1e-300)
    }

    #[test]
    fn agree_with_numpy() {
        // (function, argument, numpy's result), from numpy 2.4.
        type F = fn(C64) -> C64;
        let c = C64::new;
        let cases: &[(&str, F, C64, C64)] = &[
            (
                "asin",
                asin,
                c(2.0, 0.0),
                c(std::f64::consts::FRAC_PI_2, 1.3169578969248166),
            ),
            (
                "atanh",
                atanh,
                c(2.0, 0.0),
                c(0.5493061443340549, std::f64::consts::FRAC_PI_2),
            ),
            ("sqrt", sqrt, c(-4.0, 0.0), c(0.0, 2.0)),
            ("ln", ln, c(-1.0, 0.0), c(0.0, std::f64::consts::PI)),
        ];
        for (name, f, arg, want) in cases {
            let got = f(*arg);
            assert!(close(got, *want), "{name}({arg}) = {got}, numpy {want}");
        }
    }
}

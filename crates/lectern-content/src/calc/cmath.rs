//! Complex elementary functions with the C99 conventions numpy follows.
//!
//! `num_complex` computes these with textbook formulas that lose the sign
//! of a zero imaginary part (so `arcsin(2)` lands on the wrong side of the
//! branch cut), produce NaN from `0 * inf` for large arguments, and lose
//! precision near zero. numpy's answers (`arcsin(2)` = 1.5708 + 1.3170i,
//! `arctanh(2)` = 0.5493 + 1.5708i) follow C99 Annex G. Finite arguments
//! use Kahan's formulas ("Branch Cuts for Complex Elementary Functions",
//! 1987), which honour signed zeros and stay accurate; infinite and NaN
//! parts get the values Annex G lists (`special` functions below). They
//! matter here because Open edX multiplies every result by 1 as a complex
//! number, which turns `inf + 0i` into `inf + NaN i` before the next call.

use num_complex::Complex64 as C64;
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

fn finite(z: C64) -> bool {
    z.re.is_finite() && z.im.is_finite()
}

/// Multiplies by `i`: `i * z`.
fn times_i(z: C64) -> C64 {
    C64::new(-z.im, z.re)
}

/// Multiplies by `-i`: `-i * z`.
fn times_minus_i(z: C64) -> C64 {
    C64::new(z.im, -z.re)
}

/// `r * cis(y)` for an infinite or zero `r` and finite `y`, without the
/// NaN that `0 * inf` would give for an exact zero factor.
fn scaled_cis(r: f64, y: f64) -> C64 {
    let part = |t: f64| if t == 0.0 { 0.0f64.copysign(t) } else { r * t };
    C64::new(part(y.cos()), part(y.sin()))
}

pub(crate) fn exp(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if !finite(z) {
        if x.is_nan() {
            return C64::new(NAN, if y == 0.0 { y } else { NAN });
        }
        if x == INF {
            if y == 0.0 {
                return C64::new(INF, y);
            }
            return if y.is_finite() {
                scaled_cis(INF, y)
            } else {
                C64::new(INF, NAN)
            };
        }
        if x == -INF {
            return if y.is_finite() {
                scaled_cis(0.0, y)
            } else {
                C64::new(0.0, 0.0)
            };
        }
        return C64::new(NAN, NAN);
    }
    if y == 0.0 {
        return C64::new(x.exp(), y);
    }
    scaled_exp_cis(x, y, 1.0)
}

/// `k * e^x * cis(y)`, computed as `(k * r * cis(y)) * r` with
/// `r = e^(x/2)` when `e^x` alone would overflow but the product may not
/// (`exp(1151 + 1e-200i)` has a finite imaginary part).
fn scaled_exp_cis(x: f64, y: f64, k: f64) -> C64 {
    let (s, c) = y.sin_cos();
    if x < 709.0 {
        let e = k * x.exp();
        return C64::new(e * c, e * s);
    }
    let r = (x / 2.0).exp();
    C64::new(k * r * c * r, k * r * s * r)
}

pub(crate) fn sinh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if !finite(z) {
        if x.is_nan() {
            return C64::new(NAN, if y == 0.0 { y } else { NAN });
        }
        if x.is_infinite() {
            if y == 0.0 {
                return C64::new(x, y);
            }
            if y.is_finite() {
                return C64::new(x * y.cos(), INF * y.sin());
            }
            return C64::new(x, NAN);
        }
        return C64::new(if x == 0.0 { x } else { NAN }, NAN);
    }
    if y == 0.0 {
        return C64::new(x.sinh(), y);
    }
    if x.abs() > 22.0 {
        // sinh(x) and cosh(x) are ±e^|x|/2 here.
        let w = scaled_exp_cis(x.abs(), y, 0.5);
        return C64::new(w.re * x.signum(), w.im);
    }
    C64::new(x.sinh() * y.cos(), x.cosh() * y.sin())
}

pub(crate) fn cosh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if !finite(z) {
        if x.is_nan() {
            return C64::new(NAN, if y == 0.0 { 0.0 } else { NAN });
        }
        if x.is_infinite() {
            if y == 0.0 {
                return C64::new(INF, 0.0);
            }
            if y.is_finite() {
                return C64::new(INF * y.cos(), x * y.sin());
            }
            return C64::new(INF, NAN);
        }
        return C64::new(NAN, if x == 0.0 { 0.0 } else { NAN });
    }
    if y == 0.0 {
        // y * sinh(x), but exactly zero even where sinh(x) overflows.
        return C64::new(x.cosh(), y * x.signum());
    }
    if x.abs() > 22.0 {
        let w = scaled_exp_cis(x.abs(), y, 0.5);
        return C64::new(w.re, w.im * x.signum());
    }
    C64::new(x.cosh() * y.cos(), x.sinh() * y.sin())
}

/// Kahan's algorithm: accurate, and exactly ±1 for large real parts.
pub(crate) fn tanh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if x.is_infinite() {
        let im = if y.is_finite() { (2.0 * y).sin() } else { 0.0 };
        return C64::new(1.0f64.copysign(x), 0.0f64.copysign(im));
    }
    if !finite(z) {
        if x.is_nan() {
            return C64::new(NAN, if y == 0.0 { y } else { NAN });
        }
        return C64::new(if x == 0.0 { x } else { NAN }, NAN);
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
    let (x, y) = (z.re, z.im);
    if x == 0.0 && y == 0.0 {
        return C64::new(0.0, y);
    }
    if y.is_infinite() {
        return C64::new(INF, y);
    }
    // Halved before adding so that |x| near the largest double cannot
    // overflow.
    let t = (x.abs() / 2.0 + x.hypot(y) / 2.0).sqrt();
    if x >= 0.0 {
        C64::new(t, y / (2.0 * t))
    } else {
        C64::new(y.abs() / (2.0 * t), t.copysign(y))
    }
}

pub(crate) fn ln(z: C64) -> C64 {
    C64::new(ln_abs(z.re, z.im), z.im.atan2(z.re))
}

/// `ln |x + iy|`, accurate also where |z| is within rounding of 1 (there
/// the answer is a tiny number whose sign decides later branch cuts):
/// `log1p(x^2 + y^2 - 1) / 2` with the squares split exactly by FMA.
fn ln_abs(x: f64, y: f64) -> f64 {
    let h = x.hypot(y);
    if !(0.7..=1.5).contains(&h) {
        return h.ln();
    }
    let (a, b) = if x.abs() >= y.abs() {
        (x.abs(), y.abs())
    } else {
        (y.abs(), x.abs())
    };
    let aa = a * a;
    let aa_lo = a.mul_add(a, -aa);
    let bb = b * b;
    let bb_lo = b.mul_add(b, -bb);
    let s = ((aa - 1.0) + bb) + (aa_lo + bb_lo);
    0.5 * s.ln_1p()
}

pub(crate) fn log10(z: C64) -> C64 {
    ln(z) * std::f64::consts::LOG10_E
}

pub(crate) fn log2(z: C64) -> C64 {
    ln(z) * std::f64::consts::LOG2_E
}

/// Beyond this magnitude the inverse functions use their asymptotic forms,
/// exact to double precision there.
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

/// Smith's division `1 / z` (no overflow for huge `z`).
fn recip(z: C64) -> C64 {
    if z.re.abs() >= z.im.abs() {
        let r = z.im / z.re;
        let d = z.re + z.im * r;
        C64::new(1.0 / d, -r / d)
    } else {
        let r = z.re / z.im;
        let d = z.re * r + z.im;
        C64::new(r / d, -1.0 / d)
    }
}

/// Annex G values of `asinh` for |x| + i|y| with an infinite or NaN part;
/// the caller restores the signs (asinh is odd and conjugate-symmetric).
fn asinh_special(ax: f64, ay: f64) -> C64 {
    if ay.is_infinite() {
        if ax.is_nan() {
            return C64::new(INF, NAN);
        }
        return C64::new(
            INF,
            if ax.is_infinite() {
                FRAC_PI_4
            } else {
                FRAC_PI_2
            },
        );
    }
    if ax.is_infinite() {
        return C64::new(INF, if ay.is_nan() { NAN } else { 0.0 });
    }
    if ax.is_nan() && ay == 0.0 {
        return C64::new(NAN, 0.0);
    }
    C64::new(NAN, NAN)
}

pub(crate) fn asinh(z: C64) -> C64 {
    if !finite(z) {
        let r = asinh_special(z.re.abs(), z.im.abs());
        return C64::new(r.re.copysign(z.re), r.im.copysign(z.im));
    }
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
    // Im(conj(s1) * s2)
    let im = (s1.re * s2.im - s1.im * s2.re).asinh();
    C64::new(re, im)
}

pub(crate) fn asin(z: C64) -> C64 {
    if !finite(z) || is_huge(z) {
        // asin(z) = -i asinh(i z)
        return times_minus_i(asinh(times_i(z)));
    }
    asin_kahan(z)
}

pub(crate) fn acos(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if !finite(z) {
        // Annex G; cacos(conj z) = conj(cacos z), imaginary part <= 0 for y >= 0.
        let (re, im) = if x.is_infinite() {
            if y.is_nan() {
                (NAN, INF)
            } else if y.is_infinite() {
                (if x > 0.0 { FRAC_PI_4 } else { 3.0 * FRAC_PI_4 }, INF)
            } else {
                (if x > 0.0 { 0.0 } else { PI }, INF)
            }
        } else if y.is_infinite() {
            (if x.is_nan() { NAN } else { FRAC_PI_2 }, INF)
        } else if x == 0.0 {
            (FRAC_PI_2, NAN)
        } else {
            (NAN, NAN)
        };
        return C64::new(re, -im.copysign(y));
    }
    if is_huge(z) {
        let a = asin(z);
        return C64::new(FRAC_PI_2 - a.re, -a.im);
    }
    let s1 = sqrt(C64::new(1.0 - x, -y));
    let s2 = sqrt(C64::new(1.0 + x, y));
    let re = 2.0 * s1.re.atan2(s2.re);
    let im = (s2.re * s1.im - s2.im * s1.re).asinh();
    C64::new(re, im)
}

pub(crate) fn acosh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if !finite(z) {
        let (re, im) = if x.is_infinite() {
            if y.is_nan() {
                (INF, NAN)
            } else if y.is_infinite() {
                (INF, if x > 0.0 { FRAC_PI_4 } else { 3.0 * FRAC_PI_4 })
            } else {
                (INF, if x > 0.0 { 0.0 } else { PI })
            }
        } else if y.is_infinite() {
            (INF, if x.is_nan() { NAN } else { FRAC_PI_2 })
        } else {
            (NAN, NAN)
        };
        return C64::new(re, im.copysign(y));
    }
    if is_huge(z) {
        return ln_2z(z);
    }
    let s1 = sqrt(C64::new(x - 1.0, y));
    let s2 = sqrt(C64::new(x + 1.0, y));
    let re = (s1.re * s2.re + s1.im * s2.im).asinh();
    let im = 2.0 * s1.im.atan2(s2.re);
    C64::new(re, im)
}

pub(crate) fn atanh(z: C64) -> C64 {
    let (x, y) = (z.re, z.im);
    if !finite(z) {
        let (re, im) = if x.is_infinite() {
            (0.0, if y.is_nan() { NAN } else { FRAC_PI_2 })
        } else if y.is_infinite() {
            (0.0, FRAC_PI_2)
        } else if x == 0.0 {
            (0.0, NAN)
        } else {
            (NAN, NAN)
        };
        return C64::new(re.copysign(x), im.copysign(y));
    }
    if is_huge(z) {
        // atanh(z) = 1/z + i pi/2 sign(y) + O(1/z^3)
        let r = recip(z);
        return C64::new(r.re, r.im + FRAC_PI_2.copysign(y));
    }
    // Kahan: Re = log1p(4|x| / ((1-|x|)^2 + y^2)) / 4 with the sign of x
    // (the log1p argument is never near -1 that way, so the real part stays
    // accurate next to the branch points ±1), Im = atan2(2y, (1-x)(1+x) -
    // y^2) / 2.
    let ax = x.abs();
    let one_minus = 1.0 - ax;
    let re = (0.25 * (4.0 * ax / (one_minus * one_minus + y * y)).ln_1p()).copysign(x);
    let im = 0.5 * (2.0 * y).atan2((1.0 - x) * (1.0 + x) - y * y);
    C64::new(re, im)
}

pub(crate) fn atan(z: C64) -> C64 {
    // atan(z) = -i atanh(i z)
    times_minus_i(atanh(times_i(z)))
}

/// Real `arcsinh`, finite for every finite argument (the standard library's
/// overflows to infinity near the largest double).
pub(crate) fn real_asinh(x: f64) -> f64 {
    if x.abs() > HUGE {
        (x.abs().ln() + std::f64::consts::LN_2).copysign(x)
    } else {
        x.asinh()
    }
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

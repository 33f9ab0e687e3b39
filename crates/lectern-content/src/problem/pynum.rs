//! Number handling that must agree with Open edX's Python to the last digit:
//! Python's `float()` and `complex()` string parsing (staff answers are read
//! with `complex()` first) and Open edX's `compare_with_tolerance`, which
//! compares real values as `Decimal(str(x))` — the shortest round-trip
//! decimal of each double, subtracted exactly and rounded to 28 significant
//! digits — so that 3.9 is within 0.1 of 4 although doubles say otherwise.

use num_complex::Complex64;

/// Python's `float(s)`: surrounding whitespace, `_` between digits,
/// `inf`/`infinity`/`nan` in any case.
pub(crate) fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return None;
    }
    let body = t.trim_start_matches(['+', '-']);
    if t.len() - body.len() > 1 {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return t.parse::<f64>().ok();
    }
    // Underscores only between two digits.
    let bytes = t.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'_' {
            let ok = i > 0
                && i + 1 < bytes.len()
                && bytes[i - 1].is_ascii_digit()
                && bytes[i + 1].is_ascii_digit();
            if !ok {
                return None;
            }
        } else if !(b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
            return None;
        }
    }
    t.replace('_', "").parse::<f64>().ok()
}

/// Python's `complex(s)`: `5`, `1e3`, `2j`, `1+2j`, `-j`, `(1-2j)`, `inf`.
pub(crate) fn py_complex(s: &str) -> Option<Complex64> {
    let mut t = s.trim();
    if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        t = inner.trim();
    }
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return None;
    }
    if let Some(v) = py_float(t) {
        return Some(Complex64::new(v, 0.0));
    }
    let body = t.strip_suffix(['j', 'J'])?;
    let imag_of = |p: &str| -> Option<f64> {
        match p {
            "" | "+" => Some(1.0),
            "-" => Some(-1.0),
            _ => py_float(p),
        }
    };
    if let Some(im) = imag_of(body) {
        return Some(Complex64::new(0.0, im));
    }
    // Split at the last sign that is not the first character and not an
    // exponent's sign.
    let bytes = body.as_bytes();
    let split = (1..bytes.len())
        .rev()
        .find(|&i| matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E'))?;
    let re = py_float(&body[..split])?;
    let im = imag_of(&body[split..])?;
    Some(Complex64::new(re, im))
}

/// Python's `abs()` of a complex (`hypot`), exact for real values.
pub(crate) fn py_abs(z: Complex64) -> f64 {
    if z.im == 0.0 {
        z.re.abs()
    } else {
        z.re.hypot(z.im)
    }
}

/// Python's `max(a, b)` for floats (the first unless the second is larger).
pub(crate) fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's `cmath.isinf`.
pub(crate) fn is_inf(z: Complex64) -> bool {
    z.re.is_infinite() || z.im.is_infinite()
}

/// The final step of `compare_with_tolerance`, once the tolerance is a
/// number: `|student - instructor| <= tolerance`, on decimals for reals.
pub(crate) fn within(student: Complex64, instructor: Complex64, tolerance: f64) -> bool {
    if is_inf(student) || is_inf(instructor) {
        return student == instructor;
    }
    if student.im == 0.0 && instructor.im == 0.0 {
        // A negative tolerance accepts nothing (|diff| <= negative is false).
        if student.re.is_nan() || instructor.re.is_nan() || tolerance.is_nan() || tolerance < 0.0 {
            return false;
        }
        let diff = Dec::of(student.re).sub(&Dec::of(instructor.re)).round(28);
        return diff.cmp_abs(&Dec::of(tolerance)) != std::cmp::Ordering::Greater
            || tolerance == f64::INFINITY;
    }
    py_abs(student - instructor) <= tolerance
}

/// A finite decimal: `digits × 10^exp`, digits most significant first.
#[derive(Debug, Clone, PartialEq)]
struct Dec {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Dec {
    /// `Decimal(str(x))` for a finite double.
    fn of(x: f64) -> Dec {
        if x == 0.0 || !x.is_finite() {
            return Dec {
                neg: x.is_sign_negative(),
                digits: vec![0],
                exp: 0,
            };
        }
        // `{:e}` prints the shortest round-trip digits, as Python's repr does.
        let s = format!("{:e}", x.abs());
        let (mant, e) = s.split_once('e').unwrap_or((s.as_str(), "0"));
        let e: i64 = e.parse().unwrap_or(0);
        let frac_len = mant.split_once('.').map_or(0, |(_, f)| f.len()) as i64;
        let digits = mant
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        Dec {
            neg: x < 0.0,
            digits,
            exp: e - frac_len,
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.iter().all(|d| *d == 0)
    }

    /// Digits scaled to exponent `exp` (which must be <= self.exp).
    fn scaled(&self, exp: i64) -> Vec<u8> {
        let mut v = self.digits.clone();
        v.extend(std::iter::repeat_n(0, (self.exp - exp) as usize));
        v
    }

    fn sub(&self, other: &Dec) -> Dec {
        let neg_other = Dec {
            neg: !other.neg,
            ..other.clone()
        };
        self.add(&neg_other)
    }

    fn add(&self, other: &Dec) -> Dec {
        let exp = self.exp.min(other.exp);
        let a = self.scaled(exp);
        let b = other.scaled(exp);
        if self.neg == other.neg {
            return Dec {
                neg: self.neg,
                digits: add_mag(&a, &b),
                exp,
            };
        }
        match cmp_mag(&a, &b) {
            std::cmp::Ordering::Less => Dec {
                neg: other.neg,
                digits: sub_mag(&b, &a),
                exp,
            },
            _ => Dec {
                neg: self.neg,
                digits: sub_mag(&a, &b),
                exp,
            },
        }
    }

    /// Rounds to `prec` significant digits, half to even (Python's default
    /// decimal context).
    fn round(mut self, prec: usize) -> Dec {
        let first = self.digits.iter().position(|d| *d != 0);
        let Some(first) = first else { return self };
        self.digits.drain(..first);
        if self.digits.len() <= prec {
            return self;
        }
        let dropped = self.digits.len() - prec;
        let rest = self.digits.split_off(prec);
        self.exp += dropped as i64;
        let half = rest[0].cmp(&5);
        let tail_nonzero = rest[1..].iter().any(|d| *d != 0);
        let last_odd = self.digits.last().is_some_and(|d| d % 2 == 1);
        let up = match half {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => tail_nonzero || last_odd,
            std::cmp::Ordering::Less => false,
        };
        if up {
            self.digits = add_mag(&self.digits, &[1]);
        }
        self
    }

    fn cmp_abs(&self, other: &Dec) -> std::cmp::Ordering {
        if self.is_zero() && other.is_zero() {
            return std::cmp::Ordering::Equal;
        }
        let exp = self.exp.min(other.exp);
        // Compare the orders of magnitude first so huge gaps cost nothing.
        let mag = |d: &Dec| {
            let lead = d
                .digits
                .iter()
                .position(|x| *x != 0)
                .unwrap_or(d.digits.len());
            (d.digits.len() - lead) as i64 + d.exp
        };
        if self.is_zero() {
            return std::cmp::Ordering::Less;
        }
        if other.is_zero() {
            return std::cmp::Ordering::Greater;
        }
        match mag(self).cmp(&mag(other)) {
            std::cmp::Ordering::Equal => cmp_mag(&self.scaled(exp), &other.scaled(exp)),
            o => o,
        }
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let lead = v.iter().position(|d| *d != 0).unwrap_or(v.len());
    &v[lead..]
}

fn cmp_mag(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (a, b) = (trim(a), trim(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len()) + 1;
    let mut out = vec![0u8; n];
    let mut carry = 0u8;
    for i in 0..n {
        let da = if i < a.len() { a[a.len() - 1 - i] } else { 0 };
        let db = if i < b.len() { b[b.len() - 1 - i] } else { 0 };
        let s = da + db + carry;
        out[n - 1 - i] = s % 10;
        carry = s / 10;
    }
    out
}

/// a - b for |a| >= |b|.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = vec![0u8; n];
    let mut borrow = 0i8;
    for i in 0..n {
        let da = if i < a.len() {
            a[a.len() - 1 - i] as i8
        } else {
            0
        };
        let db = if i < b.len() {
            b[b.len() - 1 - i] as i8
        } else {
            0
        };
        let mut d = da - db - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out[n - 1 - i] = d as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> Option<Complex64> {
        Some(Complex64::new(re, im))
    }

    #[test]
    fn python_float_parsing() {
        let cases: &[(&str, Option<f64>)] = &[
            ("5", Some(5.0)),
            (" 1e3 ", Some(1000.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1_000", Some(1000.0)),
            ("-2.5E-1", Some(-0.25)),
            ("1__0", None),
            ("_1", None),
            ("1 0", None),
            ("--1", None),
            ("0x10", None),
            ("", None),
            ("Infinity", Some(f64::INFINITY)),
            ("-inf", Some(f64::NEG_INFINITY)),
        ];
        for (s, want) in cases {
            assert_eq!(py_float(s), *want, "{s:?}");
        }
        assert!(py_float("NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn python_complex_parsing() {
        let cases: &[(&str, Option<Complex64>)] = &[
            ("5", c(5.0, 0.0)),
            ("2j", c(0.0, 2.0)),
            ("1+2j", c(1.0, 2.0)),
            ("1-j", c(1.0, -1.0)),
            ("-j", c(0.0, -1.0)),
            ("j", c(0.0, 1.0)),
            ("(1e3-2.5J)", c(1000.0, -2.5)),
            ("1e-3+1e+2j", c(0.001, 100.0)),
            ("1 + 2j", None),
            ("1+2", None),
            ("sqrt(2)", None),
            ("$z", None),
            ("1/2", None),
        ];
        for (s, want) in cases {
            assert_eq!(py_complex(s), *want, "{s:?}");
        }
    }

    #[test]
    fn tolerance_limit_is_decided_on_decimals() {
        let r = |x: f64| Complex64::new(x, 0.0);
        // (student, instructor, tolerance, within?) — values chosen where
        // doubles and decimals disagree or sit exactly at the limit.
        let cases = [
            (3.9, 4.0, 0.1, true),   // 4.0 - 3.9 = 0.10000000000000009 in doubles
            (4.1, 4.0, 0.1, true),   // 0.09999999999999964 in doubles, 0.1 in decimals
            (3.89, 4.0, 0.1, false), // 0.11
            (0.3, 0.1, 0.2, true),   // 0.19999999999999998 vs 0.2
            (1e300, 1e-300, 1e300, true),
            // 1e300 + 1e-300 rounds to 1e300 at 28 digits, as Python's Decimal does.
            (1e300, -1e-300, 1e300, true),
            (5.0, 4.0, 0.999, false),
            (5.0, 5.0, 0.0, true),
            (f64::NAN, 5.0, 1.0, false),
            (f64::INFINITY, f64::INFINITY, 0.0, true),
            (f64::INFINITY, 5.0, f64::INFINITY, false),
        ];
        for (s, i, t, want) in cases {
            assert_eq!(within(r(s), r(i), t), want, "{s} vs {i} ± {t}");
        }
        // Complex values compare as doubles.
        assert!(within(
            Complex64::new(1.0, 1.0),
            Complex64::new(1.0, 1.05),
            0.1
        ));
        assert!(!within(
            Complex64::new(1.0, 1.0),
            Complex64::new(1.0, 1.2),
            0.1
        ));
    }

    #[test]
    fn decimal_rounding_is_half_even_at_28_digits() {
        let d = Dec {
            neg: false,
            digits: vec![1; 30],
            exp: 0,
        }
        .round(28);
        assert_eq!(trim(&d.digits).len(), 28);
        assert_eq!(d.exp, 2);
        let five = Dec {
            neg: false,
            digits: [vec![2; 28], vec![5]].concat(),
            exp: 0,
        }
        .round(28);
        assert_eq!(trim(&five.digits).last(), Some(&2)); // even stays
        let five_odd = Dec {
            neg: false,
            digits: [vec![3; 28], vec![5]].concat(),
            exp: 0,
        }
        .round(28);
        assert_eq!(trim(&five_odd.digits).last(), Some(&4)); // odd rounds up
    }
}

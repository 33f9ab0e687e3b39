//! The two roundings Open edX's grades go through, reproduced on the same
//! `f64` operations so results agree to the bit.
//!
//! - A subsection percent is rounded as `numpy.around` does it: scale by a
//!   power of ten, round half to even, scale back. This is not Python's
//!   `round()` (which works on the exact decimal value): 0.505 becomes 0.5
//!   here because 0.505 × 100 is 50.5 in doubles.
//! - The course percent is rounded half away from zero, as
//!   `floor(x + 0.5)` (negative: `ceil(x - 0.5)`), which is what Open edX's
//!   `round_away_from_zero` computes.

/// `numpy.around(x, decimals)` for `decimals >= 0`.
pub fn numpy_around(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    (x * scale).round_ties_even() / scale
}

/// Rounds to a whole number, halves away from zero, computed as Open edX
/// does (`floor(x + 0.5)`, so 0.49999999999999994 becomes 1 as it does
/// there).
pub fn round_half_away_from_zero(x: f64) -> f64 {
    if x >= 0.0 {
        (x + 0.5).floor()
    } else {
        (x - 0.5).ceil()
    }
}

/// The course percent from the grader's raw total:
/// `round_half_away_from_zero(total × 100 + 0.05) / 100`, a whole percent.
/// The +0.05 is Open edX's (so 84.45% shows as 85%, and 49.45% passes a 50%
/// cutoff).
pub fn course_percent(total: f64) -> f64 {
    round_half_away_from_zero(total * 100.0 + 0.05) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_around_two_places() {
        // (input, expected): halves go to the even neighbour after the f64
        // multiplication by 100.
        let cases = [
            (0.125, 0.12),
            (0.135, 0.14),
            (0.505, 0.5),
            (0.625, 0.62),
            (0.375, 0.38),
            (2.0 / 3.0, 0.67),
            (1.0 / 3.0, 0.33),
            (0.0, 0.0),
            (1.0, 1.0),
            (1.5, 1.5),
            (0.994, 0.99),
            (0.995, 1.0), // 0.995 × 100 = 99.5 exactly, even neighbour 100
            (0.996, 1.0),
        ];
        for (x, want) in cases {
            assert_eq!(numpy_around(x, 2), want, "around({x}, 2)");
        }
    }

    #[test]
    fn numpy_around_four_places() {
        let cases = [
            (2.0 / 3.0, 0.6667),
            (0.25, 0.25),
            (0.12345, 0.1234),
            (0.00005, 0.0),
        ];
        for (x, want) in cases {
            assert_eq!(numpy_around(x, 4), want, "around({x}, 4)");
        }
    }

    #[test]
    fn half_away_from_zero() {
        let cases = [
            (0.5, 1.0),
            (1.5, 2.0),
            (2.5, 3.0),
            (2.4999, 2.0),
            (-0.5, -1.0),
            (-2.5, -3.0),
            (-2.4, -2.0),
            (0.0, 0.0),
            // floor(x + 0.5) rounds up here, unlike a correctly rounded round().
            (0.49999999999999994, 1.0),
        ];
        for (x, want) in cases {
            assert_eq!(round_half_away_from_zero(x), want, "round({x})");
        }
    }

    #[test]
    fn course_percent_adds_five_hundredths() {
        // Worked by hand: total × 100 + 0.05, then halves up.
        let cases = [
            (0.8445, 0.85), // 84.45 + 0.05 = 84.5 → 85
            (0.8444, 0.84), // 84.44 + 0.05 = 84.49 → 84
            (0.845, 0.85),
            (0.5, 0.5),
            (0.4949, 0.5), // 49.49 + 0.05 = 49.54 → 50
            (0.4944, 0.49),
            (0.49999999999999994, 0.5),
            (0.0, 0.0),
            (1.0, 1.0),
            (1.15, 1.15),
        ];
        for (total, want) in cases {
            assert_eq!(course_percent(total), want, "course_percent({total})");
        }
    }
}

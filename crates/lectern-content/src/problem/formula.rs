//! `formularesponse`: the learner's formula and the staff formula are
//! evaluated at random samples of the variables (`samples="x,y@1,2:3,4#10"`:
//! 10 samples, x in [1,3], y in [2,4]) and must agree within the tolerance at
//! every sample. Names are case-insensitive unless `type="cs"`. Any
//! evaluation error — an unknown name above all — refuses the submission
//! without using an attempt, as in Open edX.
//!
//! Open edX draws samples from an unseeded global generator; Lectern draws
//! them from the learner's seed so a grade can be reproduced.
//!
//! The sample count and the number of variables are bounded
//! ([`crate::limits`]); all samples of one answer share one evaluation
//! budget.

use super::calc;
use super::common::{shorten, single};
use super::numerical::{compare, Tol, DEFAULT_TOLERANCE};
use super::pynum::py_float;
use super::types::{Answer, InputError, InputResult};
use super::xml::Element;
use num_complex::Complex64;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq)]
struct Samples {
    /// (variable, low, high), in the order the spec names them.
    ranges: Vec<(String, f64, f64)>,
    count: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Formula {
    answer: String,
    samples: Samples,
    tolerance: String,
    case_sensitive: bool,
}

impl Formula {
    pub fn parse(resp: &Element) -> Result<Self, String> {
        let answer = super::common::required_attr(resp, "answer")?;
        let spec = super::common::required_attr(resp, "samples")?;
        let samples = parse_samples(&spec)
            .ok_or_else(|| format!("formularesponse samples {spec:?} are malformed"))?;
        // Problem::parse refuses this first; kept here so no path builds one.
        if samples.count > crate::limits::MAX_FORMULA_SAMPLES {
            return Err(format!(
                "formularesponse samples {spec:?} asks for too many samples"
            ));
        }
        let tolerance =
            super::common::tolerance_param(resp).unwrap_or_else(|| DEFAULT_TOLERANCE.to_string());
        let types: Vec<&str> = resp
            .attr("type")
            .map(|t| t.split(',').collect())
            .unwrap_or_default();
        let case_sensitive = !types.contains(&"ci") && types.contains(&"cs");
        Ok(Self {
            answer,
            samples,
            tolerance,
            case_sensitive,
        })
    }

    /// `stream` separates the generators of several formula responses in
    /// one problem.
    pub fn grade(
        &self,
        input_id: &str,
        answers: &BTreeMap<String, Answer>,
        seed: u64,
        stream: u64,
    ) -> Result<InputResult, InputError> {
        let given = single(answers, input_id)?.unwrap_or("");
        let points = self.sample_points(seed, stream);
        let err = |m: String| InputError::new(input_id, m);
        let student = self.evaluate_all(given, &points).map_err(|e| {
            err(format!(
                "Invalid input: could not use '{}' as a formula: {e}",
                shorten(given)
            ))
        })?;
        let staff = self.evaluate_all(&self.answer, &points).map_err(|e| {
            err(format!(
                "this problem is misconfigured: its answer formula cannot be evaluated: {e}"
            ))
        })?;
        let tol = Tol::Str(self.tolerance.clone());
        for (s, i) in student.into_iter().zip(staff) {
            if !compare(s, i, &tol, false).map_err(err)? {
                return Ok(InputResult::incorrect());
            }
        }
        Ok(InputResult::correct())
    }

    fn sample_points(&self, seed: u64, stream: u64) -> Vec<HashMap<String, Complex64>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        (0..self.samples.count)
            .map(|_| {
                let mut vars = HashMap::new();
                for (name, lo, hi) in &self.samples.ranges {
                    // Python's random.uniform: a + (b - a) * random().
                    let u: f64 = rng.gen();
                    vars.insert(name.clone(), Complex64::new(lo + (hi - lo) * u, 0.0));
                }
                vars
            })
            .collect()
    }

    fn evaluate_all(
        &self,
        expr: &str,
        points: &[HashMap<String, Complex64>],
    ) -> Result<Vec<Complex64>, calc::CalcError> {
        // One budget for every sample: the sample count cannot multiply
        // the work an answer may ask for.
        let budget = calc::Budget::standard();
        points
            .iter()
            .map(|vars| calc::evaluate_within(expr, vars, self.case_sensitive, &budget))
            .collect()
    }

    pub fn correct_answer(&self) -> Answer {
        Answer::Single(self.answer.clone())
    }
}

/// `x,y@1,2:3,4#10` as Open edX reads it: names before `@`; lows and highs
/// (comma lists) separated by `:` before `#`; the sample count after it.
/// Names and ranges pair up as far as both go; a repeated name keeps its
/// last range.
fn parse_samples(spec: &str) -> Option<Samples> {
    let (names, rest) = spec.split_once('@')?;
    let rest = rest.split('@').next()?;
    let mut hash = rest.split('#');
    let ranges_part = hash.next()?;
    let count: usize = hash.next()?.trim().parse().ok()?;
    let bounds: Vec<&str> = ranges_part.split(':').collect();
    let [lows, highs] = bounds.as_slice() else {
        return None;
    };
    let lows: Vec<f64> = lows.split(',').map(py_float).collect::<Option<_>>()?;
    let highs: Vec<f64> = highs.split(',').map(py_float).collect::<Option<_>>()?;
    let mut ranges: Vec<(String, f64, f64)> = Vec::new();
    for (name, (lo, hi)) in names.split(',').zip(lows.into_iter().zip(highs)) {
        ranges.retain(|(n, _, _)| n != name);
        ranges.push((name.to_string(), lo, hi));
    }
    Some(Samples { ranges, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_spec() {
        let s = parse_samples("x,y@1,2:3,4#10").unwrap();
        assert_eq!(s.count, 10);
        assert_eq!(
            s.ranges,
            vec![("x".to_string(), 1.0, 3.0), ("y".to_string(), 2.0, 4.0)]
        );
        let s = parse_samples("R,omega@0.1,0.1:10,10#5").unwrap();
        assert_eq!(s.ranges[1], ("omega".to_string(), 0.1, 10.0));
        // Extra names without ranges are dropped, as zip() does.
        assert_eq!(parse_samples("x,y,z@1:2#3").unwrap().ranges.len(), 1);
        for bad in ["x@1:2", "x@1,2#3", "x#3", "x@a:b#3", "x@1:2:3#3", "x@1:2#n"] {
            assert_eq!(parse_samples(bad), None, "{bad}");
        }
    }

    #[test]
    fn samples_stay_in_range_and_follow_the_seed() {
        let f = Formula {
            answer: "x".into(),
            samples: parse_samples("x,y@1,-5:3,-4#20").unwrap(),
            tolerance: DEFAULT_TOLERANCE.into(),
            case_sensitive: false,
        };
        let a = f.sample_points(7, 0);
        assert_eq!(a.len(), 20);
        for p in &a {
            assert!((1.0..=3.0).contains(&p["x"].re) && (-5.0..=-4.0).contains(&p["y"].re));
        }
        assert_eq!(a, f.sample_points(7, 0));
        assert_ne!(a, f.sample_points(8, 0));
        assert_ne!(a, f.sample_points(7, 1));
    }
}

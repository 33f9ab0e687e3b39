//! `multiplechoiceresponse` (and its `truefalseresponse` variant): one radio
//! group, correct iff the chosen name is a `correct="true"` choice;
//! `partial_credit="points"` gives a `correct="partial"` choice its
//! `point_value` (default 0.5). `shuffle` and `answer-pool` change only what
//! a learner sees, never how an answer is graded (as in Open edX, where a
//! hidden correct choice still grades correct).

use super::common::{credit_types, hint_div, hint_html, single_scheme};
use super::pynum::py_float;
use super::types::{Answer, ChoiceSpec, InputError, InputResult};
use super::xml::Element;
use crate::sanitize::clean_html;
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mark {
    True,
    False,
    Partial,
}

#[derive(Debug, Clone)]
pub(crate) struct McChoice {
    pub name: String,
    pub mark: Mark,
    pub point_value: f64,
    pub label_html: String,
    pub fixed: bool,
    hint: Option<Element>,
}

#[derive(Debug, Clone)]
pub(crate) struct MultipleChoice {
    pub choices: Vec<McChoice>,
    credit: Option<Vec<String>>,
    true_false: bool,
    shuffle: bool,
    answer_pool: usize,
}

impl MultipleChoice {
    /// Reads the response; `Err` names what makes it ungradable.
    pub fn parse(resp: &Element, true_false: bool) -> Result<Self, String> {
        let mut choices = Vec::new();
        let mut counter = 0usize;
        let mut shuffle = false;
        let mut pool_attr = None;
        for group in resp.children_named("choicegroup") {
            if group.attr("shuffle") == Some("true") {
                shuffle = true;
            }
            if let Some(p) = group.attr("answer-pool") {
                pool_attr.get_or_insert(p.to_string());
            }
            for child in group.elements() {
                // Every child takes a number unless it is named, as in Open edX.
                let name = match child.attr("name") {
                    Some(n) => format!("choice_{n}"),
                    None => {
                        counter += 1;
                        format!("choice_{}", counter - 1)
                    }
                };
                if child.tag != "choice" {
                    continue;
                }
                let correct = child.attr("correct").unwrap_or("false");
                let mark = if correct.eq_ignore_ascii_case("true") {
                    Mark::True
                } else if correct.eq_ignore_ascii_case("partial") {
                    Mark::Partial
                } else {
                    Mark::False
                };
                let point_value = match child.attr("point_value") {
                    None => 0.5,
                    Some(v) => py_float(v)
                        .ok_or_else(|| format!("choice point_value {v:?} is not a number"))?,
                };
                choices.push(McChoice {
                    name,
                    mark,
                    point_value,
                    label_html: clean_html(child.inner_xml_without(&["choicehint"]).trim()),
                    fixed: child.attr("fixed") == Some("true"),
                    hint: child.children_named("choicehint").next().cloned(),
                });
            }
        }
        let answer_pool = match pool_attr.as_deref() {
            None | Some("0") => 0,
            Some(p) => p
                .trim()
                .parse::<i64>()
                .map_err(|_| "answer-pool value should be an integer".to_string())?
                .max(0) as usize,
        };
        if shuffle && pool_attr.is_some() {
            return Err("shuffle and answer-pool cannot be used together".into());
        }
        if answer_pool > 0 {
            let correct = choices.iter().filter(|c| c.mark == Mark::True).count();
            if correct == 0 || correct == choices.len() {
                return Err("answer-pool needs at least 1 correct and 1 incorrect choice".into());
            }
        }
        Ok(Self {
            choices,
            credit: credit_types(resp),
            true_false,
            shuffle,
            answer_pool,
        })
    }

    pub fn grade(
        &self,
        input_id: &str,
        answers: &BTreeMap<String, Answer>,
    ) -> Result<InputResult, InputError> {
        let given = answers.get(input_id);
        if self.true_false {
            let want: std::collections::BTreeSet<&str> = self
                .choices
                .iter()
                .filter(|c| c.mark == Mark::True)
                .map(|c| c.name.as_str())
                .collect();
            let got: std::collections::BTreeSet<&str> = given
                .map(Answer::as_list)
                .unwrap_or_default()
                .into_iter()
                .collect();
            return Ok(InputResult::of(want == got));
        }
        let scheme = match &self.credit {
            None => "false",
            Some(types) => single_scheme(types, &["points", "false"], input_id, "Multiple Choice")?,
        };
        let chosen = match given {
            Some(Answer::Single(s)) => self.choices.iter().find(|c| &c.name == s),
            _ => None,
        };
        let mut result = match chosen {
            Some(c) if c.mark == Mark::True => InputResult::correct(),
            Some(c) if c.mark == Mark::Partial && scheme == "points" => {
                InputResult::partial(c.point_value)
            }
            _ => InputResult::incorrect(),
        };
        if let Some(c) = chosen {
            if let Some(h) = &c.hint {
                result.msg = hint_div(
                    c.mark == Mark::True,
                    h.attr("label"),
                    &[hint_html(h)],
                    false,
                );
            }
        }
        Ok(result)
    }

    /// The first correct choice in display order (what "Show answer" marks).
    pub fn correct_answer(&self, order: &[usize]) -> Option<Answer> {
        order
            .iter()
            .filter_map(|i| self.choices.get(*i))
            .find(|c| c.mark == Mark::True)
            .or_else(|| self.choices.iter().find(|c| c.mark == Mark::True))
            .map(|c| Answer::Single(c.name.clone()))
    }

    /// Indexes into `choices` in the order this learner sees them. Uses the
    /// problem's shared generator, so call it for each response in order.
    pub fn display_order<R: Rng>(&self, rng: &mut R) -> Vec<usize> {
        let all: Vec<usize> = (0..self.choices.len()).collect();
        if self.shuffle {
            // Fixed choices at the head stay; every later fixed one goes to the tail.
            let head: Vec<usize> = all
                .iter()
                .copied()
                .take_while(|i| self.choices[*i].fixed)
                .collect();
            let rest = &all[head.len()..];
            let mut middle: Vec<usize> = rest
                .iter()
                .copied()
                .filter(|i| !self.choices[*i].fixed)
                .collect();
            let tail: Vec<usize> = rest
                .iter()
                .copied()
                .filter(|i| self.choices[*i].fixed)
                .collect();
            middle.shuffle(rng);
            return head.into_iter().chain(middle).chain(tail).collect();
        }
        if self.answer_pool > 0 {
            let correct: Vec<usize> = all
                .iter()
                .copied()
                .filter(|i| self.choices[*i].mark == Mark::True)
                .collect();
            let mut wrong: Vec<usize> = all
                .iter()
                .copied()
                .filter(|i| self.choices[*i].mark != Mark::True)
                .collect();
            let pick = correct[rng.gen_range(0..correct.len())];
            wrong.shuffle(rng);
            let mut subset = vec![pick];
            subset.extend(wrong.into_iter().take(self.answer_pool - 1));
            subset.shuffle(rng);
            return subset;
        }
        all
    }

    pub fn specs(&self) -> Vec<ChoiceSpec> {
        self.choices
            .iter()
            .map(|c| ChoiceSpec {
                name: c.name.clone(),
                label_html: c.label_html.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn mc(xml: &str) -> MultipleChoice {
        let e = super::super::xml::parse(xml).unwrap();
        MultipleChoice::parse(&e, e.tag == "truefalseresponse").unwrap()
    }

    fn grade(m: &MultipleChoice, a: Option<Answer>) -> Result<(String, f64), InputError> {
        let mut answers = BTreeMap::new();
        if let Some(a) = a {
            answers.insert("p_2_1".to_string(), a);
        }
        m.grade("p_2_1", &answers)
            .map(|r| (r.correctness.as_str().to_string(), r.npoints))
    }

    fn s(x: &str) -> Option<Answer> {
        Some(Answer::Single(x.into()))
    }

    #[test]
    fn names_count_only_unnamed_choices() {
        let m = mc(r#"<multiplechoiceresponse><choicegroup>
            <choice correct="false">a</choice><choice name="x" correct="true">b</choice><choice correct="false">c</choice>
            </choicegroup></multiplechoiceresponse>"#);
        let names: Vec<&str> = m.choices.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["choice_0", "choice_x", "choice_1"]);
    }

    #[test]
    fn grading_table() {
        let plain = mc(
            r#"<multiplechoiceresponse><choicegroup><choice correct="false">a</choice>
            <choice correct="TRUE">b<choicehint>Yes!</choicehint></choice></choicegroup></multiplechoiceresponse>"#,
        );
        let points = mc(
            r#"<multiplechoiceresponse partial_credit="points"><choicegroup>
            <choice correct="false">a</choice><choice correct="true">b</choice>
            <choice correct="partial">c</choice><choice correct="partial" point_value="0.25">d</choice>
            <choice correct="partial" point_value="1">e</choice></choicegroup></multiplechoiceresponse>"#,
        );
        let bad_credit = mc(
            r#"<multiplechoiceresponse partial_credit="points,halves"><choicegroup>
            <choice correct="true">a</choice></choicegroup></multiplechoiceresponse>"#,
        );
        type Case<'a> = (
            &'a MultipleChoice,
            Option<Answer>,
            Result<(&'a str, f64), ()>,
        );
        let cases: Vec<Case> = vec![
            (&plain, s("choice_1"), Ok(("correct", 1.0))),
            (&plain, s("choice_0"), Ok(("incorrect", 0.0))),
            (&plain, None, Ok(("incorrect", 0.0))),
            (&plain, s(""), Ok(("incorrect", 0.0))),
            (&plain, s("choice_9"), Ok(("incorrect", 0.0))),
            (
                &plain,
                Some(Answer::Multiple(vec!["choice_1".into()])),
                Ok(("incorrect", 0.0)),
            ),
            (&points, s("choice_1"), Ok(("correct", 1.0))),
            (&points, s("choice_2"), Ok(("partially-correct", 0.5))),
            (&points, s("choice_3"), Ok(("partially-correct", 0.25))),
            (&points, s("choice_4"), Ok(("partially-correct", 1.0))),
            (&points, s("choice_0"), Ok(("incorrect", 0.0))),
            (&bad_credit, s("choice_0"), Err(())),
        ];
        for (i, (m, a, want)) in cases.into_iter().enumerate() {
            let got = grade(m, a).map_err(|_| ());
            let want = want.map(|(c, p)| (c.to_string(), p));
            assert_eq!(got, want, "case {i}");
        }
        let answers = BTreeMap::from([("p_2_1".to_string(), Answer::Single("choice_1".into()))]);
        assert!(plain.grade("p_2_1", &answers).unwrap().msg.contains("Yes!"));
    }

    #[test]
    fn true_false_needs_the_exact_set() {
        let m = mc(
            r#"<truefalseresponse><choicegroup><choice correct="true">a</choice>
            <choice correct="true">b</choice><choice correct="false">c</choice></choicegroup></truefalseresponse>"#,
        );
        let both = Some(Answer::Multiple(vec!["choice_1".into(), "choice_0".into()]));
        assert_eq!(grade(&m, both).unwrap().0, "correct");
        assert_eq!(grade(&m, s("choice_0")).unwrap().0, "incorrect");
    }

    #[test]
    fn shuffle_keeps_fixed_choices_and_pool_keeps_one_correct() {
        let m = mc(r#"<multiplechoiceresponse><choicegroup shuffle="true">
            <choice correct="false" fixed="true">head</choice><choice correct="false">a</choice>
            <choice correct="true">b</choice><choice correct="false">c</choice>
            <choice correct="false" fixed="true">tail</choice></choicegroup></multiplechoiceresponse>"#);
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..30u64 {
            let order = m.display_order(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(order.len(), 5);
            assert_eq!((order[0], order[4]), (0, 4));
            seen.insert(order);
        }
        assert!(seen.len() > 1, "shuffle never changed the order");
        let pool = mc(r#"<multiplechoiceresponse><choicegroup answer-pool="3">
            <choice correct="true">a</choice><choice correct="true">b</choice><choice correct="false">c</choice>
            <choice correct="false">d</choice><choice correct="false">e</choice></choicegroup></multiplechoiceresponse>"#);
        for seed in 0..30u64 {
            let order = pool.display_order(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(order.len(), 3);
            assert_eq!(
                order
                    .iter()
                    .filter(|i| pool.choices[**i].mark == Mark::True)
                    .count(),
                1
            );
        }
    }

    #[test]
    fn misconfigured_pools_are_reported() {
        for xml in [
            r#"<multiplechoiceresponse><choicegroup answer-pool="x"><choice correct="true">a</choice></choicegroup></multiplechoiceresponse>"#,
            r#"<multiplechoiceresponse><choicegroup answer-pool="2"><choice correct="true">a</choice></choicegroup></multiplechoiceresponse>"#,
            r#"<multiplechoiceresponse><choicegroup answer-pool="2" shuffle="true"><choice correct="true">a</choice><choice>b</choice></choicegroup></multiplechoiceresponse>"#,
            r#"<multiplechoiceresponse><choicegroup><choice correct="partial" point_value="half">a</choice></choicegroup></multiplechoiceresponse>"#,
        ] {
            let e = super::super::xml::parse(xml).unwrap();
            assert!(MultipleChoice::parse(&e, false).is_err(), "{xml}");
        }
    }
}

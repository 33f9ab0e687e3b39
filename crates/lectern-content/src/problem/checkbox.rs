//! `choiceresponse` (checkboxes, or a `radiogroup`): correct iff the checked
//! set equals the correct set; nothing checked is incorrect. Partial credit
//! `EDC` (every decision counts) and `halves`, computed as Open edX does.
//! Choices are named `choice_<position>` whatever their `name` says.

use super::common::{credit_types, hint_div, hint_html, round_away_from_zero, single_scheme};
use super::types::{Answer, ChoiceSpec, Correctness, InputError, InputResult};
use super::xml::Element;
use crate::sanitize::clean_html;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
struct CbChoice {
    name: String,
    /// The compound-hint id: the `id` attribute or A, B, C… by position.
    hint_id: String,
    /// `Some(true)` for correct="true", `Some(false)` for "false", `None`
    /// for anything else (counted in neither set, as in Open edX).
    correct: Option<bool>,
    label_html: String,
    hints: Vec<Element>,
}

#[derive(Debug, Clone)]
pub(crate) struct Checkbox {
    choices: Vec<CbChoice>,
    credit: Option<Vec<String>>,
    compound: Vec<(BTreeSet<String>, String)>,
}

impl Checkbox {
    pub fn parse(resp: &Element) -> Self {
        let choices = resp
            .descendants()
            .into_iter()
            .filter(|e| e.tag == "choice")
            .enumerate()
            .map(|(i, c)| {
                let mark = c.attr("correct").unwrap_or("");
                let correct = if mark.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if mark.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                };
                let letter = u32::from(b'A') + i as u32;
                let hint_id = c.attr("id").map(str::to_string).unwrap_or_else(|| {
                    char::from_u32(letter).map(String::from).unwrap_or_default()
                });
                CbChoice {
                    name: format!("choice_{i}"),
                    hint_id: hint_id.to_uppercase(),
                    correct,
                    label_html: clean_html(c.inner_xml_without(&["choicehint"]).trim()),
                    hints: c.children_named("choicehint").cloned().collect(),
                }
            })
            .collect();
        let compound = resp
            .descendants()
            .into_iter()
            .filter(|e| e.tag == "compoundhint")
            .map(|h| {
                let set = h
                    .attr("value")
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_uppercase)
                    .collect();
                (set, clean_html(h.inner_xml_without(&[]).trim()))
            })
            .collect();
        Self {
            choices,
            credit: credit_types(resp),
            compound,
        }
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

    fn set(&self, want: bool) -> BTreeSet<&str> {
        self.choices
            .iter()
            .filter(|c| c.correct == Some(want))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// `max_points` is the response's maximum score (its input's `points`).
    pub fn grade(
        &self,
        input_id: &str,
        answers: &BTreeMap<String, Answer>,
        max_points: f64,
    ) -> Result<InputResult, InputError> {
        let given: Vec<&str> = answers
            .get(input_id)
            .map(Answer::as_list)
            .unwrap_or_default();
        let mut result = self.score(input_id, &given, max_points)?;
        result.msg = self.hints(&given, result.correctness == Correctness::Correct);
        Ok(result)
    }

    fn score(
        &self,
        input_id: &str,
        given: &[&str],
        max_points: f64,
    ) -> Result<InputResult, InputError> {
        if given.is_empty() {
            return Ok(InputResult::incorrect());
        }
        let correct = self.set(true);
        let incorrect = self.set(false);
        let all: BTreeSet<&str> = correct.union(&incorrect).copied().collect();
        let chosen: BTreeSet<&str> = given.iter().copied().collect();
        let not_chosen: BTreeSet<&str> = all.difference(&chosen).copied().collect();
        let scheme = match &self.credit {
            None => "false",
            Some(types) => single_scheme(types, &["edc", "halves", "false"], input_id, "Checkbox")?,
        };
        match scheme {
            "edc" => {
                if all.is_empty() {
                    return Err(InputError::new(
                        input_id,
                        "this problem is misconfigured: it has no choices to grade",
                    ));
                }
                let good = chosen.iter().filter(|c| correct.contains(*c)).count()
                    + not_chosen.iter().filter(|c| incorrect.contains(*c)).count();
                if good == all.len() {
                    Ok(InputResult::correct())
                } else if good > 0 {
                    let points =
                        round_away_from_zero(max_points * good as f64 / all.len() as f64, 2);
                    Ok(InputResult::partial(points))
                } else {
                    Ok(InputResult::incorrect())
                }
            }
            "halves" => {
                let errors = chosen.iter().filter(|c| incorrect.contains(*c)).count()
                    + not_chosen.iter().filter(|c| correct.contains(*c)).count();
                let n = all.len();
                Ok(match errors {
                    0 => InputResult {
                        npoints: max_points,
                        ..InputResult::correct()
                    },
                    1 if n > 2 => InputResult::partial(round_away_from_zero(max_points / 2.0, 2)),
                    2 if n > 4 => InputResult::partial(round_away_from_zero(max_points / 4.0, 2)),
                    _ => InputResult::incorrect(),
                })
            }
            _ => Ok(InputResult::of(chosen == correct)),
        }
    }

    /// Compound hint for the exact checked set if there is one, else every
    /// choice's hint for its checked / unchecked state.
    fn hints(&self, given: &[&str], correct: bool) -> String {
        if !given.is_empty() {
            let ids: BTreeSet<String> = given
                .iter()
                .filter_map(|g| self.choices.iter().find(|c| c.name == *g))
                .map(|c| c.hint_id.clone())
                .collect();
            if let Some((_, text)) = self.compound.iter().find(|(set, _)| *set == ids) {
                return hint_div(correct, None, std::slice::from_ref(text), false);
            }
        }
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for c in &self.choices {
            let selector = if given.contains(&c.name.as_str()) {
                "true"
            } else {
                "false"
            };
            for h in &c.hints {
                if h.attr("selected")
                    .unwrap_or("")
                    .eq_ignore_ascii_case(selector)
                {
                    if let Some(l) = h.attr("label") {
                        labels.push(l.to_string());
                    }
                    texts.push(hint_html(h));
                }
            }
        }
        let label = if labels.len() == 1 {
            labels.first().map(String::as_str)
        } else {
            None
        };
        hint_div(correct, label, &texts, true)
    }

    /// The correct choice names, in document order.
    pub fn correct_answer(&self) -> Answer {
        Answer::Multiple(self.set(true).into_iter().map(str::to_string).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cb(xml: &str) -> Checkbox {
        Checkbox::parse(&super::super::xml::parse(xml).unwrap())
    }

    fn five(credit: &str) -> Checkbox {
        cb(&format!(
            r#"<choiceresponse partial_credit="{credit}"><checkboxgroup>
            <choice correct="true">a</choice><choice correct="false">b</choice><choice correct="true">c</choice>
            <choice correct="false">d</choice><choice correct="true">e</choice></checkboxgroup></choiceresponse>"#
        ))
    }

    fn run(c: &Checkbox, given: &[&str], max: f64) -> (&'static str, f64) {
        let r = c.score("p_2_1", given, max).unwrap();
        (r.correctness.as_str(), r.npoints)
    }

    #[test]
    fn grading_table() {
        let exact = five("false");
        let edc = five("EDC");
        let halves = five("halves");
        let three = cb(
            r#"<choiceresponse partial_credit="halves"><checkboxgroup><choice correct="true">a</choice>
            <choice correct="false">b</choice><choice correct="false">c</choice></checkboxgroup></choiceresponse>"#,
        );
        let two = cb(
            r#"<choiceresponse partial_credit="halves"><checkboxgroup><choice correct="true">a</choice>
            <choice correct="false">b</choice></checkboxgroup></choiceresponse>"#,
        );
        // Correct set is {0, 2, 4} of five choices.
        type Case<'a> = (&'a Checkbox, Vec<&'a str>, f64, (&'a str, f64));
        let cases: Vec<Case> = vec![
            (
                &exact,
                vec!["choice_0", "choice_2", "choice_4"],
                1.0,
                ("correct", 1.0),
            ),
            (
                &exact,
                vec!["choice_4", "choice_0", "choice_2"],
                1.0,
                ("correct", 1.0),
            ),
            (
                &exact,
                vec!["choice_0", "choice_2"],
                1.0,
                ("incorrect", 0.0),
            ),
            (&exact, vec![], 1.0, ("incorrect", 0.0)),
            (
                &exact,
                vec!["choice_0", "choice_2", "choice_4", "choice_99"],
                1.0,
                ("incorrect", 0.0),
            ),
            // EDC: decisions right / 5, rounded to 2 places.
            (
                &edc,
                vec!["choice_0", "choice_2", "choice_4"],
                1.0,
                ("correct", 1.0),
            ),
            (
                &edc,
                vec!["choice_0", "choice_2"],
                1.0,
                ("partially-correct", 0.8),
            ),
            (&edc, vec!["choice_0"], 1.0, ("partially-correct", 0.6)),
            (&edc, vec!["choice_1", "choice_3"], 1.0, ("incorrect", 0.0)),
            (
                &edc,
                vec!["choice_0", "choice_99"],
                3.0,
                ("partially-correct", 1.8),
            ),
            (&edc, vec![], 1.0, ("incorrect", 0.0)),
            // halves: 1 mistake with >2 choices → ½, 2 mistakes with >4 → ¼.
            (
                &halves,
                vec!["choice_0", "choice_2", "choice_4"],
                1.0,
                ("correct", 1.0),
            ),
            (
                &halves,
                vec!["choice_0", "choice_2", "choice_4"],
                2.0,
                ("correct", 2.0),
            ),
            (
                &halves,
                vec!["choice_0", "choice_2"],
                1.0,
                ("partially-correct", 0.5),
            ),
            (&halves, vec!["choice_0"], 1.0, ("partially-correct", 0.25)),
            (&halves, vec!["choice_1"], 1.0, ("incorrect", 0.0)),
            (
                &three,
                vec!["choice_0", "choice_1"],
                1.0,
                ("partially-correct", 0.5),
            ),
            (&three, vec!["choice_1"], 1.0, ("incorrect", 0.0)),
            (&two, vec!["choice_0", "choice_1"], 1.0, ("incorrect", 0.0)),
        ];
        for (i, (c, given, max, want)) in cases.into_iter().enumerate() {
            assert_eq!(run(c, &given, max), want, "case {i}: {given:?}");
        }
    }

    #[test]
    fn names_ignore_the_name_attribute_and_single_answers_count() {
        let c = cb(
            r#"<choiceresponse><radiogroup><choice name="x" correct="false">a</choice>
            <choice name="y" correct="true">b</choice></radiogroup></choiceresponse>"#,
        );
        assert_eq!(c.specs()[1].name, "choice_1");
        let answers = BTreeMap::from([("p_2_1".to_string(), Answer::Single("choice_1".into()))]);
        assert_eq!(
            c.grade("p_2_1", &answers, 1.0).unwrap().correctness,
            Correctness::Correct
        );
    }

    #[test]
    fn unknown_scheme_or_two_schemes_refuse_the_submission() {
        for credit in ["edc,halves", "points"] {
            assert!(
                five(credit).score("p_2_1", &["choice_0"], 1.0).is_err(),
                "{credit}"
            );
        }
    }

    #[test]
    fn choice_and_compound_hints() {
        let c = cb(r#"<choiceresponse><checkboxgroup>
            <choice correct="true">a<choicehint selected="true">A picked</choicehint><choicehint selected="false">A missed</choicehint></choice>
            <choice correct="false">b<choicehint selected="TRUE">B picked</choicehint></choice>
            <compoundhint value="a b">Both</compoundhint></checkboxgroup></choiceresponse>"#);
        let msg = |given: &[&str]| c.hints(given, false);
        assert!(
            msg(&["choice_0"]).contains("A picked") && !msg(&["choice_0"]).contains("B picked")
        );
        assert!(msg(&["choice_1"]).contains("A missed") && msg(&["choice_1"]).contains("B picked"));
        let both = msg(&["choice_0", "choice_1"]);
        assert!(
            both.contains("Both") && !both.contains("A picked"),
            "{both}"
        );
    }
}

//! Hand-worked grading cases; each expected number is derived in the
//! comment beside it, following Open edX's formulas.

use std::collections::BTreeMap;

use super::*;
use crate::grader::AssignmentType;

fn t(ty: &str, min: u32, drop: u32, weight: f64, label: Option<&str>) -> AssignmentType {
    AssignmentType {
        assignment_type: ty.into(),
        min_count: min,
        drop_count: drop,
        weight,
        short_label: label.map(str::to_string),
    }
}

fn policy(graders: Vec<AssignmentType>, cutoffs: &[(&str, f64)]) -> GradingPolicy {
    GradingPolicy {
        graders,
        grade_cutoffs: cutoffs
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn p(earned: f64, possible: f64) -> ProblemScore {
    ProblemScore { earned, possible }
}

fn sub(id: &str, format: Option<&str>, graded: bool, problems: &[(f64, f64)]) -> SubsectionInput {
    SubsectionInput {
        id: id.into(),
        display_name: format!("Subsection {id}"),
        format: format.map(str::to_string),
        graded,
        problems: problems.iter().map(|&(e, q)| p(e, q)).collect(),
    }
}

fn hw(id: &str, problems: &[(f64, f64)]) -> SubsectionInput {
    sub(id, Some("Homework"), true, problems)
}

/// (label, percent, dropped, subsection id or None for a placeholder)
type WantEntry = (&'static str, f64, bool, Option<&'static str>);
/// [`WantEntry`] with owned strings, for comparing.
type EntryRow = (String, f64, bool, Option<String>);

struct Case {
    name: &'static str,
    policy: GradingPolicy,
    subsections: Vec<SubsectionInput>,
    percent: f64,
    letter: Option<&'static str>,
    passed: bool,
    /// Per type: (average, dropped_count, entries).
    types: Vec<(f64, usize, Vec<WantEntry>)>,
}

fn cases() -> Vec<Case> {
    let hw_only = |min, drop, w| vec![t("Homework", min, drop, w, Some("HW"))];
    let pass = [("Pass", 0.5)];
    vec![
        Case {
            // 1.0, 0.5, 0.75; drop 0.5 → (1.0 + 0.75) / 2 = 0.875 → 87.55 → 88%.
            name: "drop the lowest",
            policy: policy(hw_only(3, 1, 1.0), &pass),
            subsections: vec![
                hw("a", &[(1.0, 1.0)]),
                hw("b", &[(1.0, 2.0)]),
                hw("c", &[(3.0, 4.0)]),
            ],
            percent: 0.88,
            letter: Some("Pass"),
            passed: true,
            types: vec![(
                0.875,
                1,
                vec![
                    ("HW 01", 1.0, false, Some("a")),
                    ("HW 02", 0.5, true, Some("b")),
                    ("HW 03", 0.75, false, Some("c")),
                ],
            )],
        },
        Case {
            // 0.5, 0.5, 0.5, 1.0; the later two 0.5s go → (0.5 + 1.0) / 2 = 0.75.
            name: "ties drop the later ones",
            policy: policy(hw_only(4, 2, 1.0), &pass),
            subsections: vec![
                hw("a", &[(1.0, 2.0)]),
                hw("b", &[(1.0, 2.0)]),
                hw("c", &[(1.0, 2.0)]),
                hw("d", &[(2.0, 2.0)]),
            ],
            percent: 0.75,
            letter: Some("Pass"),
            passed: true,
            types: vec![(
                0.75,
                2,
                vec![
                    ("HW 01", 0.5, false, Some("a")),
                    ("HW 02", 0.5, true, Some("b")),
                    ("HW 03", 0.5, true, Some("c")),
                    ("HW 04", 1.0, false, Some("d")),
                ],
            )],
        },
        Case {
            // 0.8 then four placeholder zeros; the last zero is dropped →
            // 0.8 / 4 = 0.2; × 0.5 = 0.1 → 10.05 → 10%.
            name: "min_count larger than the subsections",
            policy: policy(hw_only(5, 1, 0.5), &pass),
            subsections: vec![hw("a", &[(4.0, 5.0)])],
            percent: 0.1,
            letter: None,
            passed: false,
            types: vec![(
                0.2,
                1,
                vec![
                    ("HW 01", 0.8, false, Some("a")),
                    ("HW 02", 0.0, false, None),
                    ("HW 03", 0.0, false, None),
                    ("HW 04", 0.0, false, None),
                    ("HW 05", 0.0, true, None),
                ],
            )],
        },
        Case {
            // One entry, two to drop: everything dropped, average 0; a lone
            // entry is labelled with the short label alone.
            name: "drop_count beyond the entries",
            policy: policy(vec![t("Exam", 1, 2, 1.0, Some("Exam"))], &pass),
            subsections: vec![sub("x", Some("Exam"), true, &[(1.0, 1.0)])],
            percent: 0.0,
            letter: None,
            passed: false,
            types: vec![(0.0, 1, vec![("Exam", 1.0, true, Some("x"))])],
        },
        Case {
            // HW (0.6 + 0.8) / 2 = 0.7 × 0.5 = 0.35; Final 0.9 × 0.5 = 0.45;
            // 0.8 → 80.05 → 80%: exactly the B cutoff.
            name: "weights summing to 1, letter at its boundary",
            policy: policy(
                vec![
                    t("Homework", 2, 0, 0.5, Some("HW")),
                    t("Final Exam", 1, 0, 0.5, Some("Final")),
                ],
                &[("A", 0.9), ("B", 0.8), ("C", 0.6)],
            ),
            subsections: vec![
                hw("h1", &[(3.0, 5.0)]),
                sub("f", Some("Final Exam"), true, &[(9.0, 10.0)]),
                hw("h2", &[(4.0, 5.0)]),
            ],
            percent: 0.8,
            letter: Some("B"),
            passed: true,
            types: vec![
                (
                    0.7,
                    0,
                    vec![
                        ("HW 01", 0.6, false, Some("h1")),
                        ("HW 02", 0.8, false, Some("h2")),
                    ],
                ),
                (0.9, 0, vec![("Final", 0.9, false, Some("f"))]),
            ],
        },
        Case {
            // 1.0 × 1.0 + 1.0 × 0.5 = 1.5 → 150%, no cap.
            name: "weights past 1 give extra credit",
            policy: policy(
                vec![t("Exam", 1, 0, 1.0, None), t("Bonus", 1, 0, 0.5, None)],
                &[("A", 0.9), ("Pass", 0.5)],
            ),
            subsections: vec![
                sub("e", Some("Exam"), true, &[(2.0, 2.0)]),
                sub("b", Some("Bonus"), true, &[(1.0, 1.0)]),
            ],
            percent: 1.5,
            letter: Some("A"),
            passed: true,
            types: vec![
                (1.0, 0, vec![("Exam", 1.0, false, Some("e"))]),
                (1.0, 0, vec![("Bonus", 1.0, false, Some("b"))]),
            ],
        },
        Case {
            // 0.3 × 0.5 + 0.35 × 0.5 + 0.35 × 0.5 = 0.49999999999999994 in
            // doubles; × 100 + 0.05 = 50.04999… → 50%, which passes.
            name: "total at 0.5 passes the 0.5 cutoff",
            policy: policy(
                vec![
                    t("A", 1, 0, 0.3, None),
                    t("B", 1, 0, 0.35, None),
                    t("C", 1, 0, 0.35, None),
                ],
                &pass,
            ),
            subsections: vec![
                sub("a", Some("A"), true, &[(1.0, 2.0)]),
                sub("b", Some("B"), true, &[(1.0, 2.0)]),
                sub("c", Some("C"), true, &[(1.0, 2.0)]),
            ],
            percent: 0.5,
            letter: Some("Pass"),
            passed: true,
            types: vec![
                (0.5, 0, vec![("A", 0.5, false, Some("a"))]),
                (0.5, 0, vec![("B", 0.5, false, Some("b"))]),
                (0.5, 0, vec![("C", 0.5, false, Some("c"))]),
            ],
        },
        Case {
            // 1.0 × 0.8445 → 84.45 + 0.05 = 84.5 → 85%: reaches an 0.85 cutoff.
            name: "84.45% shows as 85%",
            policy: policy(vec![t("X", 1, 0, 0.8445, None)], &[("A", 0.85), ("B", 0.7)]),
            subsections: vec![sub("x", Some("X"), true, &[(1.0, 1.0)])],
            percent: 0.85,
            letter: Some("A"),
            passed: true,
            types: vec![(1.0, 0, vec![("X", 1.0, false, Some("x"))])],
        },
        Case {
            // 49.49 + 0.05 = 49.54 → 50%: passes.
            name: "49.49% passes a 50% cutoff",
            policy: policy(vec![t("X", 1, 0, 0.4949, None)], &pass),
            subsections: vec![sub("x", Some("X"), true, &[(1.0, 1.0)])],
            percent: 0.5,
            letter: Some("Pass"),
            passed: true,
            types: vec![(1.0, 0, vec![("X", 1.0, false, Some("x"))])],
        },
        Case {
            // 49.44 + 0.05 = 49.49 → 49%: fails.
            name: "49.44% fails a 50% cutoff",
            policy: policy(vec![t("X", 1, 0, 0.4944, None)], &pass),
            subsections: vec![sub("x", Some("X"), true, &[(1.0, 1.0)])],
            percent: 0.49,
            letter: None,
            passed: false,
            types: vec![(1.0, 0, vec![("X", 1.0, false, Some("x"))])],
        },
        Case {
            // The ungraded 0/1 does not count: HW = 1.0, not (0 + 1) / 2.
            name: "ungraded subsections are ignored",
            policy: policy(hw_only(1, 0, 1.0), &pass),
            subsections: vec![
                sub("u", Some("Homework"), false, &[(0.0, 1.0)]),
                hw("a", &[(1.0, 1.0)]),
            ],
            percent: 1.0,
            letter: Some("Pass"),
            passed: true,
            types: vec![(1.0, 0, vec![("HW", 1.0, false, Some("a"))])],
        },
        Case {
            // Only "b" is Homework (formats match exactly): 0.5 and a
            // placeholder 0 → 0.25 → 25.05 → 25%.
            name: "formats that are no grader type are ignored",
            policy: policy(hw_only(2, 0, 1.0), &pass),
            subsections: vec![
                sub("q", Some("Quiz"), true, &[(1.0, 1.0)]),
                sub("n", None, true, &[(1.0, 1.0)]),
                sub("l", Some("homework"), true, &[(1.0, 1.0)]),
                hw("b", &[(1.0, 2.0)]),
            ],
            percent: 0.25,
            letter: None,
            passed: false,
            types: vec![(
                0.25,
                0,
                vec![
                    ("HW 01", 0.5, false, Some("b")),
                    ("HW 02", 0.0, false, None),
                ],
            )],
        },
        Case {
            // No problems, or only 0-point ones: absent, not a zero → 3/5 alone.
            name: "graded subsections with nothing possible are absent",
            policy: policy(hw_only(1, 0, 1.0), &pass),
            subsections: vec![hw("e", &[]), hw("z", &[(0.0, 0.0)]), hw("a", &[(3.0, 5.0)])],
            percent: 0.6,
            letter: Some("Pass"),
            passed: true,
            types: vec![(0.6, 0, vec![("HW", 0.6, false, Some("a"))])],
        },
        Case {
            // 1/8 → 0.12, 101/200 → 0.50, (0.5 + 2) / (1 + 3) = 0.625 → 0.62;
            // (0.12 + 0.5 + 0.62) / 3 = 0.41333… → 41.38 → 41%.
            name: "subsection percents rounded half to even",
            policy: policy(hw_only(3, 0, 1.0), &pass),
            subsections: vec![
                hw("a", &[(1.0, 8.0)]),
                hw("b", &[(101.0, 200.0)]),
                hw("c", &[(0.5, 1.0), (2.0, 3.0)]),
            ],
            percent: 0.41,
            letter: None,
            passed: false,
            types: vec![(
                1.24 / 3.0,
                0,
                vec![
                    ("HW 01", 0.12, false, Some("a")),
                    ("HW 02", 0.5, false, Some("b")),
                    ("HW 03", 0.62, false, Some("c")),
                ],
            )],
        },
        Case {
            name: "no cutoffs: never passed",
            policy: policy(hw_only(1, 0, 1.0), &[]),
            subsections: vec![hw("a", &[(1.0, 1.0)])],
            percent: 1.0,
            letter: None,
            passed: false,
            types: vec![(1.0, 0, vec![("HW", 1.0, false, Some("a"))])],
        },
        Case {
            name: "min_count 0 and nothing to grade",
            policy: policy(hw_only(0, 2, 1.0), &pass),
            subsections: vec![],
            percent: 0.0,
            letter: None,
            passed: false,
            types: vec![(0.0, 0, vec![])],
        },
    ]
}

#[test]
fn grade_course_hand_worked_cases() {
    for case in cases() {
        let grade = grade_course(&case.policy, &case.subsections);
        let name = case.name;
        assert_eq!(grade.percent, case.percent, "{name}: percent");
        assert_eq!(grade.letter_grade.as_deref(), case.letter, "{name}: letter");
        assert_eq!(grade.passed, case.passed, "{name}: passed");
        assert_eq!(grade.by_type.len(), case.types.len(), "{name}: types");
        for (got, (average, dropped, entries)) in grade.by_type.iter().zip(&case.types) {
            let ty = &got.assignment_type;
            assert!(
                (got.average - average).abs() < 1e-12,
                "{name}/{ty}: average {}",
                got.average
            );
            assert_eq!(got.dropped_count, *dropped, "{name}/{ty}: dropped_count");
            let got_entries: Vec<EntryRow> = got
                .entries
                .iter()
                .map(|e| {
                    (
                        e.label.clone(),
                        e.percent,
                        e.dropped,
                        e.subsection_id.clone(),
                    )
                })
                .collect();
            let want_entries: Vec<EntryRow> = entries
                .iter()
                .map(|&(label, percent, dropped, id)| {
                    (label.to_string(), percent, dropped, id.map(str::to_string))
                })
                .collect();
            assert_eq!(got_entries, want_entries, "{name}/{ty}: entries");
        }
    }
}

#[test]
fn totals_and_entry_details() {
    // HW (0.6 + 0.8) / 2 = 0.7 (0.7000000000000001 in doubles) × 0.5, plus
    // Final 0.9 × 0.5: the unrounded total is 0.8 up to one ulp.
    let case = cases()
        .into_iter()
        .find(|c| c.name.starts_with("weights summing to 1"))
        .unwrap();
    let grade = grade_course(&case.policy, &case.subsections);
    assert!((grade.total_raw - 0.8).abs() < 1e-15, "{}", grade.total_raw);
    let hw = &grade.by_type[0];
    assert_eq!((hw.short_label.as_str(), hw.weight), ("HW", 0.5));
    assert!((hw.weighted - 0.35).abs() < 1e-15);
    let first = &hw.entries[0];
    assert_eq!(first.display_name.as_deref(), Some("Subsection h1"));
    assert_eq!((first.earned, first.possible), (3.0, 5.0));

    // A type without short_label is labelled by its type; placeholders have
    // no subsection, name or points.
    let grade = grade_course(&policy(vec![t("Lab", 2, 0, 1.0, None)], &[]), &[]);
    let labels: Vec<&str> = grade.by_type[0]
        .entries
        .iter()
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(labels, ["Lab 01", "Lab 02"]);
    assert_eq!(grade.by_type[0].short_label, "Lab");
    let placeholder = &grade.by_type[0].entries[1];
    assert_eq!(
        (
            placeholder.subsection_id.clone(),
            placeholder.display_name.clone()
        ),
        (None, None)
    );
    assert_eq!((placeholder.earned, placeholder.possible), (0.0, 0.0));
}

#[test]
fn subsection_percent_cases() {
    type Problems<'a> = &'a [(f64, f64)];
    // (problems, expected percent)
    let cases: &[(Problems, Option<f64>)] = &[
        (&[], None),
        (&[(0.0, 0.0)], None),
        (&[(0.0, 0.0), (0.0, 0.0)], None),
        (&[(0.0, 2.0)], Some(0.0)),
        (&[(1.0, 8.0)], Some(0.12)),             // 12.5 → 12
        (&[(101.0, 200.0)], Some(0.5)),          // 0.505 × 100 = 50.5 → 50
        (&[(5.0, 8.0)], Some(0.62)),             // 62.5 → 62
        (&[(3.0, 8.0)], Some(0.38)),             // 37.5 → 38
        (&[(0.5, 1.0), (2.0, 3.0)], Some(0.62)), // 2.5 / 4
        (&[(1.0, 3.0)], Some(0.33)),
        (&[(2.0, 3.0)], Some(0.67)),
        (&[(3.0, 3.0), (0.0, 0.0)], Some(1.0)),
    ];
    for (problems, want) in cases {
        let scores: Vec<ProblemScore> = problems.iter().map(|&(e, q)| p(e, q)).collect();
        assert_eq!(subsection_percent(&scores), *want, "{problems:?}");
    }
    assert_eq!(
        subsection_percent_with_decimals(&[p(2.0, 3.0)], 4),
        Some(0.6667)
    );
}

#[test]
fn four_place_rounding_changes_the_grade_as_open_edx_pr_27788_says() {
    // Homework weight 0.75, 2/3 and 1/4. Two places: (0.67 + 0.25) / 2 =
    // 0.46 × 0.75 = 0.345 → 34.55 → 35%. Four places: (0.6667 + 0.25) / 2 =
    // 0.45835 × 0.75 = 0.3437625 → 34.43 → 34%.
    let policy = policy(vec![t("Homework", 2, 0, 0.75, Some("HW"))], &[]);
    let subs = [hw("a", &[(2.0, 3.0)]), hw("b", &[(1.0, 4.0)])];
    assert_eq!(grade_course(&policy, &subs).percent, 0.35);
    assert_eq!(grade_course_with_decimals(&policy, &subs, 4).percent, 0.34);
}

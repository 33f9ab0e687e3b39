//! The real `grading_policy.json` files of Open edX's demo course and test
//! course, read from the course exports in the shared fixtures folder
//! (`LECTERN_OLX_FIXTURES`, default `tests/fixtures/olx` in the repository), parsed and
//! graded. Expected values are read off the files by hand.

use std::io::Read;
use std::path::PathBuf;

use super::*;

fn grading_policy_text(archive: &str) -> String {
    let dir = std::env::var_os("LECTERN_OLX_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/fixtures/olx"
            ))
        });
    let path = dir.join(format!("{archive}.tar.gz"));
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("fixture {} (set LECTERN_OLX_FIXTURES): {e}", path.display()));
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if name.contains("/policies/") && name.ends_with("/grading_policy.json") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return text;
        }
    }
    panic!("no grading_policy.json in {}", path.display());
}

fn summary(policy: &GradingPolicy) -> Vec<(&str, u32, u32, f64, Option<&str>)> {
    policy
        .graders
        .iter()
        .map(|g| {
            let label = g.short_label.as_deref();
            (
                g.assignment_type.as_str(),
                g.min_count,
                g.drop_count,
                g.weight,
                label,
            )
        })
        .collect()
}

fn sub(id: &str, format: &str, earned: f64, possible: f64) -> SubsectionInput {
    SubsectionInput {
        id: id.into(),
        display_name: id.into(),
        format: Some(format.into()),
        graded: true,
        problems: vec![ProblemScore { earned, possible }],
    }
}

#[test]
fn demo_course_policy() {
    let policy = GradingPolicy::from_json(&grading_policy_text("openedx-demo-course")).unwrap();
    assert_eq!(
        summary(&policy),
        vec![
            ("Basic Assessment Tools", 1, 0, 0.3, Some("Basic")),
            (
                "Intermediate Assessment Tools",
                1,
                0,
                0.35,
                Some("Intermediate")
            ),
            ("Advanced Assessment Tools", 1, 0, 0.35, Some("Advanced")),
        ]
    );
    assert_eq!(
        policy.grade_cutoffs,
        std::collections::BTreeMap::from([("Pass".to_string(), 0.5)])
    );
    assert_eq!(GradingPolicy::from_json(&policy.to_json()).unwrap(), policy);

    // (basic, intermediate, advanced subsection scores out of 4, percent, passed)
    // e.g. 2/4, 2/4, 2/4: 0.3×0.5 + 0.35×0.5 + 0.35×0.5 = 0.5 (0.49999999999999994) → 50%.
    let cases = [
        ((4.0, 4.0, 4.0), 1.0, true),
        ((2.0, 2.0, 2.0), 0.5, true),
        ((4.0, 0.0, 0.0), 0.3, false),  // 0.3
        ((0.0, 4.0, 4.0), 0.7, true),   // 0.35 + 0.35
        ((4.0, 3.0, 0.0), 0.56, true),  // 0.3 + 0.35 × 0.75 = 0.5625 → 56.3 → 56%
        ((1.0, 1.0, 1.0), 0.25, false), // 0.25
    ];
    for ((b, i, a), percent, passed) in cases {
        let subs = [
            sub("basic", "Basic Assessment Tools", b, 4.0),
            sub("inter", "Intermediate Assessment Tools", i, 4.0),
            sub("adv", "Advanced Assessment Tools", a, 4.0),
        ];
        let grade = grade_course(&policy, &subs);
        assert_eq!(
            (grade.percent, grade.passed),
            (percent, passed),
            "{b} {i} {a}"
        );
        let labels: Vec<&str> = grade
            .by_type
            .iter()
            .map(|t| t.entries[0].label.as_str())
            .collect();
        assert_eq!(labels, ["Basic", "Intermediate", "Advanced"]);
    }
}

#[test]
fn test_course_policy() {
    let policy = GradingPolicy::from_json(&grading_policy_text("openedx-test-course")).unwrap();
    assert_eq!(
        summary(&policy),
        vec![
            ("Homework", 12, 2, 0.15, Some("HW")),
            ("Lab", 12, 2, 0.15, None),
            ("Midterm Exam", 1, 0, 0.3, Some("Midterm")),
            ("Final Exam", 1, 0, 0.4, Some("Final")),
        ]
    );
    assert_eq!(
        policy.grade_cutoffs,
        std::collections::BTreeMap::from([("Pass".to_string(), 0.5)])
    );
    // The test course's policy is Open edX's default one.
    assert_eq!(policy, GradingPolicy::default());

    // Two homeworks at 100%, everything else missing: HW has 12 entries,
    // 10 zeros, two dropped → 2 / 10 = 0.2 × 0.15 = 0.03 → 3%.
    let subs = [
        sub("h1", "Homework", 1.0, 1.0),
        sub("h2", "Homework", 2.0, 2.0),
    ];
    let grade = grade_course(&policy, &subs);
    assert_eq!(grade.percent, 0.03);
    assert!(!grade.passed);
    let hw = &grade.by_type[0];
    assert_eq!(hw.entries.len(), 12);
    assert_eq!(hw.entries[0].label, "HW 01");
    assert_eq!(hw.entries[11].label, "HW 12");
    let dropped: Vec<usize> = hw
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.dropped)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(dropped, [10, 11]);
    assert_eq!(grade.by_type[1].entries[0].label, "Lab 01");
    assert_eq!(grade.by_type[2].entries[0].label, "Midterm");

    // Twelve homeworks (1.0 ×10, 0 ×2), twelve labs at 0.5, midterm 0.8,
    // final 0.6: HW (10 × 1.0) / 10 = 1.0 → 0.15; Lab 0.5 → 0.075;
    // 0.24 + 0.24 → total 0.705 → 70.55 → 71%.
    let mut subs: Vec<SubsectionInput> = (0..12)
        .map(|i| {
            sub(
                &format!("h{i}"),
                "Homework",
                if i < 10 { 1.0 } else { 0.0 },
                1.0,
            )
        })
        .collect();
    subs.extend((0..12).map(|i| sub(&format!("l{i}"), "Lab", 1.0, 2.0)));
    subs.push(sub("mid", "Midterm Exam", 8.0, 10.0));
    subs.push(sub("fin", "Final Exam", 6.0, 10.0));
    let grade = grade_course(&policy, &subs);
    assert_eq!(grade.percent, 0.71);
    assert_eq!(grade.letter_grade.as_deref(), Some("Pass"));
    assert!(grade.passed);
}

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    parse_date(s).unwrap()
}

fn settings(pairs: &[(&str, &str)]) -> ProblemSettings {
    let m: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ProblemSettings::from_fields(&m).unwrap()
}

#[test]
fn fields_as_open_edx_writes_them() {
    let s = settings(&[
        ("max_attempts", ""),
        ("showanswer", "past_due"),
        ("weight", "2.5"),
        ("rerandomize", "per_student"),
        ("due", "2030-01-31T23:59:00Z"),
        ("graceperiod", "2 days 3 hours"),
    ]);
    assert_eq!(s.max_attempts, None);
    assert_eq!(s.showanswer, ShowAnswer::PastDue);
    assert_eq!(s.weight, Some(2.5));
    assert_eq!(s.rerandomize, Rerandomize::PerStudent);
    assert_eq!(s.due, Some(at("2030-01-31T23:59:00+00:00")));
    assert_eq!(s.graceperiod, Some(Duration::hours(51)));
    assert_eq!(s.close_date(), Some(at("2030-02-03T02:59:00Z")));
    let d = settings(&[]);
    assert_eq!(d, ProblemSettings::default());
    assert_eq!(d.showanswer, ShowAnswer::Finished);
    assert_eq!(
        settings(&[("max_attempts", "3"), ("weight", "null")]).max_attempts,
        Some(3)
    );
    assert_eq!(
        settings(&[("rerandomize", "true")]).rerandomize,
        Rerandomize::Always
    );
    assert_eq!(
        settings(&[("rerandomize", "false")]).rerandomize,
        Rerandomize::PerStudent
    );
    for bad in [
        ("max_attempts", "many"),
        ("weight", "-1"),
        ("due", "someday"),
    ] {
        let m = BTreeMap::from([(bad.0.to_string(), bad.1.to_string())]);
        assert!(ProblemSettings::from_fields(&m).is_err(), "{bad:?}");
    }
}

#[test]
fn grace_periods() {
    let cases = [
        ("2 days 3 hours", Some(Duration::hours(51))),
        ("1 day", Some(Duration::days(1))),
        ("5 minutes 30 seconds", Some(Duration::seconds(330))),
        ("1 hour", Some(Duration::hours(1))),
        ("", Some(Duration::zero())),
        ("two days", None),
        ("3 weeks", None),
    ];
    for (s, want) in cases {
        assert_eq!(parse_graceperiod(s), want, "{s:?}");
    }
}

#[test]
fn dates() {
    assert_eq!(at("2030-01-31T23:59:00"), at("2030-01-31T23:59:00Z"));
    assert_eq!(at("2030-01-31"), at("2030-01-31T00:00:00Z"));
    assert_eq!(at("2030-01-31T23:59:00+02:00"), at("2030-01-31T21:59:00Z"));
    assert_eq!(parse_date("soon"), None);
}

#[test]
fn closed_by_attempts_or_due_date() {
    let s = settings(&[
        ("max_attempts", "2"),
        ("due", "2030-01-01T00:00:00Z"),
        ("graceperiod", "1 hour"),
    ]);
    let before = at("2030-01-01T00:30:00Z");
    let after = at("2030-01-01T01:00:01Z");
    let cases = [
        (0, before, false),
        (1, before, false),
        (2, before, true),
        (0, after, true),
    ];
    for (attempts, now, want) in cases {
        assert_eq!(s.is_closed(attempts, now), want, "{attempts} at {now}");
    }
    assert!(!settings(&[]).is_closed(1000, after));
    let course_end = ProblemSettings {
        course_end: Some(at("2029-01-01T00:00:00Z")),
        ..settings(&[])
    };
    assert!(course_end.is_closed(0, before));
}

#[test]
fn every_showanswer_value() {
    let due = "2030-01-01T00:00:00Z";
    let before = at("2029-12-31T00:00:00Z");
    let after = at("2030-01-02T00:00:00Z");
    let fresh = AttemptState::default();
    let tried = AttemptState {
        attempts: 1,
        ..Default::default()
    };
    let right = AttemptState {
        attempts: 1,
        is_correct: true,
        ..Default::default()
    };
    let used = AttemptState {
        attempts: 3,
        ..Default::default()
    };
    let staff = AttemptState {
        staff: true,
        ..Default::default()
    };
    // (showanswer, state, now, expected) with max_attempts=3 and the due date above.
    let cases = [
        ("always", fresh, before, true),
        ("never", right, after, false),
        ("never", staff, after, false),
        ("", right, after, false),
        ("bogus", right, after, false),
        ("answered", tried, before, false),
        ("answered", right, before, true),
        ("attempted", fresh, before, false),
        ("attempted", tried, before, true),
        ("attempted", fresh, after, true),
        ("attempted_no_past_due", fresh, after, false),
        ("attempted_no_past_due", tried, before, true),
        ("closed", tried, before, false),
        ("closed", used, before, true),
        ("closed", fresh, after, true),
        ("finished", tried, before, false),
        ("finished", right, before, true),
        ("finished", used, before, true),
        ("correct_or_past_due", tried, before, false),
        ("correct_or_past_due", right, before, true),
        ("correct_or_past_due", fresh, after, true),
        ("past_due", right, before, false),
        ("past_due", fresh, after, true),
        ("after_all_attempts", tried, after, false),
        ("after_all_attempts", used, before, true),
        ("after_all_attempts_or_correct", tried, before, false),
        ("after_all_attempts_or_correct", right, before, true),
        ("after_all_attempts_or_correct", used, before, true),
        ("finished", staff, before, true),
    ];
    for (i, (show, state, now, want)) in cases.into_iter().enumerate() {
        let s = settings(&[("showanswer", show), ("max_attempts", "3"), ("due", due)]);
        assert_eq!(
            s.answer_available(&state, now),
            want,
            "case {i}: {show} {state:?}"
        );
    }
    // after_attempts: 2 required, capped by max_attempts.
    let s = settings(&[
        ("showanswer", "after_attempts"),
        ("attempts_before_showanswer_button", "2"),
    ]);
    assert!(!s.answer_available(&tried, before));
    assert!(s.answer_available(
        &AttemptState {
            attempts: 2,
            ..Default::default()
        },
        before
    ));
    let capped = settings(&[
        ("showanswer", "after_attempts"),
        ("attempts_before_showanswer_button", "5"),
        ("max_attempts", "1"),
    ]);
    assert!(capped.answer_available(&tried, before));
    // Correctness withheld until the due date hides answers too.
    let hidden = settings(&[
        ("showanswer", "always"),
        ("show_correctness", "past_due"),
        ("due", due),
    ]);
    assert!(!hidden.answer_available(&fresh, before));
    assert!(hidden.answer_available(&fresh, after));
}

#[test]
fn seeds() {
    let key = "block-v1:edX+DemoX+Demo_Course+type@problem+block@abc";
    assert_eq!(seed_for(Rerandomize::Never, 42, key, 5), 1);
    // Bins computed with Python's hashlib as Open edX does.
    assert_eq!(randomization_bin(42, key), 7);
    assert_eq!(randomization_bin(0, "x"), 16);
    assert_eq!(
        seed_for(
            Rerandomize::PerStudent,
            7,
            "block-v1:a+b+c+type@problem+block@p1",
            3
        ),
        // Python: randomization_bin(7, str("block-v1:…p1".encode())), the
        // bytes' repr `b'…'` being what Open edX hashes.
        8
    );
    let a = seed_for(Rerandomize::Always, 42, key, 0);
    assert_eq!(a, seed_for(Rerandomize::OnReset, 42, key, 0));
    assert!(a < 1000);
    let changes = (1..20).any(|r| seed_for(Rerandomize::Always, 42, key, r) != a);
    assert!(changes, "a reset never changed the seed");
}

#[test]
fn weighting() {
    let cases = [
        ((1.0, 2.0, Some(10.0)), (5.0, 10.0)),
        ((3.0, 3.0, None), (3.0, 3.0)),
        ((0.0, 0.0, Some(5.0)), (0.0, 0.0)),
        ((2.0, 4.0, Some(0.0)), (0.0, 0.0)),
        ((0.5, 1.0, Some(3.0)), (1.5, 3.0)),
    ];
    for ((e, p, w), want) in cases {
        assert_eq!(weighted_score(e, p, w), want, "{e}/{p} weight {w:?}");
    }
}

#[test]
fn correctness_follows_show_correctness() {
    let due = "2030-01-01T00:00:00Z";
    let before = parse_date("2029-12-31T00:00:00Z").unwrap();
    let after = parse_date("2030-01-02T00:00:00Z").unwrap();
    let with = |mode: &str| settings(&[("show_correctness", mode), ("due", due)]);
    // (mode, learner before, learner after, staff before)
    let cases = [
        ("always", true, true, true),
        ("", true, true, true),
        ("past_due", false, true, true),
        ("never", false, false, false),
        ("never_but_include_grade", false, false, false),
    ];
    for (mode, lb, la, sb) in cases {
        let s = with(mode);
        assert_eq!(s.correctness_available(false, before), lb, "{mode}");
        assert_eq!(s.correctness_available(false, after), la, "{mode}");
        assert_eq!(s.correctness_available(true, before), sb, "{mode}");
    }
    // past_due without a due date shows correctness at once.
    let undated = settings(&[("show_correctness", "past_due")]);
    assert!(undated.correctness_available(false, before));
    // A grace period keeps it hidden until the problem closes.
    let grace = settings(&[
        ("show_correctness", "past_due"),
        ("due", due),
        ("graceperiod", "2 days"),
    ]);
    assert!(!grace.correctness_available(false, after));
    assert!(with("never_but_include_grade").hidden_score_counts());
    assert!(!with("never").hidden_score_counts());
}

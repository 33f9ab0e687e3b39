//! Retention on two years of synthetic backups, with the survivors written
//! out by hand (restic's rules: newest of each period, policies add up, the
//! newest always stays).

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use lectern_backup::retention::{keep, Policy};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// Two backups a day (05:00 and 17:00) from 2025-01-01 to 2026-12-31.
fn two_years() -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut day = at(2025, 1, 1, 5);
    while day < at(2027, 1, 1, 0) {
        out.push(day);
        out.push(day + Duration::hours(12));
        day += Duration::days(1);
    }
    out
}

fn survivors(times: &[DateTime<Utc>], policy: Policy) -> Vec<String> {
    let kept = keep(times, &policy).unwrap();
    let mut out: Vec<_> = times
        .iter()
        .zip(kept)
        .filter(|(_, k)| *k)
        .map(|(t, _)| t.format("%Y-%m-%d %H").to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn daily_weekly_monthly_keep_the_newest_of_each_period() {
    let policy = Policy {
        daily: 3,
        weekly: 2,
        monthly: 3,
        ..Policy::default()
    };
    // 2026-12-31 is a Thursday; ISO week 53 of 2026 began Monday 12-28, week
    // 52 on 12-21 (its newest backup: Sunday 12-27 17:00).
    let expected = [
        "2026-10-31 17", // monthly: October
        "2026-11-30 17", // monthly: November
        "2026-12-27 17", // weekly: ISO week 52
        "2026-12-29 17", // daily
        "2026-12-30 17", // daily
        "2026-12-31 17", // daily, weekly (week 53), monthly (December), newest
    ];
    assert_eq!(survivors(&two_years(), policy), expected);
}

#[test]
fn last_and_yearly_add_up() {
    let policy = Policy {
        last: 3,
        yearly: 5,
        ..Policy::default()
    };
    let expected = [
        "2025-12-31 17", // yearly 2025
        "2026-12-30 17", // last
        "2026-12-31 05", // last
        "2026-12-31 17", // last, yearly 2026
    ];
    assert_eq!(survivors(&two_years(), policy), expected);
}

#[test]
fn iso_weeks_cross_new_year() {
    // 2025-12-29 (Mon) to 2026-01-04 (Sun) is ISO week 1 of 2026: one week.
    let times = [
        at(2025, 12, 28, 5), // ISO 2025-W52 (Sunday)
        at(2025, 12, 29, 5), // 2026-W01
        at(2025, 12, 31, 5), // 2026-W01
        at(2026, 1, 4, 5),   // 2026-W01, newest
    ];
    let policy = Policy {
        weekly: 2,
        ..Policy::default()
    };
    assert_eq!(
        survivors(&times, policy),
        ["2025-12-28 05", "2026-01-04 05"]
    );
}

#[test]
fn the_newest_is_never_deleted_and_no_policy_is_refused() {
    let times = two_years();
    let policy = Policy {
        monthly: 1,
        ..Policy::default()
    };
    assert_eq!(survivors(&times, policy), ["2026-12-31 17"]);
    let err = keep(&times, &Policy::default()).unwrap_err();
    assert!(err.to_string().contains("no retention policy"), "{err}");
    // Unsorted input gives the same answer.
    let mut shuffled = times.clone();
    shuffled.reverse();
    let policy = Policy {
        daily: 2,
        ..Policy::default()
    };
    assert_eq!(survivors(&shuffled, policy), survivors(&times, policy));
}

//! Which backups to keep, with restic's rules: `last` keeps the newest N;
//! `daily`, `weekly` (ISO weeks), `monthly` and `yearly` each keep the
//! newest backup of each of the N most recent periods that have one. The
//! policies add up (a backup kept by any is kept), and the newest backup is
//! never deleted. Periods are taken in UTC.

use chrono::{DateTime, Datelike, Utc};

use crate::BackupError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub last: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }
}

/// The period a time falls in, as a comparable key.
type PeriodOf = fn(&DateTime<Utc>) -> (i32, u32, u32);

/// For each of `times` (any order), whether it is kept.
pub fn keep(times: &[DateTime<Utc>], policy: &Policy) -> Result<Vec<bool>, BackupError> {
    if policy.is_empty() {
        return Err(BackupError::Usage(
            "no retention policy given: pass at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly".into(),
        ));
    }
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[b].cmp(&times[a]));
    let mut kept = vec![false; times.len()];
    if let Some(&newest) = order.first() {
        kept[newest] = true;
    }
    for (i, &idx) in order.iter().enumerate() {
        if i < policy.last as usize {
            kept[idx] = true;
        }
    }
    let periods: [(u32, PeriodOf); 4] = [
        (policy.daily, |t| (t.year(), t.month(), t.day())),
        (policy.weekly, |t| {
            let w = t.iso_week();
            (w.year(), w.week(), 0)
        }),
        (policy.monthly, |t| (t.year(), t.month(), 0)),
        (policy.yearly, |t| (t.year(), 0, 0)),
    ];
    for (count, period) in periods {
        let mut left = count;
        let mut last = None;
        for &idx in &order {
            if left == 0 {
                break;
            }
            let p = period(&times[idx]);
            if last != Some(p) {
                kept[idx] = true;
                last = Some(p);
                left -= 1;
            }
        }
    }
    Ok(kept)
}

//! Each chart's numbers: the database's aggregates (`store.rs`), laid out
//! on the calendar (every day or week in the window, zeros included) or
//! in course order (the newest published version's graded problems and
//! videos, whether anyone tried them or not).

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use lectern_content::{Block, CourseKey, CourseTree};

use super::engagement::day_of;
use super::{
    ChartData, ChartKind, EnrollmentPoint, GradeBin, ProblemPoint, VideoPoint, WeekPoint, MAX_DAYS,
    MAX_WEEKS,
};
use crate::error::{AppError, AppResult};
use crate::reports::layout;
use crate::Lectern;

/// The date of a day number (days since 1970-01-01).
fn date_of(day: i64) -> NaiveDate {
    Duration::try_days(day)
        .and_then(|d| NaiveDate::default().checked_add_signed(d))
        .unwrap_or_default()
}

/// The week (Monday to Sunday) of a day number; 1970-01-01 was a Thursday.
fn week_of(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// The first day (a Monday) of a week number.
fn week_start(week: i64) -> i64 {
    week * 7 - 3
}

/// Video blocks of the course in course order.
fn videos_in_order(tree: &CourseTree) -> Vec<&Block> {
    let mut out = Vec::new();
    let mut stack: Vec<&Block> = tree.root().into_iter().collect();
    while let Some(b) = stack.pop() {
        if b.block_type == "video" {
            out.push(b);
            continue;
        }
        let children: Vec<&Block> = tree.children(b).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

impl Lectern {
    pub(super) async fn chart(&self, key: &CourseKey, kind: ChartKind) -> AppResult<ChartData> {
        let course = key.to_string();
        let today = day_of(self.now());
        Ok(match kind {
            ChartKind::Enrollments => {
                ChartData::Enrollments(self.enrollment_chart(&course, today).await?)
            }
            ChartKind::ActiveLearners => {
                ChartData::ActiveLearners(self.active_chart(&course, today).await?)
            }
            ChartKind::Grades => {
                let counts = self.store.grade_bins(&course).await?;
                let bins = counts
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| GradeBin {
                        from: i as u32 * 10,
                        to: i as u32 * 10 + 10,
                        learners: n,
                    })
                    .collect();
                let pass_mark = self.tree_of(key).await?.and_then(|t| {
                    t.grading_policy
                        .grade_cutoffs
                        .values()
                        .copied()
                        .filter(|c| c.is_finite())
                        .reduce(f64::min)
                });
                ChartData::Grades { bins, pass_mark }
            }
            ChartKind::Problems => ChartData::Problems(self.problem_chart(key).await?),
            ChartKind::Videos => ChartData::Videos(self.video_chart(key).await?),
        })
    }

    /// The newest published version's tree, or `None` before the first publish.
    async fn tree_of(&self, key: &CourseKey) -> AppResult<Option<std::sync::Arc<CourseTree>>> {
        match self.published_course(key).await {
            Ok(c) => Ok(Some(c.tree)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn enrollment_chart(&self, course: &str, today: i64) -> AppResult<Vec<EnrollmentPoint>> {
        let Some(first) = self.store.first_enrollment_day(course).await? else {
            return Ok(Vec::new());
        };
        let start = first.max(today - (MAX_DAYS - 1));
        let (mut total, days) = self.store.enrollment_days(course, start).await?;
        let by_day: HashMap<i64, (i64, i64)> = days
            .into_iter()
            .map(|d| (d.day, (d.created, d.active)))
            .collect();
        let mut out = Vec::new();
        for day in start..=today {
            let (new, active) = by_day.get(&day).copied().unwrap_or_default();
            total += active;
            out.push(EnrollmentPoint {
                day: date_of(day),
                new,
                total_active: total,
            });
        }
        Ok(out)
    }

    async fn active_chart(&self, course: &str, today: i64) -> AppResult<Vec<WeekPoint>> {
        let this_week = week_of(today);
        let earliest = this_week - (MAX_WEEKS - 1);
        let weeks: HashMap<i64, i64> = self
            .store
            .active_learner_weeks(course, week_start(earliest))
            .await?
            .into_iter()
            .filter(|(w, _)| *w <= this_week)
            .collect();
        let Some(&first) = weeks.keys().min() else {
            return Ok(Vec::new());
        };
        Ok((first.max(earliest)..=this_week)
            .map(|w| WeekPoint {
                week_start: date_of(week_start(w)),
                learners: weeks.get(&w).copied().unwrap_or(0),
            })
            .collect())
    }

    async fn problem_chart(&self, key: &CourseKey) -> AppResult<Vec<ProblemPoint>> {
        let Some(tree) = self.tree_of(key).await? else {
            return Ok(Vec::new());
        };
        let graded: HashSet<String> = layout::graded_columns(&tree)
            .into_iter()
            .flat_map(|t| t.subsections)
            .flat_map(|s| s.problems)
            .map(|(usage, _)| usage)
            .collect();
        let counts: HashMap<String, (i64, i64)> = self
            .store
            .first_attempts(&key.to_string())
            .await?
            .into_iter()
            .map(|f| (f.usage_key, (f.learners, f.correct)))
            .collect();
        let mut seen = HashSet::new();
        Ok(layout::every_problem(&tree)
            .into_iter()
            .filter(|(usage, _)| graded.contains(usage) && seen.insert(usage.clone()))
            .map(|(usage_key, name)| {
                let (learners, first_correct) = counts.get(&usage_key).copied().unwrap_or_default();
                ProblemPoint {
                    usage_key,
                    name,
                    learners,
                    first_correct,
                }
            })
            .collect())
    }

    async fn video_chart(&self, key: &CourseKey) -> AppResult<Vec<VideoPoint>> {
        let Some(tree) = self.tree_of(key).await? else {
            return Ok(Vec::new());
        };
        let summaries: HashMap<String, super::store::VideoSummary> = self
            .store
            .video_summaries(&key.to_string())
            .await?
            .into_iter()
            .map(|v| (v.usage_key.clone(), v))
            .collect();
        let mut seen = HashSet::new();
        Ok(videos_in_order(&tree)
            .into_iter()
            .filter(|b| seen.insert(b.id.clone()))
            .map(|b| {
                let usage_key = tree.usage_key(&b.block_ref()).to_string();
                let s = summaries.get(&usage_key);
                VideoPoint {
                    name: b.title(),
                    learners: s.map_or(0, |s| s.learners),
                    mean_seconds: s.map_or(0.0, |s| s.mean_seconds),
                    median_seconds: s.map_or(0.0, |s| s.median_seconds),
                    duration: s.map(|s| s.duration).filter(|d| *d > 0.0),
                    completed: s.map_or(0, |s| s.completed),
                    usage_key,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_mondays() {
        // 1970-01-05 was a Monday, day 4.
        assert_eq!(week_of(4), 1);
        assert_eq!(week_of(10), 1);
        assert_eq!(week_of(11), 2);
        assert_eq!(date_of(week_start(1)).to_string(), "1970-01-05");
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
        let day = (d - NaiveDate::default()).num_days();
        assert_eq!(date_of(week_start(week_of(day))).to_string(), "2026-11-30");
    }
}

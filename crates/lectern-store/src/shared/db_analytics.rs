//! `AnalyticsStore` for `Db<DB>` (migration 0014): the engagement flush
//! (one transaction; each row guarded by the learner's active enrolment,
//! values kept within the flush's cap by `CASE`, portable where `LEAST`
//! and `min()` are not) and the chart aggregates, each one `GROUP BY` so
//! a course of any size answers with a row per day, week, bin, problem or
//! video. The median of a video is read with `LIMIT`/`OFFSET` on its rows
//! in order, one or two values, never the whole column.

use async_trait::async_trait;
use lectern_app::analytics::store::{
    ActivityDay, AnalyticsStore, EngagementDelta, EnrollmentDay, FirstAttempts, VideoSummary,
};
use lectern_app::analytics::COMPLETED_SHARE;
use lectern_app::store::StoreResult;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::commit;
use crate::time::to_millis;

const DAY_MS: i64 = 86_400_000;

/// Adds a delta to a learner's row, when the learner is actively enrolled.
/// Seconds watched and the furthest position stay within the video's
/// length: the longer of the stored and the new one, or `$9` when neither
/// is known (see [`CAP`]).
fn upsert_engagement_sql() -> String {
    let sum = "video_engagement.seconds_watched + excluded.seconds_watched";
    let furthest = "CASE WHEN excluded.furthest > video_engagement.furthest \
         THEN excluded.furthest ELSE video_engagement.furthest END";
    format!(
        "INSERT INTO video_engagement \
         (course_key, usage_key, user_id, plays, seconds_watched, furthest, duration, last_seen) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
         WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.user_id = $3 AND e.course_key = $1 AND e.is_active) \
         ON CONFLICT (course_key, usage_key, user_id) DO UPDATE SET \
         plays = video_engagement.plays + excluded.plays, \
         seconds_watched = CASE WHEN {sum} > {CAP} THEN {CAP} ELSE {sum} END, \
         furthest = CASE WHEN {furthest} > {CAP} THEN {CAP} ELSE {furthest} END, \
         duration = CASE WHEN excluded.duration > video_engagement.duration \
             THEN excluded.duration ELSE video_engagement.duration END, \
         last_seen = excluded.last_seen"
    )
}

/// The length a row's values are kept within: the longer of the stored and
/// the new length, else `$9`.
const CAP: &str =
    "(CASE WHEN excluded.duration > video_engagement.duration THEN excluded.duration \
     WHEN video_engagement.duration > 0 THEN video_engagement.duration ELSE $9 END)";

const INSERT_ACTIVITY: &str = "INSERT INTO learner_activity (course_key, day, user_id) \
     SELECT $1, $2, $3 \
     WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.user_id = $3 AND e.course_key = $1 AND e.is_active) \
     ON CONFLICT (course_key, day, user_id) DO NOTHING";

/// (week, learners) of learners with a submission or an activity day.
const ACTIVE_WEEKS: &str = "SELECT x.w, COUNT(DISTINCT x.user_id) FROM ( \
     SELECT s.user_id AS user_id, (s.created_at / 86400000 + 3) / 7 AS w \
       FROM submissions s WHERE s.course_key = $1 AND s.created_at >= $2 \
     UNION \
     SELECT a.user_id AS user_id, (a.day + 3) / 7 AS w \
       FROM learner_activity a WHERE a.course_key = $1 AND a.day >= $3 \
     ) x WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.course_key = $1 AND e.user_id = x.user_id) \
     GROUP BY x.w ORDER BY x.w";

/// Learners per problem and those right at their first submission. A
/// learner's first submission of a problem has attempt 1 (attempts count up
/// from 0), so only those rows are read, through their partial index
/// (`submissions_first_attempts`); after a reset there can be several, and
/// the earliest is taken.
pub(crate) const FIRST_ATTEMPTS: &str = "SELECT s.usage_key, COUNT(*), \
     SUM(CASE WHEN s.possible > 0 AND s.earned >= s.possible THEN 1 ELSE 0 END) \
     FROM submissions s \
     JOIN (SELECT MIN(id) AS id FROM submissions WHERE course_key = $1 AND attempt = 1 \
           GROUP BY usage_key, user_id) f ON f.id = s.id \
     WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.course_key = $1 AND e.user_id = s.user_id) \
     GROUP BY s.usage_key";

const VIDEO_SUMMARIES: &str = "SELECT usage_key, COUNT(*), AVG(seconds_watched), MAX(duration), \
     SUM(CASE WHEN duration > 0 AND furthest >= $2 * duration THEN 1 ELSE 0 END) \
     FROM video_engagement WHERE course_key = $1 AND plays > 0 GROUP BY usage_key";

const VIDEO_MEDIAN: &str = "SELECT seconds_watched FROM video_engagement \
     WHERE course_key = $1 AND usage_key = $2 AND plays > 0 \
     ORDER BY seconds_watched LIMIT $3 OFFSET $4";

/// The grade bin (0–9) of `percent` (0..1): how many of 10 %, …, 90 % it
/// reaches (a hair under each step counts, as stored grades are rounded).
fn grade_bin_sql() -> String {
    let steps: Vec<String> = (1..10)
        .map(|k| {
            format!("CASE WHEN COALESCE(g.percent, 0) >= {k}.0 / 10 - 0.0000001 THEN 1 ELSE 0 END")
        })
        .collect();
    format!(
        "SELECT x.b, COUNT(*) FROM (SELECT CAST({} AS BIGINT) AS b \
         FROM enrollments e LEFT JOIN course_grades g ON g.user_id = e.user_id AND g.course_key = e.course_key \
         WHERE e.course_key = $1 AND e.is_active) x GROUP BY x.b",
        steps.join(" + ")
    )
}

#[async_trait]
impl<DB> AnalyticsStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn save_engagement(
        &self,
        deltas: &[EngagementDelta],
        days: &[ActivityDay],
    ) -> StoreResult<()> {
        if deltas.is_empty() && days.is_empty() {
            return Ok(());
        }
        let upsert = upsert_engagement_sql();
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        for d in deltas {
            sqlx::query(&upsert)
                .bind(d.course_key.clone())
                .bind(d.usage_key.clone())
                .bind(d.user_id)
                .bind(d.plays)
                .bind(d.seconds.min(d.cap))
                .bind(d.furthest.min(d.cap))
                .bind(d.duration)
                .bind(to_millis(d.last_seen))
                .bind(d.cap)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for a in days {
            sqlx::query(INSERT_ACTIVITY)
                .bind(a.course_key.clone())
                .bind(a.day)
                .bind(a.user_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        commit(tx).await
    }

    async fn enrollment_days(
        &self,
        course: &str,
        since_day: i64,
    ) -> StoreResult<(i64, Vec<EnrollmentDay>)> {
        let before: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM enrollments WHERE course_key = $1 AND created_at < $2 AND is_active",
        )
        .bind(course.to_string())
        .bind(since_day.saturating_mul(DAY_MS))
        .fetch_one(&self.read)
        .await
        .map_err(map_err)?;
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT created_at / 86400000, COUNT(*), SUM(CASE WHEN is_active THEN 1 ELSE 0 END) \
             FROM enrollments WHERE course_key = $1 AND created_at >= $2 \
             GROUP BY created_at / 86400000 ORDER BY created_at / 86400000",
        )
        .bind(course.to_string())
        .bind(since_day.saturating_mul(DAY_MS))
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok((
            before,
            rows.into_iter()
                .map(|(day, created, active)| EnrollmentDay {
                    day,
                    created,
                    active,
                })
                .collect(),
        ))
    }

    async fn first_enrollment_day(&self, course: &str) -> StoreResult<Option<i64>> {
        let first: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM enrollments WHERE course_key = $1")
                .bind(course.to_string())
                .fetch_one(&self.read)
                .await
                .map_err(map_err)?;
        Ok(first.map(|ms| ms.div_euclid(DAY_MS)))
    }

    async fn active_learner_weeks(
        &self,
        course: &str,
        since_day: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        sqlx::query_as(ACTIVE_WEEKS)
            .bind(course.to_string())
            .bind(since_day.saturating_mul(DAY_MS))
            .bind(since_day)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)
    }

    async fn grade_bins(&self, course: &str) -> StoreResult<[i64; 10]> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(&grade_bin_sql())
            .bind(course.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let mut bins = [0i64; 10];
        for (bin, n) in rows {
            if let Some(slot) = usize::try_from(bin).ok().and_then(|b| bins.get_mut(b)) {
                *slot += n;
            }
        }
        Ok(bins)
    }

    async fn first_attempts(&self, course: &str) -> StoreResult<Vec<FirstAttempts>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(FIRST_ATTEMPTS)
            .bind(course.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(usage_key, learners, correct)| FirstAttempts {
                usage_key,
                learners,
                correct,
            })
            .collect())
    }

    async fn video_summaries(&self, course: &str) -> StoreResult<Vec<VideoSummary>> {
        let rows: Vec<(String, i64, Option<f64>, Option<f64>, i64)> =
            sqlx::query_as(VIDEO_SUMMARIES)
                .bind(course.to_string())
                .bind(COMPLETED_SHARE)
                .fetch_all(&self.read)
                .await
                .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for (usage_key, learners, mean, duration, completed) in rows {
            // The middle value, or the mean of the two middle values.
            let (take, skip) = if learners % 2 == 1 {
                (1, learners / 2)
            } else {
                (2, learners / 2 - 1)
            };
            let middle: Vec<f64> = sqlx::query_scalar(VIDEO_MEDIAN)
                .bind(course.to_string())
                .bind(usage_key.clone())
                .bind(take)
                .bind(skip.max(0))
                .fetch_all(&self.read)
                .await
                .map_err(map_err)?;
            let median = if middle.is_empty() {
                0.0
            } else {
                middle.iter().sum::<f64>() / middle.len() as f64
            };
            out.push(VideoSummary {
                usage_key,
                learners,
                mean_seconds: mean.unwrap_or(0.0),
                median_seconds: median,
                duration: duration.unwrap_or(0.0),
                completed,
            });
        }
        Ok(out)
    }
}

//! Writing the engagement buffer (`engagement.rs`) to the database: every
//! [`FLUSH_EVERY`] on each node (a loop the job workers run beside them,
//! with a last flush when they stop), in one transaction per flush.
//!
//! Only videos of the course's newest published version are written (a
//! made-up video id never becomes a row), and the store writes a row only
//! for a learner actively enrolled in the course, so the table holds at
//! most one row per enrolled learner and video. A flush that fails (the
//! database away) is dropped, not retried: these are engagement
//! statistics, not acknowledged learner work, and a crash or an outage
//! loses at most the seconds since the last flush (`docs/analytics.md`).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use lectern_content::{BlockRef, CourseKey, UsageKey};
use tokio::sync::watch;

use super::engagement::{Entry, EntryKey, MAX_VIDEO_SECONDS};
use super::store::EngagementDelta;
use crate::error::AppResult;
use crate::Lectern;

/// How often each node writes its buffer.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// What one flush wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub videos: usize,
    pub days: usize,
}

impl Lectern {
    /// Writes what the engagement buffer gathered since the last flush.
    pub async fn flush_engagement(&self) -> AppResult<Flushed> {
        let (entries, days) = self.engagement.take(self.now());
        if entries.is_empty() && days.is_empty() {
            return Ok(Flushed::default());
        }
        let mut by_course: BTreeMap<String, Vec<(EntryKey, Entry)>> = BTreeMap::new();
        for (key, entry) in entries {
            by_course
                .entry(key.0.clone())
                .or_default()
                .push((key, entry));
        }
        let mut deltas = Vec::new();
        for (course, entries) in by_course {
            let Ok(key) = course.parse::<CourseKey>() else {
                continue;
            };
            let videos: HashSet<String> = match self.published_course(&key).await {
                Ok(c) => entries
                    .iter()
                    .map(|((_, id, _), _)| id)
                    .filter(|id| c.tree.block(&BlockRef::new("video", id)).is_some())
                    .cloned()
                    .collect(),
                Err(_) => continue,
            };
            for ((_, id, user), e) in entries {
                if !videos.contains(&id) {
                    continue;
                }
                let cap = if e.duration > 0.0 {
                    e.duration
                } else {
                    MAX_VIDEO_SECONDS
                };
                deltas.push(EngagementDelta {
                    course_key: course.clone(),
                    usage_key: UsageKey {
                        course: key.clone(),
                        block: BlockRef::new("video", &id),
                    }
                    .to_string(),
                    user_id: user,
                    plays: e.plays,
                    seconds: e.seconds.min(cap),
                    furthest: e.furthest.min(cap),
                    duration: e.duration,
                    cap,
                    last_seen: e.last_seen.unwrap_or_else(|| self.now()),
                });
            }
        }
        self.store.save_engagement(&deltas, &days).await?;
        Ok(Flushed {
            videos: deltas.len(),
            days: days.len(),
        })
    }
}

/// Flushes every [`FLUSH_EVERY`] until `stop` says so, then once more.
pub(crate) async fn flush_loop(app: Lectern, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = stop.has_changed().is_err() || *stop.borrow();
        if let Err(e) = app.flush_engagement().await {
            tracing::warn!(error = %e, "video engagement not written; these seconds are lost");
        }
        if stopping {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {}
        }
    }
}

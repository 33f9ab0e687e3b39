//! The node's engagement buffer: the player's browser events (`play_video`,
//! `pause_video`, `seek_video`, `stop_video`, `load_video`) folded, as they
//! arrive, into one entry per (course, video, learner), and every browser
//! event of a course into one activity mark per (course, learner, day).
//! `flush.rs` takes what changed every few seconds and writes it in one
//! transaction, so a flood of events from one learner costs one row
//! update per flush, never a database write per event.
//!
//! Seconds watched are the spans from a `play_video` to the next
//! `pause_video`, `stop_video` or `seek_video` (its `old_time`) this node
//! saw; the play position is kept between flushes. Every position and
//! length is clamped to [`MAX_VIDEO_SECONDS`] and values that are not
//! finite numbers are ignored. The buffer holds at most [`MAX_ENTRIES`]
//! entries and [`MAX_DAYS`] activity marks; events for new keys beyond
//! that are dropped and counted (engagement statistics, not learner work).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::store::ActivityDay;

/// The longest video length believed (six hours); positions and lengths
/// beyond it are clamped to it.
pub const MAX_VIDEO_SECONDS: f64 = 6.0 * 3600.0;
/// Entries (course, video, learner) the buffer holds at most.
pub const MAX_ENTRIES: usize = 20_000;
/// Activity marks the buffer holds at most (pending and remembered).
pub const MAX_DAYS: usize = 50_000;
/// Longest video id accepted from a browser event.
const MAX_VIDEO_ID_CHARS: usize = 200;
/// A play position not followed by a pause within this long is forgotten.
const PLAY_FORGOTTEN_AFTER_SECS: i64 = 6 * 3600;

/// (course key, video id, user id).
pub type EntryKey = (String, String, i64);

/// What the buffer knows of one learner and video since the last flush.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub plays: i64,
    pub seconds: f64,
    pub furthest: f64,
    pub duration: f64,
    pub last_seen: Option<DateTime<Utc>>,
    /// Where the video was when it was last played, until a pause.
    playing_from: Option<f64>,
    /// Changed since the last flush.
    dirty: bool,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<EntryKey, Entry>,
    days: HashSet<ActivityDay>,
    /// Marks already written, so a learner's day is written once.
    written: HashSet<ActivityDay>,
}

/// See the module documentation. Shared by every request of a node.
#[derive(Default)]
pub struct EngagementBuffer {
    inner: Mutex<Inner>,
    dropped: AtomicU64,
}

/// A finite position or length in seconds, clamped to the plausible range.
fn seconds(event: &Value, field: &str) -> Option<f64> {
    let v = event.get(field)?;
    let x = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))?;
    x.is_finite().then(|| x.clamp(0.0, MAX_VIDEO_SECONDS))
}

/// The video id of a player event (`id`, the block's url_name), when it
/// looks like one.
fn video_id(event: &Value) -> Option<&str> {
    let id = event.get("id")?.as_str()?;
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_VIDEO_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    ok.then_some(id)
}

/// Days since 1970-01-01 (UTC) of `at`.
pub fn day_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(86_400)
}

impl EngagementBuffer {
    /// Events dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Folds one accepted browser event of `course` by `user` at `now`.
    pub fn note(
        &self,
        course: &str,
        user: i64,
        event_type: &str,
        event: &Value,
        now: DateTime<Utc>,
    ) {
        let mut inner = self.lock();
        let mark = ActivityDay {
            course_key: course.to_string(),
            user_id: user,
            day: day_of(now),
        };
        if !inner.written.contains(&mark) && !inner.days.contains(&mark) {
            if inner.days.len() + inner.written.len() >= MAX_DAYS {
                inner.written.clear();
            }
            if inner.days.len() < MAX_DAYS {
                inner.days.insert(mark);
            } else {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        let video = matches!(
            event_type,
            "load_video" | "play_video" | "pause_video" | "seek_video" | "stop_video"
        );
        let Some(id) = video.then(|| video_id(event)).flatten() else {
            return;
        };
        let key = (course.to_string(), id.to_string(), user);
        if !inner.entries.contains_key(&key) && inner.entries.len() >= MAX_ENTRIES {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let entry = inner.entries.entry(key).or_default();
        entry.fold(event_type, event);
        entry.last_seen = Some(now);
        entry.dirty = true;
    }

    /// Takes what changed since the last call: entries with their
    /// deltas, and activity marks. Play positions stay for the pause to
    /// come; entries idle for hours are forgotten.
    pub fn take(&self, now: DateTime<Utc>) -> (Vec<(EntryKey, Entry)>, Vec<ActivityDay>) {
        let mut inner = self.lock();
        let mut out = Vec::new();
        let forget_before = now - chrono::Duration::seconds(PLAY_FORGOTTEN_AFTER_SECS);
        inner.entries.retain(|key, e| {
            if e.dirty {
                out.push((key.clone(), e.clone()));
            }
            let keep = e.playing_from.is_some() && e.last_seen.is_some_and(|t| t >= forget_before);
            if keep {
                *e = Entry {
                    duration: e.duration,
                    furthest: e.furthest,
                    last_seen: e.last_seen,
                    playing_from: e.playing_from,
                    ..Entry::default()
                };
            }
            keep
        });
        let days: Vec<ActivityDay> = inner.days.drain().collect();
        let today = day_of(now);
        inner.written.retain(|d| d.day >= today - 1);
        for d in &days {
            if inner.written.len() < MAX_DAYS {
                inner.written.insert(d.clone());
            }
        }
        (out, days)
    }
}

impl Entry {
    fn fold(&mut self, event_type: &str, event: &Value) {
        match event_type {
            "load_video" => {
                if let Some(d) = seconds(event, "duration") {
                    self.duration = self.duration.max(d);
                }
            }
            "play_video" => {
                self.plays += 1;
                if let Some(at) = seconds(event, "currentTime") {
                    self.playing_from = Some(at);
                    self.furthest = self.furthest.max(at);
                }
            }
            "pause_video" | "stop_video" => {
                if let Some(at) = seconds(event, "currentTime") {
                    self.played_to(at);
                }
                self.playing_from = None;
            }
            "seek_video" => {
                let playing = self.playing_from.is_some();
                if let Some(old) = seconds(event, "old_time") {
                    self.played_to(old);
                }
                // Playing goes on from the new position.
                self.playing_from = seconds(event, "new_time").filter(|_| playing);
            }
            _ => {}
        }
    }

    /// The video played from the last play position to `at`.
    fn played_to(&mut self, at: f64) {
        if let Some(from) = self.playing_from.take() {
            if at > from {
                self.seconds = (self.seconds + (at - from)).min(MAX_VIDEO_SECONDS);
                self.furthest = self.furthest.max(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn spans_from_play_to_pause_seek_and_stop_are_added() {
        let b = EngagementBuffer::default();
        let note = |t: &str, e: Value| b.note("C", 7, t, &e, at(0));
        note("load_video", json!({"id": "v1", "duration": 100.0}));
        note("play_video", json!({"id": "v1", "currentTime": 0}));
        note("pause_video", json!({"id": "v1", "currentTime": 30}));
        note("play_video", json!({"id": "v1", "currentTime": "30"}));
        note(
            "seek_video",
            json!({"id": "v1", "old_time": 40, "new_time": 80}),
        );
        note("stop_video", json!({"id": "v1", "currentTime": 100}));
        let (entries, days) = b.take(at(1));
        assert_eq!(entries.len(), 1);
        let (key, e) = &entries[0];
        assert_eq!(key, &("C".to_string(), "v1".to_string(), 7));
        assert_eq!(
            (e.plays, e.seconds, e.furthest, e.duration),
            (2, 60.0, 100.0, 100.0)
        );
        assert_eq!(days.len(), 1);
        // Nothing changed since: nothing to write, and the day is written.
        b.note("C", 7, "problem_show", &json!({}), at(2));
        assert_eq!(b.take(at(3)), (vec![], vec![]));
    }

    #[test]
    fn a_play_position_outlives_a_flush_and_bad_values_are_ignored() {
        let b = EngagementBuffer::default();
        b.note(
            "C",
            1,
            "play_video",
            &json!({"id": "v", "currentTime": 10}),
            at(0),
        );
        let (first, _) = b.take(at(1));
        assert_eq!(first[0].1.plays, 1);
        b.note(
            "C",
            1,
            "pause_video",
            &json!({"id": "v", "currentTime": 25}),
            at(2),
        );
        b.note(
            "C",
            1,
            "pause_video",
            &json!({"id": "v", "currentTime": "NaN"}),
            at(2),
        );
        b.note(
            "C",
            1,
            "play_video",
            &json!({"id": "<x>", "currentTime": 1}),
            at(2),
        );
        b.note(
            "C",
            1,
            "play_video",
            &json!({"id": "v", "currentTime": 1e300}),
            at(2),
        );
        b.note(
            "C",
            1,
            "pause_video",
            &json!({"id": "v", "currentTime": 2e300}),
            at(2),
        );
        let (second, _) = b.take(at(3));
        assert_eq!(second.len(), 1);
        let e = &second[0].1;
        assert_eq!(e.plays, 1);
        assert_eq!(e.seconds, 15.0);
        assert_eq!(e.furthest, MAX_VIDEO_SECONDS);
    }

    proptest::proptest! {
        /// Whatever a page sends, every value stays finite and within
        /// [0, MAX_VIDEO_SECONDS], and plays count play events only.
        #[test]
        fn any_events_leave_bounded_values(
            events in proptest::collection::vec(
                (0usize..6, proptest::num::f64::ANY, proptest::num::f64::ANY, "[a-z0-9<>]{0,3}"),
                0..60,
            )
        ) {
            let b = EngagementBuffer::default();
            let kinds = ["load_video", "play_video", "pause_video", "seek_video", "stop_video", "problem_show"];
            let mut plays = 0;
            for (kind, x, y, text) in events {
                let kind = kinds[kind];
                let fields = json!({
                    "id": "v", "duration": x, "currentTime": x, "old_time": x,
                    "new_time": y, "other": text,
                });
                // serde_json turns non-finite numbers into null.
                b.note("C", 1, kind, &fields, at(0));
                b.note("C", 2, kind, &json!({"id": "v", "currentTime": text}), at(0));
                plays += i64::from(kind == "play_video");
            }
            let (entries, _) = b.take(at(1));
            for ((_, _, user), e) in entries {
                for v in [e.seconds, e.furthest, e.duration] {
                    proptest::prop_assert!(v.is_finite() && (0.0..=MAX_VIDEO_SECONDS).contains(&v));
                }
                proptest::prop_assert_eq!(e.plays, plays, "user {}", user);
            }
        }
    }

    #[test]
    fn the_buffer_is_bounded() {
        let b = EngagementBuffer::default();
        for u in 0..(MAX_ENTRIES as i64 + 10) {
            b.note("C", u, "play_video", &json!({"id": "v"}), at(0));
        }
        assert_eq!(b.lock().entries.len(), MAX_ENTRIES);
        assert!(b.dropped() >= 10);
    }
}

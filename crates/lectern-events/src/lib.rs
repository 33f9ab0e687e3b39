//! The tracking log on disk: the app's [`EventLog`] as JSON lines, one
//! file per UTC day (`tracking-YYYY-MM-DD.log` in the folder given, Open
//! edX's tracking log format: one event object a line), files older than
//! the retention deleted.
//!
//! Recording never waits: events arrive as lines of JSON text (written on
//! the thread that made them) through a bounded queue to one writer thread,
//! which appends what has arrived, flushes it to the operating system once
//! per batch, and then, unless more are waiting, rests [`REST`] so that the
//! next batch gathers without a wake-up per event. When the queue is full, or a day's file has
//! reached its size bound, events are dropped and counted
//! ([`FileEventLog::dropped`]) — the log is analytics, and a flood of
//! events must not cost the site its memory or its disk. What is still in
//! the queue when the process is killed is lost; what was flushed is not.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use lectern_app::tracking::EventLog;

/// Events waiting for the writer at most.
const QUEUE: usize = 16_384;
/// Events written between two flushes at most.
const BATCH: usize = 1_024;
/// The writer's rest after a batch that emptied the queue. Waking it for
/// every event was 2 % of an answer check's CPU at 6,000 checks/s
/// (bench/README.md, issue 18); events reach the file at most this much
/// later.
const REST: Duration = Duration::from_millis(20);

/// How the log is kept.
#[derive(Debug, Clone)]
pub struct EventFileSettings {
    /// The folder of the day files (created when missing).
    pub folder: PathBuf,
    /// Day files older than this many days are deleted.
    pub retention_days: u32,
    /// A day's file stops growing at this size; later events that day are
    /// dropped.
    pub max_day_bytes: u64,
}

/// The writer's side, shared with the app.
pub struct FileEventLog {
    queue: SyncSender<String>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    dropped: AtomicU64,
    written: AtomicU64,
}

impl FileEventLog {
    /// Creates the folder, deletes day files past the retention and starts
    /// the writer thread (it ends when the last handle is dropped).
    pub fn start(settings: EventFileSettings) -> io::Result<Arc<Self>> {
        fs::create_dir_all(&settings.folder)?;
        prune(&settings.folder, settings.retention_days, today());
        let (queue, events) = mpsc::sync_channel(QUEUE);
        let counts = Arc::new(Counts::default());
        let writer = Writer {
            settings,
            counts: Arc::clone(&counts),
            day: None,
        };
        std::thread::Builder::new()
            .name("tracking-log".into())
            .spawn(move || writer.run(events))?;
        Ok(Arc::new(Self { queue, counts }))
    }

    /// Events dropped so far (queue full, day file full, write errors).
    pub fn dropped(&self) -> u64 {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.counts.written.load(Ordering::Relaxed)
    }
}

impl EventLog for FileEventLog {
    fn record(&self, event: String) {
        match self.queue.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counts.note_dropped("the tracking log's queue is full");
            }
        }
    }
}

impl Counts {
    fn note_dropped(&self, why: &str) {
        let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // The first, then one line per thousand: a flood must not become a
        // flood of log lines too.
        if n == 1 || n.is_multiple_of(1000) {
            tracing::warn!(dropped = n, why, "tracking events dropped");
        }
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn day_file(folder: &Path, day: NaiveDate) -> PathBuf {
    folder.join(format!("tracking-{}.log", day.format("%Y-%m-%d")))
}

/// The day a file of ours is for, from its name.
fn day_of(name: &str) -> Option<NaiveDate> {
    let date = name.strip_prefix("tracking-")?.strip_suffix(".log")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// Deletes day files more than `retention_days` before `today`; other
/// files in the folder are left alone.
fn prune(folder: &Path, retention_days: u32, today: NaiveDate) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    let oldest_kept = today - chrono::Days::new(u64::from(retention_days));
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(day) = name.to_str().and_then(day_of) else {
            continue;
        };
        if day < oldest_kept {
            match fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = ?entry.path(), "old tracking log deleted"),
                Err(e) => {
                    tracing::warn!(file = ?entry.path(), error = %e, "could not delete an old tracking log")
                }
            }
        }
    }
}

/// The open file of one day.
struct DayFile {
    day: NaiveDate,
    out: BufWriter<File>,
    bytes: u64,
}

struct Writer {
    settings: EventFileSettings,
    counts: Arc<Counts>,
    day: Option<DayFile>,
}

impl Writer {
    fn run(mut self, events: Receiver<String>) {
        loop {
            match events.recv_timeout(Duration::from_secs(1)) {
                Ok(first) => {
                    self.write(&first);
                    let mut taken = 1;
                    for next in events.try_iter().take(BATCH - 1) {
                        self.write(&next);
                        taken += 1;
                    }
                    self.flush();
                    // A full batch means more are waiting: no rest then, so
                    // the rest never caps how fast the log can be written.
                    if taken < BATCH {
                        std::thread::sleep(REST);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
        }
    }

    /// The file for today, opened (and the old days pruned) on a new day.
    fn file(&mut self) -> io::Result<&mut DayFile> {
        let today = today();
        if self.day.as_ref().is_none_or(|d| d.day != today) {
            self.flush();
            let path = day_file(&self.settings.folder, today);
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
            if self.day.is_some() {
                prune(&self.settings.folder, self.settings.retention_days, today);
            }
            self.day = Some(DayFile {
                day: today,
                out: BufWriter::new(file),
                bytes,
            });
        }
        self.day
            .as_mut()
            .ok_or_else(|| io::Error::other("no day file"))
    }

    fn write(&mut self, line: &str) {
        // A line break inside would split one event in two lines; JSON
        // text from serde never has one, but the trait takes any text.
        if line.contains('\n') {
            return self.counts.note_dropped("an event was not one line");
        }
        let limit = self.settings.max_day_bytes;
        let size = line.len() as u64 + 1;
        let written = self.file().and_then(|day| {
            if day.bytes + size > limit {
                return Ok(false);
            }
            day.out.write_all(line.as_bytes())?;
            day.out.write_all(b"\n")?;
            day.bytes += size;
            Ok(true)
        });
        match written {
            Ok(true) => {
                self.counts.written.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false) => self.counts.note_dropped("today's tracking log is full"),
            Err(e) => {
                tracing::warn!(error = %e, "writing the tracking log failed");
                self.counts
                    .note_dropped("the tracking log could not be written");
                // Open the file again at the next event.
                self.day = None;
            }
        }
    }

    fn flush(&mut self) {
        if let Some(day) = &mut self.day {
            if let Err(e) = day.out.flush() {
                tracing::warn!(error = %e, "flushing the tracking log failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn settings(folder: &Path, max_day_bytes: u64) -> EventFileSettings {
        EventFileSettings {
            folder: folder.to_path_buf(),
            retention_days: 30,
            max_day_bytes,
        }
    }

    /// The lines of today's file once `log` has written `count` events.
    fn lines_after(log: &FileEventLog, folder: &Path, count: u64) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while log.written() + log.dropped() < count && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Written means flushed once the batch ends; wait for that too.
        std::thread::sleep(Duration::from_millis(50));
        let text = fs::read_to_string(day_file(folder, today())).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn events_are_written_one_json_object_a_line_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = FileEventLog::start(settings(dir.path(), 1 << 20)).unwrap();
        for i in 0..100 {
            log.record(json!({ "event_type": "play_video", "n": i, "text": "a\nb" }).to_string());
        }
        let lines = lines_after(&log, dir.path(), 100);
        assert_eq!(lines.len(), 100);
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["n"], i);
            assert_eq!(line["text"], "a\nb");
        }
        assert_eq!(log.dropped(), 0);
    }

    #[test]
    fn text_that_is_not_one_line_is_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let log = FileEventLog::start(settings(dir.path(), 1 << 20)).unwrap();
        log.record("{\"n\": 1,\n\"x\": 2}".into());
        log.record(json!({ "n": 2 }).to_string());
        let lines = lines_after(&log, dir.path(), 2);
        assert_eq!(lines, [json!({ "n": 2 })]);
        assert_eq!(log.dropped(), 1);
    }

    #[test]
    fn a_full_day_file_drops_and_counts_rather_than_growing() {
        let dir = tempfile::tempdir().unwrap();
        let log = FileEventLog::start(settings(dir.path(), 1_000)).unwrap();
        for i in 0..100 {
            log.record(json!({ "event_type": "play_video", "n": i }).to_string());
        }
        let lines = lines_after(&log, dir.path(), 100);
        let size = fs::metadata(day_file(dir.path(), today())).unwrap().len();
        assert!(size <= 1_000, "{size}");
        assert!(!lines.is_empty());
        assert_eq!(lines.len() as u64 + log.dropped(), 100);
    }

    #[test]
    fn day_files_past_the_retention_are_deleted_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        for name in [
            "tracking-2026-10-30.log",
            "tracking-2026-10-31.log",
            "tracking-2026-11-29.log",
            "notes.txt",
            "tracking-garbage.log",
        ] {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        prune(dir.path(), 30, today);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt",
                "tracking-2026-10-31.log",
                "tracking-2026-11-29.log",
                "tracking-garbage.log"
            ]
        );
    }
}

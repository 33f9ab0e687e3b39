//! Tracking events: what learners did, in Open edX's event shape, for the
//! course team's analytics (Open edX's tracking log, read by Insights and
//! Aspects).
//!
//! Use cases emit server events (`problem_check`, `edx.course.enrollment.*`,
//! …) through [`Lectern::track`]; the page's scripts send browser events
//! (`play_video`, `pause_video`, …) to `POST /event`, which lands in
//! [`Lectern::record_browser_event`]. Each becomes one JSON object, written
//! as text on the thread that made it (straight from borrowed fields, with
//! no `Value` tree to build and free elsewhere) and handed to an
//! [`EventLog`] (the binary's writes JSON lines to a file per day,
//! `docs/tracking.md`). Where the request came from (path, host, address,
//! browser) is not a use case's business: the web layer runs each request
//! inside [`with_origin`], and events made while it runs carry it.
//!
//! A browser event from a course page is also folded into the node's
//! engagement buffer (`analytics/engagement.rs`), whose numbers reach the
//! database every few seconds for the instructor dashboard's charts.
//!
//! Recording never fails a use case and never waits: a log that cannot
//! keep up drops events and counts them (analytics, not the learner's
//! record, which lives in the database).

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use lectern_content::{CourseKey, UsageKey};
use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// Where recorded events go. `record` must not block.
pub trait EventLog: Send + Sync {
    /// One event: a JSON object's text, on one line.
    fn record(&self, event: String);
}

/// The request an event was made in, as the web layer saw it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The request's path (no query string).
    pub path: String,
    pub host: String,
    pub ip: String,
    pub agent: String,
    pub referer: String,
    pub accept_language: String,
}

tokio::task_local! {
    static ORIGIN: Origin;
}

/// Runs `work` with `origin` as the origin of the events it makes.
pub async fn with_origin<F: Future>(origin: Origin, work: F) -> F::Output {
    ORIGIN.scope(origin, work).await
}

/// Longest browser event body kept (Open edX's player sends a few hundred
/// bytes); longer ones are refused.
pub const MAX_BROWSER_EVENT_BYTES: usize = 4096;
/// Longest event type and page address accepted from a browser.
const MAX_EVENT_TYPE_CHARS: usize = 100;
const MAX_PAGE_CHARS: usize = 2048;

/// Browser event types the player and pages send (Open edX's names); any
/// other is refused, so a script cannot fill the log with made-up kinds.
pub const BROWSER_EVENT_TYPES: &[&str] = &[
    "load_video",
    "play_video",
    "pause_video",
    "seek_video",
    "stop_video",
    "speed_change_video",
    "complete_video",
    "show_transcript",
    "hide_transcript",
    "edx.video.closed_captions.shown",
    "edx.video.closed_captions.hidden",
    "edx.video.language_menu.shown",
    "edx.video.language_menu.hidden",
    "video_show_cc_menu",
    "video_hide_cc_menu",
    "problem_show",
    "problem_graded",
];

/// One event before it is shaped: what a use case knows.
pub struct Event<'a> {
    pub event_type: &'a str,
    pub user: Option<&'a User>,
    pub course: Option<&'a CourseKey>,
    /// The block it is about (`context.module.usage_key`).
    pub module: Option<&'a UsageKey>,
    pub event: Value,
}

/// `time` as Open edX writes it: ISO 8601 with microseconds and `+00:00`.
fn event_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// The full event object in Open edX's shape. Fields are in alphabetical
/// order, as a `serde_json` map writes them (the log's lines look as they
/// did when events were built as maps).
#[derive(Serialize)]
struct Shaped<'a> {
    accept_language: &'a str,
    agent: &'a str,
    context: Context<'a>,
    event: &'a Value,
    event_source: &'a str,
    event_type: &'a str,
    host: &'a str,
    ip: &'a str,
    name: &'a str,
    page: Option<&'a str>,
    referer: &'a str,
    time: String,
    username: &'a str,
}

#[derive(Serialize)]
struct Context<'a> {
    course_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    module: Option<Module>,
    org_id: &'a str,
    path: &'a str,
    user_id: Option<i64>,
}

#[derive(Serialize)]
struct Module {
    usage_key: String,
}

/// The event's line of JSON; `None` if it cannot be written (a map with
/// keys that are not text cannot be, and `Value` has none).
fn shape(
    source: &str,
    at: DateTime<Utc>,
    event: &Event<'_>,
    page: Option<&str>,
    origin: &Origin,
) -> Option<String> {
    let shaped = Shaped {
        accept_language: &origin.accept_language,
        agent: &origin.agent,
        context: Context {
            course_id: event.course.map(|c| c.to_text()).unwrap_or_default(),
            module: event.module.map(|usage| Module {
                usage_key: usage.to_text(),
            }),
            org_id: event.course.map(|c| c.org.as_str()).unwrap_or_default(),
            path: &origin.path,
            user_id: event.user.map(|u| u.id),
        },
        event: &event.event,
        event_source: source,
        event_type: event.event_type,
        host: &origin.host,
        ip: &origin.ip,
        name: event.event_type,
        page,
        referer: &origin.referer,
        time: event_time(at),
        username: event.user.map(|u| u.username.as_str()).unwrap_or(""),
    };
    // Sized for a typical line (a check's is about 1 KiB), so it is not
    // copied as it grows.
    let mut line = Vec::with_capacity(1536);
    serde_json::to_writer(&mut line, &shaped).ok()?;
    String::from_utf8(line).ok()
}

/// `shape` with the current request's origin (none outside a request).
fn shape_here(
    source: &str,
    at: DateTime<Utc>,
    event: &Event<'_>,
    page: Option<&str>,
) -> Option<String> {
    ORIGIN
        .try_with(|origin| shape(source, at, event, page, origin))
        .unwrap_or_else(|_| shape(source, at, event, page, &Origin::default()))
}

impl Lectern {
    /// Sends recorded events to `log`; without one, none are recorded.
    pub fn with_event_log(mut self, log: Arc<dyn EventLog>) -> Self {
        self.events = Some(log);
        self
    }

    /// Records a server event (`event_source: "server"`).
    pub(crate) fn track(&self, event: Event<'_>) {
        let Some(log) = &self.events else { return };
        if let Some(line) = shape_here("server", self.now(), &event, None) {
            log.record(line);
        }
    }

    /// Records an event a page's script sent (`POST /event`, Open edX's
    /// form: `event_type`, `event` as a JSON text, `page`). The event text
    /// is kept as the string it came as (as Open edX does for browser
    /// events); the course is read from the page's address.
    pub fn record_browser_event(
        &self,
        user: &User,
        event_type: &str,
        event: &str,
        page: &str,
    ) -> AppResult<()> {
        if event_type.chars().count() > MAX_EVENT_TYPE_CHARS
            || !BROWSER_EVENT_TYPES.contains(&event_type)
        {
            return Err(AppError::field(
                "event_type",
                "This event type is not recorded.",
            ));
        }
        if event.len() > MAX_BROWSER_EVENT_BYTES {
            return Err(AppError::field(
                "event",
                format!("An event is at most {MAX_BROWSER_EVENT_BYTES} bytes."),
            ));
        }
        let Ok(fields) = serde_json::from_str::<Value>(event) else {
            return Err(AppError::field("event", "The event is not JSON."));
        };
        if page.chars().count() > MAX_PAGE_CHARS {
            return Err(AppError::field("page", "The page address is too long."));
        }
        let course = course_of_page(page);
        // The instructor dashboard's video engagement (`analytics/`).
        if let Some(course) = &course {
            self.engagement
                .note(&course.to_text(), user.id, event_type, &fields, self.now());
        }
        let Some(log) = &self.events else {
            return Ok(());
        };
        let shaped = shape_here(
            "browser",
            self.now(),
            &Event {
                event_type,
                user: Some(user),
                course: course.as_ref(),
                module: None,
                event: Value::String(event.to_string()),
            },
            Some(page),
        );
        if let Some(line) = shaped {
            log.record(line);
        }
        Ok(())
    }
}

/// The course a page address is in (`…/courses/{course key}/…`).
fn course_of_page(page: &str) -> Option<CourseKey> {
    let rest = page.split("/courses/").nth(1)?;
    let key = rest.split(['/', '?', '#']).next()?;
    let decoded = percent_decode(key);
    decoded.parse().ok()
}

/// `%2B` and friends in a course key copied from an address bar.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_is_read_from_a_page_address() {
        let key = course_of_page("http://h/courses/course-v1:MITx+6.002x+2026/courseware/a/b/?x=1")
            .unwrap();
        assert_eq!(key.to_string(), "course-v1:MITx+6.002x+2026");
        let encoded = course_of_page("/courses/course-v1:A%2BB%2BC/about").unwrap();
        assert_eq!(encoded.to_string(), "course-v1:A+B+C");
        assert!(course_of_page("/dashboard").is_none());
        assert!(course_of_page("/courses/not-a-key/").is_none());
    }

    /// The line has Open edX's fields, in the order the log always had
    /// them (alphabetical, as a JSON map writes them).
    #[test]
    fn an_event_line_has_open_edx_fields_in_the_logs_order() {
        let course: CourseKey = "course-v1:Org+C1+2026".parse().unwrap();
        let usage = course.usage_key("problem", "p1");
        let origin = Origin {
            path: "/p".into(),
            host: "h".into(),
            ip: "10.0.0.1".into(),
            agent: "ua".into(),
            referer: "r".into(),
            accept_language: "fr".into(),
        };
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let event = Event {
            event_type: "problem_check",
            user: None,
            course: Some(&course),
            module: Some(&usage),
            event: serde_json::json!({"b": 1, "a": "x\ny"}),
        };
        let line = shape("server", at, &event, None, &origin).unwrap();
        assert_eq!(
            line,
            concat!(
                r#"{"accept_language":"fr","agent":"ua","context":{"course_id":"course-v1:Org+C1+2026","#,
                r#""module":{"usage_key":"block-v1:Org+C1+2026+type@problem+block@p1"},"org_id":"Org","#,
                r#""path":"/p","user_id":null},"event":{"a":"x\ny","b":1},"event_source":"server","#,
                r#""event_type":"problem_check","host":"h","ip":"10.0.0.1","name":"problem_check","#,
                r#""page":null,"referer":"r","time":"2023-11-14T22:13:20.123000+00:00","username":""}"#
            )
        );
        let browser = Event {
            event_type: "play_video",
            user: None,
            course: None,
            module: None,
            event: Value::String("{}".into()),
        };
        let line: Value = serde_json::from_str(
            &shape("browser", at, &browser, Some("/x"), &Origin::default()).unwrap(),
        )
        .unwrap();
        assert_eq!(line["context"]["course_id"], "");
        assert!(line["context"].get("module").is_none());
        assert_eq!(line["page"], "/x");
    }

    #[test]
    fn times_are_written_as_open_edx_writes_them() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(event_time(at), "2023-11-14T22:13:20.123000+00:00");
    }
}

//! Lectern's use cases: accounts, authoring (Studio), learning (LMS) and
//! administration, over the storage traits in [`store`].
//!
//! This crate decides *what* may happen (who may see or change what, which
//! input is valid); `lectern-store` decides where it is kept and
//! `lectern-web` how it is shown. It never touches SQL or HTTP.

pub mod accounts;
pub mod admin;
pub mod analytics;
pub mod backup;
pub mod backup_schedule;
pub mod bulk_email;
mod cache;
pub mod certificates;
pub mod cohorts;
mod content_limits;
pub mod correctness;
pub mod cpu;
pub mod credentials;
pub mod discussions;
pub mod error;
pub mod grades;
mod grading_layout;
mod hasher;
pub mod idempotency;
pub mod instances;
pub mod jobs;
pub mod learning;
pub mod mail;
mod mail_templates;
pub mod media;
pub mod model;
pub mod operators;
pub mod outage;
pub mod outbox;
mod outbox_delivery;
mod page_states;
pub mod passwords;
mod problem_events;
pub mod problems;
pub mod profile;
pub mod recall;
pub mod reports;
pub mod roster;
pub mod scripted;
pub mod search;
pub mod selection;
pub mod sessions;
pub mod site_limits;
pub mod store;
pub mod studio;
pub mod tls;
pub mod tracking;
pub mod transfer;
pub mod unit_frames;
pub mod visibility;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use error::{AppError, AppResult, StoreError};
pub use model::*;
pub use store::Store;

/// How long things live; the defaults suit a small site.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub session_ttl: chrono::Duration,
    pub bearer_ttl: chrono::Duration,
    pub setup_ttl: chrono::Duration,
    /// How long a password reset link works.
    pub reset_ttl: chrono::Duration,
    /// The site's public address, for links in mail (no trailing slash).
    pub site_url: String,
    /// How long the answers of keyed writes are kept (`Idempotency-Key`):
    /// a retry within it is answered from the first request's answer.
    pub idempotency_keep: chrono::Duration,
    /// How long a confirmed session (and the user's "may use Studio") is
    /// trusted without asking the database (`sessions.rs`); zero turns
    /// the cache off.
    pub session_cache_ttl: std::time::Duration,
    /// How the mail outbox delivers and bulk e-mail fans out.
    pub mail: outbox::MailSettings,
    /// How many courses, accounts and stored bytes the site may hold
    /// (`site_limits.rs`); unlimited by default.
    pub limits: site_limits::SiteLimits,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::days(14),
            bearer_ttl: chrono::Duration::hours(10),
            setup_ttl: chrono::Duration::days(7),
            reset_ttl: chrono::Duration::hours(2),
            site_url: "http://127.0.0.1:8080".into(),
            idempotency_keep: chrono::Duration::hours(24),
            session_cache_ttl: std::time::Duration::from_secs(5),
            mail: outbox::MailSettings::default(),
            limits: site_limits::SiteLimits::default(),
        }
    }
}

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The application: every use case is a method on it. Cheap to clone.
#[derive(Clone)]
pub struct Lectern {
    store: Arc<dyn Store>,
    /// Behind an `Arc` so that a clone (several per request) copies no strings.
    settings: Arc<AppSettings>,
    clock: Clock,
    courses: Arc<cache::CourseCache>,
    problems: Arc<cache::ProblemCache>,
    /// Unit pages' learner-free parts (`unit_frames.rs`).
    frames: Arc<unit_frames::FrameCache>,
    leaf_html: Arc<unit_frames::LeafHtmlCache>,
    problem_settings: Arc<unit_frames::SettingsCache>,
    /// Published versions' grading layouts (`grading_layout.rs`).
    layouts: Arc<grading_layout::LayoutCache>,
    hashing: Arc<tokio::sync::Semaphore>,
    mailer: Option<Arc<dyn mail::Mailer>>,
    jobs: Arc<jobs::JobRuntime>,
    backups: Option<Arc<dyn backup_schedule::BackupRunner>>,
    /// Whether the database is reachable (`outage.rs`).
    outage: Arc<outage::Outage>,
    /// Facts this node saw recently, for outages (`recall.rs`).
    recall: Arc<recall::Recall>,
    /// Sessions confirmed in the last few seconds (`sessions.rs`).
    sessions: Arc<sessions::SessionCache>,
    /// Runs Python-scripted problems (the sandbox); `None`: they are shown
    /// but not graded (`scripted.rs`).
    python_runner: Option<Arc<dyn lectern_content::script_runner::PythonRunner>>,
    /// Scripted problems instantiated per seed, course script files.
    scripts: Arc<scripted::ScriptCache>,
    /// The full-text index and what it holds (`search/`); `None`: no search.
    search: Option<Arc<search::SearchState>>,
    /// Where tracking events go (`tracking.rs`); `None`: none are recorded.
    events: Option<Arc<dyn tracking::EventLog>>,
    /// Video engagement and activity days waiting to be written (`analytics/`).
    engagement: Arc<analytics::engagement::EngagementBuffer>,
    /// Held between a site limit's check and its write (`site_limits.rs`).
    limits_gate: Arc<tokio::sync::Mutex<()>>,
    /// The operator console's facts about instances (`operators.rs`); set
    /// once on the deployment's own site, never on an instance's.
    instance_probe: Arc<std::sync::OnceLock<Arc<dyn instances::InstanceProbe>>>,
}

impl Lectern {
    pub fn new(store: Arc<dyn Store>, settings: AppSettings) -> Self {
        Self {
            store,
            clock: Arc::new(Utc::now),
            courses: Arc::new(cache::CourseCache::default()),
            problems: Arc::new(cache::ProblemCache::default()),
            frames: Arc::new(unit_frames::FrameCache::default()),
            leaf_html: Arc::new(unit_frames::LeafHtmlCache::default()),
            problem_settings: Arc::new(unit_frames::SettingsCache::default()),
            layouts: Arc::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(accounts::CONCURRENT_HASHES)),
            mailer: None,
            jobs: Arc::new(jobs::JobRuntime::new()),
            backups: None,
            outage: Arc::new(outage::Outage::default()),
            recall: Arc::new(recall::Recall::default()),
            sessions: Arc::new(sessions::SessionCache::new(settings.session_cache_ttl)),
            settings: Arc::new(settings),
            python_runner: None,
            scripts: Arc::new(scripted::ScriptCache::default()),
            search: None,
            events: None,
            engagement: Arc::default(),
            limits_gate: Arc::default(),
            instance_probe: Arc::default(),
        }
    }

    /// Delivers the outbox through `mailer` (without one, mail stays queued).
    pub fn with_mailer(mut self, mailer: Arc<dyn mail::Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Replaces the clock (tests of due dates and expiry).
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }
}

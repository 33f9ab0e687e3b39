//! What every handler can reach: the app, the web settings, metrics, the
//! sign-in throttle, and whether the process is shutting down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use lectern_app::Lectern;

use crate::metrics::Metrics;
use crate::throttle::{Throttle, ThrottleConfig};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when the site is served over HTTPS).
    pub secure_cookies: bool,
    /// The largest request body accepted, except course uploads.
    pub max_body_bytes: usize,
    /// The largest course archive Studio accepts.
    pub max_upload_bytes: usize,
    /// Where uploads are spooled while they arrive (anonymous files that
    /// vanish when done); the server puts it in the data folder, since the
    /// system's temporary folder may be memory.
    pub upload_dir: std::path::PathBuf,
    pub request_timeout_secs: u64,
    /// The site's name in page titles.
    pub site_name: String,
    /// The logo in every page's header (checked by the configuration); empty: none.
    pub logo_url: String,
    /// The footer's contact address; empty: none.
    pub contact_email: String,
    /// Sign-in and registration budgets.
    pub throttle: ThrottleConfig,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 512 * 1024 * 1024,
            upload_dir: std::env::temp_dir(),
            request_timeout_secs: 120,
            site_name: "Lectern".into(),
            logo_url: String::new(),
            contact_email: String::new(),
            throttle: ThrottleConfig::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// What handlers reach. Axum clones the state for every extractor and
/// middleware layer of every request, so it is one `Arc`: a clone is one
/// atomic increment, not a copy of the app's two dozen handles (profiled:
/// copying and dropping them was a fifth of `/health/live`'s CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state itself, reached through [`AppState`]'s `Deref`.
pub struct Shared {
    pub app: Lectern,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    pub throttle: Arc<Throttle>,
    shutting_down: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(app: Lectern, config: WebConfig) -> Self {
        Self(Arc::new(Shared {
            app,
            throttle: Arc::new(Throttle::new(&config.throttle)),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            shutting_down: AtomicBool::new(false),
        }))
    }

    /// Turns readiness off: `/health/ready` answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

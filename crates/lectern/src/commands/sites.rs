//! Which site answers a request (`docs/instances.md`): the default site,
//! or an instance chosen by the request's host name.
//!
//! - With no instance registered every request goes to the default site,
//!   exactly as a one-site deployment. `/health/*` and `/metrics` always
//!   do, whatever the host: load balancers and Prometheus call nodes by
//!   address.
//! - Requests naming an IP address, no host, or one of the default site's
//!   own names (its `site_url`'s, `[tls] hosts`, `localhost`) go to the
//!   default site; a host an enabled instance answers goes to that
//!   instance; any other host gets a bare 404 that names nothing.
//! - The registry is read every `[instances] refresh_ms`, and also when a
//!   request names a host the table does not know (a few times a second at
//!   most), so an instance answers as soon as `lectern instance create`
//!   returns.
//! - Instances open on their first request (and when a scheduled backup
//!   comes due, so each takes its own) and close after
//!   `idle_close_secs` without requests once no job runs and no mail
//!   waits; one whose registry entry changed (settings, hosts, switched
//!   off, deleted) is closed at the next refresh and reopens with the new
//!   entry. Closing waits for the requests it is serving.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lectern_app::instances::{host_of_request, Instance};
use tokio::sync::OnceCell;
use tower::ServiceExt;
use tracing::Instrument;

use super::site::Site;
use crate::config::Config;

/// Least time between two registry reads caused by unknown hosts.
const MISS_REFRESH_GAP: Duration = Duration::from_millis(250);
/// Longest a closing instance waits for the requests it is serving.
const CLOSE_DRAIN_BOUND: Duration = Duration::from_secs(60);
/// Largest `/metrics` body of the default site read to add instance series.
const METRICS_BODY_BOUND: usize = 4 * 1024 * 1024;

/// The routing table, replaced whole at each registry read.
#[derive(Default)]
struct Table {
    /// Enabled instances' hosts → instance name.
    by_host: HashMap<String, String>,
    /// Every registered instance, enabled or not.
    instances: BTreeMap<String, Instance>,
}

/// An instance opened (or being opened) on this node.
struct Slot {
    site: OnceCell<Arc<Site>>,
    /// The registry entry it was opened with.
    entry: Instance,
    /// Milliseconds since the node started, at its last request.
    last_used: AtomicU64,
}

pub struct Sites {
    base: Config,
    pub default: Arc<Site>,
    reserved: Vec<String>,
    table: RwLock<Arc<Table>>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    last_read: tokio::sync::Mutex<Instant>,
    started: Instant,
    /// Requests per (instance, status class).
    requests: Mutex<HashMap<(String, &'static str), u64>>,
}

enum Route {
    Default,
    Instance(String),
    Unknown,
}

impl Sites {
    pub async fn new(base: Config, default: Arc<Site>) -> Arc<Sites> {
        let reserved = super::instance::reserved_hosts(&base);
        let sites = Arc::new(Sites {
            base,
            default,
            reserved,
            table: RwLock::new(Arc::default()),
            slots: Mutex::new(HashMap::new()),
            last_read: tokio::sync::Mutex::new(Instant::now()),
            started: Instant::now(),
            requests: Mutex::new(HashMap::new()),
        });
        sites.read_registry().await;
        sites
    }

    /// The router every listener serves: each request handed to its site.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .fallback(dispatch)
            .with_state(self.clone())
    }

    fn table(&self) -> Arc<Table> {
        self.table
            .read()
            .map(|t| t.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Reads the registry and replaces the table; a failed read keeps the
    /// old table (the default site's database is away: its own requests
    /// say so).
    async fn read_registry(&self) {
        let all = match self.default.app.instances().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "reading the instance registry failed; routing as before");
                return;
            }
        };
        let mut table = Table::default();
        for instance in all {
            if !instance.disabled {
                for host in &instance.hosts {
                    table.by_host.insert(host.clone(), instance.name.clone());
                }
            }
            table.instances.insert(instance.name.clone(), instance);
        }
        let table = Arc::new(table);
        match self.table.write() {
            Ok(mut t) => *t = table,
            Err(poisoned) => *poisoned.into_inner() = table,
        }
    }

    /// Reads the registry again unless another request just did.
    async fn read_after_miss(&self) {
        let mut last = self.last_read.lock().await;
        if last.elapsed() >= MISS_REFRESH_GAP {
            self.read_registry().await;
            *last = Instant::now();
        }
    }

    fn lookup(&self, host: &str) -> Option<Route> {
        let table = self.table();
        if let Some(name) = table.by_host.get(host) {
            return Some(Route::Instance(name.clone()));
        }
        table.instances.is_empty().then_some(Route::Default)
    }

    async fn route(&self, host: Option<String>) -> Route {
        let Some(host) = host else {
            return Route::Default;
        };
        if host.parse::<std::net::IpAddr>().is_ok() || self.reserved.contains(&host) {
            return Route::Default;
        }
        if let Some(Route::Instance(name)) = self.lookup(&host) {
            return Route::Instance(name);
        }
        self.read_after_miss().await;
        match self.lookup(&host) {
            Some(route) => route,
            None => Route::Unknown,
        }
    }

    /// The instance's site, opening it on first use.
    async fn open(&self, name: &str) -> anyhow::Result<Arc<Site>> {
        let slot = {
            let Some(entry) = self.table().instances.get(name).cloned() else {
                anyhow::bail!("instance {name} is no longer registered");
            };
            let mut slots = self.slots.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            slots
                .entry(name.to_string())
                .or_insert_with(|| {
                    Arc::new(Slot {
                        site: OnceCell::new(),
                        entry,
                        last_used: AtomicU64::new(0),
                    })
                })
                .clone()
        };
        slot.last_used.store(self.now_ms(), Ordering::Relaxed);
        let opened = slot
            .site
            .get_or_try_init(|| async {
                let config = self.base.for_instance(&slot.entry)?;
                let started = Instant::now();
                // Its background work (jobs, mail, search) logs under its name.
                let site = Site::open(&config)
                    .instrument(tracing::info_span!("instance", instance = %name))
                    .await?;
                tracing::info!(
                    instance = %name,
                    ms = started.elapsed().as_millis() as u64,
                    "instance opened"
                );
                anyhow::Ok(Arc::new(site))
            })
            .await
            .cloned();
        if opened.is_err() {
            // The next request tries again.
            if let Ok(mut slots) = self.slots.lock() {
                if slots.get(name).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                    slots.remove(name);
                }
            }
        }
        opened
    }

    fn count(&self, name: &str, status: StatusCode) {
        let class = match status.as_u16() {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((name.to_string(), class)).or_default() += 1;
        }
    }

    /// Starts the loop that reads the registry and closes instances that
    /// are idle or whose entry changed; it ends when `stop` turns true.
    pub fn start_keeper(
        self: &Arc<Self>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let sites = self.clone();
        let every = Duration::from_millis(self.base.instances.refresh_ms);
        let schedule = super::backup_schedule::Schedule::from_config(&self.base)
            .ok()
            .flatten();
        tokio::spawn(async move {
            let mut last_due = schedule
                .as_ref()
                .and_then(|s| s.due_at_or_before(chrono::Utc::now()));
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                sites.read_registry().await;
                sites.close_stale().await;
                let due = schedule
                    .as_ref()
                    .and_then(|s| s.due_at_or_before(chrono::Utc::now()));
                if due != last_due {
                    last_due = due;
                    sites.wake_all().await;
                }
            }
        })
    }

    /// A scheduled backup came due: every enabled instance is opened (one
    /// at a time), so that its own scheduler enqueues its backup and its
    /// workers run it; it closes again once idle. On a cluster each node
    /// does this; the backup job's dedupe key makes it one per instance.
    async fn wake_all(&self) {
        let names: Vec<String> = self
            .table()
            .instances
            .values()
            .filter(|i| !i.disabled)
            .map(|i| i.name.clone())
            .collect();
        for name in names {
            if let Err(e) = self.open(&name).await {
                tracing::warn!(instance = %name, error = %format!("{e:#}"), "opening instance for its scheduled backup failed");
            }
        }
    }

    /// Closes instances idle past `idle_close_secs` with nothing running,
    /// and those whose registry entry changed or went.
    async fn close_stale(&self) {
        let table = self.table();
        let idle_ms = self.base.instances.idle_close_secs.saturating_mul(1000);
        let now = self.now_ms();
        let slots: Vec<(String, Arc<Slot>)> = match self.slots.lock() {
            Ok(s) => s.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => return,
        };
        for (name, slot) in slots {
            let Some(site) = slot.site.get().cloned() else {
                continue;
            };
            let changed = table.instances.get(&name) != Some(&slot.entry) || slot.entry.disabled;
            let idle = now.saturating_sub(slot.last_used.load(Ordering::Relaxed)) >= idle_ms;
            let closable = changed || (idle && !site.busy().await);
            if !closable {
                continue;
            }
            let removed = match self.slots.lock() {
                Ok(mut s) if s.get(&name).is_some_and(|x| Arc::ptr_eq(x, &slot)) => {
                    s.remove(&name);
                    true
                }
                _ => false,
            };
            if removed {
                let why = if changed { "its entry changed" } else { "idle" };
                tracing::info!(instance = %name, why, "closing instance");
                drop(slot);
                tokio::spawn(close_when_drained(site));
            }
        }
    }

    /// Shutdown: every open instance stops taking work and closes.
    pub async fn close_all(&self) {
        let slots: Vec<Arc<Slot>> = match self.slots.lock() {
            Ok(mut s) => s.drain().map(|(_, v)| v).collect(),
            Err(_) => return,
        };
        let closing: Vec<_> = slots
            .into_iter()
            .filter_map(|slot| slot.site.get().cloned())
            .map(|site| tokio::spawn(close_when_drained(site)))
            .collect();
        for c in closing {
            let _ = c.await;
        }
    }

    /// Readiness off and no new jobs claimed on every open instance.
    pub async fn begin_shutdown(&self) {
        let open: Vec<Arc<Site>> = match self.slots.lock() {
            Ok(s) => s
                .values()
                .filter_map(|slot| slot.site.get().cloned())
                .collect(),
            Err(_) => return,
        };
        for site in open {
            site.begin_shutdown().await;
        }
    }

    /// The instances open on this node (for the operator console).
    pub fn open_instances(&self) -> Vec<String> {
        match self.slots.lock() {
            Ok(s) => s
                .iter()
                .filter(|(_, slot)| slot.site.initialized())
                .map(|(k, _)| k.clone())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The instance series `/metrics` adds to the default site's.
    fn instance_metrics(&self) -> String {
        use std::fmt::Write;
        let table = self.table();
        let open: Vec<String> = match self.slots.lock() {
            Ok(s) => s
                .iter()
                .filter(|(_, slot)| slot.site.initialized())
                .map(|(k, _)| k.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        let disabled = table.instances.values().filter(|i| i.disabled).count();
        let closed =
            table.instances.len() - disabled - open.len().min(table.instances.len() - disabled);
        let mut out = String::new();
        let _ = write!(
            out,
            "# HELP lectern_instances Registered instances by state\n# TYPE lectern_instances gauge\n\
             lectern_instances{{state=\"open\"}} {}\nlectern_instances{{state=\"closed\"}} {closed}\n\
             lectern_instances{{state=\"disabled\"}} {disabled}\n",
            open.len()
        );
        out.push_str("# HELP lectern_instance_open Whether an instance is open on this node\n# TYPE lectern_instance_open gauge\n");
        for name in table.instances.keys() {
            let _ = writeln!(
                out,
                "lectern_instance_open{{instance_name=\"{name}\"}} {}",
                u8::from(open.contains(name))
            );
        }
        out.push_str("# HELP lectern_instance_http_requests Requests an instance answered, by status class\n# TYPE lectern_instance_http_requests counter\n");
        if let Ok(r) = self.requests.lock() {
            let mut rows: Vec<_> = r
                .iter()
                .filter(|((name, _), _)| table.instances.contains_key(name))
                .collect();
            rows.sort();
            for ((name, class), n) in rows {
                let _ = writeln!(
                    out,
                    "lectern_instance_http_requests_total{{instance_name=\"{name}\",code=\"{class}\"}} {n}"
                );
            }
        }
        out
    }
}

/// Waits (bounded) for the requests an instance is serving, then closes it.
async fn close_when_drained(site: Arc<Site>) {
    site.begin_shutdown().await;
    let deadline = Instant::now() + CLOSE_DRAIN_BOUND;
    while Arc::strong_count(&site) > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    site.close().await;
    drop(site);
    crate::memory::release_freed_soon();
}

async fn dispatch(State(sites): State<Arc<Sites>>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/metrics" {
        return metrics(&sites, req).await;
    }
    if path.starts_with("/health/") {
        return call(&sites.default, req).await;
    }
    let named = req
        .headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()))
        .filter(|h| !h.trim().is_empty());
    let host = named.as_deref().and_then(host_of_request);
    // A Host that is not a host name (`a_b`, non-ASCII) names no instance:
    // once there are instances it learns nothing, like an unknown host.
    let route = if named.is_some() && host.is_none() && !sites.table().instances.is_empty() {
        Route::Unknown
    } else {
        sites.route(host).await
    };
    match route {
        Route::Default => call(&sites.default, req).await,
        Route::Unknown => unknown_host(),
        Route::Instance(name) => match sites.open(&name).await {
            Ok(site) => {
                let span = tracing::info_span!("instance", instance = %name);
                let response = call(&site, req).instrument(span).await;
                sites.count(&name, response.status());
                response
            }
            Err(e) => {
                tracing::error!(instance = %name, error = %format!("{e:#}"), "opening instance failed");
                unavailable()
            }
        },
    }
}

async fn call(site: &Site, req: Request) -> Response {
    match site.router.clone().oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

async fn metrics(sites: &Sites, req: Request) -> Response {
    let response = call(&sites.default, req).await;
    if sites.table().instances.is_empty() || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, METRICS_BODY_BOUND).await else {
        return unavailable();
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    // OpenMetrics ends at `# EOF`: the instance series go before it.
    let eof = text.rfind("# EOF").unwrap_or(text.len());
    text.insert_str(eof, &sites.instance_metrics());
    let mut response = Response::from_parts(parts, Body::from(text));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// A host no instance answers: a bare page that names nothing.
fn unknown_host() -> Response {
    bare(
        StatusCode::NOT_FOUND,
        "<!doctype html><title>Not found</title><h1>Not found</h1>\n",
    )
}

fn unavailable() -> Response {
    let mut r = bare(
        StatusCode::SERVICE_UNAVAILABLE,
        "<!doctype html><title>Unavailable</title><h1>This site is unavailable; try again shortly</h1>\n",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

fn bare(status: StatusCode, html: &'static str) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    r
}

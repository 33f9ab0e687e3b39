//! The test harness: a site on an ephemeral port and a browser-like client.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use lectern_app::{AppSettings, Lectern};
use lectern_web::{AppState, WebConfig};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Response, StatusCode, Url};

pub struct TestSite {
    pub base: String,
    pub app: Lectern,
    pub state: AppState,
    _workers: lectern_app::jobs::Workers,
    _dir: tempfile::TempDir,
}

/// Job workers for a test site, as `lectern serve` runs them (they stop
/// when the site is dropped).
fn start_workers(app: &Lectern) -> lectern_app::jobs::Workers {
    let config = lectern_app::jobs::WorkerConfig {
        poll: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    lectern_app::jobs::Workers::start(app, config)
}

impl TestSite {
    pub async fn spawn() -> Self {
        Self::spawn_with(WebConfig::default()).await
    }

    pub async fn spawn_with(web: WebConfig) -> Self {
        Self::spawn_full(web, None).await
    }

    /// A site whose clock is real time plus `offset` seconds, which the test
    /// may change while it runs (due dates).
    pub async fn spawn_with_clock(offset: Arc<AtomicI64>) -> Self {
        Self::spawn_full(WebConfig::default(), Some(offset)).await
    }

    async fn spawn_full(web: WebConfig, offset: Option<Arc<AtomicI64>>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::backend::store_in(dir.path()).await;
        let mut app = Lectern::new(store, AppSettings::default());
        if let Some(offset) = offset {
            app = app.with_clock(move || {
                chrono::Utc::now() + chrono::Duration::seconds(offset.load(Ordering::SeqCst))
            });
        }
        Self::serve(listen().await, app, web, dir)
    }

    /// A site whose app is adjusted by `configure` (a mailer, a clock);
    /// `settings.site_url` is set to the site's own address.
    pub async fn spawn_custom(
        mut settings: AppSettings,
        configure: impl FnOnce(Lectern) -> Lectern,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::backend::store_in(dir.path()).await;
        let listener = listen().await;
        settings.site_url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = configure(Lectern::new(store, settings));
        Self::serve(listener, app, WebConfig::default(), dir)
    }

    /// A site over `store` (a database reached some other way, such as
    /// through `crate::forwarder`) whose data folder is `dir`.
    pub async fn spawn_on_store(
        store: Arc<dyn lectern_app::store::Store>,
        dir: tempfile::TempDir,
    ) -> Self {
        let app = Lectern::new(store, AppSettings::default());
        Self::serve(listen().await, app, WebConfig::default(), dir)
    }

    /// Serves `app` on `listener` with its job workers running; `dir`
    /// lives as long as the site.
    fn serve(
        listener: tokio::net::TcpListener,
        app: Lectern,
        web: WebConfig,
        dir: tempfile::TempDir,
    ) -> Self {
        let addr = listener.local_addr().expect("addr");
        let workers = start_workers(&app);
        let state = AppState::new(app.clone(), web);
        let router = lectern_web::app(state.clone());
        tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).await.expect("serve");
        });
        TestSite {
            base: format!("http://{addr}"),
            app,
            state,
            _workers: workers,
            _dir: dir,
        }
    }

    /// The site's data folder (its SQLite file, or the file naming its
    /// PostgreSQL database: `backend::database_url_for`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn client(&self) -> Client {
        Client::for_base(&self.base)
    }

    /// A signed-in client for a new account; `admin` accounts come through the setup link.
    pub async fn user(&self, username: &str, admin: bool) -> Client {
        let c = self.client();
        let form = [
            ("username", username.to_string()),
            ("email", format!("{username}@example.org")),
            ("name", format!("{username} Tester")),
            ("password", PASSWORD.to_string()),
        ];
        let path = if admin {
            let secret = self
                .app
                .setup_secret()
                .await
                .expect("setup")
                .expect("no admin yet");
            format!("/setup/{secret}")
        } else {
            "/register".to_string()
        };
        let resp = c.post_form(&path, &form).await;
        assert_eq!(resp.status(), StatusCode::OK, "signing up {username}");
        c
    }

    /// A second node of the same site: its own `Lectern` (own caches), own
    /// store handle and own port, over this site's database file.
    pub async fn another_node(&self) -> TestSite {
        self.another_node_with(AppSettings::default()).await
    }

    /// `another_node` whose app is adjusted by `configure` (a search index).
    pub async fn another_node_custom(
        &self,
        configure: impl FnOnce(Lectern) -> Lectern,
    ) -> TestSite {
        let store = crate::backend::store_in(self._dir.path()).await;
        let app = configure(Lectern::new(store, AppSettings::default()));
        let dir = tempfile::tempdir().expect("temp dir");
        Self::serve(listen().await, app, WebConfig::default(), dir)
    }

    /// `another_node` with its own settings (a session cache TTL).
    pub async fn another_node_with(&self, settings: AppSettings) -> TestSite {
        let store = crate::backend::store_in(self._dir.path()).await;
        let app = Lectern::new(store, settings);
        // The database stays in the first node's folder.
        let dir = tempfile::tempdir().expect("temp dir");
        Self::serve(listen().await, app, WebConfig::default(), dir)
    }
}

/// A listener on a free port of the loopback address.
async fn listen() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
}

pub const PASSWORD: &str = "correct horse battery";

pub struct Client {
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
}

impl Client {
    /// A browser-like client (its own cookie jar) for the site at `base`.
    pub fn for_base(base: &str) -> Client {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .expect("client");
        Client {
            http,
            jar,
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The CSRF cookie, fetching a page first if the jar has none.
    pub async fn csrf(&self) -> String {
        if let Some(t) = self.cookie("lectern_csrf") {
            return t;
        }
        self.get("/login").await;
        self.cookie("lectern_csrf")
            .expect("csrf cookie set by any page")
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = Url::parse(&self.base).ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    /// A form post carrying the CSRF token, as a browser form does.
    pub async fn post_form(&self, path: &str, form: &[(&str, String)]) -> Response {
        let mut pairs: Vec<(&str, String)> = form.to_vec();
        pairs.push(("csrf_token", self.csrf().await));
        self.http
            .post(self.url(path))
            .form(&pairs)
            .send()
            .await
            .expect("POST")
    }

    /// A form post without the CSRF token.
    pub async fn post_form_no_csrf(&self, path: &str, form: &[(&str, String)]) -> Response {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }
}

/// Reads a JSON body.
pub async fn json(r: Response) -> serde_json::Value {
    r.json().await.expect("JSON body")
}

pub fn s(v: &str) -> String {
    v.to_string()
}

/// Finds the first `href` in `html` that starts with `prefix`.
pub fn find_link(html: &str, prefix: &str) -> Option<String> {
    let needle = format!("href=\"{prefix}");
    let start = html.find(&needle)? + 6;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&#43;", "+").replace("&amp;", "&"))
}

/// A bearer token for an existing account, from `POST /oauth2/access_token`.
pub async fn bearer(base: &str, username: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/oauth2/access_token"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(r.status(), StatusCode::OK, "token for {username}");
    let body: serde_json::Value = r.json().await.expect("token JSON");
    format!(
        "Bearer {}",
        body["access_token"].as_str().expect("access_token")
    )
}

/// A gzipped tar archive of `(path, text)` files, as Open edX exports are
/// packed: the one way tests build course archives of their own.
pub fn tar_gz<T: AsRef<[u8]>>(files: &[(&str, T)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, bytes) in files {
        let bytes = bytes.as_ref();
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A one-run course export (`course-v1:ORG+NUMBER+R`) of `course_xml` (the
/// `<course>` element with its tree), with an optional grading policy.
pub fn course_archive(
    org: &str,
    number: &str,
    course_xml: &str,
    grading_policy: Option<&serde_json::Value>,
) -> Vec<u8> {
    let mut files = vec![
        (
            "course/course.xml",
            format!(r#"<course url_name="R" org="{org}" course="{number}"/>"#),
        ),
        ("course/course/R.xml", course_xml.to_string()),
        (
            "course/policies/R/policy.json",
            r#"{"course/R": {}}"#.to_string(),
        ),
    ];
    if let Some(policy) = grading_policy {
        files.push(("course/policies/R/grading_policy.json", policy.to_string()));
    }
    tar_gz(&files)
}

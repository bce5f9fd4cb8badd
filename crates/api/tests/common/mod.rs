//! A real API server on 127.0.0.1 with a seeded control-plane store, and a small HTTP client
//! that carries a session cookie and CSRF token like the console does.
#![allow(dead_code)]

use std::sync::{Arc, Mutex, OnceLock};

use mamori_api::{ApiSettings, AppState, LogBackend};
use mamori_control::ConfigService;
use mamori_core::sink::{EventSink, Receipt, SubmitError, SubmitFuture};
use mamori_core::tenant::Contact;
use mamori_core::{Event, ManagedConfig, NetworkModel, Tenant};
use mamori_store::password::hash_password;
use mamori_store::{ControlStore, NewUser, Role, SqliteStore};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery staple";

/// One Argon2 hash for every seeded user: hashing is slow in debug builds.
fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD)).clone()
}

pub fn tenant(id: &str, net: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name_ja: format!("{id}町"),
        name_en: format!("{id} town"),
        network_model: NetworkModel::Beta,
        networks: vec![net.parse().expect("network")],
        domains: vec![format!("{id}.example.lg.jp")],
        contacts: vec![Contact {
            name: format!("{id} 情報政策課"),
            role: None,
            email: Some(format!("joho@{id}.example.lg.jp")),
            phone: None,
        }],
        retention: Default::default(),
    }
}

/// Tenants `a` (10.1/16) and `b` (10.2/16); 127.0.0.0/8 sends logs for `b`.
pub fn seed_config() -> ManagedConfig {
    let mut c =
        ManagedConfig { tenants: vec![tenant("a", "10.1.0.0/16"), tenant("b", "10.2.0.0/16")], ..Default::default() };
    c.collect.senders.push(mamori_core::LogSender {
        network: "127.0.0.0/8".parse().expect("network"),
        tenant: "b".into(),
        description: Some("test relay".into()),
    });
    c
}

/// Users, one per role, plus a municipal admin for each tenant.
pub const USERS: &[(&str, Role, &[&str])] = &[
    ("admin", Role::PrefectureAdmin, &[]),
    ("soc", Role::SocAnalyst, &[]),
    ("auditor", Role::Auditor, &[]),
    ("muni_a", Role::MunicipalAdmin, &["a"]),
    ("muni_b", Role::MunicipalAdmin, &["b"]),
];

/// What ingested events a [`TestLogs`] sink does.
#[derive(Clone)]
pub enum SinkMode {
    Accept,
    Fail(SubmitError),
}

/// A log backend that keeps events in memory, or refuses them like a full disk.
pub struct TestLogs {
    pub events: Mutex<Vec<Event>>,
    pub mode: Mutex<SinkMode>,
}

impl TestLogs {
    pub fn new() -> Arc<Self> {
        Arc::new(TestLogs { events: Mutex::new(Vec::new()), mode: Mutex::new(SinkMode::Accept) })
    }
}

struct TestSink(Arc<TestLogs>);

impl EventSink for TestSink {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        let logs = self.0.clone();
        let events = events.to_vec();
        Box::pin(async move {
            let mode = logs.mode.lock().unwrap().clone();
            match mode {
                SinkMode::Fail(e) => Err(e),
                SinkMode::Accept => {
                    let mut stored = logs.events.lock().unwrap();
                    stored.extend(events);
                    Ok(Receipt { last_lsn: stored.len() as u64, count: stored.len() })
                }
            }
        })
    }
}

pub struct TestBackend(pub Arc<TestLogs>);

impl LogBackend for TestBackend {
    fn sink(&self) -> Arc<dyn EventSink> {
        Arc::new(TestSink(self.0.clone()))
    }

    fn stats(&self) -> Value {
        json!({"test": true})
    }

    fn search(&self, _req: &mamori_logs::SearchRequest) -> Result<mamori_logs::SearchResponse, mamori_logs::LogError> {
        Err(mamori_logs::LogError::Query("the test backend cannot search".into()))
    }
}

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub store: Arc<SqliteStore>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().expect("client")
}

/// Starts a server with the seeded store and `logs`.
pub async fn start_with(settings: ApiSettings, logs: Arc<dyn LogBackend>) -> Server {
    start_full(settings, logs, Arc::new(|_, _| {})).await
}

/// Starts a server whose `on_change` hook is `on_change`.
pub async fn start_full(settings: ApiSettings, logs: Arc<dyn LogBackend>, on_change: mamori_api::OnChange) -> Server {
    // These tests log in with passwords only; two-factor login has its own tests (totp.rs).
    let settings = ApiSettings { two_factor_roles: Vec::new(), ..settings };
    start_two_factor(settings, logs, on_change).await
}

/// Starts a server with `settings` as given, two-factor roles included.
pub async fn start_two_factor(
    settings: ApiSettings,
    logs: Arc<dyn LogBackend>,
    on_change: mamori_api::OnChange,
) -> Server {
    let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
    let dyn_store: Arc<dyn ControlStore> = store.clone();
    ConfigService::new(dyn_store.clone()).offer_file(&seed_config(), "test", "seed").expect("seed config");
    for (name, role, tenants) in USERS {
        store
            .create_user(NewUser {
                username: (*name).into(),
                display_name: name.to_uppercase(),
                role: *role,
                tenants: tenants.iter().map(|t| t.to_string()).collect(),
                password_hash: password_hash(),
                totp_secret: None,
            })
            .expect("user");
    }
    let state = AppState::builder(dyn_store, logs)
        .settings(settings)
        .on_change(move |r, c| on_change(r, c))
        .build()
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let router = mamori_api::router(state.clone());
    tokio::spawn(mamori_api::serve(listener, router, None, async move {
        let _ = rx.await;
    }));
    Server { base, http: client(), state, store, shutdown: Some(tx) }
}

pub async fn start() -> Server {
    start_with(ApiSettings::default(), Arc::new(TestBackend(TestLogs::new()))).await
}

/// A response: status, headers and JSON (or `Value::Null` for a non-JSON body).
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Resp {
    async fn from(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, json, text }
    }
}

/// A logged-in console user or a token holder.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl Server {
    pub fn anonymous(&self) -> Client {
        Client { base: self.base.clone(), http: self.http.clone(), cookie: None, csrf: None, bearer: None }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { bearer: Some(token.to_owned()), ..self.anonymous() }
    }

    /// Logs in and returns a client carrying the session cookie and CSRF token.
    pub async fn login(&self, username: &str) -> Client {
        let r = self
            .anonymous()
            .send(Method::POST, "/api/v1/login", Some(json!({"username": username, "password": PASSWORD})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text);
        let cookie = session_cookie(&r).expect("session cookie");
        Client { cookie: Some(cookie), csrf: r.json["csrf_token"].as_str().map(str::to_owned), ..self.anonymous() }
    }

    /// Creates an API token as `admin` and returns its secret.
    pub async fn token(&self, body: Value) -> String {
        let admin = self.login("admin").await;
        let r = admin.send(Method::POST, "/api/v1/tokens", Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json["token"].as_str().expect("token").to_owned()
    }

    /// The id of a seeded user.
    pub fn user_id(&self, name: &str) -> String {
        self.store.user_by_name(name).unwrap().expect("user").id
    }
}

/// `name=value` of the `mamori_session` Set-Cookie.
pub fn session_cookie(r: &Resp) -> Option<String> {
    r.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mamori_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

impl Client {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        if let Some(c) = &self.csrf {
            req = req.header("X-CSRF-Token", c);
        }
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Posts a raw body with a content type (ingestion).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        let mut req = self.http.post(format!("{}{path}", self.base)).header("Content-Type", content_type).body(body);
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        if let Some(c) = &self.csrf {
            req = req.header("X-CSRF-Token", c);
        }
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        Resp::from(req.send().await.expect("request")).await
    }

    /// The same client without its CSRF token.
    pub fn without_csrf(&self) -> Client {
        Client { csrf: None, ..self.clone() }
    }
}

//! A real server (API and console on one port) over a seeded control-plane store and a real
//! log store in a temporary directory, and a small browser-like client that keeps cookies and
//! reads CSRF tokens out of forms.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mamori_api::auth::totp;
use mamori_api::{ApiSettings, AppState};
use mamori_control::ConfigService;
use mamori_core::event::Host;
use mamori_core::tenant::Contact;
use mamori_core::{Event, ManagedConfig, NetworkModel, Tenant};
use mamori_logs::{LogStore, LogStoreConfig};
use mamori_store::password::hash_password;
use mamori_store::{ControlStore, NewUser, Role, SqliteStore};
use reqwest::StatusCode;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery staple";
/// The TOTP secret of every seeded user that has one.
pub const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD)).clone()
}

fn tenant(id: &str, net: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name_ja: format!("{id}町"),
        name_en: format!("{id} town"),
        network_model: NetworkModel::Beta,
        networks: vec![net.parse().unwrap()],
        domains: vec![format!("{id}.example.lg.jp")],
        contacts: vec![Contact {
            name: format!("{id}-contact"),
            role: None,
            email: Some(format!("joho@{id}.example.lg.jp")),
            phone: None,
        }],
        retention: Default::default(),
    }
}

/// Users: name, role, tenants, whether a TOTP secret is already enrolled.
pub const USERS: &[(&str, Role, &[&str], bool)] = &[
    ("admin", Role::PrefectureAdmin, &[], true),
    ("soc", Role::SocAnalyst, &[], false),
    ("auditor", Role::Auditor, &[], false),
    ("muni_a", Role::MunicipalAdmin, &["a"], true),
    ("muni_b", Role::MunicipalAdmin, &["b"], true),
];

pub struct Server {
    pub base: String,
    pub state: AppState,
    pub store: Arc<SqliteStore>,
    pub logs: Arc<LogStore>,
    _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start() -> Server {
    start_with(ApiSettings::default()).await
}

/// Starts a server; tenant `a` has 3 events ("secret-a ..."), tenant `b` 2 ("secret-b ...").
pub async fn start_with(settings: ApiSettings) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogStoreConfig::new(dir.path().join("logs"));
    config.min_free_bytes = 0;
    let (logs, _) = LogStore::open(config).unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let dyn_store: Arc<dyn ControlStore> = store.clone();
    let managed =
        ManagedConfig { tenants: vec![tenant("a", "10.1.0.0/16"), tenant("b", "10.2.0.0/16")], ..Default::default() };
    ConfigService::new(dyn_store.clone()).offer_file(&managed, "test", "seed").unwrap();
    for (name, role, tenants, totp) in USERS {
        store
            .create_user(NewUser {
                username: (*name).into(),
                display_name: name.to_uppercase(),
                role: *role,
                tenants: tenants.iter().map(|t| t.to_string()).collect(),
                password_hash: password_hash(),
                totp_secret: totp.then(|| SECRET.to_owned()),
            })
            .unwrap();
    }
    let now = Timestamp::now();
    let mut events = Vec::new();
    for (i, (t, host)) in
        [("a", "web-a"), ("a", "web-a"), ("a", "fw-a"), ("b", "web-b"), ("b", "fw-b")].iter().enumerate()
    {
        let mut e = Event::new(now.checked_sub(SignedDuration::from_mins(5 + i as i64)).unwrap(), "syslog");
        e.set_tenant(t);
        e.message = Some(format!("secret-{t} ログイン失敗 {i}"));
        e.host = Some(Host { hostname: Some((*host).into()), ..Default::default() });
        events.push(e);
    }
    let receipt = logs.sink().submit(&events).await.unwrap();
    assert!(logs.wait_indexed(receipt.last_lsn, Duration::from_secs(30)), "indexed in time");
    let state = AppState::builder(dyn_store, logs.clone()).settings(settings).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let router = mamori_api::router_with(state.clone(), mamori_console::router(&state));
    tokio::spawn(mamori_api::serve(listener, router, None, async move {
        let _ = rx.await;
    }));
    Server { base, state, store, logs, _dir: dir, shutdown: Some(tx) }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let start =
            self.text.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf field in {}", self.text));
        let rest = &self.text[start + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// A browser: cookies, no automatic redirects.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(server: &Server) -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: server.base.clone(), http, cookies: BTreeMap::new() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Resp {
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let req = if cookie.is_empty() { req } else { req.header("Cookie", cookie.join("; ")) };
        let r = req.send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let (status, headers) = (r.status(), r.headers().clone());
        Resp { status, headers, text: r.text().await.unwrap() }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// The password step; returns the response (a redirect to the second step or the dashboard).
    pub async fn password(&mut self, user: &str, password: &str) -> Resp {
        let form = self.get("/console/login").await;
        let csrf = form.csrf();
        self.post("/console/login", &[("csrf", &csrf), ("username", user), ("password", password)]).await
    }

    /// Logs in fully: password, then the code of the seeded secret `steps_ahead` steps from
    /// now (a code works once, so a second login in the same 30 s uses the next one).
    pub async fn login(server: &Server, user: &str, steps_ahead: i64) -> Browser {
        let mut b = Browser::new(server);
        let r = b.password(user, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        if r.location() == "/console/login/second" {
            let page = b.get("/console/login/second").await;
            let at = Timestamp::now().checked_add(SignedDuration::from_secs(30 * steps_ahead)).unwrap();
            let code = totp::current_code(SECRET, at).unwrap();
            let r = b.post("/console/login/second", &[("csrf", &page.csrf()), ("code", &code)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "second factor of {user}: {}", r.text);
            assert_eq!(r.location(), "/console/");
        }
        let dash = b.get("/console/").await;
        assert_eq!(dash.status, StatusCode::OK, "{user}: {}", dash.text);
        b
    }

    /// The CSRF token of the session, read from a page.
    pub async fn token(&mut self) -> String {
        self.get("/console/account").await.csrf()
    }
}

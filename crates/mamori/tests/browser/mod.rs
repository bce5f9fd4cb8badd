//! A minimal WebDriver client (W3C protocol over HTTP with ureq) driving headless Chromium
//! through chromedriver, for the console's browser tests. Only what the tests use.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Fails (never skips) with what to install when the browser is missing.
pub fn require_browser() {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            std::path::Path::new(path).exists(),
            "the console's browser tests need {path}: install the Debian package {package} \
             (apt-get install -y chromium chromium-driver; .ci/run and scripts/test do it as root)"
        );
    }
}

pub struct Driver {
    child: Child,
    base: String,
    session: String,
    http: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.http.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Driver {
    /// Starts chromedriver and a headless Chromium window of 1366×768 that records its
    /// console messages.
    pub fn start() -> Driver {
        require_browser();
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,768", "--hide-scrollbars", "--lang=ja", "--no-proxy-server"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let mut d = Driver { child, base, session: String::new(), http };
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let resp = match method {
            "GET" => self.http.get(&url).call(),
            "DELETE" => self.http.delete(&url).call(),
            _ => self
                .http
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        }
        .map_err(|e| format!("webdriver {method} {path}: {e}"))?;
        let status = resp.status();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("webdriver {method} {path}: {status} {v}"));
        }
        Ok(v["value"].clone())
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({"url": url})));
    }

    pub fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None).as_str().unwrap_or("").to_owned()
    }

    pub fn source(&self) -> String {
        self.call("GET", &self.s("/source"), None).as_str().unwrap_or("").to_owned()
    }

    /// The first element matching a CSS selector, waiting up to 10 s for it.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            assert!(Instant::now() < deadline, "no element {css} on {}:\n{}", self.url(), self.source());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn try_find(&self, css: &str) -> Option<String> {
        let v = self.call("POST", &self.s("/elements"), Some(json!({"using": "css selector", "value": css})));
        v.as_array()?.first()?[ELEMENT].as_str().map(str::to_owned)
    }

    pub fn count(&self, css: &str) -> usize {
        let v = self.call("POST", &self.s("/elements"), Some(json!({"using": "css selector", "value": css})));
        v.as_array().map_or(0, Vec::len)
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &self.s(&format!("/element/{e}/clear")), None);
        self.call("POST", &self.s(&format!("/element/{e}/value")), Some(json!({"text": text})));
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &self.s(&format!("/element/{e}/click")), None);
    }

    /// The text of the first element matching `css`. A page that renders again may replace the
    /// element between finding and reading it; it is then found again (up to 2 s).
    pub fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let e = self.find(css);
            match self.try_call("GET", &self.s(&format!("/element/{e}/text")), None) {
                Ok(v) => return v.as_str().unwrap_or("").to_owned(),
                Err(error) => assert!(Instant::now() < deadline, "{error}"),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn script(&self, script: &str) -> Value {
        self.call("POST", &self.s("/execute/sync"), Some(json!({"script": script, "args": []})))
    }

    pub fn delete_cookies(&self) {
        self.call("DELETE", &self.s("/cookie"), None);
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.call("GET", &self.s("/screenshot"), None);
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or("")).expect("screenshot is base64")
    }

    /// The browser's console messages since the last call (CSP violations and script errors
    /// are logged at level SEVERE).
    pub fn console_log(&self) -> Vec<Value> {
        let v = self.call("POST", &self.s("/se/log"), Some(json!({"type": "browser"})));
        v.as_array().cloned().unwrap_or_default()
    }

    /// Asserts that the page logged no CSP violation and no script error.
    pub fn assert_clean_console(&self, page: &str) {
        let bad: Vec<Value> = self
            .console_log()
            .into_iter()
            .filter(|m| {
                let text = m["message"].as_str().unwrap_or("");
                m["level"] == "SEVERE" || text.contains("Content Security Policy") || text.contains("Refused to")
            })
            .collect();
        assert!(bad.is_empty(), "browser console on {page}: {bad:#?}");
    }
}

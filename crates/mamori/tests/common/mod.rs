//! A real `mamori` process for end-to-end tests: its own directory, configuration and ports.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mamori");

/// A port free on 127.0.0.1 for both TCP and UDP.
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct ports free for TCP and UDP. Each is held until all are chosen: released one by
/// one, the system may hand out the same port twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let mut held = Vec::with_capacity(N);
    let mut ports = [0u16; N];
    for port in ports.iter_mut() {
        loop {
            let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
            let p = tcp.local_addr().unwrap().port();
            if UdpSocket::bind(("127.0.0.1", p)).is_ok() {
                held.push(tcp);
                *port = p;
                break;
            }
        }
    }
    ports
}

pub struct Instance {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub api: SocketAddr,
    pub syslog: SocketAddr,
    pub syslog_tls: SocketAddr,
    pub proxy: SocketAddr,
    pub mail: SocketAddr,
    pub dns: SocketAddr,
    child: Option<Child>,
    pub output: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    /// Writes the example configuration with free ports into `dir` (`edit` may change it).
    pub fn configure(dir: &Path, edit: impl FnOnce(String) -> String) -> Instance {
        let out = Command::new(BIN).args(["init", "--force", "--dir"]).arg(dir).output().unwrap();
        assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
        let [api, syslog, tls, proxy, mail, dns] = free_ports();
        let config = dir.join("mamori.toml");
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("127.0.0.1:8400", &format!("127.0.0.1:{api}"))
            .replace("127.0.0.1:5514", &format!("127.0.0.1:{syslog}"))
            .replace("127.0.0.1:6514", &format!("127.0.0.1:{tls}"))
            .replace("127.0.0.1:3128", &format!("127.0.0.1:{proxy}"))
            .replace("127.0.0.1:2525", &format!("127.0.0.1:{mail}"))
            .replace("127.0.0.1:1053", &format!("127.0.0.1:{dns}"))
            .replace("min_free_disk_mb = 256", "min_free_disk_mb = 16")
            .replace("[logs]\n", "[logs]\ncommit_interval_ms = 200\n");
        std::fs::write(&config, edit(text)).unwrap();
        Instance {
            dir: dir.to_path_buf(),
            config,
            api: ([127, 0, 0, 1], api).into(),
            syslog: ([127, 0, 0, 1], syslog).into(),
            syslog_tls: ([127, 0, 0, 1], tls).into(),
            proxy: ([127, 0, 0, 1], proxy).into(),
            mail: ([127, 0, 0, 1], mail).into(),
            dns: ([127, 0, 0, 1], dns).into(),
            child: None,
            output: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Starts `mamori up` and waits until it says it is up.
    pub fn start(&mut self) {
        let mut child = Command::new(BIN)
            .args(["up", "--config"])
            .arg(&self.config)
            .current_dir(&self.dir)
            .env("MAMORI_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = self.output.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("mamori is up") {
                        let _ = tx.send(());
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        self.child = Some(child);
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            panic!("mamori did not start:\n{}", self.output.lock().unwrap().join("\n"));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Kills the process without warning (power cut, OOM killer).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Stops it the normal way (SIGTERM) and waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if c.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            c.kill().unwrap();
            panic!("mamori did not stop within 60 s");
        }
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid() as i32, sig) };
    }

    /// Runs a CLI subcommand against this instance's configuration.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.dir).env("MAMORI_CONFIG", &self.config).args(args);
        cmd.output().unwrap()
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "mamori {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The number of events a query finds (CLI, last 30 days).
    pub fn count(&self, query: &str) -> u64 {
        let out = self.cli_ok(&["logs", "search", "--last", "30d", "--count", "--json", query]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["total"].as_u64().unwrap()
    }

    /// Waits until `query` finds at least `n` events.
    pub fn wait_count(&self, query: &str, n: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let c = self.count(query);
            if c >= n || Instant::now() > deadline {
                return c;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// An API token of the initial administrator.
    pub fn admin_token(&self) -> String {
        let out = self.cli_ok(&["token", "create", "--user", "admin", "--name", "test"]);
        out.lines().last().unwrap().trim().to_string()
    }

    pub fn ingest_token(&self, tenant: &str) -> String {
        let out = self.cli_ok(&["token", "create", "--ingest", "--tenant", tenant, "--name", "test ingest"]);
        out.lines().last().unwrap().trim().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    pub fn log_text(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Sends lines to a syslog TCP receiver with octet counting, from a chosen local address.
pub fn send_tcp(addr: SocketAddr, lines: &[&[u8]]) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    for l in lines {
        write!(s, "{} ", l.len()).unwrap();
        s.write_all(l).unwrap();
    }
    s.flush().unwrap();
}

pub fn require_tool(name: &str, package: &str) {
    let ok = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().is_ok_and(|o| o.status.success());
    assert!(ok, "this test needs `{name}`: install the Debian package {package} (.ci/run does)");
}

//! TLS inspection and malware blocking inside a real `mamori up`: `mamori ca export` gives the
//! CA curl trusts, an `openssl s_server` HTTPS origin (certificate from a test CA given to the
//! proxy as `tls_extra_ca`) serves files, EICAR is blocked over HTTPS and plain HTTP, and the
//! alerts land in the log store.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;

/// The EICAR test file, split so that this source file is not itself detected.
const EICAR: &str = concat!(r"X5O!P%@AP[4\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `openssl` with `args` split at spaces.
fn openssl(dir: &Path, args: &str) {
    let args: Vec<&str> = args.split(' ').collect();
    let out = Command::new("openssl").current_dir(dir).args(&args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test CA, and an origin (not CA) certificate for localhost it signed.
fn certificates(dir: &Path) {
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    openssl(dir, &format!("req -x509 {ec} -days 2 -subj /CN=test-origin-CA -keyout ca.key -out ca.pem"));
    openssl(dir, &format!("req -new {ec} -subj /CN=localhost -keyout origin.key -out origin.csr"));
    std::fs::write(dir.join("origin.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n")
        .unwrap();
    openssl(
        dir,
        "x509 -req -in origin.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile origin.ext -out origin.pem",
    );
}

/// `openssl s_server -WWW`: serves the files of `root` over HTTPS.
fn https_origin(dir: &Path, root: &Path) -> (Server, u16) {
    let port = free_port();
    let child = Command::new("openssl")
        .current_dir(root)
        .args(["s_server", "-quiet", "-WWW", "-accept", &port.to_string()])
        .args(["-cert", dir.join("origin.pem").to_str().unwrap(), "-key", dir.join("origin.key").to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (Server(child), port)
}

fn curl(proxy: std::net::SocketAddr, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-x", &format!("http://{proxy}"), "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn tls_inspection_and_malware_blocking_in_mamori_up() {
    require_tool("curl", "curl");
    require_tool("openssl", "openssl");
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let root = dir.path().join("www");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("eicar.com"), EICAR).unwrap();
    std::fs::write(root.join("hello.txt"), "hello over TLS\n").unwrap();
    let (_origin, port) = https_origin(dir.path(), &root);
    let extra_ca = dir.path().join("ca.pem");
    let mut m = Instance::configure(dir.path(), |c| {
        c.replace("# tls_inspect = true\n# Never", "tls_inspect = true\n# Never").replace(
            "# tls_extra_ca = \"certs/internal-ca.pem\"",
            &format!("tls_extra_ca = \"{}\"", extra_ca.display()),
        )
    });
    m.start();
    let pem = m.cli_ok(&["ca", "export"]);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // みどり市 has no CA of its own: its terminals install the common one.
    assert_eq!(m.cli_ok(&["ca", "export", "--tenant", "midori"]), pem);
    let unknown = m.cli(&["ca", "export", "--tenant", "nosuch"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no tenant with id 'nosuch'"));
    let key = dir.path().join("data/proxy/ca/common/ca.key");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions()) & 0o777, 0o600);
    let ca = dir.path().join("mamori-ca.pem");
    std::fs::write(&ca, pem).unwrap();

    let (code, body) =
        curl(m.proxy, &["--cacert", ca.to_str().unwrap(), &format!("https://localhost:{port}/hello.txt")]);
    assert_eq!((code, body.as_str()), (200, "hello over TLS\n"));
    let (code, body) =
        curl(m.proxy, &["--cacert", ca.to_str().unwrap(), &format!("https://localhost:{port}/eicar.com")]);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("Eicar-Test-Signature"), "{body}");

    assert!(m.wait_count("event.kind:alert AND threat.software.name:\"Eicar-Test-Signature\"", 1) >= 1);
    let full = format!("url.full:\"https://localhost:{port}/hello.txt\" AND event.dataset:proxy.access");
    assert!(m.wait_count(&full, 1) >= 1);
    m.stop();
}

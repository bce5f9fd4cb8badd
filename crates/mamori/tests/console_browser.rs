//! The console in a real browser (headless Chromium over WebDriver) against a real
//! `mamori up`: log in with two-factor enrolment, search and see the histogram and rows,
//! change a tenant with a reason and find the revision, two municipalities that each see only
//! their own data, and no CSP violation or script error on any page.
//!
//! Screenshots of the main pages are taken on the way; with `MAMORI_UPDATE_SCREENSHOTS=1` they
//! replace the ones in `docs/screenshots/`.

mod browser;
mod common;

use std::path::PathBuf;
use std::time::Instant;

use browser::Driver;
use common::*;
use mamori_api::auth::totp;

struct Shots {
    dir: PathBuf,
}

impl Shots {
    fn new(tmp: &std::path::Path) -> Shots {
        let dir = if std::env::var_os("MAMORI_UPDATE_SCREENSHOTS").is_some() {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
        } else {
            tmp.join("screenshots")
        };
        std::fs::create_dir_all(&dir).unwrap();
        Shots { dir }
    }

    fn take(&self, d: &Driver, name: &str) {
        let png = d.screenshot();
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        std::fs::write(self.dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Logs in through the forms; enrols the second factor when the page asks for it (the
/// secret is read off the page like a person would type it into an app).
fn login(d: &Driver, base: &str, user: &str, password: &str) {
    d.delete_cookies();
    d.goto(&format!("{base}/console/login"));
    d.type_into("input[name=username]", user);
    d.type_into("input[name=password]", password);
    d.click("button[type=submit]");
    d.find("input[name=code]");
    let secret = d.try_find("#totp-secret").map(|_| d.text("#totp-secret"));
    let secret = secret.expect("a first login enrols the second factor");
    assert!(d.source().contains("otpauth://totp/"), "the enrolment page shows the URI");
    let code = totp::current_code(&secret, jiff::Timestamp::now()).unwrap();
    d.type_into("input[name=code]", &code);
    d.click("form.stack button[type=submit]");
    d.find("header.top nav");
    assert!(d.url().ends_with("/console/"), "{}", d.url());
}

fn ingest(m: &Instance, tenant: &str, lines: &[String]) {
    let token = m.ingest_token(tenant);
    let r = http()
        .post(&m.url("/api/v1/ingest"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/x-ndjson")
        .send(lines.join("\n"))
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn the_console_in_a_real_browser() {
    browser::require_browser();
    let dir = tempfile::tempdir().unwrap();
    let mut m = Instance::configure(dir.path(), |t| t);
    m.start();
    let base = format!("http://{}", m.api);
    let now = jiff::Timestamp::now();
    let at = |mins: i64| now.checked_sub(jiff::SignedDuration::from_mins(mins)).unwrap().to_string();
    let line = |mins: i64, host: &str, ds: &str, msg: &str| {
        serde_json::json!({"@timestamp": at(mins), "message": msg, "host": {"hostname": host}, "event": {"dataset": ds},
                           "source": {"ip": format!("10.1.0.{}", mins % 200)}})
        .to_string()
    };
    let midori: Vec<String> = (0..40)
        .map(|i| {
            line(
                i * 3 % 55,
                if i % 3 == 0 { "fw01" } else { "web01" },
                if i % 2 == 0 { "firewall" } else { "proxy.access" },
                &format!("midori-only ログイン失敗 user=u{i}"),
            )
        })
        .collect();
    let aoba: Vec<String> =
        (0..12).map(|i| line(i * 4, "aoba-web", "proxy.access", &format!("aoba-only access {i}"))).collect();
    ingest(&m, "midori", &midori);
    ingest(&m, "aoba", &aoba);
    assert_eq!(m.wait_count("midori-only", 40), 40);
    assert_eq!(m.wait_count("aoba-only", 12), 12);
    let password =
        |out: String| out.lines().find_map(|l| l.strip_prefix("password (shown once): ")).unwrap().trim().to_owned();
    let yamada_pw =
        password(m.cli_ok(&["user", "add", "--username", "yamada", "--role", "municipal_admin", "--tenant", "midori"]));
    let sato_pw =
        password(m.cli_ok(&["user", "add", "--username", "sato", "--role", "municipal_admin", "--tenant", "aoba"]));
    let admin_pw = std::fs::read_to_string(m.dir.join("data/initial-admin-password")).unwrap().trim().to_owned();

    let started = Instant::now();
    let d = Driver::start();
    let shots = Shots::new(dir.path());

    // The prefecture's administrator: first login enrols 2FA.
    login(&d, &base, "admin", &admin_pw);
    d.find("svg.chart rect.bar");
    assert!(d.text("#events-hour").parse::<u64>().unwrap() >= 52);
    d.assert_clean_console("dashboard");
    shots.take(&d, "dashboard");
    // Japanese by default, English on request, and back.
    assert!(d.text("header.top nav").contains("ログ検索"));
    d.click("header.top a.lang");
    assert!(d.text("header.top nav").contains("Log search"), "{}", d.text("header.top nav"));
    d.click("header.top a.lang");
    assert!(d.text("header.top nav").contains("ログ検索"));

    // Search: histogram and rows, the whole event on expansion, a shareable URL.
    d.click("header.top nav a[href='/console/search']");
    d.type_into("input[name=q]", "ログイン失敗 AND event.dataset:firewall");
    d.click("select[name=last] option[value='1h']");
    d.click("form.searchbar button[type=submit]");
    d.find("#histogram svg rect.bar");
    assert_eq!(d.text("#total"), "20");
    assert_eq!(d.count("details.event"), 20);
    d.click("details.event summary");
    assert!(d.text("details.event[open] pre.json").contains("\"organization\""));
    assert!(d.url().contains("q=%E3%83%AD%E3%82%B0") && d.url().contains("last=1h"), "shareable: {}", d.url());
    d.assert_clean_console("search");
    shots.take(&d, "search");

    // Change a tenant with a reason; the revision is in the history with its diff.
    d.goto(&format!("{base}/console/tenants/midori/edit"));
    let contacts = d.text("textarea[name=contacts]");
    d.type_into(
        "textarea[name=contacts]",
        &format!("{contacts}\n危機管理課 | CSIRT | csirt@midori.example.lg.jp | 0120-000-000"),
    );
    d.type_into("input[name=reason]", "CSIRT窓口を追加 (browser test)");
    d.click("#save");
    d.find("p.notice.ok");
    assert!(
        d.text("#tenant").contains("csirt@midori.example.lg.jp") || d.source().contains("csirt@midori.example.lg.jp")
    );
    d.assert_clean_console("tenant");
    shots.take(&d, "tenant");
    d.click("header.top nav a[href='/console/history']");
    assert!(d.text("#revisions").contains("CSIRT窓口を追加 (browser test)"));
    d.click("#revisions tbody tr:first-child a");
    assert!(d.text("pre.diff").contains("csirt@midori.example.lg.jp"));
    d.assert_clean_console("history");
    shots.take(&d, "history");
    d.goto(&format!("{base}/console/audit?q=tenant.replace"));
    assert!(d.text("#audit").contains("tenant.replace"));
    d.assert_clean_console("audit");
    d.click("form.inline button.link"); // log out
    d.find("input[name=username]");

    // Two municipalities: each sees only its own tenant, events and counts.
    for (user, pw, own, other, own_marker, other_marker, own_total) in [
        ("yamada", &yamada_pw, "midori", "aoba", "midori-only", "aoba-only", 40),
        ("sato", &sato_pw, "aoba", "midori", "aoba-only", "midori-only", 12),
    ] {
        login(&d, &base, user, pw);
        assert!(!d.source().contains(other_marker));
        d.goto(&format!("{base}/console/search?q=&last=24h"));
        d.find("#histogram svg rect.bar");
        assert_eq!(d.text("#total"), own_total.to_string(), "{user}");
        let page = d.source();
        assert!(page.contains(own_marker) && !page.contains(other_marker), "{user} sees only {own}");
        d.goto(&format!("{base}/console/search?q=organization.id%3A{other}&last=24h"));
        assert_eq!(d.text("#total"), "0");
        d.goto(&format!("{base}/console/tenants"));
        assert!(d.text("#tenants").contains(own) && !d.text("#tenants").contains(other));
        assert_eq!(d.count("header.top nav a[href='/console/history']"), 0);
        d.assert_clean_console(user);
        d.goto(&format!("{base}/console/tenants/{other}"));
        assert!(d.source().contains("404"), "{user}: {other} is not found");
        // The browser logs the expected 404 itself; nothing else.
        let log = d.console_log();
        assert!(log.iter().all(|m| m["message"].as_str().unwrap_or("").contains("404")), "{log:?}");
        if user == "yamada" {
            d.goto(&format!("{base}/console/tenants/{own}"));
            shots.take(&d, "municipal-tenant");
        }
    }

    // A lost authenticator: reset on the server, enrolled again at the next login.
    assert!(m.cli_ok(&["user", "reset-2fa", "--username", "yamada"]).contains("reset"));
    login(&d, &base, "yamada", &yamada_pw);

    // The console check above would see a violation: an injected inline script is refused.
    d.script("var s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.appendChild(s);");
    let log = d.console_log();
    assert!(log.iter().any(|m| m["message"].as_str().unwrap_or("").contains("Content Security Policy")), "{log:?}");
    eprintln!("browser part took {:?}", started.elapsed());
    drop(d);
    m.stop();
}

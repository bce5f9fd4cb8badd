use std::path::Path;

use super::*;

fn check(text: &str) -> Result<ConfigFile, Vec<String>> {
    parse_and_check(Path::new("m.toml"), text).map_err(|e| e.diagnostics.iter().map(|d| d.to_string()).collect())
}

#[test]
fn the_example_is_valid() {
    let file = check(example_config()).unwrap();
    assert_eq!(file.tenants.len(), 2);
    assert_eq!(file.tenants[0].name_ja, "みどり市");
    assert_eq!(file.api.listen.to_string(), "127.0.0.1:8400");
    assert_eq!(file.collect.syslog.tls.unwrap().port(), 6514);
    let m = ManagedConfig::from_file(&file);
    assert_eq!(m.retention_for("aoba").archive_years, 7);
    assert_eq!(m.retention_for("midori").hot_days, 90);
}

#[test]
fn h2c_origins_are_checked() {
    let e = check("[proxy]\nh2c_origins = [\"app.example.jp:8080\", \"bad origin\", \"x:port\"]\n").unwrap_err();
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("proxy.h2c_origins[1]") && e[0].contains("bad origin"), "{e:?}");
    assert!(e[1].contains("proxy.h2c_origins[2]") && e[1].contains("not a port"), "{e:?}");
}

#[test]
fn syntax_errors_have_a_line() {
    let e = check("[mamori]\ndata_dir = \"x\"\nbroken = \n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("m.toml:3:"), "{e:?}");
    assert!(e[0].contains("syntax"), "{e:?}");
}

#[test]
fn every_unknown_field_is_reported_with_its_line() {
    let text = "[mamori]\ndata_dir = \"d\"\ncolour = 1\n\n[api]\nlisten = \"127.0.0.1:1\"\nport = 2\n";
    let e = check(text).unwrap_err();
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("m.toml:3:") && e[0].contains("mamori.colour: unknown field 'colour'"), "{e:?}");
    assert!(e[1].starts_with("m.toml:7:") && e[1].contains("api.port"), "{e:?}");
}

#[test]
fn type_errors_have_a_line() {
    let e = check("[api]\nlisten = \"not an address\"\n").unwrap_err();
    assert!(e.iter().any(|d| d.starts_with("m.toml:2:")), "{e:?}");
}

#[test]
fn semantic_problems_point_at_the_field() {
    let text = r#"
[[tenants]]
id = "a"
name_ja = "A町"
name_en = "A"
network_model = "beta"
networks = ["10.0.0.0/8"]

[[tenants]]
id = "b"
name_ja = "B町"
name_en = "B"
network_model = "β'"
networks = ["192.168.0.0/24", "10.5.0.0/16"]
domains = ["bad domain"]

[tenants.retention]
archive_years = 2
"#;
    let e = check(text).unwrap_err();
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].starts_with("m.toml:14:") && e[0].contains("tenants[1].networks[1]") && e[0].contains("overlaps"),
        "{e:?}"
    );
    assert!(e[1].starts_with("m.toml:15:") && e[1].contains("tenants[1].domains[0]"), "{e:?}");
    assert!(e[2].starts_with("m.toml:18:") && e[2].contains("below the required 5 years"), "{e:?}");
}

#[test]
fn listeners_must_not_collide() {
    let text =
        "[api]\nlisten = \"127.0.0.1:5514\"\n[collect.syslog]\ntcp = \"127.0.0.1:5514\"\nudp = \"127.0.0.1:5514\"\n";
    let e = check(text).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("collect.syslog.tcp") && e[0].contains("already used by api.listen"), "{e:?}");
}

#[test]
fn unknown_time_zone() {
    let e = check("[mamori]\ntimezone = \"Mars/Olympus\"\n").unwrap_err();
    assert!(e[0].starts_with("m.toml:2:") && e[0].contains("unknown time zone"), "{e:?}");
}

#[test]
fn mail_routes_must_name_a_tenant_domain_and_a_next_hop() {
    let tenants = "[[tenants]]\nid = \"a\"\nname_ja = \"a\"\nname_en = \"a\"\nnetwork_model = \"beta\"\ndomains = [\"a.example.jp\"]\n";
    let text = format!(
        "[mail]\nlisten = \"127.0.0.1:2525\"\nmax_recipients = 0\n[mail.tenants.a]\nroutes = {{ \"a.example.jp\" = \"mx.a.example.jp:x\", \"b.example.jp\" = \"10.0.0.1\" }}\n[mail.tenants.zz]\n{tenants}"
    );
    let e = check(&text).unwrap_err();
    assert!(e.iter().any(|m| m.contains("mail.max_recipients")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("mail.tenants.a.routes.a.example.jp") && m.contains("not a port")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("mail.tenants.a.routes.b.example.jp") && m.contains("not one of")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("mail.tenants.zz") && m.contains("no tenant")), "{e:?}");
}

#[test]
fn dmarc_report_addresses_must_be_tenant_addresses() {
    let tenants = "[[tenants]]\nid = \"a\"\nname_ja = \"a\"\nname_en = \"a\"\nnetwork_model = \"beta\"\ndomains = [\"a.example.jp\"]\n";
    let text = format!(
        "[mail]\n[mail.tenants.a]\ndmarc_report_addresses = [\"rua@mail.a.example.jp\", \"rua@b.example.jp\", \"nobody\"]\n{tenants}"
    );
    let e = check(&text).unwrap_err();
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e.iter().any(|m| m.contains("dmarc_report_addresses[1]") && m.contains("not in one of")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("dmarc_report_addresses[2]") && m.contains("not a mail address")), "{e:?}");
}

#[test]
fn an_alert_mail_password_needs_verified_tls() {
    let base = "[[detect.channels]]\nname = \"m\"\nkind = \"email\"\nserver = \"smtp.example.jp:587\"\nfrom = \"a@example.jp\"\nto = [\"b@example.jp\"]\nusername = \"u\"\npassword = \"p\"\n";
    let e = check(base).unwrap_err();
    assert!(e.iter().any(|m| m.contains("detect.channels[0].tls") && m.contains("verified TLS")), "{e:?}");
    assert!(check(&format!("{base}tls = \"starttls\"\n")).is_ok());
    assert!(check(&format!("{base}tls = \"none\"\n")).is_ok());
    assert!(check(&format!("{base}tls = \"sometimes\"\n")).is_err());
}

#[test]
fn the_example_runs_the_mail_relay() {
    let file = check(example_config()).unwrap();
    assert_eq!(file.mail.listen.unwrap().port(), 2525);
    assert_eq!(file.mail.tenants["midori"].routes["city.midori.example.jp"], "10.1.0.25:25");
}

#[test]
fn the_edge_example_site_is_valid() {
    // The commented site block of the example, uncommented: from `# [[edge.sites]]` to the
    // next blank line; `# # ...` lines stay comments.
    let mut in_site = false;
    let mut lines = Vec::new();
    for l in example_config().lines() {
        in_site = (in_site && !l.is_empty()) || l == "# [[edge.sites]]";
        lines.push(match l.strip_prefix("# ") {
            Some(rest) if in_site => rest,
            _ => l,
        });
    }
    let text = lines.join("\n");
    let file = check(&text).unwrap();
    let site = &file.edge.sites[0];
    assert_eq!(site.tenant, "midori");
    assert_eq!(site.exclude_rules, vec![edge::RuleIds::one(942100), edge::RuleIds { first: 920000, last: 920099 }]);
    assert_eq!(file.edge.rulesets["crs"].rules, vec!["crs/rules/*.conf"]);
}

#[test]
fn the_detect_examples_are_valid() {
    // The commented monitor rules and channels, uncommented (`# # ...` lines stay comments).
    let mut on = false;
    let mut lines = Vec::new();
    for l in example_config().lines() {
        on = (on && !l.is_empty()) || l == "# [[detect.monitor.threshold]]" || l == "# [detect.placeholders]";
        lines.push(match l.strip_prefix("# ") {
            Some(rest) if on => rest,
            _ => l,
        });
    }
    let file = check(&lines.join("\n")).unwrap();
    let m = &file.detect.monitor;
    assert_eq!((m.threshold.len(), m.absence.len(), m.suppress.len()), (1, 1, 1));
    assert_eq!(file.detect.channels.len(), 3);
    assert_eq!(file.detect.placeholders["Admins_Workstations"], ["ADM-PC*", "SOC-*"]);
    assert_eq!(ManagedConfig::from_file(&file).detect.monitor, *m);
    // Secrets stay out of debug output.
    assert!(!format!("{:?}", file.detect.channels).contains("\"...\""));
    assert!(format!("{:?}", file.detect.channels[0]).contains("<hidden>"));
}

#[test]
fn detect_channels_and_monitors_are_checked() {
    let text = example_config().replace(
        "dedup_secs = 300\n",
        "dedup_secs = 300\n[[detect.channels]]\nname = \"x\"\nkind = \"email\"\nserver = \"127.0.0.1:25\"\n\
         [[detect.monitor.absence]]\nid = \"a\"\ntenant = \"nowhere\"\nquery = \"*\"\nsilence_secs = 60\n",
    );
    let errors = check(&text).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("detect.channels[0].from")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("detect.channels[0].to")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("detect.monitor.absence[0].tenant")), "{errors:?}");
}

#[test]
fn edge_sites_are_checked() {
    let text = r#"
[[tenants]]
id = "midori"
name_ja = "みどり市"
name_en = "Midori"
network_model = "beta"

[[edge.sites]]
name = "a"
tenant = "midori"
hosts = ["www.example.jp"]
origins = ["http://127.0.0.1:8081"]
waf = "off"

[[edge.sites]]
name = "b"
tenant = "nobody"
hosts = ["WWW.example.jp", "www.example.jp"]
origins = ["ftp://x:1"]
ruleset = "missing"
paranoia = 5
tls_cert = "c.pem"
"#;
    let e = check(text).unwrap_err();
    let all = e.join("\n");
    for want in [
        "edge.sites[1].tenant",
        "edge.sites[1].hosts[0]",
        "edge.sites[1].hosts[1]",
        "edge.sites[1].origins[0]",
        "edge.sites[1].ruleset",
        "edge.sites[1].paranoia",
        "edge.sites[1].tls_cert",
    ] {
        assert!(all.contains(want), "{want} missing in {all}");
    }
    assert!(e.iter().all(|d| d.starts_with("m.toml:")), "{all}");
}

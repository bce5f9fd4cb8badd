//! Unbound's replay scenarios (`testdata/*.rpl`, run there by testbound) against mamori's
//! resolver and RPZ engine: the scenario's configuration becomes policy zones, stub and forward
//! zones; its RANGEs answer the resolver's upstream queries (the resolver's `Upstream` is
//! replaced); each STEP QUERY goes through the DNS service as a client's packet would, and
//! each CHECK_ANSWER is compared with the reply.
//!
//! Usage: unbound_rpl DIR [NAME-PREFIX...]. Prints every failure with its first wrong step,
//! a count per group (`rpz` first), and last `unbound-rpl: N passed, M failed`.

mod compare;
mod rpl;
mod scripted;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::Name;
use mamori_core::{NetworkModel, Tenant, TenantDirectory};
use mamori_dns::catalog::Catalog;
use mamori_dns::metrics::DnsMetrics;
use mamori_dns::resolver::local::LocalZone;
use mamori_dns::resolver::{Clock, ManualClock, Resolver, ResolverConfig};
use mamori_dns::rpz::secondary::{Secondary, ZoneSettings};
use mamori_dns::rpz::{Override, PolicyZone};
use mamori_dns::state::ClientTags;
use mamori_dns::zone::held::{HeldZone, ZonemdPolicy};
use mamori_dns::{DnsService, DnsSettings, DnsState, Reply, Transport};

use rpl::{Scenario, StepKind};

/// A scenario's name and its result (the first wrong step).
type Outcome = (String, Result<(), String>);

/// Groups in the order they are reported.
const GROUPS: &[&str] = &["rpz", "fwd", "iter", "auth"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: unbound_rpl DIR [NAME-PREFIX...]");
        std::process::exit(2);
    };
    let prefixes: Vec<&str> = args[2..].iter().map(String::as_str).collect();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "rpl")).collect()
        }
        Err(e) => {
            eprintln!("unbound-rpl: cannot read {}: {e}", dir.display());
            println!("unbound-rpl: 0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    files.sort();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut totals = (0, 0);
    let mut by_group: BTreeMap<usize, Vec<Outcome>> = BTreeMap::new();
    for path in &files {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if !prefixes.is_empty() && !prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let group = GROUPS.iter().position(|g| name.starts_with(&format!("{g}_"))).unwrap_or(GROUPS.len());
        let result = runtime.block_on(async {
            match tokio::time::timeout(Duration::from_secs(20), run_file(path)).await {
                Ok(r) => r,
                Err(_) => Err("timed out".to_string()),
            }
        });
        by_group.entry(group).or_default().push((name, result));
    }
    for (group, results) in &by_group {
        let label = GROUPS.get(*group).copied().unwrap_or("other");
        let passed = results.iter().filter(|(_, r)| r.is_ok()).count();
        let failed = results.len() - passed;
        for (name, r) in results {
            match r {
                Ok(()) => println!("  ok    {name}"),
                Err(e) => println!("  FAIL  {name}: {}", e.chars().take(300).collect::<String>()),
            }
        }
        println!("{label}: {passed} passed, {failed} failed");
        totals.0 += passed;
        totals.1 += failed;
    }
    println!("unbound-rpl: {} passed, {} failed", totals.0, totals.1);
}

async fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let scenario = rpl::parse(&text)?;
    // The scenario's files that the resolver writes (transferred zones), in a directory of
    // its own.
    let files = std::env::temp_dir().join(format!(
        "unbound-rpl-{}-{}",
        std::process::id(),
        SCENARIO.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&files).map_err(|e| format!("{}: {e}", files.display()))?;
    let result = run_scenario(&scenario, &files, path).await;
    let _ = std::fs::remove_dir_all(&files);
    result
}

/// Lets the work the last query left in the background (a prefetch) finish, as testbound
/// runs every pending event before the next step: the scripted upstream answers at once, so a
/// few turns of the runtime are enough.
async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

/// Numbers the scenarios' file directories.
static SCENARIO: AtomicU64 = AtomicU64::new(0);

/// A zone file's records as sorted lower-case text, for comparing files.
fn zone_records(text: &str) -> Result<Vec<String>, String> {
    let records = mamori_dns::zone::master::parse_with_default_ttl(text, &Name::root(), None, Some(3600))?;
    let mut out: Vec<String> =
        records.iter().map(|p| mamori_dns::zone::master::record_text(&p.record).to_lowercase()).collect();
    out.sort();
    Ok(out)
}

async fn run_scenario(scenario: &Scenario, files: &Path, path: &Path) -> Result<(), String> {
    let step = Arc::new(AtomicU64::new(0));
    let clock = Arc::new(ManualClock::default());
    let (service, upstream) = service_for(scenario, files, step.clone(), clock.clone())?;
    let service = Arc::new(service);
    // Replies to the client queries, in the order they came.
    let answers: Arc<std::sync::Mutex<Vec<Result<Message, String>>>> = Default::default();
    let mut result = run_steps(scenario, path, &service, &upstream, &answers, &step, &clock, files).await;
    // As in testbound, a reply no CHECK_ANSWER took is an error (a query that should have
    // been dropped was answered).
    settle().await;
    let unmatched = answers.lock().unwrap().len();
    if result.is_ok() && unmatched > 0 {
        result = Err(format!("{unmatched} replies no CHECK_ANSWER took"));
    }
    // Queries still waiting for an upstream answer end.
    upstream.outstanding.lock().unwrap().clear();
    settle().await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn run_steps(
    scenario: &Scenario,
    path: &Path,
    service: &Arc<DnsService>,
    upstream: &Arc<scripted::Scripted>,
    answers: &Arc<std::sync::Mutex<Vec<Result<Message, String>>>>,
    step: &Arc<AtomicU64>,
    clock: &Arc<ManualClock>,
    files: &Path,
) -> Result<(), String> {
    for (i, s) in scenario.steps.iter().enumerate() {
        step.store(s.number, Ordering::SeqCst);
        let ahead = scenario.steps[i..].iter().filter(|l| matches!(l.kind, StepKind::Reply(_) | StepKind::Timeout));
        upstream.replies_ahead.store(ahead.count(), Ordering::SeqCst);
        upstream.answer_from_ranges();
        match &s.kind {
            StepKind::Query { address, entry } => {
                if let Some(u) = &entry.unsupported {
                    return Err(format!("step {}: {u} is not supported by this runner", s.number));
                }
                let (name, rtype, class) =
                    entry.question.clone().ok_or(format!("step {}: query without a question", s.number))?;
                let mut m = Message::new(rand::random(), MessageType::Query, OpCode::Query);
                scripted::apply_flags(&mut m, entry);
                m.metadata.message_type = MessageType::Query;
                if entry.has_flag("DO") {
                    // testbound's queries with DO carry EDNS with a 4096-byte buffer.
                    let mut edns = hickory_proto::op::Edns::new();
                    edns.set_max_payload(4096);
                    edns.set_dnssec_ok(true);
                    m.set_edns(edns);
                }
                let mut q = Query::query(name, rtype);
                q.set_query_class(class);
                m.add_query(q);
                let bytes = m.to_vec().map_err(|e| e.to_string())?;
                upstream.sent.lock().unwrap().clear();
                let client = SocketAddr::new(address.unwrap_or(IpAddr::from([127, 0, 0, 1])), 40_000);
                let transport = if entry.has_match("TCP") { Transport::Tcp } else { Transport::Udp };
                // As in testbound, the query runs while the next steps do: its upstream
                // queries no range answers wait for REPLY and TIMEOUT steps.
                let (service, answers, number) = (service.clone(), answers.clone(), s.number);
                tokio::spawn(async move {
                    let reply = match service.handle(&bytes, client, transport).await {
                        Reply::One(b) => Some(
                            Message::from_vec(&b).map_err(|e| format!("step {number}: our reply does not decode: {e}")),
                        ),
                        Reply::Many(_) => Some(Err(format!("step {number}: a transfer reply"))),
                        Reply::Nothing => None,
                    };
                    answers.lock().unwrap().extend(reply);
                });
                settle().await;
            }
            StepKind::Reply(e) => {
                settle().await;
                upstream.reply_step(e);
                settle().await;
            }
            StepKind::Timeout => {
                settle().await;
                upstream.timeout_step();
                settle().await;
            }
            StepKind::CheckAnswer(expected) => {
                // The answer with the question checked for, once it has come; upstream
                // queries still outstanding then are never answered (testbound would wait
                // for them forever): they time out, oldest first.
                let got = loop {
                    settle().await;
                    let mut received = answers.lock().unwrap();
                    let wanted = received.iter().position(|a| match (a, &expected.question) {
                        (Ok(m), Some((name, rtype, _))) => m
                            .queries
                            .first()
                            .is_some_and(|q| q.name().to_lowercase() == name.to_lowercase() && q.query_type == *rtype),
                        _ => true,
                    });
                    if let Some(i) = wanted {
                        break Some(received.remove(i));
                    }
                    drop(received);
                    if !upstream.time_out_oldest() {
                        let mut received = answers.lock().unwrap();
                        break (!received.is_empty()).then(|| received.remove(0));
                    }
                };
                let got = got.ok_or(format!("step {}: no reply to check", s.number))??;
                if let Err(e) = compare::check(expected, &got) {
                    if std::env::var_os("RPL_VERBOSE").is_some() {
                        eprintln!("{}: step {}: reply:\n{got}", path.display(), s.number);
                    }
                    return Err(format!("step {}: {e}", s.number));
                }
            }
            StepKind::TimePasses(millis) => {
                // Timers fire when time passes, as in testbound: policy zones due for a
                // refresh ask their primaries now.
                clock.advance_millis(*millis);
                service.refresh_policy_zones(false).await;
            }
            StepKind::InfraRtt { ip, millis } => {
                // Unbound keys it by server and zone; mamori knows servers by address.
                if let Some(resolver) = service.resolver() {
                    resolver.round_trips().set(*ip, *millis, clock.now());
                }
            }
            StepKind::CheckOutQuery(e) => {
                let sent = upstream.sent.lock().unwrap();
                if !sent.iter().any(|m| scripted::matches(e, m)) {
                    return Err(format!("step {}: the expected upstream query was not sent", s.number));
                }
            }
            StepKind::CheckTempfile { name, contents } => {
                let path = files.join(name);
                let written = std::fs::read_to_string(&path)
                    .map_err(|e| format!("step {}: the file {name} was not written: {e}", s.number))?;
                let (want, got) = (zone_records(contents)?, zone_records(&written)?);
                if want != got {
                    return Err(format!("step {}: file {name}: expected {want:?}, got {got:?}", s.number));
                }
            }
            StepKind::Other(kind) if matches!(kind.as_str(), "TRAFFIC" | "NOTHING") => settle().await,
            StepKind::Other(kind) => {
                return Err(format!("step {}: STEP {kind} is not supported by this runner", s.number));
            }
        }
    }
    Ok(())
}

/// The scenario's configuration as a DNS service with a scripted upstream.
fn service_for(
    sc: &Scenario,
    files: &Path,
    step: Arc<AtomicU64>,
    clock: Arc<ManualClock>,
) -> Result<(DnsService, Arc<scripted::Scripted>), String> {
    let mut config = ResolverConfig { upstream_port: 53, cache_entries: 10_000, ..Default::default() };
    let mut policies = Vec::new();
    let mut secondaries = Vec::new();
    let mut settings = DnsSettings::default();
    // `define-tag` and `access-control-tag: NET "tag ..."` of the server clause.
    let mut tag_names: Vec<String> = Vec::new();
    let mut tag_nets: Vec<(String, ipnet::IpNet)> = Vec::new();
    for clause in sc.clauses.iter().filter(|c| c.kind == "server") {
        for v in clause.all("define-tag") {
            tag_names.extend(v.replace('"', " ").split_whitespace().map(String::from));
        }
        for v in clause.all("access-control-tag") {
            let v = v.replace('"', " ");
            let mut words = v.split_whitespace();
            let net: ipnet::IpNet = words.next().and_then(|n| n.parse().ok()).ok_or("a bad access-control-tag")?;
            tag_nets.extend(words.map(|t| (t.to_string(), net)));
        }
        // `num-queries-per-thread` (Unbound's default 1024 with libevent) and
        // `jostle-timeout` (200 ms) limit the resolutions running at once.
        if let Some(v) = clause.get("num-queries-per-thread") {
            settings.max_recursive_queries = v.parse().map_err(|e| format!("num-queries-per-thread {v}: {e}"))?;
        }
        if let Some(v) = clause.get("jostle-timeout") {
            settings.jostle_millis = v.parse().map_err(|e| format!("jostle-timeout {v}: {e}"))?;
        }
        // Unbound's defaults are `minimal-responses: yes` and `iter-scrub-promiscuous: yes`.
        if let Some(v) = clause.get("minimal-responses") {
            settings.minimal_responses = yes(v);
        }
        for v in clause.all("private-address") {
            config.private_networks.push(v.parse().map_err(|e| format!("private-address {v}: {e}"))?);
        }
        for v in clause.all("private-domain") {
            config.private_domains.push(name(v.trim_matches('"'))?);
        }
        // `trust-anchor:` turns validation on when the module list has the validator (its
        // default `validator iterator` does); `val-override-date` fixes the time signatures
        // are checked at.
        let validator = clause.get("module-config").is_none_or(|m| m.contains("validator"));
        for v in clause.all("trust-anchor").filter(|_| validator) {
            let text = v.trim_matches('"');
            let parsed = mamori_dns::zone::master::parse_with_default_ttl(text, &Name::root(), None, Some(3600))
                .map_err(|e| format!("trust-anchor {text}: {e}"))?;
            config.trust_anchors.extend(parsed.into_iter().map(|p| p.record));
        }
        if let Some(v) = clause.get("val-override-date") {
            config.validation_time = Some(date(v.trim_matches('"'))?);
        }
        // Unbound's default is `qname-minimisation: yes`.
        config.qname_minimisation = clause.get("qname-minimisation").is_none_or(yes);
        if let Some(v) = clause.get("prefetch") {
            config.prefetch = yes(v);
        }
        if let Some(v) = clause.get("iter-scrub-promiscuous") {
            config.keep_promiscuous_ns = !yes(v);
        }
        // `do-nat64` reaches IPv4 name servers through `nat64-prefix` (default 64:ff9b::/96).
        if clause.get("do-nat64").is_some_and(yes) {
            let prefix = clause.get("nat64-prefix").unwrap_or("64:ff9b::/96");
            let prefix: ipnet::IpNet = prefix.parse().map_err(|e| format!("nat64-prefix {prefix}: {e}"))?;
            config.nat64 = Some(mamori_dns::dns64::Dns64::new(prefix, vec![], vec![]));
        }
        // `do-not-query-address`, and the host itself unless `do-not-query-localhost: no`.
        for v in clause.all("do-not-query-address") {
            config.never_query.push(v.parse().map_err(|e| format!("do-not-query-address {v}: {e}"))?);
        }
        if clause.get("do-not-query-localhost").is_none_or(yes) {
            config.never_query.extend(["127.0.0.0/8", "::1/128"].map(|n| n.parse::<ipnet::IpNet>().expect("literal")));
        }
        config.no_ipv4 = clause.get("do-ip4").is_some_and(|v| !yes(v));
        config.no_ipv6 = clause.get("do-ip6").is_some_and(|v| !yes(v));
        if clause.get("module-config").is_some_and(|m| m.split_whitespace().any(|m| m == "dns64")) {
            let prefix = clause.get("dns64-prefix").unwrap_or("64:ff9b::/96");
            let prefix: ipnet::IpNet = prefix.parse().map_err(|e| format!("dns64-prefix {prefix}: {e}"))?;
            let exclude = vec!["::ffff:0:0/96".parse().expect("literal")];
            settings.dns64 = Some(mamori_dns::dns64::Dns64::new(prefix, exclude, vec![]));
        }
    }
    let tag_lists: Vec<(String, Vec<ipnet::IpNet>)> = tag_names
        .iter()
        .map(|t| (t.clone(), tag_nets.iter().filter(|(n, _)| n == t).map(|(_, net)| *net).collect()))
        .collect();
    let client_tags = ClientTags::new(tag_lists.iter().map(|(t, nets)| (t.as_str(), &nets[..])));
    for clause in &sc.clauses {
        match clause.kind.as_str() {
            "stub-zone" | "forward-zone" => {
                let zone = name(clause.get("name").ok_or("a zone without a name")?)?;
                let key = if clause.kind == "stub-zone" { "stub-addr" } else { "forward-addr" };
                let servers: Vec<SocketAddr> = clause.all(key).filter_map(address).collect();
                let host_key = if clause.kind == "stub-zone" { "stub-host" } else { "forward-host" };
                let hosts = clause.all(host_key).map(host).collect::<Result<Vec<_>, _>>()?;
                if !hosts.is_empty() {
                    config.server_hosts.push((zone.clone(), clause.kind == "forward-zone", hosts));
                }
                let no_cache = if clause.kind == "stub-zone" { "stub-no-cache" } else { "forward-no-cache" };
                if clause.get(no_cache) == Some("yes") {
                    config.uncached_zones.push(zone.clone());
                }
                let first = if clause.kind == "stub-zone" { "stub-first" } else { "forward-first" };
                if clause.get(first).is_some_and(yes) {
                    config.first_zones.push(zone.clone());
                }
                if clause.kind == "stub-zone" {
                    config.stub_zones.push((zone, servers));
                } else {
                    config.forward_zones.push((zone, servers));
                }
            }
            "rpz" => {
                let zname = name(clause.get("name").ok_or("an rpz without a name")?)?;
                let text = match clause.get("zonefile").filter(|f| !f.is_empty()) {
                    Some(file) => Some(sc.files.get(file).ok_or(format!("the inline file {file} is missing"))?),
                    None => None,
                };
                let zone_settings = ZoneSettings {
                    alert: false,
                    override_action: match clause.get("rpz-action-override") {
                        Some(a) => Some(Override::parse(a, clause.get("rpz-cname-override"))?),
                        None => None,
                    },
                    signal_nxdomain_ra: clause.get("rpz-signal-nxdomain-ra") == Some("yes"),
                    tags: clause.get("tags").map_or(0, |t| {
                        let names: Vec<String> = t.replace('"', " ").split_whitespace().map(String::from).collect();
                        client_tags.mask_of(&names)
                    }),
                };
                let (primaries, hosts) = primaries_of(clause)?;
                if primaries.is_empty() && hosts.is_empty() {
                    let text = text.ok_or("an rpz without a zonefile or a master")?;
                    let mut zone = PolicyZone::parse(text, &zname, None)?;
                    zone_settings.apply(&mut zone);
                    policies.push(Arc::new(zone));
                } else {
                    // A policy zone with primaries: its file is the version held at start.
                    let records = match text {
                        Some(t) => mamori_dns::zone::master::parse_with_default_ttl(t, &zname, None, Some(3600))?
                            .into_iter()
                            .map(|p| p.record)
                            .collect(),
                        None => Vec::new(),
                    };
                    let (mut secondary, zone) =
                        Secondary::new(&zname, primaries, None, None, zone_settings, records, clock.now());
                    secondary.primary_hosts = hosts;
                    secondaries.push(Arc::new(secondary));
                    policies.push(zone);
                }
            }
            "auth-zone" => config.local_zones.push(auth_zone(sc, clause, files, clock.now())?),
            "local-zone" => return Err(format!("{} is not supported by this runner", clause.kind)),
            _ => {}
        }
    }
    let everyone = Tenant {
        id: "rpl".into(),
        name_ja: "rpl".into(),
        name_en: "rpl".into(),
        network_model: NetworkModel::Beta,
        networks: vec!["0.0.0.0/0".parse().expect("literal"), "::/0".parse().expect("literal")],
        domains: vec![],
        contacts: vec![],
        retention: Default::default(),
    };
    let mut state =
        DnsState::new(Catalog::default(), TenantDirectory::new(vec![everyone], &[]), policies, Default::default());
    state.secondaries = secondaries;
    state.client_tags = Arc::new(client_tags);
    let upstream = Arc::new(scripted::Scripted {
        ranges: sc.ranges.clone(),
        step,
        pending: Default::default(),
        outstanding: Default::default(),
        replies_ahead: Default::default(),
        sent: Default::default(),
    });
    let resolver = Resolver::new(config, upstream.clone(), clock);
    Ok((DnsService::new(state, Some(resolver), None, DnsMetrics::default(), settings), upstream))
}

/// An `auth-zone:` clause as a zone the resolver holds: read from its zone file, and kept
/// current from its masters (the file is rewritten in `files` after each transfer).
fn auth_zone(sc: &Scenario, clause: &rpl::Clause, files: &Path, now: u64) -> Result<LocalZone, String> {
    let zname = name(clause.get("name").ok_or("an auth-zone without a name")?)?;
    if clause.get("url").is_some() {
        return Err("auth-zone url: is not supported by this runner".into());
    }
    let (primaries, hosts) = primaries_of(clause)?;
    let file = clause.get("zonefile").filter(|f| !f.is_empty());
    let records = match file {
        Some(f) => mamori_dns::zone::master::parse_with_default_ttl(&inline_file(sc, f)?, &zname, None, Some(3600))?
            .into_iter()
            .map(|p| p.record)
            .collect(),
        None => Vec::new(),
    };
    let written = file.filter(|_| !primaries.is_empty() || !hosts.is_empty()).map(|f| files.join(f));
    if let (Some(path), Some(f)) = (&written, file) {
        // In testbound the zone file is the inline file itself: it exists before any transfer.
        std::fs::write(path, inline_file(sc, f)?).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // `zonemd-permissive-mode` and `zonemd-reject-absence` are server options.
    let server = |key: &str| sc.clauses.iter().filter(|c| c.kind == "server").find_map(|c| c.get(key)).is_some_and(yes);
    let zonemd = ZonemdPolicy {
        check: clause.get("zonemd-check").is_some_and(yes),
        reject_absence: clause.get("zonemd-reject-absence").is_some_and(yes) || server("zonemd-reject-absence"),
        permissive: server("zonemd-permissive-mode"),
    };
    let mut held = HeldZone::new(&zname, primaries, written, records, now)?.with_zonemd(zonemd);
    held.primary_hosts = hosts;
    // `allow-notify`: addresses or host names.
    let (mut addresses, mut notify_hosts) = (Vec::new(), Vec::new());
    for a in clause.all("allow-notify") {
        if a.contains('/') {
            return Err(format!("allow-notify {a}: netblocks are not supported by this runner"));
        }
        match address(a) {
            Some(s) => addresses.push(s.ip()),
            None => notify_hosts.push(host(a)?),
        }
    }
    held.notifiers = mamori_dns::rpz::secondary::Notifiers::new(addresses, notify_hosts);
    // Unbound's defaults: `for-downstream: yes`, `for-upstream: yes`, `fallback-enabled: no`.
    Ok(LocalZone {
        zone: Arc::new(held),
        for_upstream: clause.get("for-upstream").is_none_or(yes),
        for_downstream: clause.get("for-downstream").is_none_or(yes),
        fallback: clause.get("fallback-enabled").is_some_and(yes),
    })
}

/// An inline file with its `$INCLUDE_TEMPFILE` lines replaced by the files they name.
fn inline_file(sc: &Scenario, file: &str) -> Result<String, String> {
    let text = sc.files.get(file).ok_or(format!("the inline file {file} is missing"))?;
    let mut out = String::new();
    for line in text.lines() {
        match line.trim().strip_prefix("$INCLUDE_TEMPFILE") {
            Some(inc) => out.push_str(sc.files.get(inc.trim()).ok_or(format!("the inline file {inc} is missing"))?),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// A yes/no option's value (`yes`, `"no"`).
fn yes(v: &str) -> bool {
    v.trim_matches('"') == "yes"
}

fn name(s: &str) -> Result<Name, String> {
    let mut n = Name::from_str(s).map_err(|e| format!("{s}: {e}"))?;
    n.set_fqdn(true);
    Ok(n)
}

/// A clause's `master:`/`primary:` lines: addresses, and host names to look up.
#[allow(clippy::type_complexity)]
fn primaries_of(clause: &rpl::Clause) -> Result<(Vec<SocketAddr>, Vec<(Name, u16)>), String> {
    let (mut addresses, mut hosts) = (Vec::new(), Vec::new());
    for m in clause.all("master").chain(clause.all("primary")) {
        match address(m) {
            Some(a) => addresses.push(a),
            None => hosts.push(host(m)?),
        }
    }
    Ok((addresses, hosts))
}

/// `ns.example.net`, `ns.example.net@5353`.
fn host(s: &str) -> Result<(Name, u16), String> {
    let s = s.trim().trim_matches('"');
    let (h, port) = match s.split_once('@') {
        Some((h, p)) => (h, p.parse().map_err(|e| format!("{s}: {e}"))?),
        None => (s, 53),
    };
    Ok((name(h)?, port))
}

/// `10.0.0.1`, `10.0.0.1@5353`, `::1`.
fn address(s: &str) -> Option<SocketAddr> {
    let (ip, port) = match s.split_once('@') {
        Some((ip, p)) => (ip, p.parse().ok()?),
        None => (s, 53),
    };
    Some(SocketAddr::new(ip.trim().parse().ok()?, port))
}

/// `val-override-date`: YYYYMMDDHHmmSS (UTC) or seconds since the epoch.
fn date(v: &str) -> Result<u32, String> {
    if v.len() == 14 && v.bytes().all(|b| b.is_ascii_digit()) {
        let text = format!("{}-{}-{}T{}:{}:{}", &v[0..4], &v[4..6], &v[6..8], &v[8..10], &v[10..12], &v[12..14]);
        let dt: jiff::civil::DateTime = text.parse().map_err(|e| format!("val-override-date {v}: {e}"))?;
        let ts = dt.to_zoned(jiff::tz::TimeZone::UTC).map_err(|e| format!("val-override-date {v}: {e}"))?;
        return Ok(ts.timestamp().as_second() as u32);
    }
    v.parse().map_err(|_| format!("val-override-date {v}: not a date"))
}

//! One DNS query from bytes to bytes: decode (FORMERR for malformed packets), pick the
//! authoritative zone or the resolver (tenant networks only: no open resolver), apply the
//! response policy, fit the answer into the client's UDP size (TC), log it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use jiff::Timestamp;
use mamori_core::event_writer::EventWriter;

use prometheus_client::metrics::counter::Counter;

use crate::answer_cache::wire::{NAME_TEXT_MAX, question_name};
use crate::answer_cache::{CachedAnswer, plain_query};
use crate::detect::Detector;
use crate::events::{finding_alert, rpz_alert};
use crate::metrics::DnsMetrics;
use crate::query_log::{AnswerLog, HeaderFlags, LoggedAnswers, QueryLogBatch, QueryRecord};
use crate::resolver::Resolver;
use crate::resolver::validate::Security;
use crate::rpz::{Action, Hit, PolicySet, Trigger, local_answer};
use crate::state::DnsState;
use crate::transfer;
use crate::tsig;
use crate::zone::lookup;

mod settings;
pub mod slots;

pub use settings::{DnsSettings, Reply, Transport};

/// Local CNAMEs followed through the policy zones at most this many times (a loop in them).
const MAX_LOCAL_CHAIN: usize = 8;

pub struct DnsService {
    state: ArcSwap<DnsState>,
    resolver: Option<Resolver>,
    events: Option<EventWriter>,
    metrics: DnsMetrics,
    detector: Detector,
    settings: DnsSettings,
    /// `queries{kind="authoritative"}` per transport, resolved once for the cached path.
    authoritative_udp: Counter,
    authoritative_tcp: Counter,
    recursive_udp: Counter,
    recursive_tcp: Counter,
    /// One permit per open TCP connection.
    tcp_slots: Arc<tokio::sync::Semaphore>,
    /// Wakes [`DnsService::maintain`] (a NOTIFY for a transferred policy zone).
    refresh_wake: tokio::sync::Notify,
    /// Held while a new snapshot is made from the one in force and put in its place.
    swap_lock: std::sync::Mutex<()>,
    rate_limiter: Option<crate::server::rate_limit::RateLimiter>,
    /// The recursive resolutions running, at most `settings.max_recursive_queries`.
    recursion_slots: Arc<slots::RecursionSlots>,
}

/// An answer sent from the answer cache, waiting for its log event. It owns no text: the
/// question name is read from the query's packet again and the tenant found again when the
/// event is written, so that a cached answer costs no allocation for its log.
pub struct CachedHit {
    cached: Arc<CachedAnswer>,
    id: u16,
    recursion_desired: bool,
    qtype: u16,
    recursive: bool,
    client: SocketAddr,
    transport: Transport,
    duration_ns: u64,
}

/// How a query was answered, before encoding.
struct Outcome {
    rcode: ResponseCode,
    authoritative: bool,
    recursion_available: bool,
    truncated: bool,
    answers: Vec<Record>,
    authority: Vec<Record>,
    additional: Vec<Record>,
    kind: &'static str,
    hit: Option<Hit>,
    from_cache: bool,
    /// A cached answer the resolver is refreshing: the answer cache waits for the new one.
    refreshing: bool,
    upstream_queries: usize,
    reason: Option<String>,
    drop: bool,
    /// The answer was validated (DNSSEC): AD.
    authentic_data: bool,
    security: Security,
}

impl Outcome {
    fn new(kind: &'static str, rcode: ResponseCode) -> Outcome {
        Outcome {
            rcode,
            authoritative: false,
            recursion_available: false,
            truncated: false,
            answers: vec![],
            authority: vec![],
            additional: vec![],
            kind,
            hit: None,
            from_cache: false,
            refreshing: false,
            upstream_queries: 0,
            reason: None,
            drop: false,
            authentic_data: false,
            security: Security::Unchecked,
        }
    }

    fn refused(kind: &'static str, reason: String) -> Outcome {
        Outcome { reason: Some(reason), ..Outcome::new(kind, ResponseCode::Refused) }
    }

    /// The answer's header flags the log lists (RD comes from the query).
    fn header_flags(&self) -> HeaderFlags {
        HeaderFlags {
            recursion_desired: false,
            authoritative: self.authoritative,
            recursion_available: self.recursion_available,
            truncated: self.truncated,
        }
    }
}

impl DnsService {
    pub fn new(
        state: DnsState,
        resolver: Option<Resolver>,
        events: Option<EventWriter>,
        metrics: DnsMetrics,
        settings: DnsSettings,
    ) -> DnsService {
        let detector = Detector::new(settings.detect.clone());
        let authoritative_udp = metrics.query_counter("udp", "authoritative");
        let authoritative_tcp = metrics.query_counter("tcp", "authoritative");
        let recursive_udp = metrics.query_counter("udp", "recursive");
        let recursive_tcp = metrics.query_counter("tcp", "recursive");
        let tcp_slots = Arc::new(tokio::sync::Semaphore::new(settings.max_tcp_connections.max(1)));
        DnsService {
            state: ArcSwap::from_pointee(state),
            resolver,
            events,
            metrics,
            detector,
            authoritative_udp,
            authoritative_tcp,
            recursive_udp,
            recursive_tcp,
            tcp_slots,
            refresh_wake: tokio::sync::Notify::new(),
            swap_lock: std::sync::Mutex::new(()),
            rate_limiter: settings.rate_limit.clone().map(crate::server::rate_limit::RateLimiter::new),
            recursion_slots: slots::RecursionSlots::new(settings.max_recursive_queries, settings.jostle_millis),
            settings,
        }
    }

    /// Puts a new snapshot in force (reload); queries in flight finish on the old one.
    pub fn swap_state(&self, state: DnsState) {
        let _held = self.swap_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.state.store(Arc::new(state));
    }

    /// Checks the transferred policy zones whose refresh time has come (all of them with
    /// `force`), and puts each new version in force. Returns how many changed.
    pub async fn refresh_policy_zones(&self, force: bool) -> usize {
        let Some(resolver) = &self.resolver else { return 0 };
        let secondaries = self.state.load().secondaries.clone();
        let mut changed = resolver.refresh_held_zones(force).await;
        for secondary in secondaries {
            let now = resolver.now();
            if !force && secondary.next_check() > now {
                continue;
            }
            if !secondary.primary_hosts.is_empty() {
                secondary.set_looked_up(resolver.servers_of_hosts(&secondary.primary_hosts).await);
            }
            if !secondary.notifiers.hosts.is_empty() {
                secondary.notifiers.set_looked_up(resolver.servers_of_hosts(&secondary.notifiers.hosts).await);
            }
            match secondary.refresh(resolver.upstream(), now).await {
                Ok(crate::rpz::secondary::Refreshed::Current) => {
                    tracing::debug!(zone = %secondary.name, "policy zone is current")
                }
                Ok(crate::rpz::secondary::Refreshed::Changed { old, new, serial, incremental }) => {
                    let _held = self.swap_lock.lock().unwrap_or_else(|e| e.into_inner());
                    let state = self.state.load_full();
                    // A reload in between made new secondaries: theirs to fetch again.
                    if state.secondaries.iter().any(|s| Arc::ptr_eq(s, &secondary)) {
                        self.state.store(Arc::new(state.with_policy_zone(&old, &new)));
                        changed += 1;
                        let how = if incremental { "IXFR" } else { "AXFR" };
                        tracing::info!(zone = %secondary.name, serial, rules = new.rule_count, "policy zone transferred ({how})");
                        self.metrics.policy_transfer(how);
                    }
                }
                Err(e) => {
                    self.metrics.reject("rpz_transfer_failed");
                    tracing::warn!(zone = %secondary.name, error = %e, "policy zone refresh failed");
                }
            }
        }
        changed
    }

    /// Background work while the service runs: NOTIFY to the secondaries of every zone at
    /// start (RFC 1996 §3.1: they may have missed changes while this server was down), and
    /// the refresh of transferred policy zones and held zones, on time and on a primary's NOTIFY.
    pub async fn maintain(self: Arc<Self>, shutdown: tokio_util::sync::CancellationToken) -> std::io::Result<()> {
        let state = self.state();
        crate::notify::send_in_background(crate::notify::changed_zones(
            &Default::default(),
            &state.catalog,
            &state.keys,
        ));
        loop {
            self.refresh_policy_zones(false).await;
            let now = self.resolver.as_ref().map_or(0, |r| r.now());
            let held = self.resolver.as_ref().and_then(Resolver::next_held_check);
            let next = self.state.load().secondaries.iter().map(|s| s.next_check()).chain(held).min();
            let wait = next.map_or(60, |n| n.saturating_sub(now)).clamp(1, 60);
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(std::time::Duration::from_secs(wait)) => {}
                _ = self.refresh_wake.notified() => {}
            }
        }
    }

    pub fn state(&self) -> Arc<DnsState> {
        self.state.load_full()
    }

    pub fn metrics(&self) -> &DnsMetrics {
        &self.metrics
    }

    /// Whether a UDP answer to `ip` may go out (response rate limiting); limited answers are
    /// counted (`rate_limited`, and `rate_limited_tc` for those sent truncated).
    pub fn udp_verdict(&self, ip: std::net::IpAddr) -> crate::server::rate_limit::Verdict {
        use crate::server::rate_limit::Verdict;
        let Some(limiter) = &self.rate_limiter else { return Verdict::Answer };
        let verdict = limiter.check(ip);
        if verdict == Verdict::Answer
            || (self.settings.rate_limit_exempt_tenants
                && self.state.load().tenants.tenant_of_ip(crate::server::unmap(ip)).is_some())
        {
            return Verdict::Answer;
        }
        self.metrics.reject(if verdict == Verdict::Slip { "rate_limited_tc" } else { "rate_limited" });
        verdict
    }

    /// A slot for one more TCP connection, or `None` when `max_tcp_connections` are open.
    pub fn tcp_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.tcp_slots.clone().try_acquire_owned().ok()
    }

    pub fn resolver(&self) -> Option<&Resolver> {
        self.resolver.as_ref()
    }

    /// The answer to a plain query whose answer is cached (authoritative, or recursive for
    /// this tenant and not expired), with its log event and alerts; `None` sends the packet
    /// down the full path ([`DnsService::handle`]).
    pub async fn handle_cached(&self, packet: &[u8], client: SocketAddr, transport: Transport) -> Option<Vec<u8>> {
        let (reply, hit) = self.answer_cached(packet, client, transport)?;
        let mut log = QueryLogBatch::new();
        self.log_cached(hit, packet, &mut log).await;
        self.flush_log(&mut log).await;
        Some(reply)
    }

    /// Hands the query-log records in `batch` to the log store.
    pub async fn flush_log(&self, batch: &mut QueryLogBatch) {
        if let Some(events) = &self.events
            && !batch.is_empty()
        {
            events.record_encoded(batch.take()).await;
        }
    }

    /// [`DnsService::handle_cached`] in two halves, so that a listener sends the reply before
    /// the log event is built: the reply and what its event needs. Never waits.
    pub fn answer_cached(
        &self,
        packet: &[u8],
        client: SocketAddr,
        transport: Transport,
    ) -> Option<(Vec<u8>, CachedHit)> {
        let started = Instant::now();
        let query = plain_query(packet, transport, self.settings.max_udp_payload)?;
        let ip = crate::server::unmap(client.ip());
        let (cached, recursive, age) = {
            let state = self.state.load();
            if let Some(cached) = state.answers.get(query.key()) {
                (cached, false, 0)
            } else {
                let resolver = self.resolver.as_ref()?;
                let tenant = state.tenants.tenant_of_ip(ip)?;
                let variant = self.variant(&state, &tenant.id, ip);
                let cached = state.recursive.get(&recursive_key(query.key(), &tenant.id, variant))?;
                let age = cached.age(resolver.now())?;
                (cached, true, age)
            }
        };
        let reply = cached.reply_to(&query, packet, age);
        let (udp, tcp) = if recursive {
            (&self.recursive_udp, &self.recursive_tcp)
        } else {
            (&self.authoritative_udp, &self.authoritative_tcp)
        };
        match transport {
            Transport::Udp => udp.inc(),
            Transport::Tcp => tcp.inc(),
        };
        let hit = CachedHit {
            id: query.id,
            recursion_desired: query.recursion_desired,
            qtype: query.qtype,
            cached,
            recursive,
            client,
            transport,
            duration_ns: started.elapsed().as_nanos() as u64,
        };
        Some((reply, hit))
    }

    /// The log event of an answer from [`DnsService::answer_cached`] to the query in `packet`,
    /// into `batch` (see [`DnsService::flush_log`]), and its alerts, if any.
    pub async fn log_cached(&self, hit: CachedHit, packet: &[u8], batch: &mut QueryLogBatch) {
        let cached = &hit.cached;
        let nxdomain_storm = if hit.recursive && cached.rcode == "NXDOMAIN" {
            self.detector.count_nxdomain(crate::server::unmap(hit.client.ip()))
        } else {
            None
        };
        let Some(events) = &self.events else { return };
        let alerts: Vec<_> = {
            // The tenant as configured now: after a reload in between, the new configuration's.
            let state = self.state.load();
            let tenant = state.tenants.tenant_of_ip(crate::server::unmap(hit.client.ip()));
            let mut name = [0; NAME_TEXT_MAX];
            let record = QueryRecord {
                client: hit.client,
                transport: hit.transport.name(),
                tenant: tenant.map(|t| t.id.as_str()),
                id: hit.id,
                qname: question_name(packet, &mut name),
                qtype: RecordType::from(hit.qtype).into(),
                qclass: "IN",
                rcode: cached.rcode,
                kind: if hit.recursive { "recursive" } else { "authoritative" },
                flags: HeaderFlags { recursion_desired: hit.recursion_desired, ..cached.flags },
                rpz: None,
                from_cache: hit.recursive,
                upstream_queries: 0,
                duration_ns: hit.duration_ns,
                reason: None,
            };
            batch.push(&record, cached.log(), Timestamp::now());
            cached.finding.iter().chain(nxdomain_storm.as_ref()).map(|f| finding_alert(&record, f)).collect()
        };
        for alert in alerts {
            events.record(alert).await;
        }
    }

    /// Answers one packet from `client`.
    pub async fn handle(&self, packet: &[u8], client: SocketAddr, transport: Transport) -> Reply {
        if let Some(reply) = self.handle_cached(packet, client, transport).await {
            return Reply::One(reply);
        }
        let checked = tsig::check(packet, &self.state.load().keys);
        match checked {
            tsig::Checked::Unsigned => self.handle_full(packet, client, transport, None).await,
            tsig::Checked::Signed(unsigned, signed) => {
                match self.handle_full(&unsigned, client, transport, Some(&signed)).await {
                    Reply::One(b) => {
                        let mut one = [b];
                        tsig::sign_all(&mut one, &signed);
                        let [b] = one;
                        Reply::One(b)
                    }
                    Reply::Many(mut v) => {
                        tsig::sign_all(&mut v, &signed);
                        Reply::Many(v)
                    }
                    Reply::Nothing => Reply::Nothing,
                }
            }
            tsig::Checked::Rejected(rejected) => {
                self.metrics.reject("tsig");
                tracing::info!(%client, error = %rejected.reason, "signed DNS request rejected");
                if self.events.is_some() {
                    let question = Message::from_vec(packet).ok().and_then(|m| m.queries.first().cloned());
                    let qname = question.as_ref().map_or_else(String::new, |q| q.name().to_ascii());
                    let record = QueryRecord {
                        client,
                        transport: transport.name(),
                        tenant: None,
                        id: u16::from_be_bytes([packet[0], packet[1]]),
                        qname: &qname,
                        qtype: question.as_ref().map_or("", |q| q.query_type.into()),
                        qclass: question.as_ref().map_or("", |q| q.query_class.into()),
                        rcode: "NOTAUTH",
                        kind: "refused",
                        flags: HeaderFlags::default(),
                        rpz: None,
                        from_cache: false,
                        upstream_queries: 0,
                        duration_ns: 0,
                        reason: Some(&rejected.reason),
                    };
                    self.log_one(&record, AnswerLog::none().view()).await;
                }
                tsig::error_answer(packet, &rejected).map_or(Reply::Nothing, Reply::One)
            }
        }
    }

    /// The full path: decode, answer, encode, log. `signed` is the TSIG key the request was
    /// signed with (already checked and removed from `packet`).
    async fn handle_full(
        &self,
        packet: &[u8],
        client: SocketAddr,
        transport: Transport,
        signed: Option<&tsig::Signed>,
    ) -> Reply {
        let started = Instant::now();
        if packet.len() < 12 {
            self.metrics.reject("malformed");
            return Reply::Nothing; // not even a header to answer to
        }
        let request = match Message::from_vec(packet) {
            Ok(m) => m,
            Err(e) => return self.formerr(packet, client, transport, &e.to_string(), started).await,
        };
        if request.metadata.message_type != MessageType::Query {
            self.metrics.reject("malformed");
            return Reply::Nothing; // answering responses invites reflection loops
        }
        if request.queries.len() != 1 {
            let why = format!("{} questions, one is expected", request.queries.len());
            return self.formerr(packet, client, transport, &why, started).await;
        }
        let state = self.state.load();
        let tenant = state.tenants.tenant_of_ip(crate::server::unmap(client.ip())).map(|t| t.id.clone());
        let query = &request.queries[0];
        let (qname, qtype) = (query.name().clone(), query.query_type);
        let mut outcome = if request.metadata.op_code == OpCode::Notify {
            match self.notified(&state, &qname, qtype, client, signed) {
                Ok(()) => {
                    let mut response = response_to(&request, ResponseCode::NoError);
                    response.metadata.authoritative = true;
                    let outcome = Outcome::new("notify", ResponseCode::NoError);
                    self.log(&request, client, transport, tenant.as_deref(), &outcome, started).await;
                    return response.to_vec().map_or(Reply::Nothing, Reply::One);
                }
                Err(reason) => {
                    self.metrics.reject("notify_refused");
                    Outcome::refused("notify", reason)
                }
            }
        } else if request.metadata.op_code != OpCode::Query {
            Outcome {
                reason: Some(format!("opcode {:?}", request.metadata.op_code)),
                ..Outcome::new("refused", ResponseCode::NotImp)
            }
        } else if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
            Outcome::new("refused", ResponseCode::BADVERS) // RFC 6891 §6.1.3
        } else if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            // RFC 1995 §3: the secondary's SOA in the authority section says where it is.
            let ixfr_from = (qtype == RecordType::IXFR)
                .then(|| {
                    request.authorities.iter().find_map(|r| match &r.data {
                        hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
                        _ => None,
                    })
                })
                .flatten();
            match transfer::transfer(&state, &qname, client, transport, ixfr_from, signed.map(|s| s.key.name.as_str()))
            {
                Ok(records) => {
                    let reply = self.transfer_reply(&request, records);
                    self.log(
                        &request,
                        client,
                        transport,
                        tenant.as_deref(),
                        &Outcome::new("transfer", ResponseCode::NoError),
                        started,
                    )
                    .await;
                    return reply;
                }
                Err(refusal) => {
                    self.metrics.reject("transfer_refused");
                    Outcome::refused("transfer", refusal)
                }
            }
        } else if let Some(zone) = state.catalog.find(&qname) {
            self.metrics.query(transport.name(), "authoritative");
            let a = lookup::answer(&zone.zone, &qname, qtype);
            Outcome {
                rcode: a.rcode,
                authoritative: a.authoritative,
                answers: a.answers,
                authority: a.authority,
                additional: a.additional,
                ..Outcome::new("authoritative", ResponseCode::NoError)
            }
        } else {
            match (&self.resolver, &tenant) {
                (Some(resolver), Some(t)) => {
                    self.metrics.query(transport.name(), "recursive");
                    let policy = self.policy_of(&state, t, client.ip());
                    // A resolution needs one of the limited slots, unless the cache answers.
                    let cached =
                        resolver.caches(&qname) && resolver.cache().get(&qname, qtype, resolver.now()).is_some();
                    let slot = if cached {
                        None
                    } else {
                        match self.recursion_slots.admit(resolver.now_millis()) {
                            Some(slot) => Some(slot),
                            None => {
                                self.metrics.reject("recursion_full");
                                tracing::debug!(%qname, "recursive resolutions at their limit: question dropped");
                                return Reply::Nothing;
                            }
                        }
                    };
                    let recursion = self.recurse(resolver, &policy, client, &qname, qtype, transport);
                    let mut o = match &slot {
                        Some(slot) => tokio::select! {
                            o = recursion => o,
                            _ = slot.cancel.cancelled() => {
                                self.metrics.reject("recursion_jostled");
                                tracing::debug!(%qname, "a newer question took this resolution's slot");
                                return Reply::Nothing;
                            }
                        },
                        None => recursion.await,
                    };
                    drop(slot);
                    match std::mem::take(&mut o.security) {
                        // RFC 4035 §5.5: a bogus answer is not given out, unless the client
                        // validates itself (CD).
                        Security::Bogus(why) if !request.metadata.checking_disabled => {
                            o.rcode = ResponseCode::ServFail;
                            o.answers.clear();
                            o.authority.clear();
                            o.additional.clear();
                            o.reason = Some(format!("DNSSEC validation failed: {why}"));
                        }
                        // RFC 6840 §5.8: AD for clients that show they understand it.
                        Security::Secure => {
                            o.authentic_data = request.metadata.authentic_data
                                || request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
                        }
                        _ => {}
                    }
                    if self.settings.minimal_responses {
                        crate::resolver::sections::minimise(
                            o.rcode,
                            qtype,
                            &o.answers,
                            &mut o.authority,
                            &mut o.additional,
                        );
                    }
                    o
                }
                (None, _) => Outcome::refused("refused", "recursion is not offered here".into()),
                (Some(_), None) => {
                    self.metrics.reject("recursion_refused");
                    Outcome::refused("refused", "recursion is for tenant networks only".into())
                }
            }
        };
        if let Some(hit) = &outcome.hit {
            self.metrics.rpz_hit(hit.action.as_ref().map_or("disabled", |a| a.name()));
        }
        if outcome.rcode == ResponseCode::ServFail {
            self.metrics.reject("servfail");
        }
        if outcome.drop {
            self.metrics.reject("dropped");
            self.log(&request, client, transport, tenant.as_deref(), &outcome, started).await;
            return Reply::Nothing;
        }
        let bytes = self.encode(&request, &mut outcome, transport);
        if outcome.kind == "authoritative" {
            self.keep_answer(&state, packet, transport, &outcome, &bytes);
        } else if outcome.kind == "recursive"
            && outcome.hit.is_none()
            && !outcome.refreshing
            && outcome.reason.is_none()
            && let (Some(t), Some(resolver)) = (&tenant, &self.resolver)
            && resolver.caches(&qname)
            && !self.policy_of(&state, t, client.ip()).has_client_ip_triggers()
        {
            let variant = self.variant(&state, t, crate::server::unmap(client.ip()));
            self.keep_recursive(&state, packet, transport, &outcome, &bytes, t, variant, resolver.now());
        }
        self.log(&request, client, transport, tenant.as_deref(), &outcome, started).await;
        Reply::One(bytes)
    }

    /// The policy zones in force for a client of `tenant` (its tags taken into account).
    fn policy_of<'s>(
        &self,
        state: &'s DnsState,
        tenant: &str,
        ip: std::net::IpAddr,
    ) -> std::borrow::Cow<'s, PolicySet> {
        let set = state.policy_for(tenant);
        if !set.has_tagged_zones() {
            return std::borrow::Cow::Borrowed(set);
        }
        set.for_client(state.client_tags.of(crate::server::unmap(ip)))
    }

    /// What besides the question and the tenant a recursive answer depends on: the client's
    /// tags when some policy zone has tags, and whether DNS64 serves the client when it serves
    /// only some.
    fn variant(&self, state: &DnsState, tenant: &str, ip: std::net::IpAddr) -> u128 {
        let tagged = !state.client_tags.is_empty() && state.policy_for(tenant).has_tagged_zones();
        let tags = if tagged { state.client_tags.of(ip) } else { 0 };
        let dns64 = self.settings.dns64.as_ref().is_some_and(|d| d.is_selective() && d.serves(ip));
        u128::from(tags) | (u128::from(dns64) << 64)
    }

    /// A NOTIFY (RFC 1996) for a transferred policy zone from one of its primaries: the zone
    /// is checked at once. Anything else is refused.
    fn notified(
        &self,
        state: &DnsState,
        qname: &Name,
        qtype: RecordType,
        client: SocketAddr,
        signed: Option<&tsig::Signed>,
    ) -> Result<(), String> {
        if qtype != RecordType::SOA {
            return Err(format!("NOTIFY for type {qtype}"));
        }
        let qname = crate::zone::fqdn_lower(qname);
        if self.resolver.as_ref().is_some_and(|r| r.held_zone_notified(&qname, client.ip())) {
            self.refresh_wake.notify_one();
            return Ok(());
        }
        let Some(secondary) = state.secondaries.iter().find(|s| s.name == qname) else {
            return Err(format!("NOTIFY for {qname}, not a zone transferred here"));
        };
        if !secondary.accepts_notify(client.ip(), signed.map(|s| s.key.name.as_str())) {
            return Err(format!("NOTIFY for {qname} from {}, not its primary (or without its key)", client.ip()));
        }
        secondary.check_now();
        self.refresh_wake.notify_one();
        Ok(())
    }

    /// Stores an authoritative answer for the next identical question.
    fn keep_answer(&self, state: &DnsState, packet: &[u8], transport: Transport, outcome: &Outcome, bytes: &[u8]) {
        let (Some(query), Some(cached)) =
            (plain_query(packet, transport, self.settings.max_udp_payload), cached_answer(outcome, bytes))
        else {
            return;
        };
        state.answers.insert(query.key(), cached);
    }

    /// Stores a recursive answer without a policy hit for the tenant's next identical
    /// question, until its shortest TTL runs out.
    #[allow(clippy::too_many_arguments)]
    fn keep_recursive(
        &self,
        state: &DnsState,
        packet: &[u8],
        transport: Transport,
        outcome: &Outcome,
        bytes: &[u8],
        tenant: &str,
        variant: u128,
        now: u64,
    ) {
        if !matches!(outcome.rcode, ResponseCode::NoError | ResponseCode::NXDomain) {
            return;
        }
        let Some(query) = plain_query(packet, transport, self.settings.max_udp_payload) else { return };
        let Some(mut cached) = cached_answer(outcome, bytes).and_then(|c| c.aging(now)) else { return };
        if self.resolver.as_ref().is_some_and(Resolver::prefetches) {
            cached = cached.until_prefetch();
        }
        if let Ok(name) = Name::from_ascii(query.name_text(packet)) {
            cached.finding = self.detector.inspect_name(&name);
        }
        state.recursive.insert(&recursive_key(query.key(), tenant, variant), cached);
    }

    /// The recursive path with the response policy around it.
    async fn recurse(
        &self,
        resolver: &Resolver,
        policy: &PolicySet,
        client: SocketAddr,
        qname: &Name,
        qtype: RecordType,
        transport: Transport,
    ) -> Outcome {
        let mut outcome = Outcome::new("recursive", ResponseCode::NoError);
        outcome.recursion_available = true;
        let mut follow_policy = Some(policy);
        if let Some(hit) = policy.check_query(crate::server::unmap(client.ip()), qname) {
            let action = hit.action.clone();
            outcome.hit = Some(hit);
            match action {
                None => {}
                Some(Action::Passthru) => follow_policy = None,
                Some(Action::TcpOnly) if transport == Transport::Tcp => follow_policy = None,
                Some(action) => {
                    self.apply(resolver, &mut outcome, action, qname, qtype, false, Vec::new(), Some(policy)).await;
                    return outcome;
                }
            }
        }
        if let Some(a) = resolver.local_answer(qname, qtype) {
            // A zone held for clients (Unbound's `auth-zone` with `for-downstream`).
            outcome.authoritative = a.authoritative;
            outcome.rcode = a.rcode;
            outcome.answers = a.answers;
            outcome.authority = a.authority;
            outcome.additional = a.additional;
            return outcome;
        }
        if qtype == RecordType::PTR
            && let Some(dns64) = self.settings.dns64.as_ref().filter(|d| d.serves(crate::server::unmap(client.ip())))
            && let Some(cname) = dns64.reverse(qname)
        {
            // RFC 6147 §5.3.1: the reverse name of a synthesized address is that of the IPv4
            // address it embeds.
            let hickory_proto::rr::RData::CNAME(target) = &cname.data else { return outcome };
            let target = target.0.clone();
            outcome.answers.push(cname);
            match resolver.resolve(&target, qtype, follow_policy).await {
                Ok(r) => {
                    outcome.rcode = r.answer.rcode;
                    outcome.answers.extend(r.answer.answers);
                    outcome.authority = r.answer.authority;
                    outcome.additional = r.answer.additional;
                }
                Err(e) => {
                    outcome.rcode = ResponseCode::ServFail;
                    outcome.reason = Some(e.to_string());
                }
            }
            return outcome;
        }
        let resolution = match resolver.resolve(qname, qtype, follow_policy).await {
            Ok(r) => r,
            Err(e) => {
                outcome.rcode = ResponseCode::ServFail;
                outcome.reason = Some(e.to_string());
                return outcome;
            }
        };
        outcome.from_cache = resolution.from_cache;
        outcome.refreshing = resolution.refreshing;
        outcome.upstream_queries = resolution.upstream_queries;
        if let Some((hit, name)) = resolution.hit {
            let action = hit.action.clone();
            outcome.hit = Some(hit);
            let tcp_passes = |a: &Action| *a == Action::TcpOnly && transport == Transport::Tcp;
            if let Some(action) = action.filter(|a| *a != Action::Passthru && !tcp_passes(a)) {
                self.apply(resolver, &mut outcome, action, &name, qtype, true, resolution.answer.answers, Some(policy))
                    .await;
                return outcome;
            }
            // A disabled or passthru hit on the way: resolve again without the policy.
            return match resolver.resolve(qname, qtype, None).await {
                Ok(r) => {
                    outcome.rcode = r.answer.rcode;
                    outcome.answers = r.answer.answers;
                    outcome.authority = r.answer.authority;
                    outcome.additional = r.answer.additional;
                    outcome
                }
                Err(e) => {
                    outcome.rcode = ResponseCode::ServFail;
                    outcome.reason = Some(e.to_string());
                    outcome
                }
            };
        }
        if let Some(p) = follow_policy
            && let Some(hit) = p.check_answer_ips(&resolution.answer.answers)
        {
            let action = hit.action.clone();
            outcome.hit = Some(hit);
            if let Some(action) = action.filter(|a| *a != Action::Passthru)
                && !(action == Action::TcpOnly && transport == Transport::Tcp)
            {
                self.apply(resolver, &mut outcome, action, qname, qtype, true, Vec::new(), Some(policy)).await;
                return outcome;
            }
        }
        outcome.rcode = resolution.answer.rcode;
        outcome.answers = resolution.answer.answers;
        outcome.authority = resolution.answer.authority;
        outcome.additional = resolution.answer.additional;
        outcome.security = resolution.answer.security;
        if qtype == RecordType::AAAA
            && let Some(dns64) = self.settings.dns64.as_ref().filter(|d| d.serves(crate::server::unmap(client.ip())))
        {
            self.synthesize_aaaa(resolver, dns64, &mut outcome, qname, follow_policy).await;
        }
        outcome
    }

    /// DNS64 (RFC 6147 §5.1): a NOERROR answer without AAAA records (or with excluded ones
    /// only) gets AAAA records made from the A records of the name its CNAME chain ends at.
    /// A records a response-IP trigger acts on are left out, and a policy hit while the A
    /// records are resolved leaves the answer as it was.
    async fn synthesize_aaaa(
        &self,
        resolver: &Resolver,
        dns64: &crate::dns64::Dns64,
        outcome: &mut Outcome,
        qname: &Name,
        policy: Option<&PolicySet>,
    ) {
        use hickory_proto::rr::RData;
        if outcome.rcode != ResponseCode::NoError
            || outcome.answers.iter().any(|r| matches!(&r.data, RData::AAAA(a) if !dns64.excluded(a.0)))
        {
            return;
        }
        let target = outcome
            .answers
            .iter()
            .rev()
            .find_map(|r| match &r.data {
                RData::CNAME(t) => Some(crate::zone::fqdn_lower(&t.0)),
                _ => None,
            })
            .unwrap_or_else(|| crate::zone::fqdn_lower(qname));
        let Ok(a) = resolver.resolve(&target, RecordType::A, policy).await else { return };
        outcome.upstream_queries += a.upstream_queries;
        if a.hit.is_some() || a.answer.rcode != ResponseCode::NoError {
            return;
        }
        let blocked = |r: &Record| {
            policy
                .and_then(|p| p.check_answer_ips(std::slice::from_ref(r)))
                .and_then(|h| h.action)
                .is_some_and(|a| a != Action::Passthru)
        };
        let usable: Vec<Record> = a.answer.answers.iter().filter(|r| !blocked(r)).cloned().collect();
        let ttl_cap = outcome.authority.iter().find_map(|r| match &r.data {
            RData::SOA(soa) => Some(soa.minimum.min(r.ttl)),
            _ => None,
        });
        let synthesized = dns64.synthesize_records(&usable, ttl_cap);
        if synthesized.is_empty() {
            return;
        }
        outcome.answers.retain(|r| r.record_type() == RecordType::CNAME);
        outcome.answers.extend(usable.into_iter().filter(|r| r.record_type() == RecordType::CNAME));
        outcome.answers.extend(synthesized);
        outcome.authority.clear();
        // Synthesized records are no signed data (RFC 6147 §5.5): no AD for them.
        outcome.security = Security::Unchecked;
        self.metrics.dns64_synthesized.inc();
    }

    /// Carries out a policy action for `name`, after the CNAMEs in `chain` that led to it.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        resolver: &Resolver,
        outcome: &mut Outcome,
        action: Action,
        name: &Name,
        qtype: RecordType,
        during_resolution: bool,
        chain: Vec<Record>,
        policy: Option<&PolicySet>,
    ) {
        outcome.answers = chain;
        let trigger = outcome.hit.as_ref().map(|h| h.rule.trigger.clone());
        let from_qname = matches!(trigger, Some(Trigger::Qname(_) | Trigger::QnameWildcard(_) | Trigger::ClientIp(_)));
        // As Unbound: policy answers are authoritative, except rewritten responses (response
        // IP), and TCP-only or a followed CNAME when the trigger was met during resolution.
        outcome.authoritative = match &action {
            _ if matches!(trigger, Some(Trigger::ResponseIp(_))) => false,
            Action::TcpOnly => from_qname && !during_resolution,
            _ => true,
        };
        if matches!(trigger, Some(Trigger::ClientIp(_)))
            && matches!(&action, Action::Local(r) if !r.iter().any(|r| r.record_type() == RecordType::CNAME))
            && let Some(soa) = outcome.hit.as_ref().and_then(|h| h.soa.clone())
        {
            outcome.additional.push(soa);
        }
        match action {
            Action::NxDomain => {
                outcome.rcode = ResponseCode::NXDomain;
                if outcome.hit.as_ref().is_some_and(|h| h.signal_nxdomain_ra) {
                    outcome.recursion_available = false;
                }
            }
            Action::NoData | Action::Passthru => {}
            Action::Drop => outcome.drop = true,
            Action::TcpOnly => {
                // Only reached over UDP: the client retries over TCP (RPZ draft §5.6).
                outcome.truncated = true;
            }
            Action::Local(records) => {
                let mut local = local_answer(&records, name, qtype);
                // A local CNAME is followed: through the policy zones first (its target may
                // have local data too), then by resolving it.
                for _ in 0..MAX_LOCAL_CHAIN {
                    let target = local.iter().find_map(|r| match &r.data {
                        hickory_proto::rr::RData::CNAME(t) if qtype != RecordType::CNAME => Some(t.0.clone()),
                        _ => None,
                    });
                    outcome.answers.append(&mut local);
                    let Some(target) = target.filter(|t| !t.is_root()) else { break };
                    match policy.and_then(|p| p.check_name(&target)).and_then(|h| h.action) {
                        Some(Action::Local(more)) => local = local_answer(&more, &target, qtype),
                        _ => {
                            if let Ok(r) = resolver.resolve(&target, qtype, None).await {
                                outcome.answers.extend(r.answer.answers);
                                outcome.rcode = r.answer.rcode;
                            }
                            // As Unbound: when a trigger met during resolution leads back to
                            // upstream data, the answer is not ours.
                            if during_resolution {
                                outcome.authoritative = false;
                            }
                            break;
                        }
                    }
                }
            }
        }
    }

    /// The response message, cut to fit a UDP client (RFC 1035 §4.2.1, RFC 6891 §7).
    fn encode(&self, request: &Message, outcome: &mut Outcome, transport: Transport) -> Vec<u8> {
        let mut response = response_to(request, outcome.rcode);
        let m = &mut response.metadata;
        m.authoritative = outcome.authoritative;
        m.recursion_available = outcome.recursion_available;
        m.truncation = outcome.truncated;
        m.authentic_data = outcome.authentic_data;
        let dnssec_ok = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
        if !dnssec_ok {
            // RFC 4035 §3.2.1: signatures and denial proofs only to clients that set DO,
            // unless they asked for those types.
            let qtype = request.queries.first().map(|q| q.query_type());
            for section in [&mut outcome.answers, &mut outcome.authority, &mut outcome.additional] {
                section.retain(|r| {
                    !matches!(r.record_type(), RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3)
                        || Some(r.record_type()) == qtype
                });
            }
        }
        response.answers = std::mem::take(&mut outcome.answers);
        response.authorities = std::mem::take(&mut outcome.authority);
        response.additionals = std::mem::take(&mut outcome.additional);
        if request.edns.is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(self.settings.max_udp_payload);
            edns.set_dnssec_ok(dnssec_ok);
            response.set_edns(edns);
        }
        let limit = match transport {
            Transport::Tcp => usize::from(u16::MAX),
            Transport::Udp => usize::from(match &request.edns {
                Some(e) => e.max_payload().max(512).min(self.settings.max_udp_payload),
                None => 512,
            }),
        };
        let bytes = encode_within(&mut response, limit);
        if response.metadata.truncation && !outcome.truncated {
            self.metrics.reject("truncated");
        }
        // Put the sections back for the log.
        outcome.answers = response.answers;
        outcome.authority = response.authorities;
        outcome.truncated = response.metadata.truncation;
        bytes
    }

    fn transfer_reply(&self, request: &Message, records: Vec<Record>) -> Reply {
        // RFC 5936 §2.2: as many records per message as fit; here a fixed batch keeps each
        // message well under 64 KiB for ordinary records.
        let mut messages = Vec::new();
        for chunk in records.chunks(100) {
            let mut response = response_to(request, ResponseCode::NoError);
            response.metadata.authoritative = true;
            response.answers = chunk.to_vec();
            match response.to_vec() {
                Ok(b) => messages.push(b),
                Err(e) => {
                    tracing::error!(error = %e, "a zone transfer message could not be encoded");
                    let fail = response_to(request, ResponseCode::ServFail);
                    return Reply::One(fail.to_vec().unwrap_or_default());
                }
            }
        }
        Reply::Many(messages)
    }

    async fn formerr(
        &self,
        packet: &[u8],
        client: SocketAddr,
        transport: Transport,
        why: &str,
        started: Instant,
    ) -> Reply {
        self.metrics.reject("malformed");
        tracing::debug!(%client, error = why, "malformed DNS packet");
        // RFC 1035 §4.1.1: the id and opcode of the request; nothing else is trusted.
        let id = u16::from_be_bytes([packet[0], packet[1]]);
        if packet[2] & 0x80 != 0 {
            return Reply::Nothing; // a response: never answered
        }
        let mut response = Message::new(id, MessageType::Response, OpCode::from_u8((packet[2] >> 3) & 0x0f));
        response.metadata.response_code = ResponseCode::FormErr;
        if self.events.is_some() {
            let reason: String = why.chars().take(200).collect();
            let record = QueryRecord {
                client,
                transport: transport.name(),
                tenant: None,
                id,
                qname: "",
                qtype: "",
                qclass: "",
                rcode: "FORMERR",
                kind: "malformed",
                flags: HeaderFlags::default(),
                rpz: None,
                from_cache: false,
                upstream_queries: 0,
                duration_ns: started.elapsed().as_nanos() as u64,
                reason: Some(&reason),
            };
            self.log_one(&record, AnswerLog::none().view()).await;
        }
        match response.to_vec() {
            Ok(b) => Reply::One(b),
            Err(_) => Reply::Nothing,
        }
    }

    async fn log(
        &self,
        request: &Message,
        client: SocketAddr,
        transport: Transport,
        tenant: Option<&str>,
        outcome: &Outcome,
        started: Instant,
    ) {
        let query = &request.queries[0];
        let qname = query.name().to_ascii();
        let rcode = if outcome.drop { "DROPPED".into() } else { rcode_name(outcome.rcode) };
        let record = QueryRecord {
            client,
            transport: transport.name(),
            tenant,
            id: request.metadata.id,
            qname: &qname,
            qtype: query.query_type.into(),
            qclass: query.query_class.into(),
            rcode: &rcode,
            kind: outcome.kind,
            flags: HeaderFlags { recursion_desired: request.metadata.recursion_desired, ..outcome.header_flags() },
            rpz: outcome.hit.as_ref(),
            from_cache: outcome.from_cache,
            upstream_queries: outcome.upstream_queries,
            duration_ns: started.elapsed().as_nanos() as u64,
            reason: outcome.reason.as_deref(),
        };
        let mut alerts = Vec::new();
        if let Some(hit) = outcome.hit.as_ref().filter(|h| h.alert) {
            alerts.push(rpz_alert(&record, hit));
        }
        if outcome.kind == "recursive" {
            if let Some(f) = self.detector.inspect_name(query.name()) {
                alerts.push(finding_alert(&record, &f));
            }
            if outcome.rcode == ResponseCode::NXDomain
                && let Some(f) = self.detector.count_nxdomain(crate::server::unmap(client.ip()))
            {
                alerts.push(finding_alert(&record, &f));
            }
        }
        let Some(events) = &self.events else { return };
        self.log_one(&record, AnswerLog::of(&outcome.answers).view()).await;
        for a in alerts {
            events.record(a).await;
        }
    }

    /// The log event of one query answered on the full path, handed over at once.
    async fn log_one(&self, record: &QueryRecord<'_>, answers: LoggedAnswers<'_>) {
        let mut batch = QueryLogBatch::new();
        batch.push(record, answers, Timestamp::now());
        self.flush_log(&mut batch).await;
    }
}

/// The cached form of an answer just encoded, with its log fields.
fn cached_answer(outcome: &Outcome, bytes: &[u8]) -> Option<CachedAnswer> {
    let rcode = rcode_static(outcome.rcode)?;
    Some(CachedAnswer::new(bytes.to_vec(), rcode, outcome.header_flags(), AnswerLog::of(&outcome.answers)))
}

/// A recursive answer's cache key: the question's key, the tenant (policy zones differ) and
/// the client's variant ([`DnsService::variant`]).
fn recursive_key(question: &[u8], tenant: &str, variant: u128) -> Vec<u8> {
    let mut key = Vec::with_capacity(question.len() + 1 + tenant.len() + 17);
    key.extend_from_slice(question);
    key.push(0xff);
    key.extend_from_slice(tenant.as_bytes());
    if variant != 0 {
        key.push(0xff);
        key.extend_from_slice(&variant.to_be_bytes());
    }
    key
}

/// A response skeleton echoing what RFC 1035 §4.1.1 says to echo.
fn response_to(request: &Message, rcode: ResponseCode) -> Message {
    let mut response = Message::new(request.metadata.id, MessageType::Response, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.checking_disabled = request.metadata.checking_disabled;
    response.metadata.response_code = rcode;
    response.queries = request.queries.clone();
    response
}

/// Encodes `response` in at most `limit` bytes: the additional section goes first (it is
/// optional, no TC), then the answer and authority with TC set (RFC 2181 §9).
fn encode_within(response: &mut Message, limit: usize) -> Vec<u8> {
    let encode = |m: &Message| m.to_vec().unwrap_or_default();
    let bytes = encode(response);
    if bytes.len() <= limit && !bytes.is_empty() {
        return bytes;
    }
    let additional = std::mem::take(&mut response.additionals);
    let bytes = encode(response);
    if bytes.len() <= limit && !bytes.is_empty() {
        return bytes;
    }
    response.additionals = additional;
    let mut cut = response.truncate();
    cut.metadata.id = response.metadata.id;
    cut.metadata.message_type = MessageType::Response;
    *response = cut;
    encode(response)
}

pub fn rcode_name(rcode: ResponseCode) -> String {
    rcode_static(rcode).map_or_else(|| format!("RCODE{}", u16::from(rcode)), String::from)
}

fn rcode_static(rcode: ResponseCode) -> Option<&'static str> {
    Some(match rcode {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::BADVERS => "BADVERS",
        _ => return None,
    })
}

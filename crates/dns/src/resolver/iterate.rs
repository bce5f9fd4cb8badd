//! Finding an answer upstream: forwarders (with RD set, they do the work) or iteration from
//! stub zones or root hints, following referrals (RFC 1034 §5.3.3) and CNAME chains. On the
//! way, the name servers of each zone are offered to the RPZ NSDNAME/NSIP triggers.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::cache::Answer;
use super::upstream::UpstreamError;
use super::{ResolveError, Resolver, Trace};
use crate::zone::fqdn_lower;

const MAX_REFERRALS: usize = 16;
const MAX_CNAME_CHAIN: usize = 12;
/// Looking up a name server's address may itself need lookups; this deep at most.
const MAX_DEPTH: usize = 4;

/// Where a name's resolution starts.
pub(super) struct Start {
    zone: Name,
    servers: Vec<SocketAddr>,
    /// Forwarders get RD and their answer is final.
    recursive: bool,
    /// The zone's name servers when it was learnt from a referral (for NSDNAME triggers).
    ns_names: Vec<Name>,
}

impl Resolver {
    /// Resolves `qname`, following CNAMEs; policy hits on the chain stop it (`trace.hit`).
    pub(super) fn iterate_chain<'a>(
        &'a self,
        qname: &'a Name,
        qtype: RecordType,
        trace: &'a mut Trace<'_>,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, ResolveError>> + Send + 'a>> {
        Box::pin(async move {
            let mut chain: Vec<Record> = Vec::new();
            let mut name = fqdn_lower(qname);
            for _ in 0..MAX_CNAME_CHAIN {
                // A secure DNAME above the name, kept from an earlier answer, makes its CNAME
                // here (RFC 6672 §3.2).
                if !super::dnames::is_dname(qtype)
                    && let Some((made, target)) = self.dnames.synthesize(&name, self.clock.now())
                {
                    if extend_chain(&mut chain, made, qtype, trace) {
                        return Ok(Answer::hit(chain));
                    }
                    if qtype == RecordType::CNAME {
                        return Ok(Answer {
                            rcode: ResponseCode::NoError,
                            answers: chain,
                            authority: vec![],
                            additional: vec![],
                            security: Default::default(),
                        });
                    }
                    name = target;
                    continue;
                }
                let (mut response, zone, forwarded) = self.lookup(&name, qtype, trace, depth).await?;
                let positive = !response.answers.is_empty();
                self.scrub_private(&mut response);
                if trace.hit.is_some() {
                    return Ok(Answer::hit(chain));
                }
                let rcode = response.metadata.response_code;
                if !matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain) {
                    return Err(ResolveError::Upstream(format!("{name} {qtype}: the server answered {rcode}")));
                }
                let (records, next) = follow(&response, &name, qtype, forwarded);
                if extend_chain(&mut chain, records, qtype, trace) {
                    return Ok(Answer::hit(chain));
                }
                match next {
                    Some(target) if qtype != RecordType::CNAME => name = target,
                    _ => {
                        let (authority, additional) =
                            super::sections::scrub(&response, &zone, &name, positive, self.config.keep_promiscuous_ns);
                        return Ok(Answer {
                            rcode,
                            answers: chain,
                            authority,
                            additional,
                            security: Default::default(),
                        });
                    }
                }
            }
            Err(ResolveError::Upstream(format!("{qname}: CNAME chain longer than {MAX_CNAME_CHAIN}")))
        })
    }

    /// One name's answer from the servers authoritative for it.
    async fn lookup(
        &self,
        name: &Name,
        qtype: RecordType,
        trace: &mut Trace<'_>,
        depth: usize,
    ) -> Result<(Message, Name, bool), ResolveError> {
        // A DS record set lives in the parent zone (RFC 4035 §3.1.4.1): asked there, not of
        // the child's servers a learnt delegation would lead to.
        let from = if qtype == RecordType::DS && !name.is_root() { name.base_name() } else { name.clone() };
        let mut start = self.start(&from, None)?;
        // Servers configured by host name: looked up first when their addresses are not known.
        let hosts = if start.ns_names.is_empty() { self.server_hosts(&start.zone, start.recursive) } else { &[] };
        if !hosts.is_empty() && depth < MAX_DEPTH {
            self.look_up_hosts(hosts, trace, depth).await;
            start = self.start(&from, None)?;
        }
        if start.zone.is_root() && !start.recursive && self.delegations.exact(&Name::root(), self.clock.now()).is_none()
        {
            self.prime(&start.servers, trace).await;
            start = self.start(&from, None)?;
        }
        let first = self.config.first_zones.contains(&start.zone).then(|| (start.zone.clone(), start.recursive));
        match self.lookup_from(start, name, qtype, trace, depth).await {
            // `forward-first`/`stub-first`: when the zone's servers fail, resolve as if the
            // zone were not configured.
            Err(e) if let Some((zone, forward)) = first => {
                tracing::debug!(%zone, error = %e, "the servers configured for the zone failed; iterating");
                let start = self.start(name, Some((&zone, forward)))?;
                self.lookup_from(start, name, qtype, trace, depth).await
            }
            r => r,
        }
    }

    async fn lookup_from(
        &self,
        start: Start,
        name: &Name,
        qtype: RecordType,
        trace: &mut Trace<'_>,
        depth: usize,
    ) -> Result<(Message, Name, bool), ResolveError> {
        let Start { mut zone, mut servers, recursive, ns_names } = start;
        // Name servers of the zone being asked whose addresses were not looked up (those of a
        // learnt delegation, those without glue in a referral).
        let mut unresolved: Vec<Name> = ns_names.clone();
        if let Some(policy) = trace.policy
            && !ns_names.is_empty()
        {
            let ips: Vec<IpAddr> = servers.iter().map(SocketAddr::ip).collect();
            if let Some(hit) = policy.check_name_servers(&ns_names, &self.unmapped(&ips)) {
                trace.hit = Some((hit, name.clone()));
                return Ok((Message::new(0, MessageType::Response, OpCode::Query), zone, false));
            }
        }
        // QNAME minimisation (RFC 9156, relaxed as Unbound's default): a zone's servers are
        // asked for one label more than the zone (type A) until the name is reached; a
        // failure or an error answer to such a question falls back to the full question.
        let mut minimise = self.config.qname_minimisation && !recursive;
        // A DS set is the parent's (RFC 4035 §3.1.4.1): the descent stops above the name, so
        // that its own question goes to the parent's servers, not to a server that holds the
        // child zone too and would answer from the child's apex.
        let minimised_labels = name.num_labels() - u8::from(qtype == RecordType::DS && !name.is_root());
        let mut labels = zone.num_labels() + 1;
        // The servers of `zone` asked so far and the name servers looked up, so that a
        // zone's other servers are each tried once.
        let mut asked_ips: Vec<IpAddr> = Vec::new();
        let mut looked_up: Vec<Name> = Vec::new();
        for _ in 0..MAX_REFERRALS + 2 * usize::from(name.num_labels()) {
            let held = super::local::deepest(&self.config.local_zones, name, usable).filter(|z| z.zone.name == zone);
            let (ask_name, ask_type) = if minimise && held.is_none() && labels <= minimised_labels {
                (name.trim_to(usize::from(labels)), RecordType::A)
            } else {
                (name.clone(), qtype)
            };
            let minimised = ask_name != *name || ask_type != qtype;
            let response = match held.map(|z| z.zone.zone()) {
                Some(Some(z)) => super::local::response(&z, name, qtype),
                Some(None) => {
                    return Err(ResolveError::Upstream(format!("{name}: no copy of {zone} is held yet")));
                }
                None => {
                    trace.queries += 1;
                    let signed = !recursive && self.dnssec_expected(&zone);
                    let asked = self.ask(&servers, &zone, &ask_name, ask_type, recursive, signed).await;
                    asked_ips.extend(servers.iter().map(SocketAddr::ip));
                    // A fallback answer may name servers of the zone the referral did not
                    // (the child's NS set): they are the others to try.
                    if let Ok((r, true)) = &asked {
                        for ns in zone_ns_names(r, &zone) {
                            if !unresolved.contains(&ns) && !looked_up.contains(&ns) {
                                unresolved.push(ns);
                            }
                        }
                    }
                    match asked {
                        Err(_) if minimised => {
                            minimise = false;
                            continue;
                        }
                        Ok((r, false)) => r,
                        // Only recursive servers' answers: taken when no other server is left.
                        Ok((r, true)) if unresolved.is_empty() => r,
                        failed => {
                            let (e, reclame) = match failed {
                                Ok((r, _)) => (
                                    ResolveError::Upstream(format!("{name}: only recursive servers answered")),
                                    Some(r),
                                ),
                                Err(e) => (e, None),
                            };
                            // The servers with glue failed: the zone's other name servers,
                            // whose addresses were not needed so far, are looked up now.
                            let mut more = Vec::new();
                            if depth < MAX_DEPTH {
                                for ns in std::mem::take(&mut unresolved) {
                                    more.extend(self.addresses_of(&ns, trace, depth + 1).await);
                                    looked_up.push(ns);
                                }
                            }
                            more.retain(|ip| !asked_ips.contains(ip));
                            more.dedup();
                            if more.is_empty() {
                                match reclame {
                                    Some(r) => r,
                                    None => return Err(e),
                                }
                            } else {
                                servers =
                                    more.into_iter().map(|ip| SocketAddr::new(ip, self.config.upstream_port)).collect();
                                // Later questions for the zone (the validator's DNSKEY query)
                                // may go to these too.
                                self.delegations.add_servers(&zone, &servers, &looked_up);
                                continue;
                            }
                        }
                    }
                }
            };
            if recursive {
                return Ok((response, zone, true));
            }
            let referred = referral(&response, &zone, &ask_name);
            if let Some((child, _)) = &referred {
                self.keep_delegation_proof(child, &response);
                // A parent that answers the DS question with a referral to that very name has
                // put the DS set in it: that is the answer, the child's servers have none.
                if qtype == RecordType::DS
                    && !minimised
                    && child == name
                    && let Some(answer) = ds_from_referral(&response, name)
                {
                    return Ok((answer, zone, false));
                }
            }
            let Some((child, ns_names)) = referred else {
                if minimised {
                    // Not a zone cut: one label more (or, on an error, the full question).
                    if response.metadata.response_code == ResponseCode::NoError {
                        labels += 1;
                    } else {
                        minimise = false;
                    }
                    continue;
                }
                if response.metadata.authoritative {
                    let child_side: Vec<Name> = response
                        .authorities
                        .iter()
                        .filter(|r| fqdn_lower(&r.name) == zone)
                        .filter_map(|r| match &r.data {
                            RData::NS(n) => Some(fqdn_lower(&n.0)),
                            _ => None,
                        })
                        .collect();
                    self.delegations.add_ns_names(&zone, &child_side);
                }
                return Ok((response, zone, false));
            };
            let mut response = response;
            self.scrub_private(&mut response);
            let mut addresses = self.reachable(glue(&response, &ns_names));
            unresolved =
                ns_names.iter().filter(|ns| self.reachable(glue_of(&response, ns).0).is_empty()).cloned().collect();
            // Glue outside the zone asked is not that server's to give (poison).
            for ns in ns_names.iter().filter(|ns| zone.zone_of(ns)) {
                let (ips, ttl) = glue_of(&response, ns);
                self.delegations.insert_glue(ns, ips, ttl, self.clock.now());
            }
            if addresses.is_empty() && depth < MAX_DEPTH {
                for ns in &ns_names {
                    addresses.extend(self.addresses_of(ns, trace, depth + 1).await);
                }
            }
            if let Some(policy) = trace.policy
                && let Some(hit) = policy.check_name_servers(&ns_names, &self.unmapped(&addresses))
            {
                trace.hit = Some((hit, name.clone()));
                return Ok((response, zone, false));
            }
            if addresses.is_empty() {
                return Err(ResolveError::Upstream(format!("{name}: no address for the name servers of {child}")));
            }
            servers = addresses.into_iter().map(|ip| SocketAddr::new(ip, self.config.upstream_port)).collect();
            asked_ips.clear();
            looked_up.clear();
            let ttl = response.authorities.iter().filter(|r| r.record_type() == RecordType::NS).map(|r| r.ttl).min();
            self.delegations.insert(&child, &servers, &ns_names, ttl.unwrap_or(0), self.clock.now());
            labels = child.num_labels() + 1;
            zone = child;
        }
        Err(ResolveError::Upstream(format!("{name}: more than {MAX_REFERRALS} referrals")))
    }

    /// Root priming (RFC 8109): the root's name servers and addresses asked of the
    /// configured ones, learnt for the NS set's TTL. Without a usable answer iteration starts
    /// at the configured servers.
    async fn prime(&self, hints: &[SocketAddr], trace: &mut Trace<'_>) {
        let root = Name::root();
        trace.queries += 1;
        let Ok((response, _)) = self.ask(hints, &root, &root, RecordType::NS, false, false).await else { return };
        let ns: Vec<&Record> =
            response.answers.iter().filter(|r| r.record_type() == RecordType::NS && r.name.is_root()).collect();
        let names: Vec<Name> = ns
            .iter()
            .filter_map(|r| match &r.data {
                RData::NS(n) => Some(fqdn_lower(&n.0)),
                _ => None,
            })
            .collect();
        let servers: Vec<SocketAddr> = self
            .reachable(glue(&response, &names))
            .into_iter()
            .map(|ip| SocketAddr::new(ip, self.config.upstream_port))
            .collect();
        let ttl = ns.iter().map(|r| r.ttl).min().unwrap_or(0);
        self.delegations.insert(&root, &servers, &names, ttl, self.clock.now());
    }

    /// Name server addresses as this host reaches them: IPv4 ones through NAT64 when it is
    /// configured, and none of a family turned off.
    fn reachable(&self, ips: Vec<IpAddr>) -> Vec<IpAddr> {
        let mut out = Vec::with_capacity(ips.len());
        for ip in ips {
            if self.never_query(ip) {
                continue;
            }
            let ip = match (ip, &self.config.nat64) {
                (IpAddr::V4(v4), Some(nat64)) => IpAddr::V6(nat64.synthesize(v4)),
                _ => ip,
            };
            let off = if ip.is_ipv4() { self.config.no_ipv4 } else { self.config.no_ipv6 };
            if !off && !out.contains(&ip) {
                out.push(ip);
            }
        }
        out
    }

    /// An address in `never_query`, taken as the network knows it: one under the NAT64
    /// prefix by the IPv4 address it carries.
    fn never_query(&self, ip: IpAddr) -> bool {
        let ip = match (ip, &self.config.nat64) {
            (IpAddr::V6(v6), Some(nat64)) => nat64.extract(v6).map_or(ip, IpAddr::V4),
            _ => ip,
        };
        self.config.never_query.iter().any(|net| net.contains(&ip))
    }

    /// The name servers' own addresses (for NSIP triggers), NAT64 taken off.
    fn unmapped(&self, ips: &[IpAddr]) -> Vec<IpAddr> {
        ips.iter()
            .map(|ip| match (ip, &self.config.nat64) {
                (IpAddr::V6(v6), Some(nat64)) => nat64.extract(*v6).map_or(*ip, IpAddr::V4),
                _ => *ip,
            })
            .collect()
    }

    fn scrub_private(&self, response: &mut Message) {
        super::private::scrub(response, &self.config.private_networks, &self.config.private_domains);
    }

    /// The addresses `ns` is reached at (through NAT64 where configured).
    async fn addresses_of(&self, ns: &Name, trace: &mut Trace<'_>, depth: usize) -> Vec<IpAddr> {
        if let Some(glue) = self.delegations.glue_of(ns, self.clock.now()).map(|g| self.reachable(g))
            && !glue.is_empty()
        {
            return glue;
        }
        let mut out = Vec::new();
        let v4 = !self.config.no_ipv4 || self.config.nat64.is_some();
        let families = [(RecordType::A, v4), (RecordType::AAAA, !self.config.no_ipv6)];
        for t in families.into_iter().filter(|(_, usable)| *usable).map(|(t, _)| t) {
            // The name server's own lookup is not subject to the client's policy.
            let mut inner = Trace { policy: None, hit: None, queries: 0 };
            if let Ok(a) = self.iterate_chain(ns, t, &mut inner, depth).await {
                out.extend(a.answers.iter().filter_map(crate::rpz::record_ip));
            }
            trace.queries += inner.queries;
        }
        let mut out = self.reachable(out);
        // The parent's glue learnt on the way goes last: Unbound falls back to these
        // parent-side addresses when the child's own answer for its server fails.
        for ip in self.reachable(self.delegations.glue_of(ns, self.clock.now()).unwrap_or_default()) {
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
        out
    }

    /// Where `name`'s resolution starts; `skip` is a configured zone passed over (a forward
    /// zone when its flag is true, else a stub zone).
    fn start(&self, name: &Name, skip: Option<(&Name, bool)>) -> Result<Start, ResolveError> {
        let start = self.start_upstream(name, skip);
        // A zone held here answers for everything under it down to the next zone cut known.
        let held = super::local::deepest(&self.config.local_zones, name, usable);
        match (held, start) {
            (Some(z), Ok(s)) if s.zone.num_labels() > z.zone.name.num_labels() => Ok(s),
            (Some(z), _) => {
                Ok(Start { zone: z.zone.name.clone(), servers: vec![], recursive: false, ns_names: vec![] })
            }
            (None, s) => s,
        }
    }

    fn start_upstream(&self, name: &Name, skip: Option<(&Name, bool)>) -> Result<Start, ResolveError> {
        let best = |zones: &[(Name, Vec<SocketAddr>)], forward: bool| {
            zones
                .iter()
                .filter(|(z, _)| z.zone_of(name) && skip != Some((z, forward)))
                .max_by_key(|(z, _)| z.num_labels())
                .cloned()
        };
        let forward = best(&self.config.forward_zones, true);
        let stub = best(&self.config.stub_zones, false);
        let pick = match (forward, stub) {
            (Some(f), Some(s)) if s.0.num_labels() > f.0.num_labels() => Some((s, false)),
            (Some(f), _) => Some((f, true)),
            (None, Some(s)) => Some((s, false)),
            (None, None) => None,
        };
        // A delegation learnt from an earlier referral, below where iteration would start.
        let learnt = |below: &Name| {
            self.delegations.closest(name, self.clock.now()).filter(|(z, _, _)| z.num_labels() > below.num_labels())
        };
        // The root's servers as priming found them.
        let primed = || self.delegations.exact(&Name::root(), self.clock.now());
        if let Some(((zone, servers), recursive)) = pick {
            if !recursive && let Some((zone, servers, ns_names)) = learnt(&zone) {
                return Ok(Start { zone, servers, recursive, ns_names });
            }
            if !recursive
                && zone.is_root()
                && let Some((servers, ns_names)) = primed()
            {
                return Ok(Start { zone, servers, recursive, ns_names });
            }
            let servers = self.with_host_servers(servers, &zone, recursive);
            return Ok(Start { zone, servers, recursive, ns_names: vec![] });
        }
        if !self.config.forwarders.is_empty() {
            return Ok(Start {
                zone: Name::root(),
                servers: self.with_host_servers(self.config.forwarders.clone(), &Name::root(), true),
                recursive: true,
                ns_names: vec![],
            });
        }
        if !self.config.root_hints.is_empty() {
            if let Some((zone, servers, ns_names)) = learnt(&Name::root()) {
                return Ok(Start { zone, servers, recursive: false, ns_names });
            }
            if let Some((servers, ns_names)) = primed() {
                return Ok(Start { zone: Name::root(), servers, recursive: false, ns_names });
            }
            return Ok(Start {
                zone: Name::root(),
                servers: self.config.root_hints.clone(),
                recursive: false,
                ns_names: vec![],
            });
        }
        Err(ResolveError::Upstream("no forwarders and no root hints are configured".into()))
    }

    /// A configured zone's servers by address, then those by host name whose addresses are
    /// known.
    fn with_host_servers(&self, mut servers: Vec<SocketAddr>, zone: &Name, forward: bool) -> Vec<SocketAddr> {
        for s in self.known_host_servers(self.server_hosts(zone, forward)) {
            if !servers.contains(&s) {
                servers.push(s);
            }
        }
        servers
    }

    /// Asks each server in turn until one answers. A lame answer (a referral to `zone` itself
    /// or above) counts as none; in iteration (`rd` false) a recursive server's answer (RA, no
    /// AA), an empty one, or (when `signed`, the zone being signed) one without signatures is
    /// returned, marked `true`, only when no server gave a better one.
    async fn ask(
        &self,
        servers: &[SocketAddr],
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        rd: bool,
        signed: bool,
    ) -> Result<(Message, bool), ResolveError> {
        let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
        request.metadata.recursion_desired = rd;
        request.add_query(Query::query(name.clone(), qtype));
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        // DO (RFC 3225): signatures and denial proofs come with the answers, for the
        // validator and for clients that ask for them, as Unbound asks with its validator on.
        edns.set_dnssec_ok(true);
        request.set_edns(edns);
        let mut last = String::from("no servers");
        let mut reclame = None;
        // A server that did not answer in time is asked once more after the others (a lost
        // packet is not a dead server), as Unbound and BIND retry.
        let mut silent: Vec<SocketAddr> = Vec::new();
        // The faster servers first (the configured or learnt order within a band).
        let mut round: Vec<SocketAddr> = self.round_trips.order(servers, self.clock.now());
        let mut retried = false;
        while let Some(server) = (!round.is_empty()).then(|| round.remove(0)) {
            let server = &server;
            // Records of another class than asked are no part of the answer (Unbound's
            // scrubber drops them): only IN is asked.
            let sent = self.clock.now_millis();
            let asked = self.upstream.query(*server, &request).await;
            let now = self.clock.now();
            match &asked {
                Ok(_) => self.round_trips.answered(server.ip(), self.clock.now_millis().saturating_sub(sent), now),
                Err(UpstreamError::Timeout { .. }) => self.round_trips.timed_out(server.ip(), now),
                Err(_) => {}
            }
            let asked = asked.map(|mut m| {
                for section in [&mut m.answers, &mut m.authorities, &mut m.additionals] {
                    section.retain(|r| r.dns_class == hickory_proto::rr::DNSClass::IN);
                }
                m
            });
            match asked {
                Ok(m)
                    if m.metadata.response_code == ResponseCode::ServFail
                        || m.metadata.response_code == ResponseCode::Refused =>
                {
                    last = format!("{server} answered {}", m.metadata.response_code);
                }
                // The transport retried over TCP already (RFC 7766 §5): still truncated, the
                // answer is not whole and not used.
                Ok(m) if m.metadata.truncation => last = format!("{server} answered truncated"),
                // A recursive server's (RA without AA) answer that looks lame is a recursive
                // server's answer all the same: kept for when nothing better comes, as
                // Unbound takes a REC_LAME answer before deciding the server is lame.
                Ok(m) if lame(&m, zone) && (rd || !recursion_lame(&m, zone)) => {
                    last = format!("{server} is lame for {zone}")
                }
                Ok(m) if !rd && (recursion_lame(&m, zone) || empty(&m)) => {
                    last = format!("{server} answered as a recursive server, or with nothing");
                    reclame.get_or_insert(m);
                }
                // DNSSEC-lame (Unbound's term: a server of a signed zone that strips the
                // signatures): another server of the zone may answer whole.
                Ok(m) if signed && without_signatures(&m) => {
                    last = format!("{server} answered without signatures for the signed zone {zone}");
                    reclame.get_or_insert(m);
                }
                Ok(m) => return Ok((m, false)),
                Err(e) => {
                    if matches!(e, UpstreamError::Timeout { .. }) {
                        silent.push(*server);
                    }
                    last = e.to_string();
                }
            }
            if round.is_empty() && !retried && reclame.is_none() {
                retried = true;
                round = std::mem::take(&mut silent);
            }
        }
        // Only recursive servers' answers: the first, marked so.
        if let Some(m) = reclame {
            return Ok((m, true));
        }
        Err(ResolveError::Upstream(format!("{name} {qtype}: {last}")))
    }
}

/// Adds `records` to a CNAME chain; true when a CNAME's target meets a policy trigger (every
/// name a CNAME leads to is a query name for RPZ too), which `trace.hit` then holds.
fn extend_chain(chain: &mut Vec<Record>, records: Vec<Record>, qtype: RecordType, trace: &mut Trace<'_>) -> bool {
    for r in records {
        let target = match &r.data {
            RData::CNAME(t) if qtype != RecordType::CNAME => Some(fqdn_lower(&t.0)),
            _ => None,
        };
        chain.push(r);
        if let Some(target) = target
            && let Some(policy) = trace.policy
            && let Some(hit) = policy.check_name(&target)
        {
            trace.hit = Some((hit, target));
            return true;
        }
    }
    false
}

/// The answer records for `name` in this answer and the name its CNAME chain goes on at when
/// the data is not there. An iterated server's answer gives one step: the name's data, or its
/// CNAME (after the DNAME it was synthesized from) and its target. The rest of a chain is asked
/// for, not taken from the same answer (as Unbound's scrubber cuts it): the AA bit covers only
/// the first owner name (RFC 2181 §5.4.1), so the server need not be authoritative for the
/// rest. A forwarder's answer holds the chain it resolved itself: taken whole.
fn follow(response: &Message, name: &Name, qtype: RecordType, forwarded: bool) -> (Vec<Record>, Option<Name>) {
    let (mut out, mut next) = follow_one(response, name, qtype);
    let mut hops = 1;
    while forwarded && hops < MAX_CNAME_CHAIN {
        let Some(n) = next.clone() else { break };
        let (more, after) = follow_one(response, &n, qtype);
        if more.is_empty() {
            break;
        }
        for r in more {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        next = after;
        hops += 1;
    }
    (out, next)
}

/// One step of `follow`.
fn follow_one(response: &Message, name: &Name, qtype: RecordType) -> (Vec<Record>, Option<Name>) {
    let mut out = Vec::new();
    let data: Vec<Record> = response
        .answers
        .iter()
        .filter(|r| fqdn_lower(&r.name) == *name && (r.record_type() == qtype || qtype == RecordType::ANY))
        .cloned()
        .collect();
    if !data.is_empty() {
        let types: Vec<RecordType> = data.iter().map(|r| r.record_type()).collect();
        out.extend(data);
        // ANY took the signatures with the data already.
        for t in types.into_iter().filter(|_| qtype != RecordType::ANY).collect::<std::collections::BTreeSet<_>>() {
            out.extend(super::sections::signatures_in(response, name, t));
        }
        return (out, None);
    }
    let cname = response.answers.iter().find(|r| fqdn_lower(&r.name) == *name && r.record_type() == RecordType::CNAME);
    let Some((r, RData::CNAME(target))) = cname.map(|r| (r, &r.data)) else { return (out, None) };
    // The DNAME the CNAME was synthesized from (RFC 6672 §3.1) goes first, with its
    // signatures: it is what a validator checks.
    for d in response.answers.iter().filter(|d| {
        u16::from(d.record_type()) == 39 && {
            let owner = fqdn_lower(&d.name);
            owner != *name && owner.zone_of(name)
        }
    }) {
        if !out.contains(d) {
            out.push(d.clone());
            out.extend(super::sections::signatures_in(response, &fqdn_lower(&d.name), d.record_type()));
        }
    }
    out.push(r.clone());
    out.extend(super::sections::signatures_in(response, name, RecordType::CNAME));
    (out, Some(fqdn_lower(&target.0)))
}

/// The DS set of `name` (with its signatures) in a referral's authority section, as an
/// answer.
fn ds_from_referral(referral: &Message, name: &Name) -> Option<Message> {
    let is_ds = |r: &Record| {
        fqdn_lower(&r.name) == *name
            && (r.record_type() == RecordType::DS
                || matches!(&r.data, RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(s))
                    if s.input().type_covered == RecordType::DS))
    };
    if !referral.authorities.iter().any(|r| is_ds(r) && r.record_type() == RecordType::DS) {
        return None;
    }
    let mut answer = referral.clone();
    answer.answers = referral.authorities.iter().filter(|r| is_ds(r)).cloned().collect();
    answer.authorities.clear();
    answer.additionals.clear();
    Some(answer)
}

/// A referral: no answer, and NS records in the authority section for a zone between the
/// current one and the name.
fn referral(response: &Message, zone: &Name, name: &Name) -> Option<(Name, Vec<Name>)> {
    if !response.answers.is_empty() || response.metadata.response_code != ResponseCode::NoError {
        return None;
    }
    if response.authorities.iter().any(|r| r.record_type() == RecordType::SOA) {
        return None;
    }
    let ns: Vec<&Record> = response.authorities.iter().filter(|r| r.record_type() == RecordType::NS).collect();
    let child = fqdn_lower(&ns.first()?.name);
    if !(child.zone_of(name) && zone.zone_of(&child) && child != *zone) {
        return None;
    }
    let names = ns
        .iter()
        .filter(|r| fqdn_lower(&r.name) == child)
        .filter_map(|r| match &r.data {
            RData::NS(n) => Some(fqdn_lower(&n.0)),
            _ => None,
        })
        .collect();
    Some((child, names))
}

fn glue(response: &Message, ns_names: &[Name]) -> Vec<IpAddr> {
    response
        .additionals
        .iter()
        .filter(|r| ns_names.contains(&fqdn_lower(&r.name)))
        .filter_map(crate::rpz::record_ip)
        .collect()
}

/// One name server's glue addresses in a referral and their smallest TTL.
fn glue_of(response: &Message, ns: &Name) -> (Vec<IpAddr>, u32) {
    let records: Vec<&Record> = response.additionals.iter().filter(|r| fqdn_lower(&r.name) == *ns).collect();
    let ttl = records.iter().map(|r| r.ttl).min().unwrap_or(0);
    (records.into_iter().filter_map(crate::rpz::record_ip).collect(), ttl)
}

/// A held zone iteration takes answers from: one for upstream, unless it has no copy yet and
/// may fall back to the zone's servers.
fn usable(z: &super::local::LocalZone) -> bool {
    z.for_upstream && !(z.fallback && z.zone.zone().is_none())
}

/// NS records for the zone asked or a zone above it, and no answer: the server does not serve
/// the zone it was asked as (Unbound's `RESPONSE_TYPE_LAME`). The zone's own NS set with AA is
/// its NODATA, naming the NS set instead of the SOA.
fn lame(response: &Message, zone: &Name) -> bool {
    let (ns_owner, has_soa) = authority_kind(response);
    response.answers.is_empty()
        && response.metadata.response_code == ResponseCode::NoError
        && !has_soa
        && ns_owner.is_some_and(|o| o.zone_of(zone) && !(response.metadata.authoritative && o == *zone))
}

/// RA without AA on what is not a referral: a recursive server's answer, not the zone's
/// (Unbound's `RESPONSE_TYPE_REC_LAME`); used only when every server answers so.
fn recursion_lame(response: &Message, zone: &Name) -> bool {
    let md = &response.metadata;
    let (ns_owner, has_soa) = authority_kind(response);
    let referral = response.answers.is_empty()
        && md.response_code == ResponseCode::NoError
        && !has_soa
        && ns_owner.as_ref().is_some_and(|o| zone.zone_of(o) && o != zone);
    md.recursion_available && !md.authoritative && !referral
}

/// NOERROR with no records at all: no answer, and neither the SOA that says there is no data
/// nor a referral (a broken server, as Unbound takes it); used only when no server does better.
fn empty(response: &Message) -> bool {
    response.metadata.response_code == ResponseCode::NoError
        && response.answers.is_empty()
        && response.authorities.is_empty()
}

/// No RRSIG where a signed zone's answer has them: beside the answer records, or in the
/// authority section of an answer without any (a denial, a referral).
fn without_signatures(response: &Message) -> bool {
    let section = if response.answers.is_empty() { &response.authorities } else { &response.answers };
    matches!(response.metadata.response_code, ResponseCode::NoError | ResponseCode::NXDomain)
        && !section.iter().any(|r| r.record_type() == RecordType::RRSIG)
}

/// The names of `zone`'s NS set in a response's answer or authority section.
fn zone_ns_names(response: &Message, zone: &Name) -> Vec<Name> {
    response
        .answers
        .iter()
        .chain(&response.authorities)
        .filter(|r| fqdn_lower(&r.name) == *zone)
        .filter_map(|r| match &r.data {
            RData::NS(n) => Some(fqdn_lower(&n.0)),
            _ => None,
        })
        .collect()
}

/// The owner of the first NS record in the authority section, and whether there is an SOA.
fn authority_kind(response: &Message) -> (Option<Name>, bool) {
    let ns = response.authorities.iter().find(|r| r.record_type() == RecordType::NS).map(|r| fqdn_lower(&r.name));
    (ns, response.authorities.iter().any(|r| r.record_type() == RecordType::SOA))
}

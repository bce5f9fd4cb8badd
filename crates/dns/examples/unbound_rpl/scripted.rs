//! The resolver's upstream answered from a scenario's RANGEs: the first entry of a range
//! that holds at the current step, for the server asked, whose MATCH fits the query.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::RecordType;
use mamori_dns::resolver::upstream::{TransferFuture, Upstream, UpstreamError, UpstreamFuture};

use crate::rpl::{Entry, Range};

/// A REPLY or TIMEOUT step that came when no query was outstanding: it answers the next
/// query no range answers.
pub enum Pending {
    Reply(Box<Entry>),
    Timeout,
}

/// An upstream query no range answered, waiting for a REPLY or TIMEOUT step (testbound keeps
/// it pending across steps).
pub struct Outstanding {
    pub server: SocketAddr,
    pub request: Message,
    /// `None` for a timeout.
    pub answer: tokio::sync::oneshot::Sender<Option<Message>>,
}

pub struct Scripted {
    pub ranges: Vec<Range>,
    pub step: Arc<AtomicU64>,
    pub pending: Mutex<VecDeque<Pending>>,
    pub outstanding: Mutex<Vec<Outstanding>>,
    /// REPLY and TIMEOUT steps still to come: a query waits only while one of them may
    /// answer it, else it fails at once (nothing in the scenario would ever answer it).
    pub replies_ahead: std::sync::atomic::AtomicUsize,
    /// Every query sent since the last client query, for CHECK_OUT_QUERY.
    pub sent: Mutex<Vec<Message>>,
}

impl Scripted {
    /// The first entry of a range that holds at `step`, for `server`, matching `request`.
    fn range_entry(&self, step: u64, server: SocketAddr, request: &Message) -> Option<&Entry> {
        self.ranges
            .iter()
            .filter(|r| (r.start..=r.end).contains(&step))
            .filter(|r| r.addresses.is_empty() || r.addresses.contains(&server.ip()))
            .flat_map(|r| r.entries.iter())
            .find(|e| matches(e, request))
    }

    /// True when a range starting after `step` would answer `request` to `server`.
    fn answered_later(&self, step: u64, server: SocketAddr, request: &Message) -> bool {
        self.ranges
            .iter()
            .filter(|r| r.start > step)
            .filter(|r| r.addresses.is_empty() || r.addresses.contains(&server.ip()))
            .flat_map(|r| r.entries.iter())
            .any(|e| matches(e, request))
    }

    /// A new step: outstanding queries a range now holding answers get their answers (as
    /// testbound answers pending queries from the ranges at each step).
    pub fn answer_from_ranges(&self) {
        let step = self.step.load(Ordering::SeqCst);
        let mut outstanding = self.outstanding.lock().unwrap();
        // Those whose resolution was given up (a newer question took its slot) are gone,
        // as Unbound stops its serviced queries.
        outstanding.retain(|o| !o.answer.is_closed());
        let mut i = 0;
        while i < outstanding.len() {
            let o = &outstanding[i];
            match self.range_entry(step, o.server, &o.request).map(|e| reply(e, &o.request)) {
                Some(answer) => {
                    let o = outstanding.remove(i);
                    if std::env::var_os("RPL_VERBOSE").is_some() {
                        eprintln!("step {step}: {} answers {:?} held since earlier", o.server, o.request.queries);
                    }
                    let _ = o.answer.send(Some(answer));
                }
                None => i += 1,
            }
        }
    }

    /// A REPLY step: the first outstanding query the entry matches (else the newest one, as
    /// testbound answers the head of its pending list) gets it; with none outstanding, the
    /// next query no range answers will.
    pub fn reply_step(&self, e: &Entry) {
        let mut outstanding = self.outstanding.lock().unwrap();
        outstanding.retain(|o| !o.answer.is_closed());
        if outstanding.is_empty() {
            self.pending.lock().unwrap().push_back(Pending::Reply(Box::new(e.clone())));
            return;
        }
        let newest = outstanding.len() - 1;
        let i = outstanding.iter().position(|o| matches(e, &o.request)).unwrap_or(newest);
        let o = outstanding.remove(i);
        let _ = o.answer.send(Some(reply(e, &o.request)));
    }

    /// A TIMEOUT step: the newest outstanding query fails (testbound's head of the list).
    pub fn timeout_step(&self) {
        let mut outstanding = self.outstanding.lock().unwrap();
        outstanding.retain(|o| !o.answer.is_closed());
        let Some(o) = outstanding.pop() else {
            self.pending.lock().unwrap().push_back(Pending::Timeout);
            return;
        };
        let _ = o.answer.send(None);
    }

    /// Fails the oldest outstanding query (as a timeout); false when none is.
    pub fn time_out_oldest(&self) -> bool {
        let mut outstanding = self.outstanding.lock().unwrap();
        outstanding.retain(|o| !o.answer.is_closed());
        if outstanding.is_empty() {
            return false;
        }
        let o = outstanding.remove(0);
        let _ = o.answer.send(None);
        true
    }
}

impl Upstream for Scripted {
    fn query<'a>(&'a self, server: SocketAddr, request: &'a Message) -> UpstreamFuture<'a> {
        Box::pin(async move {
            let step = self.step.load(Ordering::SeqCst);
            self.sent.lock().unwrap().push(request.clone());
            if let Some(e) = self.range_entry(step, server, request) {
                return Ok(reply(e, request));
            }
            let failed = |message: String| UpstreamError::Failed { server, message };
            match self.pending.lock().unwrap().pop_front() {
                Some(Pending::Reply(e)) => return Ok(reply(&e, request)),
                Some(Pending::Timeout) => {
                    return Err(UpstreamError::Timeout { server, timeout: std::time::Duration::from_secs(3) });
                }
                None => {}
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            {
                let mut outstanding = self.outstanding.lock().unwrap();
                outstanding.retain(|o| !o.answer.is_closed());
                // It waits while a later step may answer it: a REPLY or TIMEOUT step not
                // spoken for, or a range starting later.
                if outstanding.len() >= self.replies_ahead.load(Ordering::SeqCst)
                    && !self.answered_later(step, server, request)
                {
                    return Err(failed("no scripted answer".into()));
                }
                outstanding.push(Outstanding { server, request: request.clone(), answer: tx });
            }
            match rx.await {
                Ok(Some(m)) => Ok(m),
                Ok(None) => Err(UpstreamError::Timeout { server, timeout: std::time::Duration::from_secs(3) }),
                Err(_) => Err(failed("the scenario ended".into())),
            }
        })
    }

    /// A transfer is answered by the matching entry, in one message.
    fn transfer(&self, server: SocketAddr, request: Vec<u8>, _rtype: RecordType) -> TransferFuture<'_> {
        Box::pin(async move {
            let fail = |message: String| UpstreamError::Failed { server, message };
            let request = Message::from_vec(&request).map_err(|e| fail(e.to_string()))?;
            let answer = self.query(server, &request).await?;
            Ok(vec![answer.to_vec().map_err(|e| fail(e.to_string()))?])
        })
    }
}

/// MATCH: `opcode`, `qtype`, `qname`, `subdomain` (the query name is at or below the entry's).
pub fn matches(e: &Entry, request: &Message) -> bool {
    let Some(q) = request.queries.first() else { return false };
    let Some((name, rtype, _)) = &e.question else { return e.matches.is_empty() };
    let qname = q.name().to_lowercase();
    let ename = name.to_lowercase();
    if e.has_match("qtype") && q.query_type != *rtype {
        return false;
    }
    if e.has_match("qname") && qname != ename {
        return false;
    }
    if e.has_match("subdomain") && !ename.zone_of(&qname) {
        return false;
    }
    true
}

/// REPLY flags and rcode, the sections, and ADJUST copy_id / copy_query.
pub fn reply(e: &Entry, request: &Message) -> Message {
    let mut m = Message::new(0, MessageType::Response, OpCode::Query);
    apply_flags(&mut m, e);
    if e.adjust.iter().any(|a| a == "copy_id") {
        m.metadata.id = request.metadata.id;
    }
    if e.adjust.iter().any(|a| a == "copy_query") {
        m.queries = request.queries.clone();
    } else if let Some((name, rtype, class)) = &e.question {
        let mut q = Query::query(name.clone(), *rtype);
        q.set_query_class(*class);
        m.queries = vec![q];
    }
    m.answers = e.answer.clone();
    m.authorities = e.authority.clone();
    m.additionals = e.additional.clone();
    m
}

pub fn apply_flags(m: &mut Message, e: &Entry) {
    let md = &mut m.metadata;
    md.message_type = if e.has_flag("QR") { MessageType::Response } else { MessageType::Query };
    md.authoritative = e.has_flag("AA");
    md.truncation = e.has_flag("TC");
    md.recursion_desired = e.has_flag("RD");
    md.recursion_available = e.has_flag("RA");
    md.authentic_data = e.has_flag("AD");
    md.checking_disabled = e.has_flag("CD");
    md.response_code = e.rcode.unwrap_or(ResponseCode::NoError);
    // testbound takes the opcode NOTIFY from the REPLY line too.
    if e.has_flag("NOTIFY") {
        md.op_code = OpCode::Notify;
    }
}

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

/// Answers scripted by the steps after a QUERY (STEP REPLY), or their absence (TIMEOUT).
pub enum Pending {
    Reply(Box<Entry>),
    Timeout,
}

pub struct Scripted {
    pub ranges: Vec<Range>,
    pub step: Arc<AtomicU64>,
    pub pending: Mutex<VecDeque<Pending>>,
    /// Every query sent, for CHECK_OUT_QUERY.
    pub sent: Mutex<Vec<Message>>,
}

impl Upstream for Scripted {
    fn query<'a>(&'a self, server: SocketAddr, request: &'a Message) -> UpstreamFuture<'a> {
        Box::pin(async move {
            let step = self.step.load(Ordering::SeqCst);
            self.sent.lock().unwrap().push(request.clone());
            let entry = self
                .ranges
                .iter()
                .filter(|r| (r.start..=r.end).contains(&step))
                .filter(|r| r.addresses.is_empty() || r.addresses.contains(&server.ip()))
                .flat_map(|r| r.entries.iter())
                .find(|e| matches(e, request));
            if let Some(e) = entry {
                return Ok(reply(e, request));
            }
            match self.pending.lock().unwrap().pop_front() {
                Some(Pending::Reply(e)) => Ok(reply(&e, request)),
                Some(Pending::Timeout) | None => {
                    Err(UpstreamError::Failed { server, message: "no scripted answer".into() })
                }
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

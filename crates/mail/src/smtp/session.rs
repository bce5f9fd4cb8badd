//! One SMTP connection (RFC 5321 §4.1.4 command order, RFC 2920 pipelining, RFC 3207 STARTTLS,
//! RFC 3030 CHUNKING). Generic over the stream, so the same code runs before and after TLS.

use std::net::IpAddr;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader};

use super::address::Path;
use super::command::{self, Body, Command, MailParams};
use super::data::{DataOutcome, DataProblem, normalise_line_ends, read_data};
use super::lines::{Line, read_line, strip_line_end};
use super::reply::{Reply, codes};
use crate::auth::AuthVerdict;
use crate::content::Decision;
use crate::context::MailContext;
use crate::events::{MailFacts, mail_event};
use crate::policy::Route;
use crate::quarantine::Cause;

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.
pub const MAX_COMMAND_LINE: usize = 512;
/// A client making this many errors is disconnected (RFC 5321 §4.3.2 lets a server do so).
const MAX_ERRORS: u32 = 20;
/// More `Received:` lines than this is a mail loop (RFC 5321 §6.3).
const MAX_HOPS: usize = 50;

/// What a session knows across STARTTLS.
#[derive(Debug, Clone)]
pub struct Peer {
    pub ip: IpAddr,
    pub tls: bool,
}

/// How a session ended.
pub enum End<S> {
    Closed,
    /// The client asked for STARTTLS and got 220: the stream, to wrap in TLS.
    StartTls(S),
}

struct Transaction {
    sender_text: String,
    params: MailParams,
    recipients: Vec<(String, Route)>,
    /// BDAT chunks so far, line ends normalised.
    chunks: Vec<u8>,
    pending_cr: bool,
    chunk_too_big: bool,
    used_data: bool,
}

struct Session<'a, S> {
    ctx: &'a MailContext,
    io: BufReader<S>,
    peer: Peer,
    helo: Option<String>,
    esmtp: bool,
    tx: Option<Transaction>,
    out: String,
    errors: u32,
}

/// Serves one connection until QUIT, a timeout, an error, or STARTTLS.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    ctx: &MailContext,
    stream: S,
    peer: Peer,
) -> std::io::Result<End<S>> {
    let mut s = Session {
        ctx,
        io: BufReader::new(stream),
        peer,
        helo: None,
        esmtp: false,
        tx: None,
        out: String::new(),
        errors: 0,
    };
    if !s.peer.tls {
        s.push(Reply::new(220, "", format!("{} ESMTP mamori", ctx.settings.hostname)));
    }
    match s.serve().await? {
        Flow::Closed => Ok(End::Closed),
        Flow::StartTls => Ok(End::StartTls(s.io.into_inner())),
    }
}

enum Flow {
    Closed,
    StartTls,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<'_, S> {
    fn push(&mut self, reply: Reply) {
        self.out.push_str(&reply.to_wire());
    }

    /// Writes queued replies. While more pipelined commands wait in the buffer, replies are
    /// held and sent together (RFC 2920 §3.2).
    async fn flush(&mut self, force: bool) -> std::io::Result<()> {
        if self.out.is_empty() || (!force && !self.io.buffer().is_empty()) {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let timeout = self.ctx.settings.command_timeout;
        let stream = self.io.get_mut();
        match tokio::time::timeout(timeout, async {
            stream.write_all(out.as_bytes()).await?;
            stream.flush().await
        })
        .await
        {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "client does not read replies")),
        }
    }

    fn refuse(&mut self, reason: &'static str, reply: Reply) {
        self.ctx.metrics.refuse(reason);
        self.errors += 1;
        self.push(reply);
    }

    async fn serve(&mut self) -> std::io::Result<Flow> {
        loop {
            self.flush(false).await?;
            if self.errors >= MAX_ERRORS {
                self.push(Reply::new(421, "4.7.0", "Too many errors, closing connection"));
                self.flush(true).await?;
                return Ok(Flow::Closed);
            }
            let line = match tokio::time::timeout(
                self.ctx.settings.command_timeout,
                read_line(&mut self.io, MAX_COMMAND_LINE),
            )
            .await
            {
                Err(_) => {
                    self.ctx.metrics.refuse("timeout");
                    self.push(codes::timeout());
                    let _ = self.flush(true).await;
                    return Ok(Flow::Closed);
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Line::Eof)) => return Ok(Flow::Closed),
                Ok(Ok(Line::TooLong)) => {
                    self.refuse(
                        "line_too_long",
                        Reply::new(500, "5.5.2", "Line too long (at most 512 octets per command, RFC 5321)"),
                    );
                    continue;
                }
                Ok(Ok(Line::Complete(l))) => l,
            };
            let cmd = match command::parse(strip_line_end(&line)) {
                Ok(c) => c,
                Err(reply) => {
                    // A malformed address is often a relay attempt: the SOC sees it too.
                    if line.len() >= 4
                        && (line[..4].eq_ignore_ascii_case(b"MAIL") || line[..4].eq_ignore_ascii_case(b"RCPT"))
                    {
                        let shown: String = String::from_utf8_lossy(strip_line_end(&line)).chars().take(300).collect();
                        let reply_text = format!("{} {} {}", reply.code, reply.enhanced, reply.lines.join(" "));
                        self.log_refusal(
                            "command_refused",
                            &Reply::new(reply.code, reply.enhanced, format!("{shown} -> {reply_text}")),
                            None,
                            vec![],
                            None,
                        )
                        .await;
                    }
                    self.refuse("bad_command", reply);
                    continue;
                }
            };
            match cmd {
                Command::Quit => {
                    self.push(codes::bye(&self.ctx.settings.hostname));
                    self.flush(true).await?;
                    return Ok(Flow::Closed);
                }
                Command::StartTls => {
                    if let Some(end) = self.starttls().await? {
                        return Ok(end);
                    }
                }
                other => self.command(other).await?,
            }
        }
    }

    async fn starttls(&mut self) -> std::io::Result<Option<Flow>> {
        if self.peer.tls {
            self.refuse("bad_sequence", codes::bad_sequence("TLS already active"));
            return Ok(None);
        }
        if self.ctx.tls.is_none() {
            self.refuse("bad_command", Reply::new(454, "4.7.0", "TLS not available"));
            return Ok(None);
        }
        // Commands sent after STARTTLS in the same packet would be taken as if encrypted
        // (CVE-2011-0411): refuse the connection instead.
        if !self.io.buffer().is_empty() {
            self.ctx.metrics.refuse("starttls_injection");
            self.push(Reply::new(554, "5.5.0", "Commands after STARTTLS before the TLS handshake; closing"));
            self.flush(true).await?;
            return Ok(Some(Flow::Closed));
        }
        self.push(Reply::new(220, "2.0.0", "Ready to start TLS"));
        self.flush(true).await?;
        Ok(Some(Flow::StartTls))
    }

    async fn command(&mut self, cmd: Command) -> std::io::Result<()> {
        match cmd {
            Command::Helo(host) => {
                self.helo = Some(host);
                self.esmtp = false;
                self.tx = None;
                self.push(Reply::new(250, "", self.ctx.settings.hostname.clone()));
            }
            Command::Ehlo(host) => {
                self.helo = Some(host.clone());
                self.esmtp = true;
                self.tx = None;
                let mut lines = vec![format!("{} greets {host}", self.ctx.settings.hostname)];
                lines.extend(
                    ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING"].map(String::from),
                );
                lines.push(format!("SIZE {}", self.ctx.settings.max_message_bytes));
                if self.ctx.tls.is_some() && !self.peer.tls {
                    lines.push("STARTTLS".into());
                }
                self.push(Reply { code: 250, enhanced: "", lines });
            }
            Command::Mail(path, params) => self.mail(path, params).await,
            Command::Rcpt(path) => self.rcpt(path).await,
            Command::Data => self.data().await?,
            Command::Bdat { size, last } => self.bdat(size, last).await?,
            Command::Rset => {
                self.tx = None;
                self.push(codes::ok("Reset OK"));
            }
            Command::Noop => self.push(codes::ok("OK")),
            Command::Vrfy => {
                self.push(Reply::new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"))
            }
            Command::Expn => self.refuse("bad_command", codes::not_implemented("EXPN is not supported")),
            Command::Help => self.push(Reply::new(214, "2.0.0", "See RFC 5321")),
            Command::Quit | Command::StartTls => unreachable!("handled by serve"),
        }
        Ok(())
    }

    async fn mail(&mut self, path: Path, params: MailParams) {
        if self.helo.is_none() {
            return self.refuse("bad_sequence", codes::bad_sequence("Send HELO/EHLO first"));
        }
        if self.tx.is_some() {
            return self.refuse("bad_sequence", codes::bad_sequence("Nested MAIL command"));
        }
        if !self.esmtp && (params != MailParams::default()) {
            return self.refuse("bad_command", codes::param_not_implemented("Parameters need EHLO"));
        }
        if params.size.is_some_and(|s| s > self.ctx.settings.max_message_bytes) {
            return self.refuse("too_big", codes::too_big());
        }
        let policy = self.ctx.policy.load();
        let client_tenant = policy.sending_tenant(self.peer.ip);
        if let Err(reply) = policy.check_sender(client_tenant, &path) {
            let sender = path_text(&path);
            self.log_refusal("sender_refused", &reply, Some(&sender), vec![], client_tenant.map(str::to_string)).await;
            return self.refuse("sender_denied", reply);
        }
        let sender_text = path_text(&path);
        self.tx = Some(Transaction {
            sender_text,
            params,
            recipients: Vec::new(),
            chunks: Vec::new(),
            pending_cr: false,
            chunk_too_big: false,
            used_data: false,
        });
        self.push(codes::sender_ok());
    }

    async fn rcpt(&mut self, path: Path) {
        let Some(tx) = &self.tx else {
            return self.refuse("bad_sequence", codes::bad_sequence("Need MAIL before RCPT"));
        };
        if tx.recipients.len() >= self.ctx.settings.max_recipients {
            return self.refuse("too_many_recipients", codes::too_many_recipients());
        }
        if let Path::Mailbox { mailbox, .. } = &path
            && !mailbox.is_ascii()
            && !tx.params.smtputf8
        {
            return self.refuse("bad_address", codes::smtputf8_required());
        }
        let policy = self.ctx.policy.load();
        let client_tenant = policy.sending_tenant(self.peer.ip).map(str::to_string);
        let routed = match (&path, policy.postmaster()) {
            (Path::Postmaster, Some((address, route))) => Ok((address.clone(), route.clone())),
            _ => policy.route(client_tenant.as_deref(), &path).map(|r| (path_text(&path), r)),
        };
        match routed {
            Ok((_, Route::Relay { tenant, .. }))
                if client_tenant.is_none() && other_tenant_in(&tx.recipients, &tenant).is_some() =>
            {
                // Each municipality's policy decides on its own copy: the client sends the
                // others in a separate transaction, as RFC 5321 §4.5.3.1.10 asks of it after 452.
                self.refuse("other_tenant", codes::one_tenant_per_transaction());
            }
            Ok((address, route)) => {
                if let Some(tx) = &mut self.tx {
                    tx.recipients.push((address, route));
                }
                self.push(codes::recipient_ok());
            }
            Err(reply) => {
                let sender = self.tx.as_ref().map(|t| t.sender_text.clone());
                self.log_refusal("recipient_refused", &reply, sender.as_deref(), vec![path_text(&path)], client_tenant)
                    .await;
                self.refuse(if reply.code == 550 { "relay_denied" } else { "bad_address" }, reply);
            }
        }
    }

    async fn data(&mut self) -> std::io::Result<()> {
        match &self.tx {
            None => {
                self.refuse("bad_sequence", codes::bad_sequence("Need MAIL and RCPT before DATA"));
                return Ok(());
            }
            Some(tx) if tx.recipients.is_empty() => {
                self.refuse("bad_sequence", Reply::new(554, "5.5.1", "No valid recipients"));
                return Ok(());
            }
            Some(tx) if !tx.chunks.is_empty() || tx.params.body == Body::BinaryMime => {
                self.refuse("bad_sequence", codes::bad_sequence("DATA cannot follow BDAT or carry BINARYMIME"));
                return Ok(());
            }
            Some(_) => {}
        }
        self.push(Reply::new(354, "", "End data with <CR><LF>.<CR><LF>"));
        self.flush(true).await?;
        let max = self.ctx.settings.max_message_bytes;
        let outcome = match tokio::time::timeout(self.ctx.settings.data_timeout, read_data(&mut self.io, max)).await {
            Err(_) => {
                self.ctx.metrics.refuse("timeout");
                self.push(codes::timeout());
                self.flush(true).await?;
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "DATA timed out"));
            }
            Ok(r) => r?,
        };
        let text = match outcome {
            DataOutcome::Eof => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            DataOutcome::Message(text) => text,
            DataOutcome::Refused(problem) => {
                let (reason, reply) = match problem {
                    DataProblem::TooBig => ("too_big", codes::too_big()),
                    DataProblem::BareLineEnd => (
                        "smuggling",
                        codes::bad_data(
                            "Message refused: bare CR or LF in the text (SMTP smuggling protection); lines must end with CRLF",
                        ),
                    ),
                    DataProblem::LineTooLong => (
                        "line_too_long",
                        codes::bad_data("Message refused: a line is longer than 1000 octets (RFC 5321)"),
                    ),
                };
                self.end_refused(reason, reply).await;
                return Ok(());
            }
        };
        if let Some(tx) = &mut self.tx {
            tx.used_data = true;
        }
        self.accept(text).await;
        Ok(())
    }

    async fn bdat(&mut self, size: u64, last: bool) -> std::io::Result<()> {
        // The chunk is read whatever the reply, to stay in step with the client.
        let max = self.ctx.settings.max_message_bytes;
        // A chunk that cannot fit is read and thrown away as it comes, never held in memory.
        let held = self.tx.as_ref().map_or(0, |t| t.chunks.len() as u64);
        let fits = self.tx.as_ref().is_some_and(|t| !t.chunk_too_big) && held.saturating_add(size) <= max;
        let mut chunk = Vec::new();
        let mut limited = (&mut self.io).take(size);
        let read = async {
            if fits {
                limited.read_to_end(&mut chunk).await.map(|n| n as u64)
            } else {
                tokio::io::copy(&mut limited, &mut tokio::io::sink()).await
            }
        };
        match tokio::time::timeout(self.ctx.settings.data_timeout, read).await {
            Err(_) => return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "BDAT timed out")),
            Ok(r) => {
                if r? != size {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
        }
        if !fits && let Some(tx) = &mut self.tx {
            tx.chunk_too_big = true;
            tx.chunks = Vec::new();
        }
        let Some(tx) = &mut self.tx else {
            self.refuse("bad_sequence", codes::bad_sequence("Need MAIL and RCPT before BDAT"));
            return Ok(());
        };
        if tx.recipients.is_empty() {
            self.refuse("bad_sequence", Reply::new(554, "5.5.1", "No valid recipients"));
            return Ok(());
        }
        if tx.used_data {
            self.refuse("bad_sequence", codes::bad_sequence("BDAT cannot follow DATA"));
            return Ok(());
        }
        if !tx.chunk_too_big {
            normalise_line_ends(&chunk, &mut tx.chunks, &mut tx.pending_cr);
            if tx.chunks.len() as u64 > max {
                tx.chunk_too_big = true;
                tx.chunks = Vec::new();
            }
        }
        if !last {
            self.push(Reply::new(250, "2.0.0", format!("{size} octets received")));
            return Ok(());
        }
        if tx.chunk_too_big {
            self.end_refused("too_big", codes::too_big()).await;
            return Ok(());
        }
        if tx.pending_cr {
            tx.chunks.extend_from_slice(b"\r\n");
        }
        let text = std::mem::take(&mut tx.chunks);
        self.accept(text).await;
        Ok(())
    }

    /// Ends the transaction with a refusal of the message.
    async fn end_refused(&mut self, reason: &'static str, reply: Reply) {
        if let Some(tx) = self.tx.take() {
            let to = tx.recipients.iter().map(|(a, _)| a.clone()).collect();
            let tenant = self.tenant_of(&tx);
            self.log_refusal("message_refused", &reply, Some(&tx.sender_text), to, tenant).await;
        }
        self.refuse(reason, reply);
    }

    fn tenant_of(&self, tx: &Transaction) -> Option<String> {
        let policy = self.ctx.policy.load();
        policy.sending_tenant(self.peer.ip).map(str::to_string).or_else(|| {
            tx.recipients.iter().find_map(|(_, r)| match r {
                Route::Relay { tenant, .. } => Some(tenant.clone()),
                Route::Mx { .. } => None,
            })
        })
    }

    /// Puts the message into the queue; `250` only once it is on disk.
    async fn accept(&mut self, text: Vec<u8>) {
        let Some(tx) = self.tx.take() else { return };
        if count_received(&text) > MAX_HOPS {
            let reply = Reply::new(554, "5.4.6", "Routing loop detected: too many Received headers");
            self.tx = Some(tx);
            return self.end_refused("loop", reply).await;
        }
        let id = crate::queue::QueueStore::new_id();
        let helo = self.helo.clone().unwrap_or_default();
        // SPF and DKIM judge mail from the internet; a tenant's own network is known by address.
        let from_tenant = self.ctx.policy.load().sending_tenant(self.peer.ip).is_some();
        let auth = match (&self.ctx.auth, from_tenant) {
            (Some(checker), false) => Some(checker.check(self.peer.ip, &helo, &tx.sender_text, &text).await),
            _ => None,
        };
        let tenant = self.tenant_of(&tx);
        let dmarc = auth.as_ref().and_then(|a| a.dmarc);
        // Spam is judged on mail from the internet; a tenant's own users are known by address.
        let spam = match (&self.ctx.spam, from_tenant) {
            (Some(filter), false) => {
                let policy = self.ctx.policy.load();
                let content = policy.content(tenant.as_deref()).clone();
                drop(policy);
                Some(filter.check(&text, self.peer.ip, &tx.sender_text, auth.as_ref(), &content).await)
            }
            _ => None,
        };
        let spam_score = spam.as_ref().map(|s| s.score);
        let (text, inspection) = match crate::content::inspect(self.ctx, text, tenant.as_deref(), dmarc, spam).await {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "cannot check a message");
                self.tx = Some(tx);
                let reply = codes::local_error("Local error in processing: the message could not be scanned");
                return self.end_refused("scan_error", reply).await;
            }
        };
        for alert in inspection.alerts {
            self.ctx.log.record(alert).await;
        }
        let decision = inspection.decision;
        let trace = trace_headers(
            &self.ctx.settings.hostname,
            &id,
            &helo,
            &self.peer,
            self.esmtp,
            auth.as_ref(),
            &tx.recipients,
        );
        // The original, before any tag, for the tenant's archive of inbound mail.
        let archive = match &decision {
            Decision::Reject { .. } => None,
            _ if direction(&tx.recipients) != "inbound" => None,
            _ => crate::archive::copy(
                &self.ctx.policy.load(),
                tenant.as_deref(),
                &id,
                &tx.sender_text,
                &tx.recipients,
                &[trace.as_slice(), &text].concat(),
            ),
        };
        // An aggregate report for one of the tenant's DMARC records: its rows as events too.
        if !matches!(decision, Decision::Reject { .. })
            && self.ctx.policy.load().is_dmarc_report(tenant.as_deref(), &tx.recipients)
        {
            crate::dmarc::aggregate::receive(self.ctx, tenant.as_deref(), &text).await;
        }
        let text = match &decision {
            Decision::Tag { .. } => {
                let tag = self.ctx.policy.load().content(tenant.as_deref()).subject_tag.clone();
                crate::content::tag::tag_subject(&text, &tag)
            }
            _ => text,
        };
        // Outbound mail of a tenant is signed as it will leave (after any tag).
        let signature = match (&decision, tenant.as_deref()) {
            (Decision::Deliver | Decision::Tag { .. }, Some(t)) if from_tenant && has_mx(&tx.recipients) => {
                self.ctx.dkim.sign(t, &text)
            }
            _ => None,
        };
        let mut stored = trace;
        if let Decision::Tag { reasons } | Decision::Quarantine { reasons, .. } = &decision {
            stored.extend_from_slice(verdict_header(decision.action(), reasons).as_bytes());
        }
        match signature {
            Some(Ok(header)) => stored.extend_from_slice(header.as_bytes()),
            Some(Err(e)) => tracing::warn!(error = %e, "outbound message not DKIM-signed"),
            None => {}
        }
        stored.extend_from_slice(&text);
        let facts = crate::message::facts(&text);
        let envelope = crate::queue::new_envelope(crate::queue::NewMessage {
            id: id.clone(),
            sender: tx.sender_text.clone(),
            client_ip: Some(self.peer.ip),
            helo: helo.clone(),
            tenant: tenant.clone(),
            message_id: facts.message_id.clone(),
            subject: facts.subject.clone(),
            size: stored.len() as u64,
            eight_bit: tx.params.body != Body::SevenBit || !text.is_ascii(),
            smtputf8: tx.params.smtputf8,
            recipients: tx.recipients.clone(),
        });
        let to: Vec<String> = tx.recipients.iter().map(|(a, _)| a.clone()).collect();
        let reasons = match &decision {
            Decision::Deliver => Vec::new(),
            Decision::Tag { reasons } | Decision::Quarantine { reasons, .. } | Decision::Reject { reasons, .. } => {
                reasons.clone()
            }
        };
        let mut f = MailFacts {
            tenant: tenant.as_deref(),
            client_ip: Some(self.peer.ip),
            helo: Some(&helo),
            from: Some(&tx.sender_text),
            to,
            message_id: facts.message_id.as_deref(),
            subject: facts.subject.as_deref(),
            queue_id: None,
            spf: auth.as_ref().map(|s| s.result),
            dkim: auth.as_ref().map(|s| s.dkim.clone()).unwrap_or_default(),
            dmarc,
            direction: Some(direction(&tx.recipients)),
            tls: self.peer.tls,
            verdict: (self.ctx.scanner.is_some() || dmarc.is_some() || spam_score.is_some()).then(|| decision.action()),
            spam_score,
            reasons,
            threats: inspection.threats,
        };
        match decision {
            Decision::Reject { cause, reasons } => {
                let reply = reject_reply(cause, &reasons);
                let text = format!("{} {} {}", reply.code, reply.enhanced, reply.lines.join(" "));
                self.ctx.log.record(mail_event("mail.smtp", "message_refused", "failure", text, &f)).await;
                self.refuse(cause.as_str(), reply);
            }
            Decision::Quarantine { cause, reasons } => {
                let now = jiff::Timestamp::now();
                let days = self.ctx.policy.load().content(tenant.as_deref()).quarantine_days;
                let record = crate::quarantine::Record {
                    id: id.clone(),
                    quarantined_at: now,
                    expires_at: now + jiff::SignedDuration::from_hours(24 * i64::from(days)),
                    tenant: tenant.clone(),
                    cause,
                    reasons,
                    envelope,
                };
                match crate::quarantine::hold::hold(self.ctx, record, stored, archive).await {
                    Ok(notices) => {
                        self.ctx.metrics.quarantined.inc();
                        f.queue_id = Some(&id);
                        let text = format!("quarantined as {id} ({}); {notices} notice(s) queued", cause.as_str());
                        self.ctx.log.record(mail_event("mail.smtp", "quarantined", "success", text, &f)).await;
                        // The sender learns nothing it could use to probe the scanner.
                        self.push(Reply::new(250, "2.0.0", format!("Ok: queued as {id}")));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot quarantine a message");
                        let text = format!("not quarantined: {e}");
                        self.ctx.log.record(mail_event("mail.smtp", "quarantine_failed", "failure", text, &f)).await;
                        self.refuse(
                            "queue_error",
                            codes::local_error("Local error in processing: cannot store the message"),
                        );
                    }
                }
            }
            Decision::Deliver | Decision::Tag { .. } => self.enqueue(&id, envelope, stored, archive, f).await,
        }
    }

    /// Queues an accepted message; `250` only once it is on disk.
    /// The archive copy, when there is one, is queued first: `250` means both are on disk.
    async fn enqueue(
        &mut self,
        id: &str,
        envelope: crate::queue::Envelope,
        stored: Vec<u8>,
        archive: Option<(crate::queue::Envelope, Vec<u8>)>,
        mut f: MailFacts<'_>,
    ) {
        let queue = self.ctx.queue.clone();
        let stored_result = tokio::task::spawn_blocking(move || {
            if let Some((env, text)) = &archive {
                queue.insert(env, text)?;
            }
            queue.insert(&envelope, &stored)
        })
        .await;
        match stored_result {
            Ok(Ok(())) => {
                self.ctx.metrics.accepted.inc();
                f.queue_id = Some(id);
                let event = mail_event("mail.smtp", "accepted", "success", format!("accepted as {id}"), &f);
                self.ctx.log.record(event).await;
                self.ctx.queued.notify_one();
                self.push(Reply::new(250, "2.0.0", format!("Ok: queued as {id}")));
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot queue a message");
                let reply = if e.to_string().contains("No space") {
                    codes::storage_full()
                } else {
                    codes::local_error("Local error in processing: cannot queue the message")
                };
                let event = mail_event("mail.smtp", "queue_failed", "failure", format!("not queued: {e}"), &f);
                self.ctx.log.record(event).await;
                self.refuse("queue_error", reply);
            }
            Err(e) => {
                tracing::error!(error = %e, "the queue writer failed");
                self.refuse("queue_error", codes::local_error("Local error in processing"));
            }
        }
    }

    async fn log_refusal(
        &self,
        action: &str,
        reply: &Reply,
        from: Option<&str>,
        to: Vec<String>,
        tenant: Option<String>,
    ) {
        let facts = MailFacts {
            tenant: tenant.as_deref(),
            client_ip: Some(self.peer.ip),
            helo: self.helo.as_deref(),
            from,
            to,
            tls: self.peer.tls,
            ..Default::default()
        };
        let text = format!("{} {} {}", reply.code, reply.enhanced, reply.lines.join(" "));
        self.ctx.log.record(mail_event("mail.smtp", action, "failure", text, &facts)).await;
    }
}

/// The tenant of an inbound recipient already in the transaction that is not `tenant`.
fn other_tenant_in<'a>(recipients: &'a [(String, Route)], tenant: &str) -> Option<&'a str> {
    recipients.iter().find_map(|(_, r)| match r {
        Route::Relay { tenant: t, .. } if t != tenant => Some(t.as_str()),
        _ => None,
    })
}

fn has_mx(recipients: &[(String, Route)]) -> bool {
    recipients.iter().any(|(_, r)| matches!(r, Route::Mx { .. }))
}

fn direction(recipients: &[(String, Route)]) -> &'static str {
    if recipients.iter().all(|(_, r)| matches!(r, Route::Relay { .. })) { "inbound" } else { "outbound" }
}

fn path_text(path: &Path) -> String {
    match path {
        Path::Null => String::new(),
        Path::Postmaster => "postmaster".into(),
        Path::Mailbox { mailbox, .. } => mailbox.to_string(),
    }
}

/// `Received:` (RFC 5321 §4.4) and `Authentication-Results:` (RFC 8601) for the stored copy.
fn trace_headers(
    hostname: &str,
    id: &str,
    helo: &str,
    peer: &Peer,
    esmtp: bool,
    spf: Option<&AuthVerdict>,
    recipients: &[(String, Route)],
) -> Vec<u8> {
    let protocol = match (esmtp, peer.tls) {
        (true, true) => "ESMTPS",
        (true, false) => "ESMTP",
        (false, _) => "SMTP",
    };
    let helo: String = helo.chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    let for_clause = match recipients {
        [(one, _)] => format!("\r\n\tfor <{one}>"),
        _ => String::new(),
    };
    let date = jiff::Zoned::now().strftime("%a, %d %b %Y %H:%M:%S %z");
    let mut out = String::new();
    if let Some(spf) = spf {
        out.push_str(&spf.header);
    }
    out.push_str(&format!(
        "Received: from {helo} ([{}])\r\n\tby {hostname} (mamori) with {protocol} id {id}{for_clause};\r\n\t{date}\r\n",
        peer.ip
    ));
    out.into_bytes()
}

/// The refusal of a message the tenant's policy rejects. Reply text is ASCII (RFC 5321), so
/// findings with other characters (Japanese file names) are shortened to what can be said.
fn reject_reply(cause: Cause, reasons: &[String]) -> Reply {
    let detail: String =
        reasons.join("; ").chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).take(200).collect();
    match cause {
        Cause::Virus => Reply::new(554, "5.7.1", format!("Message refused: malware found ({detail})")),
        Cause::Suspicious => Reply::new(554, "5.7.1", format!("Message refused: suspicious content ({detail})")),
        Cause::Spam => Reply::new(550, "5.7.1", format!("Message refused as spam ({detail})")),
        Cause::Advertising => Reply::new(550, "5.7.1", "Message refused: unsolicited advertising"),
        Cause::Dmarc => {
            Reply::new(550, "5.7.1", format!("Message refused: DMARC policy of the author domain ({detail})"))
        }
    }
}

/// `X-Mamori-Verdict:` for the stored copy, so that the recipient's administrator sees why a
/// message was tagged; non-ASCII findings go into one RFC 2047 word.
fn verdict_header(action: &str, reasons: &[String]) -> String {
    let value: String =
        format!("{action}; {}", reasons.join("; ")).chars().filter(|c| !c.is_control()).take(900).collect();
    let value = if value.is_ascii() { value } else { crate::mime_text::encode_word(&value) };
    format!("X-Mamori-Verdict: {value}\r\n")
}

fn count_received(text: &[u8]) -> usize {
    let header_end = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(text.len());
    text[..header_end]
        .split(|&b| b == b'\n')
        .filter(|l| l.len() >= 9 && l[..9].eq_ignore_ascii_case(b"received:"))
        .count()
}

//! The delivery worker: picks due messages from the queue, delivers each recipient to its next
//! hop or MX host, retries with backoff (RFC 5321 §4.5.4.1), gives up after the configured
//! time, and returns failures to the sender as a DSN. Delivery state is saved after every
//! attempt, so a restart continues where it stopped. A crash between the next hop's `250` and
//! that save delivers the message again: at least once, never lost.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::client::{Answer, Client, HostResult, Job};
use super::mx::{LookupError, MxResolver, Target};
use crate::context::MailContext;
use crate::events::{MailFacts, mail_event};
use crate::policy::Route;
use crate::queue::{Envelope, Status};

/// How the worker retries.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Waits before each retry; the last repeats.
    pub retry: Vec<Duration>,
    pub give_up: Duration,
    /// Port of MX hosts (25).
    pub mx_port: u16,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// Messages delivered at the same time.
    pub concurrency: usize,
    /// How often the queue is looked at when nothing wakes the worker.
    pub scan_interval: Duration,
    /// When the sender is told that a message is delayed; `None`: never.
    pub delay_warning: Option<Duration>,
}

impl DeliverySettings {
    pub fn from_config(c: &mamori_core::config::mail::MailConfig) -> DeliverySettings {
        DeliverySettings {
            retry: c.retry_minutes.iter().map(|m| Duration::from_secs(m * 60)).collect(),
            give_up: Duration::from_secs(c.give_up_hours * 3600),
            mx_port: c.delivery_port,
            connect_timeout: Duration::from_secs(30),
            // RFC 5321 §4.5.3.2 asks for minutes; 2 keeps a stuck host from holding a slot long.
            command_timeout: Duration::from_secs(120),
            concurrency: 16,
            scan_interval: Duration::from_secs(5),
            delay_warning: (c.delay_warning_hours > 0).then(|| Duration::from_secs(c.delay_warning_hours * 3600)),
        }
    }
}

pub struct Worker {
    ctx: Arc<MailContext>,
    settings: DeliverySettings,
    resolver: MxResolver,
    client: Client,
    in_flight: Mutex<HashSet<String>>,
}

impl Worker {
    pub fn new(ctx: Arc<MailContext>, settings: DeliverySettings, resolver: MxResolver) -> Arc<Worker> {
        let client = Client {
            tls: crate::tls::opportunistic_client(),
            connect_timeout: settings.connect_timeout,
            command_timeout: settings.command_timeout,
        };
        Arc::new(Worker { ctx, settings, resolver, client, in_flight: Mutex::new(HashSet::new()) })
    }

    /// Runs until shutdown; deliveries under way finish their current attempt.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> std::io::Result<()> {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        loop {
            let queue = self.ctx.queue.clone();
            let scan = tokio::task::spawn_blocking(move || {
                let flush = queue.take_flush();
                let ids = queue.ids().unwrap_or_default();
                let items: Vec<(Envelope, bool)> =
                    ids.iter().filter_map(|id| queue.load(id).ok().map(|e| (e, queue.is_held(id)))).collect();
                (flush, items)
            })
            .await;
            let (flush, items) = scan.unwrap_or_default();
            let now = Timestamp::now();
            for (mut env, held) in items {
                if held || env.is_done() {
                    continue;
                }
                if flush {
                    env.recipients.iter_mut().for_each(|r| r.next_attempt = None);
                }
                if env.next_due().is_none_or(|due| due > now) {
                    continue;
                }
                if !self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(env.id.clone()) {
                    continue;
                }
                let Ok(permit) = slots.clone().acquire_owned().await else { break };
                let me = self.clone();
                tokio::spawn(async move {
                    let id = env.id.clone();
                    me.attempt(env).await;
                    me.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                    drop(permit);
                });
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = self.ctx.queued.notified() => {}
                _ = tokio::time::sleep(self.settings.scan_interval) => {}
            }
        }
    }

    /// One attempt for every due recipient of a message.
    async fn attempt(&self, mut env: Envelope) {
        let queue = self.ctx.queue.clone();
        let id = env.id.clone();
        let text = match tokio::task::spawn_blocking(move || queue.text(&id)).await {
            Ok(Ok(t)) => t,
            other => {
                tracing::error!(id = %env.id, result = ?other.err(), "queued message text unreadable");
                return;
            }
        };
        let now = Timestamp::now();
        let mut groups: BTreeMap<String, (Route, Vec<usize>)> = BTreeMap::new();
        for (i, r) in env.recipients.iter().enumerate() {
            if r.status == Status::Pending && r.next_attempt.is_none_or(|t| t <= now) {
                let key = serde_json::to_string(&r.route).unwrap_or_default();
                groups.entry(key).or_insert_with(|| (r.route.clone(), Vec::new())).1.push(i);
            }
        }
        for (_, (route, indexes)) in groups {
            self.deliver_group(&mut env, &route, &indexes, &text).await;
        }
        self.finish(env, &text).await;
    }

    async fn deliver_group(&self, env: &mut Envelope, route: &Route, indexes: &[usize], text: &[u8]) {
        let targets = match route {
            Route::Relay { host, port, .. } => self.resolver.host_targets(host, *port).await,
            Route::Mx { domain } => self.resolver.mx_targets(domain, self.settings.mx_port).await,
        };
        let targets: Vec<Target> = match targets {
            Ok(t) => t,
            Err(LookupError::Permanent(why)) => {
                for &i in indexes {
                    self.settle(env, i, &Answer { code: 550, text: why.clone() }, None, false).await;
                }
                return;
            }
            Err(LookupError::Temporary(why)) => {
                for &i in indexes {
                    self.settle(env, i, &Answer { code: 451, text: why.clone() }, None, false).await;
                }
                return;
            }
        };
        let recipients: Vec<String> = indexes.iter().map(|&i| env.recipients[i].address.clone()).collect();
        let job = Job {
            helo: &self.ctx.settings.hostname,
            sender: &env.sender,
            recipients: &recipients,
            text,
            eight_bit: env.eight_bit,
            smtputf8: env.smtputf8,
        };
        let mut last = Answer { code: 451, text: "4.4.0 no host to deliver to".into() };
        let mut last_host = None;
        for target in &targets {
            match self.client.deliver(target.addr, &target.name, &job).await {
                HostResult::Unusable(a) => {
                    tracing::info!(id = %env.id, host = %target.addr, answer = %a, "mail host unusable, trying the next");
                    last = a;
                    last_host = Some(target.name.clone());
                }
                HostResult::Answered { tls, answers } => {
                    for (&i, a) in indexes.iter().zip(&answers) {
                        self.settle(env, i, a, Some(&target.name), tls).await;
                    }
                    return;
                }
            }
        }
        for &i in indexes {
            self.settle(env, i, &last, last_host.as_deref(), false).await;
        }
    }

    /// Records one recipient's answer: delivered, failed, or deferred with backoff.
    async fn settle(&self, env: &mut Envelope, i: usize, answer: &Answer, host: Option<&str>, tls: bool) {
        let expired = Timestamp::now().duration_since(env.received_at).unsigned_abs() >= self.settings.give_up;
        let r = &mut env.recipients[i];
        r.attempts += 1;
        r.last_result = Some(answer.to_string());
        r.remote = host.map(str::to_string);
        let action = if answer.is_ok() {
            r.status = Status::Delivered;
            r.next_attempt = None;
            "delivered"
        } else if answer.is_permanent() {
            r.status = Status::Failed;
            r.dsn_status = Some(answer.status());
            "failed"
        } else if expired {
            r.status = Status::Failed;
            r.dsn_status = Some("4.4.7".into());
            r.last_result = Some(format!("4.4.7 delivery time expired; last answer: {answer}"));
            "expired"
        } else {
            let step = (r.attempts as usize).saturating_sub(1).min(self.settings.retry.len().saturating_sub(1));
            let wait = self.settings.retry.get(step).copied().unwrap_or(Duration::from_secs(600));
            r.next_attempt = Some(
                Timestamp::now() + jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::from_secs(600)),
            );
            "deferred"
        };
        self.ctx.metrics.delivery(action);
        let r = &env.recipients[i];
        let facts = MailFacts {
            tenant: env.tenant.as_deref(),
            client_ip: env.client_ip,
            from: Some(&env.sender),
            to: vec![r.address.clone()],
            message_id: env.message_id.as_deref(),
            subject: env.subject.as_deref(),
            queue_id: Some(&env.id),
            tls,
            ..Default::default()
        };
        let outcome = if action == "delivered" { "success" } else { "failure" };
        let message = format!("{action} to {} via {}: {answer}", r.address, host.unwrap_or("-"));
        self.ctx.log.record(mail_event("mail.delivery", action, outcome, message, &facts)).await;
    }

    /// Saves the state; when nothing is pending, sends the DSN for failures and removes the
    /// message; when delivery has taken long, tells the sender once.
    async fn finish(&self, mut env: Envelope, text: &[u8]) {
        let queue = self.ctx.queue.clone();
        let done = env.is_done();
        let dsn = if done {
            self.dsn(&env, text, super::dsn::Action::Failed)
        } else if self.delay_due(&env) {
            env.delay_warned = true;
            self.dsn(&env, text, super::dsn::Action::Delayed { until: env.received_at + self.give_up_span() })
        } else {
            None
        };
        let wake = done || dsn.is_some();
        let result = tokio::task::spawn_blocking(move || -> Result<(), crate::queue::QueueError> {
            if let Some((dsn_env, dsn_text)) = dsn {
                queue.insert(&dsn_env, &dsn_text)?;
            }
            if done { queue.remove(&env.id) } else { queue.save(&env) }
        })
        .await;
        match result {
            Ok(Ok(())) => {
                if wake {
                    self.ctx.queued.notify_one();
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot save delivery state"),
            Err(e) => tracing::error!(error = %e, "the queue writer failed"),
        }
    }

    fn give_up_span(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.settings.give_up).unwrap_or(jiff::SignedDuration::from_hours(120))
    }

    /// A message still pending after the warning time, tried at least once, not yet warned.
    fn delay_due(&self, env: &Envelope) -> bool {
        let Some(after) = self.settings.delay_warning else { return false };
        !env.delay_warned
            && !env.sender.is_empty()
            && env.pending().any(|r| r.attempts > 0)
            && Timestamp::now().duration_since(env.received_at).unsigned_abs() >= after
    }

    /// The DSN for failed (or, for a delay notice, still pending) recipients, as a new queued
    /// message from `<>`.
    fn dsn(&self, env: &Envelope, text: &[u8], action: super::dsn::Action) -> Option<(Envelope, Vec<u8>)> {
        let wanted = match action {
            super::dsn::Action::Failed => Status::Failed,
            super::dsn::Action::Delayed { .. } => Status::Pending,
        };
        let failed: Vec<_> = env.recipients.iter().filter(|r| r.status == wanted).collect();
        if failed.is_empty() || env.sender.is_empty() {
            return None;
        }
        let body = super::dsn::build(&self.ctx.settings.hostname, env, &failed, text, action);
        let policy = self.ctx.policy.load();
        match crate::own_mail::envelope_to(&policy, &self.ctx.settings.hostname, env.tenant.clone(), &env.sender, &body)
        {
            Ok(dsn) => Some((dsn, body)),
            Err(reason) => {
                tracing::warn!(id = %env.id, sender = %env.sender, %reason, "no DSN");
                None
            }
        }
    }
}

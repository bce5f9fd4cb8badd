//! Which tenant an event belongs to, by the address that sent it, and the alarm raised when
//! nobody claims a sender: its events are kept under `unassigned`, never dropped, and the SOC is
//! told once per sender per hour so the sender gets registered.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use mamori_core::event::{Endpoint, UNASSIGNED};
use mamori_core::sink::EncodedEvents;
use mamori_core::{Event, TenantDirectory};

use super::{CollectContext, CollectPolicy};
use crate::metrics::{Transport, metrics};
use crate::tags;

/// How often the same unassigned sender raises an alarm.
const ALARM_INTERVAL: SignedDuration = SignedDuration::from_hours(1);
/// Senders remembered for the interval; past this, expired entries are dropped (and if a flood
/// of distinct senders still fills it, memory wins over de-duplication).
const MAX_REMEMBERED: usize = 65_536;

/// Sets `organization.id` from the sender address: a `[[collect.senders]]` entry first, then
/// the tenants' networks. An unknown sender gets `unassigned` and the `_unassigned_sender` tag.
/// Returns whether a tenant was found.
pub fn attribute(event: &mut Event, sender: IpAddr, directory: &TenantDirectory) -> bool {
    // A dual-stack listener reports IPv4 senders as ::ffff:a.b.c.d.
    match directory.tenant_of_log_sender(sender.to_canonical()) {
        Some(tenant) => {
            event.set_tenant(&tenant.id);
            true
        }
        None => {
            event.set_tenant(UNASSIGNED);
            event.add_tag(tags::UNASSIGNED_SENDER);
            false
        }
    }
}

/// The alarm for an unassigned sender, in Japanese and English.
pub fn alarm_event(sender: IpAddr, now: Timestamp) -> Event {
    let sender = sender.to_canonical();
    let mut event = Event::new(now, "mamori.alarm");
    event.event.kind = Some("alert".into());
    event.event.action = Some("unassigned_sender".into());
    event.event.module = Some("collect".into());
    event.event.category = vec!["configuration".into()];
    event.set_tenant(UNASSIGNED);
    event.source = Some(Endpoint { ip: Some(sender), ..Default::default() });
    event.message = Some(format!(
        "未登録の送信元 {sender} からログを受信しました。どの構成団体にも割り当てられていないため \
         unassigned に保存しています。送信元を構成団体のネットワークか [[collect.senders]] に登録して\
         ください。 / Logs received from unregistered sender {sender}: not attributed to any \
         tenant, stored under 'unassigned'. Add the sender to a tenant's networks or to \
         [[collect.senders]]."
    ));
    event
}

/// When each unassigned sender last raised an alarm.
#[derive(Debug, Default)]
pub(super) struct UnassignedAlarms {
    last: Mutex<HashMap<IpAddr, Timestamp>>,
}

impl UnassignedAlarms {
    /// Whether `sender` should raise an alarm now; records it if so.
    fn should_alarm(&self, sender: IpAddr, now: Timestamp) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let recent = |at: &Timestamp| now.duration_since(*at) < ALARM_INTERVAL;
        if last.get(&sender).is_some_and(recent) {
            return false;
        }
        if last.len() >= MAX_REMEMBERED {
            last.retain(|_, at| recent(at));
            if last.len() >= MAX_REMEMBERED {
                last.clear();
            }
        }
        last.insert(sender, now);
        true
    }
}

impl CollectContext {
    /// The tenant of `sender` for the records of a batch written directly as JSON, and whether
    /// the sender is unassigned. The first time in an hour that a sender is unassigned, its
    /// alarm goes into `out` first.
    pub(crate) fn tenant_of_sender<'p>(
        &self,
        policy: &'p CollectPolicy,
        transport: Transport,
        sender: IpAddr,
        now: Timestamp,
        out: &mut EncodedEvents,
    ) -> (&'p str, bool) {
        let sender = sender.to_canonical();
        if let Some(tenant) = policy.directory.tenant_of_log_sender(sender) {
            return (&tenant.id, false);
        }
        if self.alarms.should_alarm(sender, now) {
            tracing::warn!(%sender, transport = transport.as_str(), "logs from an unassigned sender");
            metrics().unassigned_alarms.inc();
            let mut alarm = alarm_event(sender, now);
            alarm.stamp_ingestion(now);
            out.push_event(&alarm);
        }
        (UNASSIGNED, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alarm_per_sender_per_hour() {
        let alarms = UnassignedAlarms::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(alarms.should_alarm(ip, t0));
        assert!(!alarms.should_alarm(ip, t0 + SignedDuration::from_mins(59)));
        assert!(alarms.should_alarm("192.0.2.8".parse().unwrap(), t0));
        assert!(alarms.should_alarm(ip, t0 + SignedDuration::from_mins(61)));
    }

    #[test]
    fn unknown_sender_is_unassigned_and_tagged() {
        let dir = TenantDirectory::default();
        let mut e = Event::new(Timestamp::UNIX_EPOCH, "syslog");
        assert!(!attribute(&mut e, "10.0.0.1".parse().unwrap(), &dir));
        assert_eq!(e.tenant(), UNASSIGNED);
        assert!(e.tags.contains(&tags::UNASSIGNED_SENDER.to_string()));
    }

    #[test]
    fn alarm_names_the_sender_in_both_languages() {
        let e = alarm_event("::ffff:192.0.2.9".parse().unwrap(), Timestamp::UNIX_EPOCH);
        let msg = e.message.unwrap();
        assert!(msg.contains("未登録の送信元 192.0.2.9"));
        assert!(msg.contains("unregistered sender 192.0.2.9"));
        assert_eq!(e.event.kind.as_deref(), Some("alert"));
        assert_eq!(e.event.dataset.as_deref(), Some("mamori.alarm"));
    }
}

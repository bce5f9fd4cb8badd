//! Field mapping pipelines: where a rule's log source is found among mamori's events, and which
//! event field each Sigma field name reads.
//!
//! Windows: the THOR-format log source map (`pipelines/windows.yml`, from SigmaHQ's
//! `tests/thor.yml`) gives, per category, the event IDs, extra conditions, the service and its
//! field renames, and per service the channels. Fields land under `winlog.*` as Winlogbeat
//! writes them. mamori's own events (proxy, DNS, mail, WAF, firewall) are found by
//! `event.dataset` and their Sigma field names map to ECS.

use serde_norway::{Mapping, Value};

use crate::error::CompileError;
use crate::event::FieldPath;
use crate::rule::{LogSource, scalar_text, string_field};

/// The built-in Windows log source map.
pub const WINDOWS_PIPELINE: &str = include_str!("../pipelines/windows.yml");

/// Where a rule variant's events are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Windows events of these channels (any channel when empty) and event IDs (any when empty).
    Windows { channels: Vec<String>, event_ids: Vec<u64> },
    /// mamori events whose `event.dataset` is one of these or below one (`dns` takes `dns.query`).
    Datasets(Vec<String>),
}

/// One way a rule's log source is found: scope, extra conditions and field renames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scope: Scope,
    /// Sigma field conditions the log source adds (`EventType: CreateKey`).
    pub conditions: Vec<(String, String)>,
    /// Sigma field → field of this source (`Image` → `NewProcessName` in Security 4688).
    pub renames: Vec<(String, String)>,
}

impl Target {
    /// The event field path a Sigma field name reads.
    pub fn field_path(&self, sigma: &str) -> FieldPath {
        let name = self.renames.iter().find(|(from, _)| from == sigma).map_or(sigma, |(_, to)| to.as_str());
        match &self.scope {
            Scope::Windows { .. } => FieldPath::new(&windows_field(name)),
            Scope::Datasets(datasets) => FieldPath::new(ecs_field(datasets, name)),
        }
    }
}

/// Resolves log sources to targets.
#[derive(Debug, Clone)]
pub struct Pipeline {
    entries: Vec<Entry>,
}

/// One entry of the THOR-format map.
#[derive(Debug, Clone, Default)]
struct Entry {
    category: Option<String>,
    product: Option<String>,
    service: Option<String>,
    conditions: Vec<(String, Vec<String>)>,
    rewrite_service: Option<String>,
    renames: Vec<(String, String)>,
    channels: Vec<String>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline::from_yaml(WINDOWS_PIPELINE).expect("the built-in Windows pipeline is valid")
    }
}

impl Pipeline {
    /// Reads a THOR-format log source map (`logsources: {name: {category, product, service,
    /// conditions, rewrite, fieldmappings, sources}}`).
    pub fn from_yaml(text: &str) -> Result<Pipeline, CompileError> {
        let doc: Value = serde_norway::from_str(text).map_err(|e| CompileError::Yaml(e.to_string()))?;
        let Some(Value::Mapping(sources)) = doc.get("logsources") else {
            return Err(CompileError::Missing("logsources"));
        };
        let mut entries = Vec::new();
        for (name, v) in sources {
            let Value::Mapping(m) = v else { continue };
            entries.push(parse_entry(m).map_err(|e| {
                CompileError::Invalid(format!("log source {}: {e}", scalar_text(name).unwrap_or_default()))
            })?);
        }
        Ok(Pipeline { entries })
    }

    /// The targets of a log source; empty when mamori has no such events (the reason says why).
    pub fn resolve(&self, ls: &LogSource) -> Result<Vec<Target>, String> {
        let product = ls.product.as_deref();
        if let Some(category) = ls.category.as_deref() {
            let found: Vec<&Entry> = self
                .entries
                .iter()
                .filter(|e| e.category.as_deref() == Some(category))
                .filter(|e| product.is_none() || e.product.is_none() || e.product.as_deref() == product)
                .collect();
            if !found.is_empty() {
                return Ok(merge(found.into_iter().map(|e| self.windows_target(e, ls)).collect()));
            }
            if let Some(t) = dataset_target(category) {
                return Ok(vec![t]);
            }
            return Err(format!("no mapping for category '{category}'"));
        }
        match (product, ls.service.as_deref()) {
            (Some("windows"), Some(service)) => {
                let channels = self.channels(service);
                if channels.is_empty() {
                    return Err(format!("no channel for Windows service '{service}'"));
                }
                Ok(vec![Target {
                    scope: Scope::Windows { channels, event_ids: Vec::new() },
                    conditions: Vec::new(),
                    renames: Vec::new(),
                }])
            }
            (Some("windows"), None) => Ok(vec![Target {
                scope: Scope::Windows { channels: Vec::new(), event_ids: Vec::new() },
                conditions: Vec::new(),
                renames: Vec::new(),
            }]),
            (p, s) => Err(format!("no mapping for product '{}' service '{}'", p.unwrap_or("-"), s.unwrap_or("-"))),
        }
    }

    fn channels(&self, service: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.service.as_deref() == Some(service) && e.category.is_none())
            .flat_map(|e| e.channels.iter().cloned())
            .collect()
    }

    fn windows_target(&self, e: &Entry, ls: &LogSource) -> Target {
        let service = e.rewrite_service.as_deref().or(ls.service.as_deref());
        let channels = service.map(|s| self.channels(s)).unwrap_or_default();
        let mut event_ids = Vec::new();
        let mut conditions = Vec::new();
        for (field, values) in &e.conditions {
            if field == "EventID" {
                event_ids.extend(values.iter().filter_map(|v| v.parse::<u64>().ok()));
            } else {
                conditions.extend(values.iter().map(|v| (field.clone(), v.clone())));
            }
        }
        Target { scope: Scope::Windows { channels, event_ids }, conditions, renames: e.renames.clone() }
    }
}

/// Targets differing only in event IDs become one (registry_event is 12, 13 and 14).
fn merge(targets: Vec<Target>) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for t in targets {
        let same = out.iter_mut().find(|o| {
            o.conditions == t.conditions
                && o.renames == t.renames
                && matches!((&o.scope, &t.scope), (Scope::Windows { channels: a, .. }, Scope::Windows { channels: b, .. }) if a == b)
        });
        match (same, &t.scope) {
            (Some(o), Scope::Windows { event_ids, .. }) => {
                if let Scope::Windows { event_ids: ids, .. } = &mut o.scope {
                    ids.extend(event_ids);
                }
            }
            _ => out.push(t),
        }
    }
    out
}

fn parse_entry(m: &Mapping) -> Result<Entry, CompileError> {
    let mut e = Entry {
        category: string_field(m, "category")?.map(|s| s.to_ascii_lowercase()),
        product: string_field(m, "product")?.map(|s| s.to_ascii_lowercase()),
        service: string_field(m, "service")?.map(|s| s.to_ascii_lowercase()),
        ..Entry::default()
    };
    if let Some(Value::Mapping(c)) = m.get("conditions") {
        for (k, v) in c {
            let values = match v {
                Value::Sequence(items) => items.iter().filter_map(scalar_text).collect(),
                v => scalar_text(v).into_iter().collect(),
            };
            e.conditions.push((scalar_text(k).unwrap_or_default(), values));
        }
    }
    if let Some(Value::Mapping(r)) = m.get("rewrite") {
        e.rewrite_service = string_field(r, "service")?.map(|s| s.to_ascii_lowercase());
    }
    if let Some(Value::Mapping(f)) = m.get("fieldmappings") {
        for (k, v) in f {
            if let (Some(k), Some(v)) = (scalar_text(k), scalar_text(v)) {
                e.renames.push((k, v));
            }
        }
    }
    if let Some(Value::Sequence(s)) = m.get("sources") {
        e.channels = s
            .iter()
            .filter_map(scalar_text)
            .filter_map(|s| s.strip_prefix("WinEventLog:").map(str::to_string))
            .collect();
    }
    Ok(e)
}

/// Sigma's Windows field names → Winlogbeat's `winlog.*` fields.
pub fn windows_field(sigma: &str) -> String {
    let system = match sigma {
        "EventID" => "winlog.event_id",
        "Channel" => "winlog.channel",
        "Provider_Name" | "Provider" => "winlog.provider_name",
        "Computer" => "winlog.computer_name",
        "EventRecordID" => "winlog.record_id",
        "Task" => "winlog.task",
        "Opcode" => "winlog.opcode",
        "Keywords" => "winlog.keywords",
        "Version" => "winlog.version",
        "Level" => "winlog.level",
        "ProcessID" => "winlog.process.pid",
        "ThreadID" => "winlog.process.thread.id",
        "UserID" | "SecurityUserID" => "winlog.user.identifier",
        _ if sigma.contains('.') => return sigma.to_string(),
        _ => return format!("winlog.event_data.{sigma}"),
    };
    system.to_string()
}

/// mamori's own datasets and the Sigma taxonomy's field names for them.
fn dataset_target(category: &str) -> Option<Target> {
    let datasets: &[&str] = match category {
        "proxy" => &["proxy"],
        "webserver" => &["edge.access"],
        "waf" => &["edge.waf"],
        "dns" => &["dns"],
        "firewall" => &["firewall"],
        "mail" | "smtp" => &["mail"],
        _ => return None,
    };
    Some(Target {
        scope: Scope::Datasets(datasets.iter().map(|s| s.to_string()).collect()),
        conditions: Vec::new(),
        renames: Vec::new(),
    })
}

/// Sigma taxonomy names (web, DNS, firewall) → ECS; ECS names pass through.
fn ecs_field<'a>(_datasets: &[String], sigma: &'a str) -> &'a str {
    match sigma {
        "c-uri" | "cs-uri" => "url.full",
        "c-uri-query" | "cs-uri-query" => "url.query",
        "c-uri-stem" | "cs-uri-stem" => "url.path",
        "c-uri-extension" => "url.extension",
        "c-useragent" | "cs-user-agent" => "user_agent.original",
        "cs-host" | "r-dns" => "url.domain",
        "cs-method" => "http.request.method",
        "cs-referrer" | "cs-referer" => "http.request.referrer",
        "cs-cookie" => "http.request.cookie",
        "sc-status" => "http.response.status_code",
        "cs-bytes" => "http.request.bytes",
        "sc-bytes" => "http.response.bytes",
        "c-ip" | "src_ip" | "clientip" => "source.ip",
        "src_port" => "source.port",
        "dst_ip" => "destination.ip",
        "dst_port" => "destination.port",
        "query" | "QueryName" => "dns.question.name",
        "record_type" | "QueryType" => "dns.question.type",
        "answer" => "dns.answers.data",
        "action" => "event.action",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(category: Option<&str>, product: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            category: category.map(str::to_string),
            product: product.map(str::to_string),
            service: service.map(str::to_string),
        }
    }

    #[test]
    fn process_creation_is_sysmon_1_and_security_4688() {
        let p = Pipeline::default();
        let t = p.resolve(&ls(Some("process_creation"), Some("windows"), None)).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0].scope,
            Scope::Windows { channels: vec!["Microsoft-Windows-Sysmon/Operational".into()], event_ids: vec![1] }
        );
        assert_eq!(t[1].field_path("Image").as_str(), "winlog.event_data.NewProcessName");
        assert_eq!(t[0].field_path("Image").as_str(), "winlog.event_data.Image");
        assert_eq!(t[0].field_path("EventID").as_str(), "winlog.event_id");
    }

    #[test]
    fn registry_event_ids_merge() {
        let p = Pipeline::default();
        let t = p.resolve(&ls(Some("registry_event"), Some("windows"), None)).unwrap();
        assert_eq!(t.len(), 1);
        assert!(matches!(&t[0].scope, Scope::Windows { event_ids, .. } if event_ids == &[12, 13, 14]));
    }

    #[test]
    fn services_datasets_and_unmapped() {
        let p = Pipeline::default();
        let t = p.resolve(&ls(None, Some("windows"), Some("security"))).unwrap();
        assert_eq!(t[0].scope, Scope::Windows { channels: vec!["Security".into()], event_ids: vec![] });
        let t = p.resolve(&ls(Some("proxy"), None, None)).unwrap();
        assert_eq!(t[0].field_path("c-useragent").as_str(), "user_agent.original");
        assert!(p.resolve(&ls(None, Some("aws"), Some("cloudtrail"))).is_err());
    }
}

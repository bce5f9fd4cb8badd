//! The Sigma rule document (YAML) as read, before compilation: metadata, log source, and the
//! detection or correlation section kept as YAML for the compiler.

use serde_norway::{Mapping, Value};

use crate::error::CompileError;

/// A rule's `logsource`. Values are kept lower-case (Sigma compares them so).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
}

/// Metadata carried into alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleMeta {
    pub id: Option<String>,
    /// `name`: what correlation rules refer to besides the id.
    pub name: Option<String>,
    pub title: String,
    pub status: Option<String>,
    pub level: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub author: Option<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
}

/// One YAML document of a rule file.
#[derive(Debug, Clone)]
pub enum RuleDoc {
    Detection { meta: RuleMeta, logsource: LogSource, detection: Mapping },
    Correlation { meta: RuleMeta, correlation: Mapping },
}

impl RuleDoc {
    pub fn meta(&self) -> &RuleMeta {
        match self {
            RuleDoc::Detection { meta, .. } | RuleDoc::Correlation { meta, .. } => meta,
        }
    }
}

/// Reads every document of a rule file (a file may hold a correlation rule and the rules it
/// refers to, separated by `---`). Empty documents are skipped.
pub fn parse_documents(text: &str) -> Vec<Result<RuleDoc, CompileError>> {
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let value = match <Value as serde::Deserialize>::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                out.push(Err(CompileError::Yaml(e.to_string())));
                // The stream cannot be trusted past a syntax error.
                break;
            }
        };
        match value {
            Value::Null => continue,
            Value::Mapping(m) => out.push(parse_document(m)),
            _ => out.push(Err(CompileError::Invalid("a rule document must be a mapping".into()))),
        }
    }
    out
}

fn parse_document(mut m: Mapping) -> Result<RuleDoc, CompileError> {
    if let Some(action) = string_field(&m, "action")? {
        return Err(CompileError::Invalid(format!(
            "rule collections (action: {action}) are not supported; write each rule in full"
        )));
    }
    let meta = RuleMeta {
        id: string_field(&m, "id")?,
        name: string_field(&m, "name")?,
        title: string_field(&m, "title")?.ok_or(CompileError::Missing("title"))?,
        status: string_field(&m, "status")?.map(|s| s.to_ascii_lowercase()),
        level: string_field(&m, "level")?.map(|s| s.to_ascii_lowercase()),
        description: string_field(&m, "description")?,
        tags: string_list(&m, "tags")?,
        author: string_field(&m, "author")?,
        references: string_list(&m, "references")?,
        falsepositives: string_list(&m, "falsepositives")?,
    };
    if let Some(Value::Mapping(c)) = m.remove("correlation") {
        return Ok(RuleDoc::Correlation { meta, correlation: c });
    }
    let logsource = match m.get("logsource") {
        Some(Value::Mapping(ls)) => LogSource {
            category: string_field(ls, "category")?.map(|s| s.to_ascii_lowercase()),
            product: string_field(ls, "product")?.map(|s| s.to_ascii_lowercase()),
            service: string_field(ls, "service")?.map(|s| s.to_ascii_lowercase()),
        },
        Some(_) => return Err(CompileError::Invalid("logsource must be a mapping".into())),
        None => return Err(CompileError::Missing("logsource")),
    };
    let detection = match m.remove("detection") {
        Some(Value::Mapping(d)) => d,
        Some(_) => return Err(CompileError::Invalid("detection must be a mapping".into())),
        None => return Err(CompileError::Missing("detection")),
    };
    Ok(RuleDoc::Detection { meta, logsource, detection })
}

/// A scalar field as text (numbers and dates, which YAML may type, too).
pub(crate) fn string_field(m: &Mapping, key: &str) -> Result<Option<String>, CompileError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            scalar_text(v).map(Some).ok_or_else(|| CompileError::Invalid(format!("'{key}' must be a single value")))
        }
    }
}

fn string_list(m: &Mapping, key: &str) -> Result<Vec<String>, CompileError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|v| scalar_text(v).ok_or_else(|| CompileError::Invalid(format!("'{key}' must list values"))))
            .collect(),
        Some(v) => Ok(scalar_text(v).into_iter().collect()),
    }
}

/// The text of a YAML scalar; `None` for mappings, sequences and null.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(t) => scalar_text(&t.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata_and_logsource() {
        let docs = parse_documents(
            "title: T\nid: 1234\nstatus: Test\nlevel: high\ntags: [attack.t1059]\n\
             logsource: {product: Windows, category: process_creation}\n\
             detection: {sel: {Image: x}, condition: sel}\n",
        );
        let RuleDoc::Detection { meta, logsource, .. } = docs[0].clone().unwrap() else { panic!() };
        assert_eq!(meta.id.as_deref(), Some("1234"));
        assert_eq!(meta.status.as_deref(), Some("test"));
        assert_eq!(meta.tags, ["attack.t1059"]);
        assert_eq!(logsource.product.as_deref(), Some("windows"));
    }

    #[test]
    fn several_documents_and_errors() {
        let docs = parse_documents("title: A\nlogsource: {}\ndetection: {condition: x}\n---\ntitle: B\n");
        assert_eq!(docs.len(), 2);
        assert!(docs[0].is_ok());
        assert_eq!(docs[1].as_ref().unwrap_err(), &CompileError::Missing("logsource"));
        assert!(matches!(parse_documents("title: [unclosed")[0], Err(CompileError::Yaml(_))));
    }
}

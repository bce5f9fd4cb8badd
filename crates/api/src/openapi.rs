//! The OpenAPI 3.1 description of the API.
//!
//! Written by hand, one JSON file per area under `src/openapi/` beside the routes it
//! describes, and merged into one document on first use. Hand-written rather than generated
//! so that the descriptions say what a municipality's staff need to know; a test checks that
//! every route of the router is documented and every documented route exists.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The common parts (info, security schemes, error responses) and each area's paths and schemas.
const PARTS: &[(&str, &str)] = &[
    ("base", include_str!("openapi/base.json")),
    ("health", include_str!("openapi/health.json")),
    ("auth", include_str!("openapi/auth.json")),
    ("search", include_str!("openapi/search.json")),
    ("ingest", include_str!("openapi/ingest.json")),
    ("tenants", include_str!("openapi/tenants.json")),
    ("config", include_str!("openapi/config.json")),
    ("users", include_str!("openapi/users.json")),
    ("tokens", include_str!("openapi/tokens.json")),
    ("audit", include_str!("openapi/audit.json")),
    ("mail", include_str!("openapi/mail.json")),
];

/// The merged document.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| match build() {
        Ok(doc) => doc,
        // The parts are compiled in and checked by the tests; this is only reachable through
        // a broken build, and then the API should still serve everything else.
        Err(e) => {
            tracing::error!(error = %e, "the built-in OpenAPI document is broken");
            serde_json::json!({"error": e})
        }
    })
}

/// Merges the parts; an error names the part and the duplicated or malformed entry.
pub fn build() -> Result<Value, String> {
    let mut doc: Option<Value> = None;
    for (name, text) in PARTS {
        let part: Value = serde_json::from_str(text).map_err(|e| format!("openapi/{name}.json: {e}"))?;
        let Some(doc) = doc.as_mut() else {
            doc = Some(part);
            continue;
        };
        merge_section(doc, &part, &["paths"], name)?;
        for section in ["schemas", "responses", "parameters", "headers"] {
            merge_section(doc, &part, &["components", section], name)?;
        }
    }
    let mut doc = doc.ok_or("no OpenAPI parts")?;
    doc["info"]["version"] = Value::String(env!("CARGO_PKG_VERSION").to_owned());
    Ok(doc)
}

fn merge_section(doc: &mut Value, part: &Value, path: &[&str], name: &str) -> Result<(), String> {
    let Some(from) = lookup(part, path) else {
        return Ok(());
    };
    let from = from.as_object().ok_or_else(|| format!("openapi/{name}.json: {} is not an object", path.join(".")))?;
    let into = object_at(doc, path);
    for (key, value) in from {
        if into.insert(key.clone(), value.clone()).is_some() {
            return Err(format!("openapi/{name}.json: {}.{key} is defined twice", path.join(".")));
        }
    }
    Ok(())
}

fn lookup<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn object_at<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut cur = v;
    for k in path {
        if !cur.get(*k).is_some_and(Value::is_object) {
            cur[*k] = Value::Object(Map::new());
        }
        cur = &mut cur[*k];
    }
    match cur {
        Value::Object(m) => m,
        // Made an object just above.
        _ => unreachable!("object_at always leaves an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_merge_without_duplicates() {
        let doc = build().expect("document");
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/search"]["post"].is_object());
        assert!(doc["components"]["schemas"]["Tenant"].is_object());
        assert!(doc["components"]["schemas"]["Error"].is_object());
    }
}

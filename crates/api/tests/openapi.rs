//! The OpenAPI document: valid OpenAPI 3.1, every route of the router documented, nothing
//! documented that the router does not serve, and every `$ref` resolvable.

mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn document() -> Value {
    mamori_api::openapi::build().expect("the parts merge")
}

fn routes() -> BTreeSet<(String, String)> {
    mamori_api::routes().into_iter().map(|(m, p)| (m.as_str().to_owned(), p.to_owned())).collect()
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let text = serde_json::to_string(&document()).unwrap();
    let spec = oas3::from_json(&text).expect("parses as OpenAPI 3.1");
    let version = spec.validate_version().expect("supported version");
    assert_eq!((version.major, version.minor), (3, 1));
    let mut ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        let id = op.operation_id.clone().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        assert!(op.summary.is_some(), "{method} {path} has no summary");
        assert!(!op.tags.is_empty(), "{method} {path} has no tag");
        let responses = op.responses(&spec);
        assert!(!responses.is_empty(), "{method} {path} documents no response");
        assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path} documents no success response");
        op.parameters(&spec).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        op.request_body(&spec).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    }
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let doc = document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let served = routes();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "routes missing from the document: {undocumented:?}");
    assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
}

#[test]
fn every_ref_resolves_and_path_parameters_are_declared() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "the document should share its schemas");
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "$ref {r} does not resolve");
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        let names: Vec<&str> =
            path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            for name in &names {
                let declared = [item.get("parameters"), op.get("parameters")]
                    .into_iter()
                    .flatten()
                    .flat_map(|ps| ps.as_array().unwrap())
                    .map(|p| resolve(&doc, p))
                    .any(|p| p["in"] == "path" && p["name"] == *name);
                assert!(declared, "{method} {path} does not declare path parameter {name}");
            }
        }
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(&r[1..]).expect("resolves"),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// The table the test above compares with is the table the router is built from; this checks
/// over HTTP that each of its routes really answers (401 without credentials, never 404/405).
#[tokio::test]
async fn every_route_answers_on_a_real_server() {
    let s = start().await;
    let a = s.anonymous();
    for (method, path) in routes() {
        let concrete = path.replace("{id}", "x").replace("{number}", "1");
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let r = a.send(m, &concrete, None).await;
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&r.status),
            "{method} {path}: {}",
            r.status
        );
        assert!(r.json["error"].is_string() || r.status.is_success(), "{method} {path}: {}", r.text);
    }
    let served = a.get("/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.json, document());
}

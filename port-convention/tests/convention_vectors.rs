//! The shared convention and load_ports vectors (tests/vectors), as the Node
//! and Python tests read them.

use std::collections::BTreeMap;

use port_convention::{Convention, resolve_ports, validate_convention};
use serde_json::{Value, json};

fn vectors(name: &str) -> Vec<Value> {
    let path = format!("{}/../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    doc["cases"].as_array().cloned().unwrap_or_default()
}

/// Whether every field of `expected` equals the same field of `actual`.
fn matches(actual: &Value, expected: &Value) -> bool {
    match expected.as_object() {
        Some(fields) => fields.iter().all(|(k, v)| &actual[k] == v),
        None => actual == expected,
    }
}

#[test]
fn convention_vectors() {
    let mut failures = Vec::new();
    for case in vectors("conventions.json") {
        let name = case["name"].as_str().unwrap_or("?");
        let text = case["convention"].as_str().unwrap_or_default();
        let expect = &case["expect"];
        match Convention::from_yaml("ports.yaml", text) {
            Ok(c) => {
                let findings: Vec<Value> = validate_convention(&c)
                    .iter()
                    .map(|f| serde_json::to_value(f).unwrap())
                    .collect();
                let Some(wanted) = expect["findings"].as_array() else {
                    failures.push(format!(
                        "{name}: expected an error, got findings {findings:?}"
                    ));
                    continue;
                };
                if findings.len() != wanted.len()
                    || !findings.iter().zip(wanted).all(|(a, e)| matches(a, e))
                {
                    failures.push(format!("{name}: got {findings:#?}"));
                }
            }
            Err(err) => {
                let got = json!({"code": err.code(), "line": err.location().map(|l| l.line)});
                if !matches(&got, &expect["error"]) {
                    failures.push(format!("{name}: got error {got} ({err})"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn load_ports_vectors() {
    let mut failures = Vec::new();
    for case in vectors("load_ports.json") {
        let name = case["name"].as_str().unwrap_or("?");
        let text = case["convention"].as_str().unwrap_or_default();
        let env: BTreeMap<String, String> =
            serde_json::from_value(case["env"].clone()).unwrap_or_default();
        let convention = match Convention::from_yaml("ports.yaml", text) {
            Ok(c) => c,
            Err(err) => {
                failures.push(format!("{name}: convention does not load: {err}"));
                continue;
            }
        };
        let expect = &case["expect"];
        match resolve_ports(&convention, &|k| env.get(k).cloned()) {
            Ok(ports) => {
                let got = serde_json::to_value(&ports).unwrap();
                if got["ports"] != expect["ports"] || got["services"] != expect["services"] {
                    failures.push(format!("{name}: got {got}"));
                }
            }
            Err(err) => {
                let findings: Vec<Value> = err
                    .findings()
                    .iter()
                    .map(|f| serde_json::to_value(f).unwrap())
                    .collect();
                let wanted = expect["error"]["findings"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if err.code() != expect["error"]["code"]
                    || findings.len() != wanted.len()
                    || !findings.iter().zip(&wanted).all(|(a, e)| matches(a, e))
                {
                    failures.push(format!("{name}: got {} {findings:#?}", err.code()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

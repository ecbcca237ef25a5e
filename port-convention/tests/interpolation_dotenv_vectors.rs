//! Runs the language-neutral vectors of `tests/vectors/interpolation.json`
//! and `tests/vectors/dotenv.json` (shared with the Node and Python bindings).
//! Every case runs; all failures are reported together.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::PathBuf;

use port_convention::Error;
use port_convention::dotenv::parse_dotenv;
use port_convention::interpolation::interpolate_map;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn cases(doc: &Value) -> &Vec<Value> {
    doc.get("cases")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no \"cases\" array"))
}

fn string<'v>(case: &'v Value, key: &str) -> Result<&'v str, String> {
    case.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string field {key:?}"))
}

fn env_of(case: &Value) -> Result<BTreeMap<String, String>, String> {
    let Some(env) = case.get("env") else {
        return Ok(BTreeMap::new());
    };
    let object = env.as_object().ok_or("\"env\" is not an object")?;
    object
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|v| (k.clone(), v.to_owned()))
                .ok_or_else(|| format!("env value of {k:?} is not a string"))
        })
        .collect()
}

/// Checks an expected `{"error": {...}}` against an actual error.
fn check_error(expected: &Value, actual: &Error, with_line: bool) -> Result<(), String> {
    let code = string(expected, "code")?;
    if actual.code() != code {
        return Err(format!(
            "expected error code {code}, got {} ({actual})",
            actual.code()
        ));
    }
    if let Some(fragment) = expected.get("message_contains").and_then(Value::as_str)
        && !actual.to_string().contains(fragment)
    {
        return Err(format!("error {actual:?} does not contain {fragment:?}"));
    }
    if with_line {
        let expected_line = expected.get("line").and_then(Value::as_u64);
        let actual_line = actual.location().map(|l| u64::from(l.line));
        if expected_line != actual_line {
            return Err(format!(
                "expected error line {expected_line:?}, got {actual_line:?} ({actual})"
            ));
        }
    }
    Ok(())
}

fn run_interpolation(case: &Value) -> Result<(), String> {
    let template = string(case, "template")?;
    let env = env_of(case)?;
    let expect = case.get("expect").ok_or("missing \"expect\"")?;
    let result = interpolate_map(template, &env);
    match (expect.get("error"), result) {
        (Some(expected), Err(actual)) => check_error(expected, &actual, false),
        (Some(expected), Ok(out)) => Err(format!(
            "expected error {expected}, got value {:?}",
            out.value
        )),
        (None, Err(actual)) => Err(format!("unexpected error: {actual}")),
        (None, Ok(out)) => {
            let value = string(expect, "value")?;
            if out.value != value {
                return Err(format!("expected value {value:?}, got {:?}", out.value));
            }
            let expected_uses: Vec<(String, bool)> = expect
                .get("uses")
                .and_then(Value::as_array)
                .ok_or("missing \"uses\"")?
                .iter()
                .map(|u| {
                    Ok((
                        string(u, "name")?.to_owned(),
                        u.get("default_taken")
                            .and_then(Value::as_bool)
                            .ok_or("missing default_taken")?,
                    ))
                })
                .collect::<Result<_, String>>()?;
            let actual_uses: Vec<(String, bool)> = out
                .uses
                .iter()
                .map(|u| (u.name.clone(), u.default_taken))
                .collect();
            if expected_uses != actual_uses {
                return Err(format!(
                    "expected uses {expected_uses:?}, got {actual_uses:?}"
                ));
            }
            // Spans must always slice the template.
            for u in &out.uses {
                if template.get(u.span.clone()).is_none() {
                    return Err(format!(
                        "span {:?} of {} is not in the template",
                        u.span, u.name
                    ));
                }
            }
            Ok(())
        }
    }
}

fn run_dotenv(case: &Value) -> Result<(), String> {
    let text = string(case, "text")?;
    let env = env_of(case)?;
    let expect = case.get("expect").ok_or("missing \"expect\"")?;
    let result = parse_dotenv(".env", text, &|name| env.get(name).cloned());
    match (expect.get("error"), result) {
        (Some(expected), Err(actual)) => check_error(expected, &actual, true),
        (Some(expected), Ok(parsed)) => Err(format!(
            "expected error {expected}, got entries {:?}",
            parsed.entries
        )),
        (None, Err(actual)) => Err(format!("unexpected error: {actual}")),
        (None, Ok(parsed)) => {
            let expected_entries: Vec<(String, String, u64)> = expect
                .get("entries")
                .and_then(Value::as_array)
                .ok_or("missing \"entries\"")?
                .iter()
                .map(|e| {
                    Ok((
                        string(e, "key")?.to_owned(),
                        string(e, "value")?.to_owned(),
                        e.get("line")
                            .and_then(Value::as_u64)
                            .ok_or("missing line")?,
                    ))
                })
                .collect::<Result<_, String>>()?;
            let actual_entries: Vec<(String, String, u64)> = parsed
                .entries
                .iter()
                .map(|e| (e.key.clone(), e.value.clone(), u64::from(e.line)))
                .collect();
            if expected_entries != actual_entries {
                return Err(format!(
                    "expected entries {expected_entries:?},\n           got {actual_entries:?}"
                ));
            }
            let expected_duplicates: Vec<(String, u64, u64)> = expect
                .get("duplicates")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|d| {
                            Ok((
                                string(d, "key")?.to_owned(),
                                d.get("first_line")
                                    .and_then(Value::as_u64)
                                    .ok_or("first_line")?,
                                d.get("second_line")
                                    .and_then(Value::as_u64)
                                    .ok_or("second_line")?,
                            ))
                        })
                        .collect::<Result<Vec<_>, String>>()
                })
                .transpose()?
                .unwrap_or_default();
            let actual_duplicates: Vec<(String, u64, u64)> = parsed
                .duplicates
                .iter()
                .map(|d| {
                    (
                        d.key.clone(),
                        u64::from(d.first_line),
                        u64::from(d.second_line),
                    )
                })
                .collect();
            if expected_duplicates != actual_duplicates {
                return Err(format!(
                    "expected duplicates {expected_duplicates:?}, got {actual_duplicates:?}"
                ));
            }
            // Raw spans must slice the text, and an unquoted non-inherited
            // raw value is never padded with blanks.
            for e in &parsed.entries {
                let Some(raw) = text.get(e.raw_value.clone()) else {
                    return Err(format!(
                        "raw span {:?} of {} is not in the text",
                        e.raw_value, e.key
                    ));
                };
                if raw.trim() != raw && e.quote == port_convention::dotenv::Quote::None {
                    return Err(format!(
                        "raw value {raw:?} of {} has surrounding blanks",
                        e.key
                    ));
                }
            }
            // The map view agrees with the last entries.
            let map = parsed.to_map();
            for (key, value, _) in &actual_entries {
                if parsed.get(key) != map.get(key).map(String::as_str) {
                    return Err(format!("get({key:?}) disagrees with to_map"));
                }
                let _ = value;
            }
            Ok(())
        }
    }
}

fn run_all(file: &str, minimum: usize, run: fn(&Value) -> Result<(), String>) {
    let doc = load(file);
    let cases = cases(&doc);
    assert!(
        cases.len() >= minimum,
        "{file}: {} cases, at least {minimum} expected",
        cases.len()
    );
    let mut names = HashSet::new();
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{index}"), str::to_owned);
        if !names.insert(name.clone()) {
            failures.push(format!("{name}: duplicate case name"));
        }
        if case.get("source").and_then(Value::as_str).is_none() {
            failures.push(format!("{name}: missing \"source\""));
        }
        if let Err(message) = run(case) {
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

#[test]
fn interpolation_vectors() {
    run_all("interpolation.json", 40, run_interpolation);
}

#[test]
fn dotenv_vectors() {
    run_all("dotenv.json", 30, run_dotenv);
}

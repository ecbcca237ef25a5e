//! The bindings' hand-written types (`port-convention-node/src/types.d.ts`,
//! `port-convention-py/python/port_convention/_types.py`) against the JSON
//! Schema of the core's types (`report::report_schema`): every object type
//! of `check`'s report has exactly the schema's fields, optional exactly
//! where the schema does not require them.

use std::collections::{BTreeMap, BTreeSet};

/// `name -> (field -> required)` of every object of the schema.
type Shapes = BTreeMap<String, BTreeMap<String, bool>>;

fn schema_shapes() -> Shapes {
    let schema = port_convention::report::report_schema();
    let mut out = Shapes::new();
    let mut add = |name: &str, object: &serde_json::Value| {
        let required: BTreeSet<&str> = object["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if let Some(props) = object["properties"].as_object() {
            let fields = props
                .keys()
                .map(|k| (k.clone(), required.contains(k.as_str())))
                .collect();
            out.insert(name.to_owned(), fields);
        }
    };
    add("Report", &schema);
    for (name, def) in schema["$defs"].as_object().unwrap() {
        add(name, def);
    }
    out
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// `export interface Name { field?: type ... }` blocks of a .d.ts file.
fn typescript_shapes(text: &str) -> Shapes {
    let mut out = Shapes::new();
    let mut current: Option<(String, BTreeMap<String, bool>)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("export interface ") {
            let name = rest.split([' ', '{']).next().unwrap_or("").to_owned();
            current = Some((name, BTreeMap::new()));
            continue;
        }
        if line.starts_with('}') {
            if let Some((name, fields)) = current.take() {
                out.insert(name, fields);
            }
            continue;
        }
        let Some((_, fields)) = current.as_mut() else {
            continue;
        };
        // A field at the interface's own indentation (two spaces).
        let Some(body) = line.strip_prefix("  ") else {
            continue;
        };
        if body.starts_with([' ', '/', '*']) {
            continue;
        }
        if let Some((name, _)) = body.split_once(':') {
            let (name, optional) = match name.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name, false),
            };
            if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                fields.insert(name.to_owned(), !optional);
            }
        }
    }
    out
}

/// `class Name(TypedDict): field: NotRequired[...]` blocks of a .py file.
fn python_shapes(text: &str) -> Shapes {
    let mut out = Shapes::new();
    let mut current: Option<(String, BTreeMap<String, bool>)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("class ") {
            if let Some((name, fields)) = current.take() {
                out.insert(name, fields);
            }
            if rest.contains("TypedDict") {
                let name = rest.split('(').next().unwrap_or("").to_owned();
                current = Some((name, BTreeMap::new()));
            }
            continue;
        }
        if !line.starts_with(' ') && !line.is_empty() {
            if let Some((name, fields)) = current.take() {
                out.insert(name, fields);
            }
            continue;
        }
        let Some((_, fields)) = current.as_mut() else {
            continue;
        };
        let Some(body) = line.strip_prefix("    ") else {
            continue;
        };
        if let Some((name, ty)) = body.split_once(": ")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            fields.insert(name.to_owned(), !ty.trim().starts_with("NotRequired["));
        }
    }
    if let Some((name, fields)) = current.take() {
        out.insert(name, fields);
    }
    out
}

const CHECKED: &[&str] = &[
    "Report",
    "Finding",
    "Related",
    "Suggestion",
    "Summary",
    "ProjectRef",
];

fn compare(what: &str, schema: &Shapes, declared: &Shapes) -> Vec<String> {
    let mut problems = Vec::new();
    for name in CHECKED {
        let want = schema
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is not in the core's schema"));
        match declared.get(*name) {
            None => problems.push(format!("{what}: no type {name}")),
            Some(got) if got != want => problems.push(format!(
                "{what}: {name} has {got:?}; the core's schema says {want:?} (field -> required)"
            )),
            Some(_) => {}
        }
    }
    problems
}

#[test]
fn typescript_and_python_types_match_the_core_schema() {
    let schema = schema_shapes();
    let mut problems = compare(
        "port-convention-node/src/types.d.ts",
        &schema,
        &typescript_shapes(&repo_file("port-convention-node/src/types.d.ts")),
    );
    problems.extend(compare(
        "port-convention-py/python/port_convention/_types.py",
        &schema,
        &python_shapes(&repo_file(
            "port-convention-py/python/port_convention/_types.py",
        )),
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The schema knows every rule id and both severities (what the bindings'
/// `rule` and `severity` fields hold).
#[test]
fn the_schema_enumerates_rules_and_severities() {
    let schema = port_convention::report::report_schema();
    let rules: BTreeSet<&str> = schema["$defs"]["Rule"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let ids: BTreeSet<&str> = port_convention::Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(rules, ids);
    let severities = serde_json::to_string(&schema["$defs"]["Severity"]).unwrap();
    assert!(
        severities.contains("\"error\"") && severities.contains("\"warning\""),
        "{severities}"
    );
}

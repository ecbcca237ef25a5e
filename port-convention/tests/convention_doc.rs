//! `docs/convention-file.md` documents exactly the JSON Schema of
//! `ports.yaml`: one table per object of the schema (marked
//! `<!-- schema: NAME -->`, the root being `ConventionFile`), a row per key
//! with its type and whether it is required, and no key the schema lacks.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const DOC: &str = include_str!("../../docs/convention-file.md");

/// One documented table: section heading and rows (key → (type, required)).
struct Table {
    heading: String,
    rows: BTreeMap<String, (String, String)>,
}

fn tables() -> BTreeMap<String, Table> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = DOC.lines().collect();
    let mut heading = String::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(h) = line.strip_prefix("## ") {
            heading = h.trim().to_lowercase();
        }
        let Some(name) = line
            .strip_prefix("<!-- schema: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let mut rows = BTreeMap::new();
        for row in lines.iter().skip(i + 3) {
            if !row.starts_with('|') {
                break;
            }
            let cells: Vec<String> = row
                .replace("\\|", "\u{0}")
                .split('|')
                .map(|c| c.trim().replace('\u{0}', "\\|"))
                .collect();
            let key = cells[1].trim_matches('`').to_owned();
            let previous = rows.insert(key.clone(), (cells[2].clone(), cells[3].clone()));
            assert!(previous.is_none(), "{name}: `{key}` documented twice");
        }
        assert!(
            out.insert(
                name.to_owned(),
                Table {
                    heading: heading.clone(),
                    rows
                }
            )
            .is_none(),
            "{name} documented twice"
        );
    }
    out
}

fn def_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// The type of a property as the doc writes it.
fn type_of(prop: &Value, schema: &Value, headings: &BTreeMap<String, String>) -> String {
    if let Some(r) = prop["$ref"].as_str() {
        let name = def_name(r);
        let def = &schema["$defs"][name];
        if let Some(alternatives) = def["oneOf"].as_array() {
            let consts: Vec<String> = alternatives
                .iter()
                .filter_map(|a| a["const"].as_str())
                .map(|c| format!("`{c}`"))
                .collect();
            if consts.len() == alternatives.len() {
                return consts.join(" \\| ");
            }
        }
        if name == "PortRange" {
            return "port range".into();
        }
        return headings
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} has no documented table"));
    }
    if let Some(any) = prop["anyOf"].as_array() {
        let not_null: Vec<&Value> = any.iter().filter(|a| a["type"] != "null").collect();
        assert_eq!(not_null.len(), 1, "{prop}");
        return type_of(not_null[0], schema, headings);
    }
    let kind = match &prop["type"] {
        Value::String(s) => s.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        other => panic!("no type in {prop}: {other}"),
    };
    match kind.as_str() {
        "object" => format!(
            "map of name → {}",
            type_of(&prop["additionalProperties"], schema, headings)
        ),
        "array" => format!("list of {}s", type_of(&prop["items"], schema, headings)),
        other => other.to_owned(),
    }
}

#[test]
fn the_convention_reference_documents_exactly_the_schema() {
    let schema = port_convention::convention_schema();
    let documented = tables();
    let headings: BTreeMap<String, String> = documented
        .iter()
        .map(|(name, t)| (name.clone(), t.heading.clone()))
        .collect();
    let mut objects: Vec<(String, &Value)> = vec![("ConventionFile".into(), &schema)];
    for (name, def) in schema["$defs"].as_object().unwrap() {
        if def.get("properties").is_some() {
            objects.push((name.clone(), def));
        }
    }
    let names: BTreeSet<&str> = objects.iter().map(|(n, _)| n.as_str()).collect();
    for name in documented.keys() {
        assert!(
            names.contains(name.as_str()),
            "docs/convention-file.md documents {name}, which the schema does not have"
        );
    }
    for (name, def) in &objects {
        let table = documented.get(name).unwrap_or_else(|| {
            panic!("docs/convention-file.md has no `<!-- schema: {name} -->` table")
        });
        let properties = def["properties"].as_object().unwrap();
        let required: BTreeSet<&str> = def["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for key in table.rows.keys() {
            assert!(
                properties.contains_key(key),
                "{name}: `{key}` is documented but not in the schema"
            );
        }
        for (key, prop) in properties {
            let (ty, req) = table
                .rows
                .get(key)
                .unwrap_or_else(|| panic!("{name}: `{key}` of the schema is not documented"));
            assert_eq!(
                *ty,
                type_of(prop, &schema, &headings),
                "{name}: type of `{key}`"
            );
            let expected = if required.contains(key.as_str()) {
                "required"
            } else {
                "no"
            };
            assert_eq!(req, expected, "{name}: is `{key}` required");
        }
    }
}

#[test]
fn the_example_of_the_reference_is_a_valid_convention() {
    let start = DOC.find("```yaml\n").unwrap() + 8;
    let end = start + DOC[start..].find("```").unwrap();
    let convention = port_convention::Convention::from_yaml("ports.yaml", &DOC[start..end])
        .expect("the reference's example loads");
    assert!(
        port_convention::validate_convention(&convention)
            .iter()
            .all(|f| f.severity != port_convention::Severity::Error)
    );
}

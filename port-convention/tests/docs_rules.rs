//! docs/rules.md lists every rule with its severity and description, so the
//! documentation cannot fall behind the code. Regenerate it with
//! `UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules`.

use port_convention::Rule;
use port_convention::report::rule_description;

fn expected() -> String {
    let mut text = String::from(
        "# Rules\n\nEvery finding names one of these rules. Ids are stable: once released, an id never\nchanges meaning (new rules may be added). Error findings make `check` exit 1.\n\n| id | severity | what it means |\n|---|---|---|\n",
    );
    for rule in Rule::ALL {
        text.push_str(&format!(
            "| `{}` | {} | {} |\n",
            rule.id(),
            rule.severity(),
            rule_description(*rule)
        ));
    }
    text
}

#[test]
fn rules_doc_lists_every_rule() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rules.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, expected()).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        actual,
        expected(),
        "docs/rules.md is stale: run UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules"
    );
}

#[test]
fn rule_ids_round_trip_and_are_kebab_case() {
    for rule in Rule::ALL {
        assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        assert!(
            rule.id()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}",
            rule.id()
        );
    }
}

/// docs/json-output.md lists exactly the error codes of `Error::CODES`.
#[test]
fn json_doc_lists_every_error_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json-output.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("## Error codes")
        .nth(1)
        .expect("an Error codes section");
    let listed: std::collections::BTreeSet<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| code.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    let codes: std::collections::BTreeSet<&str> =
        port_convention::Error::CODES.iter().copied().collect();
    assert_eq!(listed, codes);
}

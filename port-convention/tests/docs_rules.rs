//! docs/rules.md lists every rule with its severity and description, so the
//! documentation cannot fall behind the code. Regenerate it with
//! `UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules`.

use std::collections::BTreeSet;

use port_convention::report::{Report, render_rules_markdown, render_sarif, rule_description};
use port_convention::{Finding, RULES_DOC_URL, Rule, Subject};

const RULES_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rules.md");

#[test]
fn rules_doc_lists_every_rule() {
    let expected = render_rules_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(RULES_MD, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(RULES_MD).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "docs/rules.md is stale: run UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules"
    );
}

/// The anchors GitHub gives the headings of a markdown file: lowercased,
/// punctuation other than `-` and `_` dropped, spaces as `-`.
fn heading_anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut anchors = BTreeSet::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#').trim();
        let slug: String = text
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        assert!(anchors.insert(slug.clone()), "duplicate anchor #{slug}");
    }
    anchors
}

/// Every `helpUri` of a SARIF log points at a section of docs/rules.md.
#[test]
fn sarif_help_uris_point_at_sections_of_the_rules_doc() {
    let doc = std::fs::read_to_string(RULES_MD).unwrap();
    let anchors = heading_anchors(&doc);
    let findings = Rule::ALL
        .iter()
        .map(|rule| Finding::new(*rule, "example"))
        .collect();
    let sarif = render_sarif(&Report::new(findings, Default::default()));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), Rule::ALL.len());
    for rule in rules {
        let uri = rule["helpUri"].as_str().unwrap();
        let (base, anchor) = uri.split_once('#').expect("helpUri has an anchor");
        assert_eq!(base, RULES_DOC_URL);
        assert!(
            anchors.contains(anchor),
            "{uri}: no section #{anchor} in docs/rules.md"
        );
        assert_eq!(anchor, rule["id"].as_str().unwrap());
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(
                !rule[field]["text"].as_str().unwrap_or_default().is_empty(),
                "{anchor}: {field}"
            );
        }
    }
}

/// Every rule carries every documented field, and summaries are the
/// descriptions SARIF and the docs use.
#[test]
fn every_rule_is_documented() {
    let mut subjects = BTreeSet::new();
    for rule in Rule::ALL {
        let doc = rule.doc();
        assert_eq!(doc.id, rule.id());
        assert_eq!(rule_description(*rule), doc.summary);
        assert!(
            doc.summary.ends_with('.'),
            "{}: summary is a sentence",
            doc.id
        );
        assert!(
            !doc.summary.contains('\n'),
            "{}: summary is one line",
            doc.id
        );
        for (field, text) in [
            ("explanation", doc.explanation),
            ("fix", doc.fix),
            ("example", doc.example),
        ] {
            assert!(!text.trim().is_empty(), "{}: {field} is empty", doc.id);
        }
        assert!(
            doc.since.split('.').count() == 3
                && doc.since.split('.').all(|n| n.parse::<u32>().is_ok()),
            "{}: since {:?} is a version",
            doc.id,
            doc.since
        );
        subjects.insert(doc.subject);
    }
    assert_eq!(
        subjects,
        Subject::ALL.iter().copied().collect::<BTreeSet<_>>(),
        "every subject has rules"
    );
}

/// Environment values have rules of their own, not the convention's.
#[test]
fn environment_rules_have_their_own_ids() {
    for rule in Rule::ALL {
        if rule.subject() == Subject::Environment {
            assert!(rule.id().contains("env-port"), "{}", rule.id());
        }
    }
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

/// docs/migration-guide.md lists every diagnostic code of `migrate`, from
/// `migrate::Code` (regenerated with `UPDATE_DOCS=1`).
#[test]
fn migration_guide_lists_every_migrate_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/migration-guide.md");
    let text = std::fs::read_to_string(path).unwrap();
    let (start, end) = (
        "<!-- migrate-codes:start -->\n",
        "<!-- migrate-codes:end -->",
    );
    let head = text.split(start).next().unwrap();
    let tail = text.split(end).nth(1).expect("a migrate-codes section");
    let expected = format!(
        "{head}{start}{}{end}{tail}",
        port_convention::migrate::codes_markdown()
    );
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        expected,
        "docs/migration-guide.md is stale: run UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules"
    );
}

/// docs/json-output.md documents exactly the fields of a `scan` row.
#[test]
fn json_doc_lists_every_scan_field() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json-output.md");
    let text = std::fs::read_to_string(path).unwrap();
    let table = text
        .split("<!-- scan-fields:start -->")
        .nth(1)
        .and_then(|t| t.split("<!-- scan-fields:end -->").next())
        .expect("a scan-fields table");
    let documented: BTreeSet<String> = table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    let read = port_convention::check::TreeTexts {
        compose: vec!["c.yml".into()],
        texts: [(
            "c.yml".to_owned(),
            "services:\n  a:\n    ports: [\"7000:80\"]\n".to_owned(),
        )]
        .into(),
        ..Default::default()
    };
    let scan = port_convention::check::scan_texts(&read, &Default::default(), None);
    let rows = port_convention::report::scan::scan_rows(&scan);
    let json = serde_json::to_value(&rows[0]).unwrap();
    let fields: BTreeSet<String> = json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented, fields);
    assert_eq!(json["host_port"], 7000);
    assert!(json["host_ip"].is_null());
}

/// The bindings' hand-written declarations and docs name only real error
/// codes and rule ids (a removed or misspelt code is caught here).
#[test]
fn binding_docs_name_only_real_codes_and_rules() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let files = [
        "port-convention-node/main.d.ts",
        "port-convention-node/binding.d.ts",
        "port-convention-node/src/types.d.ts",
        "port-convention-node/README.md",
        "port-convention-py/python/port_convention/__init__.py",
        "port-convention-py/python/port_convention/_types.py",
        "port-convention-py/python/port_convention/port_convention.pyi",
        "port-convention-py/README.md",
    ];
    let known: BTreeSet<&str> = port_convention::Error::CODES
        .iter()
        .copied()
        .chain(Rule::ALL.iter().map(Rule::id))
        .chain(["port-convention", "parse-ports"])
        .collect();
    let mut unknown = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(format!("{root}/{file}")) else {
            continue;
        };
        for token in text.split('`').skip(1).step_by(2) {
            let kebab = token.contains('-')
                && token
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !token.starts_with('-')
                && !token.ends_with('-');
            if kebab && !known.contains(token) {
                unknown.push(format!("{file}: `{token}`"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "not an error code or rule id: {unknown:#?}"
    );
}

/// Levenshtein distance, for telling a misspelt or renamed id from prose.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// The files a person reads rule ids and error codes in: every markdown
/// file of the repository (but the corpus analysis, which names the
/// corpus's services, and the changelog, which names old ids on purpose),
/// and the rustdoc of the crates.
fn documentation_files(root: &std::path::Path) -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let skipped = file_name.starts_with('.')
                    || [
                        "target",
                        "node_modules",
                        "corpus",
                        "tests",
                        "__test__",
                        "fuzz",
                    ]
                    .contains(&file_name.as_str());
                if !skipped {
                    walk(&path, root, out);
                }
                continue;
            }
            let wanted = (file_name.ends_with(".md")
                && !["docs/corpus-analysis.md", "CHANGELOG.md", "docs/rules.md"]
                    .contains(&name.as_str()))
                || file_name.ends_with(".rs");
            if wanted && let Ok(text) = std::fs::read_to_string(&path) {
                let text = if file_name.ends_with(".rs") {
                    // Only the rustdoc: code is held to the ids by the compiler.
                    text.lines()
                        .filter(|l| {
                            let l = l.trim_start();
                            l.starts_with("///") || l.starts_with("//!")
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                } else {
                    text
                };
                out.push((name, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Rule ids and error codes are spelt out by hand only in prose that
/// explains them; none of those mentions may name an id that does not
/// exist: a backticked kebab-case word close to a declared id (a letter or
/// two away, or one inside the other) must be one. A renamed or misspelt
/// id in any doc or rustdoc fails here.
#[test]
fn docs_and_rustdoc_name_only_real_ids() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let declared: BTreeSet<&str> = port_convention::Error::CODES
        .iter()
        .copied()
        .chain(Rule::ALL.iter().map(Rule::id))
        .chain(port_convention::migrate::Code::ALL.iter().map(|c| c.id()))
        .chain(Subject::ALL.iter().map(Subject::as_str))
        .collect();
    // Words of other vocabularies that happen to sit near an id.
    let other_words: BTreeSet<&str> = [
        "invalid-project-name", // a project problem's detail code
        "host-port",
        "env-value",    // a migrate change kind
        "project-name", // a fixture directory
    ]
    .into();
    let files = documentation_files(root);
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut wrong = Vec::new();
    for (name, text) in &files {
        for token in text.split('`').skip(1).step_by(2) {
            let kebab = token.contains('-')
                && token
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !token.starts_with('-')
                && !token.ends_with('-');
            if !kebab || declared.contains(token) || other_words.contains(token) {
                continue;
            }
            let near: Vec<&str> = declared
                .iter()
                .copied()
                .filter(|id| id.contains('-'))
                .filter(|id| {
                    distance(token, id) <= 2
                        || (token.len() >= 8 && (token.contains(id) || id.contains(token)))
                })
                .collect();
            if !near.is_empty() {
                wrong.push(format!("{name}: `{token}` (is it {near:?}?)"));
            }
        }
    }
    assert!(wrong.is_empty(), "not a declared id: {wrong:#?}");
}

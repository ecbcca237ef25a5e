//! The machine output formats of `check`, run through the real binary on a
//! fixture tree that has a clash between two compose files (with related
//! locations), invalid port specs (one with `%` in its message, one with CR
//! LF), warnings, and a compose file whose path holds a space, a comma, a
//! colon and a `%`:
//!
//! - `--format sarif` is validated against the official SARIF 2.1.0 JSON
//!   schema (`tests/schemas/sarif-schema-2.1.0.json`, see the README there)
//!   with a draft-07 validator, formats included;
//! - `--format github` is parsed as GitHub Actions workflow commands and
//!   unescaped, and must give back the JSON output's files and messages;
//! - `--format json` has the documented contract shape;
//! - the exit code is 1 when there are error findings, in every format.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The official SARIF 2.1.0 schema (draft-07), vendored unmodified.
const SARIF_SCHEMA: &str = include_str!("../../tests/schemas/sarif-schema-2.1.0.json");

/// A variable the fixture uses without a default; removed from the child's
/// environment so that it is unset whatever the caller's environment holds.
const UNSET_VARIABLE: &str = "PORT_CONVENTION_OUTPUT_FORMATS_UNSET";

/// The compose file with an awkward path: a space, a comma and a colon in
/// the directory, a `%` in the file name.
const ODD_COMPOSE: &str = "odd dir, with:colon/docker-compose.100%.yml";
/// The same file at a plain path.
const PLAIN_COMPOSE: &str = "b/docker-compose.yml";

const PORTS_YAML: &str = "\
version: 1.0.0
ranges:
  web:
    ports: 3000-3999
services:
  api:
    range: web
    ports:
      http: { port: 3000 }
hosts:
  box: { projects: [\"**\"] }
";

/// Writes the fixture tree under `root`; `clash_file` is the name of the
/// second compose file, whose service clashes with one of the first.
fn write_fixture(root: &Path, clash_file: &str) {
    let write = |name: &str, text: &str| {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    };
    write("ports.yaml", PORTS_YAML);
    write(
        "a/docker-compose.yml",
        &format!(
            "\
services:
  api:
    image: nginx
    ports:
      - \"3000:80\"
  web:
    image: nginx
    ports:
      - \"8080:80\"
      - \"50%:80\"
      - \"99999:80\"
  odd:
    image: nginx
    ports:
      - \"81\\r\\n82:80\"
      - \"${{{UNSET_VARIABLE}}}:80\"
"
        ),
    );
    // A duplicate key: a warning.
    write("a/.env", "FOO=1\nFOO=2\n");
    // Clashes with web's 8080 in a/docker-compose.yml.
    write(
        clash_file,
        "\
services:
  other:
    image: nginx
    ports:
      - \"8080:80\"
",
    );
}

/// A tree with only warnings (a duplicate `.env` key).
fn write_warnings_only_fixture(root: &Path) {
    fs::write(root.join("ports.yaml"), PORTS_YAML).unwrap();
    fs::write(root.join(".env"), "FOO=1\nFOO=2\n").unwrap();
}

fn fixture_with(clash_file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), clash_file);
    dir
}

/// The fixture, with the awkward file name.
fn fixture() -> tempfile::TempDir {
    fixture_with(ODD_COMPOSE)
}

/// Runs `port-convention check . --format FORMAT` in `root`; returns the
/// exit code and standard output.
fn check(root: &Path, format: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .current_dir(root)
        .args(["check", ".", "--format", format, "--color", "never"])
        .env_remove(UNSET_VARIABLE)
        .env("NO_COLOR", "1")
        .output()
        .expect("run port-convention");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let code = output.status.code().expect("exited, not killed");
    assert!(
        code == 0 || code == 1,
        "check --format {format} exited {code}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    (code, stdout)
}

fn json_report(root: &Path) -> Value {
    let (_, stdout) = check(root, "json");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}"))
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings is an array")
}

/// Decodes RFC 3986 percent-encoding; `None` on a `%` that is not followed
/// by two hex digits or on a result that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------- SARIF

/// The `pattern` of `run.language` and `toolComponent.language` in the
/// vendored schema: its lone `]` is a literal only in ECMA-262's Annex B
/// (web-compatibility) grammar, and the validator, which checks the schema
/// against the draft-07 meta-schema first (`"format": "regex"`), rejects it.
const LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
/// The same pattern with the `]` escaped: it matches exactly the same strings.
const LANGUAGE_PATTERN_ESCAPED: &str = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$";

/// Replaces every `"pattern": LANGUAGE_PATTERN` under `value` with the
/// escaped one; returns how many it replaced.
fn escape_language_pattern(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut replaced = 0;
            if let Some(pattern) = map.get_mut("pattern")
                && *pattern == LANGUAGE_PATTERN
            {
                *pattern = Value::from(LANGUAGE_PATTERN_ESCAPED);
                replaced += 1;
            }
            replaced + map.values_mut().map(escape_language_pattern).sum::<usize>()
        }
        Value::Array(items) => items.iter_mut().map(escape_language_pattern).sum(),
        _ => 0,
    }
}

fn sarif_validator() -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-07/schema#",
        "the vendored SARIF schema is the draft-07 one"
    );
    // The file stays as published; only this in-memory copy is patched. If a
    // newer copy no longer has the pattern, drop the patch.
    assert_eq!(
        escape_language_pattern(&mut schema),
        2,
        "run.language and toolComponent.language carry the unescaped pattern"
    );
    jsonschema::draft7::options()
        // `uri`, `uri-reference`, `date-time`... are part of what the schema
        // says; check them too.
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the SARIF schema does not compile: {e}"))
}

/// Every schema violation of `instance`, one per line, with its place in
/// the instance and in the schema.
fn sarif_violations(instance: &Value) -> Vec<String> {
    sarif_validator()
        .iter_errors(instance)
        .map(|e| format!("at {} (schema {}): {e}", e.instance_path(), e.schema_path()))
        .collect()
}

/// The file name an `artifactLocation.uri` stands for: a percent-encoded
/// relative reference (against `SRCROOT`) or a `file://` URI.
fn uri_to_file(uri: &str) -> Option<String> {
    percent_decode(uri.strip_prefix("file://").unwrap_or(uri))
}

/// Runs `--format sarif` on the fixture whose second compose file is
/// `clash_file`: the log must be valid against the schema and say what the
/// JSON output says.
fn assert_sarif_valid_and_faithful(clash_file: &str) {
    let dir = fixture_with(clash_file);
    let (code, stdout) = check(dir.path(), "sarif");
    assert_eq!(code, 1, "error findings exit 1 with --format sarif");
    let sarif: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad SARIF JSON ({e}):\n{stdout}"));

    let violations = sarif_violations(&sarif);
    assert!(
        violations.is_empty(),
        "{} SARIF 2.1.0 schema violation(s):\n{}\n\nthe log:\n{stdout}",
        violations.len(),
        violations.join("\n")
    );

    // The validator does reject what the schema forbids.
    let mut broken = sarif.clone();
    broken["version"] = Value::from("2.0.0");
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(sarif_violations(&broken).len() >= 2);

    // Same findings as the JSON output, in the same order.
    let report = json_report(dir.path());
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results");
    assert_eq!(results.len(), findings(&report).len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let mut related_seen = 0;
    for (result, finding) in results.iter().zip(findings(&report)) {
        assert_eq!(result["ruleId"], finding["rule"]);
        let rule_index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[rule_index]["id"], finding["rule"],
            "ruleIndex points at the rule"
        );
        assert_eq!(result["level"], finding["severity"]);
        assert_eq!(result["message"]["text"], finding["message"]);
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"]
            .as_str()
            .expect("a finding with a file has a location");
        assert_eq!(
            uri_to_file(uri).as_deref(),
            finding["file"].as_str(),
            "artifactLocation.uri {uri:?} is the percent-encoded file name"
        );
        assert_eq!(location["region"]["startLine"], finding["line"]);
        assert_eq!(location["region"]["startColumn"], finding["column"]);
        if let Some(related) = finding["related"].as_array() {
            let sarif_related = result["relatedLocations"]
                .as_array()
                .expect("related findings have relatedLocations");
            assert_eq!(sarif_related.len(), related.len());
            for (s, r) in sarif_related.iter().zip(related) {
                let uri = s["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap();
                assert_eq!(uri_to_file(uri).as_deref(), r["file"].as_str());
                assert_eq!(s["physicalLocation"]["region"]["startLine"], r["line"]);
                related_seen += 1;
            }
        }
    }
    assert!(related_seen >= 2, "the fixture has related locations");
}

#[test]
fn sarif_output_is_valid_against_the_official_schema() {
    assert_sarif_valid_and_faithful(PLAIN_COMPOSE);
}

/// A file name with a space, `,`, `:` or `%` must be percent-encoded in
/// `artifactLocation.uri` (a `uri-reference`; a `:` in the first segment of
/// a relative reference would be read as ending a scheme).
#[test]
fn sarif_output_is_valid_with_an_awkward_file_name() {
    assert_sarif_valid_and_faithful(ODD_COMPOSE);
}

#[test]
fn sarif_of_a_clean_tree_is_valid_too() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ports.yaml"), PORTS_YAML).unwrap();
    let (code, stdout) = check(dir.path(), "sarif");
    assert_eq!(code, 0);
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    let violations = sarif_violations(&sarif);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert_eq!(sarif["runs"][0]["results"], Value::Array(Vec::new()));
}

// ---------------------------------------------------------------- GitHub

/// One parsed workflow command.
#[derive(Debug)]
struct Annotation {
    command: String,
    /// Unescaped property values, in their order.
    properties: Vec<(String, String)>,
    /// The unescaped message.
    message: String,
}

impl Annotation {
    fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The escapes of workflow commands, as the Actions toolkit writes them
/// (actions/toolkit, packages/core/src/command.ts, commit a944251):
///
/// ```ts
/// function escapeData(s: any): string {
///   return toCommandValue(s)
///     .replace(/%/g, '%25')
///     .replace(/\r/g, '%0D')
///     .replace(/\n/g, '%0A')
/// }
///
/// function escapeProperty(s: any): string {
///   return toCommandValue(s)
///     .replace(/%/g, '%25')
///     .replace(/\r/g, '%0D')
///     .replace(/\n/g, '%0A')
///     .replace(/:/g, '%3A')
///     .replace(/,/g, '%2C')
/// }
/// ```
///
/// and the command format there: `::name key=value,key=value::message`.
/// `%` must always start one of the allowed escapes; the characters that
/// must be escaped must not appear raw. Returns the unescaped text.
fn unescape(text: &str, in_property: bool) -> Result<String, String> {
    let allowed: &[(&str, char)] = if in_property {
        &[
            ("%25", '%'),
            ("%0D", '\r'),
            ("%0A", '\n'),
            ("%3A", ':'),
            ("%2C", ','),
        ]
    } else {
        &[("%25", '%'), ("%0D", '\r'), ("%0A", '\n')]
    };
    let forbidden_raw: &[char] = if in_property {
        &['\r', '\n', ':', ',']
    } else {
        &['\r', '\n']
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '%' {
            let (escape, plain) = allowed
                .iter()
                .find(|(escape, _)| rest.starts_with(escape))
                .ok_or_else(|| format!("unescaped or unknown % escape in {text:?}"))?;
            out.push(*plain);
            rest = &rest[escape.len()..];
        } else if forbidden_raw.contains(&c) {
            return Err(format!("raw {c:?} in {text:?}"));
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(out)
}

/// Parses one line of `--format github` strictly: a command GitHub turns
/// into an annotation, known properties, each once, escaped as above.
fn parse_annotation(line: &str) -> Result<Annotation, String> {
    let body = line
        .strip_prefix("::")
        .ok_or_else(|| format!("not a workflow command: {line:?}"))?;
    let (head, message) = body
        .split_once("::")
        .ok_or_else(|| format!("no `::` before the message: {line:?}"))?;
    let (command, properties) = head.split_once(' ').unwrap_or((head, ""));
    if !["error", "warning", "notice"].contains(&command) {
        return Err(format!("unknown command {command:?} in {line:?}"));
    }
    let mut parsed: Vec<(String, String)> = Vec::new();
    let pairs: Vec<&str> = if properties.is_empty() {
        Vec::new()
    } else {
        properties.split(',').collect()
    };
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("property without `=`: {pair:?} in {line:?}"))?;
        if !["file", "line", "endLine", "col", "endColumn", "title"].contains(&key) {
            return Err(format!("unknown property {key:?} in {line:?}"));
        }
        if parsed.iter().any(|(k, _)| k == key) {
            return Err(format!("{key} twice in {line:?}"));
        }
        let value = unescape(value, true)?;
        if ["line", "endLine", "col", "endColumn"].contains(&key)
            && !value.parse::<u32>().is_ok_and(|n| n > 0)
        {
            return Err(format!(
                "{key}={value:?} is not a positive number in {line:?}"
            ));
        }
        parsed.push((key.to_owned(), value));
    }
    Ok(Annotation {
        command: command.to_owned(),
        properties: parsed,
        message: unescape(message, false)?,
    })
}

#[test]
fn the_annotation_parser_follows_the_toolkit_rules() {
    let a = parse_annotation("::error file=a%2Cb%3Ac%25d%0A,line=3,title=t::x%25y%0D%0Az: w, v")
        .unwrap();
    assert_eq!(a.command, "error");
    assert_eq!(a.property("file"), Some("a,b:c%d\n"));
    assert_eq!(a.property("line"), Some("3"));
    assert_eq!(a.message, "x%y\r\nz: w, v");
    let b = parse_annotation("::warning::no properties").unwrap();
    assert!(b.properties.is_empty());
    assert_eq!(b.message, "no properties");
    for bad in [
        "::error file=a:b::m",      // raw `:` in a property
        "::error file=a,b::m",      // raw `,`: `b` is no property
        "::error::50% off",         // raw `%` in the message
        "::error::a%3Ab",           // `%3A` is no message escape
        "::error bogus=1::m",       // unknown property
        "::error line=0::m",        // lines count from 1
        "::error line=1,line=2::m", // twice
        "::debug::m",               // not an annotation
        "error file=a::m",          // no leading `::`
        "::error file=a",           // no message part
    ] {
        assert!(parse_annotation(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn github_annotations_parse_and_round_trip_to_the_json_output() {
    let dir = fixture();
    let (code, stdout) = check(dir.path(), "github");
    assert_eq!(code, 1, "error findings exit 1 with --format github");
    assert!(stdout.ends_with('\n'));
    let annotations: Vec<Annotation> = stdout
        .lines()
        .map(|line| parse_annotation(line).unwrap_or_else(|e| panic!("{e}")))
        .collect();

    let report = json_report(dir.path());
    let findings = findings(&report);
    assert_eq!(
        annotations.len(),
        findings.len(),
        "one line per finding:\n{stdout}"
    );
    for (a, f) in annotations.iter().zip(findings) {
        assert_eq!(a.command, f["severity"].as_str().unwrap());
        assert_eq!(a.property("file"), f["file"].as_str(), "file of {a:?}");
        assert_eq!(
            a.property("line").map(|l| l.parse::<u64>().unwrap()),
            f["line"].as_u64()
        );
        assert_eq!(
            a.property("col").map(|c| c.parse::<u64>().unwrap()),
            f["column"].as_u64()
        );
        let title = a.property("title").expect("a title");
        assert!(
            title.contains(f["rule"].as_str().unwrap()),
            "title {title:?}"
        );
        // The message is the JSON one, plus the suggestion when there is one.
        let message = f["message"].as_str().unwrap();
        match f["suggestion"]["port"].as_u64() {
            None => assert_eq!(a.message, message),
            Some(port) => {
                let extra = a
                    .message
                    .strip_prefix(message)
                    .unwrap_or_else(|| panic!("{:?} does not start with {message:?}", a.message));
                assert!(
                    extra.starts_with(" (")
                        && extra.ends_with(')')
                        && extra.contains(&port.to_string()),
                    "suggestion suffix {extra:?}"
                );
            }
        }
    }

    // The fixture does exercise every escape.
    let files: Vec<&str> = annotations
        .iter()
        .filter_map(|a| a.property("file"))
        .collect();
    assert!(files.contains(&ODD_COMPOSE), "{files:?}");
    assert!(stdout.contains("%2C") && stdout.contains("%3A") && stdout.contains("%25"));
    assert!(stdout.contains("%0D%0A"), "a message with CR LF");
    assert!(annotations.iter().any(|a| a.message.contains('%')));
    assert!(annotations.iter().any(|a| a.command == "warning"));
}

// ---------------------------------------------------------------- JSON

#[test]
fn json_output_has_the_contract_shape() {
    let dir = fixture();
    let (code, stdout) = check(dir.path(), "json");
    assert_eq!(code, 1, "error findings exit 1 with --format json");
    assert_eq!(stdout.lines().count(), 1, "one line of JSON");
    let report: Value = serde_json::from_str(&stdout).unwrap();

    assert_eq!(report["version"], 2);
    let findings = findings(&report);
    assert!(!findings.is_empty());
    let (mut errors, mut warnings) = (0, 0);
    for f in findings {
        assert!(f["rule"].is_string(), "rule of {f}");
        match f["severity"].as_str() {
            Some("error") => errors += 1,
            Some("warning") => warnings += 1,
            other => panic!("severity {other:?} of {f}"),
        }
        assert!(
            f["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message of {f}"
        );
        // Every finding of this fixture is tied to a place in a file.
        assert!(f["file"].is_string(), "file of {f}");
        assert!(f["line"].as_u64().is_some_and(|n| n >= 1), "line of {f}");
        assert!(
            f["column"].as_u64().is_some_and(|n| n >= 1),
            "column of {f}"
        );
        for r in f["related"].as_array().into_iter().flatten() {
            assert!(r["file"].is_string() && r["line"].is_u64() && r["column"].is_u64());
        }
    }
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "duplicate-host-port",
        "invalid-port-spec",
        "duplicate-env-key",
        "unset-variable",
    ] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }

    let summary = report["summary"].as_object().expect("summary");
    let mut keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "errors", "files", "mappings", "projects", "services", "warnings"
        ]
    );
    assert!(summary.values().all(Value::is_u64));
    assert_eq!(summary["errors"], errors);
    assert_eq!(summary["warnings"], warnings);
    // ports.yaml, two compose files and a .env file; api, web, odd, other.
    assert_eq!(summary["files"], 4);
    assert_eq!(summary["services"], 4);
}

// ---------------------------------------------------------------- exit codes

#[test]
fn exit_code_is_1_for_errors_in_every_format() {
    let dir = fixture();
    for format in ["human", "json", "sarif", "github"] {
        let (code, stdout) = check(dir.path(), format);
        assert_eq!(code, 1, "--format {format}:\n{stdout}");
    }
    let warnings_only = tempfile::tempdir().unwrap();
    write_warnings_only_fixture(warnings_only.path());
    for format in ["human", "json", "sarif", "github"] {
        let (code, stdout) = check(warnings_only.path(), format);
        assert_eq!(code, 0, "warnings only, --format {format}:\n{stdout}");
    }
    let report = json_report(warnings_only.path());
    assert_eq!(report["summary"]["errors"], 0);
    assert!(report["summary"]["warnings"].as_u64().unwrap() >= 1);
}

//! Issue #11: `port-convention explain RULE` prints the rule's documentation,
//! derived from the same declaration as SARIF and docs/rules.md.

mod common;

use common::*;
use port_convention::Rule;

#[test]
fn explain_prints_every_field_of_a_rule() {
    let out = run(&["explain", "duplicate-host-port"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let rule = Rule::DuplicateHostPort;
    assert!(
        text.starts_with(&format!("duplicate-host-port: {}\n", rule.summary())),
        "{text}"
    );
    for line in [
        "severity: error",
        "subject:  compose",
        "since:    0.1.0",
        "docs:     https://github.com/port-convention/port-convention/blob/main/docs/rules.md#duplicate-host-port",
        "Why it matters:",
        "How to fix it:",
        "Example (breaks the rule):",
        "    services:",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(stderr(&out).is_empty());
}

#[test]
fn explain_knows_every_rule() {
    for rule in Rule::ALL {
        let out = run(&["explain", rule.id()]);
        assert_eq!(code(&out), 0, "{}", rule.id());
        let text = stdout(&out);
        assert!(
            text.contains(&format!("severity: {}", rule.severity())),
            "{text}"
        );
        assert!(
            text.contains(&format!("subject:  {}", rule.subject())),
            "{text}"
        );
    }
}

#[test]
fn explain_without_a_rule_lists_every_rule() {
    let out = run(&["explain"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), Rule::ALL.len());
    for (line, rule) in text.lines().zip(Rule::ALL) {
        assert!(line.starts_with(rule.id()), "{line}");
        assert!(line.ends_with(rule.summary()), "{line}");
    }
}

#[test]
fn explain_of_an_unknown_rule_is_a_coded_error_with_close_matches() {
    let out = run(&["explain", "out-of-rang"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.starts_with("port-convention: error[unknown-rule]: no rule `out-of-rang`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean out-of-range, env-port-out-of-range?"),
        "{err}"
    );

    let out = run(&["explain", "zzzzzzzz"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("error[unknown-rule]"), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn explain_escapes_a_hostile_rule_id() {
    let out = run(&["explain", "drift\u{1b}[2J\n::error::x"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(!err.contains("\n::"), "{err:?}");
}

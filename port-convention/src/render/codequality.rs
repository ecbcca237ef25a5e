//! GitLab CI's code quality report (a Code Climate subset).

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Severity;
use crate::report::Report;

/// The report as GitLab code quality JSON: one issue per finding with
/// `description`, `check_name` (the rule id), `fingerprint` (SHA-256 of the
/// rule, place and message; repeated findings get distinct ones),
/// `severity` (`major` for errors, `minor` for warnings) and `location`
/// (`path` and `lines.begin`). A finding without a file is placed on
/// `fallback_path` (the convention) at line 1: GitLab needs a path.
///
/// ```
/// use port_convention::{Finding, Location, Rule, report::Report};
/// let f = Finding::new(Rule::Drift, "drifts").at(&Location::new("compose.yaml", 3, 0));
/// let v = port_convention::render::gitlab_code_quality(&Report::new(vec![f], Default::default()), "ports.yaml");
/// assert_eq!(v[0]["location"]["path"], "compose.yaml");
/// assert_eq!(v[0]["location"]["lines"]["begin"], 3);
/// assert_eq!(v[0]["severity"], "major");
/// ```
pub fn gitlab_code_quality(report: &Report, fallback_path: &str) -> serde_json::Value {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let issues: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let path = f.file().unwrap_or(fallback_path).to_owned();
            let line = f.line().unwrap_or(1);
            let mut hasher = Sha256::new();
            for part in [
                f.rule.id(),
                path.as_str(),
                &line.to_string(),
                &f.column().unwrap_or(0).to_string(),
                f.message.as_str(),
            ] {
                hasher.update(part.as_bytes());
                hasher.update([0u8]);
            }
            let base: String = hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            let fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
            let mut description = f.message.clone();
            if let Some(s) = &f.suggestion {
                description.push_str(&format!(" (suggestion: {})", crate::report::suggestion_text(s)));
            }
            json!({
                "description": description,
                "check_name": f.rule.id(),
                "fingerprint": fingerprint,
                "severity": match f.severity { Severity::Error => "major", Severity::Warning => "minor" },
                "location": { "path": path, "lines": { "begin": line } },
            })
        })
        .collect();
    serde_json::Value::Array(issues)
}

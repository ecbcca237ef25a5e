//! Prometheus: `file_sd` scrape targets and alerting rules.

use std::fmt::Write as _;

use serde_json::json;

use super::openmetrics::{FINDINGS, LAST_RUN};
use super::{HostIndex, convention_file_name, range_of, title};
use crate::{Convention, Rule};

/// The names of the alerts [`alert_rules`] defines.
pub mod ids {
    /// A scrape target the convention declares is down.
    pub const TARGET_DOWN: &str = "PortConventionTargetDown";
    /// Something publishes or listens in a protected range without being declared there.
    pub const PROTECTED_RANGE_VIOLATION: &str = "PortConventionProtectedRangeViolation";
    /// Two services claim one host port where they run together.
    pub const CONFLICT: &str = "PortConventionConflict";
    /// Compose or `.env` files disagree with the assigned ports.
    pub const DRIFT: &str = "PortConventionDrift";
    /// A host's audit has not run for two days.
    pub const AUDIT_STALE: &str = "PortConventionAuditStale";
}

/// The value of the `convention` label of targets and of the alerts on them.
pub(crate) fn convention_label(convention: &Convention) -> String {
    title(convention)
}

/// Prometheus `file_sd` JSON: one target group per scraped port
/// (`scrape: true`) and host, `ADDRESS:PORT` with the host's `address` (its
/// name by default; `localhost` for a service on no host), labelled with
/// `convention`, `service`, `port_name`, `range` and `host` (and
/// `__metrics_path__` when the port sets `metrics_path`). Sorted by host,
/// port and service.
pub fn scrape_targets(convention: &Convention) -> String {
    let mut targets = Vec::new();
    let index = HostIndex::new(convention);
    for (s, p) in convention.assignments().filter(|(_, p)| p.scrape) {
        let hosts = index.hosts_of(s);
        let on: Vec<(String, String)> = if hosts.is_empty() {
            vec![(String::new(), "localhost".to_owned())]
        } else {
            hosts
                .into_iter()
                .map(|h| {
                    let address = convention
                        .hosts
                        .iter()
                        .find(|d| d.name == h)
                        .and_then(|d| d.address.clone())
                        .unwrap_or_else(|| h.clone());
                    (h, address)
                })
                .collect()
        };
        for (host, address) in on {
            let mut labels = serde_json::Map::new();
            labels.insert("convention".into(), json!(convention_label(convention)));
            labels.insert("service".into(), json!(s.name));
            labels.insert("port_name".into(), json!(p.name));
            labels.insert(
                "range".into(),
                json!(range_of(convention, s, p).unwrap_or_default()),
            );
            labels.insert("host".into(), json!(host));
            if let Some(path) = &p.metrics_path {
                labels.insert("__metrics_path__".into(), json!(path));
            }
            // An IPv6 literal needs brackets before the port.
            let address = if address.contains(':') && !address.starts_with('[') {
                format!("[{address}]")
            } else {
                address
            };
            targets.push((
                (host, p.port, s.name.clone(), p.name.clone()),
                json!({ "targets": [format!("{address}:{}", p.port)], "labels": labels }),
            ));
        }
    }
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    let list: Vec<serde_json::Value> = targets.into_iter().map(|(_, v)| v).collect();
    let mut text = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A PromQL regex matching exactly these rules' ids.
fn rule_regex(rules: &[Rule]) -> String {
    rules.iter().map(|r| r.id()).collect::<Vec<_>>().join("|")
}

/// The rules' ids as words: `a, b or c`.
fn rule_list(rules: &[Rule]) -> String {
    let ids: Vec<&str> = rules.iter().map(|r| r.id()).collect();
    match ids.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The rules conflicts are made of.
pub(crate) const CONFLICT_RULES: &[Rule] = &[Rule::DuplicateHostPort, Rule::LivePortTaken];
/// The rules protected-range violations are made of.
pub(crate) const PROTECTED_RULES: &[Rule] =
    &[Rule::ProtectedRangeViolation, Rule::LiveUndeclaredListener];
/// The rules drift is made of.
pub(crate) const DRIFT_RULES: &[Rule] = &[Rule::Drift, Rule::EnvDrift];

/// Prometheus alerting rules (a rule file for `rule_files`): a declared
/// target down (`up == 0` for 5 minutes), protected-range violations,
/// conflicts and drift (from `check --format openmetrics` metrics, as soon
/// as an audit reports them), and an audit that stopped reporting.
pub fn alert_rules(convention: &Convention) -> String {
    let name = convention_label(convention);
    let selector = format!("convention={}", q(&name));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Alerting rules of the {} convention, generated from {} by `port-convention render prometheus-rules`; do not edit by hand.",
        name.replace(['\n', '\r'], " "),
        convention_file_name(convention)
    );
    out.push_str("# Findings metrics come from `port-convention check --format openmetrics` on every host (node_exporter textfile collector).\n");
    out.push_str("groups:\n  - name: port-convention\n    rules:\n");
    let mut alert = |alert: &str,
                     expr: String,
                     for_: Option<&str>,
                     severity: &str,
                     summary: &str,
                     description: &str| {
        let _ = writeln!(out, "      - alert: {alert}");
        let _ = writeln!(out, "        expr: {}", q(&expr));
        if let Some(f) = for_ {
            let _ = writeln!(out, "        for: {f}");
        }
        let _ = writeln!(out, "        labels:\n          severity: {severity}");
        let _ = writeln!(
            out,
            "        annotations:\n          summary: {}\n          description: {}",
            q(summary),
            q(description)
        );
    };
    alert(
        ids::TARGET_DOWN,
        format!("up{{{selector}}} == 0"),
        Some("5m"),
        "critical",
        "{{ $labels.service }} ({{ $labels.port_name }}) on {{ $labels.host }} is down",
        "Prometheus cannot scrape {{ $labels.instance }}, a target the port convention declares (range {{ $labels.range }}).",
    );
    let findings = |rules: &[Rule]| {
        format!(
            "sum by (host, instance) ({FINDINGS}{{rule=~{}}}) > 0",
            q(&rule_regex(rules))
        )
    };
    alert(
        ids::PROTECTED_RANGE_VIOLATION,
        findings(PROTECTED_RULES),
        None,
        "critical",
        "Protected port range misused (audit of {{ $labels.instance }})",
        &format!(
            "{{{{ $value }}}} finding(s) of {}: something not declared in a protected range publishes or listens there. Run port-convention check on that host.",
            rule_list(PROTECTED_RULES)
        ),
    );
    alert(
        ids::CONFLICT,
        findings(CONFLICT_RULES),
        None,
        "critical",
        "Host port conflict (audit of {{ $labels.instance }})",
        &format!(
            "{{{{ $value }}}} finding(s) of {}: two services claim one host port where they run together. Run port-convention check on that host.",
            rule_list(CONFLICT_RULES)
        ),
    );
    alert(
        ids::DRIFT,
        findings(DRIFT_RULES),
        Some("1h"),
        "warning",
        "Ports drift from the convention (audit of {{ $labels.instance }})",
        &format!(
            "{{{{ $value }}}} finding(s) of {}: compose or .env files publish other ports than the convention assigns. port-convention migrate moves them.",
            rule_list(DRIFT_RULES)
        ),
    );
    alert(
        ids::AUDIT_STALE,
        format!("time() - {LAST_RUN} > 2 * 86400"),
        Some("10m"),
        "warning",
        "The port audit of {{ $labels.instance }} has not run for two days",
        "The openmetrics file of port-convention check is older than two days: the cron job stopped.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_carry_host_address_and_labels() {
        let c = Convention::from_yaml(
            "ports.yaml",
            "version: 1.0.0
name: demo
ranges:
  exporters: { ports: 9100-9199 }
services:
  node:
    range: exporters
    compose: { file: ops/compose.yaml }
    ports:
      metrics: { port: 9100, scrape: true, metrics_path: /m }
      other: { port: 9101 }
  loose:
    ports: { metrics: { port: 9150, scrape: true } }
hosts:
  a: { projects: [ops], address: 10.0.0.1 }
  b: { projects: [\"ops/**\"] }
  c: { projects: [ops], address: \"fe80::1\" }
",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&scrape_targets(&c)).unwrap();
        let targets: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["targets"][0].as_str().unwrap())
            .collect();
        assert_eq!(
            targets,
            [
                "localhost:9150",
                "10.0.0.1:9100",
                "b:9100",
                "[fe80::1]:9100"
            ]
        );
        assert_eq!(v[1]["labels"]["host"], "a");
        assert_eq!(v[1]["labels"]["range"], "exporters");
        assert_eq!(v[1]["labels"]["__metrics_path__"], "/m");
        assert_eq!(v[0]["labels"]["range"], "exporters");
        assert_eq!(v[0]["labels"]["convention"], "demo");
    }
}

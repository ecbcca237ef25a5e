//! `check --format openmetrics`: findings as metrics for node_exporter's
//! textfile collector, so that a cron audit on every host feeds Prometheus.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{occupancy, title};
use crate::report::Report;
use crate::{Convention, Rule};

/// Findings by rule, severity and host.
pub(crate) const FINDINGS: &str = "port_convention_findings";
/// When the audit ran.
pub(crate) const LAST_RUN: &str = "port_convention_last_run_timestamp_seconds";

/// A gauge family of range occupancy: name, help, value.
type Family = (&'static str, &'static str, fn(&super::Occupancy) -> u32);

/// An OpenMetrics label value: `\`, `"` and line feeds escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics of one check run, in the OpenMetrics text format (which the
/// Prometheus text parser of node_exporter's textfile collector reads too:
/// only gauges, `# UNIT` and `# EOF` are comments to it):
///
/// - `port_convention_findings{rule,severity,host}`: findings of the run;
///   every rule is present (0 when clean) with its severity and `host=""`,
///   findings about a host of the convention carry its name (when the
///   node_exporter is itself a declared target, its target label `host`
///   wins and this one is stored as `exported_host`);
/// - `port_convention_range_ports`, `..._assigned_ports`, `..._reserved_ports`,
///   `..._free_ports` `{range_name}`: the occupancy of every range (not
///   `range`, which the scrape targets of `render prometheus-targets` carry:
///   a node_exporter declared as a target would rename it `exported_range`);
/// - `port_convention_convention{convention,version}` 1;
/// - `port_convention_last_run_timestamp_seconds`: `now` (Unix seconds).
///
/// ```
/// use port_convention::report::Report;
/// let text = port_convention::render::openmetrics(&Report::new(vec![], Default::default()), None, 1.5);
/// assert!(text.contains("port_convention_findings{rule=\"drift\",severity=\"error\",host=\"\"} 0\n"));
/// assert!(text.ends_with("port_convention_last_run_timestamp_seconds 1.500\n# EOF\n"));
/// ```
pub fn openmetrics(report: &Report, convention: Option<&Convention>, now: f64) -> String {
    let mut counts: BTreeMap<(&str, &str, String), u64> = BTreeMap::new();
    for rule in Rule::ALL {
        counts.insert((rule.id(), rule.severity().as_str(), String::new()), 0);
    }
    for f in &report.findings {
        *counts
            .entry((
                f.rule.id(),
                f.severity.as_str(),
                f.host.clone().unwrap_or_default(),
            ))
            .or_insert(0) += 1;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# TYPE {FINDINGS} gauge\n# HELP {FINDINGS} Findings of the last port-convention check, by rule, severity and host."
    );
    for ((rule, severity, host), n) in &counts {
        let _ = writeln!(
            out,
            "{FINDINGS}{{rule=\"{}\",severity=\"{}\",host=\"{}\"}} {n}",
            label(rule),
            label(severity),
            label(host)
        );
    }
    if let Some(c) = convention {
        let _ = writeln!(
            out,
            "# TYPE port_convention_convention gauge\n# HELP port_convention_convention The convention the check used (always 1).\nport_convention_convention{{convention=\"{}\",version=\"{}\"}} 1",
            label(&title(c)),
            label(&c.version.to_string())
        );
        let occ = occupancy(c);
        let families: [Family; 4] = [
            (
                "port_convention_range_ports",
                "Ports in each range of the convention.",
                |o| o.size,
            ),
            (
                "port_convention_range_assigned_ports",
                "Ports of each range assigned to a service.",
                |o| o.assigned,
            ),
            (
                "port_convention_range_reserved_ports",
                "Ports of each range kept free by a reserved range.",
                |o| o.reserved,
            ),
            (
                "port_convention_range_free_ports",
                "Ports of each range still free for assignment.",
                |o| o.free,
            ),
        ];
        for (name, help, value) in families {
            let _ = writeln!(out, "# TYPE {name} gauge\n# HELP {name} {help}");
            let mut rows: Vec<(String, u32)> = c
                .ranges
                .iter()
                .zip(&occ)
                .map(|(r, o)| (r.name.clone(), value(o)))
                .collect();
            rows.sort();
            for (range, v) in rows {
                let _ = writeln!(out, "{name}{{range_name=\"{}\"}} {v}", label(&range));
            }
        }
    }
    let _ = writeln!(
        out,
        "# TYPE {LAST_RUN} gauge\n# UNIT {LAST_RUN} seconds\n# HELP {LAST_RUN} When the check ran (Unix time).\n{LAST_RUN} {now:.3}\n# EOF"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Finding;

    #[test]
    fn findings_are_counted_by_rule_severity_and_host_with_escaped_labels() {
        let mut a = Finding::new(Rule::DuplicateHostPort, "x");
        a.host = Some("h\"1\\\n".into());
        let b = a.clone();
        let c = Finding::new(Rule::Drift, "y");
        let report = Report::new(vec![a, b, c], Default::default());
        let text = openmetrics(&report, None, 0.0);
        assert!(
            text.contains("port_convention_findings{rule=\"duplicate-host-port\",severity=\"error\",host=\"h\\\"1\\\\\\n\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "port_convention_findings{rule=\"drift\",severity=\"error\",host=\"\"} 1\n"
            )
        );
        assert!(text.contains("port_convention_findings{rule=\"duplicate-host-port\",severity=\"error\",host=\"\"} 0\n"));
    }
}

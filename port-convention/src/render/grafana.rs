//! A Grafana dashboard: a database overview (declared targets up, per host)
//! and port usage (findings over time, range occupancy).

use serde_json::{Value, json};

use super::openmetrics::{FINDINGS, LAST_RUN};
use super::prometheus::convention_label;

/// A dashboard uid from the convention's name: lower-case letters, digits
/// and `-`, at most 40 characters (Grafana's limit).
fn uid(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut uid = format!("ports-{}", slug.trim_matches('-'));
    uid.truncate(40);
    uid
}

fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": "${datasource}" })
}

/// One panel with its queries (expr, legend).
fn panel(
    id: u32,
    kind: &str,
    title: &str,
    grid: (u32, u32, u32, u32),
    queries: &[(&str, &str)],
    unit: &str,
    options: Value,
) -> Value {
    let targets: Vec<Value> = queries
        .iter()
        .zip(["A", "B", "C", "D"])
        .map(|((expr, legend), ref_id)| {
            json!({
                "datasource": datasource(),
                "expr": expr,
                "legendFormat": legend,
                "refId": ref_id,
                "instant": kind != "timeseries",
                "range": kind == "timeseries",
            })
        })
        .collect();
    json!({
        "id": id,
        "type": kind,
        "title": title,
        "datasource": datasource(),
        "gridPos": { "x": grid.0, "y": grid.1, "w": grid.2, "h": grid.3 },
        "targets": targets,
        "fieldConfig": { "defaults": { "unit": unit }, "overrides": [] },
        "options": options,
    })
}

fn row(id: u32, title: &str, y: u32) -> Value {
    json!({
        "id": id,
        "type": "row",
        "title": title,
        "collapsed": false,
        "gridPos": { "x": 0, "y": y, "w": 24, "h": 1 },
        "panels": [],
    })
}

/// The dashboard JSON (Grafana 10/11, `schemaVersion` 39; import it or
/// provision it), its queries on a `datasource` variable of type Prometheus.
/// Every `expr` is plain PromQL without Grafana variables, so it can be
/// evaluated as is.
pub fn grafana_dashboard(convention: &crate::Convention) -> String {
    let name = convention_label(convention);
    let sel = format!(
        "{{convention={}}}",
        serde_json::to_string(&name).unwrap_or_default()
    );
    let up_by_host = format!("sum by (host) (up{sel})");
    let down_by_host = format!("sum by (host) (1 - up{sel})");
    let targets = format!("up{sel}");
    let by_rule = format!("sum by (rule, severity) ({FINDINGS})");
    let by_host = format!("sum by (instance, host) ({FINDINGS})");
    let occupancy = "max by (range_name) (port_convention_range_assigned_ports) / max by (range_name) (port_convention_range_ports)".to_owned();
    let free = "min by (range_name) (port_convention_range_free_ports)".to_owned();
    let age = format!("time() - max by (instance) ({LAST_RUN})");
    let stat = json!({ "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false }, "colorMode": "value", "graphMode": "none", "textMode": "value_and_name" });
    let panels = vec![
        row(1, "Database overview", 0),
        panel(
            2,
            "stat",
            "Declared targets up, per host",
            (0, 1, 8, 6),
            &[(&up_by_host, "{{host}}")],
            "none",
            stat.clone(),
        ),
        panel(
            3,
            "stat",
            "Declared targets down, per host",
            (8, 1, 8, 6),
            &[(&down_by_host, "{{host}}")],
            "none",
            stat.clone(),
        ),
        panel(
            4,
            "table",
            "Declared targets",
            (16, 1, 8, 6),
            &[(&targets, "")],
            "none",
            json!({ "showHeader": true }),
        ),
        row(5, "Port usage", 7),
        panel(
            6,
            "timeseries",
            "Findings by rule and severity",
            (0, 8, 12, 8),
            &[(&by_rule, "{{rule}} ({{severity}})")],
            "none",
            json!({ "legend": { "displayMode": "table", "placement": "right", "showLegend": true } }),
        ),
        panel(
            7,
            "timeseries",
            "Findings per audited host",
            (12, 8, 12, 8),
            &[(&by_host, "{{instance}} {{host}}")],
            "none",
            json!({ "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true } }),
        ),
        panel(
            8,
            "bargauge",
            "Range occupancy (assigned / ports)",
            (0, 16, 12, 8),
            &[(&occupancy, "{{range_name}}")],
            "percentunit",
            json!({ "orientation": "horizontal", "displayMode": "gradient", "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false } }),
        ),
        panel(
            9,
            "bargauge",
            "Free ports per range",
            (12, 16, 6, 8),
            &[(&free, "{{range_name}}")],
            "none",
            json!({ "orientation": "horizontal", "displayMode": "basic", "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false } }),
        ),
        panel(
            10,
            "stat",
            "Time since the last audit",
            (18, 16, 6, 8),
            &[(&age, "{{instance}}")],
            "s",
            stat,
        ),
    ];
    let dashboard = json!({
        "title": format!("Ports: {name}"),
        "uid": uid(&name),
        "description": format!("Generated from the {name} port convention (version {}) by port-convention render grafana.", convention.version),
        "tags": ["port-convention"],
        "editable": true,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "time": { "from": "now-7d", "to": "now" },
        "timepicker": {},
        "timezone": "",
        "refresh": "5m",
        "annotations": { "list": [] },
        "links": [],
        "templating": { "list": [{
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
            "options": [],
        }]},
        "panels": panels,
    });
    let mut text = serde_json::to_string_pretty(&dashboard).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_have_unique_ids_fit_the_grid_and_query_the_datasource_variable() {
        let c = crate::Convention::from_yaml("ports.yaml", "version: 1.0.0\nname: \"a\\\"b\"\n")
            .unwrap();
        let d: Value = serde_json::from_str(&grafana_dashboard(&c)).unwrap();
        assert_eq!(d["schemaVersion"], 39);
        assert_eq!(d["templating"]["list"][0]["name"], "datasource");
        assert_eq!(d["templating"]["list"][0]["query"], "prometheus");
        let panels = d["panels"].as_array().unwrap();
        let mut ids = std::collections::BTreeSet::new();
        let mut cells = std::collections::BTreeSet::new();
        for p in panels {
            assert!(ids.insert(p["id"].as_u64().unwrap()), "unique ids");
            let g = &p["gridPos"];
            let (x, y, w, h) = (
                g["x"].as_u64().unwrap(),
                g["y"].as_u64().unwrap(),
                g["w"].as_u64().unwrap(),
                g["h"].as_u64().unwrap(),
            );
            assert!(x + w <= 24, "{p}");
            for cx in x..x + w {
                for cy in y..y + h {
                    assert!(cells.insert((cx, cy)), "panels overlap at {cx},{cy}: {p}");
                }
            }
            for t in p["targets"].as_array().into_iter().flatten() {
                assert_eq!(t["datasource"]["uid"], "${datasource}");
                let expr = t["expr"].as_str().unwrap();
                assert!(!expr.contains('$'), "no Grafana variables in {expr}");
            }
        }
        // The name is quoted as a PromQL string.
        assert!(
            d["panels"][1]["targets"][0]["expr"]
                .as_str()
                .unwrap()
                .contains("convention=\"a\\\"b\"")
        );
    }

    #[test]
    fn uids_are_short_slugs() {
        assert_eq!(uid("Trading System!"), "ports-trading-system");
        assert_eq!(uid(&"x".repeat(100)).len(), 40);
    }
}

//! The rendered Prometheus files and `check --format openmetrics` against
//! the real components (Debian's `prometheus`, `promtool`,
//! `prometheus-node-exporter`; `scripts/prometheus-test-env.sh` installs
//! them): promtool accepts the rules and the metrics; a real Prometheus on
//! 127.0.0.1 loads the rendered rules and file_sd targets and scrapes a real
//! node_exporter whose textfile collector reads the openmetrics file; the
//! conflict alert fires for a tree with a clash and not for a clean one;
//! every PromQL expression of the Grafana dashboard evaluates.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{code, output_text, repo, run, run_in, stdout};

/// The binaries, or a visible SKIPPED (a failure under CI=true).
fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let find = |name: &str| -> Option<PathBuf> {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    match (
        find("prometheus"),
        find("promtool"),
        find("prometheus-node-exporter").or_else(|| find("node_exporter")),
    ) {
        (Some(p), Some(t), Some(n)) => Some((p, t, n)),
        _ => {
            common::skip_or_fail_in_ci(
                "prometheus, promtool or prometheus-node-exporter not installed (bash scripts/prometheus-test-env.sh installs them as root)",
            );
            None
        }
    }
}

#[test]
fn promtool_accepts_the_rendered_rules_and_the_openmetrics_output() {
    let Some((_, promtool, _)) = tools() else {
        return;
    };
    let rules = repo().join("examples/trading-system/generated/prometheus-rules.yml");
    let out = Command::new(&promtool)
        .arg("check")
        .arg("rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        stdout(&out).contains("SUCCESS: 5 rules found"),
        "{}",
        output_text(&out)
    );
    let metrics = run(&[
        "check",
        "examples/trading-system",
        "--format",
        "openmetrics",
    ]);
    assert_eq!(code(&metrics), 1, "{}", output_text(&metrics));
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&metrics.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(stdout(&out), "", "no lint problems: {}", output_text(&out));
}

/// A daemon stopped (by its own id) when the test ends, however it ends.
struct Daemon {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(name: &'static str, program: &Path, args: &[String], log: PathBuf) -> Daemon {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        Daemon { child, name, log }
    }

    /// Its log, for failure messages; panics when it has exited.
    fn alive(&mut self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{log}", self.name);
        }
        log
    }
}

/// A port free on 127.0.0.1 below the ephemeral range (so that the
/// convention holding it draws no ephemeral-port warning), and the next one.
fn free_port_pair() -> u16 {
    let start = 20000 + (std::process::id() % 5000) as u16 * 2;
    (start..30000)
        .step_by(2)
        .find(|p| {
            TcpListener::bind(("127.0.0.1", *p)).is_ok()
                && TcpListener::bind(("127.0.0.1", *p + 1)).is_ok()
        })
        .expect("a free port pair")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// Percent-encodes a query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// GET over HTTP/1.0 (no client library needed); (status, body).
fn http_get(port: u16, target: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {target} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// An instant query (at `time`, if given): the `data.result` array. Panics
/// when Prometheus says the query is bad.
fn query(port: u16, promql: &str, time: Option<f64>) -> Vec<serde_json::Value> {
    let mut target = format!("/api/v1/query?query={}", encode(promql));
    if let Some(t) = time {
        target.push_str(&format!("&time={t}"));
    }
    let Some((status, body)) = http_get(port, &target) else {
        // Not listening yet (or any more): no data.
        return Vec::new();
    };
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert!(
        status == 200 && value["status"] == "success",
        "query {promql:?} failed ({status}): {body}"
    );
    value["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls `probe` until it gives a value, for at most two minutes (a
/// readiness bound, not a speed goal).
fn wait_for<T>(what: &str, daemons: &mut [&mut Daemon], mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        let logs: Vec<String> = daemons.iter_mut().map(|d| d.alive()).collect();
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}; logs:\n{}",
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Writes the openmetrics of `check` on `tree` into the textfile
/// directory, as a cron job would (a scratch file renamed into place).
fn publish_metrics(tree: &Path, textfile_dir: &Path) -> i32 {
    let out = run_in(tree, &["check", "--format", "openmetrics"]);
    let scratch = textfile_dir.join("port_convention.prom.tmp");
    std::fs::write(&scratch, &out.stdout).unwrap();
    std::fs::rename(&scratch, textfile_dir.join("port_convention.prom")).unwrap();
    code(&out)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn prometheus_scrapes_the_rendered_targets_and_the_conflict_alert_fires_only_for_a_clash() {
    let Some((prometheus, promtool, node_exporter)) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ne_port = free_port_pair();
    let prom_port = free_port();
    // The convention: node_exporter and a target nothing serves are
    // declared scrape targets on host e2e-host (127.0.0.1); a protected
    // database range.
    let tree = dir.path().join("tree");
    let convention = format!(
        "version: 1.0.0
name: e2e
ranges:
  databases: {{ ports: 7000-7999, protected: true }}
  monitoring: {{ ports: {ne_port}-{down} }}
services:
  node-exporter:
    range: monitoring
    compose: {{ file: ops/compose.yaml }}
    ports: {{ metrics: {{ port: {ne_port}, scrape: true }} }}
  missing-target:
    range: monitoring
    compose: {{ file: ops/compose.yaml }}
    ports: {{ metrics: {{ port: {down}, scrape: true }} }}
  pg:
    range: databases
    compose: {{ file: apps/a/compose.yaml }}
    ports: {{ sql: {{ port: 7000, env: PG_PORT, container: 5432 }} }}
hosts:
  e2e-host: {{ projects: [ops, \"apps/**\"], address: 127.0.0.1 }}
",
        down = ne_port + 1
    );
    write(&tree.join("ports.yaml"), &convention);
    write(
        &tree.join("ops/compose.yaml"),
        &format!(
            "services:\n  node-exporter:\n    image: prom/node-exporter\n    ports: [\"{ne_port}:9100\"]\n  missing-target:\n    image: busybox\n    ports: [\"{}:9100\"]\n",
            ne_port + 1
        ),
    );
    write(
        &tree.join("apps/a/compose.yaml"),
        "services:\n  pg:\n    image: postgres\n    ports: [\"127.0.0.1:${PG_PORT:-7000}:5432\"]\n",
    );
    let clean = run_in(&tree, &["check"]);
    assert_eq!(
        code(&clean),
        0,
        "the clean tree is clean: {}",
        output_text(&clean)
    );

    // Rendered rules and targets, and a recording rule appended to the
    // rendered group: rules of a group are evaluated in order, so once
    // `e2e:evaluated` has a sample, the alerts before it were evaluated on
    // the same data.
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    let rules = run_in(&tree, &["render", "prometheus-rules"]);
    assert_eq!(code(&rules), 0, "{}", output_text(&rules));
    let mut rules_text = stdout(&rules);
    rules_text
        .push_str("      - record: e2e:evaluated\n        expr: count(port_convention_findings)\n");
    write(&prom_dir.join("rules.yml"), &rules_text);
    let out = run_in(
        &tree,
        &[
            "render",
            "prometheus-targets",
            "--out",
            prom_dir.join("targets.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    let targets = std::fs::read_to_string(prom_dir.join("targets.json")).unwrap();
    assert!(
        targets.contains(&format!("\"127.0.0.1:{ne_port}\"")),
        "{targets}"
    );
    write(
        &prom_dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: port-convention\n    file_sd_configs:\n      - files: [targets.json]\n        refresh_interval: 1s\n",
    );
    let out = Command::new(&promtool)
        .arg("check")
        .arg("config")
        .arg(prom_dir.join("prometheus.yml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));

    // node_exporter reads the openmetrics file of the clean tree.
    let textfiles = dir.path().join("textfile");
    std::fs::create_dir_all(&textfiles).unwrap();
    assert_eq!(publish_metrics(&tree, &textfiles), 0);
    let mut exporter = Daemon::start(
        "node_exporter",
        &node_exporter,
        &[
            format!("--web.listen-address=127.0.0.1:{ne_port}"),
            "--collector.disable-defaults".into(),
            "--collector.textfile".into(),
            format!("--collector.textfile.directory={}", textfiles.display()),
        ],
        dir.path().join("node_exporter.log"),
    );
    let mut server = Daemon::start(
        "prometheus",
        &prometheus,
        &[
            format!(
                "--config.file={}",
                prom_dir.join("prometheus.yml").display()
            ),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
            "--web.enable-lifecycle".into(),
        ],
        dir.path().join("prometheus.log"),
    );

    wait_for(
        "Prometheus ready",
        &mut [&mut exporter, &mut server],
        || http_get(prom_port, "/-/ready").filter(|(status, _)| *status == 200),
    );
    // The textfile collector's metrics reach Prometheus through the
    // rendered file_sd target, labelled from the convention.
    let series = wait_for(
        "the findings series",
        &mut [&mut exporter, &mut server],
        || {
            let r = query(
                prom_port,
                "port_convention_findings{rule=\"duplicate-host-port\"}",
                None,
            );
            (!r.is_empty()).then_some(r)
        },
    );
    let labels = &series[0]["metric"];
    assert_eq!(labels["service"], "node-exporter", "{labels}");
    // The exporter is a declared target: its target labels win over the
    // metric's own `host` (stored as `exported_host`, empty here).
    assert_eq!(labels["host"], "e2e-host", "{labels}");
    assert_eq!(labels["range"], "monitoring", "{labels}");
    assert_eq!(labels["convention"], "e2e", "{labels}");
    assert_eq!(series[0]["value"][1], "0", "clean: {series:?}");
    let up = query(
        prom_port,
        "up{convention=\"e2e\",service=\"node-exporter\",host=\"e2e-host\"}",
        None,
    );
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0]["value"][1], "1");
    let occupancy = query(
        prom_port,
        "port_convention_range_assigned_ports{range_name=\"monitoring\"}",
        None,
    );
    assert_eq!(occupancy[0]["value"][1], "2", "{occupancy:?}");

    // A rule evaluation saw the clean metrics: no conflict alert then;
    // the declared target nobody serves is pending as down.
    let evaluated_at = wait_for(
        "a rule evaluation on the data",
        &mut [&mut exporter, &mut server],
        || {
            let r = query(prom_port, "e2e:evaluated", None);
            r.first().and_then(|s| s["value"][0].as_f64())
        },
    );
    let conflict = format!(
        "ALERTS{{alertname=\"{}\"}}",
        port_convention::render::alert_ids::CONFLICT
    );
    assert!(
        query(prom_port, &conflict, Some(evaluated_at)).is_empty(),
        "no conflict alert for the clean tree"
    );
    wait_for(
        "the target-down alert pending",
        &mut [&mut exporter, &mut server],
        || {
            let r = query(
                prom_port,
                &format!(
                    "ALERTS{{alertname=\"{}\",service=\"missing-target\",alertstate=\"pending\"}}",
                    port_convention::render::alert_ids::TARGET_DOWN
                ),
                None,
            );
            (!r.is_empty()).then_some(())
        },
    );

    // A clash: another project on the host publishes the database's port.
    write(
        &tree.join("apps/b/compose.yaml"),
        "services:\n  intruder:\n    image: nginx\n    ports: [\"127.0.0.1:7000:80\"]\n",
    );
    assert_eq!(
        publish_metrics(&tree, &textfiles),
        1,
        "the clash is an error"
    );
    let firing = wait_for(
        "the conflict alert firing",
        &mut [&mut exporter, &mut server],
        || {
            let r = query(
                prom_port,
                &format!(
                    "ALERTS{{alertname=\"{}\",alertstate=\"firing\"}}",
                    port_convention::render::alert_ids::CONFLICT
                ),
                None,
            );
            (!r.is_empty()).then_some(r)
        },
    );
    assert_eq!(firing[0]["metric"]["host"], "e2e-host", "{firing:?}");
    assert_eq!(firing[0]["metric"]["severity"], "critical", "{firing:?}");
    wait_for(
        "the protected-range alert firing",
        &mut [&mut exporter, &mut server],
        || {
            let r = query(
                prom_port,
                &format!(
                    "ALERTS{{alertname=\"{}\",alertstate=\"firing\"}}",
                    port_convention::render::alert_ids::PROTECTED_RANGE_VIOLATION
                ),
                None,
            );
            (!r.is_empty()).then_some(())
        },
    );
    let found = query(
        prom_port,
        "sum(port_convention_findings{rule=\"duplicate-host-port\"})",
        None,
    );
    assert_eq!(found[0]["value"][1], "2", "{found:?}");

    // Every expression of the dashboard evaluates (and the findings panel
    // has data).
    let dashboard = run_in(&tree, &["render", "grafana"]);
    let dashboard: serde_json::Value = serde_json::from_slice(&dashboard.stdout).unwrap();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push((
                panel["title"].as_str().unwrap().to_owned(),
                target["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert!(exprs.len() >= 8, "{exprs:?}");
    for (title, expr) in &exprs {
        let result = query(prom_port, expr, None);
        if title.starts_with("Findings by rule")
            || title.starts_with("Range occupancy")
            || title.starts_with("Declared targets up")
        {
            assert!(!result.is_empty(), "{title}: {expr} has data");
        }
    }
}

//! Files generated from a convention, so that they can never disagree with
//! `ports.yaml`: the convention document with its port map, `.env` files,
//! Prometheus targets and alerting rules, a Grafana dashboard; and the
//! machine formats of a check report (OpenMetrics for node_exporter's
//! textfile collector, GitLab code quality).
//!
//! Every function here is pure and deterministic: same input, same bytes
//! (sorted, no timestamps; the OpenMetrics run time is a parameter).
//!
//! ```
//! use port_convention::{Convention, render};
//! let text = "version: 1.0.0
//! name: demo
//! ranges:
//!   databases: { ports: 7000-7099, protected: true }
//! services:
//!   postgres:
//!     range: databases
//!     ports: { sql: { port: 7000, env: POSTGRES_PORT, container: 5432 } }
//! ";
//! let convention = Convention::from_yaml("ports.yaml", text)?;
//! let doc = render::markdown(&convention, &render::MarkdownOptions::default());
//! assert!(doc.contains("| `postgres` | `sql` | 7000 | 5432 |"));
//! let env = render::env(&convention, render::EnvFlavour::Env);
//! assert!(env.contains("POSTGRES_PORT=7000\n"));
//! # Ok::<(), port_convention::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::{Convention, PortAssignment, ServiceDef};

mod codequality;
mod env;
mod grafana;
mod markdown;
mod openmetrics;
mod prometheus;
mod svg;

pub use codequality::gitlab_code_quality;
pub use env::{EnvFlavour, env};
pub use grafana::grafana_dashboard;
pub use markdown::{MarkdownOptions, markdown};
pub use openmetrics::openmetrics;
pub use prometheus::{alert_rules, ids as alert_ids, scrape_targets};
pub use svg::svg;

/// What `port-convention render` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `PORTS-CONVENTION.md` (with its port map, `PORTS-CONVENTION.svg`).
    Markdown,
    /// The SVG port map alone.
    Svg,
    /// A `.env` with every port variable.
    Env,
    /// A `.env.example` with every port variable.
    EnvExample,
    /// Prometheus `file_sd` JSON of the declared scrape targets.
    PrometheusTargets,
    /// Prometheus alerting rules.
    PrometheusRules,
    /// A Grafana dashboard.
    Grafana,
}

impl Kind {
    /// Every kind.
    pub const ALL: &'static [Kind] = &[
        Kind::Markdown,
        Kind::Svg,
        Kind::Env,
        Kind::EnvExample,
        Kind::PrometheusTargets,
        Kind::PrometheusRules,
        Kind::Grafana,
    ];

    /// The name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Markdown => "markdown",
            Kind::Svg => "svg",
            Kind::Env => "env",
            Kind::EnvExample => "env-example",
            Kind::PrometheusTargets => "prometheus-targets",
            Kind::PrometheusRules => "prometheus-rules",
            Kind::Grafana => "grafana",
        }
    }

    /// The usual file name of the output.
    pub const fn default_file_name(self) -> &'static str {
        match self {
            Kind::Markdown => "PORTS-CONVENTION.md",
            Kind::Svg => "PORTS-CONVENTION.svg",
            Kind::Env => ".env",
            Kind::EnvExample => ".env.example",
            Kind::PrometheusTargets => "prometheus-targets.json",
            Kind::PrometheusRules => "prometheus-rules.yml",
            Kind::Grafana => "grafana-dashboard.json",
        }
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Its file name, beside the file the caller asked for (the first file
    /// is that one).
    pub name: String,
    /// Its content.
    pub text: String,
}

/// Renders `kind` for a file called `file_name` (a bare name; it only
/// matters for markdown, which links its port map `STEM.svg` and comes with
/// it as a second file).
///
/// ```
/// use port_convention::{Convention, render};
/// let c = Convention::from_yaml("ports.yaml", "version: 1.0.0\n")?;
/// let files = render::render(render::Kind::Markdown, &c, "PORTS.md");
/// assert_eq!(files[1].name, "PORTS.svg");
/// assert!(files[0].text.contains("](PORTS.svg)"));
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn render(kind: Kind, convention: &Convention, file_name: &str) -> Vec<RenderedFile> {
    let one = |text: String| {
        vec![RenderedFile {
            name: file_name.to_owned(),
            text,
        }]
    };
    match kind {
        Kind::Markdown => {
            let stem = file_name
                .rsplit_once('.')
                .map(|(stem, _)| stem)
                .filter(|s| !s.is_empty())
                .unwrap_or(file_name);
            let svg_name = format!("{stem}.svg");
            let options = MarkdownOptions {
                svg_href: Some(svg_name.clone()),
            };
            vec![
                RenderedFile {
                    name: file_name.to_owned(),
                    text: markdown(convention, &options),
                },
                RenderedFile {
                    name: svg_name,
                    text: svg(convention),
                },
            ]
        }
        Kind::Svg => one(svg(convention)),
        Kind::Env => one(env(convention, EnvFlavour::Env)),
        Kind::EnvExample => one(env(convention, EnvFlavour::Example)),
        Kind::PrometheusTargets => one(scrape_targets(convention)),
        Kind::PrometheusRules => one(alert_rules(convention)),
        Kind::Grafana => one(grafana_dashboard(convention)),
    }
}

/// A unified diff from `old` (the file as it is, called `old_name`) to
/// `new` (as rendered), with 3 lines of context; empty when they are equal.
///
/// ```
/// let diff = port_convention::render::unified_diff("a\nb\n", "a\nc\n", "F", "F (rendered)");
/// assert!(diff.starts_with("--- F\n+++ F (rendered)\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"));
/// ```
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = similar::TextDiff::from_lines(old, new);
    let mut text = diff
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    // Line by line: a terminal shows the diff, so nothing in it may act.
    text.lines()
        .map(|l| crate::report::escape_text(l) + "\n")
        .collect()
}

/// How full a range is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Occupancy {
    /// Ports in the range.
    pub size: u32,
    /// Distinct ports assigned inside it (sub-ranges included).
    pub assigned: u32,
    /// Ports inside it that a reserved range keeps free (all of them when
    /// the range itself is reserved).
    pub reserved: u32,
    /// Ports still free for assignment: neither assigned nor reserved.
    pub free: u32,
}

/// The occupancy of every range, in [`Convention::ranges`] order, in
/// O((ranges + assignments) log) time.
pub fn occupancy(convention: &Convention) -> Vec<Occupancy> {
    let reserved = reserved_intervals(convention);
    let assigned: Vec<u16> = assigned_ports(convention).into_iter().collect();
    let not_reserved: Vec<u16> = assigned
        .iter()
        .copied()
        .filter(|p| !in_intervals(&reserved, *p))
        .collect();
    // Prefix sums of the merged reserved intervals' sizes.
    let mut prefix = Vec::with_capacity(reserved.len() + 1);
    prefix.push(0u32);
    for &(s, e) in &reserved {
        let last = prefix.last().copied().unwrap_or(0);
        prefix.push(last + (u32::from(e) - u32::from(s) + 1));
    }
    let reserved_up_to = |port: u32| -> u32 {
        // Reserved ports below `port` (exclusive).
        let i = reserved.partition_point(|&(s, _)| u32::from(s) < port);
        let mut total = prefix.get(i).copied().unwrap_or(0);
        if let Some(&(s, e)) = i.checked_sub(1).and_then(|j| reserved.get(j))
            && u32::from(e) >= port
        {
            let full = u32::from(e) - u32::from(s) + 1;
            total = total - full + (port - u32::from(s));
        }
        total
    };
    let count_in = |ports: &[u16], start: u16, end: u16| -> u32 {
        let lo = ports.partition_point(|p| *p < start);
        let hi = ports.partition_point(|p| *p <= end);
        u32::try_from(hi.saturating_sub(lo)).unwrap_or(u32::MAX)
    };
    convention
        .ranges
        .iter()
        .map(|r| {
            let (start, end) = (r.ports.start(), r.ports.end());
            let size = u32::from(end) - u32::from(start) + 1;
            let reserved_here =
                reserved_up_to(u32::from(end) + 1) - reserved_up_to(u32::from(start));
            let assigned_here = count_in(&assigned, start, end);
            let free_assigned = count_in(&not_reserved, start, end);
            Occupancy {
                size,
                assigned: assigned_here,
                reserved: reserved_here,
                free: size.saturating_sub(reserved_here + free_assigned),
            }
        })
        .collect()
}

/// Every distinct assigned port.
pub(crate) fn assigned_ports(convention: &Convention) -> BTreeSet<u16> {
    convention.assignments().map(|(_, p)| p.port).collect()
}

/// The reserved ranges' ports, merged into sorted disjoint intervals.
pub(crate) fn reserved_intervals(convention: &Convention) -> Vec<(u16, u16)> {
    let mut intervals: Vec<(u16, u16)> = convention
        .ranges
        .iter()
        .filter(|r| r.reserved)
        .map(|r| (r.ports.start(), r.ports.end()))
        .collect();
    intervals.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match merged.last_mut() {
            Some(last) if u32::from(s) <= u32::from(last.1) + 1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// Whether `port` lies in one of the sorted disjoint `intervals`.
pub(crate) fn in_intervals(intervals: &[(u16, u16)], port: u16) -> bool {
    let i = intervals.partition_point(|&(s, _)| s <= port);
    i.checked_sub(1)
        .and_then(|j| intervals.get(j))
        .is_some_and(|&(_, e)| port <= e)
}

/// Nesting depth of every range (parents come before their children).
pub(crate) fn depths(convention: &Convention) -> Vec<usize> {
    let mut depths: Vec<usize> = Vec::with_capacity(convention.ranges.len());
    for r in &convention.ranges {
        let d = r.parent.and_then(|p| depths.get(p)).map_or(0, |d| d + 1);
        depths.push(d);
    }
    depths
}

/// Whether every range from `index` up is protected (computed once for all).
pub(crate) fn protected_flags(convention: &Convention) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(convention.ranges.len());
    for r in &convention.ranges {
        let inherited = r
            .parent
            .and_then(|p| flags.get(p))
            .copied()
            .unwrap_or(false);
        flags.push(r.protected || inherited);
    }
    flags
}

/// The hosts (by name, sorted) a service runs on: those whose `projects`
/// entries name its compose file, its directory, a declared project holding
/// the file, or a glob matching the file or the directory. A service without
/// a compose file is on no host.
pub fn hosts_of(convention: &Convention, service: &ServiceDef) -> Vec<String> {
    HostIndex::new(convention).hosts_of(service)
}

/// The host entries of a convention, matched at once: exact names in a
/// map, every glob in one [`globset::GlobSet`], so that finding the hosts
/// of every service costs O(services × matching globs), not
/// O(services × hosts × entries) glob compilations.
pub(crate) struct HostIndex<'c> {
    convention: &'c Convention,
    /// Exact entry (normalized) → host indexes.
    exact: BTreeMap<String, BTreeSet<usize>>,
    /// Compose file → declared project names holding it.
    projects_of_file: BTreeMap<String, BTreeSet<String>>,
    /// All glob entries, and the host of each.
    globs: globset::GlobSet,
    glob_hosts: Vec<usize>,
}

impl<'c> HostIndex<'c> {
    pub(crate) fn new(convention: &'c Convention) -> Self {
        let mut exact: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let mut builder = globset::GlobSetBuilder::new();
        let mut glob_hosts = Vec::new();
        for (h, host) in convention.hosts.iter().enumerate() {
            for entry in &host.projects {
                let entry = crate::convention::normalize_path(entry);
                if entry.contains(['*', '?', '[', '{']) {
                    if let Ok(glob) = globset::GlobBuilder::new(&entry)
                        .literal_separator(true)
                        .build()
                    {
                        builder.add(glob);
                        glob_hosts.push(h);
                    }
                } else {
                    exact.entry(entry).or_default().insert(h);
                }
            }
        }
        let mut projects_of_file: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in &convention.projects {
            for f in &p.files {
                projects_of_file
                    .entry(f.clone())
                    .or_default()
                    .insert(p.name.clone());
            }
        }
        HostIndex {
            convention,
            exact,
            projects_of_file,
            globs: builder
                .build()
                .unwrap_or_else(|_| globset::GlobSet::empty()),
            glob_hosts,
        }
    }

    /// The hosts of one service, sorted by name.
    pub(crate) fn hosts_of(&self, service: &ServiceDef) -> Vec<String> {
        let Some(file) = service.compose_file.as_deref() else {
            return Vec::new();
        };
        let file = crate::convention::normalize_path(file);
        let dir = file.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        let mut hits: BTreeSet<usize> = BTreeSet::new();
        let mut names: Vec<&str> = vec![file.as_str(), dir.as_str()];
        if let Some(projects) = self.projects_of_file.get(&file) {
            names.extend(projects.iter().map(String::as_str));
        }
        for name in names {
            if let Some(hosts) = self.exact.get(name) {
                hits.extend(hosts);
            }
        }
        for i in self.globs.matches(&file) {
            hits.extend(self.glob_hosts.get(i));
        }
        if !dir.is_empty() {
            for i in self.globs.matches(&dir) {
                hits.extend(self.glob_hosts.get(i));
            }
        }
        let mut out: Vec<String> = hits
            .into_iter()
            .filter_map(|h| self.convention.hosts.get(h).map(|d| d.name.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The hosts of every service, in [`Convention::services`] order.
    pub(crate) fn all(&self) -> Vec<Vec<String>> {
        self.convention
            .services
            .iter()
            .map(|s| self.hosts_of(s))
            .collect()
    }
}

/// The range a port belongs to: the service's declared range, else the
/// innermost range that contains the port.
pub(crate) fn range_of<'c>(
    convention: &'c Convention,
    service: &'c ServiceDef,
    port: &PortAssignment,
) -> Option<&'c str> {
    service
        .range
        .as_deref()
        .filter(|r| convention.range(r).is_some())
        .or_else(|| {
            convention
                .innermost_range(port.port)
                .map(|r| r.name.as_str())
        })
}

/// The variable stem of a port: its `env` without a trailing `_PORT`, else
/// `SERVICE_PORTNAME` in upper case with every other character as `_`.
pub(crate) fn variable_stem(service: &ServiceDef, port: &PortAssignment) -> String {
    if let Some(env) = &port.env {
        return env.strip_suffix("_PORT").unwrap_or(env).to_owned();
    }
    format!("{}_{}", service.name, port.name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A URL from a template checked at load time (`{host}`, `{port}`).
pub(crate) fn fill_url(template: &str, host: &str, port: u16) -> String {
    template
        .replace("{host}", host)
        .replace("{port}", &port.to_string())
}

/// Assignments sorted by (port, protocol, service, name): the order every
/// table and file uses.
pub(crate) fn sorted_assignments(convention: &Convention) -> Vec<(&ServiceDef, &PortAssignment)> {
    let mut all: Vec<_> = convention.assignments().collect();
    all.sort_by(|a, b| {
        (a.1.port, a.1.protocol.as_str(), &a.0.name, &a.1.name).cmp(&(
            b.1.port,
            b.1.protocol.as_str(),
            &b.0.name,
            &b.1.name,
        ))
    });
    all
}

/// The convention's name for generated headers: `name`, else "ports.yaml".
pub(crate) fn title(convention: &Convention) -> String {
    crate::report::escape_text(convention.name.as_deref().unwrap_or("ports.yaml"))
}

/// The file name (last component) of the convention, for headers that must
/// not depend on where the command ran.
pub(crate) fn convention_file_name(convention: &Convention) -> String {
    let file = convention.file.replace('\\', "/");
    crate::report::escape_text(file.rsplit('/').next().unwrap_or("ports.yaml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convention(text: &str) -> Convention {
        Convention::from_yaml("ports.yaml", text).unwrap()
    }

    #[test]
    fn occupancy_counts_assigned_reserved_and_free() {
        let c = convention(
            "version: 1.0.0
ranges:
  db:
    ports: 7000-7999
    ranges:
      primary: { ports: 7000-7099 }
      spare: { ports: 7300-7999, reserved: true }
services:
  a: { range: primary, ports: { x: { port: 7000 }, y: { port: 7001 } } }
  b: { range: primary, ports: { x: { port: 7001, protocol: udp } } }
  c: { ports: { x: { port: 7300 } } }
",
        );
        let occ = occupancy(&c);
        assert_eq!(
            occ[0],
            Occupancy {
                size: 1000,
                assigned: 3,
                reserved: 700,
                free: 298
            }
        );
        assert_eq!(
            occ[1],
            Occupancy {
                size: 100,
                assigned: 2,
                reserved: 0,
                free: 98
            }
        );
        assert_eq!(
            occ[2],
            Occupancy {
                size: 700,
                assigned: 1,
                reserved: 700,
                free: 0
            }
        );
    }

    #[test]
    fn hosts_come_from_files_directories_projects_and_globs() {
        let c = convention(
            "version: 1.0.0
services:
  a: { compose: { file: tools/compose/a.yml }, ports: { x: { port: 7000 } } }
  b: { compose: { file: apps/b/compose.yaml }, ports: { x: { port: 7001 } } }
  c: { ports: { x: { port: 7002 } } }
  d: { compose: { file: other/d.yml }, ports: { x: { port: 7003 } } }
projects:
  dee: { files: [other/d.yml] }
hosts:
  one: { projects: [\"tools/**\"] }
  two: { projects: [apps/b, dee] }
  three: { projects: [tools/compose/a.yml] }
",
        );
        let of = |name: &str| hosts_of(&c, c.service(name).unwrap());
        assert_eq!(of("a"), ["one", "three"]);
        assert_eq!(of("b"), ["two"]);
        assert!(of("c").is_empty());
        assert_eq!(of("d"), ["two"]);
    }

    /// Deep nesting, many hosts and services: every kind renders, and the
    /// output grows linearly with the convention (no per-range walk up the
    /// nesting, no per-service walk over every host).
    #[test]
    fn large_conventions_render_in_bounded_output() {
        let mut yaml = String::from("version: 1.0.0\nranges:\n");
        let depth = 20;
        let mut indent = String::from("  ");
        for d in 0..depth {
            let start = 10000 + d;
            yaml.push_str(&format!("{indent}r{d}:\n{indent}  ports: {start}-20000\n"));
            if d + 1 < depth {
                yaml.push_str(&format!("{indent}  ranges:\n"));
            }
            indent.push_str("    ");
        }
        yaml.push_str("services:\n");
        for s in 0..2000 {
            yaml.push_str(&format!(
                "  s{s}: {{ compose: {{ file: apps/s{s}/compose.yaml }}, ports: {{ p: {{ port: {}, env: S{s}_PORT, scrape: true, url: \"x://{{host}}:{{port}}\" }} }} }}\n",
                20001 + s
            ));
        }
        yaml.push_str("hosts:\n");
        for h in 0..500 {
            yaml.push_str(&format!(
                "  h{h}: {{ projects: [\"apps/s{h}\", \"apps/*{h}/**\"] }}\n"
            ));
        }
        let c = convention(&yaml);
        assert_eq!(c.ranges.len(), depth as usize);
        for kind in Kind::ALL {
            let files = render(*kind, &c, kind.default_file_name());
            let size: usize = files.iter().map(|f| f.text.len()).sum();
            assert!(size < 3_000_000, "{}: {size} bytes", kind.name());
        }
        let env = env(&c, EnvFlavour::Env);
        assert!(env.contains("S1999_URL=x://localhost:22000\n"));
    }

    #[test]
    fn every_kind_is_deterministic_and_named() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/trading-system/ports.yaml"
        ))
        .unwrap();
        let c = convention(&text);
        for kind in Kind::ALL {
            let a = render(*kind, &c, kind.default_file_name());
            let b = render(*kind, &c, kind.default_file_name());
            assert_eq!(a, b, "{}", kind.name());
            assert_eq!(a[0].name, kind.default_file_name());
            assert!(a.iter().all(|f| f.text.ends_with('\n')), "{}", kind.name());
        }
    }
}

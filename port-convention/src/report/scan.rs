//! The inventory of published host ports (`scan`): its rows, and their
//! renderings as a table, CSV and the versioned JSON of
//! `docs/json-output.md` ("scan").

use std::fmt::Write as _;

use serde::Serialize;

use super::escape_text;
use crate::Protocol;
use crate::check::{ClaimOwners, Scan};
use crate::compose::{Claim, PortSource};

/// The version of the `scan --format json` shape; it changes only when a
/// field changes meaning or goes away.
pub const SCAN_JSON_VERSION: u32 = 1;

/// The project shown for a claim of a file that no compose project loads.
pub const FRAGMENT: &str = "(fragment)";

/// One published host port (or run of ports) of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanRow {
    /// The compose project (its id), or [`FRAGMENT`].
    pub project: String,
    /// The first host port.
    pub host_port: u16,
    /// The last host port (equal to [`ScanRow::host_port`] for one port).
    pub host_port_end: u16,
    /// The protocol.
    pub protocol: Protocol,
    /// The host IP published on; `None`: every interface (the table's `*`).
    pub host_ip: Option<String>,
    /// The first container port.
    pub target: u16,
    /// The last container port.
    pub target_end: u16,
    /// The compose service.
    pub service: String,
    /// Where the mapping is: the compose file relative to the scanned
    /// root, 1-based line and column.
    #[serde(flatten)]
    pub location: crate::Location,
    /// Where the host port came from.
    pub source: PortSource,
    /// The entry as written (after interpolation).
    pub raw: String,
}

/// The published ports of `scan`, grouped by compose project and sorted by
/// port, protocol and place within each.
pub fn scan_rows(scan: &Scan) -> Vec<ScanRow> {
    let owners = ClaimOwners::new(&scan.projects.projects);
    let mut rows: Vec<ScanRow> = scan
        .claims()
        .filter_map(|claim| {
            let range = claim.host_range()?;
            let project = owners.project_of(claim).unwrap_or(FRAGMENT).to_owned();
            Some(row(project, claim, range))
        })
        .collect();
    rows.sort_by(|a, b| {
        (
            &a.project,
            a.host_port,
            a.host_port_end,
            a.protocol,
            &a.location.file,
            a.location.line,
        )
            .cmp(&(
                &b.project,
                b.host_port,
                b.host_port_end,
                b.protocol,
                &b.location.file,
                b.location.line,
            ))
    });
    rows
}

fn row(project: String, claim: &Claim, range: crate::PortRange) -> ScanRow {
    let ip = claim.mapping.host_ip.to_string();
    let span = range.end() - range.start();
    ScanRow {
        project,
        host_port: range.start(),
        host_port_end: range.end(),
        protocol: claim.mapping.protocol,
        host_ip: (!ip.is_empty()).then_some(ip),
        target: claim.mapping.target,
        target_end: claim.mapping.target.saturating_add(span),
        service: claim.service.clone(),
        location: claim.location.clone(),
        source: claim.source.clone(),
        raw: claim.raw.clone(),
    }
}

/// The document of `scan --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct ScanJson<'a> {
    /// Always [`SCAN_JSON_VERSION`].
    pub version: u32,
    /// Every published port, as [`scan_rows`] sorts them.
    pub ports: &'a [ScanRow],
}

/// `scan --format json`: `{"version": 1, "ports": [ScanRow...]}`, one line.
///
/// ```
/// use port_convention::report::scan::render_scan_json;
/// assert_eq!(render_scan_json(&[]), r#"{"version":1,"ports":[]}"#);
/// ```
pub fn render_scan_json(rows: &[ScanRow]) -> String {
    let doc = ScanJson {
        version: SCAN_JSON_VERSION,
        ports: rows,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

fn source_text(source: &PortSource) -> String {
    match source {
        PortSource::Literal => "literal".into(),
        PortSource::Variable { name } => format!("${name}"),
        PortSource::TemplateDefault { name } => format!("default of ${{{name}}}"),
    }
}

fn ports_text(start: u16, end: u16) -> String {
    if start == end {
        start.to_string()
    } else {
        format!("{start}-{end}")
    }
}

/// A CSV field: untrusted text escaped first (a newline inside a quoted
/// field is valid CSV, but would start a new line of a CI log), then quoted
/// when it holds a comma or a quote.
fn csv_field(text: &str) -> String {
    let text = escape_text(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `scan --format csv`: a header row, then one line a row (`host_ip` empty
/// for every interface).
pub fn render_scan_csv(rows: &[ScanRow]) -> String {
    let mut out =
        String::from("project,host_port,protocol,host_ip,target,service,file,line,column,source\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&r.project),
            ports_text(r.host_port, r.host_port_end),
            r.protocol,
            csv_field(r.host_ip.as_deref().unwrap_or("")),
            ports_text(r.target, r.target_end),
            csv_field(&r.service),
            csv_field(&r.location.file),
            r.location.line,
            r.location.column,
            csv_field(&source_text(&r.source)),
        );
    }
    out
}

/// `scan`: aligned columns (every interface shown as `*`).
pub fn render_scan_table(rows: &[ScanRow]) -> String {
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                escape_text(&r.project),
                format!(
                    "{}/{}",
                    ports_text(r.host_port, r.host_port_end),
                    r.protocol
                ),
                r.host_ip
                    .as_deref()
                    .map_or_else(|| "*".to_owned(), escape_text),
                ports_text(r.target, r.target_end),
                escape_text(&r.service),
                escape_text(&format!(
                    "{}:{}:{}",
                    r.location.file, r.location.line, r.location.column
                )),
                escape_text(&source_text(&r.source)),
            ]
        })
        .collect();
    let header = [
        "PROJECT",
        "HOST PORT",
        "HOST IP",
        "TARGET",
        "SERVICE",
        "WHERE",
        "SOURCE",
    ];
    super::render_table(&header, &table)
}

//! `port-convention scan`: the inventory of published host ports.

use std::fmt::Write as _;

use clap::ValueEnum;
use port_convention::Error;
use port_convention::check::Scan;
use port_convention::compose::{Claim, PortSource};
use port_convention::report::escape_text;
use serde_json::json;

use crate::print_out;

/// Output formats of `scan`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// Arguments of `scan`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    tree: crate::check::TreeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn source_text(source: &PortSource) -> String {
    match source {
        PortSource::Literal => "literal".into(),
        PortSource::Variable { name } => format!("${name}"),
        PortSource::TemplateDefault { name } => format!("default of ${{{name}}}"),
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
        text.to_owned()
    }
}

/// The host port or range of a claim (a run covers all its ports).
fn host_text(c: &Claim) -> String {
    c.host_range()
        .map_or_else(|| c.mapping.published.to_string(), |r| r.to_string())
}

/// The published host ports of a scan with their compose project (a
/// fragment's under "(fragment)"), grouped by project and sorted by port
/// within each: the rows of every format.
pub(crate) fn rows(scan: &Scan) -> Vec<(String, &Claim)> {
    let owners = port_convention::check::ClaimOwners::new(&scan.projects.projects);
    let project_of = |c: &Claim| owners.project_of(c).unwrap_or("(fragment)").to_owned();
    let mut rows: Vec<(String, &Claim)> = scan
        .claims()
        .filter(|c| c.host_range().is_some())
        .map(|c| (project_of(c), c))
        .collect();
    rows.sort_by(|(pa, a), (pb, b)| {
        (pa, a.host_range(), a.mapping.protocol, &a.file, a.line).cmp(&(
            pb,
            b.host_range(),
            b.mapping.protocol,
            &b.file,
            b.line,
        ))
    });
    rows
}

/// `scan --format json`, the answer of the MCP `scan` tool too: one object
/// per row.
pub(crate) fn to_json(rows: &[(String, &Claim)]) -> serde_json::Value {
    let items: Vec<_> = rows
        .iter()
        .map(|(project, c)| {
            json!({
                "project": project,
                "host_port": host_text(c),
                "protocol": c.mapping.protocol,
                "host_ip": c.mapping.host_ip.to_string(),
                "target": c.mapping.target,
                "service": c.service,
                "file": c.file,
                "line": c.line,
                "column": c.column,
                "source": c.source,
                "raw": c.raw,
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

/// Runs `scan`; returns the exit code (0, or 1 when nothing is published).
pub fn run(args: &Args) -> Result<u8, Error> {
    let outcome = port_convention::io::check(&args.tree.options(false))?;
    let scan = outcome.scan.unwrap_or_default();
    let rows = rows(&scan);
    let mut out = String::new();
    match args.format {
        Format::Json => out = format!("{}\n", to_json(&rows)),
        Format::Csv => {
            out.push_str(
                "project,host_port,protocol,host_ip,target,service,file,line,column,source\n",
            );
            for (project, c) in &rows {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{}",
                    csv_field(project),
                    host_text(c),
                    c.mapping.protocol,
                    csv_field(&c.mapping.host_ip.to_string()),
                    c.mapping.target,
                    csv_field(&c.service),
                    csv_field(&c.file),
                    c.line,
                    c.column,
                    csv_field(&source_text(&c.source)),
                );
            }
        }
        Format::Table => {
            let table: Vec<[String; 7]> = rows
                .iter()
                .map(|(project, c)| {
                    [
                        escape_text(project),
                        format!("{}/{}", host_text(c), c.mapping.protocol),
                        if c.mapping.host_ip.to_string().is_empty() {
                            "*".into()
                        } else {
                            escape_text(&c.mapping.host_ip.to_string())
                        },
                        c.mapping.target.to_string(),
                        escape_text(&c.service),
                        escape_text(&format!("{}:{}:{}", c.file, c.line, c.column)),
                        escape_text(&source_text(&c.source)),
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
            out = port_convention::report::render_table(&header, &table);
        }
    }
    print_out(&out);
    Ok(0)
}

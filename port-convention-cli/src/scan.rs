//! `port-convention scan`: the inventory of published host ports.

use clap::ValueEnum;
use port_convention::Error;
use port_convention::report::scan::{
    render_scan_csv, render_scan_json, render_scan_table, scan_rows,
};

use crate::print_out;

/// Output formats of `scan`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// Versioned JSON: `{"version": 1, "ports": [...]}` (docs/json-output.md).
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

/// Runs `scan`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    let outcome = port_convention::io::check(&args.tree.options(false))?;
    let scan = outcome.scan.unwrap_or_default();
    let rows = scan_rows(&scan);
    let out = match args.format {
        Format::Json => format!("{}\n", render_scan_json(&rows)),
        Format::Csv => render_scan_csv(&rows),
        Format::Table => render_scan_table(&rows),
    };
    print_out(&out);
    Ok(0)
}

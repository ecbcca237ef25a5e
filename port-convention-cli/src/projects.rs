//! `port-convention projects`: the compose projects of a tree, as Docker
//! Compose would load them.

use clap::ValueEnum;
use port_convention::Error;

use crate::print_out;

/// Output formats of `projects`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One block per project.
    Table,
    /// The versioned JSON shape (docs/json-output.md).
    Json,
}

/// Arguments of `projects`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    tree: crate::check::TreeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs `projects`; returns the exit code (0).
pub fn run(args: &Args) -> Result<u8, Error> {
    let outcome = port_convention::io::check(&args.tree.options(false))?;
    let scan = outcome.scan.unwrap_or_default();
    match args.format {
        Format::Json => {
            let value = scan.projects.to_json(&scan.notes);
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            print_out(&format!("{text}\n"));
        }
        Format::Table => print_out(&port_convention::report::render_projects(&scan)),
    }
    Ok(0)
}

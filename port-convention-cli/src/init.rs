//! `port-convention init`: a first ports.yaml from the tree as it is.

use std::path::PathBuf;

use clap::ValueEnum;
use port_convention::Error;
use port_convention::adopt::{InitOptions, Protect, summary_table};
use port_convention::io::adopt::{output_path, propose_for_tree, write_convention_file};
use port_convention::report::escape_text;

use crate::print_out;

/// Output formats of the summary.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A table: service, port, kind, old -> new, variable.
    Table,
    /// `{ "file", "rows", "notes" }`.
    Json,
}

/// Arguments of `init`.
#[derive(clap::Args)]
pub struct Args {
    /// The repository's root (default: the current directory).
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,
    /// Declare a protected range NAME=START-END (repeatable); the first one
    /// gets sub-ranges and every database-like service moves into it.
    #[arg(long = "protect", value_name = "NAME=RANGE")]
    protect: Vec<Protect>,
    /// Where to write the convention (default: PATH/ports.yaml); must be
    /// inside PATH.
    #[arg(long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace an existing file at --out.
    #[arg(long)]
    force: bool,
    /// Print the convention instead of writing it.
    #[arg(long)]
    stdout: bool,
    /// The convention's name (default: the root directory's name).
    #[arg(long)]
    name: Option<String>,
    /// Format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs `init`; returns the exit code (0).
pub fn run(args: &Args) -> Result<u8, Error> {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let target = if args.stdout {
        None
    } else {
        Some(output_path(&root, args.out.as_deref(), args.force)?)
    };
    let options = InitOptions {
        protect: args.protect.clone(),
        name: args.name.clone(),
    };
    let proposal = propose_for_tree(&root, &options, &Default::default())?;
    if let Some(target) = &target {
        write_convention_file(target, &proposal.text, args.force)?;
    }
    let shown = target
        .as_ref()
        .map(|t| args.out.clone().unwrap_or_else(|| t.clone()))
        .map(|p| p.display().to_string());
    match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "file": shown,
                "rows": proposal.rows,
                "notes": proposal.notes,
            });
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            print_out(&format!("{text}\n"));
        }
        Format::Table => {
            if args.stdout {
                print_out(&proposal.text);
            } else {
                print_out(&summary_table(&proposal.rows));
            }
            let mut notes = String::new();
            for note in &proposal.notes {
                notes.push_str(&format!("note: {}\n", escape_text(note)));
            }
            if let Some(file) = &shown {
                notes.push_str(&format!(
                    "wrote {}: {} port(s) of {} service(s), {} moved; read its `# decide:` comments, then `port-convention check --convention-only -c {}`\n",
                    escape_text(file),
                    proposal.rows.iter().filter(|r| r.assigned).count(),
                    proposal
                        .rows
                        .iter()
                        .map(|r| r.service.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    proposal.rows.iter().filter(|r| r.old != r.new).count(),
                    escape_text(file)
                ));
            }
            eprint!("{notes}");
        }
    }
    Ok(0)
}

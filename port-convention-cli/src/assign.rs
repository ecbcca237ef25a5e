//! `port-convention assign`: give a service the next free port of a range,
//! editing ports.yaml in place.

use std::path::PathBuf;

use port_convention::Error;
use port_convention::io::adopt::{AssignRequest, assign};
use port_convention::report::escape_text;

use crate::print_out;

/// Arguments of `assign`.
#[derive(clap::Args)]
pub struct Args {
    /// The service: the convention's name for it, or a compose service of
    /// the tree to add to the convention.
    service: String,
    /// The range (by name, as declared in ports.yaml) to take the port from.
    #[arg(long)]
    range: String,
    /// Only this port of the service (default: every port not in the range).
    #[arg(long = "port-name", value_name = "NAME")]
    port_name: Option<String>,
    /// The convention file (default: ports.yaml here or in a parent directory).
    #[arg(short = 'c', long = "convention")]
    convention: Option<PathBuf>,
    /// The tree whose published ports are taken (default: the directory of
    /// ports.yaml).
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,
}

/// Runs `assign`; returns the exit code (0).
pub fn run(args: &Args) -> Result<u8, Error> {
    let (path, outcome) = assign(&AssignRequest {
        convention: args.convention.clone(),
        root: args.path.clone(),
        service: args.service.clone(),
        range: args.range.clone(),
        port_name: args.port_name.clone(),
    })?;
    let service = escape_text(&args.service);
    let mut text = String::new();
    if outcome.changes.is_empty() && !outcome.range_changed {
        text.push_str(&format!(
            "{service}: already in range {}; {} unchanged\n",
            escape_text(&args.range),
            escape_text(&path.display().to_string())
        ));
    }
    for change in &outcome.changes {
        let old = change
            .old
            .map_or_else(|| "new".to_owned(), |p| p.to_string());
        text.push_str(&format!(
            "{service} {}: {old} -> {}\n",
            escape_text(&change.port_name),
            change.new
        ));
    }
    if outcome.text_changed() {
        text.push_str(&format!(
            "{} {}; move the files with `port-convention migrate plan`\n",
            if outcome.added { "added to" } else { "updated" },
            escape_text(&path.display().to_string())
        ));
    }
    print_out(&text);
    Ok(0)
}

//! `port-convention allocate`: the lowest free ports of a range, skipping
//! what the convention assigns or reserves, what the repository's compose
//! files publish and (with `--live`) what this machine holds.

use port_convention::report::escape_text;
use port_convention::{Allocation, Error, PublishedIndex, Skip, allocate_explained, io};

use crate::check::TreeArgs;
use crate::print_out;

/// Arguments of `allocate`.
#[derive(clap::Args)]
pub struct Args {
    /// The range name, as declared in ports.yaml.
    #[arg(value_name = "RANGE")]
    range: String,
    /// The repository whose compose files' published ports are skipped
    /// (default: the directory of ports.yaml), and where ports.yaml is
    /// looked for, as in `check`.
    #[command(flatten)]
    tree: TreeArgs,
    /// How many ports.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Also skip ports held on this machine right now (sockets, containers).
    #[arg(long)]
    live: bool,
    /// Say on stderr why each port below the last one given was skipped.
    #[arg(long)]
    explain: bool,
    /// Output format: one port a line, or JSON ({"range", "ports"}).
    #[arg(long, value_enum, default_value_t = crate::TextOrJson::Text)]
    format: crate::TextOrJson,
}

/// The lowest free ports of `range` that the convention leaves free and
/// the tree's compose files do not publish (`live`: nor this machine
/// holds), with the notes of the live read: what `allocate` and the MCP
/// `allocate` tool answer.
pub(crate) fn allocation(
    tree: &TreeArgs,
    range: &str,
    count: usize,
    live: bool,
) -> Result<(Allocation, Vec<String>), Error> {
    let outcome = io::check(&tree.options(false))?;
    let Some((_, convention)) = &outcome.convention else {
        return Err(Error::ConventionNotFound {
            start: tree
                .paths
                .first()
                .cloned()
                .unwrap_or_else(|| std::path::PathBuf::from(".")),
        });
    };
    let published = outcome
        .scan
        .as_ref()
        .map(PublishedIndex::of)
        .unwrap_or_default();
    // A port held in either protocol is skipped: allocation hands out a port
    // for every protocol of a service.
    let (held, notes): (std::collections::BTreeSet<u16>, Vec<String>) = if live {
        let holders = io::live::read_holders(&Default::default())?;
        (
            holders.ports.iter().map(|h| h.port).collect(),
            holders.notes,
        )
    } else {
        Default::default()
    };
    let claimed = |port: u16| {
        published
            .get(port)
            .or_else(|| held.contains(&port).then_some(Skip::InUse))
    };
    Ok((
        allocate_explained(convention, range, count, &claimed)?,
        notes,
    ))
}

/// `allocate --format json`: `{"range", "ports"}`.
pub(crate) fn to_json(range: &str, ports: &[u16]) -> serde_json::Value {
    serde_json::json!({ "range": range, "ports": ports })
}

/// Runs `allocate`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    let (allocation, notes) = allocation(&args.tree, &args.range, args.count, args.live)?;
    for note in &notes {
        eprintln!("port-convention: note: {}", escape_text(note));
    }
    if args.explain {
        for skipped in &allocation.skipped {
            eprintln!(
                "port-convention: skipped {}: {}",
                skipped.port,
                escape_text(&skipped.skip.to_string())
            );
        }
    }
    let text: String = match args.format {
        crate::TextOrJson::Text => allocation.ports.iter().map(|p| format!("{p}\n")).collect(),
        crate::TextOrJson::Json => format!("{}\n", to_json(&args.range, &allocation.ports)),
    };
    print_out(&text);
    Ok(0)
}

//! `port-convention allocate`: the lowest free ports of a range, skipping
//! what the convention assigns or reserves, what the repository's compose
//! files publish and (with `--live`) what this machine holds.

use port_convention::report::escape_text;
use port_convention::{Error, PublishedIndex, Skip, allocate_explained, io};

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
}

/// Runs `allocate`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    let outcome = io::check(&args.tree.options(false))?;
    let Some((_, convention)) = &outcome.convention else {
        return Err(Error::ConventionNotFound {
            start: args
                .tree
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
    let held: std::collections::BTreeSet<u16> = if args.live {
        let holders = io::live::read_holders(&Default::default())?;
        for note in &holders.notes {
            eprintln!("port-convention: note: {}", escape_text(note));
        }
        holders.ports.iter().map(|h| h.port).collect()
    } else {
        Default::default()
    };
    let claimed = |port: u16| {
        published
            .get(port)
            .or_else(|| held.contains(&port).then_some(Skip::InUse))
    };
    let allocation = allocate_explained(convention, &args.range, args.count, &claimed)?;
    if args.explain {
        for skipped in &allocation.skipped {
            eprintln!(
                "port-convention: skipped {}: {}",
                skipped.port,
                escape_text(&skipped.skip.to_string())
            );
        }
    }
    let text: String = allocation.ports.iter().map(|p| format!("{p}\n")).collect();
    print_out(&text);
    Ok(0)
}

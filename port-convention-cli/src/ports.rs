//! `port-convention ports --live`: what holds each port on this machine,
//! annotated with the convention.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;
use port_convention::io::live::{LiveOptions, read_holders};
use port_convention::live::{HeldPort, Holder, LiveReport, annotate};
use port_convention::report::escape_text;
use port_convention::{Convention, Error, io};

use crate::print_out;

/// Output formats of `ports`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// One JSON object (`schema`, `version`, `ports`, `containers`, `notes`).
    Json,
}

/// Arguments of `ports`.
#[derive(clap::Args)]
pub struct Args {
    /// Read this machine: listening TCP and bound UDP sockets with their
    /// processes, and the containers of the Docker (or podman) daemon.
    #[arg(long)]
    live: bool,
    /// The convention file (default: ports.yaml here or in a parent
    /// directory; none found: no annotation).
    #[arg(short = 'c', long = "convention")]
    convention: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Don't ask a container engine; sockets only.
    #[arg(long)]
    no_docker: bool,
}

fn address_text(held: &HeldPort) -> String {
    let text = match held.address {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    if held.dual_stack {
        format!("{text} (+IPv4)")
    } else {
        text
    }
}

fn holder_text(held: &HeldPort) -> String {
    let mut text = match &held.holder {
        Holder::Container { container, proxy } => {
            let mut t = container.describe();
            if let Some(p) = proxy {
                let program = p.command.split(' ').next().unwrap_or_default();
                let name = program.rsplit('/').next().unwrap_or(program);
                let _ = write!(t, " via {name} pid {}", p.pid);
            }
            t
        }
        other => other.describe(),
    };
    if held.processes.len() > 1 {
        let _ = write!(text, " (+{} more process(es))", held.processes.len() - 1);
    }
    if text.chars().count() > 100 {
        text = text.chars().take(99).collect::<String>() + "…";
    }
    text
}

/// Runs `ports`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    if !args.live {
        return Err(Error::InvalidArgument {
            message: "ports needs --live (the ports of the repository's compose files: `port-convention scan`)".into(),
        });
    }
    let convention: Option<(PathBuf, Convention)> =
        match io::load_convention_or_find(args.convention.as_deref()) {
            Ok(found) => Some(found),
            Err(Error::ConventionNotFound { .. }) if args.convention.is_none() => None,
            Err(other) => return Err(other),
        };
    let holders = read_holders(&LiveOptions {
        no_docker: args.no_docker,
        ..LiveOptions::default()
    })?;
    let standing = |held: &HeldPort| {
        convention
            .as_ref()
            .map(|(_, c)| annotate(c, held.protocol, held.port))
    };
    let mut out = String::new();
    match args.format {
        Format::Json => {
            let report = LiveReport::new(
                &holders,
                convention
                    .as_ref()
                    .map(|(p, c)| (p.display().to_string(), c)),
            );
            out = format!("{}\n", report.to_json_pretty());
        }
        Format::Table => {
            let header = ["PORT", "ADDRESS", "HOLDER", "CONVENTION"];
            let rows: Vec<[String; 4]> = holders
                .ports
                .iter()
                .map(|h| {
                    // Command lines and container names come from other
                    // processes: shown escaped, never as terminal controls.
                    [
                        format!("{}/{}", h.port, h.protocol),
                        address_text(h),
                        escape_text(&holder_text(h)),
                        escape_text(
                            &standing(h)
                                .map(|s| s.describe())
                                .unwrap_or_else(|| "-".into()),
                        ),
                    ]
                })
                .collect();
            out.push_str(&port_convention::report::render_table(&header, &rows));
            for note in &holders.notes {
                eprintln!("port-convention: note: {}", escape_text(note));
            }
        }
    }
    print_out(&out);
    Ok(0)
}

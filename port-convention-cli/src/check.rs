//! `port-convention check`: the main job.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::ValueEnum;
use port_convention::report::{render_github, render_human, render_sarif};
use port_convention::{Error, Finding, io};

use crate::{ColorChoice, EXIT_FINDINGS, print_out};

/// Output formats of `check`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Grouped by file, with source lines and carets.
    Human,
    /// The versioned JSON contract (docs/json-output.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
    /// Metrics for node_exporter's textfile collector (OpenMetrics text).
    Openmetrics,
    /// GitLab CI code quality report (JSON).
    Gitlab,
}

/// Which tree to read, with which convention: shared by `check` and `scan`.
#[derive(clap::Args)]
pub struct TreeArgs {
    /// Directories to scan (default: the directory of ports.yaml, else the
    /// current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The convention file (default: ports.yaml in the scanned directory or a parent).
    #[arg(short = 'c', long = "convention")]
    pub convention: Option<PathBuf>,
    /// Interpolation variables from this file instead of each project's .env
    /// (repeatable; later files win; the process environment wins over all).
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
}

impl TreeArgs {
    /// The check options these arguments stand for.
    pub fn options(&self, convention_only: bool) -> io::CheckOptions {
        io::CheckOptions {
            paths: self.paths.clone(),
            convention: self.convention.clone(),
            env_files: self.env_files.clone(),
            env: None,
            convention_only,
        }
    }
}

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    tree: TreeArgs,
    /// Only validate ports.yaml itself; read no compose or .env file.
    #[arg(long)]
    convention_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// When to colour human output (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Also check this machine: sockets and containers holding the ports
    /// (live-* rules).
    #[arg(long)]
    live: bool,
    /// With --live: only findings about these compose services (a preflight
    /// before `docker compose up SERVICE...`).
    #[arg(long, value_name = "SERVICE", num_args = 1.., requires = "live")]
    only: Vec<String>,
}

/// What `check` and the MCP `check` and `validate_convention` tools
/// answer: the check of the tree (`live`: and of this machine, about the
/// services of `only` if any), with the notes of the live read.
pub(crate) fn outcome(
    tree: &TreeArgs,
    convention_only: bool,
    live: bool,
    only: &[String],
) -> Result<(io::CheckOutcome, Vec<String>), Error> {
    let mut outcome = io::check(&tree.options(convention_only))?;
    let notes = if live {
        let live = io::live::LiveCheck {
            only: only.to_vec(),
            ..Default::default()
        };
        io::live::add_live_findings(&mut outcome, &live)?
    } else {
        Vec::new()
    };
    Ok((outcome, notes))
}

/// Runs `check`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    let (mut outcome, notes) = outcome(&args.tree, args.convention_only, args.live, &args.only)?;
    for note in notes {
        eprintln!(
            "port-convention: note: {}",
            port_convention::report::escape_text(&note)
        );
    }
    // CI formats name files relative to the repository root (git top
    // level, else the working directory), not to the scanned folder.
    let repo_root = if matches!(args.format, Format::Sarif | Format::Github | Format::Gitlab) {
        Some(io::render::rebase_to_repository(&mut outcome)?)
    } else {
        None
    };
    let report = &outcome.report;
    match args.format {
        Format::Openmetrics => print_out(&port_convention::render::openmetrics(
            report,
            outcome.convention.as_ref().map(|(_, c)| c),
            io::render::now_unix_seconds(),
        )),
        Format::Gitlab => {
            let fallback = match (&outcome.convention, &repo_root) {
                (Some((path, _)), Some(root)) => io::render::repository_path(root, path),
                (Some((path, _)), None) => path.display().to_string(),
                (None, _) => "ports.yaml".to_owned(),
            };
            let value = port_convention::render::gitlab_code_quality(report, &fallback);
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            print_out(&format!("{text}\n"));
        }
        Format::Json => print_out(&format!("{}\n", report.to_json())),
        Format::Sarif => {
            let text = serde_json::to_string_pretty(&render_sarif(report)).unwrap_or_default();
            print_out(&format!("{text}\n"));
        }
        Format::Github => print_out(&render_github(report)),
        Format::Human => {
            let mut sources = BTreeMap::new();
            for file in report.findings.iter().filter_map(Finding::file) {
                if !sources.contains_key(file)
                    && let Ok(text) = io::read_text(&outcome.path_of(file))
                {
                    sources.insert(file.to_owned(), text);
                }
            }
            let mut text = render_human(report, &sources, args.color.resolve());
            if outcome.convention.is_none() {
                let looked = outcome
                    .roots
                    .first()
                    .map(|r| port_convention::report::escape_text(&r.display().to_string()))
                    .unwrap_or_else(|| ".".to_owned());
                text.push_str(&format!(
                    "no convention: no ports.yaml in {looked} or a parent directory, so only clashes and file problems were checked\n"
                ));
            }
            print_out(&text);
        }
    }
    let code = if report.has_errors() {
        EXIT_FINDINGS
    } else {
        0
    };
    // The process ends next: freeing a large scan piece by piece would only
    // cost time (the system reclaims it at once).
    std::mem::forget(outcome);
    Ok(code)
}

//! `port-convention render KIND`: files generated from ports.yaml.

use std::path::PathBuf;

use clap::ValueEnum;
use port_convention::render::{self, Kind};
use port_convention::report::escape_text;
use port_convention::{Error, io};

use crate::{EXIT_FINDINGS, print_out};

/// What to render.
#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// PORTS-CONVENTION.md with its SVG port map (written beside it as STEM.svg).
    Markdown,
    /// The SVG port map alone.
    Svg,
    /// A .env with every port variable (and connection URLs).
    Env,
    /// A .env.example with every port variable (and connection URLs).
    EnvExample,
    /// Prometheus file_sd JSON of the declared scrape targets.
    PrometheusTargets,
    /// Prometheus alerting rules (target down, protected range, conflicts, drift).
    PrometheusRules,
    /// A Grafana dashboard (database overview, port usage).
    Grafana,
}

impl KindArg {
    fn kind(self) -> Kind {
        match self {
            KindArg::Markdown => Kind::Markdown,
            KindArg::Svg => Kind::Svg,
            KindArg::Env => Kind::Env,
            KindArg::EnvExample => Kind::EnvExample,
            KindArg::PrometheusTargets => Kind::PrometheusTargets,
            KindArg::PrometheusRules => Kind::PrometheusRules,
            KindArg::Grafana => Kind::Grafana,
        }
    }
}

/// Arguments of `render`.
#[derive(clap::Args)]
pub struct Args {
    /// What to render.
    #[arg(value_enum)]
    kind: KindArg,
    /// The convention file (default: ports.yaml here or in a parent directory).
    #[arg(short = 'c', long = "convention")]
    convention: Option<PathBuf>,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    out: Option<PathBuf>,
    /// Exit 1 with a unified diff when FILE is not what would be rendered
    /// (missing or stale); write nothing.
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
}

/// Runs `render`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    let (_, convention) = io::load_convention_or_find(args.convention.as_deref())?;
    let kind = args.kind.kind();
    let target = args.out.as_ref().or(args.check.as_ref());
    let name = target
        .and_then(|t| t.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| kind.default_file_name().to_owned());
    let files = render::render(kind, &convention, &name);
    if let Some(out) = &args.out {
        for path in io::render::write_rendered(out, &files)? {
            eprintln!(
                "port-convention: wrote {}",
                escape_text(&path.display().to_string())
            );
        }
        return Ok(0);
    }
    if let Some(check) = &args.check {
        let stale = io::render::check_rendered(check, &files)?;
        if stale.is_empty() {
            return Ok(0);
        }
        let mut text = String::new();
        for s in &stale {
            text.push_str(&s.diff);
        }
        print_out(&text);
        for s in &stale {
            let shown = escape_text(&s.path.display().to_string());
            let state = if s.exists { "is stale" } else { "is missing" };
            eprintln!(
                "port-convention: {shown} {state}: run `port-convention render {} --out {}`",
                kind.name(),
                escape_text(&check.display().to_string())
            );
        }
        return Ok(EXIT_FINDINGS);
    }
    if let Some(first) = files.first() {
        print_out(&first.text);
    }
    Ok(0)
}

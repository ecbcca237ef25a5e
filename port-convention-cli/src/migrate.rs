//! `port-convention migrate`: move services to their assigned ports across
//! compose and `.env` files, with a backup, a journal and a rollback.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use port_convention::Error;
use port_convention::io::migrate::{self as mig, ApplyOptions, PlanRequest, Progress, State};
use port_convention::migrate::{Code, Plan, PlanOptions, PortMap, plan_diff};
use port_convention::report::escape_text as esc;
use port_convention::report::migrate::{
    render_apply_outcome, render_diff, render_no_migration, render_plan, render_plan_summary,
    render_rollback_outcome, render_status,
};

use crate::{ColorChoice, EXIT_FINDINGS, print_out};

/// Arguments of `migrate`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compute every edit that moves the convention's services to their
    /// assigned ports; write nothing; print a unified diff.
    Plan(PlanArgs),
    /// Apply a saved plan (or plan and apply in one go): pre-flight checks,
    /// backup, journal, atomic writes, re-scan. Resumes an interrupted migration.
    Apply(ApplyArgs),
    /// Restore every file of a migration from its backup, byte for byte.
    Rollback(RollbackArgs),
    /// Say whether the last migration is complete, interrupted or rolled back.
    Status(StatusArgs),
}

/// What a plan may do, shared by `plan` and `apply`.
#[derive(clap::Args)]
struct PlanFlags {
    /// The convention file (default: ports.yaml in the scanned directory or a parent).
    #[arg(short = 'c', long = "convention")]
    convention: Option<PathBuf>,
    /// Also move .env values equal to OLD of the variables of the service
    /// assigned NEW (repeatable), beyond the convention's `legacy:` ports.
    #[arg(long = "map", value_name = "OLD=NEW")]
    maps: Vec<PortMap>,
    /// Turn literal mappings into ${VAR:-port} with the convention's variable
    /// (adding VAR=port to the project's .env files) and rename variables
    /// that differ from the convention's.
    #[arg(long)]
    use_env_vars: bool,
    /// Rename variables that differ from the convention's, in compose and
    /// the project's .env files alike.
    #[arg(long)]
    rename_vars: bool,
    /// Also move stale port literals of source and configuration files
    /// (findings of rule stale-port) to their new ports.
    #[arg(long)]
    source: bool,
}

impl PlanFlags {
    fn options(&self) -> PlanOptions {
        PlanOptions {
            use_env_vars: self.use_env_vars,
            rename_vars: self.rename_vars,
            maps: self.maps.clone(),
            source: self.source,
        }
    }
}

/// Output formats of `migrate plan`.
#[derive(Clone, Copy, ValueEnum)]
enum PlanFormat {
    /// A summary and a unified diff.
    Human,
    /// The plan as JSON (the same as --out writes).
    Json,
}

#[derive(clap::Args)]
struct PlanArgs {
    #[command(flatten)]
    flags: PlanFlags,
    /// The directory to migrate (default: the directory of ports.yaml); one
    /// directory, as every migrate command takes (its backups live under it).
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,
    /// Save the plan (with the SHA-256 of every file it would touch) here.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    format: PlanFormat,
    /// When to colour the diff (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(clap::Args)]
struct ApplyArgs {
    /// A plan saved by `migrate plan --out`, or the directory to plan and
    /// apply in one go (default: plan now and apply in the directory of
    /// ports.yaml).
    #[arg(value_name = "PLAN|PATH")]
    plan: Option<PathBuf>,
    #[command(flatten)]
    flags: PlanFlags,
    /// Apply the plan in DIR instead of the directory it names (a plan file
    /// is not trusted to choose where it writes).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Do not refuse when a target port is listening on this machine (tests, CI).
    #[arg(long)]
    skip_port_check: bool,
}

#[derive(clap::Args)]
struct RollbackArgs {
    /// The migrated directory (its last migration), a backup directory
    /// .port-convention/backups/<id>, or an id (default: the last migration
    /// of the nearest directory upward with .port-convention/backups, else of
    /// the directory of ports.yaml).
    #[arg(value_name = "PATH|BACKUP")]
    backup: Option<String>,
    /// The migrated directory, with an id as BACKUP (same as giving the
    /// directory as PATH).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The convention file used to find the default root.
    #[arg(short = 'c', long = "convention")]
    convention: Option<PathBuf>,
    /// Restore files even if they changed since the migration wrote them.
    #[arg(long)]
    force: bool,
}

/// Output formats of `migrate status`.
#[derive(Clone, Copy, ValueEnum)]
enum StatusFormat {
    /// Sentences.
    Human,
    /// JSON.
    Json,
}

#[derive(clap::Args)]
struct StatusArgs {
    /// The migrated directory (default: the nearest directory upward with
    /// .port-convention/backups, else the directory of ports.yaml).
    #[arg(value_name = "PATH", conflicts_with = "root")]
    path: Option<PathBuf>,
    /// The migrated directory (same as PATH).
    #[arg(long, value_name = "DIR", hide = true)]
    root: Option<PathBuf>,
    /// The convention file used to find the default root.
    #[arg(short = 'c', long = "convention")]
    convention: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
    format: StatusFormat,
}

/// Runs `migrate`; returns the exit code.
pub fn run(args: &Args) -> Result<u8, Error> {
    match &args.command {
        Command::Plan(a) => plan(a),
        Command::Apply(a) => apply(a),
        Command::Rollback(a) => rollback(a),
        Command::Status(a) => status(a),
    }
}

/// The nearest directory, from the current one upward, that holds
/// migration backups.
fn state_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| dir.join(mig::STATE_DIR).join("backups").is_dir())
        .map(Path::to_owned)
}

/// `--root`, else (for `rollback` and `status`) the nearest directory upward
/// with migration backups, else the directory of the convention (given or
/// found upward), else the current directory.
fn default_root(root: Option<&Path>, convention: Option<&Path>, look_for_state: bool) -> PathBuf {
    if let Some(root) = root {
        return root.to_owned();
    }
    if look_for_state && let Some(found) = state_root() {
        return found;
    }
    let found = match convention {
        Some(c) => Some(c.to_owned()),
        None => std::env::current_dir()
            .ok()
            .and_then(|cwd| port_convention::io::find_convention(&cwd).ok()),
    };
    found
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

fn plan(args: &PlanArgs) -> Result<u8, Error> {
    let planned = mig::plan_migration(&PlanRequest {
        root: args.path.clone(),
        convention: args.flags.convention.clone(),
        env: None,
        options: args.flags.options(),
    })?;
    let plan = &planned.plan;
    if let Some(out) = &args.out {
        mig::save_plan(plan, out)?;
    }
    match args.format {
        PlanFormat::Json => {
            let text = serde_json::to_string_pretty(plan).unwrap_or_default();
            print_out(&format!("{text}\n"));
        }
        PlanFormat::Human => {
            let diff = plan_diff(plan, &planned.texts)?;
            let mut text = render_plan(plan, &hint);
            text.push_str(&render_diff(&diff, args.color.resolve()));
            text.push_str(&render_plan_summary(plan));
            if let Some(out) = &args.out {
                let _ = writeln!(
                    text,
                    "Saved the plan to {}; apply it with: port-convention migrate apply {}",
                    out.display(),
                    out.display()
                );
            }
            print_out(&text);
        }
    }
    Ok(if plan.problems.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}

/// The command-line way out of a diagnostic, by its code: the library's
/// messages never name a flag, the CLI adds them here.
fn hint(code: Code) -> Option<&'static str> {
    Some(match code {
        Code::EnvValueLeftAlone => {
            "`migrate plan --map OLD=NEW` moves a value that is not a legacy port"
        }
        Code::NoConventionVariable => {
            "`--use-env-vars` needs an `env:` for the port in the convention"
        }
        Code::MapNotAssigned => "the NEW side of `--map OLD=NEW` must be a port of the convention",
        Code::PortInUse => "`--skip-port-check` skips this check (tests, CI)",
        Code::ChangedSinceMigration => "`migrate rollback --force` restores the file anyway",
        Code::ConventionUnrecorded => "make the plan with `migrate plan --out FILE`",
        Code::AlreadyApplied => "`migrate status` says where the last migration stands",
        _ => return None,
    })
}

/// The hints of an error of `migrate` (a refusal lists its reasons' codes).
pub fn error_hints(err: &Error) -> Vec<&'static str> {
    let mut hints: Vec<&'static str> = Vec::new();
    if let Error::MigrationRefused { reasons } = err {
        for reason in reasons {
            if let Some(h) = hint(reason.code)
                && !hints.contains(&h)
            {
                hints.push(h);
            }
        }
    }
    hints
}

/// A progress bar on stderr (indicatif), drawn only when stderr is a
/// terminal (indicatif hides it otherwise); one bar per step.
fn indicator() -> impl FnMut(Progress<'_>) {
    let mut bar: Option<(&'static str, indicatif::ProgressBar)> = None;
    move |p: Progress<'_>| {
        let (verb, done, total, file) = match p {
            Progress::Backup { done, total, file } => ("backing up", done, total, file),
            Progress::Write { done, total, file } => ("writing", done, total, file),
            Progress::Restore { done, total, file } => ("restoring", done, total, file),
        };
        let current = match &bar {
            Some((v, b)) if *v == verb => b.clone(),
            _ => {
                if let Some((_, old)) = bar.take() {
                    old.finish();
                }
                let b = indicatif::ProgressBar::with_draw_target(
                    Some(total as u64),
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("[{pos}/{len}] {prefix} {wide_msg}")
                {
                    b.set_style(style);
                }
                b.set_prefix(verb);
                bar = Some((verb, b.clone()));
                b
            }
        };
        current.set_position(done as u64 + 1);
        current.set_message(esc(file));
        if done + 1 == total {
            current.finish();
        }
    }
}

fn apply(args: &ApplyArgs) -> Result<u8, Error> {
    let options = ApplyOptions {
        skip_port_check: args.skip_port_check,
        env: None,
    };
    let mut progress = indicator();
    // A directory: plan and apply in it, as `migrate plan PATH` plans.
    let (plan_file, dir) = match &args.plan {
        Some(path) if path.is_dir() => {
            if args.root.is_some() {
                return Err(Error::InvalidArgument {
                    message: format!(
                        "{} is a directory and --root names another; give the directory once",
                        esc(&path.display().to_string())
                    ),
                });
            }
            (None, Some(path.clone()))
        }
        other => (other.clone(), args.root.clone()),
    };
    let outcome = match &plan_file {
        Some(path) => {
            let mut plan = mig::load_plan(path)?;
            match &args.root {
                Some(root) => {
                    plan.root = std::path::absolute(root)
                        .unwrap_or_else(|_| root.clone())
                        .display()
                        .to_string();
                }
                None => check_plan_root(&plan)?,
            }
            mig::apply(&plan, &options, &mut progress)?
        }
        None => {
            let root = default_root(dir.as_deref(), args.flags.convention.as_deref(), false);
            let interrupted =
                mig::status(&root, None)?.is_some_and(|s| s.state == State::Interrupted);
            if interrupted {
                mig::resume(&root, &options, &mut progress)?
            } else {
                let planned = mig::plan_migration(&PlanRequest {
                    root: Some(root),
                    convention: args.flags.convention.clone(),
                    env: None,
                    options: args.flags.options(),
                })?;
                if planned.plan.files.is_empty() && planned.plan.problems.is_empty() {
                    print_out(&render_plan(&planned.plan, &hint));
                    return Ok(0);
                }
                mig::apply(&planned.plan, &options, &mut progress)?
            }
        }
    };
    print_out(&render_apply_outcome(&outcome));
    Ok(if outcome.remaining.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}

/// A plan file says which directory it writes in; the file is not trusted
/// (it may come with the repository), the command line is. Without
/// `--root`, the plan's root must be the current directory or below it.
fn check_plan_root(plan: &Plan) -> Result<(), Error> {
    let Ok(root) = std::fs::canonicalize(&plan.root) else {
        // A root that does not exist: `apply` says so.
        return Ok(());
    };
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|source| Error::Io {
            path: PathBuf::from("."),
            source,
        })?;
    if root.starts_with(&cwd) {
        return Ok(());
    }
    Err(Error::UnsafePath {
        path: plan.root.clone(),
        problem: port_convention::PathProblem::RootNotCurrentDirectory {
            current: cwd.display().to_string(),
        },
        context: "; a plan file is not trusted to choose where it writes: run `migrate apply` \
                  from that directory, or pass --root DIR"
            .into(),
    })
}

fn rollback(args: &RollbackArgs) -> Result<u8, Error> {
    let (root, id) = match &args.backup {
        Some(dir)
            if args.root.is_none()
                && Path::new(dir).join(mig::STATE_DIR).is_dir()
                && !Path::new(dir).join("plan.json").is_file() =>
        {
            (PathBuf::from(dir), None)
        }
        Some(backup) if Path::new(backup).join("plan.json").is_file() => {
            let dir = std::path::absolute(backup).unwrap_or_else(|_| PathBuf::from(backup));
            let id = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            let root = match &args.root {
                Some(r) => r.clone(),
                None => dir
                    .ancestors()
                    .nth(3)
                    .map_or_else(|| PathBuf::from("."), Path::to_owned),
            };
            (root, id)
        }
        Some(id) => (
            default_root(args.root.as_deref(), args.convention.as_deref(), true),
            Some(id.clone()),
        ),
        None => (
            default_root(args.root.as_deref(), args.convention.as_deref(), true),
            None,
        ),
    };
    let mut progress = indicator();
    let outcome = mig::rollback(&root, id.as_deref(), args.force, &mut progress)?;
    print_out(&render_rollback_outcome(&outcome, &root));
    Ok(0)
}

fn status(args: &StatusArgs) -> Result<u8, Error> {
    let given = args.path.as_deref().or(args.root.as_deref());
    let root = default_root(given, args.convention.as_deref(), true);
    let status = mig::status(&root, None)?;
    let Some(status) = status else {
        match args.format {
            StatusFormat::Json => print_out("{\"state\": \"none\"}\n"),
            StatusFormat::Human => print_out(&render_no_migration(
                &std::path::absolute(&root).unwrap_or_else(|_| root.clone()),
            )),
        }
        return Ok(0);
    };
    match args.format {
        StatusFormat::Json => {
            let text = serde_json::to_string_pretty(&status).unwrap_or_default();
            print_out(&format!("{text}\n"));
        }
        StatusFormat::Human => print_out(&render_status(&status, &root)),
    }
    Ok(
        if matches!(
            status.state,
            State::Interrupted | State::RollbackInterrupted
        ) {
            EXIT_FINDINGS
        } else {
            0
        },
    )
}

//! The `port-convention` command line: a thin shell over the library.
//!
//! A library as well as a binary, so that the Python and Node packages run
//! the very same command line through their bindings ([`run`]): one
//! implementation, no second binary to download.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use port_convention::report::Color;
use port_convention::{Error, convention_schema};

mod allocate;
mod assign;
mod check;
mod init;
mod mcp;
mod migrate;
mod parse_ports;
mod ports;
mod projects;
mod render;
mod scan;

/// Make a team's host-port convention real across docker-compose files,
/// .env files and live sockets.
#[derive(Parser)]
#[command(name = "port-convention", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the JSON Schema of ports.yaml (for editors).
    Schema,
    /// Parse compose port specs and print one JSON object per spec.
    ParsePorts(parse_ports::Args),
    /// Print the lowest free ports of a named range, one a line.
    Allocate(allocate::Args),
    /// Check the repository (every compose and .env file) and the convention.
    Check(check::Args),
    /// List every published host port, sorted, with its owner and source.
    Scan(scan::Args),
    /// List the compose projects of the tree (what each `docker compose`
    /// invocation loads), their files, profiles and ports.
    Projects(projects::Args),
    /// Print the shell completion script for SHELL (bash, zsh, fish,
    /// elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from this command line.
    Man,
    /// What holds each port on this machine (--live), with the convention's view.
    Ports(ports::Args),
    /// Move services to their assigned ports across compose and .env files,
    /// safely (plan, apply, rollback, status).
    Migrate(migrate::Args),
    /// Render a file from ports.yaml (markdown, svg, env, env-example,
    /// prometheus-targets, prometheus-rules, grafana); --check: exit 1 with
    /// a diff when the file is stale.
    Render(render::Args),
    // adopt: `init` and `assign` (keep together).
    /// Write a first ports.yaml describing the tree as it is; with
    /// --protect, move database-like services into a protected range.
    Init(init::Args),
    /// Give a service the next free port of a range, editing ports.yaml in
    /// place (comments and order kept).
    Assign(assign::Args),
    /// Print a rule's documentation (summary, severity, subject, why it
    /// matters, how to fix it, an example); without RULE, list every rule.
    Explain {
        /// The rule id, as findings name it (`drift`, `duplicate-host-port` ...).
        rule: Option<String>,
        /// Output format: text, or JSON (the rule's documentation as data;
        /// without RULE, every rule's).
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Serve the convention to assistants: a Model Context Protocol server
    /// on stdin/stdout whose tools answer what check, scan, explain,
    /// allocate and migrate plan answer (read-only).
    Mcp(mcp::Args),
}

/// Output formats of `allocate` and `explain`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum TextOrJson {
    /// Plain text.
    Text,
    /// JSON.
    Json,
}

/// When to colour output.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `--color always` and `never` are the user's word; `auto` colours a
    /// terminal unless `NO_COLOR` is set, and anything when
    /// `CLICOLOR_FORCE` is (the usual conventions).
    pub(crate) fn resolve(self) -> Color {
        match self {
            ColorChoice::Always => Color::Always,
            ColorChoice::Never => Color::Never,
            // anstream's detection: NO_COLOR, CLICOLOR_FORCE, CLICOLOR,
            // TERM=dumb and whether stdout is a terminal.
            ColorChoice::Auto => match anstream::AutoStream::choice(&std::io::stdout()) {
                anstream::ColorChoice::Never => Color::Never,
                _ => Color::Always,
            },
        }
    }
}

/// Exit codes: 0 clean, 1 error findings (or a failed spec), 2 could not run.
pub(crate) const EXIT_FINDINGS: u8 = 1;
const EXIT_FAILURE: u8 = 2;

/// Runs the command line on `args` (the first one is the program's name, as
/// in `std::env::args_os`) and returns the exit code: 0 clean, 1 error
/// findings, 2 could not run. `--help`, `--version` and usage errors are
/// printed as clap prints them, and never exit the calling process: the
/// Python and Node packages call this from their interpreters.
pub fn run(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout (exit 0), usage errors to stderr (2).
            let _ = err.print();
            return err.exit_code();
        }
    };
    match dispatch(cli) {
        Ok(code) => i32::from(code),
        Err(err) => {
            eprintln!("port-convention: error[{}]: {err}", err.code());
            for hint in migrate::error_hints(&err) {
                eprintln!("  hint: {hint}");
            }
            match &err {
                Error::ConventionExists { .. } => {
                    eprintln!("  hint: pass --force to replace it, or --out to write another file");
                }
                Error::UnsafePath {
                    problem: port_convention::PathProblem::LinkOutOfItsDirectory,
                    ..
                } => eprintln!("  hint: pass it with -c if you trust it"),
                _ => {}
            }
            i32::from(EXIT_FAILURE)
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Schema => {
            let text = serde_json::to_string_pretty(&convention_schema()).unwrap_or_default();
            print_out(&format!("{text}\n"));
            Ok(0)
        }
        Command::ParsePorts(args) => Ok(parse_ports::run(&args)),
        Command::Allocate(args) => allocate::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Projects(args) => projects::run(&args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command, "port-convention", &mut out);
            print_out(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|source| Error::Io {
                    path: PathBuf::from("<stdout>"),
                    source,
                })?;
            print_out(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Ports(args) => ports::run(&args),
        Command::Migrate(args) => migrate::run(&args),
        Command::Explain { rule, format } => explain(rule.as_deref(), format),
        Command::Render(args) => render::run(&args),
        // adopt: `init` and `assign` (keep together).
        Command::Init(args) => init::run(&args),
        Command::Assign(args) => assign::run(&args),
        Command::Mcp(args) => mcp::run(&args),
    }
}

/// `explain --format json`: a rule's documentation as data (every field of
/// its declaration), or every rule's, in registry order.
pub(crate) fn explain_json(rule: Option<port_convention::Rule>) -> serde_json::Value {
    let docs = match rule {
        Some(rule) => serde_json::to_value(rule.doc()),
        None => serde_json::to_value(
            port_convention::Rule::ALL
                .iter()
                .map(|r| r.doc())
                .collect::<Vec<_>>(),
        ),
    };
    docs.unwrap_or_default()
}

/// `explain RULE`: the rule's documentation; `explain`: one line per rule.
fn explain(id: Option<&str>, format: TextOrJson) -> Result<u8, Error> {
    use port_convention::Rule;
    use port_convention::report::{escape_text, render_rule_text};
    // The id is escaped first: the error message quotes it.
    let rule: Option<Rule> = id.map(|id| escape_text(id).parse()).transpose()?;
    if let TextOrJson::Json = format {
        print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&explain_json(rule)).unwrap_or_default()
        ));
        return Ok(0);
    }
    let Some(rule) = rule else {
        let text: String = Rule::ALL
            .iter()
            .map(|r| {
                format!(
                    "{:<30} {:<8} {:<12} {}\n",
                    r.id(),
                    r.severity().as_str(),
                    r.subject().as_str(),
                    r.summary()
                )
            })
            .collect();
        print_out(&text);
        return Ok(0);
    };
    print_out(&render_rule_text(rule));
    Ok(0)
}

/// Writes to stdout, ignoring a closed pipe (`| head`).
pub(crate) fn print_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

//! Node.js binding of port-convention: `require('port-convention')` gives a
//! backend's `config.js` ports that are validated against `ports.yaml`.
//!
//! This crate holds no rule logic. Each exported function converts its
//! JavaScript arguments, calls one function of the core crate, and converts
//! the result: returned data is the core type serialized with serde, so its
//! field names (`host_ip`, `default_taken` ...) are the ones of the CLI's JSON
//! and of the Python binding. Every core error goes through `js_error`, the
//! one place errors are mapped.
#![deny(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use napi::bindgen_prelude::{AsyncTask, JsObjectValue, JsValue, Object, Unknown};
use napi::{Env, Result, ScopedTask, Status};
use napi_derive::napi;
use port_convention::{interpolation, io, port_spec};
use serde::Serialize;

/// An environment as JavaScript gives it (`process.env` or a plain object):
/// an entry whose value is `undefined` or `null` counts as unset.
type JsEnv = HashMap<String, Option<String>>;

/// The one mapping from a core error to a JavaScript exception: an `Error`
/// named `PortConventionError` with `code` (the core's stable
/// `Error::code()`), `message` (the core's display text), `findings` (the
/// core findings' JSON, empty unless `code` is `validation-failed`) and
/// `location` (`{ file, line, column }` or `null`). The package's entry
/// point re-throws it as an instance of its `PortConventionError` class.
fn js_error(cx: &Env, err: &port_convention::Error) -> napi::Error {
    let build = || -> Result<napi::Error> {
        let mut error =
            cx.create_error(napi::Error::new(Status::GenericFailure, err.to_string()))?;
        error.set_named_property("name", "PortConventionError")?;
        error.set_named_property("code", err.code())?;
        error.set_named_property("findings", cx.to_js_value(&err.findings())?)?;
        error.set_named_property("location", cx.to_js_value(&err.location())?)?;
        Ok(napi::Error::from(error.to_unknown()))
    };
    // Building the exception only fails when the engine is out of memory or
    // terminating; the message and code still reach JavaScript then.
    build().unwrap_or_else(|_| {
        napi::Error::new(Status::GenericFailure, format!("{}: {err}", err.code()))
    })
}

/// A core result as a JavaScript value: the data serialized with serde (the
/// same JSON as `serde_json::to_value`), or the error mapped by [`js_error`].
fn to_js<'env, T: Serialize>(
    cx: &'env Env,
    result: std::result::Result<T, port_convention::Error>,
) -> Result<Unknown<'env>> {
    match result {
        Ok(value) => cx.to_js_value(&value),
        Err(err) => Err(js_error(cx, &err)),
    }
}

/// The set variables of a JavaScript environment object.
fn env_map(vars: JsEnv) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
}

/// `process.env` of the calling JavaScript realm (which, unlike the C
/// environment, is per worker thread).
fn process_env(cx: &Env) -> Result<BTreeMap<String, String>> {
    let process: Object<'_> = cx.get_global()?.get_named_property("process")?;
    let vars: JsEnv = process.get_named_property("env")?;
    Ok(env_map(vars))
}

/// The given environment, or `process.env` when none is given.
fn env_or_process(cx: &Env, vars: Option<JsEnv>) -> Result<BTreeMap<String, String>> {
    match vars {
        Some(vars) => Ok(env_map(vars)),
        None => process_env(cx),
    }
}

/// File names given by JavaScript as paths.
fn paths(list: Option<Vec<String>>) -> Vec<PathBuf> {
    list.unwrap_or_default()
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// Options of `loadPorts`.
#[napi(object)]
pub struct LoadPortsOptions {
    /// The convention file. Default: `ports.yaml` in the working directory
    /// (or `cwd`) or the closest parent directory that has one.
    pub convention: Option<String>,
    /// The environment. Default: `process.env`. Entries whose value is
    /// `undefined` count as unset; an empty value counts as unset too.
    #[napi(ts_type = "Record<string, string | undefined>")]
    pub env: Option<JsEnv>,
    /// `.env` files read in order (a later file wins over an earlier one;
    /// `env` wins over all of them).
    pub env_files: Option<Vec<String>>,
    /// Where the search for `ports.yaml` starts. Default: `process.cwd()`.
    pub cwd: Option<String>,
}

/// The convention's ports with environment overrides applied, every value
/// validated: a port from the environment must be a strict port number
/// (digits only, 1 to 65535, no leading zero), lie in its service's range and
/// in no reserved range, and collide with no other port.
///
/// Precedence, lowest first: the convention, each file of `envFiles` in
/// order, `env`.
///
/// Throws a `PortConventionError` with code `validation-failed` listing every
/// problem in `findings` (not just the first), or with the code of what kept
/// the convention from loading (`convention-not-found`, `io`, `yaml-syntax`,
/// `invalid-convention`, `dotenv-syntax` ...).
///
/// ```js
/// const { loadPorts } = require('port-convention');
/// const { ports } = loadPorts({ convention: 'ports.yaml' });
/// const pgPort = ports.TIMESCALEDB_PORT; // 7000, or a validated override
/// ```
#[napi(ts_return_type = "LoadedPorts")]
pub fn load_ports(cx: &Env, options: Option<LoadPortsOptions>) -> Result<Unknown<'_>> {
    let options = options.unwrap_or(LoadPortsOptions {
        convention: None,
        env: None,
        env_files: None,
        cwd: None,
    });
    let load = io::LoadOptions {
        convention: options.convention.map(PathBuf::from),
        env: Some(env_or_process(cx, options.env)?),
        env_files: paths(options.env_files),
        cwd: options.cwd.map(PathBuf::from),
    };
    to_js(cx, io::load_ports(&load))
}

/// Parses one Docker Compose `ports:` entry the way Docker Compose does:
/// a short-syntax string (`"127.0.0.1:7000:5432/tcp"`), an integer (`5432`)
/// or a long-syntax object (`{ target: 5432, published: "7000" }`).
///
/// The string (or each string value of the object) is first interpolated
/// as Compose would (`"${PG_PORT:-7000}:5432"`) with the variables of `env`;
/// without `env`, no variable is set (not even from `process.env`: the
/// result depends on the arguments alone, as with the CLI's `parse-ports`).
///
/// Returns one mapping per container port, in Compose's order. Throws a
/// `PortConventionError` with code `invalid-port-spec` (message in Compose's
/// words), or `invalid-template` / `required-variable` from interpolation.
#[napi(ts_return_type = "PortMapping[]")]
pub fn parse_port_spec<'env>(
    cx: &'env Env,
    #[napi(ts_arg_type = "string | number | PortSpecObject")] spec: Unknown<'env>,
    #[napi(ts_arg_type = "Record<string, string | undefined>")] env: Option<JsEnv>,
) -> Result<Unknown<'env>> {
    let spec: serde_json::Value = cx.from_js_value(spec)?;
    let vars = env_map(env.unwrap_or_default());
    let parsed = port_spec::parse_port_entry_with_env(&spec, &vars);
    to_js(cx, parsed)
}

/// Interpolates `template` exactly as Docker Compose does (`$VAR`, `${VAR}`,
/// `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`,
/// `${VAR:+alternative}`, `${VAR+alternative}`, `$$`), with the variables of
/// `env` (an entry whose value is `undefined` is unset).
///
/// Returns the value and every variable reference met, in order, each with
/// `default_taken` telling whether the result used the text written after
/// the operator. Spans are byte offsets in the UTF-8 template.
///
/// Throws a `PortConventionError` with code `invalid-template` (`${`,
/// `${VAR` ...) or `required-variable` (`${VAR:?msg}` with `VAR` unset).
#[napi(ts_return_type = "Interpolated")]
pub fn interpolate(
    cx: &Env,
    template: String,
    #[napi(ts_arg_type = "Record<string, string | undefined>")] env: JsEnv,
) -> Result<Unknown<'_>> {
    to_js(cx, interpolation::interpolate_map(&template, &env_map(env)))
}

/// The result of `parseDotenv`: the core's parsed file plus `values`.
#[derive(Serialize)]
struct ParsedDotenv {
    values: BTreeMap<String, String>,
    #[serde(flatten)]
    dotenv: port_convention::dotenv::Dotenv,
}

/// Parses the text of a `.env` file as Docker Compose does (quotes, escapes,
/// `export`, inline comments, interpolation of `${VAR}` from earlier keys).
///
/// `env` is the environment the file is read in: it answers keys written
/// without `=` and wins over earlier keys of the file during interpolation,
/// as the process environment does for Compose. Without it, the result
/// depends on the text alone.
///
/// Returns `values` (the last value of each key), `entries` (every entry in
/// file order, with its line and column) and `duplicates` (each repeated key
/// with the lines of its first and repeated entries). Throws a
/// `PortConventionError` with code `dotenv-syntax` (with `location`),
/// `invalid-template` or `required-variable`.
#[napi(ts_return_type = "ParsedDotenv")]
pub fn parse_dotenv(
    cx: &Env,
    text: String,
    #[napi(ts_arg_type = "Record<string, string | undefined>")] env: Option<JsEnv>,
) -> Result<Unknown<'_>> {
    let vars = env_map(env.unwrap_or_default());
    let parsed =
        port_convention::dotenv::parse_dotenv(".env", &text, &|name| vars.get(name).cloned()).map(
            |dotenv| ParsedDotenv {
                values: dotenv.to_map(),
                dotenv,
            },
        );
    to_js(cx, parsed)
}

/// Checks a convention by itself: overlapping ranges, duplicate ports,
/// ports outside their range or in a reserved one, privileged and ephemeral
/// ports ...
///
/// `pathOrText` is the path of a convention file, or YAML text (anything
/// with a newline or `": "` that is not an existing file). Returns the
/// findings (errors and warnings; an empty array for a clean convention).
/// Throws a `PortConventionError` when the convention cannot be read at all
/// (`io`, `yaml-syntax`, `invalid-convention`, `tool-version-mismatch`), with
/// `location` where there is one.
#[napi(ts_return_type = "Finding[]")]
pub fn validate_convention(cx: &Env, path_or_text: String) -> Result<Unknown<'_>> {
    let findings = io::convention_from_path_or_text(&path_or_text)
        .map(|convention| port_convention::validate_convention(&convention));
    to_js(cx, findings)
}

/// Options of `allocate`.
#[napi(object)]
pub struct AllocateOptions {
    /// The convention file. Default: `ports.yaml` in the working directory
    /// or the closest parent directory that has one.
    pub convention: Option<String>,
    /// How many ports. Default: 1.
    pub count: Option<u32>,
}

/// The `count` lowest free ports of the range named `range`, ascending: ports
/// no service of the convention is assigned and no reserved range holds.
///
/// Throws a `PortConventionError` with code `unknown-range`, `range-full`
/// (the message says what fills the range), `invalid-argument` (count 0), or
/// what kept the convention from loading.
#[napi(ts_return_type = "number[]")]
pub fn allocate(cx: &Env, range: String, options: Option<AllocateOptions>) -> Result<Unknown<'_>> {
    let (convention, count) = match options {
        Some(o) => (o.convention.map(PathBuf::from), o.count.unwrap_or(1)),
        None => (None, 1),
    };
    let ports = io::load_convention_or_find(convention.as_deref()).and_then(|(_, convention)| {
        port_convention::allocate(&convention, &range, count as usize, &[])
    });
    to_js(cx, ports)
}

/// Options of `check`.
#[napi(object)]
pub struct CheckOptions {
    /// The convention file. Default: `ports.yaml` in `root` or the closest
    /// parent directory that has one; without one, clashes between compose
    /// files and problems inside files are still checked.
    pub convention: Option<String>,
    /// `.env` files that replace each compose project's `.env` for
    /// interpolation (a later file wins).
    pub env_files: Option<Vec<String>>,
    /// The environment compose files are interpolated with. Default:
    /// `process.env`.
    #[napi(ts_type = "Record<string, string | undefined>")]
    pub env: Option<JsEnv>,
}

/// The work of `check`, run on a thread of libuv's pool (not the main
/// thread): reading and checking a tree can take a while.
pub struct CheckTask {
    options: io::CheckOptions,
}

impl<'task> ScopedTask<'task> for CheckTask {
    type Output = std::result::Result<port_convention::report::Report, port_convention::Error>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(io::check(&self.options).map(|outcome| outcome.report))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> Result<Self::JsValue> {
        to_js(env, output)
    }
}

/// Checks a repository as `port-convention check` does: reads every compose
/// file and `.env` file under `root` (respecting `.gitignore`) and applies
/// every rule: host-port clashes, drift from the convention, ports outside
/// their range, protected ranges, loopback-only ranges, invalid entries ...
///
/// Runs off the main thread and returns a promise (the environment is read
/// from `process.env` first, on the calling thread). `root` defaults to the
/// directory of the convention, else the working directory. Resolves to the
/// versioned JSON report of the CLI's `--format json` (`{ version,
/// findings, summary }`); findings are results, not exceptions. Rejects
/// with a `PortConventionError` only when the check cannot run (an
/// unreadable or invalid convention, a missing directory, an unreadable env
/// file).
#[napi(ts_return_type = "Promise<Report>")]
pub fn check(
    cx: &Env,
    root: Option<String>,
    options: Option<CheckOptions>,
) -> Result<AsyncTask<CheckTask>> {
    let options = options.unwrap_or(CheckOptions {
        convention: None,
        env_files: None,
        env: None,
    });
    let options = io::CheckOptions {
        paths: root.map(PathBuf::from).into_iter().collect(),
        convention: options.convention.map(PathBuf::from),
        env_files: paths(options.env_files),
        env: Some(env_or_process(cx, options.env)?),
        convention_only: false,
    };
    Ok(AsyncTask::new(CheckTask { options }))
}

/// Every rule a finding can name (`Finding.rule`), in the core's order:
/// `{ id, severity, subject, summary }`. `port-convention explain RULE`
/// prints the rest of a rule's documentation.
#[napi(ts_return_type = "RuleInfo[]")]
pub fn rules(cx: &Env) -> Result<Unknown<'_>> {
    let rules: Vec<serde_json::Value> = port_convention::Rule::ALL
        .iter()
        .map(|rule| {
            serde_json::json!({
                "id": rule.id(),
                "severity": rule.severity(),
                "subject": rule.subject(),
                "summary": rule.summary(),
            })
        })
        .collect();
    cx.to_js_value(&rules)
}

/// Runs the `port-convention` command line (the Rust CLI itself) on `argv`
/// (program name first) and returns its exit code; the package's
/// `port-convention` bin calls it. It blocks until the command is done.
#[napi]
pub fn run_cli(argv: Vec<String>) -> i32 {
    port_convention_cli::run(argv.into_iter().map(Into::into).collect())
}

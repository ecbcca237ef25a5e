//! `port-convention mcp`: a Model Context Protocol server on stdin/stdout
//! (ADR 0010). Each tool answers the question a subcommand answers, with the
//! same JSON, by calling the same functions; no tool writes a file, and every
//! path a tool is given must resolve inside the server's root. Resources: the
//! convention file and what `render markdown` makes of it.

use std::path::{Path, PathBuf};

use port_convention::render::{self, Kind};
use port_convention::{Error, Rule, io};
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::check::TreeArgs;

/// Arguments of `mcp`.
#[derive(clap::Args)]
pub struct Args {
    /// The directory the server answers for (default: the current
    /// directory). Every path a tool is given, and every ports.yaml found
    /// for it, must resolve inside it; relative paths are taken from it.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

/// Serves MCP on stdin/stdout until the client closes the connection.
pub fn run(args: &Args) -> Result<u8, Error> {
    let given = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let root = std::fs::canonicalize(&given).map_err(|source| Error::Io {
        path: given.clone(),
        source,
    })?;
    // Answers name files as the CLI run in the root names them.
    std::env::set_current_dir(&root).map_err(|source| Error::Io {
        path: given.clone(),
        source,
    })?;
    let stdio_error = |e: &dyn std::fmt::Display| Error::Io {
        path: PathBuf::from("<stdio>"),
        source: std::io::Error::other(e.to_string()),
    };
    // One thread: the tools are quick and blocking; rmcp times its
    // shutdown drain.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|source| Error::Io {
            path: PathBuf::from("<runtime>"),
            source,
        })?;
    runtime.block_on(async {
        let service = Server { root }
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| stdio_error(&e))?;
        service.waiting().await.map_err(|e| stdio_error(&e))?;
        Ok(0)
    })
}

/// The server: the root it answers for.
struct Server {
    /// Canonical; the process runs in it.
    root: PathBuf,
}

/// Input of `check`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CheckParams {
    /// The directory to check, inside the server's root (default: the
    /// directory of the nearest ports.yaml, else the root).
    #[serde(default)]
    path: Option<String>,
    /// The convention file (default: ports.yaml in the checked directory or
    /// a parent, inside the root).
    #[serde(default)]
    convention: Option<String>,
    /// Also check this machine: sockets and containers holding the ports
    /// (live-* rules).
    #[serde(default)]
    live: bool,
    /// With live: only findings about these compose services (a preflight
    /// before `docker compose up SERVICE...`).
    #[serde(default)]
    only: Vec<String>,
}

/// Input of `scan`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScanParams {
    /// The directory to scan, inside the server's root (default: the
    /// directory of the nearest ports.yaml, else the root).
    #[serde(default)]
    path: Option<String>,
    /// The convention file (default: ports.yaml in the scanned directory or
    /// a parent, inside the root).
    #[serde(default)]
    convention: Option<String>,
}

/// Input of `explain_rule`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExplainParams {
    /// The rule id, as findings name it (`drift`, `duplicate-host-port`
    /// ...); without it, every rule.
    #[serde(default)]
    rule: Option<String>,
}

/// Input of `allocate`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AllocateParams {
    /// The range name, as declared in ports.yaml.
    range: String,
    /// The repository whose compose files' published ports are skipped,
    /// inside the server's root (default: the directory of ports.yaml).
    #[serde(default)]
    path: Option<String>,
    /// How many ports (default 1).
    #[serde(default = "one")]
    count: usize,
    /// The convention file (default: ports.yaml in the directory or a
    /// parent, inside the root).
    #[serde(default)]
    convention: Option<String>,
    /// Also skip ports held on this machine right now (sockets, containers).
    #[serde(default)]
    live: bool,
}

fn one() -> usize {
    1
}

/// Input of `plan_migration`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PlanParams {
    /// The directory to migrate, inside the server's root (default: the
    /// directory of the convention).
    #[serde(default)]
    path: Option<String>,
    /// The convention file (default: ports.yaml in the directory or a
    /// parent, inside the root).
    #[serde(default)]
    convention: Option<String>,
    /// `OLD=NEW` pairs: also move .env values equal to OLD of the variables
    /// of the service assigned NEW.
    #[serde(default)]
    maps: Vec<String>,
    /// Turn literal mappings into ${VAR:-port} with the convention's
    /// variable, and rename variables that differ from the convention's.
    #[serde(default)]
    use_env_vars: bool,
    /// Rename variables that differ from the convention's.
    #[serde(default)]
    rename_vars: bool,
}

/// Input of `validate_convention`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ValidateParams {
    /// The convention file (default: ports.yaml in the root or a parent,
    /// inside the root).
    #[serde(default)]
    convention: Option<String>,
}

/// A tool's answer: its JSON (the CLI's JSON for the same question) and the
/// notes the CLI prints on stderr (what a live read could not see).
struct Answer {
    value: Value,
    notes: Vec<String>,
}

impl From<Value> for Answer {
    fn from(value: Value) -> Self {
        Answer {
            value,
            notes: Vec::new(),
        }
    }
}

/// The tools: name, description, input schema.
fn tools() -> Vec<Tool> {
    let read_only =
        || ToolAnnotations::from_raw(None, Some(true), Some(false), Some(true), Some(false));
    let tool = |name: &'static str, description: &'static str, schema| {
        Tool::new(name, description, schema).annotate(read_only())
    };
    vec![
        tool(
            "check",
            "Check a tree's compose and .env files (and with live, this machine) against the \
             convention: every conflict and violation. Returns the JSON of `port-convention check \
             --format json` (docs/json-output.md).",
            schema_for_type::<CheckParams>(),
        ),
        tool(
            "scan",
            "Every published host port of a tree, with its compose project, service, file and \
             source. Returns the JSON of `port-convention scan --format json`.",
            schema_for_type::<ScanParams>(),
        ),
        tool(
            "explain_rule",
            "A rule's documentation (summary, severity, subject, why it matters, how to fix it, \
             an example); without rule, every rule's. Returns the JSON of `port-convention \
             explain [RULE] --format json`.",
            schema_for_type::<ExplainParams>(),
        ),
        tool(
            "allocate",
            "The lowest free ports of a range that the convention does not assign or reserve and \
             no compose file of the tree publishes (with live: not held on this machine either). \
             Returns the JSON of `port-convention allocate RANGE [PATH] --format json`.",
            schema_for_type::<AllocateParams>(),
        ),
        tool(
            "plan_migration",
            "The plan that moves the convention's services to their assigned ports, and its \
             unified diff; read-only: nothing is applied or saved. Returns {\"plan\": the JSON of \
             `port-convention migrate plan --format json`, \"diff\": the diff}.",
            schema_for_type::<PlanParams>(),
        ),
        tool(
            "validate_convention",
            "Validate ports.yaml itself. Returns the JSON of `port-convention check \
             --convention-only --format json`.",
            schema_for_type::<ValidateParams>(),
        ),
    ]
}

/// A tool's arguments, or an `invalid-argument` error naming the tool.
fn params<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, Error> {
    serde_json::from_value(arguments).map_err(|e| Error::InvalidArgument {
        message: format!("{tool}: {e}"),
    })
}

/// The JSON of a report (`check --format json`).
fn report_json(outcome: &io::CheckOutcome) -> Value {
    serde_json::from_str(&outcome.report.to_json()).unwrap_or_default()
}

impl Server {
    /// `path` as given (the CLI run in the root would be given it), once it
    /// is known to resolve inside the root.
    fn inside(&self, path: &str) -> Result<PathBuf, Error> {
        io::confine(&self.root, Path::new(path))?;
        Ok(PathBuf::from(path))
    }

    /// The tree arguments of a tool, confined: the path and the convention
    /// given, or the ports.yaml the CLI would find for them.
    fn tree(&self, path: Option<&str>, convention: Option<&str>) -> Result<TreeArgs, Error> {
        let paths: Vec<PathBuf> = path
            .map(|p| self.inside(p))
            .transpose()?
            .into_iter()
            .collect();
        let convention = match convention {
            Some(c) => Some(self.inside(c)?),
            None => {
                self.found_convention(paths.first().map_or(Path::new("."), PathBuf::as_path))?;
                None
            }
        };
        Ok(TreeArgs {
            paths,
            convention,
            env_files: Vec::new(),
        })
    }

    /// The ports.yaml the upward search from `start` finds, refused when it
    /// lies outside the root (the search goes up past it).
    fn found_convention(&self, start: &Path) -> Result<Option<PathBuf>, Error> {
        match io::find_convention(start) {
            Ok(found) => io::confine(&self.root, &found).map(Some),
            Err(Error::ConventionNotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    fn answer(&self, tool: &str, arguments: Value) -> Result<Answer, Error> {
        match tool {
            "check" => {
                let p: CheckParams = params(tool, arguments)?;
                if !p.only.is_empty() && !p.live {
                    return Err(Error::InvalidArgument {
                        message: "check: only needs live (it is a preflight of this machine)"
                            .into(),
                    });
                }
                let tree = self.tree(p.path.as_deref(), p.convention.as_deref())?;
                let (outcome, notes) = crate::check::outcome(&tree, false, p.live, &p.only)?;
                Ok(Answer {
                    value: report_json(&outcome),
                    notes,
                })
            }
            "scan" => {
                let p: ScanParams = params(tool, arguments)?;
                let tree = self.tree(p.path.as_deref(), p.convention.as_deref())?;
                let (outcome, _) = crate::check::outcome(&tree, false, false, &[])?;
                let scan = outcome.scan.unwrap_or_default();
                let rows = port_convention::report::scan::scan_rows(&scan);
                let json = port_convention::report::scan::render_scan_json(&rows);
                Ok(serde_json::from_str::<Value>(&json)
                    .unwrap_or_default()
                    .into())
            }
            "explain_rule" => {
                let p: ExplainParams = params(tool, arguments)?;
                let rule: Option<Rule> = p
                    .rule
                    .map(|id| port_convention::report::escape_text(&id).parse())
                    .transpose()?;
                Ok(crate::explain_json(rule).into())
            }
            "allocate" => {
                let p: AllocateParams = params(tool, arguments)?;
                let tree = self.tree(p.path.as_deref(), p.convention.as_deref())?;
                let (allocation, notes) =
                    crate::allocate::allocation(&tree, &p.range, p.count, p.live)?;
                Ok(Answer {
                    value: crate::allocate::to_json(&p.range, &allocation.ports),
                    notes,
                })
            }
            "plan_migration" => self.plan(params(tool, arguments)?),
            "validate_convention" => {
                let p: ValidateParams = params(tool, arguments)?;
                let tree = self.tree(None, p.convention.as_deref())?;
                let (outcome, _) = crate::check::outcome(&tree, true, false, &[])?;
                Ok(report_json(&outcome).into())
            }
            other => Err(Error::InvalidArgument {
                message: format!(
                    "no tool {:?}; the tools are check, scan, explain_rule, allocate, \
                     plan_migration and validate_convention",
                    port_convention::report::escape_text(other)
                ),
            }),
        }
    }

    /// `migrate plan`, without `--out`: the plan and its diff.
    fn plan(&self, p: PlanParams) -> Result<Answer, Error> {
        use port_convention::io::migrate::{PlanRequest, plan_migration};
        use port_convention::migrate::{PlanOptions, PortMap, plan_diff};
        let root = p.path.as_deref().map(|d| self.inside(d)).transpose()?;
        let convention = match p.convention.as_deref() {
            Some(c) => Some(self.inside(c)?),
            None => {
                self.found_convention(root.as_deref().unwrap_or(Path::new(".")))?;
                None
            }
        };
        let maps = p
            .maps
            .iter()
            .map(|m| m.parse::<PortMap>())
            .collect::<Result<Vec<_>, _>>()?;
        let planned = plan_migration(&PlanRequest {
            root,
            convention,
            env: None,
            options: PlanOptions {
                use_env_vars: p.use_env_vars,
                rename_vars: p.rename_vars,
                maps,
                source: false,
            },
        })?;
        // The root of a plan without a path is the convention's directory:
        // it must be inside too (it is, when the convention is).
        io::confine(&self.root, Path::new(&planned.plan.root))?;
        let diff = plan_diff(&planned.plan, &planned.texts)?;
        Ok(json!({ "plan": planned.plan, "diff": diff }).into())
    }

    /// The convention the root's tools use by default, if inside the root.
    fn convention_path(&self) -> Option<PathBuf> {
        self.found_convention(Path::new(".")).ok().flatten()
    }

    /// The resources: the convention file, and what `port-convention
    /// render markdown` makes of it (the document and its port map, which
    /// the document links by a relative name).
    fn resources(&self) -> Vec<(Resource, Source)> {
        let Some(path) = self.convention_path() else {
            return Vec::new();
        };
        let markdown = Kind::Markdown.default_file_name();
        let svg = Kind::Svg.default_file_name();
        vec![
            (
                Resource::new(file_uri(&path), "ports.yaml")
                    .with_title("The port convention")
                    .with_description(
                        "The convention (ports.yaml) the tools of this server use by default.",
                    )
                    .with_mime_type(YAML),
                Source::File(path.clone()),
            ),
            (
                Resource::new(format!("{RENDERED}{markdown}"), markdown)
                    .with_title("The port convention, as a document")
                    .with_description(
                        "ports.yaml rendered for people: ranges, assignments, hosts, rules \
                         (`port-convention render markdown`).",
                    )
                    .with_mime_type("text/markdown"),
                Source::Rendered(path.clone(), 0),
            ),
            (
                Resource::new(format!("{RENDERED}{svg}"), svg)
                    .with_title("The port map")
                    .with_description(
                        "The ranges and their assignments as a picture (the document links it; \
                         `port-convention render svg`).",
                    )
                    .with_mime_type("image/svg+xml"),
                Source::Rendered(path, 1),
            ),
        ]
    }
}

/// The MIME type of ports.yaml.
const YAML: &str = "application/yaml";

/// The URI prefix of rendered resources: a relative link of the document
/// (`PORTS-CONVENTION.svg`) resolves to its port map.
const RENDERED: &str = "port-convention://render/";

/// What a resource is read from.
enum Source {
    /// A file, as it is.
    File(PathBuf),
    /// The `n`th file `render markdown` makes of this convention.
    Rendered(PathBuf, usize),
}

impl Source {
    fn read(&self) -> Result<String, Error> {
        match self {
            Source::File(path) => io::read_text(path),
            Source::Rendered(path, n) => {
                let convention = io::load_convention(path)?;
                let files = render::render(
                    Kind::Markdown,
                    &convention,
                    Kind::Markdown.default_file_name(),
                );
                Ok(files
                    .into_iter()
                    .nth(*n)
                    .map(|f| f.text)
                    .unwrap_or_default())
            }
        }
    }
}

/// The URI of a file resource.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.display().to_string().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(char::from(byte));
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

impl ServerHandler for Server {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new(
            "port-convention",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "port-convention enforces the team's host-port convention (ports.yaml) across the \
             compose and .env files of this tree and the sockets of this machine. Ask `check` \
             before choosing or changing a published port, `allocate` for a free one, \
             `explain_rule` about a finding's rule, `plan_migration` for the edits that fix drift \
             (nothing is applied). Paths are relative to the server's root.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // An unknown tool is a protocol error (the spec's "Unknown tool"
        // example); everything the tool itself refuses is a tool error.
        if !tools().iter().any(|t| t.name == request.name) {
            return Err(ErrorData::invalid_params(
                format!(
                    "Unknown tool: {}",
                    port_convention::report::escape_text(&request.name)
                ),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let result = match self.answer(&request.name, arguments) {
            Ok(answer) => {
                let mut result = CallToolResult::structured(answer.value);
                for note in answer.notes {
                    result
                        .content
                        .push(ContentBlock::text(format!("note: {note}")));
                }
                result
            }
            // Findings are an answer; an error is what kept the tool from
            // answering, with the library's stable code.
            Err(err) => CallToolResult::structured_error(err.to_json()),
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = self.resources().into_iter().map(|(r, _)| r).collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let not_found = || {
            ErrorData::resource_not_found(
                format!(
                    "no resource {}; list_resources names them",
                    port_convention::report::escape_text(&request.uri)
                ),
                None,
            )
        };
        let (resource, source) = self
            .resources()
            .into_iter()
            .find(|(r, _)| r.uri == request.uri)
            .ok_or_else(not_found)?;
        // The library's error, with its code, as the error's data.
        let text = source
            .read()
            .map_err(|err| ErrorData::internal_error(err.to_string(), Some(err.to_json())))?;
        let mut contents = ResourceContents::text(text, resource.uri);
        if let Some(mime) = resource.mime_type {
            contents = contents.with_mime_type(mime);
        }
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_escape_what_a_uri_cannot_hold() {
        assert_eq!(
            file_uri(Path::new("/srv/a b/ports.yaml")),
            "file:///srv/a%20b/ports.yaml"
        );
        assert_eq!(file_uri(Path::new("/x/%#?")), "file:///x/%25%23%3F");
    }

    #[test]
    fn every_tool_has_an_object_schema_and_is_read_only() {
        let tools = tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "check",
                "scan",
                "explain_rule",
                "allocate",
                "plan_migration",
                "validate_convention"
            ]
        );
        for tool in &tools {
            assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
            let hints = tool.annotations.as_ref().unwrap();
            assert_eq!(hints.read_only_hint, Some(true), "{}", tool.name);
            assert_eq!(hints.destructive_hint, Some(false), "{}", tool.name);
        }
    }

    #[test]
    fn bad_arguments_are_coded_errors() {
        let server = Server {
            root: std::env::temp_dir(),
        };
        let code = |tool: &str, args: Value| server.answer(tool, args).err().unwrap().code();
        assert_eq!(code("check", json!({"paht": "."})), "invalid-argument");
        assert_eq!(code("check", json!({"live": "yes"})), "invalid-argument");
        assert_eq!(code("check", json!({"only": ["db"]})), "invalid-argument");
        assert_eq!(code("allocate", json!({})), "invalid-argument");
        assert_eq!(code("migrate_apply", json!({})), "invalid-argument");
        assert_eq!(
            code("explain_rule", json!({"rule": "no-such-rule"})),
            "unknown-rule"
        );
    }
}

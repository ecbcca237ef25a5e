//! Compose projects, as Docker Compose builds them: what one `docker compose`
//! invocation loads, and so the unit in which host ports clash.
//!
//! Pure: the caller gives every compose file already parsed
//! ([`crate::compose::ComposeDoc`]), the texts, the `.env` files, the process
//! environment and the convention; [`resolve_projects`] returns the projects
//! of the tree. The semantics follow Docker Compose v2.40.3 (compose-go
//! v2.9): see `docs/compat-projects.md` and `docs/adr/0004-compose-projects.md`.
//!
//! - **Default project** of a directory: the first of `compose.yaml`,
//!   `compose.yml`, `docker-compose.yml`, `docker-compose.yaml` plus the first
//!   of the override names, or the files `COMPOSE_FILE` names (split at
//!   `COMPOSE_PATH_SEPARATOR`, default `:`), with `COMPOSE_PROFILES`; both read
//!   from the process environment, then the directory's `.env`.
//! - **File project**: every other compose file on its own (`docker compose
//!   -f FILE`), unless another project already loads it (an override,
//!   an `include`, an `extends` base, a `COMPOSE_FILE` entry). A file whose
//!   services lack both `image` and `build` cannot stand alone: it is a
//!   *fragment*, not a project.
//! - **Declared project**: several files merged in order, from the
//!   convention's `projects`.
//!
//! Loading a project merges its files in order: `ports` lists are appended
//! and de-duplicated (a later equal entry replaces the earlier one in place,
//! keyed as compose keys them: `host_ip:published:target/protocol`, with
//! `0.0.0.0` for no host IP); `!reset` drops what earlier files said and the
//! value itself, `!override` replaces it. `extends` (same file or another,
//! chained) inherits the base's ports first; `include` imports another
//! project's services, interpolated with its own `env_file`. A claim keeps
//! the file and line where its number is written, however it was reached.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::compose::{Claim, ComposeDoc, ComposeFile, MergeTag};
use crate::convention::normalize_path;
use crate::interpolation::interpolate;
use crate::yaml::{Node, NodeKind};
use crate::{Convention, Finding, Location, Rule};

/// Docker Compose's default file names, in its order of preference.
pub const DEFAULT_FILE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Docker Compose's override file names, in its order of preference.
pub const OVERRIDE_FILE_NAMES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The longest `extends` chain followed (compose has no limit; a longer one
/// in a real file is a mistake, and recursion must stay bounded).
pub const MAX_EXTENDS_DEPTH: usize = 64;

/// The deepest `include` nesting followed.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// How a project came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectKind {
    /// `docker compose` in a directory: its default files (or `COMPOSE_FILE`).
    Default,
    /// `docker compose -f FILE`: one compose file on its own.
    File,
    /// Declared in the convention's `projects`.
    Declared,
}

/// Why a project could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectError {
    /// A stable code: `extends-cycle`, `extends-not-found`, `extends-too-deep`,
    /// `include-cycle`, `include-conflict`, `include-too-deep`, `missing-file`,
    /// `outside-root`, `invalid-file`, `invalid-project-name`, and for a
    /// refused project `invalid-port-spec` or `interpolation-error`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The file that is missing, for `missing-file`.
    #[serde(skip)]
    pub path: Option<String>,
}

/// A service of a project after merging, `extends` and `include`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectService {
    /// The service name.
    pub name: String,
    /// Whether it runs: it has no `profiles`, or one of them is active.
    pub active: bool,
    /// Its `profiles`.
    pub profiles: Vec<String>,
    /// Whether it has an `image` or a `build` (else compose refuses it).
    pub standalone: bool,
    /// Every port mapping it has, published or not, each where it is written.
    pub claims: Vec<Claim>,
    /// Where the service is defined (the first file that names it).
    pub location: Location,
}

/// One compose project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// Stable id: the declared name, the directory of a default project
    /// (`.` for the root), or the file of a file project.
    pub id: String,
    /// The compose project name (`name:`, else the directory's name, in
    /// compose's normalised form).
    pub name: String,
    /// How it came to be.
    pub kind: ProjectKind,
    /// The project directory, relative to the root (`""` for the root).
    pub directory: String,
    /// The compose files in merge order, relative to the root.
    pub files: Vec<String>,
    /// The active profiles.
    pub profiles: Vec<String>,
    /// The env files used for interpolation, relative to the root.
    pub env_files: Vec<String>,
    /// Every service, active or not.
    pub services: Vec<ProjectService>,
    /// Every file the project read (its files, and those reached through
    /// `include` and `extends`).
    pub reads: Vec<String>,
    /// The hosts (from the convention) the project runs on.
    pub hosts: Vec<String>,
    /// Why it could not be loaded, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProjectError>,
    /// Why Docker Compose would refuse it although its services are known
    /// (an invalid port entry, a required variable without a value): its
    /// findings say where; its other ports are still checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<ProjectError>,
}

impl Project {
    /// The services that run.
    pub fn active_services(&self) -> impl Iterator<Item = &ProjectService> {
        self.services.iter().filter(|s| s.active)
    }

    /// A one-line description: `tools/compose (docker-compose.yml +
    /// docker-compose.override.yml, profiles: dev)`.
    pub fn describe(&self) -> String {
        let files: Vec<&str> = self
            .files
            .iter()
            .map(|f| f.strip_prefix(&format!("{}/", self.directory)).unwrap_or(f))
            .collect();
        let mut text = format!("{} ({}", self.id, files.join(" + "));
        if !self.profiles.is_empty() {
            text.push_str(&format!(", profiles: {}", self.profiles.join(",")));
        }
        text.push(')');
        text
    }
}

/// A compose file that is not a project of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fragment {
    /// The file, relative to the root.
    pub file: String,
    /// Why it cannot stand alone.
    pub reason: String,
}

/// Compose files already read, by name: the file with its claims, and the
/// variables it was interpolated with ([`ProjectInput::read`]).
pub type ReadFiles<'a> = BTreeMap<&'a str, (&'a ComposeFile, &'a BTreeMap<String, String>)>;

/// Everything [`resolve_projects`] works from.
#[derive(Debug, Clone, Copy)]
pub struct ProjectInput<'a> {
    /// Every compose file of the tree (and those referenced by one), parsed.
    pub docs: &'a BTreeMap<String, ComposeDoc>,
    /// The text of every file read.
    pub texts: &'a BTreeMap<String, String>,
    /// Every `.env`-style file read, as key-value maps (already interpolated).
    pub env_files: &'a BTreeMap<String, BTreeMap<String, String>>,
    /// The process environment: wins over every env file.
    pub process_env: &'a BTreeMap<String, String>,
    /// `--env-file`s: when given, they replace every project's `.env`.
    pub env_override: Option<&'a BTreeMap<String, String>>,
    /// The convention, if any.
    pub convention: Option<&'a Convention>,
    /// The name of the root directory (for the root project's name).
    pub root_name: &'a str,
    /// Each compose file as already read with its own directory's
    /// variables, and those variables: a project that loads the file with
    /// the same ones reuses its claims instead of reading them again.
    pub read: Option<&'a ReadFiles<'a>>,
}

/// The projects of a tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Projects {
    /// Every project, in id order.
    pub projects: Vec<Project>,
    /// Compose files that are not projects of their own.
    pub fragments: Vec<Fragment>,
    /// Problems found while loading (interpolation, invalid port specs,
    /// project errors, host entries that match nothing), each once.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// A service while a project is being loaded.
#[derive(Debug, Clone)]
struct Loading {
    name: String,
    claims: Vec<Claim>,
    standalone: bool,
    profiles: Vec<String>,
    location: Location,
    /// Where the definition comes from (file and key), to tell an imported
    /// service that is the same definition from a conflicting one.
    origin: (String, u32, u32),
}

/// Interpolation variables: the process environment over env files, the
/// later file winning. Borrowed, never merged: no project copies a map.
#[derive(Debug, Clone)]
struct Env<'a> {
    process: &'a BTreeMap<String, String>,
    /// Env files, lowest precedence first.
    layers: Vec<&'a BTreeMap<String, String>>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<&String> {
        self.process
            .get(name)
            .or_else(|| self.layers.iter().rev().find_map(|map| map.get(name)))
    }

    /// Whether the variables are exactly those of one map over the process
    /// environment (how a file was read on its own).
    fn is_only(&self, vars: &BTreeMap<String, String>) -> bool {
        match self.layers.as_slice() {
            [] => vars.is_empty(),
            [only] => std::ptr::eq(*only, vars) || **only == *vars,
            _ => false,
        }
    }
}

/// The directory of a root-relative path (`""` for the root).
pub fn directory_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(dir: &str, path: &str) -> Result<String, ProjectError> {
    if path.starts_with('/') || path.contains(':') && path.chars().nth(1) == Some(':') {
        return Err(ProjectError {
            code: "outside-root",
            message: format!(
                "{path} is an absolute path; only files inside the scanned root are read"
            ),
            location: None,
            path: None,
        });
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ProjectError {
                        code: "outside-root",
                        message: format!(
                            "{path} (from {}) leaves the scanned root; it is not read",
                            if dir.is_empty() { "." } else { dir }
                        ),
                        location: None,
                        path: None,
                    });
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

fn within(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Compose's normalised project name: lower case, only `a-z0-9_-`, starting
/// with a letter or digit.
pub fn normalize_project_name(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

struct Loader<'a> {
    input: ProjectInput<'a>,
    findings: Vec<Finding>,
    seen_findings: BTreeSet<crate::finding::FindingIdentity>,
    reads: BTreeSet<String>,
    /// The first problem of the project being loaded that makes compose
    /// refuse it.
    refusal: Option<ProjectError>,
}

impl<'a> Loader<'a> {
    fn note(&mut self, finding: Finding) {
        if self.seen_findings.insert(finding.identity()) {
            self.findings.push(finding);
        }
    }

    fn doc(&self, file: &str) -> Result<&'a ComposeDoc, ProjectError> {
        match self.input.docs.get(file) {
            Some(doc) if doc.broken => Err(ProjectError {
                code: "invalid-file",
                message: format!("{file} is not a valid compose file"),
                location: doc.findings.first().and_then(|f| f.location.clone()),
                path: None,
            }),
            Some(doc) => Ok(doc),
            None => Err(ProjectError {
                code: "missing-file",
                message: format!("{file} does not exist (or is not a compose file)"),
                location: None,
                path: Some(file.to_owned()),
            }),
        }
    }

    fn exists(&self, file: &str) -> bool {
        self.input.docs.contains_key(file) || self.input.texts.contains_key(file)
    }

    /// The interpolation environment of a project in `directory`: process
    /// environment over `--env-file`s, or over the given env files, or over
    /// the directory's `.env`.
    fn project_env(&self, directory: &str, env_files: &[String]) -> (Env<'a>, Vec<String>) {
        let mut used = Vec::new();
        let layered: Vec<&BTreeMap<String, String>> = if let Some(over) = self.input.env_override {
            vec![over]
        } else if env_files.is_empty() {
            let dotenv = within(directory, ".env");
            match self.input.env_files.get(&dotenv) {
                Some(map) => {
                    used.push(dotenv);
                    vec![map]
                }
                None => Vec::new(),
            }
        } else {
            env_files
                .iter()
                .filter_map(|f| {
                    let map = self.input.env_files.get(f)?;
                    used.push(f.clone());
                    Some(map)
                })
                .collect()
        };
        // Later env files win over earlier ones; the process environment over all.
        (
            Env {
                process: self.input.process_env,
                layers: layered,
            },
            used,
        )
    }

    fn text_of(&self, file: &str) -> &str {
        self.input.texts.get(file).map(String::as_str).unwrap_or("")
    }

    fn interpolate_string(&mut self, doc: &ComposeDoc, node: &Node, env: &Env) -> Option<String> {
        let NodeKind::Str(template) = &node.kind else {
            return node.scalar_text();
        };
        match interpolate(template, &|name| env.get(name).cloned()) {
            Ok(i) => Some(i.value),
            Err(err) => {
                self.note(
                    Finding::new(Rule::InterpolationError, err.to_string())
                        .at(&node.place.location(&doc.file)),
                );
                None
            }
        }
    }

    fn strings_of(&mut self, doc: &ComposeDoc, node: Option<&Node>, env: &Env) -> Vec<String> {
        match node.map(|n| &n.kind) {
            Some(NodeKind::Seq(items)) => items
                .iter()
                .filter_map(|item| self.interpolate_string(doc, item, env))
                .collect(),
            Some(NodeKind::Null) | None => Vec::new(),
            Some(_) => node
                .and_then(|n| self.interpolate_string(doc, n, env))
                .into_iter()
                .collect(),
        }
    }

    /// Service `index` of `doc` with its `extends` chain applied.
    /// `base_dir` is what an `extends.file` is relative to.
    fn resolve_service(
        &mut self,
        doc: &'a ComposeDoc,
        index: usize,
        env: &Env,
        base_dir: &str,
        chain: &mut Vec<(String, String)>,
    ) -> Result<Loading, ProjectError> {
        let (name, location) = doc
            .services
            .get(index)
            .cloned()
            .unwrap_or_else(|| (String::new(), Location::new(doc.file.clone(), 0, 0)));
        let link = (doc.file.clone(), name.clone());
        if chain.len() >= MAX_EXTENDS_DEPTH {
            return Err(ProjectError {
                code: "extends-too-deep",
                message: format!(
                    "extends chain of service {name} is deeper than {MAX_EXTENDS_DEPTH} services"
                ),
                location: Some(location),
                path: None,
            });
        }
        if chain.contains(&link) {
            let path: Vec<String> = chain
                .iter()
                .chain(std::iter::once(&link))
                .map(|(f, s)| format!("{s} ({f})"))
                .collect();
            return Err(ProjectError {
                code: "extends-cycle",
                message: format!("extends cycle: {}", path.join(" -> ")),
                location: Some(location),
                path: None,
            });
        }
        chain.push(link);
        let reused = self.input.read.and_then(|read| {
            let (file, vars) = read.get(doc.file.as_str())?;
            // Only the first document's services are indexed, and only the
            // same variables give the same claims.
            let first = std::ptr::eq(self.input.docs.get(&doc.file)?, doc);
            if !first || !env.is_only(vars) {
                return None;
            }
            let (claims, findings) = file.per_service.get(index)?;
            Some((
                file.claims.get(claims.clone())?.to_vec(),
                file.findings.get(findings.clone())?.to_vec(),
            ))
        });
        let own = match reused {
            Some((claims, findings)) => ComposeFile {
                claims,
                findings,
                ..ComposeFile::default()
            },
            None => {
                let mut own = ComposeFile {
                    file: doc.file.clone(),
                    ..ComposeFile::default()
                };
                doc.service_claims(
                    self.text_of(&doc.file),
                    index,
                    &|var| env.get(var).cloned(),
                    &mut own,
                );
                own
            }
        };
        for finding in own.findings {
            if matches!(
                finding.rule,
                Rule::InvalidPortSpec | Rule::InterpolationError
            ) && self.refusal.is_none()
            {
                self.refusal = Some(ProjectError {
                    code: finding.rule.id(),
                    message: finding.message.clone(),
                    location: finding.location.clone(),
                    path: None,
                });
            }
            self.note(finding);
        }
        let profiles = self.strings_of(doc, doc.service_key(index, "profiles"), env);
        let mut service = Loading {
            name: name.clone(),
            claims: own.claims,
            standalone: doc.has_image_or_build(index),
            profiles,
            location: location.clone(),
            origin: (doc.file.clone(), location.line, location.column),
        };
        if let Some(extends) = doc.service_key(index, "extends") {
            let (reference, file) = match &extends.kind {
                NodeKind::Map(_) => (
                    extends
                        .get("service")
                        .and_then(|n| self.interpolate_string(doc, n, env)),
                    extends
                        .get("file")
                        .and_then(|n| self.interpolate_string(doc, n, env)),
                ),
                _ => (self.interpolate_string(doc, extends, env), None),
            };
            let Some(reference) = reference else {
                chain.pop();
                return Err(ProjectError {
                    code: "extends-not-found",
                    message: format!("extends of service {name} names no service"),
                    location: Some(extends.place.location(&doc.file)),
                    path: None,
                });
            };
            let located = |mut err: ProjectError| {
                err.location
                    .get_or_insert_with(|| extends.place.location(&doc.file));
                err
            };
            let (base_doc, next_dir) = match &file {
                Some(file) => {
                    let path = join(base_dir, file).map_err(located)?;
                    self.reads.insert(path.clone());
                    let base = self.doc(&path).map_err(located)?;
                    (base, directory_of(&path).to_owned())
                }
                None => (doc, base_dir.to_owned()),
            };
            let Some(base_index) = base_doc.service_index(&reference) else {
                chain.pop();
                return Err(ProjectError {
                    code: "extends-not-found",
                    message: format!(
                        "cannot extend service {name:?} in {}: service {reference:?} not found in {}",
                        doc.file, base_doc.file
                    ),
                    location: Some(extends.place.location(&doc.file)),
                    path: None,
                });
            };
            let base = self.resolve_service(base_doc, base_index, env, &next_dir, chain);
            let base = match base {
                Ok(base) => base,
                Err(err) => {
                    chain.pop();
                    return Err(err);
                }
            };
            let mut claims = match doc.merge_tag(index, "ports") {
                MergeTag::Merge => base.claims,
                MergeTag::Reset | MergeTag::Override => Vec::new(),
            };
            claims.append(&mut service.claims);
            service.claims = claims;
            service.standalone |= base.standalone;
            for profile in base.profiles {
                if !service.profiles.contains(&profile) {
                    service.profiles.push(profile);
                }
            }
        }
        chain.pop();
        Ok(service)
    }

    /// The services one file contributes: its own (with `extends` applied)
    /// and those its `include` imports. `workdir` is the project directory.
    fn file_services(
        &mut self,
        doc: &'a ComposeDoc,
        env: &Env,
        workdir: &str,
        included: &mut Vec<String>,
    ) -> Result<Vec<(Loading, MergeTag)>, ProjectError> {
        let mut out = Vec::new();
        for index in 0..doc.services.len() {
            let service = self.resolve_service(doc, index, env, workdir, &mut Vec::new())?;
            out.push((service, doc.merge_tag(index, "ports")));
        }
        let Some(include) = &doc.include else {
            return Ok(out);
        };
        let entries: Vec<&Node> = match &include.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Null => Vec::new(),
            _ => vec![include],
        };
        if included.len() >= MAX_INCLUDE_DEPTH {
            return Err(ProjectError {
                code: "include-too-deep",
                message: format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
                location: Some(include.place.location(&doc.file)),
                path: None,
            });
        }
        included.push(doc.file.clone());
        for entry in entries {
            let located = |mut err: ProjectError| {
                err.location
                    .get_or_insert_with(|| entry.place.location(&doc.file));
                err
            };
            let (paths, project_directory, env_file) = match &entry.kind {
                NodeKind::Map(_) => (
                    self.strings_of(doc, entry.get("path"), env),
                    entry
                        .get("project_directory")
                        .and_then(|n| self.interpolate_string(doc, n, env)),
                    self.strings_of(doc, entry.get("env_file"), env),
                ),
                _ => (self.strings_of(doc, Some(entry), env), None, Vec::new()),
            };
            let paths = paths
                .iter()
                .map(|p| join(workdir, p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(located)?;
            let Some(first) = paths.first() else { continue };
            if included.contains(first) {
                included.pop();
                return Err(located(ProjectError {
                    code: "include-cycle",
                    message: format!(
                        "include cycle: {} includes {first}",
                        included
                            .iter()
                            .chain(std::iter::once(&doc.file))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" includes ")
                    ),
                    location: None,
                    path: None,
                }));
            }
            let sub_dir = match &project_directory {
                Some(dir) => join(workdir, dir).map_err(located)?,
                None => directory_of(first).to_owned(),
            };
            let env_files = if env_file.is_empty() {
                let dotenv = within(&sub_dir, ".env");
                if self.input.env_files.contains_key(&dotenv) {
                    vec![dotenv]
                } else {
                    Vec::new()
                }
            } else {
                env_file
                    .iter()
                    .map(|f| join(workdir, f))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(located)?
            };
            // The including project's variables win over the included env
            // files: they are layered below the includer's.
            let mut layers: Vec<&BTreeMap<String, String>> = Vec::new();
            for f in &env_files {
                self.reads.insert(f.clone());
                if let Some(map) = self.input.env_files.get(f) {
                    layers.push(map);
                }
            }
            layers.extend(env.layers.iter().copied());
            let sub_env = Env {
                process: env.process,
                layers,
            };
            let imported = self.load_files(&paths, &sub_dir, &sub_env, included);
            let imported = match imported {
                Ok(imported) => imported,
                Err(err) => {
                    included.pop();
                    return Err(located(err));
                }
            };
            for service in imported {
                if let Some((existing, _)) = out.iter().find(|(s, _)| s.name == service.name) {
                    if existing.origin == service.origin {
                        continue;
                    }
                    included.pop();
                    return Err(located(ProjectError {
                        code: "include-conflict",
                        message: format!(
                            "services.{} conflicts with imported resource (from {first})",
                            service.name
                        ),
                        location: None,
                        path: None,
                    }));
                }
                out.push((service, MergeTag::Merge));
            }
        }
        included.pop();
        Ok(out)
    }

    /// Loads `files` merged in order, as one project with directory `workdir`.
    fn load_files(
        &mut self,
        files: &[String],
        workdir: &str,
        env: &Env,
        included: &mut Vec<String>,
    ) -> Result<Vec<Loading>, ProjectError> {
        let mut merged: Vec<Loading> = Vec::new();
        let docs = self.input.docs;
        for file in files {
            self.reads.insert(file.clone());
            self.doc(file)?;
            let Some(first) = docs.get(file) else {
                continue;
            };
            let mut services = Vec::new();
            for doc in std::iter::once(first).chain(&first.more) {
                services.extend(self.file_services(doc, env, workdir, included)?);
            }
            for (service, tag) in services {
                match merged.iter_mut().find(|s| s.name == service.name) {
                    Some(existing) => {
                        match tag {
                            MergeTag::Merge => existing.claims.extend(service.claims),
                            MergeTag::Reset | MergeTag::Override => {
                                existing.claims = service.claims;
                            }
                        }
                        existing.standalone |= service.standalone;
                        for profile in service.profiles {
                            if !existing.profiles.contains(&profile) {
                                existing.profiles.push(profile);
                            }
                        }
                        dedupe_ports(&mut existing.claims);
                    }
                    None => {
                        let mut service = service;
                        dedupe_ports(&mut service.claims);
                        merged.push(service);
                    }
                }
            }
        }
        Ok(merged)
    }
}

/// Compose's de-duplication of merged `ports`: entries with the same
/// `host_ip:published:target/protocol` are one; the later one takes the
/// earlier one's place.
fn dedupe_ports(claims: &mut Vec<Claim>) {
    // compose's key `host_ip:published:target/protocol` as a value: no
    // host IP counts as 0.0.0.0; an integer long-syntax `published` is
    // formatted `%!s(int=N)` by compose and so matches nothing else; a run
    // is keyed as a whole.
    type Key = (
        std::net::IpAddr,
        crate::Published,
        u16,
        crate::Protocol,
        bool,
        u32,
    );
    let key = |c: &Claim| -> Key {
        let host = match c.mapping.host_ip {
            crate::HostIp::Unspecified => std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            crate::HostIp::Addr(ip) => ip,
        };
        (
            host,
            c.mapping.published,
            c.mapping.target,
            c.mapping.protocol,
            c.published_is_int,
            c.run,
        )
    };
    if claims.len() < 2 {
        return;
    }
    let mut seen: std::collections::HashMap<Key, usize> =
        std::collections::HashMap::with_capacity(claims.len());
    let mut out: Vec<Claim> = Vec::with_capacity(claims.len());
    for claim in claims.drain(..) {
        match seen.get(&key(&claim)) {
            Some(&at) => {
                if let Some(slot) = out.get_mut(at) {
                    *slot = claim;
                }
            }
            None => {
                seen.insert(key(&claim), out.len());
                out.push(claim);
            }
        }
    }
    *claims = out;
}

fn split_profiles(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What a project will be loaded from, before loading.
struct Spec {
    id: String,
    kind: ProjectKind,
    directory: String,
    files: Vec<String>,
    env_files: Vec<String>,
    profiles: Vec<String>,
    error: Option<ProjectError>,
}

/// Whether a host entry names a project.
fn host_entry_matches(entry: &str, project: &Project) -> bool {
    let entry = normalize_path(entry);
    let id = normalize_path(&project.id);
    if entry == id || (entry.is_empty() && project.directory.is_empty()) {
        return true;
    }
    let Ok(glob) = globset::GlobBuilder::new(&entry)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
    else {
        return false;
    };
    glob.is_match(&id)
        || (project.kind == ProjectKind::Default && glob.is_match(&project.directory))
        || project.files.iter().any(|f| glob.is_match(f))
}

/// Builds every project of a tree: default projects of each directory,
/// declared projects, then every compose file no project loads, on its own
/// (or as a fragment). Hosts from the convention are attached.
pub fn resolve_projects(input: ProjectInput<'_>) -> Projects {
    let mut loader = Loader {
        input,
        findings: Vec::new(),
        seen_findings: BTreeSet::new(),
        reads: BTreeSet::new(),
        refusal: None,
    };
    let mut specs: Vec<Spec> = Vec::new();

    // Default projects: every directory with a default-named file, or whose
    // environment sets COMPOSE_FILE.
    let mut directories: BTreeSet<String> = input
        .docs
        .keys()
        .map(|f| directory_of(f).to_owned())
        .collect();
    for env_file in input.env_files.keys() {
        if env_file.ends_with("/.env") || env_file == ".env" {
            directories.insert(directory_of(env_file).to_owned());
        }
    }
    for directory in directories {
        let (env, env_files) = loader.project_env(&directory, &[]);
        let mut error = None;
        let files: Vec<String> = if let Some(compose_file) = env.get("COMPOSE_FILE") {
            let separator = env
                .get("COMPOSE_PATH_SEPARATOR")
                .filter(|s| !s.is_empty())
                .map_or(":", String::as_str);
            let mut files = Vec::new();
            for part in compose_file.split(separator) {
                // Where COMPOSE_FILE was set: the directory's `.env`, unless
                // the process environment set it.
                let dotenv = within(&directory, ".env");
                let set_in = (!input.process_env.contains_key("COMPOSE_FILE")
                    && input.env_files.contains_key(&dotenv))
                .then(|| Location::new(dotenv.clone(), 0, 0));
                match join(&directory, part) {
                    Ok(path) if loader.exists(&path) => files.push(path),
                    Ok(path) => {
                        error.get_or_insert(ProjectError {
                            code: "missing-file",
                            message: format!(
                                "COMPOSE_FILE names {part}, but {path} does not exist"
                            ),
                            location: set_in,
                            path: Some(path.clone()),
                        });
                    }
                    Err(mut err) => {
                        err.location = err.location.or(set_in);
                        err.message = format!("COMPOSE_FILE names {part}: {}", err.message);
                        error.get_or_insert(err);
                    }
                }
            }
            files
        } else {
            let main = DEFAULT_FILE_NAMES
                .iter()
                .map(|n| within(&directory, n))
                .find(|f| loader.exists(f));
            let Some(main) = main else { continue };
            let mut files = vec![main];
            if let Some(over) = OVERRIDE_FILE_NAMES
                .iter()
                .map(|n| within(&directory, n))
                .find(|f| loader.exists(f))
            {
                files.push(over);
            }
            files
        };
        if files.is_empty() && error.is_none() {
            continue;
        }
        // The project directory is the first file's: with COMPOSE_FILE
        // naming files elsewhere, compose also reads that directory's
        // `.env`, under the working directory's.
        let project_dir = files
            .first()
            .map(|f| directory_of(f).to_owned())
            .unwrap_or_else(|| directory.clone());
        let mut env_files = env_files;
        if project_dir != directory && input.env_override.is_none() {
            let dotenv = within(&project_dir, ".env");
            if input.env_files.contains_key(&dotenv) {
                env_files.insert(0, dotenv);
            }
        }
        specs.push(Spec {
            id: if directory.is_empty() {
                ".".to_owned()
            } else {
                directory.clone()
            },
            kind: ProjectKind::Default,
            directory: project_dir,
            files,
            profiles: split_profiles(env.get("COMPOSE_PROFILES")),
            env_files,
            error,
        });
    }
    if let Some(c) = input.convention {
        for decl in &c.projects {
            let directory = decl.project_directory.clone().unwrap_or_else(|| {
                decl.files
                    .first()
                    .map(|f| directory_of(f).to_owned())
                    .unwrap_or_default()
            });
            let (env, env_files) = loader.project_env(&directory, &decl.env_files);
            let missing = decl
                .files
                .iter()
                .chain(&decl.env_files)
                .find(|f| !loader.exists(f) && !input.env_files.contains_key(*f));
            let profiles = if decl.profiles.is_empty() {
                split_profiles(env.get("COMPOSE_PROFILES"))
            } else {
                decl.profiles.clone()
            };
            specs.push(Spec {
                id: decl.name.clone(),
                kind: ProjectKind::Declared,
                directory,
                files: decl.files.clone(),
                env_files,
                profiles,
                error: missing.map(|f| ProjectError {
                    code: "missing-file",
                    message: format!("project {} names {f}, which does not exist", decl.name),
                    location: Some(decl.location.clone()),
                    path: Some(f.clone()),
                }),
            });
        }
    }

    let mut projects = load_all(&mut loader, specs);
    // Every file some project already reads is not a project of its own.
    let mut member: BTreeSet<String> = projects.iter().flat_map(|p| p.reads.clone()).collect();
    let mut candidate_specs = Vec::new();
    for file in input.docs.keys() {
        if member.contains(file) {
            continue;
        }
        let directory = directory_of(file).to_owned();
        let (env, env_files) = loader.project_env(&directory, &[]);
        candidate_specs.push(Spec {
            id: file.clone(),
            kind: ProjectKind::File,
            directory,
            files: vec![file.clone()],
            profiles: split_profiles(env.get("COMPOSE_PROFILES")),
            env_files,
            error: None,
        });
    }
    let candidates = load_all(&mut loader, candidate_specs);
    // A candidate another candidate reads (an include or extends target) is
    // part of that one.
    let read_by_others: BTreeSet<String> = candidates
        .iter()
        .flat_map(|p| p.reads.iter().filter(|r| **r != p.id).cloned())
        .collect();
    let mut fragments = Vec::new();
    for candidate in candidates {
        if read_by_others.contains(&candidate.id) {
            continue;
        }
        // A fragment: no service of it can run alone (a default project
        // stays a project whatever it lacks: its directory is where
        // `docker compose` runs).
        let lacking: Vec<&str> = candidate
            .active_services()
            .filter(|s| !s.standalone)
            .map(|s| s.name.as_str())
            .collect();
        let all_lacking = lacking.len() == candidate.active_services().count();
        if candidate.error.is_none() && !lacking.is_empty() && all_lacking {
            fragments.push(Fragment {
                file: candidate.id.clone(),
                reason: format!(
                    "service {} has neither an image nor a build context: an override fragment, merged by the projects that name it",
                    lacking.join(", ")
                ),
            });
            continue;
        }
        if candidate.services.is_empty() && candidate.error.is_none() {
            // An empty compose file (or one that only includes nothing) runs nothing.
            continue;
        }
        member.insert(candidate.id.clone());
        projects.push(candidate);
    }
    // A declared name must not be the id of another project: hosts and
    // findings name projects by id.
    if let Some(c) = input.convention {
        for decl in &c.projects {
            let name = normalize_path(&decl.name);
            if let Some(other) = projects
                .iter()
                .find(|p| p.kind != ProjectKind::Declared && normalize_path(&p.id) == name)
            {
                loader.note(
                    Finding::new(
                        Rule::AmbiguousProjectName,
                        format!(
                            "project {} has the id of the {} project {}: findings naming {} \
                             cannot tell them apart (a host entry {} means the declared one); \
                             rename the declared project",
                            decl.name,
                            match other.kind {
                                ProjectKind::File => "file",
                                _ => "default",
                            },
                            other.describe(),
                            decl.name,
                            decl.name
                        ),
                    )
                    .at(&decl.location),
                );
            }
        }
    }
    // Hosts, and the profiles they activate.
    if let Some(c) = input.convention {
        for host in &c.hosts {
            for entry in &host.projects {
                // A name a declared project has means that project only.
                let declared_name = projects.iter().any(|p| {
                    p.kind == ProjectKind::Declared
                        && normalize_path(&p.id) == normalize_path(entry)
                });
                let mut matched = false;
                for project in &mut projects {
                    let matches = if declared_name {
                        project.kind == ProjectKind::Declared
                            && normalize_path(&project.id) == normalize_path(entry)
                    } else {
                        host_entry_matches(entry, project)
                    };
                    if matches {
                        matched = true;
                        if !project.hosts.contains(&host.name) {
                            project.hosts.push(host.name.clone());
                        }
                        for profile in &host.profiles {
                            if !project.profiles.contains(profile) {
                                project.profiles.push(profile.clone());
                            }
                        }
                    }
                }
                // A glob that matches nothing is normal for a convention
                // shared by several checkouts; a name or path is a typo.
                let is_glob = entry.contains(['*', '?', '[', '{']);
                if !matched && !is_glob {
                    loader.note(
                        Finding::new(
                            Rule::UnknownHostProject,
                            format!(
                                "host {} names project {entry:?}, but no compose project of the tree matches it",
                                host.name
                            ),
                        )
                        .at(&host.location),
                    );
                }
            }
        }
    }
    for project in &mut projects {
        let profiles = project.profiles.clone();
        for service in &mut project.services {
            service.active = service.profiles.is_empty()
                || service
                    .profiles
                    .iter()
                    .any(|p| profiles.iter().any(|a| a == p || a == "*"));
        }
        // A file that is not valid compose already has its own finding.
        if let Some(err) = project.error.as_ref().filter(|e| e.code != "invalid-file") {
            let location = err.location.clone().or_else(|| {
                project
                    .files
                    .first()
                    .map(|f| Location::new(f.clone(), 0, 0))
            });
            let mut finding = Finding::new(
                Rule::InvalidProject,
                format!("project {}: {}", project.describe(), err.message),
            )
            .with_project(project.id.clone());
            if let Some(location) = &location {
                finding = finding.at(location);
            }
            loader.note(finding);
        }
    }
    projects.sort_by(|a, b| a.id.cmp(&b.id).then(a.kind.cmp(&b.kind)));
    fragments.sort_by(|a, b| a.file.cmp(&b.file));
    Projects {
        projects,
        fragments,
        findings: loader.findings,
    }
}

/// Loads projects in parallel, each with a loader of its own; their
/// findings are then noted in spec order, so the result does not depend on
/// the schedule.
fn load_all(loader: &mut Loader<'_>, specs: Vec<Spec>) -> Vec<Project> {
    use rayon::prelude::*;
    let input = loader.input;
    let loaded: Vec<(Project, Vec<Finding>)> = specs
        .into_par_iter()
        .map(|spec| {
            let mut own = Loader {
                input,
                findings: Vec::new(),
                seen_findings: BTreeSet::new(),
                reads: BTreeSet::new(),
                refusal: None,
            };
            let project = load(&mut own, spec);
            (project, own.findings)
        })
        .collect();
    loaded
        .into_iter()
        .map(|(project, findings)| {
            for finding in findings {
                loader.note(finding);
            }
            project
        })
        .collect()
}

fn load(loader: &mut Loader<'_>, spec: Spec) -> Project {
    loader.reads.clear();
    loader.refusal = None;
    let (env, _) = loader.project_env(&spec.directory, &spec.env_files);
    let mut project = Project {
        name: String::new(),
        id: spec.id,
        kind: spec.kind,
        directory: spec.directory.clone(),
        files: spec.files.clone(),
        profiles: spec.profiles,
        env_files: spec.env_files,
        services: Vec::new(),
        reads: Vec::new(),
        hosts: Vec::new(),
        error: spec.error,
        refused: None,
    };
    if project.error.is_none() {
        match loader.load_files(&spec.files, &spec.directory, &env, &mut Vec::new()) {
            Ok(services) => {
                project.services = services
                    .into_iter()
                    .map(|s| ProjectService {
                        name: s.name,
                        active: true,
                        profiles: s.profiles,
                        standalone: s.standalone,
                        claims: s.claims,
                        location: s.location,
                    })
                    .collect();
            }
            Err(err) => project.error = Some(err),
        }
    }
    // COMPOSE_PROJECT_NAME beats the file's `name:`, and is taken as it is
    // (compose refuses an invalid one rather than normalising it).
    let from_env = env
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
        .cloned();
    let declared_name = spec.files.first().and_then(|f| {
        let doc = loader.input.docs.get(f)?;
        let node = doc.name.clone()?;
        loader.interpolate_string(doc, &node, &env)
    });
    if let Some(name) = &from_env
        && normalize_project_name(name) != *name
    {
        loader.refusal.get_or_insert(ProjectError {
            code: "invalid-project-name",
            message: format!(
                "invalid project name {name:?} (COMPOSE_PROJECT_NAME): must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
            ),
            location: None,
            path: None,
        });
    }
    let base = from_env.or(declared_name).unwrap_or_else(|| {
        let dir = spec.directory.rsplit('/').next().unwrap_or("");
        if dir.is_empty() {
            loader.input.root_name.to_owned()
        } else {
            dir.to_owned()
        }
    });
    project.name = normalize_project_name(&base);
    project.reads = std::mem::take(&mut loader.reads).into_iter().collect();
    project.refused = loader.refusal.take();
    project
}

/// The version of the `projects --format json` shape (`docs/json-output.md`).
pub const PROJECTS_JSON_VERSION: u32 = 1;

impl Projects {
    /// Puts `prefix/` before every path (for a scan of several roots).
    pub fn prefix_paths(&mut self, prefix: &str) {
        let add = |path: &mut String| *path = within(prefix, path);
        for p in &mut self.projects {
            if p.kind != ProjectKind::Declared {
                add(&mut p.id);
            }
            add(&mut p.directory);
            p.files.iter_mut().for_each(add);
            p.env_files.iter_mut().for_each(add);
            p.reads.iter_mut().for_each(add);
            for s in &mut p.services {
                add(&mut s.location.file);
                for c in &mut s.claims {
                    add(&mut c.location.file);
                }
            }
        }
        for f in &mut self.fragments {
            add(&mut f.file);
        }
        for f in &mut self.findings {
            if let Some(file) = f.location.as_mut().map(|at| &mut at.file) {
                add(file);
            }
        }
    }

    /// The inventory as JSON: every project with its files, profiles, env
    /// files and active services' ports in Docker Compose's own
    /// `config --format json` shape, the fragments, and what discovery
    /// skipped or read although ignored (`notes`).
    pub fn to_json(&self, notes: &[crate::check::DiscoveryNote]) -> serde_json::Value {
        use serde_json::json;
        let projects: Vec<serde_json::Value> = self
            .projects
            .iter()
            .map(|p| {
                let services: serde_json::Map<String, serde_json::Value> = p
                    .active_services()
                    .map(|s| {
                        let ports: Vec<serde_json::Value> = s
                            .claims
                            .iter()
                            .flat_map(Claim::mappings)
                            .map(|mapping| {
                                let mut port = serde_json::to_value(&mapping)
                                    .unwrap_or(serde_json::Value::Null);
                                if let Some(obj) = port.as_object_mut() {
                                    obj.retain(|_, v| {
                                        !(v.is_null() || v.as_str().is_some_and(str::is_empty))
                                    });
                                }
                                port
                            })
                            .collect();
                        (s.name.clone(), json!({ "ports": ports }))
                    })
                    .collect();
                json!({
                    "id": p.id,
                    "name": p.name,
                    "kind": p.kind,
                    "directory": p.directory,
                    "files": p.files,
                    "profiles": p.profiles,
                    "env_files": p.env_files,
                    "hosts": p.hosts,
                    "services": services,
                    "error": p.error.as_ref().or(p.refused.as_ref()).map(|e| json!({
                        "code": e.code,
                        "message": e.message,
                        "location": e.location.as_ref().map(ToString::to_string),
                    })),
                })
            })
            .collect();
        let skipped: Vec<serde_json::Value> = notes
            .iter()
            .filter(|n| n.kind == "skipped")
            .map(|n| json!({ "file": n.path, "reason": n.reason }))
            .collect();
        let ignored: Vec<serde_json::Value> = notes
            .iter()
            .filter(|n| n.kind == "read-although-ignored")
            .map(|n| json!({ "file": n.path, "reason": n.reason }))
            .collect();
        json!({
            "schema": "port-convention/projects",
            "version": PROJECTS_JSON_VERSION,
            "projects": projects,
            "fragments": self.fragments,
            "skipped": skipped,
            "read_although_ignored": ignored,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{ComposeParse, parse_compose};
    use crate::dotenv::parse_dotenv;

    /// Resolves the projects of a tree given as (path, text) pairs; `.env`
    /// files are the ones whose name says so.
    fn resolve(files: &[(&str, &str)], convention: Option<&str>) -> Projects {
        let texts: BTreeMap<String, String> = files
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let mut docs = BTreeMap::new();
        let mut env_files = BTreeMap::new();
        for (name, text) in &texts {
            if name.ends_with(".env") {
                let parsed = parse_dotenv(name, text, &|_| None).unwrap();
                env_files.insert(name.clone(), parsed.to_map());
            } else if let ComposeParse::Compose(doc) = parse_compose(name, text) {
                docs.insert(name.clone(), *doc);
            }
        }
        let convention = convention.map(|c| Convention::from_yaml("ports.yaml", c).unwrap());
        resolve_projects(ProjectInput {
            docs: &docs,
            texts: &texts,
            env_files: &env_files,
            process_env: &BTreeMap::new(),
            env_override: None,
            convention: convention.as_ref(),
            root_name: "root",
            read: None,
        })
    }

    /// `id: service=published:target@file:line ...` per project, active
    /// services only; errors as `id: error code`.
    fn summary(projects: &Projects) -> Vec<String> {
        projects
            .projects
            .iter()
            .map(|p| {
                if let Some(err) = &p.error {
                    return format!("{}: error {}", p.id, err.code);
                }
                let mut parts = vec![format!("{}:", p.id)];
                for s in p.active_services() {
                    for c in &s.claims {
                        parts.push(format!(
                            "{}={}:{}@{}:{}",
                            s.name,
                            c.mapping.published,
                            c.mapping.target,
                            c.location.file,
                            c.location.line
                        ));
                    }
                }
                parts.join(" ")
            })
            .collect()
    }

    const IMG: &str = "image: x\n";

    #[test]
    fn a_declared_name_that_is_another_projects_id_is_an_error_and_hosts_mean_the_declared_one() {
        let api = format!("services:\n  web:\n    {IMG}    ports: [\"8080:80\"]\n");
        let svc = format!("services:\n  other:\n    {IMG}    ports: [\"9090:90\"]\n");
        let convention = "version: 1.0.0\nprojects:\n  api: { files: [svc/compose.yml] }\nhosts:\n  prod: { projects: [api] }\n";
        let p = resolve(
            &[("api/compose.yml", &api), ("svc/compose.yml", &svc)],
            Some(convention),
        );
        let ambiguous: Vec<&Finding> = p
            .findings
            .iter()
            .filter(|f| f.rule == Rule::AmbiguousProjectName)
            .collect();
        assert_eq!(ambiguous.len(), 1, "{:?}", p.findings);
        assert_eq!(
            ambiguous[0].location,
            Some(Location::new("ports.yaml", 3, 3))
        );
        assert!(
            ambiguous[0].message.contains("default project api"),
            "{}",
            ambiguous[0].message
        );
        // `prod: [api]` is the declared project, not also the default one of api/.
        let on_prod: Vec<(ProjectKind, &str)> = p
            .projects
            .iter()
            .filter(|p| p.hosts.iter().any(|h| h == "prod"))
            .map(|p| (p.kind, p.files[0].as_str()))
            .collect();
        assert_eq!(on_prod, [(ProjectKind::Declared, "svc/compose.yml")]);
        // A name no other project has is not ambiguous.
        let p = resolve(
            &[("api/compose.yml", &api), ("svc/compose.yml", &svc)],
            Some(
                &convention
                    .replace("api:", "api-prod:")
                    .replace("[api]", "[api-prod]"),
            ),
        );
        assert!(
            p.findings
                .iter()
                .all(|f| f.rule != Rule::AmbiguousProjectName),
            "{:?}",
            p.findings
        );
    }

    #[test]
    fn override_files_merge_and_deduplicate_in_place() {
        let base = format!("services:\n  web:\n    {IMG}    ports: [\"8080:80\", \"9090:90\"]\n");
        let over = "services:\n  web:\n    ports: [\"8080:80\", \"7070:70\"]\n";
        let p = resolve(
            &[("compose.yaml", &base), ("compose.override.yaml", over)],
            None,
        );
        assert_eq!(
            summary(&p),
            [". web=8080:80@compose.override.yaml:3 web=9090:90@compose.yaml:4 web=7070:70@compose.override.yaml:3".replace(". ", ".: ")]
        );
    }

    #[test]
    fn reset_drops_and_override_replaces() {
        let base = format!(
            "services:\n  a:\n    {IMG}    ports: [\"1:1\"]\n  b:\n    {IMG}    ports: [\"2:2\"]\n"
        );
        let over = "services:\n  a:\n    ports: !reset []\n  b:\n    ports: !override [\"3:3\"]\n";
        let p = resolve(
            &[("compose.yaml", &base), ("compose.override.yaml", over)],
            None,
        );
        assert_eq!(summary(&p), [".: b=3:3@compose.override.yaml:5"]);
    }

    #[test]
    fn extends_inherits_from_other_files_and_chains() {
        let main = "services:\n  api:\n    extends: { file: common/base.yml, service: svc }\n    ports: [\"3:3\"]\n  web:\n    extends: api\n";
        let base =
            format!("services:\n  svc:\n    {IMG}    ports: [\"1:1\"]\n  root:\n    {IMG}\n");
        let p = resolve(&[("compose.yaml", main), ("common/base.yml", &base)], None);
        assert_eq!(
            summary(&p),
            [
                ".: api=1:1@common/base.yml:4 api=3:3@compose.yaml:4 web=1:1@common/base.yml:4 web=3:3@compose.yaml:4"
            ]
        );
        // base.yml is read by the root project: not a project of its own.
        assert_eq!(p.projects.len(), 1);
    }

    #[test]
    fn extends_cycles_and_missing_bases_are_errors() {
        let cycle = "services:\n  a:\n    extends: b\n  b:\n    extends: a\n";
        let p = resolve(&[("compose.yaml", cycle)], None);
        assert_eq!(summary(&p), [".: error extends-cycle"]);
        assert_eq!(p.findings[0].rule, Rule::InvalidProject);
        let missing = "services:\n  a:\n    extends: nope\n";
        assert_eq!(
            summary(&resolve(&[("compose.yaml", missing)], None)),
            [".: error extends-not-found"]
        );
        let outside = "services:\n  a:\n    extends: { file: ../../etc/x.yml, service: a }\n";
        assert_eq!(
            summary(&resolve(&[("compose.yaml", outside)], None)),
            [".: error outside-root"]
        );
    }

    #[test]
    fn deep_extends_chains_and_includes_stop_cleanly() {
        let mut text = String::from("services:\n");
        for i in 0..10_000 {
            text.push_str(&format!("  s{i}:\n    extends: s{}\n", i + 1));
        }
        text.push_str("  s10000:\n    image: x\n    ports: [\"1:1\"]\n");
        let p = resolve(&[("compose.yaml", &text)], None);
        assert_eq!(summary(&p), [".: error extends-too-deep"]);
        let mut files = Vec::new();
        for i in 0..100 {
            files.push((
                format!("d{i}/compose.yaml"),
                format!("include: [../d{}/compose.yaml]\nservices: {{}}\n", i + 1),
            ));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let p = resolve(&refs, None);
        assert!(
            p.projects.iter().any(|p| p
                .error
                .as_ref()
                .is_some_and(|e| e.code == "include-too-deep")),
            "{:?}",
            summary(&p)
        );
    }

    #[test]
    fn include_interpolates_with_its_own_env_file() {
        let main = "include:\n  - path: db/compose.yaml\n    env_file: db/prod.env\nservices:\n  app:\n    image: x\n    ports: [\"${DB_PORT:-1}:1\"]\n";
        let db = "services:\n  db:\n    image: pg\n    ports: [\"${DB_PORT:-5432}:5432\"]\n";
        let p = resolve(
            &[
                ("compose.yaml", main),
                ("db/compose.yaml", db),
                ("db/prod.env", "DB_PORT=7000\n"),
                ("db/.env", "DB_PORT=6000\n"),
            ],
            None,
        );
        // The included project sees its env_file; the includer does not.
        // db/ is also a default project of its own, with its own .env.
        assert_eq!(
            summary(&p),
            [
                ".: app=1:1@compose.yaml:7 db=7000:5432@db/compose.yaml:4",
                "db: db=6000:5432@db/compose.yaml:4"
            ]
        );
    }

    #[test]
    fn include_conflicts_and_cycles_are_errors() {
        let main = "include: [other/compose.yaml]\nservices:\n  api:\n    image: x\n";
        let other = "services:\n  api:\n    image: y\n";
        let p = resolve(
            &[("compose.yaml", main), ("other/compose.yaml", other)],
            None,
        );
        assert_eq!(summary(&p)[0], ".: error include-conflict");
        let a = "include: [b/compose.yaml]\nservices: {}\n";
        let b = "include: [../compose.yaml]\nservices: {}\n";
        let p = resolve(&[("compose.yaml", a), ("b/compose.yaml", b)], None);
        assert_eq!(summary(&p)[0], ".: error include-cycle");
    }

    #[test]
    fn profiles_decide_which_services_run() {
        let text = "services:\n  a:\n    image: x\n    profiles: [dev]\n    ports: [\"1:1\"]\n  b:\n    image: x\n    profiles: [prod]\n    ports: [\"1:1\"]\n  c:\n    image: x\n    ports: [\"2:2\"]\n";
        let none = resolve(&[("compose.yaml", text)], None);
        assert_eq!(summary(&none), [".: c=2:2@compose.yaml:12"]);
        let dev = resolve(
            &[("compose.yaml", text), (".env", "COMPOSE_PROFILES=dev\n")],
            None,
        );
        assert_eq!(
            summary(&dev),
            [".: a=1:1@compose.yaml:5 c=2:2@compose.yaml:12"]
        );
        let host = resolve(
            &[("compose.yaml", text)],
            Some("version: 1.0.0\nhosts:\n  h:\n    projects: [\".\"]\n    profiles: [\"*\"]\n"),
        );
        assert_eq!(
            summary(&host),
            [".: a=1:1@compose.yaml:5 b=1:1@compose.yaml:9 c=2:2@compose.yaml:12"]
        );
        assert_eq!(host.projects[0].hosts, ["h"]);
    }

    #[test]
    fn compose_file_names_the_files_with_its_separator() {
        let base = "services:\n  a:\n    image: x\n    ports: [\"1:1\"]\n";
        let extra = "services:\n  a:\n    ports: [\"2:2\"]\n";
        let p = resolve(
            &[
                ("app/base.yml", base),
                ("app/extra.yml", extra),
                (
                    "app/.env",
                    "COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=base.yml;extra.yml\n",
                ),
            ],
            None,
        );
        assert_eq!(
            summary(&p),
            ["app: a=1:1@app/base.yml:4 a=2:2@app/extra.yml:3"]
        );
        assert_eq!(p.projects[0].files, ["app/base.yml", "app/extra.yml"]);
    }

    #[test]
    fn fragments_and_variants() {
        let base = "services:\n  a:\n    image: x\n    ports: [\"1:1\"]\n";
        let prod = "services:\n  a:\n    ports: [\"2:2\"]\n";
        let variant = "services:\n  b:\n    image: y\n    ports: [\"1:1\"]\n";
        let p = resolve(
            &[
                ("docker-compose.yml", base),
                ("docker-compose.prod.yml", prod),
                ("docker-compose.mariadb.yml", variant),
            ],
            None,
        );
        assert_eq!(
            summary(&p),
            [
                ".: a=1:1@docker-compose.yml:4",
                "docker-compose.mariadb.yml: b=1:1@docker-compose.mariadb.yml:4"
            ]
        );
        assert_eq!(p.fragments.len(), 1);
        assert_eq!(p.fragments[0].file, "docker-compose.prod.yml");
    }

    #[test]
    fn declared_projects_merge_their_files_with_their_env() {
        let base = "services:\n  a:\n    image: x\n    ports: [\"${P:-1}:1\"]\n";
        let prod = "services:\n  a:\n    ports: [\"2:2\"]\n";
        let p = resolve(
            &[
                ("deploy/base.yml", base),
                ("deploy/prod.yml", prod),
                ("deploy/prod.env", "P=9\n"),
            ],
            Some(
                "version: 1.0.0\nprojects:\n  prod:\n    files: [deploy/base.yml, deploy/prod.yml]\n    env_files: [deploy/prod.env]\n",
            ),
        );
        assert_eq!(
            summary(&p),
            ["prod: a=9:1@deploy/base.yml:4 a=2:2@deploy/prod.yml:3"]
        );
    }
}

//! The repository rules: conflicts and convention violations across every
//! compose file and `.env` file of a tree.
//!
//! Pure: [`check_repository`] takes what the edge read ([`Scan`]) and returns
//! findings; `io::scan_tree` does the reading.

use std::collections::BTreeMap;

use crate::compose::{Claim, ComposeFile, ComposeRead, PortSource, read_compose};
use crate::convention::normalize_path;
use crate::dotenv::{Dotenv, parse_dotenv};
use crate::{
    BindPolicy, Convention, Error, Finding, PortRange, Rule, ServiceDef, allocate_with,
    validate_convention,
};

/// A `.env`-style file as read.
#[derive(Debug)]
pub struct EnvFile {
    /// The file, relative to the scanned root.
    pub file: String,
    /// Its entries, or why it could not be parsed.
    pub parsed: Result<Dotenv, Error>,
}

/// Everything read from a tree.
#[derive(Debug, Default)]
pub struct Scan {
    /// Compose files, in path order.
    pub compose_files: Vec<ComposeFile>,
    /// `.env` files, in path order.
    pub env_files: Vec<EnvFile>,
}

impl Scan {
    /// Every claim of every file.
    pub fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.compose_files.iter().flat_map(|f| f.claims.iter())
    }

    /// Every claim that publishes a host port.
    pub fn published(&self) -> impl Iterator<Item = (&Claim, PortRange)> {
        self.claims()
            .filter_map(|c| c.mapping.published.range().map(|r| (c, r)))
    }
}

/// The texts of a tree, as read by the edge (`io::read_tree_texts`).
#[derive(Debug, Clone, Default)]
pub struct TreeTexts {
    /// Compose files, relative to the root, in path order.
    pub compose: Vec<String>,
    /// `.env`-style files, relative to the root, in path order.
    pub env: Vec<String>,
    /// The text of every file that could be read.
    pub texts: BTreeMap<String, String>,
    /// Why each other file could not be read.
    pub unreadable: BTreeMap<String, String>,
}

/// The `.env` Docker Compose reads for interpolating the compose file
/// `file`: the one in its directory (the project directory).
///
/// ```
/// use port_convention::check::project_env_name;
/// assert_eq!(project_env_name("tools/compose/docker-compose.yml"), "tools/compose/.env");
/// assert_eq!(project_env_name("compose.yaml"), ".env");
/// ```
pub fn project_env_name(file: &str) -> String {
    match file.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/.env"),
        None => ".env".to_owned(),
    }
}

/// Parses a tree's texts as Docker Compose reads them: each `.env` file
/// with `env` as lookup; each compose file interpolated from `env` (the
/// process environment) over its project's `.env`, or over `env_files`
/// (`--env-file`) when given. `env_file:` entries are container environment
/// and play no part. Compose files are parsed in parallel.
pub fn scan_texts(
    tree: &TreeTexts,
    env: &BTreeMap<String, String>,
    env_files: Option<&BTreeMap<String, String>>,
) -> Scan {
    use rayon::prelude::*;

    let unreadable = |name: &str| {
        tree.unreadable
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("{name}: not read"))
    };
    let parsed_env: Vec<EnvFile> = tree
        .env
        .par_iter()
        .map(|name| EnvFile {
            file: name.clone(),
            parsed: match tree.texts.get(name) {
                Some(text) => parse_dotenv(name, text, &|var| env.get(var).cloned()),
                None => Err(Error::Io {
                    path: name.into(),
                    source: std::io::Error::other(unreadable(name)),
                }),
            },
        })
        .collect();
    let compose_files = tree
        .compose
        .par_iter()
        .filter_map(|name| {
            let Some(text) = tree.texts.get(name) else {
                return Some(ComposeFile {
                    file: name.clone(),
                    findings: vec![
                        Finding::new(Rule::InvalidComposeFile, unreadable(name))
                            .at(&crate::Location::new(name.clone(), 0, 0)),
                    ],
                    ..ComposeFile::default()
                });
            };
            let project_env: std::borrow::Cow<'_, BTreeMap<String, String>> = match env_files {
                Some(map) => std::borrow::Cow::Borrowed(map),
                None => {
                    let project = project_env_name(name);
                    std::borrow::Cow::Owned(
                        parsed_env
                            .iter()
                            .find(|e| e.file == project)
                            .and_then(|e| e.parsed.as_ref().ok())
                            .map(Dotenv::to_map)
                            .unwrap_or_default(),
                    )
                }
            };
            let lookup = |var: &str| env.get(var).or_else(|| project_env.get(var)).cloned();
            match read_compose(name, text, &lookup) {
                ComposeRead::Compose(file) => Some(file),
                ComposeRead::NotCompose => None,
            }
        })
        .collect();
    Scan {
        compose_files,
        env_files: parsed_env,
    }
}

/// The convention service a claim belongs to: same compose service name and,
/// where the convention names one, the same file.
pub fn declared_service<'c>(convention: &'c Convention, claim: &Claim) -> Option<&'c ServiceDef> {
    let file = normalize_path(&claim.file);
    convention.services.iter().find(|s| {
        s.compose_service == claim.service
            && s.compose_file
                .as_deref()
                .is_none_or(|f| normalize_path(f) == file)
    })
}

/// Ports in use (claimed by a compose file, assigned by the convention, or
/// already suggested), so that every suggestion is a different free port.
struct FreePorts {
    taken: Vec<bool>,
}

impl FreePorts {
    fn new(convention: Option<&Convention>, scan: &Scan) -> Self {
        let mut taken = vec![false; usize::from(u16::MAX) + 1];
        let mut mark = |port: u16| {
            if let Some(slot) = taken.get_mut(usize::from(port)) {
                *slot = true;
            }
        };
        for (_, range) in scan.published() {
            range.iter().for_each(&mut mark);
        }
        if let Some(c) = convention {
            c.assignments().for_each(|(_, p)| mark(p.port));
        }
        FreePorts { taken }
    }

    fn is_taken(&self, port: u16) -> bool {
        self.taken.get(usize::from(port)).copied().unwrap_or(true)
    }

    fn take(&mut self, port: u16) -> u16 {
        if let Some(slot) = self.taken.get_mut(usize::from(port)) {
            *slot = true;
        }
        port
    }

    /// The lowest free port of `range` (by name) in the convention.
    fn take_in_range(&mut self, convention: &Convention, range: &str) -> Option<u16> {
        let port = allocate_with(convention, range, 1, &|p| self.is_taken(p))
            .ok()?
            .first()
            .copied()?;
        Some(self.take(port))
    }

    /// The lowest free port at or above `from` outside every protected and
    /// reserved range (for services the convention does not know).
    fn take_unprotected_from(&mut self, convention: Option<&Convention>, from: u16) -> Option<u16> {
        let port = (from.max(1024)..=u16::MAX).find(|p| {
            !self.is_taken(*p)
                && convention.is_none_or(|c| {
                    !c.ranges
                        .iter()
                        .any(|r| (r.protected || r.reserved) && r.ports.contains(*p))
                })
        })?;
        Some(self.take(port))
    }
}

/// Checks a scanned tree against the convention (or, with none, for clashes
/// and file problems only). Returns every finding; the convention's own rules
/// are included.
pub fn check_repository(convention: Option<&Convention>, scan: &Scan) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(c) = convention {
        findings.extend(validate_convention(c));
    }
    for file in &scan.compose_files {
        findings.extend(file.findings.iter().cloned());
    }
    let mut free = FreePorts::new(convention, scan);
    duplicate_host_ports(convention, scan, &mut free, &mut findings);
    if let Some(c) = convention {
        for (claim, range) in scan.published() {
            convention_rules(c, claim, range, &mut free, &mut findings);
        }
    }
    env_files(convention, scan, &mut findings);
    crate::report::sort_findings(&mut findings);
    findings
}

fn suggestion_for(
    convention: Option<&Convention>,
    claim: &Claim,
    free: &mut FreePorts,
    port: u16,
) -> Option<u16> {
    if let Some(c) = convention
        && let Some(service) = declared_service(c, claim)
    {
        if let Some(assignment) = assignment_for(service, claim)
            && assignment.port != port
        {
            return Some(assignment.port);
        }
        if let Some(range) = &service.range {
            return free.take_in_range(c, range);
        }
    }
    if let Some(c) = convention
        && let Some(range) = c.innermost_range(port)
        && let Some(index) = c.range_index(&range.name)
        && !c.is_protected(index)
        && !range.reserved
        && let Some(p) = free.take_in_range(c, &range.name)
    {
        return Some(p);
    }
    free.take_unprotected_from(convention, port)
}

fn duplicate_host_ports(
    convention: Option<&Convention>,
    scan: &Scan,
    free: &mut FreePorts,
    findings: &mut Vec<Finding>,
) {
    let published: Vec<(&Claim, PortRange)> = scan.published().collect();
    // Sweep over claims sorted by protocol and first port: only claims whose
    // ranges can still intersect are compared, so a large tree stays fast.
    let mut order: Vec<usize> = (0..published.len()).collect();
    order.sort_by_key(|&i| {
        published
            .get(i)
            .map(|(c, r)| (c.mapping.protocol, r.start(), r.end()))
    });
    let mut clashes: Vec<Vec<usize>> = vec![Vec::new(); published.len()];
    for (n, &i) in order.iter().enumerate() {
        let Some((claim, range)) = published.get(i) else {
            continue;
        };
        for &j in order.iter().skip(n + 1) {
            let Some((other, other_range)) = published.get(j) else {
                continue;
            };
            if other.mapping.protocol != claim.mapping.protocol || other_range.start() > range.end()
            {
                break;
            }
            let clash = other_range.overlaps(range)
                && other.mapping.host_ip.overlaps(&claim.mapping.host_ip)
                // One entry expanded into several mappings never clashes with itself.
                && !(other.file == claim.file && other.line == claim.line && other.column == claim.column)
                && !convention.is_some_and(|c| c.are_alternatives(&claim.file, &other.file));
            if clash {
                if let Some(list) = clashes.get_mut(i) {
                    list.push(j);
                }
                if let Some(list) = clashes.get_mut(j) {
                    list.push(i);
                }
            }
        }
    }
    for (i, others) in clashes.iter_mut().enumerate() {
        if others.is_empty() {
            continue;
        }
        let Some((claim, range)) = published.get(i) else {
            continue;
        };
        // Related places in file order, whatever the sweep order was.
        others.sort_unstable();
        let others: Vec<&Claim> = others
            .iter()
            .filter_map(|&j| published.get(j).map(|(c, _)| *c))
            .collect();
        let names: Vec<String> = others
            .iter()
            .map(|o| format!("{} ({}:{})", o.service, o.file, o.line))
            .collect();
        let mut f = Finding::new(
            Rule::DuplicateHostPort,
            format!(
                "host port {range}/{} of {} is also published by {}",
                claim.mapping.protocol,
                claim.service,
                names.join(", ")
            ),
        );
        f = with_claim(f, claim, range.start());
        for other in &others {
            f = f.with_related(&other.location(), Some(other.service.clone()));
        }
        if let Some(p) = suggestion_for(convention, claim, free, range.start()) {
            f = f.with_suggestion(p);
        }
        findings.push(f);
    }
}

fn with_claim(mut finding: Finding, claim: &Claim, port: u16) -> Finding {
    finding = finding
        .at(&claim.location())
        .with_service(&claim.service)
        .with_port(port);
    finding.protocol = Some(claim.mapping.protocol);
    finding.host_ip = Some(claim.mapping.host_ip.to_string());
    finding
}

/// The assignment a claim of a declared service stands for: by container
/// port, else the service's only port of that protocol.
pub fn assignment_for<'s>(
    service: &'s ServiceDef,
    claim: &Claim,
) -> Option<&'s crate::PortAssignment> {
    let by_container = service.ports.iter().find(|p| {
        p.container == Some(claim.mapping.target) && p.protocol == claim.mapping.protocol
    });
    by_container.or_else(|| {
        let mut same_protocol = service
            .ports
            .iter()
            .filter(|p| p.protocol == claim.mapping.protocol);
        match (same_protocol.next(), same_protocol.next()) {
            (Some(only), None) if only.container.is_none() => Some(only),
            _ => None,
        }
    })
}

fn convention_rules(
    c: &Convention,
    claim: &Claim,
    range: PortRange,
    free: &mut FreePorts,
    findings: &mut Vec<Finding>,
) {
    let port = range.start();
    let declared = declared_service(c, claim);
    // A suggestion takes a free port, so it is only computed for a finding.
    let mut suggestion: Option<Option<u16>> = None;
    let mut finish = |mut f: Finding| {
        f = with_claim(f, claim, port);
        let suggested =
            *suggestion.get_or_insert_with(|| suggestion_for(Some(c), claim, free, port));
        if let Some(p) = suggested {
            f = f.with_suggestion(p);
        }
        f
    };
    // Protected ranges: only services declared in them may publish there.
    for (index, protected) in c.ranges.iter().enumerate().filter(|(_, r)| r.protected) {
        if !protected.ports.overlaps(&range) {
            continue;
        }
        let allowed = declared.is_some_and(|s| {
            s.range
                .as_deref()
                .and_then(|r| c.range_index(r))
                .is_some_and(|ri| c.is_within(ri, index))
        });
        if !allowed {
            let who = match declared {
                Some(s) => format!(
                    "{} is declared in range {}",
                    claim.service,
                    s.range.as_deref().unwrap_or("(none)")
                ),
                None => format!("{} is not declared in the convention", claim.service),
            };
            findings.push(
                finish(Finding::new(
                    Rule::ProtectedRangeViolation,
                    format!(
                        "{} publishes {range} inside protected range {} ({}), but {who}",
                        claim.service, protected.name, protected.ports
                    ),
                ))
                .with_related(&protected.location, None),
            );
        }
    }
    // Loopback-only ranges.
    let innermost = c.innermost_range(port);
    if let Some(r) = innermost
        && r.bind == BindPolicy::Loopback
        && claim.mapping.host_ip.is_all_interfaces()
    {
        let on = if claim.mapping.host_ip.to_string().is_empty() {
            "all interfaces (no host IP)".to_owned()
        } else {
            claim.mapping.host_ip.to_string()
        };
        let mut f = Finding::new(
            Rule::ExposedOnAllInterfaces,
            format!(
                "{} publishes {range} on {on}, but range {} is loopback-only: write \"127.0.0.1:{}:{}\"",
                claim.service, r.name, claim.mapping.published, claim.mapping.target
            ),
        );
        f = with_claim(f, claim, port);
        f.suggestion = Some(crate::Suggestion {
            port,
            host_ip: Some("127.0.0.1".into()),
        });
        findings.push(f.with_related(&r.location, None));
    }
    let Some(service) = declared else {
        return;
    };
    match assignment_for(service, claim) {
        Some(assignment) => {
            if !(range.len() == 1 && assignment.port == port) {
                let via = match (&assignment.env, &claim.source) {
                    (
                        Some(env),
                        PortSource::Variable { name } | PortSource::TemplateDefault { name },
                    ) if name != env => format!(" ({env}; the file uses {name})"),
                    (Some(env), _) => format!(" ({env})"),
                    (None, _) => String::new(),
                };
                let mut f = Finding::new(
                    Rule::Drift,
                    format!(
                        "{} publishes {range} for {}, but the convention assigns {}{via}",
                        claim.service, assignment.name, assignment.port
                    ),
                );
                f = with_claim(f, claim, port)
                    .with_related(&assignment.location, Some(service.name.clone()))
                    .with_suggestion(assignment.port);
                findings.push(f);
            }
        }
        None => {
            if let Some(r) = service.range.as_deref().and_then(|r| c.range(r))
                && !r.ports.contains_range(&range)
            {
                findings.push(
                    finish(Finding::new(
                        Rule::OutOfRange,
                        format!(
                            "{} publishes {range}, outside its range {} ({})",
                            claim.service, r.name, r.ports
                        ),
                    ))
                    .with_related(&r.location, None),
                );
            }
        }
    }
}

fn env_files(convention: Option<&Convention>, scan: &Scan, findings: &mut Vec<Finding>) {
    for env_file in &scan.env_files {
        let dotenv = match &env_file.parsed {
            Ok(d) => d,
            Err(err) => {
                let location = err
                    .location()
                    .cloned()
                    .unwrap_or_else(|| crate::Location::new(env_file.file.clone(), 0, 0));
                findings.push(Finding::new(Rule::InvalidEnvFile, err.detail()).at(&location));
                continue;
            }
        };
        for duplicate in &dotenv.duplicates {
            let first = crate::Location::new(env_file.file.clone(), duplicate.first_line, 1);
            let second = crate::Location::new(env_file.file.clone(), duplicate.second_line, 1);
            findings.push(
                Finding::new(
                    Rule::DuplicateEnvKey,
                    format!(
                        "{} is set on line {} and again on line {}; the last one wins",
                        duplicate.key, duplicate.first_line, duplicate.second_line
                    ),
                )
                .at(&second)
                .with_variable(&duplicate.key, None)
                .with_related(&first, None),
            );
        }
        let Some(c) = convention else { continue };
        for entry in &dotenv.entries {
            let Some((service, assignment)) = c
                .assignments()
                .find(|(_, p)| p.env.as_deref() == Some(entry.key.as_str()))
            else {
                continue;
            };
            if entry.value == assignment.port.to_string() {
                continue;
            }
            let location = crate::Location::new(env_file.file.clone(), entry.line, entry.column);
            findings.push(
                Finding::new(
                    Rule::EnvDrift,
                    format!(
                        "{}={} but the convention assigns {} to {} ({})",
                        entry.key, entry.value, assignment.port, service.name, assignment.name
                    ),
                )
                .at(&location)
                .with_service(&service.name)
                .with_port(assignment.port)
                .with_variable(&entry.key, Some(entry.value.clone()))
                .with_related(&assignment.location, Some(service.name.clone()))
                .with_suggestion(assignment.port),
            );
        }
    }
}

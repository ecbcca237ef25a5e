//! The repository rules: conflicts and convention violations across every
//! compose file and `.env` file of a tree.
//!
//! Pure: [`check_repository`] takes what the edge read ([`Scan`]) and returns
//! findings; `io::scan_tree` does the reading.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compose::{Claim, ComposeDoc, ComposeFile, ComposeParse, PortSource, parse_compose};
use crate::dotenv::{Dotenv, parse_dotenv};
use crate::project::{Project, ProjectInput, Projects, resolve_projects};
use crate::{
    BindPolicy, Convention, Error, Finding, PortRange, Rule, ServiceDef, validate_convention,
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
    /// Compose files, in path order, each interpolated with its own
    /// directory's environment (what `docker compose -f FILE` sees).
    pub compose_files: Vec<ComposeFile>,
    /// `.env` files, in path order.
    pub env_files: Vec<EnvFile>,
    /// The compose projects of the tree, with their merged services.
    pub projects: Projects,
    /// What discovery did besides reading: files read although ignored,
    /// directories skipped.
    pub notes: Vec<DiscoveryNote>,
}

/// Something discovery did that the inventory should say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveryNote {
    /// The file or directory, relative to the root.
    pub path: String,
    /// What happened: `read-although-ignored` or `skipped`.
    pub kind: &'static str,
    /// Why.
    pub reason: String,
}

impl Scan {
    /// Every claim of every file.
    pub fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.compose_files.iter().flat_map(|f| f.claims.iter())
    }

    /// Every claim that publishes a host port.
    pub fn published(&self) -> impl Iterator<Item = (&Claim, PortRange)> {
        self.claims().filter_map(|c| c.host_range().map(|r| (c, r)))
    }
}

/// The texts of a tree, as read by the edge (`io::read_tree_texts`).
#[derive(Debug, Clone, Default)]
pub struct TreeTexts {
    /// The name of the root directory (names the root's compose project).
    pub root_name: String,
    /// What discovery did besides reading.
    pub notes: Vec<DiscoveryNote>,
    /// Compose files, relative to the root, in path order.
    pub compose: Vec<String>,
    /// `.env`-style files, relative to the root, in path order.
    pub env: Vec<String>,
    /// The text of every file that could be read.
    pub texts: BTreeMap<String, String>,
    /// Why each other file could not be read.
    pub unreadable: BTreeMap<String, String>,
    /// Every file of the walk whose name is of a source kind
    /// ([`crate::SourceKind::of_file_name`]), outside `.gitignore`d files,
    /// `discovery.skip_dirs` and `discovery.exclude`, in path order: what
    /// the source rules choose from, found by the same walk.
    pub source_candidates: Vec<String>,
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
    scan_texts_with(tree, env, env_files, None)
}

/// [`scan_texts`] with the convention, whose `projects` and `hosts` shape
/// the compose projects.
pub fn scan_texts_with(
    tree: &TreeTexts,
    env: &BTreeMap<String, String>,
    env_files: Option<&BTreeMap<String, String>>,
    convention: Option<&Convention>,
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
    let env_maps: BTreeMap<String, BTreeMap<String, String>> = parsed_env
        .iter()
        .filter_map(|e| Some((e.file.clone(), e.parsed.as_ref().ok()?.to_map())))
        .collect();
    let docs: Vec<(String, Option<Box<ComposeDoc>>)> = tree
        .compose
        .par_iter()
        .filter_map(|name| {
            let Some(text) = tree.texts.get(name) else {
                return Some((name.clone(), None));
            };
            match parse_compose(name, text) {
                ComposeParse::Compose(doc) => Some((name.clone(), Some(doc))),
                // A file with one of compose's own names is a compose file
                // whatever it holds: compose would refuse this one.
                ComposeParse::NotCompose if is_compose_own_name(name) => {
                    let finding = Finding::new(
                        Rule::InvalidComposeFile,
                        "not a compose file: the top level must be a mapping with a `services` mapping (or an `include`)",
                    )
                    .at(&crate::Location::new(name.clone(), 1, 1));
                    Some((
                        name.clone(),
                        Some(Box::new(ComposeDoc {
                            file: name.clone(),
                            findings: vec![finding],
                            broken: true,
                            ..ComposeDoc::default()
                        })),
                    ))
                }
                ComposeParse::NotCompose => None,
            }
        })
        .collect();
    let empty = BTreeMap::new();
    let vars_of = |name: &str| match env_files {
        Some(map) => map,
        None => env_maps.get(&project_env_name(name)).unwrap_or(&empty),
    };
    let compose_files: Vec<ComposeFile> = docs
        .par_iter()
        .map(|(name, doc)| {
            let Some(doc) = doc else {
                return ComposeFile {
                    file: name.clone(),
                    findings: vec![
                        Finding::new(Rule::InvalidComposeFile, unreadable(name))
                            .at(&crate::Location::new(name.clone(), 0, 0)),
                    ],
                    ..ComposeFile::default()
                };
            };
            let project_env = vars_of(name);
            let lookup = |var: &str| env.get(var).or_else(|| project_env.get(var)).cloned();
            let text = tree.texts.get(name).map(String::as_str).unwrap_or("");
            doc.read(text, &lookup)
        })
        .collect();
    let docs: BTreeMap<String, ComposeDoc> = docs
        .into_iter()
        .filter_map(|(name, doc)| Some((name, *doc?)))
        .collect();
    let read: crate::project::ReadFiles<'_> = compose_files
        .iter()
        .map(|f| (f.file.as_str(), (f, vars_of(&f.file))))
        .collect();
    let projects = resolve_projects(ProjectInput {
        docs: &docs,
        texts: &tree.texts,
        env_files: &env_maps,
        process_env: env,
        env_override: env_files,
        convention,
        root_name: &tree.root_name,
        read: Some(&read),
    });
    drop(read);
    // Every file's node tree, freed on every core: serially this was a
    // tenth of a check's time on a large tree.
    docs.into_par_iter().for_each(drop);
    Scan {
        compose_files,
        env_files: parsed_env,
        projects,
        notes: tree.notes.clone(),
    }
}

/// Whether a file carries one of Docker Compose's default or override names.
fn is_compose_own_name(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    crate::project::DEFAULT_FILE_NAMES.contains(&name)
        || crate::project::OVERRIDE_FILE_NAMES.contains(&name)
}

/// The convention service a claim belongs to: same compose service name and,
/// where the convention names one, the same file.
pub fn declared_service<'c>(convention: &'c Convention, claim: &Claim) -> Option<&'c ServiceDef> {
    convention.service_for_claim(&claim.service, &claim.location.file)
}

/// "The lowest port at or above p that is still free": a disjoint-set
/// forest over the port space where every removed port points at the next
/// one, so that each query and each removal costs amortised near O(1),
/// however saturated the port space is.
struct NextFree {
    /// `next[p] == p` when p is free; else a port above p to look at.
    next: Vec<u32>,
}

impl NextFree {
    /// Every port free except those `blocked` says.
    fn new(blocked: &[bool]) -> Self {
        let next = (0..=u32::from(u16::MAX) + 1)
            .map(|p| {
                let taken = usize::try_from(p)
                    .ok()
                    .and_then(|i| blocked.get(i))
                    .copied()
                    .unwrap_or(false);
                if taken { p + 1 } else { p }
            })
            .collect();
        NextFree { next }
    }

    /// The lowest free port at or above `from` (65536 when none).
    fn find(&mut self, from: u16) -> u32 {
        let mut p = u32::from(from);
        // Find the root, then compress the path to it.
        let mut root = p;
        while let Some(&n) = self.next.get(root as usize) {
            if n == root {
                break;
            }
            root = n;
        }
        while p != root {
            let Some(slot) = self.next.get_mut(p as usize) else {
                break;
            };
            let n = *slot;
            *slot = root;
            p = n;
        }
        root
    }

    fn remove(&mut self, port: u16) {
        if let Some(slot) = self.next.get_mut(usize::from(port)) {
            *slot = u32::from(port) + 1;
        }
    }
}

/// Marks the ports of `ranges` in a bitmap through a difference array: O(n
/// + 65536) however many ranges overlap.
fn paint(ranges: impl Iterator<Item = PortRange>, into: &mut [bool]) {
    let mut delta = vec![0i64; usize::from(u16::MAX) + 2];
    for r in ranges {
        if let Some(d) = delta.get_mut(usize::from(r.start())) {
            *d += 1;
        }
        if let Some(d) = delta.get_mut(usize::from(r.end()) + 1) {
            *d -= 1;
        }
    }
    let mut depth = 0i64;
    for (slot, d) in into.iter_mut().zip(&delta) {
        depth += d;
        if depth > 0 {
            *slot = true;
        }
    }
}

/// Ports in use (claimed by a compose file, assigned by the convention, or
/// already suggested), so that every suggestion is a different free port.
struct FreePorts {
    /// Free for a range's allocation: not taken, not reserved.
    in_ranges: NextFree,
    /// Free for a service the convention does not know: not taken, not
    /// protected or reserved, not privileged.
    unprotected: NextFree,
}

impl FreePorts {
    fn new(convention: Option<&Convention>, scan: &Scan) -> Self {
        let size = usize::from(u16::MAX) + 1;
        let mut taken = vec![false; size];
        paint(scan.published().map(|(_, range)| range), &mut taken);
        if let Some(c) = convention {
            for (_, p) in c.assignments() {
                if let Some(slot) = taken.get_mut(usize::from(p.port)) {
                    *slot = true;
                }
            }
        }
        // Port 0 is never suggested.
        if let Some(slot) = taken.get_mut(0) {
            *slot = true;
        }
        let mut reserved = taken.clone();
        if let Some(c) = convention {
            paint(
                c.ranges.iter().filter(|r| r.reserved).map(|r| r.ports),
                &mut reserved,
            );
        }
        let mut unprotected = reserved.clone();
        if let Some(c) = convention {
            paint(
                c.ranges.iter().filter(|r| r.protected).map(|r| r.ports),
                &mut unprotected,
            );
        }
        for slot in unprotected.iter_mut().take(1024) {
            *slot = true;
        }
        FreePorts {
            in_ranges: NextFree::new(&reserved),
            unprotected: NextFree::new(&unprotected),
        }
    }

    fn take(&mut self, port: u16) -> u16 {
        self.in_ranges.remove(port);
        self.unprotected.remove(port);
        port
    }

    /// The lowest free port of `range` (by name) in the convention.
    fn take_in_range(&mut self, convention: &Convention, range: &str) -> Option<u16> {
        let def = convention.range(range)?;
        let port = self.in_ranges.find(def.ports.start());
        let port = u16::try_from(port).ok().filter(|p| *p <= def.ports.end())?;
        Some(self.take(port))
    }

    /// The lowest free port at or above `from` outside every protected and
    /// reserved range (for services the convention does not know).
    fn take_unprotected_from(&mut self, from: u16) -> Option<u16> {
        let port = u16::try_from(self.unprotected.find(from)).ok()?;
        Some(self.take(port))
    }
}

/// Checks a scanned tree against the convention (or, with none, for clashes
/// and file problems only). Returns every finding; the convention's own rules
/// are included.
pub fn check_repository(convention: Option<&Convention>, scan: &Scan) -> Vec<Finding> {
    check_repository_with(convention, scan, true, MAX_PAIR_COMPARISONS)
}

/// How many pairs of overlapping mappings the clash check compares one by
/// one before it stops with [`Rule::ClashCheckLimit`] (about half a second;
/// the 3,000-file bench tree needs 21,000, the trading-system corpus 252).
pub const MAX_PAIR_COMPARISONS: u64 = 10_000_000;

/// [`check_repository`]; with `settle_runs` false every pair of claims is
/// compared one by one (the reference the settled runs are tested against),
/// at most `budget` of them.
fn check_repository_with(
    convention: Option<&Convention>,
    scan: &Scan,
    settle_runs: bool,
    budget: u64,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(c) = convention {
        findings.extend(validate_convention(c));
    }
    for file in &scan.compose_files {
        findings.extend(file.findings.iter().cloned());
    }
    // Problems met while loading projects (an include's own env can make a
    // template fail that the file's directory env does not), each once.
    let mut seen: std::collections::BTreeSet<crate::finding::FindingIdentity> =
        findings.iter().map(Finding::identity).collect();
    for finding in &scan.projects.findings {
        if seen.insert(finding.identity()) {
            findings.push(finding.clone());
        }
    }
    let mut free = FreePorts::new(convention, scan);
    duplicate_host_ports(
        convention,
        scan,
        &mut free,
        &mut findings,
        (settle_runs, budget),
    );
    if let Some(c) = convention {
        let owners = ClaimOwners::new(&scan.projects.projects);
        for (claim, range) in scan.published() {
            let start = findings.len();
            convention_rules(c, claim, range, &mut free, &mut findings);
            if let Some(project) = owners.project_of(claim) {
                for f in findings.iter_mut().skip(start) {
                    f.project = Some(project.to_owned());
                }
            }
        }
    }
    env_files(convention, scan, &mut findings);
    crate::report::sort_findings(&mut findings);
    findings
}

/// The first project (in id order) that has each written claim.
pub struct ClaimOwners<'p> {
    /// Keyed (line, column, file): most comparisons end on the numbers,
    /// not on long file names with shared prefixes.
    by_place: BTreeMap<(u32, u32, &'p str), &'p str>,
}

impl<'p> ClaimOwners<'p> {
    /// Indexes the claims of `projects`.
    pub fn new(projects: &'p [Project]) -> Self {
        let mut by_place = BTreeMap::new();
        for project in projects {
            for service in &project.services {
                for claim in &service.claims {
                    by_place
                        .entry((
                            claim.location.line,
                            claim.location.column,
                            claim.location.file.as_str(),
                        ))
                        .or_insert(project.id.as_str());
                }
            }
        }
        ClaimOwners { by_place }
    }

    /// The id of the first project that has `claim` (where it is written).
    pub fn project_of(&self, claim: &Claim) -> Option<&'p str> {
        self.by_place
            .get(&(
                claim.location.line,
                claim.location.column,
                claim.location.file.as_str(),
            ))
            .copied()
    }
}

/// How many related places a clash lists; the rest are counted.
pub const MAX_RELATED: usize = 10;

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
    free.take_unprotected_from(port)
}

/// One published claim of an active service of a project.
struct Published<'s> {
    project: &'s Project,
    service: &'s str,
    claim: &'s Claim,
    range: PortRange,
}

/// How two overlapping claims relate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clash {
    /// Same project, or projects on one host: compose `up` fails.
    Error,
    /// Different projects that no host puts together.
    Undeclared,
}

fn same_place(a: &Claim, b: &Claim) -> bool {
    a.location.file == b.location.file
        && a.location.line == b.location.line
        && a.location.column == b.location.column
}

/// `svc (file:line)`, with the project when it is not `own`'s, for the
/// first [`MAX_RELATED`] of `total` others (`others` holds at least those).
fn list_places(others: &[&Published<'_>], total: usize, own: Option<&Project>) -> String {
    let mut names: Vec<String> = others
        .iter()
        .take(MAX_RELATED)
        .map(|o| {
            if own.is_some_and(|p| std::ptr::eq(p, o.project)) {
                format!(
                    "{} ({}:{})",
                    o.service, o.claim.location.file, o.claim.location.line
                )
            } else {
                format!(
                    "{} ({}:{}, project {})",
                    o.service, o.claim.location.file, o.claim.location.line, o.project.id
                )
            }
        })
        .collect();
    let listed = others.len().min(MAX_RELATED);
    if total > listed {
        names.push(format!("and {} more", total - listed));
    }
    names.join(", ")
}

/// Whom one published claim clashes with, kept bounded: how many, the
/// first [`MAX_RELATED`] by place, and what their projects share with its own.
struct Partners {
    /// Every clashing claim.
    count: usize,
    /// Indices of the first [`MAX_RELATED`] of them by place.
    shown: Vec<usize>,
    /// Whether all of them are of the claim's own project.
    all_same_project: bool,
    /// Per host of the claim's project: whether every partner's project is on it.
    common_hosts: Vec<bool>,
}

/// The order partners are listed in: file, line, column, project.
fn place_key<'a>(p: &'a Published<'_>) -> (&'a str, u32, u32, &'a str) {
    (
        p.claim.location.file.as_str(),
        p.claim.location.line,
        p.claim.location.column,
        p.project.id.as_str(),
    )
}

/// Records that claim `i` clashes with claim `j`.
fn add_partner(published: &[Published<'_>], partners: &mut [Option<Partners>], i: usize, j: usize) {
    let (Some(own), Some(other), Some(slot)) =
        (published.get(i), published.get(j), partners.get_mut(i))
    else {
        return;
    };
    let found = slot.get_or_insert_with(|| Partners {
        count: 0,
        shown: Vec::new(),
        all_same_project: true,
        common_hosts: vec![true; own.project.hosts.len()],
    });
    found.count += 1;
    found.all_same_project &= std::ptr::eq(own.project, other.project);
    for (host, common) in own.project.hosts.iter().zip(found.common_hosts.iter_mut()) {
        *common &= other.project.hosts.contains(host);
    }
    let key = place_key(other);
    let at = found
        .shown
        .partition_point(|&k| published.get(k).is_some_and(|p| place_key(p) <= key));
    if at < MAX_RELATED {
        found.shown.insert(at, j);
        found.shown.truncate(MAX_RELATED);
    }
}

/// Settles the runs of `published` (sorted by protocol and range) whose
/// claims share protocol, range and host IP, where the clash between two of
/// them depends on nothing but whether they are of one project: a run of
/// one project (every pair clashes), or of projects on no host and in no
/// alternatives group (pairs of one project clash, pairs of two share the
/// port). Pairs at one place (one entry loaded by two projects) never
/// clash. Returns, per claim, the end of its settled run (0: not settled).
fn settle_runs(
    convention: Option<&Convention>,
    published: &[Published<'_>],
    partners: &mut [Option<Partners>],
    shared: &mut BTreeMap<(crate::Protocol, u16), std::collections::BTreeSet<usize>>,
) -> Vec<usize> {
    let mut run_end = vec![0usize; published.len()];
    let plain = |p: &Project| {
        p.hosts.is_empty()
            && convention
                .is_none_or(|c| p.files.iter().all(|f| c.alternative_group_of(f).is_none()))
    };
    let mut lo = 0;
    while lo < published.len() {
        let Some(first) = published.get(lo) else {
            break;
        };
        let same_run = |p: &Published<'_>| {
            p.claim.mapping.protocol == first.claim.mapping.protocol && p.range == first.range
        };
        let mut hi = lo + 1;
        while published.get(hi).is_some_and(same_run) {
            hi += 1;
        }
        let run = published.get(lo..hi).unwrap_or_default();
        // Every two claims of the run must be on interfaces that overlap
        // (all interfaces and one address do; two addresses may not).
        let mut ips: Vec<&crate::HostIp> = Vec::new();
        for p in run {
            if !ips.contains(&&p.claim.mapping.host_ip) {
                ips.push(&p.claim.mapping.host_ip);
                if ips.len() > 8 {
                    break;
                }
            }
        }
        let overlapping = ips.len() <= 8
            && ips
                .iter()
                .enumerate()
                .all(|(k, a)| ips.iter().skip(k + 1).all(|b| a.overlaps(b)));
        let one_project = run.iter().all(|p| std::ptr::eq(p.project, first.project));
        let no_alternatives = |p: &Project| {
            convention.is_none_or(|c| p.files.iter().all(|f| c.alternative_group_of(f).is_none()))
        };
        // A host every project of the run is on: then every pair clashes.
        let one_host = run.iter().all(|p| no_alternatives(p.project))
            && first
                .project
                .hosts
                .iter()
                .any(|h| run.iter().all(|p| p.project.hosts.contains(h)));
        let mode = if one_project || one_host {
            Some(RunMode::AllClash)
        } else if run.iter().all(|p| plain(p.project)) {
            Some(RunMode::ProjectsShare)
        } else {
            None
        };
        if run.len() >= 2
            && overlapping
            && let Some(mode) = mode
        {
            settle_run(lo, run, mode, published, partners, shared);
            for end in run_end.get_mut(lo..hi).into_iter().flatten() {
                *end = hi;
            }
        }
        lo = hi;
    }
    run_end
}

/// Where a claim is written: file, line, column.
type Place<'a> = (&'a str, u32, u32);

/// Where a claim is written.
fn place_of<'a>(p: &'a Published<'_>) -> Place<'a> {
    (
        p.claim.location.file.as_str(),
        p.claim.location.line,
        p.claim.location.column,
    )
}

/// How the claims of a settled run relate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RunMode {
    /// Every two at different places clash: one project, or projects all on
    /// one host and in no alternatives group.
    AllClash,
    /// Two of one project clash; two of different projects (on no host, in
    /// no alternatives group) share the port.
    ProjectsShare,
}

/// [`settle_runs`] for one run starting at `lo`.
fn settle_run(
    lo: usize,
    run: &[Published<'_>],
    mode: RunMode,
    published: &[Published<'_>],
    partners: &mut [Option<Partners>],
    shared: &mut BTreeMap<(crate::Protocol, u16), std::collections::BTreeSet<usize>>,
) {
    // Members by project (in place order), and how many share each place.
    let mut by_project: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut at_place: BTreeMap<Place<'_>, (usize, BTreeMap<&str, usize>)> = BTreeMap::new();
    for (k, p) in run.iter().enumerate() {
        by_project
            .entry(p.project.id.as_str())
            .or_default()
            .push(lo + k);
        let place = (
            p.claim.location.file.as_str(),
            p.claim.location.line,
            p.claim.location.column,
        );
        let entry = at_place.entry(place).or_default();
        entry.0 += 1;
        *entry.1.entry(p.project.id.as_str()).or_default() += 1;
    }
    let by_place = |members: &mut Vec<usize>| {
        members.sort_by(|&x, &y| {
            let (px, py) = (published.get(x), published.get(y));
            px.map(place_key).cmp(&py.map(place_key))
        });
    };
    for members in by_project.values_mut() {
        by_place(members);
    }
    // For every claim clashing with every other: the whole run in place
    // order, and how many claims (at each place) are on each host.
    let mut everyone: Vec<usize> = Vec::new();
    let mut on_host: BTreeMap<&str, usize> = BTreeMap::new();
    let mut on_host_at: BTreeMap<(Place<'_>, &str), usize> = BTreeMap::new();
    if mode == RunMode::AllClash {
        everyone = (lo..lo + run.len()).collect();
        by_place(&mut everyone);
        for p in run {
            for host in &p.project.hosts {
                *on_host.entry(host.as_str()).or_default() += 1;
                *on_host_at.entry((place_of(p), host.as_str())).or_default() += 1;
            }
        }
    }
    for (k, x) in run.iter().enumerate() {
        let i = lo + k;
        let place = place_of(x);
        let project = x.project.id.as_str();
        let (here, here_by_project) = at_place.get(&place).cloned().unwrap_or_default();
        let here_own = here_by_project.get(project).copied().unwrap_or(0);
        let own = by_project.get(project).map_or(&[][..], Vec::as_slice);
        let elsewhere = |members: &[usize]| -> Vec<usize> {
            members
                .iter()
                .copied()
                .filter(|&j| published.get(j).is_some_and(|p| place_of(p) != place))
                .take(MAX_RELATED)
                .collect()
        };
        let own_elsewhere = own.len() - here_own;
        let found = match mode {
            // Partners: every claim at another place.
            RunMode::AllClash => {
                let count = run.len() - here;
                let common_hosts = x
                    .project
                    .hosts
                    .iter()
                    .map(|h| {
                        let with = on_host.get(h.as_str()).copied().unwrap_or(0);
                        let with_here = on_host_at.get(&(place, h.as_str())).copied().unwrap_or(0);
                        with - with_here == count
                    })
                    .collect();
                (count > 0).then(|| Partners {
                    count,
                    shown: elsewhere(&everyone),
                    all_same_project: own_elsewhere == count,
                    common_hosts,
                })
            }
            // Partners: the claims of its own project at another place.
            RunMode::ProjectsShare => {
                // Sharing: a claim of another project at another place.
                if run.len() - own.len() - (here - here_own) > 0 {
                    shared
                        .entry((x.claim.mapping.protocol, x.range.start()))
                        .or_default()
                        .insert(i);
                }
                (own_elsewhere > 0).then(|| Partners {
                    count: own_elsewhere,
                    shown: elsewhere(own),
                    all_same_project: true,
                    common_hosts: vec![true; x.project.hosts.len()],
                })
            }
        };
        if let (Some(found), Some(slot)) = (found, partners.get_mut(i)) {
            *slot = Some(found);
        }
    }
}

fn duplicate_host_ports(
    convention: Option<&Convention>,
    scan: &Scan,
    free: &mut FreePorts,
    findings: &mut Vec<Finding>,
    (settle, budget): (bool, u64),
) {
    let mut published: Vec<Published<'_>> = Vec::new();
    for project in scan.projects.projects.iter().filter(|p| p.error.is_none()) {
        for service in project.active_services() {
            for claim in &service.claims {
                // Port 0 asks Docker for a free port: it never clashes.
                if let Some(range) = claim.host_range()
                    && range.start() != 0
                {
                    published.push(Published {
                        project,
                        service: &service.name,
                        claim,
                        range,
                    });
                }
            }
        }
    }
    // Sweep over claims sorted by protocol and first port: only claims whose
    // ranges can still intersect are compared, so a large tree stays fast.
    published.sort_by(|a, b| {
        (a.claim.mapping.protocol, a.range.start(), a.range.end())
            .cmp(&(b.claim.mapping.protocol, b.range.start(), b.range.end()))
            .then_with(|| a.project.id.cmp(&b.project.id))
            .then_with(|| {
                (&a.claim.location.file, a.claim.location.line)
                    .cmp(&(&b.claim.location.file, b.claim.location.line))
            })
    });
    let mut partners: Vec<Option<Partners>> = Vec::new();
    partners.resize_with(published.len(), || None);
    // Undeclared sharing, by protocol and first shared port.
    let mut shared: BTreeMap<(crate::Protocol, u16), std::collections::BTreeSet<usize>> =
        BTreeMap::new();
    // Runs of claims with one protocol, range and host IP clash with each
    // other in a way that depends on their projects only: where that is
    // simple (one project, or projects on no host and in no alternatives),
    // the run is settled at once, so that a thousand services on one port
    // cost a sort, not a million comparisons.
    let run_end = if settle {
        settle_runs(convention, &published, &mut partners, &mut shared)
    } else {
        Vec::new()
    };
    let mut compared = 0u64;
    'claims: for (i, a) in published.iter().enumerate() {
        // The rest of a settled run was settled with it.
        let settled_until = run_end.get(i).copied().filter(|&end| end > i);
        let mut next = i + 1;
        while let Some(b) = published.get(next) {
            if let Some(end) = settled_until
                && next < end
            {
                next = end;
                continue;
            }
            let j = next;
            next += 1;
            compared += 1;
            if compared > budget {
                let rest = published.len() - i;
                findings.push(
                    with_claim(
                        Finding::new(
                            Rule::ClashCheckLimit,
                            format!(
                                "the clash check compared {budget} pairs of overlapping host-port \
                                 mappings one by one and stopped here ({}/{} of {}): clashes \
                                 among the {rest} mapping(s) from here on are not reported",
                                a.range, a.claim.mapping.protocol, a.service
                            ),
                        ),
                        a.claim,
                        a.range.start(),
                    )
                    .with_project(a.project.id.clone()),
                );
                break 'claims;
            }
            if b.claim.mapping.protocol != a.claim.mapping.protocol
                || b.range.start() > a.range.end()
            {
                break;
            }
            if !b.range.overlaps(&a.range)
                || !b.claim.mapping.host_ip.overlaps(&a.claim.mapping.host_ip)
                // One entry (expanded, or loaded by two projects) never clashes with itself.
                || same_place(a.claim, b.claim)
            {
                continue;
            }
            let kind = if std::ptr::eq(a.project, b.project) {
                Clash::Error
            } else if convention.is_some_and(|c| {
                a.project
                    .files
                    .iter()
                    .any(|fa| b.project.files.iter().any(|fb| c.are_alternatives(fa, fb)))
            }) {
                continue;
            } else if a.project.hosts.iter().any(|h| b.project.hosts.contains(h)) {
                Clash::Error
            } else {
                Clash::Undeclared
            };
            match kind {
                Clash::Error => {
                    add_partner(&published, &mut partners, i, j);
                    add_partner(&published, &mut partners, j, i);
                }
                Clash::Undeclared => {
                    let port = a.range.start().max(b.range.start());
                    let group = shared.entry((a.claim.mapping.protocol, port)).or_default();
                    group.insert(i);
                    group.insert(j);
                }
            }
        }
    }
    let mut emitted: std::collections::BTreeSet<(String, u32, u32, String)> =
        std::collections::BTreeSet::new();
    for (i, found) in partners.iter().enumerate() {
        let Some(found) = found else {
            continue;
        };
        let Some(claim) = published.get(i) else {
            continue;
        };
        let others: Vec<&Published<'_>> = found
            .shown
            .iter()
            .filter_map(|&j| published.get(j))
            .collect();
        let host = if found.all_same_project {
            None
        } else {
            claim
                .project
                .hosts
                .iter()
                .zip(&found.common_hosts)
                .find(|(_, common)| **common)
                .map(|(h, _)| h)
                .or(claim.project.hosts.first())
                .cloned()
        };
        let context = match &host {
            None => String::new(),
            Some(h) => format!(", all on host {h}"),
        };
        let message = format!(
            "host port {}/{} of {} is also published by {}{context}",
            claim.range,
            claim.claim.mapping.protocol,
            claim.service,
            list_places(&others, found.count, Some(claim.project))
        );
        let key = (
            claim.claim.location.file.clone(),
            claim.claim.location.line,
            claim.claim.location.column,
            message.clone(),
        );
        if !emitted.insert(key) {
            continue;
        }
        let mut f = Finding::new(Rule::DuplicateHostPort, message);
        f = with_claim(f, claim.claim, claim.range.start()).with_project(claim.project.id.clone());
        f.service = Some(claim.service.to_owned());
        f.host = host;
        for other in others.iter().take(MAX_RELATED) {
            f = f.with_related(&other.claim.location, Some(other.service.to_owned()));
            if let Some(last) = f.related.last_mut() {
                last.project = Some(other.project.id.clone());
            }
        }
        if let Some(p) = suggestion_for(convention, claim.claim, free, claim.range.start()) {
            f = f.with_suggestion(p);
        }
        findings.push(f);
    }
    for ((protocol, port), members) in shared {
        let mut members: Vec<&Published<'_>> =
            members.iter().filter_map(|&i| published.get(i)).collect();
        members.sort_by(|a, b| {
            (
                &a.claim.location.file,
                a.claim.location.line,
                a.claim.location.column,
            )
                .cmp(&(
                    &b.claim.location.file,
                    b.claim.location.line,
                    b.claim.location.column,
                ))
        });
        let Some((first, rest)) = members.split_first() else {
            continue;
        };
        let mut projects: Vec<&str> = members.iter().map(|m| m.project.id.as_str()).collect();
        projects.sort_unstable();
        projects.dedup();
        let message = format!(
            "host port {port}/{protocol} is published by {} compose projects: {} ({}), {}; if they run on one machine, declare them under `hosts:` in ports.yaml (then this is an error), if never together, under `alternatives:`",
            projects.len(),
            first.service,
            first.project.id,
            list_places(rest, rest.len(), None)
        );
        let mut f = Finding::new(Rule::PortSharedAcrossProjects, message);
        f = with_claim(f, first.claim, port).with_project(first.project.id.clone());
        f.service = Some(first.service.to_owned());
        for other in rest.iter().take(MAX_RELATED) {
            f = f.with_related(&other.claim.location, Some(other.service.to_owned()));
            if let Some(last) = f.related.last_mut() {
                last.project = Some(other.project.id.clone());
            }
        }
        findings.push(f);
    }
}

fn with_claim(mut finding: Finding, claim: &Claim, port: u16) -> Finding {
    finding = finding
        .at(&claim.location)
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
                // The file as the scan names it (with a root prefix when
                // several roots are scanned), at the error's position.
                let mut location = err
                    .location()
                    .cloned()
                    .unwrap_or_else(|| crate::Location::new(env_file.file.clone(), 0, 0));
                location.file = env_file.file.clone();
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
            let Some((service, assignment)) = c.assignment_for_env(&entry.key) else {
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

/// One table-driven case per rule of this module: a tree (convention,
/// compose and `.env` texts) in, the exact (rule, file, line) of every
/// finding out, in order.
#[cfg(test)]
mod rule_tests {
    use std::collections::BTreeMap;

    use super::{TreeTexts, scan_texts_with};
    use crate::{Convention, Rule};

    const CONVENTION: &str = "version: 1.0.0\nranges:\n  db:\n    ports: 7000-7099\n    protected: true\n    bind: loopback\n  web: { ports: 8000-8099 }\nservices:\n  pg: { range: db, ports: { sql: { port: 7000, env: PG_PORT, container: 5432 } } }\n  api: { range: web, ports: { http: { port: 8000, env: API_PORT, container: 80 } } }\n";

    /// `(name, convention or none, files, expected (rule, file, line))`.
    type Case = (
        &'static str,
        Option<&'static str>,
        &'static [(&'static str, &'static str)],
        &'static [(Rule, &'static str, u32)],
    );

    const CASES: &[Case] = &[
        (
            "clean",
            Some(CONVENTION),
            &[(
                "c.yml",
                "services:\n  pg:\n    ports: [\"127.0.0.1:7000:5432\"]\n  api:\n    ports: [\"8000:80\"]\n",
            )],
            &[],
        ),
        (
            "drift",
            Some(CONVENTION),
            &[(
                "c.yml",
                "services:\n  api:\n    ports:\n      - \"8001:80\"\n",
            )],
            &[(Rule::Drift, "c.yml", 4)],
        ),
        (
            "env-drift (and the drift it causes)",
            Some(CONVENTION),
            &[
                (
                    "c.yml",
                    "services:\n  api:\n    ports:\n      - \"${API_PORT:-8000}:80\"\n",
                ),
                (".env", "API_PORT=8001\n"),
            ],
            &[(Rule::EnvDrift, ".env", 1), (Rule::Drift, "c.yml", 4)],
        ),
        (
            "duplicate-host-port",
            None,
            &[(
                "compose.yml",
                "services:\n  a:\n    ports: [\"9000:80\"]\n  b:\n    ports: [\"9000:81\"]\n",
            )],
            &[
                (Rule::DuplicateHostPort, "compose.yml", 3),
                (Rule::DuplicateHostPort, "compose.yml", 5),
            ],
        ),
        (
            "port-shared-across-projects",
            None,
            &[
                (
                    "a/compose.yml",
                    "services:\n  x:\n    ports: [\"9100:80\"]\n",
                ),
                (
                    "b/compose.yml",
                    "services:\n  y:\n    ports: [\"9100:80\"]\n",
                ),
            ],
            &[(Rule::PortSharedAcrossProjects, "a/compose.yml", 3)],
        ),
        (
            "clash-check-limit (budget 10 here: 6 projects on one port, one on a host)",
            Some("version: 1.0.0\nhosts:\n  h: { projects: [a] }\n"),
            &[
                (
                    "a/compose.yml",
                    "services:\n  sa:\n    ports: [\"9200:80\"]\n",
                ),
                (
                    "b/compose.yml",
                    "services:\n  sb:\n    ports: [\"9200:80\"]\n",
                ),
                (
                    "c/compose.yml",
                    "services:\n  sc:\n    ports: [\"9200:80\"]\n",
                ),
                (
                    "d/compose.yml",
                    "services:\n  sd:\n    ports: [\"9200:80\"]\n",
                ),
                (
                    "e/compose.yml",
                    "services:\n  se:\n    ports: [\"9200:80\"]\n",
                ),
                (
                    "f/compose.yml",
                    "services:\n  sf:\n    ports: [\"9200:80\"]\n",
                ),
            ],
            // Compared: a with b-f, b with c-f, c with d; stopped at c.
            &[
                (Rule::PortSharedAcrossProjects, "a/compose.yml", 3),
                (Rule::ClashCheckLimit, "c/compose.yml", 3),
            ],
        ),
        (
            "exposed-on-all-interfaces",
            Some(CONVENTION),
            &[("c.yml", "services:\n  pg:\n    ports: [\"7000:5432\"]\n")],
            &[(Rule::ExposedOnAllInterfaces, "c.yml", 3)],
        ),
        (
            "protected-range-violation",
            Some(CONVENTION),
            &[(
                "c.yml",
                "services:\n  stray:\n    ports: [\"127.0.0.1:7050:5432\"]\n",
            )],
            &[(Rule::ProtectedRangeViolation, "c.yml", 3)],
        ),
        (
            "out-of-range",
            Some(CONVENTION),
            &[(
                "c.yml",
                "services:\n  api:\n    ports: [\"8000:80\", \"9999:81\"]\n",
            )],
            &[(Rule::OutOfRange, "c.yml", 3)],
        ),
        (
            "invalid-compose-file",
            None,
            &[("c.yml", "services: [\n")],
            &[(Rule::InvalidComposeFile, "c.yml", 1)],
        ),
        (
            "invalid-env-file",
            None,
            &[
                ("c.yml", "services:\n  a:\n    ports: [\"${A:-9000}:80\"]\n"),
                (".env", "A=\"open\n"),
            ],
            &[(Rule::InvalidEnvFile, ".env", 1)],
        ),
        (
            "duplicate-env-key",
            None,
            &[
                ("c.yml", "services:\n  a:\n    ports: [\"${A:-9000}:80\"]\n"),
                (".env", "A=9000\nA=9001\n"),
            ],
            &[(Rule::DuplicateEnvKey, ".env", 2)],
        ),
    ];

    fn findings(convention: Option<&str>, files: &[(&str, &str)]) -> Vec<(Rule, String, u32)> {
        let convention = convention.map(|text| Convention::from_yaml("ports.yaml", text).unwrap());
        let texts: BTreeMap<String, String> = files
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let (compose, env): (Vec<String>, Vec<String>) = texts
            .keys()
            .cloned()
            .partition(|n| n.ends_with(".yml") || n.ends_with(".yaml"));
        let read = TreeTexts {
            root_name: "tree".into(),
            compose,
            env,
            texts,
            ..TreeTexts::default()
        };
        let scan = scan_texts_with(&read, &BTreeMap::new(), None, convention.as_ref());
        // A small budget, so that one case reaches the clash-check limit.
        super::check_repository_with(convention.as_ref(), &scan, true, 10)
            .into_iter()
            .map(|f| {
                (
                    f.rule,
                    f.file().unwrap_or_default().to_owned(),
                    f.line().unwrap_or(0),
                )
            })
            .collect()
    }

    #[test]
    fn every_rule_of_the_repository() {
        let mut failures = Vec::new();
        for (name, convention, files, expected) in CASES {
            let got = findings(*convention, files);
            let want: Vec<(Rule, String, u32)> = expected
                .iter()
                .map(|(r, f, l)| (*r, (*f).to_owned(), *l))
                .collect();
            if got != want {
                failures.push(format!("{name}: got {got:?}, expected {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Settled runs give exactly what comparing every pair gives: random
    /// trees of projects (some on hosts, some alternatives, files loaded by
    /// two projects through `include`, one entry or several per port, host
    /// IPs that do and do not overlap), 400 of them.
    #[test]
    fn settled_runs_agree_with_comparing_every_pair() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let ips = ["", "127.0.0.1:", "0.0.0.0:", "[::1]:", "10.0.0.2:"];
        let (mut more, mut clashes, mut shared) = (false, 0, 0);
        for case in 0..400 {
            // Every tenth tree is large enough for "and N more" (over MAX_RELATED).
            let big = case % 10 == 0;
            let projects = 1 + next(if big { 14 } else { 6 });
            let mut texts = BTreeMap::new();
            for p in 0..projects {
                let mut text = String::from("services:\n");
                for s in 0..1 + next(if big { 14 } else { 4 }) {
                    let ip = ips[usize::try_from(next(if big { 2 } else { 4 })).unwrap_or(0)];
                    let port = 9000 + next(if big { 1 } else { 3 });
                    let range = if next(6) == 0 {
                        format!("-{}", port + 1)
                    } else {
                        String::new()
                    };
                    let target = if range.is_empty() {
                        "80".to_owned()
                    } else {
                        "80-81".to_owned()
                    };
                    text.push_str(&format!(
                        "  s{s}:\n    image: x\n    ports: [\"{ip}{port}{range}:{target}\"]\n"
                    ));
                }
                if p > 0 && next(5) == 0 {
                    // Loads the first project's file too: its entries at one place in two projects.
                    text = format!("include: [../p0/compose.yml]\n{text}")
                        .replace("  s", &format!("  q{p}s"));
                }
                texts.insert(format!("p{p}/compose.yml"), text);
            }
            let mut convention = String::from("version: 1.0.0\n");
            if next(2) == 0 {
                // Two hosts: most projects on the first (often all of them),
                // some on the second too.
                convention.push_str("hosts:\n");
                for (host, odds) in [("box", 5), ("lab", 2)] {
                    let on: Vec<String> = (0..projects)
                        .filter(|_| next(odds) != 0)
                        .map(|p| format!("p{p}"))
                        .collect();
                    convention.push_str(&format!("  {host}:\n    projects: [{}]\n", on.join(", ")));
                }
            }
            if projects >= 2 && next(3) == 0 {
                convention.push_str("alternatives:\n  v: [p0/compose.yml, p1/compose.yml]\n");
            }
            let convention = Convention::from_yaml("ports.yaml", &convention).unwrap();
            let read = TreeTexts {
                compose: texts.keys().cloned().collect(),
                texts: texts.clone(),
                ..TreeTexts::default()
            };
            let scan = scan_texts_with(&read, &BTreeMap::new(), None, Some(&convention));
            let settled = super::check_repository_with(Some(&convention), &scan, true, u64::MAX);
            let pairwise = super::check_repository_with(Some(&convention), &scan, false, u64::MAX);
            assert_eq!(settled, pairwise, "case {case}: {texts:#?}");
            more |= settled.iter().any(|f| f.message.contains(" more"));
            clashes += settled
                .iter()
                .filter(|f| f.rule == Rule::DuplicateHostPort)
                .count();
            shared += settled
                .iter()
                .filter(|f| f.rule == Rule::PortSharedAcrossProjects)
                .count();
            let without = super::check_repository_with(None, &scan, true, u64::MAX);
            assert_eq!(
                without,
                super::check_repository_with(None, &scan, false, u64::MAX),
                "case {case}"
            );
        }
        // The trees exercise what they are meant to.
        assert!(
            more && clashes > 400 && shared > 100,
            "{more} {clashes} {shared}"
        );
    }

    /// Every rule this module produces has a case.
    #[test]
    fn every_rule_has_a_case() {
        let covered: std::collections::BTreeSet<Rule> = CASES
            .iter()
            .flat_map(|(_, _, _, expected)| expected.iter().map(|(rule, _, _)| *rule))
            .collect();
        let source = include_str!("check.rs");
        let code = source.split("mod rule_tests").next().unwrap_or("");
        for rule in Rule::ALL {
            if code.contains(&format!("Rule::{rule:?}")) {
                assert!(covered.contains(rule), "no case for {}", rule.id());
            }
        }
    }
}

//! Ports hardcoded in source and configuration files: the fallbacks
//! (`process.env.X ?? 5433`), addresses (`localhost:6333`,
//! `postgres://u@h:5433/db`) and keys (`port: 5432`) a migration leaves
//! behind.
//!
//! Pure: [`SourceIndex::new`] builds, from the convention and the compose
//! projects, one Aho-Corasick automaton over the decimal strings of every
//! assigned, legacy and protected port; [`scan_source`] runs it over a
//! file's bytes and looks at the context only around a hit. The edge
//! (`io::source`) finds and reads the files.
//!
//! Where the program runs decides which number is right: `localhost:7000`
//! names a host port, `timescaledb:5432` (a compose service name as host)
//! a container port inside the compose network, which is correct when it is
//! one of that service's container ports ([ADR 0007]).
//!
//! [ADR 0007]: https://github.com/port-convention/port-convention/blob/main/docs/adr/0007-ports-in-source.md

mod lex;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::migrate::{Change, ChangeKind, Edit};
use crate::project::Project;
use crate::{Convention, Finding, Location, Rule, SourceKind};

/// One port of the convention, as the source rules name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The convention service.
    pub service: String,
    /// Its compose service name (the host name inside the compose network).
    pub compose_service: String,
    /// The port's name (`postgres`, `http` ...).
    pub port_name: String,
    /// The assigned host port.
    pub port: u16,
    /// The variable that carries it.
    pub env: Option<String>,
    /// The container port.
    pub container: Option<u16>,
}

impl Owner {
    /// `timescaledb postgres`.
    fn name(&self) -> String {
        format!("{} {}", self.service, self.port_name)
    }

    /// How a program gets the port without a literal: the variable and the
    /// binding's entry.
    fn how(&self, address: bool) -> String {
        let binding = if address {
            format!(
                "loadPorts()/load_ports() addresses.{}.{} (host and port)",
                self.service, self.port_name
            )
        } else {
            format!(
                "loadPorts()/load_ports() services.{}.{}",
                self.service, self.port_name
            )
        };
        match &self.env {
            Some(env) => format!("read {env} or use {binding}"),
            None => format!("use {binding}"),
        }
    }
}

/// What a number means to the convention.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Meaning {
    /// Ports assigned this number.
    assigned: Vec<usize>,
    /// Ports whose legacy port is this number (and that moved away from it).
    legacy: Vec<usize>,
    /// The protected range it lies in, if any.
    protected: Option<String>,
}

/// What the source rules look for, built once per check.
#[derive(Debug, Clone)]
pub struct SourceIndex {
    automaton: AhoCorasick,
    /// The port of each pattern.
    patterns: Vec<u16>,
    owners: Vec<Owner>,
    meanings: BTreeMap<u16, Meaning>,
    /// Compose service name (lower case) -> its container ports.
    network: BTreeMap<String, BTreeSet<u16>>,
}

/// How many protected ports become patterns at most (a protected range of
/// the whole port space is 65,535 patterns of at most five bytes: still
/// linear to search).
const MAX_PATTERNS: usize = 70_000;

impl SourceIndex {
    /// The index for `convention` and the compose `projects` of the tree
    /// (their service names and container ports); `None` when the
    /// convention gives nothing to look for or disables source scanning.
    pub fn new(convention: &Convention, projects: &[Project]) -> Option<SourceIndex> {
        if !convention.source.enabled {
            return None;
        }
        let mut owners = Vec::new();
        let mut meanings: BTreeMap<u16, Meaning> = BTreeMap::new();
        let mut network: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
        for (service, assignment) in convention.assignments() {
            let index = owners.len();
            owners.push(Owner {
                service: service.name.clone(),
                compose_service: service.compose_service.clone(),
                port_name: assignment.name.clone(),
                port: assignment.port,
                env: assignment.env.clone(),
                container: assignment.container,
            });
            meanings
                .entry(assignment.port)
                .or_default()
                .assigned
                .push(index);
            if let Some(legacy) = assignment
                .legacy
                .filter(|l| *l != assignment.port && *l != 0)
            {
                meanings.entry(legacy).or_default().legacy.push(index);
            }
            if let Some(container) = assignment.container {
                network
                    .entry(service.compose_service.to_ascii_lowercase())
                    .or_default()
                    .insert(container);
            }
        }
        for project in projects {
            for service in &project.services {
                let ports = network
                    .entry(service.name.to_ascii_lowercase())
                    .or_default();
                for claim in &service.claims {
                    let first = claim.mapping.target;
                    for k in 0..claim.run.max(1) {
                        if let Ok(k) = u16::try_from(k)
                            && let Some(p) = first.checked_add(k)
                        {
                            ports.insert(p);
                        }
                    }
                }
            }
        }
        let mut count = meanings.len();
        for (i, range) in convention.ranges.iter().enumerate() {
            if !convention.is_protected(i)
                || range.parent.is_some_and(|p| convention.is_protected(p))
            {
                continue;
            }
            for port in range.ports.start()..=range.ports.end() {
                if port == 0 || count >= MAX_PATTERNS {
                    break;
                }
                let meaning = meanings.entry(port).or_default();
                if meaning.protected.is_none() {
                    meaning.protected = Some(range.name.clone());
                    count += 1;
                }
            }
        }
        meanings.remove(&0);
        if meanings.is_empty() {
            return None;
        }
        let patterns: Vec<u16> = meanings.keys().copied().collect();
        let strings: Vec<String> = patterns.iter().map(u16::to_string).collect();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&strings)
            .ok()?;
        Some(SourceIndex {
            automaton,
            patterns,
            owners,
            meanings,
            network,
        })
    }

    /// The decimal strings searched for (for the benchmark's peer).
    pub fn pattern_strings(&self) -> Vec<String> {
        self.patterns.iter().map(u16::to_string).collect()
    }
}

/// Where a number stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Context {
    /// `HOST:PORT` (URLs and DSNs too); `host` is lower case, empty for a
    /// listen address (`":7000"`) or a template (`${HOST}:7000`).
    Address { host: String },
    /// The fallback of an environment read (`?? 5433`, `|| 5432`,
    /// `os.environ.get("X", "5432")`, `${X:-5432}`).
    Fallback,
    /// The value of a key named like a port (`port: 5432`, `DB_PORT=5432`).
    Key {
        /// The key as written.
        key: String,
    },
}

/// Where the program using an address runs, as far as the address says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    /// On the host (loopback, a listen address, no host at all).
    Host,
    /// Inside the compose network: the host is this compose service.
    Network(String),
}

/// A port literal in a port-like place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Byte range of the digits.
    pub span: Range<usize>,
    /// The port.
    pub port: u16,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    context: Context,
}

/// What scanning one file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceScan {
    /// The findings, in file order.
    pub findings: Vec<Finding>,
    /// Findings silenced by `port-convention: ignore[rule]`.
    pub suppressed: usize,
    /// The edits that move stale literals to their new port (for
    /// `migrate plan --source`), with the change each makes.
    pub fixes: Vec<(Edit, Change)>,
}

/// The comment that silences a rule on its line or the next one.
pub const SUPPRESSION_MARKER: &str = "port-convention: ignore[";

/// Scans one file (`file` names it in findings) of `kind`.
///
/// ```
/// use port_convention::{Convention, SourceKind, source::{SourceIndex, scan_source}};
/// let c = Convention::from_yaml("ports.yaml", "version: 1.0.0
/// services:
///   timescaledb:
///     ports: { postgres: { port: 7000, env: TIMESCALEDB_PORT, container: 5432, legacy: 5433 } }
/// ")?;
/// let index = SourceIndex::new(&c, &[]).unwrap();
/// let text = "const port = Number(process.env.TIMESCALEDB_PORT ?? 5433);\n";
/// let scan = scan_source("config.js", SourceKind::Javascript, text.as_bytes(), &index);
/// assert_eq!(scan.findings[0].rule.id(), "stale-port");
/// assert_eq!((scan.findings[0].line(), scan.findings[0].column()), (Some(1), Some(53)));
/// assert_eq!(scan.findings[0].suggestion.as_ref().unwrap().port, 7000);
/// let ok = "const url = 'postgres://timescaledb:5432/db';\n";
/// assert!(scan_source("db.js", SourceKind::Javascript, ok.as_bytes(), &index).findings.is_empty());
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn scan_source(file: &str, kind: SourceKind, text: &[u8], index: &SourceIndex) -> SourceScan {
    let mut out = SourceScan::default();
    let mut comments: Option<Vec<Range<usize>>> = None;
    let mut literal_only: Option<bool> = None;
    let mut lines = LineCounter::default();
    for m in index.automaton.find_iter(text) {
        let (start, end) = (m.start(), m.end());
        if !digit_boundaries(text, start, end) {
            continue;
        }
        let Some(&port) = index.patterns.get(m.pattern().as_usize()) else {
            continue;
        };
        let comments = comments.get_or_insert_with(|| lex::comments(kind, text));
        if in_ranges(comments, start) {
            continue;
        }
        let (line, line_start) = lines.line_of(text, start);
        let line_end = lines.line_end(text);
        // Context is read in a window around the hit, so that a huge line
        // with many hits (minified code) stays linear.
        let before = text
            .get(line_start.max(start.saturating_sub(CONTEXT))..start)
            .unwrap_or_default();
        let after = text
            .get(end..line_end.min(end + CONTEXT))
            .unwrap_or_default();
        let Some(context) = classify(kind, before, after) else {
            continue;
        };
        let column = lines.column(text, start);
        let hit = Hit {
            span: start..end,
            port,
            line,
            column,
            context,
        };
        let line_text = text
            .get(line_start.max(start.saturating_sub(2 * CONTEXT))..line_end.min(end + 2 * CONTEXT))
            .unwrap_or_default();
        let literal_only = *literal_only.get_or_insert_with(|| literal_is_the_way(kind, text));
        let Some((finding, fix)) = judge(file, kind, literal_only, &hit, line_text, index) else {
            continue;
        };
        let previous = previous_line(text, line_start);
        if suppresses(line_text, finding.rule)
            || (is_comment_line(previous) && suppresses(previous, finding.rule))
        {
            out.suppressed += 1;
            continue;
        }
        if let Some(new) = fix
            && let Ok(old) = std::str::from_utf8(text.get(start..end).unwrap_or_default())
        {
            let new_text = new.to_string();
            let edit = Edit {
                start,
                end,
                old: old.to_owned(),
                new: new_text.clone(),
                line,
                column,
            };
            let change = Change {
                service: finding.service.clone().unwrap_or_default(),
                port_name: fix_port_name(&finding, index),
                location: crate::Location::new(file, line, column),
                kind: ChangeKind::SourceLiteral,
                variable: finding.variable.clone(),
                from: old.to_owned(),
                to: new_text,
            };
            out.fixes.push((edit, change));
        }
        out.findings.push(finding);
    }
    out.findings.extend(unknown_suppressions(file, text));
    out
}

fn fix_port_name(finding: &Finding, index: &SourceIndex) -> String {
    index
        .owners
        .iter()
        .find(|o| {
            Some(&o.service) == finding.service.as_ref()
                && finding
                    .suggestion
                    .as_ref()
                    .is_some_and(|s| s.port == o.port)
        })
        .map(|o| o.port_name.clone())
        .unwrap_or_default()
}

/// How many bytes before and after a hit its context is read from.
const CONTEXT: usize = 512;

/// Whether a file holds ports as literals by nature, so that today's port
/// written there is no `hardcoded-port` (a legacy one is still stale): a
/// `.env` file (the environment itself), a file `port-convention render`
/// generated from the convention, a Prometheus `file_sd` target list
/// (Prometheus reads no variables there).
fn literal_is_the_way(kind: SourceKind, text: &[u8]) -> bool {
    if kind == SourceKind::Env {
        return true;
    }
    let head = text.get(..text.len().min(1024)).unwrap_or_default();
    if find(head, b"by `port-convention render").is_some() {
        return true;
    }
    kind == SourceKind::Json
        && text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
        && find(text, b"\"targets\"").is_some()
}

/// Counts lines, line ends and columns incrementally: hits come in file
/// order, so every byte of the file is looked at a bounded number of times.
#[derive(Default)]
struct LineCounter {
    /// Bytes counted so far.
    at: usize,
    /// Line (1-based, once started) at `at`.
    line: u32,
    /// Start of that line.
    line_start: usize,
    /// End of that line, once looked for.
    line_end: Option<usize>,
    /// Offset and column (characters before it) counted on that line.
    column_at: (usize, u32),
}

impl LineCounter {
    fn line_of(&mut self, text: &[u8], offset: usize) -> (u32, usize) {
        if self.line == 0 {
            self.line = 1;
        }
        if let Some(chunk) = text.get(self.at..offset) {
            for (i, b) in chunk.iter().enumerate() {
                if *b == b'\n' {
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.at + i + 1;
                    self.line_end = None;
                    self.column_at = (self.line_start, 0);
                }
            }
        }
        self.at = offset.max(self.at);
        (self.line, self.line_start)
    }

    fn line_end(&mut self, text: &[u8]) -> usize {
        *self
            .line_end
            .get_or_insert_with(|| memchr_newline(text, self.at))
    }

    /// The 1-based column (characters) of `offset` on the current line.
    fn column(&mut self, text: &[u8], offset: usize) -> u32 {
        let (from, mut column) = self.column_at;
        if let Some(chunk) = text.get(from.max(self.line_start)..offset) {
            let chars = chunk.iter().filter(|b| (**b & 0xC0) != 0x80).count();
            column = column.saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        }
        self.column_at = (offset, column);
        column.saturating_add(1)
    }
}

fn memchr_newline(text: &[u8], from: usize) -> usize {
    text.get(from..)
        .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
        .map_or(text.len(), |i| from + i)
}

/// The line before the one that starts at `line_start` (empty for the first).
/// Only a line of at most this many bytes counts (a comment line is short;
/// looking further back would make a file of many long lines quadratic).
fn previous_line(text: &[u8], line_start: usize) -> &[u8] {
    const LONGEST: usize = 4 * CONTEXT;
    let Some(end) = line_start.checked_sub(1) else {
        return &[];
    };
    let window = end.saturating_sub(LONGEST);
    let start = match text
        .get(window..end)
        .and_then(|t| t.iter().rposition(|b| *b == b'\n'))
    {
        Some(i) => window + i + 1,
        None if window == 0 => 0,
        None => return &[],
    };
    text.get(start..end).unwrap_or_default()
}

fn in_ranges(ranges: &[Range<usize>], at: usize) -> bool {
    let i = ranges.partition_point(|r| r.end <= at);
    ranges.get(i).is_some_and(|r| r.start <= at)
}

/// The largest list `port-convention: ignore[...]` is read for (a list
/// longer than that is not a suppression).
const MAX_SUPPRESSION_LIST: usize = 256;

/// A finding for every id of a `port-convention: ignore[...]` of `text`
/// that is no rule (nor `*`). Linear in the text: markers are found with
/// `memmem`, lines counted once.
fn unknown_suppressions(file: &str, text: &[u8]) -> Vec<Finding> {
    let marker = SUPPRESSION_MARKER.as_bytes();
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    for at in memchr::memmem::find_iter(text, marker) {
        // Documentation quoting the syntax (`port-convention: ignore[rule]`)
        // is not a suppression.
        if at
            .checked_sub(1)
            .and_then(|i| text.get(i))
            .is_some_and(|b| matches!(b, b'`' | b'"' | b'\''))
        {
            continue;
        }
        let list_start = at + marker.len();
        let rest = text.get(list_start..).unwrap_or_default();
        let window = rest
            .get(..MAX_SUPPRESSION_LIST.min(rest.len()))
            .unwrap_or(rest);
        let Some(close) = window.iter().position(|b| *b == b']' || *b == b'\n') else {
            continue;
        };
        if window.get(close) != Some(&b']') {
            continue;
        }
        let mut offset = list_start;
        for part in window
            .get(..close)
            .unwrap_or_default()
            .split(|b| *b == b',')
        {
            let trimmed_start = part.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let id = String::from_utf8_lossy(part).trim().to_owned();
            let id_at = offset + trimmed_start;
            offset += part.len() + 1;
            // Only what reads as a rule id (`hardcode-port`), not a
            // placeholder (`rule`, `RULE`, `<id>`, `...`).
            let id_like = id.contains('-')
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_like || Rule::from_id(&id).is_some() {
                continue;
            }
            let (line, _) = lines.line_of(text, id_at);
            let column = lines.column(text, id_at);
            let close_ids = Rule::close_matches(&id);
            let hint = match close_ids.as_slice() {
                [] => String::new(),
                ids => format!(" (did you mean {}?)", ids.join(", ")),
            };
            out.push(
                Finding::new(
                    Rule::UnknownSuppression,
                    format!(
                        "`port-convention: ignore[...]` names {}, which is no rule{hint}; it \
                         silences nothing",
                        crate::error::excerpt(&id, 40)
                    ),
                )
                .at(&Location::new(file, line, column)),
            );
        }
    }
    out
}

/// Whether `line` holds `port-convention: ignore[...]` naming `rule` (or `*`).
fn suppresses(line: &[u8], rule: Rule) -> bool {
    let marker = SUPPRESSION_MARKER.as_bytes();
    let mut rest = line;
    while let Some(i) = find(rest, marker) {
        let after = rest.get(i + marker.len()..).unwrap_or_default();
        let Some(close) = after.iter().position(|b| *b == b']') else {
            return false;
        };
        let list = String::from_utf8_lossy(after.get(..close).unwrap_or_default()).into_owned();
        if list
            .split(',')
            .map(str::trim)
            .any(|id| id == rule.id() || id == "*")
        {
            return true;
        }
        rest = after.get(close..).unwrap_or_default();
    }
    false
}

/// Whether a line holds only a comment (the line-above form of a
/// suppression must stand on its own line: a trailing comment silences
/// only its own line).
fn is_comment_line(line: &[u8]) -> bool {
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let rest = line.get(start..).unwrap_or_default();
    [b"//".as_slice(), b"#", b";", b"/*", b"*", b"--", b"<!--"]
        .iter()
        .any(|m| rest.starts_with(m))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A number stands alone: no digit, letter, `_`, `#` (hex colour) or `.`
/// (a version or a decimal) glued to it, no `0x`, no `.` + digit after it.
fn digit_boundaries(text: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).and_then(|i| text.get(i)).copied();
    let after = text.get(end).copied();
    let glued = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'#' || b == b'$';
    if before.is_some_and(|b| glued(b) || b == b'.') {
        return false;
    }
    if after.is_some_and(glued) {
        return false;
    }
    // `5433.2` (a version or decimal), `5433-5440` stays fine.
    if after == Some(b'.') && text.get(end + 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    // `5433:12` after a file name is a line and column; `5433:5432` a
    // mapping: handled by the context, but `:`+digits after a number that
    // is itself after `:` is a time or a position.
    true
}

/// The context of a number, from the bytes before and after it on its line.
fn classify(kind: SourceKind, before: &[u8], after: &[u8]) -> Option<Context> {
    if let Some(context) = address(before, after) {
        return context;
    }
    if is_fallback(kind, before) {
        return Some(Context::Fallback);
    }
    is_key(before).map(|key| Context::Key { key })
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'
}

/// File extensions that make `name.ext:LINE` a source position, not a host.
const POSITION_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "jsx", "ts", "tsx", "mts", "cts", "py", "go", "rs", "java", "kt", "rb",
    "php", "sh", "c", "h", "cc", "cpp", "hpp", "cs", "swift", "scala", "ex", "exs", "erl", "lua",
    "pl", "vue", "svelte", "json", "yml", "yaml", "toml", "log", "txt", "md", "html", "css",
];

/// `Some(Some(Address))` for `HOST:PORT`, `Some(None)` for something that
/// looks like one but is not (a position in a stack trace, a time, a port
/// mapping), `None` when the number is not after a `:`.
fn address(before: &[u8], after: &[u8]) -> Option<Option<Context>> {
    let (&colon, head) = before.split_last()?;
    if colon != b':' {
        return None;
    }
    // `file.js:5433:12`, `10:54:33`: a position or a time.
    if after.first() == Some(&b':') && after.get(1).is_some_and(u8::is_ascii_digit) {
        return Some(None);
    }
    // IPv6 in brackets.
    if let Some((&b']', inner)) = head.split_last() {
        let open = inner.iter().rposition(|b| *b == b'[')?;
        let host = inner.get(open + 1..).unwrap_or_default();
        if host
            .iter()
            .all(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.')
        {
            return Some(Some(Context::Address {
                host: String::from_utf8_lossy(host).to_ascii_lowercase(),
            }));
        }
        return Some(None);
    }
    let host_start = head
        .iter()
        .rposition(|b| !is_host_byte(*b))
        .map_or(0, |i| i + 1);
    let host = head.get(host_start..).unwrap_or_default();
    let preceding = host_start.checked_sub(1).and_then(|i| head.get(i)).copied();
    if host.is_empty() {
        return match preceding {
            // `":7000"` (a listen address) or `${HOST}:7000`.
            None | Some(b'"' | b'\'' | b'`' | b' ' | b'\t' | b'=' | b'(' | b'}' | b'[' | b',') => {
                Some(Some(Context::Address {
                    host: String::new(),
                }))
            }
            _ => Some(None),
        };
    }
    // A path (`/src/main.go:5433`), not `//host` or `@host`.
    if matches!(preceding, Some(b'/' | b'\\')) {
        let double = host_start
            .checked_sub(2)
            .and_then(|i| head.get(i))
            .is_some_and(|b| *b == b'/');
        if !double {
            return Some(None);
        }
    }
    // `port:5433`, `dbPort:5433`: a key without a space, not a host.
    let words = key_words(&String::from_utf8_lossy(host));
    if !host.contains(&b'.') && words.iter().any(|w| w == "port" || w == "ports") {
        return None;
    }
    let host = String::from_utf8_lossy(host).to_ascii_lowercase();
    if host.starts_with(['.', '-']) || host.ends_with(['.', '-']) {
        return Some(None);
    }
    // All digits: a time (`10:5433`) or a mapping (`5433:5432`), unless a
    // dotted IPv4 address.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let parts: Vec<&str> = host.split('.').collect();
        let ipv4 = parts.len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok());
        return Some(ipv4.then_some(Context::Address { host }));
    }
    if let Some((_, ext)) = host.rsplit_once('.')
        && POSITION_EXTENSIONS.contains(&ext)
    {
        return Some(None);
    }
    Some(Some(Context::Address { host }))
}

/// The bytes before a value without the spaces and opening quote between
/// them and the operator.
fn trim_value_start(before: &[u8]) -> &[u8] {
    let mut end = before.len();
    while end > 0
        && before
            .get(end - 1)
            .is_some_and(|b| *b == b' ' || *b == b'\t')
    {
        end -= 1;
    }
    if end > 0
        && before
            .get(end - 1)
            .is_some_and(|b| matches!(b, b'"' | b'\'' | b'`'))
    {
        end -= 1;
        while end > 0
            && before
                .get(end - 1)
                .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            end -= 1;
        }
    }
    before.get(..end).unwrap_or_default()
}

/// Words that read an environment variable.
const ENV_READS: &[&str] = &[
    "process.env",
    "import.meta.env",
    "environ",
    "getenv",
    "Getenv",
    "LookupEnv",
    "env(",
    "ENV[",
    "Deno.env",
    "Bun.env",
    "env.get",
];

fn mentions_env_read(before: &[u8]) -> bool {
    let text = String::from_utf8_lossy(before);
    ENV_READS.iter().any(|w| text.contains(w))
}

fn is_fallback(kind: SourceKind, before: &[u8]) -> bool {
    let head = trim_value_start(before);
    if head.ends_with(b"??") || head.ends_with(b"||") {
        return true;
    }
    if head.ends_with(b" or") && mentions_env_read(head) {
        return true;
    }
    // `${X:-5432}`, `${X-5432}`, `${X:=5432}`, `${X=5432}`.
    let template = [b":-".as_slice(), b":=", b"-", b"="]
        .iter()
        .find_map(|op| head.strip_suffix(*op));
    if let Some(name_end) = template {
        let name_start = name_end
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(0, |i| i + 1);
        if name_start >= 2
            && name_end.get(name_start - 2..name_start) == Some(b"${".as_slice())
            && name_start < name_end.len()
        {
            return true;
        }
    }
    // `os.environ.get("X", "5432")`, `toInt(process.env.X, 5433)`,
    // `getenv("X", 5432)`.
    if head.ends_with(b",") && mentions_env_read(head) {
        return true;
    }
    // Shell: `PORT=${PORT:-5432}` is above; `: "${PORT:=5432}"` too.
    let _ = kind;
    false
}

/// Words of a key name that say its value is a port the program itself
/// does not connect to or publish on the host.
const CONTAINER_SIDE_WORDS: &[&str] = &["container", "target", "internal", "exposed"];

fn is_key(before: &[u8]) -> Option<String> {
    let head = trim_value_start(before);
    let (&op, rest) = head.split_last()?;
    let rest = match op {
        b':' | b'=' => rest,
        // `--port 5432`
        _ => {
            let key = key_before(head);
            let words = key_words(&key);
            return (key.starts_with("--") && words.iter().any(|w| w == "port")).then_some(key);
        }
    };
    let mut rest = rest;
    while let Some((&b, r)) = rest.split_last() {
        if matches!(b, b' ' | b'\t' | b'"' | b'\'') {
            rest = r;
        } else {
            break;
        }
    }
    let key = key_before(rest);
    let words = key_words(&key);
    let is_port = words.iter().any(|w| w == "port" || w == "ports")
        && !words
            .iter()
            .any(|w| CONTAINER_SIDE_WORDS.contains(&w.as_str()));
    is_port.then_some(key)
}

fn key_before(head: &[u8]) -> String {
    let start = head
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(head.get(start..).unwrap_or_default()).into_owned()
}

/// `DB_PORT` -> db, port; `httpPort` -> http, port; `db.port` -> db, port.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if matches!(c, '_' | '-' | '.') {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn is_loopback(host: &str) -> bool {
    host.is_empty()
        || host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "::1"
        || host == "0.0.0.0"
        || host == "::"
        || host == "host.docker.internal"
}

/// The finding for a hit, if any, and the port a stale literal moves to.
fn judge(
    file: &str,
    kind: SourceKind,
    literal_only: bool,
    hit: &Hit,
    line: &[u8],
    index: &SourceIndex,
) -> Option<(Finding, Option<u16>)> {
    let meaning = index.meanings.get(&hit.port)?;
    let side = match &hit.context {
        Context::Address { host } if is_loopback(host) => Side::Host,
        Context::Address { host } => match index.network.get(host) {
            Some(ports) if ports.contains(&hit.port) => return None,
            Some(_) => Side::Network(host.clone()),
            // Another machine's port is not the convention's.
            None => return None,
        },
        Context::Fallback | Context::Key { .. } => Side::Host,
    };
    // A `.env` file is the environment programs read: a convention
    // variable there is `env-drift`'s.
    let env_key = match (&hit.context, kind) {
        (Context::Key { key }, SourceKind::Env) => Some(key.as_str()),
        _ => None,
    };
    if env_key.is_some_and(|key| index.owners.iter().any(|o| o.env.as_deref() == Some(key))) {
        return None;
    }
    let line_text = String::from_utf8_lossy(line);
    let names_env = |o: &Owner| o.env.as_deref().is_some_and(|e| line_text.contains(e));
    let owner = |i: &usize| index.owners.get(*i);
    let assigned: Vec<&Owner> = meaning.assigned.iter().filter_map(owner).collect();
    let legacy: Vec<&Owner> = meaning.legacy.iter().filter_map(owner).collect();
    // A config file's `port:` equal to an owner's container port is most
    // likely that container's own configuration.
    let config = matches!(
        kind,
        SourceKind::Yaml | SourceKind::Json | SourceKind::Toml | SourceKind::Ini
    );
    if config
        && matches!(hit.context, Context::Key { .. })
        && assigned
            .iter()
            .chain(&legacy)
            .any(|o| o.container == Some(hit.port))
    {
        return None;
    }
    let location = Location::new(file, hit.line, hit.column);
    let is_address = matches!(hit.context, Context::Address { .. });
    let written = match &hit.context {
        Context::Address { host } if host.contains(':') => format!("[{host}]:{}", hit.port),
        Context::Address { host } if !host.is_empty() => format!("{host}:{}", hit.port),
        _ => hit.port.to_string(),
    };
    let network_note = |name: &str| {
        let ports: Vec<String> = index
            .network
            .get(name)
            .map(|p| p.iter().map(u16::to_string).collect())
            .unwrap_or_default();
        if ports.is_empty() {
            format!("; inside the compose network {name} publishes no known container port")
        } else {
            format!(
                "; inside the compose network, {name} listens on {}",
                ports.join(", ")
            )
        }
    };
    // Prefer the port whose variable the line reads.
    let legacy_named: Vec<&Owner> = legacy.iter().copied().filter(|o| names_env(o)).collect();
    let assigned_named = assigned.iter().any(|o| names_env(o));
    let use_legacy = !legacy.is_empty()
        && (assigned.is_empty() || (!legacy_named.is_empty() && !assigned_named));
    if use_legacy {
        let candidates = if legacy_named.is_empty() {
            legacy.clone()
        } else {
            legacy_named
        };
        let described: Vec<String> = candidates
            .iter()
            .map(|o| match &o.env {
                Some(env) => format!("{} (now {}, {env})", o.name(), o.port),
                None => format!("{} (now {})", o.name(), o.port),
            })
            .collect();
        let mut message = format!(
            "{written} still points at the legacy port of {}",
            described.join(" or ")
        );
        let unique = match candidates.as_slice() {
            [only] => Some(*only),
            _ => None,
        };
        match &side {
            Side::Network(name) => message.push_str(&network_note(name)),
            Side::Host => {
                if let Some(o) = unique {
                    message.push_str(&format!(": {}", o.how(is_address)));
                }
            }
        }
        let mut f = Finding::new(Rule::StalePort, message)
            .at(&location)
            .with_port(hit.port);
        let mut fix = None;
        if let Some(o) = unique {
            f = f.with_service(&o.service);
            if let Some(env) = &o.env {
                f = f.with_variable(env, Some(hit.port.to_string()));
            }
            match &side {
                Side::Host => {
                    f = f.with_suggestion(o.port);
                    fix = Some(o.port);
                }
                Side::Network(_) => {
                    if let Some(c) = o.container {
                        f = f.with_suggestion(c);
                    }
                }
            }
        }
        return Some((f, fix));
    }
    if !assigned.is_empty() {
        // Where the port cannot come from the environment, today's port is
        // how it should be written (see [`literal_is_the_way`]).
        if literal_only {
            return None;
        }
        let candidates: Vec<&Owner> = if assigned_named {
            assigned.iter().copied().filter(|o| names_env(o)).collect()
        } else {
            assigned
        };
        let described: Vec<String> = candidates.iter().map(|o| o.name()).collect();
        let mut message = format!(
            "{written} hardcodes the port the convention assigns to {}",
            described.join(" and ")
        );
        let unique = match candidates.as_slice() {
            [only] => Some(*only),
            _ => None,
        };
        match &side {
            Side::Network(name) => {
                message = format!(
                    "{written} is the host port of {}, but this address is inside the compose network{}",
                    described.join(" and "),
                    network_note(name).trim_start_matches("; inside the compose network")
                );
            }
            Side::Host => {
                if let Some(o) = unique {
                    message.push_str(&format!(": {}", o.how(is_address)));
                }
            }
        }
        let mut f = Finding::new(Rule::HardcodedPort, message)
            .at(&location)
            .with_port(hit.port);
        if let Some(o) = unique {
            f = f.with_service(&o.service);
            if let Some(env) = &o.env {
                f = f.with_variable(env, Some(hit.port.to_string()));
            }
            if let (Side::Network(_), Some(c)) = (&side, o.container) {
                f = f.with_suggestion(c);
            }
        }
        return Some((f, None));
    }
    let range = meaning.protected.as_ref()?;
    if !matches!(hit.context, Context::Address { .. }) {
        return None;
    }
    let message = format!(
        "{written} is inside protected range {range}, but the convention assigns {} to no service",
        hit.port
    );
    let mut f = Finding::new(Rule::UnregisteredPort, message)
        .at(&location)
        .with_port(hit.port);
    if let Side::Network(name) = &side {
        f.message.push_str(&network_note(name));
    }
    Some((f, None))
}

#[cfg(test)]
mod tests;

//! Rendering findings for people and machines: the human text with source
//! lines and carets, and the versioned JSON contract (`docs/json-output.md`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::{Finding, Severity};

pub mod migrate;
pub mod scan;

/// Whether `c` must not reach a terminal or a CI log as is: C0 controls
/// (CR, LF, ESC ...), DEL, C1 controls, the line and paragraph separators and
/// the bidirectional formatting characters (which reorder what is shown).
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// Makes an untrusted string (a service name, a file name, a reason quoting
/// a file) safe to print in text output: every character of
/// [`is_unsafe_char`] is shown visibly as `\u{1b}`, and a value that would
/// start with `::` (a GitHub Actions workflow command, which the runner
/// also recognises after leading spaces) starts with `\u{3a}:` instead.
/// Plain text is returned unchanged.
///
/// ```
/// use port_convention::report::escape_text;
/// assert_eq!(escape_text("db"), "db");
/// assert_eq!(escape_text("x\n::add-mask::y"), "x\\u{a}::add-mask::y");
/// assert_eq!(escape_text("\u{1b}]0;t\u{7}"), "\\u{1b}]0;t\\u{7}");
/// assert_eq!(escape_text("::stop-commands::z"), "\\u{3a}:stop-commands::z");
/// ```
pub fn escape_text(text: &str) -> String {
    escape_with(text, |_| false)
}

/// [`escape_text`] that keeps tabs (source lines, where a tab is indentation).
pub fn escape_source_line(text: &str) -> String {
    escape_with(text, |c| c == '\t')
}

fn escape_with(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) && !keep(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    if out.trim_start().starts_with("::") {
        let at = out.len() - out.trim_start().len();
        out.replace_range(at..=at, "\\u{3a}");
    }
    out
}

/// Counts over a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// Files read (compose files, `.env` files and the convention).
    pub files: usize,
    /// Compose services seen.
    pub services: usize,
    /// Port mappings seen.
    pub mappings: usize,
    /// Compose projects resolved.
    pub projects: usize,
    /// Findings of severity error.
    pub errors: usize,
    /// Findings of severity warning.
    pub warnings: usize,
    /// Source and configuration files scanned for port literals.
    #[serde(skip_serializing_if = "is_zero")]
    pub source_files: usize,
    /// Findings silenced by `port-convention: ignore[rule]` comments.
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The version of the `check --format json` contract (`docs/json-output.md`).
/// 2: findings name their compose project and host; `duplicate-host-port`
/// only within a project or a host; `projects` lists the projects.
pub const JSON_VERSION: u32 = 2;

/// A compose project as the JSON contract lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProjectRef {
    /// The id findings name it by.
    pub id: String,
    /// Compose's project name.
    pub name: String,
    /// `default`, `file` or `declared`.
    pub kind: crate::project::ProjectKind,
    /// The compose files, in merge order.
    pub files: Vec<String>,
    /// The active profiles.
    pub profiles: Vec<String>,
    /// The hosts it runs on (from the convention).
    pub hosts: Vec<String>,
}

/// The result of a check: the JSON contract, version [`JSON_VERSION`].
///
/// ```
/// use port_convention::report::Report;
/// let report = Report::new(Vec::new(), Default::default());
/// assert_eq!(report.to_json(), r#"{"version":2,"findings":[],"summary":{"files":0,"services":0,"mappings":0,"projects":0,"errors":0,"warnings":0}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// The version of this JSON shape; changes only when a field changes meaning.
    pub version: u32,
    /// Every finding, sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
    /// The compose projects the findings name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<ProjectRef>,
}

impl Report {
    /// A report over `findings`; `summary`'s error and warning counts are
    /// recomputed from them and the findings are sorted.
    pub fn new(mut findings: Vec<Finding>, mut summary: Summary) -> Self {
        sort_findings(&mut findings);
        summary.errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        summary.warnings = findings.len() - summary.errors;
        Report {
            version: JSON_VERSION,
            findings,
            summary,
            projects: Vec::new(),
        }
    }

    /// The same report listing `projects` (and counting them).
    pub fn with_projects(mut self, projects: &[crate::project::Project]) -> Self {
        self.projects = projects
            .iter()
            .map(|p| ProjectRef {
                id: p.id.clone(),
                name: p.name.clone(),
                kind: p.kind,
                files: p.files.clone(),
                profiles: p.profiles.clone(),
                hosts: p.hosts.clone(),
            })
            .collect();
        self.summary.projects = projects.len();
        self
    }

    /// Whether any finding is an error (the check fails).
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// The JSON text (one line).
    pub fn to_json(&self) -> String {
        // Serializing plain data into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The JSON Schema of [`Report`] (the `check --format json` contract, and
/// what `check()` of the bindings returns), as the core's types serialize:
/// the bindings' hand-written types are tested against it.
pub fn report_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    serde_json::to_value(generator.into_root_schema_for::<Report>()).unwrap_or_default()
}

/// Sorts findings by file, line, column, rule id and message: the order of
/// every output format.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.file(), a.line(), a.column(), a.rule.id(), &a.message).cmp(&(
            b.file(),
            b.line(),
            b.column(),
            b.rule.id(),
            &b.message,
        ))
    });
}

pub(crate) fn suggestion_text(suggestion: &crate::Suggestion) -> String {
    match &suggestion.host_ip {
        Some(ip) => format!("publish on {ip}:{}", suggestion.port),
        None => format!("use port {}", suggestion.port),
    }
}

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// Plain text.
    Never,
    /// ANSI escapes.
    Always,
}

impl Color {
    /// `text` in `style` (with [`Color::Always`]), or as is.
    pub fn paint(self, style: anstyle::Style, text: &str) -> String {
        match self {
            Color::Never => text.to_owned(),
            Color::Always => format!("{}{text}{}", style.render(), style.render_reset()),
        }
    }
}

/// The styles of every rendering (`anstyle`: no ANSI code is written by
/// hand).
pub mod style {
    use anstyle::{AnsiColor, Style};

    /// A file name heading.
    pub const FILE: Style = Style::new().bold();
    /// `error`.
    pub const ERROR: Style = Style::new()
        .bold()
        .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
    /// `warning`.
    pub const WARNING: Style = Style::new()
        .bold()
        .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
    /// A rule id or a code.
    pub const CODE: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
    /// `suggestion:`; an added diff line.
    pub const GOOD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
    /// A removed diff line.
    pub const BAD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
    /// A diff's file headers.
    pub const HEADER: Style = Style::new().bold();
    /// A diff's hunk headers.
    pub const HUNK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
}

/// Line `line` (1-based) of `text`, without its line break, looked up in
/// `index` (the line starts of each file, computed once per file: a file
/// with many findings costs O(n log n), not O(n²)).
fn source_line<'t>(
    index: &mut BTreeMap<String, Vec<usize>>,
    file: &str,
    text: &'t str,
    line: u32,
) -> Option<&'t str> {
    let starts = index.entry(file.to_owned()).or_insert_with(|| {
        std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    });
    let row = (line as usize).checked_sub(1)?;
    let start = *starts.get(row)?;
    let end = starts.get(row + 1).map_or(text.len(), |next| next - 1);
    // `str::lines` has no empty last line after a final newline.
    if start == text.len() && row > 0 {
        return None;
    }
    text.get(start..end)
}

/// A finding's source line with a caret under its column, rendered by
/// `annotate-snippets` (rustc's renderer): the line is escaped first (a
/// compose file may hold terminal escapes), the column counted in the
/// escaped text; indented by two spaces under the finding, without the
/// renderer's empty first gutter line.
fn render_snippet(
    source_line: &str,
    line: u32,
    column: Option<u32>,
    severity: Severity,
    color: Color,
) -> String {
    use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
    let escaped = escape_source_line(source_line);
    let mut snippet = Snippet::source(escaped.as_str())
        .line_start(line as usize)
        .fold(false);
    if let Some(column) = column {
        // Characters before the column, as they are shown (an escaped
        // character takes the width of its escape).
        let start: usize = source_line
            .chars()
            .take(column.saturating_sub(1) as usize)
            .map(|c| {
                if c != '\t' && is_unsafe_char(c) {
                    escape_text(&c.to_string()).len()
                } else {
                    c.len_utf8()
                }
            })
            .sum::<usize>()
            .min(escaped.len());
        let end = escaped
            .get(start..)
            .and_then(|rest| rest.chars().next())
            .map_or(start, |c| start + c.len_utf8());
        snippet = snippet.annotation(AnnotationKind::Primary.span(start..end));
    }
    let level = match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let renderer = match color {
        Color::Always => Renderer::styled(),
        Color::Never => Renderer::plain(),
    };
    let rendered = renderer.render(&[Group::with_level(level).element(snippet)]);
    let mut lines: Vec<&str> = rendered.lines().skip(1).map(str::trim_end).collect();
    // The renderer closes a snippet without an annotation with an empty
    // gutter line; the first line is its empty opening one.
    if lines
        .last()
        .is_some_and(|l| l.trim_start().trim_start_matches('|').is_empty() && l.contains('|'))
        && column.is_none()
    {
        lines.pop();
    }
    let mut out = String::new();
    for text in lines {
        out.push_str("  ");
        out.push_str(text);
        out.push('\n');
    }
    out
}

/// The human format: findings grouped by file, each with its source line and
/// a caret under the column, then a summary line. `sources` maps a finding's
/// file to its text (files missing from it are shown without source lines).
pub fn render_human(report: &Report, sources: &BTreeMap<String, String>, color: Color) -> String {
    let mut line_index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut out = String::new();
    let mut current_file: Option<&str> = None;
    for finding in &report.findings {
        let file = finding.file();
        if file != current_file {
            if current_file.is_some() || !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "{}",
                color.paint(style::FILE, &escape_text(file.unwrap_or("(environment)")))
            );
            current_file = file;
        }
        let severity = match finding.severity {
            Severity::Error => color.paint(style::ERROR, "error"),
            Severity::Warning => color.paint(style::WARNING, "warning"),
        };
        let position = match (finding.line(), finding.column()) {
            (Some(l), Some(c)) => format!("{l}:{c}: "),
            (Some(l), None) => format!("{l}: "),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {position}{severity}[{}]: {}",
            color.paint(style::CODE, finding.rule.id()),
            escape_text(&finding.message)
        );
        if let (Some(file), Some(line)) = (file, finding.line())
            && let Some(text) = sources.get(file)
            && let Some(source_line) = source_line(&mut line_index, file, text, line)
        {
            let source_line = source_line.trim_end_matches('\r');
            out.push_str(&render_snippet(
                source_line,
                line,
                finding.column(),
                finding.severity,
                color,
            ));
        }
        for related in &finding.related {
            let service = related
                .service
                .as_ref()
                .map(|s| format!(" ({})", escape_text(s)))
                .unwrap_or_default();
            let project = match &related.project {
                Some(p) if Some(p) != finding.project.as_ref() => {
                    format!(" in project {}", escape_text(p))
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "    also: {}:{}:{}{service}{project}",
                escape_text(&related.location.file),
                related.location.line,
                related.location.column
            );
        }
        if let Some(project) = &finding.project {
            let host = finding
                .host
                .as_ref()
                .map(|h| format!(", on host {}", escape_text(h)))
                .unwrap_or_default();
            // The project's files (relative to its directory) and profiles.
            let detail = report
                .projects
                .iter()
                .find(|p| p.id == *project)
                .map(|p| {
                    let mut d = format!(" ({}", p.files.join(" + "));
                    if !p.profiles.is_empty() {
                        d.push_str(&format!(", profiles {}", p.profiles.join(",")));
                    }
                    d.push(')');
                    d
                })
                .filter(|d| d != &format!(" ({project})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    project: {}{}{host}",
                escape_text(project),
                escape_text(&detail)
            );
        }
        if let Some(suggestion) = &finding.suggestion {
            let _ = writeln!(
                out,
                "    {} {}",
                color.paint(style::GOOD, "suggestion:"),
                escape_text(&suggestion_text(suggestion))
            );
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let s = &report.summary;
    let _ = write!(
        out,
        "{} error(s), {} warning(s) in {} file(s), {} project(s), {} service(s), {} port mapping(s)",
        s.errors, s.warnings, s.files, s.projects, s.services, s.mappings
    );
    if s.source_files > 0 {
        let _ = write!(out, ", {} source file(s)", s.source_files);
    }
    if s.suppressed > 0 {
        let _ = write!(out, ", {} suppressed", s.suppressed);
    }
    out.push('\n');
    out
}

/// The SARIF 2.1.0 log of a report, for code-scanning dashboards.
///
/// ```
/// use port_convention::report::{Report, render_sarif};
/// let sarif = render_sarif(&Report::new(Vec::new(), Default::default()));
/// assert_eq!(sarif["version"], "2.1.0");
/// ```
pub fn render_sarif(report: &Report) -> serde_json::Value {
    use serde_json::json;
    let rules: Vec<serde_json::Value> = crate::Rule::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id(),
                "name": rule.id(),
                "shortDescription": { "text": rule.summary() },
                "fullDescription": { "text": rule.explanation() },
                "help": {
                    "text": format!("{}\n\nExample (breaks the rule):\n{}", rule.fix(), rule.example()),
                    "markdown": format!(
                        "{}\n\nExample (breaks the rule):\n\n```{}\n{}\n```",
                        rule.fix(),
                        rule.example_language(),
                        rule.example()
                    ),
                },
                "helpUri": rule.help_uri(),
                "defaultConfiguration": { "level": sarif_level(rule.severity()) },
                "properties": {
                    "subject": rule.subject().as_str(),
                    "since": rule.since(),
                    "tags": [rule.subject().as_str()],
                },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule.id(),
                "ruleIndex": crate::Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": sarif_level(f.severity),
                "message": { "text": f.message },
            });
            if let Some(file) = f.file() {
                result["locations"] = json!([physical_location(file, f.line(), f.column())]);
            }
            if !f.related.is_empty() {
                let related: Vec<serde_json::Value> = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut loc = physical_location(
                            &r.location.file,
                            Some(r.location.line),
                            Some(r.location.column),
                        );
                        loc["id"] = json!(i);
                        if let Some(service) = &r.service {
                            loc["message"] = json!({ "text": format!("service {service}") });
                        }
                        loc
                    })
                    .collect();
                result["relatedLocations"] = json!(related);
            }
            let mut properties = serde_json::Map::new();
            if let Some(service) = &f.service {
                properties.insert("service".into(), json!(service));
            }
            if let Some(port) = f.port {
                properties.insert("port".into(), json!(port));
            }
            if let Some(s) = &f.suggestion {
                properties.insert("suggestion".into(), json!(s));
            }
            if let Some(project) = &f.project {
                properties.insert("project".into(), json!(project));
            }
            if let Some(host) = &f.host {
                properties.insert("host".into(), json!(host));
            }
            if !properties.is_empty() {
                result["properties"] = serde_json::Value::Object(properties);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "port-convention",
                "version": crate::TOOL_VERSION,
                "informationUri": "https://github.com/port-convention/port-convention",
                "rules": rules,
            }},
            "originalUriBaseIds": { "SRCROOT": { "description": { "text": "the repository root (git top level, else the working directory)" } } },
            "results": results,
        }],
    })
}

fn physical_location(file: &str, line: Option<u32>, column: Option<u32>) -> serde_json::Value {
    let mut physical = serde_json::json!({ "artifactLocation": artifact_location(file) });
    if let Some(line) = line.filter(|l| *l > 0) {
        let mut region = serde_json::json!({ "startLine": line });
        if let Some(column) = column.filter(|c| *c > 0) {
            region["startColumn"] = serde_json::json!(column);
        }
        physical["region"] = region;
    }
    serde_json::json!({ "physicalLocation": physical })
}

/// A file name as a SARIF `artifactLocation`: a relative name becomes a
/// percent-encoded relative reference against `SRCROOT`, an absolute one a
/// `file://` URI without `uriBaseId` (SARIF 2.1.0 §3.4.3, §3.4.4).
fn artifact_location(file: &str) -> serde_json::Value {
    let path = percent_encode_path(file);
    if file.starts_with('/') {
        serde_json::json!({ "uri": format!("file://{path}") })
    } else {
        serde_json::json!({ "uri": path, "uriBaseId": "SRCROOT" })
    }
}

/// Percent-encodes (RFC 3986 §2.1) every byte of `path` except unreserved
/// characters and `/`: spaces, `%`, `#`, `?` and `:` (which in a relative
/// reference's first segment would read as a scheme) stay in the path.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One sentence per rule, for SARIF and the docs: [`crate::Rule::summary`].
pub fn rule_description(rule: crate::Rule) -> &'static str {
    rule.summary()
}

/// `docs/rules.md`: an index of every rule, then one section per rule
/// (anchor `#` + its id, as [`crate::Rule::help_uri`] links) with its
/// severity, subject, version, explanation, fix and a bad example.
pub fn render_rules_markdown() -> String {
    use crate::Rule;
    let mut out = String::from(
        "# Rules\n\n\
         <!-- Generated from the `rules!` declarations in port-convention/src/finding.rs:\n     \
         UPDATE_DOCS=1 cargo test -p port-convention --test docs_rules -->\n\n\
         Every finding names one of these rules. Ids are stable: once released, an id never\n\
         changes meaning (new rules may be added). Error findings make `check` exit 1.\n\
         `port-convention explain RULE` prints a rule's section.\n\n\
         | id | severity | subject | summary |\n|---|---|---|---|\n",
    );
    for rule in Rule::ALL {
        let _ = writeln!(
            out,
            "| [`{id}`](#{id}) | {} | {} | {} |",
            rule.severity(),
            rule.subject(),
            rule.summary().replace('|', "\\|"),
            id = rule.id(),
        );
    }
    for rule in Rule::ALL {
        let _ = write!(
            out,
            "\n## {id}\n\n{summary}\n\n\
             Severity: {severity}. Subject: {subject}. Since: {since}.\n\n\
             **Why it matters.** {explanation}\n\n\
             **How to fix it.** {fix}\n\n\
             **Example** (breaks the rule):\n\n```{lang}\n{example}\n```\n",
            id = rule.id(),
            summary = rule.summary(),
            severity = rule.severity(),
            subject = rule.subject(),
            since = rule.since(),
            explanation = rule.explanation(),
            fix = rule.fix(),
            lang = rule.example_language(),
            example = rule.example(),
        );
    }
    out
}

/// A rule's documentation as plain text, for `port-convention explain`.
///
/// ```
/// use port_convention::{Rule, report::render_rule_text};
/// let text = render_rule_text(Rule::Drift);
/// assert!(text.starts_with("drift: A declared service publishes"));
/// assert!(text.contains("severity: error"));
/// ```
pub fn render_rule_text(rule: crate::Rule) -> String {
    let indent = |text: &str| -> String {
        text.lines()
            .map(|line| format!("    {line}\n"))
            .collect::<String>()
    };
    format!(
        "{id}: {summary}\n\n\
         severity: {severity}\n\
         subject:  {subject}\n\
         since:    {since}\n\
         docs:     {uri}\n\n\
         Why it matters:\n{explanation}\n\
         How to fix it:\n{fix}\n\
         Example (breaks the rule):\n{example}",
        id = rule.id(),
        summary = rule.summary(),
        severity = rule.severity(),
        subject = rule.subject(),
        since = rule.since(),
        uri = rule.help_uri(),
        explanation = indent(&wrap(rule.explanation(), 76)),
        fix = indent(&wrap(rule.fix(), 76)),
        example = indent(rule.example()),
    )
}

/// Greedy word wrap at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}

/// GitHub Actions workflow commands (`::error file=…,line=…::message`), one
/// per finding, escaped as the Actions runner expects.
///
/// ```
/// use port_convention::report::escape_github_property;
/// assert_eq!(escape_github_property("a:b,c"), "a%3Ab%2Cc");
/// ```
pub fn render_github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(file) = f.file() {
            properties.push(format!("file={}", escape_github_property(file)));
            if let Some(line) = f.line() {
                properties.push(format!("line={line}"));
                if let Some(col) = f.column() {
                    properties.push(format!("col={col}"));
                }
            }
        }
        // The title names the project (and host): the annotation sits on a
        // file that may belong to several.
        let mut title = format!("port-convention {}", f.rule.id());
        if let Some(project) = &f.project {
            title.push_str(&format!(" (project {project}"));
            if let Some(host) = &f.host {
                title.push_str(&format!(", host {host}"));
            }
            title.push(')');
        }
        properties.push(format!("title={}", escape_github_property(&title)));
        let mut message = f.message.clone();
        if let Some(s) = &f.suggestion {
            message.push_str(&format!(" (suggestion: {})", suggestion_text(s)));
        }
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_github_data(&message)
        );
    }
    out
}

/// Escapes a workflow command's message: `%`, CR and LF as the runner
/// expects (`%25`, `%0D`, `%0A`), and every other character of
/// [`is_unsafe_char`] (ESC, bidi overrides ...) visibly, as `\u{1b}`.
///
/// ```
/// use port_convention::report::escape_github_data;
/// assert_eq!(escape_github_data("a\n\u{1b}[2J"), "a%0A\\u{1b}[2J");
/// ```
pub fn escape_github_data(text: &str) -> String {
    let mut visible = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) && c != '\r' && c != '\n' {
            let _ = write!(visible, "\\u{{{:x}}}", u32::from(c));
        } else {
            visible.push(c);
        }
    }
    visible
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (`%`, CR, LF, `:`, `,`).
pub fn escape_github_property(text: &str) -> String {
    escape_github_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Aligned columns: a header row and the rows, two spaces between columns,
/// no trailing blanks. Cells are printed as given (escape them first).
///
/// ```
/// let text = port_convention::report::render_table(&["A", "BB"], &[["x", "y"], ["long", "z"]]);
/// assert_eq!(text, "A     BB\nx     y\nlong  z\n");
/// ```
pub fn render_table<R: AsRef<[C]>, C: AsRef<str>>(header: &[&str], rows: &[R]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(cell.as_ref().chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.as_ref().iter().map(AsRef::as_ref).collect());
    }
    out
}

/// The projects of a scan for people: one block per project (kind, files,
/// profiles, hosts, services with their published ports), then fragments
/// and what discovery skipped.
pub fn render_projects(scan: &crate::check::Scan) -> String {
    let mut out = String::new();
    for p in &scan.projects.projects {
        let kind = match p.kind {
            crate::project::ProjectKind::Default => "default project",
            crate::project::ProjectKind::File => "file project",
            crate::project::ProjectKind::Declared => "declared project",
        };
        let _ = writeln!(
            out,
            "{} ({kind}, name {})",
            escape_text(&p.id),
            escape_text(&p.name)
        );
        let _ = writeln!(out, "  files: {}", escape_text(&p.files.join(", ")));
        if !p.profiles.is_empty() {
            let _ = writeln!(out, "  profiles: {}", escape_text(&p.profiles.join(", ")));
        }
        if !p.env_files.is_empty() {
            let _ = writeln!(out, "  env files: {}", escape_text(&p.env_files.join(", ")));
        }
        if !p.hosts.is_empty() {
            let _ = writeln!(out, "  hosts: {}", escape_text(&p.hosts.join(", ")));
        }
        if let Some(err) = &p.error {
            let _ = writeln!(out, "  error[{}]: {}", err.code, escape_text(&err.message));
        }
        for s in &p.services {
            let ports: Vec<String> = s
                .claims
                .iter()
                .filter(|c| c.host_range().is_some())
                .map(|c| {
                    let what = match (c.run, c.host_range()) {
                        (run, Some(host)) if run > 1 => format!(
                            "{host}:{}-{}/{} ({run} ports)",
                            c.mapping.target,
                            u32::from(c.mapping.target) + run - 1,
                            c.mapping.protocol
                        ),
                        _ => c.mapping.to_string(),
                    };
                    format!(
                        "{what} ({}:{})",
                        escape_text(&c.location.file),
                        c.location.line
                    )
                })
                .collect();
            let state = if s.active { "" } else { " [inactive profile]" };
            let _ = writeln!(
                out,
                "  {}{state}: {}",
                escape_text(&s.name),
                if ports.is_empty() {
                    "no published ports".to_owned()
                } else {
                    ports.join(", ")
                }
            );
        }
    }
    for f in &scan.projects.fragments {
        let _ = writeln!(
            out,
            "{} (fragment): {}",
            escape_text(&f.file),
            escape_text(&f.reason)
        );
    }
    for n in &scan.notes {
        let _ = writeln!(
            out,
            "{} ({}): {}",
            escape_text(&n.path),
            n.kind,
            escape_text(&n.reason)
        );
    }
    let _ = writeln!(
        out,
        "{} project(s), {} fragment(s)",
        scan.projects.projects.len(),
        scan.projects.fragments.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_put_the_caret_under_the_column_of_the_escaped_line() {
        let out = render_snippet("\u{1b}x: 1", 12, Some(2), Severity::Error, Color::Never);
        assert_eq!(out, "  12 | \\u{1b}x: 1\n     |       ^\n");
        let out = render_snippet("a: 1", 3, None, Severity::Warning, Color::Never);
        assert_eq!(out, "  3 | a: 1\n");
        // A column past the end of the line still renders.
        let out = render_snippet("a", 1, Some(9), Severity::Error, Color::Never);
        assert!(out.starts_with("  1 | a\n"), "{out}");
    }
    use crate::{Finding, Rule};

    #[test]
    fn human_output_survives_lines_that_do_not_exist() {
        let zero = Finding::new(Rule::Drift, "line zero").at(&crate::Location::new("f.yml", 0, 3));
        let past = zero.clone().at(&crate::Location::new("f.yml", 99, 3));
        let report = Report::new(vec![zero, past], Summary::default());
        let sources = BTreeMap::from([("f.yml".to_string(), "a: 1\n".to_string())]);
        let text = render_human(&report, &sources, Color::Never);
        assert!(text.contains("line zero"));
        assert!(!text.contains(" | "), "no source line is shown: {text}");
    }
}

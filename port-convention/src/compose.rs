//! Reading one compose file: its services and every port they publish, with
//! where each number came from.
//!
//! Pure: the caller gives the file's text and its interpolation variables
//! (process environment over the project's `.env`, as Docker Compose does).

use std::ops::Range;

use serde::Serialize;

use crate::interpolation::{Interpolated, Operator, interpolate};
use crate::port_spec::{Scalar, parse_long_syntax, parse_port_number};
use crate::yaml::{self, Node, NodeKind};
use crate::{Error, Finding, Location, PortMapping, Rule};

/// Where the host port of a mapping came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PortSource {
    /// Written as a number in the compose file.
    Literal,
    /// The value of an interpolation variable (from the environment or `.env`).
    Variable {
        /// The variable.
        name: String,
    },
    /// The default of a template such as `${VAR:-5433}`, the variable being unset.
    TemplateDefault {
        /// The variable.
        name: String,
    },
}

/// One published port mapping of a compose service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// Where the port entry is (or its `published:` in long syntax): the
    /// compose file relative to the scanned root, 1-based line and column.
    #[serde(flatten)]
    pub location: Location,
    /// The compose service.
    pub service: String,
    /// The mapping, after interpolation.
    pub mapping: PortMapping,
    /// Where the host port came from.
    pub source: PortSource,
    /// The entry as written (before interpolation).
    pub raw: String,
    /// Byte range of the entry's scalar in the file, quotes included.
    #[serde(skip)]
    pub span: Range<usize>,
    /// Whether the entry is reached through a YAML alias or merge key.
    #[serde(skip)]
    pub via_alias: bool,
    /// Whether the entry is long syntax with `published` written as a YAML
    /// integer: compose's de-duplication keys those apart from every other
    /// spelling (see `project::dedupe_ports`).
    #[serde(skip)]
    pub published_is_int: bool,
    /// How many consecutive mappings this claim stands for: a long range
    /// such as `"1-65535:1-65535"` is kept as one claim whose host and
    /// container ports both count up from `mapping` ([`RUN_THRESHOLD`]),
    /// so that no input makes one claim per port.
    pub run: u32,
}

/// Ranges of more mappings than this are kept as one claim with a
/// [`Claim::run`]; shorter ones are one claim per port, as compose lists them.
pub const RUN_THRESHOLD: usize = 64;

impl Claim {
    /// The host ports the claim occupies, if it publishes any (a run covers
    /// `run` consecutive ports).
    pub fn host_range(&self) -> Option<crate::PortRange> {
        let range = self.mapping.published.range()?;
        if self.run <= 1 {
            return Some(range);
        }
        let end = u32::from(range.start()) + self.run - 1;
        crate::PortRange::new(range.start(), u16::try_from(end).unwrap_or(u16::MAX)).ok()
    }

    /// The mappings the claim stands for, one per port of a run.
    pub fn mappings(&self) -> impl Iterator<Item = PortMapping> + '_ {
        (0..self.run.max(1)).map(move |i| {
            let mut m = self.mapping.clone();
            let step = u16::try_from(i).unwrap_or(u16::MAX);
            m.target = m.target.saturating_add(step);
            if let crate::Published::Port(p) = m.published {
                m.published = crate::Published::Port(p.saturating_add(step));
            }
            m
        })
    }
}

/// A compose file read for ports.
#[derive(Debug, Clone, Default)]
pub struct ComposeFile {
    /// The file, relative to the scanned root.
    pub file: String,
    /// Service names with the place of their key.
    pub services: Vec<(String, Location)>,
    /// Every port mapping, published or not, in file order.
    pub claims: Vec<Claim>,
    /// Problems found while reading (invalid specs, interpolation errors ...).
    pub findings: Vec<Finding>,
    /// For each service of the first YAML document: its claims and findings
    /// as ranges of `claims` and `findings` (so that a project loading the
    /// file with the same variables reuses them).
    pub(crate) per_service: Vec<(Range<usize>, Range<usize>)>,
}

/// What reading a YAML file as compose gave.
#[derive(Debug, Clone)]
pub enum ComposeRead {
    /// A compose file.
    Compose(ComposeFile),
    /// YAML without a `services` mapping (Kong, Prometheus ...): not ours.
    NotCompose,
}

/// One compose file, parsed but not interpolated: what projects are built
/// from. Interpolation happens per project, since the same file can be
/// loaded with different variables (an `include` with its own `env_file`, a
/// project the convention declares with other env files).
#[derive(Debug, Clone, Default)]
pub struct ComposeDoc {
    /// The file, relative to the scanned root.
    pub file: String,
    /// Service names with the place of their key.
    pub services: Vec<(String, Location)>,
    /// Problems of the file as a whole (not YAML, a service that is not a
    /// mapping ...).
    pub findings: Vec<Finding>,
    /// Whether the file could not be parsed at all.
    pub broken: bool,
    /// The kept part of each service, in the order of `services`.
    pub(crate) nodes: Vec<Option<Node>>,
    /// `include`, as written.
    pub(crate) include: Option<Node>,
    /// `name`, as written.
    pub(crate) name: Option<Node>,
    /// The file's further YAML documents (after `---`), merged after this
    /// one as compose does.
    pub(crate) more: Vec<ComposeDoc>,
}

/// What parsing a YAML file as compose gave.
#[derive(Debug, Clone)]
pub enum ComposeParse {
    /// A compose file.
    Compose(Box<ComposeDoc>),
    /// YAML that is not a compose file (no `services` mapping).
    NotCompose,
}

/// How a service key's value was tagged in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergeTag {
    /// No tag: merged with what earlier files said (sequences appended).
    Merge,
    /// `!reset`: what earlier files said is dropped, and so is this value.
    Reset,
    /// `!override`: what earlier files said is replaced by this value.
    Override,
}

impl ComposeDoc {
    /// A service's kept key (`ports`, `image`, `build`, `extends`, `profiles`).
    pub(crate) fn service_key(&self, index: usize, key: &str) -> Option<&Node> {
        self.nodes.get(index)?.as_ref()?.get(key)
    }

    /// How a service's key is tagged.
    pub(crate) fn merge_tag(&self, index: usize, key: &str) -> MergeTag {
        match self.service_key(index, key).and_then(|n| n.tag.as_deref()) {
            Some("!reset") => MergeTag::Reset,
            Some("!override") => MergeTag::Override,
            _ => MergeTag::Merge,
        }
    }

    /// Whether a service sets `image` or `build` (not null).
    pub(crate) fn has_image_or_build(&self, index: usize) -> bool {
        ["image", "build"].iter().any(|key| {
            self.service_key(index, key).is_some_and(|n| {
                !matches!(n.kind, NodeKind::Null) && n.tag.as_deref() != Some("!reset")
            })
        })
    }

    /// The index of a service by name.
    pub(crate) fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|(n, _)| n == name)
    }

    /// Reads the ports of service `index` with `lookup` answering
    /// interpolation variables; claims and findings are appended.
    pub(crate) fn service_claims(
        &self,
        text: &str,
        index: usize,
        lookup: &dyn Fn(&str) -> Option<String>,
        out: &mut ComposeFile,
    ) {
        let Some((name, _)) = self.services.get(index) else {
            return;
        };
        let Some(ports) = self.service_key(index, "ports") else {
            return;
        };
        if self.merge_tag(index, "ports") == MergeTag::Reset {
            return;
        }
        match &ports.kind {
            NodeKind::Seq(items) => {
                for item in items {
                    read_entry(&self.file, text, name, item, lookup, out);
                }
            }
            NodeKind::Null => {}
            _ => out.findings.push(
                Finding::new(
                    Rule::InvalidPortSpec,
                    format!(
                        "ports of service {name} must be a list, found {}",
                        ports.kind_name()
                    ),
                )
                .at(&ports.place.location(&self.file))
                .with_service(name),
            ),
        }
    }

    /// Reads every service's ports, as [`read_compose`] does.
    pub fn read(&self, text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> ComposeFile {
        let mut out = ComposeFile {
            file: self.file.clone(),
            services: self.services.clone(),
            findings: self.findings.clone(),
            ..ComposeFile::default()
        };
        for document in std::iter::once(self).chain(&self.more) {
            let first = std::ptr::eq(document, self);
            for index in 0..document.services.len() {
                let (claims, findings) = (out.claims.len(), out.findings.len());
                document.service_claims(text, index, lookup, &mut out);
                if first {
                    out.per_service
                        .push((claims..out.claims.len(), findings..out.findings.len()));
                }
            }
            if !std::ptr::eq(document, self) {
                out.services.extend(document.services.iter().cloned());
                out.findings.extend(document.findings.iter().cloned());
            }
        }
        out
    }
}

/// Parses a compose file without interpolating it.
///
/// Malformed YAML and a service that is not a mapping are reported as
/// `invalid-compose-file` findings (a file named like a compose file is
/// expected to be one); a YAML file without a `services` mapping is
/// [`ComposeParse::NotCompose`].
pub fn parse_compose(file: &str, text: &str) -> ComposeParse {
    let tops = match yaml::parse_compose(file, text) {
        Ok(tops) => tops,
        Err(err) => {
            let location = err
                .location()
                .cloned()
                .unwrap_or_else(|| Location::new(file, 0, 0));
            let message = match &err {
                Error::YamlSyntax { .. } => format!("not valid YAML: {}", err.detail()),
                other => other.detail(),
            };
            return ComposeParse::Compose(Box::new(ComposeDoc {
                file: file.to_owned(),
                findings: vec![Finding::new(Rule::InvalidComposeFile, message).at(&location)],
                broken: true,
                ..ComposeDoc::default()
            }));
        }
    };
    let mut documents = tops.into_iter().filter_map(|top| document(file, top));
    let Some(mut first) = documents.next() else {
        return ComposeParse::NotCompose;
    };
    first.more = documents.collect();
    ComposeParse::Compose(Box::new(first))
}

/// One YAML document as compose: `None` when it has no `services` mapping
/// (and no `include`).
fn document(file: &str, top: yaml::ComposeTop) -> Option<ComposeDoc> {
    let mut out = ComposeDoc {
        file: file.to_owned(),
        include: top.include,
        name: top.name,
        ..ComposeDoc::default()
    };
    let Some(services) = top.services else {
        // An `include`-only file is a compose file too.
        return out.include.is_some().then_some(out);
    };
    let entries = match services.kind {
        NodeKind::Map(entries) => entries,
        // Kong's declarative config has a `services` list: not a compose file.
        NodeKind::Null => return Some(out),
        _ => return None,
    };
    for (key, service) in entries {
        let name = key.scalar_text().unwrap_or_default();
        let key_location = key.place.location(file);
        out.services.push((name.clone(), key_location.clone()));
        if service.as_map().is_none() && !matches!(service.kind, NodeKind::Null) {
            out.nodes.push(None);
            // One finding per file: a commented-out service key turns all of
            // its settings into bogus "services", and compose rejects the file.
            if out
                .findings
                .iter()
                .any(|f| f.rule == Rule::InvalidComposeFile)
            {
                continue;
            }
            out.findings.push(
                Finding::new(
                    Rule::InvalidComposeFile,
                    format!(
                        "service {name:?} must be a mapping, found {} (is a service key commented out above it?)",
                        service.kind_name()
                    ),
                )
                .at(&key_location)
                .with_service(&name),
            );
            continue;
        }
        out.nodes.push(Some(service));
    }
    Some(out)
}

/// Reads a compose file. `lookup` answers interpolation variables.
///
/// Malformed YAML and a `services` key that is not a mapping are reported as
/// `invalid-compose-file` findings (a file named like a compose file is
/// expected to be one); a YAML file without `services` is [`ComposeRead::NotCompose`].
///
/// ```
/// use port_convention::compose::{read_compose, ComposeRead};
/// let text = "services:\n  db:\n    ports:\n      - \"${DB_PORT:-5433}:5432\"\n";
/// let ComposeRead::Compose(file) = read_compose("compose.yml", text, &|_| None) else { panic!() };
/// assert_eq!(file.claims[0].mapping.to_string(), "5433:5432/tcp");
/// assert_eq!((file.claims[0].location.line, file.claims[0].location.column), (4, 9));
/// ```
pub fn read_compose(
    file: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> ComposeRead {
    match parse_compose(file, text) {
        ComposeParse::Compose(doc) => ComposeRead::Compose(doc.read(text, lookup)),
        ComposeParse::NotCompose => ComposeRead::NotCompose,
    }
}

fn interpolation_finding(err: &Error, location: &Location, service: &str) -> Finding {
    Finding::new(Rule::InterpolationError, err.to_string())
        .at(location)
        .with_service(service)
}

/// Reports `${VAR}` / `$VAR` uses that had no value and no default.
fn unset_findings(interpolated: &Interpolated, location: &Location, service: &str) -> Vec<Finding> {
    interpolated
        .uses
        .iter()
        .filter(|u| u.value.is_none() && u.operator == Operator::Plain)
        .map(|u| {
            Finding::new(
                Rule::UnsetVariable,
                format!(
                    "variable {} is not set and has no default; it becomes an empty string",
                    u.name
                ),
            )
            .at(location)
            .with_service(service)
            .with_variable(&u.name, None)
        })
        .collect()
}

/// Splits a template at the colons that separate port-spec parts, ignoring
/// colons inside `${...}`; returns the byte range of each part.
pub(crate) fn top_level_parts(template: &str) -> Vec<Range<usize>> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = template.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                parts.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(start..template.len());
    parts
}

/// Where the host port of a short-syntax template came from.
fn short_syntax_source(template: &str, interpolated: &Interpolated) -> PortSource {
    let parts = top_level_parts(template);
    // `[ip:]host:container[/proto]`: the host part is the second to last.
    let host_part = if parts.len() >= 2 {
        parts.get(parts.len() - 2).cloned()
    } else {
        None
    };
    let Some(host_part) = host_part else {
        return PortSource::Literal;
    };
    source_of(interpolated, &host_part)
}

fn source_of(interpolated: &Interpolated, within: &Range<usize>) -> PortSource {
    match interpolated
        .uses
        .iter()
        .find(|u| u.span.start >= within.start && u.span.end <= within.end)
    {
        None => PortSource::Literal,
        Some(u) if u.default_taken => PortSource::TemplateDefault {
            name: u.name.clone(),
        },
        Some(u) => PortSource::Variable {
            name: u.name.clone(),
        },
    }
}

fn read_entry(
    file: &str,
    text: &str,
    service: &str,
    item: &Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut ComposeFile,
) {
    let location = item.place.location(file);
    let raw_text = text
        .get(item.place.defined.clone())
        .unwrap_or_default()
        .to_owned();
    let claim =
        |mapping: PortMapping, source: PortSource, location: &Location, span: Range<usize>| Claim {
            location: Location::new(file, location.line, location.column),
            service: service.to_owned(),
            mapping,
            source,
            raw: raw_text.clone(),
            span,
            via_alias: !item.place.is_literal(),
            published_is_int: false,
            run: 1,
        };
    let invalid = |err: &Error, location: &Location| {
        let mut f = Finding::new(Rule::InvalidPortSpec, err.to_string())
            .at(location)
            .with_service(service);
        f.value = Some(raw_text.clone());
        f
    };
    match &item.kind {
        NodeKind::Str(template) => {
            let interpolated = match interpolate(template, lookup) {
                Ok(i) => i,
                Err(err) => {
                    out.findings
                        .push(interpolation_finding(&err, &location, service));
                    return;
                }
            };
            out.findings
                .extend(unset_findings(&interpolated, &location, service));
            match crate::port_spec::parse_spec_parts(&interpolated.value) {
                Ok(parts) => {
                    let source = short_syntax_source(template, &interpolated);
                    if parts.len() > RUN_THRESHOLD && parts.is_run() {
                        // A long range stays one claim: no input makes one
                        // claim per port.
                        let mut c =
                            claim(parts.first(), source, &location, item.place.span.clone());
                        c.run = u32::try_from(parts.len()).unwrap_or(u32::MAX);
                        out.claims.push(c);
                        return;
                    }
                    for mapping in parts.expand() {
                        out.claims.push(claim(
                            mapping,
                            source.clone(),
                            &location,
                            item.place.span.clone(),
                        ));
                    }
                }
                Err(err) => out.findings.push(invalid(&err, &location)),
            }
        }
        NodeKind::Int(number) => match parse_port_number(*number) {
            Ok(mappings) => {
                for mapping in mappings {
                    out.claims.push(claim(
                        mapping,
                        PortSource::Literal,
                        &location,
                        item.place.span.clone(),
                    ));
                }
            }
            Err(err) => out.findings.push(invalid(&err, &location)),
        },
        NodeKind::Map(entries) => {
            let mut fields = Vec::new();
            let mut source = PortSource::Literal;
            let mut at = location.clone();
            let mut span = item.place.span.clone();
            for (key, value) in entries {
                let key = key.scalar_text().unwrap_or_default();
                let scalar = match &value.kind {
                    NodeKind::Null => Scalar::Null,
                    NodeKind::Bool(b) => Scalar::Bool(*b),
                    NodeKind::Int(i) => Scalar::Int(*i),
                    NodeKind::Float(f) => Scalar::Float(*f),
                    NodeKind::Str(s) => {
                        let value_location = value.place.location(file);
                        match interpolate(s, lookup) {
                            Ok(interpolated) => {
                                out.findings.extend(unset_findings(
                                    &interpolated,
                                    &value_location,
                                    service,
                                ));
                                if key == "published" {
                                    source = source_of(&interpolated, &(0..s.len()));
                                }
                                Scalar::Str(interpolated.value)
                            }
                            Err(err) => {
                                out.findings.push(interpolation_finding(
                                    &err,
                                    &value_location,
                                    service,
                                ));
                                return;
                            }
                        }
                    }
                    NodeKind::Seq(_) | NodeKind::Map(_) => {
                        let err = Error::InvalidPortSpec {
                            spec: key.clone(),
                            reason: crate::PortSpecReason::NotScalar {
                                field: key.clone(),
                                found: value.kind_name(),
                            },
                        };
                        out.findings
                            .push(invalid(&err, &value.place.location(file)));
                        return;
                    }
                };
                if key == "published" {
                    at = value.place.location(file);
                    span = value.place.span.clone();
                }
                fields.push((key, scalar));
            }
            match parse_long_syntax(&fields) {
                Ok(mapping) => {
                    let mut c = claim(mapping, source, &at, span);
                    c.published_is_int = entries.iter().any(|(k, v)| {
                        k.scalar_text().as_deref() == Some("published")
                            && matches!(v.kind, NodeKind::Int(_))
                    });
                    out.claims.push(c);
                }
                Err(err) => out.findings.push(invalid(&err, &location)),
            }
        }
        _ => {
            let err = Error::InvalidPortSpec {
                spec: raw_text.clone(),
                reason: crate::PortSpecReason::EntryKind {
                    found: item.kind_name(),
                },
            };
            out.findings.push(invalid(&err, &location));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, env: &[(&str, &str)]) -> ComposeFile {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        match read_compose("c.yml", text, &lookup) {
            ComposeRead::Compose(f) => f,
            ComposeRead::NotCompose => panic!("not compose"),
        }
    }

    #[test]
    fn sources_are_told_apart() {
        let text = "services:\n  a:\n    ports:\n      - \"5433:5432\"\n      - '${A_PORT:-7000}:80'\n      - \"127.0.0.1:${B_PORT:-1}:${C_PORT:-2}\"\n";
        let f = read(text, &[("B_PORT", "9000")]);
        assert_eq!(f.claims[0].source, PortSource::Literal);
        assert_eq!(
            f.claims[1].source,
            PortSource::TemplateDefault {
                name: "A_PORT".into()
            }
        );
        assert_eq!(
            f.claims[2].source,
            PortSource::Variable {
                name: "B_PORT".into()
            }
        );
        assert_eq!(f.claims[2].mapping.to_string(), "127.0.0.1:9000:2/tcp");
        assert_eq!(&text[f.claims[1].span.clone()], "'${A_PORT:-7000}:80'");
    }

    #[test]
    fn long_syntax_points_at_published() {
        let text =
            "services:\n  a:\n    ports:\n      - target: 80\n        published: \"${P:-8080}\"\n";
        let f = read(text, &[]);
        assert_eq!(f.claims[0].mapping.to_string(), "8080:80/tcp");
        assert_eq!(
            (f.claims[0].location.line, f.claims[0].location.column),
            (5, 20)
        );
        assert_eq!(
            f.claims[0].source,
            PortSource::TemplateDefault { name: "P".into() }
        );
    }

    #[test]
    fn problems_become_findings() {
        let text = "services:\n  a:\n    ports:\n      - \"${X}:80\"\n      - \"localhost:80:80\"\n      - \"${Y:?need Y}:1\"\n  b: [oops]\n";
        let f = read(text, &[]);
        let rules: Vec<_> = f.findings.iter().map(|f| f.rule.id()).collect();
        assert_eq!(
            rules,
            [
                "invalid-compose-file",
                "unset-variable",
                "invalid-port-spec",
                "interpolation-error",
            ]
        );
        // "${X}:80" with X unset is ":80": a container-only port, as in compose.
        assert_eq!(f.claims.len(), 1);
    }

    #[test]
    fn long_ranges_stay_one_claim() {
        let text = "services:\n  a:\n    ports:\n      - \"1-65535:1-65535\"\n      - \"1000-1100:2000-2100/udp\"\n      - \"7000-7002:7000-7002\"\n";
        let f = read(text, &[]);
        // Two runs, and a short range expanded as compose lists it.
        assert_eq!(f.claims.len(), 2 + 3);
        assert_eq!(f.claims[0].run, 65535);
        assert_eq!(f.claims[0].host_range().unwrap().to_string(), "1-65535");
        assert_eq!(f.claims[1].run, 101);
        assert_eq!(f.claims[1].host_range().unwrap().to_string(), "1000-1100");
        let expanded: Vec<String> = f.claims[1].mappings().map(|m| m.to_string()).collect();
        assert_eq!(expanded.len(), 101);
        assert_eq!(expanded[0], "1000:2000/udp");
        assert_eq!(expanded[100], "1100:2100/udp");
        assert!(f.claims[2..].iter().all(|c| c.run == 1));
    }

    #[test]
    fn non_compose_yaml_is_skipped() {
        assert!(matches!(
            read_compose("k.yml", "services:\n  - name: x\n", &|_| None),
            ComposeRead::NotCompose
        ));
        assert!(matches!(
            read_compose("p.yml", "scrape_configs: []\n", &|_| None),
            ComposeRead::NotCompose
        ));
        let ComposeRead::Compose(f) = read_compose("b.yml", "services: [\n", &|_| None) else {
            panic!()
        };
        assert_eq!(f.findings[0].rule, Rule::InvalidComposeFile);
    }
}

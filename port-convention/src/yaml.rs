//! A YAML document as a tree of nodes that each know where they are.
//!
//! Compose files and the convention are read through serde-saphyr (see
//! `docs/adr/0001-yaml-library.md`): it gives 1-based line/column and exact
//! byte spans for every node, resolves aliases to their anchors, rejects
//! duplicate keys like Docker Compose's YAML reader does, and bounds alias
//! expansion and nesting depth.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};

use crate::{Error, Location};

/// Where a node is: its position and the byte span of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// 1-based line where the node is used.
    pub line: u32,
    /// 1-based column (characters) where the node is used.
    pub column: u32,
    /// Bytes of the node where it is used (an alias: the `*name` token).
    pub span: Range<usize>,
    /// Bytes of the node where it is defined (an alias: the anchored node).
    pub defined: Range<usize>,
}

impl Place {
    pub fn location(&self, file: &str) -> Location {
        Location::new(file, self.line, self.column)
    }

    /// Whether the node is written here rather than reached through an alias
    /// or a merge key.
    pub fn is_literal(&self) -> bool {
        self.span == self.defined
    }
}

/// One YAML node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub place: Place,
    /// The node's explicit YAML tag, where it was kept (`!reset`, `!override`).
    pub tag: Option<String>,
}

/// What a node holds.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order (merge keys already applied).
    Map(Vec<(Node, Node)>),
}

impl Node {
    #[cfg(test)]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar_text().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// A scalar as text (how a key or a port entry reads).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Null => Some(String::new()),
            NodeKind::Bool(b) => Some(b.to_string()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Seq(_) | NodeKind::Map(_) => None,
        }
    }

    /// A short name for the kind of node, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a sequence",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// The node as deserialized, before its place is attached.
struct RawNode(RawKind);

enum RawKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = RawNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_unit<E>(self) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Null))
            }
            fn visit_none<E>(self) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Null))
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Int(i128::from(v))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Int(i128::from(v))))
            }
            fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Int(v)))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<RawNode, E> {
                i128::try_from(v)
                    .map(|v| RawNode(RawKind::Int(v)))
                    .map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Str(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
                Ok(RawNode(RawKind::Str(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
                    items.push(item);
                }
                Ok(RawNode(RawKind::Seq(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
                    let value = map.next_value::<Spanned<RawNode>>()?;
                    entries.push((key, value));
                }
                Ok(RawNode(RawKind::Map(entries)))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn span_of(location: &serde_saphyr::Location) -> Range<usize> {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => {
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            let len = usize::try_from(len).unwrap_or(0);
            start..start.saturating_add(len)
        }
        _ => 0..0,
    }
}

fn convert(raw: Spanned<RawNode>) -> Node {
    let place = Place {
        line: to_u32(raw.referenced.line()),
        column: to_u32(raw.referenced.column()),
        span: span_of(&raw.referenced),
        defined: span_of(&raw.defined),
    };
    let kind = match raw.value.0 {
        RawKind::Null => NodeKind::Null,
        RawKind::Bool(b) => NodeKind::Bool(b),
        RawKind::Int(i) => NodeKind::Int(i),
        RawKind::Float(f) => NodeKind::Float(f),
        RawKind::Str(s) => NodeKind::Str(s),
        RawKind::Seq(items) => NodeKind::Seq(items.into_iter().map(convert).collect()),
        RawKind::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k), convert(v)))
                .collect(),
        ),
    };
    Node {
        kind,
        place,
        tag: None,
    }
}

/// Parses a YAML document. An empty document is a `Null` node.
///
/// # Errors
///
/// [`Error::YamlSyntax`] with the parser's position for malformed YAML,
/// duplicate keys, alias bombs and over-deep nesting.
pub(crate) fn parse(file: &str, text: &str) -> Result<Node, Error> {
    if text.trim().is_empty() {
        return Ok(Node {
            kind: NodeKind::Null,
            place: Place {
                line: 1,
                column: 1,
                span: 0..0,
                defined: 0..0,
            },
            tag: None,
        });
    }
    serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, compose_options())
        .map(convert)
        .map_err(|err| syntax_error(file, &err))
}

/// What a compose file says that matters for ports and projects: the
/// top-level `name` and `include`, and of each service the keys in
/// [`SERVICE_KEYS`] (everything else is parsed and checked as YAML, but not
/// kept).
#[derive(Debug, Clone, Default)]
pub(crate) struct ComposeTop {
    /// `services`: a mapping of service name to a mapping of the kept keys,
    /// or the node found instead.
    pub services: Option<Node>,
    /// `include`, whole.
    pub include: Option<Node>,
    /// `name`, whole.
    pub name: Option<Node>,
}

/// The service keys a compose file is read for. `ports` decides claims;
/// `image` and `build` whether a file can stand alone; `extends` and
/// `profiles` which services a project has.
pub(crate) const SERVICE_KEYS: &[&str] = &["ports", "image", "build", "extends", "profiles"];

/// Parses a compose file for [`ComposeTop`]. An empty document is an empty
/// `ComposeTop`.
///
/// This is what `check` reads from every compose file of a tree, so it
/// skips building nodes nobody looks at.
///
/// # Errors
///
/// As [`parse`].
pub(crate) fn parse_compose(file: &str, text: &str) -> Result<Vec<ComposeTop>, Error> {
    if let Some(tops) = crate::yaml_subset::parse_compose(text) {
        // Every debug build (the whole test suite) checks the lean reader
        // against the full parser on every file it reads.
        #[cfg(debug_assertions)]
        {
            let full = parse_compose_full(file, text)
                .map(|t| format!("{t:?}"))
                .map_err(|e| e.to_string());
            assert_eq!(
                Ok(format!("{tops:?}")),
                full,
                "yaml_subset disagrees with serde-saphyr on {file}:\n{text}"
            );
        }
        return Ok(tops);
    }
    parse_compose_full(file, text)
}

/// [`parse_compose`] with serde-saphyr, whatever the text.
pub(crate) fn parse_compose_full(file: &str, text: &str) -> Result<Vec<ComposeTop>, Error> {
    if text.trim().is_empty() {
        return Ok(vec![ComposeTop::default()]);
    }
    // A file may hold several YAML documents; compose merges them in order.
    serde_saphyr::from_multiple_with_options::<TopLevel>(text, compose_options())
        .map(|tops| {
            tops.into_iter()
                .map(|top| ComposeTop {
                    services: top.services.map(convert_services),
                    include: top.include.map(convert),
                    name: top.name.map(convert),
                })
                .collect()
        })
        .map_err(|err| syntax_error(file, &err))
}

/// A compose document reduced to what [`ComposeTop`] keeps.
#[derive(Default)]
struct TopLevel {
    services: Option<Spanned<ServicesRaw>>,
    include: Option<Spanned<RawNode>>,
    name: Option<Spanned<RawNode>>,
}

/// The `services` value: a mapping of services, or something else.
enum ServicesRaw {
    Map(Vec<(Spanned<RawNode>, Spanned<ServiceRaw>)>),
    /// Not a mapping (null, a scalar, Kong's list): kept as a node without children.
    Other(RawKind),
}

/// A kept service key: its key node and its value with the value's YAML tag
/// (`!reset`, `!override`).
type KeptEntry = (Spanned<RawNode>, Tagged<Spanned<RawNode>>);

/// One service: its kept keys if it is a mapping, or what it is instead.
enum ServiceRaw {
    Map(Vec<KeptEntry>),
    Other(RawKind),
}

/// Whether a value is there (not null), its content consumed and dropped.
struct Presence(bool);

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PresenceVisitor;
        impl<'de> Visitor<'de> for PresenceVisitor {
            type Value = Presence;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_unit<E>(self) -> Result<Presence, E> {
                Ok(Presence(false))
            }
            fn visit_none<E>(self) -> Result<Presence, E> {
                Ok(Presence(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_i128<E>(self, _: i128) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_u128<E>(self, _: u128) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_str<E>(self, _: &str) -> Result<Presence, E> {
                Ok(Presence(true))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Presence, A::Error> {
                drain_seq(seq)?;
                Ok(Presence(true))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Presence, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Presence(true))
            }
        }
        deserializer.deserialize_any(PresenceVisitor)
    }
}

/// Consumes a sequence without keeping it.
fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A visitor for values that are not the mapping we look for: records their kind.
macro_rules! other_kind_visits {
    ($value:ty, $wrap:expr) => {
        fn visit_unit<E>(self) -> Result<$value, E> {
            Ok($wrap(RawKind::Null))
        }
        fn visit_none<E>(self) -> Result<$value, E> {
            Ok($wrap(RawKind::Null))
        }
        fn visit_bool<E>(self, v: bool) -> Result<$value, E> {
            Ok($wrap(RawKind::Bool(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<$value, E> {
            Ok($wrap(RawKind::Int(i128::from(v))))
        }
        fn visit_u64<E>(self, v: u64) -> Result<$value, E> {
            Ok($wrap(RawKind::Int(i128::from(v))))
        }
        fn visit_f64<E>(self, v: f64) -> Result<$value, E> {
            Ok($wrap(RawKind::Float(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<$value, E> {
            Ok($wrap(RawKind::Str(v.to_owned())))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<$value, A::Error> {
            drain_seq(seq)?;
            Ok($wrap(RawKind::Seq(Vec::new())))
        }
    };
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YAML document")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut top = TopLevel::default();
                while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
                    match &key.value.0 {
                        RawKind::Str(k) if k == "services" => {
                            top.services = Some(map.next_value::<Spanned<ServicesRaw>>()?);
                        }
                        RawKind::Str(k) if k == "include" => {
                            top.include = Some(map.next_value::<Spanned<RawNode>>()?);
                        }
                        RawKind::Str(k) if k == "name" => {
                            top.name = Some(map.next_value::<Spanned<RawNode>>()?);
                        }
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(top)
            }
            other_kind_visits!(TopLevel, |_| TopLevel::default());
        }
        deserializer.deserialize_any(TopVisitor)
    }
}

impl<'de> Deserialize<'de> for ServicesRaw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ServicesVisitor;
        impl<'de> Visitor<'de> for ServicesVisitor {
            type Value = ServicesRaw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the services of a compose file")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServicesRaw, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
                    entries.push((key, map.next_value::<Spanned<ServiceRaw>>()?));
                }
                Ok(ServicesRaw::Map(entries))
            }
            other_kind_visits!(ServicesRaw, ServicesRaw::Other);
        }
        deserializer.deserialize_any(ServicesVisitor)
    }
}

impl<'de> Deserialize<'de> for ServiceRaw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ServiceVisitor;
        impl<'de> Visitor<'de> for ServiceVisitor {
            type Value = ServiceRaw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a compose service")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServiceRaw, A::Error> {
                let mut kept = Vec::new();
                while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
                    if matches!(&key.value.0, RawKind::Str(k) if SERVICE_KEYS.contains(&k.as_str()))
                    {
                        // `image` and `build` only need to be there (and not
                        // null): their content is skipped, not kept.
                        let presence_only =
                            matches!(&key.value.0, RawKind::Str(k) if k == "image" || k == "build");
                        let value = if presence_only {
                            let Tagged(present, tag) =
                                map.next_value::<Tagged<Spanned<Presence>>>()?;
                            let kind = if present.value.0 {
                                RawKind::Bool(true)
                            } else {
                                RawKind::Null
                            };
                            Tagged(
                                Spanned {
                                    value: RawNode(kind),
                                    referenced: present.referenced,
                                    defined: present.defined,
                                },
                                tag,
                            )
                        } else {
                            map.next_value::<Tagged<Spanned<RawNode>>>()?
                        };
                        kept.push((key, value));
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(ServiceRaw::Map(kept))
            }
            other_kind_visits!(ServiceRaw, ServiceRaw::Other);
        }
        deserializer.deserialize_any(ServiceVisitor)
    }
}

fn place_of<T>(raw: &Spanned<T>) -> Place {
    Place {
        line: to_u32(raw.referenced.line()),
        column: to_u32(raw.referenced.column()),
        span: span_of(&raw.referenced),
        defined: span_of(&raw.defined),
    }
}

fn convert_services(raw: Spanned<ServicesRaw>) -> Node {
    let place = place_of(&raw);
    let kind = match raw.value {
        ServicesRaw::Other(kind) => kind_without_children(kind),
        ServicesRaw::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(key, service)| {
                    let service_place = place_of(&service);
                    let kind = match service.value {
                        ServiceRaw::Other(kind) => kind_without_children(kind),
                        ServiceRaw::Map(kept) => NodeKind::Map(
                            kept.into_iter()
                                .map(|(key, tagged)| {
                                    let tag = tagged.1.clone();
                                    let mut value = convert(tagged.0);
                                    value.tag = tag;
                                    (convert(key), value)
                                })
                                .collect(),
                        ),
                    };
                    (
                        convert(key),
                        Node {
                            kind,
                            place: service_place,
                            tag: None,
                        },
                    )
                })
                .collect(),
        ),
    };
    Node {
        kind,
        place,
        tag: None,
    }
}

fn kind_without_children(kind: RawKind) -> NodeKind {
    match kind {
        RawKind::Null => NodeKind::Null,
        RawKind::Bool(b) => NodeKind::Bool(b),
        RawKind::Int(i) => NodeKind::Int(i),
        RawKind::Float(f) => NodeKind::Float(f),
        RawKind::Str(s) => NodeKind::Str(s),
        RawKind::Seq(_) => NodeKind::Seq(Vec::new()),
        RawKind::Map(_) => NodeKind::Map(Vec::new()),
    }
}

/// Scalar resolution as Docker Compose's YAML reader (go-yaml v3) does it:
/// only `true`/`false` spellings are booleans (`y`, `on`, `yes` stay strings)
/// and a leading zero means octal (`010` is 8).
///
/// Aliases are bounded by what they expand to, not by how many there are:
/// real compose files use hundreds of aliases of a few anchors (`<<:
/// *common`), which the parser's alias-to-anchor ratio heuristic rejects,
/// while a billion-laughs document is stopped by [`EXPANDED_EVENTS`].
pub(crate) fn compose_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        emit_comments: false,
        // go-yaml reads `.nan` and `.inf` as floats; they are valid compose.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        budget: serde_saphyr::budget! {
            enforce_alias_anchor_ratio: false,
            max_recorded_anchor_events: EXPANDED_EVENTS,
            max_events: EXPANDED_EVENTS,
        },
    }
}

/// The most YAML events one document may have once every alias is
/// expanded (a 1 MiB compose file has about 100,000).
pub(crate) const EXPANDED_EVENTS: usize = 1_000_000;

/// Turns a serde-saphyr error into ours, keeping its position.
pub(crate) fn syntax_error(file: &str, err: &serde_saphyr::Error) -> Error {
    let (line, column) = error_position(err);
    Error::YamlSyntax {
        location: Location::new(file, line, column),
        message: error_message(err),
    }
}

pub(crate) fn error_position(err: &serde_saphyr::Error) -> (u32, u32) {
    err.location()
        .map(|l| (to_u32(l.line()), to_u32(l.column())))
        .unwrap_or((0, 0))
}

/// The parser's message without its `error: line N column M:` prefix and
/// without the source snippet.
pub(crate) fn error_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = match text.strip_prefix("line ") {
        Some(rest) => match rest.split_once(": ") {
            Some((position, message)) if position.contains("column") => message,
            _ => text,
        },
        None => text,
    };
    let first = text.lines().next().unwrap_or(text).trim();
    // The position is reported separately; drop the parser's own copy.
    let message = match first.rfind(" at line ") {
        Some(at) if first[at..].contains(", column ") => &first[..at],
        _ => first,
    };
    crate::error::user_terms(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_quotes_and_resolve_aliases() {
        let src = "x: &p \"5432:5432\"\ny: *p\n";
        let doc = parse("f.yml", src).unwrap();
        let y = doc.get("y").unwrap();
        assert_eq!(y.as_str(), Some("5432:5432"));
        assert_eq!(&src[y.place.span.clone()], "*p");
        assert_eq!(&src[y.place.defined.clone()], "\"5432:5432\"");
        assert!(!y.place.is_literal());
        assert_eq!((y.place.line, y.place.column), (2, 4));
    }

    #[test]
    fn scalars_resolve_like_go_yaml_v3() {
        let doc = parse("f.yml", "y: on\nn: yes\nt: true\no: 010\n").unwrap();
        assert_eq!(doc.get("y").and_then(Node::as_str), Some("on"));
        assert_eq!(doc.get("n").and_then(Node::as_str), Some("yes"));
        assert!(matches!(
            doc.get("t").map(|n| &n.kind),
            Some(NodeKind::Bool(true))
        ));
        assert!(matches!(
            doc.get("o").map(|n| &n.kind),
            Some(NodeKind::Int(8))
        ));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("bad.yml", "a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.code(), "yaml-syntax");
        assert_eq!(err.location().unwrap().to_string(), "bad.yml:2:1");
        assert!(err.to_string().contains("duplicate key: a"), "{err}");
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse("bomb.yml", &src).unwrap_err();
        assert_eq!(err.code(), "yaml-syntax");
    }

    #[test]
    fn many_aliases_of_few_anchors_pass() {
        // Large self-hosted products' compose files: a handful of anchors
        // (`x-common: &common`) used by every service.
        let mut src = String::new();
        for a in 0..10 {
            src.push_str(&format!(
                "x-a{a}: &a{a}\n  restart: always\n  env: [A, B]\n"
            ));
        }
        src.push_str("services:\n");
        for s in 0..150 {
            src.push_str(&format!(
                "  s{s}:\n    <<: *a{}\n    ports: [\"{}:80\"]\n",
                s % 10,
                10_000 + s
            ));
        }
        let top = parse_compose("many.yml", &src).unwrap().remove(0);
        let services = top.services.unwrap();
        assert_eq!(services.as_map().unwrap().len(), 150);
    }

    #[test]
    fn alias_bombs_are_stopped_in_compose_files_too() {
        let mut src = String::from("x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            src.push_str(&format!(
                "x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        src.push_str("services:\n  s:\n    ports: *a8\n");
        let err = parse_compose("bomb.yml", &src).unwrap_err();
        assert_eq!(err.code(), "yaml-syntax");
    }

    #[test]
    fn reset_and_override_tags_are_kept() {
        let src = "services:\n  a:\n    ports: !reset []\n  b:\n    ports: !override [\"1:1\"]\n  c:\n    ports: [\"2:2\"]\n";
        let top = parse_compose("o.yml", src).unwrap().remove(0);
        let services = top.services.unwrap();
        let tags: Vec<Option<String>> = services
            .as_map()
            .unwrap()
            .iter()
            .map(|(_, s)| s.get("ports").unwrap().tag.clone())
            .collect();
        assert_eq!(
            tags,
            [Some("!reset".into()), Some("!override".into()), None]
        );
    }

    #[test]
    fn nan_and_infinity_are_numbers_not_errors() {
        let src = "x-limits: { cpu: .nan, mem: .inf, low: -.Inf }\nservices:\n  a:\n    ports: [\"1:1\"]\n";
        let top = parse_compose("n.yml", src).unwrap().remove(0);
        assert!(top.services.is_some());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = "[".repeat(100_000);
        assert!(parse("deep.yml", &src).is_err());
    }
}

//! A lean reader for the block-style YAML that compose files are written in.
//!
//! `check` parses every compose file of a tree; with serde-saphyr that parse
//! was three quarters of its time (issue #9), most of it spent on events for
//! keys nobody reads (`environment`, `volumes`, `healthcheck`, ...). This
//! module reads the common subset of YAML directly: block mappings and
//! sequences, plain and quoted one-line scalars, one-line flow collections,
//! block scalars and comments. It builds nodes only for what
//! [`ComposeTop`] keeps and checks the rest without allocating.
//!
//! It never decides anything the full parser would decide differently:
//! whenever the text leaves the subset (anchors, aliases, tags, merge keys,
//! multi-line flow or quoted scalars, several documents, tabs, CR line ends,
//! duplicate keys, scalars whose type is not obvious, nesting or size near
//! the full parser's limits, anything malformed) it gives up with `None` and
//! the caller parses the file with serde-saphyr, which also owns every error
//! message. In debug builds the caller parses every file both ways and
//! asserts the results are identical (`yaml::parse_compose`), so the whole
//! test suite checks this module against the reference parser.

use std::collections::{HashMap, HashSet};

use crate::yaml::{ComposeTop, EXPANDED_EVENTS, Node, NodeKind, Place, SERVICE_KEYS};

/// The text is outside the subset: parse it with the full parser.
#[derive(Debug)]
pub(crate) struct Bail;

type Parsed<T> = Result<T, Bail>;

/// Deepest block or flow nesting read here (the full parser's own limit is
/// higher; deeper files go to it).
const MAX_DEPTH: usize = 48;

/// YAML's limit on the length of an implicit key.
const MAX_KEY_BYTES: usize = 1024;

/// Parses a compose file the way [`crate::yaml::parse_compose`] does, or
/// gives up.
pub(crate) fn parse_compose(text: &str) -> Option<Vec<ComposeTop>> {
    if !plain_text(text.as_bytes()) {
        return None;
    }
    let mut parser = Parser {
        text,
        b: text.as_bytes(),
        start: 0,
        line: 1,
        measured: usize::MAX,
        end: 0,
        indent: 0,
        events: 0,
        depth: 0,
        next_map: 0,
        keys: Vec::new(),
        many_keys: HashSet::new(),
        anchors: HashMap::new(),
        anchoring: 0,
    };
    parser.document().ok().map(|top| vec![top])
}

/// Whether the text has only characters the subset handles: no tabs, no CR,
/// no control characters, no byte order mark, and none of the characters
/// that some YAML versions treat as line breaks (NEL, LS, PS).
fn plain_text(b: &[u8]) -> bool {
    const CHUNK: usize = 32;
    let mut i = 0;
    while i < b.len() {
        // Most text is printable ASCII: check it a chunk at a time (a form
        // the compiler vectorizes), byte by byte only where a chunk is not.
        if let Some(chunk) = b.get(i..i + CHUNK) {
            let odd = chunk.iter().fold(0u8, |acc, &c| {
                acc | u8::from(c < 0x20 && c != b'\n') | u8::from(c >= 0x7f)
            });
            if odd == 0 {
                i += CHUNK;
                continue;
            }
        }
        let c = b[i];
        if c < 0x80 {
            if (c < 0x20 && c != b'\n') || c == 0x7f {
                return false;
            }
            i += 1;
            continue;
        }
        // Multi-byte UTF-8 (the text is a valid &str): refuse C1 controls
        // (C2 80..9F, NEL among them), LS/PS (E2 80 A8/A9), the BOM
        // (EF BB BF) and the noncharacters U+FFFE/U+FFFF.
        let next = b.get(i + 1).copied().unwrap_or(0);
        let third = b.get(i + 2).copied().unwrap_or(0);
        match c {
            0xC2 if next < 0xA0 => return false,
            0xE2 if next == 0x80 && (third == 0xA8 || third == 0xA9) => return false,
            0xEF if next == 0xBB && third == 0xBF => return false,
            0xEF if next == 0xBF && (third == 0xBE || third == 0xBF) => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// How a value is read: what is kept of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Checked, nothing built.
    Skip,
    /// Built whole.
    Keep,
    /// Built without children: only whether it is there (`image`, `build`).
    Presence,
    /// The document: `services`, `include` and `name` kept.
    Top,
    /// `services`: every service kept, as [`Mode::Service`].
    Services,
    /// One service: the keys in [`SERVICE_KEYS`] kept.
    Service,
}

impl Mode {
    /// How the value of `key` in a mapping read in this mode is read.
    fn child(self, key: &str) -> Mode {
        match self {
            Mode::Skip | Mode::Presence => Mode::Skip,
            Mode::Keep => Mode::Keep,
            Mode::Top => match key {
                "services" => Mode::Services,
                "include" | "name" => Mode::Keep,
                _ => Mode::Skip,
            },
            Mode::Services => Mode::Service,
            Mode::Service => match key {
                "image" | "build" => Mode::Presence,
                k if SERVICE_KEYS.contains(&k) => Mode::Keep,
                _ => Mode::Skip,
            },
        }
    }

    /// How the items of a sequence read in this mode are read.
    fn item(self) -> Parsed<Mode> {
        match self {
            Mode::Skip | Mode::Presence => Ok(Mode::Skip),
            Mode::Keep => Ok(Mode::Keep),
            // A document, `services` or a service that is a sequence: the
            // full parser keeps such oddities its own way.
            Mode::Top | Mode::Services | Mode::Service => Err(Bail),
        }
    }

    fn builds(self) -> bool {
        self != Mode::Skip
    }
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    /// Byte offset of the current line (not yet consumed).
    start: usize,
    /// 1-based number of the current line.
    line: u32,
    /// The `start` that `end` and `indent` were measured for.
    measured: usize,
    /// Byte offset of the current line's end (its `\n`, or the text's end).
    end: usize,
    /// Leading spaces of the current line.
    indent: usize,
    /// Nodes seen, counted as the full parser counts events.
    events: usize,
    depth: usize,
    next_map: u32,
    /// Keys of the mappings being read, innermost last: duplicates go to the
    /// full parser, which reports them.
    keys: Vec<&'a str>,
    /// Keys of mappings with more than [`LINEAR_KEYS`] keys, by mapping.
    many_keys: HashSet<(u32, &'a str)>,
    /// Anchored nodes so far, built whole, with their node counts.
    anchors: HashMap<&'a str, (Node, usize)>,
    /// Inside an anchored node (an alias there is left to the full parser).
    anchoring: usize,
}

/// Up to this many keys, a mapping's keys are compared one by one.
const LINEAR_KEYS: usize = 24;

/// The keys of one mapping, as they are checked for duplicates.
struct KeySet {
    id: u32,
    /// Where this mapping's keys start in [`Parser::keys`].
    base: usize,
}

impl<'a> Parser<'a> {
    fn measure(&mut self) {
        if self.measured == self.start {
            return;
        }
        let rest = &self.b[self.start..];
        self.end = self.start + memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        self.indent = rest.iter().take_while(|&&c| c == b' ').count();
        self.measured = self.start;
    }

    fn at_end(&self) -> bool {
        self.start >= self.b.len()
    }

    fn skip_line(&mut self) {
        self.measure();
        self.start = self.end + 1;
        self.line += 1;
    }

    /// Moves to the next line with content, skipping blank and comment
    /// lines; false at the end of the text.
    fn next_content(&mut self) -> Parsed<bool> {
        loop {
            if self.at_end() {
                return Ok(false);
            }
            self.measure();
            let first = self.start + self.indent;
            if first == self.end || self.b[first] == b'#' {
                self.skip_line();
                continue;
            }
            if self.indent == 0 {
                let line = &self.b[self.start..self.end];
                let marker =
                    |m: &[u8]| line.starts_with(m) && matches!(line.get(3), None | Some(b' '));
                if marker(b"---") || marker(b"...") || line[0] == b'%' {
                    return Err(Bail);
                }
            }
            return Ok(true);
        }
    }

    fn open_keys(&mut self) -> KeySet {
        let id = self.next_map;
        self.next_map += 1;
        KeySet {
            id,
            base: self.keys.len(),
        }
    }

    /// Adds a key to a mapping; gives up on a duplicate.
    fn add_key(&mut self, set: &KeySet, key: &'a str) -> Parsed<()> {
        let mine = &self.keys[set.base..];
        if mine.len() < LINEAR_KEYS {
            if mine.contains(&key) {
                return Err(Bail);
            }
        } else {
            if mine.len() == LINEAR_KEYS {
                for &k in mine {
                    self.many_keys.insert((set.id, k));
                }
            }
            if !self.many_keys.insert((set.id, key)) {
                return Err(Bail);
            }
        }
        self.keys.push(key);
        Ok(())
    }

    fn close_keys(&mut self, set: KeySet) {
        self.keys.truncate(set.base);
    }

    fn count_event(&mut self) -> Parsed<()> {
        self.events += 1;
        if self.events > EXPANDED_EVENTS / 4 {
            return Err(Bail);
        }
        Ok(())
    }

    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        self.count_event()
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Where the node starting at byte `at` of the current line is.
    fn place(&self, at: usize, len: usize) -> Place {
        let prefix = &self.text[self.start..at];
        let column = if prefix.is_ascii() {
            prefix.len()
        } else {
            prefix.chars().count()
        };
        let column = u32::try_from(column + 1).unwrap_or(u32::MAX);
        Place {
            line: self.line,
            column,
            span: at..at + len,
            defined: at..at + len,
        }
    }

    fn document(&mut self) -> Parsed<ComposeTop> {
        if !self.next_content()? || self.indent != 0 {
            return Err(Bail);
        }
        self.count_event()?;
        let top = self.block_map_at(0, self.start, Mode::Top)?;
        if self.next_content()? {
            return Err(Bail);
        }
        let mut result = ComposeTop::default();
        if let Some(Node {
            kind: NodeKind::Map(entries),
            ..
        }) = top
        {
            for (key, value) in entries {
                match &key.kind {
                    NodeKind::Str(k) if k == "services" => result.services = Some(value),
                    NodeKind::Str(k) if k == "include" => result.include = Some(value),
                    NodeKind::Str(k) if k == "name" => result.name = Some(value),
                    _ => {}
                }
            }
        }
        Ok(result)
    }

    /// A block mapping whose first key starts at byte `first` of the current
    /// line, at column `indent`.
    fn block_map_at(&mut self, indent: usize, first: usize, mode: Mode) -> Parsed<Option<Node>> {
        self.enter()?;
        let keys = self.open_keys();
        let place = mode.builds().then(|| self.place(first, 0));
        let mut entries = Vec::new();
        let mut merges = Vec::new();
        let mut at = first;
        loop {
            self.entry(indent, at, mode, &keys, &mut entries, &mut merges)?;
            if !self.next_content()? || self.indent < indent {
                break;
            }
            if self.indent > indent {
                return Err(Bail);
            }
            at = self.start + indent;
        }
        self.close_keys(keys);
        self.leave();
        merge_service_keys(&mut entries, merges)?;
        Ok(place.map(|place| Node {
            kind: NodeKind::Map(entries),
            place,
            tag: None,
        }))
    }

    /// One `key: value` entry of a block mapping at column `indent`, its key
    /// at byte `at` of the current line.
    fn entry(
        &mut self,
        indent: usize,
        at: usize,
        mode: Mode,
        keys: &KeySet,
        entries: &mut Vec<(Node, Node)>,
        merges: &mut Vec<(Node, Place)>,
    ) -> Parsed<()> {
        let (key_text, key_end) = self.block_key(at)?;
        self.add_key(keys, key_text)?;
        self.count_event()?;
        if key_text == "<<" {
            return self.merge(key_end + 1, mode, merges);
        }
        let child = mode.child(key_text);
        let key_node = mode.builds().then(|| Node {
            kind: NodeKind::Str(key_text.to_owned()),
            place: self.place(at, key_end - at),
            tag: None,
        });
        // After the key: `:` then a space or the end of the line.
        let value_at = key_end + 1;
        let value = self.value_after(indent, value_at, key_end, child, true)?;
        if let (Some(key), Some(value)) = (key_node, value) {
            entries.push((key, finish(child, value)?));
        }
        Ok(())
    }

    /// A merge key's value (`<<: *name` or `<<: [*a, *b]`) starting at
    /// `value_at`. In a service, the kept keys of the merged mappings that the
    /// service does not set itself are added after its own keys, each placed
    /// at its alias, the first mapping winning: as the full parser does.
    fn merge(
        &mut self,
        value_at: usize,
        mode: Mode,
        merges: &mut Vec<(Node, Place)>,
    ) -> Parsed<()> {
        if !matches!(mode, Mode::Skip | Mode::Service)
            || matches!(self.b[value_at - 2], b'"' | b'\'')
        {
            return Err(Bail);
        }
        let mut at = self.skip_spaces(value_at);
        let mut merged = Vec::new();
        let listed = at < self.end && self.b[at] == b'[';
        if listed {
            at = self.skip_spaces(at + 1);
        }
        loop {
            if at >= self.end || self.b[at] != b'*' {
                return Err(Bail);
            }
            let (node, place, end) = self.alias(at)?;
            if !matches!(node.kind, NodeKind::Map(_)) {
                return Err(Bail);
            }
            merged.push((node, place));
            at = self.skip_spaces(end);
            if !listed {
                break;
            }
            match self.b.get(at) {
                Some(b',') if at < self.end => at = self.skip_spaces(at + 1),
                Some(b']') if at < self.end => {
                    at += 1;
                    break;
                }
                _ => return Err(Bail),
            }
        }
        self.rest_is_comment(at)?;
        self.skip_line();
        if mode == Mode::Service {
            merges.extend(merged);
        }
        Ok(())
    }

    /// A key of a block mapping at byte `at`: its text and the byte of its
    /// `:`.
    fn block_key(&self, at: usize) -> Parsed<(&'a str, usize)> {
        let b = self.b;
        let end = self.end;
        match b[at] {
            b'"' | b'\'' => {
                let close = self.quoted_end(at)?;
                let inner = &self.text[at + 1..close - 1];
                if inner.contains(['\\', '\'']) {
                    return Err(Bail);
                }
                if close < end && b[close] == b':' && after_colon_ok(b, close + 1, end) {
                    Ok((inner, close))
                } else {
                    Err(Bail)
                }
            }
            c if starts_plain(c) => {
                let mut i = at;
                while i < end {
                    match b[i] {
                        b':' if after_colon_ok(b, i + 1, end) => break,
                        b'#' if b[i - 1] == b' ' => return Err(Bail),
                        _ => {}
                    }
                    i += 1;
                }
                if i >= end || b[i - 1] == b' ' || i - at > MAX_KEY_BYTES {
                    return Err(Bail);
                }
                let key = &self.text[at..i];
                match resolve_plain(key)? {
                    NodeKind::Str(_) => Ok((key, i)),
                    _ => Err(Bail),
                }
            }
            _ => Err(Bail),
        }
    }

    /// The value after a key's `:` (at `value_at`, the byte after it; the
    /// `:` at `colon`) or after a sequence's `-`, of a node at column
    /// `indent`. `indentless`: a sequence may start at the key's own column.
    fn value_after(
        &mut self,
        indent: usize,
        value_at: usize,
        colon: usize,
        mode: Mode,
        indentless: bool,
    ) -> Parsed<Option<Node>> {
        let b = self.b;
        let i = self.skip_spaces(value_at);
        if i < self.end && b[i] == b'&' {
            return self.anchored(indent, i, mode, indentless);
        }
        if i < self.end && b[i] != b'#' {
            let value = self.inline_value(indent, i, mode)?;
            return Ok(value);
        }
        // Nothing more on this line: the value is on the next lines, or null.
        let null_place = mode.builds().then(|| self.place(colon, 0));
        self.skip_line();
        if self.next_content()? {
            let first = self.start + self.indent;
            let dash = is_dash(b, first, self.end);
            if self.indent > indent || (indentless && dash && self.indent == indent) {
                if dash {
                    return self.block_seq(self.indent, mode, self.indent == indent);
                }
                let nested = self.indent;
                return self.block_map_at(nested, first, mode);
            }
        }
        self.count_event()?;
        Ok(null_place.map(|place| Node {
            kind: NodeKind::Null,
            place,
            tag: None,
        }))
    }

    /// A node with an anchor `&name` at byte `at`: built whole whatever
    /// `mode` says (an alias may use it where nodes are kept), remembered,
    /// and returned as `mode` wants it.
    fn anchored(
        &mut self,
        indent: usize,
        at: usize,
        mode: Mode,
        indentless: bool,
    ) -> Parsed<Option<Node>> {
        if !matches!(mode, Mode::Skip | Mode::Keep | Mode::Presence) {
            return Err(Bail);
        }
        let name_end = self.anchor_name_end(at + 1)?;
        let name = &self.text[at + 1..name_end];
        if self.anchors.contains_key(name) {
            return Err(Bail);
        }
        let value_at = self.skip_spaces(name_end);
        if value_at == name_end && value_at < self.end {
            return Err(Bail);
        }
        let events_before = self.events;
        self.anchoring += 1;
        let node = if value_at < self.end && self.b[value_at] != b'#' {
            let c = self.b[value_at];
            let scalar = starts_plain(c) || c == b'"' || c == b'\'';
            if matches!(c, b'&' | b'*' | b'|' | b'>') || (scalar && self.is_key_line(value_at)) {
                return Err(Bail);
            }
            self.inline_value(indent, value_at, Mode::Keep)?
        } else {
            // The anchored node is on the next lines; an anchored null is
            // left to the full parser.
            self.skip_line();
            if !self.next_content()? {
                return Err(Bail);
            }
            let first = self.start + self.indent;
            let dash = is_dash(self.b, first, self.end);
            if self.indent > indent || (indentless && dash && self.indent == indent) {
                if dash {
                    self.block_seq(self.indent, Mode::Keep, self.indent == indent)?
                } else {
                    let nested = self.indent;
                    self.block_map_at(nested, first, Mode::Keep)?
                }
            } else {
                return Err(Bail);
            }
        };
        self.anchoring -= 1;
        let node = node.ok_or(Bail)?;
        let count = self.events - events_before;
        self.anchors.insert(name, (node.clone(), count));
        Ok(mode.builds().then_some(node))
    }

    /// Where an anchor or alias name starting at `at` ends.
    fn anchor_name_end(&self, at: usize) -> Parsed<usize> {
        let mut i = at;
        while i < self.end && !matches!(self.b[i], b' ' | b',' | b'[' | b']' | b'{' | b'}') {
            i += 1;
        }
        if i == at { Err(Bail) } else { Ok(i) }
    }

    /// An alias `*name` at byte `at` of the current line: its name's node and
    /// the alias's own place.
    fn alias(&mut self, at: usize) -> Parsed<(Node, Place, usize)> {
        if self.anchoring > 0 {
            return Err(Bail);
        }
        let end = self.anchor_name_end(at + 1)?;
        let name = &self.text[at + 1..end];
        let (node, count) = self.anchors.get(name).ok_or(Bail)?;
        let (node, count) = (node.clone(), *count);
        self.events += count;
        if self.events > EXPANDED_EVENTS / 4 {
            return Err(Bail);
        }
        Ok((node, self.place(at, end - at), end))
    }

    /// A value that starts on the current line at byte `at` (not a comment).
    fn inline_value(&mut self, indent: usize, at: usize, mode: Mode) -> Parsed<Option<Node>> {
        let b = self.b;
        match b[at] {
            b'[' | b'{' => {
                let (node, end) = self.flow(at, mode)?;
                self.rest_is_comment(end)?;
                self.skip_line();
                Ok(node)
            }
            b'"' | b'\'' => {
                let close = self.quoted_end(at)?;
                self.rest_is_comment(close)?;
                let node = if mode.builds() {
                    Some(Node {
                        kind: NodeKind::Str(self.quoted_value(at, close)?),
                        place: self.place(at, close - at),
                        tag: None,
                    })
                } else {
                    self.check_escapes(at, close)?;
                    None
                };
                self.count_event()?;
                self.skip_line();
                Ok(node)
            }
            b'|' | b'>' => {
                if mode.builds() {
                    return Err(Bail);
                }
                self.block_scalar(indent, at)?;
                Ok(None)
            }
            b'*' => {
                if !matches!(mode, Mode::Skip | Mode::Keep | Mode::Presence) {
                    return Err(Bail);
                }
                let (node, place, end) = self.alias(at)?;
                self.rest_is_comment(end)?;
                self.skip_line();
                Ok(mode.builds().then(|| used_at(&node, &place)))
            }
            b'-' if is_dash(b, at, self.end) => Err(Bail),
            c if starts_plain(c) => {
                // A compact mapping (`- key: value`) or a plain scalar.
                let (end, is_key) = self.plain_end(at);
                if is_key {
                    return Err(Bail);
                }
                self.count_event()?;
                let node = if mode.builds() {
                    let text = &self.text[at..end];
                    Some(Node {
                        kind: resolve_in(mode, text)?,
                        place: self.place(at, end - at),
                        tag: None,
                    })
                } else {
                    None
                };
                self.skip_line();
                Ok(node)
            }
            _ => Err(Bail),
        }
    }

    /// Where a plain scalar starting at `at` ends (trailing spaces and a
    /// comment excluded), and whether a `: ` made it a key instead.
    fn plain_end(&self, at: usize) -> (usize, bool) {
        let b = self.b;
        let mut i = at;
        let mut end = at;
        while i < self.end {
            match b[i] {
                b':' if after_colon_ok(b, i + 1, self.end) => return (end, true),
                b'#' if b[i - 1] == b' ' => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        (end, false)
    }

    /// After a scalar or flow collection ending at `at`: only spaces and a
    /// comment may follow on the line.
    fn rest_is_comment(&self, at: usize) -> Parsed<()> {
        let b = self.b;
        let mut i = at;
        while i < self.end && b[i] == b' ' {
            i += 1;
        }
        if i == self.end || (b[i] == b'#' && i > at) {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A block sequence whose first `-` is on the current line at column
    /// `indent`.
    /// `indentless`: at its key's own column (`ports:` then `- ...` below
    /// it), where the full parser places the sequence at its first item's
    /// content rather than at the `-`.
    fn block_seq(&mut self, indent: usize, mode: Mode, indentless: bool) -> Parsed<Option<Node>> {
        self.enter()?;
        let item_mode = mode.item()?;
        let dash = self.start + indent;
        let at = if indentless {
            let content = self.skip_spaces(dash + 1);
            if content >= self.end || self.b[content] == b'#' {
                return Err(Bail);
            }
            content
        } else {
            dash
        };
        let place = mode.builds().then(|| self.place(at, 0));
        let mut items = Vec::new();
        loop {
            let dash = self.start + indent;
            let item = self.seq_item(indent, dash, item_mode)?;
            if let Some(item) = item {
                items.push(item);
            }
            if !self.next_content()? || self.indent < indent {
                break;
            }
            if self.indent > indent {
                return Err(Bail);
            }
            let first = self.start + indent;
            if !is_dash(self.b, first, self.end) {
                break;
            }
        }
        self.leave();
        Ok(place.map(|place| Node {
            kind: NodeKind::Seq(items),
            place,
            tag: None,
        }))
    }

    /// One item of a block sequence, its `-` at byte `dash`.
    fn seq_item(&mut self, indent: usize, dash: usize, mode: Mode) -> Parsed<Option<Node>> {
        let b = self.b;
        let mut i = dash + 1;
        while i < self.end && b[i] == b' ' {
            i += 1;
        }
        if i >= self.end || b[i] == b'#' {
            // The item is on the next lines (an empty item is left to the
            // full parser).
            self.skip_line();
            if !self.next_content()? || self.indent <= indent {
                return Err(Bail);
            }
            let first = self.start + self.indent;
            if is_dash(b, first, self.end) {
                return Err(Bail);
            }
            let nested = self.indent;
            return self.block_map_at(nested, first, mode);
        }
        if b[i] == b'&' {
            if !matches!(mode, Mode::Skip | Mode::Keep) {
                return Err(Bail);
            }
            return self.anchored(indent, i, mode, false);
        }
        if starts_plain(b[i]) || b[i] == b'"' || b[i] == b'\'' {
            // `- key: value` starts a mapping at the key's column.
            if self.is_key_line(i) {
                let column = i - self.start;
                return self.block_map_at(column, i, mode);
            }
        }
        self.inline_value(indent, i, mode)
    }

    /// Whether the content at byte `at` is a `key:` (plain or quoted).
    fn is_key_line(&self, at: usize) -> bool {
        let b = self.b;
        match b[at] {
            b'"' | b'\'' => match self.quoted_end(at) {
                Ok(close) => close < self.end && b[close] == b':',
                Err(Bail) => false,
            },
            _ => self.plain_end(at).1,
        }
    }

    /// Skips the lines of a block scalar whose header is at byte `at` of a
    /// node at column `indent`.
    fn block_scalar(&mut self, indent: usize, at: usize) -> Parsed<()> {
        let b = self.b;
        let mut i = at + 1;
        if i < self.end && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if i < self.end && b[i] != b' ' && b[i] != b'#' {
            // Explicit indentation indicators: left to the full parser.
            return Err(Bail);
        }
        self.rest_is_comment(i)?;
        self.count_event()?;
        self.skip_line();
        // The content's indentation is the first non-blank line's; blank
        // lines before it may not be longer.
        let mut longest_blank = 0;
        let content_indent = loop {
            if self.at_end() {
                return Ok(());
            }
            self.measure();
            if self.start + self.indent == self.end {
                longest_blank = longest_blank.max(self.indent);
                self.skip_line();
                continue;
            }
            break self.indent;
        };
        if content_indent <= indent {
            // An empty scalar; the line belongs to the enclosing node.
            return if longest_blank > indent {
                Err(Bail)
            } else {
                Ok(())
            };
        }
        if longest_blank > content_indent {
            return Err(Bail);
        }
        loop {
            if self.at_end() {
                return Ok(());
            }
            self.measure();
            let blank = self.start + self.indent == self.end;
            if blank || self.indent >= content_indent {
                self.skip_line();
                continue;
            }
            if self.indent > indent {
                return Err(Bail);
            }
            return Ok(());
        }
    }

    /// The byte after the closing quote of a one-line quoted scalar at `at`.
    fn quoted_end(&self, at: usize) -> Parsed<usize> {
        let b = self.b;
        let quote = b[at];
        let mut i = at + 1;
        while i < self.end {
            let c = b[i];
            if quote == b'"' && c == b'\\' {
                i += 2;
                continue;
            }
            if c == quote {
                if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Ok(i + 1);
            }
            i += 1;
        }
        Err(Bail)
    }

    /// The value of the quoted scalar `at..close`.
    fn quoted_value(&self, at: usize, close: usize) -> Parsed<String> {
        let inner = &self.text[at + 1..close - 1];
        if self.b[at] == b'\'' {
            return Ok(inner.replace("''", "'"));
        }
        if !inner.contains('\\') {
            return Ok(inner.to_owned());
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let decoded = match chars.next().ok_or(Bail)? {
                '0' => '\0',
                'a' => '\u{7}',
                'b' => '\u{8}',
                't' => '\t',
                'n' => '\n',
                'v' => '\u{b}',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                ' ' => ' ',
                '"' => '"',
                '/' => '/',
                '\\' => '\\',
                _ => return Err(Bail),
            };
            out.push(decoded);
        }
        Ok(out)
    }

    /// Checks the escapes of a double-quoted scalar read in skip mode.
    fn check_escapes(&self, at: usize, close: usize) -> Parsed<()> {
        if self.b[at] == b'"' && self.b[at + 1..close - 1].contains(&b'\\') {
            self.quoted_value(at, close)?;
        }
        Ok(())
    }

    /// A flow collection on one line starting at `at`: the node and the byte
    /// after it.
    fn flow(&mut self, at: usize, mode: Mode) -> Parsed<(Option<Node>, usize)> {
        self.enter()?;
        let b = self.b;
        let is_map = b[at] == b'{';
        let close = if is_map { b'}' } else { b']' };
        let place = mode.builds().then(|| self.place(at, 1));
        let keys = self.open_keys();
        let mut items = Vec::new();
        let mut entries = Vec::new();
        let mut i = self.skip_spaces(at + 1);
        if i < self.end && b[i] == close {
            i += 1;
        } else {
            loop {
                if i >= self.end {
                    return Err(Bail);
                }
                if is_map {
                    let (key, key_end) = self.flow_key(i)?;
                    self.add_key(&keys, key)?;
                    self.count_event()?;
                    let child = mode.child(key);
                    let key_node = mode.builds().then(|| Node {
                        kind: NodeKind::Str(key.to_owned()),
                        place: self.place(i, key_end - i),
                        tag: None,
                    });
                    // key_end is the `:`.
                    let v = self.skip_spaces(key_end + 1);
                    if v >= self.end || matches!(b[v], b',' | b'}') {
                        return Err(Bail);
                    }
                    let (value, after) = self.flow_node(v, child)?;
                    if let (Some(k), Some(value)) = (key_node, value) {
                        entries.push((k, finish(child, value)?));
                    }
                    i = after;
                } else {
                    let (item, after) = self.flow_node(i, mode.item()?)?;
                    if let Some(item) = item {
                        items.push(item);
                    }
                    i = after;
                }
                i = self.skip_spaces(i);
                if i >= self.end {
                    return Err(Bail);
                }
                if b[i] == close {
                    i += 1;
                    break;
                }
                if b[i] != b',' {
                    return Err(Bail);
                }
                i = self.skip_spaces(i + 1);
                if i >= self.end || b[i] == close || b[i] == b',' {
                    // Trailing or empty entries: left to the full parser.
                    return Err(Bail);
                }
            }
        }
        self.close_keys(keys);
        self.leave();
        let node = place.map(|place| Node {
            kind: if is_map {
                NodeKind::Map(entries)
            } else {
                NodeKind::Seq(items)
            },
            place,
            tag: None,
        });
        Ok((node, i))
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        while i < self.end && self.b[i] == b' ' {
            i += 1;
        }
        i
    }

    /// A key of a flow mapping at `at`: its text and the byte of its `:`.
    fn flow_key(&self, at: usize) -> Parsed<(&'a str, usize)> {
        let b = self.b;
        let (key, after) = match b[at] {
            b'"' | b'\'' => {
                let close = self.quoted_end(at)?;
                let inner = &self.text[at + 1..close - 1];
                if inner.contains(['\\', '\'']) {
                    return Err(Bail);
                }
                (inner, close)
            }
            c if starts_plain(c) => {
                let end = self.flow_plain_end(at)?;
                let key = &self.text[at..end];
                if !matches!(resolve_plain(key)?, NodeKind::Str(_)) {
                    return Err(Bail);
                }
                (key, end)
            }
            _ => return Err(Bail),
        };
        // Exactly `key: ` (a space after the colon).
        if after < self.end && b[after] == b':' && b.get(after + 1) == Some(&b' ') {
            Ok((key, after))
        } else {
            Err(Bail)
        }
    }

    /// Where a plain scalar inside a flow collection ends: before `,`, `]`,
    /// `}`, `: ` or trailing spaces. A `:` followed by a space or a flow
    /// indicator ends it too; `[`, `{`, `#` inside are left to the full
    /// parser.
    fn flow_plain_end(&self, at: usize) -> Parsed<usize> {
        let b = self.b;
        let mut i = at;
        let mut end = at;
        while i < self.end {
            match b[i] {
                b',' | b']' | b'}' => break,
                b'[' | b'{' | b'#' => return Err(Bail),
                b':' if matches!(b.get(i + 1), Some(b' ' | b',' | b']' | b'}') | None) => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        Ok(end)
    }

    /// A node inside a flow collection at `at`: the node and the byte after
    /// it.
    fn flow_node(&mut self, at: usize, mode: Mode) -> Parsed<(Option<Node>, usize)> {
        let b = self.b;
        match b[at] {
            b'[' | b'{' => self.flow(at, mode),
            b'"' | b'\'' => {
                let close = self.quoted_end(at)?;
                self.count_event()?;
                let node = if mode.builds() {
                    Some(Node {
                        kind: NodeKind::Str(self.quoted_value(at, close)?),
                        place: self.place(at, close - at),
                        tag: None,
                    })
                } else {
                    self.check_escapes(at, close)?;
                    None
                };
                let after = self.skip_spaces(close);
                if after < self.end && b[after] == b':' {
                    // `["a": b]`: a single-pair mapping.
                    return Err(Bail);
                }
                Ok((node, close))
            }
            c if starts_plain(c) => {
                let end = self.flow_plain_end(at)?;
                if end < self.end && b[end] == b':' {
                    return Err(Bail);
                }
                let after = self.skip_spaces(end);
                if after < self.end && b[after] == b':' {
                    return Err(Bail);
                }
                self.count_event()?;
                let node = if mode.builds() {
                    let text = &self.text[at..end];
                    Some(Node {
                        kind: resolve_in(mode, text)?,
                        place: self.place(at, end - at),
                        tag: None,
                    })
                } else {
                    None
                };
                Ok((node, end))
            }
            _ => Err(Bail),
        }
    }
}

/// Adds to a service's kept entries those of the mappings merged into it
/// (`<<`) that it does not set itself, in order, the first mapping winning,
/// each placed where its alias is.
fn merge_service_keys(entries: &mut Vec<(Node, Node)>, merges: Vec<(Node, Place)>) -> Parsed<()> {
    for (merged, place) in merges {
        let NodeKind::Map(merged_entries) = &merged.kind else {
            return Err(Bail);
        };
        for (key, value) in merged_entries {
            let NodeKind::Str(name) = &key.kind else {
                return Err(Bail);
            };
            let child = Mode::Service.child(name);
            if child == Mode::Skip {
                continue;
            }
            let present = entries
                .iter()
                .any(|(k, _)| matches!(&k.kind, NodeKind::Str(n) if n == name));
            if present {
                continue;
            }
            entries.push((used_at(key, &place), finish(child, used_at(value, &place))?));
        }
    }
    Ok(())
}

/// A node reached through an alias at `alias`: every node of it is placed
/// at the alias and keeps where it is defined.
fn used_at(node: &Node, alias: &Place) -> Node {
    let kind = match &node.kind {
        NodeKind::Seq(items) => NodeKind::Seq(items.iter().map(|n| used_at(n, alias)).collect()),
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .iter()
                .map(|(k, v)| (used_at(k, alias), used_at(v, alias)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        kind,
        place: Place {
            line: alias.line,
            column: alias.column,
            span: alias.span.clone(),
            defined: node.place.defined.clone(),
        },
        tag: node.tag.clone(),
    }
}

/// What a value read in `mode` becomes in [`ComposeTop`]: a presence is a
/// boolean (or null), a service must be a mapping or null, `services` too.
fn finish(mode: Mode, node: Node) -> Parsed<Node> {
    match mode {
        Mode::Presence => Ok(Node {
            kind: match node.kind {
                NodeKind::Null => NodeKind::Null,
                _ => NodeKind::Bool(true),
            },
            ..node
        }),
        Mode::Services | Mode::Service => match node.kind {
            NodeKind::Map(_) | NodeKind::Null => Ok(node),
            _ => Err(Bail),
        },
        _ => Ok(node),
    }
}

/// [`resolve_plain`], except that a presence only needs to know null from
/// anything else (`build: .`).
fn resolve_in(mode: Mode, s: &str) -> Parsed<NodeKind> {
    match (mode, s) {
        (Mode::Presence, "~" | "null" | "Null" | "NULL") => Ok(NodeKind::Null),
        (Mode::Presence, _) => Ok(NodeKind::Bool(true)),
        _ => resolve_plain(s),
    }
}

/// Whether byte `at` is a sequence entry's `-` (followed by a space or the
/// end of the line).
fn is_dash(b: &[u8], at: usize, end: usize) -> bool {
    at < end && b[at] == b'-' && (at + 1 == end || b[at + 1] == b' ')
}

/// Whether a `:` whose next byte is at `next` separates a key from its value.
fn after_colon_ok(b: &[u8], next: usize, end: usize) -> bool {
    next >= end || b[next] == b' '
}

/// Whether a plain scalar may start with `c` in the
/// subset: not an indicator, and not `-`, `?`, `:` (which YAML allows before
/// a non-space, but which are rare enough to leave to the full parser).
fn starts_plain(c: u8) -> bool {
    !matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    )
}

/// The type of a plain scalar as compose's YAML reader resolves it
/// ([`crate::yaml::compose_options`]), where that is obvious; anything that
/// might be a number in one of YAML's spellings goes to the full parser.
fn resolve_plain(s: &str) -> Parsed<NodeKind> {
    let bytes = s.as_bytes();
    match s {
        "~" | "null" | "Null" | "NULL" => return Ok(NodeKind::Null),
        "true" | "True" | "TRUE" => return Ok(NodeKind::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(NodeKind::Bool(false)),
        _ => {}
    }
    let first = bytes[0];
    if first.is_ascii_digit() {
        if bytes.iter().all(u8::is_ascii_digit) {
            if (first == b'0' && bytes.len() > 1) || bytes.len() > 18 {
                return Err(Bail);
            }
            let value: i128 = s.parse().map_err(|_| Bail)?;
            return Ok(NodeKind::Int(value));
        }
        // Digits with characters no YAML number spelling has (`8080:80`,
        // `127.0.0.1:80:80`): a string. Anything else (`1e5`, `0x1F`,
        // `1_000`, `3000-3005`) is for the full parser.
        let numeric = |c: &u8| c.is_ascii_hexdigit() || b"xXoO+-._".contains(c);
        if !bytes.iter().all(numeric) {
            return Ok(NodeKind::Str(s.to_owned()));
        }
        // No spelling of a number has two dots (`127.0.0.1`) or a sign
        // right after a digit (`3000-3005`) outside a hexadecimal literal.
        let dots = bytes.iter().filter(|&&c| c == b'.').count();
        let hex = bytes.iter().any(|&c| c == b'x' || c == b'X');
        let inner_sign = bytes
            .windows(2)
            .any(|w| w[0].is_ascii_digit() && (w[1] == b'-' || w[1] == b'+'));
        if dots >= 2 || (!hex && inner_sign) {
            return Ok(NodeKind::Str(s.to_owned()));
        }
        return Err(Bail);
    }
    if first == b'.' {
        // `.5`, `.inf`, `.NaN` are numbers; `.`, `..`, `./data`, `.env` are not.
        let rest = &s[1..];
        let number = rest.as_bytes().first().is_some_and(u8::is_ascii_digit)
            || rest.eq_ignore_ascii_case("inf")
            || rest.eq_ignore_ascii_case("nan");
        return if number {
            Err(Bail)
        } else {
            Ok(NodeKind::Str(s.to_owned()))
        };
    }
    if matches!(first, b'+' | b'-' | b'~') {
        return Err(Bail);
    }
    Ok(NodeKind::Str(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subset's result and the full parser's, as text.
    fn both(src: &str) -> (Option<String>, String) {
        let lean = parse_compose(src).map(|t| format!("{t:#?}"));
        let full = crate::yaml::parse_compose_full("t.yml", src)
            .map(|t| format!("{t:#?}"))
            .unwrap_or_else(|e| format!("error: {e}"));
        (lean, full)
    }

    #[track_caller]
    fn same(src: &str) {
        let (lean, full) = both(src);
        let lean = lean.unwrap_or_else(|| panic!("the subset gave up on:\n{src}"));
        assert_eq!(lean, full, "for:\n{src}");
    }

    #[track_caller]
    fn gives_up(src: &str) {
        assert!(parse_compose(src).is_none(), "the subset read:\n{src}");
    }

    #[test]
    fn reads_what_the_full_parser_reads() {
        same(
            "# c\nname: demo\nservices:\n  web:\n    image: \"nginx\"   # x\n    build:\n    ports:\n      - 8080:80\n      - \"9090:90\"\n      - '1:2'\n      - 80\n      - target: 1025\n        published: 10176\n    extends: {service: base, file: b.yml}\n    profiles: [a, \"b\"]\n  empty:\n  db: {image: x, ports: [1, \"2:2\"]}\n",
        );
        same(
            "services:\n  a:\n    image: x\n    environment:\n      A: \"1\"\n      B: 'x''y'\n    command: |\n      echo hi\n\n      # not a comment\n    ports:\n    - \"1:1\"\n    - published: \"${P:-80}\"\n      target: 80\n  b:\n    build: .\n    healthcheck:\n      test: [\"CMD\", \"true\"]\nvolumes:\n  data: {}\n",
        );
        same(
            "services:\n  a:\n    image: x\n    ports: []\n    build:\n      context: .\n      args:\n        - A=1\ninclude:\n  - a.yml\n  - path: [b.yml, c.yml]\n    project_directory: ..\n",
        );
        same(
            "services:\n  a:\n    image: x # trailing\n    ports: # comment\n      - 1:1 # c\n\n\n    labels:\n      x: >-\n        folded\n        text\n",
        );
        same("services:\n  a:\n    build:\n    image:\n");
        same("services:\n  \"quoted\":\n    image: \"a\\tb\"\n    ports: [\"80\"]\n");
        same("services:\n  é:\n    image: é\n    ports:\n      - ü: 1\n");
        same("x: &a 1\nservices: {}\n");
        same(
            "x-common: &common\n  image: busybox\n  restart: always\nx-ports: &p\n  - \"80:80\"\n  - target: 1\n    published: 2\nservices:\n  a:\n    ports: *p\n    <<: *common\n    profiles: [x]\n",
        );
        same(
            "x-a: &a\n  image: a\n  ports: [\"1:1\"]\nx-b: &b\n  build: .\n  ports: [\"2:2\"]\n  profiles: [p]\nservices:\n  s:\n    <<: [*a, *b]\n    image: own\n  t:\n    <<: *b\n    ports: &tp\n      - 3:3\n  u:\n    image: u\n    ports: *tp\n    extends: &e {service: t}\n    profiles:\n      - &prof dev\n      - *prof\n",
        );
    }

    #[test]
    fn odd_characters_are_found_anywhere() {
        let base = "services:\n  a:\n    image: x\n    environment:\n      K: some long value to fill chunks\n";
        assert!(plain_text(base.as_bytes()));
        for odd in [
            "\t", "\r", "\u{7f}", "\u{85}", "\u{2028}", "\u{feff}", "\u{1}",
        ] {
            for at in [0, 1, 31, 32, 33, base.len() - 1] {
                let text = format!("{}{odd}{}", &base[..at], &base[at..]);
                assert!(!plain_text(text.as_bytes()), "{odd:?} at {at}");
            }
        }
        assert!(plain_text("é ü 日本 — fine".repeat(9).as_bytes()));
    }

    #[test]
    fn gives_up_outside_the_subset() {
        gives_up("services:\n  a:\n    <<: *undefined\n");
        gives_up("x: &a 1\ny: &a 2\n");
        gives_up("x: &a [*b]\n");
        gives_up("services:\n  a:\n    \"<<\": {}\n");
        gives_up("services:\n  a:\n    <<: *b\n");
        gives_up("services:\n  a:\n    ports: !reset []\n");
        gives_up("---\nservices: {}\n");
        gives_up("services:\n  a:\n    image: x\n---\nservices: {}\n");
        gives_up("services:\n\ta: 1\n");
        gives_up("services:\r\n  a: {}\r\n");
        gives_up("services:\n  a:\n    ports: [\n      1]\n");
        gives_up("services:\n  a:\n    command: \"multi\n      line\"\n");
        gives_up("services:\n  a:\n    command: plain\n      continued\n");
        gives_up("services:\n  a: {}\n  a: {}\n");
        let mut many = String::from("services:\n  a:\n    environment:\n");
        for i in 0..100 {
            many.push_str(&format!("      K{i}: v\n"));
        }
        same(&many);
        many.push_str("      K7: again\n");
        gives_up(&many);
        gives_up("services:\n  a:\n    x: {k: 1, j: 2, k: 3}\n");
        gives_up("services:\n  a:\n    ports:\n      - 0x1F\n");
        gives_up("services:\n  a:\n    ports:\n      - 010\n");
        gives_up("# only a comment\n");
        gives_up("services:\n  a:\n   b: 1\n    c: 2\n");
    }

    #[test]
    fn malformed_text_is_left_to_the_full_parser() {
        for src in [
            "services:\n  a: [1, 2\n",
            "services:\n  a: \"open\n",
            "services:\n  a:\n    b: 1\n   c: 2\n",
            "services: x: y\n",
            "services:\n  a:\n    image: x\n  - b\n",
            "a: 1\na: 2\n",
            "services:\n  a: {b: 1, b: 2}\n",
            "services:\n  a:\n    image: \"\\q\"\n",
        ] {
            let (lean, full) = both(src);
            assert!(
                lean.is_none() || Some(full.clone()) == lean,
                "{src}: {lean:?} vs {full}"
            );
            if full.starts_with("error") {
                assert!(lean.is_none(), "{src}");
            }
        }
    }
}

/// The subset against the full parser on every YAML file of the repository
/// and of the shared corpus: wherever the subset reads a file, both agree.
#[cfg(test)]
mod corpus {
    use std::path::{Path, PathBuf};

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() {
                if !matches!(name.as_ref(), "target" | "node_modules" | ".git" | ".venv") {
                    yaml_files(&path, out);
                }
            } else if kind.is_file()
                && (name.ends_with(".yml") || name.ends_with(".yaml") || dir.ends_with("seeds"))
            {
                out.push(path);
            }
        }
    }

    #[test]
    fn agrees_with_the_full_parser_on_every_yaml_file_here() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in [
            "tests",
            "examples",
            "fuzz",
            "benches",
            "docs",
            "../shared/corpus",
        ] {
            yaml_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 100, "only {} YAML files found", files.len());
        let (mut read, mut left) = (0, 0);
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            match super::parse_compose(&text) {
                Some(lean) => {
                    read += 1;
                    let full = crate::yaml::parse_compose_full("f", &text)
                        .map(|t| format!("{t:?}"))
                        .map_err(|e| e.to_string());
                    assert_eq!(Ok(format!("{lean:?}")), full, "{}", file.display());
                }
                None => left += 1,
            }
        }
        println!("subset read {read} files, left {left} to the full parser");
        assert!(
            read > left,
            "the subset reads too little: {read} read, {left} left"
        );
    }
}

/// Random compose-like documents, and random damage to them: wherever the
/// subset reads one, the full parser reads the same.
#[cfg(test)]
mod differential {
    /// A xorshift generator, and how many anchors the document has so far.
    struct Rng(u64, usize, usize);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// An anchor to put before a value, sometimes.
        fn anchor(&mut self, out: &mut String) {
            if self.below(8) == 0 {
                out.push_str(&format!(" &a{}", self.1));
                self.1 += 1;
            }
        }
        /// An alias of an earlier anchor (or, rarely, of none).
        fn alias(&mut self) -> String {
            let n = self.1 + usize::from(self.below(20) == 0);
            format!("*a{}", self.below(n.max(1)))
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// Scalars the subset reads (mostly), and ones it must leave alone.
    const SCALARS: &[&str] = &[
        "8080:80",
        "\"8080:80\"",
        "'1:2'",
        "80",
        "0",
        "127.0.0.1",
        "\"127.0.0.1:80:80\"",
        "3000-3005",
        "1-2",
        "..",
        "./data",
        ".env",
        "\"a\\\"b\"",
        "'it''s'",
        "\"\\t\"",
        "é",
        "a b",
        "a#b",
        "${P:-80}:80",
        "\"${P:-80}\"",
        "http://x:1/y",
        "a:b",
        "x",
        "\"\"",
        "''",
        "[]",
        "{}",
        "[a, b]",
        "{a: 1, b: [2, 3]}",
        "[\"1:1\", 2]",
        "{service: s, file: f.yml}",
        "{\"k\": 1}",
        "tcp",
        "udp",
        "host",
        "'0.0.0.0'",
        "~",
        "null",
        "true",
        "False",
        "yes",
        "1.2.3",
    ];
    const ODD_SCALARS: &[&str] = &[
        "010",
        "08",
        "1e5",
        "0x1F",
        "1_000",
        ".5",
        ".inf",
        "-.inf",
        "\"\\x41\"",
        "-1",
        "+1",
        "1.5",
        "[a: b]",
        "[a,]",
        "*alias",
        "&anchor x",
        "!reset []",
        "!override [1]",
        "|",
        ">-",
        "|2",
        "@x",
        "`x`",
        "%x",
        "? x",
        "a: b",
        "\"open",
        "[1, 2",
        "{a: 1, a: 2}",
        "{a:1}",
        "- x",
        "a #c",
    ];
    const KEYS: &[&str] = &[
        "services",
        "ports",
        "image",
        "build",
        "extends",
        "profiles",
        "include",
        "name",
        "environment",
        "target",
        "published",
        "host_ip",
        "protocol",
        "mode",
        "x-a",
        "\"ports\"",
        "'image'",
        "path",
        "service",
        "file",
        "a",
        "b",
        "a b",
        "c",
        "d",
        "e",
    ];
    const ODD_KEYS: &[&str] = &[
        "1", "true", "null", "~", "k:v", "services", "a", "? a", "- a",
    ];

    fn scalar(rng: &mut Rng) -> &'static str {
        if rng.below(40) == 0 {
            rng.pick(ODD_SCALARS)
        } else {
            rng.pick(SCALARS)
        }
    }

    fn key(rng: &mut Rng) -> &'static str {
        if rng.below(60) == 0 {
            rng.pick(ODD_KEYS)
        } else {
            rng.pick(KEYS)
        }
    }

    fn indent(out: &mut String, n: usize) {
        for _ in 0..n {
            out.push(' ');
        }
    }

    fn node(rng: &mut Rng, out: &mut String, depth: usize, col: usize) {
        // Called after `key:` or `-`; writes the rest of the line and more.
        match if depth > 2 { 0 } else { rng.below(5) } {
            0 | 1 => {
                if rng.1 > 0 && rng.below(8) == 0 {
                    out.push(' ');
                    let alias = rng.alias();
                    out.push_str(&alias);
                    out.push('\n');
                    return;
                }
                rng.anchor(out);
                out.push(' ');
                out.push_str(scalar(rng));
                if rng.below(6) == 0 {
                    out.push_str(" # note");
                }
                out.push('\n');
                if rng.below(30) == 0 {
                    // A block scalar body, or a stray deeper line.
                    indent(out, col + 2 + rng.below(3));
                    out.push_str("body line\n");
                }
            }
            2 => {
                out.push('\n');
                let inner = if rng.below(4) == 0 {
                    col
                } else {
                    col + 2 + rng.below(2)
                };
                for _ in 0..1 + rng.below(3) {
                    if rng.below(8) == 0 {
                        out.push('\n');
                        indent(out, inner);
                        out.push_str("# comment\n");
                    }
                    indent(out, inner);
                    out.push('-');
                    if rng.below(3) == 0 {
                        out.push(' ');
                        out.push_str(key(rng));
                        out.push(':');
                        node(rng, out, depth + 1, inner + 2);
                    } else {
                        node(rng, out, depth + 1, inner);
                    }
                }
            }
            _ => {
                rng.anchor(out);
                out.push('\n');
                let inner = col + 1 + rng.below(3);
                if rng.2 > 0 && rng.below(3) == 0 {
                    indent(out, inner);
                    let a = rng.below(rng.2);
                    if rng.below(3) == 0 {
                        let b = rng.below(rng.2 + 1);
                        out.push_str(&format!("<<: [*f{a}, *f{b}]\n"));
                    } else {
                        out.push_str(&format!("<<: *f{a}\n"));
                    }
                } else if rng.1 > 0 && rng.below(5) == 0 {
                    indent(out, inner);
                    if rng.below(3) == 0 {
                        let (a, b) = (rng.alias(), rng.alias());
                        out.push_str(&format!("<<: [{a}, {b}]\n"));
                    } else {
                        let a = rng.alias();
                        out.push_str(&format!("<<: {a}\n"));
                    }
                }
                let mut used = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    indent(out, inner);
                    let mut k = key(rng);
                    while used.contains(&k) && rng.below(20) != 0 {
                        k = key(rng);
                    }
                    used.push(k);
                    out.push_str(k);
                    out.push(':');
                    node(rng, out, depth + 1, inner);
                }
            }
        }
    }

    fn document(rng: &mut Rng) -> String {
        let mut out = String::new();
        if rng.below(5) == 0 {
            out.push_str("# header\n\n");
        }
        // Fragments to merge into services (`<<: *f0`).
        for f in 0..rng.below(3) {
            out.push_str(&format!("x-f{f}: &f{f}\n"));
            for key in ["image", "build", "ports", "profiles", "restart", "extends"] {
                if rng.below(2) == 0 {
                    out.push_str(&format!("  {key}: {}\n", scalar(rng)));
                }
            }
            out.push_str("  environment: {}\n");
            rng.2 += 1;
        }
        let mut used = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let mut k = key(rng);
            while used.contains(&k) && rng.below(20) != 0 {
                k = key(rng);
            }
            used.push(k);
            out.push_str(k);
            out.push(':');
            node(rng, &mut out, 0, 0);
        }
        out
    }

    fn damage(rng: &mut Rng, text: &str) -> String {
        let mut bytes: Vec<char> = text.chars().collect();
        for _ in 0..1 + rng.below(3) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => {
                    bytes.remove(at);
                }
                1 => bytes.insert(
                    at,
                    [' ', ':', '-', '#', '"', '\'', '\n', '[', '}'][rng.below(9)],
                ),
                _ => {
                    let other = rng.below(bytes.len());
                    bytes.swap(at, other);
                }
            }
        }
        bytes.into_iter().collect()
    }

    /// Arbitrary text (multi-byte characters and YAML indicators mixed) never
    /// makes the subset panic, and wherever it reads the text the full parser
    /// agrees (`yaml::parse_compose` asserts that in debug builds).
    #[test]
    fn arbitrary_text_never_panics() {
        const PIECES: &[&str] = &[
            " ",
            "  ",
            "\n",
            "-",
            "- ",
            ":",
            ": ",
            "#",
            " #",
            "\"",
            "'",
            "\\",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&a",
            "*a",
            "<<",
            "|",
            ">",
            "a",
            "1",
            "é",
            "日",
            "\u{1F600}",
            "services",
            "ports",
        ];
        let mut rng = Rng(0x2545_F491_4F6C_DD1D, 0, 0);
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..rng.below(40) {
                text.push_str(rng.pick(PIECES));
            }
            let _ = crate::yaml::parse_compose("f.yml", &text);
        }
    }

    #[test]
    fn random_documents_read_alike() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15, 0, 0);
        let (mut read, mut total, mut merged, mut aliased) = (0, 0, 0, 0);
        for case in 0..20_000 {
            rng.1 = 0;
            rng.2 = 0;
            let doc = document(&mut rng);
            let text = if case % 2 == 0 {
                doc
            } else {
                damage(&mut rng, &doc)
            };
            total += 1;
            if let Some(lean) = super::parse_compose(&text) {
                read += 1;
                merged += usize::from(text.contains("<<:"));
                aliased += usize::from(text.contains("*a"));
                let full = crate::yaml::parse_compose_full("f", &text)
                    .map(|t| format!("{t:?}"))
                    .map_err(|e| e.to_string());
                assert_eq!(Ok(format!("{lean:?}")), full, "for:\n{text}");
            }
        }
        println!(
            "subset read {read} of {total} random documents, {merged} with merge keys, {aliased} with aliases"
        );
        assert!(
            read * 6 > total,
            "only {read} of {total} read: the generator tests nothing"
        );
    }
}

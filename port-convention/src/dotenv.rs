//! A `.env` reader that gives exactly the values Docker Compose gives, and
//! remembers where each value is written so that it can be rewritten in place.
//!
//! The reference is compose-go v2, `dotenv/parser.go` (`parser.parse`,
//! `getStatementStart`, `locateKeyName`, `extractVarValue`, `expandEscapes`)
//! and `dotenv/godotenv.go` (`ParseWithLookup`, `expandVariables`). In short:
//!
//! * A UTF-8 byte order mark at the very start is skipped.
//! * Blank lines and lines whose first non-blank character is `#` are ignored.
//! * A statement is `[export ]KEY=value` or `[export ]KEY: value`; blanks
//!   around the key and after the separator are ignored. Keys are made of
//!   letters, digits, `_ . - [ ]` (a space inside a key is an error, other
//!   blanks are kept).
//! * `KEY` alone on its line takes its value from the lookup (the
//!   environment), and is left out when the lookup has none.
//! * Unquoted values run to the end of the line; ` #` (space, hash) starts a
//!   comment, trailing blanks (including `\r`) are dropped, and `$VAR` /
//!   `${VAR...}` are interpolated.
//! * Single-quoted values are literal, except that `\'` is a quote.
//! * Double-quoted values understand `\a \b \f \n \r \t \v \" \\ \$` and
//!   `\0NNN` (octal), and are then interpolated.
//! * Quoted values may span lines; text after the closing quote on the same
//!   line is read as a new statement (or a comment).
//! * Interpolation looks a name up in the lookup first, then among the keys
//!   already read from the same file (so the environment wins).
//!
//! See `docs/compat-interpolation-dotenv.md` for the full grammar and every
//! deliberate difference.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::Serialize;

use crate::interpolation::interpolate;
use crate::{Error, Location};

/// How a value is quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quote {
    /// Not quoted (or a key without value, see [`DotenvEntry::inherited`]).
    None,
    /// `'...'`: literal.
    Single,
    /// `"..."`: escapes and interpolation.
    Double,
}

/// One `KEY=value` statement of a `.env` file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DotenvEntry {
    /// The key, without `export` and surrounding blanks.
    pub key: String,
    /// The value as Compose sees it: unquoted, unescaped and interpolated.
    pub value: String,
    /// 1-based line of the key.
    pub line: u32,
    /// 1-based column (in characters, a leading byte order mark not counted)
    /// of [`DotenvEntry::raw_value`]'s start: the value's first character,
    /// after the opening quote if any.
    pub column: u32,
    /// Byte range of the value as written in the file, without its quotes,
    /// without an inline comment and without trailing blanks (so
    /// `PORT=5433 # db` gives the range of `5433`). Replacing exactly this
    /// range rewrites the value. Empty for an empty value, and for an
    /// [`inherited`](DotenvEntry::inherited) key (then placed right after the
    /// key).
    pub raw_value: Range<usize>,
    /// How the value is quoted.
    pub quote: Quote,
    /// `true` for a key written without `=`, whose value came from the lookup.
    pub inherited: bool,
}

/// A key set more than once in the same file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DuplicateKey {
    /// The key.
    pub key: String,
    /// Line of the key's first entry.
    pub first_line: u32,
    /// Line of a later entry for the same key (one [`DuplicateKey`] per
    /// repetition, each paired with the first entry).
    pub second_line: u32,
}

/// A parsed `.env` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dotenv {
    /// Every entry in file order, repeated keys included. A key written
    /// without `=` appears only when the lookup knew it, as in Compose.
    pub entries: Vec<DotenvEntry>,
    /// Every repeated key, in file order.
    pub duplicates: Vec<DuplicateKey>,
}

impl Dotenv {
    /// The value of `key` as Compose sees it (the last entry wins).
    ///
    /// ```
    /// use port_convention::dotenv::parse_dotenv;
    /// let env = parse_dotenv(".env", "A=1\nA=2\n", &|_| None)?;
    /// assert_eq!(env.get("A"), Some("2"));
    /// assert_eq!(env.get("B"), None);
    /// # Ok::<(), port_convention::Error>(())
    /// ```
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.key == key)
            .map(|entry| entry.value.as_str())
    }

    /// The last entry of `key`, with its position in the file.
    #[must_use]
    pub fn entry(&self, key: &str) -> Option<&DotenvEntry> {
        self.entries.iter().rev().find(|entry| entry.key == key)
    }

    /// Every key with its value (the last entry wins).
    #[must_use]
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|entry| (entry.key.clone(), entry.value.clone()))
            .collect()
    }
}

/// Parses the `.env` file `text` as Docker Compose does; `file` only names it
/// in error locations, and `lookup` gives the environment (for keys written
/// without `=` and for interpolation, where it wins over keys of the file).
///
/// # Errors
///
/// * [`Error::DotenvSyntax`] for a character that cannot be in a key, a key
///   containing a space, a quoted value without its closing quote (located
///   at the opening quote), or an `export` with nothing after it;
/// * [`Error::InvalidTemplate`] / [`Error::RequiredVariable`] when
///   interpolating a value fails, placed at the value (Compose gives no line).
///
/// # Examples
///
/// ```
/// use port_convention::dotenv::{parse_dotenv, Quote};
///
/// let text = "# ports\r\nexport PG_PORT=5433 # postgres\r\nURL=\"db:${PG_PORT}\"\r\n";
/// let env = parse_dotenv(".env", text, &|_| None)?;
/// assert_eq!(env.get("URL"), Some("db:5433"));
///
/// let pg = &env.entries[0];
/// assert_eq!((pg.key.as_str(), pg.line, pg.column), ("PG_PORT", 2, 16));
/// assert_eq!(&text[pg.raw_value.clone()], "5433");
/// assert_eq!(env.entries[1].quote, Quote::Double);
///
/// // The environment wins over earlier keys of the file.
/// let env = parse_dotenv(".env", "A=1\nB=$A\n", &|k| (k == "A").then(|| "9".into()))?;
/// assert_eq!(env.get("B"), Some("9"));
///
/// let err = parse_dotenv(".env", "A=1\nB=\"open\n", &|_| None).unwrap_err();
/// assert_eq!(err.location().map(|l| l.line), Some(2));
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn parse_dotenv(
    file: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Dotenv, Error> {
    let bom = if text.starts_with('\u{FEFF}') {
        '\u{FEFF}'.len_utf8()
    } else {
        0
    };
    let mut line_starts = vec![0];
    line_starts.extend(
        text.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let mut parser = Parser {
        file,
        text,
        bom,
        line_starts,
        column_memo: std::cell::Cell::new((usize::MAX, 0, 0)),
        lookup,
        seen: HashMap::new(),
        entries: Vec::new(),
    };
    parser.parse()?;

    let mut first_lines: HashMap<&str, u32> = HashMap::new();
    let mut duplicates = Vec::new();
    for entry in &parser.entries {
        match first_lines.get(entry.key.as_str()) {
            Some(&first_line) => duplicates.push(DuplicateKey {
                key: entry.key.clone(),
                first_line,
                second_line: entry.line,
            }),
            None => {
                first_lines.insert(entry.key.as_str(), entry.line);
            }
        }
    }
    Ok(Dotenv {
        entries: parser.entries,
        duplicates,
    })
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    bom: usize,
    line_starts: Vec<usize>,
    /// The last column computed: (line start, byte offset, characters).
    column_memo: std::cell::Cell<(usize, usize, usize)>,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// compose-go's `out` map: the values read so far, last one wins.
    seen: HashMap<String, String>,
    entries: Vec<DotenvEntry>,
}

impl Parser<'_> {
    fn rest(&self, from: usize) -> &str {
        self.text.get(from..).unwrap_or("")
    }

    fn line_of(&self, at: usize) -> u32 {
        let line = self.line_starts.partition_point(|&start| start <= at);
        u32::try_from(line).unwrap_or(u32::MAX)
    }

    fn column_of(&self, at: usize) -> u32 {
        let index = self.line_starts.partition_point(|&start| start <= at);
        let start = self
            .line_starts
            .get(index.saturating_sub(1))
            .copied()
            .unwrap_or(0)
            .max(self.bom)
            .min(at);
        // Counting from the last position asked for on the same line keeps
        // a line of a million statements linear, not quadratic.
        let (from, base) = match self.column_memo.get() {
            (memo_start, memo_at, memo_chars) if memo_start == start && memo_at <= at => {
                (memo_at, memo_chars)
            }
            _ => (start, 0),
        };
        let chars = base + self.text.get(from..at).map_or(0, |s| s.chars().count());
        self.column_memo.set((start, at, chars));
        u32::try_from(chars + 1).unwrap_or(u32::MAX)
    }

    fn location_of(&self, at: usize) -> Location {
        Location::new(self.file, self.line_of(at), self.column_of(at))
    }

    fn error(&self, at: usize, reason: crate::DotenvReason) -> Error {
        Error::DotenvSyntax {
            location: Location::new(self.file, self.line_of(at), self.column_of(at)),
            reason,
        }
    }

    /// compose-go `parser.parse`.
    fn parse(&mut self) -> Result<(), Error> {
        let mut at = self.bom;
        while let Some(statement) = self.statement_start(at) {
            at = self.statement(statement)?;
        }
        Ok(())
    }

    /// compose-go `getStatementStart`: skips blanks (newlines included) and
    /// comment lines; `None` at the end of the file.
    fn statement_start(&self, mut at: usize) -> Option<usize> {
        loop {
            let rest = self.rest(at);
            let (offset, c) = rest.char_indices().find(|&(_, c)| !c.is_whitespace())?;
            let start = at + offset;
            if c != '#' {
                return Some(start);
            }
            let newline = self.rest(start).find('\n')?;
            at = start + newline;
        }
    }

    /// One statement starting at `start`; returns where the next one may
    /// start (compose-go `locateKeyName` + `extractVarValue`).
    fn statement(&mut self, start: usize) -> Result<usize, Error> {
        let mut src = start;
        // `^export\s+` (Go's `\s` is `[\t\n\f\r ]`), then `isSpace` trimmed.
        if let Some(after) = self.rest(src).strip_prefix("export")
            && after.starts_with(['\t', '\n', '\u{c}', '\r', ' '])
        {
            src += "export".len();
            src = self.skip_blanks(src);
        }
        let rest = self.rest(src);
        let mut terminator = None;
        for (offset, c) in rest.char_indices() {
            if is_blank(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    terminator = Some((src + offset, c));
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphabetic() || c.is_numeric() => {}
                c => {
                    let name = rest.split('\n').next().unwrap_or(rest);
                    return Err(self.error(
                        src + offset,
                        crate::DotenvReason::UnexpectedCharacter {
                            character: c,
                            name: name.to_owned(),
                        },
                    ));
                }
            }
        }
        if rest.is_empty() {
            return Err(self.error(start, crate::DotenvReason::EmptyName));
        }
        // Without `=`, `:` or a newline before the end of the file, compose-go
        // leaves the key empty and reads the whole statement as the value.
        let (key_end_raw, after, inherited) = match terminator {
            Some((at, c)) => (at, at + c.len_utf8(), c == '\n'),
            None => (src, src, false),
        };
        let key = self
            .text
            .get(src..key_end_raw)
            .unwrap_or("")
            .trim_end_matches(char::is_whitespace)
            .to_owned();
        if key.contains(' ') {
            return Err(self.error(
                src,
                crate::DotenvReason::SpaceInName {
                    name: key.to_owned(),
                },
            ));
        }
        let key_end = src + key.len();
        let line = self.line_of(src);
        let value_start = self.skip_blanks(after);

        if inherited {
            if let Some(value) = (self.lookup)(&key) {
                self.seen.insert(key.clone(), value.clone());
                self.entries.push(DotenvEntry {
                    key,
                    value,
                    line,
                    column: self.column_of(key_end),
                    raw_value: key_end..key_end,
                    quote: Quote::None,
                    inherited: true,
                });
            }
            return Ok(value_start);
        }

        let (value, raw_value, quote, next) = match self.text.as_bytes().get(value_start) {
            Some(&q @ (b'"' | b'\'')) => {
                let Some((close, bytes)) = self.scan_quoted(value_start, q) else {
                    let shown = self.rest(value_start).split('\n').next().unwrap_or("");
                    return Err(self.error(
                        value_start,
                        crate::DotenvReason::UnterminatedQuote {
                            shown: shown.to_owned(),
                        },
                    ));
                };
                let raw = String::from_utf8_lossy(&bytes).into_owned();
                if q == b'"' {
                    let value = self
                        .expand(&expand_escapes(&raw))
                        .map_err(|e| e.located(self.location_of(value_start)))?;
                    (value, value_start + 1..close, Quote::Double, close + 1)
                } else {
                    (raw, value_start + 1..close, Quote::Single, close + 1)
                }
            }
            _ => {
                let rest = self.rest(value_start);
                let (line_text, next) = match rest.find('\n') {
                    Some(newline) => (
                        rest.get(..newline).unwrap_or(rest),
                        value_start + newline + 1,
                    ),
                    None => (rest, self.text.len()),
                };
                let uncommented = match line_text.find(" #") {
                    Some(hash) => line_text.get(..hash).unwrap_or(line_text),
                    None => line_text,
                };
                let written = uncommented.trim_end_matches(char::is_whitespace);
                let value = self
                    .expand(written)
                    .map_err(|e| e.located(self.location_of(value_start)))?;
                // An empty value is placed right after the separator, so that
                // writing into it never lands after a `\r` of a CRLF line.
                let start = if written.is_empty() {
                    after
                } else {
                    value_start
                };
                (value, start..start + written.len(), Quote::None, next)
            }
        };
        self.seen.insert(key.clone(), value.clone());
        self.entries.push(DotenvEntry {
            key,
            value,
            line,
            column: self.column_of(raw_value.start),
            raw_value,
            quote,
            inherited: false,
        });
        Ok(next)
    }

    /// compose-go `TrimLeftFunc(s, isSpace)`: blanks, not newlines.
    fn skip_blanks(&self, from: usize) -> usize {
        let rest = self.rest(from);
        from + rest.len() - rest.trim_start_matches(is_blank).len()
    }

    /// Finds the closing quote of the value opened at `open`; returns its
    /// index and the bytes between, with the backslash of `\<quote>` removed
    /// (every other backslash is kept).
    fn scan_quoted(&self, open: usize, quote: u8) -> Option<(usize, Vec<u8>)> {
        let bytes = self.text.as_bytes();
        let mut value = Vec::new();
        let mut escaped = false;
        let mut at = open + 1;
        while let Some(&b) = bytes.get(at) {
            if escaped {
                escaped = false;
                if b != quote {
                    value.push(b'\\');
                }
                value.push(b);
            } else if b == b'\\' {
                escaped = true;
            } else if b == quote {
                return Some((at, value));
            } else {
                value.push(b);
            }
            at += 1;
        }
        None
    }

    /// compose-go `expandVariables`: the lookup first, then the file.
    fn expand(&self, value: &str) -> Result<String, Error> {
        let lookup = |name: &str| (self.lookup)(name).or_else(|| self.seen.get(name).cloned());
        interpolate(value, &lookup).map(|out| out.value)
    }
}

/// compose-go `isSpace`: a blank that is not a line break.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// compose-go `expandEscapes`: the escapes of a double-quoted value,
/// `\\(?:[abcfnrtv$"\\]|0\d{0,3})`, each decoded as Go's
/// `strconv.UnquoteChar` does (an undecodable one is kept, minus the `0` of
/// `\0`). `\$` becomes `$$` so that interpolation keeps a literal `$`.
fn expand_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(backslash) = rest.find('\\') {
        out.push_str(rest.get(..backslash).unwrap_or(""));
        let after = rest.get(backslash + 1..).unwrap_or("");
        let mut chars = after.chars();
        match chars.next() {
            Some('$') => {
                out.push_str("$$");
                rest = chars.as_str();
            }
            Some(c @ ('a' | 'b' | 'c' | 'f' | 'n' | 'r' | 't' | 'v' | '"' | '\\')) => {
                match c {
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    // `\c` matches the pattern but is not a Go escape.
                    _ => {
                        out.push('\\');
                        out.push(c);
                    }
                }
                rest = chars.as_str();
            }
            Some('0') => {
                let tail = chars.as_str();
                let count = tail.bytes().take(3).take_while(u8::is_ascii_digit).count();
                let digits = tail.get(..count).unwrap_or("");
                match octal(digits) {
                    Some(c) => out.push(c),
                    None => {
                        out.push('\\');
                        out.push_str(digits);
                    }
                }
                rest = tail.get(count..).unwrap_or("");
            }
            _ => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Three octal digits worth at most 255, as `strconv.UnquoteChar` reads
/// `\NNN`.
fn octal(digits: &str) -> Option<char> {
    if digits.len() != 3 {
        return None;
    }
    let mut value = 0u32;
    for b in digits.bytes() {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value * 8 + u32::from(b - b'0');
    }
    if value > 255 {
        return None;
    }
    char::from_u32(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Dotenv {
        match parse_dotenv(".env", text, &|_| None) {
            Ok(env) => env,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn raw<'t>(text: &'t str, entry: &DotenvEntry) -> &'t str {
        text.get(entry.raw_value.clone())
            .unwrap_or("<not a char boundary>")
    }

    #[test]
    fn raw_spans_unquoted_with_comment_and_crlf() {
        let text = "A=5433\r\nB = 6379   # cache\r\nexport C=7000\r\n";
        let env = parse(text);
        let got: Vec<_> = env
            .entries
            .iter()
            .map(|e| (e.key.as_str(), raw(text, e), e.line, e.column))
            .collect();
        assert_eq!(
            got,
            [
                ("A", "5433", 1, 3),
                ("B", "6379", 2, 5),
                ("C", "7000", 3, 10)
            ]
        );
        assert_eq!(env.entries[0].raw_value, 2..6);
        assert_eq!(env.entries[1].raw_value, 12..16);
    }

    #[test]
    fn raw_spans_without_trailing_newline() {
        let text = "A=1\nB=5433";
        let env = parse(text);
        assert_eq!(env.entries[1].raw_value, 6..10);
        assert_eq!(raw(text, &env.entries[1]), "5433");
        let text = "A='x'";
        let env = parse(text);
        assert_eq!(env.entries[0].raw_value, 3..4);
    }

    #[test]
    fn raw_spans_quoted() {
        let text = "A=\"5433\" # db\r\nB='6379'\r\nC=\"\"\r\nD=\"a\\\"b\"\r\n";
        let env = parse(text);
        let got: Vec<_> = env
            .entries
            .iter()
            .map(|e| (raw(text, e), e.value.as_str(), e.quote, e.column))
            .collect();
        assert_eq!(
            got,
            [
                ("5433", "5433", Quote::Double, 4),
                ("6379", "6379", Quote::Single, 4),
                ("", "", Quote::Double, 4),
                ("a\\\"b", "a\"b", Quote::Double, 4),
            ]
        );
    }

    #[test]
    fn raw_span_multiline_quoted() {
        let text = "A=\"one\r\ntwo\"\r\nB=2\r\n";
        let env = parse(text);
        assert_eq!(env.entries[0].value, "one\r\ntwo");
        assert_eq!(raw(text, &env.entries[0]), "one\r\ntwo");
        assert_eq!(env.entries[1].line, 3);
    }

    #[test]
    fn raw_span_after_bom_and_multibyte() {
        let text = "\u{FEFF}KEY=é5\nNÄME=ü";
        let env = parse(text);
        assert_eq!(env.entries[0].key, "KEY");
        assert_eq!(env.entries[0].column, 5);
        assert_eq!(raw(text, &env.entries[0]), "é5");
        assert_eq!(env.entries[0].raw_value, 7..10);
        assert_eq!(env.entries[1].column, 6);
        assert_eq!(raw(text, &env.entries[1]), "ü");
    }

    #[test]
    fn empty_value_span() {
        let text = "A=\nB=   \r\n";
        let env = parse(text);
        assert_eq!(env.entries[0].raw_value, 2..2);
        assert_eq!(env.entries[1].raw_value, 5..5);
        assert_eq!(env.entries[1].value, "");
        let text = "B=\r\nC=1\r\n";
        let env = parse(text);
        assert_eq!(env.entries[0].raw_value, 2..2);
        assert_eq!(env.entries[0].column, 3);
    }

    /// Replacing `raw_value` is how a migration rewrites a value: the file
    /// must then parse to the new value, everything else unchanged.
    #[test]
    fn rewrite_round_trip() {
        let files = [
            "PG=5433\r\n",
            "PG=5433",
            "export PG=5433 # postgres\r\nX=1\r\n",
            "PG = \"5433\" # q\r\n",
            "PG='5433'",
            "PG=\r\nX=1\r\n",
            "PG=   \r\nX=1\r\n",
            "\u{FEFF}PG: 5433\n",
            "A=\"x\" PG=5433\n",
        ];
        for text in files {
            let env = parse(text);
            let Some(entry) = env.entry("PG") else {
                panic!("{text:?}: no PG");
            };
            let mut rewritten = text.to_owned();
            rewritten.replace_range(entry.raw_value.clone(), "7000");
            let after = parse(&rewritten);
            assert_eq!(after.get("PG"), Some("7000"), "{text:?} -> {rewritten:?}");
            assert_eq!(after.entries.len(), env.entries.len(), "{rewritten:?}");
            assert_eq!(
                rewritten.len(),
                text.len() - entry.raw_value.len() + "7000".len(),
                "{rewritten:?}"
            );
        }
    }

    #[test]
    fn inherited_span() {
        let text = "PORT\nOTHER\n";
        let env = parse_dotenv(".env", text, &|k| (k == "PORT").then(|| "1".into()));
        let env = match env {
            Ok(env) => env,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(env.entries.len(), 1);
        assert!(env.entries[0].inherited);
        assert_eq!(env.entries[0].raw_value, 4..4);
    }

    #[test]
    fn unterminated_quote_points_at_the_quote() {
        let text = "A=1\r\nB = 'never\r\nclosed\r\n";
        match parse_dotenv("x/.env", text, &|_| None) {
            Err(Error::DotenvSyntax { location, .. }) => {
                assert_eq!(location, Location::new("x/.env", 2, 5));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(expand_escapes(r"\0123"), "S");
        assert_eq!(expand_escapes(r"\0"), "\\");
        assert_eq!(expand_escapes(r"\01x"), "\\1x");
        assert_eq!(expand_escapes(r"\0777"), "\\777");
        assert_eq!(expand_escapes(r"\0351"), "é");
        assert_eq!(expand_escapes(r"\c\x\$"), "\\c\\x$$");
        assert_eq!(expand_escapes("trail\\"), "trail\\");
    }

    #[test]
    fn duplicates_pair_with_first() {
        let env = parse("A=1\nB=2\nA=3\nA=4\n");
        assert_eq!(
            env.duplicates,
            [
                DuplicateKey {
                    key: "A".into(),
                    first_line: 1,
                    second_line: 3
                },
                DuplicateKey {
                    key: "A".into(),
                    first_line: 1,
                    second_line: 4
                },
            ]
        );
        assert_eq!(env.get("A"), Some("4"));
        assert_eq!(env.to_map().get("A").map(String::as_str), Some("4"));
    }
}

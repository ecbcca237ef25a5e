//! Variable interpolation (`$VAR`, `${VAR:-default}` ...) exactly as the
//! released Docker Compose binary does it.
//!
//! The reference is compose-go v2, `template/template.go`
//! (`SubstituteWithOptions`, `DefaultReplacementAppliedFunc`,
//! `getSubstitutionFunctionForTemplate`, `getFirstBraceClosingIndex` and the
//! `withDefaultWhenAbsence` / `withDefaultWhenPresence` / `withRequired`
//! helpers). Compose matches every value against one regular expression,
//!
//! ```text
//! \$(?i:(\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))
//! ```
//!
//! and then re-splits a braced match at its first balanced `}`. This module
//! reproduces that behaviour with a hand-written scanner, including its
//! corner cases:
//!
//! * `$$` is a literal `$`; a `$` not followed by a name, `$` or `{` is kept
//!   as is (`$}`, `$1`, `a $ b`, a trailing `$`).
//! * `${` not followed by `NAME}` or `NAME<op>...}` on the same line is an
//!   error ([`Error::InvalidTemplate`]): `${`, `${}`, `${ VAR}`, `${VAR }`,
//!   `${VAR`, `${:-x}`, `${VAR:}`, `${VAR:=x}`.
//! * Names are `[_a-zA-Z][_a-zA-Z0-9]*`; because Go folds case inside the
//!   class, `ſ` (U+017F) and `K` (U+212A, Kelvin sign) count as letters too.
//! * The text after an operator is itself interpolated **before** the variable
//!   is looked up, whatever the operator and whether or not it is used: an
//!   error inside it (`${SET:-${UNSET:?boom}}`) fails the whole value.
//! * Unset and empty differ: `:-`, `:?` and `:+` treat an empty value like an
//!   unset one, `-`, `?` and `+` do not.
//!
//! Besides the value, [`interpolate`] records every variable it met, with
//! exact byte spans, so that a migration can tell whether a value came from a
//! default written in the compose file or from the environment.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::Error;

/// How deeply references may nest inside operator text before
/// [`interpolate`] gives up with [`Error::InvalidTemplate`] (Compose has no
/// limit; real files nest two or three levels). This bounds recursion, so a
/// hostile template cannot overflow the stack.
pub const MAX_NESTING: usize = 100;

/// The operator of a variable reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    /// `$VAR` or `${VAR}`: the value, empty when unset.
    Plain,
    /// `${VAR:-default}`: the default when unset or empty.
    DefaultIfUnsetOrEmpty,
    /// `${VAR-default}`: the default when unset.
    DefaultIfUnset,
    /// `${VAR:?message}`: an error when unset or empty.
    RequiredNonEmpty,
    /// `${VAR?message}`: an error when unset.
    Required,
    /// `${VAR:+alternative}`: the alternative when set and not empty, else empty.
    AltIfSetNonEmpty,
    /// `${VAR+alternative}`: the alternative when set (even empty), else empty.
    AltIfSet,
}

impl Operator {
    /// The operator as written between the name and its argument (`""` for
    /// [`Operator::Plain`]).
    ///
    /// ```
    /// use port_convention::interpolation::Operator;
    /// assert_eq!(Operator::DefaultIfUnsetOrEmpty.symbol(), ":-");
    /// assert_eq!(Operator::Plain.symbol(), "");
    /// ```
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        match self {
            Operator::Plain => "",
            Operator::DefaultIfUnsetOrEmpty => ":-",
            Operator::DefaultIfUnset => "-",
            Operator::RequiredNonEmpty => ":?",
            Operator::Required => "?",
            Operator::AltIfSetNonEmpty => ":+",
            Operator::AltIfSet => "+",
        }
    }

    /// Whether the argument is a default used instead of the value
    /// (`:-` and `-`).
    #[must_use]
    pub const fn is_default(self) -> bool {
        matches!(
            self,
            Operator::DefaultIfUnsetOrEmpty | Operator::DefaultIfUnset
        )
    }

    /// Whether the argument is an alternative used instead of the value
    /// (`:+` and `+`).
    #[must_use]
    pub const fn is_alternative(self) -> bool {
        matches!(self, Operator::AltIfSetNonEmpty | Operator::AltIfSet)
    }

    /// Whether the variable is required (`:?` and `?`).
    #[must_use]
    pub const fn is_required(self) -> bool {
        matches!(self, Operator::RequiredNonEmpty | Operator::Required)
    }

    fn from_op_byte(colon: bool, op: u8) -> Option<Operator> {
        Some(match (colon, op) {
            (true, b'-') => Operator::DefaultIfUnsetOrEmpty,
            (false, b'-') => Operator::DefaultIfUnset,
            (true, b'?') => Operator::RequiredNonEmpty,
            (false, b'?') => Operator::Required,
            (true, b'+') => Operator::AltIfSetNonEmpty,
            (false, b'+') => Operator::AltIfSet,
            _ => return None,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// The text written after an operator: the default of `:-` / `-`, the
/// alternative of `:+` / `+`, or the error message of `:?` / `?`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Fallback {
    /// The text as written in the template (before its own interpolation).
    pub text: String,
    /// Byte range of [`Fallback::text`] in the template given to
    /// [`interpolate`]; may be empty (`${VAR:-}`).
    pub span: Range<usize>,
}

/// One variable reference met while interpolating.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct VariableUse {
    /// The variable name as written (Compose names are case-sensitive).
    pub name: String,
    /// The operator.
    pub operator: Operator,
    /// Byte range of the whole reference (`$VAR`, `${VAR}`, `${VAR:-x}`) in
    /// the template given to [`interpolate`].
    pub span: Range<usize>,
    /// The text after the operator; `None` for [`Operator::Plain`].
    pub default: Option<Fallback>,
    /// What the lookup returned for [`VariableUse::name`] (`None`: unset).
    pub value: Option<String>,
    /// Whether the result is the interpolated [`VariableUse::default`]
    /// (a default of `:-` / `-` or an alternative of `:+` / `+`) rather than
    /// the variable's value. Always `false` for plain and required references.
    pub default_taken: bool,
}

/// The result of [`interpolate`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Interpolated {
    /// The interpolated text.
    pub value: String,
    /// Every variable reference, in order of appearance in the template; a
    /// reference nested in the argument of another comes right after it.
    /// References inside an argument are listed (and were looked up) even when
    /// the argument is not used, as Compose evaluates them eagerly.
    pub uses: Vec<VariableUse>,
}

/// Interpolates `template` the way Docker Compose does, with `lookup` giving
/// the value of a variable (`None` when unset).
///
/// # Errors
///
/// * [`Error::InvalidTemplate`] for a malformed reference (`${`, `${ VAR}`,
///   `${VAR`, `${:-x}` ...), even inside an unused default;
/// * [`Error::RequiredVariable`] when `${VAR:?msg}` meets an unset or empty
///   variable, or `${VAR?msg}` an unset one.
///
/// The first error in the template, left to right, is returned.
///
/// # Examples
///
/// ```
/// use port_convention::interpolation::{interpolate, Operator};
///
/// let env = |name: &str| (name == "PG_PORT").then(|| "7001".to_string());
/// let out = interpolate("${PG_PORT:-5432}:5432 and ${REDIS_PORT:-6379}", &env)?;
/// assert_eq!(out.value, "7001:5432 and 6379");
///
/// let pg = &out.uses[0];
/// assert_eq!(pg.name, "PG_PORT");
/// assert_eq!(pg.operator, Operator::DefaultIfUnsetOrEmpty);
/// assert_eq!(pg.span, 0..16);
/// assert!(!pg.default_taken);
///
/// let redis = &out.uses[1];
/// assert!(redis.default_taken);
/// assert_eq!(redis.default.as_ref().map(|d| d.span.clone()), Some(40..44));
///
/// assert!(interpolate("${PG_PORT", &env).is_err());
/// # Ok::<(), port_convention::Error>(())
/// ```
pub fn interpolate(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, Error> {
    let mut engine = Engine {
        template,
        lookup,
        uses: Vec::new(),
        depth: 0,
    };
    let value = engine.substitute(0, template.len())?;
    Ok(Interpolated {
        value,
        uses: engine.uses,
    })
}

/// [`interpolate`] with the variables taken from a map.
///
/// ```
/// use std::collections::BTreeMap;
/// use port_convention::interpolation::interpolate_map;
///
/// let env = BTreeMap::from([("EMPTY".to_string(), String::new())]);
/// assert_eq!(interpolate_map("[${EMPTY-unset}]", &env)?.value, "[]");
/// assert_eq!(interpolate_map("[${EMPTY:-empty}]", &env)?.value, "[empty]");
/// assert_eq!(interpolate_map("$$HOME", &env)?.value, "$HOME");
/// # Ok::<(), port_convention::Error>(())
/// ```
///
/// # Errors
///
/// As [`interpolate`].
pub fn interpolate_map(
    template: &str,
    env: &BTreeMap<String, String>,
) -> Result<Interpolated, Error> {
    interpolate(template, &|name| env.get(name).cloned())
}

/// What a `$` at some position starts.
enum Token {
    /// Not a substitution: the `$` is kept.
    Literal,
    /// `$$`.
    Escaped,
    /// `$NAME`, the name ending at `name_end`.
    Named { name_end: usize },
    /// `${NAME}` or `${NAME<op>...}`; `whole_end` is the end of the regular
    /// expression match (before re-splitting at the first balanced `}`).
    Braced {
        name_end: usize,
        operator: Operator,
        whole_end: usize,
    },
    /// `${` followed by anything else.
    Invalid,
}

struct Engine<'t, 'l> {
    template: &'t str,
    lookup: &'l dyn Fn(&str) -> Option<String>,
    uses: Vec<VariableUse>,
    /// Current nesting depth of operator text being interpolated.
    depth: usize,
}

impl Engine<'_, '_> {
    fn slice(&self, range: Range<usize>) -> &str {
        self.template.get(range).unwrap_or("")
    }

    fn byte(&self, at: usize, end: usize) -> Option<u8> {
        if at < end {
            self.template.as_bytes().get(at).copied()
        } else {
            None
        }
    }

    /// compose-go `Substitute` applied to `template[start..end]` as a
    /// template of its own (the top level, or the argument of an operator).
    fn substitute(&mut self, start: usize, end: usize) -> Result<String, Error> {
        let mut out = String::new();
        let mut literal_from = start;
        let mut at = start;
        while at < end {
            if self.byte(at, end) != Some(b'$') {
                at += 1;
                continue;
            }
            match self.classify(at, end) {
                Token::Literal => at += 1,
                Token::Escaped => {
                    out.push_str(self.slice(literal_from..at));
                    out.push('$');
                    at += 2;
                    literal_from = at;
                }
                Token::Named { name_end } => {
                    out.push_str(self.slice(literal_from..at));
                    let name = self.slice(at + 1..name_end).to_owned();
                    let value = (self.lookup)(&name);
                    out.push_str(value.as_deref().unwrap_or(""));
                    self.uses.push(VariableUse {
                        name,
                        operator: Operator::Plain,
                        span: at..name_end,
                        default: None,
                        value,
                        default_taken: false,
                    });
                    at = name_end;
                    literal_from = at;
                }
                Token::Braced {
                    name_end,
                    operator,
                    whole_end,
                } => {
                    out.push_str(self.slice(literal_from..at));
                    // compose-go re-splits the match at its first balanced
                    // `}` and interpolates the remainder separately, which is
                    // the same as resuming the scan there.
                    let end_of_use = self
                        .first_brace_closing(at, whole_end)
                        .map_or(whole_end, |close| close + 1);
                    let text = self.braced(at, name_end, operator, end_of_use)?;
                    out.push_str(&text);
                    at = end_of_use;
                    literal_from = at;
                }
                Token::Invalid => return Err(self.invalid(at, end)),
            }
        }
        out.push_str(self.slice(literal_from..end));
        Ok(out)
    }

    /// The alternatives of compose-go's pattern, in its (leftmost-first)
    /// order, for the `$` at `at`.
    fn classify(&self, at: usize, end: usize) -> Token {
        match self.byte(at + 1, end) {
            None => Token::Literal,
            Some(b'$') => Token::Escaped,
            Some(b'{') => self.classify_braced(at, end),
            Some(_) => {
                let name_end = self.scan_name(at + 1, end);
                if name_end > at + 1 {
                    Token::Named { name_end }
                } else {
                    Token::Literal
                }
            }
        }
    }

    /// `{(?:(NAME(?::?[-+?](.*))?)}|())` after the `$` at `at`.
    fn classify_braced(&self, at: usize, end: usize) -> Token {
        let name_start = at + 2;
        let name_end = self.scan_name(name_start, end);
        if name_end == name_start {
            return Token::Invalid;
        }
        let (colon, op_at) = match self.byte(name_end, end) {
            Some(b'}') => {
                return Token::Braced {
                    name_end,
                    operator: Operator::Plain,
                    whole_end: name_end + 1,
                };
            }
            Some(b':') => (true, name_end + 1),
            Some(_) => (false, name_end),
            None => return Token::Invalid,
        };
        let Some(operator) = self
            .byte(op_at, end)
            .and_then(|op| Operator::from_op_byte(colon, op))
        else {
            // `:` not followed by an operator, or any other character: with
            // `:?` empty the next byte would have to be an operator, and it
            // is `:` or not an operator.
            return Token::Invalid;
        };
        // `(.*)}`: greedy up to the last `}` before the end of the line.
        match self.last_close_on_line(op_at + 1, end) {
            Some(close) => Token::Braced {
                name_end,
                operator,
                whole_end: close + 1,
            },
            None => Token::Invalid,
        }
    }

    /// End of the longest `[_a-z][_a-z0-9]*` (case-insensitive, with Go's
    /// case folding) starting at `from`; `from` when there is none.
    fn scan_name(&self, from: usize, end: usize) -> usize {
        let Some(text) = self.template.get(from..end) else {
            return from;
        };
        let mut stop = from;
        for (index, c) in text.char_indices() {
            let ok = if index == 0 {
                is_name_start(c)
            } else {
                is_name_start(c) || c.is_ascii_digit()
            };
            if !ok {
                break;
            }
            stop = from + index + c.len_utf8();
        }
        stop
    }

    /// Index of the last `}` in `from..end` that comes before any newline.
    fn last_close_on_line(&self, from: usize, end: usize) -> Option<usize> {
        let bytes = self.template.as_bytes().get(from..end)?;
        let line = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes, |newline| bytes.get(..newline).unwrap_or(&[]));
        line.iter().rposition(|&b| b == b'}').map(|i| from + i)
    }

    /// compose-go `getFirstBraceClosingIndex` on `template[start..end]`,
    /// returned as an absolute index. Note its quirk, kept on purpose: the
    /// byte right after any `{` is skipped, so `{}` does not close anything.
    fn first_brace_closing(&self, start: usize, end: usize) -> Option<usize> {
        let bytes = self.template.as_bytes().get(start..end)?;
        let mut open = 0i64;
        let mut i = 0;
        while i < bytes.len() {
            match bytes.get(i) {
                Some(b'}') => {
                    open -= 1;
                    if open == 0 {
                        return Some(start + i);
                    }
                }
                Some(b'{') => {
                    open += 1;
                    i += 1;
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// Evaluates `${NAME}` / `${NAME<op>ARG}` spanning `at..end_of_use`.
    fn braced(
        &mut self,
        at: usize,
        name_end: usize,
        operator: Operator,
        end_of_use: usize,
    ) -> Result<String, Error> {
        let name = self.slice(at + 2..name_end).to_owned();
        if operator == Operator::Plain {
            let value = (self.lookup)(&name);
            let text = value.clone().unwrap_or_default();
            self.uses.push(VariableUse {
                name,
                operator,
                span: at..end_of_use,
                default: None,
                value,
                default_taken: false,
            });
            return Ok(text);
        }
        let arg_start = name_end + operator.symbol().len();
        // The use ends with its closing `}`, which always lies after the
        // operator; `max` only guards the arithmetic.
        let arg_end = end_of_use.saturating_sub(1).max(arg_start);
        let slot = self.uses.len();
        // compose-go interpolates the argument before looking the variable up.
        if self.depth >= MAX_NESTING {
            return Err(Error::InvalidTemplate {
                template: self.template.to_owned(),
                reason: crate::TemplateReason::TooDeep {
                    max: MAX_NESTING,
                    at,
                },
                location: None,
            });
        }
        self.depth += 1;
        let argument = self.substitute(arg_start, arg_end);
        self.depth -= 1;
        let argument = argument?;
        let value = (self.lookup)(&name);
        let (text, default_taken) = match operator {
            Operator::DefaultIfUnsetOrEmpty => match value.as_deref() {
                None | Some("") => (argument, true),
                Some(v) => (v.to_owned(), false),
            },
            Operator::DefaultIfUnset => match value.as_deref() {
                None => (argument, true),
                Some(v) => (v.to_owned(), false),
            },
            Operator::RequiredNonEmpty | Operator::Required => {
                let missing = match value.as_deref() {
                    None => true,
                    Some(v) => operator == Operator::RequiredNonEmpty && v.is_empty(),
                };
                if missing {
                    return Err(Error::RequiredVariable {
                        variable: name,
                        message: argument,
                        location: None,
                    });
                }
                (value.clone().unwrap_or_default(), false)
            }
            Operator::AltIfSetNonEmpty => match value.as_deref() {
                Some(v) if !v.is_empty() => (argument, true),
                other => (other.unwrap_or("").to_owned(), false),
            },
            Operator::AltIfSet => match value {
                Some(_) => (argument, true),
                None => (String::new(), false),
            },
            Operator::Plain => (value.clone().unwrap_or_default(), false),
        };
        let default = Some(Fallback {
            text: self.slice(arg_start..arg_end).to_owned(),
            span: arg_start..arg_end,
        });
        self.uses.insert(
            slot,
            VariableUse {
                name,
                operator,
                span: at..end_of_use,
                default,
                value,
                default_taken,
            },
        );
        Ok(text)
    }

    fn invalid(&self, at: usize, end: usize) -> Error {
        // Show the offending reference: up to its first `}` or line end.
        let rest = self.slice(at..end);
        let stop = rest
            .char_indices()
            .find(|&(_, c)| c == '}' || c == '\n')
            .map_or(rest.len(), |(i, c)| if c == '}' { i + 1 } else { i });
        let fragment = rest.get(..stop).unwrap_or(rest);
        Error::InvalidTemplate {
            template: self.template.to_owned(),
            reason: crate::TemplateReason::InvalidSubstitution {
                fragment: fragment.to_owned(),
                at,
            },
            location: None,
        }
    }
}

/// `[_a-z]` under Go's `(?i)`: ASCII letters, `_`, and the two non-ASCII
/// characters whose simple case folding reaches an ASCII letter.
fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{17F}' || c == '\u{212A}'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn run(template: &str, pairs: &[(&str, &str)]) -> Interpolated {
        match interpolate_map(template, &env(pairs)) {
            Ok(out) => out,
            Err(e) => panic!("{template:?} failed: {e}"),
        }
    }

    /// Every span must slice the template on char boundaries.
    fn check_spans(template: &str, out: &Interpolated) {
        for u in &out.uses {
            assert!(template.get(u.span.clone()).is_some(), "{u:?}");
            if let Some(d) = &u.default {
                assert_eq!(template.get(d.span.clone()), Some(d.text.as_str()));
            }
        }
    }

    #[test]
    fn plain_spans() {
        let t = "a $FOO b ${BAR} c";
        let out = run(t, &[("FOO", "1")]);
        assert_eq!(out.value, "a 1 b  c");
        assert_eq!(out.uses.len(), 2);
        assert_eq!(out.uses[0].span, 2..6);
        assert_eq!(&t[out.uses[0].span.clone()], "$FOO");
        assert_eq!(out.uses[0].value.as_deref(), Some("1"));
        assert_eq!(out.uses[1].span, 9..15);
        assert_eq!(&t[out.uses[1].span.clone()], "${BAR}");
        assert_eq!(out.uses[1].value, None);
        check_spans(t, &out);
    }

    #[test]
    fn default_span_and_taken() {
        let t = "127.0.0.1:${PG_PORT:-5433}:5432";
        let out = run(t, &[]);
        assert_eq!(out.value, "127.0.0.1:5433:5432");
        let u = &out.uses[0];
        assert_eq!(u.span, 10..26);
        assert_eq!(&t[u.span.clone()], "${PG_PORT:-5433}");
        let d = u
            .default
            .as_ref()
            .map(|d| (d.text.as_str(), d.span.clone()));
        assert_eq!(d, Some(("5433", 21..25)));
        assert!(u.default_taken);

        let out = run(t, &[("PG_PORT", "7000")]);
        assert_eq!(out.value, "127.0.0.1:7000:5432");
        assert!(!out.uses[0].default_taken);
        assert_eq!(out.uses[0].value.as_deref(), Some("7000"));
    }

    #[test]
    fn nested_spans_are_absolute() {
        let t = "x${A:-${B:-5433}}y";
        let out = run(t, &[]);
        assert_eq!(out.value, "x5433y");
        assert_eq!(out.uses.len(), 2);
        let (a, b) = (&out.uses[0], &out.uses[1]);
        assert_eq!(a.name, "A");
        assert_eq!(&t[a.span.clone()], "${A:-${B:-5433}}");
        assert_eq!(
            a.default.as_ref().map(|d| d.text.as_str()),
            Some("${B:-5433}")
        );
        assert!(a.default_taken);
        assert_eq!(b.name, "B");
        assert_eq!(b.span, 6..16);
        assert_eq!(&t[b.span.clone()], "${B:-5433}");
        assert_eq!(b.default.as_ref().map(|d| d.span.clone()), Some(11..15));
        assert!(b.default_taken);
        check_spans(t, &out);

        // The nested use is recorded even when the outer default is unused.
        let out = run(t, &[("A", "1")]);
        assert_eq!(out.value, "x1y");
        assert_eq!(out.uses.len(), 2);
        assert!(!out.uses[0].default_taken);
        assert!(out.uses[1].default_taken);
    }

    #[test]
    fn spans_with_multibyte_text() {
        let t = "é→${PORT:-ü5}ß$X";
        let out = run(t, &[("X", "x")]);
        assert_eq!(out.value, "é→ü5ßx");
        check_spans(t, &out);
        assert_eq!(&t[out.uses[0].span.clone()], "${PORT:-ü5}");
        assert_eq!(&t[out.uses[1].span.clone()], "$X");
    }

    #[test]
    fn split_at_first_balanced_brace() {
        // One regex match `${A:-a} ${B:-b}` is split at the first `}`.
        let t = "${A:-a} ${B:-b}";
        let out = run(t, &[]);
        assert_eq!(out.value, "a b");
        assert_eq!(out.uses[0].span, 0..7);
        assert_eq!(out.uses[1].span, 8..15);

        let out = run("${A:-a}b}", &[]);
        assert_eq!(out.value, "ab}");
        assert_eq!(out.uses[0].span, 0..7);
    }

    #[test]
    fn brace_skip_quirk() {
        // compose-go skips the byte after `{`, so `{}` does not close.
        let out = run("${A:-{}x}", &[]);
        assert_eq!(out.value, "{}x");
        assert_eq!(out.uses[0].span, 0..9);
    }

    #[test]
    fn alternative_and_required_spans() {
        let t = "${A:+on}${B?need B}";
        let out = run(t, &[("A", "1"), ("B", "")]);
        assert_eq!(out.value, "on");
        assert!(out.uses[0].default_taken);
        assert_eq!(
            out.uses[0].default.as_ref().map(|d| d.span.clone()),
            Some(5..7)
        );
        assert_eq!(out.uses[1].operator, Operator::Required);
        assert!(!out.uses[1].default_taken);
        assert_eq!(
            out.uses[1].default.as_ref().map(|d| d.text.as_str()),
            Some("need B")
        );
        check_spans(t, &out);
    }

    #[test]
    fn errors() {
        let e = interpolate_map("${A:?need ${B}}", &env(&[("B", "bv")]));
        match e {
            Err(Error::RequiredVariable {
                variable, message, ..
            }) => {
                assert_eq!(variable, "A");
                assert_eq!(message, "need bv");
            }
            other => panic!("{other:?}"),
        }
        for bad in [
            "${",
            "${}",
            "${ A}",
            "${A }",
            "${A",
            "${:-x}",
            "${A:}",
            "x ${A:-\n}",
        ] {
            match interpolate_map(bad, &env(&[])) {
                Err(e @ Error::InvalidTemplate { .. }) => assert_eq!(e.code(), "invalid-template"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}x{}", "${A:-".repeat(n), "}".repeat(n));
        assert_eq!(run(&deep(MAX_NESTING), &[]).value, "x");
        match interpolate_map(&deep(MAX_NESTING + 1), &env(&[])) {
            Err(Error::InvalidTemplate {
                reason: crate::TemplateReason::TooDeep { .. },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        // Far deeper input fails cleanly instead of overflowing the stack.
        assert!(interpolate_map(&deep(20_000), &env(&[])).is_err());
    }

    #[test]
    fn lookup_order_follows_compose() {
        use std::cell::RefCell;
        let seen = RefCell::new(Vec::new());
        let lookup = |name: &str| {
            seen.borrow_mut().push(name.to_owned());
            None
        };
        let out = interpolate("${A:-${B}}$C", &lookup);
        assert!(out.is_ok());
        assert_eq!(*seen.borrow(), ["B", "A", "C"]);
    }
}

//! Where the comments of a file are, per kind of file: enough of each
//! language's lexer (strings, comments) to tell a comment from code. A
//! number inside a comment explains history; it never runs.

use std::ops::Range;

use crate::SourceKind;

/// The byte ranges of every comment of `text`, in order, not overlapping.
/// One pass, linear in the text.
pub(super) fn comments(kind: SourceKind, text: &[u8]) -> Vec<Range<usize>> {
    match kind {
        SourceKind::Javascript | SourceKind::Typescript | SourceKind::Go | SourceKind::Json => {
            c_like(text)
        }
        SourceKind::Python => hash_comments(text, Hash::Python),
        SourceKind::Shell => hash_comments(text, Hash::Shell),
        SourceKind::Yaml | SourceKind::Toml | SourceKind::Env => hash_comments(text, Hash::Config),
        SourceKind::Ini => hash_comments(text, Hash::Ini),
    }
}

fn line_end(text: &[u8], from: usize) -> usize {
    text.get(from..)
        .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
        .map_or(text.len(), |i| from + i)
}

/// `//` and `/* */` comments; `"`, `'` strings end at their quote or the
/// line; `` ` `` strings may span lines.
fn c_like(text: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'/' if text.get(i + 1) == Some(&b'/') => {
                let end = line_end(text, i);
                out.push(i..end);
                i = end;
            }
            b'/' if text.get(i + 1) == Some(&b'*') => {
                let end = text
                    .get(i + 2..)
                    .and_then(|rest| rest.windows(2).position(|w| w == b"*/"))
                    .map_or(text.len(), |k| i + 2 + k + 2);
                out.push(i..end);
                i = end;
            }
            b'"' | b'\'' | b'`' => i = skip_string(text, i, b, b == b'`'),
            _ => i += 1,
        }
    }
    out
}

/// The end (after the closing quote) of the string opening at `start`.
fn skip_string(text: &[u8], start: usize, quote: u8, multiline: bool) -> usize {
    let mut i = start + 1;
    while let Some(&b) = text.get(i) {
        if b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            return i + 1;
        }
        if b == b'\n' && !multiline {
            return i;
        }
        i += 1;
    }
    text.len()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    /// `#` anywhere outside a string; `'''` and `"""` strings.
    Python,
    /// `#` at the start of a word, outside quotes (which span lines).
    Shell,
    /// `#` at the start of a line or after a space, outside quotes on the line.
    Config,
    /// As config, and `;` at the start of a line.
    Ini,
}

fn hash_comments(text: &[u8], style: Hash) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while let Some(&b) = text.get(i) {
        let previous = i.checked_sub(1).and_then(|k| text.get(k)).copied();
        let word_start = previous.is_none_or(|p| p.is_ascii_whitespace() || p == b';');
        match b {
            b'#' if style == Hash::Python || word_start => {
                let end = line_end(text, i);
                out.push(i..end);
                i = end;
            }
            b';' if style == Hash::Ini && line_start => {
                let end = line_end(text, i);
                out.push(i..end);
                i = end;
            }
            b'"' | b'\'' => {
                let triple = style == Hash::Python
                    && text.get(i + 1) == Some(&b)
                    && text.get(i + 2) == Some(&b);
                if triple {
                    let close = [b, b, b];
                    i = text
                        .get(i + 3..)
                        .and_then(|rest| rest.windows(3).position(|w| w == close))
                        .map_or(text.len(), |k| i + 3 + k + 3);
                } else if style == Hash::Config || style == Hash::Ini {
                    // A quote inside a bare value (`it's`) is no string.
                    if word_start
                        || previous.is_some_and(|p| matches!(p, b'=' | b':' | b'[' | b','))
                    {
                        i = skip_string(text, i, b, false);
                    } else {
                        i += 1;
                    }
                } else {
                    i = skip_string(text, i, b, style == Hash::Shell);
                }
            }
            _ => i += 1,
        }
        line_start = text.get(i.saturating_sub(1)) == Some(&b'\n')
            || (line_start
                && text
                    .get(i.saturating_sub(1))
                    .is_some_and(|c| *c == b' ' || *c == b'\t'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commented(kind: SourceKind, text: &str) -> Vec<&str> {
        comments(kind, text.as_bytes())
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn c_like_comments_skip_strings() {
        let text = "const u = 'http://x:1'; // was 5433\n/* moved\n from 5433 */ let a = `//no`;";
        assert_eq!(
            commented(SourceKind::Javascript, text),
            vec!["// was 5433", "/* moved\n from 5433 */"]
        );
    }

    #[test]
    fn hash_comments_per_language() {
        assert_eq!(
            commented(
                SourceKind::Python,
                "x = '#no'  # yes\ns = \"\"\"a # b\"\"\""
            ),
            vec!["# yes"]
        );
        assert_eq!(
            commented(SourceKind::Shell, "echo ${#x} a#b # yes\n"),
            vec!["# yes"]
        );
        assert_eq!(
            commented(SourceKind::Yaml, "url: \"a#b\" # yes\ncolor: '#fff'\n"),
            vec!["# yes"]
        );
        assert_eq!(
            commented(SourceKind::Ini, "; old port 5433\nport=7000 ; x\n"),
            vec!["; old port 5433"]
        );
    }
}

//! Why an input is invalid: the typed reasons of [`crate::Error`]'s parse
//! errors, so that a program can branch on them. Each `Display` is the
//! message the user sees; where Docker Compose v2.40.3 has words for the
//! problem they are compose's own (tests compare them with the binary's),
//! which is why two variants may differ only in wording compose uses.

use std::fmt;

/// Why a compose port entry is invalid ([`crate::Error::InvalidPortSpec`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortSpecReason {
    /// The protocol is none of `tcp`, `udp`, `sctp`.
    InvalidProtocol {
        /// The protocol as written (lower-cased in short syntax).
        protocol: String,
    },
    /// The host IP of a short-syntax entry is not an IP address.
    InvalidHostIp {
        /// The host IP as written.
        ip: String,
    },
    /// A bracketed host IP (`[::1]`) that Go's `net.SplitHostPort` refuses.
    InvalidBracketedHostIp {
        /// The host IP as written.
        ip: String,
        /// The address Go was given (`ip` followed by `:`).
        address: String,
        /// Go's words.
        why: String,
    },
    /// The `host_ip` of a long-syntax entry is not an IP address.
    InvalidLongSyntaxHostIp {
        /// The host IP as written.
        ip: String,
    },
    /// The container port is not a port or range.
    InvalidContainerPort {
        /// As written.
        value: String,
    },
    /// The host port is not a port or range.
    InvalidHostPort {
        /// As written.
        value: String,
    },
    /// Host and container ranges have different lengths.
    RangeLengthMismatch {
        /// The container range.
        container: String,
        /// The host range.
        host: String,
    },
    /// The container port is 0 or missing.
    MissingTarget,
    /// A long-syntax key appears twice.
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// Long-syntax keys compose's schema does not allow.
    UnknownKeys {
        /// The keys, in the order written.
        keys: Vec<String>,
    },
    /// A long-syntax field that must be text is not.
    NotText {
        /// The field.
        field: String,
    },
    /// A long-syntax field is a list or mapping.
    NotScalar {
        /// The field.
        field: String,
        /// What it is instead (`a list`, `a mapping`).
        found: &'static str,
    },
    /// `target` is text that is not an integer.
    TargetNotInteger {
        /// As written.
        value: String,
        /// Go's `strconv.Atoi` words.
        why: String,
    },
    /// `target` is neither an integer nor text.
    TargetWrongType,
    /// `target` is negative.
    NegativeTarget {
        /// The value.
        value: i128,
    },
    /// `target` is above 65535.
    TargetTooLarge {
        /// The value.
        value: i128,
    },
    /// `published` is a floating-point number.
    PublishedFloat,
    /// `published` is neither an integer nor text.
    PublishedWrongType,
    /// The entry is a floating-point number.
    FloatPort,
    /// The entry is a boolean, null or a list (compose's schema error).
    EntryType,
    /// The entry is a list or mapping where a port spec is read.
    EntryKind {
        /// What it is (`a list`, `a mapping`).
        found: &'static str,
    },
}

impl fmt::Display for PortSpecReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpecReason::InvalidProtocol { protocol } => write!(f, "invalid proto: {protocol}"),
            PortSpecReason::InvalidHostIp { ip } => write!(f, "invalid IP address: {ip}"),
            PortSpecReason::InvalidBracketedHostIp { ip, address, why } => {
                write!(f, "invalid IP address {ip}: address {address}: {why}")
            }
            PortSpecReason::InvalidLongSyntaxHostIp { ip } => write!(f, "invalid ip address: {ip}"),
            PortSpecReason::InvalidContainerPort { value } => {
                write!(f, "invalid containerPort: {value}")
            }
            PortSpecReason::InvalidHostPort { value } => write!(f, "invalid hostPort: {value}"),
            PortSpecReason::RangeLengthMismatch { container, host } => write!(
                f,
                "invalid ranges specified for container and host Ports: {container} and {host}"
            ),
            PortSpecReason::MissingTarget => f.write_str("service port is missing a target port"),
            PortSpecReason::DuplicateKey { key } => {
                write!(f, "mapping key {key:?} already defined")
            }
            PortSpecReason::UnknownKeys { keys } => {
                let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
                write!(f, "additional properties {} not allowed", quoted.join(", "))
            }
            PortSpecReason::NotText { field } => write!(f, "{field} must be a string"),
            PortSpecReason::NotScalar { field, found } => {
                write!(f, "{field} must be a scalar, found {found}")
            }
            PortSpecReason::TargetNotInteger { value, why } => write!(
                f,
                "target: failed to cast to expected type: strconv.Atoi: parsing {value:?}: {why}"
            ),
            PortSpecReason::TargetWrongType => f.write_str("target must be a integer or string"),
            PortSpecReason::NegativeTarget { value } => {
                write!(
                    f,
                    "target: cannot parse value as 'uint32': {value} overflows uint"
                )
            }
            PortSpecReason::TargetTooLarge { value } => write!(f, "invalid containerPort: {value}"),
            PortSpecReason::PublishedFloat => {
                f.write_str("published: expected type 'string', got unconvertible type 'float64'")
            }
            PortSpecReason::PublishedWrongType => {
                f.write_str("published must be a integer or string")
            }
            PortSpecReason::FloatPort => f.write_str("invalid type float64 for port"),
            PortSpecReason::EntryType => {
                f.write_str("ports entry must be a number, string or mapping")
            }
            PortSpecReason::EntryKind { found } => write!(
                f,
                "a port entry must be a string, a number or a mapping, found {found}"
            ),
        }
    }
}

/// Why a port range such as `7000-7999` is invalid
/// ([`crate::Error::InvalidPortRange`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortRangeReason {
    /// The text is empty.
    Empty,
    /// A port is empty (`7000-`).
    EmptyPort,
    /// A port is not decimal digits.
    NotDecimal {
        /// As written.
        port: String,
    },
    /// A port is above 65535.
    OutOfRange {
        /// As written.
        port: String,
    },
    /// The end is below the start.
    EndBelowStart,
}

impl fmt::Display for PortRangeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRangeReason::Empty => f.write_str("empty port range"),
            PortRangeReason::EmptyPort => f.write_str("empty port number"),
            PortRangeReason::NotDecimal { port } => {
                write!(f, "{port:?} is not a decimal port number")
            }
            PortRangeReason::OutOfRange { port } => write!(f, "{port} is out of range (0-65535)"),
            PortRangeReason::EndBelowStart => {
                f.write_str("the end of the range is below its start")
            }
        }
    }
}

/// Why an interpolation template is malformed
/// ([`crate::Error::InvalidTemplate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateReason {
    /// A `$` starts something that is not a substitution.
    InvalidSubstitution {
        /// The offending text, up to its `}` or the line end.
        fragment: String,
        /// Its byte offset in the template.
        at: usize,
    },
    /// References nest deeper than the reader follows.
    TooDeep {
        /// The deepest nesting followed.
        max: usize,
        /// Byte offset of the reference that went too deep.
        at: usize,
    },
}

impl fmt::Display for TemplateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateReason::InvalidSubstitution { fragment, at } => write!(
                f,
                "{fragment:?} at byte {at} is not a valid substitution: expected ${{NAME}} or \
                 ${{NAME<op>text}} with op one of :- - :? ? :+ + on one line \
                 (you may need to escape any $ with another $)"
            ),
            TemplateReason::TooDeep { max, at } => {
                write!(
                    f,
                    "references nested more than {max} levels deep (at byte {at})"
                )
            }
        }
    }
}

/// Why a `.env` file cannot be parsed ([`crate::Error::DotenvSyntax`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DotenvReason {
    /// A variable name holds a character names cannot.
    UnexpectedCharacter {
        /// The character.
        character: char,
        /// The name so far.
        name: String,
    },
    /// A statement has an empty name.
    EmptyName,
    /// A name holds a space.
    SpaceInName {
        /// The name.
        name: String,
    },
    /// A quoted value is not closed.
    UnterminatedQuote {
        /// The start of the value, shortened and escaped.
        shown: String,
    },
}

impl fmt::Display for DotenvReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DotenvReason::UnexpectedCharacter { character, name } => {
                write!(
                    f,
                    "unexpected character {character:?} in variable name {name:?}"
                )
            }
            DotenvReason::EmptyName => f.write_str("zero length string"),
            DotenvReason::SpaceInName { name } => write!(f, "key cannot contain a space: {name:?}"),
            DotenvReason::UnterminatedQuote { shown } => {
                write!(f, "unterminated quoted value {shown}")
            }
        }
    }
}

/// Why a path is refused ([`crate::Error::UnsafePath`]): a name read from a
/// file an attacker may have written that is not a plain relative name, or a
/// place on disk that would lead out of the directory it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// The file name is empty.
    EmptyName,
    /// The path is absolute.
    Absolute,
    /// The path holds a backslash.
    Backslash,
    /// The path holds control or bidirectional-formatting characters.
    UnsafeCharacters,
    /// The path starts with a drive letter.
    DriveLetter,
    /// The path has an empty component (`//`, a trailing `/`).
    EmptyComponent,
    /// The path has a `.` component.
    DotComponent,
    /// The path goes up with `..`.
    ParentComponent,
    /// The path is inside migrate's state directory `.port-convention`.
    InStateDirectory,
    /// The path is inside a `.git` directory.
    InGitDirectory,
    /// The path is inside `.git/` or `.port-convention/` (a file to write).
    InGitOrStateDirectory,
    /// A plan lists the file twice.
    ListedTwice,
    /// The file has other hard links.
    HardLinked,
    /// The file is a symbolic link.
    SymbolicLink,
    /// A directory on the way to the file is a symbolic link.
    LinkOnTheWay {
        /// The directory, relative to the root.
        directory: String,
    },
    /// A directory on the way to the file is not a directory.
    NotADirectoryOnTheWay {
        /// The directory, relative to the root.
        directory: String,
    },
    /// What should be a directory is something else.
    NotADirectory {
        /// What it is (`a symbolic link`, `a regular file` ...).
        kind: String,
    },
    /// What should be a regular file is something else.
    NotARegularFile {
        /// What it is.
        kind: String,
    },
    /// A symbolic link to a file outside the directory it is found in.
    LinkOutOfItsDirectory,
    /// The path resolves outside the root.
    OutsideRoot {
        /// Where it resolves to.
        resolved: String,
        /// The root.
        root: String,
    },
    /// The directory of the file resolves outside the root.
    DirectoryOutsideRoot {
        /// Where the directory resolves to.
        resolved: String,
        /// The root.
        root: String,
    },
    /// The path does not end in a file name.
    NoFileName,
    /// A plan names a root that is not the current directory or below it.
    RootNotCurrentDirectory {
        /// The current directory.
        current: String,
    },
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::report::escape_text as esc;
        match self {
            PathProblem::EmptyName => f.write_str("the file name is empty"),
            PathProblem::Absolute => {
                f.write_str("the path is absolute; a plan names files relative to its root")
            }
            PathProblem::Backslash => {
                f.write_str("the path contains a backslash; a plan names files with / separators")
            }
            PathProblem::UnsafeCharacters => {
                f.write_str("the path contains control or bidirectional-formatting characters")
            }
            PathProblem::DriveLetter => f.write_str(
                "the path starts with a drive letter; a plan names files relative to its root",
            ),
            PathProblem::EmptyComponent => {
                f.write_str("the path has an empty component (// or a trailing /)")
            }
            PathProblem::DotComponent => f.write_str("the path has a . component"),
            PathProblem::ParentComponent => {
                f.write_str("the path goes up with ..; a plan names files inside its root")
            }
            PathProblem::InStateDirectory => {
                f.write_str("the path is inside the migration state directory .port-convention")
            }
            PathProblem::InGitDirectory => f.write_str("the path is inside a .git directory"),
            PathProblem::InGitOrStateDirectory => {
                f.write_str("it is inside .git/ or .port-convention/")
            }
            PathProblem::ListedTwice => f.write_str("listed twice"),
            PathProblem::HardLinked => f.write_str("it has other hard links"),
            PathProblem::SymbolicLink => f.write_str("it is a symbolic link"),
            PathProblem::LinkOnTheWay { directory } => {
                write!(f, "{} is a symbolic link", esc(directory))
            }
            PathProblem::NotADirectoryOnTheWay { directory } => {
                write!(f, "{} is not a directory", esc(directory))
            }
            PathProblem::NotADirectory { kind } => write!(f, "it is {kind}, not a directory"),
            PathProblem::NotARegularFile { kind } => write!(f, "it is {kind}, not a regular file"),
            PathProblem::LinkOutOfItsDirectory => {
                f.write_str("it is a symbolic link to a file outside its directory")
            }
            PathProblem::OutsideRoot { resolved, root } => write!(
                f,
                "it resolves to {}, outside the root {}",
                esc(resolved),
                esc(root)
            ),
            PathProblem::DirectoryOutsideRoot { resolved, root } => write!(
                f,
                "its directory resolves to {}, outside the root {}",
                esc(resolved),
                esc(root)
            ),
            PathProblem::NoFileName => f.write_str("it does not end in a file name"),
            PathProblem::RootNotCurrentDirectory { current } => write!(
                f,
                "the plan names this directory as the one it writes in, and it is not the \
                 current directory ({}) or below it",
                esc(current)
            ),
        }
    }
}

/// Why a migration plan cannot be used ([`crate::Error::InvalidPlan`], and
/// inside [`BackupProblem::Plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanProblem {
    /// The JSON ends early (an interrupted write, a full disk).
    Torn {
        /// Where it ends.
        line: usize,
        /// Where it ends.
        column: usize,
    },
    /// The JSON is not a plan.
    NotAPlan {
        /// Where the reader stopped.
        line: usize,
        /// Where the reader stopped.
        column: usize,
        /// What the JSON reader said, in the user's terms.
        message: String,
    },
    /// A plan of another format or version.
    OtherFormat {
        /// Its format, shortened and escaped.
        format: String,
        /// Its version.
        version: u32,
    },
    /// An edit does not fit the text it was planned on.
    EditDoesNotFit {
        /// The text the edit replaces.
        expected: String,
        /// Its first byte.
        start: usize,
        /// Its end.
        end: usize,
        /// What is there instead (`None`: out of bounds).
        found: Option<String>,
    },
    /// The text a file was planned on is not at hand (for a diff).
    TextUnavailable,
}

impl fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanProblem::Torn { line, column } => write!(
                f,
                "torn: it ends early, at line {line} column {column} (an interrupted write or a \
                 full disk)"
            ),
            PlanProblem::NotAPlan {
                line,
                column,
                message,
            } => write!(
                f,
                "not a migration plan (line {line}, column {column}: {message})"
            ),
            PlanProblem::OtherFormat { format, version } => write!(
                f,
                "a plan of format {format} version {version}; this tool reads {} version {}",
                crate::migrate::PLAN_FORMAT,
                crate::migrate::PLAN_VERSION
            ),
            PlanProblem::EditDoesNotFit {
                expected,
                start,
                end,
                found,
            } => write!(
                f,
                "expected {expected:?} at bytes {start}..{end}, found {:?}",
                found.as_deref().unwrap_or("<out of bounds>")
            ),
            PlanProblem::TextUnavailable => f.write_str("its text is not available for the diff"),
        }
    }
}

/// Why a migration backup cannot be read as one
/// ([`crate::Error::DamagedBackup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupProblem {
    /// One of its files (`plan.json`, `journal.jsonl`) is not a regular file.
    NotARegularFile {
        /// The file.
        file: String,
        /// What it is instead.
        kind: String,
    },
    /// Its `plan.json` or `files/` directory is missing.
    Missing {
        /// What is missing (`plan.json`, `its files/ directory`).
        what: String,
    },
    /// Its `manifest.json` cannot be read.
    UnreadableManifest {
        /// What the JSON reader said.
        message: String,
    },
    /// Its `plan.json` is not a usable plan.
    Plan(Box<PlanProblem>),
    /// It is named by a time after tomorrow.
    DatedInTheFuture,
    /// Its manifest lists a file its plan does not.
    NotInPlan {
        /// The file.
        file: String,
    },
    /// Its manifest and plan disagree about a file's hashes.
    HashesDisagree {
        /// The file.
        file: String,
    },
    /// Its manifest lists a file twice.
    ListedTwice {
        /// The file.
        file: String,
    },
}

impl fmt::Display for BackupProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::report::escape_text as esc;
        match self {
            BackupProblem::NotARegularFile { file, kind } => {
                write!(f, "{file} is {kind}, not a regular file")
            }
            BackupProblem::Missing { what } => write!(f, "{what} is missing"),
            BackupProblem::UnreadableManifest { message } => {
                write!(f, "manifest.json cannot be read ({message})")
            }
            BackupProblem::Plan(problem) => write!(f, "plan.json is {problem}"),
            BackupProblem::DatedInTheFuture => f.write_str(
                "it is dated in the future; a migration made here is named by the time it \
                 starts, so this one was not (a repository can ship its own .port-convention/)",
            ),
            BackupProblem::NotInPlan { file } => write!(
                f,
                "its manifest lists {}, which its plan does not; nothing was restored",
                esc(file)
            ),
            BackupProblem::HashesDisagree { file } => write!(
                f,
                "its manifest and its plan disagree about the hashes of {}; nothing was restored",
                esc(file)
            ),
            BackupProblem::ListedTwice { file } => write!(
                f,
                "its manifest lists {} twice; nothing was restored",
                esc(file)
            ),
        }
    }
}

/// Why a migration id or directory names no migration
/// ([`crate::Error::UnknownMigration`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationIdProblem {
    /// Not shaped like a migration id.
    NotAnId,
    /// A directory without `plan.json`.
    NoBackup,
}

impl fmt::Display for MigrationIdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MigrationIdProblem::NotAnId => {
                "not a migration id (a UTC timestamp such as 20261127T210244Z)"
            }
            MigrationIdProblem::NoBackup => "not a migration backup (no plan.json)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    /// A program can branch on why, and the user reads compose's words.
    #[test]
    fn errors_carry_typed_reasons_with_compose_words() {
        match "9-1".parse::<crate::PortRange>() {
            Err(Error::InvalidPortRange {
                reason: PortRangeReason::EndBelowStart,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let err = crate::port_spec::parse_port_spec("1.2.3:80:80").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidPortSpec { reason: PortSpecReason::InvalidHostIp { ip }, .. } if ip == "1.2.3"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "invalid port spec \"1.2.3:80:80\": invalid IP address: 1.2.3"
        );
        let err = crate::port_spec::parse_port_spec("8000-8001:80-82").unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidPortSpec {
                    reason: PortSpecReason::RangeLengthMismatch { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let err = crate::interpolation::interpolate("${", &|_| None).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidTemplate {
                    reason: TemplateReason::InvalidSubstitution { at: 0, .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.json");
        std::fs::write(&plan, "{\"format\": \"port-convention-migration-plan\"").unwrap();
        let err = crate::io::migrate::load_plan(&plan).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidPlan {
                    problem: PlanProblem::Torn { line: 1, .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let err = crate::io::migrate::status(dir.path(), Some("yesterday")).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::UnknownMigration {
                    problem: MigrationIdProblem::NotAnId,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            crate::migrate::unsafe_path_reason("a/../../x"),
            Some(PathProblem::ParentComponent)
        );
        let err = crate::dotenv::parse_dotenv(".env", "A B=1\n", &|_| None).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::DotenvSyntax {
                    reason: DotenvReason::SpaceInName { .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

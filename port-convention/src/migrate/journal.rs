//! The journal of a migration as a state machine: the events `apply`,
//! `resume` and `rollback` append, the state they lead to, and the state of
//! each file, known from its hash. Pure: the IO that reads and appends them
//! is `io::migrate`'s.

use serde::{Deserialize, Serialize};

use super::FilePlan;

/// One event of a migration's journal (`journal.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// `apply` started (the plan is saved next to the journal).
    Begin {
        /// UTC time.
        time: String,
        /// SHA-256 of `plan.json`.
        plan_sha256: String,
    },
    /// An interrupted `apply` was resumed.
    Resume {
        /// UTC time.
        time: String,
    },
    /// Every file is copied and the manifest written.
    BackedUp {
        /// How many files.
        files: usize,
    },
    /// A file now has its new text.
    Written {
        /// The file, relative to the root.
        file: String,
    },
    /// The re-scan after writing.
    Verified {
        /// Whether no drift remained for the migrated services.
        ok: bool,
        /// How many drift findings remained.
        remaining: usize,
    },
    /// `apply` finished.
    Complete {
        /// UTC time.
        time: String,
    },
    /// `rollback` started.
    RollbackBegin {
        /// UTC time.
        time: String,
        /// Whether `--force` was given.
        force: bool,
    },
    /// A file was restored from the backup.
    Restored {
        /// The file, relative to the root.
        file: String,
    },
    /// `rollback` finished.
    RolledBack {
        /// UTC time.
        time: String,
    },
}

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// `apply` finished.
    Complete,
    /// `apply` stopped before finishing: run `apply` again to resume, or `rollback`.
    Interrupted,
    /// `rollback` stopped before finishing: run `rollback` again.
    RollbackInterrupted,
    /// `rollback` finished.
    RolledBack,
}

impl State {
    /// The state as `status` prints it.
    pub const fn as_str(&self) -> &'static str {
        match self {
            State::Complete => "complete",
            State::Interrupted => "interrupted",
            State::RollbackInterrupted => "rollback interrupted",
            State::RolledBack => "rolled back",
        }
    }
}

/// Where one file of a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileState {
    /// As before the migration.
    Old,
    /// As the migration writes it.
    New,
    /// Neither: changed by someone else.
    Changed,
    /// Gone.
    Missing,
}

impl FileState {
    /// The state of a file of a plan whose bytes hash to `sha256` (`None`:
    /// the file is gone). The one comparison of a file with its plan: the
    /// pre-flight, the backup, the writes, `status`, `resume` and `rollback`
    /// all decide from it.
    ///
    /// ```
    /// use port_convention::migrate::{FileKind, FilePlan, FileState};
    /// let file = FilePlan {
    ///     file: "compose.yml".into(),
    ///     kind: FileKind::Compose,
    ///     sha256: "aa".into(),
    ///     new_sha256: "bb".into(),
    ///     edits: vec![],
    /// };
    /// assert_eq!(FileState::of(&file, Some("aa")), FileState::Old);
    /// assert_eq!(FileState::of(&file, Some("bb")), FileState::New);
    /// assert_eq!(FileState::of(&file, Some("cc")), FileState::Changed);
    /// assert_eq!(FileState::of(&file, None), FileState::Missing);
    /// ```
    pub fn of(file: &FilePlan, sha256: Option<&str>) -> FileState {
        match sha256 {
            None => FileState::Missing,
            Some(sha) if sha == file.sha256 => FileState::Old,
            Some(sha) if sha == file.new_sha256 => FileState::New,
            Some(_) => FileState::Changed,
        }
    }
}

/// The state a journal leads to: the last event that starts or ends a step
/// decides (no event: interrupted before the first).
pub fn state_of(events: &[Event]) -> State {
    let mut state = State::Interrupted;
    for event in events {
        state = match event {
            Event::Begin { .. } | Event::Resume { .. } => State::Interrupted,
            Event::Complete { .. } => State::Complete,
            Event::RollbackBegin { .. } => State::RollbackInterrupted,
            Event::RolledBack { .. } => State::RolledBack,
            _ => state,
        };
    }
    state
}

/// What `apply` does in a tree whose last migration is in `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Start a new migration.
    Fresh,
    /// Resume the interrupted one (it is the same plan).
    Resume,
    /// Refuse, for this reason.
    Refuse(super::Code),
}

/// The transition of `apply` from the last migration's state: a finished
/// or rolled back migration lets a new one start; an interrupted one is
/// resumed when `same_plan` (the plan being applied edits the same files
/// the same way), refused otherwise; an interrupted rollback must finish
/// first.
///
/// ```
/// use port_convention::migrate::{Code, State};
/// use port_convention::migrate::journal::{Start, apply_start};
/// assert_eq!(apply_start(State::Complete, false), Start::Fresh);
/// assert_eq!(apply_start(State::Interrupted, true), Start::Resume);
/// assert_eq!(apply_start(State::Interrupted, false), Start::Refuse(Code::MigrationInterrupted));
/// ```
pub fn apply_start(state: State, same_plan: bool) -> Start {
    match state {
        State::Complete | State::RolledBack => Start::Fresh,
        State::Interrupted if same_plan => Start::Resume,
        State::Interrupted => Start::Refuse(super::Code::MigrationInterrupted),
        State::RollbackInterrupted => Start::Refuse(super::Code::RollbackInterrupted),
    }
}

/// Whether `name` is a migration id: a UTC timestamp `20261127T210244Z`,
/// with `-NN` when several migrations started in the same second.
pub fn is_migration_id(name: &str) -> bool {
    let bytes = name.as_bytes();
    let stamp_ok = bytes.len() >= 16
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'Z';
    if !stamp_ok {
        return false;
    }
    match &name[16..] {
        "" => true,
        rest => rest
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// A time (seconds since 1970, UTC) as a migration id stamp and as the
/// journal writes it: `(20251102T101530Z, 2025-11-02T10:15:30Z)`.
///
/// ```
/// use port_convention::migrate::journal::utc_of;
/// assert_eq!(utc_of(0), ("19700101T000000Z".into(), "1970-01-01T00:00:00Z".into()));
/// ```
pub fn utc_of(secs: i64) -> (String, String) {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    let (h, mi, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    (
        format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z"),
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_394), (2025, 11, 2));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn migration_ids_are_timestamps_only() {
        for id in [
            "20261127T210244Z",
            "20261127T210244Z-02",
            "20261127T210244Z-100",
        ] {
            assert!(is_migration_id(id), "{id}");
        }
        for id in [
            "",
            "..",
            "../../etc",
            "20261127T210244Z.damaged",
            "20261127T210244Z-",
            "20261127T210244",
            "2026112xT210244Z",
            "20261127T210244Z/..",
        ] {
            assert!(!is_migration_id(id), "{id}");
        }
    }

    #[test]
    fn states_follow_the_last_event() {
        let t = String::new();
        let begin = Event::Begin {
            time: t.clone(),
            plan_sha256: t.clone(),
        };
        assert_eq!(state_of(std::slice::from_ref(&begin)), State::Interrupted);
        let done = [begin.clone(), Event::Complete { time: t.clone() }];
        assert_eq!(state_of(&done), State::Complete);
        let rb = [
            begin,
            Event::Complete { time: t.clone() },
            Event::RollbackBegin {
                time: t.clone(),
                force: false,
            },
        ];
        assert_eq!(state_of(&rb), State::RollbackInterrupted);
    }
}

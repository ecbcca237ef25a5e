//! Failpoints: in debug builds only, abort (or pause) the process at a named
//! step, for the crash tests of `docs/adr/0002-migration-safety.md`.

use std::path::{Path, PathBuf};

/// The failpoints a debug build honours, in the order `apply` reaches them
/// (the last ones are `rollback`'s and the pre-flight's):
///
/// - `after-lock`: the migration lock is taken, nothing else done yet (`apply`, `rollback`);
/// - `mid-plan-write`: half of the backup's `plan.json` is in its scratch file;
/// - `after-begin`: the plan and the journal's first event are written, no backup yet;
/// - `mid-backup`: after the first file is copied into the backup, before the manifest;
/// - `after-backup`: the backup and its manifest are complete, no file written yet;
/// - `mid-write`: half of a file's new text is in its scratch file;
/// - `before-rename`: a file's new text is in its fsynced temporary file, not yet renamed;
/// - `after-rename`: a file was renamed into place, before the journal records it;
/// - `before-complete`: every file is written, before the re-scan and the `complete` event;
/// - `rollback-after-restore`: `rollback` restored a file, before the journal records it;
/// - `mid-probe`: the pre-flight created a probe file in a directory, before removing it.
///
/// `<name>:<n>:pause` waits at the step instead of aborting (see `failpoint`).
pub const FAILPOINTS: &[&str] = &[
    "after-lock",
    "mid-plan-write",
    "after-begin",
    "mid-backup",
    "after-backup",
    "mid-write",
    "before-rename",
    "after-rename",
    "before-complete",
    "rollback-after-restore",
    "mid-probe",
];

/// The failpoint the environment asks for: `(name, n, pause)`.
pub(super) fn failpoint_spec() -> Option<(String, usize, bool)> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let wanted = std::env::var("PORT_CONVENTION_FAILPOINT").ok()?;
    let mut parts = wanted.split(':');
    let name = parts.next()?.to_owned();
    let mut nth = 1;
    let mut pause = false;
    for part in parts {
        if part == "pause" {
            pause = true;
        } else if let Ok(n) = part.parse::<usize>() {
            nth = n;
        }
    }
    Some((name, nth, pause))
}

/// Whether the step `name` is reached for the `n`-th time the environment
/// names (debug builds only); counts every hit of that step.
pub(super) fn failpoint_hit(name: &str) -> bool {
    use std::sync::Mutex;
    static HITS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
    let Some((wanted, nth, _)) = failpoint_spec() else {
        return false;
    };
    if wanted != name {
        return false;
    }
    let count = match HITS.lock() {
        Ok(mut hits) => match hits.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                hits.push((name.to_owned(), 1));
                1
            }
        },
        Err(_) => 1,
    };
    count == nth
}

pub(super) fn abort_at(name: &str) -> ! {
    eprintln!("port-convention: failpoint {name} reached, aborting");
    std::process::abort();
}

/// Aborts the process here when the environment asks for it (debug builds
/// only). With `:pause` it waits instead, until the file named by
/// `PORT_CONVENTION_FAILPOINT_RELEASE` exists (at most two minutes), so that
/// a test can run a second process meanwhile.
pub(super) fn failpoint(name: &str) {
    if !failpoint_hit(name) {
        return;
    }
    if failpoint_spec().is_some_and(|(_, _, pause)| pause) {
        eprintln!(
            "port-convention: failpoint {name} reached, pausing (pid {})",
            std::process::id()
        );
        let release = std::env::var_os("PORT_CONVENTION_FAILPOINT_RELEASE").map(PathBuf::from);
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(120) {
            if release.as_deref().is_some_and(Path::exists) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        return;
    }
    abort_at(name);
}

//! Verification: a plan is checked before it is returned (the edited texts
//! are parsed again; every migrated mapping must publish its assigned port,
//! every other one what it published before), and the checks `apply` runs
//! again on the tree before and after writing.

use std::collections::{BTreeMap, BTreeSet};

use super::edits::{apply_edits, sha256_hex};
use super::{
    Code, ConventionRef, FileKind, FilePlan, Note, PLAN_FORMAT, PLAN_VERSION, Plan, PlanOptions,
    Planner, Target, Tree,
};
use crate::check::{Scan, TreeTexts, project_env_name, scan_texts};
use crate::compose::Claim;
use crate::{Convention, HostIp, Published, Severity};

#[allow(clippy::too_many_lines)]
pub(super) fn finish(tree: &Tree<'_>, options: &PlanOptions, mut p: Planner) -> Plan {
    let mut files = Vec::new();
    let mut new_texts = tree.texts.clone();
    for (file, mut edits) in std::mem::take(&mut p.edits) {
        edits.sort_by_key(|e| (e.start, e.end));
        edits.dedup();
        let overlapping = edits.windows(2).any(|w| match w {
            [a, b] => {
                b.start < a.end || (a.start == b.start && a.start == a.end && b.start == b.end)
            }
            _ => false,
        });
        let Some(text) = tree.texts.get(&file) else {
            continue;
        };
        if overlapping {
            p.problems.push(
                Note::new(
                    Code::VerificationFailed,
                    "two changes overlap in this file; please report this",
                )
                .at(&file, 0, 0),
            );
            continue;
        }
        let new_text = match apply_edits(&file, text, &edits) {
            Ok(t) => t,
            Err(err) => {
                p.problems
                    .push(Note::new(Code::VerificationFailed, err.to_string()).at(&file, 0, 0));
                continue;
            }
        };
        let kind = if tree.scan.compose_files.iter().any(|f| f.file == file) {
            FileKind::Compose
        } else {
            FileKind::Env
        };
        files.push(FilePlan {
            file: file.clone(),
            kind,
            sha256: sha256_hex(text.as_bytes()),
            new_sha256: sha256_hex(new_text.as_bytes()),
            edits,
        });
        new_texts.insert(file, new_text);
    }
    crate::migrate::sort_changes(&mut p.changes);
    p.targets.sort_by(|a, b| {
        (&a.location.file, a.location.line, a.location.column, a.port).cmp(&(
            &b.location.file,
            b.location.line,
            b.location.column,
            b.port,
        ))
    });

    // Read the edited texts again: the plan must do what it says.
    if !files.is_empty() {
        let compose_names: Vec<String> = tree
            .scan
            .compose_files
            .iter()
            .map(|f| f.file.clone())
            .collect();
        let env_names: Vec<String> = tree.scan.env_files.iter().map(|f| f.file.clone()).collect();
        let edited = TreeTexts {
            compose: compose_names,
            env: env_names,
            texts: new_texts.clone(),
            unreadable: BTreeMap::new(),
            ..TreeTexts::default()
        };
        let after = scan_texts(&edited, tree.env, None);
        verify(tree, &after, &files, &mut p);
        for conflict in target_conflicts(tree.convention, &after, &p.targets) {
            p.problems.push(conflict);
        }
    }
    let mut stacks: Vec<String> = p.stacks.into_iter().collect();
    stacks.retain(|f| {
        p.targets
            .iter()
            .any(|t| t.location.file == *f && t.ports != t.from)
            || files.iter().any(|fp| fp.file == *f)
    });
    Plan {
        format: PLAN_FORMAT.to_owned(),
        version: PLAN_VERSION,
        tool_version: crate::TOOL_VERSION.to_owned(),
        root: String::new(),
        convention: ConventionRef {
            path: tree.convention.file.clone(),
            version: tree.convention.version.to_string(),
            sha256: String::new(),
        },
        options: options.clone(),
        files,
        changes: p.changes,
        targets: p.targets,
        stacks,
        not_found: p.not_found,
        notes: p.notes.into_iter().map(Note::warning).collect(),
        problems: p.problems,
    }
}

pub(super) fn verify(tree: &Tree<'_>, after: &Scan, files: &[FilePlan], p: &mut Planner) {
    let touched: BTreeSet<&str> = files.iter().map(|f| f.file.as_str()).collect();
    for before in &tree.scan.compose_files {
        let env_touched = touched.contains(project_env_name(&before.file).as_str());
        if !touched.contains(before.file.as_str()) && !env_touched {
            continue;
        }
        let Some(now) = after.compose_files.iter().find(|f| f.file == before.file) else {
            p.problems.push(
                Note::new(
                    Code::VerificationFailed,
                    "the edited file is no longer a compose file; please report this",
                )
                .at(&before.file, 0, 0),
            );
            continue;
        };
        let old_rules: BTreeSet<_> = before.findings.iter().map(|f| (f.rule, f.line())).collect();
        for finding in &now.findings {
            if finding.severity == Severity::Error
                && !old_rules.contains(&(finding.rule, finding.line()))
            {
                p.problems.push(
                    Note::new(
                        Code::EditBreaksFile,
                        format!("the edit would break the file: {}", finding.message),
                    )
                    .at(
                        &before.file,
                        finding.line().unwrap_or(0),
                        finding.column().unwrap_or(0),
                    ),
                );
            }
        }
        if now.claims.len() != before.claims.len() {
            p.problems.push(
                Note::new(
                    Code::VerificationFailed,
                    "the edited file publishes a different number of ports; please report this",
                )
                .at(&before.file, 0, 0),
            );
            continue;
        }
        for (old, new) in before.claims.iter().zip(&now.claims) {
            let target = p
                .targets
                .iter()
                .filter(|t| {
                    t.location.file == old.location.file
                        && t.location.line == old.location.line
                        && t.location.column == old.location.column
                })
                .find(|t| {
                    old.mapping.published.range() == Some(t.from)
                        && old.mapping.protocol == t.protocol
                        && (t.ports.len() == 1 || old.mapping.published.range() == Some(t.from))
                });
            let expected = match target {
                Some(t) => match old.mapping.published {
                    Published::Port(_) => Published::Port(t.ports.start()),
                    _ if t.ports.len() == 1 => Published::Port(t.ports.start()),
                    _ => Published::Range(t.ports),
                },
                None => old.mapping.published,
            };
            let same_rest = old.mapping.target == new.mapping.target
                && old.mapping.protocol == new.mapping.protocol
                && old.mapping.host_ip == new.mapping.host_ip;
            if !same_rest || new.mapping.published != expected {
                let (kind, message) = if target.is_some() {
                    (
                        Code::VerificationFailed,
                        format!(
                            "after the edit, {} would publish {} instead of {}; please report this",
                            new.service, new.mapping, expected
                        ),
                    )
                } else {
                    (
                        Code::SharedValueMovesService,
                        format!(
                            "changing a shared .env value also moves service {} from {} to {}",
                            new.service, old.mapping, new.mapping
                        ),
                    )
                };
                let note = Note::new(kind, message)
                    .at(&old.location.file, old.location.line, old.location.column)
                    .about(&new.service);
                if kind == Code::VerificationFailed {
                    p.problems.push(note);
                } else {
                    p.notes.push(note);
                }
            }
        }
    }
    for env in &after.env_files {
        if touched.contains(env.file.as_str())
            && let Err(err) = &env.parsed
        {
            p.problems.push(
                Note::new(
                    Code::EditBreaksFile,
                    format!("the edit would break the file: {err}"),
                )
                .at(&env.file, 0, 0),
            );
        }
    }
}

/// Mappings of `scan` that publish a target's port while not being a target
/// themselves (a target is known by its file, line and column), and not in a
/// file that is an alternative of the target's. Run on the tree before a
/// migration (by `apply`) and on the planned tree (by [`super::plan`]).
pub fn target_conflicts(convention: &Convention, scan: &Scan, targets: &[Target]) -> Vec<Note> {
    let mut out = Vec::new();
    let is_target = |claim: &Claim| {
        targets.iter().any(|t| {
            t.location.file == claim.location.file
                && t.location.line == claim.location.line
                && t.location.column == claim.location.column
        })
    };
    for target in targets {
        let ip: HostIp = target.host_ip.parse().unwrap_or_default();
        for (claim, range) in scan.published() {
            if is_target(claim)
                || claim.mapping.protocol != target.protocol
                || !range.overlaps(&target.ports)
                || !claim.mapping.host_ip.overlaps(&ip)
                || convention.are_alternatives(&claim.location.file, &target.location.file)
            {
                continue;
            }
            out.push(
                Note::new(Code::TargetConflict, format!(
                    "target port {}/{} of {} ({}) is already published by service {} at {}:{}:{}",
                    target.ports,
                    target.protocol,
                    target.service,
                    target.port_name,
                    claim.service,
                    claim.location.file,
                    claim.location.line,
                    claim.location.column
                ))
                .at(&target.location.file, target.location.line, target.location.column)
                .about(&target.service),
            );
        }
    }
    // Two targets on one port (the convention's own duplicates are caught by
    // its validation; this catches two copies of a service in files that run
    // together).
    for (i, a) in targets.iter().enumerate() {
        for b in targets.iter().skip(i + 1) {
            let (ia, ib): (HostIp, HostIp) = (
                a.host_ip.parse().unwrap_or_default(),
                b.host_ip.parse().unwrap_or_default(),
            );
            if a.protocol == b.protocol
                && a.ports.overlaps(&b.ports)
                && ia.overlaps(&ib)
                && !(a.location.file == b.location.file
                    && a.location.line == b.location.line
                    && a.location.column == b.location.column)
                && !convention.are_alternatives(&a.location.file, &b.location.file)
            {
                out.push(
                    Note::new(Code::TargetTwice, format!(
                        "target port {}/{} would be published twice: by {} here and by {} at {}:{}:{}",
                        a.ports, a.protocol, a.service, b.service, b.location.file, b.location.line, b.location.column
                    ))
                    .at(&a.location.file, a.location.line, a.location.column)
                    .about(&a.service),
                );
            }
        }
    }
    out
}

/// The `drift` and `env-drift` findings left for the services of a plan, in
/// a tree read after the migration.
pub fn remaining_drift(convention: &Convention, scan: &Scan, plan: &Plan) -> Vec<crate::Finding> {
    let services = plan.services();
    crate::check::check_repository(Some(convention), scan)
        .into_iter()
        .filter(|f| matches!(f.rule, crate::Rule::Drift | crate::Rule::EnvDrift))
        .filter(|f| match f.rule {
            crate::Rule::Drift => {
                // A drift finding names the compose service; map it back.
                f.file().is_some_and(|file| {
                    plan.targets.iter().any(|t| {
                        t.location.file == file
                            && Some(t.location.line) == f.line()
                            && Some(t.location.column) == f.column()
                    })
                })
            }
            _ => {
                // Env drift: only the entries the plan edited.
                f.service.as_ref().is_some_and(|s| services.contains(s))
                    && f.file().is_some_and(|file| {
                        plan.files.iter().any(|fp| {
                            fp.file == file && fp.edits.iter().any(|e| Some(e.line) == f.line())
                        })
                    })
            }
        })
        .collect()
}

//! Compose planning: the host ports of the convention's services in
//! compose files (literals, template defaults, long syntax, ranges).

use std::ops::Range;

use super::edits::project_family;
use super::{
    ChangeKind, Code, NotFound, Note, PlanOptions, Planner, Rename, Target, Tree, VarUse, key_of,
};
use crate::check::{assignment_for, declared_service, project_env_name};
use crate::compose::Claim;
use crate::convention::normalize_path;
use crate::interpolation::{Interpolated, interpolate};
use crate::{PortAssignment, PortRange, Published, ServiceDef};

pub(super) fn plan_service(
    tree: &Tree<'_>,
    options: &PlanOptions,
    service: &ServiceDef,
    p: &mut Planner,
) {
    let c = tree.convention;
    let name = &service.compose_service;
    let defining: Vec<&crate::compose::ComposeFile> = tree
        .scan
        .compose_files
        .iter()
        .filter(|f| f.services.iter().any(|(s, _)| s == name))
        .filter(|f| {
            service
                .compose_file
                .as_deref()
                .is_none_or(|want| normalize_path(want) == normalize_path(&f.file))
        })
        .collect();
    if defining.is_empty() {
        let reason = match &service.compose_file {
            Some(file) => format!("{file} does not define a compose service named {name}"),
            None => format!("no compose file defines a service named {name}"),
        };
        p.not_found.push(NotFound {
            service: service.name.clone(),
            port_name: None,
            reason,
        });
        return;
    }
    if service.compose_file.is_none() && defining.len() > 1 {
        let all_alternatives = defining.iter().enumerate().all(|(i, a)| {
            defining
                .iter()
                .skip(i + 1)
                .all(|b| c.are_alternatives(&a.file, &b.file))
        });
        if !all_alternatives {
            let files: Vec<&str> = defining.iter().map(|f| f.file.as_str()).collect();
            p.problems.push(
                Note::new(Code::AmbiguousService, format!(
                    "service {} is ambiguous: compose service {name} is defined in {}; name the file in {} \
                     (compose: {{ file: {} }}) or declare the files as alternatives",
                    service.name,
                    files.join(" and "),
                    c.file,
                    files.first().copied().unwrap_or_default()
                ))
                .at(&c.file, service.location.line, service.location.column)
                .about(&service.name),
            );
            return;
        }
    }
    for file in defining {
        let Some(text) = tree.texts.get(&file.file) else {
            p.problems.push(
                Note::new(
                    Code::UnreadableFile,
                    format!("{}: could not be read", file.file),
                )
                .about(&service.name),
            );
            continue;
        };
        let claims: Vec<&Claim> = file
            .claims
            .iter()
            .filter(|claim| {
                claim.service == *name
                    && declared_service(c, claim).is_some_and(|d| d.name == service.name)
            })
            .collect();
        for assignment in &service.ports {
            let found = claims.iter().any(|claim| {
                assignment_for(service, claim).is_some_and(|a| a.name == assignment.name)
                    && claim.mapping.published.range().is_some()
            });
            if !found {
                let what = match assignment.container {
                    Some(port) => format!("container port {port}/{}", assignment.protocol),
                    None => format!("a {} port", assignment.protocol),
                };
                p.not_found.push(NotFound {
                    service: service.name.clone(),
                    port_name: Some(assignment.name.clone()),
                    reason: format!(
                        "{} service {name} publishes no host port for {what}; migrate does not add mappings",
                        file.file
                    ),
                });
            }
        }
        // One entry may expand into several claims (a container range).
        let mut groups: Vec<Vec<&Claim>> = Vec::new();
        for claim in claims {
            match groups
                .iter_mut()
                .find(|g| g.first().is_some_and(|first| first.span == claim.span))
            {
                Some(group) => group.push(claim),
                None => groups.push(vec![claim]),
            }
        }
        for group in groups {
            plan_entry(tree, options, service, &file.file, text, &group, p);
        }
    }
}

/// The new host value of an entry and the old host ports, or why not.
fn new_host_value(service: &ServiceDef, group: &[&Claim]) -> Result<Option<String>, String> {
    if group.iter().any(|claim| claim.run > 1) {
        return Err(format!(
            "a range of more than {} ports is not moved; edit it by hand",
            crate::compose::RUN_THRESHOLD
        ));
    }
    let assigned: Vec<(&Claim, &PortAssignment)> = group
        .iter()
        .filter_map(|claim| assignment_for(service, claim).map(|a| (*claim, a)))
        .collect();
    if assigned.is_empty() {
        return Ok(None);
    }
    if let [claim] = group {
        return match claim.mapping.published {
            Published::None => Ok(None),
            Published::Port(_) | Published::Range(_) => {
                let port = assigned.first().map(|(_, a)| a.port).unwrap_or(0);
                Ok(Some(port.to_string()))
            }
        };
    }
    // A container range: host ports follow container ports one to one.
    let mut first_target = u16::MAX;
    let mut host_ports = Vec::new();
    for claim in group {
        match claim.mapping.published {
            Published::Port(p) => host_ports.push((claim.mapping.target, p)),
            _ => return Err("a container range whose host side is not one port each".into()),
        }
        first_target = first_target.min(claim.mapping.target);
    }
    let mut start: Option<u32> = None;
    for (claim, assignment) in &assigned {
        let offset = u32::from(claim.mapping.target - first_target);
        let candidate = u32::from(assignment.port).checked_sub(offset);
        match (start, candidate) {
            (_, None) => {
                return Err(format!(
                    "port {} cannot start a range here",
                    assignment.port
                ));
            }
            (None, Some(s)) => start = Some(s),
            (Some(s), Some(other)) if s != other => {
                return Err(
                    "the assigned ports of this container range are not consecutive in the same order".into(),
                );
            }
            _ => {}
        }
    }
    let Some(start) = start else { return Ok(None) };
    let len = u32::try_from(group.len()).unwrap_or(u32::MAX);
    let end = start + len - 1;
    if end > u32::from(u16::MAX) || start == 0 {
        return Err("the moved range would leave 1-65535".into());
    }
    Ok(Some(format!("{start}-{end}")))
}

/// How a YAML scalar is written: where its content starts and whether the
/// content is exactly its value.
pub(super) fn scalar_content(raw: &str) -> Option<(usize, &str)> {
    if raw.contains('\n') || raw.contains('\r') {
        return None;
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return (!inner.contains('\\')).then_some((1, inner));
    }
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return (!inner.contains('\'')).then_some((1, inner));
    }
    if raw.starts_with(['"', '\'', '|', '>', '&', '*', '!']) {
        return None;
    }
    Some((0, raw))
}

pub(super) fn lookup_for<'t>(
    tree: &'t Tree<'_>,
    compose_file: &str,
) -> impl Fn(&str) -> Option<String> + 't {
    let project = project_env_name(compose_file);
    let project_env = tree
        .scan
        .env_files
        .iter()
        .find(|e| e.file == project)
        .and_then(|e| e.parsed.as_ref().ok());
    move |var: &str| {
        tree.env
            .get(var)
            .cloned()
            .or_else(|| project_env.and_then(|d| d.get(var)).map(str::to_owned))
    }
}

#[allow(clippy::too_many_lines)]
fn plan_entry(
    tree: &Tree<'_>,
    options: &PlanOptions,
    service: &ServiceDef,
    file: &str,
    text: &str,
    group: &[&Claim],
    p: &mut Planner,
) {
    let Some(first) = group.first() else { return };
    let problem = |code: Code, message: String| {
        Note::new(code, message)
            .at(file, first.location.line, first.location.column)
            .about(&service.name)
    };
    let new_value = match new_host_value(service, group) {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(why) => {
            p.problems.push(problem(
                Code::EntryNotMovable,
                format!(
                    "cannot move {:?} of service {}: {why}; edit it by hand",
                    first.raw, first.service
                ),
            ));
            return;
        }
    };
    let Some(assignment) = group
        .iter()
        .find_map(|claim| assignment_for(service, claim))
    else {
        return;
    };
    let key = key_of(service, assignment);
    let single_assignment = group.len() == 1;
    if group.iter().any(|claim| claim.via_alias) {
        p.problems.push(problem(Code::AliasEntry, format!(
            "the port entry {:?} of service {} is reached through a YAML alias or merge key; migrate only \
             edits entries written in place (editing the anchor would move every service that uses it): \
             write the entry out in the service, or edit the anchor by hand, and plan again",
            first.raw, first.service
        )));
        return;
    }
    let Some(raw) = text.get(first.span.clone()) else {
        p.problems.push(problem(
            Code::VerificationFailed,
            "the entry's position is outside the file".into(),
        ));
        return;
    };
    let is_long = raw != first.raw;
    let Some((content_offset, inner)) = scalar_content(raw) else {
        p.problems.push(problem(Code::UnsupportedEntry, format!(
            "the port entry {raw} uses YAML escapes, line folding or a block scalar; write it on one line \
             without escapes, or edit it by hand"
        )));
        return;
    };
    let base = first.span.start + content_offset;
    let lookup = lookup_for(tree, file);
    let interpolated: Interpolated = match interpolate(inner, &lookup) {
        Ok(i) => i,
        Err(err) => {
            p.problems.push(problem(
                Code::UnsupportedEntry,
                format!("cannot read the entry {raw}: {err}"),
            ));
            return;
        }
    };
    let host: Range<usize> = if is_long {
        0..inner.len()
    } else {
        let parts = crate::compose::top_level_parts(inner);
        match parts.len().checked_sub(2).and_then(|i| parts.get(i)) {
            Some(part) => part.clone(),
            None => {
                p.problems.push(problem(
                    Code::InvalidHostPort,
                    format!("cannot find the host port in {raw}"),
                ));
                return;
            }
        }
    };
    let uses: Vec<_> = interpolated
        .uses
        .iter()
        .filter(|u| u.span.start >= host.start && u.span.end <= host.end)
        .collect();
    let old_ports: Vec<u16> = group
        .iter()
        .filter_map(|claim| claim.mapping.published.range())
        .map(|r| r.start())
        .collect();
    let mut post_var: Option<String> = None;

    if uses.is_empty() {
        let host_text = inner.get(host.clone()).unwrap_or("");
        if host_text.parse::<PortRange>().is_err() {
            p.problems.push(problem(
                Code::InvalidHostPort,
                format!("the host port {host_text:?} of {raw} is not a port number or range"),
            ));
            return;
        }
        let range = base + host.start..base + host.end;
        match (&assignment.env, options.use_env_vars && single_assignment) {
            (Some(var), true) => {
                let template = format!("${{{var}:-{new_value}}}");
                p.edit(file, text, range.clone(), &template);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::UseEnvVar,
                    Some(var),
                    host_text,
                    &template,
                );
                post_var = Some(var.clone());
                for env_file in project_family(file) {
                    if tree.scan.env_files.iter().any(|e| e.file == env_file) {
                        p.inserts
                            .push((env_file, var.clone(), new_value.clone(), key.clone()));
                    }
                }
            }
            (env, use_env_vars) => {
                if env.is_none() && use_env_vars {
                    p.notes.push(problem(
                        Code::NoConventionVariable,
                        format!(
                            "{}/{} has no `env:` in the convention; the literal stays a literal",
                            service.name, assignment.name
                        ),
                    ));
                }
                p.edit(file, text, range.clone(), &new_value);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::Literal,
                    None,
                    host_text,
                    &new_value,
                );
            }
        }
    } else {
        let Some(u) = uses.first().copied() else {
            return;
        };
        let nested_only = uses.iter().skip(1).all(|other| {
            u.default
                .as_ref()
                .is_some_and(|d| other.span.start >= d.span.start && other.span.end <= d.span.end)
        });
        if u.span != host || !nested_only {
            p.problems.push(problem(Code::UnsupportedEntry, format!(
                "the host port of {raw} mixes text and variables; migrate rewrites only a literal or a single \
                 ${{VAR:-port}}; edit it by hand"
            )));
            return;
        }
        if u.operator.is_alternative() {
            p.problems.push(problem(Code::UnsupportedEntry, format!(
                "the host port of {raw} uses ${{{}{}...}} (an alternative value); edit it by hand",
                u.name,
                u.operator.symbol()
            )));
            return;
        }
        if let Some(default) = u.default.as_ref().filter(|_| u.operator.is_default()) {
            if default.text.contains('$') {
                p.problems.push(problem(
                    Code::UnsupportedEntry,
                    format!(
                        "the default of {} in {raw} is itself a template; edit it by hand",
                        u.name
                    ),
                ));
                return;
            }
            if !default.text.is_empty() {
                if default.text.parse::<PortRange>().is_err() {
                    p.problems.push(problem(
                        Code::InvalidHostPort,
                        format!(
                            "the default {:?} of {} in {raw} is not a port number or range",
                            default.text, u.name
                        ),
                    ));
                    return;
                }
                let range = base + default.span.start..base + default.span.end;
                p.edit(file, text, range.clone(), &new_value);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::TemplateDefault,
                    Some(&u.name),
                    &default.text,
                    &new_value,
                );
            }
        }
        let mut name = u.name.clone();
        if options.renames()
            && single_assignment
            && let Some(var) = &assignment.env
            && *var != u.name
        {
            let offset = if inner
                .get(u.span.start..)
                .is_some_and(|s| s.starts_with("${"))
            {
                2
            } else {
                1
            };
            let start = base + u.span.start + offset;
            let range = start..start + u.name.len();
            if text.get(range.clone()) == Some(u.name.as_str()) {
                p.edit(file, text, range.clone(), var);
                p.change(
                    &key,
                    file,
                    text,
                    range.start,
                    ChangeKind::RenameVariable,
                    Some(var),
                    &u.name,
                    var,
                );
                p.renamed_spans
                    .entry(file.to_owned())
                    .or_default()
                    .push(range);
                p.renames.push(Rename {
                    compose_file: file.to_owned(),
                    from: u.name.clone(),
                    to: var.clone(),
                    new: new_value.clone(),
                    key: key.clone(),
                });
                name = var.clone();
            }
        }
        if name != u.name {
            // The old variable still carries the old port for whoever reads it.
            p.carried.entry(u.name.clone()).or_default().push(VarUse {
                key: key.clone(),
                new: new_value.clone(),
            });
        }
        post_var = Some(name);
    }

    if let Some(var) = &post_var {
        if let Some(value) = tree.env.get(var)
            && *value != new_value
        {
            p.problems.push(problem(Code::EnvironmentOverride, format!(
                "{var}={value} is set in the environment and wins over every file; unset it (or set it to \
                 {new_value}) and plan again"
            )));
        }
        let project = project_env_name(file);
        if tree.scan.env_files.iter().any(|e| e.file == project) {
            p.forced.insert(
                (project, var.clone()),
                VarUse {
                    key: key.clone(),
                    new: new_value.clone(),
                },
            );
        }
        if assignment.env.as_deref() != Some(var.as_str()) {
            p.carried.entry(var.clone()).or_default().push(VarUse {
                key: key.clone(),
                new: new_value.clone(),
            });
        }
    }

    if let Some(old) = p.old_ports.get_mut(&key) {
        old.extend(old_ports.iter().copied());
    }
    let new_range = new_value.parse::<PortRange>().ok();
    let mut moved = false;
    for claim in group {
        let Some(from) = claim.mapping.published.range() else {
            continue;
        };
        let Some(a) = assignment_for(service, claim) else {
            continue;
        };
        let ports = match (new_range, group.len()) {
            (Some(r), 1) => r,
            (Some(r), _) => {
                let offset = claim
                    .mapping
                    .target
                    .saturating_sub(group.iter().map(|c| c.mapping.target).min().unwrap_or(0));
                PortRange::single(r.start().saturating_add(offset))
            }
            (None, _) => PortRange::single(a.port),
        };
        moved |= ports != from;
        p.targets.push(Target {
            service: service.name.clone(),
            port_name: a.name.clone(),
            port: ports.start(),
            ports,
            protocol: claim.mapping.protocol,
            host_ip: claim.mapping.host_ip.to_string(),
            location: crate::Location::new(file, claim.location.line, claim.location.column),
            from,
        });
    }
    if moved || p.edits.contains_key(file) {
        p.stacks.insert(file.to_owned());
    }
}

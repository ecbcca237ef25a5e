//! `PORTS-CONVENTION.md`: the convention as a document for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{
    HostIndex, convention_file_name, depths, fill_url, occupancy, protected_flags, range_of,
    sorted_assignments, title, variable_stem,
};
use crate::report::escape_text;
use crate::{BindPolicy, Convention, Rule};

/// How to render the markdown document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Where the document's port map is (a relative link to the SVG of
    /// [`super::svg`]); `None`: no picture.
    pub svg_href: Option<String>,
}

/// Text for a markdown paragraph or table cell: unsafe characters shown
/// visibly, markdown punctuation escaped, line breaks as spaces.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_text(&text.replace(['\n', '\r', '\t'], " ")).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A code span (names, variables, paths); `|` escaped for tables.
pub(crate) fn code(text: &str) -> String {
    let text = escape_text(&text.replace(['\n', '\r', '\t'], " "));
    if text.contains('`') || text.is_empty() {
        return md(&text);
    }
    format!("`{}`", text.replace('|', "\\|"))
}

/// A relative link target, percent-encoded (RFC 3986) except unreserved
/// characters and `/`, so that no file name can end the link or the line.
fn link_target(href: &str) -> String {
    href.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The document: a title, the port map, the rules in plain words, hosts and
/// their projects, the ranges (nested, with policy and free capacity), every
/// assignment, connection URLs, and what `check` enforces.
pub fn markdown(convention: &Convention, options: &MarkdownOptions) -> String {
    let mut out = String::new();
    let file = convention_file_name(convention);
    let _ = writeln!(
        out,
        "<!-- Generated from {file} by `port-convention render markdown`; do not edit by hand. -->"
    );
    let _ = writeln!(out, "# Port convention: {}\n", md(&title(convention)));
    if let Some(d) = &convention.description {
        let _ = writeln!(out, "{}\n", md(d));
    }
    let services = convention.services.len();
    let ports = convention.assignments().count();
    let _ = write!(
        out,
        "Convention version **{}** ({}): {} port(s) of {} service(s) in {} range(s).",
        md(&convention.version.to_string()),
        code(&file),
        ports,
        services,
        convention.ranges.len()
    );
    if let Some(req) = &convention.requires {
        let _ = write!(out, " Needs port-convention {}.", code(&req.to_string()));
    }
    out.push_str(" Check a repository against it with `port-convention check`.\n\n");
    if let Some(href) = &options.svg_href {
        let _ = writeln!(
            out,
            "![Port map: occupied, free, reserved and protected ports of every range]({})\n",
            link_target(href)
        );
    }

    let index = HostIndex::new(convention);
    let service_hosts = index.all();
    rules_section(convention, &mut out);
    hosts_section(convention, &service_hosts, &mut out);
    ranges_section(convention, &mut out);
    assignments_section(convention, &service_hosts, &mut out);
    urls_section(convention, &mut out);
    checks_section(&mut out);
    out
}

fn rules_section(c: &Convention, out: &mut String) {
    out.push_str("## Rules\n\n");
    let mut any = false;
    let protected = protected_flags(c);
    for r in &c.ranges {
        let own_protected = r.protected
            && !r
                .parent
                .is_some_and(|p| protected.get(p).copied().unwrap_or(false));
        if own_protected {
            any = true;
            let _ = writeln!(
                out,
                "- Ports {} ({}) are **protected**: only the services this convention declares in that range may publish there; anything else is a {}.",
                r.ports,
                code(&r.name),
                code(Rule::ProtectedRangeViolation.id())
            );
        }
        let parent_bind = r.parent.and_then(|p| c.ranges.get(p)).map(|p| p.bind);
        if r.bind == BindPolicy::Loopback && parent_bind != Some(BindPolicy::Loopback) {
            any = true;
            let _ = writeln!(
                out,
                "- Ports {} ({}) are published on the loopback address only (`127.0.0.1:PORT:CONTAINER`), never on every interface.",
                r.ports,
                code(&r.name)
            );
        }
        if r.reserved {
            any = true;
            let _ = writeln!(
                out,
                "- Ports {} ({}) are **reserved**: kept free, nobody is assigned a port there.",
                r.ports,
                code(&r.name)
            );
        }
    }
    if c.assignments().any(|(_, p)| p.env.is_some()) {
        any = true;
        out.push_str(
            "- A port with a variable is published through it, with the assigned port as the default: `\"${VARIABLE:-PORT}:CONTAINER\"`; `.env` files that set the variable set the assigned port.\n",
        );
    }
    for s in &c.services {
        if let Some(base) = &s.replica_of {
            any = true;
            let _ = writeln!(
                out,
                "- {} is a replica of {}: each of its ports is the base service's port of the same name + 1.",
                code(&s.name),
                code(base)
            );
        }
    }
    for h in &c.hosts {
        any = true;
        let _ = writeln!(
            out,
            "- The projects on host {} run side by side: their host ports must not clash.",
            code(&h.name)
        );
    }
    for a in &c.alternatives {
        any = true;
        let files: Vec<String> = a.files.iter().map(|f| code(f)).collect();
        let _ = writeln!(
            out,
            "- {} ({}) never run together: their ports may be the same.",
            files.join(", "),
            code(&a.name)
        );
    }
    if !c.hosts.is_empty() {
        let _ = writeln!(
            out,
            "- The same host port in projects that no host puts together is only a warning ({}).",
            code(Rule::PortSharedAcrossProjects.id())
        );
    }
    if !any {
        out.push_str("- No range is protected, reserved or bound to loopback.\n");
    }
    out.push('\n');
}

fn hosts_section(c: &Convention, service_hosts: &[Vec<String>], out: &mut String) {
    out.push_str("## Hosts and their projects\n\n");
    if c.hosts.is_empty() {
        out.push_str("No hosts are declared: ports clash only inside one compose project.\n\n");
    } else {
        out.push_str("| host | address | projects | profiles | services | description |\n|---|---|---|---|---|---|\n");
        let mut hosts: Vec<_> = c.hosts.iter().collect();
        hosts.sort_by(|a, b| a.name.cmp(&b.name));
        let mut services_on: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (s, on) in c.services.iter().zip(service_hosts) {
            for h in on {
                services_on
                    .entry(h.as_str())
                    .or_default()
                    .push(s.name.as_str());
            }
        }
        for h in hosts {
            let projects: Vec<String> = h.projects.iter().map(|p| code(p)).collect();
            let profiles: Vec<String> = h.profiles.iter().map(|p| code(p)).collect();
            let mut names: Vec<&str> = services_on.remove(h.name.as_str()).unwrap_or_default();
            names.sort_unstable();
            let services: Vec<String> = names.into_iter().map(code).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                code(&h.name),
                code(h.address.as_deref().unwrap_or(&h.name)),
                projects.join(", "),
                profiles.join(", "),
                services.join(", "),
                h.description.as_deref().map(md).unwrap_or_default()
            );
        }
        out.push('\n');
    }
    if !c.projects.is_empty() {
        out.push_str("Declared compose projects:\n\n| project | files (merge order) | profiles | env files |\n|---|---|---|---|\n");
        let mut projects: Vec<_> = c.projects.iter().collect();
        projects.sort_by(|a, b| a.name.cmp(&b.name));
        for p in projects {
            let list = |v: &[String]| v.iter().map(|f| code(f)).collect::<Vec<_>>().join(", ");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&p.name),
                list(&p.files),
                list(&p.profiles),
                list(&p.env_files)
            );
        }
        out.push('\n');
    }
}

fn ranges_section(c: &Convention, out: &mut String) {
    out.push_str("## Ranges\n\n");
    if c.ranges.is_empty() {
        out.push_str("No ranges are declared.\n\n");
        return;
    }
    out.push_str("| range | ports | size | policy | assigned | free | description |\n|---|---|---:|---|---:|---:|---|\n");
    let occ = occupancy(c);
    let depth = depths(c);
    let protected = protected_flags(c);
    for (i, r) in c.ranges.iter().enumerate() {
        let d = depth.get(i).copied().unwrap_or(0);
        let indent = "&nbsp;&nbsp;&nbsp;&nbsp;".repeat(d.min(16));
        let branch = if d > 0 { "└ " } else { "" };
        let mut policy = Vec::new();
        let is_protected = protected.get(i).copied().unwrap_or(false);
        if r.protected {
            policy.push("protected".to_owned());
        } else if is_protected {
            policy.push("protected (inherited)".to_owned());
        }
        if r.reserved {
            policy.push("reserved".to_owned());
        }
        if r.bind == BindPolicy::Loopback {
            let parent_loopback = r
                .parent
                .and_then(|p| c.ranges.get(p))
                .is_some_and(|p| p.bind == BindPolicy::Loopback);
            policy.push(if parent_loopback {
                "loopback only (inherited)".to_owned()
            } else {
                "loopback only".to_owned()
            });
        }
        let o = occ.get(i).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "| {indent}{branch}{} | {} | {} | {} | {} | {} | {} |",
            code(&r.name),
            r.ports,
            o.size,
            if policy.is_empty() {
                "open".to_owned()
            } else {
                policy.join(", ")
            },
            o.assigned,
            o.free,
            r.description.as_deref().map(md).unwrap_or_default()
        );
    }
    out.push_str("\n*free*: ports neither assigned nor kept by a reserved range.\n\n");
}

fn assignments_section(c: &Convention, service_hosts: &[Vec<String>], out: &mut String) {
    out.push_str("## Assignments\n\n");
    let all = sorted_assignments(c);
    if all.is_empty() {
        out.push_str("No ports are assigned.\n\n");
        return;
    }
    out.push_str("| service | port name | host port | container port | protocol | env var | legacy port | range | compose file | hosts |\n|---|---|---:|---:|---|---|---:|---|---|---|\n");
    let hosts_by_name: BTreeMap<&str, &Vec<String>> = c
        .services
        .iter()
        .zip(service_hosts)
        .map(|(s, h)| (s.name.as_str(), h))
        .collect();
    for (s, p) in all {
        let compose = match (&s.compose_file, s.compose_service == s.name) {
            (Some(f), true) => code(f),
            (Some(f), false) => format!("{} (service {})", code(f), code(&s.compose_service)),
            (None, true) => String::new(),
            (None, false) => format!("service {}", code(&s.compose_service)),
        };
        let hosts: Vec<String> = hosts_by_name
            .get(s.name.as_str())
            .into_iter()
            .flat_map(|h| h.iter())
            .map(|h| code(h))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code(&s.name),
            code(&p.name),
            p.port,
            p.container.map(|x| x.to_string()).unwrap_or_default(),
            p.protocol,
            p.env.as_deref().map(code).unwrap_or_default(),
            p.legacy.map(|x| x.to_string()).unwrap_or_default(),
            range_of(c, s, p).map(code).unwrap_or_default(),
            compose,
            hosts.join(", ")
        );
    }
    out.push('\n');
}

fn urls_section(c: &Convention, out: &mut String) {
    let with_url: Vec<_> = sorted_assignments(c)
        .into_iter()
        .filter(|(_, p)| p.url.is_some())
        .collect();
    if with_url.is_empty() {
        return;
    }
    out.push_str("## Connection URLs\n\nPrograms on the host connect to `localhost` and the host port; containers in the compose network connect to the compose service name and the container port (`render env` writes both).\n\n| service | from the host | inside the compose network |\n|---|---|---|\n");
    for (s, p) in with_url {
        let Some(template) = &p.url else { continue };
        let stem = variable_stem(s, p);
        let host = format!(
            "{} = {}",
            code(&format!("{stem}_URL")),
            code(&fill_url(template, "localhost", p.port))
        );
        let inside = match p.container {
            Some(container) => format!(
                "{} = {}",
                code(&format!("{stem}_INTERNAL_URL")),
                code(&fill_url(template, &s.compose_service, container))
            ),
            None => "(no container port declared)".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} {} | {host} | {inside} |",
            code(&s.name),
            code(&p.name)
        );
    }
    out.push('\n');
}

fn checks_section(out: &mut String) {
    out.push_str("## What `port-convention check` enforces\n\n| rule | severity | what it finds |\n|---|---|---|\n");
    for rule in Rule::ALL {
        let _ = writeln!(
            out,
            "| [{}]({}) | {} | {} |",
            code(rule.id()),
            rule.help_uri(),
            rule.severity().as_str(),
            md(rule.summary())
        );
    }
    out.push_str(
        "\n`port-convention explain RULE` tells why a rule matters and how to fix a finding.\n",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_punctuation_and_control_characters_are_escaped() {
        assert_eq!(md("a|b *c* <x>\n"), "a\\|b \\*c\\* \\<x\\> ");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "a\\`b");
        assert!(!md("\u{1b}[2J").contains('\u{1b}'));
    }

    #[test]
    fn the_port_map_link_is_percent_encoded() {
        let c = Convention::from_yaml("ports.yaml", "version: 1.0.0\n").unwrap();
        let options = MarkdownOptions {
            svg_href: Some("my map (v2)\n.svg".into()),
        };
        let doc = markdown(&c, &options);
        assert!(doc.contains("](my%20map%20%28v2%29%0A.svg)\n"), "{doc}");
    }

    #[test]
    fn hostile_names_do_not_break_the_document() {
        let c = Convention::from_yaml(
            "ports.yaml",
            "version: 1.0.0
name: \"x <script>alert(1)</script> | y\"
description: \"# not a heading\\n| not | a | row |\"
ranges:
  \"r|1\": { ports: 7000-7099, description: \"<img src=x>\" }
services:
  \"s|*\": { range: \"r|1\", ports: { \"p`\": { port: 7000, env: \"A|B\" } } }
",
        )
        .unwrap();
        let doc = markdown(&c, &MarkdownOptions::default());
        // Every `<` after the generated comment is escaped: no raw HTML.
        let body = doc.split_once('\n').unwrap().1;
        for (i, _) in body.match_indices('<') {
            assert_eq!(&body[i - 1..i], "\\", "raw < at {i}: {body}");
        }
        assert!(!doc.contains("\n# not"), "{doc}");
        // Every table row has its column count.
        for line in doc.lines().filter(|l| l.starts_with("| `s")) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert_eq!(cells, 11, "{line}");
        }
    }
}

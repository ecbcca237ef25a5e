//! `.env` and `.env.example`: the port variables, grouped by range.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{
    convention_file_name, fill_url, protected_flags, range_of, sorted_assignments, title,
    variable_stem,
};
use crate::report::escape_text;
use crate::{BindPolicy, Convention, PortAssignment, ServiceDef};

/// The assignments of one range (`None`: outside every range).
type Group<'c> = (Option<usize>, Vec<(&'c ServiceDef, &'c PortAssignment)>);

/// Which env file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFlavour {
    /// `.env`, read by compose and by programs.
    Env,
    /// `.env.example`, the template committed for others to copy.
    Example,
}

/// A comment's text on one line, unsafe characters visible.
fn comment(text: &str) -> String {
    escape_text(&text.replace(['\n', '\r', '\t'], " "))
}

/// Whether a variable name is one compose and shells accept unquoted.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The port variables of the convention, grouped by range (in the order of
/// `ports.yaml`, ports sorted), each with a comment naming its service, the
/// container port and the legacy port; with `url:` templates also
/// `STEM_URL` (`localhost` and the host port: for programs on the host) and
/// `STEM_INTERNAL_URL` (compose service name and container port: for
/// containers in the compose network), `STEM` being the variable without
/// `_PORT`. Variables that are not valid names are left out with a note.
pub fn env(convention: &Convention, flavour: EnvFlavour) -> String {
    let mut out = String::new();
    let file = convention_file_name(convention);
    let _ = writeln!(
        out,
        "# Port variables of the {} convention (version {}), generated from {file}",
        comment(&title(convention)),
        convention.version
    );
    match flavour {
        EnvFlavour::Env => out.push_str(
            "# by `port-convention render env`; do not edit by hand, change the convention and render again.\n",
        ),
        EnvFlavour::Example => out.push_str(
            "# by `port-convention render env-example`: copy it to .env; the values are the assigned ports.\n",
        ),
    }
    let all = sorted_assignments(convention);
    let protected = protected_flags(convention);
    let mut top_level: Vec<usize> = Vec::with_capacity(convention.ranges.len());
    for (i, r) in convention.ranges.iter().enumerate() {
        let top = r
            .parent
            .and_then(|p| top_level.get(p).copied())
            .unwrap_or(i);
        top_level.push(top);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut groups: Vec<Group<'_>> = convention
        .ranges
        .iter()
        .enumerate()
        .map(|(i, _)| (Some(i), Vec::new()))
        .collect();
    groups.push((None, Vec::new()));
    for (s, p) in all {
        let index = range_of(convention, s, p).and_then(|r| convention.range_index(r));
        let slot = index.unwrap_or(convention.ranges.len());
        if let Some((_, list)) = groups.get_mut(slot) {
            list.push((s, p));
        }
    }
    for (index, list) in groups {
        if list.is_empty() {
            continue;
        }
        match index.and_then(|i| convention.ranges.get(i).map(|r| (i, r))) {
            Some((i, r)) => {
                // The top-level range, the parent and the range: O(1) per
                // range however deep the nesting.
                let parent = r.parent.and_then(|p| convention.ranges.get(p));
                let top = top_level.get(i).and_then(|t| convention.ranges.get(*t));
                let mut path: Vec<&str> = Vec::new();
                if let (Some(t), Some(p)) = (top, parent)
                    && t.name != p.name
                {
                    path.push(&t.name);
                    if p.parent
                        .is_some_and(|pp| Some(pp) != top_level.get(i).copied())
                    {
                        path.push("…");
                    }
                }
                if let Some(p) = parent {
                    path.push(&p.name);
                }
                path.push(&r.name);
                let mut policy = Vec::new();
                if protected.get(i).copied().unwrap_or(false) {
                    policy.push("protected");
                }
                if r.reserved {
                    policy.push("reserved");
                }
                if r.bind == BindPolicy::Loopback {
                    policy.push("publish on 127.0.0.1 only");
                }
                let _ = write!(out, "\n# --- {} ({})", comment(&path.join(" / ")), r.ports);
                if !policy.is_empty() {
                    let _ = write!(out, ", {}", policy.join(", "));
                }
                if let Some(d) = &r.description {
                    let _ = write!(out, ": {}", comment(d));
                }
                out.push('\n');
            }
            None => out.push_str("\n# --- outside every range\n"),
        }
        for (s, p) in list {
            let mut note = format!(
                "{} {}: host port {}",
                comment(&s.name),
                comment(&p.name),
                p.port
            );
            if let Some(c) = p.container {
                let _ = write!(note, " -> container port {c}");
            }
            if p.protocol != crate::Protocol::Tcp {
                let _ = write!(note, "/{}", p.protocol);
            }
            if let Some(l) = p.legacy {
                let _ = write!(note, " (was {l})");
            }
            let _ = writeln!(out, "# {note}");
            match &p.env {
                Some(var) if !is_variable_name(var) => {
                    let _ = writeln!(
                        out,
                        "# (variable {:?} is not a valid name: left out)",
                        comment(var)
                    );
                }
                Some(var) if !seen.insert(var.clone()) => {
                    let _ = writeln!(out, "# ({} is set above: duplicate-env-var)", comment(var));
                }
                Some(var) => {
                    let _ = writeln!(out, "{var}={}", p.port);
                }
                None => out.push_str("# (no variable: set `env:` in the convention to carry it)\n"),
            }
            if let Some(template) = &p.url {
                let stem = variable_stem(s, p);
                if !is_variable_name(&stem) {
                    continue;
                }
                let host_var = format!("{stem}_URL");
                if seen.insert(host_var.clone()) {
                    let _ = writeln!(
                        out,
                        "# from programs on the host:\n{host_var}={}",
                        fill_url(template, "localhost", p.port)
                    );
                }
                let inside_var = format!("{stem}_INTERNAL_URL");
                match p.container {
                    Some(container) if seen.insert(inside_var.clone()) => {
                        let _ = writeln!(
                            out,
                            "# from containers in the compose network (service name, container port):\n{inside_var}={}",
                            fill_url(template, &s.compose_service, container)
                        );
                    }
                    Some(_) => {}
                    None => out.push_str(
                        "# (no container port declared: no URL for the compose network)\n",
                    ),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version: 1.0.0
ranges:
  db: { ports: 7000-7099, protected: true, bind: loopback }
services:
  timescaledb:
    range: db
    ports:
      postgres: { port: 7000, env: TIMESCALEDB_PORT, container: 5432, legacy: 5433, url: \"postgres://{host}:{port}/trading\" }
  other:
    compose: { service: other-svc }
    ports:
      http: { port: 9000, url: \"http://{host}:{port}/\" }
";

    #[test]
    fn urls_use_localhost_and_the_host_port_or_the_service_and_the_container_port() {
        let c = Convention::from_yaml("ports.yaml", TEXT).unwrap();
        let text = env(&c, EnvFlavour::Env);
        assert!(text.contains("\nTIMESCALEDB_PORT=7000\n"), "{text}");
        assert!(
            text.contains("\nTIMESCALEDB_URL=postgres://localhost:7000/trading\n"),
            "{text}"
        );
        assert!(
            text.contains("\nTIMESCALEDB_INTERNAL_URL=postgres://timescaledb:5432/trading\n"),
            "{text}"
        );
        // Never the service name with the host port.
        assert!(!text.contains("timescaledb:7000"), "{text}");
        assert!(
            text.contains("\nOTHER_HTTP_URL=http://localhost:9000/\n"),
            "{text}"
        );
        assert!(text.contains("no URL for the compose network"), "{text}");
        assert!(
            text.contains("# --- db (7000-7099), protected, publish on 127.0.0.1 only\n"),
            "{text}"
        );
        assert!(text.contains("# --- outside every range\n"), "{text}");
    }

    #[test]
    fn the_rendered_env_reads_back_as_the_assigned_ports() {
        let c = Convention::from_yaml("ports.yaml", TEXT).unwrap();
        let text = env(&c, EnvFlavour::Example);
        let parsed = crate::dotenv::parse_dotenv(".env.example", &text, &|_| None).unwrap();
        assert_eq!(parsed.get("TIMESCALEDB_PORT"), Some("7000"));
        assert_eq!(
            parsed.get("TIMESCALEDB_INTERNAL_URL"),
            Some("postgres://timescaledb:5432/trading")
        );
    }

    #[test]
    fn bad_url_templates_are_refused_at_load() {
        for bad in [
            "x://{host}",
            "x://{host}:{port} y",
            "x://{host}:{port}/{db}",
            "x://$H:{port}{host}",
        ] {
            let text = format!(
                "version: 1.0.0\nservices:\n  s: {{ ports: {{ p: {{ port: 7000, url: \"{bad}\" }} }} }}\n"
            );
            let err = Convention::from_yaml("ports.yaml", &text).unwrap_err();
            assert_eq!(err.code(), "invalid-convention", "{bad}");
            assert!(err.to_string().contains("ports.yaml:3:"), "{err}");
        }
    }
}

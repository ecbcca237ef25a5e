//! Every error code and every rule id is produced by some real input.

use std::collections::BTreeSet;

use port_convention::dotenv::parse_dotenv;
use port_convention::interpolation::interpolate;
use port_convention::port_spec::parse_port_spec;
use port_convention::{
    Convention, Error, HostIp, PortRange, Rule, allocate, io, resolve_ports, validate_convention,
};

fn conv(text: &str) -> Convention {
    Convention::from_yaml("ports.yaml", text).unwrap()
}

#[test]
fn every_error_code_is_reachable() {
    let small = conv(
        "version: 1.0.0\nranges:\n  r: { ports: 7000-7001 }\n  spare: { ports: 8000-8001, reserved: true }\nservices:\n  a: { range: r, ports: { p: { port: 7000, env: A_PORT } } }\n",
    );
    let empty_dir = tempfile::tempdir().unwrap();
    let errors: Vec<Error> = vec![
        io::load_convention(&empty_dir.path().join("missing.yaml")).unwrap_err(),
        Convention::from_yaml("p", "a: [").unwrap_err(),
        Convention::from_yaml("p", "version: 1.0.0\nnope: 1\n").unwrap_err(),
        parse_port_spec("localhost:80:80").unwrap_err(),
        "localhost".parse::<HostIp>().unwrap_err(),
        "9-1".parse::<PortRange>().unwrap_err(),
        interpolate("${", &|_| None).unwrap_err(),
        interpolate("${X:?needed}", &|_| None).unwrap_err(),
        parse_dotenv(".env", "A=\"open\n", &|_| None).unwrap_err(),
        allocate(&small, "nowhere", 1, &[]).unwrap_err(),
        allocate(&small, "r", 2, &[]).unwrap_err(),
        io::find_convention(empty_dir.path()).unwrap_err(),
        Convention::from_yaml("p", "version: 1.0.0\nrequires: \">=99\"\n").unwrap_err(),
        resolve_ports(&small, &|_| Some("x".into())).unwrap_err(),
        allocate(&small, "r", 0, &[]).unwrap_err(),
        io::read_text(empty_dir.path()).unwrap_err(),
        "drfit".parse::<Rule>().unwrap_err(),
        {
            let plan = empty_dir.path().join("plan.json");
            std::fs::write(&plan, "{}").unwrap();
            io::migrate::load_plan(&plan).unwrap_err()
        },
        {
            let file = empty_dir.path().join("a-file");
            std::fs::write(&file, "").unwrap();
            io::read_tree_texts(&file, &Default::default()).unwrap_err()
        },
        io::read_tree_texts(
            empty_dir.path(),
            &port_convention::Discovery {
                include: vec!["a[".into()],
                ..Default::default()
            },
        )
        .unwrap_err(),
        io::migrate::status(empty_dir.path(), Some("not-an-id")).unwrap_err(),
        {
            std::fs::write(empty_dir.path().join("ports.yaml"), "version: 1.0.0\n").unwrap();
            io::adopt::output_path(empty_dir.path(), None, false).unwrap_err()
        },
        hostile::linked_convention(),
        hostile::damaged_backup(),
        hostile::locked_tree(),
    ];
    #[cfg(not(target_os = "linux"))]
    let errors = {
        let mut errors = errors;
        errors.push(io::live::read_sockets(std::path::Path::new("/proc")).unwrap_err());
        errors
    };
    let seen: BTreeSet<&str> = errors.iter().map(Error::code).collect();
    // `migration-refused` is produced by the migration tests (tests/migrate_*.rs);
    // `unsupported` only off Linux (reading live sockets).
    let all: BTreeSet<&str> = Error::CODES
        .iter()
        .copied()
        .filter(|c| *c != "migration-refused")
        .filter(|c| *c != "unsupported" || !cfg!(target_os = "linux"))
        .collect();
    assert_eq!(seen, all);
    for err in &errors {
        assert!(!err.to_string().is_empty());
    }
}

/// The errors a hostile tree produces (issue #10); the CLI tests in
/// `port-convention-cli/tests/hostile_*.rs` perform each attack in full.
mod hostile {
    use port_convention::{Error, io};
    use std::fs;

    /// `unsafe-path`: a found `ports.yaml` linking outside its directory.
    pub fn linked_convention() -> Error {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "version: 1.0.0\n").unwrap();
        let repo = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            outside.path().join("secret"),
            repo.path().join("ports.yaml"),
        )
        .unwrap();
        #[cfg(not(unix))]
        return Error::UnsafePath {
            path: String::new(),
            problem: port_convention::PathProblem::SymbolicLink,
            context: " (symbolic links need unix here)".into(),
        };
        #[cfg(unix)]
        io::find_convention(repo.path()).unwrap_err()
    }

    /// `damaged-backup`: a torn `plan.json` of a migration that began.
    pub fn damaged_backup() -> Error {
        let root = tempfile::tempdir().unwrap();
        let dir = root
            .path()
            .join(".port-convention/backups/20260101T000000Z");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plan.json"), "{\"format\": \"port-conv").unwrap();
        fs::write(
            dir.join("journal.jsonl"),
            "{\"event\":\"begin\",\"time\":\"t\",\"plan_sha256\":\"x\"}\n",
        )
        .unwrap();
        io::migrate::status(root.path(), None).unwrap_err()
    }

    /// `migration-locked`: the tree's lock is held (here by this process,
    /// through another open file).
    pub fn locked_tree() -> Error {
        let root = tempfile::tempdir().unwrap();
        let holder = fs::File::open(root.path()).unwrap();
        holder.try_lock().unwrap();
        let err = io::migrate::rollback(root.path(), None, false, &mut |_| {}).unwrap_err();
        drop(holder);
        err
    }
}

#[test]
fn every_rule_is_reachable() {
    let mut seen = BTreeSet::new();
    for file in ["overlapping-ranges.yaml", "bad-services.yaml"] {
        let path = format!("{}/../tests/conventions/{file}", env!("CARGO_MANIFEST_DIR"));
        let c = io::load_convention(std::path::Path::new(&path)).unwrap();
        seen.extend(validate_convention(&c).into_iter().map(|f| f.rule));
    }
    let example = format!("{}/../examples/trading-system", env!("CARGO_MANIFEST_DIR"));
    let outcome = io::check(&io::CheckOptions {
        paths: vec![example.clone().into()],
        env: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    seen.extend(outcome.report.findings.iter().map(|f| f.rule));
    let c = io::load_convention(std::path::Path::new(&format!("{example}/ports.yaml"))).unwrap();
    let bad_env = |v: &str| {
        match v {
            "TIMESCALEDB_PORT" => Some("abc"),
            "REDIS_PORT" => Some("80"),
            "PGADMIN_PORT" => Some("7301"),
            "QDRANT_GRPC_PORT" => Some("7001"),
            _ => None,
        }
        .map(str::to_owned)
    };
    let err = resolve_ports(&c, &bad_env).unwrap_err();
    seen.extend(err.findings().iter().map(|f| f.rule));
    seen.extend(live_rules(&c, outcome.scan.as_ref().unwrap()));
    // Project rules: two projects sharing a port, an extends cycle, a host
    // naming a project that does not exist, a declared project named like
    // the default project of a/.
    let projects = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "a/compose.yaml",
            "services:\n  a:\n    image: x\n    ports: [\"80:80\"]\n",
        ),
        (
            "b/compose.yaml",
            "services:\n  b:\n    image: x\n    ports: [\"80:80\"]\n",
        ),
        (
            "c/compose.yaml",
            "services:\n  c:\n    extends: d\n  d:\n    extends: c\n",
        ),
        (
            "ports.yaml",
            "version: 1.0.0\nprojects:\n  a: { files: [b/compose.yaml] }\nhosts:\n  box:\n    projects: [nowhere]\n",
        ),
    ] {
        let path = projects.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let outcome = io::check(&io::CheckOptions {
        paths: vec![projects.path().to_owned()],
        env: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    seen.extend(outcome.report.findings.iter().map(|f| f.rule));
    // The source rules on their fixture tree.
    let source = io::check(&io::CheckOptions {
        paths: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/source/app")],
        env: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    seen.extend(source.report.findings.iter().map(|f| f.rule));
    // clash-check-limit needs ten million comparisons (half a second of a
    // release build, far more of the debug one the tests run): the rule
    // tests of check.rs produce it with a budget of ten.
    seen.insert(Rule::ClashCheckLimit);
    let all: BTreeSet<Rule> = Rule::ALL.iter().copied().collect();
    let missing: Vec<&str> = all.difference(&seen).map(|r| r.id()).collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
}

/// The `live-*` rules on the example: a stray listener in a protected range,
/// a published port held by a process, a container whose file changed.
fn live_rules(c: &Convention, scan: &port_convention::check::Scan) -> Vec<Rule> {
    use port_convention::live::{Container, HeldPort, Holder, Holders, Process, check_live};
    let (project, service, claim, range) = scan
        .projects
        .projects
        .iter()
        .filter(|p| p.error.is_none())
        .flat_map(|p| p.active_services().map(move |s| (p, s)))
        .flat_map(|(p, s)| s.claims.iter().map(move |cl| (p, s, cl)))
        .find_map(|(p, s, cl)| Some((p, s, cl, cl.mapping.published.range()?)))
        .unwrap();
    let protected = c.ranges.iter().find(|r| r.protected).unwrap();
    let process = |port: u16| HeldPort {
        protocol: claim.mapping.protocol,
        address: "::".parse().unwrap(),
        port,
        dual_stack: true,
        holder: Holder::Process(Process {
            pid: 1,
            command: "nc".into(),
        }),
        processes: Vec::new(),
        inode: Some(1),
    };
    let stray = (protected.ports.start()..=protected.ports.end())
        .find(|p| !c.assignments().any(|(_, a)| a.port == *p))
        .unwrap();
    let holders = Holders {
        ports: vec![process(range.start()), process(stray)],
        containers: vec![Container {
            project: Some(project.name.clone()),
            service: Some(service.name.clone()),
            config_files: vec![format!("/repo/{}", project.files[0])],
            ..Container::default()
        }],
        notes: Vec::new(),
    };
    check_live(Some(c), scan, &holders, &|f| format!("/repo/{f}"))
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

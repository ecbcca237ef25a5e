use super::*;

const CONVENTION: &str = "version: 1.0.0
ranges:
  databases: { ports: 7000-7999, protected: true }
services:
  timescaledb:
    range: databases
    ports: { postgres: { port: 7000, env: TIMESCALEDB_PORT, container: 5432, legacy: 5433 } }
  kong-db:
    range: databases
    ports: { postgres: { port: 7003, env: KONG_DB_PORT, container: 5432, legacy: 5433 } }
  qdrant:
    range: databases
    ports: { http: { port: 7020, env: QDRANT_HTTP_PORT, container: 6333, legacy: 6333 } }
";

fn index() -> SourceIndex {
    let c = Convention::from_yaml("ports.yaml", CONVENTION).unwrap();
    SourceIndex::new(&c, &[]).unwrap()
}

/// (line, rule id, port) of every finding of `text`.
fn found(kind: SourceKind, text: &str) -> Vec<(u32, &'static str, u16)> {
    scan_source("f", kind, text.as_bytes(), &index())
        .findings
        .iter()
        .map(|f| (f.line().unwrap(), f.rule.id(), f.port.unwrap()))
        .collect()
}

fn one(kind: SourceKind, text: &str) -> Finding {
    let scan = scan_source("f", kind, text.as_bytes(), &index());
    assert_eq!(scan.findings.len(), 1, "{text}: {:?}", scan.findings);
    scan.findings.into_iter().next().unwrap()
}

#[test]
fn every_fallback_shape_is_found() {
    use SourceKind::*;
    for (kind, text) in [
        (
            Javascript,
            "const p = Number(process.env.TIMESCALEDB_PORT ?? 5433);",
        ),
        (
            Javascript,
            "const p = process.env.TIMESCALEDB_PORT || '5433';",
        ),
        (
            Typescript,
            "const p = toInt(process.env.TIMESCALEDB_PORT, 5433);",
        ),
        (Python, "p = os.environ.get(\"TIMESCALEDB_PORT\", \"5433\")"),
        (Python, "p = int(os.getenv('TIMESCALEDB_PORT') or 5433)"),
        (Python, "p = os.getenv(\"TIMESCALEDB_PORT\", 5433)"),
        (Shell, "PORT=\"${TIMESCALEDB_PORT:-5433}\""),
        (Shell, ": \"${TIMESCALEDB_PORT:=5433}\""),
        (Go, "if p == \"\" { p = \"localhost:5433\" }"),
        (Yaml, "port: 5433"),
        (Toml, "db_port = 5433"),
        (Ini, "TIMESCALEDB_PORT=5433"),
        (Env, "LEGACY_DB_PORT=5433 # TIMESCALEDB_PORT"),
        (Json, "{\"timescalePort\": 5433}"),
        (Shell, "psql --port 5433"),
        (Shell, "psql --port=5433"),
        (Javascript, "const c = { port:5433 };"),
        (Json, "{\"dbPort\":5433}"),
    ] {
        let f = one(kind, text);
        assert_eq!(f.rule, Rule::StalePort, "{text}");
        assert_eq!(f.port, Some(5433), "{text}");
        // 5433 was the port of two services: the line's variable says which.
        if text.contains("TIMESCALEDB_PORT") {
            assert_eq!(f.service.as_deref(), Some("timescaledb"), "{text}: {f:?}");
            assert_eq!(f.suggestion.as_ref().unwrap().port, 7000, "{text}");
            assert_eq!(f.variable.as_deref(), Some("TIMESCALEDB_PORT"), "{text}");
        } else {
            assert!(f.message.contains("or kong-db postgres"), "{text}: {f:?}");
        }
    }
}

#[test]
fn a_legacy_port_of_two_services_names_both_unless_the_line_says_which() {
    let f = one(SourceKind::Javascript, "const u = 'http://localhost:5433';");
    assert_eq!(f.rule, Rule::StalePort);
    assert!(f.message.contains("timescaledb postgres (now 7000, TIMESCALEDB_PORT) or kong-db postgres (now 7003, KONG_DB_PORT)"), "{}", f.message);
    assert!(f.suggestion.is_none() && f.service.is_none());
    let f = one(
        SourceKind::Javascript,
        "const p = process.env.KONG_DB_PORT ?? 5433;",
    );
    assert_eq!(f.suggestion.unwrap().port, 7003);
}

#[test]
fn addresses_of_every_shape() {
    use SourceKind::Javascript as Js;
    assert_eq!(
        found(Js, "a = 'localhost:7000'"),
        vec![(1, "hardcoded-port", 7000)]
    );
    assert_eq!(
        found(Js, "a = '127.0.0.1:7000'"),
        vec![(1, "hardcoded-port", 7000)]
    );
    assert_eq!(
        found(Js, "a = '[::1]:7000'"),
        vec![(1, "hardcoded-port", 7000)]
    );
    assert_eq!(
        found(Js, "a = 'postgres://u:p@localhost:7000/db'"),
        vec![(1, "hardcoded-port", 7000)]
    );
    assert_eq!(
        found(Js, "listen(':7000')"),
        vec![(1, "hardcoded-port", 7000)]
    );
    assert_eq!(
        found(Js, "a = `${host}:7000`"),
        vec![(1, "hardcoded-port", 7000)]
    );
    assert_eq!(
        found(Js, "a = 'http://localhost:7050'"),
        vec![(1, "unregistered-port", 7050)]
    );
    // An unassigned protected port is only reported in an address.
    assert!(found(Js, "const port = process.env.X ?? 7050").is_empty());
    // Another machine's port is not the convention's.
    assert!(found(Js, "a = 'db.example.com:5433'").is_empty());
}

#[test]
fn in_network_addresses_are_right_when_they_name_a_container_port() {
    use SourceKind::Python as Py;
    assert!(found(Py, "URL = 'postgres://app@timescaledb:5432/db'").is_empty());
    assert!(found(Py, "URL = 'http://qdrant:6333'").is_empty());
    assert!(found(Py, "URL = 'http://QDRANT:6333'").is_empty());
    let f = one(Py, "URL = 'postgres://app@timescaledb:7000/db'");
    assert_eq!(f.rule, Rule::HardcodedPort);
    assert!(
        f.message.contains("timescaledb listens on 5432"),
        "{}",
        f.message
    );
    assert_eq!(f.suggestion.unwrap().port, 5432);
    let f = one(Py, "URL = 'postgres://app@timescaledb:5433/db'");
    assert_eq!(f.rule, Rule::StalePort);
    // The same port on the host is stale.
    assert_eq!(
        found(Py, "URL = 'http://localhost:6333'"),
        vec![(1, "stale-port", 6333)]
    );
}

#[test]
fn traps_give_nothing() {
    use SourceKind::*;
    for (kind, text) in [
        (
            Javascript,
            "const v = '5.4.33'; const w = 'v7000.1.2'; const x = '1.5433.2';",
        ),
        (
            Javascript,
            "const t = '2025-11-04T10:54:33.5433Z'; const e = 1700005433;",
        ),
        (
            Javascript,
            "const c = '#7000aa'; const d = '#6333'; const h = 0x7000;",
        ),
        (
            Javascript,
            "const any = '0.0.0.0:0'; const big = 70001; const n = 17000;",
        ),
        (
            Javascript,
            "throw new Error('at connect (/srv/db.js:5433:12)');",
        ),
        (
            Javascript,
            "const f = '    at Object.<anonymous> (server.ts:7000:3)';",
        ),
        (
            Javascript,
            "// moved from localhost:5433 to 7000\n/* port: 5433 */",
        ),
        (
            Javascript,
            "const m = '5433:5432'; const px = '7000px'; const price = 5433.25;",
        ),
        (
            Python,
            "# was localhost:5433\nTIMEOUT = 7000\nt = 'File \"a.py\", line 5433'",
        ),
        (
            Go,
            "// ex :5433\nconst retries = 7000\nvar s = \"/src/main.go:5433 +0x1d\"",
        ),
        (
            Shell,
            "# used to be localhost:5433\nsleep 7000\necho ${#PORT}",
        ),
        (
            Yaml,
            "# formerly localhost:5433\ntimeout_ms: 7000\ncontainerPort: 5432\ncolour: '#7000aa'",
        ),
        (
            Json,
            "{\"version\": \"5.4.33\", \"timeout\": 7000, \"build\": 17000}",
        ),
        (Ini, "; port = 5433\ntimeout = 7000"),
        (Javascript, "const report = 7000; const support = 5433;"),
    ] {
        assert_eq!(found(kind, text), vec![], "{text}");
    }
}

#[test]
fn a_container_port_in_a_config_key_is_the_containers_own() {
    // qdrant's legacy host port is its container port: its own config file
    // (`http_port: 6333`) is not a stale fallback.
    assert!(found(SourceKind::Yaml, "service:\n  http_port: 6333\n").is_empty());
    assert_eq!(
        found(
            SourceKind::Javascript,
            "const p = process.env.QDRANT_HTTP_PORT ?? 6333;"
        ),
        vec![(1, "stale-port", 6333)]
    );
}

#[test]
fn env_files_leave_convention_variables_to_env_drift() {
    use SourceKind::Env;
    assert!(
        found(
            Env,
            "TIMESCALEDB_PORT=5433\nTIMESCALEDB_PORT=7000\nOTHER_PORT=7000\n"
        )
        .is_empty()
    );
    assert_eq!(found(Env, "PG_PORT=5433\n"), vec![(1, "stale-port", 5433)]);
    // Today's port in a URL of a .env file is configuration, not a
    // hardcoded program literal; a legacy one is stale.
    assert!(found(Env, "DATABASE_URL=postgres://localhost:7000/db\n").is_empty());
    assert_eq!(
        found(
            Env,
            "DATABASE_URL=postgres://localhost:5433/db # TIMESCALEDB_PORT\n"
        ),
        vec![(1, "stale-port", 5433)]
    );
}

#[test]
fn suppression_on_the_line_or_above_counts() {
    let text = "// port-convention: ignore[stale-port]\nconst a = process.env.TIMESCALEDB_PORT ?? 5433;\nconst b = process.env.TIMESCALEDB_PORT ?? 5433; // port-convention: ignore[hardcoded-port, stale-port]\nconst c = process.env.TIMESCALEDB_PORT ?? 5433; // port-convention: ignore[hardcoded-port]\n";
    let scan = scan_source("f", SourceKind::Javascript, text.as_bytes(), &index());
    assert_eq!(scan.suppressed, 2);
    assert_eq!(scan.findings.len(), 1);
    assert_eq!(scan.findings[0].line(), Some(4));
}

#[test]
fn a_suppression_naming_no_rule_is_reported_where_the_id_is() {
    let text = "const a = 1;\nconst b = 2; // port-convention: ignore[stale-port,  hardcode-port, *]\n// port-convention: ignore[nothing\n// port-convention: ignore[]\n";
    let scan = scan_source("f.js", SourceKind::Javascript, text.as_bytes(), &index());
    let unknown: Vec<&Finding> = scan
        .findings
        .iter()
        .filter(|f| f.rule == Rule::UnknownSuppression)
        .collect();
    assert_eq!(unknown.len(), 1, "{:?}", scan.findings);
    assert_eq!(
        (unknown[0].line(), unknown[0].column()),
        (Some(2), Some(54))
    );
    assert!(
        unknown[0].message.contains("hardcode-port")
            && unknown[0].message.contains("hardcoded-port"),
        "{}",
        unknown[0].message
    );
    // Documentation of the syntax and placeholders are not suppressions.
    let docs = "/** Silenced by `port-convention: ignore[rule]`. */\n// port-convention: ignore[RULE]\n# \"port-convention: ignore[no-such-rule]\"\n// port-convention: ignore[...]\n";
    let scan = scan_source("d.js", SourceKind::Javascript, docs.as_bytes(), &index());
    assert!(scan.findings.is_empty(), "{:?}", scan.findings);
    // Many markers stay linear and each is read once.
    let many = "// port-convention: ignore[x-y]\n".repeat(20_000);
    let scan = scan_source("g.js", SourceKind::Javascript, many.as_bytes(), &index());
    assert_eq!(scan.findings.len(), 20_000);
    assert_eq!(scan.findings[19_999].line(), Some(20_000));
}

#[test]
fn lines_and_columns_count_characters() {
    let text = "x\n// ü\nconst é = process.env.TIMESCALEDB_PORT ?? 5433;\n";
    let f = one(SourceKind::Javascript, text);
    assert_eq!((f.line(), f.column()), (Some(3), Some(43)));
    assert_eq!(f.file(), Some("f"));
}

#[test]
fn stale_literals_become_edits() {
    let text =
        "const a = process.env.TIMESCALEDB_PORT ?? 5433;\nconst u = 'http://localhost:5433';\n";
    let scan = scan_source("f.js", SourceKind::Javascript, text.as_bytes(), &index());
    // The second is ambiguous (two services had 5433): no edit.
    assert_eq!(scan.fixes.len(), 1);
    let (edit, change) = &scan.fixes[0];
    assert_eq!((edit.old.as_str(), edit.new.as_str()), ("5433", "7000"));
    assert_eq!(&text[edit.start..edit.end], "5433");
    assert_eq!(change.kind, ChangeKind::SourceLiteral);
    assert_eq!(
        (change.service.as_str(), change.port_name.as_str()),
        ("timescaledb", "postgres")
    );
}

#[test]
fn nothing_to_look_for_is_no_index() {
    let c = Convention::from_yaml("ports.yaml", "version: 1.0.0\n").unwrap();
    assert!(SourceIndex::new(&c, &[]).is_none());
    let c = Convention::from_yaml(
        "ports.yaml",
        &format!("{CONVENTION}source: {{ enabled: false }}\n"),
    )
    .unwrap();
    assert!(SourceIndex::new(&c, &[]).is_none());
}

#[test]
fn binary_and_hostile_input_is_fine() {
    let mut bytes = vec![0xff, 0xfe, b':'];
    bytes.extend_from_slice(b"localhost:5433\xff\n");
    bytes.extend(std::iter::repeat_n(b'7', 100_000));
    bytes.extend(std::iter::repeat_n(b':', 100_000));
    let scan = scan_source("f", SourceKind::Javascript, &bytes, &index());
    assert_eq!(scan.findings.len(), 1);
}

#[test]
fn a_huge_line_with_many_hits_is_scanned_whole() {
    // One line of 50,000 fallbacks: every one is found (no quadratic
    // context reading; timing is the benchmark's, this checks the result).
    let unit = "a=process.env.TIMESCALEDB_PORT??5433;";
    let text = unit.repeat(50_000);
    let scan = scan_source("min.js", SourceKind::Javascript, text.as_bytes(), &index());
    assert_eq!(scan.findings.len(), 50_000);
    let last = scan.findings.last().unwrap();
    assert_eq!(last.line(), Some(1));
    assert_eq!(last.column(), Some(u32::try_from(text.len() - 4).unwrap()));
}

proptest::proptest! {
    /// Any bytes, any kind: no panic, every finding points at the digits of
    /// its port, and lines and columns agree with the text.
    #[test]
    fn any_input_is_scanned_safely(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "5433", "7000", "7050", "6333", ":", "//", "/*", "*/", "#", "'", "\"", "`",
                "\n", " ", "??", "||", "localhost", "timescaledb", "${X:-", "}", "port", "=",
                ".", "[::1]", "é", "\u{0}", "process.env.TIMESCALEDB_PORT", "or", ",", "0x",
            ]),
            0..60,
        ),
        kind in proptest::sample::select(SourceKind::ALL.to_vec()),
    ) {
        let text: String = parts.concat();
        let scan = scan_source("f", kind, text.as_bytes(), &index());
        for f in &scan.findings {
            let line = f.line().unwrap() as usize;
            let column = f.column().unwrap() as usize;
            let line_text = text.split('\n').nth(line - 1).unwrap();
            let at: String = line_text.chars().skip(column - 1).take(4).collect();
            proptest::prop_assert_eq!(at, f.port.unwrap().to_string());
        }
        for (edit, _) in &scan.fixes {
            proptest::prop_assert_eq!(&text[edit.start..edit.end], edit.old.as_str());
        }
    }
}

#[test]
fn literals_where_no_variable_can_be_read_are_not_hardcoded() {
    use SourceKind::*;
    let targets = "[\n  { \"labels\": {}, \"targets\": [\"localhost:7000\"] }\n]\n";
    assert!(found(Json, targets).is_empty());
    assert_eq!(
        found(Json, &targets.replace("7000", "5433")),
        vec![(2, "stale-port", 5433)]
    );
    let rendered =
        "# generated from ports.yaml by `port-convention render env`\nURL=http://localhost:7000\n";
    assert!(found(Yaml, rendered).is_empty());
    // Elsewhere the same literal is hardcoded.
    assert_eq!(
        found(Json, "{\"url\": \"localhost:7000\"}"),
        vec![(1, "hardcoded-port", 7000)]
    );
}

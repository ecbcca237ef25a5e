//! Issue #16: `port-convention mcp` spoken to as a client would, in raw
//! JSON-RPC lines over its stdin and stdout (the `initialize` handshake of
//! protocol 2025-11-25). The official Python SDK drives it too
//! (tests/mcp); this test needs nothing but the binary. Also the JSON
//! formats of `explain` and `allocate` that its tools answer with.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};

/// Sends `requests` (one JSON-RPC message a line) to `port-convention mcp
/// ARGS` started in `dir`, closes its stdin and returns its responses by id.
fn exchange(dir: &Path, args: &[&str], requests: &[Value]) -> BTreeMap<i64, Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_port-convention"))
        .arg("mcp")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = String::new();
    for request in requests {
        input.push_str(&request.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write requests");
    drop(stdin);
    let out = child.wait_with_output().expect("the server ends at EOF");
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("one JSON message a line"))
        .filter_map(|message| Some((message["id"].as_i64()?, message)))
        .collect()
}

fn handshake() -> Vec<Value> {
    vec![
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "mcp_cli.rs", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ]
}

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

/// The JSON a tool call answered with (its text content: the structured
/// content carries the same, for an object).
#[track_caller]
fn answer(response: &Value) -> (bool, Value) {
    let result = &response["result"];
    let text = result["content"][0]["text"].as_str().expect("text content");
    let value: Value = serde_json::from_str(text).expect("JSON text");
    if value.is_object() {
        assert_eq!(result["structuredContent"], value);
    }
    (result["isError"] == json!(true), value)
}

#[test]
fn a_client_lists_the_tools_and_gets_the_clis_answers() {
    let example = "examples/trading-system";
    let mut requests = handshake();
    requests.extend([
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        call(2, "check", json!({"path": example})),
        call(3, "scan", json!({"path": example})),
        call(4, "explain_rule", json!({"rule": "drift"})),
        call(
            5,
            "allocate",
            json!({"range": "databases", "count": 2, "convention": format!("{example}/ports.yaml")}),
        ),
        call(6, "plan_migration", json!({"path": example})),
        call(
            7,
            "validate_convention",
            json!({"convention": format!("{example}/ports.yaml")}),
        ),
        json!({"jsonrpc": "2.0", "id": 8, "method": "resources/list"}),
        call(9, "migrate_apply", json!({})),
        call(10, "explain_rule", json!({})),
    ]);
    let got = exchange(&repo(), &[], &requests);

    assert_eq!(got[&0]["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(got[&0]["result"]["serverInfo"]["name"], "port-convention");
    let tools: Vec<&str> = got[&1]["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "check",
            "scan",
            "explain_rule",
            "allocate",
            "plan_migration",
            "validate_convention"
        ]
    );

    let cli = |args: &[&str]| json(&run(args));
    assert_eq!(
        answer(&got[&2]),
        (false, cli(&["check", example, "--format", "json"]))
    );
    assert_eq!(
        answer(&got[&3]),
        (false, cli(&["scan", example, "--format", "json"]))
    );
    assert_eq!(
        answer(&got[&4]),
        (false, cli(&["explain", "drift", "--format", "json"]))
    );
    let convention = format!("{example}/ports.yaml");
    assert_eq!(
        answer(&got[&5]),
        (
            false,
            cli(&[
                "allocate",
                "databases",
                "--count",
                "2",
                "-c",
                &convention,
                "--format",
                "json"
            ])
        )
    );
    let (is_error, plan) = answer(&got[&6]);
    assert!(!is_error);
    assert_eq!(
        plan["plan"],
        cli(&["migrate", "plan", example, "--format", "json"])
    );
    assert!(plan["diff"].as_str().unwrap().starts_with("--- "));
    assert_eq!(
        answer(&got[&7]),
        (
            false,
            cli(&[
                "check",
                "--convention-only",
                "-c",
                &convention,
                "--format",
                "json"
            ])
        )
    );
    // The repository root has no ports.yaml of its own.
    assert_eq!(got[&8]["result"]["resources"], json!([]));
    // Every rule's documentation is an array: no structuredContent before
    // 2026-07-28, the JSON is in the text.
    assert!(got[&10]["result"].get("structuredContent").is_none());
    assert_eq!(
        answer(&got[&10]),
        (false, cli(&["explain", "--format", "json"]))
    );
    assert_eq!(got[&9]["error"]["code"], -32602);
    assert_eq!(got[&9]["error"]["message"], "Unknown tool: migrate_apply");
}

#[test]
fn paths_outside_the_root_are_refused_with_a_code_and_nothing_is_written() {
    let dir = tree(&[
        ("root/ports.yaml", "version: 1.0.0\n"),
        ("secret/ports.yaml", "version: 1.0.0\n"),
    ]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret"), dir.path().join("root/out")).unwrap();
    let mut requests = handshake();
    requests.extend([
        call(1, "check", json!({"path": ".."})),
        call(2, "scan", json!({"path": dir.path().join("secret")})),
        call(
            3,
            "validate_convention",
            json!({"convention": "../secret/ports.yaml"}),
        ),
        call(4, "plan_migration", json!({"path": "./../secret"})),
        call(5, "check", json!({"live": "yes"})),
        call(6, "explain_rule", json!({"rule": "no-such-rule"})),
        json!({"jsonrpc": "2.0", "id": 7, "method": "resources/list"}),
    ]);
    #[cfg(unix)]
    requests.push(call(8, "scan", json!({"path": "out"})));
    let before = listing(dir.path());
    let got = exchange(dir.path(), &["--root", "root"], &requests);
    let code_of = |id: i64| {
        let (is_error, value) = answer(&got[&id]);
        assert!(is_error, "{value}");
        value["code"].as_str().unwrap().to_owned()
    };
    for id in [1, 2, 3, 4] {
        assert_eq!(code_of(id), "unsafe-path", "{}", got[&id]);
    }
    #[cfg(unix)]
    assert_eq!(code_of(8), "unsafe-path");
    assert_eq!(code_of(5), "invalid-argument");
    assert_eq!(code_of(6), "unknown-rule");
    let resources = &got[&7]["result"]["resources"];
    assert_eq!(resources.as_array().map(Vec::len), Some(3), "{resources}");
    assert_eq!(resources[0]["mimeType"], "application/yaml");
    assert_eq!(
        resources[1]["uri"],
        "port-convention://render/PORTS-CONVENTION.md"
    );
    assert_eq!(listing(dir.path()), before);
}

/// Every path under `dir` with its bytes.
fn listing(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap().flatten() {
            let p = entry.path();
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(p);
                out.insert(name, Vec::new());
            } else if kind.is_file() {
                out.insert(name, std::fs::read(&p).unwrap());
            } else {
                out.insert(name, b"link".to_vec());
            }
        }
    }
    out
}

#[test]
fn explain_and_allocate_answer_in_json() {
    let out = run(&["explain", "drift", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json(&out);
    let rule = port_convention::Rule::Drift;
    assert_eq!(doc, serde_json::to_value(rule.doc()).unwrap());
    assert_eq!(doc["id"], "drift");
    let all = json(&run(&["explain", "--format", "json"]));
    assert_eq!(
        all.as_array().unwrap().len(),
        port_convention::Rule::ALL.len()
    );
    let unknown = run(&["explain", "no-such-rule", "--format", "json"]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("error[unknown-rule]"));

    let convention = "examples/trading-system/ports.yaml";
    let lines = stdout(&run(&[
        "allocate",
        "databases",
        "--count",
        "3",
        "-c",
        convention,
    ]));
    let ports: Vec<u16> = lines.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(ports.len(), 3);
    assert_eq!(
        json(&run(&[
            "allocate",
            "databases",
            "--count",
            "3",
            "-c",
            convention,
            "--format",
            "json"
        ])),
        json!({"range": "databases", "ports": ports})
    );
}

//! Runs the language-neutral case table `tests/vectors/port_specs.json`
//! through the port-spec parser, and checks that printing a mapping gives a
//! short syntax that parses back to it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use port_convention::port_spec::{
    Scalar, parse_long_syntax, parse_long_syntax_json, parse_port_entry_json, parse_port_number,
    parse_port_spec,
};
use port_convention::{Error, HostIp, Mode, PortMapping, PortRange, Protocol, Published};
use proptest::prelude::*;
use serde_json::Value;

fn load_cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/port_specs.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    doc.get("cases")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| panic!("{path}: no \"cases\" array"))
}

/// A JSON scalar as a long-syntax field value; nested nodes (allowed under
/// `x-*` keys only) become `Null`, which those keys ignore.
fn scalar(value: &Value) -> Scalar {
    match value {
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Scalar::Int(i128::from(i)),
            (None, Some(u)) => Scalar::Int(i128::from(u)),
            (None, None) => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Scalar::Str(s.clone()),
        Value::Null | Value::Array(_) | Value::Object(_) => Scalar::Null,
    }
}

/// Runs one case's input through the function for its shape. Long-syntax
/// objects go through both the JSON and the scalar-fields entry points,
/// which must agree.
fn run(input: &Value) -> Result<Result<Vec<PortMapping>, Error>, String> {
    match input {
        Value::String(spec) => Ok(parse_port_spec(spec)),
        Value::Number(n) => {
            let value = n
                .as_i64()
                .map(i128::from)
                .ok_or_else(|| format!("integer input expected, got {n}"))?;
            Ok(parse_port_number(value))
        }
        Value::Object(obj) => {
            let from_json = parse_long_syntax_json(obj);
            let fields: Vec<(String, Scalar)> = obj
                .iter()
                .map(|(key, value)| (key.clone(), scalar(value)))
                .collect();
            let from_fields = parse_long_syntax(&fields);
            let entry = parse_port_entry_json(input);
            match (&from_json, &from_fields, &entry) {
                (Ok(a), Ok(b), Ok(c)) if a == b && std::slice::from_ref(a) == c.as_slice() => {}
                (Err(a), Err(b), Err(c))
                    if a.to_string() == b.to_string() && a.to_string() == c.to_string() => {}
                _ => {
                    return Err(format!(
                        "entry points disagree: json {from_json:?}, fields {from_fields:?}, entry {entry:?}"
                    ));
                }
            }
            Ok(from_json.map(|m| vec![m]))
        }
        other => Err(format!("unsupported input {other}")),
    }
}

fn check(case: &Value) -> Result<(), String> {
    let input = case.get("input").ok_or("no input")?;
    let expect = case.get("expect").ok_or("no expect")?;
    let got = run(input)?;
    if let Some(mappings) = expect.get("mappings") {
        let mappings_got = got.map_err(|e| format!("expected mappings, got error: {e}"))?;
        let as_json = serde_json::to_value(&mappings_got).map_err(|e| e.to_string())?;
        if &as_json != mappings {
            return Err(format!("expected {mappings}\n      got      {as_json}"));
        }
        // Every mapping without name/mode/app_protocol prints as a short
        // syntax that parses back to itself.
        for mapping in &mappings_got {
            if mapping.mode == Mode::Ingress
                && mapping.name.is_none()
                && mapping.app_protocol.is_none()
            {
                let printed = mapping.to_string();
                let again = parse_port_spec(&printed)
                    .map_err(|e| format!("printed {printed:?} does not parse: {e}"))?;
                if again != [mapping.clone()] {
                    return Err(format!("printed {printed:?} parses to {again:?}"));
                }
            }
        }
        Ok(())
    } else if let Some(error) = expect.get("error") {
        let code = error
            .get("code")
            .and_then(Value::as_str)
            .ok_or("no error code")?;
        let contains = error
            .get("message_contains")
            .and_then(Value::as_str)
            .ok_or("no message_contains")?;
        match got {
            Ok(mappings) => Err(format!(
                "expected error {code} containing {contains:?}, got {}",
                serde_json::to_string(&mappings).unwrap_or_default()
            )),
            Err(e) if e.code() != code => {
                Err(format!("expected code {code}, got {}: {e}", e.code()))
            }
            Err(e) if !e.to_string().contains(contains) => Err(format!(
                "expected a message containing {contains:?}, got {:?}",
                e.to_string()
            )),
            Err(_) => Ok(()),
        }
    } else {
        Err("expect has neither mappings nor error".to_owned())
    }
}

#[test]
fn vectors() {
    let cases = load_cases();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        if !names.insert(name) {
            failures.push(format!("{name}: duplicate case name"));
        }
        if case
            .get("source")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            failures.push(format!("{name}: no source"));
        }
        if case.get("env").is_some() {
            failures.push(format!("{name}: env is not used by port-spec vectors"));
        }
        if let Err(why) = check(case) {
            let input = case.get("input").map(Value::to_string).unwrap_or_default();
            failures.push(format!("{name} (input {input}): {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} port-spec vectors failed:\n  - {}",
        failures.len(),
        cases.len(),
        failures.join("\n  - ")
    );
}

fn host_ip() -> impl Strategy<Value = HostIp> {
    prop_oneof![
        Just(HostIp::Unspecified),
        any::<u32>().prop_map(|v| HostIp::Addr(IpAddr::V4(Ipv4Addr::from(v)))),
        any::<u128>().prop_map(|v| HostIp::Addr(IpAddr::V6(Ipv6Addr::from(v)))),
        // IPv4-mapped IPv6 and the wildcards, which print specially.
        any::<u32>().prop_map(|v| HostIp::Addr(IpAddr::V6(Ipv4Addr::from(v).to_ipv6_mapped()))),
        Just(HostIp::Addr(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
        Just(HostIp::Addr(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
    ]
}

fn published() -> impl Strategy<Value = Published> {
    prop_oneof![
        Just(Published::None),
        any::<u16>().prop_map(Published::Port),
        (any::<u16>(), any::<u16>())
            .prop_filter("a range holds two ports or more", |(a, b)| a != b)
            .prop_map(|(a, b)| {
                let range = PortRange::new(a.min(b), a.max(b)).expect("ordered");
                Published::Range(range)
            }),
    ]
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp)
    ]
}

/// Every mapping the short syntax can express: container port 1-65535,
/// ingress mode, no name or app protocol, and ranges of two ports or more
/// (a one-port range is the port itself).
fn short_mapping() -> impl Strategy<Value = PortMapping> {
    (host_ip(), published(), 1..=u16::MAX, protocol()).prop_map(
        |(host_ip, published, target, protocol)| PortMapping {
            host_ip,
            published,
            target,
            protocol,
            mode: Mode::Ingress,
            name: None,
            app_protocol: None,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn display_parses_back(mapping in short_mapping()) {
        let printed = mapping.to_string();
        let parsed = parse_port_spec(&printed);
        prop_assert!(parsed.is_ok(), "{printed:?}: {parsed:?}");
        prop_assert_eq!(parsed.unwrap_or_default(), vec![mapping], "{}", printed);
    }

    #[test]
    fn integer_entries_are_decimal_short_syntax(value in -70_000i128..=70_000) {
        let by_number = parse_port_number(value).map_err(|e| e.to_string());
        let by_text = parse_port_spec(&value.to_string()).map_err(|e| e.to_string());
        prop_assert_eq!(&by_number, &by_text);
        prop_assert_eq!(by_number.is_ok(), (1..=65_535).contains(&value));
    }

    #[test]
    fn never_panics(spec in "[0-9a-fA-F:\\[\\]./+ -]{0,24}|[tTcCpPuUdDsS/0-9:-]{0,12}") {
        let _ = parse_port_spec(&spec);
    }
}

//! `port-convention parse-ports`: compose port specs in, compose-go's view out.

use std::collections::BTreeMap;

use port_convention::port_spec::parse_port_entry_with_env;
use port_convention::{Error, PortMapping};
use serde_json::{Value, json};

/// Arguments of `parse-ports`.
#[derive(clap::Args)]
pub struct Args {
    /// A variable for interpolating the specs (repeatable). Only these are
    /// used: the process environment is not, so output is reproducible.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    env: Vec<(String, String)>,
    /// Port specs in compose short syntax (`127.0.0.1:8080:80/tcp`), or JSON
    /// objects in long syntax (`{"target":80,"published":"8080"}`).
    #[arg(value_name = "SPEC", required = true)]
    specs: Vec<String>,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

/// Prints one JSON line per spec; returns 1 if any spec failed.
pub fn run(args: &Args) -> u8 {
    let env: BTreeMap<String, String> = args.env.iter().cloned().collect();
    let mut failed = false;
    let mut out = String::new();
    for spec in &args.specs {
        let line = match parse_one(spec, &env) {
            Ok(mappings) => json!({ "spec": spec, "mappings": mappings }),
            Err(err) => {
                failed = true;
                json!({ "spec": spec, "error": { "code": err.code(), "message": err.to_string() } })
            }
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    crate::print_out(&out);
    u8::from(failed)
}

fn parse_one(spec: &str, env: &BTreeMap<String, String>) -> Result<Vec<PortMapping>, Error> {
    let entry = if spec.trim_start().starts_with('{') {
        let value: Value = serde_json::from_str(spec).map_err(|err| Error::InvalidArgument {
            message: format!("SPEC looks like JSON but is not: {err}"),
        })?;
        if !value.is_object() {
            return Err(Error::InvalidArgument {
                message: "a JSON SPEC must be an object".into(),
            });
        }
        value
    } else {
        Value::String(spec.to_owned())
    };
    parse_port_entry_with_env(&entry, env)
}

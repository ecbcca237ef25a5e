//! Load the validated ports of the convention (the nearest `ports.yaml`
//! upward from the current directory), with the process environment's
//! overrides, and print them; on an error print its stable code and its
//! `Display` (every problem, one a line), as the README shows.
//!
//! ```sh
//! cd examples/trading-system
//! cargo run -q -p port-convention --example load_ports
//! TIMESCALEDB_PORT=99999 cargo run -q -p port-convention --example load_ports   # exit 2
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    match port_convention::io::load_ports(&Default::default()) {
        Ok(loaded) => {
            for (variable, port) in &loaded.ports {
                println!("{variable}={port}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            // `Display`, not `Debug`: "error[validation-failed]: 1 problem(s)
            // with port values:\n  - TIMESCALEDB_PORT=99999 ...".
            eprintln!("error[{}]: {err}", err.code());
            ExitCode::from(2)
        }
    }
}

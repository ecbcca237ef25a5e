//! The `port-convention` binary: the command line of the library crate.

use std::process::ExitCode;

/// Reading thousands of YAML files is allocation-heavy; with mimalloc `check`
/// runs 12% fewer instructions on the bench tree (callgrind, benches/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let code = port_convention_cli::run(std::env::args_os().collect());
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

#!/usr/bin/env bash
# Every check and test of every language in the project, as CI runs them.
# Prerequisites: Rust, Python >= 3.11, Node >= 20. Everything else is installed
# here (a local venv in .venv, `npm ci` in port-convention-node).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (broken links and missing docs are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

# The Python binding's test binaries link libpython (pyo3 without the
# extension-module feature); point the loader at it.
PY_LIBDIR="$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')"
export LD_LIBRARY_PATH="${PY_LIBDIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "cargo test --workspace"
cargo test --workspace --locked

step "Python binding (venv, maturin develop, pytest)"
bash scripts/test-python.sh

step "Node binding (npm ci, napi build, node --test)"
bash scripts/test-node.sh

printf '\nAll checks and tests passed.\n'

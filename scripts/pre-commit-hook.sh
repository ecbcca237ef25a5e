#!/usr/bin/env bash
# The entry of the pre-commit hooks in .pre-commit-hooks.yaml: runs
# `port-convention ARGS...`, building it from this checkout with cargo on
# first use (pre-commit keeps the checkout in its cache, so that happens
# once per `rev`). Needs only Rust (cargo) and bash, as the README asks.
#
#   PORT_CONVENTION_HOOK_PROFILE   cargo profile to build (default: release)
#   CARGO_TARGET_DIR               where cargo builds (default: ./target of this checkout)
#   CARGO_BUILD_TARGET             an explicit target triple (its binaries are under it)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${PORT_CONVENTION_HOOK_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-$here/target}"
# An explicit build target (CARGO_BUILD_TARGET, as scripts/test.sh sets)
# puts the binary under target/<triple>/.
target="$target${CARGO_BUILD_TARGET:+/$CARGO_BUILD_TARGET}"
case "$profile" in
dev) bin="$target/debug/port-convention" ;;
*) bin="$target/$profile/port-convention" ;;
esac
if ! command -v cargo >/dev/null 2>&1; then
    echo "port-convention hook: cargo not found: install Rust (https://rustup.rs)" >&2
    exit 2
fi
# A no-op when the binary is current; the first run compiles it.
if [ ! -x "$bin" ]; then
    echo "port-convention hook: building port-convention (first run, cargo --profile $profile)" >&2
fi
cargo build --quiet --locked --profile "$profile" -p port-convention-cli \
    --manifest-path "$here/Cargo.toml" >&2
exec "$bin" "$@"

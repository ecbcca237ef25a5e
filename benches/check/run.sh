#!/usr/bin/env bash
# Benchmark of `port-convention check` against dclint and cat; see README.md.
#
#   bash benches/check/run.sh
#
# Needs Rust (cargo), Python >= 3.11, Node >= 20.19 and npm (the npm registry
# reachable for `npm ci`); hyperfine is used when installed. No root needed.
# Everything it writes goes to target/bench-check/ (ignored by git) and
# benches/check/node_modules/.
#
# Knobs (environment):
#   BENCH_RUNS=10         timed runs of port-convention (each variant)
#   BENCH_DCLINT_RUNS=3   timed runs of dclint (minutes each)
#   BENCH_CAT_RUNS=30     timed runs of cat
#   BENCH_SEED=20251104   generator seed
#   BENCH_NO_HYPERFINE=1  use the built-in timing loop even if hyperfine exists
#   BENCH_SKIP_BUILD=1    use the existing release binary
#   BENCH_SKIP_NPM_CI=1   keep benches/check/node_modules as it is
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=$target_dir/bench-check
tree=$out/monorepo
tree_nc=$out/monorepo-no-convention
seed=${BENCH_SEED:-20251104}

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is required" >&2; exit 2; }; }
need cargo
need python3
need node
need npm
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "run.sh: Python >= 3.11 is required" >&2; exit 2; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || echo "run.sh: warning: dclint 3.x declares node >= 20.19; this is $(node --version)" >&2

echo "== build (release)" >&2
if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
  (cd "$root" && cargo build --release --locked -p port-convention-cli >&2)
fi
bin=$target_dir/release/port-convention
[[ -x $bin ]] || { echo "run.sh: $bin not found" >&2; exit 2; }

echo "== generate (seed $seed)" >&2
mkdir -p "$out"
python3 "$here/generate.py" "$tree" --seed "$seed" --force >/dev/null
# Same compose and env files, byte for byte, without ports.yaml.
python3 "$here/generate.py" "$tree_nc" --seed "$seed" --force --no-convention >/dev/null

echo "== dclint (npm ci)" >&2
if [[ -z ${BENCH_SKIP_NPM_CI:-} || ! -x $here/node_modules/.bin/dclint ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
dclint=$here/node_modules/.bin/dclint

args=(
  --bin "$bin" --dclint "$dclint"
  --tree "$tree" --tree-no-convention "$tree_nc" --out "$out"
  --runs "${BENCH_RUNS:-10}" --dclint-runs "${BENCH_DCLINT_RUNS:-3}" --cat-runs "${BENCH_CAT_RUNS:-30}"
)
[[ -n ${BENCH_NO_HYPERFINE:-} ]] && args+=(--no-hyperfine)
exec python3 "$here/bench.py" "${args[@]}"

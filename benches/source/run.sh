#!/usr/bin/env bash
# Benchmark of the source rules of `port-convention check` against ripgrep
# searching the same numbers; see README.md.
#
#   bash benches/source/run.sh
#
# Needs Rust (cargo), Python >= 3.11, ripgrep (`rg`) and hyperfine. Writes
# only to target/bench-source/ (ignored by git).
#
# Knobs (environment):
#   BENCH_FILES=20000     source files in the generated tree
#   BENCH_RUNS=10         timed runs of each command
#   BENCH_SEED=20261201   generator seed
#   BENCH_SKIP_BUILD=1    use the existing release binary
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=$target_dir/bench-source
tree=$out/tree
files=${BENCH_FILES:-20000}
runs=${BENCH_RUNS:-10}
seed=${BENCH_SEED:-20261201}

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is required" >&2; exit 2; }; }
need cargo
need python3
need rg
need hyperfine

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
  (cd "$root" && cargo build --release --locked -p port-convention-cli >&2)
fi
bin=$target_dir/release/port-convention
[[ -x $bin ]] || { echo "run.sh: $bin not found" >&2; exit 2; }

python3 "$here/generate.py" "$tree" --files "$files" --seed "$seed" --force >&2
patterns=$out/patterns.txt

# Both find the planted fallbacks: a sanity check before timing.
found=$({ "$bin" check "$tree" --format json || true; } | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(1 for f in r["findings"] if f["rule"] == "stale-port"))')
planted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"])' "$tree/bench-manifest.json")
echo "stale-port findings: $found (planted: $planted); rg lines with a pattern: $(rg -c -F -f "$patterns" "$tree" | awk -F: '{s+=$NF} END {print s}')" >&2

echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
hyperfine -N -i --warmup 2 --runs "$runs" \
  --export-json "$out/hyperfine.json" \
  -n "port-convention check" "$bin check $tree --format json" \
  -n "rg -c -F -f patterns.txt" "rg -c -F -f $patterns $tree"

python3 - "$out/hyperfine.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
pc = results["port-convention check"]
rg = results["rg -c -F -f patterns.txt"]
ratio = pc["median"] / rg["median"]
verdict = "met" if ratio <= 2 else "missed"
print(f"port-convention check: median {pc['median']*1000:.1f} ms, user+sys {(pc['user']+pc['system'])*1000:.0f} ms")
print(f"rg -c:                 median {rg['median']*1000:.1f} ms, user+sys {(rg['user']+rg['system'])*1000:.0f} ms")
print(f"ratio {ratio:.2f}x ripgrep: aim (at most 2x) {verdict}")
PY

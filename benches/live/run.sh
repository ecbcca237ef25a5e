#!/usr/bin/env bash
# benches/live: reading what holds each port on a host with ~3,000 sockets,
# against `ss` in the same run. See README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=target/bench-live
mkdir -p "$out"
cargo build --release --locked -q -p port-convention-cli
bin="$PWD/target/release/port-convention"

rm -f "$out/held.txt"
python3 benches/live/hold.py "$out/held.txt" "${TCP4:-2000}" "${TCP6:-500}" "${UDP4:-500}" &
holder=$!
trap 'kill "$holder" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$out/held.txt" ] && break; sleep 0.1; done
[ -s "$out/held.txt" ] || { echo "hold.py did not start" >&2; exit 1; }
echo "held by pid $holder: $(wc -l <"$out/held.txt") sockets; host total: $(tail -n +2 -q /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 | wc -l) lines in /proc/net"

# A preflight tree: one service publishing a port hold.py holds.
port="$(awk '$1 == "tcp" && $2 == "127.0.0.1" { print $3; exit }' "$out/held.txt")"
tree="$out/tree"
mkdir -p "$tree"
cat >"$tree/ports.yaml" <<YAML
version: 1.0.0
ranges:
  bench: { ports: 20000-29999, protected: true }
services:
  api: { range: bench, ports: { http: { port: $port, container: 80 } } }
YAML
printf 'services:\n  api:\n    image: x\n    ports: ["127.0.0.1:%s:80"]\n' "$port" >"$tree/compose.yaml"

# No container engine: the figures are about sockets (a daemon adds one
# round trip on its unix socket).
export DOCKER_HOST=unix:///nonexistent.sock

# Sanity: every socket of hold.py is seen with its pid.
seen="$("$bin" ports --live --no-docker --format json | python3 -c "
import json, sys
rows = json.load(sys.stdin)['ports']
print(sum(1 for r in rows if r['holder'].get('pid') == $holder))")"
echo "ports --live sees $seen sockets of pid $holder"
[ "$seen" = "$(wc -l <"$out/held.txt")" ] || { echo "ports --live missed sockets of hold.py" >&2; exit 1; }
(cd "$tree" && "$bin" check --live --only api >/dev/null 2>&1) && { echo "preflight did not fail" >&2; exit 1; }
if command -v hyperfine >/dev/null 2>&1; then
    # -i: the preflight exits 1 by design (checked above).
    hyperfine -N -i --warmup 3 --runs "${RUNS:-30}" --export-markdown "$out/results.md" \
        -n 'ss -Htulnp' 'ss -Htulnp' \
        -n 'ss -Htlnp' 'ss -Htlnp' \
        -n 'port-convention ports --live --format json' "$bin ports --live --no-docker --format json" \
        -n 'port-convention check --live --only api (preflight)' "$bin check --live --only api -c $tree/ports.yaml $tree"
    cat "$out/results.md"
else
    python3 - "$bin" "$tree" <<'PY'
import statistics, subprocess, sys, time
bin, tree = sys.argv[1], sys.argv[2]
cmds = {
    "ss -Htulnp": ["ss", "-Htulnp"],
    "ss -Htlnp": ["ss", "-Htlnp"],
    "port-convention ports --live --format json": [bin, "ports", "--live", "--no-docker", "--format", "json"],
    "port-convention check --live --only api (preflight)": [bin, "check", "--live", "--only", "api", "-c", f"{tree}/ports.yaml", tree],
}
for name, cmd in cmds.items():
    times = []
    for i in range(33):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= 3:
            times.append(time.perf_counter() - t)
    print(f"{name}: median {statistics.median(times) * 1000:.1f} ms")
PY
fi

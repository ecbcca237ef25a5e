#!/usr/bin/env python3
"""`port-convention check` against `cat` of the same files, in alternating runs.

Issue #9's aim: `check` within 2x of `cat` reading the same files to /dev/null,
measured in alternating runs (cat, check, cat, check, ...) so that both see the
same machine state. Standard library only.

    python3 benches/check/alternate.py --bin target/release/port-convention \\
        --tree target/bench-check/monorepo [--runs 30] [--warmup 3]

The tree must come from generate.py (its bench-manifest.json lists the compose
and env files cat reads). Prints medians of wall time and of user+system CPU
time per run, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

AIM = 2.0


def timed(argv: list[str], cwd: Path, ok: set[int]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code not in ok:
        raise SystemExit(f"{argv[0]} exited with {code}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, type=Path)
    parser.add_argument("--tree", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    tree = args.tree.resolve()
    manifest = json.loads((tree / "bench-manifest.json").read_text())
    files = manifest["compose"] + manifest["env"]
    listing = tree.parent / (tree.name + ".cat-list0")
    listing.write_bytes(b"".join(f.encode() + b"\0" for f in files))
    cat = ["xargs", "-0", "-a", str(listing), "cat"]
    check = [str(args.bin.resolve()), "check", ".", "--format", "json"]
    results: dict[str, list[tuple[float, float]]] = {"cat": [], "check": []}
    for i in range(args.warmup + args.runs):
        # Alternate which goes first, too.
        order = [("cat", cat, {0}), ("check", check, {0, 1})]
        if i % 2:
            order.reverse()
        for key, argv, ok in order:
            sample = timed(argv, tree, ok)
            if i >= args.warmup:
                results[key].append(sample)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in results.items()}
    load = os.getloadavg()[0]
    print(f"{len(files)} files, {args.runs} alternating runs each, load {load:.2f}, {os.cpu_count()} CPUs")
    for key in ("cat", "check"):
        wall, cpu = med[key]
        print(f"  {key:6} median wall {wall * 1000:7.1f} ms   median CPU {cpu * 1000:7.1f} ms")
    ratio = med["check"][0] / med["cat"][0]
    cpu_ratio = med["check"][1] / med["cat"][1]
    verdict = "met" if ratio <= AIM else "missed"
    print(f"  check / cat: {ratio:.2f}x wall ({cpu_ratio:.2f}x CPU); aim at most {AIM}x: {verdict}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times `port-convention check`, dclint and `cat` on a generated monorepo.

Called by run.sh (which builds, generates and installs first); usable alone:

    python3 benches/check/bench.py --bin target/release/port-convention \\
        --dclint benches/check/node_modules/.bin/dclint \\
        --tree target/bench-check/monorepo \\
        --tree-no-convention target/bench-check/monorepo-no-convention \\
        --out target/bench-check

Every command runs with the tree as its working directory and relative
paths, so the three read exactly the same files:

* port-convention: `check . --format json`, stdout to /dev/null. Exit code 1
  (findings) is expected.
* dclint: `-r . -f json -o <out>/dclint.json`: lint only (no `--fix`), the
  directory searched recursively; the report is read afterwards to prove it
  linted exactly the generator's compose files. Exit code 1 is expected.
* cat: `xargs -0 -a <list> cat`, stdout to /dev/null, over every compose and
  env file of the manifest (the same bytes the two tools read).

hyperfine is used when it is on PATH (`--no-hyperfine` forces the fallback);
otherwise each command runs N times in a plain loop here. Either way the
median wall-clock time is what the ratios use; min, and user+system CPU
time, are printed too. Only Python 3.11's standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

AIM_DCLINT_RATIO = 50.0  # port-convention at least 50x faster than dclint
AIM_CAT_RATIO = 2.0  # port-convention within 2x of cat (issue #9; alternate.py measures it alternating)


@dataclass
class Bench:
    key: str
    label: str
    argv: list[str]
    cwd: Path
    runs: int
    warmup: int
    ok_exit: set[int]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system per run
    exit_codes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_hyperfine(bench: Bench, scratch: Path) -> None:
    export = scratch / f"hyperfine-{bench.key}.json"
    command = [
        "hyperfine", "-N", "--ignore-failure", "--style", "basic",
        "--runs", str(bench.runs), "--warmup", str(bench.warmup),
        "--export-json", str(export), "--command-name", bench.label,
        shlex.join(bench.argv),
    ]
    subprocess.run(command, cwd=bench.cwd, check=True, stdout=sys.stderr)
    result = json.loads(export.read_text())["results"][0]
    bench.wall = list(result["times"])
    bench.exit_codes = [int(c) for c in result.get("exit_codes") or [0] * len(bench.wall)]
    # hyperfine exports mean user and system times only.
    bench.cpu = [result["user"] + result["system"]] * len(bench.wall)


def run_loop(bench: Bench) -> None:
    def once() -> tuple[float, float, int]:
        start = time.perf_counter()
        child = subprocess.Popen(bench.argv, cwd=bench.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        return wall, usage.ru_utime + usage.ru_stime, child.returncode

    for _ in range(bench.warmup):
        once()
    for i in range(bench.runs):
        wall, cpu, code = once()
        bench.wall.append(wall)
        bench.cpu.append(cpu)
        bench.exit_codes.append(code)
        log(f"  {bench.label}: run {i + 1}/{bench.runs}: {wall:.3f} s wall, {cpu:.3f} s CPU, exit {code}")


def fmt(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:8.1f} s "
    if seconds >= 1:
        return f"{seconds:8.2f} s "
    return f"{seconds * 1000:8.1f} ms"


def capture(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict:
    info: dict = {"nproc": os.cpu_count()}
    try:
        info["nproc"] = int(capture(["nproc"]) or info["nproc"])
    except ValueError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                info["cpu"] = value.strip()
            elif key in ("cpu family", "model", "cpu MHz"):
                info[key.replace(" ", "_")] = value.strip()
            elif key == "flags":
                info["hypervisor"] = "hypervisor" in value.split()
            elif not line.strip() and "cpu" in info:
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    info["kernel"] = platform.release()
    return info


def check_port_convention(bin_path: Path, tree: Path, manifest: dict, with_convention: bool) -> dict:
    """One untimed run (it also warms the page cache): the files read must be
    the manifest's."""
    result = subprocess.run(
        [str(bin_path), "check", ".", "--format", "json"], cwd=tree, capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):
        sys.exit(f"bench.py: port-convention exited {result.returncode}: {result.stderr.strip()}")
    report = json.loads(result.stdout)
    summary = report["summary"]
    expected = manifest["compose_files"] + manifest["env_files"] + int(with_convention)
    if summary["files"] != expected:
        sys.exit(
            f"bench.py: port-convention read {summary['files']} files in {tree}, expected {expected} "
            "(is there a ports.yaml above the tree?)"
        )
    rules: dict[str, int] = {}
    for finding in report["findings"]:
        rules[finding["rule"]] = rules.get(finding["rule"], 0) + 1
    return {"exit": result.returncode, "summary": summary, "findings_by_rule": rules}


def check_dclint(report_path: Path, manifest: dict) -> dict:
    report = json.loads(report_path.read_text())
    linted = sorted(os.path.normpath(r["filePath"]) for r in report)
    expected = sorted(manifest["compose"])
    if linted != expected:
        missing = sorted(set(expected) - set(linted))[:5]
        extra = sorted(set(linted) - set(expected))[:5]
        sys.exit(f"bench.py: dclint linted {len(linted)} files, expected {len(expected)}; missing {missing}, extra {extra}")
    rules: dict[str, int] = {}
    for result in report:
        for message in result["messages"]:
            rules[message["rule"]] = rules.get(message["rule"], 0) + 1
    broken = sum(rules.get(r, 0) for r in ("invalid-yaml", "invalid-schema", "unknown-error"))
    return {"files": len(linted), "messages_by_rule": rules, "files_failing_schema_or_yaml": broken}


def main() -> None:
    parser = argparse.ArgumentParser(description="Time port-convention check against dclint and cat.")
    parser.add_argument("--bin", type=Path, required=True, help="the port-convention binary")
    parser.add_argument("--dclint", type=Path, required=True, help="the dclint executable")
    parser.add_argument("--tree", type=Path, required=True, help="generated tree with ports.yaml")
    parser.add_argument("--tree-no-convention", type=Path, help="the same tree without ports.yaml (optional)")
    parser.add_argument("--out", type=Path, required=True, help="where results.json and scratch files go")
    parser.add_argument("--runs", type=int, default=10, help="timed runs of port-convention")
    parser.add_argument("--dclint-runs", type=int, default=3, help="timed runs of dclint")
    parser.add_argument("--cat-runs", type=int, default=30, help="timed runs of cat")
    parser.add_argument("--no-hyperfine", action="store_true", help="use the built-in loop even if hyperfine is present")
    args = parser.parse_args()

    bin_path = args.bin.resolve()
    dclint = args.dclint.resolve()
    tree = args.tree.resolve()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((tree / "bench-manifest.json").read_text())
    file_list = out / "files.list0"
    file_list.write_bytes(b"".join(f.encode() + b"\0" for f in manifest["compose"] + manifest["env"]))
    batches = len(capture(["xargs", "-0", "-a", str(file_list), "echo"]).splitlines()) if file_list.stat().st_size else 0
    dclint_report = out / "dclint.json"
    use_hyperfine = shutil.which("hyperfine") is not None and not args.no_hyperfine
    load_before = os.getloadavg()

    log("== sanity runs (untimed; they also warm the page cache)")
    checks = {"with_convention": check_port_convention(bin_path, tree, manifest, True)}
    if args.tree_no_convention:
        tree_nc = args.tree_no_convention.resolve()
        checks["no_convention"] = check_port_convention(bin_path, tree_nc, manifest, False)
    for name, check in checks.items():
        log(f"  port-convention ({name}): {check['summary']}")

    benches = [
        Bench("cat", "cat (same bytes)", ["xargs", "-0", "-a", str(file_list), "cat"], tree,
              args.cat_runs, 3, {0}),
    ]
    if args.tree_no_convention:
        benches.append(Bench("pc_no_convention", "port-convention check (no ports.yaml)",
                             [str(bin_path), "check", ".", "--format", "json"], tree_nc, args.runs, 1, {0, 1}))
    benches += [
        Bench("pc", "port-convention check (with ports.yaml)",
              [str(bin_path), "check", ".", "--format", "json"], tree, args.runs, 1, {0, 1}),
        Bench("dclint", "dclint -r (lint only)",
              [str(dclint), "-r", ".", "-f", "json", "-o", str(dclint_report)], tree, args.dclint_runs, 0, {0, 1}),
    ]
    log(f"== timing with {'hyperfine' if use_hyperfine else 'the built-in loop (no hyperfine on PATH)'}")
    with tempfile.TemporaryDirectory() as scratch:
        for bench in benches:
            log(f"-- {bench.label}: {shlex.join(bench.argv)}  (cwd {bench.cwd}, {bench.runs} runs)")
            if use_hyperfine:
                run_hyperfine(bench, Path(scratch))
            else:
                run_loop(bench)
            bad = [c for c in bench.exit_codes if c not in bench.ok_exit]
            if bad:
                sys.exit(f"bench.py: {bench.label} exited {bad[0]}")
    dclint_check = check_dclint(dclint_report, manifest)
    load_after = os.getloadavg()

    by_key = {b.key: b for b in benches}
    pc, cat, dc = by_key["pc"], by_key["cat"], by_key["dclint"]
    ratios = {
        "dclint_over_pc": dc.median / pc.median,
        "pc_over_cat": pc.median / cat.median,
    }
    if "pc_no_convention" in by_key:
        nc = by_key["pc_no_convention"]
        ratios["dclint_over_pc_no_convention"] = dc.median / nc.median
        ratios["pc_no_convention_over_cat"] = nc.median / cat.median

    corpus = (
        f"{manifest['compose_files']} compose files ({manifest['compose_bytes'] / 1e6:.1f} MB), "
        f"{manifest['entries']} ports entries ({checks['with_convention']['summary']['mappings']} mappings), "
        f"{manifest['env_files']} env files ({manifest['env_bytes'] / 1e6:.1f} MB), seed {manifest['seed']}"
    )
    print()
    print(f"corpus: {corpus}")
    print(f"timer:  {'hyperfine' if use_hyperfine else 'built-in loop'}; cat in {batches} invocation(s); "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print()
    print(f"{'command':44} {'median':>11} {'min':>11} {'CPU (u+s)':>11} runs")
    for bench in benches:
        print(f"{bench.label:44} {fmt(bench.median)} {fmt(min(bench.wall))} "
              f"{fmt(statistics.median(bench.cpu))} {len(bench.wall)}")
    print()

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = [
        ("dclint / port-convention", ratios["dclint_over_pc"],
         f"aim >= {AIM_DCLINT_RATIO:.0f}x: {verdict(ratios['dclint_over_pc'] >= AIM_DCLINT_RATIO)}"),
        ("port-convention / cat", ratios["pc_over_cat"],
         f"aim <= {AIM_CAT_RATIO:.0f}x: {verdict(ratios['pc_over_cat'] <= AIM_CAT_RATIO)}"),
    ]
    if "pc_no_convention" in by_key:
        lines += [
            ("dclint / port-convention (no ports.yaml)", ratios["dclint_over_pc_no_convention"], ""),
            ("port-convention (no ports.yaml) / cat", ratios["pc_no_convention_over_cat"], ""),
        ]
    for label, ratio, note in lines:
        print(f"{label:42} = {ratio:9.1f}x" + (f"   ({note})" if note else ""))

    results = {
        "corpus": {k: v for k, v in manifest.items() if k not in ("compose", "env")},
        "machine": machine(),
        "versions": {
            "port-convention": capture([str(bin_path), "--version"]),
            "source": capture(["git", "-C", str(Path(__file__).resolve().parent), "describe", "--always", "--dirty"]),
            "dclint": capture([str(dclint), "--version"]),
            "node": capture(["node", "--version"]),
            "rustc": capture(["rustc", "--version"]),
            "hyperfine": capture(["hyperfine", "--version"]) if use_hyperfine else None,
            "python": sys.version.split()[0],
        },
        "load_average": {"before": load_before, "after": load_after},
        "timer": "hyperfine" if use_hyperfine else "loop",
        "benches": {
            b.key: {
                "label": b.label,
                "command": shlex.join(b.argv),
                "cwd": str(b.cwd),
                "median_s": b.median,
                "min_s": min(b.wall),
                "times_s": b.wall,
                "cpu_s_median": statistics.median(b.cpu),
                "exit_codes": b.exit_codes,
            }
            for b in benches
        },
        "ratios": ratios,
        "aims": {
            "dclint_over_pc_at_least": AIM_DCLINT_RATIO,
            "pc_over_cat_at_most": AIM_CAT_RATIO,
            "met": ratios["dclint_over_pc"] >= AIM_DCLINT_RATIO and ratios["pc_over_cat"] <= AIM_CAT_RATIO,
        },
        "checks": {"port_convention": checks, "dclint": dclint_check},
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print()
    print(f"machine: {results['machine']}")
    print(f"source:  {results['versions']['source']} ({results['versions']['port-convention']}, {results['versions']['rustc']})")
    print(f"details: {out / 'results.json'}")


if __name__ == "__main__":
    main()

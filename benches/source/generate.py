#!/usr/bin/env python3
"""Writes a synthetic tree of source files for benchmarking the source rules
of `port-convention check` against ripgrep.

    python3 benches/source/generate.py target/bench-source/tree [--files 20000] [--seed N] [--force]

Deterministic: the same arguments give byte-identical trees. The tree has a
`ports.yaml` (40 services with assigned and legacy ports, a protected range
of 1,000 ports), one `compose.yaml`, and FILES source and configuration
files spread over nested folders: JavaScript, TypeScript, Python, shell, Go,
YAML, JSON, TOML and INI, each 40-120 lines of realistic-looking code full of
numbers (versions, timestamps, hex colours, sizes, line numbers). About one
file in ten has a fallback to a legacy port (`?? 5433`,
`os.environ.get("X", "5433")`, `localhost:5433`); `patterns.txt` lists the
decimal strings the convention makes the search look for (every assigned,
legacy and protected port), one a line, for `rg -c -F -f patterns.txt`.
`bench-manifest.json` says how many files and findings were planted.

Only Python 3.11's standard library is used.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

WORDS = [
    "order", "ledger", "price", "quote", "risk", "account", "client", "user",
    "session", "cache", "queue", "event", "stream", "report", "audit", "trade",
    "market", "symbol", "book", "fill", "position", "margin", "limit", "alert",
]


def ident(rng: random.Random) -> str:
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    return f"{a}{b.capitalize()}"


def noise_number(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return f'"{rng.randrange(10)}.{rng.randrange(20)}.{rng.randrange(100)}"'
    if kind == 1:
        return f'"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"'
    if kind == 2:
        return f'"#{rng.randrange(16**6):06x}"'
    if kind == 3:
        return str(rng.randrange(1_000_000_000, 1_800_000_000))
    if kind == 4:
        return str(rng.randrange(100, 99999))
    if kind == 5:
        return f"{rng.randrange(1000)}.{rng.randrange(100)}"
    if kind == 6:
        return f"0x{rng.randrange(65536):04x}"
    return str(rng.randrange(10))


SERVICES = 40


def convention() -> tuple[str, list[tuple[str, int, int, int, str]], list[str]]:
    lines = [
        "version: 1.0.0",
        "name: bench-source",
        "ranges:",
        "  data:",
        "    ports: 7000-7999",
        "    protected: true",
        "services:",
    ]
    services = []
    for i in range(SERVICES):
        name = f"svc{i:02d}"
        port = 7000 + i * 10
        legacy = 5400 + i
        container = 5432 if i % 2 == 0 else 6379
        env = f"SVC{i:02d}_PORT"
        services.append((name, port, legacy, container, env))
        lines += [
            f"  {name}:",
            "    range: data",
            f"    ports: {{ main: {{ port: {port}, env: {env}, container: {container}, legacy: {legacy} }} }}",
        ]
    patterns = sorted(
        {str(p) for _, p, _, _, _ in services}
        | {str(l) for _, _, l, _, _ in services}
        | {str(p) for p in range(7000, 8000)},
        key=int,
    )
    return "\n".join(lines) + "\n", services, patterns


def js_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["'use strict'", "const assert = require('node:assert')", ""]
    for i in range(lines):
        k = rng.randrange(5)
        if k == 0:
            out.append(f"const {ident(rng)}{i} = {noise_number(rng)};")
        elif k == 1:
            out.append(f"function {ident(rng)}{i}(a, b) {{ return a * {noise_number(rng)} + b; }}")
        elif k == 2:
            out.append(f"// {rng.choice(WORDS)} {rng.choice(WORDS)} see line {rng.randrange(9999)}")
        elif k == 3:
            out.append(f"  if ({ident(rng)} > {rng.randrange(10000)}) {{ throw new Error('at f (/srv/a.js:{rng.randrange(9999)}:{rng.randrange(80)})'); }}")
        else:
            out.append(f"module.exports.{ident(rng)}{i} = {{ size: {rng.randrange(100000)}, ratio: {rng.random():.4f} }};")
    if plant:
        _, _, legacy, _, env = plant
        out.insert(len(out) // 2, f"const port = Number(process.env.{env} ?? {legacy});")
    return "\n".join(out) + "\n"


def py_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["import os", ""]
    for i in range(lines):
        k = rng.randrange(4)
        if k == 0:
            out.append(f"{ident(rng).upper()}_{i} = {noise_number(rng)}")
        elif k == 1:
            out.append(f"def {ident(rng).lower()}_{i}(x):\n    return x * {rng.randrange(100000)}")
        elif k == 2:
            out.append(f"# {rng.choice(WORDS)} was {rng.randrange(99999)} in {rng.randrange(2000, 2030)}")
        else:
            out.append(f"TRACE_{i} = 'File \"a.py\", line {rng.randrange(9999)}, in f'")
    if plant:
        _, _, legacy, _, env = plant
        out.insert(len(out) // 2, f'DB_PORT = int(os.environ.get("{env}", "{legacy}"))')
    return "\n".join(out) + "\n"


def go_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["package main", "", 'import "os"', ""]
    for i in range(lines):
        k = rng.randrange(3)
        if k == 0:
            out.append(f"const {ident(rng)}{i} = {rng.randrange(100000)}")
        elif k == 1:
            out.append(f"var {ident(rng)}{i} = \"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(99)}\"")
        else:
            out.append(f"// {rng.choice(WORDS)} /src/main.go:{rng.randrange(9999)} +0x{rng.randrange(4096):x}")
    if plant:
        _, _, legacy, _, env = plant
        out.append(f'func addr() string {{ if os.Getenv("{env}") == "" {{ return "localhost:{legacy}" }}; return "" }}')
    return "\n".join(out) + "\n"


def sh_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["#!/bin/sh", "set -eu"]
    for i in range(lines):
        k = rng.randrange(3)
        if k == 0:
            out.append(f"{ident(rng).upper()}={rng.randrange(100000)}")
        elif k == 1:
            out.append(f"sleep {rng.randrange(100)}; echo \"{rng.choice(WORDS)} {noise_number(rng)}\"")
        else:
            out.append(f"# {rng.choice(WORDS)} {rng.randrange(99999)}")
    if plant:
        _, _, legacy, _, env = plant
        out.append(f'PORT="${{{env}:-{legacy}}}"')
    return "\n".join(out) + "\n"


def yaml_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["settings:"]
    for i in range(lines):
        out.append(f"  {rng.choice(WORDS)}_{i}: {noise_number(rng)}")
    if plant:
        _, _, legacy, _, _ = plant
        out.append(f"  url: postgres://app@localhost:{legacy}/db")
    return "\n".join(out) + "\n"


def json_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    items = [f'  "{rng.choice(WORDS)}_{i}": {noise_number(rng)}' for i in range(lines)]
    if plant:
        _, _, legacy, _, _ = plant
        items.append(f'  "dbPort": {legacy}')
    return "{\n" + ",\n".join(items) + "\n}\n"


def toml_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["[app]"]
    for i in range(lines):
        out.append(f"{rng.choice(WORDS)}_{i} = {noise_number(rng)}")
    if plant:
        _, _, legacy, _, _ = plant
        out.append(f'db = "http://127.0.0.1:{legacy}"')
    return "\n".join(out) + "\n"


def ini_file(rng: random.Random, lines: int, plant: tuple | None) -> str:
    out = ["[main]"]
    for i in range(lines):
        out.append(f"{rng.choice(WORDS)}_{i} = {rng.randrange(100000)}")
    if plant:
        _, _, legacy, _, _ = plant
        out.append(f"port = {legacy}")
    return "\n".join(out) + "\n"


KINDS = [
    ("js", js_file, 4),
    ("ts", js_file, 4),
    ("py", py_file, 3),
    ("go", go_file, 2),
    ("sh", sh_file, 1),
    ("yaml", yaml_file, 2),
    ("json", json_file, 1),
    ("toml", toml_file, 1),
    ("ini", ini_file, 1),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    if args.out.exists():
        if not args.force:
            print(f"{args.out} exists (use --force)", file=sys.stderr)
            return 2
        shutil.rmtree(args.out)
    rng = random.Random(args.seed)
    conv, services, patterns = convention()
    args.out.mkdir(parents=True)
    (args.out / "ports.yaml").write_text(conv)
    compose = ["services:"]
    for name, port, _, container, env in services:
        compose += [f"  {name}:", "    image: postgres:15", f'    ports: ["127.0.0.1:${{{env}:-{port}}}:{container}"]']
    (args.out / "compose.yaml").write_text("\n".join(compose) + "\n")
    (args.out.parent / "patterns.txt").write_text("\n".join(patterns) + "\n")
    weighted = [k for k in KINDS for _ in range(k[2])]
    planted = 0
    total_bytes = 0
    for i in range(args.files):
        ext, make, _ = rng.choice(weighted)
        plant = rng.choice(services) if rng.randrange(10) == 0 else None
        planted += plant is not None
        folder = args.out / f"pkg{i % 50:02d}" / f"mod{(i // 50) % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = make(rng, rng.randrange(40, 120), plant)
        total_bytes += len(text.encode())
        (folder / f"{rng.choice(WORDS)}_{i}.{ext}").write_text(text)
    manifest = {"files": args.files, "planted": planted, "bytes": total_bytes, "patterns": len(patterns)}
    (args.out / "bench-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""load_ports on a generated 100-service convention, against pydantic-settings
validating the same 100 port fields, in one run.

    python benches/python/bench_load_ports.py [--number N] [--repeat R]

Both read the same 100 ``*_PORT`` variables from the process environment and
check each is an integer port (1-65535). ``load_ports`` does more per call: it
reads and parses ``ports.yaml``, validates the convention's own rules (ranges,
duplicates, reserved ranges) and checks each value against the service's
range; pydantic-settings validates a class defined once, up front (its class
creation is timed separately). The numbers are per call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import timeit
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

import port_convention

SERVICES = 100
FIRST_PORT = 10000


def variable(index: int) -> str:
    return f"SVC{index:03d}_PORT"


def convention_text() -> str:
    lines = [
        "version: 1.0.0",
        "name: bench",
        "ranges:",
        "  apps:",
        f"    ports: {FIRST_PORT}-{FIRST_PORT + 999}",
        "services:",
    ]
    for i in range(SERVICES):
        lines += [
            f"  svc{i:03d}:",
            "    range: apps",
            "    ports:",
            f"      http: {{ port: {FIRST_PORT + i}, env: {variable(i)}, container: 8080 }}",
        ]
    return "\n".join(lines) + "\n"


class BenchBase(BaseSettings):
    """Reads the process environment only, names as written."""

    model_config = SettingsConfigDict(case_sensitive=True, env_file=None)


def settings_class() -> type[BaseSettings]:
    fields: dict[str, Any] = {
        variable(i): (Annotated[int, Field(ge=1, le=65535)], FIRST_PORT + i) for i in range(SERVICES)
    }
    return create_model(
        "BenchSettings",
        __base__=BenchBase,
        **fields,
    )


def timed(label: str, call: Any, number: int, repeat: int) -> float:
    runs = [t / number for t in timeit.repeat(call, number=number, repeat=repeat)]
    best, median = min(runs), statistics.median(runs)
    print(f"{label:<34} best {best * 1e6:9.1f} us   median {median * 1e6:9.1f} us")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=7, help="timings (the best is kept)")
    args = parser.parse_args()

    # Every variable set, each to its assigned port + 1 (still in range, so
    # both sides validate and accept all 100 values).
    for i in range(SERVICES):
        os.environ[variable(i)] = str(FIRST_PORT + 500 + i)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ports.yaml"
        path.write_text(convention_text(), encoding="utf-8")

        started = timeit.default_timer()
        settings_type = settings_class()
        class_seconds = timeit.default_timer() - started

        # Same answers first.
        loaded = port_convention.load_ports(path)
        settings = settings_type()
        assert loaded["ports"] == settings.model_dump(), "the two disagree"
        assert len(loaded["ports"]) == SERVICES

        print(f"{SERVICES} services / port fields, {args.repeat} x {args.number} calls")
        print(f"{'pydantic-settings class creation':<34} once {class_seconds * 1e6:9.1f} us")
        ours = timed("port_convention.load_ports", lambda: port_convention.load_ports(path), args.number, args.repeat)
        theirs = timed("pydantic-settings BaseSettings()", settings_type, args.number, args.repeat)
        print(f"ratio (pydantic-settings / load_ports): {theirs / ours:.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Prints the port table of the TradingSystem example, then checks a tree.

    python examples/python/port_table.py [DIRECTORY]

The table comes from ``examples/trading-system/ports.yaml`` with the
environment's overrides applied (``load_ports``), as a program of the
monorepo would see its ports. The check reads every compose and ``.env`` file
under DIRECTORY (default: the example directory) against the convention found
upward from it. Exit status: 0 when the check finds no error, 1 otherwise
(also when the ports cannot be loaded).

Needs the ``port_convention`` module: ``maturin develop -m
port-convention-py/Cargo.toml`` in a virtual environment, or
``bash scripts/test-python.sh``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import port_convention

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trading-system"
CONVENTION = EXAMPLE / "ports.yaml"


def describe(finding: port_convention.Finding) -> str:
    """One line per finding, as the CLI writes them: place, severity, rule."""
    place = finding.get("file", "(environment)")
    if "line" in finding:
        place += f":{finding['line']}"
        if "column" in finding:
            place += f":{finding['column']}"
    text = f"{place}: {finding['severity']} [{finding['rule']}]: {finding['message']}"
    if "suggestion" in finding:
        text += f" (suggestion: port {finding['suggestion']['port']})"
    return text


def print_table(loaded: port_convention.LoadedPorts) -> None:
    """The ports by service, sorted by port, with the variable carrying each."""
    variables: dict[int, list[str]] = {}
    for variable, port in loaded["ports"].items():
        variables.setdefault(port, []).append(variable)
    rows = sorted(
        (port, service, name, ", ".join(sorted(variables.get(port, []))) or "-")
        for service, ports in loaded["services"].items()
        for name, port in ports.items()
    )
    header = ("SERVICE", "PORT NAME", "PORT", "ENV VAR")
    table = [header] + [(service, name, str(port), var) for port, service, name, var in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    convention = loaded["convention"]
    print(f"{convention['name'] or 'convention'} {convention['version']}: {len(rows)} port(s)")
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else EXAMPLE
    try:
        loaded = port_convention.load_ports(CONVENTION)
    except port_convention.PortConventionError as error:
        print(f"error [{error.code}]: {error}", file=sys.stderr)
        return 1
    print_table(loaded)

    try:
        report = port_convention.check(root)
    except port_convention.PortConventionError as error:
        print(f"error [{error.code}]: {error}", file=sys.stderr)
        return 1
    summary = report["summary"]
    print()
    print(
        f"check of {root}: {summary['errors']} error(s), {summary['warnings']} warning(s) "
        f"in {summary['files']} file(s), {summary['services']} service(s), "
        f"{summary['mappings']} port mapping(s)"
    )
    for finding in report["findings"]:
        print(f"  {describe(finding)}")
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

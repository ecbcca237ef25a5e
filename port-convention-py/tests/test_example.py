"""examples/python/port_table.py, run as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import port_convention as pc
from conftest import EXAMPLE, REPO

SCRIPT = REPO / "examples" / "python" / "port_table.py"
CONVENTION = EXAMPLE / "ports.yaml"
FINDING_LINE = re.compile(r"^  \S.*: (error|warning) \[[a-z-]+\]: ")
SUMMARY_LINE = re.compile(r"^check of .*: (\d+) error\(s\), (\d+) warning\(s\) in \d+ file\(s\)")


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without the convention's variables."""
    variables = pc.load_ports(CONVENTION, env={})["ports"]
    env = {k: v for k, v in os.environ.items() if k not in variables}
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        cwd=cwd,
        timeout=120,
    )


def test_port_table_and_check_of_the_example() -> None:
    result = run()
    lines = result.stdout.splitlines()
    expected = pc.load_ports(CONVENTION, env={})
    assert lines[0] == f"trading-system {expected['convention']['version']}: 14 port(s)"
    assert lines[1].split() == ["SERVICE", "PORT", "NAME", "PORT", "ENV", "VAR"]
    by_port = {port: var for var, port in expected["ports"].items()}
    rows = [
        (service, name, str(port), by_port.get(port, "-"))
        for service, ports in expected["services"].items()
        for name, port in ports.items()
    ]
    table = [tuple(line.split()) for line in lines[2 : 2 + len(rows)]]
    assert sorted(table) == sorted(rows)
    assert ("timescaledb", "postgres", "7000", "TIMESCALEDB_PORT") in table
    assert [int(row[2]) for row in table] == sorted(int(row[2]) for row in table)

    # The check: the exit code agrees with the findings printed, and those
    # with the report of the same check through the API.
    summary = [m for m in map(SUMMARY_LINE.match, lines) if m]
    assert len(summary) == 1, result.stdout
    errors, warnings = int(summary[0][1]), int(summary[0][2])
    findings = [line for line in lines if FINDING_LINE.match(line)]
    assert sum(": error [" in line for line in findings) == errors
    assert sum(": warning [" in line for line in findings) == warnings
    assert result.returncode == (1 if errors else 0), result.stderr
    report = pc.check(EXAMPLE, env=clean_env())
    assert (errors, warnings) == (report["summary"]["errors"], report["summary"]["warnings"])
    for finding in report["findings"]:
        assert any(f"[{finding['rule']}]: {finding['message']}" in line for line in findings)


def test_environment_overrides_show_in_the_table(tmp_path: Path) -> None:
    result = run(str(tmp_path), env=clean_env(REDIS_PORT="7031"))
    assert ("rag-redis", "redis", "7031", "REDIS_PORT") in [tuple(line.split()) for line in result.stdout.splitlines()]
    # An empty directory with no convention above it checks clean.
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"check of {tmp_path}: 0 error(s), 0 warning(s)" in result.stdout


def test_a_directory_with_a_clash_fails(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: x\n    ports: ['8080:80']\n  b:\n    image: y\n    ports: ['8080:81']\n",
        encoding="utf-8",
    )
    result = run(str(tmp_path))
    assert result.returncode == 1
    assert "error [duplicate-host-port]" in result.stdout


def test_invalid_environment_fails_before_the_table() -> None:
    result = run(env=clean_env(TIMESCALEDB_PORT="07000"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "error [validation-failed]" in result.stderr
    assert "leading zero" in result.stderr


def test_runs_from_any_working_directory(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.stdout.startswith("trading-system ")
    assert result.returncode in (0, 1)

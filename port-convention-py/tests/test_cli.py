"""The package's ``port-convention`` console script: the Rust CLI run through
the extension, as a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import port_convention as pc
from conftest import EXAMPLE


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # What the console script runs (its entry point), without depending on
    # where the installer put the script.
    return subprocess.run(
        [sys.executable, "-m", "port_convention._cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_version_is_the_rust_cli(tmp_path: Path) -> None:
    out = run("--version", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"port-convention {pc.__version__}\n"


def test_check_of_the_example_and_exit_codes(tmp_path: Path) -> None:
    out = run("check", str(EXAMPLE), "--format", "json", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert any(f["rule"] == "drift" for f in report["findings"])
    usage = run("no-such-command", cwd=tmp_path)
    assert usage.returncode == 2
    assert "unrecognized subcommand" in usage.stderr


def test_the_console_script_is_declared() -> None:
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("port-convention") == "port_convention._cli:main"

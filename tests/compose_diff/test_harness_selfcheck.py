"""The tool-side differential tests can pass and can fail before `port-
convention projects` exists: run them against oracle_cli.py, which answers
from expected.json, once faithfully and once per deliberate mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import compose_harness as h

HERE = Path(__file__).resolve().parent
ORACLE = HERE / "oracle_cli.py"

# mutation -> (fixtures to run, text the failure report must contain)
MUTATIONS = {
    "port": ("override-default", "ports of"),
    "dedup": ("override-default", "ports of"),
    "drop": ("include", "are not reported"),
    "no-error": ("extends-cycle", "compose refuses a project"),
    "fragment": ("variants-mariadb", "compose accepts these 'fragments' alone"),
    "skip": ("vendored", "skipped outside vendored directories"),
    "env-files": ("compose-file-subdir", "explicit -f"),
}


def run_tool_side(fixtures: str, mutation: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    # The harness runs the tool with only PATH and HOME set, so the mutation
    # is baked into a launcher script.
    launcher = scratch / f"oracle-{mutation or 'faithful'}"
    launcher.write_text(
        f"#!/bin/sh\nORACLE_MUTATE='{mutation}' exec '{sys.executable}' '{ORACLE}' \"$@\"\n", encoding="utf-8"
    )
    launcher.chmod(0o755)
    env = {**os.environ, "PORT_CONVENTION_BIN": str(launcher), "COMPOSE_DIFF_FIXTURES": fixtures}
    argv = [
        sys.executable, "-m", "pytest", str(HERE / "test_compose_differential.py"),
        "-q", "-p", "no:cacheprovider", "-k", "test_projects or test_default or test_fragments"
        " or test_skipped or test_compose_default",
    ]
    return subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def _needs_compose() -> None:
    try:
        h.find_compose()
    except h.ComposeUnavailable as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference compose binary unavailable under CI: {err}")
        pytest.skip(f"reference compose binary unavailable: {err}")


def test_faithful_oracle_passes_every_fixture(tmp_path: Path) -> None:
    out = run_tool_side(" ".join(h.fixture_names()), "", tmp_path)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " skipped" not in out.stdout.splitlines()[-1], out.stdout[-2000:]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutated_oracle_fails(mutation: str, tmp_path: Path) -> None:
    fixtures, needle = MUTATIONS[mutation]
    out = run_tool_side(fixtures, mutation, tmp_path)
    assert out.returncode == 1, out.stdout[-4000:] + out.stderr[-2000:]
    assert needle in out.stdout, out.stdout[-4000:]

